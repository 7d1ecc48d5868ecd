package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taxiihub/taxiihub/auth"
	"github.com/taxiihub/taxiihub/internal/synth"
	"github.com/taxiihub/taxiihub/stix"
	"path/filepath"
	"regexp"
	"runtime"
)

// clientHub serves the sample config with the real binary: FBI has a
// Basic-only key (sentinel, an older secret without its name), a static key
// (elastic), and DHS a read-write key (misp). It holds n FBI indicators.
type clientHub struct {
	t                          *testing.T
	base, objects              string
	fbiToken                   string // a JWT
	sentinel, elastic, mispKey string
	collectionURL              string
}

func startClientHub(t *testing.T, n int) *clientHub {
	t.Helper()
	dir, bin := buildBinary(t)
	cfgPath := writeConfig(t, dir)
	h := &clientHub{t: t, sentinel: "thk_legacy-sentinel-secret"}
	var elasticHash, mispHash string
	h.elastic, elasticHash = auth.NewAPIKey("fbi", "elastic")
	h.mispKey, mispHash = auth.NewAPIKey("dhs", "misp")
	text, _ := os.ReadFile(cfgPath)
	cfg := strings.Replace(string(text), "    identity: identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f\n", fmt.Sprintf(`    identity: identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f
    api_keys:
      - {name: sentinel, hash: %q, roles: [read]}
      - {name: elastic, hash: %q, roles: [read]}
`, auth.HashAPIKey(h.sentinel), elasticHash), 1)
	cfg = strings.Replace(cfg, "    identity: identity--5c82c336-f7f2-41df-8bf4-748e2f3dd8f9\n", fmt.Sprintf(`    identity: identity--5c82c336-f7f2-41df-8bf4-748e2f3dd8f9
    api_keys:
      - {name: misp, hash: %q, roles: [read, write]}
`, mispHash), 1)
	cfg = strings.Replace(cfg, "max_content_length: 10485760", "max_content_length: 65536", 1)
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	h.fbiToken = issueWithBinary(t, bin, "--config", cfgPath, "--org", "fbi", "--sub", "clients", "--roles", "read,write", "--ttl", "1h")

	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	h.base = waitForURL(t, stderr)
	go io.Copy(io.Discard, stderr)
	h.collectionURL = h.base + "/election2020/collections/5f3c6a1e-8a43-4d0e-9c55-3c1f2b6f7a10/"
	h.objects = h.collectionURL + "objects/"
	for first := 0; first < n; first += 50 { // 50 indicators fit in 64 KiB
		h.post(synth.Envelope(first, min(50, n-first)), "Bearer "+h.fbiToken)
	}
	return h
}

func (h *clientHub) post(envelope []byte, authorization string) {
	h.t.Helper()
	res, err := postEnvelope(h.objects, authorization, bytes.NewReader(envelope))
	if err != nil || res.StatusCode != http.StatusAccepted {
		h.t.Fatalf("POST: %v %v", res, err)
	}
	res.Body.Close()
}

// page is one answer of a client's GET.
type page struct {
	status  int
	header  http.Header
	More    bool              `json:"more"`
	Next    string            `json:"next"`
	Objects []json.RawMessage `json:"objects"`
}

// get sends what a client sends: the URL, and its headers as name, value pairs.
func (h *clientHub) get(rawURL string, headers ...string) page {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	p := page{status: res.StatusCode, header: res.Header}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode == http.StatusOK {
		json.Unmarshal(body, &p)
	} else {
		h.t.Fatalf("GET %s = %d %s", rawURL, res.StatusCode, body)
	}
	return p
}

// seen records the ids a client received and fails on a repeat.
type seen map[string]bool

func (s seen) add(t *testing.T, p page) {
	t.Helper()
	for _, raw := range p.Objects {
		m, err := stix.ReadMeta(raw)
		if err != nil {
			t.Fatal(err)
		}
		key := m.ID + "@" + m.VersionText
		if s[key] {
			t.Fatalf("%s served twice", key)
		}
		s[key] = true
	}
}

