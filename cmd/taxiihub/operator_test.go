package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"encoding/pem"
	"github.com/golang-jwt/jwt/v5"
	"github.com/taxiihub/taxiihub/internal/datadir"
	"net/http"
	"net/http/httptest"
)

// Only serve and demo make keys: token issue run from another directory
// finds the hub's key through the config's directory, and, when the hub has
// none yet, fails naming where it looked, creating nothing.
func TestOperator_TokenIssueFindsTheHubsKeyOrSaysWhere(t *testing.T) {
	_, bin := buildBinary(t)
	hubDir := t.TempDir()
	sample, _ := os.ReadFile("../../testdata/hub.yaml") // data_dir: ./data, relative
	os.WriteFile(filepath.Join(hubDir, "hub.yaml"), sample, 0o600)
	elsewhere := t.TempDir()
	issue := func() ([]byte, error) {
		cmd := exec.Command(bin, "token", "issue", "--config", filepath.Join(hubDir, "hub.yaml"), "--org", "fbi", "--sub", "s", "--roles", "read")
		cmd.Dir = elsewhere
		return cmd.Output()
	}
	if out, err := issue(); err == nil || !strings.Contains(string(out)+errText(err), filepath.Join(hubDir, "data", "hub.key")) {
		t.Fatalf("before the hub ever started: %v %s", err, out)
	}
	for _, dir := range []string{filepath.Join(elsewhere, "data"), filepath.Join(hubDir, "data", "hub.key")} {
		if _, err := os.Stat(dir); err == nil {
			t.Fatalf("%s was created", dir)
		}
	}
	data, _, _ := datadir.Prepare(filepath.Join(hubDir, "data")) // as serve does at its first start
	key, _ := data.HubKey()
	out, err := issue()
	if err != nil {
		t.Fatalf("%v", errText(err))
	}
	if _, err := jwt.Parse(strings.TrimSpace(string(out)), func(*jwt.Token) (any, error) { return key.Public().(ed25519.PublicKey), nil }, jwt.WithAudience("taxiihub-election2020")); err != nil {
		t.Fatalf("the token is not signed with the hub's key: %v", err)
	}
}

// runBinary runs the built binary with args, as an operator would, and
// returns its stdout, and an error carrying its stderr if it failed.
func runBinary(bin string, env []string, args ...string) (string, string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		err = errors.New(strings.TrimSpace(errOut.String()))
	}
	return out.String(), errOut.String(), err
}

func errText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// config check loads what serve loads, and serve checks it before it
// creates anything in data_dir.
func TestOperator_ConfigCheckLoadsWhatServeLoads(t *testing.T) {
	_, bin := buildBinary(t)
	dir := t.TempDir()
	ca := newTestCA(t, "Hub CA")
	_, certPEM, keyPEM := ca.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "hub"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}})
	_, otherCert, _ := ca.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "other"}})
	files := map[string][]byte{"hub.crt": certPEM, "hub.key.pem": keyPEM, "other.crt": otherCert, "ca.pem": ca.pem}
	for name, data := range files {
		os.WriteFile(filepath.Join(dir, name), data, 0o600)
	}
	sample, _ := os.ReadFile("../../testdata/hub.yaml")
	for name, tt := range map[string]struct{ tls, want string }{
		"a missing certificate":                   {"tls: {cert: nope.crt, key: hub.key.pem}", filepath.Join(dir, "nope.crt")},
		"a certificate and key that do not match": {"tls: {cert: other.crt, key: hub.key.pem}", "private key does not match"},
		"a missing client CA":                     {"tls: {cert: hub.crt, key: hub.key.pem, client_ca: nope-ca.pem}", "tls.client_ca"},
	} {
		t.Run(name, func(t *testing.T) {
			cfgPath := filepath.Join(dir, "hub.yaml")
			os.WriteFile(cfgPath, []byte(strings.Replace(string(sample), "auth:\n", tt.tls+"\nauth:\n", 1)), 0o600)
			_, _, err := runBinary(bin, nil, "config", "check", "--config", cfgPath)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("config check: %v, want %q", err, tt.want)
			}
			_, _, err = runBinary(bin, nil, "serve", "--config", cfgPath)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("serve: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
				t.Fatal("serve created data_dir before refusing its config")
			}
		})
	}
}

