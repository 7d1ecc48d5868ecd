package stix

import (
	"errors"
	"testing"
	"time"
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
