package boltstore

import (
	"encoding/binary"
	"time"

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
// needs, then the raw JSON. Lengths are uvarints.
//
//	len(id), id, version key (12), len(version text), version text,
//	len(spec_version), spec_version, raw JSON
func encodeRecord(o store.Object, verKey []byte) []byte {
	b := make([]byte, 0, 3*binary.MaxVarintLen16+len(o.ID)+12+len(o.VersionText)+len(o.SpecVersion)+len(o.Raw))
	b = appendField(b, o.ID)
	b = append(b, verKey...)
	b = appendField(b, o.VersionText)
	b = appendField(b, o.SpecVersion)
	return append(b, o.Raw...)
}

func appendField(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// record is a decoded objects-bucket value; its slices alias the value.
type record struct {
	id, verKey, verText, spec, raw []byte
}

func decodeRecord(v []byte) (record, bool) {
	var r record
	var ok bool
	if r.id, v, ok = field(v); !ok || len(v) < 12 {
		return r, false
	}
	r.verKey, v = v[:12], v[12:]
	if r.verText, v, ok = field(v); !ok {
		return r, false
	}
	if r.spec, v, ok = field(v); !ok {
		return r, false
	}
	r.raw = v
	return r, true
}

func field(v []byte) (f, rest []byte, ok bool) {
	n, w := binary.Uvarint(v)
	if w <= 0 || uint64(len(v)-w) < n {
		return nil, nil, false
	}
	end := w + int(n)
	return v[w:end], v[end:], true
}
