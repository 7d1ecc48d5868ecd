package synth

import (
	"testing"

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
