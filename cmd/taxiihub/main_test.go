package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taxiihub/taxiihub/auth"
	"github.com/taxiihub/taxiihub/internal/datadir"
)

// writeConfig writes testdata/hub.yaml with its data_dir and listen address
// replaced, and returns its path.
func writeConfig(t *testing.T, dir string) string {
	t.Helper()
	sample, err := os.ReadFile("../../testdata/hub.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(sample), "data_dir: ./data", "data_dir: "+filepath.Join(dir, "data"), 1)
	cfg = strings.Replace(cfg, "listen: 127.0.0.1:8080", "listen: 127.0.0.1:0", 1)
	path := filepath.Join(dir, "hub.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// As a hub that has started once: its token key exists.
	if data, _, err := datadir.Prepare(filepath.Join(dir, "data")); err != nil {
		t.Fatal(err)
	} else if _, err := data.HubKey(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigCheck(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"config", "check", "--config", "../../testdata/hub.yaml"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "ok (1 API roots, 4 collections)") {
		t.Fatalf("output %q", out.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("auth: {mode: none}\nlisen: x\n"), 0o600)
	err := run(context.Background(), []string{"config", "check", "--config", bad}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "lisen") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("bad config: %v", err)
	}
	if err := run(context.Background(), []string{"config", "check", "--config", "/nonexistent/hub.yaml"}, io.Discard, io.Discard); err == nil {
		t.Fatal("a missing config file was accepted")
	}
}

// fetchObjects GETs an envelope with an Authorization header and returns
// its objects.
func fetchObjects(t *testing.T, url, authorization string) []json.RawMessage {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	req.Header.Set("Authorization", authorization)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var env struct{ Objects []json.RawMessage }
	if err := json.NewDecoder(res.Body).Decode(&env); err != nil {
		t.Fatalf("GET %s: %s: %v", url, res.Status, err)
	}
	return env.Objects
}

// buildBinary builds taxiihub into a temp dir and returns both; it skips
// in -short runs.
func buildBinary(t *testing.T) (dir, bin string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir = t.TempDir()
	bin = filepath.Join(dir, "taxiihub")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir, bin
}

// issueWithBinary prints a hub token with the token issue command.
func issueWithBinary(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, append([]string{"token", "issue"}, args...)...).Output() // the token alone: its jti goes to stderr
	if err != nil {
		t.Fatalf("token issue %v: %v %s", args, err, errText(err))
	}
	return strings.TrimSpace(string(out))
}

var servingURL = regexp.MustCompile(`"url":"(https?://[^"]+)/taxii2/"`)

// TestServe_RealBinary builds taxiihub, serves the sample config, posts and
// reads a bundle, and stops it with SIGTERM; a second start finds the data.
func TestServe_RealBinary(t *testing.T) {
	dir, bin := buildBinary(t)
	cfg := writeConfig(t, dir)
	bundle, err := os.ReadFile("../../testdata/bundles/election-sample.json")
	if err != nil {
		t.Fatal(err)
	}
	objects := "/election2020/collections/indicators/objects/"
	bearer := "Bearer " + issueWithBinary(t, bin, "--config", cfg, "--org", "fbi", "--sub", "e2e", "--roles", "read,write", "--ttl", "1h")
	// An operator made data_dir by hand, readable by everyone: serve makes
	// it private (checked below).
	if err := os.Chmod(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}

	for round := range 3 {
		cmd := exec.Command(bin, "serve", "--config", cfg)
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		base := waitForURL(t, stderr)
		if round == 0 {
			res, err := postEnvelope(base+objects, bearer, bytes.NewReader(bundle))
			if err != nil || res.StatusCode != http.StatusAccepted {
				t.Fatalf("POST: %v %v", res, err)
			}
			res.Body.Close()
			// Headers are bounded: whatever is in them may be logged.
			req, _ := http.NewRequest(http.MethodGet, base+objects, nil)
			req.Header.Set("X-Request-Id", strings.Repeat("x", 100<<10))
			if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Fatalf("100 KiB of headers: %v %v", res, err)
			}
		}
		if res, err := http.Get(base + objects); err != nil || res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("GET without a token: %v %v", res, err)
		}
		if objs := fetchObjects(t, base+objects, bearer); len(objs) != 8 { // nine posted, two of them versions of one indicator
			t.Fatalf("round %d: %d objects", round, len(objs))
		}
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("round %d: exit after SIGTERM: %v", round, err)
		}
	}
	for path, want := range map[string]os.FileMode{"data": 0o700, "data/cursor.key": 0o600, "data/hub.key": 0o600, "data/hub.db": 0o600} {
		fi, err := os.Stat(filepath.Join(dir, path))
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode().Perm(), err, want)
		}
	}
}

