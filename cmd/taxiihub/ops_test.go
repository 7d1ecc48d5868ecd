package main

import (
	"bufio"
	"bytes"
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

	"github.com/taxiihub/taxiihub/internal/synth"
)

// TestDemo_SubprocessServesTakesBackupsAndStopsCleanly runs `taxiihub demo`
// as a user would, then: pulls objects with a printed token, takes a backup
// with the backup command and verifies it offline, and stops the hub with
// SIGTERM while a POST is still being sent; the POST completes and the
// process exits 0. Last, a hub started on the backup serves it.
func TestDemo_SubprocessServesTakesBackupsAndStopsCleanly(t *testing.T) {
	dir, bin := buildBinary(t)
	demoDir := filepath.Join(dir, "demo")
	cmd := exec.Command(bin, "demo", "--dir", demoDir, "--listen", "127.0.0.1:0", "--testdata", "../../testdata")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	text, base := readUntil(t, stdout, demoURL)
	go io.Copy(io.Discard, stdout)
	token := fbiTokenLine.FindStringSubmatch(text)
	if token == nil {
		t.Fatalf("no FBI token in:\n%s", text)
	}
	get := func(path string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token[1])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, body
	}
	if status, _ := get("/readyz"); status != 200 {
		t.Fatalf("readyz = %d", status)
	}
	status, body := get("/election2020/collections/")
	if status != 200 || !strings.Contains(string(body), "law-enforcement") {
		t.Fatalf("collections = %d %s", status, body)
	}
	status, body = get("/election2020/collections/indicators/objects/")
	var env struct{ Objects []json.RawMessage }
	json.Unmarshal(body, &env)
	if status != 200 || len(env.Objects) == 0 {
		t.Fatalf("objects = %d, %d objects", status, len(env.Objects))
	}

	admin := issueWithBinary(t, bin, "--config", filepath.Join(demoDir, "hub.yaml"), "--org", "oversight", "--sub", "ops", "--roles", "admin", "--ttl", "1h")
	copyPath := filepath.Join(dir, "copy.db")
	tokenFile := filepath.Join(dir, "admin.token")
	os.WriteFile(tokenFile, []byte(admin+"\n"), 0o600)
	if out, err := exec.Command(bin, "backup", "--url", base, "--token-file", tokenFile, "--out", copyPath).CombinedOutput(); err != nil || !strings.Contains(string(out), "saved") {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	// An auditor verifies the copy with the audit key's public key alone.
	pubKey, err := exec.Command(bin, "audit", "key", "--config", filepath.Join(demoDir, "hub.yaml")).Output()
	if err != nil || !strings.Contains(string(pubKey), "BEGIN PUBLIC KEY") {
		t.Fatalf("audit key: %v\n%s", err, pubKey)
	}
	auditor := t.TempDir()
	os.WriteFile(filepath.Join(auditor, "audit.pub"), pubKey, 0o600)
	os.Rename(copyPath, filepath.Join(auditor, "copy.db"))
	out, err := exec.Command(bin, "audit", "verify", "--db", filepath.Join(auditor, "copy.db"), "--key", filepath.Join(auditor, "audit.pub")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "verified") {
		t.Fatalf("audit verify of the copy: %v\n%s", err, out)
	}
	copyPath = filepath.Join(auditor, "copy.db")

	// A POST in flight when SIGTERM arrives still completes.
	pr, pw := io.Pipe()
	done := make(chan *http.Response, 1)
	go func() {
		res, err := postEnvelope(base+"/election2020/collections/indicators/objects/", "Bearer "+token[1], pr)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	envelope := synth.Envelope(5_000_000, 50)
	pw.Write(envelope[:len(envelope)/2])
	time.Sleep(200 * time.Millisecond) // the request is being read
	cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	pw.Write(envelope[len(envelope)/2:])
	pw.Close()
	res := <-done
	if res == nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("the in-flight POST: %v", res)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}

	// The copy serves: a hub whose data_dir holds it (with the hub's keys).
	restored := filepath.Join(dir, "restored")
	os.MkdirAll(restored, 0o700)
	for name, from := range map[string]string{"hub.db": copyPath, "hub.key": filepath.Join(demoDir, "data", "hub.key"), "audit.key": filepath.Join(demoDir, "data", "audit.key"), "cursor.key": filepath.Join(demoDir, "data", "cursor.key")} {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(restored, name), data, 0o600)
	}
	cfgText, _ := os.ReadFile(filepath.Join(demoDir, "hub.yaml"))
	cfgText = dataDirLine.ReplaceAll(cfgText, []byte("data_dir: "+restored))
	cfgText = listenLine.ReplaceAll(cfgText, []byte("listen: 127.0.0.1:0"))
	restoredCfg := filepath.Join(dir, "restored.yaml")
	os.WriteFile(restoredCfg, cfgText, 0o600)
	serve := exec.Command(bin, "serve", "--config", restoredCfg)
	stderr, _ := serve.StderrPipe()
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer serve.Process.Kill()
	restoredBase := waitForURL(t, stderr)
	go io.Copy(io.Discard, stderr)
	if objs := fetchObjects(t, restoredBase+"/election2020/collections/indicators/objects/", "Bearer "+token[1]); len(objs) == 0 {
		t.Fatal("the restored copy serves no objects")
	}
	serve.Process.Signal(syscall.SIGTERM)
	if err := serve.Wait(); err != nil {
		t.Fatalf("restored hub exit: %v", err)
	}
}

var logLine = regexp.MustCompile(`"msg":"request"`)

// TestServe_LogsOneLinePerRequest checks the request log of the real binary.
func TestServe_LogsOneLinePerRequest(t *testing.T) {
	dir, bin := buildBinary(t)
	cfg := writeConfig(t, dir)
	logPath := filepath.Join(dir, "hub.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "serve", "--config", cfg)
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		text, _ := os.ReadFile(logPath)
		if m := servingURL.FindStringSubmatch(string(text)); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatal("the hub did not start")
	}
	http.Get(base + "/taxii2/")
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	text, _ := os.ReadFile(logPath)
	var line map[string]any
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		if logLine.MatchString(sc.Text()) {
			json.Unmarshal(sc.Bytes(), &line)
		}
	}
	if line == nil || line["status"] != float64(401) || line["request_id"] == nil || line["request_id"] == "" || line["latency_ms"] == nil || line["path"] != "/taxii2/" {
		t.Fatalf("request line = %v\nlog:\n%s", line, text)
	}
}
