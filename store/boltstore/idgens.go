package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// Generations of the ids index. An object's id is a random UUID, so each
// new object inserts its (id, version) entry at a random place in the
// index. So the index is kept in generations: new entries go only to the
// newest (current) one, which is held in memory and logged (memgen.go);
// once it holds generationKeys keys it is sealed: written out whole, in
// chunks (chunks.go), and a new one begins. The collection's "id_gen"
// holds the current one's number.
//
// An id's entries may lie in several generations (a new version of an old
// object goes to the current one; the owner stays where the object was
// first stored). Each sealed generation has a Bloom filter of the ids it
// holds, kept in memory and in the bucket "id_filters", so that a lookup
// seeks only the generations that may hold the id: in practice one. A
// filter only ever gains ids, so a reader of an older snapshot may seek in
// vain, never miss. A generation without a filter in memory is always
// searched.

// generationKeys is how many keys a generation holds before it is sealed.
const generationKeys = 1 << 17

var (
	keyIDGen      = []byte("id_gen")
	keyIDGenKeys  = []byte("id_gen_keys") // schema 5 and before
	bucketFilters = []byte("id_filters")
)

// A filter has filterBits bits (128 KiB: 16 per id of a full generation)
// in blocks of one cache line (8 words); an id sets filterHashes bits of
// one block, so a lookup costs one cache miss per generation. About one
// false "maybe" in 1,000.
const (
	filterBits   = 1 << 20
	filterHashes = 6
	blockWords   = 8
)

// bloom is a blocked Bloom filter of ids, safe for one writer and many
// readers.
type bloom struct {
	words [filterBits / 64]atomic.Uint64
}

// idHash is FNV-1a of an id: which block it sets bits in (the low half)
// and which bits (the high half, 9 bits a probe).
type idHash uint64

func hashID[ID string | []byte](id ID) idHash {
	h := uint64(14695981039346656037)
	for i := range len(id) {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	return idHash(h)
}

// probes calls fn with the word and bit of each of h's probes.
func (f *bloom) probes(h idHash, fn func(w *atomic.Uint64, bit uint64) bool) bool {
	block := (uint64(h) & 0xffffffff) % (filterBits / 64 / blockWords) * blockWords
	bits := uint64(h) >> 32 * 0x9e3779b97f4a7c15 // spread the high half over 64 bits
	for range filterHashes {
		bit := bits & (blockWords*64 - 1)
		if !fn(&f.words[block+bit/64], bit%64) {
			return false
		}
		bits >>= 9
	}
	return true
}

func (f *bloom) add(h idHash) {
	f.probes(h, func(w *atomic.Uint64, bit uint64) bool { w.Or(1 << bit); return true })
}

func (f *bloom) mayHold(h idHash) bool {
	return f.probes(h, func(w *atomic.Uint64, bit uint64) bool { return w.Load()&(1<<bit) != 0 })
}

func (f *bloom) encode() []byte {
	b := make([]byte, 0, filterBits/8)
	for i := range f.words {
		b = binary.LittleEndian.AppendUint64(b, f.words[i].Load())
	}
	return b
}

func decodeBloom(b []byte) (*bloom, bool) {
	if len(b) != filterBits/8 {
		return nil, false
	}
	f := new(bloom)
	for i := range f.words {
		f.words[i].Store(binary.LittleEndian.Uint64(b[i*8:]))
	}
	return f, true
}

// idFilters are one collection's filters, by generation. Readers load
// them without a lock (every lookup consults every generation's); the
// writer replaces the list when a generation begins.
type idFilters struct {
	mu   sync.Mutex // serializes set
	gens atomic.Pointer[[]*bloom]
}

// of returns generation g's filter, nil when there is none in memory.
func (fs *idFilters) of(g uint64) *bloom {
	if fs == nil {
		return nil
	}
	if gens := fs.gens.Load(); gens != nil && g < uint64(len(*gens)) {
		return (*gens)[g]
	}
	return nil
}

// set makes f generation g's filter.
func (fs *idFilters) set(g uint64, f *bloom) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var gens []*bloom
	if old := fs.gens.Load(); old != nil {
		gens = slices.Clone(*old)
	}
	for uint64(len(gens)) <= g {
		gens = append(gens, nil)
	}
	gens[g] = f
	fs.gens.Store(&gens)
}

