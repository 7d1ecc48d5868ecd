package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taxiihub/taxiihub/auth"
	"github.com/taxiihub/taxiihub/config"
	"github.com/taxiihub/taxiihub/internal/synth"
	"github.com/taxiihub/taxiihub/server"
	"github.com/taxiihub/taxiihub/store/boltstore"
)

// testHub serves a real hub (authentication off) over HTTP.
func testHub(t *testing.T) string {
	t.Helper()
	cfg, err := config.Load("../../testdata/hub.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Auth.Mode = "none"
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "hub.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	authority, _ := auth.New(cfg, nil)
	key := make([]byte, 32)
	rand.Read(key)
	srv, err := server.New(cfg, server.Options{Store: st, Authenticator: authority, Policy: authority, CursorKey: key,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); st.Close() })
	return ts.URL
}

func load(t *testing.T, args ...string) report {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), append(args, "-json"), &out, io.Discard); err != nil {
		t.Fatalf("taxiiload %v: %v", args, err)
	}
	var r report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("report %q: %v", out.String(), err)
	}
	return r
}

func TestModesAgainstARealHub(t *testing.T) {
	url := testHub(t)
	in := load(t, "ingest", "-url", url, "-objects", "2500", "-batch", "500", "-concurrency", "3")
	if in.Objects != 2500 || in.Requests != 5 || in.Errors != 0 || in.ObjectsPerS <= 0 || in.P99ms <= 0 {
		t.Fatalf("ingest = %+v", in)
	}
	want := 0
	for first := 0; first < 2500; first += 500 {
		want += len(synth.Envelope(first, 500))
	}
	if in.Bytes != int64(want) {
		t.Fatalf("ingest posted %d bytes, want %d", in.Bytes, want)
	}
	poll := load(t, "poll", "-url", url, "-page", "1000", "-requests", "1", "-concurrency", "2")
	if poll.Objects != 5000 || poll.Requests != 6 || poll.Errors != 0 || poll.FirstPageP50ms <= 0 || poll.LastPageP50ms <= 0 {
		t.Fatalf("poll (one pass per client) = %+v", poll)
	}
	// -query narrows the pass: one page of the one object asked for.
	one := load(t, "poll", "-url", url, "-requests", "1", "-concurrency", "1", "-query", "match[id]="+synth.ID(7))
	if one.Objects != 1 || one.Requests != 1 || one.Errors != 0 {
		t.Fatalf("poll -query = %+v", one)
	}
	get := load(t, "get", "-url", url, "-objects", "2500", "-requests", "20", "-concurrency", "2")
	if get.Objects != 40 || get.Errors != 0 {
		t.Fatalf("get = %+v", get)
	}
	mixed := load(t, "mixed", "-url", url, "-objects", "2500", "-first", "10000", "-batch", "500", "-duration", "300ms", "-concurrency", "3")
	if mixed.Requests == 0 || mixed.Errors != 0 {
		t.Fatalf("mixed = %+v", mixed)
	}
	var text bytes.Buffer
	if err := run(context.Background(), []string{"get", "-url", url, "-objects", "10", "-requests", "1"}, &text, io.Discard); err != nil || !strings.Contains(text.String(), "p99") {
		t.Fatalf("text report %q, %v", text.String(), err)
	}
}

// -shape realistic posts and reads the realistic objects, by their random ids.
func TestRealisticShape(t *testing.T) {
	url := testHub(t)
	in := load(t, "ingest", "-url", url, "-shape", "realistic", "-objects", "1000", "-batch", "500", "-concurrency", "2")
	if in.Objects != 1000 || in.Errors != 0 || in.Bytes != int64(len(synth.RealisticEnvelope(0, 500))+len(synth.RealisticEnvelope(500, 500))) {
		t.Fatalf("ingest = %+v", in)
	}
	if get := load(t, "get", "-url", url, "-shape", "realistic", "-objects", "1000", "-requests", "20", "-concurrency", "2"); get.Objects != 40 || get.Errors != 0 {
		t.Fatalf("get = %+v", get)
	}
}

func TestRefusals(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"stress"},
		{"get", "-url", "http://203.0.113.5:8080"},
		{"get", "-shape", "huge"},
		{"get", "-url", "https://hub.example"},
		{"get", "-concurrency", "0"},
		{"mixed", "-concurrency", "1"},
		{"get", "-url", "not a url"},
		{"get", "-url", "ftp://127.0.0.1:8080"},
		{"poll", "-query", "match[type]=%zz"},
	} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("taxiiload %v was accepted", args)
		}
	}
	for _, query := range []string{"match[type]=%zz", "match[type]=a\x01"} {
		if _, err := parseArgs([]string{"poll", "-query", query}, io.Discard); err == nil {
			t.Errorf("-query %q was accepted", query)
		}
	}
	if _, err := parseArgs([]string{"get", "-url", "http://203.0.113.5:8080", "-allow-remote"}, io.Discard); err != nil {
		t.Errorf("-allow-remote: %v", err)
	}
	url := testHub(t)
	err := run(context.Background(), []string{"get", "-url", url, "-collection", "nope", "-requests", "1"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("a missing collection: %v", err)
	}
}
