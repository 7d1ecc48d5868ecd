package boltstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/internal/synth"
	"github.com/taxiihub/taxiihub/stix"
	"github.com/taxiihub/taxiihub/store"
)

func synthObjects(b *testing.B, first, count int) []store.Object {
	objs := make([]store.Object, count)
	for i := range objs {
		raw := synth.Realistic(first + i)
		m, problems := stix.Validate(raw, stix.Options{})
		if err := stix.Err(problems); err != nil {
			b.Fatal(err)
		}
		objs[i] = store.Object{Meta: m, Raw: raw}
	}
	return objs
}

func openBench(b *testing.B) *Store {
	s, err := Open(filepath.Join(b.TempDir(), "hub.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func load(b *testing.B, s *Store, n int) {
	for first := 0; first < n; first += 1000 {
		objs := synthObjects(b, first, min(1000, n-first))
		if err := s.Add(context.Background(), "c", store.Author{Admin: true}, objs, &store.Status{ID: fmt.Sprint(first)}, &audit.Record{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAdd stores batches of 1,000 realistic objects (random ids), one
// durable transaction each, into a collection that holds BenchObjects.
func BenchmarkAdd(b *testing.B) {
	s := openBench(b)
	n := synth.BenchObjects()
	load(b, s, n)
	batches := make([][]store.Object, 20)
	for i := range batches {
		batches[i] = synthObjects(b, n+i*1000, 1000)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		objs := batches[i%len(batches)]
		if i >= len(batches) { // fresh objects, so nothing is a duplicate, made off the clock
			b.StopTimer()
			objs = synthObjects(b, n+i*1000, 1000)
			b.StartTimer()
		}
		if err := s.Add(context.Background(), "c", store.Author{Admin: true}, objs, &store.Status{ID: fmt.Sprint(i)}, &audit.Record{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkQueryPass pages through the whole collection, 1,000 at a time.
func BenchmarkQueryPass(b *testing.B) {
	s := openBench(b)
	n := synth.BenchObjects()
	load(b, s, n)
	b.ResetTimer()
	for b.Loop() {
		q := store.Query{Limit: 1000}
		seen := 0
		for {
			var p store.Page
			err := s.Query(context.Background(), "c", q, func(page store.Page) error {
				p = page
				for _, e := range page.Entries {
					seen += len(e.Raw) & 1 // touch the bytes, as a response would
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			if !p.More {
				break
			}
			q.AddedAfter = p.Entries[len(p.Entries)-1].DateAdded
		}
		_ = seen
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkQueryByID fetches single objects by id.
func BenchmarkQueryByID(b *testing.B) {
	s := openBench(b)
	n := synth.BenchObjects()
	load(b, s, n)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		err := s.Query(context.Background(), "c", store.Query{IDs: []string{synth.RealisticID(i * 7919 % n)}, Limit: 1}, func(p store.Page) error {
			if len(p.Entries) != 1 {
				return fmt.Errorf("got %d entries", len(p.Entries))
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}
