package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/taxiihub/taxiihub/audit"
	bolt "go.etcd.io/bbolt"
)

var (
	bucketAudit       = []byte("audit")              // seq (8) → JSON of audit.Record, packed past packAuditAt
	bucketCheckpoints = []byte("audit_checkpoints")  // seq (8) → JSON of audit.Checkpoint
	keyAuditHead      = []byte("audit_head")         // seq (8) + hash (hex) of the newest record
	keyCheckpointSeq  = []byte("audit_checkpointed") // seq (8) of the newest checkpoint
	keyAnchor         = []byte("audit_anchor")       // JSON of audit.Anchor, after a prune
)

// auditHead is the newest record's sequence number and hash.
func auditHead(tx *bolt.Tx) (uint64, string) {
	v := tx.Bucket(bucketMeta).Get(keyAuditHead)
	if len(v) < 8 {
		return 0, audit.Genesis
	}
	return binary.BigEndian.Uint64(v), string(v[8:])
}

// auditRecords is the audit bucket, to append to. Its keys (sequence
// numbers) only grow: pages are packed full, not split in half.
func auditRecords(tx *bolt.Tx) *bolt.Bucket {
	b := tx.Bucket(bucketAudit)
	b.FillPercent = 1.0
	return b
}

// packAuditAt is the size past which an audit record is stored packed:
// a POST's names each of its objects (about 127 bytes an object). bbolt
// keeps at least two values on a page, so each new record rewrites the one
// before it too; packed, both are about a third of the size (the ids are
// random hex). A read's record, of a few hundred bytes, is stored as it is.
const packAuditAt = 4 << 10

// appendAudit seals rec after the chain's head and stores it.
func appendAudit(tx *bolt.Tx, rec *audit.Record) error {
	seq, prev := auditHead(tx)
	v := rec.Seal(seq+1, prev)
	if len(v) > packAuditAt {
		v = pack(v)
	}
	if err := auditRecords(tx).Put(be64(rec.Seq), v); err != nil {
		return err
	}
	return tx.Bucket(bucketMeta).Put(keyAuditHead, append(be64(rec.Seq), rec.Hash...))
}

// decodeAudit reads a stored audit record, packed or not.
func decodeAudit(v []byte) (audit.Record, error) {
	var rec audit.Record
	raw, err := unpack(v)
	if err == nil {
		err = json.Unmarshal(raw, &rec)
	}
	return rec, err
}

// Audit implements store.Store.
func (s *Store) Audit(ctx context.Context, rec *audit.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.submit(&writeOp{rec: rec})
}

// Unfolded is how many audit records wait in the journal, not yet in the
// bbolt file: after a crash, those of the last reads, until the hub starts
// again and folds them. A read-only store does not see them.
func (s *Store) Unfolded() int { return int(s.unfolded.Load()) }

// countUnfolded counts, for a read-only store, the records in the journal
// at path that opening it for writing would fold.
func (s *Store) countUnfolded(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	recs, _, err := s.journalTail(&journal{f: f})
	s.unfolded.Store(int64(len(recs)))
	return err
}

// recoverJournal folds the records the journal holds beyond the audit
// bucket's head (those of reads answered before a crash) and leaves s.head
// at the chain's head.
func (s *Store) recoverJournal() error {
	recs, beyondHead, err := s.journalTail(s.journal)
	if err != nil {
		return err
	}
	s.pending = recs
	if err := s.update(nil); err != nil {
		return err
	}
	if beyondHead {
		// Frames that did not fold must not be read after the next ones.
		return s.journal.clear()
	}
	return nil
}

