package audit

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// appendCanonical appends r's canonical encoding: exactly what
// encoding/json's Marshal gives for r (Hash as it is, Time as it is),
// written field by field. Marshal's reflection cost a single-object GET
// more than hashing its record; FuzzCanonical holds the two to the same
// bytes.
func (r *Record) appendCanonical(b []byte) []byte {
	b = strconv.AppendUint(append(b, `{"seq":`...), r.Seq, 10)
	b = appendTime(append(b, `,"time":`...), r.Time)
	b = appendField(b, "request_id", r.RequestID, false)
	b = appendField(b, "client_request_id", r.ClientRequestID, true)
	b = appendField(b, "org", r.Org, true)
	b = appendField(b, "subject", r.Subject, true)
	b = appendField(b, "token_id", r.TokenID, true)
	b = appendField(b, "auth_method", r.AuthMethod, false)
	b = appendField(b, "remote_addr", r.RemoteAddr, false)
	b = appendField(b, "user_agent", r.UserAgent, true)
	b = appendField(b, "method", r.Method, false)
	b = appendField(b, "path", r.Path, false)
	b = appendField(b, "api_root", r.APIRoot, true)
	b = appendField(b, "collection", r.Collection, true)
	b = appendField(b, "action", r.Action, false)
	b = strconv.AppendInt(append(b, `,"status":`...), int64(r.Status), 10)
	b = appendField(b, "reason", r.Reason, true)
	b = appendField(b, "claimed", r.Claimed, true)
	b = appendField(b, "claimed_org", r.ClaimedOrg, true)
	b = appendVersions(b, "stored", r.Stored)
	b = appendVersions(b, "unchanged", r.Unchanged)
	b = appendVersions(b, "refused", r.Refused)
	b = appendVersions(b, "deleted", r.Deleted)
	if r.Returned != 0 {
		b = strconv.AppendInt(append(b, `,"returned":`...), int64(r.Returned), 10)
	}
	if r.AddedFirst != nil {
		b = appendTime(append(b, `,"added_first":`...), *r.AddedFirst)
	}
	if r.AddedLast != nil {
		b = appendTime(append(b, `,"added_last":`...), *r.AddedLast)
	}
	if r.Omitted != 0 {
		b = strconv.AppendInt(append(b, `,"omitted":`...), int64(r.Omitted), 10)
	}
	b = appendField(b, "prev", r.Prev, false)
	b = appendField(b, "hash", r.Hash, false)
	return append(b, '}')
}

// appendField appends ,"name":value (nothing when omitEmpty and value is "").
func appendField(b []byte, name, value string, omitEmpty bool) []byte {
	if omitEmpty && value == "" {
		return b
	}
	b = append(append(append(b, `,"`...), name...), `":`...)
	return appendString(b, value)
}

func appendVersions(b []byte, name string, list []ObjectVersion) []byte {
	if len(list) == 0 {
		return b
	}
	b = append(append(append(b, `,"`...), name...), `":[`...)
	for i, v := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(append(b, `{"id":`...), v.ID)
		b = appendString(append(b, `,"version":`...), v.Version)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendTime appends t as time.Time's MarshalJSON does: RFC 3339 with
// nanoseconds, in t's own zone. Years outside 0-9999 have no such form
// (Marshal fails on them); a record's times are the hub's clock.
func appendTime(b []byte, t time.Time) []byte {
	if y := t.Year(); y < 0 || y > 9999 {
		panic("audit: a record's time is outside years 0-9999: " + t.String())
	}
	return append(t.AppendFormat(append(b, '"'), time.RFC3339Nano), '"')
}

// plain marks the bytes appendString copies as they are: ASCII that JSON
// and HTML take unescaped. Every other byte takes the slow path.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s as a JSON string the way encoding/json does:
// quote and backslash escaped, control characters as \b \f \n \r \t or
// \u00XX, and, for HTML safety, <, > and & as \u003c, \u003e, \u0026;
// U+2028 and U+2029 escaped; invalid UTF-8 as \ufffd.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		for i < len(s) && plain[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}
