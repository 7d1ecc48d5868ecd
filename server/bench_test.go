package server_test

import (
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/taxiihub/taxiihub/internal/synth"
)

func loadHub(b *testing.B, n int) *hub {
	h := newHub(b)
	for first := 0; first < n; first += 1000 {
		h.post(objectsPath, synth.Envelope(first, min(1000, n-first)))
	}
	return h
}

// BenchmarkPostEnvelope posts envelopes of 1,000 indicators over HTTP.
func BenchmarkPostEnvelope(b *testing.B) {
	h := newHub(b)
	var next atomic.Int64
	b.ResetTimer()
	for b.Loop() {
		first := int(next.Add(1000))
		st := h.post(objectsPath, synth.Envelope(first, 1000))
		if st.SuccessCount != 1000 {
			b.Fatalf("status %+v", st)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkPollCollection follows next through the whole collection at
// limit=1000, as a liaison's scheduled pull does.
func BenchmarkPollCollection(b *testing.B) {
	n := synth.BenchObjects()
	h := loadHub(b, n)
	b.ResetTimer()
	for b.Loop() {
		path := objectsPath + "?limit=1000"
		total := 0
		for {
			res := h.get(path)
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
}

// BenchmarkGetObject fetches single objects by id over HTTP.
func BenchmarkGetObject(b *testing.B) {
	n := synth.BenchObjects()
	h := loadHub(b, n)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if res := h.get(objectsPath + synth.ID(i*7919%n) + "/"); res.status != http.StatusOK {
			b.Fatalf("GET = %d", res.status)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}
