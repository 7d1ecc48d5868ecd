package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"

	"crypto/rand"
	"encoding/hex"
	"github.com/labstack/echo/v4"
	"github.com/taxiihub/taxiihub/store"
	"strings"
	"unicode"
	"unicode/utf8"
)

// apiError is a failure with the HTTP status and the words the caller sees.
type apiError struct {
	status      int
	title       string
	description string
	header      http.Header // extra response headers, e.g. WWW-Authenticate
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.title, e.description) }

// newError builds an apiError whose title is the status text.
func newError(status int, format string, args ...any) *apiError {
	return &apiError{status: status, title: http.StatusText(status), description: fmt.Sprintf(format, args...)}
}

// errorResource is TAXII 2.1's error message (section 3.6.1).
type errorResource struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	ErrorID     string `json:"error_id,omitempty"`
	HTTPStatus  string `json:"http_status"`
}

// handleError is the one place errors become responses: every error under
// the hub's paths is a TAXII error resource with the TAXII media type.
func (s *Server) handleError(err error, c echo.Context) {
	e := s.toAPIError(err, c)
	if c.Response().Committed {
		s.log.Warn("error after the response began", "err", err, "request_id", requestID(c))
		return
	}
	for k, vs := range e.header {
		for _, v := range vs {
			c.Response().Header().Add(k, v)
		}
	}
	if c.Request().Method == http.MethodHead {
		c.Response().Header().Set(echo.HeaderContentType, mediaTAXII)
		c.Response().WriteHeader(e.status)
		return
	}
	body, _ := json.Marshal(errorResource{
		Title:       e.title,
		Description: e.description,
		ErrorID:     requestID(c),
		HTTPStatus:  strconv.Itoa(e.status),
	})
	c.Blob(e.status, mediaTAXII, body)
}

// toAPIError maps any error a handler or middleware returns to what the
// caller sees; unexpected errors are logged and shown only as a 500.
func (s *Server) toAPIError(err error, c echo.Context) *apiError {
	var ae *apiError
	var he *echo.HTTPError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &tooBig):
		return newError(http.StatusRequestEntityTooLarge, "the body is larger than max_content_length (%d bytes)", tooBig.Limit)
	case errors.Is(err, store.ErrNotFound):
		return newError(http.StatusNotFound, "%v", err)
	case errors.Is(err, store.ErrNotOwner):
		return newError(http.StatusForbidden, "%v", err)
	case errors.As(err, &he):
		e := newError(he.Code, "%v", he.Message)
		switch he.Code {
		case http.StatusNotFound:
			e.description = "no TAXII resource at " + c.Request().URL.Path
		case http.StatusMethodNotAllowed:
			e.description = c.Request().Method + " is not allowed on " + c.Request().URL.Path
		}
		return e
	}
	s.log.Error("request failed", "err", err, "method", loggedMethod(c), "path", loggedPath(c), "request_id", requestID(c))
	return errInternal()
}

func errInternal() *apiError {
	return newError(http.StatusInternalServerError, "the hub could not complete the request; quote error_id to its operators")
}

// recoverPanics turns a panic in a handler into a 500 error resource.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("panic in handler", slog.Any("panic", r), "stack", string(debug.Stack()),
					"method", loggedMethod(c), "path", loggedPath(c), "request_id", requestID(c))
				err = errInternal()
			}
		}()
		return next(c)
	}
}

// requestIDs gives every request an id of the hub's making, answered in
// X-Request-Id and recorded in the audit log. An X-Request-Id the client
// sent is kept apart (clientRequestID): anyone could send another
// record's id.
func requestIDs(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if id := c.Request().Header.Get(echo.HeaderXRequestID); id != "" {
			requestOf(c).clientRequestID = sanitizeRequestID(id)
		}
		var b [16]byte
		rand.Read(b[:])
		c.Response().Header()[echo.HeaderXRequestID] = []string{hex.EncodeToString(b[:])} // the key is canonical
		return next(c)
	}
}

// sanitizeRequestID keeps the first 64 bytes of a client's request id,
// with anything but letters, digits and . _ : - replaced by '_'.
func sanitizeRequestID(id string) string {
	id = id[:min(len(id), 64)]
	return strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._:-", r)) {
			return r
		}
		return '_'
	}, id)
}

// requestID is the hub's id of the request.
func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// clientRequestID is the X-Request-Id the client sent, made safe to record.
func clientRequestID(c echo.Context) string {
	return requestOf(c).clientRequestID
}