// journalTail sets s.head from the audit bucket and returns the records
// of j that continue the chain from there, and whether j holds any frame
// beyond the head. Older frames are already in the bucket. The first frame
// that does not continue the chain ends the records: a crash can leave a
// later frame of an unfinished group on disk without an earlier one, and
// none of those was acknowledged (or, with ReadSyncInterval, they were lost
// with the machine). A frame that continues the chain but whose hash does
// not match its contents was altered: an error.
func (s *Store) journalTail(j *journal) (recs []journaled, beyondHead bool, err error) {
	if err := s.db.View(func(tx *bolt.Tx) error {
		s.head.seq, s.head.hash = auditHead(tx)
		return nil
	}); err != nil {
		return nil, false, err
	}
	frames, err := j.frames()
	if err != nil {
		return nil, false, err
	}
	next := s.head
	for _, raw := range frames {
		var rec audit.Record
		if err := json.Unmarshal(raw, &rec); err != nil {
			return nil, false, fmt.Errorf("audit journal: a frame that is not a record: %w", errCorrupt)
		}
		if rec.Seq <= s.head.seq {
			if beyondHead {
				break // older frames after the newest ones
			}
			continue // folded before the crash
		}
		beyondHead = true
		if rec.Seq != next.seq+1 || rec.Prev != next.hash {
			break
		}
		if !rec.Sealed() {
			return nil, false, fmt.Errorf("audit journal: record %d was altered: %w", rec.Seq, errCorrupt)
		}
		next = chainHead{rec.Seq, rec.Hash}
		recs = append(recs, journaled{next, raw})
	}
	return recs, beyondHead, nil
}

// afterWrites runs at the end of every write transaction: it signs a
// checkpoint when enough records have been added since the last one.
func (s *Store) afterWrites(tx *bolt.Tx) error {
	if s.opts.AuditKey == nil {
		return nil
	}
	head, _ := auditHead(tx)
	if head-s.checkpointed(tx) >= uint64(s.opts.CheckpointEvery) {
		return s.checkpoint(tx, audit.CheckpointPeriodic)
	}
	return nil
}

func (s *Store) checkpointed(tx *bolt.Tx) uint64 {
	if v := tx.Bucket(bucketMeta).Get(keyCheckpointSeq); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// checkpoint signs the chain's head, linked to the newest checkpoint. A
// head already signed is not signed again: checkpoints are keyed by record
// and never replaced.
func (s *Store) checkpoint(tx *bolt.Tx, kind string) error {
	seq, head := auditHead(tx)
	checkpoints := tx.Bucket(bucketCheckpoints)
	if seq == 0 || checkpoints.Get(be64(seq)) != nil {
		return nil
	}
	c := audit.Checkpoint{Seq: seq, Head: head, Time: s.now().UTC(), Kind: kind}
	if _, v := checkpoints.Cursor().Last(); v != nil {
		var prev audit.Checkpoint
		if err := json.Unmarshal(v, &prev); err != nil {
			return fmt.Errorf("newest audit checkpoint: %w", errCorrupt)
		}
		c.Prev = prev.Digest()
	}
	c.Sign(s.opts.AuditKey)
	v, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := checkpoints.Put(be64(seq), v); err != nil {
		return err
	}
	s.signed = append(s.signed, c)
	return tx.Bucket(bucketMeta).Put(keyCheckpointSeq, be64(seq))
}

// Checkpoint implements store.Store.
func (s *Store) Checkpoint(ctx context.Context, kind string) error {
	if s.opts.AuditKey == nil {
		return errors.New("checkpoint: the store was opened without the hub's key")
	}
	return s.write(func(tx *bolt.Tx) error { return s.checkpoint(tx, kind) })
}

// checkpointLoop signs a checkpoint every CheckpointInterval when records
// were added since the last one.
func (s *Store) checkpointLoop() {
	t := time.NewTicker(s.opts.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-t.C:
			if s.auditAdvanced() {
				s.write(func(tx *bolt.Tx) error {
					if head, _ := auditHead(tx); head > s.checkpointed(tx) {
						return s.checkpoint(tx, audit.CheckpointPeriodic)
					}
					return nil
				})
			}
		}
	}
}

// retentionInterval is how often records past Options.Retention are pruned.
const retentionInterval = time.Hour

// retentionLoop prunes the audit records older than Options.Retention, at
// start and then every retentionInterval, until Close.
func (s *Store) retentionLoop() {
	t := time.NewTicker(retentionInterval)
	defer t.Stop()
	for {
		if retain := s.opts.Retention(); retain > 0 {
			n, err := s.PruneAudit(context.Background(), s.now().Add(-retain))
			switch {
			case errors.Is(err, errClosed):
				return
			case err != nil:
				s.opts.Log.Error("audit retention: pruning failed", "err", err)
			case n > 0:
				s.opts.Log.Info("audit retention: pruned old records", "records", n, "retain", retain.String())
			}
		}
		select {
		case <-s.closing:
			return
		case <-t.C:
		}
	}
}

