package rgsampler

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkHMCTrajectory and BenchmarkBridgeFullDepth measure one sample of each sampler on
// the 2D critical-region action with the Gaussian score (allocations must be 0).
func BenchmarkHMCTrajectory(b *testing.B) {
	for _, L := range []int{16, 32} {
		b.Run(fmt.Sprint("L=", L), func(b *testing.B) {
			target := must(NewPhi4(L, 2, -3.7, 24))
			h := must(NewHMC(target, target.Dims(), nil, HMCConfig{M2Floor: target.HartreeMass()}, 1, 0))
			out := [][]float64{make([]float64, target.Sites())}
			b.ReportAllocs()
			for b.Loop() {
				h.Sample(context.Background(), 1, out)
			}
		})
	}
}

func BenchmarkBridgeFullDepth(b *testing.B) {
	for _, L := range []int{16, 32} {
		b.Run(fmt.Sprint("L=", L), func(b *testing.B) {
			target := must(NewPhi4(L, 2, 0.5, 0))
			d := must(NewDiffusionBox(target.Dims(), HeatScheme, 1, nil))
			c0 := target.QuadraticKernel(0.5)
			for k := range c0 {
				c0[k] = 1 / c0[k]
			}
			br := must(NewBridge(target, d, must(GaussianScore(d, c0)), nil, BridgeConfig{Depths: []int{d.Levels() - 1}}, 1, 0))
			out := [][]float64{make([]float64, target.Sites())}
			b.ReportAllocs()
			for b.Loop() {
				br.Sample(context.Background(), 1, out)
			}
		})
	}
}

// BenchmarkBridgeFullDepthDenoised is a full-depth move driven by the denoised score, which
// evaluates the target's gradient on the field (a score with real work at every level).
func BenchmarkBridgeFullDepthDenoised(b *testing.B) {
	for _, L := range []int{16, 32} {
		b.Run(fmt.Sprint("L=", L), func(b *testing.B) {
			target := must(NewPhi4(L, 2, -3.7, 24))
			mh := target.HartreeMass()
			d := must(NewDiffusionBox(target.Dims(), HeatScheme, mh, nil))
			c0 := target.QuadraticKernel(mh)
			for k := range c0 {
				c0[k] = 1 / c0[k]
			}
			br := must(NewBridge(target, d, must(DenoisedScore(target, d, c0, 0)), nil, BridgeConfig{Depths: []int{d.Levels() - 1}}, 1, 0))
			out := [][]float64{make([]float64, target.Sites())}
			b.ReportAllocs()
			for b.Loop() {
				br.Sample(context.Background(), 1, out)
			}
		})
	}
}
