package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// A busy hub logs a line per request, and a write to stderr per line cost
// a single-object GET about 4 µs of its CPU. Lines are therefore held for
// up to logFlushEvery (or until logBufferSize bytes wait) and written
// together, as nginx's buffered access log does; a warning or an error goes
// out at once, with whatever waited before it. Lines still held when the
// process is killed are lost: the audit log, not this one, is the record.
const (
	logFlushEvery = 100 * time.Millisecond
	logBufferSize = 64 << 10
)

// lineBuffer holds whole log lines (each Write is one, as slog's handlers
// write them) until Flush, which runs logFlushEvery after the first line
// it holds.
type lineBuffer struct {
	mu    sync.Mutex
	out   io.Writer
	held  []byte
	timer *time.Timer // armed while held is not empty
}

func newLineBuffer(out io.Writer) *lineBuffer {
	b := &lineBuffer{out: out}
	b.timer = time.AfterFunc(time.Hour, b.Flush)
	b.timer.Stop()
	return b
}

// Write holds p (a whole line) for the next flush.
func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.held)+len(p) > logBufferSize {
		b.flushLocked()
	}
	if len(b.held) == 0 {
		b.timer.Reset(logFlushEvery)
	}
	b.held = append(b.held, p...)
	return len(p), nil
}

// Flush writes out every line held.
func (b *lineBuffer) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

func (b *lineBuffer) flushLocked() {
	if len(b.held) == 0 {
		return
	}
	b.timer.Stop()
	// Nowhere to report a failed write of the log: its lines are dropped.
	_, _ = b.out.Write(b.held)
	if cap(b.held) > logBufferSize*2 {
		b.held = nil
	} else {
		b.held = b.held[:0]
	}
}

// flushOnWarn is a handler that flushes its lineBuffer after each record
// of level Warn or above, so that those are never held back.
type flushOnWarn struct {
	slog.Handler
	lines *lineBuffer
}

func (h flushOnWarn) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.lines.Flush()
	}
	return err
}

func (h flushOnWarn) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushOnWarn{h.Handler.WithAttrs(attrs), h.lines}
}

func (h flushOnWarn) WithGroup(name string) slog.Handler {
	return flushOnWarn{h.Handler.WithGroup(name), h.lines}
}
