package main

import (
	"bytes"
	"crypto"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"github.com/spf13/cobra"
	"github.com/taxiihub/taxiihub/auth"
	"github.com/taxiihub/taxiihub/config"
	"github.com/taxiihub/taxiihub/internal/datadir"
	"go.yaml.in/yaml/v3"
	"io"
	"net/http"
)

func tokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Issue, inspect and revoke access tokens"}
	var configPath, org, sub, roles, keyPath, kid, audience string
	var ttl time.Duration
	issue := &cobra.Command{
		Use:   "issue",
		Short: "Print a token signed with the hub's key, or with an organization's own key (--key, --kid)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req := auth.TokenRequest{Org: org, Subject: sub, TTL: ttl}
			if roles != "" {
				req.Roles = strings.Split(roles, ",")
			}
			var token string
			var err error
			if audience != "" && !cmd.Flags().Changed("config") {
				token, err = issueOwnToken(req, audience, keyPath, kid)
			} else {
				var cfg *config.Config
				if cfg, err = config.Load(configPath); err == nil {
					token, err = issueToken(cfg, req, keyPath, kid)
				}
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), token)
			// What revoking it and planning its renewal need, apart from
			// the token a script captures.
			c, _ := readClaims(token)
			fmt.Fprintf(cmd.ErrOrStderr(), "jti %s, expires %s (revoke with: taxiihub token revoke --config %s %s)\n", c.ID, c.expires(), configPath, c.ID)
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
	f.StringVar(&audience, "audience", "", "with --key and without --config: the hub's audience (auth.audience), for an organization signing its own tokens without the hub's config")
	cmd.AddCommand(issue, tokenInspectCommand(), tokenRevokeCommand())
	return cmd
}

// issueOwnToken signs a token with an organization's own key, for an
// organization that does not have the hub's config: the issuer is the
// organization, the audience the hub's. The hub still checks everything.
func issueOwnToken(req auth.TokenRequest, audience, keyPath, kid string) (string, error) {
	switch {
	case keyPath == "" || kid == "":
		return "", errors.New("--audience without --config signs with the organization's own key: give --key and --kid")
	case !config.ValidID(req.Org) || req.Subject == "" || req.TTL <= 0:
		return "", errors.New("--org, --sub and a positive --ttl are required")
	}
	if err := config.CheckRoles(req.Roles); err != nil {
		return "", fmt.Errorf("--roles: %w", err)
	}
	signer, err := readSigner(keyPath)
	if err != nil {
		return "", err
	}
	req.Audience, req.Issuer = audience, req.Org
	return auth.IssueToken(req, signer, kid)
}

// readSigner reads an organization's private key from a PEM file.
func readSigner(keyPath string) (crypto.Signer, error) {
	data, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	key, err := auth.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("--key %s: %w", keyPath, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("--key %s: cannot sign with it", keyPath)
	}
	return signer, nil
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
	signer, err := readSigner(keyPath)
	if err != nil {
		return "", err
	}
	req.Issuer = req.Org
	return auth.IssueToken(req, signer, kid)
}

func apikeyCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "apikey", Short: "Make API keys: static credentials for clients without tokens (bearer or Basic)"}
	var configPath, org, name, roles string
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
			if configPath != "" {
				cfg, err := config.Load(configPath)
				if err != nil {
					return err
				}
				o := cfg.Organization(org)
				if o == nil {
					return fmt.Errorf("--org: no organization %q in %s", org, configPath)
				}
				if slices.ContainsFunc(o.APIKeys, func(k config.APIKey) bool { return k.Name == name }) {
					return fmt.Errorf("--name: organization %s already has an API key %q", org, name)
				}
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
	newKey.Flags().StringVar(&configPath, "config", "", "the hub's config: refuse an organization it does not have, or a name taken")
	newKey.Flags().StringVar(&org, "org", "", "organization id (required)")
	newKey.Flags().StringVar(&name, "name", "", "key name, e.g. sentinel (required)")
	newKey.Flags().StringVar(&roles, "roles", "read", "comma-separated roles: read, write, audit, admin")
	cmd.AddCommand(newKey)
	return cmd
}

