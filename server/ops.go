package server

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// probes are answered without authentication and without an audit record:
// load balancers and orchestrators call them every few seconds, and they
// reveal nothing about the hub's contents. (Metrics do: collection ids and
// sizes. Every /metrics request is recorded.)
var probes = map[string]bool{"/healthz": true, "/readyz": true}

// getHealth serves /healthz: the process is up.
func (s *Server) getHealth(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// getReady serves /readyz: the store is open and accepts writes.
func (s *Server) getReady(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
	defer cancel()
	if err := s.store.Ready(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// getBackup serves GET /admin/backup: a consistent snapshot of the store,
// streamed while the hub keeps serving. The request is recorded before the
// stream begins.
func (s *Server) getBackup(c echo.Context) error {
	if err := s.store.Audit(c.Request().Context(), s.newRecord(c, time.Now().UTC(), http.StatusOK, "")); err != nil {
		return err
	}
	note(c).recorded = true
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "application/octet-stream")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="hub.db"`)
	res.WriteHeader(http.StatusOK)
	if w, ok := res.Writer.(*bufferedWriter); ok {
		w.flush()
	}
	n, err := s.store.Backup(c.Request().Context(), res)
	if err != nil {
		return err
	}
	s.log.Info("backup streamed", "bytes", n, "request_id", requestID(c))
	return nil
}
