// Package storetest is the conformance suite every store.Store backend must
// pass: filters, versions, pagination, deletes, statuses and concurrent
// writers, all through the public interface.
package storetest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/stix"
	"github.com/taxiihub/taxiihub/store"
)

// Run runs the suite, in the parts store.Store is made of. open returns a
// fresh, empty store that signs audit checkpoints with key, every 5
// records; Run closes it.
func Run(t *testing.T, open func(t *testing.T, key ed25519.PrivateKey) store.Store) {
	for _, part := range []struct {
		name  string
		tests []conformanceTest
	}{
		{"Objects", objectTests},
		{"Statuses", statusTests},
		{"AuditTrail", auditTests},
		{"Operations", operationTests},
	} {
		t.Run(part.name, func(t *testing.T) {
			for _, tt := range part.tests {
				t.Run(tt.name, func(t *testing.T) {
					s := open(t, testKey)
					defer s.Close()
					tt.fn(t, s)
					Check(t, s, testKeys)
				})
			}
		})
	}
}

// Check fails t unless the store's audit log verifies with keys (records after the
// newest checkpoint allowed) and, for a backend that can check itself
// (a Check(ctx) error method), its indexes agree with its objects. Tests
// run it on every store they leave behind.
func Check(t testing.TB, s store.Store, keys []ed25519.PublicKey) {
	t.Helper()
	if _, err := audit.Verify(store.AuditLog(ctx, s), audit.VerifyOptions{Keys: keys, AllowUnsealed: true}); err != nil {
		t.Errorf("the audit log left behind: %v", err)
	}
	if c, ok := s.(interface{ Check(context.Context) error }); ok {
		if err := c.Check(ctx); err != nil {
			t.Errorf("the store left behind: %v", err)
		}
	}
}

type conformanceTest struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

var (
	objectTests = []conformanceTest{
		{"AddThenQueryReturnsRawBytesInDateAddedOrder", testAddThenQuery},
		{"SameVersionTwiceIsStoredOnce", testIdempotentAdd},
		{"VersionMatch", testVersionMatch},
		{"SpecVersionDefaultsToNewest", testSpecVersion},
		{"AddedAfterIsExclusive", testAddedAfter},
		{"TypeAndIDFilters", testTypeAndIDFilters},
		{"PagesCoverEverythingOnce", testPagination},
		{"MaxBytesEndsAPageEarly", testMaxBytes},
		{"UnversionedObjectsUseDateAdded", testUnversioned},
		{"Delete", testDelete},
		{"UnknownCollectionIsEmpty", testUnknownCollection},
		{"ConcurrentWritersGetDistinctDateAdded", testConcurrentWriters},
		{"VersioningRulesAgainstStoredVersions", testVersioningRules},
		{"OnlyTheOwnerOrAnAdminChangesAnObject", testOwnership},
	}
	statusTests = []conformanceTest{
		{"Status", testStatus},
	}
	auditTests = []conformanceTest{
		{"AuditChainVerifies", testAuditChain},
		{"AuditRecordOfAWriteIsInItsTransaction", testAuditOfWrites},
		{"ConcurrentAuditsChainInOrder", testConcurrentAudits},
		{"PruneKeepsTheChainVerifiable", testPrune},
		{"AuditFromSkipsOlderSegments", testAuditFrom},
		{"CheckpointsSealChainAndAreNeverReplaced", testCheckpointChain},
	}
	operationTests = []conformanceTest{
		{"ReadyAndBackup", testReadyAndBackup},
	}
)

// member writes most of the suite's objects; other and admin test
// ownership.
var (
	member = store.Author{Org: "fbi"}
	other  = store.Author{Org: "google"}
	admin  = store.Author{Org: "dhs", Admin: true}
)

// testKey signs the suite's checkpoints; testKeys verify them.
var (
	testKey  = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	testKeys = []ed25519.PublicKey{testKey.Public().(ed25519.PublicKey)}
)

const coll = "5f3c6a1e-8a43-4d0e-9c55-3c1f2b6f7a10"

var ctx = context.Background()

// Obj builds a store.Object for id at version (RFC 3339), with spec 2.1 and
// a small JSON body that names both.
func Obj(id, version string) store.Object {
	typ := id[:len(id)-38]
	o := store.Object{Meta: stix.Meta{ID: id, Type: typ, SpecVersion: "2.1", VersionText: version}}
	if version != "" {
		v, err := time.Parse(time.RFC3339Nano, version)
		if err != nil {
			panic(err)
		}
		o.Version = v
	}
	o.Raw = fmt.Appendf(nil, `{"type":%q,"id":%q,"modified":%q,"x_note":"é ✓"}`, typ, id, version)
	return o
}

