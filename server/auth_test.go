package server_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/taxiihub/taxiihub/auth"
	"github.com/taxiihub/taxiihub/config"
)

// orgKeys are organization signing keys registered in a token-mode hub.
type orgKeys struct {
	fbiEd  ed25519.PrivateKey // kid fbi-2026, EdDSA
	dhsEC  *ecdsa.PrivateKey  // kid dhs-2026, ES256
	googRS *rsa.PrivateKey    // kid google-2026, RS256
	fbiPEM []byte             // the fbi key's public PEM
}

const sentinelSecret = "thk_sentinel-test-secret"

// withTokens turns the hub's auth on: tokens with audience
// taxiihub-election2020, the three org keys above, and an API key
// fbi/sentinel with role read.
func withTokens(keys *orgKeys, mutate ...func(*config.Config)) hubOption {
	return withConfig(func(c *config.Config) {
		c.Auth.Mode = "token"
		c.Auth.Revoked = []string{"revoked-jti"}
		pem := func(pub any) string {
			b, err := auth.PublicPEM(pub)
			if err != nil {
				panic(err)
			}
			return string(b)
		}
		keys.fbiPEM = []byte(pem(keys.fbiEd.Public()))
		for i := range c.Organizations {
			o := &c.Organizations[i]
			switch o.ID {
			case "fbi":
				o.Keys = []config.OrgKey{{KID: "fbi-2026", Alg: "EdDSA", PublicKey: string(keys.fbiPEM)}}
				o.APIKeys = []config.APIKey{{Name: "sentinel", Hash: auth.HashAPIKey(sentinelSecret), Roles: []string{"read"}}}
			case "dhs":
				o.Keys = []config.OrgKey{{KID: "dhs-2026", Alg: "ES256", PublicKey: pem(&keys.dhsEC.PublicKey)}}
			case "google":
				o.Keys = []config.OrgKey{{KID: "google-2026", Alg: "RS256", PublicKey: pem(&keys.googRS.PublicKey)}}
			}
		}
		for _, m := range mutate {
			m(c)
		}
	})
}

func newOrgKeys(t testing.TB) *orgKeys {
	t.Helper()
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &orgKeys{fbiEd: ed, dhsEC: ec, googRS: rs}
}

// claims are a valid hub token's claims for org, changed by edit.
func claims(org string, edit func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"iss": "taxiihub", "sub": "liaison1", "aud": "taxiihub-election2020", "org": org,
		"roles": []string{"read", "write"}, "jti": "jti-" + org,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	if edit != nil {
		edit(c)
	}
	return c
}

