package rgsampler

import (
	"math"
	"testing"
)

// TestInfraredBridgeFree: on the free theory with the exact Gaussian score, a bridge on the
// infrared diffusion regenerates the infrared modes from their exact conditional (they are
// independent of the others), so every move is accepted, the ultraviolet modes never change,
// and the infrared ones have the exact propagator.
func TestInfraredBridgeFree(t *testing.T) {
	L, m2 := 8, 0.3
	target := must(NewPhi4(L, 2, m2, 0))
	prop := target.QuadraticKernel(m2)
	for k := range prop {
		prop[k] = 1 / prop[k]
	}
	cut := 1.2
	d := must(NewInfraredDiffusion(target.Dims(), HeatScheme, 0.5, nil, cut))
	in := InfraredModes(target.Dims(), cut)
	nIR := 0
	for _, ok := range in {
		if ok {
			nIR++
		}
	}
	if nIR != 5 {
		t.Fatalf("%d infrared modes below |n| < 1.2 in 2D, want 5", nIR)
	}
	init := make([]float64, target.Sites())
	for x := range init {
		init[x] = math.Sin(float64(3 * x)) // a field with ultraviolet content to keep
	}
	sc := must(GaussianScore(d, prop))
	b := must(NewBridge(target, d, sc, init, BridgeConfig{}, 31, 0))
	samples, acc := collect(t, b, 3000, target.Sites())
	if acc < 0.999999 {
		t.Errorf("infrared acceptance %.9f with the exact score, want 1", acc)
	}
	f := newMeasurer(target.Dims()).plan
	k0 := make([]complex128, f.HalfModes())
	k1 := make([]complex128, f.HalfModes())
	f.ForwardHalf(k0, init)
	f.ForwardHalf(k1, samples[len(samples)-1])
	full := halfToFull(f, in)
	for h := range k0 {
		if !full[h] && abs2(k1[h]-k0[h]) > 1e-18*float64(target.Sites()) {
			t.Fatalf("ultraviolet half-spectrum mode %d moved: %v -> %v", h, k0[h], k1[h])
		}
	}
	// The infrared modes have the exact propagator; the others keep their start's power.
	modes := make([]float64, target.Sites())
	series := make([][]float64, target.Sites())
	for _, s := range samples {
		f.Modes(modes, s)
		for k, v := range modes {
			if in[k] {
				series[k] = append(series[k], v)
			}
		}
	}
	for k, s := range series {
		if s == nil {
			continue
		}
		checkMean(t, "IR mode power", s, prop[k], 4.5)
	}
}

// halfToFull marks the half-spectrum modes whose momentum is in the set in (indexed like
// sites): the half spectrum keeps n0 <= L0/2 with the other axes in full.
func halfToFull(f interface{ Dims() []int }, in []bool) []bool {
	dims := f.Dims()
	H := dims[0]/2 + 1
	rest := len(in) / dims[0]
	out := make([]bool, H*rest)
	for r := 0; r < rest; r++ {
		for k0 := 0; k0 < H; k0++ {
			out[r*H+k0] = in[r*dims[0]+k0]
		}
	}
	return out
}

func abs2(c complex128) float64 { return real(c)*real(c) + imag(c)*imag(c) }
