package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/taxiihub/taxiihub/internal/synth"
)

// report is what a run measured.
type report struct {
	Mode        string  `json:"mode"`
	Concurrency int     `json:"concurrency"`
	Requests    int64   `json:"requests"`
	Errors      int64   `json:"errors"`
	Objects     int64   `json:"objects"`
	Seconds     float64 `json:"seconds"`
	ObjectsPerS float64 `json:"objects_per_second"`
	RequestsPS  float64 `json:"requests_per_second"`
	P50ms       float64 `json:"p50_ms"`
	P90ms       float64 `json:"p90_ms"`
	P99ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
	// Poll: the median latency of each pass's first and last full page.
	FirstPageP50ms float64 `json:"first_page_p50_ms,omitempty"`
	LastPageP50ms  float64 `json:"last_page_p50_ms,omitempty"`
	// Ingest: the bytes of STIX JSON posted, envelopes included.
	Bytes      int64  `json:"bytes,omitempty"`
	FirstError string `json:"first_error,omitempty"`
}

func (r report) print(w io.Writer, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(r)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "mode\t%s, %d clients\n", r.Mode, r.Concurrency)
	fmt.Fprintf(tw, "requests\t%d (%d errors) in %.2fs: %.0f requests/s\n", r.Requests, r.Errors, r.Seconds, r.RequestsPS)
	fmt.Fprintf(tw, "objects\t%d: %.0f objects/s\n", r.Objects, r.ObjectsPerS)
	fmt.Fprintf(tw, "latency\tp50 %.2fms  p90 %.2fms  p99 %.2fms  max %.2fms\n", r.P50ms, r.P90ms, r.P99ms, r.MaxMs)
	if r.FirstPageP50ms > 0 {
		fmt.Fprintf(tw, "pages\tfirst p50 %.2fms  last full page p50 %.2fms\n", r.FirstPageP50ms, r.LastPageP50ms)
	}
	if r.Bytes > 0 {
		fmt.Fprintf(tw, "posted\t%d bytes of JSON\n", r.Bytes)
	}
	if r.FirstError != "" {
		fmt.Fprintf(tw, "first error\t%s\n", r.FirstError)
	}
	return tw.Flush()
}

// run state shared by the clients.
type loader struct {
	o   *options
	hub *url.URL
	// The headers of every request, and of those with a body: made once,
	// shared, and only read by the requests' writers.
	header, bodyHeader http.Header

	requests  atomic.Int64
	errors    atomic.Int64
	objects   atomic.Int64
	nextBatch atomic.Int64
	bytes     atomic.Int64
	mu        sync.Mutex
	latencies []time.Duration
	// Poll: each pass's first page latency, and its last full page's (a
	// short last page would flatter the end of the collection).
	firstPages, lastPages []time.Duration
	firstErr              string
}

