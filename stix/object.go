package stix

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
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
// It fails with ErrNotJSON or ErrNoObjects, wrapped with the detail.
func ParseEnvelope(body []byte) (Envelope, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return Envelope{}, fmt.Errorf("%w: the top level is a JSON %s, not an object", ErrNoObjects, typeErr.Value)
		}
		return Envelope{}, fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	raw, ok := top["objects"]
	if !ok {
		return Envelope{}, ErrNoObjects
	}
	var env Envelope
	if err := json.Unmarshal(raw, &env.Objects); err != nil || env.Objects == nil {
		return Envelope{}, fmt.Errorf("%w: \"objects\" is not an array", ErrNoObjects)
	}
	return env, nil
}

// Meta is what the hub needs of every stored object: identity, version and
// spec version. Version is the zero time for objects that carry neither
// modified nor created (cyber-observables); the store versions those by the
// time they were added.
type Meta struct {
	Type        string
	ID          string
	SpecVersion string
	Version     time.Time
	VersionText string // modified, else created, exactly as the object carries it
}

// ReadMeta checks the properties every object must have and returns them:
// a string type that is a valid type name, an id "<type>--<UUID>" of the same
// type, well-formed created/modified timestamps when present (one of them is
// required except on cyber-observables), and spec_version.
func ReadMeta(raw []byte) (Meta, error) {
	var fields struct {
		Type        json.RawMessage `json:"type"`
		ID          json.RawMessage `json:"id"`
		SpecVersion json.RawMessage `json:"spec_version"`
		Created     json.RawMessage `json:"created"`
		Modified    json.RawMessage `json:"modified"`
	}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return Meta{}, errors.New("not a JSON object")
	}
	var m Meta
	var err error
	if m.Type, err = stringProp("type", fields.Type, true); err != nil {
		return m, err
	}
	if !ValidTypeName(m.Type) {
		return m, fmt.Errorf("type: %q is not a valid type name (a-z, 0-9, hyphen; 3-250 characters)", m.Type)
	}
	if m.ID, err = stringProp("id", fields.ID, true); err != nil {
		return m, err
	}
	idType, err := SplitID(m.ID)
	if err != nil {
		return m, fmt.Errorf("id: %w", err)
	}
	if idType != m.Type {
		return m, fmt.Errorf("id: %q does not begin with the object's type %q", m.ID, m.Type)
	}
	if m.SpecVersion, err = stringProp("spec_version", fields.SpecVersion, false); err != nil {
		return m, err
	}
	if m.SpecVersion == "" {
		m.SpecVersion = "2.0"
		if IsObservable(m.Type) {
			m.SpecVersion = "2.1"
		}
	}
	for _, p := range []struct {
		name string
		raw  json.RawMessage
	}{{"modified", fields.Modified}, {"created", fields.Created}} {
		text, err := stringProp(p.name, p.raw, false)
		if err != nil {
			return m, err
		}
		if text == "" {
			continue
		}
		t, err := ParseTimestamp(text)
		if err != nil {
			return m, fmt.Errorf("%s: %w", p.name, err)
		}
		if m.VersionText == "" {
			m.Version, m.VersionText = t, text
		}
	}
	if m.VersionText == "" && !IsObservable(m.Type) {
		return m, errors.New("modified: an object of this type needs modified or created to be versioned")
	}
	return m, nil
}

// stringProp decodes a JSON string property; an absent property is "" and
// an error only when required.
func stringProp(name string, raw json.RawMessage, required bool) (string, error) {
	if raw == nil {
		if required {
			return "", fmt.Errorf("%s: required property is missing", name)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s: must be a string, got %s", name, truncate(raw, 40))
	}
	if s == "" && required {
		return "", fmt.Errorf("%s: must not be empty", name)
	}
	return s, nil
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

var observables = map[string]bool{
	"artifact": true, "autonomous-system": true, "directory": true, "domain-name": true,
	"email-addr": true, "email-message": true, "file": true, "ipv4-addr": true,
	"ipv6-addr": true, "mac-addr": true, "mutex": true, "network-traffic": true,
	"process": true, "software": true, "url": true, "user-account": true,
	"windows-registry-key": true, "x509-certificate": true,
}

// IsObservable reports whether typ is one of the 18 STIX 2.1 cyber-observable
// object types.
func IsObservable(typ string) bool { return observables[typ] }
