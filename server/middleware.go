package server

import (
	"errors"
	"net"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/taxiihub/taxiihub/auth"
)

const principalKey = "taxiihub.principal"

// authenticate establishes the request's principal or answers 401. An
// address that keeps failing is slowed down with 429s.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		addr := remoteHost(c.Request())
		if wait := s.failures.wait(addr); wait > 0 {
			e := newError(http.StatusTooManyRequests, "too many failed authentications from this address; retry later")
			e.header = http.Header{"Retry-After": {strconv.Itoa(int(wait.Seconds()) + 1)}}
			return e
		}
		st := s.state.Load()
		p, err := st.authn.Authenticate(c.Request())
		if err != nil {
			s.failures.failed(addr)
			s.metrics.authRefused(err)
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

// remoteHost is the address the connection comes from. Forwarding headers
// are not trusted: anyone can send them.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
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
