package boltstore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/taxiihub/taxiihub/store"
	bolt "go.etcd.io/bbolt"
)

// errCorrupt reports a record this build cannot decode.
var errCorrupt = errors.New("corrupt record")

// Query implements store.Store. It picks the cheapest index for q: the ids
// bucket when ids are given, the types bucket when types are, else a scan
// of objects from q.AddedAfter. Each costs in proportion to what it reads,
// not to the collection's size.
func (s *Store) Query(ctx context.Context, collectionID string, q store.Query, fn func(store.Page) error) error {
	if q.Limit <= 0 {
		return fmt.Errorf("query limit %d: must be positive", q.Limit)
	}
	open := s.openCollection
	if len(q.IDs) > 0 {
		open = s.openObjects // byIDs reads neither types nor revised
	}
	return s.view(func(tx *bolt.Tx) error {
		c, ok := open(tx, collectionID)
		if !ok {
			return fn(store.Page{})
		}
		if err := s.inMemory(c); err != nil {
			return err
		}
		r := &reader{ctx: ctx, c: c, q: q, limit: q.Limit, after: afterKey(q.AddedAfter)}
		defer r.release()
		var err error
		switch {
		case len(q.IDs) > 0:
			err = r.byIDs()
		case len(q.Types) > 0:
			err = r.byTypes()
		default:
			err = r.scan()
		}
		if err != nil {
			return fmt.Errorf("collection %s: %w", collectionID, err)
		}
		page := store.Page{Entries: r.entries}
		if len(page.Entries) > r.limit {
			page.Entries, page.More = page.Entries[:r.limit], true
		}
		return fn(page)
	})
}

// afterKey is the smallest date_added (µs) strictly after t.
func afterKey(t time.Time) uint64 {
	if t.IsZero() || t.UnixMicro() < 0 {
		return 0
	}
	return uint64(t.UnixMicro()) + 1
}

// reader gathers one page: up to Limit+1 entries, the extra one telling
// whether there are more.
type reader struct {
	ctx      context.Context
	c        collection
	q        store.Query
	limit    int // q.Limit, or fewer once the page reaches q.MaxBytes
	bytes    int
	after    uint64 // first date_added to consider
	entries  []store.Entry
	versions []objectVersion // reused by versionsOf
	seen     int
	unpacked []*[]byte // buffers holding the page's decompressed JSON
}

func (r *reader) full() bool { return len(r.entries) > r.limit }

// checkCancel looks at the context every so often during long scans.
func (r *reader) checkCancel() error {
	r.seen++
	if r.seen%1024 == 0 {
		return r.ctx.Err()
	}
	return nil
}

// scan walks objects in date_added order from r.after.
func (r *reader) scan() error {
	cur := r.c.objects.Cursor()
	for k, v := cur.Seek(be64(r.after)); k != nil && !r.full(); k, v = cur.Next() {
		if err := r.checkCancel(); err != nil {
			return err
		}
		if err := r.consider(k, v); err != nil {
			return err
		}
	}
	return nil
}

// byTypes merges the per-type index ranges in date_added order.
func (r *reader) byTypes() error {
	var heads []*typeHead
	for _, typ := range dedupe(r.q.Types) {
		h := &typeHead{cur: r.c.types.Cursor(), prefix: append([]byte(typ), 0)}
		h.move(h.cur.Seek(typeKey(typ, r.after)))
		heads = append(heads, h)
	}
	for !r.full() {
		var next *typeHead
		for _, h := range heads {
			if h.added != nil && (next == nil || bytes.Compare(h.added, next.added) < 0) {
				next = h
			}
		}
		if next == nil {
			return nil
		}
		if err := r.checkCancel(); err != nil {
			return err
		}
		v := r.c.objects.Get(next.added)
		if v == nil {
			return fmt.Errorf("type index names missing object at %x: %w", next.added, errCorrupt)
		}
		if err := r.consider(next.added, v); err != nil {
			return err
		}
		next.move(next.cur.Next())
	}
	return nil
}

