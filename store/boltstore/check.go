package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Check reports the first way the file's indexes disagree with its objects:
// every stored version must be in the ids and types indexes under its own
// id, type and version, every index entry must point at such a version, and
// each collection's count must be how many it holds. Tests run it on every
// store they leave; an operator can on a copy.
func (s *Store) Check(ctx context.Context) error {
	return s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCollections).ForEachBucket(func(name []byte) error {
			c, _ := s.openCollection(tx, string(name))
			if err := c.check(); err != nil {
				return fmt.Errorf("collection %s: %w", name, err)
			}
			return ctx.Err()
		})
	})
}

func (c collection) check() error {
	n := 0
	var unpacked []byte
	err := c.objects.ForEach(func(k, v []byte) error {
		n++
		rec, ok := decodeRecord(v)
		if !ok {
			return fmt.Errorf("object at %x: %w", k, errCorrupt)
		}
		if rec.packed {
			var err error
			if unpacked, err = rec.decodeJSON(unpacked[:0]); err != nil {
				return fmt.Errorf("%s at %x: its JSON does not decompress: %w", rec.id, k, err)
			}
		}
		// Found as a lookup finds it: through the generations' filters.
		_, _, versions := c.entriesOf(string(rec.id), nil)
		i := slices.IndexFunc(versions, func(v objectVersion) bool { return bytes.Equal(v.key, rec.verKey) })
		if i < 0 || versions[i].added != binary.BigEndian.Uint64(k) || !bytes.Equal(versions[i].spec, rec.spec) {
			return fmt.Errorf("%s at %x: the ids index does not point at it", rec.id, k)
		}
		if len(versions) > 1 && c.revised != nil && c.revised.Get(rec.id) == nil {
			return fmt.Errorf("%s has %d versions but is not listed as revised", rec.id, len(versions))
		}
		typ, _, _ := strings.Cut(string(rec.id), "--")
		if c.types.Get(typeKey(typ, binary.BigEndian.Uint64(k))) == nil {
			return fmt.Errorf("%s at %x: missing from the types index", rec.id, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	versions := 0 // the ids index holds owners too
	current := c.currentGen()
	for g := range current {
		b := c.chunked(g)
		if b == nil {
			return fmt.Errorf("generation %d of the ids index is missing", g)
		}
		err := forEachChunkEntry(b, func(k, _ []byte) error {
			if bytes.IndexByte(k, 0) == len(k)-13 {
				versions++
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("generation %d of the ids index: %w", g, err)
		}
	}
	if c.mem != nil {
		versions += c.mem.count(c.txid)
	}
	if versions != n {
		return fmt.Errorf("the ids index has %d entries for %d objects", versions, n)
	}

	if entries := c.types.Stats().KeyN; entries != n {
		return fmt.Errorf("the types index has %d entries for %d objects", entries, n)
	}
	if c.count() != n {
		return fmt.Errorf("counts %d objects, holds %d", c.count(), n)
	}
	return nil
}
