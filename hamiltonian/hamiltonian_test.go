package hamiltonian

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestFreeEnergy32x32(t *testing.T) {
	lat, _ := NewLattice(32, 2)
	f, err := NewFreeTheory(lat, 1)
	if err != nil {
		t.Fatal(err)
	}
	const want = 1118.484118259315 // docs/physics.md, "Exact results"
	if got := f.Energy(); math.Abs(got-want) > 1e-9*want {
		t.Fatalf("E0 = %.15g, want %.15g", got, want)
	}
	if g := f.Gap(); math.Abs(g-1) > 1e-15 {
		t.Fatalf("gap = %v, want 1", g)
	}
}

// The free correlator must agree with the inverse of the kernel 2 Omega built in real space:
// <phi phi> = (2 Omega)^-1, checked here through sum_y <phi_0 phi_y> * (2 Omega^2 ...). We use the
// independent identity sum_r <phi_0 phi_r> = 1/(2 omega_0) = 1/(2 sqrt(m2)).
func TestFreeCorrelatorSumRule(t *testing.T) {
	lat, _ := NewLattice(6, 2)
	f, _ := NewFreeTheory(lat, 0.7)
	sum := 0.0
	c := make([]int, 2)
	for r := 0; r < lat.N; r++ {
		sum += f.Correlator(lat.Coords(r, c))
	}
	if want := 1 / (2 * math.Sqrt(0.7)); math.Abs(sum-want) > 1e-12 {
		t.Fatalf("sum_r G(r) = %v, want %v", sum, want)
	}
	// Single site: <phi^2> = 1/(2 omega).
	l1, _ := NewLattice(1, 2)
	f1, _ := NewFreeTheory(l1, 4)
	if got := f1.Correlator([]int{0, 0}); math.Abs(got-0.25) > 1e-15 {
		t.Fatalf("single-site <phi^2> = %v, want 0.25", got)
	}
}

func TestGradientMatchesFiniteDifference(t *testing.T) {
	for _, tc := range []struct{ L, d int }{{1, 2}, {2, 2}, {3, 2}, {4, 1}, {3, 3}} {
		m, err := NewModel(tc.L, tc.d, -0.7, 3.3)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		phi := make([]float64, m.N)
		for i := range phi {
			phi[i] = rng.NormFloat64()
		}
		g := make([]float64, m.N)
		m.Gradient(phi, g)
		const h = 1e-5
		for x := range phi {
			p0 := phi[x]
			phi[x] = p0 + h
			vp := m.Potential(phi)
			phi[x] = p0 - h
			vm := m.Potential(phi)
			phi[x] = p0
			fd := (vp - vm) / (2 * h)
			if math.Abs(fd-g[x]) > 1e-6*(1+math.Abs(fd)) {
				t.Fatalf("L=%d d=%d site %d: grad %v, finite difference %v", tc.L, tc.d, x, g[x], fd)
			}
		}
	}
}

// The gradient term counts each forward bond once per site: on L = 2 the same pair twice, on
// L = 1 nothing (docs/physics.md).
func TestGradientTermConventions(t *testing.T) {
	m1, _ := NewModel(1, 2, 1, 0)
	if v := m1.Potential([]float64{2}); v != 2 {
		t.Fatalf("L=1: V = %v, want m2/2*4 = 2", v)
	}
	m2, _ := NewModel(2, 1, 1, 0)
	// phi = (1, 0): mass 1/2, gradient (1/2)[(0-1)^2 + (1-0)^2] = 1.
	if v := m2.Potential([]float64{1, 0}); v != 1.5 {
		t.Fatalf("L=2 chain: V = %v, want 1.5", v)
	}
	m4, _ := NewModel(4, 1, 0.5, 24)
	phi := []float64{1, 2, -1, 0.5}
	v2, v4 := m4.PotentialParts(phi)
	wantV4 := (1 + 16 + 1 + 0.0625)
	wantV2 := 0.25*(1+4+1+0.25) + 0.5*(1+9+2.25+0.25)
	if math.Abs(v4-wantV4) > 1e-14 || math.Abs(v2-wantV2) > 1e-14 {
		t.Fatalf("parts = (%v, %v), want (%v, %v)", v2, v4, wantV2, wantV4)
	}
}

