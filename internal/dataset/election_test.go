package dataset

import (
	"bytes"
	"maps"
	"os"
	"testing"

	"github.com/taxiihub/taxiihub/stix"
)

// The dataset is deterministic, is what testdata holds (go generate ran),
// and every object the library built passes the hub's own validation.
func TestElection2020(t *testing.T) {
	data, err := Election2020()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Election2020()
	if !bytes.Equal(data, again) {
		t.Fatal("two runs built different bytes")
	}
	committed, err := os.ReadFile("../../testdata/bundles/election-2020.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, committed) {
		t.Fatal("testdata/bundles/election-2020.json is not what the generator builds: run go generate ./internal/dataset")
	}
	env, err := stix.ParseEnvelope(data)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for i, raw := range env.Objects {
		m, problems := stix.Validate(raw, stix.Options{RefuseCustom: true})
		if err := stix.Err(problems); err != nil {
			t.Errorf("objects[%d] (%s): %v", i, m.ID, err)
		}
		types[m.Type]++
	}
	want := map[string]int{"indicator": 265, "relationship": 255, "sighting": 30, "identity": 7, "attack-pattern": 5,
		"campaign": 4, "report": 4, "marking-definition": 3, "threat-actor": 3, "intrusion-set": 3}
	if !maps.Equal(types, want) {
		t.Fatalf("objects by type %v, want %v", types, want)
	}
}
