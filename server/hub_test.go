package server_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taxiihub/taxiihub/auth"
	"github.com/taxiihub/taxiihub/config"
	"github.com/taxiihub/taxiihub/server"
	"github.com/taxiihub/taxiihub/store"
	"github.com/taxiihub/taxiihub/store/boltstore"
	"github.com/taxiihub/taxiihub/store/storetest"
)

const (
	indicatorsID = "5f3c6a1e-8a43-4d0e-9c55-3c1f2b6f7a10"
	root         = "/election2020/"
	objectsPath  = root + "collections/" + indicatorsID + "/objects/"
	manifestPath = root + "collections/" + indicatorsID + "/manifest/"
)

// hub is a real hub over real HTTP, on a bbolt file in a temp dir.
type hub struct {
	t        testing.TB
	url      string
	dbPath   string
	key      []byte
	srv      *httptest.Server
	server   *server.Server
	store    *boltstore.Store
	cfg      *config.Config
	hubKey   ed25519.PrivateKey // signs tokens
	auditKey ed25519.PrivateKey // signs checkpoints

	storeClosed bool
}

type hubOption func(*hubSetup)

type hubSetup struct {
	cfg       *config.Config
	authn     auth.Authenticator // nil: the Authority of cfg
	hubKey    ed25519.PrivateKey
	wrapStore func(store.Store) store.Store
	log       io.Writer // the hub's log, as JSON; nil: discarded
}

// withStore wraps the real store, to inject a failure.
func withStore(wrap func(store.Store) store.Store) hubOption {
	return func(s *hubSetup) { s.wrapStore = wrap }
}

func withConfig(mutate func(*config.Config)) hubOption {
	return func(s *hubSetup) { mutate(s.cfg) }
}

func withAuthenticator(a auth.Authenticator) hubOption {
	return func(s *hubSetup) { s.authn = a }
}

// withLog sends the hub's log to w, as JSON lines.
func withLog(w io.Writer) hubOption {
	return func(s *hubSetup) { s.log = w }
}

// logLines is a hub's log, written by its handlers and read by a test.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// waitFor returns the first line containing s, waiting for it a while (a
// request's line is written after its response has left).
func (l *logLines) waitFor(t *testing.T, s string) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		l.mu.Lock()
		lines := strings.Split(l.buf.String(), "\n")
		l.mu.Unlock()
		for _, line := range lines {
			if strings.Contains(line, s) {
				return line
			}
		}
	}
	t.Fatalf("no log line contains %s", s)
	return ""
}

// testConfig is testdata/hub.yaml, the sample config the README shows,
// with authentication off: tests of access use withTokens.
func testConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Load("../testdata/hub.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Auth.Mode = "none"
	return cfg
}

func newHub(t testing.TB, opts ...hubOption) *hub {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	_, hubKey, _ := ed25519.GenerateKey(rand.Reader)
	_, auditKey, _ := ed25519.GenerateKey(rand.Reader)
	h := &hub{t: t, dbPath: filepath.Join(t.TempDir(), "hub.db"), key: key, hubKey: hubKey, auditKey: auditKey}
	h.start(opts...)
	return h
}

