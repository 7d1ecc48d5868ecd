package stix

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// TLP is a Traffic Light Protocol level, least restrictive first. TLP 1.0
// WHITE and TLP 2.0 CLEAR are the same level.
type TLP int

// TLP levels.
const (
	TLPClear TLP = iota
	TLPGreen
	TLPAmber
	TLPAmberStrict
	TLPRed
)

var tlpNames = []string{"TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"}

func (t TLP) String() string { return tlpNames[t] }

// tlpByName are the levels as config files spell them.
var tlpByName = map[string]TLP{"clear": TLPClear, "white": TLPClear, "green": TLPGreen, "amber": TLPAmber, "amber+strict": TLPAmberStrict, "red": TLPRed}

// ParseTLP reads a level as config files spell it: clear, white, green,
// amber, amber+strict or red.
func ParseTLP(name string) (TLP, bool) {
	t, ok := tlpByName[name]
	return t, ok
}

// TLPNames are the names ParseTLP reads, least restrictive first.
func TLPNames() []string {
	names := slices.Collect(maps.Keys(tlpByName))
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(tlpByName[a], tlpByName[b]), strings.Compare(b, a)) })
	return names
}

// tlpMarkings are the marking-definition ids of TLP 1.0 (STIX 2.1 itself)
// and TLP 2.0 (the OASIS CTI TC's common objects).
var tlpMarkings = map[string]TLP{
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": TLPClear, // TLP 1.0 WHITE
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": TLPGreen,
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": TLPAmber,
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": TLPRed,
	"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": TLPClear, // TLP 2.0
	"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": TLPGreen,
	"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": TLPAmber,
	"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": TLPAmberStrict,
	"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": TLPRed,
}

// TLPOf returns the TLP level a marking-definition id stands for.
func TLPOf(markingID string) (TLP, bool) {
	t, ok := tlpMarkings[CanonicalID(markingID)]
	return t, ok
}
