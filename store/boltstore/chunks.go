package boltstore

import (
	"bytes"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// A sealed generation of the ids index is stored in chunks: its entries,
// in key order, packed a dozen or so at a time into one value each
// (length-prefixed key, length-prefixed value, and so on), under the first
// key it holds. Writing a generation of 131,072 entries so is about ten
// thousand Puts rather than one per entry; its pages are full; and a lookup
// is one seek in a small B+tree, then a scan of one chunk. Generation g's
// chunks are the bucket "idc<g>". (Files before schema 6 kept one entry per
// key, in the bucket "ids<g>"; opening them converts those, see
// chunkOldGenerations.)

// chunkBytes is about how many bytes of entries a chunk holds: four
// chunks and their keys fill a 4 KiB page, eighteen a 16 KiB one. (A chunk
// of a whole 4 KiB page took a lookup 0.7 µs longer to scan:
// BenchmarkQueryByID.)
const chunkBytes = 860

var chunkedNames = func() (names [256][]byte) {
	for g := range names {
		names[g] = makeChunkedName(uint64(g))
	}
	return names
}()

func chunkedName(g uint64) []byte {
	if g < uint64(len(chunkedNames)) {
		return chunkedNames[g]
	}
	return makeChunkedName(g)
}

func makeChunkedName(g uint64) []byte { return strconv.AppendUint([]byte("idc"), g, 10) }

// chunkWriter writes a generation's entries, given in key order, as chunks.
type chunkWriter struct {
	b     *bolt.Bucket
	first []byte
	chunk []byte
}

func newChunkWriter(b *bolt.Bucket) *chunkWriter {
	b.FillPercent = 1.0 // written in key order, never added to
	return &chunkWriter{b: b}
}

func (w *chunkWriter) add(k, v []byte) error {
	if w.chunk == nil {
		w.first, w.chunk = bytes.Clone(k), make([]byte, 0, chunkBytes+256)
	}
	w.chunk = appendField(appendField(w.chunk, k), v)
	if len(w.chunk) >= chunkBytes {
		return w.flush()
	}
	return nil
}

// flush writes the chunk being filled. bbolt keeps the value (not the key)
// until the commit: each chunk is a slice of its own.
func (w *chunkWriter) flush() error {
	if w.chunk == nil {
		return nil
	}
	err := w.b.Put(w.first, w.chunk)
	w.first, w.chunk = nil, nil
	return err
}

// seekChunk moves cur to the chunk that holds key, if any does: the last
// whose first key is not after key.
func seekChunk(cur *bolt.Cursor, key []byte) (k, v []byte) {
	k, v = cur.Seek(key)
	switch {
	case k == nil:
		return cur.Last()
	case bytes.Equal(k, key):
		return k, v
	}
	if pk, pv := cur.Prev(); pk != nil {
		return pk, pv
	}
	return cur.First()
}

// chunkEntries calls fn with each entry of the chunked generation b whose
// key starts with prefix, in key order. The slices alias the page.
func chunkEntries(b *bolt.Bucket, prefix []byte, fn func(k, v []byte)) error {
	cur := b.Cursor()
	for ck, chunk := seekChunk(cur, prefix); ck != nil; ck, chunk = cur.Next() {
		for len(chunk) > 0 {
			k, v, rest, ok := chunkEntry(chunk)
			if !ok {
				return fmt.Errorf("chunk %q: %w", ck, errCorrupt)
			}
			chunk = rest
			if bytes.Compare(k, prefix) < 0 {
				continue
			}
			if !bytes.HasPrefix(k, prefix) {
				return nil
			}
			fn(k, v)
		}
	}
	return nil
}

// forEachChunkEntry calls fn with every entry of the chunked generation b.
func forEachChunkEntry(b *bolt.Bucket, fn func(k, v []byte) error) error {
	return b.ForEach(func(ck, chunk []byte) error {
		for len(chunk) > 0 {
			k, v, rest, ok := chunkEntry(chunk)
			if !ok {
				return fmt.Errorf("chunk %q: %w", ck, errCorrupt)
			}
			if err := fn(k, v); err != nil {
				return err
			}
			chunk = rest
		}
		return nil
	})
}

// deleteChunkEntry removes the entry under key from the chunked generation
// b, if it is there.
func deleteChunkEntry(b *bolt.Bucket, key []byte) error {
	cur := b.Cursor()
	ck, chunk := seekChunk(cur, key)
	if ck == nil {
		return nil
	}
	for off := 0; off < len(chunk); {
		k, _, rest, ok := chunkEntry(chunk[off:])
		if !ok {
			return fmt.Errorf("chunk %q: %w", ck, errCorrupt)
		}
		end := len(chunk) - len(rest)
		if bytes.Equal(k, key) {
			if off == 0 && end == len(chunk) {
				return b.Delete(bytes.Clone(ck))
			}
			// The chunk keeps its key, the first it held: still not after
			// any key in it, so seekChunk finds them.
			return b.Put(bytes.Clone(ck), append(bytes.Clone(chunk[:off]), chunk[end:]...))
		}
		off = end
	}
	return nil
}

func chunkEntry(chunk []byte) (k, v, rest []byte, ok bool) {
	if k, rest, ok = field(chunk); !ok {
		return nil, nil, nil, false
	}
	v, rest, ok = field(rest)
	return k, v, rest, ok
}
