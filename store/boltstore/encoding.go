package boltstore

import (
	"encoding/binary"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/taxiihub/taxiihub/store"
)

func be64(v uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v)
}

// versionKey encodes an instant so that byte order is time order: seconds
// with the sign bit flipped, then nanoseconds.
func versionKey(t time.Time) []byte {
	k := make([]byte, 0, 12)
	k = binary.BigEndian.AppendUint64(k, uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint32(k, uint32(t.Nanosecond()))
}

func versionTime(k []byte) time.Time {
	sec := int64(binary.BigEndian.Uint64(k[:8]) ^ (1 << 63))
	return time.Unix(sec, int64(binary.BigEndian.Uint32(k[8:12]))).UTC()
}

// idPrefix is the ids-bucket prefix of every version of id. A fresh slice
// with room for the version key.
func idPrefix(id string) []byte {
	k := make([]byte, 0, len(id)+1+12)
	k = append(k, id...)
	return append(k, 0)
}

func typeKey(typ string, dateAdded uint64) []byte {
	k := make([]byte, 0, len(typ)+1+8)
	k = append(k, typ...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, dateAdded)
}

// A record is the objects-bucket value: the fields an index or a response
// needs, then the object's JSON, S2-compressed when that makes it shorter
// (realistic objects by about a fifth). Lengths are uvarints.
//
//	len(id), id, version key (12), len(version text), version text,
//	len(spec_version), spec_version, JSON
//
// A compressed record is the same with a 0 byte in front (no id is empty,
// so a plain record never starts with one). Files of schema 4 and before
// hold plain records only.
func encodeRecord(o store.Object, verKey []byte) []byte {
	maxPacked := s2.MaxEncodedLen(len(o.Raw))
	b := make([]byte, 1, 1+3*binary.MaxVarintLen16+len(o.ID)+12+len(o.VersionText)+len(o.SpecVersion)+max(maxPacked, len(o.Raw)))
	b = appendField(b, o.ID)
	b = append(b, verKey...)
	b = appendField(b, o.VersionText)
	b = appendField(b, o.SpecVersion)
	if maxPacked > 0 {
		if packed := s2.Encode(b[len(b):cap(b)], o.Raw); len(packed) < len(o.Raw) {
			return b[:len(b)+len(packed)]
		}
	}
	return append(b[1:], o.Raw...)
}

// appendField appends s with its length (uvarint) before it.
func appendField[S string | []byte](b []byte, s S) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// record is a decoded objects-bucket value; its slices alias the value.
type record struct {
	id, verKey, verText, spec []byte
	json                      []byte // the object's JSON, S2-compressed if packed
	packed                    bool
}

func decodeRecord(v []byte) (record, bool) {
	var r record
	var ok bool
	if len(v) > 0 && v[0] == 0 {
		r.packed, v = true, v[1:]
	}
	if r.id, v, ok = field(v); !ok || len(r.id) == 0 || len(v) < 12 {
		return r, false
	}
	r.verKey, v = v[:12], v[12:]
	if r.verText, v, ok = field(v); !ok {
		return r, false
	}
	if r.spec, v, ok = field(v); !ok {
		return r, false
	}
	r.json = v
	return r, true
}

// jsonLen is the length of the object's JSON, -1 if a compressed one is
// corrupt.
func (r record) jsonLen() int {
	if !r.packed {
		return len(r.json)
	}
	n, err := s2.DecodedLen(r.json)
	if err != nil {
		return -1
	}
	return n
}

// decodeJSON returns the object's JSON: the record's own bytes when it is
// stored plain, else decompressed into dst (which must hold jsonLen bytes).
func (r record) decodeJSON(dst []byte) ([]byte, error) {
	if !r.packed {
		return r.json, nil
	}
	return s2.Decode(dst, r.json)
}

func field(v []byte) (f, rest []byte, ok bool) {
	n, w := binary.Uvarint(v)
	if w <= 0 || uint64(len(v)-w) < n {
		return nil, nil, false
	}
	end := w + int(n)
	return v[w:end], v[end:], true
}
