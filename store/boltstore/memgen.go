package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// The current generation of a collection's ids index is held in memory.
// Ids are random, so putting each new entry into a B+tree on disk rewrote
// a page somewhere in the generation per new object: four fifths of what
// a commit wrote. Instead each write appends its entries, as one value, to
// the collection's log bucket ("id_log"), which only grows at its end; the
// entries go to a structure in memory that lookups read; and once it holds
// generationKeys keys it is written out whole and in key order as a sealed
// generation, and the log starts again. Opening the file replays the log.
//
// A reader sees the index as of its transaction: every entry records the
// write that put it, and the write that deleted it, and a reader skips what
// is newer than its snapshot. A write that fails takes its entries back
// before the next write begins. A reader whose snapshot predates a seal
// goes on reading the sealed generation's entries in memory (see
// memGenerations).

var bucketIDLog = []byte("id_log")

// memGeneration is the current generation of one collection's ids index.
// One writer (the committer) changes it; readers read it under mu. It holds
// no pointers but in its few slices, so that the garbage collector does not
// walk its entries (a full generation holds 65,536 objects).
type memGeneration struct {
	g     uint64
	mu    sync.RWMutex
	heads map[idHash]int32 // an id's hash → its newest entry
	ents  []memEntry
	ids   []byte   // the entries' ids, one after another
	orgs  [][]byte // owners, by number
	specs [][]byte // spec_versions, by number
	keys  uint64   // owners and versions put, as a sealed generation holds them

	// Only the writer touches these.
	log     []byte  // the running write's entries, for the log bucket
	logCuts []int   // where in log a piece ends (see logPiece)
	written uint64  // the last write that changed the generation
	before  memMark // the generation before that write
}

// memEntry is an owner, a version or both (an object's first version) of
// one id, with the writes that put it and deleted its version (0: none).
type memEntry struct {
	key        [12]byte // version key
	idOff      uint32
	idLen      uint16 // ids are STIX identifiers, validated: a few hundred bytes at most
	org        uint16 // owner's number + 1; 0: no owner
	spec       uint16 // spec_version's number
	hasVersion bool
	added      uint64
	put, del   uint64
	prev       int32 // the id's (or a hash twin's) older entry; -1: none
}

// memMark is how far the generation's slices reached, to go back to.
type memMark struct {
	ents, ids int
	keys      uint64
}

func (e *memEntry) versionVisibleTo(txid uint64) bool {
	return e.hasVersion && e.put <= txid && (e.del == 0 || e.del > txid)
}

func newMemGeneration(g uint64) *memGeneration {
	return &memGeneration{g: g, heads: map[idHash]int32{}, specs: [][]byte{[]byte("2.1")}}
}

func (m *memGeneration) idOf(e *memEntry) []byte { return m.ids[e.idOff : e.idOff+uint32(e.idLen)] }

// find returns id's newest entry, -1 if it has none. Under mu.
func (m *memGeneration) find(id string, h idHash) int32 {
	i, ok := m.heads[h]
	if !ok {
		return -1
	}
	for ; i >= 0; i = m.ents[i].prev {
		if string(m.idOf(&m.ents[i])) == id {
			return i
		}
	}
	return -1
}

// entries appends to buf the versions of id that transaction txid sees, in
// ascending order, and returns the owner recorded here, if it sees one.
func (m *memGeneration) entries(id string, txid uint64, buf []objectVersion) (owner []byte, known bool, versions []objectVersion) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	start := len(buf)
	for i := m.find(id, hashID(id)); i >= 0; i = m.ents[i].prev {
		e := &m.ents[i]
		if string(m.idOf(e)) != id {
			continue // a hash twin
		}
		if e.org != 0 && e.put <= txid {
			owner, known = m.orgs[e.org-1], true
		}
		if e.versionVisibleTo(txid) {
			buf = append(buf, objectVersion{key: e.key[:], added: e.added, spec: m.specs[e.spec], gen: m.g})
		}
	}
	if len(buf)-start > 1 {
		slices.SortFunc(buf[start:], func(a, b objectVersion) int { return bytes.Compare(a.key, b.key) })
	}
	return owner, known, buf
}

