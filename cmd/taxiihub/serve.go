package main

import (
	"cmp"
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
	"reflect"
	"slices"
	"strings"
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
			log, flush := newLogger(cmd.ErrOrStderr())
			defer flush()
			return serve(cmd.Context(), configPath, cfg, log)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "hub.yaml", "path of the hub's config file")
	return cmd
}

// serve runs the hub until ctx is cancelled, reloading its config on SIGHUP.
// Everything the config names is loaded and checked (checkFiles) before
// anything is created in data_dir.
func serve(ctx context.Context, configPath string, cfg *config.Config, log *slog.Logger) error {
	tlsConfig, err := checkFiles(cfg)
	if err != nil {
		return err
	}
	h, err := openHub(cfg, log)
	if err != nil {
		return err
	}
	defer h.close()
	h.tls.Store(tlsConfig)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			changes, err := h.reload(configPath)
			if err != nil {
				log.Error("config reload refused; the previous config stays in force", "err", err)
				continue
			}
			log.Info("config reloaded", "config", configPath, "changes", changes)
		}
	}()
	var listenTLS *tls.Config
	if tlsConfig != nil {
		// Each handshake takes the TLS material in force: a reload can
		// renew the certificate without a restart.
		listenTLS = &tls.Config{MinVersion: tls.VersionTLS12, GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return h.tls.Load(), nil }}
	}
	return listenAndServe(ctx, cfg.Listen, listenTLS, h, log, nil)
}

// checkFiles loads everything a config names outside itself, as serve
// needs it: the organizations' public keys, and the TLS certificate, key
// and client CAs (returned as the server's TLS configuration, nil for plain
// HTTP). Errors name the file. config check runs it too.
func checkFiles(cfg *config.Config) (*tls.Config, error) {
	if _, err := auth.New(cfg, nil); err != nil {
		return nil, err
	}
	return serverTLS(cfg.TLS)
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
		return nil, fmt.Errorf("tls.cert %s, tls.key %s: %w", cfg.Cert, cfg.Key, err)
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
	tls     atomic.Pointer[tls.Config] // the TLS material in force; nil for plain HTTP
	hubKey  ed25519.PublicKey
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
	h := &hub{Server: srv, store: st, witness: witness, config: current, hubKey: hubKey.Public().(ed25519.PublicKey)}
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

// reload reads the config again and puts it in force, unless it is invalid
// or names files that cannot be loaded; it says what changed. Settings
// fixed at start (listen, data_dir, TLS on or off) keep their old values.
func (h *hub) reload(configPath string) (string, error) {
	cfg, err := config.Load(configPath)
	if err != nil {
		return "", err
	}
	old := h.config.Load()
	if cfg.DataDir != old.DataDir {
		return "", fmt.Errorf("data_dir changed from %s to %s: restart the hub to move it", old.DataDir, cfg.DataDir)
	}
	if (cfg.TLS.Cert == "") != (old.TLS.Cert == "") {
		return "", errors.New("tls: turning TLS on or off needs a restart")
	}
	tlsConfig, err := serverTLS(cfg.TLS)
	if err != nil {
		return "", err
	}
	authority, err := auth.New(cfg, h.hubKey)
	if err != nil {
		return "", err
	}
	h.Reload(cfg, authority, authority)
	h.config.Store(cfg)
	if tlsConfig != nil {
		h.tls.Store(tlsConfig)
	}
	return describeChanges(old, cfg), nil
}

// describeChanges says, in one line, what a reload changed of what
// operators and auditors care about.
func describeChanges(old, cfg *config.Config) string {
	var changes []string
	diff := func(what string, before, after []string) {
		added, removed := setDiff(after, before), setDiff(before, after)
		if len(added) > 0 {
			changes = append(changes, what+" added: "+strings.Join(added, ", "))
		}
		if len(removed) > 0 {
			changes = append(changes, what+" removed: "+strings.Join(removed, ", "))
		}
	}
	orgs := func(c *config.Config) (ids, keys, apiKeys []string) {
		for _, o := range c.Organizations {
			ids = append(ids, o.ID)
			for _, k := range o.Keys {
				keys = append(keys, k.KID+" ("+o.ID+", "+strings.Join(k.Roles, ",")+")")
			}
			for _, k := range o.APIKeys {
				apiKeys = append(apiKeys, o.ID+"/"+k.Name+" ("+strings.Join(k.Roles, ",")+")")
			}
		}
		return ids, keys, apiKeys
	}
	collections := func(c *config.Config) (out []string) {
		for _, r := range c.APIRoots {
			for _, col := range r.Collections {
				out = append(out, fmt.Sprintf("%s/%s (read %s; write %s; max_tlp %s)", r.Path, cmp.Or(col.Alias, col.ID), strings.Join(col.Read, ","), strings.Join(col.Write, ","), cmp.Or(col.MaxTLP, "none")))
			}
		}
		return out
	}
	oldIDs, oldKeys, oldAPIKeys := orgs(old)
	ids, keys, apiKeys := orgs(cfg)
	diff("organizations", oldIDs, ids)
	diff("organization keys", oldKeys, keys)
	diff("API keys", oldAPIKeys, apiKeys)
	diff("collections", collections(old), collections(cfg))
	diff("revoked tokens", old.Auth.Revoked, cfg.Auth.Revoked)
	if !reflect.DeepEqual(cfg.TLS, old.TLS) {
		changes = append(changes, "TLS settings changed")
	}
	if cfg.TLS.Cert != "" {
		changes = append(changes, "TLS certificate reloaded")
	}
	if len(changes) == 0 {
		return "none"
	}
	return strings.Join(changes, "; ")
}

// setDiff is what a holds that b does not.
func setDiff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
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
