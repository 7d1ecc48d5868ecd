package server

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/stix"
	"github.com/taxiihub/taxiihub/store"
)

const mediaNDJSON = "application/x-ndjson"

// auditQuery is a parsed GET /admin/audit.
type auditQuery struct {
	org, subject, collection, action string
	status                           int
	since, until                     time.Time
}

// matches reports whether r passes the filters. org matches a record of
// the organization, and a failed attempt on its credentials.
func (q auditQuery) matches(r audit.Record) bool {
	return (q.org == "" || r.Org == q.org || r.ClaimedOrg == q.org) &&
		(q.subject == "" || r.Subject == q.subject) &&
		(q.collection == "" || r.Collection == q.collection) &&
		(q.action == "" || r.Action == q.action) &&
		(q.status == 0 || r.Status == q.status) &&
		(q.since.IsZero() || !r.Time.Before(q.since)) &&
		(q.until.IsZero() || r.Time.Before(q.until))
}

var auditFilters = []string{"org", "subject", "collection", "action", "status", "since", "until"}

// parseAuditQuery reads the filters, from the request or, with next, from
// the cursor that continues an earlier page.
func (s *Server) parseAuditQuery(c echo.Context) (auditQuery, map[string]string, int, uint64, error) {
	params := c.QueryParams()
	filters := map[string]string{}
	for _, name := range auditFilters {
		if v := params.Get(name); v != "" {
			filters[name] = v
		}
	}
	limit, from := 100, uint64(1)
	if v := params.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return auditQuery{}, nil, 0, 0, newError(http.StatusBadRequest, "limit: %q is not a positive integer", v)
		}
		limit = min(n, 1000)
	}
	if token := params.Get("next"); token != "" {
		cur, err := s.cursors.open(token)
		if err != nil || cur.Scope != "audit" {
			return auditQuery{}, nil, 0, 0, newError(http.StatusBadRequest, "next: %v", errBadCursor)
		}
		for name, v := range filters {
			if cur.Filters[name] != v {
				return auditQuery{}, nil, 0, 0, newError(http.StatusBadRequest, "%s: differs from the query the next token continues", name)
			}
		}
		filters, from = cur.Filters, uint64(cur.After)+1
		if params.Get("limit") == "" {
			limit = cur.Limit
		}
	}
	q := auditQuery{org: filters["org"], subject: filters["subject"], collection: filters["collection"], action: filters["action"]}
	cfg := s.config(c)
	if q.org != "" && cfg.Organization(q.org) == nil {
		return q, nil, 0, 0, newError(http.StatusBadRequest, "org: no organization %q in the config", q.org)
	}
	if q.collection != "" {
		col := cfg.Collection(q.collection) // by id, in any case, or by alias
		if col == nil {
			return q, nil, 0, 0, newError(http.StatusBadRequest, "collection: no collection %q (give its id or alias)", q.collection)
		}
		q.collection = col.ID
	}
	if v := filters["status"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 || n > 599 {
			return q, nil, 0, 0, newError(http.StatusBadRequest, "status: %q is not an HTTP status code", v)
		}
		q.status = n
	}
	for name, dst := range map[string]*time.Time{"since": &q.since, "until": &q.until} {
		if v := filters[name]; v != "" {
			t, err := stix.ParseTimestamp(v)
			if err != nil {
				return q, nil, 0, 0, newError(http.StatusBadRequest, "%s: %v", name, err)
			}
			*dst = t
		}
	}
	return q, filters, limit, from, nil
}

type auditPage struct {
	Records []audit.Record `json:"records"`
	More    bool           `json:"more"`
	Next    string         `json:"next,omitempty"`
}

// errPageFull stops a scan once a page has one record more than it shows.
var errPageFull = errors.New("page full")

