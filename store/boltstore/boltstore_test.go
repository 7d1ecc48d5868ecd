package boltstore

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/store"
	"github.com/taxiihub/taxiihub/store/storetest"
	bolt "go.etcd.io/bbolt"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, key ed25519.PrivateKey) store.Store {
		s := openStore(t, filepath.Join(t.TempDir(), "hub.db"), Options{AuditKey: key, CheckpointEvery: 5})
		return s
	})
}

// The same suite with generations of the ids index of three keys: every
// object's entries spread over several, sealed mid-transaction.
func TestConformance_SmallGenerations(t *testing.T) {
	storetest.Run(t, func(t *testing.T, key ed25519.PrivateKey) store.Store {
		s := openStore(t, filepath.Join(t.TempDir(), "hub.db"), Options{AuditKey: key, CheckpointEvery: 5, generationKeys: 3})
		return s
	})
}

// openStore opens the store at path, failing the test if it cannot.
func openStore(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Objects stored across many generations are found after a restart, by
// the filters kept in the file and the current one's rebuilt; versions
// that span generations come back in order, and a delete removes them all.
func TestGenerations_SurviveAReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	ctx := context.Background()
	s := openStore(t, path, Options{generationKeys: 7})
	id := func(i int) string { return fmt.Sprintf("indicator--%08x-1111-4111-8111-111111111111", i*7919) }
	for i := range 40 {
		obj := storetest.Obj(id(i), "2020-10-01T00:00:00.000Z")
		if err := s.Add(ctx, "c", store.Author{Org: "fbi"}, []store.Object{obj}, &store.Status{ID: fmt.Sprint(i)}, &audit.Record{}); err != nil {
			t.Fatal(err)
		}
	}
	// A second version of the first object lands generations later.
	if err := s.Add(ctx, "c", store.Author{Org: "fbi"}, []store.Object{storetest.Obj(id(0), "2020-10-02T00:00:00.000Z")}, &store.Status{ID: "v2"}, &audit.Record{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openStore(t, path, Options{generationKeys: 7})
	defer s.Close()
	s.db.View(func(tx *bolt.Tx) error {
		c, _ := s.openCollection(tx, "c")
		if g := c.currentGen(); g < 5 {
			t.Errorf("81 keys in generations of 7 ended in generation %d", g)
		}
		return nil
	})
	storetest.Check(t, s, nil)
	var versions []string
	s.Query(ctx, "c", store.Query{IDs: []string{id(0)}, Versions: store.VersionMatch{All: true}, Limit: 10}, func(p store.Page) error {
		for _, e := range p.Entries {
			versions = append(versions, e.Version)
		}
		return nil
	})
	if len(versions) != 2 || versions[0] >= versions[1] {
		t.Fatalf("versions across generations = %v", versions)
	}
	st := &store.Status{ID: "dhs"}
	if err := s.Add(ctx, "c", store.Author{Org: "dhs"}, []store.Object{storetest.Obj(id(0), "2020-10-03T00:00:00.000Z")}, st, &audit.Record{}); err != nil || len(st.Failures) != 1 {
		t.Fatalf("another organization's version of an object owned in generation 0: %v %+v", err, st)
	}
	if n, err := s.Delete(ctx, "c", store.Author{Org: "fbi"}, id(0), store.VersionMatch{All: true}, nil, &audit.Record{}); err != nil || n != 2 {
		t.Fatalf("delete across generations removed %d: %v", n, err)
	}
	storetest.Check(t, s, nil)
}

func TestDateAddedStaysIncreasingWhenTheClockStandsStill(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "hub.db"), Options{})
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
	s := openStore(t, path, Options{})
	obj := storetest.Obj("indicator--11111111-1111-4111-8111-111111111111", "2020-10-01T00:00:00.000Z")
	if err := s.Add(ctx, "c", store.Author{Admin: true}, []store.Object{obj}, &store.Status{ID: "st"}, &audit.Record{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "another process holds it") {
		t.Fatalf("a second Open of a held file: %v", err)
	}
	s.Close()
	s = openStore(t, path, Options{})
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
	s := openStore(t, path, Options{AuditKey: key, CheckpointEvery: 5})
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
	s = openStore(t, path, Options{AuditKey: key, CheckpointEvery: 5, Retention: func() time.Duration { return time.Duration(retain.Load()) }})
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

// A schema 1 file (owners in a bucket of their own, or none at all) is
// upgraded when opened to write: the owners still decide who changes what.
func TestOpenUpgradesSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	ctx := context.Background()
	fbi, dhs := store.Author{Org: "fbi"}, store.Author{Org: "dhs"}
	owned := "indicator--11111111-1111-4111-8111-111111111111"
	older := "indicator--22222222-2222-4222-8222-222222222222"
	s := openStore(t, path, Options{})
	for i, add := range []struct{ collection, id string }{{"c", owned}, {"d", older}} {
		st := &store.Status{ID: fmt.Sprint(i)}
		if err := s.Add(ctx, add.collection, fbi, []store.Object{storetest.Obj(add.id, "2020-10-01T00:00:00.000Z")}, st, &audit.Record{}); err != nil || len(st.Successes) != 1 {
			t.Fatalf("add %s: %v %+v", add.id, err, st)
		}
	}
	s.Close()
	writeSchema5Index(t, path)

	// Rewrite the file as schema 1 wrote it: c's owners in an owners
	// bucket, d's not recorded at all.
	rewriteFile(t, path, func(tx *bolt.Tx) error {
		for _, name := range []string{"c", "d"} {
			root := tx.Bucket(bucketCollections).Bucket([]byte(name))
			owners, err := root.CreateBucket(bucketOwners)
			if err != nil {
				return err
			}
			cur := root.Bucket(bucketIDs).Cursor()
			for k, v := cur.First(); k != nil; k, v = cur.Next() {
				if bytes.IndexByte(k, 0) == len(k)-1 {
					if name == "c" {
						owners.Put(bytes.Clone(k[:len(k)-1]), bytes.Clone(v))
					}
					cur.Delete()
				}
			}
			if name == "d" {
				root.DeleteBucket(bucketOwners)
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, be64(1))
	})

	s = openStore(t, path, Options{})
	defer s.Close()
	s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keySchema); binary.BigEndian.Uint64(v) != schemaVersion {
			t.Errorf("schema after the upgrade = %x", v)
		}
		if tx.Bucket(bucketCollections).Bucket([]byte("c")).Bucket(bucketOwners) != nil {
			t.Error("the owners bucket is still there")
		}
		// Schema 2's one ids index is sealed as generation 0, its filter kept.
		c, _ := s.openCollection(tx, "c")
		if g := c.currentGen(); g != 1 || c.root.Bucket(bucketFilters).Get(be64(0)) == nil {
			t.Errorf("after the upgrade: current generation %d, filter of generation 0 kept: %v", g, c.root.Bucket(bucketFilters) != nil)
		}
		return nil
	})
	for _, try := range []struct {
		collection, id string
		by             store.Author
		refusal        string // "" when stored
	}{
		{"c", owned, dhs, "belongs to another organization"},
		{"c", owned, fbi, ""},
		{"d", older, fbi, "stored before the hub recorded owners"},
		{"d", older, store.Author{Org: "hub", Admin: true}, ""},
	} {
		st := &store.Status{ID: try.collection + try.by.Org}
		if err := s.Add(ctx, try.collection, try.by, []store.Object{storetest.Obj(try.id, "2020-10-02T00:00:00.000Z")}, st, &audit.Record{}); err != nil {
			t.Fatal(err)
		}
		switch {
		case try.refusal == "" && len(st.Successes) != 1:
			t.Errorf("%s posting %s: %+v, want it stored", try.by.Org, try.id, st)
		case try.refusal != "" && (len(st.Failures) != 1 || !strings.Contains(st.Failures[0].Message, try.refusal)):
			t.Errorf("%s posting %s: %+v, want %q", try.by.Org, try.id, st, try.refusal)
		}
	}
	storetest.Check(t, s, nil)
}

