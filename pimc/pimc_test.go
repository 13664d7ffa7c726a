package pimc

import (
	"context"
	"errors"
	"flag"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"vqs/hamiltonian"
)

var slow = flag.Bool("vqs.slow", false, "run the long physics checks")

// aho is the anharmonic oscillator of docs/physics.md, "Exact results": V = x^2/2 + x^4.
const (
	ahoM2, ahoLambda = 1.0, 24.0
	ahoE0            = 0.803770651234274
)

// transferSingleSite returns the exact slice expectations of the virial estimator and of
// x^2 for the single-site path integral (L = 1) at spacing eps with lt periodic slices, by
// the transfer matrix T(x,y) = exp(-eps V(x)/2) exp(-(x-y)^2/(2 eps))/sqrt(2 pi eps)
// exp(-eps V(y)/2) on a grid: the slice marginal is diag(T^lt)/tr(T^lt). The grid spacing
// 0.02 resolves the kernel's width sqrt(eps) >= 0.3 with a quadrature error far below 1e-10,
// and the wave function is negligible beyond |x| = 5.
func transferSingleSite(m2, lambda, eps float64, lt int) (energy, x2 float64) {
	const (
		lim = 5.0
		h   = 0.02
	)
	n := int(2*lim/h) + 1
	x := make([]float64, n)
	half := make([]float64, n)
	for i := range x {
		x[i] = -lim + float64(i)*h
		v := m2/2*x[i]*x[i] + lambda/24*math.Pow(x[i], 4)
		half[i] = math.Exp(-eps * v / 2)
	}
	t := mat.NewSymDense(n, nil)
	norm := h / math.Sqrt(2*math.Pi*eps)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			d := x[i] - x[j]
			t.SetSym(i, j, half[i]*half[j]*norm*math.Exp(-d*d/(2*eps)))
		}
	}
	var es mat.EigenSym
	if !es.Factorize(t, true) {
		panic("eigendecomposition failed")
	}
	vals := es.Values(nil)
	var vecs mat.Dense
	es.VectorsTo(&vecs)
	top := vals[n-1]
	var z float64
	for i := 0; i < n; i++ {
		d := 0.0
		for k, l := range vals {
			if l > 0 {
				v := vecs.At(i, k)
				d += math.Pow(l/top, float64(lt)) * v * v
			}
		}
		z += d
		energy += d * (m2*x[i]*x[i] + 3*lambda/24*math.Pow(x[i], 4))
		x2 += d * x[i] * x[i]
	}
	return energy / z, x2 / z
}

// TestTransferMatrixAgainstFree validates the transfer-matrix reference on the harmonic
// oscillator, where FreeSlice is exact, and its continuum limit on the anharmonic one.
func TestTransferMatrixAgainstFree(t *testing.T) {
	for _, c := range []struct {
		eps float64
		lt  int
	}{{0.25, 24}, {0.1, 20}} {
		e, x2 := transferSingleSite(2.5, 0, c.eps, c.lt)
		f, _ := FreeSlice([]float64{math.Sqrt(2.5)}, c.eps, c.lt)
		if math.Abs(e-f.Energy) > 1e-9 || math.Abs(x2-f.Phi2) > 1e-9 {
			t.Errorf("eps %v Lt %d: transfer matrix %v %v, exact %v %v", c.eps, c.lt, e, x2, f.Energy, f.Phi2)
		}
	}
	// Small eps and beta = 8: the O(eps^2) error is below 1e-3.
	if e, _ := transferSingleSite(ahoM2, ahoLambda, 0.02, 400); math.Abs(e-ahoE0) > 1e-3 {
		t.Errorf("anharmonic oscillator at eps 0.02: %v, E0 %v", e, ahoE0)
	}
}

