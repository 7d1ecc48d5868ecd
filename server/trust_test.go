package server_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/auth"
	"github.com/taxiihub/taxiihub/config"
	"github.com/taxiihub/taxiihub/store"
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

// upper writes id's UUID in upper case.
func upper(id string) string {
	typ, uuid, _ := strings.Cut(id, "--")
	return typ + "--" + strings.ToUpper(uuid)
}

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

// Only the organization that posted an object, or an admin, deletes it or
// adds versions to it; a deleted object cannot be posted again by another
// organization; a member's identity object is its own.
func TestTrust_MembersCannotEraseOrReplaceEachOthersObjects(t *testing.T) {
	h := newHub(t, withTokens(newOrgKeys(t)))
	fbi := hubToken(t, h, "fbi", "read", "write")
	google := hubToken(t, h, "google", "read", "write")
	operator := hubToken(t, h, "dhs", "read", "write", "admin")
	auditor := hubToken(t, h, "oversight", "audit")
	post := func(token []string, objs ...string) status {
		t.Helper()
		var st status
		res := h.do(http.MethodPost, objectsPath, envelopeOf(objs...), token...)
		if res.status != http.StatusAccepted {
			t.Fatalf("POST = %d %s", res.status, res.body)
		}
		res.json(t, &st)
		return st
	}
	del := func(token []string, id string) response {
		t.Helper()
		return h.do(http.MethodDelete, objectsPath+id+"/", nil, token...)
	}
	latest := func(id string) string {
		t.Helper()
		var env envelope
		h.get(objectsPath+id+"/", fbi...).json(t, &env)
		if len(env.Objects) != 1 {
			t.Fatalf("%s: %d objects", id, len(env.Objects))
		}
		return string(env.Objects[0])
	}

	// FBI's indicator carries no created_by_ref: the hub records the owner.
	post(fbi, indicator(ind1, v1))
	// The refusal does not say whose it is: FBI posted it without
	// created_by_ref.
	if msg := errorBody(t, del(google, ind1), http.StatusForbidden); !strings.Contains(msg, "belongs to another organization") || strings.Contains(msg, "fbi") {
		t.Fatalf("google's DELETE: %s", msg)
	}
	if st := post(google, withProps(indicator(ind1, v2), `"name":"rival text"`)); st.FailureCount != 1 || !strings.Contains(st.Failures[0].Message, "belongs to another organization") {
		t.Fatalf("google's new version of FBI's indicator: %+v", st)
	}
	if strings.Contains(latest(ind1), "rival text") {
		t.Fatal("google replaced FBI's indicator")
	}

	// Deleted by FBI, the id stays FBI's.
	if res := del(fbi, ind1); res.status != http.StatusOK {
		t.Fatalf("FBI's DELETE = %d %s", res.status, res.body)
	}
	if st := post(google, indicator(ind1, v2)); st.FailureCount != 1 || !strings.Contains(st.Failures[0].Message, "deleted by the organization that owns it") {
		t.Fatalf("google re-posting FBI's deleted indicator: %+v", st)
	}
	if st := post(fbi, indicator(ind1, v2)); st.SuccessCount != 1 {
		t.Fatalf("FBI re-posting its own: %+v", st)
	}
	// An admin may delete anyone's.
	if res := del(operator, ind1); res.status != http.StatusOK {
		t.Fatalf("the operator's DELETE = %d %s", res.status, res.body)
	}

	// A member's identity object: only that member posts it.
	identity := func(name string) string {
		return `{"type":"identity","spec_version":"2.1","id":"` + fbiIdentity + `","created":"2020-01-01T00:00:00.000Z","modified":"` + name[:24] + `","name":"` + name + `","identity_class":"organization"}`
	}
	if st := post(fbi, identity("2020-01-01T00:00:00.000Z Federal Bureau of Investigation")); st.SuccessCount != 1 {
		t.Fatalf("FBI's own identity: %+v", st)
	}
	spoof := identity("2020-06-01T00:00:00.000Z FBI (spoofed by google)")
	for _, obj := range []string{spoof, strings.Replace(spoof, fbiIdentity, upper(fbiIdentity), 1)} {
		if st := post(google, obj); st.FailureCount != 1 || !strings.Contains(st.Failures[0].Message, "identity of organization fbi") {
			t.Fatalf("google posting FBI's identity: %+v", st)
		}
	}
	if strings.Contains(latest(fbiIdentity), "spoofed") {
		t.Fatal("FBI's identity was replaced")
	}

	// Every DELETE is recorded with the status it was answered with.
	if res := del(fbi, ind2); res.status != http.StatusNotFound {
		t.Fatalf("DELETE of nothing = %d", res.status)
	}
	var page auditPage
	h.get("/admin/audit?action=delete", auditor...).json(t, &page)
	var got []int
	for _, r := range page.Records {
		got = append(got, r.Status)
	}
	if want := []int{403, 200, 200, 404}; !slices.Equal(got, want) {
		t.Fatalf("DELETE records have statuses %v, want %v", got, want)
	}
}

