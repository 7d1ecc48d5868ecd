package auth

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/taxiihub/taxiihub/config"
	"github.com/taxiihub/taxiihub/stix"
)

// Authority authenticates requests and applies the collection policy of
// one configuration. Build a new one when the configuration changes.
type Authority struct {
	cfg     *config.Config
	hubKey  ed25519.PublicKey
	orgKeys map[string]orgKey // by kid

	mu       sync.Mutex
	verified map[[sha256.Size]byte]verified // credentials already checked, by hash
}

// verified is a credential that passed every check, and until when it may
// be trusted without checking again (zero: for the Authority's life).
type verified struct {
	principal Principal
	until     time.Time
}

type orgKey struct {
	org, alg string
	pub      any
	roles    []string // the most a token signed with it may claim
}

// maxVerified bounds the cache of checked credentials.
const maxVerified = 4096

// New builds the Authority of cfg; hubKey verifies hub-issued tokens. It
// reads and checks every organization's public keys.
func New(cfg *config.Config, hubKey ed25519.PublicKey) (*Authority, error) {
	a := &Authority{cfg: cfg, hubKey: hubKey, orgKeys: map[string]orgKey{}, verified: map[[sha256.Size]byte]verified{}}
	for i, org := range cfg.Organizations {
		for j, k := range org.Keys {
			data := []byte(k.PublicKey)
			if k.PublicKeyFile != "" {
				var err error
				if data, err = os.ReadFile(k.PublicKeyFile); err != nil {
					return nil, fmt.Errorf("organizations[%d].keys[%d].public_key_file: %w", i, j, err)
				}
			}
			pub, err := parsePublicKey(data, k.Alg)
			if err != nil {
				return nil, fmt.Errorf("organizations[%d].keys[%d] (%s): %w", i, j, k.KID, err)
			}
			roles := k.Roles
			if len(roles) == 0 {
				roles = config.DefaultOrgKeyRoles()
			}
			a.orgKeys[k.KID] = orgKey{org: org.ID, alg: k.Alg, pub: pub, roles: roles}
		}
	}
	return a, nil
}

// Authenticate implements Authenticator: Bearer (or Token) JWTs, and Basic
// with an API key or a JWT as the password.
func (a *Authority) Authenticate(r *http.Request, gate Gate) (Principal, error) {
	if a.cfg.Auth.Mode == "none" {
		return Principal{Subject: anonymousSubject, Roles: config.AllRoles(), Method: MethodNone}, nil
	}
	header := r.Header.Get("Authorization")
	if header == "" && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return a.fromCertificate(r.TLS.VerifiedChains[0][0])
	}
	if header == "" {
		return Principal{}, refuse("no_credentials", "no credentials: send Authorization: Bearer <token>, or Basic with an API key")
	}
	scheme, value, _ := strings.Cut(header, " ")
	value = strings.TrimSpace(value)
	switch strings.ToLower(scheme) {
	case "bearer", "token":
		if user, ok := apiKeyUser(value); ok {
			return a.verifyAPIKey(user, value, gate)
		}
		return a.verifyToken(value)
	case "basic":
		user, secret, ok := r.BasicAuth()
		if !ok {
			return Principal{}, refuse("malformed", "malformed Basic credentials")
		}
		if looksLikeJWT(secret) {
			return a.verifyToken(secret)
		}
		if named, ok := apiKeyUser(secret); ok {
			user = named // the secret names its key: the user is ignored, as for a JWT
		}
		return a.verifyAPIKey(user, secret, gate)
	}
	return Principal{}, refuse("malformed", "unsupported authorization scheme %q", scheme)
}

func looksLikeJWT(s string) bool {
	return strings.HasPrefix(s, "eyJ") && strings.Count(s, ".") == 2
}

// verifyAPIKey checks user ("org/name", or "name" when no other
// organization has a key of that name) and secret against the hashes in the
// config. Successes are remembered, so that a client polling page by page
// does not pay for argon2id on every request; anything else asks gate
// first. An unknown key costs as much as a wrong secret, and is answered
// the same, so that key names cannot be enumerated.
func (a *Authority) verifyAPIKey(user, secret string, gate Gate) (Principal, error) {
	sum := credentialSum("api-key\x00", user, "\x00", secret)
	if p, ok := a.remembered(sum); ok {
		return p, nil
	}
	orgID, key := a.apiKey(user)
	name := user
	if key != nil {
		name = orgID + "/" + key.Name
	}
	done := func(bool) {}
	if gate != nil {
		var err error
		if done, err = gate(truncate(name, 128)); err != nil {
			return Principal{}, err
		}
	}
	hash := decoyHash()
	if key != nil {
		hash = key.Hash
	}
	passed := checkAPIKey(hash, secret) && key != nil
	done(passed)
	if !passed {
		return Principal{}, &Refusal{Reason: "api_key", Message: "unknown API key or wrong secret (the user is org/keyname)",
			Claimed: "api-key " + truncate(name, 128), ClaimedOrg: truncate(orgID, 64)}
	}
	p := Principal{Org: orgID, Subject: apiKeySubject + key.Name, Roles: key.Roles, Method: MethodAPIKey}
	a.remember(sum, p, time.Time{})
	return p, nil
}

