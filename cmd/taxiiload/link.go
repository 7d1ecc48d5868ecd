package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// link is one client's keep-alive connection to the hub. A request is
// written and its answer read on the client's own goroutine: net/http's
// Transport hands every request to a writing and a reading goroutine of
// its connection, and those hand-offs cost the loader about as much CPU
// as the hub spends answering a GET by id — CPU the two share when they
// run on one machine, as make bench runs them.
type link struct {
	ctx  context.Context // the run's: cancelling it breaks off the request under way
	hub  *url.URL
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	stop func() bool // unregisters the connection from ctx
	body bytes.Buffer
}

func newLink(ctx context.Context, hub *url.URL) *link {
	return &link{ctx: ctx, hub: hub}
}

// roundTrip sends req and reads the whole answer. The body returned is
// the link's buffer, valid until its next round trip. A connection the
// hub closed while it sat idle is dialed again once.
func (k *link) roundTrip(req *http.Request) (*http.Response, []byte, error) {
	reused := k.conn != nil
	res, err := k.exchange(req)
	if err != nil && reused && k.ctx.Err() == nil {
		res, err = k.exchange(req)
	}
	return res, k.body.Bytes(), err
}

func (k *link) exchange(req *http.Request) (*http.Response, error) {
	if k.conn == nil {
		if err := k.dial(); err != nil {
			return nil, err
		}
	}
	if req.GetBody != nil {
		body, err := req.GetBody() // a retry sends the body again from its start
		if err != nil {
			return nil, err
		}
		req.Body = body
	}
	res, err := k.send(req)
	if err != nil || res.Close {
		k.close()
	}
	return res, err
}

func (k *link) send(req *http.Request) (*http.Response, error) {
	if err := req.Write(k.w); err != nil {
		return nil, err
	}
	if err := k.w.Flush(); err != nil {
		return nil, err
	}
	res, err := http.ReadResponse(k.r, req)
	if err != nil {
		return nil, err
	}
	k.body.Reset()
	_, err = k.body.ReadFrom(res.Body)
	res.Body.Close()
	return res, err
}

func (k *link) dial() error {
	host := k.hub.Host
	if k.hub.Port() == "" {
		port := "80"
		if k.hub.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(k.hub.Hostname(), port)
	}
	var d net.Dialer
	conn, err := d.DialContext(k.ctx, "tcp", host)
	if err != nil {
		return err
	}
	if k.hub.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: k.hub.Hostname(), NextProtos: []string{"http/1.1"}})
		if err := tc.HandshakeContext(k.ctx); err != nil {
			conn.Close()
			return fmt.Errorf("TLS with %s: %w", host, err)
		}
		conn = tc
	}
	k.conn, k.r, k.w = conn, bufio.NewReaderSize(conn, 64<<10), bufio.NewWriterSize(conn, 64<<10)
	k.stop = context.AfterFunc(k.ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return nil
}

func (k *link) close() {
	if k.conn != nil {
		k.stop()
		k.conn.Close()
		k.conn = nil
	}
}
