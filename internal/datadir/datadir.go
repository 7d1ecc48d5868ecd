// Package datadir owns the hub's data directory: the files it holds (the
// bbolt file and its audit journal, the keys), their modes, and the keys
// made on first use. Nothing else names a file in it.
package datadir

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/taxiihub/taxiihub/auth"
)

// The files of a data directory, each mode 0600.
const (
	DBFile        = "hub.db"     // every object, status and audit record
	HubKeyFile    = "hub.key"    // Ed25519: signs the hub's tokens
	AuditKeyFile  = "audit.key"  // Ed25519: signs the audit log's checkpoints
	CursorKeyFile = "cursor.key" // 32 random bytes: MACs pagination cursors
)

// Dir is a data directory.
type Dir string

// Prepare creates the directory at path (mode 0700) if needed. One that
// others may read or enter is made private: the data, the keys and the
// audit log are the operator's alone. loosened reports that it was.
func Prepare(path string) (d Dir, loosened bool, err error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return "", false, fmt.Errorf("data_dir: %w", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return "", false, fmt.Errorf("data_dir: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o700); err != nil {
			return "", false, fmt.Errorf("data_dir: %w", err)
		}
		loosened = true
	}
	return Dir(path), loosened, nil
}

// File is the path of one of the directory's files.
func (d Dir) File(name string) string { return filepath.Join(string(d), name) }

// HubKey is the token-signing key, made on first use (serve and demo only).
func (d Dir) HubKey() (ed25519.PrivateKey, error) { return signingKey(d.File(HubKeyFile)) }

// ExistingHubKey is the token-signing key of a hub that has started once.
// Commands other than serve and demo use it: a key they made would sign
// tokens the hub refuses. The error names the absolute path looked in.
func (d Dir) ExistingHubKey() (ed25519.PrivateKey, error) {
	path, err := filepath.Abs(d.File(HubKeyFile))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no hub key at %s: start the hub once (serve or demo) to make it, or give the --config of the hub that has it", path)
	}
	return signingKey(path)
}

// AuditKey is the audit log's signing key, made on first use.
func (d Dir) AuditKey() (ed25519.PrivateKey, error) { return signingKey(d.File(AuditKeyFile)) }

// CursorKey is the key that MACs pagination cursors, made on first use.
func (d Dir) CursorKey() ([]byte, error) {
	const size = 32
	path := d.File(CursorKeyFile)
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, size)
		rand.Read(key)
		if err := os.WriteFile(path, key, 0o600); err != nil {
			return nil, fmt.Errorf("create key: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	if len(key) < size {
		return nil, fmt.Errorf("key %s: holds %d bytes, want %d", path, len(key), size)
	}
	return key, nil
}

// signingKey reads an Ed25519 key (PKCS #8 PEM) from path, creating it
// with mode 0600 on first use.
func signingKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create key: %w", err)
		}
		defer f.Close()
		if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
			return nil, fmt.Errorf("write key: %w", err)
		}
		return key, f.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	key, err := auth.ParseEd25519PrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	return key, nil
}