// tokenClaims are a token's claims as inspect shows them.
type tokenClaims struct {
	KeyID     string   `json:"kid"`
	Algorithm string   `json:"alg"`
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Org       string   `json:"org,omitempty"`
	Audience  any      `json:"aud"`
	Roles     []string `json:"roles"`
	ID        string   `json:"jti"`
	IssuedAt  int64    `json:"iat,omitempty"`
	Expires   int64    `json:"exp"`
}

func (c tokenClaims) expires() string { return time.Unix(c.Expires, 0).UTC().Format(time.RFC3339) }

// readClaims reads a token's header and claims without checking anything.
func readClaims(token string) (tokenClaims, error) {
	var c tokenClaims
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return c, errors.New("not a JWT (three base64url parts separated by dots)")
	}
	for _, part := range parts[:2] {
		data, err := base64.RawURLEncoding.DecodeString(part)
		if err != nil || json.Unmarshal(data, &c) != nil {
			return c, errors.New("not a JWT: a part is not base64url JSON")
		}
	}
	return c, nil
}

func tokenInspectCommand() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "inspect [TOKEN]",
		Short: "Show a token's claims, and with --config whether the hub accepts it and why not (the token from the argument or standard input)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			token := ""
			if len(args) == 1 {
				token = args[0]
			} else {
				data, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 64<<10))
				if err != nil {
					return err
				}
				token = strings.TrimSpace(string(data))
			}
			c, err := readClaims(token)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "kid %s (%s), iss %s, sub %s, org %s, roles %s, jti %s, expires %s\n",
				c.KeyID, c.Algorithm, c.Issuer, c.Subject, c.Org, strings.Join(c.Roles, ","), c.ID, c.expires())
			if configPath == "" {
				return nil
			}
			cfg, err := config.Load(configPath)
			if err != nil {
				return err
			}
			hubKey, err := datadir.Dir(cfg.DataDir).ExistingHubKey()
			if err != nil {
				return err
			}
			authority, err := auth.New(cfg, hubKey.Public().(ed25519.PublicKey))
			if err != nil {
				return err
			}
			req, _ := http.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			p, err := authority.Authenticate(req, nil)
			if err != nil {
				return fmt.Errorf("the hub refuses it: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "the hub accepts it: organization %s, roles %s\n", p.Org, strings.Join(p.Roles, ","))
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "the hub's config: also check the token as the hub would")
	return cmd
}

func tokenRevokeCommand() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "revoke JTI...",
		Short: "Add token ids to the config's auth.revoked (the file is checked and replaced whole), then say how to reload",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, jtis []string) error {
			if err := revokeTokens(configPath, jtis); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s in %s; reload the hub to apply it: kill -HUP $(pidof taxiihub) (or systemctl reload taxiihub)\n", strings.Join(jtis, ", "), configPath)
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "hub.yaml", "the hub's config file")
	return cmd
}

// revokeTokens appends jtis to auth.revoked in the config at path, keeping
// its comments and layout; the result must be a valid config before it
// replaces the file.
func revokeTokens(path string, jtis []string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("%s: not a YAML mapping", path)
	}
	list := child(child(doc.Content[0], "auth", yaml.MappingNode), "revoked", yaml.SequenceNode)
	for _, jti := range jtis {
		if jti == "" || strings.ContainsAny(jti, "\n\r") {
			return fmt.Errorf("%q is not a token id", jti)
		}
		if !slices.ContainsFunc(list.Content, func(n *yaml.Node) bool { return n.Value == jti }) {
			list.Content = append(list.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: jti})
		}
	}
	list.Style = 0 // a block list, one id per line
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	out := buf.Bytes()
	if _, err := config.Parse(out); err != nil {
		return fmt.Errorf("%s: the revoked config would not be valid: %w", path, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out, info.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// child returns the value of key in mapping m, adding an empty one of kind
// if it is missing.
func child(m *yaml.Node, key string, kind yaml.Kind) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	v := &yaml.Node{Kind: kind}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
	return v
}
