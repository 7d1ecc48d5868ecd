package server

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/auth"
)

// authenticate establishes the request's principal or answers 401. An API
// key or a network whose secrets keep failing is slowed down with 429s
// (see failureLimiter); nothing else is.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		st := s.stateOf(c)
		p, err := st.authn.Authenticate(c.Request(), func(apiKey string) (func(bool), error) {
			release, wait := s.failures.reserve("key:"+apiKey, sourceNetwork(clientAddr(c)))
			if wait > 0 {
				s.metrics.authRefusals.WithLabelValues("throttled").Inc()
				e := newError(http.StatusTooManyRequests, "too many failed secrets for this API key or from this network; retry later")
				e.header = http.Header{"Retry-After": {strconv.Itoa(int(wait.Seconds()) + 1)}}
				return nil, e
			}
			return release, nil
		})
		var throttled *apiError
		if errors.As(err, &throttled) {
			return throttled
		}
		if err != nil {
			s.metrics.authRefused(err)
			if r := (*auth.Refusal)(nil); errors.As(err, &r) {
				auditOf(c).claimed, auditOf(c).claimedOrg = r.Claimed, r.ClaimedOrg
			}
			e := newError(http.StatusUnauthorized, "%v", err)
			if !errors.Is(err, auth.ErrUnauthenticated) {
				e.description = "the credentials could not be checked"
			}
			e.header = http.Header{"Www-Authenticate": st.authn.Challenges()}
			return e
		}
		requestOf(c).principal = p
		return next(c)
	}
}

// clientAddress finds the address of the client behind the request: the
// connection's, or, when that is a trusted proxy, the nearest address in
// X-Forwarded-For that is not one. Anyone can send X-Forwarded-For, so it
// is read only from the proxies the config names.
func (s *Server) clientAddress(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		requestOf(c).client = forwardedFor(host, r.Header.Values("X-Forwarded-For"), s.stateOf(c).proxies)
		return next(c)
	}
}

// forwardedFor walks X-Forwarded-For from the nearest hop back while each
// hop is a trusted proxy, and returns the first that is not.
func forwardedFor(peer string, headers []string, proxies []netip.Prefix) string {
	trusted := func(addr string) bool {
		ip, err := netip.ParseAddr(addr)
		return err == nil && slices.ContainsFunc(proxies, func(p netip.Prefix) bool { return p.Contains(ip.Unmap()) })
	}
	client := peer
	var hops []string
	for _, h := range headers {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0 && trusted(client); i-- {
		hop := strings.TrimSpace(hops[i])
		if _, err := netip.ParseAddr(hop); err != nil {
			break // not an address: the hops before it cannot be believed
		}
		client = hop
	}
	return client
}

// clientAddr is the client's address, as clientAddress found it.
func clientAddr(c echo.Context) string { return requestOf(c).client }

// principal is who authenticate found the caller to be.
func principal(c echo.Context) auth.Principal { return requestOf(c).principal }

// negotiate answers 406 unless the client accepts TAXII 2.1.
func (s *Server) negotiate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !acceptsTAXII(c.Request().Header.Get(echo.HeaderAccept)) {
			return newError(http.StatusNotAcceptable, "this hub answers with %s; the Accept header does not allow it", mediaTAXII)
		}
		return next(c)
	}
}

// logRequest writes the request's one log line.
func (s *Server) logRequest(c echo.Context, start time.Time) {
	ctx := c.Request().Context()
	h := s.log.Handler()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	// One line per request: the record is built here, without the caller's
	// program counter (Logger.LogAttrs walks the stack for it on every
	// line), and with typed attributes, so no boxing.
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	r.AddAttrs(
		slog.String("request_id", requestID(c)),
		slog.String("method", loggedMethod(c)),
		slog.String("path", loggedPath(c)),
		slog.String("org", principal(c).Org),
		slog.Int("status", c.Response().Status),
		slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
	)
	h.Handle(ctx, r)
}

// request is what the middleware learns about a request, for the handlers,
// the audit record and the log line.
type request struct {
	state           *state         // the configuration in force (withRequest)
	clientRequestID string         // the client's X-Request-Id (requestIDs)
	client          string         // the client's address (clientAddress)
	principal       auth.Principal // the caller (authenticate)
	audit           requestAudit
}

// hubContext is a request's echo context with its request beside it: one
// allocation, and a type assertion to reach it (echo's own store is a map
// behind a lock, taken once per fact).
type hubContext struct {
	echo.Context
	request
}

// requestOf is c's request. Every route's chain starts with withRequest,
// so c is a *hubContext.
func requestOf(c echo.Context) *request { return &c.(*hubContext).request }

// withRequest starts a request: it gives it its hubContext, pins the
// configuration in force (a reload while the request runs does not change
// what it sees), and answers any error the chain returns, as a TAXII error
// resource.
func (s *Server) withRequest(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hc := &hubContext{Context: c, request: request{state: s.state.Load()}}
		if err := next(hc); err != nil {
			s.handleError(err, hc)
		}
		return nil
	}
}

// loggedMethod and loggedPath are the request's method and path as log
// lines show them: the client's, bounded as in the audit log.
func loggedMethod(c echo.Context) string { return audit.Truncate(c.Request().Method, audit.MaxMethod) }
func loggedPath(c echo.Context) string   { return audit.Truncate(c.Request().URL.Path, audit.MaxField) }

// route is the route c matched, without a trailing slash ("" if none).
func route(c echo.Context) string { return strings.TrimSuffix(c.Path(), "/") }

// requireRole answers 403 unless the principal holds role.
func requireRole(role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !principal(c).Has(role) {
				return newError(http.StatusForbidden, "this needs the %s role", role)
			}
			return next(c)
		}
	}
}
