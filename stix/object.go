package stix

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
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

// ErrTooManyRefused reports an envelope of which more than MaxRefused
// objects are refused: it is refused whole, so that a body of junk cannot
// make the hub hold, and keep in a status, a refusal for each of millions
// of objects.
var ErrTooManyRefused = fmt.Errorf("more than %d of the envelope's objects are refused", MaxRefused)

// MaxRefused is how many refused objects an envelope may hold.
const MaxRefused = 10000

// errStopped ends a read of an envelope that was asked to stop.
var errStopped = errors.New("stopped")

// ParseEnvelope reads an envelope (or a bundle, which is read the same way)
// into its objects' bytes. It fails with ErrNotJSON or ErrNoObjects, wrapped
// with the detail, as CheckEnvelope does.
func ParseEnvelope(body []byte) (Envelope, error) {
	var env Envelope
	err := readEnvelope(body, func(raw []byte, _ jsonObject, _ error) bool {
		env.Objects = append(env.Objects, raw)
		return true
	})
	if err != nil {
		return Envelope{}, err
	}
	if env.Objects == nil {
		env.Objects = []json.RawMessage{}
	}
	return env, nil
}

// readEnvelope reads an envelope in one pass, giving each of its objects to
// each as it comes: its bytes (a slice of body, which must not change
// while they are used) and its decoding, or why it is not a JSON object
// the hub reads; if each returns false, reading stops with errStopped.
// Only the envelope's own properties are judged here: a property named
// twice at the top level is refused, since which "objects" the hub stored
// and which one a reader of the same bytes took would differ. It fails
// with ErrNotJSON or ErrNoObjects, wrapped with the detail.
func readEnvelope(body []byte, each func(raw []byte, obj jsonObject, refusal error) bool) error {
	d := decoder{text: string(body)}
	if d.space(); d.pos == len(d.text) || d.text[d.pos] != '{' {
		if _, err := d.value(0); err != nil {
			return fmt.Errorf("%w: %v", ErrNotJSON, err)
		}
		return fmt.Errorf("%w: the top level is not a JSON object", ErrNoObjects)
	}
	names, array, err := d.envelope(body, each)
	switch {
	case err != nil:
		return err
	case !names["objects"]:
		return ErrNoObjects
	case !array:
		return fmt.Errorf("%w: \"objects\" is not an array", ErrNoObjects)
	}
	return nil
}

// envelope reads the envelope's top-level object at the position, giving
// the objects of its objects array to each, and returns the names of its
// properties and whether objects is an array.
func (d *decoder) envelope(body []byte, each func(raw []byte, obj jsonObject, refusal error) bool) (names map[string]bool, array bool, err error) {
	notJSON := func(err error) (map[string]bool, bool, error) {
		return nil, false, fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	names = map[string]bool{}
	empty, err := d.open(1, '}')
	if err != nil {
		return notJSON(err)
	}
	for more := !empty; more; {
		if d.space(); d.pos == len(d.text) || d.text[d.pos] != '"' {
			return notJSON(d.fail("where a property name was expected"))
		}
		name, err := d.str()
		if err != nil {
			return notJSON(err)
		}
		if name = validUTF8(name); names[name] {
			return nil, false, fmt.Errorf("%w: the top-level property %q is given twice", ErrNoObjects, name)
		}
		names[name] = true
		if d.space(); d.pos == len(d.text) || d.text[d.pos] != ':' {
			return notJSON(d.fail("after a property name"))
		}
		d.pos++
		if d.space(); name == "objects" && d.pos < len(d.text) && d.text[d.pos] == '[' {
			array, err = true, d.objects(body, each)
		} else {
			_, err = d.value(1)
		}
		if errors.Is(err, errStopped) {
			return names, array, err
		}
		if err != nil {
			return notJSON(err)
		}
		if more, err = d.more('}', "after a property value"); err != nil {
			return notJSON(err)
		}
	}
	if d.space(); d.pos < len(d.text) {
		return notJSON(d.fail("after the top-level object"))
	}
	return names, array, nil
}

// objects reads the envelope's objects array at the position. Each object
// is decoded on its own, so that the offsets its refusal names count from
// its first byte.
func (d *decoder) objects(body []byte, each func(raw []byte, obj jsonObject, refusal error) bool) error {
	empty, err := d.open(2, ']')
	if err != nil {
		return err
	}
	var one decoder // its slabs serve every object
	for i, more := 0, !empty; more; i++ {
		d.space()
		start := d.pos
		one.text, one.pos = d.text[start:], 0
		obj, refusal, err := one.element(2) // in the envelope and its array
		if err != nil {
			return fmt.Errorf("objects[%d]: %w", i, err)
		}
		d.pos = start + one.pos
		if !each(body[start:d.pos:d.pos], obj, refusal) {
			return errStopped
		}
		if more, err = d.more(']', "after an object"); err != nil {
			return err
		}
	}
	return nil
}

// validUTF8 is s with each byte that is not UTF-8 replaced by U+FFFD, as
// jsontext reads names when it allows invalid UTF-8.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
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
