package main

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/taxiihub/taxiihub/audit"
	"github.com/taxiihub/taxiihub/auth"
	"github.com/taxiihub/taxiihub/config"
	"github.com/taxiihub/taxiihub/internal/datadir"
	"github.com/taxiihub/taxiihub/store"
	"github.com/taxiihub/taxiihub/store/boltstore"
)

func auditCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Work with the hub's audit log"}
	cmd.AddCommand(auditVerifyCommand(), auditHeadsCommand(), auditKeyCommand())
	return cmd
}

func auditVerifyCommand() *cobra.Command {
	var dbPath, legacyPath, witnessPath, head string
	var keyPaths []string
	var opts audit.VerifyOptions
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log of a stopped hub (or a copy): every record unaltered, in place, and sealed by a checkpoint signed with the audit key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir := filepath.Dir(dbPath)
			if len(keyPaths) == 0 {
				keyPaths = []string{datadir.Dir(dir).File(datadir.AuditKeyFile)}
			}
			for _, path := range keyPaths {
				pub, err := readPublicKey(path)
				if err != nil {
					return fmt.Errorf("--key: %w", err)
				}
				opts.Keys = append(opts.Keys, pub)
			}
			if legacyPath == "" {
				legacyPath = datadir.Dir(dir).File(datadir.HubKeyFile)
				if _, err := os.Stat(legacyPath); errors.Is(err, fs.ErrNotExist) {
					legacyPath = ""
				}
			}
			if legacyPath != "" {
				pub, err := readPublicKey(legacyPath)
				if err != nil {
					return fmt.Errorf("--legacy-key: %w", err)
				}
				opts.LegacyKey = pub
			}
			switch {
			case witnessPath != "" && head != "":
				return fmt.Errorf("give --witness or --head, not both")
			case witnessPath != "":
				kept, err := audit.LastWitnessed(witnessPath)
				if err != nil {
					return fmt.Errorf("--witness: %w", err)
				}
				opts.Head = &kept
			case head != "":
				var kept audit.Checkpoint
				if _, err := fmt.Sscanf(head, "%d:%s", &kept.Seq, &kept.Head); err != nil || len(kept.Head) != 64 {
					return fmt.Errorf("--head: %q is not SEQ:HASH (a record number and its 64-digit hash)", head)
				}
				opts.Head = &kept
			}
			st, err := openReadOnly(dbPath)
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := audit.Verify(store.AuditLog(context.Background(), st), opts)
			if errors.Is(err, audit.ErrWrongKeyOrTampered) {
				return fmt.Errorf("%w (keys tried: %s; the audit key's public key is what taxiihub audit key prints)", err, strings.Join(append(keyPaths, legacyPath), ", "))
			}
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
	f := cmd.Flags()
	f.StringVar(&dbPath, "db", "data/hub.db", "the hub's bbolt file")
	f.StringArrayVar(&keyPaths, "key", nil, "the audit key's public key (PEM, as taxiihub audit key prints it; a private key file also works); repeat for earlier audit keys (default: audit.key beside the file)")
	f.StringVar(&legacyPath, "legacy-key", "", "the hub's token key (hub.key, or its public key), for checkpoints signed before the hub had an audit key (default: hub.key beside the file, if there)")
	f.BoolVar(&opts.AllowUnsealed, "allow-unsealed", false, "accept, and count, records after the newest checkpoint (a hub that did not stop cleanly)")
	f.Uint64Var(&opts.MinSeq, "min-seq", 0, "fail unless a checkpoint covers this record: the newest record number you saw before")
	f.StringVar(&witnessPath, "witness", "", "a witness file (audit.witness_file): the log must hold its newest signed head")
	f.StringVar(&head, "head", "", "SEQ:HASH of a record (or checkpoint) you noted before: the log must still hold it, unchanged")
	return cmd
}

func auditHeadsCommand() *cobra.Command {
	var dbPath string
	cmd := &cobra.Command{
		Use:   "heads",
		Short: "Print every signed checkpoint of a stopped hub's audit log (or a copy) as JSON lines, to keep outside the hub",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openReadOnly(dbPath)
			if err != nil {
				return err
			}
			defer st.Close()
			enc := json.NewEncoder(cmd.OutOrStdout())
			return st.AuditCheckpoints(context.Background(), func(c audit.Checkpoint) error { return enc.Encode(c) })
		},
	}
	cmd.Flags().StringVar(&dbPath, "db", "data/hub.db", "the hub's bbolt file")
	return cmd
}

func auditKeyCommand() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Print the public key that verifies the audit log (give it to auditors; the private key stays in data_dir)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configPath)
			if err != nil {
				return err
			}
			pub, err := readPublicKey(datadir.Dir(cfg.DataDir).File(datadir.AuditKeyFile))
			if err != nil {
				return fmt.Errorf("%w (the hub makes its audit key when it first starts)", err)
			}
			pemBytes, err := auth.PublicPEM(pub)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "# audit key %s\n%s", audit.KeyID(pub), pemBytes)
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "hub.yaml", "the hub's config file (data_dir)")
	return cmd
}

// openReadOnly opens a stopped hub's file, or a copy, for reading.
func openReadOnly(dbPath string) (*boltstore.Store, error) {
	if _, err := os.Stat(dbPath); err != nil {
		return nil, err
	}
	st, err := boltstore.Open(dbPath, boltstore.Options{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("%w (stop the hub, or verify a copy of its file)", err)
	}
	return st, nil
}

// readPublicKey reads an Ed25519 public key from a PEM file holding it, or
// holding the private key.
func readPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if block, _ := pem.Decode(data); block != nil && block.Type == "PUBLIC KEY" {
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if pub, ok := key.(ed25519.PublicKey); err == nil && ok {
			return pub, nil
		}
		return nil, fmt.Errorf("%s: not an Ed25519 public key", path)
	}
	priv, err := auth.ParseEd25519PrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return priv.Public().(ed25519.PublicKey), nil
}
