package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/taxiihub/taxiihub/store/boltstore"
)

func backupCommand() *cobra.Command {
	var baseURL, tokenFile, out, caCert string
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Save a consistent copy of a running hub's data (needs a token with the admin role, in $" + tokenEnv + " or --token-file)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			token, err := readToken(tokenFile)
			if err != nil {
				return err
			}
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, strings.TrimSuffix(baseURL, "/")+"/admin/backup", nil)
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+token)
			client, err := httpClient(caCert, 0)
			if err != nil {
				return err
			}
			res, err := client.Do(req)
			if err != nil {
				return err
			}
			defer res.Body.Close()
			if res.StatusCode != http.StatusOK {
				body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
				return fmt.Errorf("backup refused: %s: %s", res.Status, strings.TrimSpace(string(body)))
			}
			n, err := saveFile(out, res.Body, func(path string) error {
				st, err := boltstore.Open(path, boltstore.Options{ReadOnly: true})
				if err != nil {
					return fmt.Errorf("the copy does not open: %w", err)
				}
				return st.Close()
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "saved %d bytes to %s\n", n, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&baseURL, "url", "http://127.0.0.1:8080", "the hub's base URL")
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "file holding a token with the admin role (else $"+tokenEnv+"; never on the command line, where other users see it)")
	cmd.Flags().StringVar(&out, "out", "", "file to write the copy to")
	cmd.Flags().StringVar(&caCert, "cacert", "", "PEM CA certificates to trust for the hub's HTTPS certificate (default: the system's)")
	return cmd
}

// tokenEnv names the environment variable commands take a token from.
const tokenEnv = "TAXIIHUB_TOKEN"

// readToken takes a token from file, or else from $TAXIIHUB_TOKEN: a
// command line is visible to every user of the machine.
func readToken(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if token := strings.TrimSpace(os.Getenv(tokenEnv)); token != "" {
		return token, nil
	}
	return "", fmt.Errorf("no token: put one with the admin role in $%s or in a file given with --token-file", tokenEnv)
}

// saveFile writes r to path through a temporary file that must pass check,
// so that path is either a whole, checked copy or untouched.
func saveFile(path string, r io.Reader, check func(tmp string) error) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".backup-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, r)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("backup interrupted: %w", err)
	}
	if err := check(tmp.Name()); err != nil {
		return n, err
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return n, err
	}
	return n, os.Rename(tmp.Name(), path)
}
