package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/auth"
	"github.com/taxiihub/taxiihub/config"
	"github.com/taxiihub/taxiihub/stix"
	"github.com/taxiihub/taxiihub/store"
)

func demoCommand() *cobra.Command {
	var dir, listen, testdata string
	var reset bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Create (or reuse) a demo hub of the election-threat mission, loaded with data, and serve it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if reset {
				if err := os.RemoveAll(dir); err != nil {
					return err
				}
			}
			cfg, err := demoSetup(dir, listen, testdata)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("listen") {
				cfg.Listen = listen
			}
			log, flush := newLogger(cmd.ErrOrStderr())
			defer flush()
			h, err := openHub(cfg, log)
			if err != nil {
				return err
			}
			defer h.close()
			added, err := importDir(cmd.Context(), h.store, cfg, &cfg.APIRoots[0].Collections[0], filepath.Join(testdata, "bundles"))
			if err != nil {
				return err
			}
			tokens, err := demoTokens(cfg)
			if err != nil {
				return err
			}
			tlsConfig, err := serverTLS(cfg.TLS)
			if err != nil {
				return err
			}
			return listenAndServe(cmd.Context(), cfg.Listen, tlsConfig, h, log, func(baseURL string) {
				printDemo(cmd.OutOrStdout(), baseURL, dir, added, cfg, tokens)
			})
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "taxiihub-demo", "directory for the demo's config and data (reused when it exists)")
	cmd.Flags().StringVar(&listen, "listen", config.DefaultListen, "address to serve on")
	cmd.Flags().StringVar(&testdata, "testdata", "testdata", "directory with the mission's hub.yaml and bundles/*.json")
	cmd.Flags().BoolVar(&reset, "reset", false, "delete the demo directory first and start over")
	return cmd
}

var (
	listenLine  = regexp.MustCompile(`(?m)^listen:.*$`)
	dataDirLine = regexp.MustCompile(`(?m)^data_dir:.*$`)
)

// demoSetup writes the mission's config (testdata/hub.yaml, with its own
// listen address and data directory) into dir unless it is already there,
// and loads it.
func demoSetup(dir, listen, testdata string) (*config.Config, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(abs, "hub.yaml")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		template, err := os.ReadFile(filepath.Join(testdata, "hub.yaml"))
		if err != nil {
			return nil, fmt.Errorf("%w; run from the repository root or pass --testdata", err)
		}
		text := listenLine.ReplaceAllLiteralString(string(template), "listen: "+listen)
		text = dataDirLine.ReplaceAllLiteralString(text, "data_dir: "+filepath.Join(abs, "data"))
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			return nil, err
		}
	}
	return config.Load(path)
}

// demoToken is a token printed for one organization.
type demoToken struct {
	org, roles, token string
}

// demoTokens issues a hub token for each organization: read and write for
// members, audit for an organization no collection lists.
func demoTokens(cfg *config.Config) ([]demoToken, error) {
	if cfg.Auth.Mode != "token" {
		return nil, nil
	}
	listed := map[string]bool{}
	for _, root := range cfg.APIRoots {
		for _, col := range root.Collections {
			for _, org := range append(col.Read, col.Write...) {
				listed[org] = true
			}
		}
	}
	var tokens []demoToken
	for _, org := range cfg.Organizations {
		roles := []string{config.RoleRead, config.RoleWrite}
		if !listed[org.ID] {
			roles = []string{config.RoleAudit}
		}
		req := auth.TokenRequest{Org: org.ID, Subject: "demo-" + org.ID, Roles: roles, TTL: cfg.Auth.MaxTokenTTL}
		token, err := issueToken(cfg, req, "", "")
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, demoToken{org.ID, strings.Join(roles, ","), token})
	}
	return tokens, nil
}

