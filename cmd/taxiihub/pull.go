package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

const mediaTAXII = "application/taxii+json;version=2.1"

// taxiiClient speaks TAXII 2.1 to one collection of any server, with a
// bearer credential (a JWT or a static API key).
type taxiiClient struct {
	collection string // the collection's URL, ending in /
	credential string
	http       *http.Client
}

// clientFor is the client of collectionURL with the credential of
// $TAXIIHUB_TOKEN or tokenFile, trusting caCert's CAs (if given).
func clientFor(collectionURL, tokenFile, caCert string) (*taxiiClient, error) {
	token, err := readToken(tokenFile)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(collectionURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.Contains(u.Path, "/collections/") {
		return nil, fmt.Errorf("--url: %q is not a collection's URL, such as https://hub.example/election2020/collections/indicators/", collectionURL)
	}
	client, err := httpClient(caCert, 5*time.Minute)
	if err != nil {
		return nil, err
	}
	return &taxiiClient{collection: strings.TrimSuffix(collectionURL, "/") + "/", credential: token, http: client}, nil
}

// do sends a request and decodes a 2xx TAXII answer into v; anything else
// is an error naming the status and the server's description.
func (c *taxiiClient) do(ctx context.Context, method, rawURL string, body io.Reader, v any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", mediaTAXII)
	req.Header.Set("Authorization", "Bearer "+c.credential)
	if body != nil {
		req.Header.Set("Content-Type", mediaTAXII)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		var e struct {
			Title       string `json:"title"`
			Description string `json:"description"`
		}
		data, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		json.Unmarshal(data, &e)
		return nil, fmt.Errorf("%s %s: %s: %s %s", method, rawURL, res.Status, e.Title, e.Description)
	}
	return res.Header, json.NewDecoder(res.Body).Decode(v)
}

// pullState is where a pull stands: the X-TAXII-Date-Added-Last of the
// last page written, and how long the NDJSON output was then (or how many
// bundles were written). A pull resumes from it, first cutting the output
// back to that length (or writing the next bundle again), so that every
// object is written exactly once across runs, however a run ended.
type pullState struct {
	URL    string `json:"url"`
	After  string `json:"added_after"`
	Offset int64  `json:"offset,omitempty"`
	Pages  int    `json:"pages,omitempty"`
}

func pullCommand() *cobra.Command {
	var collectionURL, since, out, statePath, tokenFile, caCert string
	var limit int
	cmd := &cobra.Command{
		Use:   "pull",
		Short: "Copy a collection's objects from any TAXII 2.1 server to NDJSON (or STIX bundles in a directory), resuming where the last run stopped",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := clientFor(collectionURL, tokenFile, caCert)
			if err != nil {
				return err
			}
			if out == "" {
				return errors.New("--out is required: a file, or - for standard output")
			}
			if info, err := os.Stat(out); err == nil && info.IsDir() {
				if statePath == "" {
					statePath = filepath.Join(out, ".pull-state")
				}
				return pull(cmd.Context(), client, since, bundleDir(out), statePath, limit, cmd.ErrOrStderr())
			}
			if statePath == "" && out != "-" {
				statePath = out + ".state"
			}
			w, err := openNDJSON(out, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			defer w.close()
			return pull(cmd.Context(), client, since, w, statePath, limit, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&collectionURL, "url", "", "the collection's URL (required), e.g. https://hub.example/election2020/collections/indicators/")
	f.StringVar(&since, "since", "", "only objects added after this time (RFC 3339), when no state says where to resume")
	f.StringVar(&out, "out", "", "NDJSON file to append the objects to, one per line; - for standard output; or a directory, to write a STIX bundle per page")
	f.StringVar(&statePath, "state", "", "where the pull stands, to resume from (default: the output file + .state, or the directory's .pull-state)")
	f.IntVar(&limit, "limit", 1000, "objects per page")
	f.StringVar(&tokenFile, "token-file", "", "file holding the credential, a token or an API key (else $"+tokenEnv+")")
	f.StringVar(&caCert, "cacert", "", "PEM CA certificates to trust for the server's HTTPS certificate (default: the system's)")
	return cmd
}

// pageSink is where a pull writes its pages.
type pageSink interface {
	// resume cuts the output back to where st says the pull stands.
	resume(st *pullState) error
	// write writes a page's objects durably, and records in st how far
	// the output now goes.
	write(objects []json.RawMessage, st *pullState) error
}

// pull copies the collection's objects to sink, page by page, recording
// after each page where it stands (in statePath, unless "").
func pull(ctx context.Context, c *taxiiClient, since string, sink pageSink, statePath string, limit int, progress io.Writer) error {
	st := pullState{URL: c.collection, After: since}
	if statePath != "" {
		data, err := os.ReadFile(statePath)
		switch {
		case err == nil:
			if err := json.Unmarshal(data, &st); err != nil || st.URL != c.collection {
				return fmt.Errorf("--state %s: not the state of a pull of %s", statePath, c.collection)
			}
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
	}
	if err := sink.resume(&st); err != nil {
		return err
	}
	terminal := isTerminal(progress)
	query := url.Values{"limit": {strconv.Itoa(limit)}}
	if st.After != "" {
		query.Set("added_after", st.After)
	}
	total := 0
	for {
		var page struct {
			More    bool              `json:"more"`
			Next    string            `json:"next"`
			Objects []json.RawMessage `json:"objects"`
		}
		header, err := c.do(ctx, http.MethodGet, c.collection+"objects/?"+query.Encode(), nil, &page)
		if err != nil {
			return err
		}
		if len(page.Objects) > 0 {
			if err := sink.write(page.Objects, &st); err != nil {
				return err
			}
			if last := header.Get("X-TAXII-Date-Added-Last"); last != "" {
				st.After = last
			}
			if err := saveState(statePath, st); err != nil {
				return err
			}
		}
		total += len(page.Objects)
		if terminal {
			fmt.Fprintf(progress, "\rpulled %d objects", total)
		}
		if !page.More {
			break
		}
		// Continue with next; a server that gives none is continued from
		// the last page's X-TAXII-Date-Added-Last, as the spec says.
		query = url.Values{"limit": {strconv.Itoa(limit)}}
		switch {
		case page.Next != "":
			query.Set("next", page.Next)
		case st.After != "":
			query.Set("added_after", st.After)
		default:
			return errors.New("the server says there is more but gives neither next nor X-TAXII-Date-Added-Last")
		}
	}
	if terminal {
		fmt.Fprintln(progress)
	}
	fmt.Fprintf(progress, "pulled %d objects from %s\n", total, c.collection)
	return nil
}

// ndjson appends objects, one per line, to a file (or standard output).
type ndjson struct {
	w    io.Writer
	file *os.File // nil for standard output
}

func openNDJSON(out string, stdout io.Writer) (*ndjson, error) {
	if out == "-" {
		return &ndjson{w: stdout}, nil
	}
	f, err := os.OpenFile(out, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return &ndjson{w: f, file: f}, nil
}

func (n *ndjson) close() {
	if n.file != nil {
		n.file.Close()
	}
}

func (n *ndjson) resume(st *pullState) error {
	if n.file == nil {
		return nil
	}
	if err := n.file.Truncate(st.Offset); err != nil { // a page cut short by the last run goes
		return err
	}
	_, err := n.file.Seek(st.Offset, io.SeekStart)
	return err
}

func (n *ndjson) write(objects []json.RawMessage, st *pullState) error {
	for _, o := range objects {
		if _, err := n.w.Write(append(compact(o), '\n')); err != nil {
			return err
		}
	}
	if n.file == nil {
		return nil
	}
	if err := n.file.Sync(); err != nil {
		return err
	}
	offset, err := n.file.Seek(0, io.SeekCurrent)
	st.Offset = offset
	return err
}

// bundleDir writes each page as a STIX bundle, page-000001.json on.
type bundleDir string

func (d bundleDir) resume(*pullState) error { return nil } // the next page overwrites one a killed run left

func (d bundleDir) write(objects []json.RawMessage, st *pullState) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"type":"bundle","id":"bundle--%s","objects":[`, newUUID())
	for i, o := range objects {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(compact(o))
	}
	b.WriteString("]}\n")
	st.Pages++
	return writeFileSynced(filepath.Join(string(d), fmt.Sprintf("page-%06d.json", st.Pages)), b.Bytes())
}

// newUUID is a random UUIDv4.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// compact drops the whitespace of a JSON object, for one line of NDJSON.
func compact(raw json.RawMessage) []byte {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// saveState records, atomically, where the pull stands.
func saveState(path string, st pullState) error {
	if path == "" {
		return nil
	}
	data, _ := json.Marshal(st)
	return writeFileSynced(path, data)
}

// writeFileSynced writes path whole or not at all: a synced temporary file
// renamed into place.
func writeFileSynced(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// isTerminal reports whether w is a terminal, to show progress on.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
