package stix

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Envelope is a TAXII 2.1 envelope or a STIX bundle as posted: only its
// objects matter, each kept as the exact bytes the client sent.
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
	var top map[string]jsontext.Value
	err := jsonv2.Unmarshal(body, &top, jsontext.AllowInvalidUTF8(true))
	var semantic *jsonv2.SemanticError
	switch {
	case errors.Is(err, jsontext.ErrDuplicateName):
		return Envelope{}, fmt.Errorf("%w: a top-level property is given twice", ErrNoObjects)
	case errors.As(err, &semantic):
		return Envelope{}, fmt.Errorf("%w: the top level is not a JSON object", ErrNoObjects)
	case err != nil:
		return Envelope{}, fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	raw, ok := top["objects"]
	if !ok {
		return Envelope{}, ErrNoObjects
	}
	var objects []jsontext.Value
	if err := jsonv2.Unmarshal(raw, &objects, jsontext.AllowInvalidUTF8(true)); err != nil || objects == nil {
		return Envelope{}, fmt.Errorf("%w: \"objects\" is not an array", ErrNoObjects)
	}
	env := Envelope{Objects: make([]json.RawMessage, len(objects))}
	for i, o := range objects {
		env.Objects[i] = json.RawMessage(o)
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
