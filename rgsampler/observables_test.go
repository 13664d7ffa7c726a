package rgsampler

import (
	"context"
	"math"
	"testing"

	"vqs/hamiltonian"
)

// TestRunFreeTheoryObservables: for the free theory every observable is known in closed form:
// <phi^2> and G(r) from the propagator, and M is Gaussian with variance 1/(N m2), so
// chi = N(<M^2> - <|M|>^2) = (1 - 2/pi)/m2 and the Binder cumulant is 0.
func TestRunFreeTheoryObservables(t *testing.T) {
	L, m2 := 8, 0.5
	target := must(NewPhi4(L, 2, m2, 0))
	dims := target.Dims()
	var chains []Chain
	for c := 0; c < 4; c++ {
		h := must(NewHMC(target, dims, nil, HMCConfig{}, 31, uint64(c)))
		if err := h.Warmup(context.Background(), 100); err != nil {
			t.Fatal(err)
		}
		chains = append(chains, h)
	}
	rec, err := Run(context.Background(), chains, dims, 1500, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := rec.Summarize()
	p2 := hamiltonian.MomentumSquared(dims)
	N := float64(len(p2))
	corr := func(r int) float64 {
		g := 0.0
		for k, p := range p2 {
			g += math.Cos(2*math.Pi*float64(k%L*r)/float64(L)) / (p + m2)
		}
		return g / N
	}
	check := func(name string, e Estimate, exact float64) {
		t.Helper()
		if !(math.Abs(e.Value-exact) < 4*e.Error) {
			t.Errorf("%s: %.5f +- %.5f, exact %.5f", name, e.Value, e.Error, exact)
		} else {
			t.Logf("%s: %.5f +- %.5f (tau %.2f, ESS %.0f), exact %.5f", name, e.Value, e.Error, e.Tau, e.ESS, exact)
		}
	}
	check("<phi^2>", s.Phi2, corr(0))
	check("chi", s.Chi, (1-2/math.Pi)/m2)
	check("Binder", s.Binder, 0)
	for mu := range dims {
		for r := 0; r <= L/2; r++ {
			check("G", s.Corr[mu][r], corr(r))
		}
	}
	if s.Samples != 1500 || s.Chains != 4 {
		t.Errorf("recorded %d samples x %d chains", s.Samples, s.Chains)
	}
}

// TestRunCancelKeepsWhatWasMeasured: a cancelled run returns its partial record.
func TestRunCancelKeepsWhatWasMeasured(t *testing.T) {
	target := must(NewPhi4(4, 2, 1, 0))
	h := must(NewHMC(target, target.Dims(), nil, HMCConfig{}, 1, 0))
	ctx, cancel := context.WithCancel(context.Background())
	rec, err := Run(ctx, []Chain{h}, target.Dims(), 1000000, func(done int) {
		if done == 50 {
			cancel()
		}
	})
	if err == nil || rec == nil || rec.Samples() < 50 || rec.Samples() > 51 {
		t.Fatalf("cancelled run: err %v, samples %d", err, rec.Samples())
	}
}
