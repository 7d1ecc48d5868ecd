package stix

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/taxiihub/taxiihub/audit"
)

// Options tune validation for a collection.
type Options struct {
	// RefuseCustom refuses custom object types and custom properties.
	RefuseCustom bool
}

// Problem is one thing wrong with an object.
type Problem struct {
	Path    string // the property, e.g. "pattern" or "external_references[0].url"; "" for the object
	Message string
	Warning bool // worth telling the poster, but the object is accepted
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Err returns the errors among problems as one error, or nil when there
// are none (warnings alone do not refuse an object).
func Err(problems []Problem) error {
	var errs []Problem
	for _, p := range problems {
		if !p.Warning {
			errs = append(errs, p)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.New(Summary(errs))
}

// hasErrors reports whether any problem is an error, not a warning.
func hasErrors(problems []Problem) bool {
	return slices.ContainsFunc(problems, func(p Problem) bool { return !p.Warning })
}

// Summary joins problems into one message, errors first.
func Summary(problems []Problem) string {
	sorted := slices.Clone(problems)
	slices.SortStableFunc(sorted, func(a, b Problem) int {
		switch {
		case a.Warning == b.Warning:
			return 0
		case b.Warning:
			return -1
		}
		return 1
	})
	parts := make([]string, len(sorted))
	for i, p := range sorted {
		parts[i] = p.String()
		if p.Warning {
			parts[i] = "warning: " + parts[i]
		}
	}
	return strings.Join(parts, "; ")
}

// Validate checks one object against STIX 2.1: common properties, its type's
// required properties and constraints, references, custom content and, for
// indicators, the STIX pattern. It returns what the hub stores about the
// object and every problem found (errors and warnings). Meta is filled as
// far as the object allows, so that a refusal can name it.
func Validate(raw []byte, opts Options) (Meta, []Problem) {
	obj, err := decodeObject(raw)
	return validate(obj, err, opts)
}

// validate checks an object as Validate does, from its decoding: obj, or
// err when it could not be decoded.
func validate(obj jsonObject, err error, opts Options) (Meta, []Problem) {
	v := &validator{opts: opts, obj: obj}
	v.place = v.placeSpace[:0]
	if errors.Is(err, errDuplicateName) {
		// Which of the two values counts depends on the reader: refused.
		v.bad("names a property twice: %v", err)
		return Meta{}, v.result()
	} else if err != nil {
		v.bad("not a JSON object: %v", err)
		return Meta{}, v.result()
	}
	m := v.identify()
	if hasErrors(v.problems) {
		return m, v.result()
	}
	v.checkProperties()
	return m, v.result()
}

// validator collects the problems of one object.
type validator struct {
	opts     Options
	obj      jsonObject
	typ      string
	def      *typeDef
	problems []Problem
	// place is where in the object the value being checked is: its
	// property names and list indexes, written out as a Problem's Path only
	// when a problem is reported there.
	place      []step
	placeSpace [4]step // place's first, deep enough for STIX's own properties
	// Problems past maxProblems are counted, not kept.
	moreErrors, moreWarnings int
}

// A client chooses how many problems an object has (a custom property of a
// million nulls) and how deep they lie (lists nested thousands deep): an
// object's report keeps maxProblems of them, each Path at most maxPath
// bytes and each Message (which may quote a value) at most maxMessage, so
// that none reaches the hub's memory or a status unbounded.
const (
	maxProblems = 20
	maxPath     = 256
	maxMessage  = 1024
)

// result is the problems found, with a last one counting those past
// maxProblems.
func (v *validator) result() []Problem {
	if n := v.moreErrors + v.moreWarnings; n > 0 {
		return append(v.problems, Problem{Message: fmt.Sprintf("and %d more problems", n), Warning: v.moreErrors == 0})
	}
	return v.problems
}

// step is one step of a place: into item index of a list, or (index -1)
// into property name.
type step struct {
	name  string
	index int
}

// member checks val, property name of the value at the place, with c.
func (v *validator) member(name string, c check, val any) {
	v.place = append(v.place, step{name: name, index: -1})
	c(v, val)
	v.place = v.place[:len(v.place)-1]
}

// item checks val, item i of the list at the place, with c.
func (v *validator) item(i int, c check, val any) {
	v.place = append(v.place, step{index: i})
	c(v, val)
	v.place = v.place[:len(v.place)-1]
}

// path writes out the place, then property name below it unless name is
// "", as in "external_references[0].url"; at most maxPath bytes of it.
func (v *validator) path(name string) string {
	var b strings.Builder
	for _, s := range v.place {
		switch {
		case b.Len() > maxPath:
		case s.index >= 0:
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		default:
			writeName(&b, s.name)
		}
	}
	if name != "" {
		writeName(&b, name)
	}
	return audit.Truncate(b.String(), maxPath)
}

func writeName(b *strings.Builder, name string) {
	if b.Len() > 0 {
		b.WriteByte('.')
	}
	b.WriteString(name)
}

// bad reports an error in the value at the place.
func (v *validator) bad(format string, args ...any) { v.report("", false, format, args...) }

// badIn reports an error in property name of the value at the place.
func (v *validator) badIn(name, format string, args ...any) { v.report(name, false, format, args...) }

// warn reports a warning about the value at the place.
func (v *validator) warn(format string, args ...any) { v.report("", true, format, args...) }

// warnIn reports a warning about property name of the value at the place.
func (v *validator) warnIn(name, format string, args ...any) { v.report(name, true, format, args...) }

func (v *validator) report(name string, warning bool, format string, args ...any) {
	switch {
	case len(v.problems) < maxProblems:
	case warning:
		v.moreWarnings++
		return
	default:
		v.moreErrors++
		return
	}
	v.problems = append(v.problems, Problem{Path: v.path(name), Message: audit.Truncate(fmt.Sprintf(format, args...), maxMessage), Warning: warning})
}

// has reports whether the object carries property name.
func (v *validator) has(name string) bool {
	_, ok := v.obj.lookup(name)
	return ok
}

// identify reads type, id, spec_version and version, the properties that
// decide how the rest is checked.
func (v *validator) identify() Meta {
	var m Meta
	typ, ok := v.obj.get("type").(string)
	switch {
	case !v.has("type"):
		v.badIn("type", "required property is missing")
	case !ok:
		v.badIn("type", "must be a string, got %s", jsonKind(v.obj.get("type")))
	case !ValidTypeName(typ):
		v.badIn("type", "%q is not a valid type name (a-z, 0-9, hyphen; 3-250 characters)", typ)
	case typ == "bundle":
		v.badIn("type", "a bundle is a container, not an object: post its objects")
	}
	m.Type = typ
	id, ok := v.obj.get("id").(string)
	switch {
	case !v.has("id"):
		v.badIn("id", "required property is missing")
	case !ok:
		v.badIn("id", "must be a string, got %s", jsonKind(v.obj.get("id")))
	default:
		m.ID = CanonicalID(id)
		if idType, err := SplitID(id); err != nil {
			v.badIn("id", "%v", err)
		} else if idType != typ && typ != "" {
			v.badIn("id", "%q does not begin with the object's type %q", id, typ)
		}
	}
	if hasErrors(v.problems) {
		return m
	}
	v.typ = typ
	v.def = definitions[typ]
	if v.def == nil {
		v.def = customDefinition(v.obj)
		if v.opts.RefuseCustom {
			v.badIn("type", "%q is a custom object type; this collection accepts only STIX 2.1 types", typ)
		}
	}

	spec, hasSpec := v.obj.lookup("spec_version")
	switch {
	case !hasSpec && v.def.kind == kindSCO:
		m.SpecVersion = "2.1"
	case !hasSpec:
		v.badIn("spec_version", `required; an object without it is STIX 2.0, and this hub accepts STIX 2.1 ("2.1")`)
	case spec != "2.1":
		v.badIn("spec_version", "must be \"2.1\", got %s", quoted(spec))
	default:
		m.SpecVersion = "2.1"
	}
	createdBy, _ := v.obj.get("created_by_ref").(string)
	m.CreatedByRef = CanonicalID(createdBy)
	m.Revoked, _ = v.obj.get("revoked").(bool)
	if refs, ok := v.obj.get("object_marking_refs").([]any); ok {
		for _, r := range refs {
			if s, ok := r.(string); ok {
				m.MarkingRefs = append(m.MarkingRefs, CanonicalID(s))
			}
		}
	}
	if granular, ok := v.obj.get("granular_markings").([]any); ok {
		for _, g := range granular {
			gm, _ := g.(jsonObject)
			if s, ok := gm.get("marking_ref").(string); ok {
				m.GranularMarkingRefs = append(m.GranularMarkingRefs, CanonicalID(s))
			}
		}
	}
	// The version is modified, else created.
	for _, name := range []string{"created", "modified"} {
		text, ok := v.obj.get(name).(string)
		if !ok {
			continue
		}
		if t, err := ParseTimestamp(text); err == nil {
			m.Version, m.VersionText = t, text
			if name == "created" {
				m.Created = t
			}
		}
	}
	return m
}

// checkProperties checks every property: common ones of the object's kind,
// its type's own, and custom ones.
func (v *validator) checkProperties() {
	common := commonProperties[v.def.kind]
	for _, name := range v.def.required {
		if !v.has(name) {
			v.badIn(name, "required property is missing")
		}
	}
	for _, name := range common.required {
		if !v.has(name) {
			v.badIn(name, "required property is missing")
		}
	}
	for _, prop := range v.obj {
		name, val := prop.name, prop.value
		if name == "type" || name == "id" {
			continue
		}
		if val == nil {
			v.badIn(name, "must not be null (leave the property out instead)")
			continue
		}
		if c, ok := v.def.props[name]; ok {
			v.member(name, c, val)
		} else if c, ok := common.props[name]; ok {
			v.member(name, c, val)
		} else {
			v.checkCustomProperty(name, val)
		}
	}
	if v.def.kind == kindSDO || v.def.kind == kindSRO {
		v.ordered("created", "modified", false)
	}
	if v.def.extra != nil {
		v.def.extra(v)
	}
}

var (
	propertyName = regexp.MustCompile(`^[a-z][a-z0-9_]{2,249}$`)
	// reserved names the STIX 2.1 schemas refuse on every object.
	reserved = []string{"severity", "action", "username", "phone_numbers"}
)

func (v *validator) checkCustomProperty(name string, val any) {
	switch {
	case slices.Contains(reserved, name) && v.def.kind != kindSCO:
		v.badIn(name, "is a reserved property name in STIX 2.1 and must not be used")
	case !propertyName.MatchString(name):
		v.badIn(name, "is not a valid custom property name (a-z, 0-9, '_', starting with a letter, 3-250 characters)")
	case v.opts.RefuseCustom:
		v.badIn(name, "is a custom property; this collection accepts only STIX 2.1 properties")
	default:
		v.member(name, noNulls, val)
	}
}

// noNulls refuses null anywhere inside a custom property's value.
func noNulls(v *validator, val any) {
	switch x := val.(type) {
	case nil:
		v.bad("must not be null")
	case []any:
		for i, item := range x {
			v.item(i, noNulls, item)
		}
	case jsonObject:
		for _, m := range x {
			v.member(m.name, noNulls, m.value)
		}
	}
}

// ordered checks that timestamp property later is after earlier (or equal
// unless strict), when both are present and valid.
func (v *validator) ordered(earlier, later string, strict bool) {
	a, okA := v.obj.get(earlier).(string)
	b, okB := v.obj.get(later).(string)
	if !okA || !okB {
		return
	}
	ta, errA := ParseTimestamp(a)
	tb, errB := ParseTimestamp(b)
	if errA != nil || errB != nil {
		return
	}
	if tb.Before(ta) || strict && tb.Equal(ta) {
		how := "later than or equal to"
		if strict {
			how = "later than"
		}
		v.badIn(later, "must be %s %s (%s), got %s", how, earlier, a, b)
	}
}

// atLeastOne requires one of names to be present.
func (v *validator) atLeastOne(names ...string) {
	if !slices.ContainsFunc(names, v.has) {
		v.bad("needs at least one of %s", strings.Join(names, ", "))
	}
}

// selects reports whether a granular-marking selector points at something
// in the object: a property, then properties and list indexes along a path.
func (v *validator) selects(selector string) bool {
	var cur any = v.obj
	for step := range strings.SplitSeq(selector, ".") {
		switch x := cur.(type) {
		case jsonObject:
			next, ok := x.lookup(step)
			if !ok {
				return false
			}
			cur = next
		case []any:
			if len(step) < 3 || step[0] != '[' || step[len(step)-1] != ']' {
				return false
			}
			i, err := strconv.Atoi(step[1 : len(step)-1])
			if err != nil || i < 0 || i >= len(x) {
				return false
			}
			cur = x[i]
		default:
			return false
		}
	}
	return true
}

func quoted(val any) string {
	if s, ok := val.(string); ok {
		return strconv.Quote(s)
	}
	return jsonKind(val)
}

// Checked is one object of an envelope as ingest judged it.
type Checked struct {
	Index    int // its place in the envelope's objects
	Meta     Meta
	Raw      []byte
	Problems []Problem // validation's, then the policy's refusal if any
}

// Refused reports whether the object may not be stored.
func (c Checked) Refused() bool { return hasErrors(c.Problems) }

// CheckEnvelope reads the envelope (or bundle) in body and validates each
// of its objects with opts, as Validate does, in the same pass: each
// object's bytes are read once. For those that pass it asks policy (if not
// nil), whose error refuses the object. It fails as ParseEnvelope does, and
// with ErrTooManyRefused as soon as more than MaxRefused objects are
// refused. It is the one ingest check: a POST, the demo's import and stix
// validate all judge objects with it.
func CheckEnvelope(body []byte, opts Options, policy func(Meta) error) ([]Checked, error) {
	var out []Checked
	refused := 0
	err := readEnvelope(body, func(raw []byte, obj jsonObject, refusal error) bool {
		m, problems := validate(obj, refusal, opts)
		if policy != nil && !hasErrors(problems) {
			if err := policy(m); err != nil {
				problems = append(problems, Problem{Message: err.Error()})
			}
		}
		out = append(out, Checked{Index: len(out), Meta: m, Raw: raw, Problems: problems})
		if hasErrors(problems) {
			refused++
		}
		return refused <= MaxRefused
	})
	if errors.Is(err, errStopped) {
		return nil, fmt.Errorf("%w (the last objects[%d]: %s); correct them and post again", ErrTooManyRefused, len(out)-1, Summary(out[len(out)-1].Problems))
	}
	return out, err
}
