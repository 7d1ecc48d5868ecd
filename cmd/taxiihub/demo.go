package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/taxiihub/taxiihub/config"
	"github.com/taxiihub/taxiihub/stix"
	"github.com/taxiihub/taxiihub/store"
)

//go:embed demo.yaml
var demoConfig string

func demoCommand() *cobra.Command {
	var dir, listen, dataset string
	var reset bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Create (or reuse) a demo hub loaded with election-threat data, and serve it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if reset {
				if err := os.RemoveAll(dir); err != nil {
					return err
				}
			}
			cfg, err := demoSetup(dir, listen)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("listen") {
				cfg.Listen = listen
			}
			log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
			st, h, err := openHub(cfg, log)
			if err != nil {
				return err
			}
			defer st.Close()
			collection := cfg.APIRoots[0].Collections[0]
			added, err := importDir(cmd.Context(), st, collection.ID, dataset)
			if err != nil {
				return err
			}
			return listenAndServe(cmd.Context(), cfg.Listen, h, log, func(baseURL string) {
				printDemo(cmd.OutOrStdout(), baseURL, dir, added, cfg)
			})
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "taxiihub-demo", "directory for the demo's config and data (reused when it exists)")
	cmd.Flags().StringVar(&listen, "listen", config.DefaultListen, "address to serve on")
	cmd.Flags().StringVar(&dataset, "dataset", filepath.Join("testdata", "bundles"), "directory of STIX bundles to load")
	cmd.Flags().BoolVar(&reset, "reset", false, "delete the demo directory first and start over")
	return cmd
}

// demoSetup writes the demo config into dir unless it is already there, and
// loads it.
func demoSetup(dir, listen string) (*config.Config, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(abs, "hub.yaml")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		text := strings.NewReplacer("{{LISTEN}}", listen, "{{DATA_DIR}}", filepath.Join(abs, "data")).Replace(demoConfig)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			return nil, err
		}
	}
	return config.Load(path)
}

// importDir stores every object of every bundle (*.json) in dir into
// collection and returns how many were new. Objects already stored are
// skipped, so importing twice changes nothing; an invalid object stops the
// import with its file and reason.
func importDir(ctx context.Context, st store.Store, collection, dir string) (int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return 0, err
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("dataset %s: no bundles (*.json) there; run from the repository root or pass --dataset", dir)
	}
	added := 0
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			return added, err
		}
		env, err := stix.ParseEnvelope(body)
		if err != nil {
			return added, fmt.Errorf("%s: %w", file, err)
		}
		objs := make([]store.Object, 0, len(env.Objects))
		for i, raw := range env.Objects {
			m, problems := stix.Validate(raw, stix.Options{})
			if err := stix.Err(problems); err != nil {
				return added, fmt.Errorf("%s: objects[%d] (%s): %w", file, i, m.ID, err)
			}
			objs = append(objs, store.Object{Meta: m, Raw: raw})
		}
		status := &store.Status{ID: "import-" + filepath.Base(file), Collection: collection, RequestTime: time.Now().UTC(), Total: len(objs)}
		if err := st.Add(ctx, collection, objs, status); err != nil {
			return added, fmt.Errorf("%s: %w", file, err)
		}
		for _, d := range status.Successes {
			if d.Message == "" {
				added++
			}
		}
	}
	return added, nil
}

func printDemo(w io.Writer, baseURL, dir string, added int, cfg *config.Config) {
	objects := baseURL + "/" + cfg.APIRoots[0].Path + "/collections/" + cfg.APIRoots[0].Collections[0].Alias + "/objects/"
	fmt.Fprintf(w, `
taxiihub demo hub: %s/taxii2/
  config and data in %s (run again to reuse them, --reset to start over)
  %d new objects loaded from the election-threat dataset
  authentication is OFF in this demo: anyone who can reach the port can read and write

Pull the indicators:
  curl -sg -H 'Accept: application/taxii+json;version=2.1' '%s?match[type]=indicator'

Post a bundle:
  curl -s -H 'Content-Type: application/taxii+json;version=2.1' --data-binary @testdata/bundles/election-sample.json %s

With the OASIS Python client (pip install taxii2-client):
  from taxii2client.v21 import Server
  server = Server("%s/taxii2/")
  collection = server.api_roots[0].collections[0]
  print(collection.get_objects())

Stop with Ctrl-C.
`, baseURL, dir, added, objects, objects, baseURL)
}
