package stix

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonObject is a decoded JSON object: its members in the order written.
// Validation looks a name up by a scan, which for objects of a few dozen
// members costs less than building a map.
type jsonObject []member

type member struct {
	name  string
	value any
}

// lookup returns the value of property name, and whether there is one.
func (o jsonObject) lookup(name string) (any, bool) {
	for i := range o {
		if o[i].name == name {
			return o[i].value, true
		}
	}
	return nil, false
}

// get returns the value of property name, nil when there is none.
func (o jsonObject) get(name string) any {
	v, _ := o.lookup(name)
	return v
}

// errDuplicateName reports an object that names a property twice: which
// of the two values counts depends on the reader.
var errDuplicateName = errors.New("a property is named twice")

// maxDepth bounds how deeply lists and objects nest (as jsontext does).
const maxDepth = 10000

// decodeObject decodes raw, one JSON object (RFC 8259, as strict as
// jsontext's defaults: valid UTF-8, no unpaired surrogate escapes, no name
// twice in an object), in one pass: JSON objects become jsonObject, lists
// []any, strings string, numbers float64, true and false bool, null nil.
// Strings share one copy of raw, made once.
func decodeObject(raw []byte) (jsonObject, error) {
	d := decoder{text: string(raw)}
	obj, refusal, err := d.element(0)
	if err == nil {
		if d.space(); d.pos < len(d.text) {
			err = d.fail("after the object")
		}
	}
	if err != nil {
		return nil, err
	}
	return obj, refusal
}

// decoder reads JSON from text, a copy of the bytes that its strings share.
type decoder struct {
	text string
	pos  int
	// strictErr is the first thing found that is well-formed JSON but
	// that the decoder refuses: a name twice in an object, invalid UTF-8,
	// an unpaired surrogate escape, a number out of range. Decoding goes
	// on to the end of the value.
	strictErr error
	// objectDepth is how deep the object that element decodes is.
	objectDepth int
	// members and items hold the members of the objects and the items of
	// the lists being decoded, innermost last. A finished object or list
	// moves its own into a share of a slab, so that decoding allocates
	// once per slab, not once (and more as it grows) per object and list.
	members    []member
	items      []any
	memberSlab slab[member]
	itemSlab   slab[any]
}

// slab hands out parts of larger allocations: the first small, for a
// single object, then doubling up to maxSlab, for an envelope's many.
type slab[T any] struct {
	free []T
	size int // of the latest allocation
}

// maxSlab is the most values a slab allocates at once: the members (or
// items) of a few realistic objects.
const maxSlab = 128

// keep copies values into a share of the slab of their own, of exactly
// their length and capacity.
func (s *slab[T]) keep(values []T) []T {
	n := len(values)
	if n == 0 {
		return nil
	}
	if n > len(s.free) {
		s.size = min(max(2*s.size, 16), maxSlab)
		s.free = make([]T, max(s.size, n))
	}
	kept := s.free[:n:n]
	copy(kept, values)
	s.free = s.free[n:]
	return kept
}

// refuse notes err as the decoding's strictErr, unless it has one.
func (d *decoder) refuse(err error) {
	if d.strictErr == nil {
		d.strictErr = err
	}
}

// element decodes the value at the position, depth lists and objects
// deep, as one object: err when the JSON itself is malformed (nothing
// after it can be read either), else refusal when the value is
// well-formed but not an object the decoder accepts.
func (d *decoder) element(depth int) (obj jsonObject, refusal, err error) {
	d.strictErr, d.objectDepth = nil, depth+1
	d.members, d.items = d.members[:0], d.items[:0]
	d.space()
	isObject := d.pos < len(d.text) && d.text[d.pos] == '{'
	val, err := d.value(depth)
	switch {
	case err != nil:
		return nil, nil, err
	case !isObject:
		return nil, errors.New("the top level is not a JSON object"), nil
	case d.strictErr != nil:
		return nil, d.strictErr, nil
	}
	return val.(jsonObject), nil, nil
}

// fail reports what is wrong at the decoder's position.
func (d *decoder) fail(what string) error {
	if d.pos >= len(d.text) {
		return fmt.Errorf("unexpected end of JSON input %s", what)
	}
	return fmt.Errorf("invalid character %q at byte offset %d %s", d.text[d.pos], d.pos, what)
}