func (o *options) load(ctx context.Context) (report, error) {
	l := newLoader(o)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	links := make([]*link, o.concurrency)
	for c := range links {
		links[c] = newLink(ctx, l.hub)
		defer links[c].close()
	}
	if err := l.warmUp(links); err != nil {
		return report{}, err
	}
	if o.mode != "ingest" && o.requests == 0 {
		defer time.AfterFunc(o.duration, cancel).Stop()
	}
	start := time.Now()
	var wg sync.WaitGroup
	for c, k := range links {
		wg.Go(func() { l.runClient(k, c) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := report{
		Mode: o.mode, Concurrency: o.concurrency, Requests: l.requests.Load(), Errors: l.errors.Load(),
		Objects: l.objects.Load(), Seconds: elapsed.Seconds(), FirstError: l.firstErr, Bytes: l.bytes.Load(),
		FirstPageP50ms: median(l.firstPages), LastPageP50ms: median(l.lastPages),
	}
	r.ObjectsPerS = float64(r.Objects) / r.Seconds
	r.RequestsPS = float64(r.Requests) / r.Seconds
	slices.Sort(l.latencies)
	if n := len(l.latencies); n > 0 {
		ms := func(q float64) float64 {
			return float64(l.latencies[min(n-1, int(q*float64(n)))].Microseconds()) / 1000
		}
		r.P50ms, r.P90ms, r.P99ms, r.MaxMs = ms(0.50), ms(0.90), ms(0.99), float64(l.latencies[n-1].Microseconds())/1000
	}
	if r.Requests == 0 {
		return r, fmt.Errorf("no request completed: %s", r.FirstError)
	}
	return r, nil
}

func newLoader(o *options) *loader {
	hub, _ := url.Parse(o.baseURL) // parseArgs checked it
	l := &loader{o: o, hub: hub, header: http.Header{"Accept": {"application/taxii+json;version=2.1"}}}
	switch {
	case o.token != "":
		l.header.Set("Authorization", "Bearer "+o.token)
	case o.user != "":
		l.header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(o.user+":"+o.pass)))
	}
	l.bodyHeader = l.header.Clone()
	l.bodyHeader.Set("Content-Type", "application/taxii+json;version=2.1")
	return l
}

// warmUp opens each client's connection with a GET of the collection
// before the clock starts, so that the first request measured is not also
// a connection's first; it fails if the collection cannot be read.
func (l *loader) warmUp(links []*link) error {
	errs := make([]error, len(links))
	var wg sync.WaitGroup
	for c, k := range links {
		wg.Go(func() {
			res, data, err := k.roundTrip(l.request(http.MethodGet, l.collectionURL(), nil))
			switch {
			case err != nil:
				errs[c] = fmt.Errorf("GET %s: %w", l.collectionURL(), err)
			case res.StatusCode != http.StatusOK:
				errs[c] = fmt.Errorf("GET %s: %s %.200s", l.collectionURL(), res.Status, data)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// request is a request to the hub with the run's headers and credentials.
func (l *loader) request(method, u string, body []byte) *http.Request {
	req := &http.Request{Method: method, Header: l.header, Host: l.hub.Host}
	req.URL, _ = url.Parse(u) // the hub's URL, checked, with paths of our own
	if body != nil {
		req.Header = l.bodyHeader
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return req
}

// median of ds in milliseconds; 0 when there are none.
func median(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Sorted(slices.Values(ds))
	return float64(ds[len(ds)/2].Microseconds()) / 1000
}

// runClient is one client's loop.
func (l *loader) runClient(k *link, n int) {
	rnd := rand.New(rand.NewPCG(uint64(n), 2020))
	mode := l.o.mode
	if mode == "mixed" {
		mode = "read"
		if n == 0 {
			mode = "ingest"
		}
	}
	for i := 0; k.ctx.Err() == nil; i++ {
		switch {
		case mode == "ingest":
			first := int(l.nextBatch.Add(int64(l.o.batch))) - l.o.batch
			if first >= l.o.objects {
				return
			}
			l.post(k, l.o.first+first, min(l.o.batch, l.o.objects-first))
		case mode == "poll" || mode == "read" && i%2 == 0:
			if l.o.requests > 0 && i >= l.o.requests {
				return
			}
			l.pass(k)
		default:
			if l.o.requests > 0 && i >= l.o.requests {
				return
			}
			l.get(k, rnd.IntN(l.o.objects))
		}
	}
}

func (l *loader) collectionURL() string {
	return l.o.baseURL + "/" + l.o.root + "/collections/" + l.o.collection + "/"
}

// do sends one request and records its latency; it returns the body of a
// response with status want, and the latency.
// The body returned is k's buffer, valid until k's next request.
func (l *loader) do(k *link, method, u string, body []byte, want int) ([]byte, time.Duration, bool) {
	start := time.Now()
	res, data, err := k.roundTrip(l.request(method, u, body))
	took := time.Since(start)
	switch {
	case k.ctx.Err() != nil:
		return nil, 0, false
	case err != nil:
		l.fail(fmt.Sprintf("%s %s: %v", method, u, err))
		return nil, 0, false
	case res.StatusCode != want:
		l.fail(fmt.Sprintf("%s %s: %s %.200s", method, u, res.Status, data))
		return nil, 0, false
	}
	l.requests.Add(1)
	l.mu.Lock()
	l.latencies = append(l.latencies, took)
	l.mu.Unlock()
	return data, took, true
}

func (l *loader) fail(msg string) {
	l.errors.Add(1)
	l.mu.Lock()
	if l.firstErr == "" {
		l.firstErr = msg
	}
	l.mu.Unlock()
}

func (l *loader) post(k *link, first, count int) {
	envelope := synth.Envelope(first, count)
	if l.o.realistic {
		envelope = synth.RealisticEnvelope(first, count)
	}
	body, _, ok := l.do(k, http.MethodPost, l.collectionURL()+"objects/", envelope, http.StatusAccepted)
	if !ok {
		return
	}
	l.bytes.Add(int64(len(envelope)))
	var st struct {
		SuccessCount int `json:"success_count"`
	}
	json.Unmarshal(body, &st)
	l.objects.Add(int64(st.SuccessCount))
}

// pass follows next through the whole collection (or what -query selects).
func (l *loader) pass(k *link) {
	u := l.collectionURL() + "objects/?limit=" + fmt.Sprint(l.o.page)
	if l.o.query != "" {
		u += "&" + l.o.query
	}
	var firstTook, lastFullTook time.Duration
	for page := 0; k.ctx.Err() == nil; page++ {
		body, took, ok := l.do(k, http.MethodGet, u, nil, http.StatusOK)
		if !ok {
			return
		}
		env, err := readPage(body)
		if err != nil {
			l.fail(err.Error())
			return
		}
		l.objects.Add(int64(env.objects))
		if page == 0 {
			firstTook = took
		}
		if env.objects == l.o.page || lastFullTook == 0 {
			lastFullTook = took
		}
		if !env.more {
			l.mu.Lock()
			l.firstPages = append(l.firstPages, firstTook)
			l.lastPages = append(l.lastPages, lastFullTook)
			l.mu.Unlock()
			return
		}
		u = l.collectionURL() + "objects/?next=" + url.QueryEscape(env.next)
	}
}

// page is what a poll needs of an envelope: how many objects, and where
// the next page is.
type page struct {
	objects int
	more    bool
	next    string
}

// readPage reads an envelope, checking that it is JSON, and counts its
// objects without copying them: the generator must not be what limits a
// poll (encoding/json, then a copy of each object, held a one-client poll
// well below what the hub served).
func readPage(body []byte) (page, error) {
	var p page
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return p, fmt.Errorf("the page is not a JSON object: %v", err)
	}
	for dec.PeekKind() == '"' {
		name, err := dec.ReadToken()
		if err != nil {
			return p, err
		}
		switch name.String() {
		case "objects":
			if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '[' {
				return p, fmt.Errorf("objects is not a list: %v", err)
			}
			for dec.PeekKind() != ']' {
				if err := dec.SkipValue(); err != nil {
					return p, err
				}
				p.objects++
			}
			_, err = dec.ReadToken()
		case "more":
			var tok jsontext.Token
			tok, err = dec.ReadToken()
			p.more = err == nil && tok.Kind() == 't'
		case "next":
			var tok jsontext.Token
			tok, err = dec.ReadToken()
			p.next = tok.String()
		default:
			err = dec.SkipValue()
		}
		if err != nil {
			return p, err
		}
	}
	if _, err := dec.ReadToken(); err != nil { // }
		return p, err
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return p, fmt.Errorf("data after the page: %v", err)
	}
	return p, nil
}

func (l *loader) get(k *link, n int) {
	id := synth.ID(n)
	if l.o.realistic {
		id = synth.RealisticID(n)
	}
	if _, _, ok := l.do(k, http.MethodGet, l.collectionURL()+"objects/"+id+"/", nil, http.StatusOK); ok {
		l.objects.Add(1)
	}
}
