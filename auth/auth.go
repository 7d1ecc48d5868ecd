// Package auth owns who a caller is and what it may do: the Principal a
// request authenticates as, the Authenticator that establishes it, and the
// Policy that decides which collections it may read or write. It knows
// nothing of HTTP routing or of storage.
package auth

import (
	"errors"
	"net/http"
	"slices"
)

// Roles a principal may hold.
const (
	RoleRead  = "read"
	RoleWrite = "write"
	RoleAudit = "audit"
	RoleAdmin = "admin"
)

// Principal is an authenticated caller.
type Principal struct {
	Org     string   // organization id from the config; "" when authentication is off
	Subject string   // the person or system within Org
	Roles   []string // a subset of read, write, audit, admin
	TokenID string   // jti of the token used, if any
	Method  string   // how it authenticated: none, jwt-hub, jwt-org, api-key
}

// Has reports whether p holds role.
func (p Principal) Has(role string) bool { return slices.Contains(p.Roles, role) }

// ErrUnauthenticated is wrapped by every authentication failure. Its
// message, and the wrapping one, is safe to show the caller.
var ErrUnauthenticated = errors.New("authentication failed")

// Authenticator establishes the principal behind a request.
type Authenticator interface {
	Authenticate(r *http.Request) (Principal, error)
}

// Policy decides access to collections.
type Policy interface {
	CanRead(p Principal, collectionID string) bool
	CanWrite(p Principal, collectionID string) bool
}

// Anonymous is the authenticator of auth mode "none": every request is the
// same principal, holding every role.
type Anonymous struct{}

// Authenticate implements Authenticator.
func (Anonymous) Authenticate(*http.Request) (Principal, error) {
	return Principal{Subject: "anonymous", Roles: []string{RoleRead, RoleWrite, RoleAudit, RoleAdmin}, Method: "none"}, nil
}

// RolePolicy grants reads to principals with the read role and writes to
// those with the write role, on every collection. It is the policy of auth
// mode "none".
type RolePolicy struct{}

// CanRead implements Policy.
func (RolePolicy) CanRead(p Principal, _ string) bool { return p.Has(RoleRead) }

// CanWrite implements Policy.
func (RolePolicy) CanWrite(p Principal, _ string) bool { return p.Has(RoleWrite) }