func sign(t *testing.T, method jwt.SigningMethod, kid string, c jwt.MapClaims, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

func TestAuth_TokensThatAreAccepted(t *testing.T) {
	keys := newOrgKeys(t)
	h := newHub(t, withTokens(keys))
	hubToken, err := auth.IssueToken(auth.TokenRequest{Issuer: "taxiihub", Audience: "taxiihub-election2020", Org: "fbi", Subject: "liaison1", Roles: []string{"read"}, TTL: time.Hour}, h.hubKey, "hub")
	if err != nil {
		t.Fatal(err)
	}
	orgClaims := func(org string) jwt.MapClaims {
		return claims(org, func(c jwt.MapClaims) { c["iss"] = org })
	}
	basic := func(user, pass string) []string {
		return []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
	}
	for name, headers := range map[string][]string{
		"hub token":                   bearer(hubToken),
		"hub token, Token scheme":     {"Authorization", "Token " + hubToken},
		"hub token as Basic password": basic("whoever", hubToken),
		"org EdDSA token":             bearer(sign(t, jwt.SigningMethodEdDSA, "fbi-2026", orgClaims("fbi"), keys.fbiEd)),
		"org ES256 token":             bearer(sign(t, jwt.SigningMethodES256, "dhs-2026", orgClaims("dhs"), keys.dhsEC)),
		"org RS256 token":             bearer(sign(t, jwt.SigningMethodRS256, "google-2026", orgClaims("google"), keys.googRS)),
		"API key, org/name":           basic("fbi/sentinel", sentinelSecret),
		"API key, name alone":         basic("sentinel", sentinelSecret),
	} {
		t.Run(name, func(t *testing.T) {
			if res := h.get(objectsPath, headers...); res.status != http.StatusOK {
				t.Fatalf("= %d %s", res.status, res.body)
			}
		})
	}
}

func TestAuth_RefusedTokensAre401(t *testing.T) {
	keys := newOrgKeys(t)
	h := newHub(t, withTokens(keys))
	hub := func(edit func(jwt.MapClaims)) string {
		return sign(t, jwt.SigningMethodEdDSA, "hub", claims("fbi", edit), h.hubKey)
	}
	fbiOrg := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		return claims("fbi", func(c jwt.MapClaims) {
			c["iss"] = "fbi"
			if edit != nil {
				edit(c)
			}
		})
	}
	_, otherHubKey, _ := ed25519.GenerateKey(rand.Reader)
	valid := hub(nil)
	parts := strings.Split(valid, ".")

	// alg none: header and claims, no signature.
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	none := enc(map[string]string{"alg": "none", "kid": "fbi-2026", "typ": "JWT"}) + "." + enc(fbiOrg(nil)) + "."
	// HS256 keyed with the fbi key's public PEM: the classic confusion attack.
	hsHeader := enc(map[string]string{"alg": "HS256", "kid": "fbi-2026", "typ": "JWT"}) + "." + enc(fbiOrg(nil))
	mac := hmac.New(sha256.New, keys.fbiPEM)
	mac.Write([]byte(hsHeader))
	hs256 := hsHeader + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	// The payload changed after signing.
	tampered := parts[0] + "." + enc(claims("fbi", func(c jwt.MapClaims) { c["roles"] = []string{"read", "write", "admin"} })) + "." + parts[2]

	tests := []struct {
		name    string
		headers []string
		reason  string
	}{
		{"no token", nil, "no credentials"},
		{"malformed", bearer("not-a-token"), "malformed"},
		{"unknown scheme", []string{"Authorization", "Digest abc"}, "unsupported authorization scheme"},
		{"expired", bearer(hub(func(c jwt.MapClaims) {
			c["iat"], c["nbf"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
		})), "expired"},
		{"no exp", bearer(hub(func(c jwt.MapClaims) { delete(c, "exp") })), "no exp"},
		{"not yet valid", bearer(hub(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() })), "not valid yet"},
		{"ttl too long", bearer(hub(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(48 * time.Hour).Unix() })), "max_token_ttl"},
		{"ttl too long without iat", bearer(hub(func(c jwt.MapClaims) { delete(c, "iat"); c["exp"] = time.Now().Add(48 * time.Hour).Unix() })), "max_token_ttl"},
		{"wrong audience", bearer(hub(func(c jwt.MapClaims) { c["aud"] = "another-hub" })), "another audience"},
		{"wrong issuer", bearer(hub(func(c jwt.MapClaims) { c["iss"] = "evil" })), "issuer"},
		{"signed by another key", bearer(sign(t, jwt.SigningMethodEdDSA, "hub", claims("fbi", nil), otherHubKey)), "invalid signature"},
		{"unknown kid", bearer(sign(t, jwt.SigningMethodEdDSA, "nsa-1", fbiOrg(nil), keys.fbiEd)), "unknown key id"},
		{"alg none", bearer(none), "not signed with EdDSA"},
		{"HS256 with the public key", bearer(hs256), "not signed with EdDSA"},
		{"RS256 token for an EdDSA key", bearer(sign(t, jwt.SigningMethodRS256, "fbi-2026", fbiOrg(nil), keys.googRS)), "not signed with EdDSA"},
		{"ES256 key used by another org", bearer(sign(t, jwt.SigningMethodES256, "dhs-2026", fbiOrg(nil), keys.dhsEC)), "not the organization that owns key"},
		{"org token claiming another org", bearer(sign(t, jwt.SigningMethodEdDSA, "fbi-2026", fbiOrg(func(c jwt.MapClaims) { c["org"] = "dhs" }), keys.fbiEd)), "not the organization that owns key"},
		{"tampered payload", bearer(tampered), "invalid signature"},
		{"revoked jti", bearer(hub(func(c jwt.MapClaims) { c["jti"] = "revoked-jti" })), "revoked"},
		{"no jti", bearer(hub(func(c jwt.MapClaims) { delete(c, "jti") })), "no jti"},
		{"no sub", bearer(hub(func(c jwt.MapClaims) { delete(c, "sub") })), "no sub"},
		{"unknown org", bearer(hub(func(c jwt.MapClaims) { c["org"] = "kgb" })), "unknown organization"},
		{"unknown role", bearer(hub(func(c jwt.MapClaims) { c["roles"] = []string{"read", "root"} })), `"root" is not one of read, write, audit, admin`},
		{"no roles", bearer(hub(func(c jwt.MapClaims) { delete(c, "roles") })), "no roles"},
		{"issued in the future", bearer(hub(func(c jwt.MapClaims) { c["iat"] = time.Now().Add(time.Hour).Unix() })), "issued in the future"},
		{"API key wrong secret", []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("fbi/sentinel:guess"))}, "unknown API key or wrong secret"},
		{"API key of another org", []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("dhs/sentinel:"+sentinelSecret))}, "unknown API key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.server.ResetAuthFailures()
			res := h.get(objectsPath, tt.headers...)
			desc := errorBody(t, res, http.StatusUnauthorized)
			if !strings.Contains(desc, tt.reason) {
				t.Errorf("description %q does not say %q", desc, tt.reason)
			}
			challenges := strings.Join(res.header.Values("WWW-Authenticate"), ", ")
			if !strings.Contains(challenges, "Bearer") || !strings.Contains(challenges, "Basic") {
				t.Errorf("WWW-Authenticate = %q", challenges)
			}
			for _, secret := range []string{sentinelSecret, string(keys.fbiPEM), parts[2]} {
				if strings.Contains(string(res.body), secret) {
					t.Fatal("the 401 repeats a secret")
				}
			}
		})
	}
}

