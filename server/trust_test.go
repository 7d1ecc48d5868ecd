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
