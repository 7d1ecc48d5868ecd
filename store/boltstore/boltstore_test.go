package boltstore

import (
	"context"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/store"
	"github.com/taxiihub/taxiihub/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, key ed25519.PrivateKey) store.Store {
		s, err := Open(filepath.Join(t.TempDir(), "hub.db"), Options{AuditKey: key, CheckpointEvery: 5})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestDateAddedStaysIncreasingWhenTheClockStandsStill(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "hub.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	frozen := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return frozen }
	ctx := context.Background()
	for i := range 3 {
		obj := storetest.Obj("indicator--11111111-1111-4111-8111-11111111111"+string(rune('0'+i)), "2020-10-01T00:00:00.000Z")
		if err := s.Add(ctx, "c", store.Author{Admin: true}, []store.Object{obj}, &store.Status{ID: string(rune('a' + i))}, &audit.Record{}); err != nil {
			t.Fatal(err)
		}
	}
	var got []time.Time
	s.Query(ctx, "c", store.Query{Limit: 10}, func(p store.Page) error {
		for _, e := range p.Entries {
			got = append(got, e.DateAdded)
		}
		return nil
	})
	want := []time.Time{frozen, frozen.Add(time.Microsecond), frozen.Add(2 * time.Microsecond)}
	if len(got) != 3 || !got[0].Equal(want[0]) || !got[1].Equal(want[1]) || !got[2].Equal(want[2]) {
		t.Fatalf("date_added = %v, want %v", got, want)
	}
}

func TestReopenKeepsObjectsAndStatuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	ctx := context.Background()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	obj := storetest.Obj("indicator--11111111-1111-4111-8111-111111111111", "2020-10-01T00:00:00.000Z")
	if err := s.Add(ctx, "c", store.Author{Admin: true}, []store.Object{obj}, &store.Status{ID: "st"}, &audit.Record{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "another process holds it") {
		t.Fatalf("a second Open of a held file: %v", err)
	}
	s.Close()
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Status(ctx, "st"); err != nil {
		t.Fatalf("status after reopen: %v", err)
	}
	var n int
	s.Query(ctx, "c", store.Query{Limit: 10}, func(p store.Page) error { n = len(p.Entries); return nil })
	if n != 1 {
		t.Fatalf("objects after reopen = %d, want 1", n)
	}
}

// Records past Options.Retention are pruned when the store opens, as the
// Retention function says at that moment.
func TestRetentionPrunesAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	_, key, _ := ed25519.GenerateKey(nil)
	s, err := Open(path, Options{AuditKey: key, CheckpointEvery: 5})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-90 * 24 * time.Hour)
	for i := range 12 {
		when := old
		if i >= 7 {
			when = time.Now()
		}
		if err := s.Audit(context.Background(), &audit.Record{Time: when}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	var retain atomic.Int64
	retain.Store(int64(30 * 24 * time.Hour))
	s, err = Open(path, Options{AuditKey: key, CheckpointEvery: 5, Retention: func() time.Duration { return time.Duration(retain.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var first uint64
		s.AuditRecords(context.Background(), 0, func(r audit.Record) error { first = r.Seq; return errStop })
		if first == 6 { // the segment up to the checkpoint at 5 was old
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the oldest record is still %d", first)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := audit.Verify(store.AuditLog(context.Background(), s), audit.VerifyOptions{Keys: []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}, AllowUnsealed: true}); err != nil {
		t.Fatal(err)
	}
}

var errStop = errors.New("stop")
