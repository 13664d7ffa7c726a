package pimc

import (
	"context"
	"testing"

	"vqs/rgsampler"
)

// BenchmarkSample is one measured sample on 8x8 with Lt = 36 (eps 0.2 of the default 8x8
// run): an HMC trajectory plus the slice averages. The measurement must not allocate.
func BenchmarkSample(b *testing.B) {
	target, err := rgsampler.NewPathIntegral(8, 2, 36, 0.2, 1, 24)
	if err != nil {
		b.Fatal(err)
	}
	h, err := rgsampler.NewHMC(target, target.Dims(), nil, rgsampler.HMCConfig{M2Floor: target.HartreeMass()}, 1, 1)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := h.Warmup(ctx, 100); err != nil {
		b.Fatal(err)
	}
	buf := [][]float64{make([]float64, target.Sites())}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := h.Sample(ctx, 1, buf); err != nil {
			b.Fatal(err)
		}
		sliceAverages(target.Model(), buf[0], 36)
	}
}

// BenchmarkSliceAverages is the measurement alone.
func BenchmarkSliceAverages(b *testing.B) {
	target, _ := rgsampler.NewPathIntegral(8, 2, 36, 0.2, 1, 24)
	phi := make([]float64, target.Sites())
	for i := range phi {
		phi[i] = float64(i%7) * 0.1
	}
	b.ReportAllocs()
	for range b.N {
		sliceAverages(target.Model(), phi, 36)
	}
}
