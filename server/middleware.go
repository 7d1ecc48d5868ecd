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

const principalKey = "taxiihub.principal"

// authenticate establishes the request's principal or answers 401. An API
// key or a network whose secrets keep failing is slowed down with 429s
// (see failureLimiter); nothing else is.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		st := s.stateOf(c)
		network := sourceNetwork(clientAddr(c))
		p, err := st.authn.Authenticate(c.Request(), func(apiKey string) (func(bool), error) {
			release, wait := s.failures.reserve("key:"+apiKey, network)
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
		c.Set(principalKey, p)
		return next(c)
	}
}

const clientKey = "taxiihub.client"

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
		c.Set(clientKey, forwardedFor(host, r.Header.Values("X-Forwarded-For"), s.stateOf(c).proxies))
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
func clientAddr(c echo.Context) string {
	addr, _ := c.Get(clientKey).(string)
	return addr
}

func principal(c echo.Context) auth.Principal {
	p, _ := c.Get(principalKey).(auth.Principal)
	return p
}

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
	p := principal(c)
	// Typed attributes: one line per request, so no boxing.
	s.log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
		slog.String("request_id", requestID(c)),
		slog.String("method", c.Request().Method),
		slog.String("path", audit.Truncate(requestPath(c), audit.MaxField)), // the client's: bounded as in the audit log
		slog.String("org", p.Org),
		slog.Int("status", c.Response().Status),
		slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
	)
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
