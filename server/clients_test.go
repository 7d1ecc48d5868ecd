package server_test

import (
	"crypto/ed25519"
	"net/http"
	"strings"
	"testing"

	"github.com/taxiihub/taxiihub/auth"
	"github.com/taxiihub/taxiihub/config"
)

// withKey gives organization org an API key made as taxiihub apikey new
// makes them, and returns its secret.
func withKey(org, name string, roles ...string) (hubOption, string) {
	secret, hash := auth.NewAPIKey(org, name)
	return withConfig(func(c *config.Config) {
		o := c.Organization(org)
		o.APIKeys = append(o.APIKeys, config.APIKey{Name: name, Hash: hash, Roles: roles})
	}), secret
}

// Clients whose only setting is a static key (Elastic's CEL program,
// OpenCTI's and MISP's bearer settings) send it as a bearer token; a
// self-identifying API key works there, and as a Basic password whatever
// the user.
func TestClients_StaticAPIKeyAsBearer(t *testing.T) {
	keys := newOrgKeys(t)
	elastic, secret := withKey("fbi", "elastic", "read")
	h := newHub(t, withTokens(keys), elastic)
	if !strings.HasPrefix(secret, "thk_fbi.elastic.") {
		t.Fatalf("secret %q does not name its key", secret)
	}
	for name, headers := range map[string][]string{
		"Bearer":                              bearer(secret),
		"Token":                               {"Authorization", "Token " + secret},
		"Basic, the key as user":              basicAuth("fbi/elastic", secret),
		"Basic, any user":                     basicAuth("elastic-agent", secret),
		"lower-case basic, as MISP":           {"Authorization", "basic " + strings.TrimPrefix(basicAuth("x", secret)[1], "Basic ")},
		"Bearer with a Content-Type on a GET": append(bearer(secret), "Content-Type", "application/taxii+json;version=2.1"),
	} {
		if res := h.get(objectsPath, headers...); res.status != http.StatusOK {
			t.Errorf("%s = %d %s", name, res.status, res.body)
		}
	}
	// A wrong secret naming the key is refused, and throttled like any.
	wrong := secret[:len(secret)-4] + "AAAA"
	h.untilThrottled(t, bearer(wrong)...)
	h.server.ResetAuthFailures()
	if msg := errorBody(t, h.get(objectsPath, bearer("thk_dhs.elastic."+strings.Repeat("A", 43))...), http.StatusUnauthorized); !strings.Contains(msg, "unknown API key or wrong secret") {
		t.Fatalf("a key of another organization: %s", msg)
	}
	// Removed from the config, the key stops working at the reload.
	cfg := testConfig(t)
	withTokens(keys)(&hubSetup{cfg: cfg})
	authority, err := auth.New(cfg, h.hubKey.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	h.server.Reload(cfg, authority, authority)
	errorBody(t, h.get(objectsPath, bearer(secret)...), http.StatusUnauthorized)
}