// SIGHUP renews the certificate without a restart, refuses a config whose
// certificate cannot be loaded (the old one stays), and logs what changed.
func TestOperator_ReloadRenewsTheCertificate(t *testing.T) {
	dir, bin := buildBinary(t)
	ca := newTestCA(t, "Hub CA")
	issueCert := func(cn string) {
		_, certPEM, keyPEM := ca.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: cn}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}})
		os.WriteFile(filepath.Join(dir, "hub.crt"), certPEM, 0o600)
		os.WriteFile(filepath.Join(dir, "hub.key.pem"), keyPEM, 0o600)
	}
	issueCert("first")
	cfgPath := writeConfig(t, dir)
	text, _ := os.ReadFile(cfgPath)
	withTLS := strings.Replace(string(text), "auth:\n", "tls: {cert: hub.crt, key: hub.key.pem}\nauth:\n", 1)
	os.WriteFile(cfgPath, []byte(withTLS), 0o600)
	hub := serveBinary(t, bin, cfgPath)
	cmd, base, waitLog := hub.cmd, hub.base, hub.waitLog
	served := func() string {
		conn, err := tls.Dial("tcp", strings.TrimPrefix(base, "https://"), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if got := served(); got != "first" {
		t.Fatalf("serving %q", got)
	}
	issueCert("renewed")
	os.WriteFile(cfgPath, []byte(strings.Replace(withTLS, "revoked: []", "revoked: [leaked-jti]", 1)), 0o600)
	cmd.Process.Signal(syscall.SIGHUP)
	if line := waitLog("config reloaded"); !strings.Contains(line, "revoked tokens added: leaked-jti") || !strings.Contains(line, "TLS certificate reloaded") {
		t.Fatalf("the reload line does not say what changed: %s", line)
	}
	if got := served(); got != "renewed" {
		t.Fatalf("after the reload, serving %q", got)
	}
	// What needs a restart is refused, and says so.
	for _, tt := range []struct{ config, want string }{
		{strings.Replace(withTLS, "data_dir: ", "data_dir: /elsewhere", 1), "data_dir changed"},
		{string(text), "turning TLS on or off needs a restart"},
	} {
		os.WriteFile(cfgPath, []byte(tt.config), 0o600)
		cmd.Process.Signal(syscall.SIGHUP)
		if line := waitLog("config reload refused"); !strings.Contains(line, tt.want) {
			t.Fatalf("the refusal does not say %q: %s", tt.want, line)
		}
	}
	os.WriteFile(cfgPath, []byte(strings.Replace(withTLS, "cert: hub.crt", "cert: gone.crt", 1)), 0o600)
	cmd.Process.Signal(syscall.SIGHUP)
	if line := waitLog("config reload refused"); !bytes.Contains([]byte(line), []byte("gone.crt")) {
		t.Fatalf("the refusal does not name the file: %s", line)
	}
	if got := served(); got != "renewed" {
		t.Fatalf("after a refused reload, serving %q", got)
	}
}

// token issue says what revoking the token needs; token inspect shows a
// token and whether the hub takes it; token revoke edits the config safely,
// and after a reload the token is refused; apikey new checks the config.
func TestOperator_TokenLifecycle(t *testing.T) {
	dir, bin := buildBinary(t)
	cfgPath := writeConfig(t, dir)
	out, errOut, err := runBinary(bin, nil, "token", "issue", "--config", cfgPath, "--org", "fbi", "--sub", "liaison1", "--roles", "read")
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(out)
	c, err := readClaims(token)
	if err != nil || !strings.Contains(errOut, "jti "+c.ID+", expires ") {
		t.Fatalf("token issue's stderr: %q, %v", errOut, err)
	}
	inspect := func() (string, error) {
		out, _, err := runBinary(bin, nil, "token", "inspect", "--config", cfgPath, token)
		return out, err
	}
	if text, err := inspect(); err != nil || !strings.Contains(text, "sub liaison1, org fbi, roles read, jti "+c.ID) || !strings.Contains(text, "the hub accepts it") {
		t.Fatalf("inspect: %q, %v", text, err)
	}
	before, _ := os.ReadFile(cfgPath)
	if _, _, err := runBinary(bin, nil, "token", "revoke", "--config", cfgPath, c.ID); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(cfgPath)
	if !strings.Contains(string(after), "# The election-threat sharing hub") || !strings.Contains(string(after), "- "+c.ID) || len(after) < len(before) {
		t.Fatalf("the revoked config lost its comments or the id:\n%s", after)
	}
	if _, err := inspect(); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("inspect after revoke: %v", err)
	}
	for _, args := range [][]string{
		{"apikey", "new", "--config", cfgPath, "--org", "kgb", "--name", "k"},
		{"token", "revoke", "--config", cfgPath, ""},
	} {
		if _, _, err := runBinary(bin, nil, args...); err == nil {
			t.Errorf("%v was accepted", args)
		}
	}
}

