package stix

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// patternError is a STIX pattern that does not parse: what was wrong and at
// which character (0-based, counted in Unicode characters).
type patternError struct {
	Offset  int
	Message string
}

func (e *patternError) Error() string {
	return fmt.Sprintf("invalid STIX pattern at character %d: %s", e.Offset, e.Message)
}

// checkPattern parses a STIX 2.1 pattern (the full grammar of STIXPattern.g4)
// and applies the checks of the OASIS pattern validator: one qualifier of
// each kind per observation, and hash literals that fit their algorithm. It
// returns a *patternError for a pattern that must be refused, and warnings
// for what is grammatical but dubious (comparisons joined by AND on
// different object types, REPEATS 0, WITHIN 0, START not before STOP,
// negative list indexes, object types STIX does not define).
func checkPattern(pattern string) (warnings []string, err error) {
	p := &patternParser{src: pattern}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*patternError)
			if !ok {
				panic(r)
			}
			pe.Offset = utf8.RuneCountInString(pattern[:pe.Offset])
			warnings, err = nil, pe
		}
	}()
	p.next()
	p.observationExpr()
	if p.tok.kind != tokEOF {
		p.fail("unexpected %s after the end of the pattern", p.tok)
	}
	return p.warnings, nil
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokPunct
	tokOp
	tokIdent
	tokKeyword
	tokString
	tokInt
	tokFloat
	tokBool
	tokTimestamp
	tokHex
	tokBinary
)

