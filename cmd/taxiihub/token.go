package main

import (
	"crypto"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/taxiihub/taxiihub/auth"
	"github.com/taxiihub/taxiihub/config"
	"github.com/taxiihub/taxiihub/internal/datadir"
)

func tokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Issue access tokens"}
	var configPath, org, sub, roles, keyPath, kid string
	var ttl time.Duration
	issue := &cobra.Command{
		Use:   "issue",
		Short: "Print a token signed with the hub's key, or with an organization's own key (--key, --kid)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configPath)
			if err != nil {
				return err
			}
			req := auth.TokenRequest{Org: org, Subject: sub, TTL: ttl}
			if roles != "" {
				req.Roles = strings.Split(roles, ",")
			}
			token, err := issueToken(cfg, req, keyPath, kid)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), token)
			return nil
		},
	}
	f := issue.Flags()
	f.StringVar(&configPath, "config", "hub.yaml", "the hub's config file (audience, issuer, organizations, data_dir)")
	f.StringVar(&org, "org", "", "organization id the token is for (required)")
	f.StringVar(&sub, "sub", "", "subject: the person or system within the organization (required)")
	f.StringVar(&roles, "roles", "read", "comma-separated roles: read, write, audit, admin")
	f.DurationVar(&ttl, "ttl", 8*time.Hour, "lifetime, at most the config's max_token_ttl")
	f.StringVar(&keyPath, "key", "", "sign with this organization private key (PEM) instead of the hub's key")
	f.StringVar(&kid, "kid", "", "with --key: the key id the organization registered")
	cmd.AddCommand(issue)
	return cmd
}

// issueToken checks a token request against the config, fills in the
// config's audience and issuer, and signs it.
func issueToken(cfg *config.Config, req auth.TokenRequest, keyPath, kid string) (string, error) {
	req.Audience, req.Issuer = cfg.Auth.Audience, cfg.Auth.Issuer
	o := cfg.Organization(req.Org)
	switch {
	case req.Org == "":
		return "", fmt.Errorf("--org is required")
	case o == nil:
		return "", fmt.Errorf("--org: no organization %q in the config", req.Org)
	case req.Subject == "":
		return "", fmt.Errorf("--sub is required")
	case req.TTL <= 0 || req.TTL > cfg.Auth.MaxTokenTTL:
		return "", fmt.Errorf("--ttl: %v must be positive and at most max_token_ttl (%v)", req.TTL, cfg.Auth.MaxTokenTTL)
	case cfg.Auth.Mode != "token":
		return "", fmt.Errorf("auth.mode is %q: the hub does not check tokens", cfg.Auth.Mode)
	}
	if err := config.CheckRoles(req.Roles); err != nil {
		return "", fmt.Errorf("--roles: %w", err)
	}
	if keyPath == "" {
		if kid != "" {
			return "", fmt.Errorf("--kid needs --key")
		}
		key, err := datadir.Dir(cfg.DataDir).ExistingHubKey()
		if err != nil {
			return "", err
		}
		return auth.IssueToken(req, key, config.HubKeyID)
	}
	i := slices.IndexFunc(o.Keys, func(k config.OrgKey) bool { return k.KID == kid })
	if i < 0 {
		return "", fmt.Errorf("--kid: organization %s has no key %q in the config", req.Org, kid)
	}
	for _, r := range req.Roles {
		if !slices.Contains(o.Keys[i].Roles, r) {
			return "", fmt.Errorf("--roles: key %q may grant only %s (its roles in the config), not %s", kid, strings.Join(o.Keys[i].Roles, ", "), r)
		}
	}
	data, err := os.ReadFile(keyPath)
	if err != nil {
		return "", err
	}
	key, err := auth.ParsePrivateKey(data)
	if err != nil {
		return "", fmt.Errorf("--key %s: %w", keyPath, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return "", fmt.Errorf("--key %s: cannot sign with it", keyPath)
	}
	req.Issuer = req.Org
	return auth.IssueToken(req, signer, kid)
}

func apikeyCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "apikey", Short: "Make API keys for clients that can only send Basic auth"}
	var org, name, roles string
	newKey := &cobra.Command{
		Use:   "new",
		Short: "Print a fresh API key secret (once) and the config entry that holds its hash",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list := strings.Split(roles, ",")
			if err := config.CheckRoles(list); err != nil {
				return fmt.Errorf("--roles: %w", err)
			}
			if !config.ValidID(org) || !config.ValidID(name) {
				return fmt.Errorf("--org and --name are required: lowercase letters, digits, '_' or '-'")
			}
			secret, hash := auth.NewAPIKey(org, name)
			fmt.Fprintf(cmd.OutOrStdout(), `Secret (shown once; give it to the client as a static bearer token,
Authorization: Bearer <secret>, or as the Basic-auth password, user %s/%s):
  %s

Add to organization %s in the hub's config, then reload it (SIGHUP):
    api_keys:
      - name: %s
        hash: %q
        roles: [%s]
`, org, name, secret, org, name, hash, strings.Join(list, ", "))
			return nil
		},
	}
	newKey.Flags().StringVar(&org, "org", "", "organization id (required)")
	newKey.Flags().StringVar(&name, "name", "", "key name, e.g. sentinel (required)")
	newKey.Flags().StringVar(&roles, "roles", "read", "comma-separated roles: read, write, audit, admin")
	cmd.AddCommand(newKey)
	return cmd
}
