package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/store"
)

const noteKey = "taxiihub.audit"

// auditNote is what handlers add to a request's audit record.
type auditNote struct {
	collection string
	// recorded: the record is already in the log (a write carries its
	// record in its own transaction; an export records itself first).
	recorded bool
	// Reads: what was returned.
	returned    int
	first, last time.Time
}

func note(c echo.Context) *auditNote {
	n, _ := c.Get(noteKey).(*auditNote)
	if n == nil {
		n = &auditNote{}
		c.Set(noteKey, n)
	}
	return n
}

// noteReturned records what a page returned.
func noteReturned(c echo.Context, p store.Page) {
	n := note(c)
	n.returned = len(p.Entries)
	if len(p.Entries) > 0 {
		n.first, n.last = p.Entries[0].DateAdded, p.Entries[len(p.Entries)-1].DateAdded
	}
}

// auditRequests records every request in the audit log before its response
// leaves: the handler writes into a buffer, the record is appended, and
// only then is the buffer sent. If the record cannot be written the caller
// gets a 503 instead, never an unrecorded answer (fail closed).
func (s *Server) auditRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now().UTC()
		defer s.metrics.observe(c, start)
		if probes[c.Request().URL.Path] {
			return next(c)
		}
		defer func() { s.logRequest(c, start) }()
		res := c.Response()
		buf := &bufferedWriter{real: res.Writer, body: bodies.Get().(*bytes.Buffer)}
		res.Writer = buf
		defer func() {
			res.Writer = buf.real
			buf.release()
		}()

		reason := ""
		if err := next(c); err != nil {
			e := s.toAPIError(err, c)
			reason = e.description
			if !buf.passThrough && res.Committed {
				// A handler failed part-way through its answer; nothing has
				// left yet, so the caller gets the error instead.
				buf.discard()
				res.Committed, res.Status, res.Size = false, 0, 0
				buf.status = 0
			}
			s.handleError(e, c)
		}
		n := note(c)
		if n.recorded {
			return buf.flush()
		}
		rec := s.newRecord(c, start, res.Status, reason)
		if err := s.store.Audit(c.Request().Context(), rec); err != nil {
			s.log.Error("audit record could not be written; refusing the request", "err", err, "request_id", requestID(c))
			buf.discard()
			e := newError(http.StatusServiceUnavailable, "the hub cannot record this request in its audit log, so it does not answer it; try again later")
			body, _ := json.Marshal(errorResource{Title: e.title, Description: e.description, ErrorID: requestID(c), HTTPStatus: "503"})
			buf.real.Header().Set(echo.HeaderContentType, mediaTAXII)
			buf.real.WriteHeader(http.StatusServiceUnavailable)
			buf.real.Write(body)
			return nil
		}
		return buf.flush()
	}
}

// logRequest writes the request's one log line.
func (s *Server) logRequest(c echo.Context, start time.Time) {
	p := principal(c)
	s.log.Info("request",
		"request_id", requestID(c),
		"method", c.Request().Method,
		"path", requestPath(c),
		"org", p.Org,
		"status", c.Response().Status,
		"latency_ms", float64(time.Since(start).Microseconds())/1000,
	)
}

// newRecord describes the request in c, answered with status.
func (s *Server) newRecord(c echo.Context, start time.Time, status int, reason string) *audit.Record {
	r := c.Request()
	p := principal(c)
	n := note(c)
	method := p.Method
	if method == "" {
		method = "none"
	}
	rec := &audit.Record{
		Time:            start,
		RequestID:       requestID(c),
		ClientRequestID: clientRequestID(c),
		Org:             p.Org,
		Subject:         p.Subject,
		TokenID:         p.TokenID,
		AuthMethod:      method,
		RemoteAddr:      clientAddr(c),
		UserAgent:       r.UserAgent(),
		Method:          r.Method,
		Path:            requestPath(c),
		APIRoot:         c.Param("root"),
		Collection:      n.collection,
		Action:          actionOf(c),
		Status:          status,
		Reason:          reason,
		Returned:        n.returned,
	}
	if rec.Collection == "" {
		rec.Collection = c.Param("collection")
	}
	if !n.first.IsZero() {
		rec.AddedFirst, rec.AddedLast = &n.first, &n.last
	}
	return rec
}

// actionOf classifies a request by its route.
func actionOf(c echo.Context) string {
	path, method := c.Path(), c.Request().Method
	switch {
	case path == "/taxii2", path == "/.well-known/jwks.json":
		return audit.ActionDiscovery
	case strings.HasPrefix(path, "/admin/audit"):
		return audit.ActionAudit
	case strings.HasPrefix(path, "/admin"), strings.HasPrefix(path, "/debug/pprof"), path == "/metrics":
		return audit.ActionAdmin
	case strings.HasSuffix(path, "/status/:status"):
		return audit.ActionStatus
	case method == http.MethodPost:
		return audit.ActionWrite
	case method == http.MethodDelete:
		return audit.ActionDelete
	case strings.HasSuffix(path, "/objects"), strings.HasSuffix(path, "/:object"), strings.HasSuffix(path, "/versions"):
		return audit.ActionRead
	case strings.HasPrefix(path, "/:root"):
		return audit.ActionList
	}
	return "unknown"
}

const pathKey = "taxiihub.path"

// keepPath remembers the path as the client sent it, before routing drops
// its trailing slash.
func keepPath(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Set(pathKey, c.Request().URL.Path)
		return next(c)
	}
}

// requestPath is the path as the client sent it.
func requestPath(c echo.Context) string {
	if p, ok := c.Get(pathKey).(string); ok {
		return p
	}
	return c.Request().URL.Path
}

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
	if b.status != 0 {
		b.real.WriteHeader(b.status)
	}
	_, err := b.real.Write(b.body.Bytes())
	b.body.Reset()
	return err
}

// discard drops the buffered response and its headers but the request id.
func (b *bufferedWriter) discard() {
	b.body.Reset()
	h := b.real.Header()
	id := h.Get(echo.HeaderXRequestID)
	clear(h)
	h.Set(echo.HeaderXRequestID, id)
}
