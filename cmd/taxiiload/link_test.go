package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testLink is a link to ts, closed when the test ends.
func testLink(t *testing.T, ctx context.Context, ts *httptest.Server) *link {
	t.Helper()
	hub, err := url.Parse(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	k := newLink(ctx, hub)
	t.Cleanup(k.close)
	return k
}

func newRequest(t *testing.T, method, u, body string) *http.Request {
	t.Helper()
	l := newLoader(&options{baseURL: u, token: "tok"})
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	return l.request(method, u+"/x/", b)
}

// Requests share one connection; a connection the server closed, between
// requests or by saying so, is dialed again, and a body is sent whole
// again on the new one.
func TestLink_ReusesAndRedials(t *testing.T) {
	var conns atomic.Int32
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Accept") != "application/taxii+json;version=2.1" {
			w.WriteHeader(http.StatusUnauthorized)
		}
		if r.URL.Query().Get("close") != "" {
			w.Header().Set("Connection", "close")
		}
		io.WriteString(w, r.Method+" "+string(body))
	}))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	ts.Start()
	defer ts.Close()
	k := testLink(t, context.Background(), ts)
	for i := range 3 {
		res, body, err := k.roundTrip(newRequest(t, http.MethodGet, ts.URL, ""))
		if err != nil || res.StatusCode != http.StatusOK || string(body) != "GET " {
			t.Fatalf("GET %d: %v, %q, %v", i, res, body, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("three GETs took %d connections", n)
	}
	ts.CloseClientConnections()
	res, body, err := k.roundTrip(newRequest(t, http.MethodPost, ts.URL, "the envelope"))
	if err != nil || res.StatusCode != http.StatusOK || string(body) != "POST the envelope" {
		t.Fatalf("POST after the server closed the connection: %v, %q, %v", res, body, err)
	}
	req := newRequest(t, http.MethodGet, ts.URL, "")
	req.URL.RawQuery = "close=1"
	if _, _, err := k.roundTrip(req); err != nil || k.conn != nil {
		t.Fatalf("Connection: close: %v, connection kept: %v", err, k.conn != nil)
	}
	if _, body, err := k.roundTrip(newRequest(t, http.MethodGet, ts.URL, "")); err != nil || string(body) != "GET " {
		t.Fatalf("GET after Connection: close: %q, %v", body, err)
	}
	if n := conns.Load(); n != 3 {
		t.Fatalf("%d connections, want 3", n)
	}
}

// Cancelling the run breaks off a request the server does not answer.
func TestLink_CancelBreaksOffARequest(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer ts.Close()
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	k := testLink(t, ctx, ts)
	time.AfterFunc(50*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() {
		_, _, err := k.roundTrip(newRequest(t, http.MethodGet, ts.URL, ""))
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a request broken off reported no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelling did not break off the request")
	}
}

// An https hub is spoken to over TLS, its certificate verified.
func TestLink_VerifiesTLS(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer ts.Close()
	k := testLink(t, context.Background(), ts)
	_, _, err := k.roundTrip(newRequest(t, http.MethodGet, ts.URL, ""))
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a certificate no root vouches for: %v", err)
	}
}
