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
func Envelope(first, count int) []byte {
	b := []byte(`{"objects":[`)
	for i := range count {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, Indicator(first+i)...)
	}
	return append(b, "]}"...)
}
