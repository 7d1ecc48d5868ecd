// Package synth makes deterministic, realistic STIX 2.1 objects in bulk for
// benchmarks and load tests: indicators of the kind members share (domains,
// URLs, IP addresses), each about 600 bytes. They are written as bytes, not
// built with github.com/TcM1911/stix2 as the demo's dataset is: make bench
// makes a million of them, and the library would add its cost to every one
// and write their keys in alphabetical order, where members' clients write
// type and id first. Tests check that both the hub and the library read
// them.
package synth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"time"
)

// BenchObjects is how many objects read benchmarks store: the environment's
// TAXIIHUB_BENCH_OBJECTS, else 20,000 (small enough for CI).
func BenchObjects() int {
	if n, err := strconv.Atoi(os.Getenv("TAXIIHUB_BENCH_OBJECTS")); err == nil && n > 0 {
		return n
	}
	return 20000
}

// base is the created time of object 0; later objects are a second apart.
var base = time.Date(2020, 9, 1, 0, 0, 0, 0, time.UTC)

// ID returns the id of the n-th indicator.
func ID(n int) string {
	return fmt.Sprintf("indicator--%08x-%04x-4%03x-8%03x-%012x", uint32(n), n>>16&0xffff, n&0xfff, n>>4&0xfff, uint64(n)*2654435761&(1<<48-1))
}

// Indicator returns the n-th indicator's JSON.
func Indicator(n int) []byte {
	t := base.Add(time.Duration(n) * time.Second).Format("2006-01-02T15:04:05.000Z")
	var pattern string
	switch n % 3 {
	case 0:
		pattern = fmt.Sprintf("[domain-name:value = 'vote-info-%d.example']", n)
	case 1:
		pattern = fmt.Sprintf("[url:value = 'https://polls-%d.example/closed-today']", n)
	default:
		pattern = fmt.Sprintf("[ipv4-addr:value = '198.51.%d.%d']", n>>8&0xff, n&0xff)
	}
	return fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":%q,`+
		`"created_by_ref":"identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f","created":%q,"modified":%q,`+
		`"name":"Influence operation infrastructure %d","description":"Infrastructure used to spread false claims about polling places and voting hours.",`+
		`"indicator_types":["malicious-activity"],"pattern":%q,"pattern_type":"stix","valid_from":%q,`+
		`"labels":["election-2020","influence-operation"],"confidence":80,`+
		`"object_marking_refs":["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]}`,
		ID(n), t, t, n, pattern, t)
}

// Envelope returns a TAXII envelope of the indicators first..first+count-1.
func Envelope(first, count int) []byte { return envelope(first, count, Indicator) }

// envelope is a TAXII envelope of the objects object(first) on.
func envelope(first, count int, object func(int) []byte) []byte {
	b := make([]byte, 0, count*1536)
	b = append(b, `{"objects":[`...)
	for i := range count {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, object(first+i)...)
	}
	return append(b, "]}"...)
}

// RealisticID is the id of the n-th realistic object: a UUIDv4 drawn from
// n, so that ids arrive in no order, as real STIX ids do.
func RealisticID(n int) string {
	return realisticType(n) + "--" + uuidFrom("object", n)
}

// uuidFrom is a UUIDv4 made deterministic from a label and n.
func uuidFrom(label string, n int) string {
	var in [64]byte
	sum := sha256.Sum256(strconv.AppendInt(append(append(in[:0], label...), '/'), int64(n), 10))
	b := sum[:16]
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	hex.Encode(out[9:13], b[4:6])
	hex.Encode(out[14:18], b[6:8])
	hex.Encode(out[19:23], b[8:10])
	hex.Encode(out[24:36], b[10:16])
	out[8], out[13], out[18], out[23] = '-', '-', '-', '-'
	return string(out[:])
}

// realisticType is the type of the n-th realistic object: mostly
// indicators, with malware, relationships, sightings and identities, in the
// proportions of the election dataset.
func realisticType(n int) string {
	switch n % 20 {
	case 7:
		return "malware"
	case 8, 9, 10, 11:
		return "relationship"
	case 12, 13:
		return "sighting"
	case 14:
		return "identity"
	}
	return "indicator"
}

var (
	sentences = []string{
		"Infrastructure used to spread false claims about polling places and voting hours.",
		"Seen amplifying fabricated reports of ballots discarded by county officials.",
		"Registered days before the primary and pointed at a lookalike of a state election site.",
		"Part of a coordinated network posing as local news outlets in swing states.",
		"Hosts a phishing lure aimed at county election officials' webmail.",
		"Shared by two platforms after takedowns of the accounts that promoted it.",
	}
	phases = []string{"reconnaissance", "resource-development", "initial-access", "impact"}
)

