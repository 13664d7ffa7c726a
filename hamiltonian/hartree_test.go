package hamiltonian

import (
	"math"
	"testing"
)

// The symmetric solution reported beside a broken one solves the symmetric gap equation.
func TestHartreeSymmetricMass(t *testing.T) {
	m, err := NewModel(8, 2, -4, 12)
	if err != nil {
		t.Fatal(err)
	}
	h, err := SolveHartree(m)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Broken || h.SymmetricMass <= 0 || h.SymmetricMass == h.Mass {
		t.Fatalf("want a broken solution with a distinct symmetric mass, got %+v", h)
	}
	M := h.SymmetricMass
	s2 := 0.0
	for _, p := range m.MomentumSquared() {
		s2 += 0.5 / math.Sqrt(p+M*M)
	}
	s2 /= float64(m.N)
	if r := M*M - m.M2 - 0.5*m.Lambda*s2; math.Abs(r) > 1e-12 {
		t.Fatalf("symmetric gap equation residual %g at M = %g", r, M)
	}
}