// filtersOf returns collection id's filters, made empty the first time.
func (s *Store) filtersOf(id string) *idFilters {
	if fs, ok := s.filters.Load(id); ok {
		return fs.(*idFilters)
	}
	fs, _ := s.filters.LoadOrStore(id, new(idFilters))
	return fs.(*idFilters)
}

// generationName is generation g's bucket in files before schema 6: one
// entry per key.
func generationName(g uint64) []byte {
	if g == 0 {
		return bucketIDs
	}
	return strconv.AppendUint(slices.Clone(bucketIDs), g, 10)
}

// currentGen is the number of the generation new entries go to.
func (c collection) currentGen() uint64 {
	if c.mem != nil {
		return c.mem.g // found by that number when c was opened
	}
	if v := c.root.Get(keyIDGen); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// chunked is sealed generation g's bucket of chunks (chunks.go); nil for
// the current generation (see memgen.go), or while a file before schema 6
// is upgraded.
func (c collection) chunked(g uint64) *bolt.Bucket {
	return c.root.Bucket(chunkedName(g))
}

// generation is generation g's bucket as files before schema 6 kept it,
// one entry per key; nil if there is none.
func (c collection) generation(g uint64) *bolt.Bucket {
	return c.root.Bucket(generationName(g))
}

// entriesOf reads what the ids index holds of id: its owner, if one is
// recorded (the first entry under its prefix in the generation where the
// object was first stored), then its versions in ascending version order,
// appended to buf, each with its generation.
func (c collection) entriesOf(id string, buf []objectVersion) (owner []byte, known bool, versions []objectVersion) {
	prefix, h := idPrefix(id), hashID(id)
	start, gens := len(buf), 0
	for g := c.currentGen(); ; g-- {
		before := len(buf)
		if c.mem != nil && g == c.mem.g {
			var memOwner []byte
			var memKnown bool
			if memOwner, memKnown, buf = c.mem.entries(id, c.txid, buf); memKnown {
				owner, known = memOwner, true
			}
		} else if f := c.filters.of(g); f == nil || f.mayHold(h) {
			entry := func(k, v []byte) {
				switch {
				case len(k) == len(prefix):
					owner, known = v, true
				case len(k) == len(prefix)+12 && len(v) >= 8:
					buf = append(buf, objectVersion{key: k[len(prefix):], added: binary.BigEndian.Uint64(v), spec: v[8:], gen: g})
				}
			}
			if b := c.chunked(g); b != nil {
				chunkEntries(b, prefix, entry)
			} else if b := c.generation(g); b != nil { // upgrading a file before schema 6
				cur := b.Cursor()
				for k, v := cur.Seek(prefix); bytes.HasPrefix(k, prefix); k, v = cur.Next() {
					entry(k, v)
				}
			}
		}
		if len(buf) > before {
			gens++
		}
		if g == 0 {
			break
		}
	}
	if gens > 1 {
		slices.SortFunc(buf[start:], func(a, b objectVersion) int { return bytes.Compare(a.key, b.key) })
	}
	return owner, known, buf
}

// chunkOldGenerations converts the sealed generations a file before
// schema 6 kept one entry per key into chunks, a generation a transaction
// (so that memory stays bounded however large the file); a conversion cut
// short goes on at the next start.
func (s *Store) chunkOldGenerations() error {
	type generation struct {
		collection string
		g          uint64
	}
	var old []generation
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCollections).ForEachBucket(func(name []byte) error {
			c, _ := s.openCollection(tx, string(name))
			for g := range c.currentGen() {
				if c.generation(g) != nil {
					old = append(old, generation{string(name), g})
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, o := range old {
		err := s.db.Update(func(tx *bolt.Tx) error {
			c, _ := s.openCollection(tx, o.collection)
			b, err := c.root.CreateBucketIfNotExists(chunkedName(o.g))
			if err != nil {
				return err
			}
			w := newChunkWriter(b)
			if err := c.generation(o.g).ForEach(w.add); err != nil {
				return err
			}
			if err := w.flush(); err != nil {
				return err
			}
			return c.root.DeleteBucket(generationName(o.g))
		})
		if err != nil {
			return fmt.Errorf("collection %s: generation %d of the ids index: %w", o.collection, o.g, err)
		}
	}
	return nil
}

// loadFilters puts in memory the filter of every sealed generation of
// every collection: from the file, or built and kept if it is not there.
// The current generation needs none: it is in memory (or, in a file being
// upgraded, searched whole).
func (s *Store) loadFilters(tx *bolt.Tx) error {
	return tx.Bucket(bucketCollections).ForEachBucket(func(name []byte) error {
		c, _ := s.openCollection(tx, string(name))
		kept := c.root.Bucket(bucketFilters)
		for g := range c.currentGen() {
			if kept != nil {
				if f, ok := decodeBloom(kept.Get(be64(g))); ok {
					c.filters.set(g, f)
					continue
				}
			}
			f := filterOf(c, g)
			c.filters.set(g, f)
			if err := c.keepFilter(g, f); err != nil {
				return err
			}
		}
		return nil
	})
}

// filterOf builds the filter of the ids in generation g's bucket.
func filterOf(c collection, g uint64) *bloom {
	f := new(bloom)
	add := func(k, _ []byte) error {
		if end := bytes.IndexByte(k, 0); end > 0 {
			f.add(hashID(k[:end]))
		}
		return nil
	}
	if b := c.chunked(g); b != nil {
		forEachChunkEntry(b, add)
	} else if b := c.generation(g); b != nil {
		b.ForEach(add)
	}
	return f
}

// sealCurrentOnDisk upgrades a file of schema 5 or before, whose current
// generation is a bucket (schema 2's one ids index is generation 0): when
// it holds keys it is sealed, its filter kept, so that new entries start
// a generation in memory (chunkOldGenerations then converts it).
func (s *Store) sealCurrentOnDisk(tx *bolt.Tx) error {
	return tx.Bucket(bucketCollections).ForEachBucket(func(name []byte) error {
		c, _ := s.openCollection(tx, string(name))
		if err := c.root.Delete(keyIDGenKeys); err != nil {
			return err
		}
		g := c.currentGen()
		b := c.generation(g)
		if b == nil {
			return nil
		}
		if k, _ := b.Cursor().First(); k == nil {
			return c.root.DeleteBucket(generationName(g))
		}
		f := filterOf(c, g)
		if err := c.keepFilter(g, f); err != nil {
			return err
		}
		c.filters.set(g, f)
		return c.root.Put(keyIDGen, be64(g+1))
	})
}

// markRevised upgrades a schema 3 file: it lists in each collection's
// revised bucket the objects with more than one version in the ids index.
// An object's versions lie in one generation or several; one alone in its
// generation is looked up in the others (through their filters).
func (s *Store) markRevised(tx *bolt.Tx) error {
	return tx.Bucket(bucketCollections).ForEachBucket(func(name []byte) error {
		c, _ := s.openCollection(tx, string(name))
		revised, err := c.root.CreateBucketIfNotExists(bucketRevised)
		if err != nil {
			return err
		}
		var versions []objectVersion
		for g := range c.currentGen() + 1 {
			b := c.generation(g)
			if b == nil {
				continue
			}
			counts := map[string]int{} // versions of each id in generation g
			b.ForEach(func(k, _ []byte) error {
				if end := bytes.IndexByte(k, 0); end > 0 && len(k) == end+13 {
					counts[string(k[:end])]++
				}
				return nil
			})
			for id, n := range counts {
				if n == 1 {
					versions = c.versionsOf(id, versions[:0])
					n = len(versions)
				}
				if n > 1 {
					if err := revised.Put([]byte(id), nil); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}

func (c collection) keepFilter(g uint64, f *bloom) error {
	filters, err := c.root.CreateBucketIfNotExists(bucketFilters)
	if err != nil {
		return err
	}
	return filters.Put(be64(g), f.encode())
}
