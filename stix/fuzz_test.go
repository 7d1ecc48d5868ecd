package stix

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
)

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2016-05-12T08:17:27Z", "2016-05-12T08:17:27.123456789Z", "2016-12-31T23:59:60Z", "0000-01-01T00:00:00.Z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ParseTimestamp(s)
		if err != nil {
			return
		}
		// Whatever parses formats back to an instant that parses the same.
		again, err := ParseTimestamp(ts.Format(time.RFC3339Nano))
		if err != nil || !again.Equal(ts) {
			t.Fatalf("%q parsed to %v, which does not round-trip: %v", s, ts, err)
		}
	})
}

// validateSeeds are FuzzValidate's seed corpus (the differential test reads
// them too).
var validateSeeds = []string{
	`{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.123Z","pattern":"[file:name = 'a'] WITHIN 5 SECONDS","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}`,
	`{"type":"ipv4-addr","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.0/24"}`,
	`{"type":"x-custom","id":"x-custom--ff26c055-6336-4bc5-b98d-13d6226742dd","granular_markings":[{"selectors":["a.[0]"],"lang":"en"}]}`,
	`{"objects":[{"type":7}]}`,
}

func FuzzValidate(f *testing.F) {
	for _, s := range validateSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, problems := Validate(raw, Options{})
		if Err(problems) != nil {
			return
		}
		if typ, err := SplitID(m.ID); err != nil || typ != m.Type {
			t.Fatalf("accepted id %q for type %q", m.ID, m.Type)
		}
		if m.VersionText != "" && m.Version.IsZero() || m.SpecVersion != "2.1" {
			t.Fatalf("accepted with meta %+v", m)
		}
		ParseEnvelope(raw)
	})
}

func FuzzCheckPattern(f *testing.F) {
	for _, p := range validPatterns {
		f.Add(p)
	}
	for _, p := range invalidPatterns {
		f.Add(p.pattern)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		_, err := checkPattern(pattern)
		var pe *patternError
		if err != nil && (!errors.As(err, &pe) || pe.Offset < 0 || pe.Offset > len([]rune(pattern))) {
			t.Fatalf("checkPattern(%q) = %v", pattern, err)
		}
	})
}

// FuzzDecodeObject holds the validator's JSON decoder to the reference
// decoder (go-json-experiment's defaults, which Validate used before): the
// same inputs accepted, decoded to the same values.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range append(slices.Clone(validateSeeds),
		`{"a":"\ud83d\ude00\u00e9\n","b":[1,-0.5e3,true,false,null,{}],"c":{"d":[]}}`,
		`{"a":1,"a":2}`, `{"a":"\ud83d"}`, "{\"a\":\"\xff\"}", `{"a":01}`, `{"a":1e400}`, `[1]`, `{} {}`, ` {"a" : [ "x" , 2 ] } `,
	) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := decodeObject(raw)
		var want map[string]any
		wantErr := json.Unmarshal(raw, &want)
		if wantErr == nil && want == nil {
			wantErr = errors.New("null") // not an object
		}
		switch {
		case (err == nil) != (wantErr == nil):
			t.Fatalf("decodeObject(%q) error %v; the reference decoder's %v", raw, err, wantErr)
		case err == nil && !reflect.DeepEqual(plain(got), want):
			t.Fatalf("decodeObject(%q) = %#v; the reference decoder's %#v", raw, plain(got), want)
		}
	})
}

// plain is a decoded value with its objects as maps.
func plain(val any) any {
	switch x := val.(type) {
	case jsonObject:
		m := make(map[string]any, len(x))
		for _, member := range x {
			m[member.name] = plain(member.value)
		}
		return m
	case []any:
		list := make([]any, len(x))
		for i, item := range x {
			list[i] = plain(item)
		}
		return list
	}
	return val
}