// auditAdvanced reports whether records were added since the last
// checkpoint: an idle hub commits nothing.
func (s *Store) auditAdvanced() bool {
	advanced := s.unfolded.Load() > 0
	s.db.View(func(tx *bolt.Tx) error {
		head, _ := auditHead(tx)
		advanced = head > s.checkpointed(tx)
		return nil
	})
	return advanced
}

// AuditRecords implements store.Store.
func (s *Store) AuditRecords(ctx context.Context, from uint64, fn func(audit.Record) error) error {
	if err := s.fold(); err != nil {
		return err
	}
	return s.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bucketAudit).Cursor()
		n := 0
		for k, v := cur.Seek(be64(from)); k != nil; k, v = cur.Next() {
			if n++; n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			rec, err := decodeAudit(v)
			if err != nil {
				return fmt.Errorf("audit record at key %x: %w", k, errCorrupt)
			}
			if err := fn(rec); err != nil {
				return err
			}
		}
		return nil
	})
}

// AuditFrom implements store.Store: it reads checkpoints from the newest
// back, so its cost follows how recent t is, not how long the log is.
func (s *Store) AuditFrom(ctx context.Context, t time.Time) (uint64, error) {
	var from uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bucketCheckpoints).Cursor()
		for k, v := cur.Last(); k != nil; k, v = cur.Prev() {
			var c audit.Checkpoint
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("audit checkpoint at key %x: %w", k, errCorrupt)
			}
			if c.Time.Before(t) {
				from = c.Seq + 1
				return nil
			}
		}
		return nil
	})
	return from, err
}

// AuditCheckpoints implements store.Store.
func (s *Store) AuditCheckpoints(ctx context.Context, fn func(audit.Checkpoint) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCheckpoints).ForEach(func(k, v []byte) error {
			var c audit.Checkpoint
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("audit checkpoint at key %x: %w", k, errCorrupt)
			}
			return fn(c)
		})
	})
}

// AuditAnchor implements store.Store.
func (s *Store) AuditAnchor(ctx context.Context) (*audit.Anchor, error) {
	var anchor *audit.Anchor
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(keyAnchor)
		if v == nil {
			return nil
		}
		anchor = new(audit.Anchor)
		if err := json.Unmarshal(v, anchor); err != nil {
			return fmt.Errorf("audit anchor: %w", errCorrupt)
		}
		return nil
	})
	return anchor, err
}

// PruneAudit implements store.Store. It removes whole segments: records up
// to a checkpoint whose record is older than before, and signs the anchor
// of the chain where it now starts.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int, error) {
	if s.opts.AuditKey == nil {
		return 0, errors.New("prune: the store was opened without the hub's key")
	}
	removed := 0
	err := s.write(func(tx *bolt.Tx) error {
		removed = 0
		records := tx.Bucket(bucketAudit)
		// The newest checkpoint whose record is older than before.
		var boundary uint64
		cur := tx.Bucket(bucketCheckpoints).Cursor()
		for k, _ := cur.First(); k != nil; k, _ = cur.Next() {
			seq := binary.BigEndian.Uint64(k)
			v := records.Get(k)
			if v == nil {
				continue
			}
			rec, err := decodeAudit(v)
			if err != nil {
				return fmt.Errorf("audit record %d: %w", seq, errCorrupt)
			}
			if !rec.Time.Before(before) {
				break
			}
			boundary = seq
		}
		if boundary == 0 {
			return nil
		}
		lastRec, err := decodeAudit(records.Get(be64(boundary)))
		if err != nil {
			return fmt.Errorf("audit record %d: %w", boundary, errCorrupt)
		}
		var doomed [][]byte
		rc := records.Cursor()
		for k, _ := rc.First(); k != nil && binary.BigEndian.Uint64(k) <= boundary; k, _ = rc.Next() {
			doomed = append(doomed, append([]byte(nil), k...))
		}
		for _, k := range doomed {
			if err := records.Delete(k); err != nil {
				return err
			}
		}
		removed = len(doomed)
		anchor := audit.Anchor{FirstSeq: boundary + 1, FirstPrev: lastRec.Hash, Time: s.now().UTC()}
		anchor.Sign(s.opts.AuditKey)
		v, err := json.Marshal(anchor)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyAnchor, v)
	})
	return removed, err
}
