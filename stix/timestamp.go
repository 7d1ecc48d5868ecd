package stix

import (
	"fmt"
	"time"
)

// taxiiLayout formats TAXII timestamps: UTC with exactly microsecond precision.
const taxiiLayout = "2006-01-02T15:04:05.000000Z"

// FormatTAXII formats t as a TAXII timestamp (UTC, six fraction digits).
func FormatTAXII(t time.Time) string {
	var buf [len(taxiiLayout)]byte
	return string(appendTAXII(buf[:0], t))
}

// appendTAXII appends t formatted as FormatTAXII does. It writes the digits
// itself, a fraction of what time.Format costs: every page of objects and
// every manifest entry carries such timestamps.
func appendTAXII(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, taxiiLayout)
	}
	hour, minute, second := t.Clock()
	dst = appendDigits(dst, year, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, minute, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, second, 2)
	dst = append(dst, '.')
	dst = appendDigits(dst, t.Nanosecond()/1000, 6)
	return append(dst, 'Z')
}

// appendDigits appends n (non-negative) in exactly width decimal digits.
func appendDigits(dst []byte, n, width int) []byte {
	dst = append(dst, make([]byte, width)...)
	for i := len(dst) - 1; i >= len(dst)-width; i-- {
		dst[i] = byte('0' + n%10)
		n /= 10
	}
	return dst
}

// ParseTimestamp parses a STIX timestamp: RFC 3339 in UTC with a literal "Z"
// and an optional fraction of any length (digits past nanoseconds are
// dropped). Offsets other than Z, lowercase separators and impossible dates
// are errors.
func ParseTimestamp(s string) (time.Time, error) {
	bad := func(why string) (time.Time, error) {
		return time.Time{}, fmt.Errorf("%q is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s+]Z): %s", s, why)
	}
	if len(s) < 20 {
		return bad("too short")
	}
	if s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return bad("misplaced separator")
	}
	if s[len(s)-1] != 'Z' {
		return bad("must end in Z (UTC)")
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return bad("non-digit in date or time")
	}
	nsec := 0
	if len(s) > 20 {
		if s[19] != '.' || len(s) == 21 {
			return bad("malformed fraction")
		}
		frac := s[20 : len(s)-1]
		for i := 0; i < len(frac); i++ {
			c := frac[i]
			if c < '0' || c > '9' {
				return bad("non-digit in fraction")
			}
			if i < 9 {
				nsec = nsec*10 + int(c-'0')
			}
		}
		for i := len(frac); i < 9; i++ {
			nsec *= 10
		}
	}
	if month < 1 || month > 12 {
		return bad("month out of range")
	}
	if day < 1 || day > daysIn(time.Month(month), year) {
		return bad("day out of range")
	}
	if hour > 23 || minute > 59 || sec > 60 {
		return bad("time out of range")
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), nil
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m time.Month, year int) int {
	switch {
	case m == time.February && year%4 == 0 && (year%100 != 0 || year%400 == 0):
		return 29
	case m == time.February:
		return 28
	case m == time.April || m == time.June || m == time.September || m == time.November:
		return 30
	}
	return 31
}
