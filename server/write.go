package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/taxiihub/taxiihub/stix"
	"github.com/taxiihub/taxiihub/store"
)

// writeJSON writes v as a TAXII resource.
func writeJSON(c echo.Context, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Blob(status, mediaTAXII, body)
}

// setDateAddedHeaders sets X-TAXII-Date-Added-First and -Last from a page
// (ascending by date_added). An empty page after an instant (the request's
// added_after, or where its next token stood) carries that instant in both,
// so that a client that keeps X-TAXII-Date-Added-Last as its cursor
// (Elastic's) keeps it: nothing was added after it. One with neither has no
// headers, as there is no value to give.
func setDateAddedHeaders(c echo.Context, p store.Page, after time.Time) {
	first, last := after, after
	if len(p.Entries) > 0 {
		first, last = p.Entries[0].DateAdded, p.Entries[len(p.Entries)-1].DateAdded
	}
	if last.IsZero() {
		return
	}
	// Set by their canonical keys (what Header.Set would compute each time);
	// a page of one object formats its one date once.
	h := c.Response().Header()
	h[headerDateAddedFirst] = []string{stix.FormatTAXII(first)}
	if last.Equal(first) {
		h[headerDateAddedLast] = h[headerDateAddedFirst]
	} else {
		h[headerDateAddedLast] = []string{stix.FormatTAXII(last)}
	}
}

// The X-TAXII-Date-Added headers' keys as net/http canonicalizes them.
var (
	headerDateAddedFirst = http.CanonicalHeaderKey("X-TAXII-Date-Added-First")
	headerDateAddedLast  = http.CanonicalHeaderKey("X-TAXII-Date-Added-Last")
)

// writeEnvelope streams a page as a TAXII envelope, each object exactly as
// it was posted; after is where the page starts (setDateAddedHeaders).
func writeEnvelope(c echo.Context, p store.Page, next string, after time.Time) error {
	setDateAddedHeaders(c, p, after)
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, mediaTAXII)
	res.WriteHeader(http.StatusOK)
	if len(p.Entries) == 0 {
		_, err := res.Write([]byte(`{"more":false}`))
		return err
	}
	w := res // held in memory until the audit record is written (see auditRequests)
	head := []byte(`{"more":false,"objects":[`)
	if p.More {
		nextJSON, _ := json.Marshal(next)
		head = append(append([]byte(`{"more":true,"next":`), nextJSON...), `,"objects":[`...)
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	comma := []byte(",")
	for i, e := range p.Entries {
		if i > 0 {
			w.Write(comma)
		}
		if _, err := w.Write(e.Raw); err != nil {
			return err
		}
	}
	_, err := w.Write([]byte("]}"))
	return err
}