func add(t *testing.T, s store.Store, objs ...store.Object) *store.Status {
	t.Helper()
	st := &store.Status{ID: fmt.Sprintf("status-%d", time.Now().UnixNano()), Collection: coll, Total: len(objs)}
	if err := s.Add(ctx, coll, member, objs, st, &audit.Record{Action: audit.ActionWrite}); err != nil {
		t.Fatalf("Add: %v", err)
	}
	return st
}

// entry is the comparable part of a store.Entry.
type entry struct{ ID, Version string }

func query(t *testing.T, s store.Store, q store.Query) ([]store.Entry, bool) {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 1000
	}
	var got []store.Entry
	var more bool
	err := s.Query(ctx, coll, q, func(p store.Page) error {
		for _, e := range p.Entries {
			e.Raw = slices.Clone(e.Raw)
			got = append(got, e)
		}
		more = p.More
		return nil
	})
	if err != nil {
		t.Fatalf("Query(%+v): %v", q, err)
	}
	return got, more
}

func ids(es []store.Entry) []entry {
	out := make([]entry, len(es))
	for i, e := range es {
		out[i] = entry{e.ID, e.Version}
	}
	return out
}

func want(t *testing.T, got []store.Entry, want ...entry) {
	t.Helper()
	if !slices.Equal(ids(got), want) {
		t.Fatalf("got %v\nwant %v", ids(got), want)
	}
}

const (
	ind1 = "indicator--11111111-1111-4111-8111-111111111111"
	ind2 = "indicator--22222222-2222-4222-8222-222222222222"
	mal1 = "malware--33333333-3333-4333-8333-333333333333"
	ta1  = "threat-actor--44444444-4444-4444-8444-444444444444"
	dom1 = "domain-name--55555555-5555-4555-8555-555555555555"
	v1   = "2020-10-01T00:00:00.000Z"
	v2   = "2020-10-02T00:00:00.000Z"
	v3   = "2020-10-03T00:00:00.000Z"
)

func testAddThenQuery(t *testing.T, s store.Store) {
	objs := []store.Object{Obj(ind1, v1), Obj(mal1, v1), Obj(ta1, v2)}
	st := add(t, s, objs...)
	if len(st.Successes) != 3 || st.Successes[2] != (store.Detail{ID: ta1, Version: v2}) {
		t.Fatalf("successes = %+v", st.Successes)
	}
	got, more := query(t, s, store.Query{})
	want(t, got, entry{ID: ind1, Version: v1}, entry{mal1, v1}, entry{ta1, v2})
	if more {
		t.Error("more = true on the only page")
	}
	for i, e := range got {
		if string(e.Raw) != string(objs[i].Raw) {
			t.Errorf("raw %d = %s, want %s", i, e.Raw, objs[i].Raw)
		}
		if e.SpecVersion != "2.1" {
			t.Errorf("spec %d = %q", i, e.SpecVersion)
		}
		if e.DateAdded.Nanosecond()%1000 != 0 {
			t.Errorf("date_added %v is finer than microseconds", e.DateAdded)
		}
		if i > 0 && !e.DateAdded.After(got[i-1].DateAdded) {
			t.Errorf("date_added not strictly increasing: %v then %v", got[i-1].DateAdded, e.DateAdded)
		}
	}
}

func testIdempotentAdd(t *testing.T, s store.Store) {
	add(t, s, Obj(ind1, v1))
	same := Obj(ind1, "2020-10-01T00:00:00Z") // the same instant, spelled differently
	st := add(t, s, same, Obj(ind1, v1))
	for _, d := range st.Successes {
		if d.Message == "" {
			t.Errorf("re-post of a stored version not reported as already added: %+v", d)
		}
	}
	got, _ := query(t, s, store.Query{Versions: store.VersionMatch{All: true}})
	want(t, got, entry{ID: ind1, Version: v1})
}

func testVersionMatch(t *testing.T, s store.Store) {
	// Versions posted out of order: version order is by time, not by arrival.
	add(t, s, Obj(ind1, v2), Obj(ind1, v1), Obj(ind1, v3), Obj(mal1, v1))
	at := func(v string) time.Time { tm, _ := time.Parse(time.RFC3339, v); return tm }
	tests := []struct {
		name string
		vm   store.VersionMatch
		want []entry
	}{
		{"default is last", store.VersionMatch{}, []entry{{ind1, v3}, {mal1, v1}}},
		{"last", store.VersionMatch{Last: true}, []entry{{ind1, v3}, {mal1, v1}}},
		{"first", store.VersionMatch{First: true}, []entry{{ID: ind1, Version: v1}, {mal1, v1}}},
		{"first,last", store.VersionMatch{First: true, Last: true}, []entry{{ID: ind1, Version: v1}, {ind1, v3}, {mal1, v1}}},
		{"all", store.VersionMatch{All: true}, []entry{{ID: ind1, Version: v2}, {ID: ind1, Version: v1}, {ind1, v3}, {mal1, v1}}},
		{"instant", store.VersionMatch{At: []time.Time{at("2020-10-02T00:00:00Z")}}, []entry{{ID: ind1, Version: v2}}},
		{"instant,first", store.VersionMatch{First: true, At: []time.Time{at(v2)}}, []entry{{ID: ind1, Version: v2}, {ID: ind1, Version: v1}, {mal1, v1}}},
		{"no such instant", store.VersionMatch{At: []time.Time{at("2021-01-01T00:00:00Z")}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := query(t, s, store.Query{Versions: tt.vm})
			want(t, got, tt.want...)
			got, _ = query(t, s, store.Query{Versions: tt.vm, IDs: []string{ind1, mal1}})
			want(t, got, tt.want...)
		})
	}
}

