package stix

import (
	"errors"
	"strings"
	"testing"
)

// The examples of shared/spec/stix-2.1.md section 11.3, each run through
// the OASIS pattern validator.
var validPatterns = []string{
	`[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']`,
	`[ipv4-addr:value ISSUBSET '198.51.100.0/24'] AND [domain-name:value = 'example.com']`,
	`[user-account:account_login = 'fake_voter_news' AND user-account:account_type = 'twitter']`,
	`([url:value MATCHES '^https?://vote-[a-z]+\\.example/'] FOLLOWEDBY [domain-name:value LIKE '%.example']) WITHIN 600 SECONDS`,
	`[network-traffic:dst_ref.value = '203.0.113.7' AND network-traffic:dst_port IN (443, 8443)] REPEATS 5 TIMES START t'2020-10-01T00:00:00Z' STOP t'2020-11-04T00:00:00Z'`,
	`[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]`,
	`[email-message:to_refs[0].value = 'a@example.com']`,
	`[file:name NOT IN ('a.exe', 'b.exe')]`,
	`[NOT EXISTS file:name]`,
	`[EXISTS file:name]`,
	`[file:name = 'it\'s']`,
	`[file:parent_directory_ref.path = 'C:\\Windows']`,
	`[file:name == 'a'] OR [file:name <> 'b']`,
	`[file:size = +5]`,
	`[file:size = .5]`,
	`[file:size = -5]`,
	`[file:size >= -0.25]`,
	`[file:x = h'ff']`,
	`[file:x = h'']`,
	`[file:x = b'YQ==']`,
	`[file:x = true]`,
	`[x-custom-obj:x_score >= 90]`,
	`[file:name = 'a'] FOLLOWEDBY [file:name = 'b'] OR [file:name = 'c']`,
	`[file:name = 'a' OR file:name = 'b' AND file:size = 5]`,
	`[file:name = 'a'] /* comment */ AND [file:size > 1]`,
	"[file:name = 'a'] // trailing comment\n AND [file:size > 1]",
	"[file:name\u00a0=\u2003'a']",
	`[file:name NOT LIKE 'a%' AND file:name NOT MATCHES '^b']`,
	`[ipv6-addr:value ISSUPERSET '2001:db8::/32']`,
	`[file:created = t'2020-01-01T00:00:00.123456Z']`,
	`[file:name IN ()]`,
	`[file:name = 'a'] WITHIN 5 SECONDS REPEATS 2 TIMES`,
	`([file:name = 'a'] WITHIN 5 SECONDS) WITHIN 6 SECONDS`,
	`[file:name = 'a'] WITHIN 2.5 SECONDS`,
	`[(file:name = 'a' OR file:size = 1) AND file:size < 10]`,
	`[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']`,
	`[file:hashes.sha256 IN ('aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f')]`,
	`[file:hashes.'x-custom' = 'anything']`,
	`[file:'name' = 'quoted first component']`,
	`[process:name = 'ünïcödé ☃']`,
}

