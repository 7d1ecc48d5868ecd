// Package config owns hub.yaml: decoding it strictly, filling defaults and
// validating every value, reporting the first problem by its path
// (api_roots[0].collections[2].id).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/taxiihub/taxiihub/stix"
	"go.yaml.in/yaml/v3"
)

// Config is the whole hub configuration.
type Config struct {
	Listen           string `yaml:"listen"`
	DataDir          string `yaml:"data_dir"`
	Title            string `yaml:"title"`
	Description      string `yaml:"description"`
	Contact          string `yaml:"contact"`
	MaxContentLength int64  `yaml:"max_content_length"` // bytes of a POST body
	DefaultPageSize  int    `yaml:"default_page_size"`  // objects per page when no limit is asked
	MaxPageSize      int    `yaml:"max_page_size"`      // larger limits are clamped to it
	TLS              TLS    `yaml:"tls"`
	InsecureHTTP     bool   `yaml:"insecure_http"` // allow plain HTTP off loopback (behind a TLS proxy)
	// TrustedProxies are the networks (CIDRs or addresses) of the reverse
	// proxies in front of the hub. Only a connection from one of them has
	// its X-Forwarded-For believed, for the failure limiter, the audit log
	// and metrics.access: loopback.
	TrustedProxies []string       `yaml:"trusted_proxies"`
	Auth           Auth           `yaml:"auth"`
	Audit          Audit          `yaml:"audit"`
	Metrics        Metrics        `yaml:"metrics"`
	Organizations  []Organization `yaml:"organizations"`
	APIRoots       []APIRoot      `yaml:"api_roots"`
}

// Auth configures authentication.
type Auth struct {
	// Mode is "token" (the default: JWTs and API keys, per-organization
	// policy) or "none" (every caller reads and writes everything).
	Mode        string        `yaml:"mode"`
	Audience    string        `yaml:"audience"`      // tokens must carry this aud
	Issuer      string        `yaml:"issuer"`        // iss of hub-issued tokens
	MaxTokenTTL time.Duration `yaml:"max_token_ttl"` // longest accepted exp - iat
	Leeway      time.Duration `yaml:"leeway"`        // clock skew allowed on exp, nbf, iat
	Revoked     []string      `yaml:"revoked"`       // token ids (jti) refused
}

// TLS configures HTTPS and client certificates.
type TLS struct {
	Cert     string `yaml:"cert"`      // PEM certificate chain
	Key      string `yaml:"key"`       // PEM private key
	ClientCA string `yaml:"client_ca"` // PEM CAs whose client certificates are accepted
	// ClientCerts map client certificates to organizations, for agencies
	// that authenticate with their PKI.
	ClientCerts []ClientCert `yaml:"client_certs"`
}

// ClientCert maps certificates to an organization, by subject or by SAN.
type ClientCert struct {
	Subject string   `yaml:"subject"` // e.g. "CN=liaison1,O=FBI,C=US", as Go prints it
	SAN     string   `yaml:"san"`     // a DNS name, email address or URI in the certificate
	Org     string   `yaml:"org"`
	Roles   []string `yaml:"roles"`
}

// Metrics configures /metrics.
type Metrics struct {
	// Access is "admin" (the default: principals with the admin role) or
	// "loopback" (clients on the hub's own machine, without a token; safe
	// only where no proxy or sidecar on that machine forwards others'
	// requests, unless it is listed in trusted_proxies).
	Access string `yaml:"access"`
}

// Audit configures the audit log.
type Audit struct {
	// A signed checkpoint is written after CheckpointEvery records
	// (default 1000) and every CheckpointInterval (default 1m).
	CheckpointEvery    int           `yaml:"checkpoint_every"`
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// Retain, if set, prunes records older than it, such as 400d or 720h
	// (at least MinRetention). A reload (SIGHUP) changes it.
	Retain string `yaml:"retain"`
	// WitnessFile and WitnessURL receive every signed checkpoint (see
	// audit.Witness): a file appended outside data_dir, and an HTTP(S)
	// endpoint the operator runs or trusts.
	WitnessFile string `yaml:"witness_file"`
	WitnessURL  string `yaml:"witness_url"`
	// ReadSync says when the record of a read is flushed to disk: "always"
	// (the default: before the read is answered), or a duration such as
	// "10ms": the read is answered once its record is written to the
	// operating system, which survives a crash of the hub but not of the
	// machine, and records are flushed at least that often.
	ReadSync string `yaml:"read_sync"`
}

