package rgsampler

import (
	"context"
	"testing"
)

// freeSetup returns the free theory on L^2, its exact propagator and a diffusion.
func freeSetup(t *testing.T, L int, m2 float64, scheme Scheme) (*Phi4, []float64, *Diffusion) {
	t.Helper()
	target := must(NewPhi4(L, 2, m2, 0))
	prop := target.QuadraticKernel(m2)
	for k := range prop {
		prop[k] = 1 / prop[k]
	}
	d := must(NewDiffusionBox(target.Dims(), scheme, 1, nil))
	return target, prop, d
}

// TestBridgeExactScoreFree: with the exact Gaussian score and the posterior kernel the bridge
// proposes from the exact joint law, so full-depth moves are always accepted and the samples
// have the exact propagator.
func TestBridgeExactScoreFree(t *testing.T) {
	for _, scheme := range []Scheme{HeatScheme, PolchinskiScheme} {
		target, prop, d := freeSetup(t, 6, 0.4, scheme)
		K := d.Levels() - 1
		sc := must(GaussianScore(d, prop))
		b := must(NewBridge(target, d, sc, nil, BridgeConfig{Depths: []int{K}}, 21, 0))
		samples, acc := collect(t, b, 2000, target.Sites())
		maxZ, meanZ2 := powerSpectrumCheck(t, target.Dims(), samples, prop)
		t.Logf("%v: full-depth acceptance %.12f, max |z| %.2f, mean z^2 %.2f", scheme, acc, maxZ, meanZ2)
		if acc < 0.999999 {
			t.Errorf("%v: full-depth acceptance %.9f with the exact score, want 1", scheme, acc)
		}
		if maxZ > 4.5 || meanZ2 > 2 {
			t.Errorf("%v: power spectrum off the exact propagator", scheme)
		}
	}
}

// TestBridgeWrongScoreStillExact: a score for the wrong mass, and the Euler-Maruyama kernel,
// lower the acceptance but must leave the sampled propagator exact.
func TestBridgeWrongScoreStillExact(t *testing.T) {
	target, prop, d := freeSetup(t, 6, 0.4, HeatScheme)
	wrong := target.QuadraticKernel(1.5)
	for k := range wrong {
		wrong[k] = 1 / wrong[k]
	}
	for _, tc := range []struct {
		name string
		c0   []float64
		rev  Reverse
	}{{"wrong mass, posterior", wrong, PosteriorReverse}, {"exact score, Euler", prop, EulerReverse}} {
		sc := must(GaussianScore(d, tc.c0))
		b := must(NewBridge(target, d, sc, nil, BridgeConfig{Reverse: tc.rev}, 22, 0))
		samples, acc := collect(t, b, 6000, target.Sites())
		maxZ, meanZ2 := powerSpectrumCheck(t, target.Dims(), samples, prop)
		t.Logf("%s: acceptance %.3f, max |z| %.2f, mean z^2 %.2f", tc.name, acc, maxZ, meanZ2)
		for _, da := range b.Acceptance() {
			t.Logf("  depth %2d: %.3f", da.Depth, da.MeanProb)
		}
		if acc > 0.99 {
			t.Errorf("%s: acceptance %.4f; this score should not be exact", tc.name, acc)
		}
		if maxZ > 4.5 || meanZ2 > 2 {
			t.Errorf("%s: power spectrum off the exact propagator", tc.name)
		}
	}
}

// TestBridgeTwoSiteInteracting checks the Metropolis-Hastings ratio of the joint on the
// two-site double well, where exact moments come from quadrature, with a Gaussian score that is
// not the score of the target.
func TestBridgeTwoSiteInteracting(t *testing.T) {
	m2, lam := -1.0, 6.0
	target := must(NewPhi4(2, 1, m2, lam))
	for _, scheme := range []Scheme{HeatScheme, PolchinskiScheme} {
		d := must(NewDiffusionBox(target.Dims(), scheme, 1, nil))
		c0 := target.QuadraticKernel(0.8)
		for k := range c0 {
			c0[k] = 1 / c0[k]
		}
		sc := must(GaussianScore(d, c0))
		b := must(NewBridge(target, d, sc, nil, BridgeConfig{}, 23, 0))
		samples, acc := collect(t, b, 40000, 2)
		t.Logf("%v: acceptance %.3f", scheme, acc)
		checkTwoSite(t, samples, m2, lam)
	}
}

func TestBridgeMoveDoesNotAllocate(t *testing.T) {
	target, prop, d := freeSetup(t, 4, 0.4, HeatScheme)
	b := must(NewBridge(target, d, must(GaussianScore(d, prop)), nil, BridgeConfig{FlipProb: 0.5}, 24, 0))
	out := [][]float64{make([]float64, target.Sites())}
	ctx := context.Background()
	if a := testing.AllocsPerRun(20, func() { b.Sample(ctx, 1, out) }); a != 0 {
		t.Fatalf("a bridge move allocates %v times", a)
	}
}