// TestAnharmonicOscillator samples the single-site path integral: every point must match
// the exact transfer-matrix value at its eps and Lt, and the eps^2 extrapolations E0.
func TestAnharmonicOscillator(t *testing.T) {
	cfg := Config{L: 1, Dim: 1, M2: ahoM2, Lambda: ahoLambda, Eps: []float64{0.25, 0.175, 0.125},
		Samples: 6000, Chains: 2, Seed: 11}
	if *slow {
		// Ten times the samples need smaller eps: the eps^4 bias of the extrapolation through
		// 0.25, 0.175, 0.125 (-1.3e-3, see below) would exceed 0.3 of the smaller error bar.
		cfg.Samples, cfg.Eps = 60000, []float64{0.15, 0.1, 0.07}
	}
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Gap-2) > 1e-12 || math.Abs(res.Beta-6) > 1e-11 {
		t.Errorf("gap %v beta %v, want the Hartree mass 2 and beta 12/2", res.Gap, res.Beta)
	}
	eps, exact, sig := make([]float64, 0, 3), make([]float64, 0, 3), make([]float64, 0, 3)
	for _, p := range res.Points {
		e, x2 := transferSingleSite(ahoM2, ahoLambda, p.Eps, p.Lt)
		t.Logf("eps %.3f Lt %d: E %.5f +- %.5f (blocking %.5f, tau %.2f), exact %.5f; <x^2> %.5f +- %.5f, exact %.5f; acceptance %.2f",
			p.Eps, p.Lt, p.Energy.Value, p.Energy.Error, p.Energy.BlockErr, p.Energy.Tau, e, p.Phi2.Value, p.Phi2.Error, x2, p.Acceptance)
		if z := (p.Energy.Value - e) / p.Energy.Error; math.Abs(z) > 3.5 {
			t.Errorf("eps %v: energy %v +- %v is %.1f sigma from the exact %v", p.Eps, p.Energy.Value, p.Energy.Error, z, e)
		}
		if z := (p.Phi2.Value - x2) / p.Phi2.Error; math.Abs(z) > 3.5 {
			t.Errorf("eps %v: <x^2> %v +- %v is %.1f sigma from the exact %v", p.Eps, p.Phi2.Value, p.Phi2.Error, z, x2)
		}
		if r := p.Energy.BlockErr / p.Energy.Error; r < 0.7 || r > 1.4 {
			t.Errorf("eps %v: blocking error %v and Gamma-method error %v disagree", p.Eps, p.Energy.BlockErr, p.Energy.Error)
		}
		eps, exact, sig = append(eps, p.Eps), append(exact, e), append(sig, p.Energy.Error)
	}
	// The extrapolation of the exact values shows how far eps^4 terms bias it: it must be
	// small against the statistical error for the 3-sigma test below to test statistics.
	if f, _ := Extrapolate(eps, exact, sig); math.Abs(f.E0-ahoE0) > 0.3*res.Raw.Err {
		t.Errorf("exact points extrapolate to %v, %.2f sigma from E0: eps too large for this test", f.E0, (f.E0-ahoE0)/res.Raw.Err)
	}
	for name, f := range map[string]*Fit{"raw": res.Raw, "gaussian": res.GaussianFit} {
		t.Logf("%s: E0 %.5f +- %.5f, slope %.3f, chi2 %.2f/%d", name, f.E0, f.Err, f.Slope, f.Chi2, f.DOF)
		if z := (f.E0 - ahoE0) / f.ErrScaled; math.Abs(z) > 3 {
			t.Errorf("%s extrapolation %v +- %v is %.1f sigma from E0 = %v", name, f.E0, f.ErrScaled, z, ahoE0)
		}
	}
	if res.E0 != res.GaussianFit.E0 {
		t.Errorf("E0 %v is not the default (gaussian) extrapolation %v", res.E0, res.GaussianFit.E0)
	}
	if bc := res.BetaCheck; bc == nil || bc.Double.Lt != 2*bc.Base.Lt || bc.Eps != cfg.Eps[0] || bc.Flagged {
		t.Errorf("beta check %+v: want Lt doubled at eps %v, not flagged (the thermal error is 1e-5)", bc, cfg.Eps[0])
	}
}