// count is how many versions transaction txid sees.
func (m *memGeneration) count(txid uint64) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n := 0
	for i := range m.ents {
		if m.ents[i].versionVisibleTo(txid) {
			n++
		}
	}
	return n
}

// Log entries: an op byte, the id (uvarint length first), then the op's
// fields.
const (
	logOwner   = 'o' // owner (uvarint length first)
	logVersion = 'v' // version key (12), date_added (8), spec_version (uvarint length first)
	logDelete  = 'd' // version key (12)
)

// putOwner records id's owner, in write txid.
func (m *memGeneration) putOwner(id, owner string, txid uint64) {
	m.cutLog()
	m.log = appendField(appendField(append(m.log, logOwner), id), owner)
	m.applyOwner(id, owner, txid)
}

func (m *memGeneration) applyOwner(id, owner string, txid uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.begin(txid)
	m.add(id, memEntry{org: uint16(numbered(&m.orgs, owner) + 1), put: txid})
	m.keys++
}

// putVersion records a version of id, in write txid.
func (m *memGeneration) putVersion(id string, key []byte, added uint64, spec string, txid uint64) {
	m.cutLog()
	m.log = append(appendField(append(m.log, logVersion), id), key...)
	m.log = binary.BigEndian.AppendUint64(m.log, added)
	m.log = appendField(m.log, spec)
	m.applyVersion(id, key, added, spec, txid)
}

func (m *memGeneration) applyVersion(id string, key []byte, added uint64, spec string, txid uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.begin(txid)
	n := numbered(&m.specs, spec)
	m.keys++
	if i := m.find(id, hashID(id)); i >= 0 {
		if e := &m.ents[i]; !e.hasVersion && e.put == txid {
			// The owner this write recorded: its first version joins it.
			e.key, e.added, e.spec, e.hasVersion = [12]byte(key), added, uint16(n), true
			return
		}
	}
	m.add(id, memEntry{key: [12]byte(key), added: added, spec: uint16(n), hasVersion: true, put: txid})
}

// numbered returns s's number in list, adding it the first time: the
// owners and spec_versions of a generation are a handful.
func numbered(list *[][]byte, s string) int {
	n := slices.IndexFunc(*list, func(b []byte) bool { return string(b) == s })
	if n < 0 {
		n = len(*list)
		*list = append(*list, []byte(s))
	}
	return n
}

// add appends e as id's newest entry. Under mu.
func (m *memGeneration) add(id string, e memEntry) {
	h := hashID(id)
	e.prev = -1
	if head, ok := m.heads[h]; ok {
		e.prev = head
	}
	if i := m.find(id, h); i >= 0 {
		e.idOff, e.idLen = m.ents[i].idOff, m.ents[i].idLen
	} else {
		e.idOff, e.idLen = uint32(len(m.ids)), uint16(len(id))
		m.ids = append(m.ids, id...)
	}
	m.heads[h] = int32(len(m.ents))
	m.ents = append(m.ents, e)
}

// begin notes where the generation stood before write txid, the first
// time txid changes it. Under mu.
func (m *memGeneration) begin(txid uint64) {
	if m.written != txid {
		m.written, m.before = txid, memMark{ents: len(m.ents), ids: len(m.ids), keys: m.keys}
	}
}

// deleteVersion removes the version of id with the given key, in write
// txid; readers of older snapshots still see it.
func (m *memGeneration) deleteVersion(id string, key []byte, txid uint64) {
	m.cutLog()
	m.log = append(appendField(append(m.log, logDelete), id), key...)
	m.applyDelete(id, key, txid)
}

func (m *memGeneration) applyDelete(id string, key []byte, txid uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.begin(txid)
	for i := m.find(id, hashID(id)); i >= 0; i = m.ents[i].prev {
		if e := &m.ents[i]; e.hasVersion && e.del == 0 && bytes.Equal(e.key[:], key) && string(m.idOf(e)) == id {
			e.del = txid
		}
	}
}

// logPiece is about how many bytes of entries the log bucket holds in one
// value. bbolt keeps at least two values on a page and rewrites a page
// whole, so a write's entries as one value (about 127 bytes an object)
// had each write rewrite the previous write's too; in pieces, the bucket's
// pages fill up in turn and a write rewrites at most the last one.
const logPiece = 4 << 10

