package stix

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// A check validates one property value and reports what is wrong with it
// at the validator's place.
type check func(v *validator, val any)

// maxInt is the largest integer STIX (and JSON numbers in practice) carry
// exactly: 2^53 - 1.
const maxInt = 1<<53 - 1

func str(v *validator, val any) {
	if _, ok := val.(string); !ok {
		v.bad("must be a string, got %s", jsonKind(val))
	}
}

func boolean(v *validator, val any) {
	if _, ok := val.(bool); !ok {
		v.bad("must be true or false, got %s", jsonKind(val))
	}
}

// integer accepts whole numbers in [lo, hi].
func integer(lo, hi float64) check {
	return func(v *validator, val any) {
		n, ok := val.(float64)
		switch {
		case !ok:
			v.bad("must be an integer, got %s", jsonKind(val))
		case n != math.Trunc(n):
			v.bad("must be an integer, got %v", n)
		case n < lo || n > hi:
			v.bad("must be between %.0f and %.0f, got %.0f", lo, hi, n)
		}
	}
}

// number accepts any number in [lo, hi].
func number(lo, hi float64) check {
	return func(v *validator, val any) {
		n, ok := val.(float64)
		switch {
		case !ok:
			v.bad("must be a number, got %s", jsonKind(val))
		case n < lo || n > hi:
			v.bad("must be between %v and %v, got %v", lo, hi, n)
		}
	}
}

func timestamp(v *validator, val any) {
	s, ok := val.(string)
	if !ok {
		v.bad("must be a timestamp string, got %s", jsonKind(val))
		return
	}
	if _, err := ParseTimestamp(s); err != nil {
		v.bad("%v", err)
	}
}

// timestampMs is a timestamp with at least millisecond precision, as
// created and modified must be.
func timestampMs(v *validator, val any) {
	s, ok := val.(string)
	if _, err := ParseTimestamp(s); !ok || err != nil {
		timestamp(v, val) // says what is wrong
		return
	}
	if dot := strings.LastIndexByte(s, '.'); dot < 0 || len(s)-dot-2 < 3 {
		v.bad("%q needs at least millisecond precision (e.g. 2020-01-02T03:04:05.000Z)", s)
	}
}

// enum accepts one of a closed set of strings.
func enum(values ...string) check {
	return func(v *validator, val any) {
		s, ok := val.(string)
		if !ok {
			v.bad("must be a string, got %s", jsonKind(val))
		} else if !slices.Contains(values, s) {
			v.bad("%q is not one of %s", s, strings.Join(values, ", "))
		}
	}
}

// listOf accepts a non-empty list whose items pass each.
func listOf(each check) check {
	return func(v *validator, val any) {
		list, ok := val.([]any)
		switch {
		case !ok:
			v.bad("must be a list, got %s", jsonKind(val))
		case len(list) == 0:
			v.bad("must not be an empty list (leave the property out instead)")
		default:
			for i, item := range list {
				v.item(i, each, item)
			}
		}
	}
}

var strList = listOf(str)

// ref accepts an identifier whose type is one of types (any type when
// types is empty).
func ref(types ...string) check {
	return refTo(func(typ string) bool { return len(types) == 0 || slices.Contains(types, typ) }, strings.Join(types, ", "))
}

// refTo accepts an identifier whose type passes allowed (described by want).
func refTo(allowed func(typ string) bool, want string) check {
	return func(v *validator, val any) {
		s, ok := val.(string)
		if !ok {
			v.bad("must be an identifier string, got %s", jsonKind(val))
			return
		}
		typ, err := SplitID(s)
		if err != nil {
			v.bad("%v", err)
		} else if !allowed(typ) {
			v.bad("%s refers to a %s; it must refer to %s", s, typ, want)
		}
	}
}

func refs(types ...string) check { return listOf(ref(types...)) }

var (
	identityRef  = ref("identity")
	markingRefs  = refs("marking-definition")
	softwareRef  = ref("software")
	observableTo = refTo(isObservable, "a cyber-observable")
)

