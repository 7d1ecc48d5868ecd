package boltstore

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/store"
	"github.com/taxiihub/taxiihub/store/storetest"
	bolt "go.etcd.io/bbolt"
)

// openJournaled opens a store whose records wait in the journal until a
// fold (foldEvery 1000).
func openJournaled(t testing.TB, path string) *Store {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	s := openStore(t, path, Options{AuditKey: key})
	return s
}

func auditReads(t *testing.T, s *Store, n int) {
	t.Helper()
	for i := range n {
		if err := s.Audit(context.Background(), &audit.Record{Action: audit.ActionRead, Path: "/r/" + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
	}
}

// crashAfterReads audits n reads in a fresh store that it leaves open, and
// returns the path of a crash copy of its files.
func crashAfterReads(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hub.db")
	s := openJournaled(t, path)
	t.Cleanup(func() { s.Close() })
	auditReads(t, s, n)
	return crashCopy(t, path)
}

// crashCopy copies the store's files as a crash would leave them: the
// last commit in the bbolt file, the journal as synced. The store stays
// open and unfolded.
func crashCopy(t *testing.T, path string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "hub.db")
	for _, p := range [][2]string{{path, dst}, {JournalPath(path), JournalPath(dst)}} {
		data, err := os.ReadFile(p[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p[1], data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// chain reads every record of the store and checks they link 1..n.
func chain(t *testing.T, s *Store) []audit.Record {
	t.Helper()
	var recs []audit.Record
	if err := s.AuditRecords(context.Background(), 0, func(r audit.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	prev := audit.Genesis
	for i, r := range recs {
		if r.Seq != uint64(i+1) || r.Prev != prev || !r.Sealed() {
			t.Fatalf("record %d: seq %d, links to %.8s, sealed %v; want seq %d after %.8s", i, r.Seq, r.Prev, r.Sealed(), i+1, prev)
		}
		prev = r.Hash
	}
	return recs
}

// Reads' records from many readers at once, amid writes that carry their
// own records: every record is kept, once, in one chain.
func TestJournal_ReadersAndTheCommitterShareOneChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	s := openJournaled(t, path)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 150 {
				if err := s.Audit(context.Background(), &audit.Record{Action: audit.ActionRead, RequestID: fmt.Sprintf("read-%d-%d", w, i)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for w := range 2 {
		wg.Go(func() {
			for i := range 40 {
				obj := storetest.Obj(fmt.Sprintf("indicator--%08x-2222-4222-8222-222222222222", w*1000+i), "2020-10-01T00:00:00.000Z")
				if err := s.Add(context.Background(), "c", store.Author{Org: "fbi"}, []store.Object{obj}, &store.Status{ID: fmt.Sprintf("%d-%d", w, i)}, &audit.Record{Action: audit.ActionWrite, RequestID: fmt.Sprintf("write-%d-%d", w, i)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	recs := chain(t, s) // folds the journal first; checks the links
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.RequestID] {
			t.Fatalf("record %s kept twice", r.RequestID)
		}
		seen[r.RequestID] = true
	}
	if len(seen) != 8*150+2*40 {
		t.Fatalf("%d records kept, want %d", len(seen), 8*150+2*40)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Audit(context.Background(), &audit.Record{}); !errors.Is(err, errClosed) {
		t.Fatalf("Audit after Close: %v", err)
	}
}

// A store opened to read refuses writes, a read's record included, rather
// than waiting for a committer it does not have.
func TestReadOnlyStoreRefusesWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	openJournaled(t, path).Close()
	ro := openStore(t, path, Options{ReadOnly: true})
	defer ro.Close()
	if err := ro.Audit(context.Background(), &audit.Record{}); !errors.Is(err, errReadOnly) {
		t.Fatalf("Audit on a read-only store: %v", err)
	}
	obj := storetest.Obj("indicator--00000001-2222-4222-8222-222222222222", "2020-10-01T00:00:00.000Z")
	if err := ro.Add(context.Background(), "c", store.Author{Org: "fbi"}, []store.Object{obj}, &store.Status{ID: "s"}, &audit.Record{}); !errors.Is(err, errReadOnly) {
		t.Fatalf("Add on a read-only store: %v", err)
	}
}

func TestJournal_ReadsAreDurableBeforeTheirFold(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	s := openJournaled(t, path)
	defer s.Close()
	auditReads(t, s, 10)
	if got := s.Unfolded(); got != 10 {
		t.Fatalf("%d records wait in the journal, want 10", got)
	}
	copied := crashCopy(t, path)
	ro := openStore(t, copied, Options{ReadOnly: true})
	if ro.Unfolded() != 10 || len(chain(t, ro)) != 0 {
		t.Fatalf("read-only after a crash: %d unfolded records", ro.Unfolded())
	}
	ro.Close()
	crashed := openJournaled(t, copied)
	defer crashed.Close()
	if recs := chain(t, crashed); len(recs) != 10 || recs[9].Path != "/r/j" {
		t.Fatalf("after a crash: %d records", len(recs))
	}
	// The chain goes on from the recovered records.
	auditReads(t, crashed, 1)
	if recs := chain(t, crashed); len(recs) != 11 {
		t.Fatalf("after one more: %d records", len(recs))
	}
}

func TestJournal_OlderFramesAfterAFoldAreNotReplayed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	s := openJournaled(t, path)
	defer s.Close()
	auditReads(t, s, 10)
	chain(t, s) // folds: the journal starts again from its beginning
	folded := openJournaled(t, crashCopy(t, path))
	if recs := chain(t, folded); len(recs) != 10 {
		t.Fatalf("after a crash right after the fold: %d records, want 10", len(recs))
	}
	folded.Close()
	auditReads(t, s, 3)
	crashed := openJournaled(t, crashCopy(t, path))
	defer crashed.Close()
	if recs := chain(t, crashed); len(recs) != 13 {
		t.Fatalf("after a crash: %d records, want 13", len(recs))
	}
}

func TestJournal_TornLastFrameIsDropped(t *testing.T) {
	copied := crashAfterReads(t, 5)
	editFrame(t, JournalPath(copied), 4, func(payload []byte) []byte { return payload[:len(payload)/2] }, false)
	crashed := openJournaled(t, copied)
	defer crashed.Close()
	if recs := chain(t, crashed); len(recs) != 4 {
		t.Fatalf("after a torn write: %d records, want 4", len(recs))
	}
}

func TestJournal_AlteredRecordIsRefused(t *testing.T) {
	copied := crashAfterReads(t, 5)
	// A consistent frame (good checksum) whose record was changed.
	editFrame(t, JournalPath(copied), 2, func(payload []byte) []byte {
		return []byte(strings.Replace(string(payload), `"/r/c"`, `"/r/x"`, 1))
	}, true)
	for _, opts := range []Options{{}, {ReadOnly: true}} {
		_, err := Open(copied, opts)
		if !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), "record 3") {
			t.Fatalf("Open (read-only %v) of an altered journal: %v", opts.ReadOnly, err)
		}
	}
}

func TestJournal_CloseFoldsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	s := openJournaled(t, path)
	auditReads(t, s, 7)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A read-only open does not read the journal: the file alone has them.
	ro := openStore(t, path, Options{ReadOnly: true})
	defer ro.Close()
	if recs := chain(t, ro); len(recs) != 7 {
		t.Fatalf("after Close the file has %d records, want 7", len(recs))
	}
}

// editFrame rewrites frame i of the journal at path with edit; the frame
// keeps its length and checksum unless fix is set, and what follows it is
// zeroed.
func editFrame(t *testing.T, path string, i int, edit func([]byte) []byte, fix bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	off, end := frameAt(data, i)
	payload := edit(append([]byte(nil), data[off+8:end]...))
	frame := append([]byte(nil), data[off:off+8]...)
	if fix {
		binary.BigEndian.PutUint32(frame, uint32(len(payload)))
		binary.BigEndian.PutUint32(frame[4:], crc32.Checksum(payload, castagnoli))
	}
	frame = append(frame, payload...)
	rest := make([]byte, len(data)-off-len(frame))
	if err := os.WriteFile(path, append(append(data[:off:off], frame...), rest...), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestJournal_AFrameThatBreaksTheChainEndsRecovery(t *testing.T) {
	copied := crashAfterReads(t, 5)
	// Frame 1 lost, frames 2 to 4 on disk: as a crash can leave a group
	// that was written but not yet synced (and never acknowledged).
	removeFrame(t, JournalPath(copied), 1)
	ro := openStore(t, copied, Options{ReadOnly: true})
	if ro.Unfolded() != 1 {
		t.Fatalf("read-only: %d records would fold, want 1", ro.Unfolded())
	}
	ro.Close()
	crashed := openJournaled(t, copied)
	defer crashed.Close()
	if recs := chain(t, crashed); len(recs) != 1 {
		t.Fatalf("after recovery: %d records, want the 1 before the gap", len(recs))
	}
	if frames, err := crashed.journal.frames(); err != nil || len(frames) != 0 {
		t.Fatalf("the journal after recovery holds %d frames (%v), want it cleared", len(frames), err)
	}
	auditReads(t, crashed, 2)
	if recs := chain(t, crashed); len(recs) != 3 {
		t.Fatalf("after two more: %d records", len(recs))
	}
}

func TestJournal_ReadSyncInterval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	_, key, _ := ed25519.GenerateKey(nil)
	s := openStore(t, path, Options{AuditKey: key, ReadSyncInterval: 5 * time.Millisecond})
	defer s.Close()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { auditReads(t, s, 10) })
	}
	wg.Wait()
	auditReads(t, s, 3) // whether or not a flush came between

	// Written to the operating system: a crash of the process keeps them.
	crashed := openJournaled(t, crashCopy(t, path))
	defer crashed.Close()
	if recs := chain(t, crashed); len(recs) != 43 {
		t.Fatalf("after a crash: %d records, want 43", len(recs))
	}
	if recs := chain(t, s); len(recs) != 43 {
		t.Fatalf("%d records, want 43", len(recs))
	}
}

// removeFrame cuts frame i out of the journal at path; the frames after it
// move up.
func removeFrame(t *testing.T, path string, i int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	off, end := frameAt(data, i)
	kept := append(data[:off:off], data[end:]...)
	if err := os.WriteFile(path, append(kept, make([]byte, end-off)...), 0o600); err != nil {
		t.Fatal(err)
	}
}

// frameAt returns where frame i of journal data begins and ends.
func frameAt(data []byte, i int) (off, end int) {
	for range i {
		off += 8 + int(binary.BigEndian.Uint32(data[off:]))
	}
	return off, off + 8 + int(binary.BigEndian.Uint32(data[off:]))
}

// A journal that cannot be written (a full disk, say) costs speed, not
// records: they go into the bbolt file directly.
func TestJournal_FailingJournalFallsBackToTheFile(t *testing.T) {
	for _, interval := range []time.Duration{0, time.Millisecond} {
		_, key, _ := ed25519.GenerateKey(nil)
		s := openStore(t, filepath.Join(t.TempDir(), "hub.db"), Options{AuditKey: key, ReadSyncInterval: interval})
		auditReads(t, s, 3)
		// Every write and sync now fails. The committer closes it, between
		// two of its own writes: a timed flush may be running otherwise.
		if err := s.write(func(*bolt.Tx) error { s.journal.close(); return nil }); err != nil {
			t.Fatal(err)
		}
		auditReads(t, s, 3)
		time.Sleep(5 * time.Millisecond) // a due flush fails too
		if recs := chain(t, s); len(recs) != 6 {
			t.Fatalf("read_sync %v: %d records, want 6", interval, len(recs))
		}
		if s.Unfolded() != 0 {
			t.Fatalf("read_sync %v: %d records left in a failing journal", interval, s.Unfolded())
		}
		s.Close() // reports the journal's close error; the file is closed
	}
}

// The journal's frames read back as written, whether written directly
// (whole blocks, rewriting the bytes the last one held) or through the
// page cache: batches of every size, across block boundaries, after a
// rewind over older frames, and from a reopened file.
func TestJournal_FramesReadBackAsWritten(t *testing.T) {
	for _, direct := range []bool{true, false} {
		path := filepath.Join(t.TempDir(), "j")
		j, err := openJournal(path, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if direct && j.direct == nil {
			t.Log("direct I/O is not offered here; only the page cache is tested")
			j.close()
			continue
		}
		if !direct && j.direct != nil {
			j.direct.Close()
			j.direct = nil
		}
		rng := rand.New(rand.NewPCG(7, 8))
		var want [][]byte
		for batch := range 400 {
			if batch == 250 {
				j.rewind() // the next frames overwrite the older ones from the start
				want = nil
			}
			var payloads [][]byte
			for range 1 + rng.IntN(12) {
				p := make([]byte, 1+rng.IntN(3*directBlock))
				for i := range p {
					p[i] = byte(rng.Uint32())
				}
				payloads = append(payloads, p)
			}
			if err := j.append(payloads); err != nil {
				t.Fatal(err)
			}
			want = append(want, payloads...)
		}
		j.close()
		if j, err = openJournal(path, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		got, err := j.frames()
		j.close()
		if err != nil {
			t.Fatal(err)
		}
		// Older frames may follow the newest: their sequence numbers tell
		// them apart (journalTail).
		if len(got) < len(want) {
			t.Fatalf("direct %v: %d frames read back, %d written", direct, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("direct %v: frame %d differs", direct, i)
			}
		}
	}
}

// A journal whose direct writes are refused goes on through the page cache,
// and says so once.
func TestJournal_RefusedDirectWritesGoThroughThePageCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	var logged bytes.Buffer
	j, err := openJournal(path, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	if j.direct != nil {
		j.direct.Close()
	}
	if j.direct, err = os.Open(path); err != nil { // read-only: every write fails
		t.Fatal(err)
	}
	frames := [][]byte{[]byte("first"), []byte("second")}
	for _, f := range frames {
		if err := j.append([][]byte{f}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := j.frames()
	if err != nil || len(got) < 2 || !bytes.Equal(got[0], frames[0]) || !bytes.Equal(got[1], frames[1]) || j.direct != nil {
		t.Fatalf("frames %q, %v; direct %v", got, err, j.direct)
	}
	if n := strings.Count(logged.String(), `level=WARN msg="audit journal: direct writes refused`); n != 1 {
		t.Errorf("warnings of refused direct writes: %d, want 1; log:\n%s", n, logged.String())
	}
}

// Records full of what clients sent are bounded before they reach the
// journal, which therefore keeps its preallocated size; one that grew (an
// older build's) shrinks back at the next fold.
func TestJournal_StaysWithinItsSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	s := openJournaled(t, path)
	defer s.Close()
	huge := strings.Repeat("x", 1<<20)
	for range 50 {
		if err := s.Audit(context.Background(), &audit.Record{Action: audit.ActionRead, UserAgent: huge, Path: huge, Reason: huge, ClientRequestID: huge}); err != nil {
			t.Fatal(err)
		}
	}
	if info, err := os.Stat(JournalPath(path)); err != nil || info.Size() != journalSize {
		t.Fatalf("journal size %d, %v; want %d", info.Size(), err, journalSize)
	}
	var first audit.Record
	s.AuditRecords(context.Background(), 0, func(r audit.Record) error { first = r; return errors.New("stop") })
	if len(first.Path) > audit.MaxField || len(first.UserAgent) > 256 {
		t.Fatalf("a record kept %d bytes of path", len(first.Path))
	}

	grown := int64(journalSize + 1<<20)
	s.journal.f.Truncate(grown)
	s.journal.off = grown
	auditReads(t, s, 1)
	if err := s.Checkpoint(context.Background(), audit.CheckpointPeriodic); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(JournalPath(path)); info.Size() != journalSize {
		t.Fatalf("journal size %d after a fold; want %d", info.Size(), journalSize)
	}
}
