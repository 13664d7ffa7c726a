package learned

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"vqs/rgsampler"
)

// BenchmarkTrainStep times one Adam step of DSM (batch drawing, forward and backward pass),
// without the refit of the couplings that ends a Train call (see BenchmarkRefit), with the
// hand-written periodic convolution ops (conv=hand, the default) and with the graph built from
// gorgonia's Conv2d and periodic padding by slices (conv=gorgonia), side by side: the default
// network (4 channels, 2 hidden layers, batch 32) and the reference CNN of the issue that asked
// for the speed-up (16 channels, 2 hidden layers and an output layer of 3x3 kernels: 2,592
// weights, batch 64).
func BenchmarkTrainStep(b *testing.B) {
	nets := []struct {
		name string
		cfg  Config
	}{{"default", Config{Seed: 1}}, {"C16B64", Config{Seed: 1, Channels: 16, BatchSize: 64}}}
	for _, net := range nets {
		for _, L := range []int{16, 32} {
			for _, conv := range []string{"gorgonia", "hand"} {
				b.Run(fmt.Sprintf("net=%s/L=%d/conv=%s", net.name, L, conv), func(b *testing.B) {
					dims := []int{L, L}
					m, _ := testModel(b, dims, nil, net.cfg)
					rng := rand.New(rand.NewPCG(1, 1))
					samples := freeSamples(b, dims, 0.5, 64, rng)
					tr, err := newTrainerWith(m, conv == "gorgonia")
					if err != nil {
						b.Fatal(err)
					}
					tr.load(m.p)
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						tr.fillBatch(samples, rng)
						if err := tr.step(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
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