// typeHead walks one type's range of the types bucket.
type typeHead struct {
	cur    *bolt.Cursor
	prefix []byte
	added  []byte // date_added key at the cursor; nil past the type's range
}

func (h *typeHead) move(k, _ []byte) {
	h.added = nil
	if bytes.HasPrefix(k, h.prefix) && len(k) == len(h.prefix)+8 {
		h.added = k[len(h.prefix):]
	}
}

// byIDs reads every version of the given ids and sorts those that match.
func (r *reader) byIDs() error {
	var hits [][]byte // date_added keys
	for _, id := range dedupe(r.q.IDs) {
		if !r.typeAllowed(id) {
			continue
		}
		r.versions = r.c.versionsOf(id, r.versions[:0])
		for i, v := range r.versions {
			if v.added >= r.after && selected(r.versions, i, r.q.Versions, r.q.SpecVersions) {
				hits = append(hits, be64(v.added))
			}
		}
	}
	slices.SortFunc(hits, bytes.Compare)
	for _, k := range hits {
		if r.full() {
			break
		}
		v := r.c.objects.Get(k)
		if v == nil {
			return fmt.Errorf("id index names missing object at %x: %w", k, errCorrupt)
		}
		rec, ok := decodeRecord(v)
		if !ok {
			return fmt.Errorf("object at %x: %w", k, errCorrupt)
		}
		if err := r.emit(k, rec); err != nil {
			return err
		}
	}
	return nil
}

// consider adds the object version at date_added key k if it passes the
// type, spec_version and version filters.
func (r *reader) consider(k, v []byte) error {
	rec, ok := decodeRecord(v)
	if !ok {
		return fmt.Errorf("object at %x: %w", k, errCorrupt)
	}
	id := string(rec.id)
	if !r.typeAllowed(id) {
		return nil
	}
	if r.q.Versions.All && r.q.SpecVersions != nil {
		// Nothing depends on the object's other versions.
		if slices.Contains(r.q.SpecVersions, string(rec.spec)) {
			return r.emit(k, rec)
		}
		return nil
	}
	if r.c.revised != nil && r.c.revised.Get(rec.id) == nil {
		// Never revised: this is the object's one version, no lookup needed
		// to know that it is the first and the last.
		if selected([]objectVersion{{key: rec.verKey, spec: rec.spec}}, 0, r.q.Versions, r.q.SpecVersions) {
			return r.emit(k, rec)
		}
		return nil
	}
	r.versions = r.c.versionsOf(id, r.versions[:0])
	for i, ov := range r.versions {
		if bytes.Equal(ov.key, rec.verKey) {
			if selected(r.versions, i, r.q.Versions, r.q.SpecVersions) {
				return r.emit(k, rec)
			}
			return nil
		}
	}
	return fmt.Errorf("object %s at %x is missing from the id index: %w", id, k, errCorrupt)
}

func (r *reader) typeAllowed(id string) bool {
	if len(r.q.Types) == 0 {
		return true
	}
	typ, _, _ := strings.Cut(id, "--")
	return slices.Contains(r.q.Types, typ)
}

// emit adds the object version at date_added key k to the page. The entry
// past the page's end, there only to tell that more follow, goes without
// its JSON.
func (r *reader) emit(k []byte, rec record) error {
	var raw []byte
	if len(r.entries) < r.limit {
		var err error
		if raw, err = r.objectJSON(rec); err != nil {
			return fmt.Errorf("object at %x: %w: %v", k, errCorrupt, err)
		}
		r.bytes += len(raw)
		if r.q.MaxBytes > 0 && r.bytes >= r.q.MaxBytes {
			r.limit = len(r.entries) + 1 // this one ends the page
		}
	}
	r.entries = append(r.entries, store.Entry{
		ID:          string(rec.id),
		Version:     string(rec.verText),
		SpecVersion: string(rec.spec),
		DateAdded:   time.UnixMicro(int64(binary.BigEndian.Uint64(k))).UTC(),
		Raw:         raw,
	})
	return nil
}