func TestAuth_PolicyOverHTTP(t *testing.T) {
	keys := newOrgKeys(t)
	h := newHub(t, withTokens(keys))
	token := func(org string, roles ...string) []string {
		tok, err := auth.IssueToken(auth.TokenRequest{Issuer: "taxiihub", Audience: "taxiihub-election2020", Org: org, Subject: "s", Roles: roles, TTL: time.Hour}, h.hubKey, "hub")
		if err != nil {
			t.Fatal(err)
		}
		return bearer(tok)
	}
	le := root + "collections/law-enforcement/objects/"
	takedowns := root + "collections/takedowns/objects/"
	reports := root + "collections/reports/objects/"

	fbiRW := token("fbi", "read", "write")
	st := h.do(http.MethodPost, le, envelopeOf(indicator(ind1, v1)), fbiRW...)
	if st.status != http.StatusAccepted {
		t.Fatalf("FBI posting to law enforcement = %d %s", st.status, st.body)
	}
	var posted status
	st.json(t, &posted)

	tests := []accessCase{
		{"google cannot see law enforcement", "GET", le, token("google", "read", "write"), 404},
		{"google cannot post to law enforcement", "POST", le, token("google", "read", "write"), 404},
		{"dhs reads law enforcement", "GET", le, token("dhs", "read"), 200},
		{"fbi without read role", "GET", le, token("fbi", "write"), 403},
		{"odni may read takedowns? no: hidden", "GET", takedowns, token("odni", "read"), 404},
		{"fbi reads takedowns but may not write", "POST", takedowns, fbiRW, 403},
		{"twitter writes takedowns", "POST", takedowns, token("twitter", "write"), 202},
		{"google may read reports but not write", "POST", reports, token("google", "read", "write"), 403},
		{"an auditor without read sees no reports", "GET", reports, token("oversight", "audit"), 404},
		{"dhs cannot see fbi's status", "GET", root + "status/" + posted.ID + "/", token("dhs", "read"), 404},
		{"fbi sees its own status", "GET", root + "status/" + posted.ID + "/", fbiRW, 200},
	}
	h.checkAccess(t, tests)

	var list struct {
		Collections []struct {
			Alias    string `json:"alias"`
			CanRead  bool   `json:"can_read"`
			CanWrite bool   `json:"can_write"`
		} `json:"collections"`
	}
	h.get(root+"collections/", token("google", "read", "write")...).json(t, &list)
	seen := map[string][2]bool{}
	for _, c := range list.Collections {
		seen[c.Alias] = [2]bool{c.CanRead, c.CanWrite}
	}
	want := map[string][2]bool{"indicators": {true, true}, "reports": {true, false}, "takedowns": {true, true}}
	if len(seen) != len(want) || seen["indicators"] != want["indicators"] || seen["reports"] != want["reports"] || seen["takedowns"] != want["takedowns"] {
		t.Fatalf("google sees %v, want %v", seen, want)
	}
}