func testSpecVersion(t *testing.T, s store.Store) {
	old := Obj(ind1, v1)
	old.SpecVersion = "2.0"
	newer := Obj(ind1, v2)
	older20 := Obj(ind2, v3)
	older20.SpecVersion = "2.0"
	add(t, s, old, newer, older20)
	got, _ := query(t, s, store.Query{})
	want(t, got, entry{ID: ind1, Version: v2}, entry{ind2, v3})
	got, _ = query(t, s, store.Query{SpecVersions: []string{"2.0"}})
	want(t, got, entry{ID: ind1, Version: v1}, entry{ind2, v3})
	got, _ = query(t, s, store.Query{SpecVersions: []string{"2.1"}})
	want(t, got, entry{ID: ind1, Version: v2})
	got, _ = query(t, s, store.Query{SpecVersions: []string{"2.0", "2.1"}, Versions: store.VersionMatch{All: true}})
	want(t, got, entry{ID: ind1, Version: v1}, entry{ID: ind1, Version: v2}, entry{ind2, v3})
}

func testAddedAfter(t *testing.T, s store.Store) {
	add(t, s, Obj(ind1, v1), Obj(ind2, v1), Obj(mal1, v1))
	all, _ := query(t, s, store.Query{})
	got, _ := query(t, s, store.Query{AddedAfter: all[0].DateAdded})
	want(t, got, entry{ID: ind2, Version: v1}, entry{mal1, v1})
	got, _ = query(t, s, store.Query{AddedAfter: all[0].DateAdded.Add(-time.Nanosecond)})
	want(t, got, entry{ID: ind1, Version: v1}, entry{ID: ind2, Version: v1}, entry{mal1, v1})
	got, _ = query(t, s, store.Query{AddedAfter: all[2].DateAdded})
	want(t, got)
	// A new version added later is "last" and after the bound; the old one is not.
	add(t, s, Obj(ind1, v2))
	got, _ = query(t, s, store.Query{AddedAfter: all[2].DateAdded})
	want(t, got, entry{ID: ind1, Version: v2})
}

func testTypeAndIDFilters(t *testing.T, s store.Store) {
	add(t, s, Obj(ind1, v1), Obj(mal1, v1), Obj(ind2, v1), Obj(ta1, v1), Obj(ind1, v2))
	tests := []struct {
		name string
		q    store.Query
		want []entry
	}{
		{"one type", store.Query{Types: []string{"indicator"}}, []entry{{ID: ind2, Version: v1}, {ID: ind1, Version: v2}}},
		{"two types", store.Query{Types: []string{"threat-actor", "malware"}}, []entry{{mal1, v1}, {ta1, v1}}},
		{"repeated type", store.Query{Types: []string{"malware", "malware"}}, []entry{{mal1, v1}}},
		{"unknown type", store.Query{Types: []string{"campaign"}}, nil},
		{"one id", store.Query{IDs: []string{ind1}}, []entry{{ID: ind1, Version: v2}}},
		{"two ids", store.Query{IDs: []string{ta1, ind1}}, []entry{{ta1, v1}, {ID: ind1, Version: v2}}},
		{"id and type", store.Query{IDs: []string{ta1, ind1}, Types: []string{"indicator"}}, []entry{{ID: ind1, Version: v2}}},
		{"id of other type", store.Query{IDs: []string{ta1}, Types: []string{"indicator"}}, nil},
		{"type and all versions", store.Query{Types: []string{"indicator"}, Versions: store.VersionMatch{All: true}}, []entry{{ID: ind1, Version: v1}, {ID: ind2, Version: v1}, {ID: ind1, Version: v2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := query(t, s, tt.q)
			want(t, got, tt.want...)
		})
	}
}

func testPagination(t *testing.T, s store.Store) {
	var objs []store.Object
	for i := range 25 {
		objs = append(objs, Obj(fmt.Sprintf("indicator--%08d-0000-4000-8000-000000000000", i), v1))
	}
	add(t, s, objs[:10]...)
	add(t, s, objs[10:]...)
	for _, q := range []store.Query{{}, {Types: []string{"indicator"}}, {IDs: []string{objs[3].ID, objs[7].ID, objs[20].ID}}} {
		var seen []entry
		q.Limit = 4
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			got, more := query(t, s, q)
			if more && len(got) != q.Limit {
				t.Fatalf("more with a short page of %d", len(got))
			}
			seen = append(seen, ids(got)...)
			if !more {
				break
			}
			q.AddedAfter = got[len(got)-1].DateAdded
		}
		wantN := 25
		if q.IDs != nil {
			wantN = 3
		}
		if len(seen) != wantN || len(slices.Compact(slices.Clone(seen))) != wantN {
			t.Fatalf("query %+v: saw %d entries, want %d distinct", q, len(seen), wantN)
		}
	}
}