// unpackBuffer is the size of the buffers a page's decompressed JSON is
// gathered in (an object larger than one gets a buffer of its own).
const unpackBuffer = 256 << 10

var unpackBuffers = sync.Pool{New: func() any { b := make([]byte, 0, unpackBuffer); return &b }}

// objectJSON is rec's JSON: the record's own bytes when stored plain, else
// decompressed into one of r's buffers, valid until release.
func (r *reader) objectJSON(rec record) ([]byte, error) {
	if !rec.packed {
		return rec.json, nil
	}
	n := rec.jsonLen()
	if n < 0 {
		return nil, errors.New("compressed JSON without a valid length")
	}
	var buf *[]byte
	if len(r.unpacked) > 0 {
		buf = r.unpacked[len(r.unpacked)-1]
	}
	if buf == nil || cap(*buf)-len(*buf) < n {
		if n <= unpackBuffer {
			buf = unpackBuffers.Get().(*[]byte)
		} else {
			b := make([]byte, 0, n)
			buf = &b
		}
		r.unpacked = append(r.unpacked, buf)
	}
	used := len(*buf)
	out, err := rec.decodeJSON((*buf)[used : used+n])
	if err != nil {
		return nil, err
	}
	*buf = (*buf)[:used+n]
	return out, nil
}

// release gives back the buffers of the page's JSON, once it is answered.
func (r *reader) release() {
	for _, buf := range r.unpacked {
		if cap(*buf) == unpackBuffer {
			*buf = (*buf)[:0]
			unpackBuffers.Put(buf)
		}
	}
	r.unpacked = nil
}

// objectVersion is one version of an object as the ids bucket holds it.
// Its slices alias the transaction's pages.
type objectVersion struct {
	key   []byte // version key (12 bytes)
	added uint64
	spec  []byte
	text  string // the version as the object spells it, when needed
	gen   uint64 // the generation of the ids index that holds it
}

// versionsOf lists the versions of id in ascending version order,
// appending to buf.
func (c collection) versionsOf(id string, buf []objectVersion) []objectVersion {
	_, _, versions := c.entriesOf(id, buf)
	return versions
}

// selected reports whether the version filters choose versions[i] among an
// object's versions (ascending). spec_version narrows the candidates first
// (to specs, or else to the newest spec_version the object has); then
// first, last, all and explicit instants choose among the candidates.
func selected(versions []objectVersion, i int, vm store.VersionMatch, specs []string) bool {
	candidate := func(v objectVersion) bool { return slices.Contains(specs, string(v.spec)) }
	if specs == nil {
		newest := versions[0].spec
		for _, v := range versions[1:] {
			if compareSpec(v.spec, newest) > 0 {
				newest = v.spec
			}
		}
		candidate = func(v objectVersion) bool { return bytes.Equal(v.spec, newest) }
	}
	if !candidate(versions[i]) {
		return false
	}
	if vm.IsZero() {
		vm.Last = true
	}
	if vm.All {
		return true
	}
	if len(vm.At) > 0 {
		t := versionTime(versions[i].key)
		if slices.ContainsFunc(vm.At, t.Equal) {
			return true
		}
	}
	if vm.First && !slices.ContainsFunc(versions[:i], candidate) {
		return true
	}
	return vm.Last && !slices.ContainsFunc(versions[i+1:], candidate)
}

// compareSpec orders spec_version strings such as "2.0" and "2.1".
func compareSpec(a, b []byte) int {
	if len(a) != len(b) {
		return cmp.Compare(len(a), len(b))
	}
	return bytes.Compare(a, b)
}

func dedupe(list []string) []string {
	out := slices.Clone(list)
	slices.Sort(out)
	return slices.Compact(out)
}