// apiKey finds the key user names: "org/name", or "name" when exactly one
// organization has a key of that name.
func (a *Authority) apiKey(user string) (string, *config.APIKey) {
	orgID, name, qualified := strings.Cut(user, "/")
	if !qualified {
		orgID, name = "", user
	}
	var found *config.APIKey
	for i := range a.cfg.Organizations {
		org := &a.cfg.Organizations[i]
		if qualified && org.ID != orgID {
			continue
		}
		for j := range org.APIKeys {
			if org.APIKeys[j].Name == name {
				if found != nil {
					return "", nil // ambiguous
				}
				found, orgID = &org.APIKeys[j], org.ID
			}
		}
	}
	return orgID, found
}

// credentialSum is the SHA-256 of parts, joined: what a checked credential
// is remembered by. A credential of usual size is joined on the stack (it
// is hashed on every request).
func credentialSum(parts ...string) [sha256.Size]byte {
	var buf [1024]byte
	b := buf[:0]
	for _, p := range parts {
		b = append(b, p...)
	}
	return sha256.Sum256(b)
}

// remembered returns the principal of a credential checked before, if it
// is still good.
func (a *Authority) remembered(sum [sha256.Size]byte) (Principal, bool) {
	a.mu.Lock()
	v, ok := a.verified[sum]
	a.mu.Unlock()
	if !ok || !v.until.IsZero() && !time.Now().Before(v.until) {
		return Principal{}, false
	}
	return v.principal, true
}

// remember records a credential that passed every check, good until until
// (zero: as long as this Authority, that is until the config changes).
func (a *Authority) remember(sum [sha256.Size]byte, p Principal, until time.Time) {
	a.mu.Lock()
	if len(a.verified) >= maxVerified {
		clear(a.verified)
	}
	a.verified[sum] = verified{principal: p, until: until}
	a.mu.Unlock()
}

// fromCertificate maps a verified client certificate to the organization
// the config names for its subject or one of its SANs.
func (a *Authority) fromCertificate(cert *x509.Certificate) (Principal, error) {
	sans := slices.Concat(cert.DNSNames, cert.EmailAddresses)
	for _, u := range cert.URIs {
		sans = append(sans, u.String())
	}
	for _, cc := range a.cfg.TLS.ClientCerts {
		if cc.Subject != "" && cc.Subject == cert.Subject.String() || cc.SAN != "" && slices.Contains(sans, cc.SAN) {
			subject := cert.Subject.CommonName
			if subject == "" {
				subject = cert.Subject.String()
			}
			return Principal{Org: cc.Org, Subject: subject, Roles: cc.Roles, Method: MethodMTLS}, nil
		}
	}
	return Principal{}, &Refusal{Reason: "client_certificate", Message: fmt.Sprintf("client certificate %q is not registered with any organization", truncate(cert.Subject.String(), maxShown)),
		Claimed: "certificate " + truncate(cert.Subject.String(), 200)}
}

// Challenges implements Authenticator.
func (a *Authority) Challenges() []string {
	challenges := []string{`Bearer realm="taxiihub"`}
	for _, org := range a.cfg.Organizations {
		if len(org.APIKeys) > 0 {
			return append(challenges, `Basic realm="taxiihub"`)
		}
	}
	return challenges
}

// CanRead implements Policy: the read role, and the organization in the
// collection's read list.
func (a *Authority) CanRead(p Principal, collectionID string) bool {
	col := a.cfg.Collection(collectionID)
	return col != nil && p.Has(config.RoleRead) && a.listed(p, col.Read)
}

// CanWrite implements Policy: the write role, and the organization in the
// collection's write list.
func (a *Authority) CanWrite(p Principal, collectionID string) bool {
	col := a.cfg.Collection(collectionID)
	return col != nil && p.Has(config.RoleWrite) && a.listed(p, col.Write)
}

func (a *Authority) listed(p Principal, orgs []string) bool {
	if a.cfg.Auth.Mode == "none" {
		return true
	}
	return p.Org != "" && (slices.Contains(orgs, "*") || slices.Contains(orgs, p.Org))
}

// CheckObject implements Policy. A member's identity object is its own:
// only that member, or an admin, posts versions of it.
func (a *Authority) CheckObject(p Principal, collectionID string, m stix.Meta) error {
	for _, org := range a.cfg.Organizations {
		if p.Org == "" || org.ID == p.Org {
			continue
		}
		identity := stix.CanonicalID(org.Identity)
		switch {
		case m.ID == identity && !p.Has(config.RoleAdmin):
			return fmt.Errorf("id: %s is the identity of organization %s; only %s posts it", m.ID, org.ID, org.ID)
		case m.CreatedByRef == identity:
			return fmt.Errorf("created_by_ref: %s is the identity of organization %s; you post as %s", m.CreatedByRef, org.ID, p.Org)
		}
	}
	col := a.cfg.Collection(collectionID)
	if col == nil || col.MaxTLP == "" {
		return nil
	}
	ceiling, ok := stix.ParseTLP(col.MaxTLP)
	if !ok { // config.Validate refuses it: never store what cannot be checked
		return fmt.Errorf("the collection's max_tlp %q is not a TLP level", col.MaxTLP)
	}
	for _, ref := range m.MarkingRefs {
		if level, ok := stix.TLPOf(ref); ok && level > ceiling {
			return fmt.Errorf("object_marking_refs: %s (%s) is above this collection's ceiling, %s", level, ref, ceiling)
		}
	}
	for _, ref := range m.GranularMarkingRefs {
		if level, ok := stix.TLPOf(ref); ok && level > ceiling {
			return fmt.Errorf("granular_markings: %s (%s) is above this collection's ceiling, %s", level, ref, ceiling)
		}
	}
	return nil
}