func basicAuth(user, secret string) []string {
	return []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret))}
}

// The failure limiter throttles failing secrets, per API key and per source
// network, and nothing else: not a request without credentials (a
// challenge), not credentials that verified, not a member behind the same
// proxy as an attacker.
func TestTrust_FailingSecretsAreThrottledNotMembers(t *testing.T) {
	h := newHub(t, withTokens(newOrgKeys(t), func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1"}
	}))
	sentinel := basicAuth("fbi/sentinel", sentinelSecret)
	from := func(addr string, headers ...string) []string {
		return append([]string{"X-Forwarded-For", addr}, headers...)
	}

	// A client that sends each request without credentials first, then
	// again after the 401 challenge (.NET HttpClient, curl --anyauth).
	for page := range 30 {
		if res := h.get(objectsPath, from("198.51.100.7")...); res.status != http.StatusUnauthorized {
			t.Fatalf("page %d without credentials = %d", page, res.status)
		}
		if res := h.get(objectsPath, from("198.51.100.7", sentinel...)...); res.status != http.StatusOK {
			t.Fatalf("page %d with the API key = %d %s", page, res.status, res.body)
		}
	}

	// Guessing the key's secret from one network: throttled after a burst.
	last := h.untilThrottled(t, from("203.0.113.5", basicAuth("fbi/sentinel", "guess")...)...)
	if last.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// The member's client, behind the same address, still gets in, with
	// its key and with a token.
	for _, creds := range [][]string{sentinel, hubToken(t, h, "fbi", "read")} {
		if res := h.get(objectsPath, from("203.0.113.5", creds...)...); res.status != http.StatusOK {
			t.Fatalf("a member behind the attacker's address = %d %s", res.status, res.body)
		}
	}
	// Another network guessing other names is not slowed by the first.
	if res := h.get(objectsPath, from("203.0.113.6", basicAuth("dhs/nosuch", "guess")...)...); res.status != http.StatusUnauthorized {
		t.Fatalf("another network = %d", res.status)
	}

	// An unknown key name and a wrong secret are answered alike.
	h.server.ResetAuthFailures()
	unknown := errorBody(t, h.get(objectsPath, basicAuth("fbi/nosuch", "guess")...), http.StatusUnauthorized)
	wrong := errorBody(t, h.get(objectsPath, basicAuth("fbi/sentinel", "guess")...), http.StatusUnauthorized)
	if unknown != wrong {
		t.Fatalf("unknown name %q, wrong secret %q", unknown, wrong)
	}

	// The audit log names the client behind the trusted proxy, and only
	// behind it.
	auditor := hubToken(t, h, "oversight", "audit")
	var page auditPage
	h.get("/admin/audit?limit=1000", auditor...).json(t, &page)
	seen := map[string]bool{}
	for _, r := range page.Records {
		seen[r.RemoteAddr] = true
	}
	if !seen["203.0.113.5"] || !seen["198.51.100.7"] {
		t.Fatalf("remote addresses recorded: %v", seen)
	}
}

