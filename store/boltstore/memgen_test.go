package boltstore

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/store"
	"github.com/taxiihub/taxiihub/store/storetest"
	bolt "go.etcd.io/bbolt"
)

// Chunks hold every entry once, in order: a lookup finds each id's entries
// whichever chunks they fall in, and a deleted entry is gone from its chunk
// (the first of a chunk, the last, or a chunk's only one) without losing
// its neighbours.
func TestChunks_FindEveryEntry(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "chunks.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := map[string][]string{} // id prefix → its entries' keys
	var ids []string
	for i := range 2000 {
		id := fmt.Sprintf("indicator--%08x-1111-4111-8111-111111111111\x00", i*7919%100003)
		ids = append(ids, id)
		want[id] = append(want[id], id) // the owner
		for v := range i % 3 {
			want[id] = append(want[id], id+fmt.Sprintf("version-%04d", v))
		}
	}
	slices.Sort(ids)
	check := func(name string) {
		t.Helper()
		db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("g"))
			for _, id := range ids {
				var got []string
				if err := chunkEntries(b, []byte(id), func(k, v []byte) {
					if !bytes.Equal(k, v) {
						t.Errorf("%s: entry %q holds %q", name, k, v)
					}
					got = append(got, string(k))
				}); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want[id]) {
					t.Errorf("%s: %q has %q, want %q", name, id, got, want[id])
				}
			}
			return nil
		})
	}
	chunks := 0
	err = db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucket([]byte("g"))
		w := newChunkWriter(b)
		for _, id := range ids {
			for _, k := range want[id] {
				if err := w.add([]byte(k), []byte(k)); err != nil {
					return err
				}
			}
		}
		return w.flush()
	})
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *bolt.Tx) error { chunks = tx.Bucket([]byte("g")).Stats().KeyN; return nil })
	if chunks < 20 {
		t.Fatalf("%d chunks: the test wants entries across many", chunks)
	}
	check("written")

	// Delete the first and the last entry of each chunk, then every entry
	// of some ids (emptying whole chunks among them).
	var doomed [][]byte
	db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("g")).ForEach(func(_, chunk []byte) error {
			first, _, _, _ := chunkEntry(chunk)
			var last []byte
			for len(chunk) > 0 {
				last, _, chunk, _ = chunkEntry(chunk)
			}
			doomed = append(doomed, bytes.Clone(first), bytes.Clone(last))
			return nil
		})
	})
	for _, id := range ids[500:700] {
		for _, k := range want[id] {
			doomed = append(doomed, []byte(k))
		}
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, k := range doomed {
			if err := deleteChunkEntry(tx.Bucket([]byte("g")), k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range doomed {
		id := string(k[:bytes.IndexByte(k, 0)+1])
		want[id] = slices.DeleteFunc(want[id], func(e string) bool { return e == string(k) })
	}
	check("after deletes")
}

// A reader sees the ids index as of its transaction: not the versions
// written after it began, still the ones deleted after it began, across a
// seal of the generation too.
func TestMemGeneration_ReadersSeeTheirSnapshot(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "hub.db"), Options{generationKeys: 50})
	defer s.Close()
	ctx := context.Background()
	fbi := store.Author{Org: "fbi"}
	id := "indicator--11111111-1111-4111-8111-111111111111"
	post := func(objs ...store.Object) {
		t.Helper()
		if err := s.Add(ctx, "c", fbi, objs, &store.Status{ID: fmt.Sprint(len(objs))}, &audit.Record{}); err != nil {
			t.Fatal(err)
		}
	}
	post(storetest.Obj(id, "2020-10-01T00:00:00.000Z"))
	versions := func(tx *bolt.Tx, id string) int {
		c, _ := s.openCollection(tx, "c")
		return len(c.versionsOf(id, nil))
	}

	before, end := beginRead(t, s)
	defer end()
	post(storetest.Obj(id, "2020-10-02T00:00:00.000Z"))
	if _, err := s.Delete(ctx, "c", fbi, id, store.VersionMatch{First: true}, nil, &audit.Record{}); err != nil {
		t.Fatal(err)
	}
	if got := versions(before, id); got != 1 {
		t.Errorf("a reader that began before a new version and a delete sees %d versions, want the one it began with", got)
	}
	var many []store.Object
	for i := range 60 { // fills the generation: it is sealed
		many = append(many, storetest.Obj(fmt.Sprintf("indicator--%08x-2222-4222-8222-222222222222", i), "2020-10-01T00:00:00.000Z"))
	}
	post(many...)
	s.db.View(func(tx *bolt.Tx) error {
		if c, _ := s.openCollection(tx, "c"); c.currentGen() != 1 {
			t.Fatalf("current generation %d, want 1: the test needs a seal", c.currentGen())
		}
		if got := versions(tx, id); got != 1 {
			t.Errorf("a reader after the writes sees %d versions, want 1 (the second)", got)
		}
		return nil
	})
	if got, other := versions(before, id), versions(before, many[0].ID); got != 1 || other != 0 {
		t.Errorf("after a seal, the older reader sees %d versions and %d of an object posted later; want 1 and 0", got, other)
	}
	storetest.Check(t, s, nil)
}