// servedHub is the binary serving a config, with its log.
type servedHub struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	logs chan string
}

// serveBinary starts bin serving cfgPath; the test's end kills it.
func serveBinary(t *testing.T, bin, cfgPath string) *servedHub {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	h := &servedHub{t: t, cmd: cmd, logs: make(chan string, 100)}
	h.base = waitForURLLogging(t, stderr, h.logs)
	return h
}

// waitLog waits for a log line that says words, and returns it.
func (h *servedHub) waitLog(words string) string {
	h.t.Helper()
	for deadline := time.After(10 * time.Second); ; {
		select {
		case line := <-h.logs:
			if strings.Contains(line, words) {
				return line
			}
		case <-deadline:
			h.t.Fatalf("the log never said %q", words)
		}
	}
}

// waitForURL reads the hub's log until it says where it serves.
func waitForURL(t *testing.T, stderr io.Reader) string {
	t.Helper()
	return waitForURLLogging(t, stderr, nil)
}

// waitForURLLogging is waitForURL that also sends every line of the log,
// then and later, to logs (unless nil).
func waitForURLLogging(t *testing.T, stderr io.Reader, logs chan<- string) string {
	t.Helper()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := servingURL.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
			if logs != nil {
				logs <- sc.Text()
			}
		}
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("the hub did not start within 30s")
		return ""
	}
}

var (
	demoURL      = regexp.MustCompile(`taxiihub demo hub: (http://\S+)/taxii2/`)
	fbiTokenLine = regexp.MustCompile(`(?m)^  export FBI_TOKEN=(\S+)   # read,write$`)
)

// TestDemo_LoadsDatasetAndIsIdempotent runs the demo twice in one directory:
// the first run loads the dataset, the second reuses it and adds nothing.
func TestDemo_LoadsDatasetAndIsIdempotent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	newObjects := regexp.MustCompile(`(\d+) new objects loaded`)
	for round := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		out, outW := io.Pipe()
		done := make(chan error, 1)
		go func() {
			args := []string{"demo", "--dir", dir, "--listen", "127.0.0.1:0", "--testdata", "../../testdata"}
			if round == 2 {
				args = append(args, "--reset")
			}
			done <- run(ctx, args, outW, io.Discard)
			outW.Close()
		}()
		text, base := readUntil(t, out, demoURL)
		go io.Copy(io.Discard, out)
		loaded := newObjects.FindStringSubmatch(text)
		if loaded == nil || round != 1 && len(loaded[1]) < 3 || round == 1 && loaded[1] != "0" {
			t.Errorf("round %d: the banner should say several hundred new objects, none when reused, and as many after --reset:\n%s", round, text)
		}
		if strings.Count(text, "curl -s -H \"Authorization: Bearer $") < 8 {
			t.Errorf("round %d: the banner lacks a curl command per organization:\n%s", round, text)
		}
		token := fbiTokenLine.FindStringSubmatch(text)
		if token == nil {
			t.Fatalf("round %d: no FBI token in the banner:\n%s", round, text)
		}
		objs := fetchObjects(t, base+"/election2020/collections/indicators/objects/?match[type]=indicator&limit=1000", "Bearer "+token[1])
		if len(objs) < 240 {
			t.Fatalf("round %d: %d indicators, want the dataset's 240 and more", round, len(objs))
		}
		if round == 0 {
			fbiMayVersionItsOwn(t, base, "Bearer "+token[1], objs)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("round %d: demo ended with %v", round, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "hub.yaml")); err != nil {
		t.Fatal(err)
	}
}

