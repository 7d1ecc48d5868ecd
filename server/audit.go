package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/store"
)

// probes are answered without authentication and without an audit record:
// load balancers and orchestrators call them every few seconds, and they
// reveal nothing about the hub's contents. (Metrics do: collection ids and
// sizes. Every /metrics request is recorded.)
var probes = map[string]bool{"/healthz": true, "/readyz": true}

// requestAudit is what handlers add to a request's audit record.
type requestAudit struct {
	collection string
	// appended: the record is in the log already (a write carries its
	// record in its own transaction; a stream is recorded before it
	// starts, by recordThenStream), so auditRequests appends none.
	appended bool
	// Reads: what was returned.
	returned    int
	first, last time.Time
	// A failed authentication: who the credentials claimed to be.
	claimed, claimedOrg string
}

func auditOf(c echo.Context) *requestAudit { return &requestOf(c).audit }

// auditReturned records what a page returned.
func auditReturned(c echo.Context, p store.Page) {
	n := auditOf(c)
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
		if probes[route(c)] {
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
		n := auditOf(c)
		if n.appended {
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
		return buf.finish()
	}
}

// newRecord describes the request in c, answered with status.
func (s *Server) newRecord(c echo.Context, start time.Time, status int, reason string) *audit.Record {
	r := c.Request()
	p := principal(c)
	n := auditOf(c)
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
		Path:            c.Request().URL.Path,
		APIRoot:         c.Param("root"),
		Collection:      n.collection,
		Action:          actionOf(c),
		Status:          status,
		Reason:          reason,
		Claimed:         n.claimed,
		ClaimedOrg:      n.claimedOrg,
		Returned:        n.returned,
	}
	if rec.Collection == "" { // not resolved (a refused request): by id if it names one
		rec.Collection = c.Param("collection")
		if root, ok := s.config(c).APIRoot(c.Param("root")); ok {
			if col, ok := root.Collection(rec.Collection); ok {
				rec.Collection = col.ID
			}
		}
	}
	if !n.first.IsZero() {
		rec.AddedFirst, rec.AddedLast = &n.first, &n.last
	}
	return rec
}

// actionOf classifies a request by its route.
func actionOf(c echo.Context) string {
	path, method := route(c), c.Request().Method
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