func TestValidate(t *testing.T) {
	bad := []Params{
		{M2: 1, Lambda: -1}, {M2: 0, Lambda: 0}, {M2: -1, Lambda: 0},
		{M2: math.NaN(), Lambda: 1}, {M2: 1, Lambda: math.Inf(1)},
	}
	for _, p := range bad {
		if p.Validate() == nil {
			t.Errorf("%+v: no error", p)
		}
	}
	for _, p := range []Params{{M2: 1, Lambda: 0}, {M2: -1, Lambda: 12}, {M2: 0, Lambda: 1}} {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	if _, err := NewLattice(0, 2); err == nil {
		t.Error("L = 0 accepted")
	}
	if _, err := NewLattice(4, 4); err == nil {
		t.Error("d = 4 accepted")
	}
}

func TestHartreeSingleSite(t *testing.T) {
	m, _ := NewModel(1, 2, 1, 24)
	h, err := SolveHartree(m)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(h.Energy-0.8125) > 1e-13 || math.Abs(h.Mass-2) > 1e-12 || h.Broken {
		t.Fatalf("got E=%v M=%v broken=%v, want E=0.8125 M=2 symmetric", h.Energy, h.Mass, h.Broken)
	}
}

func TestHartreeFreeLimit(t *testing.T) {
	m, _ := NewModel(32, 2, 1, 0)
	h, err := SolveHartree(m)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := NewFreeTheory(m.Lattice, 1)
	if math.Abs(h.Energy-f.Energy()) > 1e-9*f.Energy() {
		t.Fatalf("Hartree %v != free %v", h.Energy, f.Energy())
	}
}

// The Hartree solution must be stationary: no nearby Gaussian (other M, other v) is lower.
func TestHartreeIsMinimum(t *testing.T) {
	for _, tc := range []struct {
		L, d    int
		m2, lam float64
	}{
		{4, 2, 1, 24}, {4, 2, -1, 12}, {8, 2, -1.55, 12}, {6, 1, -2, 6},
	} {
		m, _ := NewModel(tc.L, tc.d, tc.m2, tc.lam)
		h, err := SolveHartree(m)
		if err != nil {
			t.Fatal(err)
		}
		p2 := m.MomentumSquared()
		for _, dM := range []float64{-1e-3, 1e-3} {
			for _, dv := range []float64{-1e-3, 0, 1e-3} {
				v := h.VEV + dv
				if !h.Broken && dv != 0 {
					v = math.Abs(dv)
				}
				c := hartreeAt(m, p2, h.Mass+dM, v)
				if c.Energy < h.Energy-1e-12 {
					t.Errorf("%+v: E(M%+g, v%+g) = %.12g below solution %.12g", tc, dM, dv, c.Energy, h.Energy)
				}
			}
		}
	}
}

// The harmonic oscillator ground state u = -omega phi^2/2 has E_loc = omega/2 at every phi; with
// L = 1 the gradient term vanishes, so m2 = omega^2.
func TestLocalEnergyOfOscillatorGroundState(t *testing.T) {
	const omega = 1.7
	m, err := NewModel(1, 2, omega*omega, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []float64{0, 0.3, -2.5} {
		el := m.LocalEnergy([]float64{x}, []float64{-omega * x}, -omega)
		if math.Abs(el.Total-omega/2) > 1e-14 || math.Abs(el.Kinetic+el.V2+el.V4-el.Total) > 1e-14 {
			t.Errorf("phi = %v: %+v, want Total %v", x, el, omega/2)
		}
	}
}

// Deep in the double well the broken-phase Gaussian (v^2 near -6 m2/lambda) is far lower than
// the symmetric one and must be chosen: at m2 = -1e6, lambda = 24 the classical minimum alone is
// N (-1.5 m2^2/lambda) = -6.25e10 per site.
func TestHartreePhaseAtStrongCoupling(t *testing.T) {
	m, err := NewModel(4, 2, -1e6, 24)
	if err != nil {
		t.Fatal(err)
	}
	h, err := SolveHartree(m)
	if err != nil {
		t.Fatal(err)
	}
	classical := -1.5 * m.M2 * m.M2 / m.Lambda * float64(m.N)
	if !h.Broken || h.Energy > 0.99*classical || h.Energy < 1.01*classical {
		t.Fatalf("E = %v (broken %v), classical minimum %v", h.Energy, h.Broken, classical)
	}
}

// The per-axis mode sum equals the sum over every momentum.
func TestModeSum(t *testing.T) {
	for _, c := range []struct{ L, dim int }{{1, 2}, {2, 2}, {5, 2}, {8, 2}, {7, 3}, {6, 1}} {
		lat, _ := NewLattice(c.L, c.dim)
		f := func(p float64) float64 { return 1 / math.Sqrt(p+0.3) }
		want := 0.0
		for _, p := range lat.MomentumSquared() {
			want += f(p)
		}
		if got := newModeSum(lat).sum(f); math.Abs(got-want) > 1e-12*want {
			t.Errorf("L=%d dim=%d: %v, want %v", c.L, c.dim, got, want)
		}
	}
}

// A cancelled context stops the Gaussian solver on a lattice where it takes seconds.
func TestHartreeHonoursContext(t *testing.T) {
	m, err := NewModel(2000, 2, -1, 12)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := SolveHartreeContext(ctx, m); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