func testUnversioned(t *testing.T, s store.Store) {
	sco := Obj(dom1, "")
	st := add(t, s, sco)
	got, _ := query(t, s, store.Query{})
	if len(got) != 1 {
		t.Fatalf("got %d entries", len(got))
	}
	wantVersion := got[0].DateAdded.UTC().Format("2006-01-02T15:04:05.000000Z")
	if got[0].Version != wantVersion || st.Successes[0].Version != wantVersion {
		t.Fatalf("version = %q (status %q), want date_added %q", got[0].Version, st.Successes[0].Version, wantVersion)
	}
	st = add(t, s, sco)
	if st.Successes[0].Message == "" || st.Successes[0].Version != wantVersion {
		t.Fatalf("re-post = %+v, want already added at %s", st.Successes[0], wantVersion)
	}
	got, _ = query(t, s, store.Query{Versions: store.VersionMatch{All: true}})
	want(t, got, entry{dom1, wantVersion})
}

func testDelete(t *testing.T, s store.Store) {
	add(t, s, Obj(ind1, v1), Obj(ind1, v2), Obj(ind1, v3), Obj(mal1, v1))
	n, err := s.Delete(ctx, coll, member, ind1, store.VersionMatch{First: true}, nil, &audit.Record{})
	if err != nil || n != 1 {
		t.Fatalf("delete first = %d, %v", n, err)
	}
	got, _ := query(t, s, store.Query{Versions: store.VersionMatch{All: true}, Types: []string{"indicator"}})
	want(t, got, entry{ID: ind1, Version: v2}, entry{ind1, v3})
	n, err = s.Delete(ctx, coll, member, ind1, store.VersionMatch{All: true}, nil, &audit.Record{})
	if err != nil || n != 2 {
		t.Fatalf("delete all = %d, %v", n, err)
	}
	if stats, err := s.Stats(ctx); err != nil || stats.Objects[coll] != 1 || stats.Bytes == 0 {
		t.Fatalf("stats after deletes = %+v, %v; want 1 object", stats, err)
	}
	got, _ = query(t, s, store.Query{Versions: store.VersionMatch{All: true}})
	want(t, got, entry{mal1, v1})
	got, _ = query(t, s, store.Query{Types: []string{"indicator"}})
	want(t, got)
	if _, err := s.Delete(ctx, coll, member, ind1, store.VersionMatch{All: true}, nil, &audit.Record{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete of a deleted object: %v, want ErrNotFound", err)
	}
	if _, err := s.Delete(ctx, "no-such-collection", member, mal1, store.VersionMatch{All: true}, nil, &audit.Record{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete in unknown collection: %v, want ErrNotFound", err)
	}
	// A deleted version can be posted again.
	st := add(t, s, Obj(ind1, v1), Obj(mal1, v1))
	if st.Successes[0].Message != "" {
		t.Fatalf("re-adding a deleted version: %+v", st.Successes[0])
	}
	if stats, _ := s.Stats(ctx); stats.Objects[coll] != 2 {
		t.Fatalf("stats count %d, want 2 (a repeat is not counted)", stats.Objects[coll])
	}
}

func testStatus(t *testing.T, s store.Store) {
	st := &store.Status{
		ID: "2d0e4b1a-7c3b-4a57-9a36-3f1a0b1c2d3e", Collection: coll, Owner: "fbi",
		RequestTime: time.Date(2026, 11, 3, 12, 0, 0, 1000, time.UTC), Total: 2,
		Failures: []store.Detail{{ID: "bad", Message: "id: missing"}},
	}
	if err := s.Add(ctx, coll, member, []store.Object{Obj(ind1, v1)}, st, &audit.Record{}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Status(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Owner != "fbi" || got.Total != 2 || !got.RequestTime.Equal(st.RequestTime) ||
		!slices.Equal(got.Successes, []store.Detail{{ID: ind1, Version: v1}}) || !slices.Equal(got.Failures, st.Failures) {
		t.Fatalf("status = %+v, want %+v", got, *st)
	}
	if _, err := s.Status(ctx, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown status: %v, want ErrNotFound", err)
	}
}

func testUnknownCollection(t *testing.T, s store.Store) {
	err := s.Query(ctx, "nope", store.Query{Limit: 10}, func(p store.Page) error {
		if len(p.Entries) != 0 || p.More {
			t.Errorf("page = %+v", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testConcurrentWriters(t *testing.T, s store.Store) {
	const writers, batches, batch = 4, 10, 5
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				var objs []store.Object
				for i := range batch {
					objs = append(objs, Obj(fmt.Sprintf("indicator--%04d%04d-%04d-4000-8000-000000000000", w, b, i), v1))
				}
				st := &store.Status{ID: fmt.Sprintf("w%d-b%d", w, b), Total: batch}
				if err := s.Add(ctx, coll, member, objs, st, &audit.Record{}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, _ := query(t, s, store.Query{Limit: 1000})
	if len(got) != writers*batches*batch {
		t.Fatalf("stored %d, want %d", len(got), writers*batches*batch)
	}
	for i := 1; i < len(got); i++ {
		if !got[i].DateAdded.After(got[i-1].DateAdded) {
			t.Fatalf("date_added %d not after %d: %v, %v", i, i-1, got[i].DateAdded, got[i-1].DateAdded)
		}
	}
}

// verify verifies the log, records after the newest checkpoint included.
func verify(t *testing.T, s store.Store) audit.Result {
	t.Helper()
	res, err := audit.Verify(store.AuditLog(ctx, s), audit.VerifyOptions{Keys: testKeys, AllowUnsealed: true})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return res
}

// Records reads every audit record of s, failing t if it cannot.
func Records(t testing.TB, s store.AuditTrail) []audit.Record {
	t.Helper()
	var out []audit.Record
	if err := s.AuditRecords(ctx, 0, func(r audit.Record) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func testAuditChain(t *testing.T, s store.Store) {
	for i := range 12 {
		rec := &audit.Record{Time: time.Now(), RequestID: fmt.Sprint(i), Action: audit.ActionRead, Status: 200}
		if err := s.Audit(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if rec.Seq != uint64(i+1) || rec.Hash == "" {
			t.Fatalf("record %d sealed as %d %q", i, rec.Seq, rec.Hash)
		}
	}
	res := verify(t, s)
	if res.Records != 12 || res.LastSeq != 12 || res.Checkpoint != 10 {
		t.Fatalf("verify = %+v, want 12 records and a checkpoint at 10 (every 5)", res)
	}
	got := Records(t, s)
	for i, r := range got {
		if r.RequestID != fmt.Sprint(i) || (i > 0 && r.Prev != got[i-1].Hash) {
			t.Fatalf("record %d = %+v", i, r)
		}
	}
	if err := s.Checkpoint(ctx, audit.CheckpointShutdown); err != nil {
		t.Fatal(err)
	}
	if res := verify(t, s); res.Checkpoint != 12 {
		t.Fatalf("after a checkpoint: %+v", res)
	}
}

func testAuditOfWrites(t *testing.T, s store.Store) {
	rec := &audit.Record{Action: audit.ActionWrite, Status: 202}
	st := &store.Status{ID: "s1", Total: 2}
	if err := s.Add(ctx, coll, member, []store.Object{Obj(ind1, v1), Obj(ind2, v1)}, st, rec); err != nil {
		t.Fatal(err)
	}
	rec2 := &audit.Record{Action: audit.ActionWrite, Status: 202}
	if err := s.Add(ctx, coll, member, []store.Object{Obj(ind1, v1), Obj(ind1, v2)}, &store.Status{ID: "s2"}, rec2); err != nil {
		t.Fatal(err)
	}
	del := &audit.Record{Action: audit.ActionDelete, Status: 200}
	if _, err := s.Delete(ctx, coll, member, ind2, store.VersionMatch{All: true}, nil, del); err != nil {
		t.Fatal(err)
	}
	missing := &audit.Record{Action: audit.ActionDelete}
	if _, err := s.Delete(ctx, coll, member, ind2, store.VersionMatch{All: true}, nil, missing); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	got := Records(t, s)
	if len(got) != 3 {
		t.Fatalf("%d records, want 3 (a delete of nothing appends nothing)", len(got))
	}
	if !slices.Equal(got[0].Stored, []audit.ObjectVersion{{ID: ind1, Version: v1}, {ID: ind2, Version: v1}}) ||
		!slices.Equal(got[1].Stored, []audit.ObjectVersion{{ID: ind1, Version: v2}}) || !slices.Equal(got[1].Unchanged, []audit.ObjectVersion{{ID: ind1, Version: v1}}) ||
		!slices.Equal(got[2].Deleted, []audit.ObjectVersion{{ID: ind2, Version: v1}}) {
		t.Fatalf("records = %+v", got)
	}
	verify(t, s)
}

func testConcurrentAudits(t *testing.T, s store.Store) {
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				if err := s.Audit(ctx, &audit.Record{RequestID: fmt.Sprintf("%d-%d", w, i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if res := verify(t, s); res.Records != 200 {
		t.Fatalf("verified %d records, want 200", res.Records)
	}
}

func testPrune(t *testing.T, s store.Store) {
	old := time.Now().Add(-48 * time.Hour)
	for i := range 12 {
		when := old
		if i >= 7 {
			when = time.Now()
		}
		if err := s.Audit(ctx, &audit.Record{Time: when, RequestID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	// Checkpoints at 5 and 10; records 1-7 are old, so the segment up to 5 goes.
	n, err := s.PruneAudit(ctx, time.Now().Add(-24*time.Hour))
	if err != nil || n != 5 {
		t.Fatalf("pruned %d, %v; want 5", n, err)
	}
	res := verify(t, s)
	if res.Records != 7 || res.FirstSeq != 6 || res.LastSeq != 12 {
		t.Fatalf("after pruning: %+v", res)
	}
	// A stop right after the prune seals the head; the chain's start stays
	// anchored.
	if err := s.Checkpoint(ctx, audit.CheckpointShutdown); err != nil {
		t.Fatal(err)
	}
	if res, err := audit.Verify(store.AuditLog(ctx, s), audit.VerifyOptions{Keys: testKeys}); err != nil || res.FirstSeq != 6 || res.Checkpoint != 12 {
		t.Fatalf("after a prune and a stop: %+v, %v", res, err)
	}
	if err := s.Audit(ctx, &audit.Record{RequestID: "after"}); err != nil {
		t.Fatal(err)
	}
	verify(t, s)
	if n, err := s.PruneAudit(ctx, time.Now().Add(-24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("pruning again removed %d, %v", n, err)
	}
}

func testAuditFrom(t *testing.T, s store.Store) {
	appendRecords := func(n int) {
		for range n {
			if err := s.Audit(ctx, &audit.Record{Time: time.Now(), Action: audit.ActionRead}); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := time.Now()
	appendRecords(6)    // a checkpoint at 5
	since := afterNow() // strictly after the checkpoint at 5, before record 7
	appendRecords(6)    // a checkpoint at 10
	for _, tt := range []struct {
		t    time.Time
		want uint64
	}{
		{start.Add(-time.Hour), 0},
		{since, 6},
		{time.Now().Add(time.Hour), 11},
	} {
		from, err := s.AuditFrom(ctx, tt.t)
		if err != nil || from != tt.want {
			t.Errorf("AuditFrom(%v) = %d, %v; want %d", tt.t, from, err, tt.want)
		}
	}
	// Every record at or after since is at or after from.
	from, _ := s.AuditFrom(ctx, since)
	for _, r := range Records(t, s) {
		if !r.Time.Before(since) && r.Seq < from {
			t.Fatalf("record %d (%v) is before %d", r.Seq, r.Time, from)
		}
	}
}

// version is a version of id by creator, revoked or not.
func version(id, created, modified, creator string, revoked bool) store.Object {
	o := Obj(id, modified)
	o.CreatedByRef, o.Revoked = creator, revoked
	o.Created, _ = time.Parse(time.RFC3339Nano, created)
	o.Raw = fmt.Appendf(nil, `{"type":%q,"id":%q,"created":%q,"modified":%q,"created_by_ref":%q,"revoked":%t}`, o.Type, id, created, modified, creator, revoked)
	o.Where = "objects[0]"
	return o
}

func testVersioningRules(t *testing.T, s store.Store) {
	const fbi, google = "identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f", "identity--de36c7c8-ac9e-4332-b26a-53dafd1303b5"
	const c0, v0, v3 = "2020-09-01T00:00:00.000Z", "2020-09-15T00:00:00.000Z", "2020-10-15T00:00:00.000Z"
	const ind3 = "indicator--33333333-3333-4333-8333-333333333333"
	add(t, s, version(ind1, c0, v1, fbi, false))

	// Each case: what is posted, and the refusal expected ("" if stored).
	for _, tt := range []struct {
		name string
		obj  store.Object
		want string
	}{
		{"another creator's new version", version(ind1, c0, v2, google, false), "created_by_ref: " + google + " differs"},
		{"no creator any more", version(ind1, c0, v2, "", false), "created_by_ref: none differs"},
		{"a new created", version(ind1, v1, v2, fbi, false), "created: a new version keeps created"},
		{"a revocation", version(ind1, c0, v2, fbi, true), ""},
		{"a version after the revocation", version(ind1, c0, v3, fbi, false), "revoked in version " + v2},
		{"an older version, before the revocation", version(ind1, c0, v0, fbi, false), ""},
		{"a revoked version older than one stored", version(ind1, c0, "2020-09-20T00:00:00.000Z", fbi, true), "a revoked version must be the last"},
		{"the revoked version again", version(ind1, c0, v2, fbi, true), ""},
	} {
		rec := &audit.Record{}
		st := &store.Status{ID: "st-" + tt.name, Failures: []store.Detail{{ID: "validated", Message: "refused before"}}}
		if err := s.Add(ctx, coll, member, []store.Object{tt.obj}, st, rec); err != nil {
			t.Fatal(err)
		}
		if tt.want == "" {
			if len(st.Successes) != 1 || len(st.Failures) != 1 || len(rec.Refused) != 0 {
				t.Errorf("%s: successes %+v, failures %+v", tt.name, st.Successes, st.Failures)
			}
			continue
		}
		if len(st.Successes) != 0 || len(st.Failures) != 2 || st.Failures[0].ID != "validated" ||
			!strings.HasPrefix(st.Failures[1].Message, "objects[0]: ") || !strings.Contains(st.Failures[1].Message, tt.want) ||
			len(rec.Refused) != 1 || rec.Refused[0] != (audit.ObjectVersion{ID: ind1, Version: tt.obj.VersionText}) {
			t.Errorf("%s: failures %+v, refused %+v; want %q", tt.name, st.Failures, rec.Refused, tt.want)
		}
	}
	got, _ := query(t, s, store.Query{IDs: []string{ind1}, Versions: store.VersionMatch{All: true}})
	want(t, got, entry{ind1, v1}, entry{ind1, v2}, entry{ind1, v0})

	// Within one envelope, the earlier object counts as stored.
	st := add(t, s, version(ind3, c0, v1, fbi, true), version(ind3, c0, v2, fbi, false))
	if len(st.Successes) != 1 || len(st.Failures) != 1 || st.Failures[0].Version != v2 {
		t.Fatalf("revoked then newer in one envelope: %+v", st)
	}

	// Marking definitions have one version.
	const tlp = "marking-definition--11111111-1111-4111-8111-111111111111"
	add(t, s, version(tlp, c0, c0, fbi, false))
	if st := add(t, s, version(tlp, v1, v1, fbi, false)); len(st.Failures) != 1 || !strings.Contains(st.Failures[0].Message, "cannot be versioned") {
		t.Fatalf("a second marking definition: %+v", st)
	}
}

func testMaxBytes(t *testing.T, s store.Store) {
	var objs []store.Object
	for i := range 10 {
		objs = append(objs, Obj(fmt.Sprintf("indicator--%08d-0000-4000-8000-000000000000", i), v1))
	}
	add(t, s, objs...)
	size := len(objs[0].Raw)
	got, more := query(t, s, store.Query{Limit: 10, MaxBytes: 3*size - 1})
	if len(got) != 3 || !more {
		t.Fatalf("page of %d (more %v), want 3 and more", len(got), more)
	}
	got, more = query(t, s, store.Query{Limit: 10, MaxBytes: 1})
	if len(got) != 1 || !more {
		t.Fatalf("a tiny budget gave %d (more %v), want 1 and more", len(got), more)
	}
	got, more = query(t, s, store.Query{Limit: 10, MaxBytes: 100 * size, AddedAfter: time.Time{}})
	if len(got) != 10 || more {
		t.Fatalf("a large budget gave %d (more %v)", len(got), more)
	}
	got, more = query(t, s, store.Query{Limit: 10, MaxBytes: 10 * size})
	if len(got) != 10 || more {
		t.Fatalf("a budget of exactly the whole gave %d (more %v)", len(got), more)
	}
}

func testReadyAndBackup(t *testing.T, s store.Store) {
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	add(t, s, Obj(ind1, v1))
	var buf bytes.Buffer
	n, err := s.Backup(ctx, &buf)
	if err != nil || n == 0 || int64(buf.Len()) != n {
		t.Fatalf("Backup = %d bytes (%d written), %v", n, buf.Len(), err)
	}
}

func testOwnership(t *testing.T, s store.Store) {
	add(t, s, Obj(ind1, v1), Obj(ind2, v1))
	post := func(by store.Author, o store.Object) (store.Status, *audit.Record) {
		t.Helper()
		st, rec := store.Status{ID: fmt.Sprintf("st-%d", time.Now().UnixNano())}, &audit.Record{}
		if err := s.Add(ctx, coll, by, []store.Object{o}, &st, rec); err != nil {
			t.Fatal(err)
		}
		return st, rec
	}
	// Another organization can neither add a version nor delete one.
	if st, rec := post(other, Obj(ind1, v2)); len(st.Failures) != 1 || !strings.Contains(st.Failures[0].Message, "belongs to another organization") || len(rec.Refused) != 1 {
		t.Fatalf("another organization's version: %+v", st)
	}
	rec := &audit.Record{}
	if _, err := s.Delete(ctx, coll, other, ind1, store.VersionMatch{All: true}, nil, rec); !errors.Is(err, store.ErrNotOwner) || len(rec.Deleted) != 0 {
		t.Fatalf("another organization's delete: %v, deleted %v", err, rec.Deleted)
	}
	// The owner and an admin can.
	if st, _ := post(member, Obj(ind1, v2)); len(st.Successes) != 1 {
		t.Fatalf("the owner's version: %+v", st)
	}
	if st, _ := post(admin, Obj(ind1, v3)); len(st.Successes) != 1 {
		t.Fatalf("an admin's version: %+v", st)
	}
	if n, err := s.Delete(ctx, coll, admin, ind2, store.VersionMatch{All: true}, nil, &audit.Record{}); err != nil || n != 1 {
		t.Fatalf("an admin's delete = %d, %v", n, err)
	}
	// A delete that matches no version removes nothing and records nothing.
	if _, err := s.Delete(ctx, coll, member, ind1, store.VersionMatch{At: []time.Time{time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)}}, nil, &audit.Record{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a delete matching nothing: %v, want ErrNotFound", err)
	}
	if n, err := s.Delete(ctx, coll, member, ind1, store.VersionMatch{All: true}, nil, &audit.Record{}); err != nil || n != 3 {
		t.Fatalf("the owner's delete = %d, %v", n, err)
	}
	// The deleted object keeps its owner: another organization cannot post
	// it again, the owner can.
	if st, _ := post(other, Obj(ind1, v1)); len(st.Failures) != 1 || !strings.Contains(st.Failures[0].Message, "deleted by the organization that owns it") {
		t.Fatalf("another organization re-posting a deleted object: %+v", st)
	}
	if st, _ := post(member, Obj(ind1, v1)); len(st.Successes) != 1 {
		t.Fatalf("the owner re-posting: %+v", st)
	}
	got, _ := query(t, s, store.Query{Versions: store.VersionMatch{All: true}})
	want(t, got, entry{ind1, v1})
}

func testCheckpointChain(t *testing.T, s store.Store) {
	for range 7 {
		if err := s.Audit(ctx, &audit.Record{Time: time.Now(), Action: audit.ActionRead}); err != nil {
			t.Fatal(err)
		}
	}
	strict := audit.VerifyOptions{Keys: testKeys}
	// Records 6 and 7 come after the checkpoint at 5.
	if _, err := audit.Verify(store.AuditLog(ctx, s), strict); err == nil || !strings.Contains(err.Error(), "2 records (6 to 7) are not covered") {
		t.Fatalf("unsealed records: %v", err)
	}
	if res := verify(t, s); res.Unsealed != 2 {
		t.Fatalf("unsealed = %d, want 2", res.Unsealed)
	}
	for range 2 { // the second finds the head signed already
		if err := s.Checkpoint(ctx, audit.CheckpointShutdown); err != nil {
			t.Fatal(err)
		}
	}
	var cps []audit.Checkpoint
	s.AuditCheckpoints(ctx, func(c audit.Checkpoint) error { cps = append(cps, c); return nil })
	if len(cps) != 2 || cps[0].Seq != 5 || cps[1].Seq != 7 || cps[0].Prev != "" || cps[1].Prev != cps[0].Digest() || cps[1].Key != audit.KeyID(testKeys[0]) {
		t.Fatalf("checkpoints %+v", cps)
	}
	if _, err := audit.Verify(store.AuditLog(ctx, s), strict); err != nil {
		t.Fatal(err)
	}
	// An auditor who saw checkpoint 7 (or record 8) finds a log cut back
	// before it.
	if _, err := audit.Verify(store.AuditLog(ctx, s), audit.VerifyOptions{Keys: testKeys, MinSeq: 8}); err == nil || !strings.Contains(err.Error(), "cut back") {
		t.Fatalf("min seq beyond the log: %v", err)
	}
	if _, err := audit.Verify(store.AuditLog(ctx, s), audit.VerifyOptions{Keys: testKeys, Head: &cps[1]}); err != nil {
		t.Fatalf("the head kept: %v", err)
	}
	// Another key's checkpoints do not verify.
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	if _, err := audit.Verify(store.AuditLog(ctx, s), audit.VerifyOptions{Keys: []ed25519.PublicKey{other.Public().(ed25519.PublicKey)}}); err == nil {
		t.Fatal("verified with another key")
	}
}

// afterNow waits for the clock to move past the instant it is called at,
// and returns the new instant: whatever happened before is before it.
func afterNow() time.Time {
	now := time.Now()
	for {
		if t := time.Now(); t.After(now) {
			return t
		}
	}
}