// fbiMayVersionItsOwn posts a new version of an indicator the dataset says
// the FBI made: the demo's objects belong to the members that made them.
func fbiMayVersionItsOwn(t *testing.T, base, authorization string, objs []json.RawMessage) {
	t.Helper()
	for _, raw := range objs {
		var o map[string]any
		json.Unmarshal(raw, &o)
		if o["created_by_ref"] != "identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f" {
			continue
		}
		o["modified"] = "2030-01-01T00:00:00.000Z"
		body, _ := json.Marshal(map[string]any{"objects": []any{o}})
		res, err := postEnvelope(base+"/election2020/collections/indicators/objects/", authorization, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var st struct {
			SuccessCount int `json:"success_count"`
		}
		json.NewDecoder(res.Body).Decode(&st)
		if st.SuccessCount != 1 {
			t.Fatalf("the FBI's new version of its own %s: %s %+v", o["id"], res.Status, st)
		}
		return
	}
	t.Fatal("the dataset has no FBI indicator")
}

// readUntil reads r line by line until re matches, returning what it read
// and re's first group.
func readUntil(t *testing.T, r io.Reader, re *regexp.Regexp) (string, string) {
	t.Helper()
	type result struct{ text, match string }
	found := make(chan result, 1)
	go func() {
		var text strings.Builder
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			text.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				// Read the rest of the banner too.
				for sc.Scan() && !strings.HasPrefix(sc.Text(), "Stop with") {
					text.WriteString(sc.Text() + "\n")
				}
				found <- result{text.String(), m[1]}
				return
			}
		}
	}()
	select {
	case res := <-found:
		return res.text, res.match
	case <-time.After(30 * time.Second):
		t.Fatal("no match within 30s")
		return "", ""
	}
}

