package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/taxiihub/taxiihub/config"
)

// Tests of the boundaries between members (issue 10): what a hostile
// member, or an outsider, tries and must not get.

// An organization signs its own tokens, but cannot grant itself more than
// its key's roles: by default read and write, never audit or admin.
func TestTrust_OrganizationKeysHaveARoleCeiling(t *testing.T) {
	keys := newOrgKeys(t)
	h := newHub(t, withTokens(keys, func(c *config.Config) {
		dhs := c.Organization("dhs")
		dhs.Keys[0].Roles = []string{"read", "audit"}
	}))
	fbiToken := func(roles ...string) []string {
		return bearer(sign(t, jwt.SigningMethodEdDSA, "fbi-2026", claims("fbi", func(c jwt.MapClaims) {
			c["iss"], c["roles"] = "fbi", roles
		}), keys.fbiEd))
	}
	dhsToken := func(roles ...string) []string {
		return bearer(sign(t, jwt.SigningMethodES256, "dhs-2026", claims("dhs", func(c jwt.MapClaims) {
			c["iss"], c["roles"] = "dhs", roles
		}), keys.dhsEC))
	}
	for _, tt := range []struct {
		name    string
		path    string
		headers []string
		want    int
	}{
		{"read and write by default", objectsPath, fbiToken("read", "write"), 200},
		{"admin from an org key: no backup", "/admin/backup", fbiToken("read", "admin"), 401},
		{"audit from an org key: no audit log", "/admin/audit", fbiToken("audit"), 401},
		{"admin refused even for a plain read", objectsPath, fbiToken("read", "admin"), 401},
		{"a key granted audit may claim it", "/admin/audit", dhsToken("audit"), 200},
		{"but not write, above its ceiling", objectsPath, dhsToken("read", "write"), 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h.server.ResetAuthFailures()
			res := h.get(tt.path, tt.headers...)
			if res.status != tt.want {
				t.Fatalf("= %d %s", res.status, res.body)
			}
			if tt.want == 401 && !strings.Contains(string(res.body), "may grant only") {
				t.Fatalf("the refusal does not say why: %s", res.body)
			}
		})
	}
	if res := h.get("/admin/backup", fbiToken("admin")...); res.status == http.StatusOK {
		t.Fatal("a member downloaded the database")
	}
}

const (
	fbiIdentity    = "identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f"
	googleIdentity = "identity--de36c7c8-ac9e-4332-b26a-53dafd1303b5"
	tlpRed         = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
)

// withProps adds JSON properties to an object built by indicator.
func withProps(obj, props string) string {
	return strings.Replace(obj, `"spec_version":"2.1",`, `"spec_version":"2.1",`+props+`,`, 1)
}

// Identifiers are compared in one canonical form: another member's identity
// or TLP:RED in upper case is still theirs, and a marking on a part of an
// object counts as much as one on the whole.
func TestTrust_CaseAndGranularMarkingsDoNotBypassChecks(t *testing.T) {
	h := newHub(t, withTokens(newOrgKeys(t)))
	google := hubToken(t, h, "google", "read", "write")
	upper := func(id string) string {
		typ, uuid, _ := strings.Cut(id, "--")
		return typ + "--" + strings.ToUpper(uuid)
	}
	tests := []struct{ name, obj, want string }{
		{"another member's identity in upper case", withProps(indicator(ind1, v1), `"created_by_ref":"`+upper(fbiIdentity)+`"`), "identity of organization fbi"},
		{"TLP:RED in upper case", withProps(indicator(ind1, v1), `"object_marking_refs":["`+upper(tlpRed)+`"]`), "TLP:RED"},
		{"TLP:RED on a part of the object", withProps(indicator(ind1, v1), `"granular_markings":[{"marking_ref":"`+tlpRed+`","selectors":["pattern"]}]`), "granular_markings: TLP:RED"},
		{"TLP:RED on a part, in upper case", withProps(indicator(ind1, v1), `"granular_markings":[{"marking_ref":"`+upper(tlpRed)+`","selectors":["pattern"]}]`), "TLP:RED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st status
			h.do(http.MethodPost, objectsPath, envelopeOf(tt.obj), google...).json(t, &st)
			if st.SuccessCount != 0 || st.FailureCount != 1 || !strings.Contains(st.Failures[0].Message, tt.want) {
				t.Fatalf("%+v, want a failure saying %q", st, tt.want)
			}
		})
	}
	// An id in upper case names the same object as in lower case.
	const hexID = "indicator--abcdef12-3456-4789-abcd-ef0123456789"
	h.do(http.MethodPost, objectsPath, envelopeOf(indicator(upper(hexID), v1)), google...)
	for _, id := range []string{hexID, upper(hexID)} {
		if ids := objectIDs(t, h.get(objectsPath+id+"/", google...)); len(ids) != 1 {
			t.Fatalf("GET %s = %v", id, ids)
		}
	}
	var st status
	h.do(http.MethodPost, objectsPath, envelopeOf(indicator(hexID, v1)), google...).json(t, &st)
	if st.SuccessCount != 1 || st.Successes[0].Message != "already added" {
		t.Fatalf("the same version in lower case: %+v", st)
	}
}
