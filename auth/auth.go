// Package auth owns who a caller is and what it may do: the Principal a
// request authenticates as (from a JWT signed by the hub or by a member
// organization's key, within that key's role ceiling; from an API key; from
// a client certificate), token issuing, and the collection policy (read and
// write lists, members' identities, TLP ceilings). It knows nothing of HTTP
// routing or of storage, and imports only config and stix.
package auth

import (
	"errors"
	"net/http"
	"slices"

	"github.com/taxiihub/taxiihub/stix"
)

// How a principal authenticated.
const (
	MethodNone   = "none"
	MethodHubJWT = "jwt-hub"
	MethodOrgJWT = "jwt-org"
	MethodAPIKey = "api-key"
	MethodMTLS   = "mtls"
)

// Subjects the hub gives principals that have no token: a token's sub may
// not pass for them.
const (
	apiKeySubject    = "api-key:" // + the key's name
	anonymousSubject = "anonymous"
)

// Principal is an authenticated caller.
type Principal struct {
	Org     string   // organization id from the config; "" when authentication is off
	Subject string   // the person or system within Org
	Roles   []string // a subset of read, write, audit, admin
	TokenID string   // jti of the token used, if any
	Method  string   // how it authenticated: none, jwt-hub, jwt-org, api-key, mtls
}

// Has reports whether p holds role.
func (p Principal) Has(role string) bool { return slices.Contains(p.Roles, role) }

// ErrUnauthenticated is wrapped by every authentication failure. The
// wrapping message says what was wrong and is safe to show the caller: it
// never contains a secret or key material.
var ErrUnauthenticated = errors.New("authentication failed")

// Authenticator establishes the principal behind a request.
type Authenticator interface {
	// Authenticate asks gate before it checks an API key's secret, unless
	// the same credentials passed before.
	Authenticate(r *http.Request, gate Gate) (Principal, error)
	// Challenges are the WWW-Authenticate values of a 401.
	Challenges() []string
}

// Gate is asked before an API key's secret is checked: it gets the key
// ("org/name") and returns done, to be told whether the check passed, or an
// error that refuses the request unchecked (it is returned as is). A nil
// Gate lets every check run (tools that check one credential).
type Gate func(apiKey string) (done func(passed bool), err error)

// Policy decides access to collections and to what may be posted in them.
type Policy interface {
	CanRead(p Principal, collectionID string) bool
	CanWrite(p Principal, collectionID string) bool
	// CheckObject refuses an object p may not post to the collection: one
	// claiming another organization's identity, or marked above the
	// collection's TLP ceiling.
	CheckObject(p Principal, collectionID string, m stix.Meta) error
}
