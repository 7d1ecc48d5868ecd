package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/auth"
	"github.com/taxiihub/taxiihub/store"
	"github.com/taxiihub/taxiihub/store/boltstore"
)

func auditCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Work with the hub's audit log"}
	var dbPath, keyPath string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log of a stopped hub (or a copy) for altered, removed, inserted or reordered records",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if keyPath == "" {
				keyPath = filepath.Join(filepath.Dir(dbPath), hubKeyFile)
			}
			pub, err := hubPublicKey(keyPath)
			if err != nil {
				return err
			}
			if _, err := os.Stat(dbPath); err != nil {
				return err
			}
			st, err := boltstore.Open(dbPath, boltstore.Options{ReadOnly: true})
			if err != nil {
				return fmt.Errorf("%w (stop the hub, or verify a copy of its file)", err)
			}
			defer st.Close()
			res, err := audit.Verify(store.AuditLog(context.Background(), st), pub)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), res)
			if n := st.Unfolded(); n > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: %d more records (reads answered just before the hub stopped without a clean shutdown) wait in %s; starting the hub once adds them to the file\n", n, boltstore.JournalPath(dbPath))
			}
			return nil
		},
	}
	verify.Flags().StringVar(&dbPath, "db", "data/hub.db", "the hub's bbolt file")
	verify.Flags().StringVar(&keyPath, "key", "", "the hub's key (hub.key; default: beside the file)")
	cmd.AddCommand(verify)
	return cmd
}

// hubPublicKey reads the hub's public key from its private key file.
func hubPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := auth.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 key", path)
	}
	return priv.Public().(ed25519.PublicKey), nil
}
