package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
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

func newTAXIIClient(collectionURL, credential string) (*taxiiClient, error) {
	u, err := url.Parse(collectionURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.Contains(u.Path, "/collections/") {
		return nil, fmt.Errorf("--url: %q is not a collection's URL, such as https://hub.example/election2020/collections/indicators/", collectionURL)
	}
	return &taxiiClient{collection: strings.TrimSuffix(collectionURL, "/") + "/", credential: credential, http: &http.Client{Timeout: 5 * time.Minute}}, nil
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
// last page written, and how long the output was then. A pull resumes from
// it, first cutting the output back to that length, so that every object
// is written exactly once across runs, however a run ended.
type pullState struct {
	URL    string `json:"url"`
	After  string `json:"added_after"`
	Offset int64  `json:"offset"`
}

func pullCommand() *cobra.Command {
	var collectionURL, since, out, statePath, tokenFile string
	var limit int
	cmd := &cobra.Command{
		Use:   "pull",
		Short: "Copy a collection's objects from any TAXII 2.1 server to NDJSON, resuming where the last run stopped",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			token, err := readToken(tokenFile)
			if err != nil {
				return err
			}
			client, err := newTAXIIClient(collectionURL, token)
			if err != nil {
				return err
			}
			if out == "" {
				return errors.New("--out is required: a file, or - for standard output")
			}
			if statePath == "" && out != "-" {
				statePath = out + ".state"
			}
			return pull(cmd.Context(), client, since, out, statePath, limit, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&collectionURL, "url", "", "the collection's URL (required), e.g. https://hub.example/election2020/collections/indicators/")
	f.StringVar(&since, "since", "", "only objects added after this time (RFC 3339), when no state says where to resume")
	f.StringVar(&out, "out", "", "NDJSON file to append the objects to, one per line, or - for standard output")
	f.StringVar(&statePath, "state", "", "where the pull stands, to resume from (default: the output file + .state)")
	f.IntVar(&limit, "limit", 1000, "objects per page")
	f.StringVar(&tokenFile, "token-file", "", "file holding the credential, a token or an API key (else $"+tokenEnv+")")
	return cmd
}

// pull copies the collection's objects to out, page by page, recording
// after each page where it stands.
func pull(ctx context.Context, c *taxiiClient, since, out, statePath string, limit int, stdout, progress io.Writer) error {
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
	w := stdout
	var file *os.File
	if out != "-" {
		var err error
		if file, err = os.OpenFile(out, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
			return err
		}
		defer file.Close()
		if err := file.Truncate(st.Offset); err != nil { // a page cut short by the last run goes
			return err
		}
		if _, err := file.Seek(st.Offset, io.SeekStart); err != nil {
			return err
		}
		w = file
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
		for _, o := range page.Objects {
			if _, err := w.Write(append(compact(o), '\n')); err != nil {
				return err
			}
		}
		total += len(page.Objects)
		if last := header.Get("X-TAXII-Date-Added-Last"); last != "" && len(page.Objects) > 0 {
			st.After = last
		}
		if err := saveState(file, statePath, &st); err != nil {
			return err
		}
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

// compact drops the whitespace of a JSON object, for one line of NDJSON.
func compact(raw json.RawMessage) []byte {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// saveState syncs the output and records, atomically, where the pull stands.
func saveState(out *os.File, path string, st *pullState) error {
	if out == nil || path == "" {
		return nil
	}
	if err := out.Sync(); err != nil {
		return err
	}
	offset, err := out.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	st.Offset = offset
	data, _ := json.Marshal(st)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
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