// Realistic is the n-th realistic object, 500 to 1,500 bytes, made by the
// FBI (so one FBI token may post them all): indicators with descriptions,
// labels, markings, external references and kill-chain phases, and some
// malware, relationships, sightings and identities.
//
// It is written with appends, not fmt: taxiiload makes every object make
// bench posts, on the cores the hub is measured on. Every string it quotes
// is plain (letters, digits, punctuation), so quoting is adding quotes.
func Realistic(n int) []byte {
	var tb [24]byte
	t := string(base.Add(time.Duration(n)*time.Second).AppendFormat(tb[:0], "2006-01-02T15:04:05.000Z"))
	typ := realisticType(n)
	b := make([]byte, 0, 1536)
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","spec_version":"2.1","id":`...)
	b = quoted(b, typ+"--"+uuidFrom("object", n))
	b = append(b, `,"created_by_ref":"identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f","created":`...)
	b = quoted(b, t)
	b = append(b, `,"modified":`...)
	b = quoted(b, t)
	b = append(b, ',')
	// Relationships and sightings point at the indicator before them.
	target := n - n%20
	switch typ {
	case "malware":
		b = append(b, `"name":"Influence toolkit `...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, `","description":`...)
		b = appendDescription(b, n)
		b = append(b, `,"malware_types":["bot","spyware"],"is_family":true,"aliases":["ballot-`...)
		b = strconv.AppendInt(b, int64(n%97), 10)
		b = append(b, `"],"kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":`...)
		b = quoted(b, phases[n%len(phases)])
		b = append(b, `}],"labels":["election-2020"],`...)
	case "relationship":
		b = append(b, `"relationship_type":"indicates","description":`...)
		b = appendDescription(b, n)
		b = append(b, `,"source_ref":`...)
		b = quoted(b, RealisticID(target))
		b = append(b, `,"target_ref":`...)
		b = quoted(b, RealisticID(target+7))
		b = append(b, ',')
	case "sighting":
		b = append(b, `"description":`...)
		b = appendDescription(b, n)
		b = append(b, `,"sighting_of_ref":`...)
		b = quoted(b, RealisticID(target))
		b = append(b, `,"where_sighted_refs":["identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f"],"count":`...)
		b = strconv.AppendInt(b, int64(1+n%50), 10)
		b = append(b, `,"first_seen":`...)
		b = quoted(b, t)
		b = append(b, `,"last_seen":`...)
		b = quoted(b, t)
		b = append(b, ',')
	case "identity":
		b = append(b, `"name":"Field office `...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, `","description":`...)
		b = appendDescription(b, n)
		b = append(b, `,"identity_class":"organization","sectors":["government-national"],"contact_information":"soc-`...)
		b = strconv.AppendInt(b, int64(n%100), 10)
		b = append(b, `@fbi.example",`...)
	default:
		b = append(b, `"name":"Influence operation infrastructure `...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, `","description":`...)
		b = appendDescription(b, n)
		b = append(b, `,"indicator_types":["malicious-activity","attribution"],"pattern":"[domain-name:value = 'vote-info-`...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, `.example'] OR [url:value = 'https://polls-`...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, `.example/closed-today']","pattern_type":"stix","valid_from":`...)
		b = quoted(b, t)
		b = append(b, `,"kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":`...)
		b = quoted(b, phases[n%len(phases)])
		b = append(b, `}],"labels":["election-2020","influence-operation"],"confidence":`...)
		b = strconv.AppendInt(b, int64(40+n%60), 10)
		b = append(b, `,"external_references":[{"source_name":"fbi-case","external_id":"EL-`...)
		b = appendCase(b, n)
		b = append(b, `","url":"https://cases.fbi.example/EL-`...)
		b = appendCase(b, n)
		b = append(b, `"}],`...)
	}
	return append(b, `"object_marking_refs":["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]}`...)
}

// quoted appends s as a JSON string; s needs no escaping.
func quoted(b []byte, s string) []byte {
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendDescription appends the n-th object's description as a JSON
// string: 1 to 7 sentences, so that the size varies with n.
func appendDescription(b []byte, n int) []byte {
	b = append(b, '"')
	for i := range 1 + n%7 {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, sentences[(n+i)%len(sentences)]...)
	}
	return append(b, '"')
}

// appendCase appends n as a case number: at least six digits.
func appendCase(b []byte, n int) []byte {
	for d := 100000; d > 1 && n < d; d /= 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(n), 10)
}

// RealisticEnvelope is a TAXII envelope of the realistic objects
// first..first+count-1.
func RealisticEnvelope(first, count int) []byte { return envelope(first, count, Realistic) }
