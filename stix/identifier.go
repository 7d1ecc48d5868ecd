package stix

import (
	"fmt"
	"strings"
	"unicode/utf8"
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
func CanonicalID(id string) string {
	// Almost every id is canonical already: look eight bytes at a time.
	i := 0
	for ; i+8 <= len(id); i += 8 {
		w := id[i : i+8]
		if lowerByte[w[0]]&lowerByte[w[1]]&lowerByte[w[2]]&lowerByte[w[3]]&
			lowerByte[w[4]]&lowerByte[w[5]]&lowerByte[w[6]]&lowerByte[w[7]] == 0 {
			return strings.ToLower(id)
		}
	}
	for ; i < len(id); i++ {
		if lowerByte[id[i]] == 0 {
			return strings.ToLower(id)
		}
	}
	return id
}

// lowerByte is 1 for the bytes strings.ToLower leaves as they are: ASCII
// other than A-Z.
var lowerByte = func() (t [256]uint8) {
	for c := range utf8.RuneSelf {
		if c < 'A' || c > 'Z' {
			t[c] = 1
		}
	}
	return t
}()

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
	if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	if hexRun(s[:8])&hexRun(s[9:13])&hexRun(s[14:18])&hexRun(s[19:23])&hexRun(s[24:]) == 0 {
		return false
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

// hexRun is 1 when every byte of s is a hex digit, else 0.
func hexRun(s string) uint8 {
	all := uint8(1)
	for i := range len(s) {
		all &= hexByte[s[i]]
	}
	return all
}

// hexByte is 1 for the hex digits, either case.
var hexByte = func() (t [256]uint8) {
	for _, c := range "0123456789abcdefABCDEF" {
		t[c] = 1
	}
	return t
}()

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
