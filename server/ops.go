package server

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/config"
)

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

// jwk is a public key as RFC 8037 writes an Ed25519 key in a JWK Set.
type jwk struct {
	KeyType string `json:"kty"`
	Curve   string `json:"crv"`
	X       string `json:"x"`
	KeyID   string `json:"kid"`
	Use     string `json:"use"`
	Alg     string `json:"alg"`
}

// getJWKS serves GET /.well-known/jwks.json: the hub's public keys, for
// anyone to check what it signed. kid "hub" signs tokens; "audit-<id>"
// signs the audit log's checkpoints (id as in a checkpoint's key).
func (s *Server) getJWKS(c echo.Context) error {
	keys := []jwk{}
	for kid, pub := range map[string]ed25519.PublicKey{config.HubKeyID: s.tokenKey, "audit-" + audit.KeyID(s.auditKey): s.auditKey} {
		if len(pub) == ed25519.PublicKeySize {
			keys = append(keys, jwk{KeyType: "OKP", Curve: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub), KeyID: kid, Use: "sig", Alg: "EdDSA"})
		}
	}
	slices.SortFunc(keys, func(a, b jwk) int { return strings.Compare(a.KeyID, b.KeyID) })
	return c.JSON(http.StatusOK, map[string][]jwk{"keys": keys})
}