// importDir stores every object of every bundle (*.json) in dir into
// collection and returns how many were new. Objects already stored are
// skipped, so importing twice changes nothing; an invalid object stops the
// import with its file and reason. Each object is posted as the member
// whose identity made it (created_by_ref), or is it, so that members own
// and can version their own; the hub posts the rest. Objects are checked
// as a POST checks them (stix.CheckEnvelope, the collection's options and
// the access policy).
func importDir(ctx context.Context, st store.Store, cfg *config.Config, col *config.Collection, dir string) (int, error) {
	policy, err := auth.New(cfg, nil)
	if err != nil {
		return 0, err
	}
	owners := map[string]string{}
	for _, org := range cfg.Organizations {
		owners[org.Identity] = org.ID
	}
	ownerOf := func(m stix.Meta) string {
		if owner, own := owners[m.ID]; own { // a member's identity object
			return owner
		}
		return owners[m.CreatedByRef]
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return 0, err
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("dataset %s: no bundles (*.json) there; run from the repository root or pass --testdata", dir)
	}
	added := 0
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			return added, err
		}
		checked, err := stix.CheckEnvelope(body, stix.Options{RefuseCustom: !col.CustomAllowed()}, func(m stix.Meta) error {
			return policy.CheckObject(auth.Principal{Org: ownerOf(m), Roles: []string{config.RoleRead, config.RoleWrite}}, col.ID, m)
		})
		if err != nil {
			return added, fmt.Errorf("%s: %w", file, err)
		}
		objs, failures := store.Ingest(checked)
		if len(failures) > 0 {
			return added, fmt.Errorf("%s: %s (%s)", file, failures[0].Message, failures[0].ID)
		}
		byOwner := map[string][]store.Object{}
		for _, o := range objs {
			byOwner[ownerOf(o.Meta)] = append(byOwner[ownerOf(o.Meta)], o)
		}
		collection := col.ID
		for _, owner := range slices.Sorted(maps.Keys(byOwner)) {
			objs := byOwner[owner]
			now := time.Now().UTC()
			status := &store.Status{ID: "import-" + filepath.Base(file) + "-" + owner, Collection: collection, Owner: owner, RequestTime: now, Total: len(objs)}
			rec := &audit.Record{Time: now, RequestID: status.ID, Org: owner, Subject: "taxiihub import", AuthMethod: auth.MethodNone,
				Method: "IMPORT", Path: file, Collection: collection, Action: audit.ActionWrite, Status: http.StatusAccepted}
			if err := st.Add(ctx, collection, store.Author{Org: owner}, objs, status, rec); err != nil {
				return added, fmt.Errorf("%s: %w", file, err)
			}
			added += len(rec.Stored)
		}
	}
	return added, nil
}

func printDemo(w io.Writer, baseURL, dir string, added int, cfg *config.Config, tokens []demoToken) {
	root := cfg.APIRoots[0]
	collections := baseURL + "/" + root.Path + "/collections/"
	objects := collections + root.Collections[0].Alias + "/objects/"
	fmt.Fprintf(w, "\ntaxiihub demo hub: %s/taxii2/\n", baseURL)
	fmt.Fprintf(w, "  config and data in %s (run again to reuse them, --reset to start over)\n", dir)
	fmt.Fprintf(w, "  %d new objects loaded from the election-threat dataset\n", added)
	if len(tokens) == 0 {
		fmt.Fprintf(w, "  authentication is OFF: anyone who can reach the port can read and write\n")
		return
	}
	fmt.Fprintf(w, "\nTokens, valid %v (paste these lines into a shell):\n", cfg.Auth.MaxTokenTTL)
	for _, t := range tokens {
		fmt.Fprintf(w, "  export %s_TOKEN=%s   # %s\n", strings.ToUpper(t.org), t.token, t.roles)
	}
	fmt.Fprintf(w, "\nEach organization sees the collections it may read or write:\n")
	for _, t := range tokens {
		if t.roles == config.RoleAudit {
			fmt.Fprintf(w, "  curl -s -H \"Authorization: Bearer $%s_TOKEN\" '%s/admin/audit?limit=5'\n", strings.ToUpper(t.org), baseURL)
			continue
		}
		fmt.Fprintf(w, "  curl -s -H \"Authorization: Bearer $%s_TOKEN\" %s\n", strings.ToUpper(t.org), collections)
	}
	fmt.Fprintf(w, `
Pull the indicators (as the FBI):
  curl -sg -H 'Accept: application/taxii+json;version=2.1' -H "Authorization: Bearer $FBI_TOKEN" '%s?match[type]=indicator'

Post a bundle:
  curl -s -H 'Content-Type: application/taxii+json;version=2.1' -H "Authorization: Bearer $FBI_TOKEN" --data-binary @testdata/bundles/election-sample.json %s

With the OASIS Python client (pip install taxii2-client):
  import os
  from taxii2client.v21 import Server
  from taxii2client.common import TokenAuth
  server = Server("%s/taxii2/", auth=TokenAuth(key=os.environ["FBI_TOKEN"]))
  collection = server.api_roots[0].collections[0]
  print(collection.get_objects())

Stop with Ctrl-C.
`, objects, objects, baseURL)
}