// dict accepts a non-empty JSON object with valid keys.
func dict(v *validator, val any) {
	m, ok := val.(jsonObject)
	if !ok {
		v.bad("must be a dictionary (JSON object), got %s", jsonKind(val))
		return
	}
	if len(m) == 0 {
		v.bad("must not be an empty dictionary (leave the property out instead)")
	}
	for _, e := range m {
		if k := e.name; !dictKey.MatchString(k) {
			v.bad("key %q must be 1-250 ASCII letters, digits, '_' or '-'", k)
		}
	}
}

var dictKey = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,250}$`)

// headerFields accepts a dictionary of header fields (an email's
// additional_header_fields, an HTTP request's request_header). STIX 2.1
// says each value MUST be a list of strings, so that a repeated header
// keeps every value; its own examples give plain strings, and clients copy
// them. A string is accepted with a warning; anything else is refused.
func headerFields(v *validator, val any) {
	dict(v, val)
	m, _ := val.(jsonObject)
	for _, e := range m {
		k, field := e.name, e.value
		switch field.(type) {
		case string:
			v.warnIn(k, "should be a list of strings (STIX 2.1: a header may repeat); a string is accepted")
		case []any:
			v.member(k, strList, field)
		default:
			v.badIn(k, "must be a list of strings, got %s", jsonKind(field))
		}
	}
}

// object accepts a JSON object whose known properties pass their checks and
// whose required ones are present.
func object(props map[string]check, required ...string) check {
	return func(v *validator, val any) {
		m, ok := val.(jsonObject)
		if !ok {
			v.bad("must be a JSON object, got %s", jsonKind(val))
			return
		}
		for _, r := range required {
			if _, ok := m.lookup(r); !ok {
				v.badIn(r, "required property is missing")
			}
		}
		for _, e := range m {
			if c, ok := props[e.name]; ok {
				v.member(e.name, c, e.value)
			}
		}
	}
}

// hashFormats are the formats of the hash algorithms STIX and its pattern
// validator know, by name uppercased without '-' (SHA-256 is SHA256).
var hashFormats = map[string]*regexp.Regexp{
	"MD5":       hexDigits(32),
	"SHA1":      hexDigits(40),
	"SHA224":    hexDigits(56),
	"SHA256":    hexDigits(64),
	"SHA384":    hexDigits(96),
	"SHA512":    hexDigits(128),
	"SHA3224":   hexDigits(56),
	"SHA3256":   hexDigits(64),
	"SHA3384":   hexDigits(96),
	"SHA3512":   hexDigits(128),
	"RIPEMD160": hexDigits(40),
	"WHIRLPOOL": hexDigits(128),
	"SSDEEP":    regexp.MustCompile(`^[a-zA-Z0-9/+:.]{1,128}$`),
	"TLSH":      regexp.MustCompile(`^[a-zA-Z0-9]{70}$`),
}

func hexDigits(n int) *regexp.Regexp {
	return regexp.MustCompile(fmt.Sprintf(`^[a-fA-F0-9]{%d}$`, n))
}

// hashFormat returns the format of the algorithm name (any case, with or
// without '-').
func hashFormat(name string) (*regexp.Regexp, bool) {
	re, ok := hashFormats[strings.ReplaceAll(strings.ToUpper(name), "-", "")]
	return re, ok
}

// hashVocabulary is STIX's hash-algorithm-ov: the dictionary keys whose
// values the JSON schemas check.
var hashVocabulary = []string{"MD5", "SHA-1", "SHA-256", "SHA-512", "SHA3-256", "SHA3-512", "SSDEEP", "TLSH"}

var customHashKey = regexp.MustCompile(`^[a-zA-Z0-9_-]{3,250}$`)

// hashes accepts a hashes dictionary: known algorithms in their format,
// other names per the custom-key rule.
func hashes(v *validator, val any) {
	m, ok := val.(jsonObject)
	if !ok || len(m) == 0 {
		v.bad("must be a non-empty dictionary of hash algorithm to hash value")
		return
	}
	for _, e := range m {
		algo, h := e.name, e.value
		s, ok := h.(string)
		if !ok {
			v.badIn(algo, "must be a string, got %s", jsonKind(h))
			continue
		}
		if slices.Contains(hashVocabulary, algo) {
			if re, _ := hashFormat(algo); !re.MatchString(s) {
				v.badIn(algo, "%q is not a valid %s hash", s, algo)
			}
		} else if !customHashKey.MatchString(algo) {
			v.bad("hash algorithm name %q must be 3-250 ASCII letters, digits, '_' or '-'", algo)
		}
	}
}

var (
	hexForm    = regexp.MustCompile(`^([a-fA-F0-9]{2})+$`)
	base64Form = regexp.MustCompile(`^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)$`)
)

func hexString(v *validator, val any) {
	if s, ok := val.(string); !ok || !hexForm.MatchString(s) {
		v.bad("must be a string of hex digit pairs")
	}
}

func binary(v *validator, val any) {
	s, ok := val.(string)
	if !ok || !base64Form.MatchString(s) {
		v.bad("must be base64-encoded")
		return
	}
	if _, err := base64.StdEncoding.DecodeString(s); err != nil {
		v.bad("must be base64-encoded: %v", err)
	}
}

func urlString(v *validator, val any) {
	s, ok := val.(string)
	if !ok {
		v.bad("must be a URL string, got %s", jsonKind(val))
		return
	}
	if u, err := url.Parse(s); err != nil || u.Scheme == "" {
		v.bad("%q is not an absolute URL (RFC 3986)", s)
	}
}

var killChainPhases = listOf(object(map[string]check{"kill_chain_name": str, "phase_name": str}, "kill_chain_name", "phase_name"))

var (
	cveID   = regexp.MustCompile(`^CVE-\d{4}-(0\d{3}|[1-9]\d{3,})$`)
	capecID = regexp.MustCompile(`^CAPEC-\d+$`)
)

var externalReferenceProperties = object(map[string]check{"source_name": str, "description": str, "url": urlString, "external_id": str, "hashes": hashes}, "source_name")

func externalReference(v *validator, val any) {
	externalReferenceProperties(v, val)
	m, ok := val.(jsonObject)
	if !ok {
		return
	}
	_, d := m.lookup("description")
	_, u := m.lookup("url")
	id, hasID := m.get("external_id").(string)
	if !d && !u && !hasID {
		v.bad("needs at least one of description, url, external_id")
	}
	switch m.get("source_name") {
	case "cve":
		if !cveID.MatchString(id) {
			v.badIn("external_id", "a cve reference needs an external_id like CVE-2020-0001")
		}
	case "capec":
		if !capecID.MatchString(id) {
			v.badIn("external_id", "a capec reference needs an external_id like CAPEC-123")
		}
	}
}

var selectorForm = regexp.MustCompile(`^([a-z0-9_-]{3,250}(\.(\[\d+\]|[a-z0-9_-]{1,250}))*|id)$`)

var granularMarkingProperties = object(map[string]check{"selectors": listOf(selector), "marking_ref": ref("marking-definition"), "lang": str}, "selectors")

func granularMarking(v *validator, val any) {
	granularMarkingProperties(v, val)
	m, ok := val.(jsonObject)
	if !ok {
		return
	}
	_, hasRef := m.lookup("marking_ref")
	_, hasLang := m.lookup("lang")
	if hasRef == hasLang {
		v.bad("needs exactly one of marking_ref and lang")
	}
}

// selector accepts a granular marking's selector of something in the object.
func selector(v *validator, val any) {
	s, ok := val.(string)
	switch {
	case !ok:
		v.bad("must be a string, got %s", jsonKind(val))
	case !selectorForm.MatchString(s):
		v.bad("%q is not a selector such as description or external_references.[0].url", s)
	case !v.selects(s):
		v.bad("%q selects nothing in this object", s)
	}
}

// jsonKind names the JSON type of a decoded value, for messages.
func jsonKind(val any) string {
	switch val.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case jsonObject:
		return "an object"
	}
	return fmt.Sprintf("%T", val)
}
