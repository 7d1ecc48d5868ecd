package stix

import (
	"fmt"

	"github.com/go-json-experiment/json"
)

// VersionProblem says why o cannot join the stored versions of its object,
// whose newest is newest, or returns "". STIX 2.1 versioning: a new
// version keeps the object's creator (created_by_ref) and created; nothing
// follows a revoked version; marking definitions have a single version.
// Without these, one member could post a "newer version" of another
// member's indicator and replace it for every reader of the latest one.
// Every stored version has the same creator and created, and only the
// newest may be revoked, so the newest is all a backend supplies.
func VersionProblem(newest, o Meta) string {
	switch {
	case o.Type == "marking-definition":
		return fmt.Sprintf("a marking definition cannot be versioned: %s is stored with created %s", o.ID, orNone(newest.VersionText))
	case newest.CreatedByRef != o.CreatedByRef:
		return fmt.Sprintf("created_by_ref: %s differs from the stored versions' (%s): only an object's creator makes new versions of it; post a new object instead",
			orNone(o.CreatedByRef), orNone(newest.CreatedByRef))
	case !newest.Created.Equal(o.Created):
		created := "none"
		if !newest.Created.IsZero() {
			created = FormatTAXII(newest.Created)
		}
		return fmt.Sprintf("created: a new version keeps created; the stored versions have %s", created)
	case newest.Revoked && newest.Version.Before(o.Version):
		return fmt.Sprintf("the object was revoked in version %s: no later version may follow", newest.VersionText)
	case o.Revoked && o.Version.Before(newest.Version):
		return fmt.Sprintf("revoked: version %s is stored and later, and a revoked version must be the last", newest.VersionText)
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// ReadMeta reads the identity and versioning properties of an object that
// was validated when it was stored: cheaper than Validate, and nothing is
// checked. Identifiers come out canonical, as Validate gives them.
func ReadMeta(raw []byte) (Meta, error) {
	var o struct {
		Type         string   `json:"type"`
		ID           string   `json:"id"`
		SpecVersion  string   `json:"spec_version"`
		Created      string   `json:"created"`
		Modified     string   `json:"modified"`
		CreatedByRef string   `json:"created_by_ref"`
		Revoked      bool     `json:"revoked"`
		MarkingRefs  []string `json:"object_marking_refs"`
	}
	if err := json.Unmarshal(raw, &o, json.RejectUnknownMembers(false)); err != nil {
		return Meta{}, err
	}
	m := Meta{Type: o.Type, ID: CanonicalID(o.ID), SpecVersion: o.SpecVersion, CreatedByRef: CanonicalID(o.CreatedByRef), Revoked: o.Revoked}
	for _, ref := range o.MarkingRefs {
		m.MarkingRefs = append(m.MarkingRefs, CanonicalID(ref))
	}
	for _, p := range []struct {
		text    string
		created bool
	}{{o.Created, true}, {o.Modified, false}} {
		if t, err := ParseTimestamp(p.text); err == nil {
			m.Version, m.VersionText = t, p.text
			if p.created {
				m.Created = t
			}
		}
	}
	return m, nil
}