// beginRead begins a read transaction counted as Query's is (Store.view);
// end ends it (before the store is closed: Close waits for it).
func beginRead(t *testing.T, s *Store) (tx *bolt.Tx, end func()) {
	t.Helper()
	n := s.reads.enter()
	tx, err := s.db.Begin(false)
	if err != nil {
		n.Add(-1)
		t.Fatal(err)
	}
	return tx, sync.OnceFunc(func() {
		tx.Rollback()
		n.Add(-1)
	})
}

// generationsInMemory lists the generations of collection id in memory.
func generationsInMemory(s *Store, id string) []uint64 {
	ms := s.memGensOf(id)
	ms.mu.Lock()
	defer ms.mu.Unlock()
	var gens []uint64
	for _, m := range ms.gens {
		gens = append(gens, m.g)
	}
	return gens
}

// numberedObjects makes n indicators, numberedID(prefix, 0) to
// numberedID(prefix, n-1).
func numberedObjects(prefix string, n int) []store.Object {
	var objs []store.Object
	for i := range n {
		objs = append(objs, storetest.Obj(numberedID(prefix, i), "2020-10-01T00:00:00.000Z"))
	}
	return objs
}

// numberedID is indicator i of those whose ids begin with prefix (eight hex
// digits).
func numberedID(prefix string, i int) string {
	return fmt.Sprintf("indicator--%s-%04x-4222-8222-222222222222", prefix, i)
}

// A sealed generation stays in memory while a read begun before its seal
// is under way, for that read's snapshot, and leaves it once the read is
// done (at the committer's next batch); with no such read, it leaves at
// once. Every object stays found, from the sealed generations on disk.
func TestMemGeneration_SealedGenerationLeavesMemoryAfterItsReads(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "hub.db"), Options{generationKeys: 50})
	defer s.Close()
	ctx := context.Background()
	post := func(objs ...store.Object) {
		t.Helper()
		if err := s.Add(ctx, "c", store.Author{Org: "fbi"}, objs, &store.Status{ID: objs[0].ID}, &audit.Record{}); err != nil {
			t.Fatal(err)
		}
	}
	first := storetest.Obj("indicator--11111111-1111-4111-8111-111111111111", "2020-10-01T00:00:00.000Z")
	post(first)

	before, end := beginRead(t, s)
	defer end()
	a := numberedObjects("aaaaaaaa", 60)
	post(a...) // fills generation 0: it is sealed
	if got := generationsInMemory(s, "c"); !slices.Equal(got, []uint64{0, 1}) {
		t.Fatalf("generations in memory with a read begun before the seal: %v, want [0 1]", got)
	}
	c, _ := s.openCollection(before, "c")
	if err := s.inMemory(c); err != nil {
		t.Fatalf("the read begun before the seal: %v", err)
	}
	if got := len(c.versionsOf(first.ID, nil)); got != 1 {
		t.Errorf("the read begun before the seal sees %d versions of its object, want 1", got)
	}
	end()
	if err := s.Ready(ctx); err != nil { // a batch of the committer's
		t.Fatal(err)
	}
	if got := generationsInMemory(s, "c"); !slices.Equal(got, []uint64{1}) {
		t.Errorf("generations in memory once that read is done: %v, want [1]", got)
	}

	b := numberedObjects("bbbbbbbb", 60)
	post(b...) // generation 1 sealed, no read under way
	if got := generationsInMemory(s, "c"); !slices.Equal(got, []uint64{2}) {
		t.Errorf("generations in memory after a seal no read began before: %v, want [2]", got)
	}
	for _, id := range []string{first.ID, a[0].ID, a[59].ID, b[0].ID, b[59].ID} {
		var found int
		if err := s.Query(ctx, "c", store.Query{IDs: []string{id}, Limit: 10}, func(p store.Page) error {
			found = len(p.Entries)
			return nil
		}); err != nil || found != 1 {
			t.Errorf("%s: found %d (%v), want 1", id, found, err)
		}
	}
	storetest.Check(t, s, nil)
}

