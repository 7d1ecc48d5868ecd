package boltstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/internal/synth"
	"github.com/taxiihub/taxiihub/stix"
	"github.com/taxiihub/taxiihub/store"
	"github.com/taxiihub/taxiihub/store/storetest"
	bolt "go.etcd.io/bbolt"
)

// realistic is the n-th realistic synthetic object, as Add receives it.
func realistic(t *testing.T, n int) store.Object {
	t.Helper()
	raw := synth.Realistic(n)
	meta, err := stix.ReadMeta(raw)
	if err != nil {
		t.Fatal(err)
	}
	return store.Object{Meta: meta, Raw: raw}
}

// incompressible is an object whose description is random: S2 cannot
// shorten it.
func incompressible(id string) store.Object {
	noise := make([]byte, 600)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	o := storetest.Obj(id, "2020-10-01T00:00:00.000Z")
	o.Raw = fmt.Appendf(nil, `{"type":"indicator","id":%q,"description":%q}`, id, base64.StdEncoding.EncodeToString(noise))
	return o
}

func TestRecord_CompressedOnlyWhenShorter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		o      store.Object
		packed bool
	}{
		{"realistic", realistic(t, 7), true},
		{"incompressible", incompressible("indicator--11111111-1111-4111-8111-111111111111"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			verKey := versionKey(tc.o.Version)
			v := encodeRecord(tc.o, verKey)
			rec, ok := decodeRecord(v)
			if !ok {
				t.Fatal("the record does not decode")
			}
			if rec.packed != tc.packed {
				t.Fatalf("packed = %v, want %v", rec.packed, tc.packed)
			}
			if string(rec.id) != tc.o.ID || !bytes.Equal(rec.verKey, verKey) || string(rec.verText) != tc.o.VersionText || string(rec.spec) != tc.o.SpecVersion {
				t.Errorf("fields = %q %x %q %q", rec.id, rec.verKey, rec.verText, rec.spec)
			}
			plainLen := len(v) - len(rec.json) + len(tc.o.Raw)
			if tc.packed {
				plainLen-- // no marker
				if len(v) >= plainLen {
					t.Errorf("compressed record of %d bytes, plain would be %d", len(v), plainLen)
				}
			} else if int(v[0]) != len(tc.o.ID) {
				t.Errorf("a plain record starts with %d, want the id's length (schema 4's layout)", v[0])
			}
			if rec.jsonLen() != len(tc.o.Raw) {
				t.Errorf("jsonLen = %d, want %d", rec.jsonLen(), len(tc.o.Raw))
			}
			raw, err := rec.decodeJSON(nil)
			if err != nil || !bytes.Equal(raw, tc.o.Raw) {
				t.Errorf("decodeJSON = %q, %v", raw, err)
			}
		})
	}
}

