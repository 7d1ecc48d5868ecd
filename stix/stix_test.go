package stix

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2016-05-12T08:17:27Z", time.Date(2016, 5, 12, 8, 17, 27, 0, time.UTC)},
		{"2016-05-12T08:17:27.000Z", time.Date(2016, 5, 12, 8, 17, 27, 0, time.UTC)},
		{"2016-05-12T08:17:27.5Z", time.Date(2016, 5, 12, 8, 17, 27, 500_000_000, time.UTC)},
		{"2016-05-12T08:17:27.123456Z", time.Date(2016, 5, 12, 8, 17, 27, 123_456_000, time.UTC)},
		{"2016-05-12T08:17:27.123456789123Z", time.Date(2016, 5, 12, 8, 17, 27, 123_456_789, time.UTC)},
		{"2020-02-29T00:00:00Z", time.Date(2020, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"2016-12-31T23:59:60Z", time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)}, // leap second
	}
	for _, tt := range tests {
		got, err := ParseTimestamp(tt.in)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{
		"", "2016-05-12", "2016-05-12T08:17:27", "2016-05-12T08:17:27+00:00", "2016-05-12t08:17:27Z",
		"2016-05-12T08:17:27z", "2016-05-12 08:17:27Z", "2016-05-12T08:17:27.Z", "2016-05-12T08:17:27,5Z",
		"2019-02-29T00:00:00Z", "2016-13-01T00:00:00Z", "2016-00-01T00:00:00Z", "2016-04-31T00:00:00Z",
		"2016-05-12T24:00:00Z", "2016-05-12T08:60:00Z", "2016-05-12T08:17:61Z", "20x6-05-12T08:17:27Z",
		"2016-05-12T08:17:27.12a4Z", "+2016-05-12T08:17:27Z",
	} {
		if _, err := ParseTimestamp(bad); err == nil {
			t.Errorf("ParseTimestamp(%q) accepted", bad)
		}
	}
}

func TestFormatTAXII_AlwaysMicroseconds(t *testing.T) {
	got := FormatTAXII(time.Date(2016, 11, 3, 12, 30, 59, 1_000, time.FixedZone("x", 3600)))
	if got != "2016-11-03T11:30:59.000001Z" {
		t.Fatalf("FormatTAXII = %q", got)
	}
}

func TestFormatTAXII_AsTimeFormat(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	instants := []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 6, 15, 8, 5, 3, 0, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, time.FixedZone("east", 5*3600)),
	}
	for range 10000 {
		instants = append(instants, time.Unix(rng.Int64N(400_000_000_000)-62_000_000_000, rng.Int64N(1e9)))
	}
	for _, at := range instants {
		if got, want := FormatTAXII(at), at.UTC().Format("2006-01-02T15:04:05.000000Z"); got != want {
			t.Fatalf("FormatTAXII(%v) = %q, time.Format gives %q", at, got, want)
		}
	}
}

func TestSplitID(t *testing.T) {
	for _, ok := range []string{
		"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
		"x-custom-thing--8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F",
		"domain-name--dd686e37-6889-53bd-8ae1-b1a503452613", // UUIDv5
		"file--0a7b5b88-8ff7-1a4d-aa9d-feb398cd0061",        // UUIDv1
	} {
		if _, err := SplitID(ok); err != nil {
			t.Errorf("SplitID(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{
		"", "indicator", "indicator--", "--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
		"Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
		"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3",
		"indicator--8e2e2d2b-17d4-6cbf-938f-98ee46b3cd3f", // version 6
		"indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f", // wrong variant
		"indicator--8e2e2d2b17d4-4cbf-938f-98ee46b3cd3f-",
		"in--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
	} {
		if _, err := SplitID(bad); err == nil {
			t.Errorf("SplitID(%q) accepted", bad)
		}
	}
}

// TestValidUUID_AsTheRFCForm holds validUUID to the RFC 4122 form, written
// as a regular expression, for a UUID with each byte in turn replaced by
// the bytes at the edges of the classes it tells apart.
func TestValidUUID_AsTheRFCForm(t *testing.T) {
	rfc := regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$`)
	const uuid = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
	edges := "/09:@AFG`afg-8b\x00\x7f\x80\xff"
	for i := range len(uuid) + 1 {
		for _, c := range []byte(edges) {
			for _, s := range []string{uuid[:i] + string(c) + uuid[min(i+1, len(uuid)):], uuid[:i] + string(c) + uuid[i:]} {
				if got, want := validUUID(s, '1', '5'), rfc.MatchString(s); got != want {
					t.Errorf("validUUID(%q) = %v, the RFC form says %v", s, got, want)
				}
			}
		}
	}
}

// TestCanonicalID_AsToLower holds CanonicalID to strings.ToLower for ids
// with a byte at each place replaced by one at the edges of A-Z and ASCII.
func TestCanonicalID_AsToLower(t *testing.T) {
	const id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
	for i := range len(id) {
		for _, c := range []string{"@", "A", "M", "Z", "[", "a", "z", "\x7f", "\x80", "\xc3\xa9", "\xff"} {
			for _, s := range []string{id[:i] + c + id[i+1:], id[:i] + c, c + id[:i]} {
				if got, want := CanonicalID(s), strings.ToLower(s); got != want {
					t.Errorf("CanonicalID(%q) = %q, strings.ToLower gives %q", s, got, want)
				}
			}
		}
	}
}

func TestValidUUIDv4(t *testing.T) {
	if !ValidUUIDv4("5f3c6a1e-8a43-4d0e-9c55-3c1f2b6f7a10") || ValidUUIDv4("5f3c6a1e-8a43-5d0e-9c55-3c1f2b6f7a10") || ValidUUIDv4("5f3c6a1e8a434d0e9c553c1f2b6f7a10") {
		t.Fatal("ValidUUIDv4 disagrees with RFC 4122")
	}
}

func TestValidTypeName(t *testing.T) {
	for name, want := range map[string]bool{
		"indicator": true, "x-acme-widget": true, "ab": false, "a--b": false, "-ab": false,
		"1abc": false, "abC": false, "ab_c": false, strings.Repeat("a", 250): true, strings.Repeat("a", 251): false,
	} {
		if ValidTypeName(name) != want {
			t.Errorf("ValidTypeName(%q) = %v", name, !want)
		}
	}
}

func TestParseEnvelope(t *testing.T) {
	env, err := ParseEnvelope([]byte(`{"objects":[{"a":1}, {"b" : 2}],"more":false}`))
	if err != nil || len(env.Objects) != 2 || string(env.Objects[1]) != `{"b" : 2}` {
		t.Fatalf("ParseEnvelope = %q, %v", env.Objects, err)
	}
	if env, err := ParseEnvelope([]byte(`{"objects":[]}`)); err != nil || len(env.Objects) != 0 {
		t.Fatalf("empty envelope: %v", err)
	}
	for body, want := range map[string]error{
		``:                  ErrNotJSON,
		`{"objects":[`:      ErrNotJSON,
		`nope`:              ErrNotJSON,
		`[]`:                ErrNoObjects,
		`"objects"`:         ErrNoObjects,
		`{}`:                ErrNoObjects,
		`{"objects":{}}`:    ErrNoObjects,
		`{"objects":null}`:  ErrNoObjects,
		`{"objects":"a,b"}`: ErrNoObjects,
	} {
		if _, err := ParseEnvelope([]byte(body)); !errors.Is(err, want) {
			t.Errorf("ParseEnvelope(%q) = %v, want %v", body, err, want)
		}
	}
}
