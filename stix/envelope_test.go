package stix

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// FuzzParseEnvelope holds the envelope reader to the one the hub had before
// it decoded each object in the same pass (referenceParseEnvelope, on
// jsontext): the same bodies accepted, refused as not JSON or as not an
// envelope, and the same objects, byte for byte.
func FuzzParseEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"objects":[{"a":1}, {"b" : 2}],"more":false}`, `{"objects":[]}`, ``, `{"objects":[`, `nope`, `[]`, `[1] x`,
		`"objects"`, `{}`, `{"objects":{}}`, `{"objects":null}`, `{"objects":"a,b"}`, `{"objects":[],"objects":[]}`,
		`{"objects":[{"a":1,"a":2},{"b":"\ud800"},{"c":1e400},"x",[1]]}`, "{\"objects\":[{\"a\":\"\xff\"}],\"\xff\":1,\"\xfe\":2}",
		`{"type":"bundle","id":"bundle--1","objects":[{"x":[{"y":{}}]}]} `, `{"objects":[{}] }x`, `{"obj\u0065cts":[{}]}`,
		`{"objects":[{"a":[1,2,3,4,5,[6,7,{"b":[8,9]}]],"c":{"d":{"e":[]},"f":"g"}},{"a":[10],"h":{"i":11}},{"j":[[],[[12]]]},{"a":1,"a":2,"k":[13]},{"l":{}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := ParseEnvelope(body)
		want, wantErr := referenceParseEnvelope(body)
		class := func(err error) error {
			for _, e := range []error{ErrNotJSON, ErrNoObjects} {
				if errors.Is(err, e) {
					return e
				}
			}
			return err
		}
		switch {
		case class(err) != class(wantErr):
			t.Fatalf("ParseEnvelope(%q) error %v; the reference's %v", body, err, wantErr)
		case err == nil && !reflect.DeepEqual(got, want):
			t.Fatalf("ParseEnvelope(%q) = %q; the reference's %q", body, got.Objects, want.Objects)
		}
		// Each object as the envelope's read decoded it, looked at once
		// the read is over, is its decoding alone: the objects after it,
		// decoded with the same decoder, did not touch it.
		var raws [][]byte
		var objs []jsonObject
		var refusals []error
		readEnvelope(body, func(raw []byte, obj jsonObject, refusal error) bool {
			raws, objs, refusals = append(raws, raw), append(objs, obj), append(refusals, refusal)
			return true
		})
		for i, raw := range raws {
			alone, err := decodeObject(raw)
			if (err == nil) != (refusals[i] == nil) || err == nil && !reflect.DeepEqual(plain(objs[i]), plain(alone)) {
				t.Fatalf("objects[%d] of %q read as %#v (%v); alone %#v (%v)", i, body, plain(objs[i]), refusals[i], plain(alone), err)
			}
		}
	})
}

// referenceParseEnvelope is ParseEnvelope as it was on jsontext, which
// read each object's bytes once more before Validate decoded them.
func referenceParseEnvelope(body []byte) (Envelope, error) {
	// Objects are judged one by one (Validate refuses one that names a
	// property twice); only the envelope's own properties are checked here.
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))
	notJSON := func(err error) (Envelope, error) {
		return Envelope{}, fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	switch dec.PeekKind() {
	case '{':
		dec.ReadToken()
	case 0: // not the start of a JSON value: the error says why
		_, err := dec.ReadToken()
		return notJSON(err)
	default:
		if err := dec.SkipValue(); err != nil {
			return notJSON(err)
		}
		return Envelope{}, fmt.Errorf("%w: the top level is not a JSON object", ErrNoObjects)
	}
	var env Envelope
	found, names := false, map[string]bool{}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return notJSON(err)
		}
		name := tok.String() // before the next call voids tok
		if names[name] {
			return Envelope{}, fmt.Errorf("%w: the top-level property %q is given twice", ErrNoObjects, name)
		}
		names[name] = true
		if name != "objects" || dec.PeekKind() != '[' {
			if err := dec.SkipValue(); err != nil {
				return notJSON(err)
			}
			found = found || name == "objects"
			continue
		}
		dec.ReadToken() // [
		env.Objects = []stdjson.RawMessage{}
		for dec.PeekKind() != ']' {
			v, err := dec.ReadValue()
			if err != nil {
				return notJSON(err)
			}
			// The object's bytes, in place in body: no copy.
			end := int(dec.InputOffset())
			env.Objects = append(env.Objects, stdjson.RawMessage(body[end-len(v):end:end]))
		}
		if _, err := dec.ReadToken(); err != nil { // ]
			return notJSON(err)
		}
		found = true
	}
	if _, err := dec.ReadToken(); err != nil { // }
		return notJSON(err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return notJSON(fmt.Errorf("data after the top-level object"))
	}
	switch {
	case !found:
		return Envelope{}, ErrNoObjects
	case env.Objects == nil:
		return Envelope{}, fmt.Errorf("%w: \"objects\" is not an array", ErrNoObjects)
	}
	return env, nil
}

// An object that is well-formed JSON but that the hub does not read (a
// name twice, invalid UTF-8) is refused on its own, with offsets counted
// from its first byte; one that is not JSON makes the whole body not JSON,
// and the error names it.
func TestCheckEnvelope_RefusesObjectsOrTheBody(t *testing.T) {
	body := []byte(`{"objects":[` + validateSeeds[0] + `, {"a":1,"a":2}, {"b":"` + "\xff" + `"}, 7]}`)
	checked, err := CheckEnvelope(body, Options{}, nil)
	if err != nil || len(checked) != 4 {
		t.Fatalf("CheckEnvelope = %d objects, %v", len(checked), err)
	}
	for i, want := range []string{"", "names a property twice", "not a JSON object: invalid UTF-8 at byte offset 6", "not a JSON object: the top level is not a JSON object"} {
		c := checked[i]
		switch {
		case c.Index != i:
			t.Errorf("objects[%d] has index %d", i, c.Index)
		case want == "" && c.Refused():
			t.Errorf("objects[%d] refused: %v", i, Summary(c.Problems))
		case want != "" && (!c.Refused() || !strings.Contains(Summary(c.Problems), want)):
			t.Errorf("objects[%d]: %q, want %q", i, Summary(c.Problems), want)
		}
	}
	if string(checked[1].Raw) != `{"a":1,"a":2}` {
		t.Errorf("objects[1] is %q", checked[1].Raw)
	}
	_, err = CheckEnvelope([]byte(`{"objects":[`+validateSeeds[0]+`, {"a":tru}]}`), Options{}, nil)
	if !errors.Is(err, ErrNotJSON) || !strings.Contains(err.Error(), "objects[1]: invalid character") {
		t.Errorf("a body with a malformed object: %v", err)
	}
}