// backup, health, pull and push trust a private CA given with --cacert.
func TestOperator_CACert(t *testing.T) {
	_, bin := buildBinary(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	health := func(extra ...string) error {
		_, _, err := runBinary(bin, nil, append([]string{"health", "--url", srv.URL + "/healthz"}, extra...)...)
		return err
	}
	if err := health(); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without --cacert: %v", err)
	}
	if err := health("--cacert", caFile); err != nil {
		t.Fatalf("with --cacert: %v", err)
	}
	out := filepath.Join(t.TempDir(), "copy.db")
	if _, _, err := runBinary(bin, []string{tokenEnv + "=t"}, "backup", "--url", srv.URL, "--out", out, "--cacert", caFile); err == nil || strings.Contains(err.Error(), "certificate") {
		t.Fatalf("backup with --cacert reached the server? %v", err) // the server answers an empty body: not a hub file
	}
}

// The production example of testdata/production: its openssl commands make
// the files its hub.yaml names, config check passes, and the hub it
// describes serves HTTPS to an agency's client certificate and to a token
// the FBI signs with its own key, and sends its signed heads to the witness.
func TestOperator_ProductionExample(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl")
	}
	dir, bin := buildBinary(t)
	for _, name := range []string{"hub.yaml", "make-files.sh"} {
		data, err := os.ReadFile(filepath.Join("../../testdata/production", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), data, 0o600)
	}
	mk := exec.Command("sh", "make-files.sh")
	mk.Dir = dir
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make-files.sh: %v\n%s", err, out)
	}
	cfgPath := filepath.Join(dir, "hub.yaml")
	if out, err := exec.Command(bin, "config", "check", "--config", cfgPath).CombinedOutput(); err != nil || !strings.Contains(string(out), "ok (1 API roots, 2 collections)") {
		t.Fatalf("config check: %v\n%s", err, out)
	}
	// Served here: a free port, data and witness in the test's directory.
	text, _ := os.ReadFile(cfgPath)
	local := strings.NewReplacer("listen: 0.0.0.0:8443", "listen: 127.0.0.1:0", "data_dir: /var/lib/taxiihub", "data_dir: data",
		"witness_file: /var/log/taxiihub/audit-heads.jsonl", "witness_file: heads.jsonl").Replace(string(text))
	os.WriteFile(cfgPath, []byte(local), 0o600)
	serve := exec.Command(bin, "serve", "--config", cfgPath)
	stderr, _ := serve.StderrPipe()
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer serve.Process.Kill()
	base := waitForURL(t, stderr)
	go io.Copy(io.Discard, stderr)

	fbiToken, err := exec.Command(bin, "token", "issue", "--config", cfgPath, "--org", "fbi", "--sub", "liaison1", "--roles", "read",
		"--key", filepath.Join(dir, "keys/fbi-key.pem"), "--kid", "fbi-2026").Output()
	if err != nil {
		t.Fatalf("token issue --key: %v %s", err, errText(err))
	}
	roots := x509.NewCertPool()
	serverCA, _ := os.ReadFile(filepath.Join(dir, "tls/server-ca.pem"))
	roots.AppendCertsFromPEM(serverCA)
	dhsCert, err := tls.LoadX509KeyPair(filepath.Join(dir, "tls/dhs-analyst.crt"), filepath.Join(dir, "tls/dhs-analyst.key"))
	if err != nil {
		t.Fatal(err)
	}
	get := func(cert *tls.Certificate, authorization string) int {
		tc := &tls.Config{RootCAs: roots}
		if cert != nil {
			tc.Certificates = []tls.Certificate{*cert}
		}
		req, _ := http.NewRequest(http.MethodGet, base+"/election2020/collections/law-enforcement/objects/", nil)
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		res, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: tc}}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := get(&dhsCert, ""); got != http.StatusOK {
		t.Fatalf("DHS by its client certificate = %d", got)
	}
	if got := get(nil, "Bearer "+strings.TrimSpace(string(fbiToken))); got != http.StatusOK {
		t.Fatalf("FBI by its own token = %d", got)
	}
	// The FBI, without the hub's config: its key, its kid, the hub's audience.
	own := exec.Command(bin, "token", "issue", "--audience", "taxiihub-election2020", "--org", "fbi", "--sub", "liaison3", "--roles", "read",
		"--key", filepath.Join(dir, "keys/fbi-key.pem"), "--kid", "fbi-2026")
	own.Dir = t.TempDir()
	ownToken, err := own.Output()
	if err != nil {
		t.Fatalf("token issue --audience: %v %s", err, errText(err))
	}
	if got := get(nil, "Bearer "+strings.TrimSpace(string(ownToken))); got != http.StatusOK {
		t.Fatalf("FBI's token made without the hub's config = %d", got)
	}
	serve.Process.Signal(syscall.SIGTERM)
	serve.Wait()
	if heads, err := os.ReadFile(filepath.Join(dir, "heads.jsonl")); err != nil || !bytes.Contains(heads, []byte(`"kind":"shutdown"`)) {
		t.Fatalf("the witness file: %v %s", err, heads)
	}
}
