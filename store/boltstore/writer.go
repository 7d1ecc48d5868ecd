package boltstore

import (
	"errors"

	bolt "go.etcd.io/bbolt"
)

// maxBatch bounds how many writes share one transaction.
const maxBatch = 256

// writeOp is one write waiting for the committer.
type writeOp struct {
	fn   func(tx *bolt.Tx) error // must be safe to run again after a rollback
	done chan error
}

// errClosed is returned for writes after Close.
var errClosed = errors.New("store is closed")

// write runs fn in a write transaction and returns once it is durable.
// Concurrent writes are committed together, one fsync for the lot (group
// commit): an audit record per request would otherwise cost an fsync each.
func (s *Store) write(fn func(tx *bolt.Tx) error) error {
	op := &writeOp{fn: fn, done: make(chan error, 1)}
	select {
	case s.ops <- op:
	case <-s.closing:
		return errClosed
	}
	return <-op.done
}

// commitLoop is the one goroutine that writes: it takes the waiting ops,
// runs them in one transaction and commits. If one op fails, the others
// are run again, each in its own transaction, so that one bad write cannot
// fail its neighbours.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	for {
		var batch []*writeOp
		select {
		case op := <-s.ops:
			batch = append(batch, op)
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
		err := s.db.Update(func(tx *bolt.Tx) error {
			for _, op := range batch {
				if err := op.fn(tx); err != nil {
					return err
				}
			}
			return s.afterWrites(tx)
		})
		if err == nil || len(batch) == 1 {
			for _, op := range batch {
				op.done <- err
			}
			continue
		}
		for _, op := range batch {
			op.done <- s.db.Update(func(tx *bolt.Tx) error {
				if err := op.fn(tx); err != nil {
					return err
				}
				return s.afterWrites(tx)
			})
		}
	}
}
