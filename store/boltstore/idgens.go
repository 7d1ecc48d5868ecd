package boltstore

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// Generations of the ids index. An object's id is a random UUID, so each
// new object inserts its (id, version) entry at a random place in the
// index: in one B+tree of a million objects, a commit of a few thousand
// objects dirties as many leaf pages, each rebuilt and written whole. So
// the index is kept in generations: new entries go only to the newest
// (current) one, a bucket of at most generationKeys keys, whose pages a
// commit rewrites no matter how large the collection has grown; once full,
// it is sealed and a new one begins. Generation 0 is the bucket "ids",
// generation g the bucket "ids<g>"; the collection's "id_gen" holds the
// current one's number and "id_gen_keys" how many keys have been put in it.
//
// An id's entries may lie in several generations (a new version of an old
// object goes to the current one; the owner stays where the object was
// first stored). Each generation has a Bloom filter of the ids it holds,
// kept in memory (a sealed generation's also in the bucket "id_filters"),
// so that a lookup seeks only the generations that may hold the id: in
// practice one. A filter only ever gains ids, so a reader of an older
// snapshot may seek in vain, never miss. A generation without a filter in
// memory is always searched.

// generationKeys is how many keys a generation holds before it is sealed.
const generationKeys = 1 << 17

var (
	keyIDGen      = []byte("id_gen")
	keyIDGenKeys  = []byte("id_gen_keys")
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

// generationNames are the first generations' bucket names, made once.
var generationNames = func() (names [256][]byte) {
	for g := range names {
		names[g] = makeGenerationName(uint64(g))
	}
	return names
}()

func generationName(g uint64) []byte {
	if g < uint64(len(generationNames)) {
		return generationNames[g]
	}
	return makeGenerationName(g)
}

func makeGenerationName(g uint64) []byte {
	if g == 0 {
		return bucketIDs
	}
	return strconv.AppendUint(slices.Clone(bucketIDs), g, 10)
}

// currentGen is the number of the generation new entries go to.
func (c collection) currentGen() uint64 {
	if c.current != nil {
		return c.current.g
	}
	if v := c.root.Get(keyIDGen); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// currentGeneration is the generation new entries go to, as a write keeps
// it: its number, bucket and filter, and how many keys it holds (saved to
// the file by saveKeys, once a write, not once a key).
type currentGeneration struct {
	g, keys uint64
	bucket  *bolt.Bucket
	filter  *bloom
}

// loadCurrent reads which generation is the current one.
func (c collection) loadCurrent() *currentGeneration {
	cur := &currentGeneration{g: c.currentGen()}
	if v := c.root.Get(keyIDGenKeys); len(v) == 8 {
		cur.keys = binary.BigEndian.Uint64(v)
	}
	cur.bucket, cur.filter = c.generation(cur.g), c.filters.of(cur.g)
	if cur.filter == nil {
		cur.filter = new(bloom)
		c.filters.set(cur.g, cur.filter)
	}
	return cur
}

// saveKeys records how many keys the current generation holds.
func (c collection) saveKeys() error {
	return c.root.Put(keyIDGenKeys, be64(c.current.keys))
}

// generation is generation g's bucket (nil if there is none).
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
		if f := c.filters.of(g); f == nil || f.mayHold(h) {
			if b := c.generation(g); b != nil {
				before := len(buf)
				cur := b.Cursor()
				for k, v := cur.Seek(prefix); bytes.HasPrefix(k, prefix); k, v = cur.Next() {
					switch {
					case len(k) == len(prefix):
						owner, known = v, true
					case len(k) == len(prefix)+12 && len(v) >= 8:
						buf = append(buf, objectVersion{key: k[len(prefix):], added: binary.BigEndian.Uint64(v), spec: v[8:], gen: g})
					}
				}
				if len(buf) > before {
					gens++
				}
			}
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

// putID stores an ids-index entry in the current generation, noting its
// id in the generation's filter, and seals the generation once it is full.
func (c collection) putID(id string, key, value []byte) error {
	cur := c.current
	cur.filter.add(hashID(id))
	if err := cur.bucket.Put(key, value); err != nil {
		return err
	}
	if cur.keys++; cur.keys < c.generationKeys {
		return nil
	}
	if err := c.seal(cur.g, cur.filter); err != nil {
		return err
	}
	*cur = currentGeneration{g: cur.g + 1, bucket: c.generation(cur.g + 1), filter: c.filters.of(cur.g + 1)}
	return nil
}

// seal closes generation g, packing its pages and keeping its filter f in
// the file, and begins the next.
func (c collection) seal(g uint64, f *bloom) error {
	if err := c.pack(g); err != nil {
		return err
	}
	if err := c.keepFilter(g, f); err != nil {
		return err
	}
	if _, err := c.root.CreateBucketIfNotExists(generationName(g + 1)); err != nil {
		return err
	}
	c.filters.set(g+1, new(bloom))
	if err := c.root.Put(keyIDGen, be64(g+1)); err != nil {
		return err
	}
	return c.root.Put(keyIDGenKeys, be64(0))
}

// pack rewrites generation g with its pages full. Random inserts leave a
// B+tree's pages about two thirds full (bbolt splits a full page in two);
// a sealed generation gains no more keys, so its pages may as well be full:
// a third fewer of them, on disk and in the page cache. Once a generation,
// in the write that seals it.
func (c collection) pack(g uint64) error {
	type entry struct{ k, v []byte } // valid until the transaction ends
	entries := make([]entry, 0, c.generationKeys)
	name := generationName(g)
	c.root.Bucket(name).ForEach(func(k, v []byte) error {
		entries = append(entries, entry{k, v})
		return nil
	})
	if err := c.root.DeleteBucket(name); err != nil {
		return err
	}
	packed, err := c.root.CreateBucket(name)
	if err != nil {
		return err
	}
	packed.FillPercent = 1.0
	for _, e := range entries {
		if err := packed.Put(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}

// loadFilters puts in memory the filter of every generation of every
// collection: a sealed one's from the file (built and kept if it is not
// there), the current one's built from its keys.
func (s *Store) loadFilters(tx *bolt.Tx) error {
	return tx.Bucket(bucketCollections).ForEachBucket(func(name []byte) error {
		c, _ := s.openCollection(tx, string(name))
		current := c.currentGen()
		kept := c.root.Bucket(bucketFilters)
		for g := uint64(0); g <= current; g++ {
			if kept != nil && g < current {
				if f, ok := decodeBloom(kept.Get(be64(g))); ok {
					c.filters.set(g, f)
					continue
				}
			}
			f := filterOf(c.generation(g))
			c.filters.set(g, f)
			if g < current {
				if err := c.keepFilter(g, f); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// filterOf builds the filter of the ids in generation bucket b.
func filterOf(b *bolt.Bucket) *bloom {
	f := new(bloom)
	if b != nil {
		b.ForEach(func(k, _ []byte) error {
			if end := bytes.IndexByte(k, 0); end > 0 {
				f.add(hashID(k[:end]))
			}
			return nil
		})
	}
	return f
}

// sealIndexes upgrades a schema 2 file: each collection's one ids index
// becomes a sealed generation 0, its filter kept, so that new entries
// start a generation of their own.
func (s *Store) sealIndexes(tx *bolt.Tx) error {
	return tx.Bucket(bucketCollections).ForEachBucket(func(name []byte) error {
		c, _ := s.openCollection(tx, string(name))
		first := c.generation(0)
		if k, _ := first.Cursor().First(); k == nil {
			return nil // empty: generation 0 stays the current one
		}
		return c.seal(0, filterOf(first))
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
			counts := map[string]int{} // versions of each id in generation g
			c.generation(g).ForEach(func(k, _ []byte) error {
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