// TestFreeTheory samples the lambda = 0 path integral on 3x3: every estimator must match the
// exact finite-eps, finite-beta value, the Gaussian-subtracted points the exact E0 at every eps
// (at lambda = 0 the Gaussian theory is exact), and both extrapolations E0.
func TestFreeTheory(t *testing.T) {
	cfg := Config{L: 3, Dim: 2, M2: 1, Lambda: 0, Eps: []float64{0.25, 0.15}, Beta: 6, Samples: 1500, Chains: 2, Seed: 5, SkipBetaCheck: true}
	if *slow {
		cfg.Samples, cfg.Eps = 20000, []float64{0.3, 0.2, 0.1}
	}
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	lat, _ := hamiltonian.NewLattice(cfg.L, cfg.Dim)
	free, _ := hamiltonian.NewFreeTheory(lat, cfg.M2)
	e0 := free.Energy()
	if math.Abs(res.Gap-1) > 1e-12 || math.Abs(res.Gaussian-e0) > 1e-12 || res.BetaCheck != nil {
		t.Errorf("gap %v, Gaussian %v (want 1 and the exact %v), beta check %v (skipped)", res.Gap, res.Gaussian, e0, res.BetaCheck)
	}
	check := func(what string, eps, got, err, want float64) {
		t.Helper()
		if z := (got - want) / err; math.Abs(z) > 3.5 {
			t.Errorf("eps %v: %s %v +- %v is %.1f sigma from the exact %v", eps, what, got, err, z, want)
		}
	}
	for _, p := range res.Points {
		ex, _ := FreeSlice(free.Omega, p.Eps, p.Lt)
		t.Logf("eps %.2f Lt %d: E %.4f +- %.4f (exact %.4f), V %.4f +- %.4f, phi2 %.4f +- %.4f, tau %.2f, acceptance %.2f",
			p.Eps, p.Lt, p.Energy.Value, p.Energy.Error, ex.Energy, p.Potential.Value, p.Potential.Error, p.Phi2.Value, p.Phi2.Error, p.Energy.Tau, p.Acceptance)
		check("energy", p.Eps, p.Energy.Value, p.Energy.Error, ex.Energy)
		check("potential", p.Eps, p.Potential.Value, p.Potential.Error, ex.Potential)
		check("phi^2", p.Eps, p.Phi2.Value, p.Phi2.Error, ex.Phi2)
		check("Gaussian-subtracted energy", p.Eps, p.Corrected(), p.Energy.Error, e0)
		if math.Abs(p.GaussianShift-(ex.Energy-e0)) > 1e-12 {
			t.Errorf("eps %v: Gaussian shift %v, exact error of the free estimator %v", p.Eps, p.GaussianShift, ex.Energy-e0)
		}
	}
	for name, f := range map[string]*Fit{"raw": res.Raw, "gaussian": res.GaussianFit} {
		if z := (f.E0 - e0) / f.ErrScaled; math.Abs(z) > 3 {
			t.Errorf("%s extrapolation %v +- %v is %.1f sigma from the free E0 %v", name, f.E0, f.ErrScaled, z, e0)
		}
	}
}

func TestBadInput(t *testing.T) {
	good := Config{L: 2, Dim: 2, M2: 1, Lambda: 1, Eps: []float64{0.2, 0.1}, Samples: 100}
	if err := Validate(good); err != nil {
		t.Fatalf("good config rejected: %v", err)
	}
	for name, mod := range map[string]func(c *Config){
		"one eps":           func(c *Config) { c.Eps = []float64{0.1} },
		"repeated eps":      func(c *Config) { c.Eps = []float64{0.1, 0.2, 0.1} },
		"zero eps":          func(c *Config) { c.Eps = []float64{0.1, 0} },
		"NaN eps":           func(c *Config) { c.Eps = []float64{0.1, math.NaN()} },
		"infinite eps":      func(c *Config) { c.Eps = []float64{0.1, math.Inf(1)} },
		"eps beyond beta":   func(c *Config) { c.Beta = 0.5 },
		"tiny eps":          func(c *Config) { c.Eps = []float64{0.1, 1e-300} },
		"negative beta":     func(c *Config) { c.Beta = -1 },
		"NaN beta":          func(c *Config) { c.Beta = math.NaN() },
		"few samples":       func(c *Config) { c.Samples = MinSamples - 1 },
		"negative chains":   func(c *Config) { c.Chains = -1 },
		"negative warm-up":  func(c *Config) { c.Warmup = -1 },
		"negative lambda":   func(c *Config) { c.Lambda = -1 },
		"free without mass": func(c *Config) { c.Lambda, c.M2 = 0, 0 },
		"L = 0":             func(c *Config) { c.L = 0 },
		"dim 4":             func(c *Config) { c.Dim = 4 },
		"bad extrapolation": func(c *Config) { c.Extrapolation = "cubic" },
		"lattice too large": func(c *Config) { c.L, c.Dim = 1000, 3 },
		"NaN m2":            func(c *Config) { c.M2 = math.NaN() },
		"infinite lambda":   func(c *Config) { c.Lambda = math.Inf(1) },
		"no eps at all":     func(c *Config) { c.Eps = nil },
		"negative samples":  func(c *Config) { c.Samples = -5 },
	} {
		c := good
		mod(&c)
		if err := Validate(c); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, c)
		}
		if res, err := Run(context.Background(), c, nil); err == nil || res != nil {
			t.Errorf("%s: Run returned %v, %v; want nil and an error", name, res, err)
		}
	}
	dw := good
	dw.M2, dw.Lambda = -1, 12
	if err := Validate(dw); err != nil {
		t.Errorf("double well rejected: %v", err)
	}
}

