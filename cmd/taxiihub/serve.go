package main

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/auth"
	"github.com/taxiihub/taxiihub/config"
	"github.com/taxiihub/taxiihub/internal/datadir"
	"github.com/taxiihub/taxiihub/server"
	"github.com/taxiihub/taxiihub/store/boltstore"
)

const shutdownTimeout = 30 * time.Second

func serveCommand() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve TAXII 2.1 as the config file describes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configPath)
			if err != nil {
				return err
			}
			log := newLogger(cmd.ErrOrStderr())
			return serve(cmd.Context(), configPath, cfg, log)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "hub.yaml", "path of the hub's config file")
	return cmd
}

// serve runs the hub until ctx is cancelled, reloading its config on SIGHUP.
func serve(ctx context.Context, configPath string, cfg *config.Config, log *slog.Logger) error {
	h, err := openHub(cfg, log)
	if err != nil {
		return err
	}
	defer h.close()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			if err := h.reload(configPath); err != nil {
				log.Error("config reload refused; the previous config stays in force", "err", err)
				continue
			}
			log.Info("config reloaded", "config", configPath)
		}
	}()
	tlsConfig, err := serverTLS(cfg.TLS)
	if err != nil {
		return err
	}
	return listenAndServe(ctx, cfg.Listen, tlsConfig, h, log, nil)
}

// serverTLS builds the TLS configuration of cfg, nil for plain HTTP.
// Client certificates are asked for, and verified against client_ca, but
// not required: clients without one authenticate with tokens.
func serverTLS(cfg config.TLS) (*tls.Config, error) {
	if cfg.Cert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.Cert, cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if cfg.ClientCA != "" {
		pem, err := os.ReadFile(cfg.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("tls.client_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.client_ca: no PEM certificates in %s", cfg.ClientCA)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	return tc, nil
}

// maxHeaderBytes bounds a request's headers: a token or an API key takes a
// few KiB; everything in them may end up in a log line or a refusal.
const maxHeaderBytes = 64 << 10

// hub is the server with what it needs to reload its config.
type hub struct {
	*server.Server
	store   *boltstore.Store
	witness *audit.Witness // nil without one
	config  *atomic.Pointer[config.Config]
	hubKey  ed25519.PublicKey
	dataDir string
}

// openHub opens the data directory and builds the server over it.
func openHub(cfg *config.Config, log *slog.Logger) (*hub, error) {
	dir, loosened, err := datadir.Prepare(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if loosened {
		log.Warn("data_dir was open to other users; made it private (0700)", "data_dir", cfg.DataDir)
	}
	cursorKey, err := dir.CursorKey()
	if err != nil {
		return nil, err
	}
	hubKey, err := dir.HubKey()
	if err != nil {
		return nil, err
	}
	auditKey, err := dir.AuditKey()
	if err != nil {
		return nil, err
	}
	authority, err := auth.New(cfg, hubKey.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	var witness *audit.Witness
	current := new(atomic.Pointer[config.Config]) // what a reload changes
	current.Store(cfg)
	opts := boltstore.Options{
		Retention:          func() time.Duration { return current.Load().Audit.Retention() },
		Log:                log,
		AuditKey:           auditKey,
		CheckpointEvery:    cfg.Audit.CheckpointEvery,
		CheckpointInterval: cfg.Audit.CheckpointInterval,
		ReadSyncInterval:   cfg.Audit.ReadSyncInterval(),
	}
	if cfg.Audit.WitnessFile != "" || cfg.Audit.WitnessURL != "" {
		witness = audit.NewWitness(cfg.Audit.WitnessFile, cfg.Audit.WitnessURL, log)
		opts.Witness = witness.Send
	}
	st, err := boltstore.Open(dir.File(datadir.DBFile), opts)
	if err != nil {
		if witness != nil {
			witness.Close()
		}
		return nil, err
	}
	warnIfOpen(cfg, log)
	srv, err := server.New(cfg, server.Options{
		Store:         st,
		Authenticator: authority,
		Policy:        authority,
		CursorKey:     cursorKey,
		AuditKey:      auditKey.Public().(ed25519.PublicKey),
		TokenKey:      hubKey.Public().(ed25519.PublicKey),
		Logger:        log,
	})
	h := &hub{Server: srv, store: st, witness: witness, config: current, hubKey: hubKey.Public().(ed25519.PublicKey), dataDir: cfg.DataDir}
	if err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

// close closes the store (which signs a last checkpoint), then sends the
// checkpoints still queued to the witness.
func (h *hub) close() error {
	err := h.store.Close()
	if h.witness != nil {
		h.witness.Close()
	}
	return err
}

// reload reads the config again and puts it in force, unless it is invalid.
// Settings fixed at start (listen, data_dir) keep their old values.
func (h *hub) reload(configPath string) error {
	cfg, err := config.Load(configPath)
	if err != nil {
		return err
	}
	if cfg.DataDir != h.dataDir {
		return fmt.Errorf("data_dir changed from %s to %s: restart the hub to move it", h.dataDir, cfg.DataDir)
	}
	authority, err := auth.New(cfg, h.hubKey)
	if err != nil {
		return err
	}
	h.Reload(cfg, authority, authority)
	h.config.Store(cfg)
	return nil
}

func warnIfOpen(cfg *config.Config, log *slog.Logger) {
	if cfg.Auth.Mode == "none" {
		log.Warn("AUTHENTICATION IS OFF (auth.mode: none): every caller can read, write and delete every collection; use this only on a trusted machine")
	}
}

// listenAndServe serves h on addr until ctx is cancelled, then shuts down
// cleanly: in-flight requests finish, up to shutdownTimeout. onListen, if
// set, learns the base URL once the port is open.
func listenAndServe(ctx context.Context, addr string, tlsConfig *tls.Config, h http.Handler, log *slog.Logger, onListen func(baseURL string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	scheme := "http://"
	if tlsConfig != nil {
		ln, scheme = tls.NewListener(ln, tlsConfig), "https://"
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      10 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	baseURL := scheme + ln.Addr().String()
	log.Info("serving", "url", baseURL+"/taxii2/")
	if onListen != nil {
		onListen(baseURL)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
