package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCA issues certificates for the TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue makes a leaf certificate from tmpl and returns it as a tls pair and
// as PEM files (cert, key).
func (ca *testCA) issue(t *testing.T, tmpl *x509.Certificate) (tls.Certificate, []byte, []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = serial, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certPEM, keyPEM
}

// TestServe_TLSAndClientCertificates serves HTTPS with client certificates
// mapped to organizations: by subject, by SAN, refused when unregistered
// or signed by another CA; tokens still work without a certificate.
func TestServe_TLSAndClientCertificates(t *testing.T) {
	dir := t.TempDir()
	ca, otherCA := newTestCA(t, "Hub clients CA"), newTestCA(t, "Someone else")
	serverCA := newTestCA(t, "Hub server CA")
	_, serverCert, serverKey := serverCA.issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "hub"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	client := func(ca *testCA, subject pkix.Name, email string) tls.Certificate {
		tmpl := &x509.Certificate{Subject: subject, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
		if email != "" {
			tmpl.EmailAddresses = []string{email}
		}
		pair, _, _ := ca.issue(t, tmpl)
		return pair
	}
	fbiCert := client(ca, pkix.Name{CommonName: "liaison1", Organization: []string{"FBI"}}, "")
	dhsCert := client(ca, pkix.Name{CommonName: "analyst"}, "analyst@dhs.example")
	strangerCert := client(ca, pkix.Name{CommonName: "stranger"}, "")
	forgedCert := client(otherCA, pkix.Name{CommonName: "liaison1", Organization: []string{"FBI"}}, "")

	files := map[string][]byte{"server.crt": serverCert, "server.key": serverKey, "clients.pem": ca.pem}
	for name, data := range files {
		os.WriteFile(filepath.Join(dir, name), data, 0o600)
	}
	cfgPath := writeConfig(t, dir)
	cfgText, _ := os.ReadFile(cfgPath)
	cfgText = []byte(strings.Replace(string(cfgText), "auth:\n", `tls:
  cert: `+filepath.Join(dir, "server.crt")+`
  key: `+filepath.Join(dir, "server.key")+`
  client_ca: `+filepath.Join(dir, "clients.pem")+`
  client_certs:
    - subject: "CN=liaison1,O=FBI"
      org: fbi
      roles: [read]
    - san: analyst@dhs.example
      org: dhs
      roles: [read, write]
auth:
`, 1))
	os.WriteFile(cfgPath, cfgText, 0o600)

	ctx, cancel := context.WithCancel(context.Background())
	logR, logW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--config", cfgPath}, io.Discard, logW); logW.Close() }()
	base := waitForURL(t, logR)
	go io.Copy(io.Discard, logR)
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("serving %s", base)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(serverCA.pem)
	get := func(cert *tls.Certificate, headers ...string) (int, error) {
		tc := &tls.Config{RootCAs: roots}
		if cert != nil {
			tc.Certificates = []tls.Certificate{*cert}
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
		req, _ := http.NewRequest(http.MethodGet, base+"/election2020/collections/law-enforcement/objects/", nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	for name, tt := range map[string]struct {
		cert *tls.Certificate
		want int
	}{
		"fbi by subject":           {&fbiCert, 200},
		"dhs by SAN":               {&dhsCert, 200},
		"a CA-signed stranger":     {&strangerCert, 401},
		"no certificate, no token": {nil, 401},
	} {
		if got, err := get(tt.cert); err != nil || got != tt.want {
			t.Errorf("%s: %d, %v; want %d", name, got, err, tt.want)
		}
	}
	// A token works without a certificate.
	var token bytes.Buffer
	if err := run(context.Background(), []string{"token", "issue", "--config", cfgPath, "--org", "dhs", "--sub", "t", "--roles", "read"}, &token, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got, err := get(nil, "Authorization", "Bearer "+strings.TrimSpace(token.String())); err != nil || got != http.StatusOK {
		t.Errorf("a token without a certificate: %d, %v", got, err)
	}
	// A certificate of another CA is not even offered (the server names the
	// CAs it accepts) or is refused in the handshake: either way, no access.
	if status, err := get(&forgedCert); err == nil && status != http.StatusUnauthorized {
		t.Errorf("a certificate from another CA got %d", status)
	}
	if res, err := http.Get(strings.Replace(base, "https://", "http://", 1) + "/healthz"); err == nil && res.StatusCode == http.StatusOK {
		t.Error("plain HTTP answered on the TLS port")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