// A read whose snapshot predates two seals is told to retry: the
// generation its snapshot names is no longer in memory, and reading on
// would miss its entries.
func TestMemGeneration_ReadAcrossTwoSealsIsToldToRetry(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "hub.db"), Options{generationKeys: 50})
	defer s.Close()
	ctx := context.Background()
	for i, prefix := range []string{"", "aaaaaaaa", "bbbbbbbb"} {
		var objs []store.Object
		if i == 0 {
			objs = []store.Object{storetest.Obj("indicator--11111111-1111-4111-8111-111111111111", "2020-10-01T00:00:00.000Z")}
		} else {
			objs = numberedObjects(prefix, 60) // each fills a generation
		}
		if err := s.Add(ctx, "c", store.Author{Org: "fbi"}, objs, &store.Status{ID: fmt.Sprint("status-", i)}, &audit.Record{}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			before, end := beginRead(t, s)
			defer func() {
				defer end()
				c, _ := s.openCollection(before, "c")
				if err := s.inMemory(c); !errors.Is(err, errSnapshotTooOld) {
					t.Errorf("a read across two seals: %v, want %v", err, errSnapshotTooOld)
				}
			}()
		}
	}
}

// Reads running while generations are sealed one after another find every
// object posted before they began (told at most to retry, when two seals
// pass during one read), and the generations before the current leave
// memory once the reads are done.
func TestMemGeneration_ReadsDuringSeals(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "hub.db"), Options{generationKeys: 50})
	defer s.Close()
	ctx := context.Background()
	var posted atomic.Int64 // batches of 60 posted
	batchPrefix := func(b int) string { return fmt.Sprintf("%08x", b) }
	done := make(chan struct{})
	var readers sync.WaitGroup
	for r := range 4 {
		readers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				n := posted.Load()
				if n == 0 {
					continue
				}
				id := numberedID(batchPrefix(int(int64(r+i)%n)), i%60)
				var found int
				err := s.Query(ctx, "c", store.Query{IDs: []string{id}, Limit: 10}, func(p store.Page) error {
					found = len(p.Entries)
					return nil
				})
				switch {
				case errors.Is(err, errSnapshotTooOld):
				case err != nil:
					t.Error(err)
					return
				case found != 1:
					t.Errorf("%s, posted before the read began: found %d", id, found)
					return
				}
			}
		})
	}
	for b := range 30 {
		if err := s.Add(ctx, "c", store.Author{Org: "fbi"}, numberedObjects(batchPrefix(b), 60), &store.Status{ID: fmt.Sprint(b)}, &audit.Record{}); err != nil {
			t.Fatal(err)
		}
		posted.Add(1)
	}
	close(done)
	readers.Wait()
	if err := s.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if got := generationsInMemory(s, "c"); len(got) != 1 {
		t.Errorf("generations in memory once the reads are done: %v, want the current one", got)
	}
	storetest.Check(t, s, nil)
}

