package boltstore

import (
	"errors"
	"slices"
	"time"

	"github.com/taxiihub/taxiihub/audit"
	bolt "go.etcd.io/bbolt"
)

// maxBatch bounds how many writes share one transaction.
const maxBatch = 256

// writeOp is one write waiting for the committer: fn to run in a write
// transaction, or rec to append to the audit log (through the journal when
// it can), or neither: fold the journal into the bbolt file.
type writeOp struct {
	fn   func(tx *bolt.Tx) error // must be safe to run again after a rollback
	rec  *audit.Record
	done chan error
	// seal asks for a checkpoint at the end of the transaction, over
	// every record in it; committed runs right after the commit, before
	// any other write (a snapshot taken there is exactly that state).
	seal      bool
	committed func()
}

// errClosed is returned for writes after Close, errReadOnly for writes to
// a store opened with Options.ReadOnly (which has no committer).
var (
	errClosed   = errors.New("store is closed")
	errReadOnly = errors.New("store is open for reading only")
)

// write runs fn in a write transaction and returns once it is durable.
// Concurrent writes are committed together, one fsync for the lot (group
// commit): an audit record per request would otherwise cost an fsync each.
func (s *Store) write(fn func(tx *bolt.Tx) error) error {
	return s.submit(&writeOp{fn: fn})
}

func (s *Store) submit(op *writeOp) error {
	if s.opts.ReadOnly {
		return errReadOnly
	}
	op.done = make(chan error, 1)
	select {
	case s.ops <- op:
	case <-s.closing:
		return errClosed
	}
	return <-op.done
}

// fold moves the records waiting in the journal into the bbolt file, so
// that readers of the file see them.
func (s *Store) fold() error {
	if s.opts.ReadOnly || s.unfolded.Load() == 0 {
		return nil
	}
	return s.submit(&writeOp{})
}

// chainHead is the audit chain's newest record: where the next one links.
type chainHead struct {
	seq  uint64
	hash string
}

// journaled is a sealed record in the journal, not yet in the bbolt file.
type journaled struct {
	chainHead
	raw []byte // its JSON
}

// commitLoop is the one goroutine that writes. It takes the waiting ops:
// audit records alone go to the journal, one fdatasync for the lot; any
// other batch runs in one transaction and commits. If one op fails, the
// others are run again, each in its own transaction, so that one bad write
// cannot fail its neighbours.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	for {
		s.releaseRetired()
		var batch []*writeOp
		select {
		case op := <-s.ops:
			batch = append(batch, op)
		case <-s.syncDue:
			s.syncJournal()
			continue
		case <-s.closing:
			return
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case op := <-s.ops:
				batch = append(batch, op)
			default:
				break drain
			}
		}
		if s.journalRecords(batch) == nil {
			for _, op := range batch {
				op.done <- nil
			}
			if len(s.pending) >= s.foldEvery || s.journal.off >= maxPendingBytes {
				s.update(nil) // on failure the records wait for the next write
			}
			continue
		}
		// Not for the journal, or the journal failed: the records go into
		// the bbolt file directly.
		err := s.update(batch)
		if err == nil || len(batch) == 1 {
			for _, op := range batch {
				op.done <- err
			}
			continue
		}
		for _, op := range batch {
			op.done <- s.update([]*writeOp{op})
		}
	}
}

var errNotJournal = errors.New("not for the journal")

// journalRecords seals the batch's records after the chain's head and
// appends them to the journal, if the batch is only audit records.
func (s *Store) journalRecords(batch []*writeOp) error {
	for _, op := range batch {
		if op.rec == nil {
			return errNotJournal
		}
	}
	head := s.head
	added := make([]journaled, 0, len(batch))
	payloads := make([][]byte, 0, len(batch))
	for _, op := range batch {
		raw := op.rec.Seal(head.seq+1, head.hash)
		head = chainHead{op.rec.Seq, op.rec.Hash}
		added = append(added, journaled{head, raw})
		payloads = append(payloads, raw)
	}
	if s.opts.ReadSyncInterval > 0 {
		if err := s.journal.write(payloads); err != nil {
			return err
		}
		if s.syncDue == nil {
			s.syncDue = time.After(s.opts.ReadSyncInterval)
		}
	} else if err := s.journal.append(payloads); err != nil {
		return err
	}
	s.head = head
	s.pending = append(s.pending, added...)
	s.unfolded.Store(int64(len(s.pending)))
	return nil
}

// update runs ops in one write transaction, after folding the journal's
// records into it, and commits.
func (s *Store) update(ops []*writeOp) error {
	if len(s.pending) == 0 && !hasWork(ops) {
		return nil // folds with nothing to fold
	}
	var head chainHead
	var txid uint64
	s.signed = s.signed[:0]
	err := s.db.Update(func(tx *bolt.Tx) error {
		txid = uint64(tx.ID())
		if err := foldJournaled(tx, s.pending); err != nil {
			return err
		}
		for _, op := range ops {
			var err error
			switch {
			case op.fn != nil:
				err = op.fn(tx)
			case op.rec != nil:
				err = appendAudit(tx, op.rec)
			}
			if err != nil {
				return err
			}
		}
		if err := s.afterWrites(tx); err != nil {
			return err
		}
		if s.opts.AuditKey != nil && slices.ContainsFunc(ops, func(op *writeOp) bool { return op.seal }) {
			if err := s.checkpoint(tx, audit.CheckpointPeriodic); err != nil {
				return err
			}
		}
		head.seq, head.hash = auditHead(tx)
		return nil
	})
	if err != nil {
		s.rollbackMemGens(txid)
		return err
	}
	s.head, s.pending = head, s.pending[:0]
	s.unfolded.Store(0)
	s.journal.rewind()
	s.syncDue = nil // the commit made them durable
	for _, op := range ops {
		if op.committed != nil {
			op.committed()
		}
	}
	if s.opts.Witness != nil {
		for _, c := range s.signed {
			s.opts.Witness(c)
		}
	}
	s.sealFull()
	return nil
}

// syncJournal flushes the records written to the journal since the last
// flush (with Options.ReadSyncInterval). If the journal cannot be flushed,
// its records are folded into the bbolt file instead, which makes them
// durable too.
func (s *Store) syncJournal() {
	s.syncDue = nil
	if s.journal.sync() != nil {
		s.update(nil) // on failure the records wait for the next write
	}
}

// hasWork reports whether any op has something to write.
func hasWork(ops []*writeOp) bool {
	for _, op := range ops {
		if op.fn != nil || op.rec != nil || op.seal || op.committed != nil {
			return true
		}
	}
	return false
}

// foldJournaled puts journaled records into the audit bucket and moves the
// chain's head to the last of them.
func foldJournaled(tx *bolt.Tx, recs []journaled) error {
	if len(recs) == 0 {
		return nil
	}
	b := auditRecords(tx)
	for _, r := range recs {
		if err := b.Put(be64(r.seq), r.raw); err != nil {
			return err
		}
	}
	last := recs[len(recs)-1]
	return tx.Bucket(bucketMeta).Put(keyAuditHead, append(be64(last.seq), last.hash...))
}