// getAudit serves GET /admin/audit: the records matching the filters,
// a page at a time, or all of them as JSON lines for Accept:
// application/x-ndjson.
func (s *Server) getAudit(c echo.Context) error {
	q, filters, limit, from, err := s.parseAuditQuery(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if !q.since.IsZero() {
		// Skip the segments signed before since rather than read them.
		start, err := s.store.AuditFrom(ctx, q.since)
		if err != nil {
			return err
		}
		from = max(from, start)
	}
	if strings.Contains(c.Request().Header.Get(echo.HeaderAccept), mediaNDJSON) {
		// An export is recorded before it streams: its size is not known.
		if err := s.recordThenStream(c); err != nil {
			return err
		}
		res := c.Response()
		res.Header().Set(echo.HeaderContentType, mediaNDJSON)
		res.WriteHeader(http.StatusOK)
		// Every matching record, or the first limit of them when the
		// request gives one.
		enc, written := json.NewEncoder(res), 0
		err := s.store.AuditRecords(ctx, from, func(r audit.Record) error {
			if !q.matches(r) {
				return nil
			}
			if c.QueryParam("limit") != "" && written == limit {
				return errPageFull
			}
			written++
			return enc.Encode(r)
		})
		if errors.Is(err, errPageFull) {
			return nil
		}
		return err
	}
	page := auditPage{Records: []audit.Record{}}
	err = s.store.AuditRecords(ctx, from, func(r audit.Record) error {
		if !q.matches(r) {
			return nil
		}
		if len(page.Records) == limit {
			page.More = true
			return errPageFull
		}
		page.Records = append(page.Records, r)
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return err
	}
	if page.More {
		last := page.Records[len(page.Records)-1]
		page.Next = s.cursors.seal(cursor{Scope: "audit", Filters: filters, Limit: limit, After: int64(last.Seq)})
	}
	return c.JSON(http.StatusOK, page)
}

// verifyResult is the answer of GET /admin/audit/verify.
type verifyResult struct {
	Verified   bool   `json:"verified"`
	Records    int    `json:"records"`
	FirstSeq   uint64 `json:"first_seq,omitempty"`
	LastSeq    uint64 `json:"last_seq,omitempty"`
	Checkpoint uint64 `json:"checkpoint,omitempty"`
	Unsealed   int    `json:"unsealed,omitempty"`
	Message    string `json:"message"`
}

// verifyAudit serves GET /admin/audit/verify: it seals the chain's head
// with a checkpoint, then recomputes the chain and checks every
// checkpoint's signature and link. With min_seq, a log cut back before
// that record fails.
func (s *Server) verifyAudit(c echo.Context) error {
	// Requests answered meanwhile may add records after the checkpoint:
	// they are counted, not refused.
	opts := audit.VerifyOptions{Keys: []ed25519.PublicKey{s.auditKey}, LegacyKey: s.tokenKey, AllowUnsealed: true}
	if v := c.QueryParam("min_seq"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return newError(http.StatusBadRequest, "min_seq: %q is not a record number", v)
		}
		opts.MinSeq = n
	}
	ctx := c.Request().Context()
	if err := s.store.Checkpoint(ctx, audit.CheckpointPeriodic); err != nil {
		return err
	}
	res, err := audit.Verify(store.AuditLog(ctx, s.store), opts)
	if err != nil {
		return c.JSON(http.StatusOK, verifyResult{Message: err.Error()})
	}
	return c.JSON(http.StatusOK, verifyResult{Verified: true, Records: res.Records, FirstSeq: res.FirstSeq, LastSeq: res.LastSeq, Checkpoint: res.Checkpoint, Unsealed: res.Unsealed, Message: res.String()})
}

// getBackup serves GET /admin/backup: a consistent snapshot of the store,
// streamed while the hub keeps serving. The request is recorded before the
// stream begins (and the store seals its record into the copy).
func (s *Server) getBackup(c echo.Context) error {
	if err := s.recordThenStream(c); err != nil {
		return err
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "application/octet-stream")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="hub.db"`)
	res.WriteHeader(http.StatusOK)
	n, err := s.store.Backup(c.Request().Context(), res)
	if err != nil {
		return err
	}
	s.log.Info("backup streamed", "bytes", n, "request_id", requestID(c))
	return nil
}
