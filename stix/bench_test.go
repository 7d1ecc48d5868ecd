package stix

import (
	"fmt"
	"testing"

	"github.com/TcM1911/stix2"

	"github.com/taxiihub/taxiihub/internal/synth"
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

// bundleOf1000 is a bundle of 1,000 typical indicators.
func bundleOf1000() []byte {
	b := []byte(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[`)
	for i := range 1000 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, typicalIndicator(i)...)
	}
	return append(b, "]}"...)
}

// BenchmarkBundle compares what ingest costs the hub (stix.CheckEnvelope:
// reading the bundle and validating each object, on the raw bytes) with
// reading the same bundle into the design card's library (stix2.FromJSON),
// per object.
func BenchmarkBundle(b *testing.B) {
	bundle := bundleOf1000()
	for _, reader := range []struct {
		name string
		read func() error
	}{
		{"stix.CheckEnvelope", func() error {
			checked, err := CheckEnvelope(bundle, Options{}, nil)
			if err != nil {
				return err
			}
			for _, c := range checked {
				if c.Refused() {
					return Err(c.Problems)
				}
			}
			return nil
		}},
		{"stix2.FromJSON", func() error {
			_, err := stix2.FromJSON(bundle)
			return err
		}},
	} {
		b.Run(reader.name, func(b *testing.B) {
			b.SetBytes(int64(len(bundle)))
			for b.Loop() {
				if err := reader.read(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*1000), "µs/object")
		})
	}
}

// BenchmarkParseEnvelope splits a 1,000-object bundle into its objects.
func BenchmarkParseEnvelope(b *testing.B) {
	bundle := bundleOf1000()
	b.SetBytes(int64(len(bundle)))
	b.ReportAllocs()
	for b.Loop() {
		env, err := ParseEnvelope(bundle)
		if err != nil || len(env.Objects) != 1000 {
			b.Fatal(len(env.Objects), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/object")
}

// BenchmarkIngestCheck is the hub's ingest check of 1,000 realistic objects
// (internal/synth: 500 to 1,500 bytes, five types) as a POST runs it:
// CheckEnvelope.
func BenchmarkIngestCheck(b *testing.B) {
	body := synth.RealisticEnvelope(0, 1000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		checked, err := CheckEnvelope(body, Options{}, nil)
		if err != nil || len(checked) != 1000 {
			b.Fatal(len(checked), err)
		}
		for _, c := range checked {
			if c.Refused() {
				b.Fatal(Summary(c.Problems))
			}
		}
	}
	perObject := float64(b.N * 1000)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1000/perObject, "µs/object")
	b.ReportMetric(float64(testing.AllocsPerRun(1, func() { CheckEnvelope(body, Options{}, nil) }))/1000, "allocs/object")
}