func basic(user, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret))
}

// Each client's request pattern, replayed against the real binary.
func TestClients_EachClientsPattern(t *testing.T) {
	const n = 300
	h := startClientHub(t, n)

	t.Run("OASIS taxii2-client: Token scheme, as_pages re-sends filters and lowers its limit", func(t *testing.T) {
		got, auth := seen{}, []string{"Authorization", "Token " + h.fbiToken}
		q := url.Values{"match[type]": {"indicator"}, "limit": {"120"}}
		p := h.get(h.objects+"?"+q.Encode(), auth...)
		for {
			got.add(t, p)
			if !p.More {
				break
			}
			if len(p.Objects) < 120 { // a short page: as_pages asks for that many from then on
				q.Set("limit", fmt.Sprint(len(p.Objects)))
			} else {
				q.Set("limit", "77")
			}
			q.Set("next", p.Next)
			p = h.get(h.objects+"?"+q.Encode(), auth...)
		}
		if len(got) != n {
			t.Fatalf("saw %d of %d", len(got), n)
		}
	})

	t.Run("Microsoft Sentinel: Basic only, collection by UUID, look-back added_after, then polls", func(t *testing.T) {
		auth := []string{"Authorization", basic("fbi/sentinel", h.sentinel)}
		poll := func(since time.Time) seen {
			got := seen{}
			p := h.get(h.objects+"?added_after="+url.QueryEscape(since.UTC().Format(time.RFC3339Nano)), auth...)
			for got.add(t, p); p.More; got.add(t, p) {
				p = h.get(h.objects+"?next="+url.QueryEscape(p.Next), auth...)
			}
			return got
		}
		if got := poll(time.Now().Add(-24 * time.Hour)); len(got) != n {
			t.Fatalf("first poll: %d of %d", len(got), n)
		}
		since := time.Now() // the next poll's look-back
		h.post(synth.Envelope(n, 10), "Bearer "+h.fbiToken)
		if got := poll(since); len(got) != 10 {
			t.Fatalf("second poll: %d, want the 10 new", len(got))
		}
	})

	t.Run("Elastic CEL: static bearer key, next and limit only, X-TAXII-Date-Added-Last as its cursor", func(t *testing.T) {
		auth := []string{"Authorization", "Bearer " + h.elastic}
		got := seen{}
		p := h.get(h.objects+"?added_after=2020-01-01T00:00:00Z&limit=64", auth...)
		cursor := p.header.Get("X-TAXII-Date-Added-Last")
		for got.add(t, p); p.More; got.add(t, p) {
			p = h.get(h.objects+"?next="+url.QueryEscape(p.Next)+"&limit=64", auth...)
			cursor = p.header.Get("X-TAXII-Date-Added-Last")
		}
		if len(got) != n+10 || cursor == "" {
			t.Fatalf("saw %d of %d; cursor %q", len(got), n+10, cursor)
		}
		// The next interval finds nothing new, and keeps the cursor.
		p = h.get(h.objects+"?added_after="+url.QueryEscape(cursor)+"&limit=64", auth...)
		if len(p.Objects) != 0 || p.header.Get("X-TAXII-Date-Added-Last") != cursor {
			t.Fatalf("an empty page: %d objects, X-TAXII-Date-Added-Last %q, want %q", len(p.Objects), p.header.Get("X-TAXII-Date-Added-Last"), cursor)
		}
	})

	t.Run("OpenCTI: added_after with next, moved to each page's Last truncated to milliseconds", func(t *testing.T) {
		auth := []string{"Authorization", "Bearer " + h.fbiToken}
		got := seen{}
		after := "2020-01-01T00:00:00.000Z"
		p := h.get(h.objects+"?added_after="+after+"&limit=50", auth...)
		for got.add(t, p); p.More; got.add(t, p) {
			last, _ := stix.ParseTimestamp(p.header.Get("X-TAXII-Date-Added-Last"))
			after = last.Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
			p = h.get(h.objects+"?added_after="+after+"&next="+url.QueryEscape(p.Next)+"&limit=50", auth...)
		}
		if len(got) != n+10 {
			t.Fatalf("saw %d of %d", len(got), n+10)
		}
	})

	t.Run("MISP: lower-case basic, a Content-Type on GETs, limit=50; pushes split to max_content_length", func(t *testing.T) {
		auth := []string{"Authorization", "basic " + strings.TrimPrefix(basic("misp", h.mispKey), "Basic "), "Content-Type", "application/taxii+json;version=2.1"}
		p := h.get(h.objects+"?limit=50", auth...)
		if len(p.Objects) != 50 || !p.More {
			t.Fatalf("browsing: %d objects, more %v", len(p.Objects), p.More)
		}
		var root struct {
			MaxContentLength int `json:"max_content_length"`
		}
		req, _ := http.NewRequest(http.MethodGet, h.base+"/election2020/", nil)
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
		req.Header.Set("Authorization", basic("misp", h.mispKey))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(res.Body).Decode(&root)
		res.Body.Close()
		// 120 DHS objects, in envelopes under max_content_length, not waited for.
		var objs [][]byte
		for i := range 120 {
			objs = append(objs, bytes.ReplaceAll(synth.Indicator(5000+i), []byte("identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f"), []byte("identity--5c82c336-f7f2-41df-8bf4-748e2f3dd8f9")))
		}
		posts := 0
		for len(objs) > 0 {
			envelope := []byte(`{"objects":[`)
			for len(objs) > 0 && len(envelope)+len(objs[0])+3 < root.MaxContentLength {
				if envelope[len(envelope)-1] != '[' {
					envelope = append(envelope, ',')
				}
				envelope, objs = append(envelope, objs[0]...), objs[1:]
			}
			h.post(append(envelope, "]}"...), basic("dhs/misp", h.mispKey))
			posts++
		}
		if root.MaxContentLength != 65536 || posts < 2 {
			t.Fatalf("max_content_length %d, %d posts", root.MaxContentLength, posts)
		}
		if p := h.get(h.objects+"?limit=1000&added_after=2020-01-01T00:00:00Z", "Authorization", "Bearer "+h.fbiToken); len(p.Objects) != n+10+120 {
			t.Fatalf("%d objects after the push, want %d", len(p.Objects), n+10+120)
		}
	})

	t.Run("SIEMs: limit 15000 is clamped, not refused; an API key as the Basic password", func(t *testing.T) {
		p := h.get(h.objects+"?limit=15000", "Authorization", basic("fbi/sentinel", h.sentinel))
		if len(p.Objects) != 430 || p.More {
			t.Fatalf("%d objects, more %v", len(p.Objects), p.More)
		}
		p = h.get(h.objects+"?limit=15000", "Authorization", basic("whoever", h.elastic))
		if len(p.Objects) != 430 {
			t.Fatalf("the static key as a Basic password: %d objects", len(p.Objects))
		}
	})
}

