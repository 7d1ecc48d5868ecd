package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// Envelope is a TAXII 2.1 envelope or a STIX bundle as posted: only its
// objects matter, each kept as the exact bytes the client sent (slices of
// the body ParseEnvelope read: the body must not change while they are used).
type Envelope struct {
	Objects []json.RawMessage
}

// ErrNotJSON reports a body that is not JSON at all.
var ErrNotJSON = errors.New("body is not valid JSON")

// ErrNoObjects reports JSON that is not an envelope: not an object, or
// without an "objects" array.
var ErrNoObjects = errors.New(`body is not an envelope: it needs an "objects" array`)

// ParseEnvelope reads an envelope (or a bundle, which is read the same way).
// It fails with ErrNotJSON or ErrNoObjects, wrapped with the detail. A
// property named twice at the top level is refused: which "objects" the
// hub stored and which one a reader of the same bytes took would differ.
func ParseEnvelope(body []byte) (Envelope, error) {
	// Objects are judged one by one (Validate refuses one that names a
	// property twice); only the envelope's own properties are checked here.
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))
	notJSON := func(err error) (Envelope, error) {
		return Envelope{}, fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	switch dec.PeekKind() {
	case '{':
		dec.ReadToken()
	case 0: // not the start of a JSON value: the error says why
		_, err := dec.ReadToken()
		return notJSON(err)
	default:
		if err := dec.SkipValue(); err != nil {
			return notJSON(err)
		}
		return Envelope{}, fmt.Errorf("%w: the top level is not a JSON object", ErrNoObjects)
	}
	var env Envelope
	found, names := false, map[string]bool{}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return notJSON(err)
		}
		name := tok.String() // before the next call voids tok
		if names[name] {
			return Envelope{}, fmt.Errorf("%w: the top-level property %q is given twice", ErrNoObjects, name)
		}
		names[name] = true
		if name != "objects" || dec.PeekKind() != '[' {
			if err := dec.SkipValue(); err != nil {
				return notJSON(err)
			}
			found = found || name == "objects"
			continue
		}
		dec.ReadToken() // [
		env.Objects = []json.RawMessage{}
		for dec.PeekKind() != ']' {
			v, err := dec.ReadValue()
			if err != nil {
				return notJSON(err)
			}
			// The object's bytes, in place in body: no copy.
			end := int(dec.InputOffset())
			env.Objects = append(env.Objects, json.RawMessage(body[end-len(v):end:end]))
		}
		if _, err := dec.ReadToken(); err != nil { // ]
			return notJSON(err)
		}
		found = true
	}
	if _, err := dec.ReadToken(); err != nil { // }
		return notJSON(err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return notJSON(fmt.Errorf("data after the top-level object"))
	}
	switch {
	case !found:
		return Envelope{}, ErrNoObjects
	case env.Objects == nil:
		return Envelope{}, fmt.Errorf("%w: \"objects\" is not an array", ErrNoObjects)
	}
	return env, nil
}

// Meta is what the hub needs of every stored object: identity, version and
// spec version, as Validate reads them. Version is the zero time for objects
// that carry neither modified nor created (cyber-observables); the store
// versions those by the time they were added.
type Meta struct {
	Type        string
	ID          string
	SpecVersion string
	Version     time.Time
	VersionText string // modified, else created, exactly as the object carries it

	CreatedByRef string    // the identity that claims to have made the object
	Created      time.Time // zero for objects without created
	Revoked      bool
	MarkingRefs  []string // object_marking_refs: markings of the whole object
	// GranularMarkingRefs are the marking_refs of granular_markings:
	// markings of parts of the object.
	GranularMarkingRefs []string
}

var observables = map[string]bool{
	"artifact": true, "autonomous-system": true, "directory": true, "domain-name": true,
	"email-addr": true, "email-message": true, "file": true, "ipv4-addr": true,
	"ipv6-addr": true, "mac-addr": true, "mutex": true, "network-traffic": true,
	"process": true, "software": true, "url": true, "user-account": true,
	"windows-registry-key": true, "x509-certificate": true,
}

// isObservable reports whether typ is one of the 18 STIX 2.1 cyber-observable
// object types.
func isObservable(typ string) bool { return observables[typ] }
