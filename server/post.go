package server

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/stix"
	"github.com/taxiihub/taxiihub/store"
)

// readBody reads the request's body, at most limit bytes. A body that
// declares its length ends in a buffer of that size: io.ReadAll doubles its
// buffer, so an envelope of a thousand objects could hold twice its size.
// The buffer still grows only as bytes arrive, from 64 KiB, so a declared
// length alone claims no memory.
func readBody(c echo.Context, limit int64) ([]byte, error) {
	req := c.Request()
	r := http.MaxBytesReader(c.Response(), req.Body, limit)
	size := req.ContentLength
	if size <= 0 {
		return io.ReadAll(r)
	}
	body := make([]byte, 0, min(size, 64<<10))
	for int64(len(body)) < size {
		if len(body) == cap(body) {
			body = slices.Grow(body, int(min(size, 2*int64(cap(body))))-len(body))
		}
		n, err := r.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if err == io.EOF {
			break // net/http has checked the length
		}
		if err != nil {
			return nil, err
		}
	}
	return body, nil
}

// postObjects serves section 5.5. Each object is validated on its own
// (stix.Validate): those that pass are stored, with any warnings in their
// status detail; the rest are listed under failures with every reason.
// The status is stored with the objects, in the same transaction.
func (s *Server) postObjects(c echo.Context) error {
	_, col, err := s.collection(c, needWrite)
	if err != nil {
		return err
	}
	req := c.Request()
	if !isTAXIIContent(req.Header.Get(echo.HeaderContentType)) {
		return newError(http.StatusUnsupportedMediaType, "the body must be %s, not %q", mediaTAXII, req.Header.Get(echo.HeaderContentType))
	}
	limit := s.config(c).MaxContentLength
	if req.ContentLength > limit {
		return newError(http.StatusRequestEntityTooLarge, "the body of %d bytes is larger than max_content_length (%d bytes)", req.ContentLength, limit)
	}
	body, err := readBody(c, limit)
	if err != nil {
		return err
	}
	requestTime := time.Now().UTC()
	p, policy := principal(c), s.stateOf(c).policy
	checked, err := stix.CheckEnvelope(body, stix.Options{RefuseCustom: !col.CustomAllowed()}, func(m stix.Meta) error {
		return policy.CheckObject(p, col.ID, m)
	})
	switch {
	case errors.Is(err, stix.ErrNotJSON):
		return newError(http.StatusBadRequest, "%v", err)
	case err != nil:
		return newError(http.StatusUnprocessableEntity, "%v", err)
	}

	st := &store.Status{
		ID:          newUUID(),
		Collection:  col.ID,
		Owner:       p.Org,
		RequestTime: requestTime,
		Total:       len(checked),
	}
	objs, failures := store.Ingest(checked)
	st.Failures = failures
	rec := s.newRecord(c, st.RequestTime, http.StatusAccepted, "")
	for _, f := range st.Failures {
		rec.Refused = append(rec.Refused, audit.ObjectVersion{ID: f.ID, Version: f.Version})
	}
	if err := s.store.Add(req.Context(), col.ID, authorOf(p), objs, st, rec); err != nil {
		return err
	}
	if len(st.Failures) > 0 {
		s.metrics.ingestFailures.WithLabelValues(col.ID).Add(float64(len(st.Failures)))
	}
	auditOf(c).appended = true
	return writeJSON(c, http.StatusAccepted, statusOf(*st))
}

// newUUID returns a random RFC 4122 version-4 UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