func (d *decoder) space() {
	for d.pos < len(d.text) {
		switch d.text[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// value decodes the value at the position (after white space), depth
// lists and objects deep.
func (d *decoder) value(depth int) (any, error) {
	d.space()
	if d.pos == len(d.text) {
		return nil, d.fail("where a value was expected")
	}
	switch c := d.text[d.pos]; {
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.list(depth + 1)
	case c == '"':
		return d.str()
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	for _, lit := range []struct {
		text string
		val  any
	}{{"null", nil}, {"true", true}, {"false", false}} {
		if len(d.text)-d.pos >= len(lit.text) && d.text[d.pos:d.pos+len(lit.text)] == lit.text {
			d.pos += len(lit.text)
			return lit.val, nil
		}
	}
	return nil, d.fail("where a value was expected")
}

func (d *decoder) object(depth int) (any, error) {
	if empty, err := d.open(depth, '}'); empty || err != nil {
		return jsonObject(nil), err
	}
	base := len(d.members)
	var names map[string]bool // for objects too large to scan
	for more := true; more; {
		if d.space(); d.pos == len(d.text) || d.text[d.pos] != '"' {
			return nil, d.fail("where a property name was expected")
		}
		name, err := d.str()
		if err != nil {
			return nil, err
		}
		if named(d.members[base:], name, &names) {
			d.refuse(fmt.Errorf("%w: %q", errDuplicateName, name))
		}
		if d.space(); d.pos == len(d.text) || d.text[d.pos] != ':' {
			return nil, d.fail("after a property name")
		}
		d.pos++
		val, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		d.members = append(d.members, member{name, val})
		if more, err = d.more('}', "after a property value"); err != nil {
			return nil, err
		}
	}
	obj := jsonObject(d.memberSlab.keep(d.members[base:]))
	d.members = d.members[:base]
	return obj, nil
}

func (d *decoder) list(depth int) (any, error) {
	if empty, err := d.open(depth, ']'); empty || err != nil {
		return []any(nil), err
	}
	base := len(d.items)
	for more := true; more; {
		item, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		d.items = append(d.items, item)
		if more, err = d.more(']', "after a list item"); err != nil {
			return nil, err
		}
	}
	list := d.itemSlab.keep(d.items[base:])
	d.items = d.items[:base]
	return list, nil
}

// open steps into the list or object at the position, depth deep, and
// past its end too when it is empty (closing is its closing byte).
func (d *decoder) open(depth int, closing byte) (empty bool, err error) {
	if depth > maxDepth {
		return false, fmt.Errorf("nested more than %d deep", maxDepth)
	}
	d.pos++
	if d.space(); d.pos < len(d.text) && d.text[d.pos] == closing {
		d.pos++
		return true, nil
	}
	return false, nil
}

// more steps over what follows a member or an item: a comma, when another
// follows, or closing, at the end.
func (d *decoder) more(closing byte, after string) (bool, error) {
	if d.space(); d.pos < len(d.text) {
		switch d.text[d.pos] {
		case ',':
			d.pos++
			return true, nil
		case closing:
			d.pos++
			return false, nil
		}
	}
	return false, d.fail(after)
}

// named reports whether obj already has a member name; past 32 members it
// keeps their names in names, so that a huge object costs no scan per name.
func named(obj jsonObject, name string, names *map[string]bool) bool {
	if len(obj) < 32 {
		_, found := obj.lookup(name)
		return found
	}
	if *names == nil {
		*names = make(map[string]bool, 2*len(obj))
		for _, m := range obj {
			(*names)[m.name] = true
		}
	}
	found := (*names)[name]
	(*names)[name] = true
	return found
}

// str decodes the string at the position. One without escapes is a slice
// of the decoder's text; one with escapes is built.
func (d *decoder) str() (string, error) {
	d.pos++ // "
	start := d.pos
	for d.pos < len(d.text) {
		c := d.text[d.pos]
		if plainByte[c] == 1 {
			d.pos = skipPlain(d.text, d.pos+1)
			continue
		}
		switch {
		case c == '"':
			d.pos++
			return d.text[start : d.pos-1], nil
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return "", d.fail("in a string (control characters must be escaped)")
		case c < utf8.RuneSelf:
			d.pos++
		default:
			d.utf8Rune()
		}
	}
	return "", d.fail("in a string")
}

// skipPlain returns the position of the first byte of s from i that is not
// plain (len(s) if none): eight bytes at a time, one branch for them all.
func skipPlain(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		if plainByte[w[0]]&plainByte[w[1]]&plainByte[w[2]]&plainByte[w[3]]&
			plainByte[w[4]]&plainByte[w[5]]&plainByte[w[6]]&plainByte[w[7]] == 0 {
			break
		}
	}
	for i < len(s) && plainByte[s[i]] == 1 {
		i++
	}
	return i
}

// plainByte is 1 for the bytes a string holds as they are: not the quote,
// the backslash, a control character, or part of a multi-byte character.
var plainByte = func() (plain [256]uint8) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		if c != '"' && c != '\\' {
			plain[c] = 1
		}
	}
	return plain
}()

// utf8Rune steps over one multi-byte UTF-8 character, refusing invalid ones.
func (d *decoder) utf8Rune() {
	r, size := utf8.DecodeRuneInString(d.text[d.pos:])
	if r == utf8.RuneError && size == 1 {
		d.refuse(fmt.Errorf("invalid UTF-8 at byte offset %d in a string", d.pos))
	}
	d.pos += size
}

// escaped finishes a string from start whose first escape is at the position.
func (d *decoder) escaped(start int) (string, error) {
	b := []byte(d.text[start:d.pos])
	for d.pos < len(d.text) {
		c := d.text[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(b), nil
		case c == '\\':
			r, err := d.escape()
			if err != nil {
				return "", err
			}
			b = utf8.AppendRune(b, r)
		case c < 0x20:
			return "", d.fail("in a string (control characters must be escaped)")
		case c < utf8.RuneSelf:
			b = append(b, c)
			d.pos++
		default:
			from := d.pos
			d.utf8Rune()
			b = append(b, d.text[from:d.pos]...)
		}
	}
	return "", d.fail("in a string")
}

// escape decodes the escape sequence at the position: \" \\ \/ \b \f \n \r
// \t, \uXXXX, and a surrogate pair as two \u escapes.
func (d *decoder) escape() (rune, error) {
	if d.pos+1 >= len(d.text) {
		d.pos = len(d.text)
		return 0, d.fail("in a string")
	}
	d.pos += 2
	switch d.text[d.pos-1] {
	case '"':
		return '"', nil
	case '\\':
		return '\\', nil
	case '/':
		return '/', nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, err := d.hex4()
		if err != nil || !utf16.IsSurrogate(r) {
			return r, err
		}
		if r < 0xdc00 && d.pos+1 < len(d.text) && d.text[d.pos] == '\\' && d.text[d.pos+1] == 'u' {
			d.pos += 2
			low, err := d.hex4()
			if err != nil {
				return 0, err
			}
			if pair := utf16.DecodeRune(r, low); pair != utf8.RuneError {
				return pair, nil
			}
		}
		d.refuse(fmt.Errorf("invalid surrogate pair in a string before byte offset %d", d.pos))
		return utf8.RuneError, nil
	}
	d.pos--
	return 0, d.fail("in an escape sequence")
}

func (d *decoder) hex4() (rune, error) {
	if len(d.text)-d.pos < 4 {
		d.pos = len(d.text)
		return 0, d.fail("in a \\u escape")
	}
	n, err := strconv.ParseUint(d.text[d.pos:d.pos+4], 16, 16)
	if err != nil {
		return 0, d.fail("in a \\u escape")
	}
	d.pos += 4
	return rune(n), nil
}

// number decodes the number at the position: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number() (any, error) {
	start := d.pos
	if d.text[d.pos] == '-' {
		d.pos++
	}
	switch {
	case d.pos < len(d.text) && d.text[d.pos] == '0':
		d.pos++
	case !d.digits():
		return nil, d.fail("in a number")
	}
	if d.pos < len(d.text) && d.text[d.pos] == '.' {
		d.pos++
		if !d.digits() {
			return nil, d.fail("in a number")
		}
	}
	if d.pos < len(d.text) && (d.text[d.pos] == 'e' || d.text[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.text) && (d.text[d.pos] == '+' || d.text[d.pos] == '-') {
			d.pos++
		}
		if !d.digits() {
			return nil, d.fail("in a number")
		}
	}
	n, err := strconv.ParseFloat(d.text[start:d.pos], 64)
	if err != nil {
		d.refuse(fmt.Errorf("the number %s is out of range", d.text[start:d.pos]))
	}
	return n, nil
}

// digits steps over one or more digits, and reports whether there was one.
func (d *decoder) digits() bool {
	start := d.pos
	for d.pos < len(d.text) && d.text[d.pos] >= '0' && d.text[d.pos] <= '9' {
		d.pos++
	}
	return d.pos > start
}