// Every way of reading objects returns the bytes posted, compressed or not,
// and a page's size limit counts the JSON, not what is stored.
func TestCompressedObjects_ReadBackExact(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "hub.db"), Options{})
	defer s.Close()
	ctx := context.Background()
	objs := []store.Object{incompressible("indicator--22222222-2222-4222-8222-222222222222")}
	for n := range 300 {
		objs = append(objs, realistic(t, n))
	}
	if err := s.Add(ctx, "c", store.Author{Org: "fbi"}, objs, &store.Status{ID: "1"}, &audit.Record{}); err != nil {
		t.Fatal(err)
	}
	posted := map[string][]byte{}
	for _, o := range objs {
		posted[o.ID] = o.Raw
	}
	read := func(name string, q store.Query) []store.Entry {
		t.Helper()
		var got []store.Entry
		err := s.Query(ctx, "c", q, func(p store.Page) error {
			for _, e := range p.Entries {
				if !bytes.Equal(e.Raw, posted[e.ID]) {
					t.Errorf("%s: %s reads back as %q", name, e.ID, e.Raw)
				}
				got = append(got, e)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return got
	}
	if got := read("scan", store.Query{Limit: 1000}); len(got) != len(objs) {
		t.Errorf("scan: %d objects, want %d", len(got), len(objs))
	}
	read("by type", store.Query{Limit: 1000, Types: []string{"malware", "indicator"}})
	read("by id", store.Query{Limit: 10, IDs: []string{objs[0].ID, objs[5].ID, objs[6].ID}})
	// The page ends with the object that reaches MaxBytes.
	maxBytes := len(objs[0].Raw) + len(objs[1].Raw) + 1
	if got := read("max bytes", store.Query{Limit: 1000, MaxBytes: maxBytes}); len(got) != 3 {
		t.Errorf("a page of %d bytes of JSON held %d objects, want 3", maxBytes, len(got))
	}
	storetest.Check(t, s, nil)
}

// A file written by schema 4 (plain records) is read as it is, and new
// objects are stored compressed.
func TestOpenReadsSchema4Records(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	ctx := context.Background()
	s := openStore(t, path, Options{})
	old := []store.Object{realistic(t, 1), realistic(t, 2)}
	if err := s.Add(ctx, "c", store.Author{Org: "fbi"}, old, &store.Status{ID: "1"}, &audit.Record{}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	rewriteFile(t, path, func(tx *bolt.Tx) error {
		objects := tx.Bucket(bucketCollections).Bucket([]byte("c")).Bucket(bucketObjects)
		plain := map[string][]byte{}
		objects.ForEach(func(k, v []byte) error {
			rec, _ := decodeRecord(v)
			raw, err := rec.decodeJSON(nil)
			if !rec.packed || err != nil {
				t.Fatalf("a realistic object was stored plain (%v)", err)
			}
			plain[string(k)] = append(bytes.Clone(v[1:len(v)-len(rec.json)]), raw...)
			return nil
		})
		for k, v := range plain {
			if err := objects.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, be64(4))
	})

	s = openStore(t, path, Options{})
	defer s.Close()
	if err := s.Add(ctx, "c", store.Author{Org: "fbi"}, []store.Object{realistic(t, 3)}, &store.Status{ID: "2"}, &audit.Record{}); err != nil {
		t.Fatal(err)
	}
	want := append(old, realistic(t, 3))
	var got []store.Entry
	s.Query(ctx, "c", store.Query{Limit: 10}, func(p store.Page) error {
		for _, e := range p.Entries {
			e.Raw = bytes.Clone(e.Raw)
			got = append(got, e)
		}
		return nil
	})
	if len(got) != len(want) {
		t.Fatalf("read %d objects, want %d", len(got), len(want))
	}
	for i, e := range got {
		if !bytes.Equal(e.Raw, want[i].Raw) {
			t.Errorf("object %d reads back as %q", i, e.Raw)
		}
	}
	s.db.View(func(tx *bolt.Tx) error {
		packed := 0
		tx.Bucket(bucketCollections).Bucket([]byte("c")).Bucket(bucketObjects).ForEach(func(_, v []byte) error {
			if rec, _ := decodeRecord(v); rec.packed {
				packed++
			}
			return nil
		})
		if packed != 1 {
			t.Errorf("%d records compressed, want the new one alone", packed)
		}
		return nil
	})
	storetest.Check(t, s, nil)
}

// Check reads every compressed object through: a damaged one is reported.
func TestCheck_FindsADamagedCompressedObject(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	ctx := context.Background()
	s := openStore(t, path, Options{})
	o := realistic(t, 1)
	if err := s.Add(ctx, "c", store.Author{Org: "fbi"}, []store.Object{o}, &store.Status{ID: "1"}, &audit.Record{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check before the damage: %v", err)
	}
	s.db.Update(func(tx *bolt.Tx) error {
		objects := tx.Bucket(bucketCollections).Bucket([]byte("c")).Bucket(bucketObjects)
		k, v := objects.Cursor().First()
		damaged := bytes.Clone(v)
		damaged[len(damaged)-len(o.Raw)/2] = 0xff // inside the compressed JSON: a bad copy
		damaged = damaged[:len(damaged)-3]
		return objects.Put(bytes.Clone(k), damaged)
	})
	if err := s.Check(ctx); err == nil || !bytes.Contains([]byte(err.Error()), []byte("does not decompress")) {
		t.Errorf("Check after the damage = %v, want the object named as not decompressing", err)
	}
	err := s.Query(ctx, "c", store.Query{Limit: 10}, func(store.Page) error { return nil })
	if err == nil {
		t.Error("a query read the damaged object without an error")
	}
	s.Close()
}

// A status is stored compressed, and one a schema 4 file holds (JSON) is
// read as it is.
func TestStatus_StoredCompressed(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "hub.db"), Options{})
	defer s.Close()
	ctx := context.Background()
	var objs []store.Object
	for n := range 300 {
		objs = append(objs, realistic(t, n))
	}
	posted := &store.Status{ID: "new", Collection: "c", Owner: "fbi", Total: len(objs)}
	if err := s.Add(ctx, "c", store.Author{Org: "fbi"}, objs, posted, &audit.Record{}); err != nil {
		t.Fatal(err)
	}
	old := store.Status{ID: "old", Collection: "c", Owner: "fbi", Total: 1, Successes: []store.Detail{{ID: objs[0].ID, Version: objs[0].VersionText}}}
	s.db.Update(func(tx *bolt.Tx) error {
		statuses := tx.Bucket(bucketStatuses)
		v := statuses.Get([]byte("new"))
		asJSON, _ := json.Marshal(posted)
		if len(v) == 0 || v[0] != 0 || len(v) >= len(asJSON)/2 {
			t.Errorf("the status is stored in %d bytes, its JSON is %d: want it compressed", len(v), len(asJSON))
		}
		asJSON, _ = json.Marshal(old)
		return statuses.Put([]byte("old"), asJSON)
	})
	for _, want := range []store.Status{*posted, old} {
		got, err := s.Status(ctx, want.ID)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Status(%s) = %+v, %v; want %+v", want.ID, got, err, want)
		}
	}
}