func TestAuth_AntiSpoofingAndTLPCeiling(t *testing.T) {
	keys := newOrgKeys(t)
	h := newHub(t, withTokens(keys))
	tok, _ := auth.IssueToken(auth.TokenRequest{Issuer: "taxiihub", Audience: "taxiihub-election2020", Org: "google", Subject: "s", Roles: []string{"read", "write"}, TTL: time.Hour}, h.hubKey, "hub")
	fbiIdentity := "identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f"
	googleIdentity := "identity--de36c7c8-ac9e-4332-b26a-53dafd1303b5"
	withProp := func(obj, prop string) string {
		return strings.Replace(obj, `"spec_version":"2.1",`, `"spec_version":"2.1",`+prop+`,`, 1)
	}
	spoofed := withProp(indicator(ind1, v1), `"created_by_ref":"`+fbiIdentity+`"`)
	own := withProp(indicator(ind2, v1), `"created_by_ref":"`+googleIdentity+`"`)
	red := withProp(indicator("indicator--33333333-3333-4333-8333-333333333333", v1), `"object_marking_refs":["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"]`)
	redTLP2 := withProp(indicator("indicator--44444444-4444-4444-8444-444444444444", v1), `"object_marking_refs":["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]`)
	amber := withProp(indicator("indicator--55555555-5555-4555-8555-555555555555", v1), `"object_marking_refs":["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]`)

	res := h.do(http.MethodPost, objectsPath, envelopeOf(spoofed, own, red, redTLP2, amber), bearer(tok)...)
	var st status
	res.json(t, &st)
	if res.status != http.StatusAccepted || st.SuccessCount != 2 || st.FailureCount != 3 {
		t.Fatalf("= %d %+v", res.status, st)
	}
	for i, want := range []string{"created_by_ref: " + fbiIdentity + " is the identity of organization fbi; you post as google", "TLP:RED", "TLP:RED"} {
		if !strings.Contains(st.Failures[i].Message, want) {
			t.Errorf("failure %d = %q, want %q", i, st.Failures[i].Message, want)
		}
	}
	if !strings.Contains(st.Failures[1].Message, "ceiling, TLP:AMBER") {
		t.Errorf("the refusal should name the ceiling: %q", st.Failures[1].Message)
	}
}