// A delete in the current generation is in its log: after a reopen the
// deleted version stays deleted, the owner stays recorded.
func TestMemGeneration_DeletesSurviveAReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	s := openStore(t, path, Options{})
	ctx := context.Background()
	fbi := store.Author{Org: "fbi"}
	id := "indicator--11111111-1111-4111-8111-111111111111"
	objs := []store.Object{storetest.Obj(id, "2020-10-01T00:00:00.000Z"), storetest.Obj(id, "2020-10-02T00:00:00.000Z")}
	if err := s.Add(ctx, "c", fbi, objs, &store.Status{ID: "1"}, &audit.Record{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, "c", fbi, id, store.VersionMatch{First: true}, nil, &audit.Record{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openStore(t, path, Options{})
	defer s.Close()
	s.db.View(func(tx *bolt.Tx) error {
		c, _ := s.openCollection(tx, "c")
		owner, _, versions := c.entriesOf(id, nil)
		if string(owner) != "fbi" || len(versions) != 1 || !bytes.Equal(versions[0].key, versionKey(objs[1].Version)) {
			t.Errorf("after a reopen: owner %q, %d versions; want fbi's, the second version alone", owner, len(versions))
		}
		return nil
	})
	storetest.Check(t, s, nil)
}

// A write that fails leaves nothing of what it put in the ids index, in
// memory or in its log: the object is stored by the next write as new.
func TestMemGeneration_FailedWriteLeavesNoTrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	s := openStore(t, path, Options{})
	ctx := context.Background()
	fbi := store.Author{Org: "fbi"}
	kept := storetest.Obj("indicator--11111111-1111-4111-8111-111111111111", "2020-10-01T00:00:00.000Z")
	lost := storetest.Obj("indicator--22222222-2222-4222-8222-222222222222", "2020-10-01T00:00:00.000Z")
	if err := s.Add(ctx, "c", fbi, []store.Object{kept}, &store.Status{ID: "1"}, &audit.Record{}); err != nil {
		t.Fatal(err)
	}
	failure := errors.New("the disk is full")
	err := s.write(func(tx *bolt.Tx) error {
		c, err := s.createCollection(tx, "c")
		if err != nil {
			return err
		}
		if _, _, err := c.add(store.Author{Org: "dhs"}, lost, 1); err != nil {
			return err
		}
		if err := c.mem.flushLog(c.root); err != nil {
			return err
		}
		owner, _, versions := c.entriesOf(kept.ID, nil) // then deletes a version of another
		c.mem.deleteVersion(kept.ID, versions[0].key, c.txid)
		if string(owner) != "fbi" {
			t.Errorf("the owner of %s reads %q", kept.ID, owner)
		}
		return failure
	})
	if !errors.Is(err, failure) {
		t.Fatalf("the failing write returned %v", err)
	}
	// The next write gets the failed one's transaction id: it must not
	// find what that one left.
	st := &store.Status{ID: "2"}
	if err := s.Add(ctx, "c", fbi, []store.Object{lost}, st, &audit.Record{}); err != nil || len(st.Successes) != 1 || st.Successes[0].Message != "" {
		t.Errorf("posting the object again: %v %+v, want it stored (by fbi, not refused as dhs's)", err, st)
	}
	for _, reopen := range []bool{false, true} {
		if reopen {
			s.Close()
			s = openStore(t, path, Options{})
		}
		s.db.View(func(tx *bolt.Tx) error {
			c, _ := s.openCollection(tx, "c")
			if owner, _, versions := c.entriesOf(lost.ID, nil); string(owner) != "fbi" || len(versions) != 1 {
				t.Errorf("reopened %v: %s is owned by %q with %d versions, want fbi's with one", reopen, lost.ID, owner, len(versions))
			}
			if versions := c.versionsOf(kept.ID, nil); len(versions) != 1 {
				t.Errorf("reopened %v: the object whose version the failed write deleted has %d versions, want 1", reopen, len(versions))
			}
			return nil
		})
		storetest.Check(t, s, nil)
	}
	s.Close()
}

// FuzzIDIndex holds the generation in memory, its log and its chunks to a
// model: each id's owner and set of versions, after every committed write.
// The input is pairs of bytes: an op (put an owner, put a version, delete a
// version, commit, fail the write) and which of a few ids and versions.
func FuzzIDIndex(f *testing.F) {
	f.Add([]byte{0, 1, 1, 1, 3, 0, 1, 9, 2, 1, 3, 0})
	f.Add([]byte{0, 2, 1, 2, 1, 10, 4, 0, 0, 3, 1, 3, 3, 0, 2, 3, 1, 3, 4, 0, 3, 0})
	db, err := bolt.Open(filepath.Join(f.TempDir(), "fuzz.db"), 0o600, nil)
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	ids := []string{"indicator--a", "indicator--b", "malware--c", "indicator--ab", "x--d", "indicator--a0", "y--e", "indicator--"}
	orgs := []string{"fbi", "dhs", "odni"}
	verKey := func(v int) []byte { return versionKey(time.Unix(int64(1600000000+v), 0)) }
	spec := func(v int) string { return []string{"2.1", "2.0"}[v%2] }
	type entry struct {
		owner    string
		versions [4]bool
	}
	type model map[string]entry
	clone := func(m model) model { return maps.Clone(m) }

	f.Fuzz(func(t *testing.T, ops []byte) {
		m := newMemGeneration(0)
		committed, current := model{}, model{}
		snapshots := map[uint64]model{1: {}}
		var logs [][]byte
		txid := uint64(2)
		for i := 0; i+1 < len(ops); i += 2 {
			arg := int(ops[i+1])
			id, v := ids[arg%len(ids)], arg/len(ids)%4
			e := current[id]
			switch ops[i] % 5 {
			case 0:
				if e.owner == "" {
					e.owner = orgs[arg%len(orgs)]
					m.putOwner(id, e.owner, txid)
				}
			case 1:
				if !e.versions[v] {
					e.versions[v] = true
					m.putVersion(id, verKey(v), uint64(v), spec(v), txid)
				}
			case 2:
				if e.versions[v] {
					e.versions[v] = false
					m.deleteVersion(id, verKey(v), txid)
				}
			case 3:
				logs = append(logs, m.log)
				m.log = nil
				committed = clone(current)
				snapshots[txid] = committed
				txid++
				continue
			case 4:
				m.rollback(txid)
				current = clone(committed)
				continue
			}
			current[id] = e
		}
		m.rollback(txid) // the last write never commits

		// want is what a reader of snapshot s should find of id.
		want := func(s model, id string) (owner string, versions []string) {
			for v, ok := range s[id].versions {
				if ok {
					versions = append(versions, fmt.Sprintf("%x %d %s", verKey(v), v, spec(v)))
				}
			}
			return s[id].owner, versions
		}
		got := func(owner []byte, _ bool, versions []objectVersion) (string, []string) {
			var out []string
			for _, v := range versions {
				out = append(out, fmt.Sprintf("%x %d %s", v.key, v.added, v.spec))
			}
			return string(owner), out
		}
		replayed := newMemGeneration(0)
		err := db.Update(func(tx *bolt.Tx) error {
			log, err := tx.CreateBucket(bucketIDLog)
			if err != nil {
				return err
			}
			for i, l := range logs {
				if len(l) > 0 {
					log.Put(be64(uint64(i)), l)
				}
			}
			if err := replayed.replay(log); err != nil {
				t.Fatalf("replaying the log: %v", err)
			}
			chunks, err := tx.CreateBucket([]byte("chunks"))
			if err != nil {
				return err
			}
			if _, err := m.writeOut(chunks, txid-1); err != nil {
				return err
			}
			for _, id := range ids {
				for s, snapshot := range snapshots {
					wo, wv := want(snapshot, id)
					if o, v := got(m.entries(id, s, nil)); o != wo || !slices.Equal(v, wv) {
						t.Fatalf("%s as of write %d: owner %q, versions %q; want %q, %q", id, s, o, v, wo, wv)
					}
				}
				wo, wv := want(committed, id)
				if o, v := got(replayed.entries(id, txid, nil)); o != wo || !slices.Equal(v, wv) {
					t.Fatalf("%s replayed from the log: owner %q, versions %q; want %q, %q", id, o, v, wo, wv)
				}
				var owner string
				var versions []string
				prefix := idPrefix(id)
				err := chunkEntries(chunks, prefix, func(k, v []byte) {
					if len(k) == len(prefix) {
						owner = string(v)
						return
					}
					versions = append(versions, fmt.Sprintf("%x %d %s", k[len(prefix):], binary.BigEndian.Uint64(v), v[8:]))
				})
				if err != nil || owner != wo || !slices.Equal(versions, wv) {
					t.Fatalf("%s written out in chunks: owner %q, versions %q (%v); want %q, %q", id, owner, versions, err, wo, wv)
				}
			}
			return errors.New("rolled back") // leave the file empty for the next input
		})
		if err == nil || err.Error() != "rolled back" {
			t.Fatal(err)
		}
	})
}

// A log value the hub cannot read stops it from opening, naming the
// collection, rather than serving an index that misses entries.
func TestMemGeneration_CorruptLogIsRefusedAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	s := openStore(t, path, Options{})
	obj := storetest.Obj("indicator--11111111-1111-4111-8111-111111111111", "2020-10-01T00:00:00.000Z")
	if err := s.Add(context.Background(), "c", store.Author{Org: "fbi"}, []store.Object{obj}, &store.Status{ID: "1"}, &audit.Record{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	rewriteFile(t, path, func(tx *bolt.Tx) error {
		log := tx.Bucket(bucketCollections).Bucket([]byte("c")).Bucket(bucketIDLog)
		k, v := log.Cursor().First()
		return log.Put(bytes.Clone(k), v[:len(v)-5]) // cut off mid-entry
	})
	for _, opts := range []Options{{}, {ReadOnly: true}} {
		if s, err := Open(path, opts); err == nil || !strings.Contains(err.Error(), "collection c") || !errors.Is(err, errCorrupt) {
			if err == nil {
				s.Close()
			}
			t.Errorf("read-only %v: Open = %v, want the collection's log named as corrupt", opts.ReadOnly, err)
		}
	}
}

// Converting an older file's generations to chunks goes a generation a
// transaction: one left unconverted by a start cut short is converted at
// the next, and every object is found.
func TestChunkOldGenerations_ResumesAtTheNextStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	ctx := context.Background()
	s := openStore(t, path, Options{generationKeys: 10})
	var objs []store.Object
	for i := range 30 {
		objs = append(objs, storetest.Obj(fmt.Sprintf("indicator--%08x-1111-4111-8111-111111111111", i*7919), "2020-10-01T00:00:00.000Z"))
		if err := s.Add(ctx, "c", store.Author{Org: "fbi"}, objs[i:], &store.Status{ID: fmt.Sprint(i)}, &audit.Record{}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	// As a start cut short leaves it: schema 6, generation 1 still kept
	// one entry per key.
	rewriteFile(t, path, func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketCollections).Bucket([]byte("c"))
		old, err := root.CreateBucket(generationName(1))
		if err != nil {
			return err
		}
		if err := forEachChunkEntry(root.Bucket(chunkedName(1)), func(k, v []byte) error { return old.Put(k, bytes.Clone(v)) }); err != nil {
			return err
		}
		return root.DeleteBucket(chunkedName(1))
	})
	s = openStore(t, path, Options{generationKeys: 10})
	defer s.Close()
	s.db.View(func(tx *bolt.Tx) error {
		c, _ := s.openCollection(tx, "c")
		if c.generation(1) != nil || c.chunked(1) == nil {
			t.Errorf("after the restart: generation 1 per key %v, in chunks %v; want it converted", c.generation(1) != nil, c.chunked(1) != nil)
		}
		return nil
	})
	var ids []string
	for _, o := range objs {
		ids = append(ids, o.ID)
	}
	found := 0
	s.Query(ctx, "c", store.Query{Limit: len(ids), IDs: ids}, func(p store.Page) error { found = len(p.Entries); return nil })
	if found != len(objs) {
		t.Errorf("match[id] of every object found %d of %d", found, len(objs))
	}
	storetest.Check(t, s, nil)
}

// A large write's entries are logged in pieces and its audit record is
// stored packed, so that the next write does not rewrite them; both read
// back whole: the ids index after a reopen, the records through the
// chain's verification, and a prune that reads them.
func TestLargeWrites_LogInPiecesAndPackTheirRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	_, key, _ := ed25519.GenerateKey(nil)
	opts := Options{AuditKey: key, CheckpointEvery: 2}
	s := openStore(t, path, opts)
	ctx := context.Background()
	const writes, perWrite = 4, 300
	var ids []string
	for w := range writes {
		objs := make([]store.Object, perWrite)
		for i := range objs {
			id := fmt.Sprintf("indicator--%08x-1111-4111-8111-111111111111", w*perWrite+i)
			ids = append(ids, id)
			objs[i] = storetest.Obj(id, "2020-10-01T00:00:00.000Z")
		}
		if err := s.Add(ctx, "c", store.Author{Org: "fbi"}, objs, &store.Status{ID: fmt.Sprint(w)}, &audit.Record{Time: time.Now().Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	s.db.View(func(tx *bolt.Tx) error {
		pieces := 0
		tx.Bucket(bucketCollections).Bucket([]byte("c")).Bucket(bucketIDLog).ForEach(func(k, v []byte) error {
			if pieces++; len(v) > logPiece+200 {
				t.Errorf("a piece of the log holds %d bytes, want about %d at most", len(v), logPiece)
			}
			return nil
		})
		if pieces < writes*perWrite*100/logPiece {
			t.Errorf("%d writes of %d objects logged in %d pieces", writes, perWrite, pieces)
		}
		packed := 0
		tx.Bucket(bucketAudit).ForEach(func(k, v []byte) error {
			if len(v) > 0 && v[0] == 0 {
				packed++
			}
			return nil
		})
		if packed != writes {
			t.Errorf("%d records stored packed, want the %d writes'", packed, writes)
		}
		return nil
	})
	stored := 0
	s.AuditRecords(ctx, 0, func(r audit.Record) error { stored += len(r.Stored); return nil })
	if stored != writes*perWrite {
		t.Errorf("the records name %d stored objects, want %d", stored, writes*perWrite)
	}
	storetest.Check(t, s, []ed25519.PublicKey{key.Public().(ed25519.PublicKey)})
	if n, err := s.PruneAudit(ctx, time.Now()); err != nil || n == 0 {
		t.Fatalf("PruneAudit = %d, %v", n, err)
	}
	s.Close()

	s = openStore(t, path, opts)
	defer s.Close()
	s.db.View(func(tx *bolt.Tx) error {
		c, _ := s.openCollection(tx, "c")
		for _, id := range ids {
			if owner, _, versions := c.entriesOf(id, nil); string(owner) != "fbi" || len(versions) != 1 {
				t.Fatalf("after a reopen %s has owner %q and %d versions", id, owner, len(versions))
			}
		}
		return nil
	})
	storetest.Check(t, s, []ed25519.PublicKey{key.Public().(ed25519.PublicKey)})
}

// A packed audit record whose bytes were cut is named as corrupt, by the
// reader of the log and by a prune, not read as something else.
func TestAuditRecords_CutPackedRecordIsCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	_, key, _ := ed25519.GenerateKey(nil)
	s := openStore(t, path, Options{AuditKey: key})
	objs := make([]store.Object, 300)
	for i := range objs {
		objs[i] = storetest.Obj(fmt.Sprintf("indicator--%08x-1111-4111-8111-111111111111", i), "2020-10-01T00:00:00.000Z")
	}
	if err := s.Add(context.Background(), "c", store.Author{Org: "fbi"}, objs, &store.Status{ID: "1"}, &audit.Record{Time: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	rewriteFile(t, path, func(tx *bolt.Tx) error {
		records := tx.Bucket(bucketAudit)
		k, v := records.Cursor().First()
		if len(v) == 0 || v[0] != 0 {
			t.Fatalf("the write's record is not stored packed")
		}
		return records.Put(bytes.Clone(k), bytes.Clone(v[:len(v)/2]))
	})
	s = openStore(t, path, Options{AuditKey: key})
	defer s.Close()
	if err := s.AuditRecords(context.Background(), 0, func(audit.Record) error { return nil }); !errors.Is(err, errCorrupt) {
		t.Errorf("AuditRecords = %v, want the record named corrupt", err)
	}
	if _, err := s.PruneAudit(context.Background(), time.Now()); !errors.Is(err, errCorrupt) {
		t.Errorf("PruneAudit = %v, want the record named corrupt", err)
	}
}
