package rgsampler

import (
	"context"
	"testing"
)

func collect(t *testing.T, s interface {
	Sample(context.Context, int, [][]float64) (float64, error)
}, n, sites int) ([][]float64, float64) {
	t.Helper()
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, sites)
	}
	acc, err := s.Sample(context.Background(), n, out)
	if err != nil {
		t.Fatal(err)
	}
	return out, acc
}

// TestHMCFreePropagator: at lambda = 0 the per-mode power spectrum must be the exact
// propagator 1/(p^2 + m2), both with the matched mass matrix and with a deliberately wrong one
// (exactness must not depend on the preconditioner).
func TestHMCFreePropagator(t *testing.T) {
	L, m2 := 6, 0.3
	target := must(NewPhi4(L, 2, m2, 0))
	dims := target.Dims()
	exact := target.QuadraticKernel(m2)
	for k := range exact {
		exact[k] = 1 / exact[k]
	}
	for _, floor := range []float64{m2, 2.5} {
		h, err := NewHMC(target, dims, nil, HMCConfig{M2Floor: floor}, 11, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Warmup(context.Background(), 200); err != nil {
			t.Fatal(err)
		}
		samples, acc := collect(t, h, 3000, target.Sites())
		maxZ, meanZ2 := powerSpectrumCheck(t, dims, samples, exact)
		t.Logf("floor %v: step %.3f acceptance %.3f, max |z| %.2f, mean z^2 %.2f", floor, h.StepSize(), acc, maxZ, meanZ2)
		if maxZ > 4.5 || meanZ2 > 2 {
			t.Errorf("floor %v: power spectrum off the exact propagator: max |z| %.2f, mean z^2 %.2f", floor, maxZ, meanZ2)
		}
		if acc < 0.6 || acc > 0.97 {
			t.Errorf("floor %v: acceptance %.3f after tuning towards 0.8", floor, acc)
		}
	}
}

// TestHMCTwoSiteInteracting compares moments on the two-site double well with quadrature.
func TestHMCTwoSiteInteracting(t *testing.T) {
	m2, lam := -1.0, 6.0
	target := must(NewPhi4(2, 1, m2, lam))
	h := must(NewHMC(target, target.Dims(), nil, HMCConfig{}, 12, 0))
	if err := h.Warmup(context.Background(), 300); err != nil {
		t.Fatal(err)
	}
	samples, _ := collect(t, h, 20000, 2)
	checkTwoSite(t, samples, m2, lam)
}
