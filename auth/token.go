package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/taxiihub/taxiihub/config"
)

// claims are the claims of a hub token.
type claims struct {
	jwt.RegisteredClaims
	Org   string   `json:"org,omitempty"`
	Roles []string `json:"roles"`
}

// TokenRequest describes a token to issue.
type TokenRequest struct {
	Issuer   string
	Audience string
	Org      string
	Subject  string
	Roles    []string
	TTL      time.Duration
}

// IssueToken signs a token with key: the hub's Ed25519 key (kid "hub"), or
// an organization's private key registered under kid with its algorithm.
func IssueToken(req TokenRequest, key crypto.Signer, kid string) (string, error) {
	var method jwt.SigningMethod
	switch k := key.(type) {
	case ed25519.PrivateKey:
		method = jwt.SigningMethodEdDSA
	case *ecdsa.PrivateKey:
		method = jwt.SigningMethodES256
	case *rsa.PrivateKey:
		method = jwt.SigningMethodRS256
	default:
		return "", fmt.Errorf("cannot sign with a %T", k)
	}
	now := time.Now()
	jti := make([]byte, 16)
	rand.Read(jti)
	token := jwt.NewWithClaims(method, claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    req.Issuer,
			Subject:   req.Subject,
			Audience:  jwt.ClaimStrings{req.Audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(req.TTL)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        hex.EncodeToString(jti),
		},
		Org:   req.Org,
		Roles: req.Roles,
	})
	token.Header["kid"] = kid
	return token.SignedString(key)
}

// Refusal is an authentication failure: a short reason for metrics and a
// message safe to show the caller. It wraps ErrUnauthenticated.
type Refusal struct {
	Reason  string // e.g. expired, signature, unknown_key
	Message string
	// Claimed is the principal the credentials claimed, unverified (an API
	// key's org/name, "kid <kid>, sub <sub>", a certificate's subject), and
	// ClaimedOrg its organization: for the audit log, never for access.
	Claimed, ClaimedOrg string
}

func (r *Refusal) Error() string { return ErrUnauthenticated.Error() + ": " + r.Message }

// Unwrap makes a Refusal an ErrUnauthenticated.
func (r *Refusal) Unwrap() error { return ErrUnauthenticated }

