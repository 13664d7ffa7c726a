package rgsampler

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDenoisedScoreLimits: at level 0 the denoised score is the target's own gradient, and for
// a free target whose covariance is the reference it is the exact Gaussian score at every level.
func TestDenoisedScoreLimits(t *testing.T) {
	inter := must(NewPhi4(6, 2, -1, 12))
	free, prop, d := freeSetup(t, 6, 0.4, HeatScheme)
	rng := rand.New(rand.NewPCG(5, 0))
	phi := make([]float64, 36)
	for i := range phi {
		phi[i] = rng.NormFloat64()
	}
	got, want := make([]float64, 36), make([]float64, 36)
	for _, iters := range []int{0, 2} {
		den := must(DenoisedScore(inter, d, prop, iters))
		den.Eval(got, phi, 0)
		inter.Grad(want, phi)
		if e := maxAbsDiff(got, want); e > 1e-10 {
			t.Errorf("iters %d: level-0 score differs from the target gradient by %g", iters, e)
		}
		den = must(DenoisedScore(free, d, prop, iters)).Clone()
		gs := must(GaussianScore(d, prop))
		for lv := 0; lv < d.Levels(); lv++ {
			den.Eval(got, phi, lv)
			gs.Eval(want, phi, lv)
			if e := maxAbsDiff(got, want); e > 1e-9 {
				t.Errorf("iters %d level %d: free-theory denoised score differs from the exact one by %g", iters, lv, e)
			}
		}
	}
}

func maxAbsDiff(a, b []float64) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

// TestBridgeDenoisedTwoSite: the bridge driven by the denoised score (shallow levels) and a
// Gaussian score of the wrong mass (deep levels) must reproduce the quadrature moments of the
// two-site double well, and accept better at depth 1 than the Gaussian score alone.
func TestBridgeDenoisedTwoSite(t *testing.T) {
	m2, lam := -1.0, 6.0
	target := must(NewPhi4(2, 1, m2, lam))
	d := must(NewDiffusionBox(target.Dims(), HeatScheme, 1, nil))
	c0 := target.QuadraticKernel(0.8)
	for k := range c0 {
		c0[k] = 1 / c0[k]
	}
	gs := must(GaussianScore(d, c0))
	den := must(DenoisedScore(target, d, c0, 1))
	sc := SplitScore(den, gs, 6)
	b := must(NewBridge(target, d, sc, nil, BridgeConfig{Reference: c0}, 25, 0))
	samples, acc := collect(t, b, 40000, 2)
	t.Logf("acceptance %.3f", acc)
	checkTwoSite(t, samples, m2, lam)
	bg := must(NewBridge(target, d, gs, nil, BridgeConfig{Reference: c0, Depths: []int{1}}, 26, 0))
	bd := must(NewBridge(target, d, den, nil, BridgeConfig{Reference: c0, Depths: []int{1}}, 26, 0))
	_, accG := collect(t, bg, 4000, 2)
	_, accD := collect(t, bd, 4000, 2)
	t.Logf("depth-1 acceptance: gaussian %.3f, denoised %.3f", accG, accD)
	if !(accD > accG) {
		t.Errorf("the denoised score does not beat the Gaussian one at depth 1: %.3f vs %.3f", accD, accG)
	}
}

// TestHybridTwoSite: alternating HMC trajectories and bridge moves (with a poor score) must
// reproduce the quadrature moments of the two-site double well.
func TestHybridTwoSite(t *testing.T) {
	m2, lam := -1.0, 6.0
	target := must(NewPhi4(2, 1, m2, lam))
	d := must(NewDiffusionBox(target.Dims(), PolchinskiScheme, 1, nil))
	c0 := target.QuadraticKernel(0.8)
	for k := range c0 {
		c0[k] = 1 / c0[k]
	}
	b := must(NewBridge(target, d, must(GaussianScore(d, c0)), nil, BridgeConfig{}, 27, 0))
	h := must(NewHMC(target, target.Dims(), nil, HMCConfig{FlipProb: -1, TrajLength: 0.3}, 27, 1))
	x := must(NewHybrid(h, b, 1, 1))
	samples, _ := collect(t, x, 30000, 2)
	t.Logf("HMC acceptance %.3f", x.HMCAcceptance())
	checkTwoSite(t, samples, m2, lam)
}
