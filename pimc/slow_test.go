package pimc

import (
	"context"
	"math"
	"testing"
)

// ed2x2 is the exact-diagonalization ground-state energy of the 2x2 lattice at m2 = 1,
// lambda = 24 (hamiltonian/ed, converged in the basis size).
const ed2x2 = 4.83846493773436

// TestSlow2x2AgainstED compares the extrapolated E0 on 2x2 with exact diagonalization, and
// checks that it lies below the Gaussian upper bound. Run with -vqs.slow (about a minute).
func TestSlow2x2AgainstED(t *testing.T) {
	if !*slow {
		t.Skip("long physics check; run with -vqs.slow")
	}
	cfg := Config{L: 2, Dim: 2, M2: 1, Lambda: 24, Eps: []float64{0.2, 0.14, 0.1}, Samples: 20000, Chains: 2, Seed: 21}
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Points {
		t.Logf("eps %.2f Lt %d: E %.4f +- %.4f (blocking %.4f, tau %.2f), subtracted %.4f", p.Eps, p.Lt, p.Energy.Value, p.Energy.Error, p.Energy.BlockErr, p.Energy.Tau, p.Corrected())
	}
	for name, f := range map[string]*Fit{"raw": res.Raw, "gaussian": res.GaussianFit} {
		t.Logf("%s: E0 %.4f +- %.4f (ED %.5f), slope %.2f +- %.2f, chi2 %.2f/%d", name, f.E0, f.ErrScaled, ed2x2, f.Slope, f.SlopeErr, f.Chi2, f.DOF)
		if z := (f.E0 - ed2x2) / f.ErrScaled; math.Abs(z) > 3 {
			t.Errorf("%s extrapolation %v +- %v is %.1f sigma from ED %v", name, f.E0, f.ErrScaled, z, ed2x2)
		}
	}
	if res.BetaCheck == nil || res.BetaCheck.Flagged {
		t.Errorf("beta check %+v", res.BetaCheck)
	}
}