// X-Forwarded-For is believed only from the proxies the config names.
func TestTrust_ForwardedForIsIgnoredWithoutTrustedProxies(t *testing.T) {
	h := newHub(t, withTokens(newOrgKeys(t)))
	auditor := hubToken(t, h, "oversight", "audit")
	h.untilThrottled(t, "X-Forwarded-For", "198.51.100.1", "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("x/y:z")))
	// Every guess came from 127.0.0.1, whatever the header said.
	res := h.get(objectsPath, "X-Forwarded-For", "198.51.100.2", "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("x/w:z")))
	errorBody(t, res, http.StatusTooManyRequests)
	var page auditPage
	h.get("/admin/audit?limit=1000", auditor...).json(t, &page)
	for _, r := range page.Records {
		if r.RemoteAddr != "127.0.0.1" {
			t.Fatalf("recorded address %q from a forged header", r.RemoteAddr)
		}
	}
}

// The hub makes every request id; what the client sends is recorded apart
// and bounded, like every other field a client influences.
func TestTrust_AuditFieldsAreTheHubsAndBounded(t *testing.T) {
	keys := newOrgKeys(t)
	h := newHub(t, withTokens(keys))
	fbi := hubToken(t, h, "fbi", "read")
	auditor := hubToken(t, h, "oversight", "audit")

	first := h.get(objectsPath, fbi...)
	firstID := first.header.Get("X-Request-Id")
	forged := h.get(objectsPath, append([]string{"X-Request-Id", firstID}, fbi...)...)
	if got := forged.header.Get("X-Request-Id"); got == firstID || got == "" {
		t.Fatalf("the hub adopted the client's request id %q", got)
	}
	huge := strings.Repeat("A", 300<<10)
	longKid := bearer(sign(t, jwt.SigningMethodEdDSA, huge, claims("fbi", nil), keys.fbiEd))
	refused := h.get(objectsPath, append([]string{"X-Request-Id", huge}, longKid...)...)
	errorBody(t, refused, http.StatusUnauthorized)
	if len(refused.body) > 2048 {
		t.Fatalf("a 401 of %d bytes repeats what was sent", len(refused.body))
	}
	h.get("/election2020/collections/"+strings.Repeat("c", 20<<10)+"/objects/", append([]string{"User-Agent", huge}, fbi...)...)

	var page auditPage
	h.get("/admin/audit?limit=1000", auditor...).json(t, &page)
	ids := map[string]int{}
	for _, r := range page.Records {
		ids[r.RequestID]++
		b, _ := json.Marshal(r)
		if len(b) > 4096 {
			t.Errorf("record %d takes %d bytes", r.Seq, len(b))
		}
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("request id %s on %d records", id, n)
		}
	}
	r := page.Records
	if len(r) != 4 || r[1].ClientRequestID != firstID || r[2].ClientRequestID != strings.Repeat("A", 64) || r[2].Reason == "" {
		t.Fatalf("records %+v", r)
	}
}

// Smaller holes: an existence oracle, misleading refusals, JWS crit,
// subjects that pass for other principals, an ambiguous envelope.
func TestTrust_SmallerHoles(t *testing.T) {
	keys := newOrgKeys(t)
	h := newHub(t, withTokens(keys))
	fbi := hubToken(t, h, "fbi", "read", "write")
	dhs := hubToken(t, h, "dhs", "read", "write")

	// Another organization's status and a missing one answer alike.
	var st status
	h.do(http.MethodPost, objectsPath, envelopeOf(indicator(ind1, v1)), fbi...).json(t, &st)
	missing := "0b7a3c2e-4d5f-4a6b-8c7d-9e0f1a2b3c4d"
	other := errorBody(t, h.get(root+"status/"+st.ID+"/", dhs...), http.StatusNotFound)
	none := errorBody(t, h.get(root+"status/"+missing+"/", dhs...), http.StatusNotFound)
	if strings.Replace(other, st.ID, missing, 1) != none {
		t.Fatalf("another organization's status: %q; a missing one: %q", other, none)
	}

	withCrit := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims("fbi", nil))
		tok.Header["kid"], tok.Header["crit"], tok.Header["exp-ext"] = "hub", []string{"exp-ext"}, true
		s, _ := tok.SignedString(h.hubKey)
		return s
	}
	for _, tt := range []struct{ name, token, want string }{
		{"no aud", sign(t, jwt.SigningMethodEdDSA, "hub", claims("fbi", func(c jwt.MapClaims) { delete(c, "aud") }), h.hubKey), "no aud"},
		{"crit names an extension", withCrit(), "critical extensions"},
		{"sub of an API key", sign(t, jwt.SigningMethodEdDSA, "fbi-2026", claims("fbi", func(c jwt.MapClaims) { c["iss"], c["sub"] = "fbi", "api-key:sentinel" }), keys.fbiEd), "sub"},
		{"sub of anonymous", sign(t, jwt.SigningMethodEdDSA, "fbi-2026", claims("fbi", func(c jwt.MapClaims) { c["iss"], c["sub"] = "fbi", "anonymous" }), keys.fbiEd), "sub"},
		{"sub with a newline", sign(t, jwt.SigningMethodEdDSA, "fbi-2026", claims("fbi", func(c jwt.MapClaims) { c["iss"], c["sub"] = "fbi", "x\nforged log line" }), keys.fbiEd), "sub"},
		{"sub of 1000 bytes", sign(t, jwt.SigningMethodEdDSA, "fbi-2026", claims("fbi", func(c jwt.MapClaims) { c["iss"], c["sub"] = "fbi", strings.Repeat("s", 1000) }), keys.fbiEd), "sub"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if msg := errorBody(t, h.get(objectsPath, bearer(tt.token)...), http.StatusUnauthorized); !strings.Contains(msg, tt.want) {
				t.Fatalf("%q does not say %q", msg, tt.want)
			}
		})
	}

	// Two "objects" in one envelope: which one would a reader take?
	body := []byte(`{"objects":[` + indicator(ind2, v1) + `],"objects":[]}`)
	if msg := errorBody(t, h.do(http.MethodPost, objectsPath, body, fbi...), http.StatusUnprocessableEntity); !strings.Contains(msg, "given twice") {
		t.Fatalf("duplicate objects: %q", msg)
	}
	errorBody(t, h.get(objectsPath+ind2+"/", fbi...), http.StatusNotFound)

	// An object that names a property twice is refused alone: a reader
	// keeping the first created_by_ref would see FBI's name on it.
	twice := withProps(indicator(ind2, v1), `"created_by_ref":"`+fbiIdentity+`","created_by_ref":"`+googleIdentity+`"`)
	var st2 status
	res := h.do(http.MethodPost, objectsPath, envelopeOf(twice, indicator("indicator--77777777-7777-4777-8777-777777777777", v1)), hubToken(t, h, "google", "read", "write")...)
	res.json(t, &st2)
	if res.status != http.StatusAccepted || st2.SuccessCount != 1 || st2.FailureCount != 1 || !strings.Contains(st2.Failures[0].Message, "objects[0]: names a property twice") {
		t.Fatalf("an object with a duplicate property: %d %+v", res.status, st2)
	}
}