// start opens the store and serves it; restart closes both and starts again
// on the same file and key.
func (h *hub) start(opts ...hubOption) {
	t := h.t
	setup := &hubSetup{cfg: testConfig(t), hubKey: h.hubKey}
	for _, o := range opts {
		o(setup)
	}
	authority, err := auth.New(setup.cfg, h.hubKey.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	authn := setup.authn
	if authn == nil {
		authn = authority
	}
	st, err := boltstore.Open(h.dbPath, boltstore.Options{AuditKey: h.auditKey})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if setup.log != nil {
		logger = slog.New(slog.NewJSONHandler(setup.log, nil))
	}
	var served store.Store = st
	if setup.wrapStore != nil {
		served = setup.wrapStore(st)
	}
	srv, err := server.New(setup.cfg, server.Options{
		Store: served, Authenticator: authn, Policy: authority, CursorKey: h.key,
		AuditKey: h.auditKey.Public().(ed25519.PublicKey), TokenKey: h.hubKey.Public().(ed25519.PublicKey),
		Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.store, h.cfg, h.server, h.storeClosed = st, setup.cfg, srv, false
	h.srv = httptest.NewServer(srv)
	h.url = h.srv.URL
	t.Cleanup(h.stop)
}

// stop closes the server and the store, checking what the test left
// behind: the audit log verifies, the indexes agree with the objects.
func (h *hub) stop() {
	if h.srv != nil {
		h.srv.Close()
		h.closeStore()
		h.srv = nil
	}
}

// closeStore checks the store and closes it, once, while the server may
// still answer (as a hub whose store went away).
func (h *hub) closeStore() {
	if h.storeClosed {
		return
	}
	storetest.Check(h.t, h.store, []ed25519.PublicKey{h.auditKey.Public().(ed25519.PublicKey)})
	h.store.Close()
	h.storeClosed = true
}

func (h *hub) restart(opts ...hubOption) {
	h.stop()
	h.start(opts...)
}

// response is a read HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
}

// noRedirects shows a test every redirect instead of following it: the hub
// must answer each path itself.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// do sends a request; headers are name, value pairs. Unless given, Accept
// is TAXII 2.1 and a body's Content-Type is too.
func (h *hub) do(method, path string, body []byte, headers ...string) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	if body != nil {
		req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	res, err := noRedirects.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

func (h *hub) get(path string, headers ...string) response {
	h.t.Helper()
	return h.do(http.MethodGet, path, nil, headers...)
}

// post posts an envelope and requires a 202 with a status resource.
func (h *hub) post(path string, body []byte) status {
	h.t.Helper()
	res := h.do(http.MethodPost, path, body)
	if res.status != http.StatusAccepted {
		h.t.Fatalf("POST %s = %d %s", path, res.status, res.body)
	}
	var st status
	res.json(h.t, &st)
	return st
}

// envelope is a decoded TAXII envelope.
type envelope struct {
	More    bool              `json:"more"`
	Next    string            `json:"next"`
	Objects []json.RawMessage `json:"objects"`
}

type status struct {
	ID           string   `json:"id"`
	Status       string   `json:"status"`
	RequestTime  string   `json:"request_timestamp"`
	TotalCount   int      `json:"total_count"`
	SuccessCount int      `json:"success_count"`
	FailureCount int      `json:"failure_count"`
	PendingCount int      `json:"pending_count"`
	Successes    []detail `json:"successes"`
	Failures     []detail `json:"failures"`
}

type detail struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message"`
}

// errorBody checks that res is a TAXII error resource with the given status
// and returns its description.
func errorBody(t *testing.T, res response, want int) string {
	t.Helper()
	if res.status != want {
		t.Fatalf("status = %d, want %d; body %s", res.status, want, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/taxii+json;version=2.1" {
		t.Fatalf("error Content-Type = %q", ct)
	}
	var e struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		HTTPStatus  string `json:"http_status"`
	}
	res.json(t, &e)
	if e.Title == "" || e.HTTPStatus != strconv.Itoa(want) {
		t.Fatalf("error resource %s: want a title and http_status %q", res.body, strconv.Itoa(want))
	}
	return e.Description
}

// envelopeOf wraps raw objects in an envelope.
func envelopeOf(objs ...string) []byte {
	return []byte(`{"objects":[` + strings.Join(objs, ",") + `]}`)
}

// indicator is a small valid indicator at version modified.
func indicator(id, modified string) string {
	return `{"type":"indicator","spec_version":"2.1","id":"` + id + `","created":"2020-01-01T00:00:00.000Z","modified":"` + modified +
		`","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"}`
}

// numberedIndicators are n indicators at v1, the i-th with id
// indicator--0000000i-1111-4111-8111-111111111111.
func numberedIndicators(n int) []string {
	objs := make([]string, n)
	for i := range objs {
		objs[i] = indicator(fmt.Sprintf("indicator--%08d-1111-4111-8111-111111111111", i), v1)
	}
	return objs
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
