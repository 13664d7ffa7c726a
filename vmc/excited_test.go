package vmc

import (
	"context"
	"math"
	"testing"

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
