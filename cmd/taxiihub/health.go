package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"
)

func healthCommand() *cobra.Command {
	var url, caCert string
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Exit 0 if the hub at --url answers its health check (for container HEALTHCHECKs)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := httpClient(caCert, 5*time.Second)
			if err != nil {
				return err
			}
			res, err := client.Get(url)
			if err != nil {
				return err
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("%s answered %s", url, res.Status)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", "http://127.0.0.1:8080/healthz", "the hub's /healthz (or /readyz) URL")
	cmd.Flags().StringVar(&caCert, "cacert", "", "PEM CA certificates to trust for the hub's HTTPS certificate (default: the system's)")
	return cmd
}

// httpClient is an HTTP client that trusts the CAs in caCert (PEM) for
// HTTPS, or the system's when caCert is "".
func httpClient(caCert string, timeout time.Duration) (*http.Client, error) {
	client := &http.Client{Timeout: timeout}
	if caCert == "" {
		return client, nil
	}
	pemBytes, err := os.ReadFile(caCert)
	if err != nil {
		return nil, fmt.Errorf("--cacert: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("--cacert: no PEM certificates in %s", caCert)
	}
	client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return client, nil
}