// cutLog ends the log's running piece, before the entry about to be
// appended, once it holds logPiece bytes.
func (m *memGeneration) cutLog() {
	start := 0
	if n := len(m.logCuts); n > 0 {
		start = m.logCuts[n-1]
	}
	if len(m.log)-start >= logPiece {
		m.logCuts = append(m.logCuts, len(m.log))
	}
}

// flushLog appends the running write's entries to the log bucket, a piece
// a value.
func (m *memGeneration) flushLog(root *bolt.Bucket) error {
	if len(m.log) == 0 {
		return nil
	}
	log, err := root.CreateBucketIfNotExists(bucketIDLog)
	if err != nil {
		return err
	}
	log.FillPercent = 1.0 // its keys only grow
	start := 0
	for _, end := range append(m.logCuts, len(m.log)) {
		seq, err := log.NextSequence()
		if err != nil {
			return err
		}
		if err := log.Put(be64(seq), m.log[start:end]); err != nil {
			return err
		}
		start = end
	}
	m.log, m.logCuts = nil, m.logCuts[:0] // bbolt holds log's bytes until the commit
	return nil
}

// rollback takes back what write txid did, after it failed: the entries it
// added are the newest ones.
func (m *memGeneration) rollback(txid uint64) {
	m.log, m.logCuts = nil, m.logCuts[:0]
	if txid == 0 || m.written != txid { // 0: the write failed before it began
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.ents) - 1; i >= m.before.ents; i-- {
		h := hashID(m.idOf(&m.ents[i]))
		if prev := m.ents[i].prev; prev >= 0 {
			m.heads[h] = prev
		} else {
			delete(m.heads, h)
		}
	}
	m.ents, m.ids, m.keys = m.ents[:m.before.ents], m.ids[:m.before.ids], m.before.keys
	for i := range m.ents {
		if m.ents[i].del == txid {
			m.ents[i].del = 0
		}
	}
	m.written = 0
}

// replayedTx is the write the entries replayed from the log are put (and
// deleted) by: older than every transaction of an open file, so that all
// see them, and see their deletes.
const replayedTx = 1

// replay rebuilds the generation from the log bucket, as of the file.
func (m *memGeneration) replay(log *bolt.Bucket) error {
	if log == nil {
		return nil
	}
	return log.ForEach(func(k, v []byte) error {
		for len(v) > 0 {
			op := v[0]
			id, rest, ok := field(v[1:])
			if !ok {
				return fmt.Errorf("id log entry %x: %w", k, errCorrupt)
			}
			switch op {
			case logOwner:
				var owner []byte
				if owner, rest, ok = field(rest); !ok {
					return fmt.Errorf("id log entry %x: %w", k, errCorrupt)
				}
				m.applyOwner(string(id), string(owner), replayedTx)
			case logVersion:
				if len(rest) < 20 {
					return fmt.Errorf("id log entry %x: %w", k, errCorrupt)
				}
				key, added := rest[:12], binary.BigEndian.Uint64(rest[12:20])
				var spec []byte
				if spec, rest, ok = field(rest[20:]); !ok {
					return fmt.Errorf("id log entry %x: %w", k, errCorrupt)
				}
				m.applyVersion(string(id), key, added, string(spec), replayedTx)
			case logDelete:
				if len(rest) < 12 {
					return fmt.Errorf("id log entry %x: %w", k, errCorrupt)
				}
				m.applyDelete(string(id), rest[:12], replayedTx)
				rest = rest[12:]
			default:
				return fmt.Errorf("id log entry %x: op %q: %w", k, op, errCorrupt)
			}
			v = rest
		}
		return nil
	})
}

