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
	"fmt"
	"os"
	"strconv"
	"strings"
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
	b := []byte(`{"objects":[`)
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
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", label, n))
	b := sum[:16]
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
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
func Realistic(n int) []byte {
	t := base.Add(time.Duration(n) * time.Second).Format("2006-01-02T15:04:05.000Z")
	id := RealisticID(n)
	var description strings.Builder
	for i := range 1 + n%7 { // the size varies with n
		description.WriteString(sentences[(n+i)%len(sentences)] + " ")
	}
	desc := strings.TrimSpace(description.String())
	common := fmt.Sprintf(`"spec_version":"2.1","id":%q,"created_by_ref":"identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f","created":%q,"modified":%q,`, id, t, t)
	marking := `"object_marking_refs":["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]`
	// Relationships and sightings point at the indicator before them.
	target := n - n%20
	switch realisticType(n) {
	case "malware":
		return fmt.Appendf(nil, `{"type":"malware",%s"name":"Influence toolkit %d","description":%q,"malware_types":["bot","spyware"],"is_family":true,"aliases":["ballot-%d"],"kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":%q}],"labels":["election-2020"],%s}`,
			common, n, desc, n%97, phases[n%len(phases)], marking)
	case "relationship":
		return fmt.Appendf(nil, `{"type":"relationship",%s"relationship_type":"indicates","description":%q,"source_ref":%q,"target_ref":%q,%s}`,
			common, desc, RealisticID(target), RealisticID(target+7), marking)
	case "sighting":
		return fmt.Appendf(nil, `{"type":"sighting",%s"description":%q,"sighting_of_ref":%q,"where_sighted_refs":["identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f"],"count":%d,"first_seen":%q,"last_seen":%q,%s}`,
			common, desc, RealisticID(target), 1+n%50, t, t, marking)
	case "identity":
		return fmt.Appendf(nil, `{"type":"identity",%s"name":"Field office %d","description":%q,"identity_class":"organization","sectors":["government-national"],"contact_information":"soc-%d@fbi.example",%s}`,
			common, n, desc, n%100, marking)
	}
	return fmt.Appendf(nil, `{"type":"indicator",%s"name":"Influence operation infrastructure %d","description":%q,`+
		`"indicator_types":["malicious-activity","attribution"],"pattern":"[domain-name:value = 'vote-info-%d.example'] OR [url:value = 'https://polls-%d.example/closed-today']","pattern_type":"stix","valid_from":%q,`+
		`"kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":%q}],"labels":["election-2020","influence-operation"],"confidence":%d,`+
		`"external_references":[{"source_name":"fbi-case","external_id":"EL-%06d","url":"https://cases.fbi.example/EL-%06d"}],%s}`,
		common, n, desc, n, n, t, phases[n%len(phases)], 40+n%60, n, n, marking)
}

// RealisticEnvelope is a TAXII envelope of the realistic objects
// first..first+count-1.
func RealisticEnvelope(first, count int) []byte { return envelope(first, count, Realistic) }