func TestAuth_ReloadChangesPolicyWithoutRestart(t *testing.T) {
	keys := newOrgKeys(t)
	h := newHub(t, withTokens(keys))
	tok, _ := auth.IssueToken(auth.TokenRequest{Issuer: "taxiihub", Audience: "taxiihub-election2020", Org: "odni", Subject: "s", Roles: []string{"read"}, TTL: time.Hour}, h.hubKey, "hub")
	le := root + "collections/law-enforcement/objects/"
	errorBody(t, h.get(le, bearer(tok)...), http.StatusNotFound)

	cfg := testConfig(t)
	withTokens(keys, func(c *config.Config) {
		col, _ := c.APIRoots[0].Collection("law-enforcement")
		col.Read = append(col.Read, "odni")
	})(&hubSetup{cfg: cfg})
	authority, err := auth.New(cfg, h.hubKey.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	h.server.Reload(cfg, authority, authority)
	if res := h.get(le, bearer(tok)...); res.status != http.StatusOK {
		t.Fatalf("after reload = %d %s", res.status, res.body)
	}
}

// A token is checked once and then remembered: the memory must not outlive
// the token, nor survive a reload that revokes it.
func TestAuth_RememberedTokensStillExpireAndRevoke(t *testing.T) {
	keys := newOrgKeys(t)
	noLeeway := func(c *config.Config) { c.Auth.Leeway = 0 }
	h := newHub(t, withTokens(keys, noLeeway))
	shortLived := bearer(sign(t, jwt.SigningMethodEdDSA, "hub", claims("fbi", func(c jwt.MapClaims) {
		c["exp"] = time.Now().Add(1500 * time.Millisecond).Unix()
	}), h.hubKey))
	for range 3 {
		if res := h.get(objectsPath, shortLived...); res.status != http.StatusOK {
			t.Fatalf("a fresh token = %d %s", res.status, res.body)
		}
	}
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(2100 * time.Millisecond)))
	if msg := errorBody(t, h.get(objectsPath, shortLived...), http.StatusUnauthorized); !strings.Contains(msg, "expired") {
		t.Fatalf("an expired token that was remembered: %s", msg)
	}

	tok := bearer(sign(t, jwt.SigningMethodEdDSA, "hub", claims("fbi", func(c jwt.MapClaims) { c["jti"] = "leaked" }), h.hubKey))
	if res := h.get(objectsPath, tok...); res.status != http.StatusOK {
		t.Fatalf("before revocation = %d", res.status)
	}
	cfg := testConfig(t)
	withTokens(keys, noLeeway, func(c *config.Config) { c.Auth.Revoked = append(c.Auth.Revoked, "leaked") })(&hubSetup{cfg: cfg})
	authority, err := auth.New(cfg, h.hubKey.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	h.server.Reload(cfg, authority, authority)
	if msg := errorBody(t, h.get(objectsPath, tok...), http.StatusUnauthorized); !strings.Contains(msg, "revoked") {
		t.Fatalf("a revoked token that was remembered: %s", msg)
	}
}

// One member must not replace another's indicator by posting a "newer
// version" of it under its own name, nor anyone revive a revoked object.
func TestAuth_NoNewVersionsOfAnotherMembersObject(t *testing.T) {
	h := newHub(t, withTokens(newOrgKeys(t)))
	by := func(obj, identity string) string {
		return strings.Replace(obj, `"spec_version":"2.1",`, `"spec_version":"2.1","created_by_ref":"`+identity+`",`, 1)
	}
	fbi, google := hubToken(t, h, "fbi", "read", "write"), hubToken(t, h, "google", "read", "write")
	const fbiIdentity, googleIdentity = "identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f", "identity--de36c7c8-ac9e-4332-b26a-53dafd1303b5"
	if res := h.do(http.MethodPost, objectsPath, envelopeOf(by(indicator(ind1, v1), fbiIdentity)), fbi...); res.status != http.StatusAccepted {
		t.Fatalf("FBI's post = %d", res.status)
	}
	post := func(obj string, token []string) status {
		t.Helper()
		var st status
		h.do(http.MethodPost, objectsPath, envelopeOf(obj), token...).json(t, &st)
		return st
	}
	st := post(by(indicator(ind1, v2), googleIdentity), google)
	if st.SuccessCount != 0 || st.FailureCount != 1 || !strings.Contains(st.Failures[0].Message, "objects[0]: "+ind1+" belongs to another organization") {
		t.Fatalf("google's version of FBI's indicator: %+v", st)
	}
	var env envelope
	h.get(objectsPath+ind1+"/", google...).json(t, &env)
	if len(env.Objects) != 1 || !strings.Contains(string(env.Objects[0]), fbiIdentity) {
		t.Fatalf("the latest version is now %s", env.Objects)
	}

	revoked := strings.Replace(by(indicator(ind1, v2), fbiIdentity), `"spec_version":"2.1",`, `"spec_version":"2.1","revoked":true,`, 1)
	if st := post(revoked, fbi); st.SuccessCount != 1 {
		t.Fatalf("FBI's revocation: %+v", st)
	}
	st = post(by(indicator(ind1, "2020-12-01T00:00:00.000Z"), fbiIdentity), fbi)
	if st.FailureCount != 1 || !strings.Contains(st.Failures[0].Message, "revoked in version "+v2) {
		t.Fatalf("a version after the revocation: %+v", st)
	}
	// The stored status says the same as the answer.
	var again status
	h.get(root+"status/"+st.ID+"/", fbi...).json(t, &again)
	if again.FailureCount != 1 || again.Failures[0].Message != st.Failures[0].Message {
		t.Fatalf("stored status %+v", again)
	}
}
