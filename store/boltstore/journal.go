package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"unsafe"
)

// The audit journal makes the audit record of a read durable with one
// fdatasync of a small preallocated file, where a bbolt commit costs two
// and the B+tree's dirty pages: a single-object GET would otherwise spend
// most of its time waiting for its record's commit. The committer seals
// records into the chain as usual, appends them to the journal, and folds
// them into the audit bucket in bulk: every foldEvery records, and before
// any other write transaction, so that the bucket never holds a record
// whose predecessor is only in the journal. After a fold the journal is
// written again from its start. At Open, records the journal holds beyond
// the bucket's head (a crash before their fold) are folded first.
//
// The file is a sequence of frames: length (4 bytes, big-endian), CRC-32C
// of the payload (4), payload (the record's JSON, as the bucket holds it).
// Writing from the start again leaves older frames after the new ones; their
// sequence numbers are at most the bucket's head, which is how reading
// tells them apart. A torn last frame fails its checksum and was never
// acknowledged.

// journalSize is how much of the file is written with zeros up front, so
// that appends overwrite allocated blocks and fdatasync has no file size to
// update. foldEvery records take about 700 KiB.
const journalSize = 8 << 20

// maxFoldEvery bounds how many records wait in the journal (and in memory),
// and maxPendingBytes how many bytes: records are bounded (audit.Record.Bound),
// and so the journal stays within its preallocated size.
const (
	maxFoldEvery    = 4096
	maxPendingBytes = journalSize / 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// directBlock is the unit of the journal's direct writes: their offsets,
// lengths and buffer addresses are multiples of it, which suits devices of
// 512- and 4096-byte sectors alike.
const directBlock = 4096

// journal is the audit journal file. Only the committer uses it.
type journal struct {
	f *os.File
	// direct is the same file opened for direct I/O where the system offers
	// it (Linux): its writes skip the page cache, which halves the CPU a
	// durable append costs (write and fdatasync of one record: 38 µs of CPU
	// buffered, 19 µs direct, on the reference machine). They cover whole
	// blocks: the block that holds off is rewritten with the bytes it
	// already holds (kept at the start of buf), the new frames, and zeros.
	direct *os.File
	off    int64 // where the next frame goes
	buf    []byte
	log    *slog.Logger
}

// JournalPath is where the audit journal of the bbolt file at dbPath lives.
func JournalPath(dbPath string) string { return dbPath + ".audit-journal" }

// openJournal opens (creating and preallocating if needed) the journal;
// log is told if its direct writes are refused.
func openJournal(path string, log *slog.Logger) (*journal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	j := &journal{f: f, direct: openDirect(path), log: log}
	info, err := f.Stat()
	if err != nil {
		j.close()
		return nil, err
	}
	if info.Size() < journalSize {
		if _, err := f.WriteAt(make([]byte, journalSize-info.Size()), info.Size()); err != nil {
			j.close()
			return nil, err
		}
		if err := f.Sync(); err != nil {
			j.close()
			return nil, err
		}
		if err := syncDir(filepath.Dir(path)); err != nil {
			j.close()
			return nil, err
		}
	}
	return j, nil
}

// frames returns the payloads of the frames from the start of the file up
// to the first that is zero, torn or fails its checksum.
func (j *journal) frames() ([][]byte, error) {
	data, err := io.ReadAll(io.NewSectionReader(j.f, 0, 1<<62))
	if err != nil {
		return nil, fmt.Errorf("read audit journal: %w", err)
	}
	var out [][]byte
	for len(data) >= 8 {
		n := binary.BigEndian.Uint32(data)
		sum := binary.BigEndian.Uint32(data[4:])
		if n == 0 || uint64(n) > uint64(len(data)-8) {
			break
		}
		payload := data[8 : 8+n]
		if crc32.Checksum(payload, castagnoli) != sum {
			break
		}
		out = append(out, payload)
		data = data[8+n:]
	}
	return out, nil
}

// append writes payloads as frames after the last and returns once they
// are durable.
func (j *journal) append(payloads [][]byte) error {
	if err := j.write(payloads); err != nil {
		return err
	}
	return j.sync()
}

// write writes payloads as frames after the last, to the operating system
// (with direct I/O, to the device).
func (j *journal) write(payloads [][]byte) error {
	if j.direct == nil {
		j.buf = appendFrames(j.buf[:0], payloads)
		if _, err := j.f.WriteAt(j.buf, j.off); err != nil {
			return fmt.Errorf("write audit journal: %w", err)
		}
		j.off += int64(len(j.buf))
		return nil
	}
	start := j.off &^ (directBlock - 1)
	held := int(j.off - start) // the block's bytes before off, at the start of buf
	end := held
	for _, p := range payloads {
		end += 8 + len(p)
	}
	blocks := (end + directBlock - 1) &^ (directBlock - 1)
	if cap(j.buf) < blocks {
		grown := alignedBlocks(blocks)
		copy(grown, j.buf[:held])
		j.buf = grown
	}
	j.buf = appendFrames(j.buf[:held], payloads)
	clear(j.buf[end:blocks])
	if _, err := j.direct.WriteAt(j.buf[:blocks], start); err != nil {
		// Refused (alignment the device does not accept, say): from now
		// on through the page cache, rather than every record failing over
		// to a commit of the bbolt file. Each record's flush then costs
		// about twice the CPU: the operator is told.
		j.log.Warn("audit journal: direct writes refused; writing through the page cache until the hub restarts", "path", j.f.Name(), "err", err)
		j.direct.Close()
		j.direct = nil
		return j.write(payloads)
	}
	last := end &^ (directBlock - 1)
	copy(j.buf, j.buf[last:end]) // what the next write's first block holds
	j.off = start + int64(end)
	return nil
}

// appendFrames appends payloads to dst as frames.
func appendFrames(dst []byte, payloads [][]byte) []byte {
	for _, p := range payloads {
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(p)))
		dst = binary.BigEndian.AppendUint32(dst, crc32.Checksum(p, castagnoli))
		dst = append(dst, p...)
	}
	return dst
}

// alignedBlocks returns n zero bytes (a multiple of directBlock) whose
// address is a multiple of directBlock, as direct I/O requires.
func alignedBlocks(n int) []byte {
	b := make([]byte, n+directBlock)
	skip := -int(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) & (directBlock - 1)
	return b[skip : skip+n : skip+n]
}

// sync makes what was written durable.
func (j *journal) sync() error {
	if err := fdatasync(j.f); err != nil {
		return fmt.Errorf("sync audit journal: %w", err)
	}
	return nil
}

// clear zeroes the journal, so that frames a crash left out of order (when
// records were not synced one group at a time) cannot be read after the
// next ones. It writes through the page cache; the system keeps that
// coherent with direct writes to the same file.
func (j *journal) clear() error {
	if _, err := j.f.WriteAt(make([]byte, journalSize), 0); err != nil {
		return fmt.Errorf("clear audit journal: %w", err)
	}
	j.off = 0
	return j.sync()
}

// rewind makes the next frame go to the start: everything written so far
// is in the bbolt file. A journal that grew past its preallocated size
// goes back to it (if it cannot, a larger journal works as well).
func (j *journal) rewind() {
	if j.off > journalSize {
		j.f.Truncate(journalSize)
	}
	j.off = 0
}

func (j *journal) close() error {
	if j.direct != nil {
		return errors.Join(j.direct.Close(), j.f.Close())
	}
	return j.f.Close()
}

// syncDir makes a new file's directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, os.ErrInvalid) { // not supported here
		err = nil
	}
	return errors.Join(err, d.Close())
}
