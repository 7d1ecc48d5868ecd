package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/auth"
	"github.com/taxiihub/taxiihub/internal/datadir"
	"github.com/taxiihub/taxiihub/store/boltstore"
	bolt "go.etcd.io/bbolt"
)

// writeOrgKey writes an organization's Ed25519 key pair into dir, as
// <name>.pem (private) and <name>.pub (public), and returns the first.
func writeOrgKey(t *testing.T, dir, name string) string {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	keyPath := filepath.Join(dir, name+".pem")
	pubPEM, _ := auth.PublicPEM(priv.Public())
	if err := errors.Join(os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600),
		os.WriteFile(filepath.Join(dir, name+".pub"), pubPEM, 0o600)); err != nil {
		t.Fatal(err)
	}
	return keyPath
}

// token issue --key signs for an organization, and refuses roles above the
// ceiling the config gives that key, as the hub would.
func TestTokenIssue_OrganizationKeyRoleCeiling(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir)
	keyPath := writeOrgKey(t, dir, "odni")
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

// A log cut back (its newest records and checkpoints removed) still
// verifies on its own; the heads sent to a witness outside the hub, or a
// record number an auditor saw, catch it.
func TestAuditVerify_WitnessCatchesACutBack(t *testing.T) {
	dir := t.TempDir()
	keyPath := datadir.Dir(dir).File(datadir.AuditKeyFile)
	key, err := datadir.Dir(dir).AuditKey()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var posted []audit.Checkpoint
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var c audit.Checkpoint
		json.NewDecoder(r.Body).Decode(&c)
		mu.Lock()
		posted = append(posted, c)
		mu.Unlock()
	}))
	defer endpoint.Close()
	witnessFile := filepath.Join(t.TempDir(), "heads.jsonl")
	witness := audit.NewWitness(witnessFile, endpoint.URL, slog.New(slog.NewTextHandler(io.Discard, nil)))
	db := filepath.Join(dir, "hub.db")
	st, err := boltstore.Open(db, boltstore.Options{AuditKey: key, CheckpointEvery: 10, Witness: witness.Send})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 25 {
		if err := st.Audit(context.Background(), &audit.Record{Time: time.Now(), RequestID: fmt.Sprint(i), Action: audit.ActionRead, Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close() // a shutdown checkpoint at 25
	witness.Close()
	if len(posted) != 3 || posted[2].Seq != 25 {
		t.Fatalf("the endpoint received %+v", posted)
	}
	if out, err := verifyFile(db, keyPath, "--witness", witnessFile, "--min-seq", "25"); err != nil {
		t.Fatalf("the untouched log against its witness: %q, %v", out, err)
	}
	// An auditor noted record 23's hash from the API.
	var noted audit.Record
	ro, _ := boltstore.Open(db, boltstore.Options{ReadOnly: true})
	ro.AuditRecords(context.Background(), 23, func(r audit.Record) error { noted = r; return errors.New("stop") })
	ro.Close()
	head := fmt.Sprintf("%d:%s", noted.Seq, noted.Hash)
	if _, err := verifyFile(db, keyPath, "--head", head); err != nil {
		t.Fatalf("--head %s: %v", head, err)
	}

	// Whoever holds data_dir removes records 21-25 and the checkpoint that
	// sealed them.
	tamper(t, db, func(r, c *bolt.Bucket) {
		for seq := uint64(21); seq <= 25; seq++ {
			r.Delete(seqKey(seq))
		}
		c.Delete(seqKey(25))
	})
	if out, err := verifyFile(db, keyPath); err != nil || !strings.Contains(out, "verified 20 records") {
		t.Fatalf("the cut log alone: %q, %v", out, err)
	}
	for _, flags := range [][]string{{"--witness", witnessFile}, {"--min-seq", "25"}, {"--head", head}} {
		if _, err := verifyFile(db, keyPath, flags...); err == nil || !strings.Contains(err.Error(), "tampered") {
			t.Errorf("%v: %v", flags, err)
		}
	}
}
