package vmc

import (
	"context"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"vqs/ansatz/mera"
	"vqs/hamiltonian"
	"vqs/hamiltonian/ed"
)

// With the exact free ground state and f = M the trial state is the k = 0 one-particle state:
// the gap must come out as sqrt(m2) within its error, and with a larger odd basis too (the
// extra powers only add variational freedom).
func TestOddGapFreeTheory(t *testing.T) {
	const m2 = 0.49
	m, _ := hamiltonian.NewModel(6, 2, m2, 0)
	wf := newTestWF(m, m2, 1, 0, false)
	for _, basis := range []int{1, 3} {
		s, _ := NewHMC(wf, m.L, m.Dim, 4, 4, 11)
		g, err := MeasureOddGap(context.Background(), m, wf, s, 20000, basis)
		if err != nil {
			t.Fatal(err)
		}
		if d := g.Gap.Value - math.Sqrt(m2); math.Abs(d) > 4*g.Gap.Error || g.Gap.Error > 0.02 {
			t.Errorf("basis %d: gap %v +- %v, exact %v", basis, g.Gap.Value, g.Gap.Error, math.Sqrt(m2))
		}
	}
}

// A Gaussian of the wrong mass (kernel sqrt(4 m2 + p^2)) at lambda = 0: the k = 0 mode is a
// harmonic oscillator whose trial width is off, so <E_loc> lies above E0 by the k = 0 mode's
// error (and the others'), and E1 - <E_loc> is off the exact gap sqrt(m2). The even sector's
// Rayleigh-Ritz (1, M^2, M^4) corrects the k = 0 mode as the odd one (M, M^3, M^5) does, so
// E1 - E0 comes out close to sqrt(m2); the other modes' error is common to both and cancels.
func TestOddGapCorrectsTheEvenState(t *testing.T) {
	const m2 = 0.49
	m, _ := hamiltonian.NewModel(4, 2, m2, 0)
	wf := newTestWF(m, 4*m2, 1, 0, false)
	s, _ := NewHMC(wf, m.L, m.Dim, 4, 4, 13)
	g, err := MeasureOddGap(context.Background(), m, wf, s, 100000, 3)
	if err != nil {
		t.Fatal(err)
	}
	exact := math.Sqrt(m2)
	// For a one-mode oscillator of frequency w in a Gaussian of width ratio r = sqrt(4):
	// <E> - E0 = (w/4)(r + 1/r - 2); with three even powers the residual error is far smaller.
	shift := 0.25 * exact * (math.Sqrt(4.0) + 1/math.Sqrt(4.0) - 2)
	t.Logf("gap %.4f +- %.2g (exact %.4f); E1 - <E_loc> = %.4f; <E_loc> - E0 = %.4f (one-mode estimate %.4f)",
		g.Gap.Value, g.Gap.Error, exact, g.E1.Value-g.Mean.Value, g.Mean.Value-g.E0.Value, shift)
	if d := g.Gap.Value - exact; math.Abs(d) > 4*g.Gap.Error+0.2*shift {
		t.Errorf("gap %v +- %v, exact %v", g.Gap.Value, g.Gap.Error, exact)
	}
	if d := g.Mean.Value - g.E0.Value; d < 0.7*shift || d > 1.1*shift {
		t.Errorf("<E_loc> - E0 = %v: the even sector should lower the energy by about %v (a little less: the other modes stay)", d, shift)
	}
}