// writeOut stores the entries transaction txid sees, in key order, as the
// chunks of bucket b, and returns the filter of their ids.
func (m *memGeneration) writeOut(b *bolt.Bucket, txid uint64) (*bloom, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var visible []int32
	for i := range m.ents {
		if e := &m.ents[i]; (e.org != 0 && e.put <= txid) || e.versionVisibleTo(txid) {
			visible = append(visible, int32(i))
		}
	}
	slices.SortFunc(visible, func(a, b int32) int {
		ea, eb := &m.ents[a], &m.ents[b]
		if c := bytes.Compare(m.idOf(ea), m.idOf(eb)); c != 0 {
			return c
		}
		return bytes.Compare(ea.key[:], eb.key[:])
	})
	w := newChunkWriter(b)
	f := new(bloom)
	var key, value []byte
	for start := 0; start < len(visible); {
		id := m.idOf(&m.ents[visible[start]])
		end := start + 1
		for end < len(visible) && bytes.Equal(m.idOf(&m.ents[visible[end]]), id) {
			end++
		}
		group := visible[start:end]
		start = end
		f.add(hashID(id))
		key = append(append(key[:0], id...), 0)
		for _, i := range group { // the owner first: its key is the id's prefix
			if e := &m.ents[i]; e.org != 0 && e.put <= txid {
				if err := w.add(key, m.orgs[e.org-1]); err != nil {
					return nil, err
				}
			}
		}
		for _, i := range group {
			if e := &m.ents[i]; e.versionVisibleTo(txid) {
				value = append(binary.BigEndian.AppendUint64(value[:0], e.added), m.specs[e.spec]...)
				if err := w.add(append(key[:len(id)+1], e.key[:]...), value); err != nil {
					return nil, err
				}
			}
		}
	}
	return f, w.flush()
}

// memGenerations are a collection's generations in memory: the current
// one and, after a seal, the one before it, for readers whose snapshot
// predates the seal, until they are done (see readGate).
type memGenerations struct {
	mu   sync.Mutex
	gens []*memGeneration
}

// of returns generation g, nil if it is not in memory.
func (ms *memGenerations) of(g uint64) *memGeneration {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for _, m := range ms.gens {
		if m.g == g {
			return m
		}
	}
	return nil
}

// current returns the newest generation in memory (none or one).
func (ms *memGenerations) current() []*memGeneration {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if len(ms.gens) == 0 {
		return nil
	}
	return ms.gens[len(ms.gens)-1:]
}

// add makes m one of the generations in memory, keeping the newest two.
func (ms *memGenerations) add(m *memGeneration) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.gens = append(ms.gens, m)
	if len(ms.gens) > 2 {
		ms.gens = slices.Delete(ms.gens, 0, len(ms.gens)-2)
	}
}

// drop forgets generation g (a seal that failed).
func (ms *memGenerations) drop(g uint64) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.gens = slices.DeleteFunc(ms.gens, func(m *memGeneration) bool { return m.g == g })
}

// memGensOf returns collection id's generations in memory, made empty the
// first time.
func (s *Store) memGensOf(id string) *memGenerations {
	if ms, ok := s.memGens.Load(id); ok {
		return ms.(*memGenerations)
	}
	ms, _ := s.memGens.LoadOrStore(id, new(memGenerations))
	return ms.(*memGenerations)
}

// errSnapshotTooOld is returned to a reader whose snapshot predates the
// generations in memory: it began two seals ago, 65,536 objects at least.
var errSnapshotTooOld = errors.New("the read began before the ids index moved on twice; retry it")

// inMemory returns errSnapshotTooOld if the current generation of c's
// snapshot is no longer in memory.
func (s *Store) inMemory(c collection) error {
	if c.mem == nil && s.memLoaded.Load() {
		return errSnapshotTooOld
	}
	return nil
}

// readGate counts the reads under way by the epoch they began in. A seal
// ends the epoch: once the reads of the epoch before are done, no reader's
// snapshot predates the seal, and the generation it sealed can leave memory
// (its entries are on disk for every later snapshot). Epochs are told apart
// by parity: the committer ends one only when the reads of the one before
// it are done.
type readGate struct {
	epoch atomic.Uint64
	reads [2]atomic.Int64
}

// enter counts a read in the current epoch; the read takes itself off the
// count it is given when its transaction is over.
func (g *readGate) enter() *atomic.Int64 {
	for {
		e := g.epoch.Load()
		n := &g.reads[e%2]
		n.Add(1)
		if g.epoch.Load() == e {
			return n
		}
		n.Add(-1) // the epoch ended meanwhile: the read counts in the new one
	}
}

