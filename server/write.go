package server

import (
	"bufio"
	"encoding/json"
	"net/http"
	"sync"

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
// (ascending by date_added); an empty page has neither.
func setDateAddedHeaders(c echo.Context, p store.Page) {
	if len(p.Entries) == 0 {
		return
	}
	h := c.Response().Header()
	h.Set("X-TAXII-Date-Added-First", stix.FormatTAXII(p.Entries[0].DateAdded))
	h.Set("X-TAXII-Date-Added-Last", stix.FormatTAXII(p.Entries[len(p.Entries)-1].DateAdded))
}

// writers are the buffers envelopes are streamed through.
var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}

// writeEnvelope streams a page as a TAXII envelope, each object exactly as
// it was posted.
func writeEnvelope(c echo.Context, p store.Page, next string) error {
	setDateAddedHeaders(c, p)
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, mediaTAXII)
	res.WriteHeader(http.StatusOK)
	if len(p.Entries) == 0 {
		_, err := res.Write([]byte(`{"more":false}`))
		return err
	}
	w := writers.Get().(*bufio.Writer)
	w.Reset(res)
	defer func() { w.Reset(nil); writers.Put(w) }()
	w.WriteString(`{"more":`)
	if p.More {
		w.WriteString(`true,"next":`)
		nextJSON, _ := json.Marshal(next)
		w.Write(nextJSON)
	} else {
		w.WriteString("false")
	}
	w.WriteString(`,"objects":[`)
	for i, e := range p.Entries {
		if i > 0 {
			w.WriteByte(',')
		}
		w.Write(e.Raw)
	}
	w.WriteString("]}")
	return w.Flush()
}
