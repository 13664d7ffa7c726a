package rgsampler

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"vqs/internal/latfft"
)

// realOnly hides every method of a Score but Eval and Clone, so that the bridge must take the
// real-space path (its adapter) for it.
type realOnly struct{ s Score }

func (r realOnly) Eval(dst, phi []float64, level int) { r.s.Eval(dst, phi, level) }
func (r realOnly) Clone() Score                       { return realOnly{r.s.Clone()} }

// TestEvalSpectrumMatchesEval: every SpectralScore's EvalSpectrum is the half spectrum of its
// Eval, on a box whose sides differ (a path integral), at every level.
func TestEvalSpectrumMatchesEval(t *testing.T) {
	target := must(NewPathIntegral(4, 1, 6, 0.3, -0.5, 6))
	dims := target.Dims()
	d := must(NewDiffusionBox(dims, PolchinskiScheme, 0.7, nil))
	c0 := target.QuadraticKernel(0.8)
	for k := range c0 {
		c0[k] = 1 / c0[k]
	}
	gs := must(GaussianScore(d, c0))
	den0 := must(DenoisedScore(target, d, c0, 0))
	den1 := must(DenoisedScore(target, d, c0, 1))
	p, _ := latfft.NewBoxPlan(dims)
	rng := rand.New(rand.NewPCG(7, 7))
	phi := make([]float64, p.N)
	for i := range phi {
		phi[i] = rng.NormFloat64()
	}
	phiK := make([]complex128, p.HalfModes())
	p.ForwardHalf(phiK, phi)
	real, want, got := make([]float64, p.N), make([]complex128, p.HalfModes()), make([]complex128, p.HalfModes())
	for name, s := range map[string]Score{"gaussian": gs, "denoised": den0, "denoised it1": den1,
		"split": SplitScore(den1, gs, 3), "clone": den1.Clone()} {
		sp, ok := s.(SpectralScore)
		if !ok {
			t.Fatalf("%s: not a SpectralScore", name)
		}
		for lv := 0; lv < d.Levels(); lv++ {
			s.Eval(real, phi, lv)
			p.ForwardHalf(want, real)
			var field []float64
			if sp.NeedsField(lv) {
				field = phi
			}
			sp.EvalSpectrum(got, field, phiK, lv)
			// Both sides carry rounding relative to the largest mode (deep levels have a wide
			// dynamic range between the stiff UV modes and the soft zero mode).
			scale := 0.0
			for _, c := range want {
				scale = math.Max(scale, cmplx.Abs(c))
			}
			for h := range got {
				if cmplx.Abs(got[h]-want[h]) > 1e-12*scale {
					t.Fatalf("%s level %d mode %d: EvalSpectrum %v, transform of Eval %v (largest mode %g)", name, lv, h, got[h], want[h], scale)
				}
			}
		}
	}
	if _, ok := SplitScore(realOnly{den1}, gs, 3).(SpectralScore); ok {
		t.Fatal("a split with a real-space part claims to be spectral")
	}
}

// TestBridgeRealSpaceScoreOnBox: with the exact score of a free path integral (a box whose sides
// differ) given as a real-space-only Score, the bridge still proposes from the exact joint law:
// every full-depth move is accepted and the propagator is exact.
func TestBridgeRealSpaceScoreOnBox(t *testing.T) {
	m2 := 0.6
	target := must(NewPathIntegral(4, 1, 6, 0.4, m2, 0))
	prop := target.QuadraticKernel(m2)
	for k := range prop {
		prop[k] = 1 / prop[k]
	}
	d := must(NewDiffusionBox(target.Dims(), HeatScheme, 1, nil))
	K := d.Levels() - 1
	sc := realOnly{must(GaussianScore(d, prop))}
	b := must(NewBridge(target, d, sc, nil, BridgeConfig{Depths: []int{K, K / 2}, Reference: prop}, 31, 0))
	samples, acc := collect(t, b, 3000, target.Sites())
	maxZ, meanZ2 := powerSpectrumCheck(t, target.Dims(), samples, prop)
	t.Logf("acceptance %.12f, max |z| %.2f, mean z^2 %.2f", acc, maxZ, meanZ2)
	if acc < 0.999999 {
		t.Errorf("acceptance %.9f with the exact score, want 1", acc)
	}
	if maxZ > 4.5 || meanZ2 > 2 || math.IsNaN(meanZ2) {
		t.Errorf("power spectrum off the exact propagator")
	}
}