// A schema 3 file has no list of revised objects; the upgrade makes it
// from the ids index, versions in one generation or spread over several,
// and a scan then picks each object's last version as before.
func TestOpenUpgradesSchema3(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	ctx := context.Background()
	opts := Options{generationKeys: 5}
	s := openStore(t, path, opts)
	id := func(i int) string { return fmt.Sprintf("indicator--%08x-1111-4111-8111-111111111111", i) }
	v1, v2 := "2020-10-01T00:00:00.000Z", "2020-10-02T00:00:00.000Z"
	posts := [][]store.Object{
		{storetest.Obj(id(0), v1), storetest.Obj(id(0), v2)}, // in one generation
		{storetest.Obj(id(1), v1)},
	}
	for i := 2; i < 12; i++ {
		posts = append(posts, []store.Object{storetest.Obj(id(i), v1)})
	}
	posts = append(posts, []store.Object{storetest.Obj(id(1), v2)}) // generations after its first
	for i, objs := range posts {
		if err := s.Add(ctx, "c", store.Author{Org: "fbi"}, objs, &store.Status{ID: fmt.Sprint(i)}, &audit.Record{}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	writeSchema5Index(t, path)

	rewriteFile(t, path, func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketCollections).Bucket([]byte("c")).DeleteBucket(bucketRevised); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, be64(3))
	})

	s = openStore(t, path, opts)
	defer s.Close()
	var revised []string
	s.db.View(func(tx *bolt.Tx) error {
		c, _ := s.openCollection(tx, "c")
		if c.currentGen() < 3 {
			t.Errorf("the objects ended in generation %d; the test needs versions generations apart", c.currentGen())
		}
		return c.revised.ForEach(func(k, _ []byte) error { revised = append(revised, string(k)); return nil })
	})
	if strings.Join(revised, " ") != id(0)+" "+id(1) {
		t.Errorf("revised after the upgrade = %v, want %s and %s", revised, id(0), id(1))
	}
	storetest.Check(t, s, nil)
	last := map[string]string{}
	s.Query(ctx, "c", store.Query{Limit: 100}, func(p store.Page) error {
		for _, e := range p.Entries {
			last[e.ID] = e.Version
		}
		return nil
	})
	if len(last) != 12 || last[id(0)] != v2 || last[id(1)] != v2 || last[id(2)] != v1 {
		t.Errorf("last versions after the upgrade: %v", last)
	}
}

