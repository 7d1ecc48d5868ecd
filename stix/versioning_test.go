package stix

import (
	"strings"
	"testing"
)

func TestVersionProblem(t *testing.T) {
	const fbi, google = "identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f", "identity--de36c7c8-ac9e-4332-b26a-53dafd1303b5"
	object := func(modified, createdBy string, revoked bool) Meta {
		raw := `{"type":"indicator","id":"indicator--11111111-1111-4111-8111-111111111111","created":"2020-01-01T00:00:00.000Z","modified":"` + modified + `"`
		if createdBy != "" {
			raw += `,"created_by_ref":"` + strings.ToUpper(createdBy) + `"`
		}
		if revoked {
			raw += `,"revoked":true`
		}
		m, err := ReadMeta([]byte(raw + `}`))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	newest := object("2020-02-01T00:00:00.000Z", fbi, false)
	revoked := object("2020-02-01T00:00:00.000Z", fbi, true)
	newCreated := object("2020-03-01T00:00:00.000Z", fbi, false)
	newCreated.Created = newCreated.Version
	for _, tt := range []struct {
		name           string
		newest, posted Meta
		want           string
	}{
		{"a later version by the creator", newest, object("2020-03-01T00:00:00.000Z", fbi, false), ""},
		{"the creator in another case", newest, object("2020-03-01T00:00:00.000Z", strings.ToUpper(fbi), false), ""},
		{"another creator", newest, object("2020-03-01T00:00:00.000Z", google, false), "created_by_ref: " + google + " differs"},
		{"no creator", newest, object("2020-03-01T00:00:00.000Z", "", false), "created_by_ref: none differs"},
		{"a new created", newest, newCreated, "created: a new version keeps created; the stored versions have 2020-01-01T00:00:00.000000Z"},
		{"after a revocation", revoked, object("2020-03-01T00:00:00.000Z", fbi, false), "revoked in version 2020-02-01T00:00:00.000Z"},
		{"before a revocation", revoked, object("2020-01-15T00:00:00.000Z", fbi, false), ""},
		{"a revocation before the newest", newest, object("2020-01-15T00:00:00.000Z", fbi, true), "a revoked version must be the last"},
		{"a marking definition", Meta{VersionText: "2017-01-20T00:00:00.000Z"}, Meta{Type: "marking-definition", ID: "marking-definition--x"}, "cannot be versioned"},
	} {
		if got := VersionProblem(tt.newest, tt.posted); tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