// view runs fn in a read transaction counted by s.reads. Reads that open a
// collection's ids index go through it.
func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	n := s.reads.enter()
	defer n.Add(-1)
	return s.db.View(fn)
}

// retirement is what the committer keeps of the generations it sealed
// until the reads of the epoch that ended with their seals are done.
type retirement struct {
	epoch uint64
	gens  []sealedGen
}

type sealedGen struct {
	of *memGenerations
	g  uint64
}

// retire lets the generations just sealed leave memory once no read begun
// before their seals is left. It ends the epoch, unless the reads of the
// one before are still under way: then these stay as the previous
// generation until the next seal (memGenerations keeps two).
func (s *Store) retire(sealed []sealedGen) {
	s.releaseRetired()
	if len(sealed) == 0 || len(s.retired.gens) > 0 {
		return
	}
	s.retired = retirement{epoch: s.reads.epoch.Add(1) - 1, gens: sealed}
	s.releaseRetired()
}

// releaseRetired drops the retired generations from memory if the reads of
// the epoch they were sealed in are done. The committer calls it after each
// commit and before it waits for each batch.
func (s *Store) releaseRetired() {
	if len(s.retired.gens) == 0 || s.reads.reads[s.retired.epoch%2].Load() != 0 {
		return
	}
	for _, r := range s.retired.gens {
		r.of.drop(r.g)
	}
	s.retired.gens = nil
}

// loadMemGens puts every collection's current generation in memory, from
// its log.
func (s *Store) loadMemGens(tx *bolt.Tx) error {
	err := tx.Bucket(bucketCollections).ForEachBucket(func(name []byte) error {
		c, _ := s.openCollection(tx, string(name))
		m := newMemGeneration(c.currentGen())
		if err := m.replay(c.root.Bucket(bucketIDLog)); err != nil {
			return fmt.Errorf("collection %s: %w", name, err)
		}
		s.memGensOf(string(name)).add(m)
		return nil
	})
	if err == nil {
		s.memLoaded.Store(true)
	}
	return err
}

// rollbackMemGens takes back from every current generation what write txid
// did, after it failed.
func (s *Store) rollbackMemGens(txid uint64) {
	s.memGens.Range(func(_, ms any) bool {
		for _, m := range ms.(*memGenerations).current() {
			m.rollback(txid)
		}
		return true
	})
}

// sealFull seals each current generation that is full, each in a write of
// its own: its entries are written out as a bucket, its filter kept, the
// next generation begun and the log emptied; the sealed ones are retired.
// A generation whose seal fails stays current (and a little over full)
// until the next write tries again.
func (s *Store) sealFull() {
	var sealed []sealedGen
	defer func() { s.retire(sealed) }()
	s.memGens.Range(func(id, ms any) bool {
		gens := ms.(*memGenerations)
		for _, m := range gens.current() {
			if m.keys < s.generationKeys() {
				continue
			}
			next := newMemGeneration(m.g + 1)
			gens.add(next)
			if err := s.db.Update(func(tx *bolt.Tx) error { return s.seal(tx, id.(string), m) }); err != nil {
				gens.drop(next.g)
				s.opts.Log.Error("sealing a generation of the ids index", "collection", id, "generation", m.g, "err", err)
				continue
			}
			sealed = append(sealed, sealedGen{gens, m.g})
		}
		return true
	})
}

func (s *Store) seal(tx *bolt.Tx, id string, m *memGeneration) error {
	c, ok := s.openCollection(tx, id)
	if !ok || c.currentGen() != m.g {
		return fmt.Errorf("generation %d is not the current one", m.g)
	}
	b, err := c.root.CreateBucket(chunkedName(m.g))
	if err != nil {
		return err
	}
	f, err := m.writeOut(b, uint64(tx.ID()))
	if err != nil {
		return err
	}
	if err := c.keepFilter(m.g, f); err != nil {
		return err
	}
	c.filters.set(m.g, f)
	if err := c.root.DeleteBucket(bucketIDLog); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
		return err
	}
	if _, err := c.root.CreateBucket(bucketIDLog); err != nil {
		return err
	}
	return c.root.Put(keyIDGen, be64(m.g+1))
}
