package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/taxiihub/taxiihub/config"
	"github.com/taxiihub/taxiihub/stix"
)

const fbiIdentity = "identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f"

// testAuthority is the Authority of a small config: fbi (with an org key
// and two API keys), dhs (one API key named as fbi's second), and one
// collection fbi reads and writes and dhs only reads, under TLP:AMBER.
func testAuthority(t *testing.T) (*Authority, ed25519.PrivateKey, ed25519.PrivateKey) {
	t.Helper()
	_, hubKey, _ := ed25519.GenerateKey(rand.Reader)
	_, fbiKey, _ := ed25519.GenerateKey(rand.Reader)
	pub, _ := PublicPEM(fbiKey.Public())
	cfg := &config.Config{
		Auth: config.Auth{Mode: "token", Audience: "hub", Issuer: "taxiihub", MaxTokenTTL: time.Hour, Revoked: []string{"gone"}},
		Organizations: []config.Organization{
			{ID: "fbi", Identity: fbiIdentity,
				Keys:    []config.OrgKey{{KID: "fbi-1", Alg: "EdDSA", PublicKey: string(pub)}},
				APIKeys: []config.APIKey{{Name: "sentinel", Hash: HashAPIKey("s3cret"), Roles: []string{"read"}}, {Name: "misp", Hash: HashAPIKey("m1sp"), Roles: []string{"write"}}}},
			{ID: "dhs", Identity: "identity--5c82c336-f7f2-41df-8bf4-748e2f3dd8f9",
				APIKeys: []config.APIKey{{Name: "misp", Hash: HashAPIKey("dhs-misp"), Roles: []string{"read"}}}},
		},
		APIRoots: []config.APIRoot{{Path: "r", Collections: []config.Collection{{ID: "5f3c6a1e-8a43-4d0e-9c55-3c1f2b6f7a10", Read: []string{"fbi", "dhs"}, Write: []string{"fbi"}, MaxTLP: "amber"}}}},
	}
	a, err := New(cfg, hubKey.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return a, hubKey, fbiKey
}

func signed(t *testing.T, key ed25519.PrivateKey, kid string, edit func(jwt.MapClaims)) string {
	t.Helper()
	now := time.Now()
	c := jwt.MapClaims{"iss": "taxiihub", "sub": "s", "aud": "hub", "org": "fbi", "roles": []string{"read"}, "jti": "j", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	if edit != nil {
		edit(c)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheckToken(t *testing.T) {
	a, hubKey, fbiKey := testAuthority(t)
	org := func(edit func(jwt.MapClaims)) func(jwt.MapClaims) {
		return func(c jwt.MapClaims) {
			c["iss"] = "fbi"
			if edit != nil {
				edit(c)
			}
		}
	}
	for _, tt := range []struct {
		name, token, want string // want: the refusal's reason, or "" for a principal
		method            string
	}{
		{"hub token", signed(t, hubKey, "hub", nil), "", MethodHubJWT},
		{"hub token without kid", signed(t, hubKey, "", nil), "", MethodHubJWT},
		{"org token", signed(t, fbiKey, "fbi-1", org(nil)), "", MethodOrgJWT},
		{"org key picked by kid, signed by another", signed(t, hubKey, "fbi-1", org(nil)), "signature", ""},
		{"unknown kid", signed(t, fbiKey, "nsa", org(nil)), "unknown_key", ""},
		{"org token above its key's roles", signed(t, fbiKey, "fbi-1", org(func(c jwt.MapClaims) { c["roles"] = []string{"admin"} })), "roles", ""},
		{"org token for another org", signed(t, fbiKey, "fbi-1", org(func(c jwt.MapClaims) { c["org"] = "dhs" })), "issuer", ""},
		{"revoked", signed(t, hubKey, "hub", func(c jwt.MapClaims) { c["jti"] = "gone" }), "revoked", ""},
		{"no aud", signed(t, hubKey, "hub", func(c jwt.MapClaims) { delete(c, "aud") }), "claims", ""},
		{"sub of an API key", signed(t, hubKey, "hub", func(c jwt.MapClaims) { c["sub"] = "api-key:sentinel" }), "claims", ""},
		{"unknown org", signed(t, hubKey, "hub", func(c jwt.MapClaims) { c["org"] = "FBI" }), "unknown_org", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, _, err := a.checkToken(tt.token)
			if tt.want == "" {
				if err != nil || p.Method != tt.method || p.Org != "fbi" {
					t.Fatalf("%+v, %v", p, err)
				}
				return
			}
			r, ok := err.(*Refusal)
			if !ok || r.Reason != tt.want {
				t.Fatalf("%v, want reason %q", err, tt.want)
			}
		})
	}
}

func TestAPIKeyLookup(t *testing.T) {
	a, _, _ := testAuthority(t)
	for _, tt := range []struct{ user, org, name string }{
		{"fbi/sentinel", "fbi", "sentinel"},
		{"sentinel", "fbi", "sentinel"},
		{"dhs/misp", "dhs", "misp"},
		{"misp", "", ""}, // two organizations have one: the user must say which
		{"dhs/sentinel", "", ""},
		{"nobody", "", ""},
	} {
		org, key := a.apiKey(tt.user)
		if tt.name == "" && key != nil || tt.name != "" && (key == nil || key.Name != tt.name || org != tt.org) {
			t.Errorf("%s: %s, %+v", tt.user, org, key)
		}
	}
	passes := func(user, secret string) bool {
		_, err := a.verifyAPIKey(user, secret, nil) // no gate: every check runs
		return err == nil
	}
	if !passes("fbi/misp", "m1sp") || passes("fbi/misp", "dhs-misp") || passes("misp", "m1sp") {
		t.Fatal("API keys verify the wrong secrets")
	}
}

func TestPolicy(t *testing.T) {
	a, _, _ := testAuthority(t)
	const col = "5f3c6a1e-8a43-4d0e-9c55-3c1f2b6f7a10"
	fbi := Principal{Org: "fbi", Roles: []string{"read", "write"}}
	dhs := Principal{Org: "dhs", Roles: []string{"read", "write"}}
	if !a.CanRead(fbi, col) || !a.CanWrite(fbi, col) || !a.CanRead(dhs, col) || a.CanWrite(dhs, col) || a.CanRead(Principal{Org: "fbi", Roles: []string{"write"}}, col) {
		t.Fatal("read and write lists")
	}
	if a.CanRead(fbi, "8d2b9c4e-1f6a-4b7d-a3e5-6c9f0e1d2a3b") {
		t.Fatal("an unknown collection is readable")
	}
	for _, tt := range []struct {
		name string
		p    Principal
		m    stix.Meta
		want string
	}{
		{"its own identity", fbi, stix.Meta{ID: fbiIdentity, CreatedByRef: fbiIdentity}, ""},
		{"another's identity object", dhs, stix.Meta{ID: fbiIdentity}, "only fbi posts it"},
		{"another's identity as creator", dhs, stix.Meta{ID: "indicator--x", CreatedByRef: fbiIdentity}, "identity of organization fbi"},
		{"an admin may post an identity", Principal{Org: "dhs", Roles: []string{"admin"}}, stix.Meta{ID: fbiIdentity}, ""},
		{"amber", fbi, stix.Meta{MarkingRefs: []string{"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"}}, ""},
		{"red", fbi, stix.Meta{MarkingRefs: []string{"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"}}, "TLP:RED"},
		{"red on a part", fbi, stix.Meta{GranularMarkingRefs: []string{"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"}}, "granular_markings: TLP:RED"},
	} {
		err := a.CheckObject(tt.p, col, tt.m)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestRefusalsCutWhatTheyRepeat(t *testing.T) {
	a, _, _ := testAuthority(t)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", strings.Repeat("Z", 5000)+" x")
	_, err := a.Authenticate(r, nil)
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("a refusal of %d bytes", len(err.Error()))
	}
}
