package stix

import (
	"fmt"
	"strings"
)

// SplitID checks that id has the form "<type>--<UUID>" (RFC 4122 variant,
// versions 1 to 5) and returns its type part.
func SplitID(id string) (string, error) {
	typ, uuid, ok := strings.Cut(id, "--")
	if !ok {
		return "", fmt.Errorf("%q is not of the form <type>--<UUID>", id)
	}
	if !ValidTypeName(typ) {
		return "", fmt.Errorf("%q: %q is not a valid STIX type name", id, typ)
	}
	if !validUUID(uuid, '1', '5') {
		return "", fmt.Errorf("%q: %q is not an RFC 4122 UUID", id, uuid)
	}
	return typ, nil
}

// CanonicalID is the one form identifiers are compared and stored in: a
// STIX type is lowercase already, and a UUID's hex digits may be written in
// either case, so the canonical form is all lowercase. Two ids that differ
// only in case name the same object, the same identity, the same marking.
func CanonicalID(id string) string { return strings.ToLower(id) }

// ValidUUIDv4 reports whether s is a lowercase or uppercase RFC 4122 version-4 UUID,
// the form TAXII requires for collection and status ids.
func ValidUUIDv4(s string) bool {
	return validUUID(s, '4', '4')
}

// validUUID checks the 8-4-4-4-12 hex form, a version digit in [lo, hi] and
// the RFC 4122 variant.
func validUUID(s string, lo, hi byte) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	if s[14] < lo || s[14] > hi {
		return false
	}
	switch s[19] {
	case '8', '9', 'a', 'b', 'A', 'B':
		return true
	}
	return false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// ValidTypeName reports whether s follows the STIX rules for an object type
// name: ASCII lowercase letters, digits and hyphens, starting with a letter,
// no double or leading hyphen, 3 to 250 characters.
func ValidTypeName(s string) bool {
	if len(s) < 3 || len(s) > 250 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && s[i-1] != '-':
		default:
			return false
		}
	}
	return true
}
