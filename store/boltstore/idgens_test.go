package boltstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/store"
	"github.com/taxiihub/taxiihub/store/storetest"
	bolt "go.etcd.io/bbolt"
)

// A full generation's filter holds every id it was given and says "maybe"
// for few others; kept and read back, it says the same.
func TestBloom(t *testing.T) {
	f := new(bloom)
	id := func(i int) []byte { return fmt.Appendf(nil, "indicator--%08x-0000-4000-8000-%012x", i, i*7919) }
	const held = generationKeys / 2 // an owner and a version per object
	for i := range held {
		f.add(hashID(id(i)))
	}
	kept, ok := decodeBloom(f.encode())
	if !ok {
		t.Fatal("a kept filter does not read back")
	}
	for i := range held {
		if !f.mayHold(hashID(id(i))) || !kept.mayHold(hashID(id(i))) {
			t.Fatalf("the filter lost %s", id(i))
		}
	}
	maybes := 0
	for i := held; i < held+100000; i++ {
		if f.mayHold(hashID(id(i))) {
			maybes++
		}
	}
	if maybes > 500 { // 0.5%
		t.Fatalf("%d of 100,000 ids not held were a maybe", maybes)
	}
	t.Logf("false maybes: %d of 100,000", maybes)
}

// A generation is written out with full pages when it is sealed; the
// current one is in memory and its log, and every id is found in either.
func TestSealedGenerationsArePacked(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "hub.db"), Options{generationKeys: 4000})
	defer s.Close()
	ctx := context.Background()
	var ids []string
	for post := range 6 {
		var objs []store.Object
		for range 500 {
			objs = append(objs, realistic(t, len(ids)*7919))
			ids = append(ids, objs[len(objs)-1].ID)
		}
		if err := s.Add(ctx, "c", store.Author{Org: "fbi"}, objs, &store.Status{ID: fmt.Sprint(post)}, &audit.Record{}); err != nil {
			t.Fatal(err)
		}
	}
	s.db.View(func(tx *bolt.Tx) error {
		c, _ := s.openCollection(tx, "c")
		if c.currentGen() != 1 {
			t.Fatalf("current generation %d, want 1 (3,000 objects, two keys each, 4,000 keys a generation)", c.currentGen())
		}
		st := c.chunked(0).Stats()
		if fill := float64(st.LeafInuse) / float64(st.LeafAlloc); fill < 0.9 {
			t.Errorf("leaf pages of the sealed generation filled to %.2f, want at least 0.9", fill)
		}
		if c.chunked(1) != nil || c.mem == nil || c.mem.keys != 2000 {
			t.Errorf("the current generation: a bucket %v, in memory %d keys, want no bucket and 2,000 keys", c.chunked(1) != nil, c.mem.keys)
		}
		return nil
	})
	found := 0
	err := s.Query(ctx, "c", store.Query{Limit: len(ids), IDs: ids}, func(p store.Page) error {
		found = len(p.Entries)
		return nil
	})
	if err != nil || found != len(ids) {
		t.Errorf("match[id] of every object found %d of %d (%v)", found, len(ids), err)
	}
	storetest.Check(t, s, nil)
}
