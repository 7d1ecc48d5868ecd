// Package config owns hub.yaml: decoding it strictly, filling defaults and
// validating every value, reporting the first problem by its path
// (api_roots[0].collections[2].id).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/taxiihub/taxiihub/stix"
	"go.yaml.in/yaml/v3"
)

// Config is the whole hub configuration.
type Config struct {
	Listen           string    `yaml:"listen"`
	DataDir          string    `yaml:"data_dir"`
	Title            string    `yaml:"title"`
	Description      string    `yaml:"description"`
	Contact          string    `yaml:"contact"`
	MaxContentLength int64     `yaml:"max_content_length"` // bytes of a POST body
	DefaultPageSize  int       `yaml:"default_page_size"`  // objects per page when no limit is asked
	MaxPageSize      int       `yaml:"max_page_size"`      // larger limits are clamped to it
	Auth             Auth      `yaml:"auth"`
	APIRoots         []APIRoot `yaml:"api_roots"`
}

// Auth configures authentication.
type Auth struct {
	// Mode "none" lets every caller read and write everything; it must be
	// chosen explicitly.
	Mode string `yaml:"mode"`
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
}

// CustomAllowed reports whether the collection accepts custom STIX content.
func (c *Collection) CustomAllowed() bool { return c.AllowCustom == nil || *c.AllowCustom }

// Defaults applied to keys a config leaves out.
const (
	DefaultListen           = "127.0.0.1:8080"
	DefaultDataDir          = "./data"
	DefaultTitle            = "taxiihub"
	DefaultMaxContentLength = 10 << 20
	DefaultDefaultPageSize  = 100
	DefaultMaxPageSize      = 1000
	DefaultMediaType        = "application/stix+json;version=2.1"
	maxPageSizeCeiling      = 100000
)

// Load reads, decodes and validates the config file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes a config strictly (unknown keys are errors), applies
// defaults and validates it.
func Parse(data []byte) (*Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return nil, yamlError(err)
	}
	cfg.applyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// yamlError turns yaml.v3's multi-line errors into one line.
func yamlError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return errors.New(strings.Join(te.Errors, "; "))
	}
	if err.Error() == "EOF" {
		return errors.New("the file is empty")
	}
	return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
}

func (c *Config) applyDefaults() {
	setDefault(&c.Listen, DefaultListen)
	setDefault(&c.DataDir, DefaultDataDir)
	setDefault(&c.Title, DefaultTitle)
	setDefault(&c.MaxContentLength, DefaultMaxContentLength)
	setDefault(&c.DefaultPageSize, DefaultDefaultPageSize)
	setDefault(&c.MaxPageSize, max(DefaultMaxPageSize, c.DefaultPageSize))
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
	reserved = map[string]bool{"taxii2": true, "admin": true, "healthz": true, "readyz": true, "metrics": true}
)

// Validate reports the first invalid value, named by its path.
func (c *Config) Validate() error {
	switch {
	case c.Auth.Mode == "":
		return errors.New(`auth.mode: required; only "none" (no authentication: every caller reads and writes everything) is supported so far`)
	case c.Auth.Mode != "none":
		return fmt.Errorf(`auth.mode: %q is not supported; use "none"`, c.Auth.Mode)
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
