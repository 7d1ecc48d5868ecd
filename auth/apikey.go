package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for API key hashes (OWASP's minimum for argon2id).
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// NewAPIKey makes a random secret for API key name of organization org, and
// its argon2id hash in PHC form ($argon2id$v=19$m=…,t=…,p=…$salt$hash),
// which is all the config keeps. The secret names its key,
// thk_<org>.<name>.<random>, so that it works alone: as a bearer token, for
// clients whose only setting is a static key (Elastic, OpenCTI, MISP), as
// well as the password of Basic auth.
func NewAPIKey(org, name string) (secret, hash string) {
	raw := make([]byte, 32)
	rand.Read(raw)
	secret = apiKeyPrefix + org + "." + name + "." + base64.RawURLEncoding.EncodeToString(raw)
	return secret, HashAPIKey(secret)
}

const apiKeyPrefix = "thk_"

// apiKeyUser is the key ("org/name") a self-identifying secret names, if it
// is one. Organization ids and key names have no '.', base64url has none.
func apiKeyUser(secret string) (string, bool) {
	rest, ok := strings.CutPrefix(secret, apiKeyPrefix)
	if !ok {
		return "", false
	}
	org, rest, ok1 := strings.Cut(rest, ".")
	name, random, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || org == "" || name == "" || random == "" {
		return "", false
	}
	return org + "/" + name, true
}

// HashAPIKey hashes secret with a fresh salt.
func HashAPIKey(secret string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	sum := argon2.IDKey([]byte(secret), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(sum))
}

// argonSlots bounds how many argon2id checks run at once: each takes 19
// MiB, and a burst of wrong secrets must not take the hub's memory with it.
var argonSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

// decoyHash is checked when a key is unknown, so that a miss costs the same
// time whether the key name exists or not.
var decoyHash = sync.OnceValue(func() string { return HashAPIKey("decoy") })

// checkAPIKey reports whether secret matches an argon2id PHC hash.
func checkAPIKey(hash, secret string) bool {
	argonSlots <- struct{}{}
	defer func() { <-argonSlots }()
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var memory, time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil || memory > 1<<20 || time > 10 || threads == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(secret), salt, time, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
