package config

import (
	"strings"
	"testing"
	"time"
)

const minimal = `
auth: {mode: none}
api_roots:
  - path: election2020
    title: 2020 election
    collections:
      - id: 5F3C6A1E-8A43-4D0E-9C55-3C1F2B6F7A10
        title: Election threat indicators
        alias: indicators
`

func TestParse_AppliesDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	col := cfg.APIRoots[0].Collections[0]
	if cfg.Listen != DefaultListen || cfg.DataDir != DefaultDataDir || cfg.MaxContentLength != DefaultMaxContentLength ||
		cfg.DefaultPageSize != 100 || cfg.MaxPageSize != 1000 || col.MediaTypes[0] != DefaultMediaType {
		t.Fatalf("defaults not applied: %+v", cfg)
	}
	if col.ID != "5f3c6a1e-8a43-4d0e-9c55-3c1f2b6f7a10" {
		t.Errorf("collection id not lower-cased: %s", col.ID)
	}
	if cfg.Audit.ReadSync != "always" || cfg.Audit.ReadSyncInterval() != 0 {
		t.Errorf("audit.read_sync defaults to %q", cfg.Audit.ReadSync)
	}
	batched, err := Parse([]byte("audit: {read_sync: 10ms}\n" + minimal))
	if err != nil || batched.Audit.ReadSyncInterval() != 10*time.Millisecond {
		t.Errorf("audit.read_sync: 10ms = %v, %v", batched.Audit.ReadSyncInterval(), err)
	}
	root, ok := cfg.APIRoot("election2020")
	if !ok {
		t.Fatal("APIRoot not found")
	}
	for _, key := range []string{"indicators", "5f3c6a1e-8a43-4d0e-9c55-3c1f2b6f7a10", "5F3C6A1E-8A43-4D0E-9C55-3C1F2B6F7A10"} {
		if _, ok := root.Collection(key); !ok {
			t.Errorf("Collection(%q) not found", key)
		}
	}
	if _, ok := root.Collection("Indicators"); ok {
		t.Error("aliases are case-sensitive")
	}
}

func TestParse_SampleConfig(t *testing.T) {
	if _, err := Load("../testdata/hub.yaml"); err != nil {
		t.Fatal(err)
	}
}

const withOrgs = `
auth: {audience: hub-test}
organizations:
  - id: fbi
    identity: identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f
    keys:
      - {kid: fbi-2026, alg: EdDSA, public_key_file: keys/fbi.pub}
    api_keys:
      - {name: sentinel, hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", roles: [read]}
  - id: dhs
    identity: identity--5c82c336-f7f2-41df-8bf4-748e2f3dd8f9
api_roots:
  - path: election2020
    title: 2020 election
    collections:
      - id: 5f3c6a1e-8a43-4d0e-9c55-3c1f2b6f7a10
        title: Indicators
        read: ["*"]
        write: [fbi, dhs]
        max_tlp: amber
`

func TestParse_TokenModeDefaults(t *testing.T) {
	cfg, err := Parse([]byte(withOrgs))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Auth
	if a.Mode != "token" || a.Issuer != "taxiihub" || a.MaxTokenTTL != DefaultMaxTokenTTL || a.Leeway != DefaultLeeway {
		t.Fatalf("auth = %+v", a)
	}
	if cfg.Organization("dhs") == nil || cfg.Organization("nsa") != nil || cfg.Collection("5f3c6a1e-8a43-4d0e-9c55-3c1f2b6f7a10") == nil {
		t.Fatal("lookups failed")
	}
	cfg, err = Parse([]byte(strings.Replace(withOrgs, "auth: {audience: hub-test}", "auth: {audience: hub-test, max_token_ttl: 8h, leeway: 1m}", 1)))
	if err != nil || cfg.Auth.MaxTokenTTL.Hours() != 8 || cfg.Auth.Leeway.Minutes() != 1 {
		t.Fatalf("durations: %+v, %v", cfg.Auth, err)
	}
}

