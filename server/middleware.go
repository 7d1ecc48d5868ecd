package server

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/taxiihub/taxiihub/auth"
)

const principalKey = "taxiihub.principal"

// authenticate establishes the request's principal or answers 401.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := s.authn.Authenticate(c.Request())
		if err != nil {
			e := newError(http.StatusUnauthorized, "%v", err)
			if !errors.Is(err, auth.ErrUnauthenticated) {
				e.description = "the credentials could not be checked"
			}
			e.header = http.Header{"Www-Authenticate": {`Bearer realm="taxiihub"`}}
			return e
		}
		c.Set(principalKey, p)
		return next(c)
	}
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