// taxiihub push and pull, for members without a TAXII client, run as a
// user runs them against the real binary: push splits to the API root's
// max_content_length and reports each refusal; pull resumes after a kill
// and writes every object exactly once.
func TestPushAndPull(t *testing.T) {
	h := startClientHub(t, 0)
	_, taxiihub := buildBinary(t)
	env := append(os.Environ(), "TAXIIHUB_TOKEN="+h.fbiToken)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.json"), synth.Envelope(0, 300), 0o600)
	os.WriteFile(filepath.Join(dir, "b.json"), []byte(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--5d0092c5-5f74-4287-9642-33f4c354e56d"}]}`), 0o600)
	push := exec.Command(taxiihub, "push", "--url", h.collectionURL, dir)
	push.Env = env
	out, err := push.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "refused indicator--5d0092c5-5f74-4287-9642-33f4c354e56d: "+filepath.Join(dir, "b.json")+" objects[0]: pattern: required") ||
		!regexp.MustCompile(`301 objects in [3-9] envelopes: 300 accepted, 1 refused`).Match(out) {
		t.Fatalf("push: %v\n%s", err, out)
	}

	// A pull killed part-way, then run again, writes each object once.
	file := filepath.Join(t.TempDir(), "indicators.ndjson")
	pull := func() *exec.Cmd {
		c := exec.Command(taxiihub, "pull", "--url", h.collectionURL, "--out", file, "--limit", "1")
		c.Env = env
		return c
	}
	first := pull()
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if data, _ := os.ReadFile(file); bytes.Count(data, []byte("\n")) >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the pull wrote nothing")
		}
		runtime.Gosched()
	}
	first.Process.Kill()
	first.Wait()
	if data, _ := os.ReadFile(file); bytes.Count(data, []byte("\n")) >= 300 {
		t.Fatal("the pull ended before it could be killed")
	}
	if out, err := pull().CombinedOutput(); err != nil {
		t.Fatalf("the second pull: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(file)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	got := seen{}
	for _, line := range lines {
		got.add(t, page{Objects: []json.RawMessage{json.RawMessage(line)}})
	}
	if len(got) != 300 {
		t.Fatalf("pulled %d objects, want 300", len(got))
	}
	// Again: nothing new, nothing written twice.
	if out, err := pull().CombinedOutput(); err != nil || !strings.Contains(string(out), "pulled 0 objects") {
		t.Fatalf("a third pull: %v\n%s", err, out)
	}

	// To standard output, and as STIX bundles in a directory.
	toStdout := exec.Command(taxiihub, "pull", "--url", h.collectionURL, "--out", "-", "--limit", "120")
	toStdout.Env = env
	if out, err := toStdout.Output(); err != nil || bytes.Count(out, []byte("\n")) != 300 {
		t.Fatalf("pull to stdout: %v, %d lines", err, bytes.Count(out, []byte("\n")))
	}
	bundles := t.TempDir()
	toDir := exec.Command(taxiihub, "pull", "--url", h.collectionURL, "--out", bundles, "--limit", "120")
	toDir.Env = env
	if out, err := toDir.CombinedOutput(); err != nil {
		t.Fatalf("pull to a directory: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(bundles, "page-*.json"))
	inBundles := seen{}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		b, err := stix.ParseEnvelope(data)
		if err != nil || !bytes.HasPrefix(data, []byte(`{"type":"bundle","id":"bundle--`)) {
			t.Fatalf("%s: %v", f, err)
		}
		inBundles.add(t, page{Objects: b.Objects})
	}
	if len(files) != 3 || len(inBundles) != 300 {
		t.Fatalf("%d bundles with %d objects", len(files), len(inBundles))
	}
}

// Bad input to pull and push says what is wrong before anything is sent or
// written: a state file of another pull, an object too large for the
// server, nothing to push.
func TestPullAndPushRefuseBadInput(t *testing.T) {
	t.Setenv(tokenEnv, "t")
	c, err := clientFor("https://hub.example/election2020/collections/indicators/", "", "")
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "out.state")
	os.WriteFile(state, []byte(`{"url":"https://other.example/r/collections/c/","added_after":"2020-01-01T00:00:00Z"}`), 0o600)
	if err := pull(context.Background(), c, "", bundleDir(t.TempDir()), state, 10, io.Discard); err == nil || !strings.Contains(err.Error(), "not the state of a pull of") {
		t.Fatalf("another pull's state: %v", err)
	}
	if _, _, err := envelopesUnder([]json.RawMessage{json.RawMessage(`{"type":"x-big","id":"x-big--1","x_pad":"` + strings.Repeat("a", 200) + `"}`)}, 100); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Fatalf("an object over max_content_length: %v", err)
	}
	if _, _, err := envelopesUnder(nil, 100); err == nil {
		t.Fatal("nothing to push was accepted")
	}
	for _, u := range []string{"ftp://hub.example/r/collections/c/", "https://hub.example/r/"} {
		if _, err := clientFor(u, "", ""); err == nil {
			t.Errorf("%s was taken for a collection's URL", u)
		}
	}
}