func TestParse_RejectsBadConfigNamingTheKey(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"empty file", ``, "empty"},
		{"unknown key", "listen: x\nlisten_port: 3\n" + minimal, "listen_port (line 2): unknown key"},
		{"unknown nested key", strings.Replace(minimal, "alias:", "alais:", 1), "api_roots[0].collections[0].alais (line"},
		{"a typo, with a suggestion", "auth: {max_token_tll: 1h}\n" + minimal, "auth.max_token_tll (line 1): unknown key: did you mean max_token_ttl?"},
		{"wrong type", "max_content_length: lots\n" + minimal, "cannot unmarshal !!str `lots` into a number"},
		{"token mode without audience", strings.Replace(minimal, "auth: {mode: none}", "", 1), "auth.audience"},
		{"unsupported auth mode", strings.Replace(minimal, "mode: none", "mode: jwt", 1), "auth.mode"},
		{"negative size", "max_content_length: -1\n" + minimal, "max_content_length"},
		{"trusted proxy not a network", "trusted_proxies: [10.0.0.0/33]\n" + minimal, "trusted_proxies[0]"},
		{"audit retention too short", "audit: {retain: 7d}\n" + minimal, "audit.retain"},
		{"witness inside data_dir", "data_dir: /srv/hub\naudit: {witness_file: /srv/hub/heads.jsonl}\n" + minimal, "audit.witness_file"},
		{"witness not a URL", "audit: {witness_url: ftp://x}\n" + minimal, "audit.witness_url"},
		{"page sizes", "default_page_size: 50\nmax_page_size: 10\n" + minimal, "max_page_size"},
		{"no roots", "auth: {mode: none}\n", "api_roots"},
		{"bad path", strings.Replace(minimal, "path: election2020", "path: a/b", 1), "api_roots[0].path"},
		{"reserved path", strings.Replace(minimal, "path: election2020", "path: taxii2", 1), "api_roots[0].path"},
		{"no root title", strings.Replace(minimal, "title: 2020 election", "", 1), "api_roots[0].title"},
		{"collection id not a uuid", strings.Replace(minimal, "5F3C6A1E-8A43-4D0E-9C55-3C1F2B6F7A10", "indicators", 1), "api_roots[0].collections[0].id"},
		{"collection id not v4", strings.Replace(minimal, "4D0E", "1D0E", 1), "api_roots[0].collections[0].id"},
		{"no collection title", strings.Replace(minimal, "title: Election threat indicators", "", 1), "api_roots[0].collections[0].title"},
		{"bad alias", strings.Replace(minimal, "alias: indicators", "alias: a b", 1), "api_roots[0].collections[0].alias"},
		{"bad media type", minimal + "        media_types: [text/plain]\n", "api_roots[0].collections[0].media_types[0]"},
		{"duplicate id", minimal + `      - id: 5f3c6a1e-8a43-4d0e-9c55-3c1f2b6f7a10
        title: again
`, "api_roots[0].collections[1].id"},
		{"duplicate alias", minimal + `      - id: 8d2b9c4e-1f6a-4b7d-a3e5-6c9f0e1d2a3b
        title: again
        alias: indicators
`, "api_roots[0].collections[1].alias"},
		{"duplicate path", minimal + `  - path: election2020
    title: again
`, "api_roots[1].path"},
		{"bad ttl", strings.Replace(withOrgs, "{audience: hub-test}", "{audience: hub-test, max_token_ttl: forever}", 1), "forever"},
		{"negative ttl", strings.Replace(withOrgs, "{audience: hub-test}", "{audience: hub-test, max_token_ttl: -1h}", 1), "auth.max_token_ttl"},
		{"huge leeway", strings.Replace(withOrgs, "{audience: hub-test}", "{audience: hub-test, leeway: 1h}", 1), "auth.leeway"},
		{"bad org id", strings.Replace(withOrgs, "id: dhs", "id: DHS!", 1), "organizations[1].id"},
		{"duplicate org", strings.Replace(withOrgs, "id: dhs", "id: fbi", 1), "organizations[1].id"},
		{"bad identity", strings.Replace(withOrgs, "identity--5c82c336", "indicator--5c82c336", 1), "organizations[1].identity"},
		{"shared identity", strings.Replace(withOrgs, "identity--5c82c336-f7f2-41df-8bf4-748e2f3dd8f9", "identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f", 1), "organizations[1].identity"},
		{"kid hub", strings.Replace(withOrgs, "kid: fbi-2026", "kid: hub", 1), "organizations[0].keys[0].kid"},
		{"alg HS256", strings.Replace(withOrgs, "alg: EdDSA", "alg: HS256", 1), "organizations[0].keys[0].alg"},
		{"key without source", strings.Replace(withOrgs, ", public_key_file: keys/fbi.pub", "", 1), "organizations[0].keys[0]"},
		{"api key secret in config", strings.Replace(withOrgs, `"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"`, "hunter2", 1), "organizations[0].api_keys[0].hash"},
		{"api key bad role", strings.Replace(withOrgs, "roles: [read]", "roles: [read, root]", 1), "organizations[0].api_keys[0].roles[1]"},
		{"api key no role", strings.Replace(withOrgs, "roles: [read]", "roles: []", 1), "organizations[0].api_keys[0].roles"},
		{"unknown org in write", strings.Replace(withOrgs, "write: [fbi, dhs]", "write: [fbi, nsa]", 1), "api_roots[0].collections[0].write[1]"},
		{"bad tlp", strings.Replace(withOrgs, "max_tlp: amber", "max_tlp: orange", 1), "api_roots[0].collections[0].max_tlp"},
		{"read_sync word", "audit: {read_sync: sometimes}\n" + minimal, "audit.read_sync"},
		{"read_sync too long", "audit: {read_sync: 5s}\n" + minimal, "audit.read_sync"},
		{"read_sync zero", "audit: {read_sync: 0s}\n" + minimal, "audit.read_sync"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q should be one line naming %q", err, tt.want)
			}
		})
	}
}

func TestParse_PlainHTTPOnlyOnLoopback(t *testing.T) {
	for listen, ok := range map[string]bool{
		"127.0.0.1:8080": true, "[::1]:8080": true, "localhost:8080": true,
		"0.0.0.0:8080": false, ":8080": false, "10.1.2.3:8080": false,
	} {
		_, err := Parse([]byte("listen: \"" + listen + "\"\n" + minimal))
		if (err == nil) != ok {
			t.Errorf("listen %s: %v", listen, err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "insecure_http")) {
			t.Errorf("listen %s: the error should say how to allow it: %v", listen, err)
		}
		if _, err := Parse([]byte("listen: \"" + listen + "\"\ninsecure_http: true\n" + minimal)); err != nil {
			t.Errorf("listen %s with insecure_http: %v", listen, err)
		}
	}
	for name, tlsYAML := range map[string]string{
		"cert without key":       "tls: {cert: a.pem}\n",
		"client_ca without cert": "tls: {client_ca: ca.pem}\ninsecure_http: true\n",
		"client certs, no CA":    "tls: {cert: a, key: b, client_certs: [{subject: CN=x, org: fbi, roles: [read]}]}\n",
	} {
		if _, err := Parse([]byte(tlsYAML + minimal)); err == nil || !strings.Contains(err.Error(), "tls") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