// ReadSyncInterval is ReadSync as a duration; 0 means always.
func (a Audit) ReadSyncInterval() time.Duration {
	d, _ := time.ParseDuration(a.ReadSync)
	return d
}

// maxReadSyncInterval bounds audit.read_sync: how many answered reads a
// power loss may leave unrecorded.
const maxReadSyncInterval = time.Second

// MinRetention is the shortest audit.retain: an auditor's review must not
// find the records of last week gone.
const MinRetention = 30 * 24 * time.Hour

// Retention is Retain as a duration; 0 keeps records forever.
func (a Audit) Retention() time.Duration {
	d, _ := parseDays(a.Retain)
	return d
}

// parseDays reads a duration that may be given in days ("400d").
func parseDays(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration such as 400d or 720h", s)
	}
	return d, nil
}

// Organization is a member of the hub.
type Organization struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name"`
	Identity string   `yaml:"identity"` // its STIX identity id
	Keys     []OrgKey `yaml:"keys"`     // public keys it signs its own tokens with
	APIKeys  []APIKey `yaml:"api_keys"` // for clients that can send only Basic auth
}

// OrgKey is an organization's public token-signing key.
type OrgKey struct {
	KID           string `yaml:"kid"`
	Alg           string `yaml:"alg"` // EdDSA, ES256 or RS256: the only algorithm accepted for this key
	PublicKeyFile string `yaml:"public_key_file"`
	PublicKey     string `yaml:"public_key"` // inline PEM
	// Roles is the most a token signed with this key may claim (default
	// read, write): audit and admin only where the operator grants them.
	Roles []string `yaml:"roles"`
}

// DefaultOrgKeyRoles is the role ceiling of an organization key that names none.
func DefaultOrgKeyRoles() []string { return []string{RoleRead, RoleWrite} }

// APIKey is an organization's API key; only a hash of its secret is kept.
type APIKey struct {
	Name  string   `yaml:"name"`
	Hash  string   `yaml:"hash"` // $argon2id$... as printed by taxiihub apikey new
	Roles []string `yaml:"roles"`
}

// APIRoot is one TAXII API root, served at /<path>/.
type APIRoot struct {
	Path        string       `yaml:"path"`
	Title       string       `yaml:"title"`
	Description string       `yaml:"description"`
	Collections []Collection `yaml:"collections"`
}

// Collection is one TAXII collection.
type Collection struct {
	ID          string   `yaml:"id"` // a UUIDv4, unique across the hub
	Title       string   `yaml:"title"`
	Description string   `yaml:"description"`
	Alias       string   `yaml:"alias"` // unique within its API root
	MediaTypes  []string `yaml:"media_types"`
	// AllowCustom, when false, refuses custom object types and custom
	// properties in posted objects. Default true.
	AllowCustom *bool `yaml:"allow_custom"`
	// Read and Write list the organizations (ids, or "*" for every member)
	// that may read from and write to the collection.
	Read  []string `yaml:"read"`
	Write []string `yaml:"write"`
	// MaxTLP, if set, refuses objects marked above it: clear (= white),
	// green, amber, amber+strict or red.
	MaxTLP string `yaml:"max_tlp"`
}

// CustomAllowed reports whether the collection accepts custom STIX content.
func (c *Collection) CustomAllowed() bool { return c.AllowCustom == nil || *c.AllowCustom }

// Defaults applied to keys a config leaves out.
const (
	DefaultListen           = "127.0.0.1:8080"
	DefaultDataDir          = "./data"
	DefaultTitle            = "taxiihub"
	DefaultMaxContentLength = 10 << 20
	DefaultPageSize         = 100
	DefaultMaxPageSize      = 1000
	DefaultMediaType        = "application/stix+json;version=2.1"
	DefaultIssuer           = "taxiihub"
	DefaultMaxTokenTTL      = 24 * time.Hour
	DefaultLeeway           = 30 * time.Second
	maxPageSizeCeiling      = 100000
)