type token struct {
	kind tokKind
	text string // the token's source text (string literals unescaped)
	pos  int    // byte offset in the pattern
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "the end of the pattern"
	case tokString:
		return fmt.Sprintf("string '%s'", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

var keywords = []string{"AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET", "ISSUBSET",
	"EXISTS", "IN", "START", "STOP", "SECONDS", "WITHIN", "REPEATS", "TIMES", "LAST"}

type patternParser struct {
	src      string
	pos      int // byte offset of the next unread byte
	tok      token
	warnings []string
}

func (p *patternParser) fail(format string, args ...any) {
	panic(&patternError{Offset: p.tok.pos, Message: fmt.Sprintf(format, args...)})
}

func (p *patternParser) failAt(pos int, format string, args ...any) {
	panic(&patternError{Offset: pos, Message: fmt.Sprintf(format, args...)})
}

func (p *patternParser) warn(format string, args ...any) {
	p.warnings = append(p.warnings, fmt.Sprintf(format, args...))
}

// next reads the next token into p.tok.
func (p *patternParser) next() {
	p.skipSpace()
	start := p.pos
	if p.pos >= len(p.src) {
		p.tok = token{kind: tokEOF, pos: start}
		return
	}
	c := p.src[p.pos]
	switch {
	case c == '.' && p.pos+1 < len(p.src) && p.src[p.pos+1] >= '0' && p.src[p.pos+1] <= '9':
		p.number()
	case strings.IndexByte("[]():.,*", c) >= 0:
		p.pos++
		p.tok = token{kind: tokPunct, text: string(c), pos: start}
	case strings.IndexByte("=!<>", c) >= 0:
		for _, op := range []string{"==", "!=", "<>", "<=", ">=", "=", "<", ">"} {
			if strings.HasPrefix(p.src[p.pos:], op) {
				p.pos += len(op)
				p.tok = token{kind: tokOp, text: op, pos: start}
				return
			}
		}
		p.failAt(start, "unexpected character %q", c)
	case c == '\'':
		p.tok = token{kind: tokString, text: p.quoted(), pos: start}
	case (c == 't' || c == 'h' || c == 'b') && p.pos+1 < len(p.src) && p.src[p.pos+1] == '\'':
		p.pos++
		text := p.quoted()
		kind := tokBinary
		switch c {
		case 't':
			kind = tokTimestamp
		case 'h':
			kind = tokHex
		}
		p.tok = token{kind: kind, text: text, pos: start}
		p.checkLiteral()
	case c == '+' || c == '-' || c == '.' || c >= '0' && c <= '9':
		p.number()
	case c == '_' || c < utf8.RuneSelf && unicode.IsLetter(rune(c)):
		for p.pos < len(p.src) && (isIdentByte(p.src[p.pos]) || p.src[p.pos] == '-') {
			p.pos++
		}
		text := p.src[start:p.pos]
		kind := tokIdent
		switch {
		case text == "true" || text == "false":
			kind = tokBool
		case slices.Contains(keywords, text):
			kind = tokKeyword
		}
		p.tok = token{kind: kind, text: text, pos: start}
	default:
		r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
		p.failAt(start, "unexpected character %q", r)
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// skipSpace skips whitespace (Unicode spaces included) and comments.
func (p *patternParser) skipSpace() {
	for p.pos < len(p.src) {
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		switch {
		case unicode.IsSpace(r):
			p.pos += size
		case strings.HasPrefix(p.src[p.pos:], "/*"):
			end := strings.Index(p.src[p.pos+2:], "*/")
			if end < 0 {
				p.failAt(p.pos, "comment is not closed with */")
			}
			p.pos += 2 + end + 2
		case strings.HasPrefix(p.src[p.pos:], "//"):
			end := strings.IndexByte(p.src[p.pos:], '\n')
			if end < 0 {
				p.pos = len(p.src)
			} else {
				p.pos += end + 1
			}
		default:
			return
		}
	}
}

// quoted reads a '...' literal at p.pos; inside, only \' and \\ are escapes.
func (p *patternParser) quoted() string {
	start := p.pos
	p.pos++ // the opening quote
	// Most strings have no escape: they are a slice of the pattern.
	if n := strings.IndexAny(p.src[p.pos:], `'\`); n >= 0 && p.src[p.pos+n] == '\'' {
		s := p.src[p.pos : p.pos+n]
		p.pos += n + 1
		return s
	}
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch c {
		case '\'':
			p.pos++
			return b.String()
		case '\\':
			if p.pos+1 < len(p.src) && (p.src[p.pos+1] == '\'' || p.src[p.pos+1] == '\\') {
				b.WriteByte(p.src[p.pos+1])
				p.pos += 2
				continue
			}
			p.failAt(p.pos, `only \' and \\ are escapes in a pattern string`)
		}
		b.WriteByte(c)
		p.pos++
	}
	p.failAt(start, "string is not closed with '")
	return ""
}

// number reads an integer or a float: an optional sign, no leading zeros on
// integers, and digits after any decimal point.
func (p *patternParser) number() {
	start := p.pos
	if c := p.src[p.pos]; c == '+' || c == '-' {
		p.pos++
	}
	digits := p.pos
	for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
		p.pos++
	}
	intPart := p.src[digits:p.pos]
	if p.pos < len(p.src) && p.src[p.pos] == '.' && p.pos+1 < len(p.src) && p.src[p.pos+1] >= '0' && p.src[p.pos+1] <= '9' {
		p.pos++
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
		}
		p.tok = token{kind: tokFloat, text: p.src[start:p.pos], pos: start}
		return
	}
	switch {
	case intPart == "":
		p.failAt(start, "%q is not a number", p.src[start:min(p.pos+1, len(p.src))])
	case len(intPart) > 1 && intPart[0] == '0':
		p.failAt(start, "integer %s has a leading zero", p.src[start:p.pos])
	}
	p.tok = token{kind: tokInt, text: p.src[start:p.pos], pos: start}
}

var (
	patternTimestamp = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?Z$`)
	hexLiteral       = regexp.MustCompile(`^([a-fA-F0-9]{2})*$`)
)

// checkLiteral checks the body of a t”, h” or b” literal.
func (p *patternParser) checkLiteral() {
	t := p.tok
	switch t.kind {
	case tokTimestamp:
		if !patternTimestamp.MatchString(t.text) {
			p.fail("t'%s' is not a timestamp (YYYY-MM-DDTHH:MM:SS[.s+]Z)", t.text)
		}
	case tokHex:
		if !hexLiteral.MatchString(t.text) {
			p.fail("h'%s' is not pairs of hex digits", t.text)
		}
	case tokBinary:
		if !base64Form.MatchString(t.text) {
			p.fail("b'%s' is not base64", t.text)
		}
	}
}

func (p *patternParser) isKeyword(kw string) bool {
	return p.tok.kind == tokKeyword && p.tok.text == kw
}
func (p *patternParser) isPunct(s string) bool { return p.tok.kind == tokPunct && p.tok.text == s }

func (p *patternParser) expectPunct(s string) {
	if !p.isPunct(s) {
		p.fail("expected %q, found %s", s, p.tok)
	}
	p.next()
}

func (p *patternParser) expectKeyword(kw string) {
	if !p.isKeyword(kw) {
		p.fail("expected %s, found %s", kw, p.tok)
	}
	p.next()
}

// observationExpr: obsOr { FOLLOWEDBY obsOr }.
func (p *patternParser) observationExpr() {
	p.observationOr()
	for p.isKeyword("FOLLOWEDBY") {
		p.next()
		p.observationOr()
	}
}

func (p *patternParser) observationOr() {
	p.observationAnd()
	for p.isKeyword("OR") {
		p.next()
		p.observationAnd()
	}
}

func (p *patternParser) observationAnd() {
	p.qualified()
	for p.isKeyword("AND") {
		p.next()
		p.qualified()
	}
}

// qualified is an observation with its qualifiers, at most one of each kind.
func (p *patternParser) qualified() {
	p.observationAtom()
	seen := map[string]bool{}
	for p.tok.kind == tokKeyword && (p.tok.text == "WITHIN" || p.tok.text == "REPEATS" || p.tok.text == "START") {
		kw := p.tok.text
		if seen[kw] {
			p.fail("a second %s qualifier on the same observation", kw)
		}
		seen[kw] = true
		p.next()
		switch kw {
		case "WITHIN":
			if (p.tok.kind != tokInt && p.tok.kind != tokFloat) || strings.HasPrefix(p.tok.text, "-") {
				p.fail("WITHIN needs a positive number of seconds, found %s", p.tok)
			}
			if isZero(p.tok.text) {
				p.warn("WITHIN 0 SECONDS can never match")
			}
			p.next()
			p.expectKeyword("SECONDS")
		case "REPEATS":
			if p.tok.kind != tokInt || strings.HasPrefix(p.tok.text, "-") {
				p.fail("REPEATS needs a positive integer, found %s", p.tok)
			}
			if isZero(p.tok.text) {
				p.warn("REPEATS 0 TIMES is meaningless")
			}
			p.next()
			p.expectKeyword("TIMES")
		case "START":
			start := p.timestampLiteral("START")
			p.expectKeyword("STOP")
			stop := p.timestampLiteral("STOP")
			if ts, err1 := ParseTimestamp(start); err1 == nil {
				if te, err2 := ParseTimestamp(stop); err2 == nil && !te.After(ts) {
					p.warn("STOP %s is not after START %s", stop, start)
				}
			}
		}
	}
}

func isZero(num string) bool {
	return strings.Trim(strings.TrimPrefix(num, "+"), "0.") == ""
}

func (p *patternParser) timestampLiteral(after string) string {
	if p.tok.kind != tokTimestamp {
		p.fail("%s needs a timestamp t'...', found %s", after, p.tok)
	}
	text := p.tok.text
	p.next()
	return text
}

// observationAtom: '[' comparison ']' or '(' observationExpr ')'.
func (p *patternParser) observationAtom() {
	switch {
	case p.isPunct("["):
		p.next()
		if p.isPunct("]") {
			p.fail("an observation needs a comparison between [ and ]")
		}
		p.comparisonOr()
		p.expectPunct("]")
	case p.isPunct("("):
		p.next()
		p.observationExpr()
		p.expectPunct(")")
	default:
		p.fail("expected an observation [ ... ] or ( ... ), found %s", p.tok)
	}
}

// comparisonOr returns the object types its comparisons can match: the
// union over OR.
func (p *patternParser) comparisonOr() []string {
	types := p.comparisonAnd()
	for p.isKeyword("OR") {
		p.next()
		types = union(types, p.comparisonAnd())
	}
	return types
}

// comparisonAnd returns the intersection over AND, and warns when it is empty.
func (p *patternParser) comparisonAnd() []string {
	types := p.propTest()
	for p.isKeyword("AND") {
		p.next()
		more := p.propTest()
		both := intersect(types, more)
		if len(both) == 0 {
			p.warn("comparisons joined by AND refer to different object types (%s and %s); no single object can match", strings.Join(types, ", "), strings.Join(more, ", "))
			both = union(types, more) // warn once
		}
		types = both
	}
	return types
}

// propTest is one comparison, or a parenthesized group of them.
func (p *patternParser) propTest() []string {
	if p.isPunct("(") {
		p.next()
		types := p.comparisonOr()
		p.expectPunct(")")
		return types
	}
	if p.isKeyword("NOT") {
		p.next()
		if !p.isKeyword("EXISTS") {
			p.fail("NOT goes after the object path (file:name NOT = 'x') or before EXISTS")
		}
	}
	if p.isKeyword("EXISTS") {
		p.next()
		typ, _ := p.objectPath()
		return []string{typ}
	}
	typ, path := p.objectPath()
	if p.isKeyword("NOT") {
		p.next()
	}
	op := p.tok
	switch {
	case op.kind == tokOp && (op.text == "=" || op.text == "==" || op.text == "!=" || op.text == "<>"):
		p.next()
		p.hashLiteral(path, p.primitive(true))
	case op.kind == tokOp:
		p.next()
		p.primitive(false)
	case p.isKeyword("IN"):
		p.next()
		p.expectPunct("(")
		if !p.isPunct(")") {
			p.hashLiteral(path, p.primitive(true))
			for p.isPunct(",") {
				p.next()
				p.hashLiteral(path, p.primitive(true))
			}
		}
		p.expectPunct(")")
	case p.tok.kind == tokKeyword && (op.text == "LIKE" || op.text == "MATCHES" || op.text == "ISSUBSET" || op.text == "ISSUPERSET"):
		p.next()
		if p.tok.kind != tokString {
			p.fail("%s needs a string '...', found %s", op.text, p.tok)
		}
		p.next()
	default:
		p.fail("expected a comparison operator after the object path, found %s", p.tok)
	}
	return []string{typ}
}

// objectPath reads type:property(.property|[index])* and returns the type
// and the property steps.
func (p *patternParser) objectPath() (string, []string) {
	if p.tok.kind != tokIdent {
		p.fail("expected an object path such as file:name, found %s", p.tok)
	}
	typ := p.tok.text
	if !observables[typ] && !strings.HasPrefix(typ, "x-") {
		p.warn("%s is not a STIX 2.1 cyber-observable type", typ)
	}
	p.next()
	p.expectPunct(":")
	path := []string{p.propertyName()}
	for {
		switch {
		case p.isPunct("."):
			p.next()
			path = append(path, p.propertyName())
		case p.isPunct("["):
			p.next()
			switch {
			case p.isPunct("*"):
			case p.tok.kind == tokInt && strings.HasPrefix(p.tok.text, "-"):
				p.warn("negative list index [%s] matches nothing", p.tok.text)
			case p.tok.kind == tokInt:
			default:
				p.fail("a list index is an integer or *, found %s", p.tok)
			}
			p.next()
			p.expectPunct("]")
		default:
			return typ, path
		}
	}
}

func (p *patternParser) propertyName() string {
	t := p.tok
	switch {
	case t.kind == tokString:
	case t.kind == tokIdent && strings.Contains(t.text, "-"):
		p.fail("property name %s contains '-': quote it ('%s')", t.text, t.text)
	case t.kind == tokIdent, t.kind == tokBool:
	default:
		p.fail("expected a property name, found %s (quote names that are keywords)", t)
	}
	p.next()
	return t.text
}

// primitive reads a literal; booleans only where equality allows them.
func (p *patternParser) primitive(allowBool bool) token {
	t := p.tok
	switch t.kind {
	case tokString, tokInt, tokFloat, tokTimestamp, tokHex, tokBinary:
	case tokBool:
		if !allowBool {
			p.fail("%s cannot be ordered with <, <=, > or >=", t.text)
		}
	default:
		p.fail("expected a value such as 'text', 42, 4.2, true, t'...', h'...' or b'...', found %s", t)
	}
	p.next()
	return t
}

// hashLiteral refuses a string compared with hashes.<ALGO> that does not
// fit ALGO.
func (p *patternParser) hashLiteral(path []string, value token) {
	if value.kind != tokString || len(path) < 2 || path[len(path)-2] != "hashes" {
		return
	}
	algo := path[len(path)-1]
	if strings.EqualFold(algo, "TLSH") {
		return // the OASIS pattern validator does not check TLSH
	}
	if re, ok := hashFormat(algo); ok && !re.MatchString(value.text) {
		p.failAt(value.pos, "'%s' is not a valid %s hash", value.text, path[len(path)-1])
	}
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, t := range b {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func intersect(a, b []string) []string {
	var out []string
	for _, t := range a {
		if slices.Contains(b, t) {
			out = append(out, t)
		}
	}
	return out
}
