package stix

import (
	"testing"

	"github.com/taxiihub/taxiihub/internal/synth"
)

// BenchmarkDecodeObject decodes realistic objects (internal/synth) one
// after another with one decoder, as an envelope's objects are read: the
// first step of validating one.
func BenchmarkDecodeObject(b *testing.B) {
	objs := make([]string, 100)
	size := 0
	for i := range objs {
		objs[i] = string(synth.Realistic(i))
		size += len(objs[i])
	}
	b.SetBytes(int64(size / len(objs)))
	b.ReportAllocs()
	var d decoder
	for i := 0; b.Loop(); i++ {
		d.text, d.pos = objs[i%len(objs)], 0
		if _, refusal, err := d.element(0); err != nil || refusal != nil {
			b.Fatal(err, refusal)
		}
	}
}
