package server

import (
	"net/http"
	"net/http/pprof"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/taxiihub/taxiihub/config"
)

// routes lists every route the hub serves. Paths are matched with or without
// their trailing slash, never redirected (a redirect turns a POST into a GET
// in many clients and drops credentials in others).
func (s *Server) routes() {
	e := s.echo
	e.Pre(keepPath, middleware.RemoveTrailingSlash())
	e.Use(requestIDs, s.pinState, s.clientAddress, s.auditRequests, s.recoverPanics)

	taxii := []echo.MiddlewareFunc{s.authenticate, s.negotiate}
	e.GET("/taxii2", s.getDiscovery, taxii...)
	e.GET("/:root", s.getAPIRoot, taxii...)
	e.GET("/:root/status/:status", s.getStatus, taxii...)
	e.GET("/:root/collections", s.getCollections, taxii...)
	e.GET("/:root/collections/:collection", s.getCollection, taxii...)
	e.GET("/:root/collections/:collection/manifest", s.getManifest, taxii...)
	e.GET("/:root/collections/:collection/objects", s.getObjects, taxii...)
	e.POST("/:root/collections/:collection/objects", s.postObjects, taxii...)
	e.GET("/:root/collections/:collection/objects/:object", s.getObject, taxii...)
	e.DELETE("/:root/collections/:collection/objects/:object", s.deleteObject, taxii...)
	e.GET("/:root/collections/:collection/objects/:object/versions", s.getVersions, taxii...)

	e.GET("/.well-known/jwks.json", s.getJWKS)
	e.GET("/healthz", s.getHealth)
	e.GET("/readyz", s.getReady)
	e.GET("/metrics", s.getMetrics, s.requireMetricsAccess)
	e.GET("/debug/pprof/*", echo.WrapHandler(http.HandlerFunc(pprof.Index)), s.authenticate, requireRole(config.RoleAdmin))
	e.GET("/debug/pprof/profile", echo.WrapHandler(http.HandlerFunc(pprof.Profile)), s.authenticate, requireRole(config.RoleAdmin))

	e.GET("/admin/backup", s.getBackup, s.authenticate, requireRole(config.RoleAdmin))
	e.GET("/admin/audit", s.getAudit, s.authenticate, requireRole(config.RoleAudit))
	e.GET("/admin/audit/verify", s.verifyAudit, s.authenticate, requireRole(config.RoleAudit))
}