var invalidPatterns = []struct {
	pattern string
	offset  int // character where the error is reported
	words   string
}{
	{`file:size = 1280`, 0, "expected an observation"},
	{`[ipv4-addr:value = 1.2.3.4]`, 22, "expected"},
	{`[ipv4-addr:value = "1.2.3.4"]`, 19, "unexpected character"},
	{`[file:name = 'a\nb']`, 15, "escapes"},
	{`[file.size = 1280]`, 5, "expected \":\""},
	{`[file:name-x = 'a']`, 6, "quote it"},
	{`[file:name]`, 10, "comparison operator"},
	{`[]`, 1, "needs a comparison"},
	{`[file:name = 'a']]`, 17, "after the end"},
	{`[a:b = 'c'] AND`, 15, "expected an observation"},
	{`[NOT file:name = 'a']`, 5, "NOT goes after"},
	{`[file:name = 'a'] AND NOT [file:name = 'b']`, 22, "expected an observation"},
	{`[file:name = 'a'] and [file:size > 1]`, 18, "after the end"},
	{`[file:x = TRUE]`, 10, "expected a value"},
	{`[file:size = 05]`, 13, "leading zero"},
	{`[file:size = 5.]`, 14, "expected"},
	{`[file:size = 1e3]`, 14, "expected"},
	{`[file:x = h'fff']`, 10, "hex"},
	{`[file:x = b'YQ=']`, 10, "base64"},
	{`[file:x = b'']`, 10, "base64"},
	{`[file:size > true]`, 13, "cannot be ordered"},
	{`[file:name LIKE 5]`, 16, "needs a string"},
	{`[file:created = t'2020-01-01T00:00:00+00:00']`, 16, "not a timestamp"},
	{`[x:created = t'2024-13-01T12:00:00Z']`, 13, "not a timestamp"},
	{`[win-registry-key:key = 'k'] WITHIN -5 SECONDS`, 36, "positive number"},
	{`[file:name = 'k'] WITHIN 5 MINUTES`, 27, "expected SECONDS"},
	{`[file:name = 'k'] REPEATS 2.5 TIMES`, 26, "positive integer"},
	{`[file:size > 10] START t'2020-01-01T00:00:00Z'`, 46, "expected STOP"},
	{`[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS WITHIN 6 SECONDS`, 47, "second WITHIN"},
	{`[file:hashes.MD5 = 'xyz']`, 19, "not a valid MD5 hash"},
	{`[file:hashes.'SHA-256' IN ('abc')]`, 27, "not a valid SHA-256 hash"},
	{`[file:name = 'unterminated]`, 13, "not closed"},
	{`[file:name = 'a'] /* open comment`, 18, "not closed"},
	{`[file:name = 'a'`, 16, "expected \"]\""},
	{`[file:x[1.5] = 1]`, 8, "list index"},
	{`[file:name IN ('a',)]`, 19, "expected a value"},
	{`[file:AND = 1]`, 6, "property name"},
	{`[fïle:name = 'a']`, 2, "unexpected character"},
	{``, 0, "expected an observation"},
	{`[file:name = 'a'] FOLLOWEDBY`, 28, "expected an observation"},
	{`[file:name =`, 12, "expected a value"},
}

func TestCheckPattern_Valid(t *testing.T) {
	for _, p := range validPatterns {
		if _, err := checkPattern(p); err != nil {
			t.Errorf("checkPattern(%s): %v", p, err)
		}
	}
}

func TestCheckPattern_InvalidWithOffset(t *testing.T) {
	for _, tt := range invalidPatterns {
		_, err := checkPattern(tt.pattern)
		var pe *patternError
		if !errors.As(err, &pe) {
			t.Errorf("checkPattern(%s) = %v, want a patternError", tt.pattern, err)
			continue
		}
		if pe.Offset != tt.offset || !strings.Contains(pe.Message, tt.words) {
			t.Errorf("checkPattern(%s) = %v; want offset %d and %q", tt.pattern, err, tt.offset, tt.words)
		}
	}
}

func TestCheckPattern_Warnings(t *testing.T) {
	tests := map[string]string{
		`[file:name = 'a' AND domain-name:value = 'b']`:                                "different object types",
		`[file:name = 'a'] REPEATS 0 TIMES`:                                            "REPEATS 0",
		`[file:name = 'a'] WITHIN 0 SECONDS`:                                           "WITHIN 0",
		`[file:name = 'a'] START t'2020-02-01T00:00:00Z' STOP t'2020-01-01T00:00:00Z'`: "not after START",
		`[email-message:to_refs[-1].value = 'a@example.com']`:                          "negative list index",
		`[vote-record:value = 'x']`:                                                    "not a STIX 2.1 cyber-observable",
		`[(file:name = 'a' OR domain-name:value = 'b') AND domain-name:value = 'c']`:   "",
		`[ipv4-addr:value = '198.51.100.1' OR file:name = 'y']`:                        "",
	}
	for pattern, want := range tests {
		warnings, err := checkPattern(pattern)
		if err != nil {
			t.Errorf("checkPattern(%s): %v", pattern, err)
			continue
		}
		got := strings.Join(warnings, "; ")
		if want == "" && got != "" || !strings.Contains(got, want) {
			t.Errorf("checkPattern(%s) warnings = %q, want %q", pattern, got, want)
		}
	}
}
