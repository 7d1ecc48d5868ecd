package audit

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// memLog is an audit log in memory, to craft logs verification must judge.
type memLog struct {
	records     []Record
	checkpoints []Checkpoint
	anchor      *Anchor
}

func (l *memLog) Records(fn func(Record) error) error {
	for _, r := range l.records {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (l *memLog) Checkpoints(fn func(Checkpoint) error) error {
	for _, c := range l.checkpoints {
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

func (l *memLog) Anchor() (*Anchor, error) { return l.anchor, nil }

var key = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

// sealedLog chains n records and signs a chained checkpoint after each
// record in at.
func sealedLog(n int, at ...uint64) *memLog {
	l := &memLog{}
	prev := Genesis
	for i := 1; i <= n; i++ {
		r := Record{Time: time.Unix(int64(i), 0), RequestID: "r", Action: ActionRead}
		r.Seal(uint64(i), prev)
		prev = r.Hash
		l.records = append(l.records, r)
		for _, seq := range at {
			if seq == uint64(i) {
				l.checkpoint(r)
			}
		}
	}
	return l
}

func (l *memLog) checkpoint(r Record) {
	c := Checkpoint{Seq: r.Seq, Head: r.Hash, Time: r.Time, Kind: CheckpointPeriodic}
	if n := len(l.checkpoints); n > 0 {
		c.Prev = l.checkpoints[n-1].Digest()
	}
	c.Sign(key)
	l.checkpoints = append(l.checkpoints, c)
}

func TestVerify(t *testing.T) {
	keys := []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}
	for _, tt := range []struct {
		name  string
		log   func() *memLog
		opts  VerifyOptions
		want  string // "" verifies
		check func(Result) bool
	}{
		{"intact", func() *memLog { return sealedLog(10, 5, 10) }, VerifyOptions{}, "", func(r Result) bool { return r.Records == 10 && r.Checkpoint == 10 }},
		{"a record altered", func() *memLog { l := sealedLog(10, 5, 10); l.records[3].Org = "x"; return l }, VerifyOptions{}, "record 4 was altered", nil},
		{"a record removed", func() *memLog {
			l := sealedLog(10, 5, 10)
			l.records = append(l.records[:3], l.records[4:]...)
			return l
		}, VerifyOptions{}, "record 4 is missing", nil},
		{"records unsealed", func() *memLog { return sealedLog(12, 5, 10) }, VerifyOptions{}, "2 records (11 to 12) are not covered", nil},
		{"records unsealed, allowed", func() *memLog { return sealedLog(12, 5, 10) }, VerifyOptions{AllowUnsealed: true}, "", func(r Result) bool { return r.Unsealed == 2 }},
		{"no checkpoint at all", func() *memLog { return sealedLog(3) }, VerifyOptions{}, "3 records (1 to 3) are not covered", nil},
		{"a middle checkpoint removed", func() *memLog {
			l := sealedLog(15, 5, 10, 15)
			l.checkpoints = append(l.checkpoints[:1], l.checkpoints[2:]...)
			return l
		}, VerifyOptions{}, "checkpoint 15 does not follow", nil},
		{"a checkpoint forged", func() *memLog { l := sealedLog(10, 5, 10); l.checkpoints[0].Head = Genesis; return l }, VerifyOptions{}, "checkpoint 5 (periodic) has an invalid signature", nil},
		{"the tail cut", func() *memLog { l := sealedLog(10, 5, 10); l.records = l.records[:8]; return l }, VerifyOptions{}, "checkpoint 10 vouches for records after 8", nil},
		{"cut back to an earlier checkpoint, caught by MinSeq", func() *memLog {
			l := sealedLog(10, 5, 10)
			l.records, l.checkpoints = l.records[:5], l.checkpoints[:1]
			return l
		}, VerifyOptions{MinSeq: 10}, "cut back", nil},
		{"a head kept that the log lost", func() *memLog {
			l := sealedLog(10, 5, 10)
			l.records, l.checkpoints = l.records[:5], l.checkpoints[:1]
			return l
		}, VerifyOptions{Head: &Checkpoint{Seq: 10, Head: strings.Repeat("a", 64)}}, "not in the log", nil},
		{"pruned, with a signed anchor", func() *memLog {
			l := sealedLog(10, 5, 10)
			a := Anchor{FirstSeq: 6, FirstPrev: l.records[4].Hash, Time: time.Unix(99, 0)}
			a.Sign(key)
			l.records, l.anchor = l.records[5:], &a
			return l
		}, VerifyOptions{}, "", func(r Result) bool { return r.FirstSeq == 6 && r.Records == 5 }},
		{"pruned, the anchor forged", func() *memLog {
			l := sealedLog(10, 5, 10)
			a := Anchor{FirstSeq: 6, FirstPrev: l.records[4].Hash}
			a.Sign(key)
			a.FirstSeq = 7
			l.records, l.anchor = l.records[6:], &a
			return l
		}, VerifyOptions{}, "anchor", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Keys = keys
			res, err := Verify(tt.log(), tt.opts)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("%v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("%v, want %q", err, tt.want)
			case tt.check != nil && !tt.check(res):
				t.Fatalf("result %+v", res)
			}
		})
	}
}

func TestBound(t *testing.T) {
	huge := strings.Repeat("é", 10000)
	r := Record{Path: huge, UserAgent: huge, Subject: huge, ClientRequestID: huge}
	for range MaxListed + 5 {
		r.Stored = append(r.Stored, ObjectVersion{ID: huge})
	}
	r.Refused = make([]ObjectVersion, 3)
	r.Bound()
	if len(r.Path) > MaxField || len(r.UserAgent) > 256 || len(r.Subject) > 256 || len(r.ClientRequestID) > 64 || !strings.HasSuffix(r.Path, "…") {
		t.Fatalf("fields of %d, %d, %d, %d bytes", len(r.Path), len(r.UserAgent), len(r.Subject), len(r.ClientRequestID))
	}
	if len(r.Stored) != MaxListed || len(r.Refused) != 0 || r.Omitted != 8 || len(r.Stored[0].ID) > 300 {
		t.Fatalf("lists of %d and %d, %d omitted", len(r.Stored), len(r.Refused), r.Omitted)
	}
	r.Bound() // idempotent: sealing again after a retried commit
	if r.Omitted != 8 {
		t.Fatalf("bound twice: %d omitted", r.Omitted)
	}
}

// Checkpoints of older builds named no key: the legacy key (the hub's token
// key then) verifies them, and only it.
func TestVerify_LegacyCheckpoints(t *testing.T) {
	l := sealedLog(5)
	c := Checkpoint{Seq: 5, Head: l.records[4].Hash, Time: l.records[4].Time, Kind: CheckpointShutdown}
	c.Signature = hex.EncodeToString(ed25519.Sign(key, c.signed()))
	l.checkpoints = []Checkpoint{c}
	pub := key.Public().(ed25519.PublicKey)
	if _, err := Verify(l, VerifyOptions{LegacyKey: pub}); err != nil {
		t.Fatalf("with the legacy key: %v", err)
	}
	if _, err := Verify(l, VerifyOptions{Keys: []ed25519.PublicKey{pub}}); err == nil {
		t.Fatal("a checkpoint that names no key verified with an audit key")
	}
}

// Seal's JSON is what encoding the sealed record gives, and it verifies:
// the record is encoded once, not once for its hash and again to keep it.
func TestSeal_ReturnsTheRecordAsKept(t *testing.T) {
	at := time.Date(2026, 11, 30, 7, 0, 0, 123456789, time.FixedZone("EST", -5*3600))
	first := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range []Record{
		{Time: at, RequestID: "r1", AuthMethod: "jwt", RemoteAddr: "192.0.2.1", Method: "GET", Path: "/x/", Action: ActionRead, Status: 200, Returned: 1, AddedFirst: &first, AddedLast: &first},
		{Time: at, RequestID: "r2", Subject: "caf\u00e9 \"q\" <b>", Stored: []ObjectVersion{{ID: "indicator--1", Version: "v"}}},
	} {
		raw := r.Seal(7, Genesis)
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if string(raw) != string(want) {
			t.Fatalf("Seal returned\n%s\nencoding the sealed record gives\n%s", raw, want)
		}
		var back Record
		if err := json.Unmarshal(raw, &back); err != nil || !back.Sealed() || back.Hash != r.Hash || back.Seq != 7 {
			t.Fatalf("the kept JSON does not verify: %v %+v", err, back)
		}
	}
}

// The buffer a record is encoded into is sized from the record: the
// encoding and its hash fit, for every field set to its longest number and
// for a write's thousand versions.
func TestEncodedSize_HoldsTheSealedRecord(t *testing.T) {
	at := time.Date(2026, 12, 31, 23, 59, 59, 999999000, time.UTC)
	every := Record{Time: at, RequestID: "r", ClientRequestID: "c", Org: "o", Subject: "s", TokenID: "t", AuthMethod: "a", RemoteAddr: "192.0.2.1",
		UserAgent: "u", Method: "GET", Path: "/p/", APIRoot: "x", Collection: "y", Action: ActionRead, Status: math.MinInt, Reason: "why",
		Claimed: "k", ClaimedOrg: "z", Returned: math.MinInt, AddedFirst: &at, AddedLast: &at, Omitted: math.MinInt}
	write := Record{Time: at, RequestID: "r", AuthMethod: "jwt", RemoteAddr: "192.0.2.1", Method: "POST", Path: "/p/", Action: ActionWrite, Status: 202}
	for i := range 1000 {
		v := ObjectVersion{ID: fmt.Sprintf("indicator--%08d-1c1e-4c1e-8c1e-1c1e1c1e1c1e", i), Version: "2026-11-30T07:00:00.123Z"}
		write.Stored = append(write.Stored, v)
		write.Refused = append(write.Refused, ObjectVersion{ID: v.ID})
	}
	for _, r := range []Record{every, write} {
		r.Seq, r.Prev = math.MaxUint64, Genesis // as Seal sets them before encoding
		size := r.encodedSize()
		if raw := r.Seal(r.Seq, r.Prev); len(raw) > size {
			t.Errorf("%s record: %d bytes sealed, %d estimated", r.Method, len(raw), size)
		}
	}
}

// FuzzCanonical holds the hand-written encoding of records to what
// encoding/json gives (the encoding the log's hashes have always covered).
func FuzzCanonical(f *testing.F) {
	f.Add(uint64(1), int64(1764489600), int64(123456789), 0, "req", "fbi", "/a/<b>&c\u2028", "caf\u00e9\x00\x1f\"\\", "\xff\xfe", 200, 3)
	f.Add(uint64(0), int64(0), int64(0), -3600, "", "", "", "", "", 0, 0)
	f.Fuzz(func(t *testing.T, seq uint64, sec, nsec int64, offset int, id, org, path, subject, ua string, status, n int) {
		at := time.Unix(sec%253402300799, nsec).In(time.FixedZone("z", offset%86400))
		if at.Year() < 0 || at.Year() > 9999 {
			return
		}
		r := Record{Seq: seq, Time: at, RequestID: id, Org: org, Subject: subject, UserAgent: ua, Method: "GET", Path: path,
			Status: status, Reason: subject, Returned: n, Omitted: -n, Prev: org, Hash: id}
		if n%2 == 0 {
			r.AddedFirst, r.AddedLast = &at, &at
			r.Stored = []ObjectVersion{{ID: path, Version: ua}, {ID: id}}
			r.Deleted = []ObjectVersion{}
		}
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.appendCanonical(nil); string(got) != string(want) {
			t.Fatalf("appendCanonical\n%s\njson.Marshal\n%s", got, want)
		}
	})
}

// BenchmarkSeal seals the record of a single-object GET.
func BenchmarkSeal(b *testing.B) {
	first := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		r := Record{Time: time.Now(), RequestID: "d3b07384d113edec49eaa6238ad5ff00", Org: "fbi", Subject: "liaison", TokenID: "0f1e2d3c", AuthMethod: "jwt",
			RemoteAddr: "192.0.2.7", UserAgent: "taxii2-client/2.3.0", Method: "GET", Path: "/election2020/collections/indicators/objects/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f/",
			APIRoot: "election2020", Collection: "indicators", Action: ActionRead, Status: 200, Returned: 1, AddedFirst: &first, AddedLast: &first}
		r.Seal(42, Genesis)
	}
}
