package server_test

import (
	"context"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/internal/synth"
	"github.com/taxiihub/taxiihub/store"
)

// auditOff is the real store with the audit log switched off, to measure
// what the log costs.
type auditOff struct{ store.Store }

func (a auditOff) Add(ctx context.Context, collection string, by store.Author, objs []store.Object, st *store.Status, _ *audit.Record) error {
	return a.Store.Add(ctx, collection, by, objs, st, nil)
}

func (auditOff) Audit(context.Context, *audit.Record) error { return nil }

// eachAuditMode runs bench with the audit log on, then off; both with
// authentication on, as a production hub runs.
func eachAuditMode(b *testing.B, bench func(b *testing.B, opts ...hubOption)) {
	b.Run("audit=on", func(b *testing.B) { bench(b, withTokens(newOrgKeys(b))) })
	b.Run("audit=off", func(b *testing.B) {
		bench(b, withTokens(newOrgKeys(b)), withStore(func(s store.Store) store.Store { return auditOff{s} }))
	})
}

// benchHub is a hub for benchmarks, and the FBI token (the synthetic
// indicators are FBI-authored) they send.
func benchHub(b *testing.B, opts ...hubOption) (*hub, []string) {
	h := newHub(b, opts...)
	return h, hubToken(b, h, "fbi", "read", "write")
}

// postAs posts an envelope as token and requires a 202.
func (h *hub) postAs(token []string, path string, body []byte) status {
	h.t.Helper()
	res := h.do(http.MethodPost, path, body, token...)
	if res.status != http.StatusAccepted {
		h.t.Fatalf("POST %s = %d %s", path, res.status, res.body)
	}
	var st status
	res.json(h.t, &st)
	return st
}

func loadHub(b *testing.B, n int, opts ...hubOption) (*hub, []string) {
	h, token := benchHub(b, opts...)
	for first := 0; first < n; first += 1000 {
		h.postAs(token, objectsPath, synth.RealisticEnvelope(first, min(1000, n-first)))
	}
	return h, token
}

// BenchmarkPostEnvelope posts envelopes of 1,000 indicators over HTTP.
func BenchmarkPostEnvelope(b *testing.B) {
	eachAuditMode(b, func(b *testing.B, opts ...hubOption) {
		h, token := benchHub(b, opts...)
		var next atomic.Int64
		b.ResetTimer()
		for b.Loop() {
			first := int(next.Add(1000))
			st := h.postAs(token, objectsPath, synth.RealisticEnvelope(first, 1000))
			if st.SuccessCount != 1000 {
				b.Fatalf("status %+v", st)
			}
		}
		b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "objects/s")
	})
}

// BenchmarkPollCollection follows next through the whole collection at
// limit=1000, as a liaison's scheduled pull does.
func BenchmarkPollCollection(b *testing.B) {
	eachAuditMode(b, func(b *testing.B, opts ...hubOption) {
		n := synth.BenchObjects()
		h, token := loadHub(b, n, opts...)
		b.ResetTimer()
		for b.Loop() {
			path := objectsPath + "?limit=1000"
			total := 0
			for {
				res := h.get(path, token...)
				var env envelope
				res.json(b, &env)
				total += len(env.Objects)
				if !env.More {
					break
				}
				path = objectsPath + "?next=" + url.QueryEscape(env.Next)
			}
			if total != n {
				b.Fatalf("polled %d of %d", total, n)
			}
		}
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "objects/s")
	})
}

// BenchmarkGetObject fetches single objects by id over HTTP.
func BenchmarkGetObject(b *testing.B) {
	eachAuditMode(b, func(b *testing.B, opts ...hubOption) {
		n := synth.BenchObjects()
		h, token := loadHub(b, n, opts...)
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if res := h.get(objectsPath+synth.RealisticID(i*7919%n)+"/", token...); res.status != http.StatusOK {
				b.Fatalf("GET = %d", res.status)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
	})
}
