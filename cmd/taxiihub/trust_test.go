package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taxiihub/taxiihub/auth"
)

// token issue --key signs for an organization, and refuses roles above the
// ceiling the config gives that key, as the hub would.
func TestTokenIssue_OrganizationKeyRoleCeiling(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	keyPath := filepath.Join(dir, "odni.pem")
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	pubPEM, _ := auth.PublicPEM(priv.Public())
	os.WriteFile(filepath.Join(dir, "odni.pub"), pubPEM, 0o600)
	original, _ := os.ReadFile(cfgPath)
	withKey := func(roles string) {
		key := "    keys:\n      - kid: odni-1\n        alg: EdDSA\n        public_key_file: " + filepath.Join(dir, "odni.pub") + "\n" + roles
		os.WriteFile(cfgPath, []byte(strings.Replace(string(original), "    identity: identity--4056b917-7055-4830-8a96-7f6cca98cb32\n",
			"    identity: identity--4056b917-7055-4830-8a96-7f6cca98cb32\n"+key, 1)), 0o600)
	}
	issue := func(roles string) error {
		return run(context.Background(), []string{"token", "issue", "--config", cfgPath, "--org", "odni", "--sub", "a",
			"--roles", roles, "--key", keyPath, "--kid", "odni-1"}, io.Discard, io.Discard)
	}
	withKey("")
	if err := issue("read,write"); err != nil {
		t.Fatalf("within the default ceiling: %v", err)
	}
	for _, roles := range []string{"read,admin", "audit"} {
		if err := issue(roles); err == nil || !strings.Contains(err.Error(), "may grant only read, write") {
			t.Errorf("--roles %s with the default ceiling: %v", roles, err)
		}
	}
	withKey("        roles: [read, audit]\n")
	if err := issue("audit"); err != nil {
		t.Fatalf("a key granted audit: %v", err)
	}
	if err := issue("write"); err == nil {
		t.Fatal("write above the key's roles was issued")
	}
}