// Load reads, decodes and validates the config file at path.
// Relative paths in it (data_dir, the tls files, public_key_file,
// audit.witness_file) are taken relative to the file's directory, not to
// wherever the command runs.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	cfg, err := parse(data, dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes a config strictly (unknown keys are errors), applies
// defaults and validates it. Relative paths stay relative to the working
// directory.
func Parse(data []byte) (*Config, error) { return parse(data, "") }

func parse(data []byte, dir string) (*Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return nil, yamlError(data, err)
	}
	cfg.applyDefaults()
	if dir != "" {
		cfg.resolvePaths(dir)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// resolvePaths makes the config's relative file paths relative to dir.
func (c *Config) resolvePaths(dir string) {
	paths := []*string{&c.DataDir, &c.TLS.Cert, &c.TLS.Key, &c.TLS.ClientCA, &c.Audit.WitnessFile}
	for i := range c.Organizations {
		for j := range c.Organizations[i].Keys {
			paths = append(paths, &c.Organizations[i].Keys[j].PublicKeyFile)
		}
	}
	for _, p := range paths {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

func (c *Config) applyDefaults() {
	setDefault(&c.Listen, DefaultListen)
	setDefault(&c.DataDir, DefaultDataDir)
	setDefault(&c.Title, DefaultTitle)
	setDefault(&c.MaxContentLength, DefaultMaxContentLength)
	setDefault(&c.DefaultPageSize, DefaultPageSize)
	setDefault(&c.MaxPageSize, max(DefaultMaxPageSize, c.DefaultPageSize))
	setDefault(&c.Auth.Mode, "token")
	setDefault(&c.Auth.Issuer, DefaultIssuer)
	setDefault(&c.Auth.MaxTokenTTL, DefaultMaxTokenTTL)
	setDefault(&c.Auth.Leeway, DefaultLeeway)
	setDefault(&c.Metrics.Access, "admin")
	setDefault(&c.Audit.CheckpointEvery, 1000)
	setDefault(&c.Audit.CheckpointInterval, time.Minute)
	setDefault(&c.Audit.ReadSync, "always")
	for i := range c.Organizations {
		c.Organizations[i].Identity = stix.CanonicalID(c.Organizations[i].Identity)
		for j := range c.Organizations[i].Keys {
			if k := &c.Organizations[i].Keys[j]; len(k.Roles) == 0 {
				k.Roles = DefaultOrgKeyRoles()
			}
		}
	}
	for i := range c.APIRoots {
		for j := range c.APIRoots[i].Collections {
			col := &c.APIRoots[i].Collections[j]
			col.ID = strings.ToLower(col.ID) // the store keys collections by id
			if len(col.MediaTypes) == 0 {
				col.MediaTypes = []string{DefaultMediaType}
			}
		}
	}
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

var (
	segment = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~-]*$`)
	// reserved are top-level paths the hub serves itself.
	reserved = map[string]bool{"taxii2": true, "admin": true, "healthz": true, "readyz": true, "metrics": true, "debug": true, ".well-known": true}
)

// Validate reports the first invalid value, named by its path.
func (c *Config) Validate() error {
	if err := c.validateAuth(); err != nil {
		return err
	}
	if err := c.validateTLS(); err != nil {
		return err
	}
	for i, p := range c.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			return fmt.Errorf("trusted_proxies[%d]: %q is not a CIDR (10.0.0.0/8) or an address", i, p)
		}
	}
	if c.Metrics.Access != "loopback" && c.Metrics.Access != "admin" {
		return fmt.Errorf(`metrics.access: %q must be "loopback" or "admin"`, c.Metrics.Access)
	}
	if d, err := parseDays(c.Audit.Retain); err != nil {
		return fmt.Errorf("audit.retain: %v", err)
	} else if d > 0 && d < MinRetention {
		return fmt.Errorf("audit.retain: %s is shorter than the minimum, %dd", c.Audit.Retain, int(MinRetention.Hours()/24))
	}
	if err := c.validateWitness(); err != nil {
		return err
	}
	if c.Audit.CheckpointEvery < 1 || c.Audit.CheckpointInterval <= 0 {
		return errors.New("audit.checkpoint_every and audit.checkpoint_interval: must be positive")
	}
	if c.Audit.ReadSync != "always" {
		if d, err := time.ParseDuration(c.Audit.ReadSync); err != nil || d <= 0 || d > maxReadSyncInterval {
			return fmt.Errorf(`audit.read_sync: %q must be "always" or a duration up to %v, such as 10ms`, c.Audit.ReadSync, maxReadSyncInterval)
		}
	}
	switch {
	case c.MaxContentLength < 1:
		return fmt.Errorf("max_content_length: %d must be positive", c.MaxContentLength)
	case c.DefaultPageSize < 1:
		return fmt.Errorf("default_page_size: %d must be positive", c.DefaultPageSize)
	case c.MaxPageSize < c.DefaultPageSize || c.MaxPageSize > maxPageSizeCeiling:
		return fmt.Errorf("max_page_size: %d must be between default_page_size (%d) and %d", c.MaxPageSize, c.DefaultPageSize, maxPageSizeCeiling)
	case len(c.APIRoots) == 0:
		return errors.New("api_roots: at least one API root is required")
	}
	paths := map[string]string{}
	collectionIDs := map[string]string{}
	for i, root := range c.APIRoots {
		at := fmt.Sprintf("api_roots[%d]", i)
		switch {
		case !segment.MatchString(root.Path):
			return fmt.Errorf("%s.path: %q must be one URL path segment of letters, digits, '.', '_', '~' or '-'", at, root.Path)
		case reserved[root.Path]:
			return fmt.Errorf("%s.path: %q is reserved by the hub", at, root.Path)
		case paths[root.Path] != "":
			return fmt.Errorf("%s.path: %q is already used by %s", at, root.Path, paths[root.Path])
		case root.Title == "":
			return fmt.Errorf("%s.title: required", at)
		}
		paths[root.Path] = at
		aliases := map[string]string{}
		for j, col := range root.Collections {
			at := fmt.Sprintf("%s.collections[%d]", at, j)
			id := strings.ToLower(col.ID)
			switch {
			case !stix.ValidUUIDv4(col.ID):
				return fmt.Errorf("%s.id: %q is not a UUIDv4", at, col.ID)
			case collectionIDs[id] != "":
				return fmt.Errorf("%s.id: %s is already used by %s", at, col.ID, collectionIDs[id])
			case col.Title == "":
				return fmt.Errorf("%s.title: required", at)
			case col.Alias != "" && !segment.MatchString(col.Alias):
				return fmt.Errorf("%s.alias: %q must be one URL path segment of letters, digits, '.', '_', '~' or '-'", at, col.Alias)
			case col.Alias != "" && stix.ValidUUIDv4(col.Alias):
				return fmt.Errorf("%s.alias: %q looks like a collection id; choose a name", at, col.Alias)
			case col.Alias != "" && aliases[col.Alias] != "":
				return fmt.Errorf("%s.alias: %q is already used by %s", at, col.Alias, aliases[col.Alias])
			}
			collectionIDs[id] = at
			if col.Alias != "" {
				aliases[col.Alias] = at
			}
			for k, mt := range col.MediaTypes {
				if !strings.HasPrefix(mt, "application/stix+json") {
					return fmt.Errorf("%s.media_types[%d]: %q is not a STIX media type", at, k, mt)
				}
			}
			if err := c.validateAccess(at, col); err != nil {
				return err
			}
		}
	}
	return nil
}

// APIRoot returns the API root served at path.
func (c *Config) APIRoot(path string) (*APIRoot, bool) {
	for i := range c.APIRoots {
		if c.APIRoots[i].Path == path {
			return &c.APIRoots[i], true
		}
	}
	return nil, false
}

// Collection returns the collection of r whose id (any case) or alias is key.
func (r *APIRoot) Collection(key string) (*Collection, bool) {
	for i := range r.Collections {
		col := &r.Collections[i]
		if strings.EqualFold(col.ID, key) || col.Alias != "" && col.Alias == key {
			return col, true
		}
	}
	return nil, false
}

// Roles a principal may hold: read and write a collection, read the audit
// log, operate the hub.
const (
	RoleRead  = "read"
	RoleWrite = "write"
	RoleAudit = "audit"
	RoleAdmin = "admin"
)

// AllRoles returns every role.
func AllRoles() []string { return []string{RoleRead, RoleWrite, RoleAudit, RoleAdmin} }

// CheckRoles is the one check of a list of roles, wherever one is given: in
// the config, in a token, on the command line. It names the first that is
// not a role, or says that there are none.
func CheckRoles(roles []string) error {
	if len(roles) == 0 {
		return fmt.Errorf("at least one of %s", strings.Join(AllRoles(), ", "))
	}
	for _, r := range roles {
		if !slices.Contains(AllRoles(), r) {
			return fmt.Errorf("%q is not one of %s", r, strings.Join(AllRoles(), ", "))
		}
	}
	return nil
}

var (
	orgID   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	keyAlgs = []string{"EdDSA", "ES256", "RS256"}
)

// ValidID reports whether s may be an organization id or an API key name:
// lowercase letters, digits, '_' and '-', at most 63.
func ValidID(s string) bool { return orgID.MatchString(s) }

// HubKeyID is the kid of tokens the hub signs itself; no organization key
// may use it.
const HubKeyID = "hub"

func (c *Config) validateAuth() error {
	a := c.Auth
	switch {
	case a.Mode != "token" && a.Mode != "none":
		return fmt.Errorf(`auth.mode: %q must be "token" or "none"`, a.Mode)
	case a.Mode == "token" && a.Audience == "":
		return errors.New("auth.audience: required: tokens must name this hub in their aud claim")
	case a.MaxTokenTTL <= 0:
		return fmt.Errorf("auth.max_token_ttl: %v must be positive", a.MaxTokenTTL)
	case a.Leeway < 0 || a.Leeway > 5*time.Minute:
		return fmt.Errorf("auth.leeway: %v must be between 0 and 5m", a.Leeway)
	}
	orgs := map[string]string{}
	identities := map[string]string{}
	kids := map[string]string{HubKeyID: "the hub's own key"}
	for i, org := range c.Organizations {
		at := fmt.Sprintf("organizations[%d]", i)
		switch {
		case !orgID.MatchString(org.ID):
			return fmt.Errorf("%s.id: %q must be lowercase letters, digits, '_' or '-'", at, org.ID)
		case orgs[org.ID] != "":
			return fmt.Errorf("%s.id: %q is already used by %s", at, org.ID, orgs[org.ID])
		case !validSTIXID(org.Identity):
			return fmt.Errorf("%s.identity: %q is not a STIX identity id (identity--<UUID>)", at, org.Identity)
		case identities[org.Identity] != "":
			return fmt.Errorf("%s.identity: %s is already used by %s", at, org.Identity, identities[org.Identity])
		}
		orgs[org.ID], identities[org.Identity] = at, at
		for j, k := range org.Keys {
			at := fmt.Sprintf("%s.keys[%d]", at, j)
			switch {
			case k.KID == "":
				return fmt.Errorf("%s.kid: required", at)
			case kids[k.KID] != "":
				return fmt.Errorf("%s.kid: %q is already used by %s", at, k.KID, kids[k.KID])
			case !slices.Contains(keyAlgs, k.Alg):
				return fmt.Errorf("%s.alg: %q must be one of %s", at, k.Alg, strings.Join(keyAlgs, ", "))
			case (k.PublicKeyFile == "") == (k.PublicKey == ""):
				return fmt.Errorf("%s: give exactly one of public_key_file and public_key", at)
			}
			kids[k.KID] = at
			if err := validRoles(at+".roles", k.Roles); err != nil {
				return err
			}
		}
		names := map[string]bool{}
		for j, k := range org.APIKeys {
			at := fmt.Sprintf("%s.api_keys[%d]", at, j)
			switch {
			case !orgID.MatchString(k.Name):
				return fmt.Errorf("%s.name: %q must be lowercase letters, digits, '_' or '-'", at, k.Name)
			case names[k.Name]:
				return fmt.Errorf("%s.name: %q is already used in this organization", at, k.Name)
			case !strings.HasPrefix(k.Hash, "$argon2id$"):
				return fmt.Errorf("%s.hash: must be an $argon2id$ hash as taxiihub apikey new prints (never the secret)", at)
			}
			names[k.Name] = true
			if err := validRoles(at+".roles", k.Roles); err != nil {
				return err
			}
		}
	}
	return nil
}

func validSTIXID(id string) bool {
	typ, err := stix.SplitID(id)
	return err == nil && typ == "identity"
}

// validRoles is CheckRoles naming the role at fault by its path.
func validRoles(at string, roles []string) error {
	if err := CheckRoles(roles); err != nil && len(roles) == 0 {
		return fmt.Errorf("%s: %v", at, err)
	}
	for i, r := range roles {
		if err := CheckRoles([]string{r}); err != nil {
			return fmt.Errorf("%s[%d]: %v", at, i, err)
		}
	}
	return nil
}

// validateAccess checks a collection's read and write lists and TLP ceiling.
func (c *Config) validateAccess(at string, col Collection) error {
	for _, list := range []struct {
		name string
		orgs []string
	}{{"read", col.Read}, {"write", col.Write}} {
		for i, org := range list.orgs {
			if org != "*" && c.Organization(org) == nil {
				return fmt.Errorf("%s.%s[%d]: no organization %q", at, list.name, i, org)
			}
		}
	}
	if _, ok := stix.ParseTLP(col.MaxTLP); col.MaxTLP != "" && !ok {
		return fmt.Errorf("%s.max_tlp: %q must be one of %s", at, col.MaxTLP, strings.Join(stix.TLPNames(), ", "))
	}
	return nil
}

// Organization returns the organization with id, or nil.
func (c *Config) Organization(id string) *Organization {
	for i := range c.Organizations {
		if c.Organizations[i].ID == id {
			return &c.Organizations[i]
		}
	}
	return nil
}

// Collection returns the collection with id in any API root, or nil.
func (c *Config) Collection(id string) *Collection {
	for i := range c.APIRoots {
		if col, ok := c.APIRoots[i].Collection(id); ok {
			return col
		}
	}
	return nil
}

func (c *Config) validateTLS() error {
	t := c.TLS
	switch {
	case (t.Cert == "") != (t.Key == ""):
		return errors.New("tls: give both cert and key")
	case t.Cert == "" && !c.InsecureHTTP && !loopback(c.Listen):
		return fmt.Errorf("listen: %q is not a loopback address; serve it with tls (cert, key) or, behind a TLS proxy, set insecure_http: true", c.Listen)
	case t.ClientCA != "" && t.Cert == "":
		return errors.New("tls.client_ca: needs tls.cert and tls.key")
	case len(t.ClientCerts) > 0 && t.ClientCA == "":
		return errors.New("tls.client_certs: needs tls.client_ca to check the certificates")
	}
	for i, cc := range t.ClientCerts {
		at := fmt.Sprintf("tls.client_certs[%d]", i)
		switch {
		case (cc.Subject == "") == (cc.SAN == ""):
			return fmt.Errorf("%s: give exactly one of subject and san", at)
		case c.Organization(cc.Org) == nil:
			return fmt.Errorf("%s.org: no organization %q", at, cc.Org)
		}
		if err := validRoles(at+".roles", cc.Roles); err != nil {
			return err
		}
	}
	return nil
}

// validateWitness checks that the audit witness is outside the hub: a
// witness file inside data_dir goes wherever the data goes.
func (c *Config) validateWitness() error {
	if f := c.Audit.WitnessFile; f != "" {
		abs, err1 := filepath.Abs(f)
		dir, err2 := filepath.Abs(c.DataDir)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("audit.witness_file: %q: %v", f, errors.Join(err1, err2))
		}
		if rel, err := filepath.Rel(dir, abs); err == nil && !strings.HasPrefix(rel, "..") {
			return fmt.Errorf("audit.witness_file: %q is inside data_dir; a witness must live where whoever holds data_dir cannot rewrite it", f)
		}
	}
	if u := c.Audit.WitnessURL; u != "" {
		parsed, err := url.Parse(u)
		if err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" {
			return fmt.Errorf("audit.witness_url: %q is not an http(s) URL", u)
		}
	}
	return nil
}

// Proxies are TrustedProxies, parsed.
func (c *Config) Proxies() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range c.TrustedProxies {
		if prefix, err := parsePrefix(p); err == nil {
			out = append(out, prefix)
		}
	}
	return out
}

// parsePrefix reads a CIDR, or one address as a prefix of its full length.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()), nil
}

// loopback reports whether a listen address is on the loopback interface.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
