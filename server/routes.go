package server

import (
	"net/http"
	"net/http/pprof"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/taxiihub/taxiihub/config"
)

// routes lists every route the hub serves. Paths are matched with or without
// their trailing slash, never redirected (a redirect turns a POST into a GET
// in many clients and drops credentials in others) nor rewritten (the audit
// log and the request line show the path as the client sent it).
func (s *Server) routes() {
	e := s.echo
	// Every request, a path no route matches (404) or a method none takes
	// (405) too, passes through these, in this order.
	s.serve = chain(func(c echo.Context) error { return c.Handler()(c) },
		s.withRequest, requestIDs, s.clientAddress, s.auditRequests, s.recoverPanics)
	add := func(method, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
		h = chain(h, append([]echo.MiddlewareFunc{wholeSegments}, m...)...)
		e.Add(method, path, h)
		e.Add(method, path+"/", h)
	}

	taxii := []echo.MiddlewareFunc{s.authenticate, s.negotiate}
	add(http.MethodGet, "/taxii2", s.getDiscovery, taxii...)
	add(http.MethodGet, "/:root", s.getAPIRoot, taxii...)
	add(http.MethodGet, "/:root/status/:status", s.getStatus, taxii...)
	add(http.MethodGet, "/:root/collections", s.getCollections, taxii...)
	add(http.MethodGet, "/:root/collections/:collection", s.getCollection, taxii...)
	add(http.MethodGet, "/:root/collections/:collection/manifest", s.getManifest, taxii...)
	add(http.MethodGet, "/:root/collections/:collection/objects", s.getObjects, taxii...)
	add(http.MethodPost, "/:root/collections/:collection/objects", s.postObjects, taxii...)
	add(http.MethodGet, "/:root/collections/:collection/objects/:object", s.getObject, taxii...)
	add(http.MethodDelete, "/:root/collections/:collection/objects/:object", s.deleteObject, taxii...)
	add(http.MethodGet, "/:root/collections/:collection/objects/:object/versions", s.getVersions, taxii...)

	add(http.MethodGet, "/.well-known/jwks.json", s.getJWKS)
	add(http.MethodGet, "/healthz", s.getHealth)
	add(http.MethodGet, "/readyz", s.getReady)
	add(http.MethodGet, "/metrics", s.getMetrics, s.requireMetricsAccess)
	admin := func(role string) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{s.authenticate, requireRole(role)}
	}
	e.GET("/debug/pprof/*", chain(echo.WrapHandler(http.HandlerFunc(pprof.Index)), admin(config.RoleAdmin)...))
	add(http.MethodGet, "/debug/pprof/profile", echo.WrapHandler(http.HandlerFunc(pprof.Profile)), admin(config.RoleAdmin)...)

	add(http.MethodGet, "/admin/backup", s.getBackup, admin(config.RoleAdmin)...)
	add(http.MethodGet, "/admin/audit", s.getAudit, admin(config.RoleAudit)...)
	add(http.MethodGet, "/admin/audit/verify", s.verifyAudit, admin(config.RoleAudit)...)
}

// chain wraps h in the middleware m, the first outermost.
func chain(h echo.HandlerFunc, m ...echo.MiddlewareFunc) echo.HandlerFunc {
	for i := len(m) - 1; i >= 0; i-- {
		h = m[i](h)
	}
	return h
}

// wholeSegments answers 404, as for a path no route matches, when a route's
// parameter matched an empty segment ("/election2020/collections//").
func wholeSegments(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if slices.Contains(c.ParamValues(), "") {
			return echo.ErrNotFound
		}
		return next(c)
	}
}