// TestCancel interrupts a run during its second point: what was measured comes back with
// the context's error, and nothing is fitted from unusable points.
func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := Config{L: 1, Dim: 1, M2: ahoM2, Lambda: ahoLambda, Eps: []float64{0.25, 0.2, 0.15}, Samples: 400, Chains: 2, Seed: 3}
	var stages []Progress
	res, err := Run(ctx, cfg, func(p Progress) {
		stages = append(stages, p)
		if p.Point == 1 && p.Stage == "measure" && p.Done >= 200 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || res == nil {
		t.Fatalf("got %v, %v; want a partial result and context.Canceled", res, err)
	}
	if len(res.Points) < 1 || len(res.Points) > 2 || res.Points[0].Samples != 400 || res.BetaCheck != nil {
		t.Fatalf("partial result: %d points, beta check %v", len(res.Points), res.BetaCheck)
	}
	for _, p := range res.Points {
		if p.Samples < MinSamples {
			t.Errorf("point eps %v kept with %d samples", p.Eps, p.Samples)
		}
	}
	if (len(res.Points) == 2) != (res.Raw != nil) || (res.Raw == nil) != math.IsNaN(res.E0) {
		t.Errorf("%d points but fit %v, E0 %v", len(res.Points), res.Raw, res.E0)
	}
	if len(stages) == 0 || stages[0].Stage != "warmup" || stages[0].Point != 0 {
		t.Errorf("progress reports start with %+v, want the warm-up of point 0", stages)
	}
}

// TestReproducible: the same seed gives the same numbers; another seed does not.
func TestReproducible(t *testing.T) {
	cfg := Config{L: 2, Dim: 1, M2: 0.5, Lambda: 6, Eps: []float64{0.3, 0.2}, Samples: 100, Warmup: 50, Chains: 2, Seed: 9, SkipBetaCheck: true}
	a, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Run(context.Background(), cfg, nil)
	cfg.Seed++
	c, _ := Run(context.Background(), cfg, nil)
	for i := range a.Points {
		if a.Points[i].Energy != b.Points[i].Energy {
			t.Errorf("point %d: %+v then %+v with the same seed", i, a.Points[i].Energy, b.Points[i].Energy)
		}
		if a.Points[i].Energy.Value == c.Points[i].Energy.Value {
			t.Errorf("point %d: seeds %d and %d give the same energy", i, cfg.Seed-1, cfg.Seed)
		}
	}
}

// TestBetaCheckFlagsShortBeta: at beta = 0.5 a unit-frequency oscillator is far from its ground
// state; the doubled-beta rerun must see the exact free difference and flag it.
func TestBetaCheckFlagsShortBeta(t *testing.T) {
	cfg := Config{L: 1, Dim: 1, M2: 1, Lambda: 0, Eps: []float64{0.1, 0.05}, Beta: 0.5, Samples: 1000, Chains: 2, Seed: 2}
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	bc := res.BetaCheck
	if bc == nil || bc.Eps != 0.1 || bc.Base.Lt != 5 || bc.Double.Lt != 10 {
		t.Fatalf("beta check %+v: want eps 0.1, Lt 5 -> 10", bc)
	}
	lo, _ := FreeSlice([]float64{1}, 0.1, 5)
	hi, _ := FreeSlice([]float64{1}, 0.1, 10)
	want := hi.Energy - lo.Energy
	if math.Abs(bc.GaussianDiff-want) > 1e-12 {
		t.Errorf("Gaussian prediction %v, exact free difference %v", bc.GaussianDiff, want)
	}
	if !bc.Flagged || math.Abs(bc.Diff-want) > 4*math.Hypot(bc.Base.Energy.Error, bc.Double.Energy.Error) {
		t.Errorf("difference %v (%.1f sigma, flagged %v), exact %v", bc.Diff, bc.Sigmas, bc.Flagged, want)
	}
}

// Points whose chains did not move are flagged and left out of the extrapolations: with the
// chains frozen at phi = 0 (what an untuned HMC step gives on a large lattice) the energy reads
// "0 +- 0", which must never be mistaken for a measurement.
func TestStuckPointsAreLeftOut(t *testing.T) {
	frozen := Point{Eps: 0.2, Energy: Estimate{Value: 0, Error: 0}, Acceptance: 0.001}
	if stuckReason(&frozen) == "" {
		t.Fatal("a frozen point is not flagged")
	}
	good := func(eps, e float64) Point {
		return Point{Eps: eps, Energy: Estimate{Value: e, Error: 0.01}, Acceptance: 0.8}
	}
	if p := good(0.1, 4.8); stuckReason(&p) != "" {
		t.Fatalf("a healthy point is flagged: %s", stuckReason(&p))
	}
	frozen.Stuck = stuckReason(&frozen)
	r := &Result{Points: []Point{frozen, good(0.14, 4.80), good(0.1, 4.81)}}
	r.fit()
	if r.Raw == nil || math.Abs(r.Raw.E0-4.8) > 0.1 {
		t.Fatalf("fit with the stuck point left out: %+v", r.Raw)
	}
	r = &Result{Points: []Point{frozen, good(0.1, 4.81)}}
	r.fit()
	if r.Raw != nil {
		t.Fatalf("a fit through one unstuck point: %+v", r.Raw)
	}
}