// refuse builds a Refusal. Its string arguments come from the caller (a
// kid, an issuer, a scheme): each is cut to maxShown bytes, so that a
// refusal never carries more than a line of what was sent.
func refuse(reason, format string, args ...any) error {
	for i, arg := range args {
		if s, ok := arg.(string); ok {
			args[i] = truncate(s, maxShown)
		}
	}
	return &Refusal{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// maxShown bounds each piece of a request a refusal repeats.
const maxShown = 64

// truncate cuts s to at most n bytes, on a character boundary, marking the
// cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// claimedBy reads, without trusting them, who a refused token claims to
// be: its kid and sub, and the organization of its key or, for the hub's
// key, its org claim.
func (a *Authority) claimedBy(raw string) (claimed, org string) {
	head, payload, _ := strings.Cut(raw, ".")
	payload, _, _ = strings.Cut(payload, ".")
	var h struct {
		Kid string `json:"kid"`
	}
	var c struct {
		Sub string `json:"sub"`
		Org string `json:"org"`
	}
	if data, err := base64.RawURLEncoding.DecodeString(head); err == nil {
		json.Unmarshal(data, &h)
	}
	if data, err := base64.RawURLEncoding.DecodeString(payload); err == nil {
		json.Unmarshal(data, &c)
	}
	org = c.Org
	if k, ok := a.orgKeys[h.Kid]; ok {
		org = k.org
	}
	return truncate("kid "+h.Kid+", sub "+c.Sub, 256), truncate(org, 64)
}

// tokenHeader reads a JWT's header without trusting it: it only picks the
// key, whose pinned algorithm then decides. A header naming critical
// extensions is refused: the hub understands none (RFC 7515, 4.1.11).
func tokenHeader(raw string) (kid string, err error) {
	head, _, ok := strings.Cut(raw, ".")
	if !ok {
		return "", refuse("malformed", "malformed token")
	}
	data, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", refuse("malformed", "malformed token header")
	}
	var h struct {
		Kid  string           `json:"kid"`
		Crit *json.RawMessage `json:"crit"`
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return "", refuse("malformed", "malformed token header")
	}
	if h.Crit != nil {
		return "", refuse("malformed", "the token header names critical extensions (crit), which this hub does not understand")
	}
	return h.Kid, nil
}

// verifyToken checks every rule a token must meet and returns its principal.
// A token that passed is remembered until it expires, so that a client
// paging through a collection pays for the signature check once; the cache
// lives as long as the Authority, so a reload (a new revocation, say)
// starts it afresh.
func (a *Authority) verifyToken(raw string) (Principal, error) {
	sum := credentialSum("jwt\x00", raw)
	if p, ok := a.remembered(sum); ok {
		return p, nil
	}
	p, expires, err := a.checkToken(raw)
	if err != nil {
		var r *Refusal
		if errors.As(err, &r) {
			r.Claimed, r.ClaimedOrg = a.claimedBy(raw)
		}
		return Principal{}, err
	}
	a.remember(sum, p, expires.Add(a.cfg.Auth.Leeway))
	return p, nil
}

// checkToken verifies raw and returns its principal and expiry.
func (a *Authority) checkToken(raw string) (Principal, time.Time, error) {
	kid, err := tokenHeader(raw)
	if err != nil {
		return Principal{}, time.Time{}, err
	}
	key, alg, keyOrg, method, ceiling := any(a.hubKey), "EdDSA", "", MethodHubJWT, config.AllRoles()
	if kid != "" && kid != config.HubKeyID {
		k, ok := a.orgKeys[kid]
		if !ok {
			return Principal{}, time.Time{}, refuse("unknown_key", "unknown key id %q", kid)
		}
		key, alg, keyOrg, method, ceiling = k.pub, k.alg, k.org, MethodOrgJWT, k.roles
	}
	auth := a.cfg.Auth
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{alg}),
		jwt.WithAudience(auth.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(auth.Leeway),
	)
	var c claims
	if _, err := parser.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return key, nil }); err != nil {
		reason, message := tokenProblem(err, alg)
		return Principal{}, time.Time{}, refuse(reason, "%s", message)
	}
	switch {
	case method == MethodHubJWT && c.Issuer != auth.Issuer:
		return Principal{}, time.Time{}, refuse("issuer", "issuer %q is not this hub's", c.Issuer)
	case method == MethodOrgJWT && c.Issuer != keyOrg:
		return Principal{}, time.Time{}, refuse("issuer", "issuer %q is not the organization that owns key %q", c.Issuer, kid)
	case method == MethodOrgJWT && c.Org != "" && c.Org != keyOrg:
		return Principal{}, time.Time{}, refuse("issuer", "org %q is not the organization that owns key %q", c.Org, kid)
	case c.Subject == "":
		return Principal{}, time.Time{}, refuse("claims", "the token has no sub")
	case !validSubject(c.Subject):
		return Principal{}, time.Time{}, refuse("claims", "sub %q: at most 256 printable characters, and not a name the hub gives other principals (api-key:…, anonymous)", c.Subject)
	case c.ID == "":
		return Principal{}, time.Time{}, refuse("claims", "the token has no jti, so it could not be revoked")
	case slices.Contains(auth.Revoked, c.ID):
		return Principal{}, time.Time{}, refuse("revoked", "the token has been revoked")
	}
	issued := time.Now()
	if c.IssuedAt != nil {
		issued = c.IssuedAt.Time
	}
	if c.ExpiresAt.Sub(issued) > auth.MaxTokenTTL+auth.Leeway {
		return Principal{}, time.Time{}, refuse("lifetime", "the token lives longer than max_token_ttl (%v)", auth.MaxTokenTTL)
	}
	org := c.Org
	if method == MethodOrgJWT {
		org = keyOrg
	}
	if a.cfg.Organization(org) == nil {
		return Principal{}, time.Time{}, refuse("unknown_org", "unknown organization %q", org)
	}
	if err := checkRoles(c.Roles, ceiling, kid); err != nil {
		return Principal{}, time.Time{}, err
	}
	return Principal{Org: org, Subject: c.Subject, Roles: c.Roles, TokenID: c.ID, Method: method}, c.ExpiresAt.Time, nil
}

// validSubject reports whether a token's sub can stand in the audit log
// beside other principals without passing for one: printable, at most 256
// bytes, and neither an API key's subject nor the anonymous one.
func validSubject(sub string) bool {
	if len(sub) > 256 || strings.HasPrefix(sub, apiKeySubject) || sub == anonymousSubject {
		return false
	}
	return !strings.ContainsFunc(sub, func(r rune) bool { return !unicode.IsPrint(r) })
}

// checkRoles refuses a token that claims no role, an unknown one, or one
// above the ceiling of the key that signed it.
func checkRoles(roles, ceiling []string, kid string) error {
	if len(roles) == 0 {
		return refuse("roles", "the token grants no roles")
	}
	if err := config.CheckRoles(roles); err != nil {
		return refuse("roles", "roles: %s", err.Error())
	}
	for _, r := range roles {
		if !slices.Contains(ceiling, r) {
			return refuse("roles", "key %q may grant only %s; the token claims %s", kid, strings.Join(ceiling, ", "), r)
		}
	}
	return nil
}

// tokenProblem says why jwt refused a token (reason, message), without
// echoing it.
func tokenProblem(err error, alg string) (string, string) {
	wrongAlg := "the token is not signed with " + alg + ", the only algorithm accepted for its key"
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed", "malformed token"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if strings.Contains(err.Error(), "signing method") {
			return "algorithm", wrongAlg
		}
		return "signature", "invalid signature"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "algorithm", wrongAlg
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		for _, claim := range []string{"aud", "exp"} {
			if strings.Contains(err.Error(), claim+" claim") {
				return "claims", "the token has no " + claim
			}
		}
		return "claims", "the token lacks a required claim"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired", "the token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "not_yet_valid", "the token is not valid yet (nbf)"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "not_yet_valid", "the token was issued in the future (iat)"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "audience", "the token is for another audience"
	}
	return "invalid", "invalid token"
}
