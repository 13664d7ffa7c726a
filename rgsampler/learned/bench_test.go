package learned

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"vqs/rgsampler"
)

// BenchmarkTrainStep times one Adam step of DSM (batch drawing, forward and backward pass)
// with the default network (4 channels, 2 hidden layers, 3x3 kernels) and batch 32, without
// the refit of the couplings that ends a Train call (see BenchmarkRefit).
func BenchmarkTrainStep(b *testing.B) {
	for _, L := range []int{8, 16} {
		b.Run(fmt.Sprintf("L=%d", L), func(b *testing.B) {
			dims := []int{L, L}
			m, _ := testModel(b, dims, nil, Config{Seed: 1})
			rng := rand.New(rand.NewPCG(1, 1))
			samples := freeSamples(b, dims, 0.5, 64, rng)
			ctx := context.Background()
			if err := m.Train(ctx, samples, 1, rng); err != nil { // builds the graph
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m.tr.fillBatch(samples, rng)
				if err := m.tr.step(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEval times the plain-Go score of one field at a mid level.
func BenchmarkEval(b *testing.B) {
	for _, dims := range [][]int{{16, 16}, {32, 32}, {8, 8, 8}} {
		b.Run(fmt.Sprint(dims), func(b *testing.B) {
			m, d := testModel(b, dims, nil, Config{Seed: 1})
			rng := rand.New(rand.NewPCG(2, 2))
			phi, dst := randomField(m.geo.n, rng), make([]float64, m.geo.n)
			level := d.Levels() / 2
			var s rgsampler.Score = m
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.Eval(dst, phi, level)
			}
		})
	}
}

// BenchmarkRefit times the closed-form refit of the couplings (FitDraws 512 per level, 13
// levels) that ends every Train call.
func BenchmarkRefit(b *testing.B) {
	dims := []int{16, 16}
	m, _ := testModel(b, dims, nil, Config{Seed: 1})
	rng := rand.New(rand.NewPCG(1, 1))
	samples := freeSamples(b, dims, 0.5, 64, rng)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := m.refitCouplings(context.Background(), samples, rng); err != nil {
			b.Fatal(err)
		}
	}
}