// pausingAuth holds the first request it authenticates until release is
// closed, after telling entered.
type pausingAuth struct {
	auth.Authenticator
	once             sync.Once
	entered, release chan struct{}
}

func (a *pausingAuth) Authenticate(r *http.Request, gate auth.Gate) (auth.Principal, error) {
	a.once.Do(func() {
		close(a.entered)
		<-a.release
	})
	return a.Authenticator.Authenticate(r, gate)
}

// A request runs under one configuration: a reload while it runs does not
// change the rules half-way through.
func TestTrust_ARequestSeesOneConfiguration(t *testing.T) {
	keys := newOrgKeys(t)
	cfg := testConfig(t)
	withTokens(keys)(&hubSetup{cfg: cfg})
	_, hubKey, _ := ed25519.GenerateKey(rand.Reader)
	oldAuthority, err := auth.New(cfg, hubKey.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	pausing := &pausingAuth{Authenticator: oldAuthority, entered: make(chan struct{}), release: make(chan struct{})}
	h := newHub(t, withTokens(keys), withAuthenticator(pausing))
	h.hubKey = hubKey
	fbi := hubToken(t, h, "fbi", "read", "write")

	red := withProps(indicator(ind1, v1), `"object_marking_refs":["`+tlpRed+`"]`)
	done := make(chan status)
	go func() {
		var st status
		json.Unmarshal(h.do(http.MethodPost, objectsPath, envelopeOf(red), fbi...).body, &st)
		done <- st
	}()
	<-pausing.entered
	// The new configuration lets TLP:RED into the collection.
	newCfg := testConfig(t)
	withTokens(keys, func(c *config.Config) { c.APIRoots[0].Collections[0].MaxTLP = "red" })(&hubSetup{cfg: newCfg})
	newAuthority, err := auth.New(newCfg, hubKey.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	h.server.Reload(newCfg, newAuthority, newAuthority)
	close(pausing.release)
	if st := <-done; st.FailureCount != 1 || !strings.Contains(st.Failures[0].Message, "TLP:RED") {
		t.Fatalf("a POST that began under max_tlp amber: %+v", st)
	}
	// The next request runs under the new one.
	var st status
	h.do(http.MethodPost, objectsPath, envelopeOf(red), fbi...).json(t, &st)
	if st.SuccessCount != 1 {
		t.Fatalf("after the reload: %+v", st)
	}
}

// The audit log is signed with a key of its own, published with the token
// key: an auditor never needs the key that mints admin tokens.
func TestTrust_AuditKeyIsNotTheTokenKey(t *testing.T) {
	h := newHub(t, withTokens(newOrgKeys(t)))
	auditor := hubToken(t, h, "oversight", "audit")
	h.get(objectsPath, hubToken(t, h, "fbi", "read")...)

	var jwks struct {
		Keys []struct{ Kty, Crv, X, Kid, Alg string } `json:"keys"`
	}
	res := h.get("/.well-known/jwks.json", "Accept", "application/json")
	res.json(t, &jwks)
	auditPub := h.auditKey.Public().(ed25519.PublicKey)
	want := map[string]ed25519.PublicKey{"hub": h.hubKey.Public().(ed25519.PublicKey), "audit-" + audit.KeyID(auditPub): auditPub}
	if res.status != 200 || len(jwks.Keys) != 2 {
		t.Fatalf("jwks = %d %s", res.status, res.body)
	}
	for _, k := range jwks.Keys {
		if pub, ok := want[k.Kid]; !ok || k.X != base64.RawURLEncoding.EncodeToString(pub) || k.Kty != "OKP" || k.Crv != "Ed25519" || k.Alg != "EdDSA" {
			t.Errorf("key %+v", k)
		}
	}

	var v struct {
		Verified bool   `json:"verified"`
		Message  string `json:"message"`
	}
	h.get("/admin/audit/verify", auditor...).json(t, &v)
	if !v.Verified {
		t.Fatalf("verify: %s", v.Message)
	}
	var checkpoints int
	h.store.AuditCheckpoints(context.Background(), func(c audit.Checkpoint) error {
		if c.Key != audit.KeyID(auditPub) {
			t.Errorf("checkpoint %d signed with key %q", c.Seq, c.Key)
		}
		checkpoints++
		return nil
	})
	if checkpoints == 0 {
		t.Fatal("verify sealed no checkpoint")
	}
	if _, err := audit.Verify(store.AuditLog(context.Background(), h.store), audit.VerifyOptions{Keys: []ed25519.PublicKey{h.hubKey.Public().(ed25519.PublicKey)}, AllowUnsealed: true}); err == nil {
		t.Fatal("the token key verifies the audit log")
	}
}

// untilThrottled repeats a failing request until the failure limiter
// answers 429, which must come after the burst (10) and well before the
// budget could refill as fast as a slow machine spends it.
func (h *hub) untilThrottled(t *testing.T, headers ...string) response {
	t.Helper()
	for i := 1; i <= 100; i++ {
		res := h.get(objectsPath, headers...)
		if res.status == http.StatusTooManyRequests {
			if i <= 10 {
				t.Fatalf("throttled after %d failures, within the burst", i-1)
			}
			errorBody(t, res, http.StatusTooManyRequests)
			return res
		}
		if res.status != http.StatusUnauthorized {
			t.Fatalf("a failing credential = %d", res.status)
		}
	}
	t.Fatal("100 failures, never throttled")
	return response{}
}
