package boltstore

import (
	"fmt"
	"testing"
)

// A full generation's filter holds every id it was given and says "maybe"
// for few others; kept and read back, it says the same.
func TestBloom(t *testing.T) {
	f := new(bloom)
	id := func(i int) []byte { return fmt.Appendf(nil, "indicator--%08x-0000-4000-8000-%012x", i, i*7919) }
	const held = generationKeys / 2 // an owner and a version per object
	for i := range held {
		f.add(hashID(id(i)))
	}
	kept, ok := decodeBloom(f.encode())
	if !ok {
		t.Fatal("a kept filter does not read back")
	}
	for i := range held {
		if !f.mayHold(hashID(id(i))) || !kept.mayHold(hashID(id(i))) {
			t.Fatalf("the filter lost %s", id(i))
		}
	}
	maybes := 0
	for i := held; i < held+100000; i++ {
		if f.mayHold(hashID(id(i))) {
			maybes++
		}
	}
	if maybes > 500 { // 0.5%
		t.Fatalf("%d of 100,000 ids not held were a maybe", maybes)
	}
	t.Logf("false maybes: %d of 100,000", maybes)
}
