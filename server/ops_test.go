package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/taxiihub/taxiihub/config"

	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/internal/synth"
	"github.com/taxiihub/taxiihub/store"
	"github.com/taxiihub/taxiihub/store/boltstore"
	"github.com/taxiihub/taxiihub/store/storetest"
)

func TestProbes_NeedNoTokenAndAreNotAudited(t *testing.T) {
	h := newHub(t, withTokens(newOrgKeys(t)))
	for _, path := range []string{"/healthz", "/readyz"} {
		res := h.do(http.MethodGet, path, nil, "Accept", "")
		if res.status != 200 || bytes.Contains(res.body, []byte("indicator")) {
			t.Fatalf("GET %s = %d %s", path, res.status, res.body)
		}
	}
	if n := len(storetest.Records(t, h.store)); n != 0 {
		t.Fatalf("probes left %d audit records", n)
	}
	h.closeStore()
	if res := h.get("/readyz"); res.status != http.StatusServiceUnavailable {
		t.Fatalf("readyz on a closed store = %d", res.status)
	}
	if res := h.get("/healthz"); res.status != http.StatusOK {
		t.Fatalf("healthz = %d", res.status)
	}
}

// TestBackup_DuringWritesOpensAndVerifies takes a backup over HTTP while
// clients post; the copy opens, its audit chain verifies, and every object
// its audit log says was stored is in it.
func TestBackup_DuringWritesOpensAndVerifies(t *testing.T) {
	h := newHub(t, withTokens(newOrgKeys(t)))
	admin := hubToken(t, h, "oversight", "admin")
	fbi := hubToken(t, h, "fbi", "read", "write")
	errorBody(t, h.get("/admin/backup", fbi...), http.StatusForbidden)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				h.do(http.MethodPost, objectsPath, synth.Envelope((w*1000+i)*10, 10), fbi...)
			}
		})
	}
	h.do(http.MethodPost, objectsPath, synth.Envelope(1_000_000, 10), fbi...)
	res := h.get("/admin/backup", admin...)
	close(stop)
	wg.Wait()
	if res.status != 200 || len(res.body) == 0 {
		t.Fatalf("backup = %d, %d bytes", res.status, len(res.body))
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, res.body, 0o600); err != nil {
		t.Fatal(err)
	}
	cp, err := boltstore.Open(path, boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	vres, err := audit.Verify(store.AuditLog(context.Background(), cp), audit.VerifyOptions{Keys: []ed25519.PublicKey{h.auditKey.Public().(ed25519.PublicKey)}})
	if err != nil || vres.Records == 0 {
		t.Fatalf("the copy's audit log: %+v, %v", vres, err)
	}
	stored := map[string]bool{}
	for _, r := range storetest.Records(t, cp) {
		for _, o := range r.Stored {
			stored[o.ID] = true
		}
	}
	found := 0
	q := store.Query{Limit: 100000, Versions: store.VersionMatch{All: true}}
	err = cp.Query(context.Background(), indicatorsID, q, func(p store.Page) error {
		for _, e := range p.Entries {
			if !stored[e.ID] {
				return fmt.Errorf("%s is in the copy without its audit record", e.ID)
			}
			found++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found != len(stored) || found < 10 {
		t.Fatalf("the copy has %d objects, its audit log names %d", found, len(stored))
	}
}

func TestMetrics(t *testing.T) {
	h := newHub(t, withTokens(newOrgKeys(t)))
	fbi := hubToken(t, h, "fbi", "read", "write")
	h.do(http.MethodPost, objectsPath, envelopeOf(indicator(ind1, v1), indicator(ind2, v1), `{"type":"indicator"}`), fbi...)
	h.get(objectsPath, fbi...)
	h.get(strings.TrimSuffix(objectsPath, "/"), bearer(sign(t, jwt.SigningMethodEdDSA, "hub", claims("fbi", func(c jwt.MapClaims) {
		c["iat"], c["nbf"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
	}), h.hubKey))...)
	res := h.get("/metrics", hubToken(t, h, "oversight", "admin")...)
	if res.status != 200 {
		t.Fatalf("metrics = %d", res.status)
	}
	for _, want := range []string{
		`taxiihub_http_requests_total{code="200",method="GET",route="/:root/collections/:collection/objects"} 1`,
		`taxiihub_http_requests_total{code="202",method="POST",route="/:root/collections/:collection/objects"} 1`,
		`taxiihub_http_request_duration_seconds_bucket{route="/:root/collections/:collection/objects",le="+Inf"} 3`,
		`taxiihub_objects{collection="` + indicatorsID + `"} 2`,
		`taxiihub_ingest_refused_objects_total{collection="` + indicatorsID + `"} 1`,
		`taxiihub_auth_refusals_total{reason="expired"} 1`,
		`taxiihub_store_bytes `,
		`go_goroutines `,
	} {
		if !strings.Contains(string(res.body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// A client picks its request's method: methods HTTP does not define share
// one label value, so that a stream of made-up ones cannot grow the
// metrics (each label value is a series the hub keeps until it stops).
func TestMetrics_MadeUpMethodsShareOneLabel(t *testing.T) {
	h := newHub(t, withTokens(newOrgKeys(t)))
	fbi := hubToken(t, h, "fbi", "read")
	for i := range 20 {
		if res := h.do(fmt.Sprintf("MADEUP%d", i), objectsPath, nil, fbi...); res.status != http.StatusMethodNotAllowed {
			t.Fatalf("MADEUP%d = %d", i, res.status)
		}
	}
	res := h.get("/metrics", hubToken(t, h, "oversight", "admin")...)
	if strings.Contains(string(res.body), "MADEUP") {
		t.Fatal("a made-up method became a metrics label")
	}
	want := `taxiihub_http_requests_total{code="405",method="other",route="/:root/collections/:collection/objects"} 20`
	if !strings.Contains(string(res.body), want) {
		t.Fatalf("metrics lack %s", want)
	}
}

// The log line bounds what the client chose, as the audit record does: a
// method of 2,000 letters is logged as its first few, a path of 20,000
// bytes as its start, marked cut.
func TestLogLine_BoundsTheMethodAndPath(t *testing.T) {
	var log logLines
	h := newHub(t, withTokens(newOrgKeys(t)), withLog(&log))
	method, path := strings.Repeat("M", 2000), objectsPath+strings.Repeat("p", 20000)+"/"
	if res := h.do(method, path, nil); res.status != http.StatusMethodNotAllowed {
		t.Fatalf("%d-letter method = %d", len(method), res.status)
	}
	var line struct{ Method, Path string }
	if err := json.Unmarshal([]byte(log.waitFor(t, `"msg":"request"`)), &line); err != nil {
		t.Fatal(err)
	}
	if line.Method == "" || len(line.Method) > audit.MaxMethod {
		t.Fatalf("logged method of %d bytes; want 1 to %d", len(line.Method), audit.MaxMethod)
	}
	kept, cut := strings.CutSuffix(line.Path, "…")
	if !cut || !strings.HasPrefix(path, kept) || len(line.Path) > audit.MaxField || len(kept) < len(objectsPath) {
		t.Fatalf("logged path of %d bytes; want the start of the %d sent, marked cut, at most %d", len(line.Path), len(path), audit.MaxField)
	}
}

// With metrics.access: loopback, /metrics is for the hub's own machine:
// not for a remote client, nor for one a same-host proxy forwards.
func TestMetrics_LoopbackAccess(t *testing.T) {
	h := newHub(t, withTokens(newOrgKeys(t), func(c *config.Config) {
		c.Metrics.Access = "loopback"
		c.TrustedProxies = []string{"127.0.0.1"}
	}))
	if res := h.get("/metrics"); res.status != 200 {
		t.Fatalf("metrics for a loopback client = %d", res.status)
	}
	errorBody(t, h.get("/metrics", "X-Forwarded-For", "10.1.2.3"), http.StatusForbidden)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.RemoteAddr = "10.1.2.3:40000"
	h.server.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("metrics for a remote client = %d", rec.Code)
	}
	// Profiles are never served without the admin role, loopback or not.
	errorBody(t, h.get("/debug/pprof/heap"), http.StatusUnauthorized)
	// Every /metrics request is recorded, the refused ones too.
	found := 0
	for _, r := range storetest.Records(t, h.store) {
		if r.Path == "/metrics" && r.Action == audit.ActionAdmin {
			found++
		}
	}
	if found != 3 {
		t.Fatalf("%d audit records of /metrics requests, want 3", found)
	}
}

func TestProfiles(t *testing.T) {
	h := newHub(t, withTokens(newOrgKeys(t)))
	admin := hubToken(t, h, "oversight", "admin")
	res := h.get("/debug/pprof/heap?debug=1", admin...)
	if res.status != 200 || !strings.Contains(string(res.body), "heap profile") {
		t.Fatalf("heap profile = %d %.200s", res.status, res.body)
	}
	if res := h.get("/debug/pprof/profile?seconds=1", admin...); res.status != 200 || len(res.body) == 0 {
		t.Fatalf("CPU profile = %d, %d bytes", res.status, len(res.body))
	}
	errorBody(t, h.get("/debug/pprof/goroutine"), http.StatusUnauthorized)
	// Profiles are audited as admin actions.
	found := 0
	for _, r := range storetest.Records(t, h.store) {
		if strings.HasPrefix(r.Path, "/debug/pprof/") && r.Action == audit.ActionAdmin {
			found++
		}
	}
	if found != 3 {
		t.Fatalf("%d audit records of profile requests, want 3", found)
	}
}

func TestMetrics_AdminAccess(t *testing.T) {
	h := newHub(t, withTokens(newOrgKeys(t), func(c *config.Config) { c.Metrics.Access = "admin" }))
	errorBody(t, h.get("/metrics"), http.StatusUnauthorized)
	errorBody(t, h.get("/metrics", hubToken(t, h, "fbi", "read")...), http.StatusForbidden)
	if res := h.get("/metrics", hubToken(t, h, "oversight", "admin")...); res.status != 200 {
		t.Fatalf("metrics for an admin = %d", res.status)
	}
	errorBody(t, h.get("/debug/pprof/heap", hubToken(t, h, "fbi", "read")...), http.StatusForbidden)
	if res := h.get("/debug/pprof/heap", hubToken(t, h, "oversight", "admin")...); res.status != 200 {
		t.Fatalf("heap profile for an admin = %d", res.status)
	}
}