func TestStixValidate(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"stix", "validate", "../../testdata/bundles/election-sample.json"}, &out, io.Discard); err != nil || out.Len() != 0 {
		t.Fatalf("the sample bundle: %v\n%s", err, out.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"type":"bundle","id":"bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","objects":[
		{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","pattern":"[file:name = 'a'","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z","confidence":101},
		{"type":"indicator","spec_version":"2.1","id":"indicator--9e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","pattern":"[file:name = 'a' AND url:value = 'b']","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"},
		{"id":"x"}]}`), 0o600)
	out.Reset()
	err := run(context.Background(), []string{"stix", "validate", bad}, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "2 objects would be refused") {
		t.Fatalf("err = %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		bad + ": indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: confidence: must be between 0 and 100, got 101",
		bad + ": indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: pattern: invalid STIX pattern at character 16: expected \"]\", found the end of the pattern",
		bad + ": indicator--9e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: warning: pattern: comparisons joined by AND refer to different object types (file and url); no single object can match",
		bad + ": x: id: \"x\" is not of the form <type>--<UUID>",
		bad + ": x: type: required property is missing",
	}
	slices.Sort(lines)
	if !slices.Equal(lines, want) {
		t.Fatalf("output:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if err := run(context.Background(), []string{"stix", "validate", "../../testdata/hub.yaml"}, io.Discard, io.Discard); err == nil {
		t.Fatal("a YAML file was accepted as a bundle")
	}
}

// TestServe_SIGHUPReloadsConfig starts the real binary, then changes who may
// read the law-enforcement collection and sends SIGHUP; an invalid config
// sent next is refused and the previous one stays in force. An
// organization signs its own token with its registered key.
func TestServe_SIGHUPReloadsConfig(t *testing.T) {
	dir, bin := buildBinary(t)
	cfgPath := writeConfig(t, dir)
	// ODNI registers an Ed25519 key and signs its own tokens.
	keyPath := writeOrgKey(t, dir, "odni")
	original, _ := os.ReadFile(cfgPath)
	withKey := strings.Replace(string(original), "    identity: identity--4056b917-7055-4830-8a96-7f6cca98cb32\n",
		"    identity: identity--4056b917-7055-4830-8a96-7f6cca98cb32\n    keys:\n      - kid: odni-2026\n        alg: EdDSA\n        public_key_file: "+filepath.Join(dir, "odni.pub")+"\n", 1)
	os.WriteFile(cfgPath, []byte(withKey), 0o600)

	token := issueWithBinary(t, bin, "--config", cfgPath, "--org", "odni", "--sub", "analyst", "--roles", "read", "--ttl", "1h", "--key", keyPath, "--kid", "odni-2026")

	hub := serveBinary(t, bin, cfgPath)
	cmd, base, waitLog := hub.cmd, hub.base, hub.waitLog
	status := func() int {
		req, _ := http.NewRequest(http.MethodGet, base+"/election2020/collections/law-enforcement/objects/", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := status(); got != http.StatusNotFound {
		t.Fatalf("ODNI on law-enforcement before the change = %d", got)
	}
	os.WriteFile(cfgPath, []byte(strings.Replace(withKey, "read: [fbi, dhs]", "read: [fbi, dhs, odni]", 1)), 0o600)
	cmd.Process.Signal(syscall.SIGHUP)
	waitLog("config reloaded")
	if got := status(); got != http.StatusOK {
		t.Fatalf("ODNI on law-enforcement after the reload = %d", got)
	}
	os.WriteFile(cfgPath, []byte("auth: {mode: sometimes}\n"), 0o600)
	cmd.Process.Signal(syscall.SIGHUP)
	waitLog("config reload refused")
	if got := status(); got != http.StatusOK {
		t.Fatalf("after a refused reload = %d; the previous config should stay", got)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
}

func TestTokenIssue_RefusesBadRequests(t *testing.T) {
	cfg := writeConfig(t, t.TempDir())
	for _, args := range [][]string{
		{"--org", "kgb", "--sub", "x"},
		{"--org", "fbi"},
		{"--org", "fbi", "--sub", "x", "--roles", "root"},
		{"--org", "fbi", "--sub", "x", "--ttl", "48h"},
		{"--org", "fbi", "--sub", "x", "--kid", "fbi-1"},
		{"--org", "fbi", "--sub", "x", "--key", "/nonexistent.pem", "--kid", "fbi-1"},
	} {
		err := run(context.Background(), append([]string{"token", "issue", "--config", cfg}, args...), io.Discard, io.Discard)
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("token issue %v: %v", args, err)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"apikey", "new", "--org", "fbi", "--name", "sentinel", "--roles", "read"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `hash: "$argon2id$v=19$`) || !strings.Contains(out.String(), "user fbi/sentinel") {
		t.Fatalf("apikey new printed:\n%s", out.String())
	}
}

func TestConfigCheck_ReadsOrganizationKeysAndTLSFiles(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir)
	text, _ := os.ReadFile(cfg)
	withKey := func(key string) string {
		return strings.Replace(string(text), "    identity: identity--4056b917-7055-4830-8a96-7f6cca98cb32\n",
			"    identity: identity--4056b917-7055-4830-8a96-7f6cca98cb32\n    keys:\n      - kid: odni-1\n        alg: EdDSA\n"+key, 1)
	}
	rsaPub := filepath.Join(dir, "rsa.pub")
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	pemBytes, _ := auth.PublicPEM(&rsaKey.PublicKey)
	os.WriteFile(rsaPub, pemBytes, 0o600)
	for name, tt := range map[string]struct{ config, want string }{
		"missing key file":   {withKey("        public_key_file: " + filepath.Join(dir, "nope.pub") + "\n"), "public_key_file"},
		"not PEM":            {withKey("        public_key: not a key\n"), "no PEM block"},
		"key of another alg": {withKey("        public_key_file: " + rsaPub + "\n"), "does not suit alg EdDSA"},
	} {
		os.WriteFile(cfg, []byte(tt.config), 0o600)
		err := run(context.Background(), []string{"config", "check", "--config", cfg}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", name, err, tt.want)
		}
	}
	// serve refuses TLS files it cannot read, before listening.
	tlsCfg := strings.Replace(string(text), "auth:\n", "tls: {cert: "+filepath.Join(dir, "no.crt")+", key: "+filepath.Join(dir, "no.key")+"}\nauth:\n", 1)
	os.WriteFile(cfg, []byte(tlsCfg), 0o600)
	if err := run(context.Background(), []string{"serve", "--config", cfg}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "tls") {
		t.Fatalf("serve with unreadable TLS files: %v", err)
	}
}
