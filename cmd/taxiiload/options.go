package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

// options are a load run's settings.
type options struct {
	mode        string
	baseURL     string
	root        string
	collection  string
	token       string
	user, pass  string
	concurrency int
	batch       int
	page        int
	query       string
	objects     int
	first       int
	requests    int
	duration    time.Duration
	allowRemote bool
	json        bool
	realistic   bool // -shape realistic: synth.Realistic objects, random ids
}

const usage = `usage: taxiiload ingest|poll|get|mixed [flags]

  ingest  POST envelopes of --batch synthetic indicators until --objects are sent
  poll    follow next through the collection at --page objects a page, --requests passes per client
  get     GET single objects by id, among the first --objects synthetic indicators
  mixed   one client ingests, the others alternate polls and gets

flags:
`

func parseArgs(args []string, stderr io.Writer) (*options, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, usage)
		return nil, errors.New("give a mode: ingest, poll, get or mixed")
	}
	o := &options{mode: args[0]}
	fs := flag.NewFlagSet("taxiiload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	fs.StringVar(&o.baseURL, "url", "http://127.0.0.1:8080", "the server's base URL")
	fs.StringVar(&o.root, "root", "election2020", "API root path")
	fs.StringVar(&o.collection, "collection", "indicators", "collection id or alias")
	fs.StringVar(&o.token, "token", "", "bearer token")
	fs.StringVar(&o.user, "user", "", "Basic auth user (with -password)")
	fs.StringVar(&o.pass, "password", "", "Basic auth password, e.g. an API key")
	fs.IntVar(&o.concurrency, "concurrency", 4, "concurrent clients")
	fs.IntVar(&o.batch, "batch", 1000, "objects per POST")
	fs.IntVar(&o.page, "page", 1000, "limit per page when polling")
	fs.StringVar(&o.query, "query", "", "poll: filters to add to the first page's query, e.g. 'match[type]=malware'")
	fs.IntVar(&o.objects, "objects", 100000, "ingest: objects to send; get: read among synthetic indicators 0 to objects-1")
	fs.IntVar(&o.first, "first", 0, "ingest: number of the first synthetic indicator to send (mixed: above those read)")
	fs.IntVar(&o.requests, "requests", 0, "get: requests per client; poll: passes per client (0: until -duration)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long poll, get and mixed run when -requests is 0")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a target that is not on this machine")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	shape := fs.String("shape", "compact", "synthetic objects: compact (ordered ids, ~600-byte indicators) or realistic (random UUIDv4 ids, 500-1,500 bytes, several types)")
	if err := fs.Parse(args[1:]); err != nil {
		return nil, err
	}
	switch *shape {
	case "compact":
	case "realistic":
		o.realistic = true
	default:
		return o, fmt.Errorf("-shape: %q is not compact or realistic", *shape)
	}
	switch {
	case o.mode != "ingest" && o.mode != "poll" && o.mode != "get" && o.mode != "mixed":
		return nil, fmt.Errorf("unknown mode %q: use ingest, poll, get or mixed", o.mode)
	case o.concurrency < 1 || o.batch < 1 || o.page < 1 || o.objects < 1:
		return nil, errors.New("-concurrency, -batch, -page and -objects must be positive")
	case o.mode == "mixed" && o.concurrency < 2:
		return nil, errors.New("mixed needs -concurrency of at least 2")
	}
	if _, err := url.ParseQuery(o.query); err != nil {
		return nil, fmt.Errorf("-query %q: %v", o.query, err)
	}
	if _, err := url.Parse("/?" + o.query); err != nil {
		return nil, fmt.Errorf("-query %q: %v", o.query, err)
	}
	u, err := url.Parse(o.baseURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("-url %q is not an absolute URL", o.baseURL)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("-url %q: the scheme must be http or https", o.baseURL)
	}
	if !o.allowRemote && !isLocal(u.Hostname()) {
		return nil, fmt.Errorf("-url %s is not on this machine; pass -allow-remote to load it anyway", o.baseURL)
	}
	o.baseURL = strings.TrimSuffix(o.baseURL, "/")
	return o, nil
}

// isLocal reports whether host is this machine's loopback.
func isLocal(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
