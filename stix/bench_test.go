package stix

import (
	"fmt"
	"testing"
)

// typicalIndicator is an indicator as members post them, about 600 bytes.
func typicalIndicator(n int) []byte {
	return fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-000000000000",`+
		`"created_by_ref":"identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f","created":"2020-09-01T00:00:01.000Z","modified":"2020-09-01T00:00:01.000Z",`+
		`"name":"Influence operation infrastructure","description":"Infrastructure used to spread false claims about polling places and voting hours.",`+
		`"indicator_types":["malicious-activity"],"pattern":"[url:value = 'https://polls-%d.example/closed-today'] OR [domain-name:value = 'polls-%d.example']","pattern_type":"stix","valid_from":"2020-09-01T00:00:01.000Z",`+
		`"labels":["election-2020","influence-operation"],"confidence":80,`+
		`"object_marking_refs":["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]}`, n, n, n)
}

// BenchmarkValidateIndicator validates typical indicators, pattern included,
// on one goroutine.
func BenchmarkValidateIndicator(b *testing.B) {
	objs := make([][]byte, 1000)
	for i := range objs {
		objs[i] = typicalIndicator(i)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, problems := Validate(objs[i%len(objs)], Options{}); len(problems) != 0 {
			b.Fatal(problems)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "objects/s")
}

func BenchmarkCheckPattern(b *testing.B) {
	for b.Loop() {
		if _, err := checkPattern(`[network-traffic:dst_ref.value = '203.0.113.7' AND network-traffic:dst_port IN (443, 8443)] REPEATS 5 TIMES START t'2020-10-01T00:00:00Z' STOP t'2020-11-04T00:00:00Z'`); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "patterns/s")
}
