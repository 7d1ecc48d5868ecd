package synth

import (
	"testing"

	"github.com/TcM1911/stix2"
	"github.com/taxiihub/taxiihub/stix"
)

func TestIndicatorsAreDistinctAndWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range append(rangeOf(0, 5000), rangeOf(1<<31-100, 1<<31+100)...) {
		m, problems := stix.Validate(Indicator(n), stix.Options{})
		if err := stix.Err(problems); err != nil || len(problems) > 0 {
			t.Fatalf("indicator %d: %v", n, err)
		}
		if m.ID != ID(n) || seen[m.ID] {
			t.Fatalf("indicator %d: id %s repeats or differs from ID(n)", n, m.ID)
		}
		seen[m.ID] = true
	}
	env, err := stix.ParseEnvelope(Envelope(10, 3))
	if err != nil || len(env.Objects) != 3 {
		t.Fatalf("Envelope: %d objects, %v", len(env.Objects), err)
	}
}

func rangeOf(from, to int) []int {
	var out []int
	for n := from; n < to; n++ {
		out = append(out, n)
	}
	return out
}

// The design card's library reads the synthetic indicators as what they
// claim to be.
func TestIndicatorsParseWithTheSTIX2Library(t *testing.T) {
	c, err := stix2.FromJSON(Envelope(0, 100))
	if err != nil {
		t.Fatal(err)
	}
	for n := range 100 {
		if ind := c.Indicator(stix2.Identifier(ID(n))); ind == nil || ind.Pattern == "" {
			t.Fatalf("indicator %d: %+v", n, ind)
		}
	}
}

// Realistic objects are valid STIX of several types, 500 to 1,500 bytes,
// with ids in no order; the design card's library reads them too.
func TestRealisticObjects(t *testing.T) {
	types := map[string]int{}
	ordered := 0
	for n := range 2000 {
		raw := Realistic(n)
		m, problems := stix.Validate(raw, stix.Options{})
		if err := stix.Err(problems); err != nil {
			t.Fatalf("object %d: %v\n%s", n, err, raw)
		}
		if len(raw) < 500 || len(raw) > 1500 {
			t.Fatalf("object %d is %d bytes", n, len(raw))
		}
		if m.ID != RealisticID(n) {
			t.Fatalf("object %d: id %s", n, m.ID)
		}
		if n > 0 && RealisticID(n) > RealisticID(n-1) {
			ordered++
		}
		types[m.Type]++
	}
	if len(types) != 5 || types["indicator"] < 1000 || ordered > 1200 {
		t.Fatalf("types %v; %d of 2000 ids follow the one before in order", types, ordered)
	}
	if _, err := stix2.FromJSON(RealisticEnvelope(0, 100)); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkRealisticEnvelope is what taxiiload spends making a POST's
// body: the generator shares the hub's cores in make bench.
func BenchmarkRealisticEnvelope(b *testing.B) {
	n := 0
	for b.Loop() {
		envelope := RealisticEnvelope(n, 1000)
		b.SetBytes(int64(len(envelope)))
		n += 1000
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "us/object")
}
