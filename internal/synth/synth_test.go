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
