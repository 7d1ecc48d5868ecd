package stix

import (
	"testing"

	"github.com/taxiihub/taxiihub/internal/synth"
)

// BenchmarkDecodeObject decodes realistic objects (internal/synth), the
// first step of validating one.
func BenchmarkDecodeObject(b *testing.B) {
	objs := make([][]byte, 100)
	size := 0
	for i := range objs {
		objs[i] = synth.Realistic(i)
		size += len(objs[i])
	}
	b.SetBytes(int64(size / len(objs)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := decodeObject(objs[i%len(objs)]); err != nil {
			b.Fatal(err)
		}
	}
}
