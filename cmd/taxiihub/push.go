package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/taxiihub/taxiihub/stix"
)

func pushCommand() *cobra.Command {
	var collectionURL, tokenFile, caCert string
	cmd := &cobra.Command{
		Use:   "push FILE|DIR...",
		Short: "Post bundles (or envelopes) to a collection of any TAXII 2.1 server, in envelopes its API root accepts, and print what it stored",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			client, err := clientFor(collectionURL, tokenFile, caCert)
			if err != nil {
				return err
			}
			files, err := bundleFiles(paths)
			if err != nil {
				return err
			}
			return push(cmd.Context(), client, files, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&collectionURL, "url", "", "the collection's URL (required), e.g. https://hub.example/election2020/collections/indicators/")
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "file holding the credential, a token or an API key (else $"+tokenEnv+")")
	cmd.Flags().StringVar(&caCert, "cacert", "", "PEM CA certificates to trust for the server's HTTPS certificate (default: the system's)")
	return cmd
}

// bundleFiles lists the files to push: each path, or a directory's *.json.
func bundleFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		found, _ := filepath.Glob(filepath.Join(p, "*.json"))
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no bundles (*.json) in it", p)
		}
		files = append(files, found...)
	}
	return files, nil
}

// push posts every object of files in envelopes no larger than the API
// root's max_content_length, and prints each failure and a summary. It
// fails if any object was refused.
func push(ctx context.Context, c *taxiiClient, files []string, out io.Writer) error {
	root := c.collection[:strings.Index(c.collection, "/collections/")+1]
	var apiRoot struct {
		MaxContentLength int `json:"max_content_length"`
	}
	if _, err := c.do(ctx, http.MethodGet, root, nil, &apiRoot); err != nil {
		return err
	}
	var objects []json.RawMessage
	var origins []string // where each object comes from: "file objects[i]"
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		env, err := stix.ParseEnvelope(body)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		objects = append(objects, env.Objects...)
		for i := range env.Objects {
			origins = append(origins, fmt.Sprintf("%s objects[%d]", file, i))
		}
	}
	envelopes, counts, err := envelopesUnder(objects, apiRoot.MaxContentLength)
	if err != nil {
		return err
	}
	stored, failed, sent := 0, 0, 0
	for e, envelope := range envelopes {
		var st struct {
			SuccessCount int `json:"success_count"`
			Failures     []struct {
				ID      string `json:"id"`
				Message string `json:"message"`
			} `json:"failures"`
		}
		if _, err := c.do(ctx, http.MethodPost, c.collection+"objects/", bytes.NewReader(envelope), &st); err != nil {
			return err
		}
		stored += st.SuccessCount
		failed += len(st.Failures)
		for _, f := range st.Failures {
			// The server names the object by its place in the envelope
			// sent: name it by its place in its file.
			msg := f.Message
			var i int
			if _, err := fmt.Sscanf(msg, "objects[%d]:", &i); err == nil && i >= 0 && i < counts[e] {
				_, rest, _ := strings.Cut(msg, ": ")
				msg = origins[sent+i] + ": " + rest
			}
			fmt.Fprintf(out, "refused %s: %s\n", f.ID, msg)
		}
		sent += counts[e]
	}
	fmt.Fprintf(out, "%d objects in %d envelopes: %d accepted, %d refused\n", len(objects), len(envelopes), stored, failed)
	if failed > 0 {
		return fmt.Errorf("%d objects were refused", failed)
	}
	return nil
}

// envelopesUnder packs objects, in order, into envelopes of at most limit
// bytes (no limit if 0), and says how many objects each holds.
func envelopesUnder(objects []json.RawMessage, limit int) (envelopes [][]byte, counts []int, err error) {
	const head, tail = `{"objects":[`, `]}`
	current, n := []byte(head), 0
	for _, o := range objects {
		o = compact(o)
		if limit > 0 && len(head)+len(o)+len(tail) > limit {
			return nil, nil, fmt.Errorf("an object of %d bytes does not fit in the server's max_content_length (%d bytes)", len(o), limit)
		}
		if limit > 0 && len(current)+1+len(o)+len(tail) > limit {
			envelopes, counts = append(envelopes, append(current, tail...)), append(counts, n)
			current, n = []byte(head), 0
		}
		if n > 0 {
			current = append(current, ',')
		}
		current, n = append(current, o...), n+1
	}
	if n > 0 {
		envelopes, counts = append(envelopes, append(current, tail...)), append(counts, n)
	}
	if len(envelopes) == 0 {
		return nil, nil, errors.New("no objects to push")
	}
	return envelopes, counts, nil
}
