package server

import (
	"bytes"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// bufferedWriter holds a response until its audit record is written.
type bufferedWriter struct {
	real        http.ResponseWriter
	status      int
	body        *bytes.Buffer
	passThrough bool
}

// bodies are the buffers responses are held in, reused.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// release returns the buffer to the pool unless it grew very large.
func (b *bufferedWriter) release() {
	if b.body.Cap() <= 16<<20 {
		b.body.Reset()
		bodies.Put(b.body)
	}
	b.body = nil
}

func (b *bufferedWriter) Header() http.Header { return b.real.Header() }

func (b *bufferedWriter) WriteHeader(status int) {
	if b.passThrough {
		b.real.WriteHeader(status)
		return
	}
	b.status = status
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.passThrough {
		return b.real.Write(p)
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// Flush implements http.Flusher for streamed responses.
func (b *bufferedWriter) Flush() {
	if f, ok := b.real.(http.Flusher); ok && b.passThrough {
		f.Flush()
	}
}

// flush sends what was buffered and lets the rest of the response through.
func (b *bufferedWriter) flush() error {
	if b.passThrough {
		return nil
	}
	b.passThrough = true
	if b.status == 0 {
		return nil // nothing written yet: the handler answers from here on
	}
	b.real.WriteHeader(b.status)
	_, err := b.real.Write(b.body.Bytes())
	b.body.Reset()
	return err
}

// finish sends the whole answer, its length declared: net/http would send
// one over 2 KiB in chunks, not knowing it is whole. After recordThenStream
// the rest went straight to the client; there is nothing to send.
func (b *bufferedWriter) finish() error {
	if !b.passThrough && b.body.Len() > 0 {
		b.real.Header().Set(echo.HeaderContentLength, strconv.Itoa(b.body.Len()))
	}
	return b.flush()
}

// discard drops the buffered response and its headers but the request id.
func (b *bufferedWriter) discard() {
	b.body.Reset()
	h := b.real.Header()
	id := h.Get(echo.HeaderXRequestID)
	clear(h)
	h.Set(echo.HeaderXRequestID, id)
}

// Unwrap gives http.ResponseController the writer underneath.
func (b *bufferedWriter) Unwrap() http.ResponseWriter { return b.real }

// recordThenStream appends the request's audit record (answered 200) now,
// then lets what the handler writes next go straight to the client: for
// answers too large to hold until they are complete (a backup, an export).
func (s *Server) recordThenStream(c echo.Context) error {
	if err := s.store.Audit(c.Request().Context(), s.newRecord(c, time.Now().UTC(), http.StatusOK, "")); err != nil {
		return err
	}
	auditOf(c).appended = true
	if w, ok := c.Response().Writer.(*bufferedWriter); ok {
		return w.flush()
	}
	return nil
}