// The anharmonic oscillator: the Rayleigh-Ritz bound from the trained RG ansatz against the
// gap of exact diagonalization.
func TestOddGapAnharmonicOscillator(t *testing.T) {
	m, _ := hamiltonian.NewModel(1, 2, 1, 24)
	exact, err := ed.Solve(context.Background(), m, ed.Config{NMax: 40})
	if err != nil {
		t.Fatal(err)
	}
	a, err := mera.New(m, mera.Config{Scales: -1, Width: 4})
	if err != nil {
		t.Fatal(err)
	}
	wf := MERA{a}
	s, _ := NewHMC(wf, m.L, m.Dim, 8, 4, 3)
	if _, err := Run(context.Background(), m, wf, s, Config{Iterations: 150, Samples: 2048, MeasureSamples: 2048}, nil); err != nil {
		t.Fatal(err)
	}
	g, err := MeasureOddGap(context.Background(), m, wf, s, 40000, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gap %.5f +- %.2g, ED %.5f; coefficients %v", g.Gap.Value, g.Gap.Error, exact.Gap, g.Coefficients)
	if d := g.Gap.Value - exact.Gap; d < -4*g.Gap.Error || d > 0.02 {
		t.Fatalf("gap %v +- %v, ED %v", g.Gap.Value, g.Gap.Error, exact.Gap)
	}
}

// Measure reports the same variational gap from its own samples.
func TestMeasureReportsOddGap(t *testing.T) {
	const m2 = 0.64
	m, _ := hamiltonian.NewModel(4, 2, m2, 0)
	wf := newTestWF(m, m2, 1, 0, false)
	s, _ := NewHMC(wf, m.L, m.Dim, 4, 4, 5)
	est, err := Measure(context.Background(), m, wf, s, 20000, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := est.OddGap
	if g == nil || math.Abs(g.Gap.Value-math.Sqrt(m2)) > 4*g.Gap.Error || g.Gap.Error > 0.03 {
		t.Fatalf("odd gap %+v, exact %v", g, math.Sqrt(m2))
	}
}

// The even Rayleigh-Ritz state h(M) Psi_0 corrects Psi_0's distribution of M: on one site (the
// anharmonic oscillator, m2 = 1, lambda = 24, M = phi) with Psi_0 a Gaussian of the free width,
// U4 of the reweighted samples must land near the exact ground state's U4 (from a
// finite-difference diagonalization), much nearer than Psi_0's own U4.
func TestOddGapBinderOfTheEvenState(t *testing.T) {
	m, _ := hamiltonian.NewModel(1, 2, 1, 24)
	wf := newTestWF(m, 1, 0, 0, false) // g = 1: the lambda = 0 ground state
	s, _ := NewHMC(wf, m.L, m.Dim, 4, 4, 17)
	g, err := MeasureOddGap(context.Background(), m, wf, s, 100000, 3)
	if err != nil {
		t.Fatal(err)
	}
	// Exact: -(1/2) psi'' + (x^2/2 + x^4) psi = E psi on a grid.
	const n, span = 600, 6.0
	dx := 2 * span / (n - 1)
	h := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		x := -span + float64(i)*dx
		h.SetSym(i, i, 1/(dx*dx)+0.5*x*x+x*x*x*x)
		if i > 0 {
			h.SetSym(i, i-1, -0.5/(dx*dx))
		}
	}
	var es mat.EigenSym
	if !es.Factorize(h, true) {
		t.Fatal("eigen")
	}
	var v mat.Dense
	es.VectorsTo(&v)
	var z, m2, m4 float64
	for i := 0; i < n; i++ {
		x, p := -span+float64(i)*dx, v.At(i, 0)*v.At(i, 0)
		z, m2, m4 = z+p, m2+p*x*x, m4+p*x*x*x*x
	}
	m2, m4 = m2/z, m4/z
	exact := 1 - m4/(3*m2*m2)
	plain := 0.0 // U4 of a Gaussian
	t.Logf("U4: even Rayleigh-Ritz state %.4f +- %.2g, exact %.4f, Psi_0 %.4f", g.Binder.Value, g.Binder.Error, exact, plain)
	if d := math.Abs(g.Binder.Value - exact); d > 4*g.Binder.Error+0.2*math.Abs(exact-plain) {
		t.Errorf("U4 of the even state %v +- %v, exact %v (Psi_0: %v)", g.Binder.Value, g.Binder.Error, exact, plain)
	}
}
