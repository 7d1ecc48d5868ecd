package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
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
	return path
}

func TestConfigCheck(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"config", "check", "--config", "../../testdata/hub.yaml"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "ok (1 API roots, 2 collections)") {
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

var servingURL = regexp.MustCompile(`"url":"(http://[^"]+)/taxii2/"`)

// TestServe_RealBinary builds taxiihub, serves the sample config, posts and
// reads a bundle, and stops it with SIGTERM; a second start finds the data.
func TestServe_RealBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "taxiihub")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := writeConfig(t, dir)
	bundle, err := os.ReadFile("../../testdata/bundles/election-sample.json")
	if err != nil {
		t.Fatal(err)
	}
	objects := "/election2020/collections/indicators/objects/"

	for round := range 2 {
		cmd := exec.Command(bin, "serve", "--config", cfg)
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		base := waitForURL(t, stderr)
		if round == 0 {
			req, _ := http.NewRequest(http.MethodPost, base+objects, bytes.NewReader(bundle))
			req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != http.StatusAccepted {
				t.Fatalf("POST: %v %v", res, err)
			}
			res.Body.Close()
		}
		res, err := http.Get(base + objects)
		if err != nil {
			t.Fatal(err)
		}
		var env struct{ Objects []json.RawMessage }
		json.NewDecoder(res.Body).Decode(&env)
		res.Body.Close()
		if len(env.Objects) != 8 { // nine posted, two of them versions of one indicator
			t.Fatalf("round %d: %d objects", round, len(env.Objects))
		}
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("round %d: exit after SIGTERM: %v", round, err)
		}
	}
	for path, want := range map[string]os.FileMode{"data": 0o700, "data/cursor.key": 0o600, "data/hub.db": 0o600} {
		fi, err := os.Stat(filepath.Join(dir, path))
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode().Perm(), err, want)
		}
	}
}

// waitForURL reads the hub's log until it says where it serves.
func waitForURL(t *testing.T, stderr io.Reader) string {
	t.Helper()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := servingURL.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
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