// The audit bucket only grows at its end: its pages are packed, not left
// half empty as bbolt's default split would leave them.
func TestAuditPagesArePacked(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "hub.db"), Options{})
	defer s.Close()
	ctx := context.Background()
	for i := range 3000 {
		rec := &audit.Record{Time: time.Now(), RequestID: fmt.Sprint(i), Method: "GET", Path: "/bench/collections/c/objects/indicator--x/", Action: audit.ActionRead, Status: 200, Returned: 1}
		if err := s.Audit(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.fold(); err != nil {
		t.Fatal(err)
	}
	s.db.View(func(tx *bolt.Tx) error {
		st := tx.Bucket(bucketAudit).Stats()
		if fill := float64(st.LeafInuse) / float64(st.LeafAlloc); st.KeyN != 3000 || fill < 0.85 {
			t.Errorf("%d records fill their leaf pages to %.2f, want at least 0.85", st.KeyN, fill)
		}
		return nil
	})
}

// A file of a schema this build does not know (a newer hub's) is refused
// with a clear error, and left as it was.
func TestOpenRefusesAnUnknownSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	s := openStore(t, path, Options{})
	s.Close()
	for _, schema := range []uint64{0, schemaVersion + 1} {
		rewriteFile(t, path, func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, be64(schema)) })
		if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("schema version %d, this build reads %d", schema, schemaVersion)) {
			t.Fatalf("schema %d: Open = %v", schema, err)
		}
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		db.View(func(tx *bolt.Tx) error {
			if got := binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keySchema)); got != schema {
				t.Errorf("a refused file's schema became %d", got)
			}
			return nil
		})
		db.Close()
	}
}

// writeSchema5Index rewrites the ids index of the file at path as schema 5
// kept it: every generation, the current one too, in a bucket of one entry
// per key; no chunks, no log.
func writeSchema5Index(t *testing.T, path string) {
	t.Helper()
	s := &Store{}
	rewriteFile(t, path, func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketCollections).ForEachBucket(func(name []byte) error {
			c, _ := s.openCollection(tx, string(name))
			current := c.currentGen()
			for g := range current {
				b, err := c.root.CreateBucket(generationName(g))
				if err != nil {
					return err
				}
				err = forEachChunkEntry(c.chunked(g), func(k, v []byte) error { return b.Put(k, bytes.Clone(v)) })
				if err != nil {
					return err
				}
				if err := c.root.DeleteBucket(chunkedName(g)); err != nil {
					return err
				}
			}
			m := newMemGeneration(current)
			if err := m.replay(c.root.Bucket(bucketIDLog)); err != nil {
				return err
			}
			b, err := c.root.CreateBucket(generationName(current))
			if err != nil {
				return err
			}
			ids := map[string]bool{}
			for i := range m.ents {
				ids[string(m.idOf(&m.ents[i]))] = true
			}
			for id := range ids {
				owner, known, versions := m.entries(id, uint64(tx.ID()), nil)
				if known {
					b.Put(idPrefix(id), owner)
				}
				for _, v := range versions {
					b.Put(append(idPrefix(id), v.key...), append(be64(v.added), v.spec...))
				}
			}
			return c.root.DeleteBucket(bucketIDLog)
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, be64(5))
	})
}

// rewriteFile changes the closed file at path as fn does, in one
// transaction: how the tests make what older builds, or damage, left.
func rewriteFile(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// New files get 16 KiB pages; a file made with 4 KiB pages (every file
// before) keeps them, and is read and written as before.
func TestPageSize_NewFilesOnly(t *testing.T) {
	ctx := context.Background()
	obj := storetest.Obj("indicator--00000001-3333-4333-8333-333333333333", "2020-10-01T00:00:00.000Z")
	for _, made := range []int{0, 4096} {
		path := filepath.Join(t.TempDir(), "hub.db")
		if made != 0 {
			db, err := bolt.Open(path, 0o600, &bolt.Options{PageSize: made})
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
		}
		s := openStore(t, path, Options{})
		if err := s.Add(ctx, "c", store.Author{Org: "fbi"}, []store.Object{obj}, &store.Status{ID: "s"}, &audit.Record{}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s = openStore(t, path, Options{})
		want := made
		if made == 0 {
			want = pageSize
		}
		if got := s.db.Info().PageSize; got != want {
			t.Errorf("file made with page size %d: %d, want %d", made, got, want)
		}
		var found int
		err := s.Query(ctx, "c", store.Query{IDs: []string{obj.ID}, Limit: 10}, func(p store.Page) error {
			found = len(p.Entries)
			return nil
		})
		if err != nil || found != 1 {
			t.Errorf("file made with page size %d: found %d, %v", made, found, err)
		}
		if err := s.Check(ctx); err != nil {
			t.Errorf("file made with page size %d: %v", made, err)
		}
		s.Close()
	}
}
