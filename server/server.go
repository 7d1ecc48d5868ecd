// Package server owns the hub's HTTP surface: the TAXII 2.1 routes (all in
// routes.go), the middleware around them (request ids, one configuration
// snapshot per request, client addresses behind trusted proxies,
// authentication and the failure limiter, content negotiation, the audit
// record of every request), the TAXII resources and error resources,
// pagination cursors, and the operations endpoints (audit log, backup,
// metrics, profiles, public keys). It reads and writes through store and
// asks auth who may do what; it never imports cmd.
package server

import (
	"crypto/ed25519"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"

	"github.com/labstack/echo/v4"
	"github.com/taxiihub/taxiihub/auth"
	"github.com/taxiihub/taxiihub/config"
	"github.com/taxiihub/taxiihub/store"
)

// Options are the parts a Server is built from.
type Options struct {
	Store         store.Store
	Authenticator auth.Authenticator
	Policy        auth.Policy
	// CursorKey MACs pagination cursors: at least 32 random bytes, kept
	// across restarts so that next tokens stay valid.
	CursorKey []byte
	// AuditKey verifies the audit log's checkpoints: the audit key's public
	// key. TokenKey is the hub's token key: published with it, and used for
	// the checkpoints older builds signed with it.
	AuditKey, TokenKey ed25519.PublicKey
	Logger             *slog.Logger
}

// Server is the hub's http.Handler.
type Server struct {
	echo     *echo.Echo
	serve    echo.HandlerFunc // a routed request through the hub's middleware (routes)
	state    atomic.Pointer[state]
	store    store.Store
	cursors  cursorCodec
	auditKey ed25519.PublicKey
	tokenKey ed25519.PublicKey
	failures *failureLimiter
	metrics  *metrics
	log      *slog.Logger
}

// state is what a configuration reload replaces, all at once.
type state struct {
	cfg     *config.Config
	authn   auth.Authenticator
	policy  auth.Policy
	proxies []netip.Prefix // cfg.TrustedProxies
}

// New builds the whole hub for cfg.
func New(cfg *config.Config, opts Options) (*Server, error) {
	if opts.Store == nil || opts.Authenticator == nil || opts.Policy == nil {
		return nil, errors.New("server: Store, Authenticator and Policy are required")
	}
	if len(opts.CursorKey) < 32 {
		return nil, errors.New("server: CursorKey must hold at least 32 bytes")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{
		echo:     echo.New(),
		store:    opts.Store,
		cursors:  cursorCodec{key: opts.CursorKey},
		auditKey: opts.AuditKey,
		tokenKey: opts.TokenKey,
		failures: newFailureLimiter(),
		metrics:  newMetrics(opts.Store),
		log:      opts.Logger,
	}
	s.Reload(cfg, opts.Authenticator, opts.Policy)
	s.echo.HideBanner = true
	s.echo.HidePort = true
	s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler: it finds the request's route and runs
// it through the hub's middleware, composed once in routes (echo's own
// ServeHTTP composes it again on every request).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := s.echo.AcquireContext()
	c.Reset(r, w)
	s.echo.Router().Find(r.Method, echo.GetPath(r), c)
	s.serve(c) // withRequest answers every error itself
	s.echo.ReleaseContext(c)
}

// Reload puts a new configuration, and the authenticator and policy built
// from it, in force for every request that starts afterwards. Requests in
// flight finish under the old one.
func (s *Server) Reload(cfg *config.Config, authn auth.Authenticator, policy auth.Policy) {
	s.state.Store(&state{cfg: cfg, authn: authn, policy: policy, proxies: cfg.Proxies()})
}

// stateOf is the configuration the request runs under.
func (s *Server) stateOf(c echo.Context) *state { return requestOf(c).state }

// config is the configuration the request runs under.
func (s *Server) config(c echo.Context) *config.Config { return s.stateOf(c).cfg }
