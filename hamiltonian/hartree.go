package hamiltonian

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// Hartree is the best translation-invariant Gaussian state
// Psi ~ exp(-(1/2)(phi-v)^T G (phi-v)) with G_k = sqrt(p_k^2 + M^2) (docs/physics.md, "Exact results").
// Its energy is an upper bound on E0 and equals E0 at lambda = 0.
type Hartree struct {
	Energy float64 // <H> in this state
	Mass   float64 // M, the gap of the Gaussian kernel
	VEV    float64 // v >= 0, the field expectation value (0 in the symmetric phase)
	S2     float64 // (1/N) sum_k 1/(2 G_k), the fluctuation part of <phi^2>
	Phi2   float64 // <phi_x^2> = v^2 + S2
	Broken bool    // whether the lower-energy solution has v != 0
	// SymmetricMass is the mass of the v = 0 solution, the best symmetric Gaussian (equal to
	// Mass unless Broken): a Z2-symmetric state that cannot represent the two peaks starts there.
	SymmetricMass float64
	G             []float64 // G_k, indexed like sites
}

// SolveHartree solves the Gaussian-variational gap equations for m and returns the solution of
// lowest energy among the symmetric one and any broken one.
func SolveHartree(m *Model) (*Hartree, error) { return SolveHartreeContext(context.Background(), m) }

// SolveHartreeContext is SolveHartree with a context: on lattices of millions of sites the
// gap equations take seconds, and a cancelled ctx stops them with ctx.Err().
func SolveHartreeContext(ctx context.Context, m *Model) (*Hartree, error) {
	modes := newModeSum(m.Lattice)
	var stopped error
	s2 := func(M float64) float64 {
		if stopped == nil {
			stopped = ctx.Err()
		}
		if stopped != nil {
			return math.NaN()
		}
		return modes.sum(func(p float64) float64 { return 0.5 / math.Sqrt(p+M*M) }) / float64(m.N)
	}
	// Symmetric phase: M^2 = m2 + (lambda/2) s2(M); the left side grows and the right side falls.
	var mSym float64
	if m.Lambda == 0 {
		mSym = math.Sqrt(m.M2)
	} else {
		var err error
		mSym, err = bisectRoot(func(M float64) float64 { return M*M - m.M2 - 0.5*m.Lambda*s2(M) })
		if stopped != nil {
			return nil, stopped
		}
		if err != nil {
			return nil, err
		}
	}
	p2 := m.MomentumSquared()
	best := hartreeAt(m, p2, mSym, 0)
	if m.Lambda > 0 && m.M2 < 0 {
		// Broken phase: v^2 = 3 M^2/lambda and M^2 = -2 m2 - lambda s2(M); h may have 0 or 2
		// roots, all below sqrt(-2 m2) since s2 > 0. (With m2 >= 0 it has none.)
		h := func(M float64) float64 { return M*M + 2*m.M2 + m.Lambda*s2(M) }
		for _, M := range allRoots(h, 1e-6, 1.01*math.Sqrt(-2*m.M2)) {
			c := hartreeAt(m, p2, M, math.Sqrt(3*M*M/m.Lambda))
			if c.Energy < best.Energy {
				best = c
			}
		}
		if stopped != nil {
			return nil, stopped
		}
	}
	best.SymmetricMass = mSym
	if math.IsNaN(best.Energy) || math.IsInf(best.Energy, 0) {
		return nil, fmt.Errorf("hartree: the Gaussian energy is not finite (m2 = %g, lambda = %g)", m.M2, m.Lambda)
	}
	return best, nil
}

// modeSum sums a function of p_k^2 over all momenta without visiting every one of them:
// p_k^2 = sum_mu q(n_mu) with q(n) = 4 sin^2(pi n / L) taking about L/2 distinct values per
// axis, so the sum runs over the distinct per-axis values with their multiplicities, (L/2+1)^dim
// terms instead of L^dim.
type modeSum struct {
	p2, w []float64
}

func newModeSum(lat Lattice) modeSum {
	var q, qw []float64
	for n := 0; n <= lat.L/2; n++ {
		s := math.Sin(math.Pi * float64(n) / float64(lat.L))
		w := 2.0
		if n == 0 || 2*n == lat.L {
			w = 1
		}
		q, qw = append(q, 4*s*s), append(qw, w)
	}
	ms := modeSum{p2: []float64{0}, w: []float64{1}}
	for range lat.Dim {
		var p2, w []float64
		for i, a := range ms.p2 {
			for j, b := range q {
				p2, w = append(p2, a+b), append(w, ms.w[i]*qw[j])
			}
		}
		ms.p2, ms.w = p2, w
	}
	return ms
}

func (ms modeSum) sum(f func(p2 float64) float64) float64 {
	var s, c float64 // compensated: the sum feeds an energy that must keep its digits
	for i, p := range ms.p2 {
		y := ms.w[i]*f(p) - c
		t := s + y
		c = (t - s) - y
		s = t
	}
	return s
}

// hartreeAt evaluates the Gaussian state of kernel mass M and shift v exactly.
func hartreeAt(m *Model, p2 []float64, M, v float64) *Hartree {
	n := float64(m.N)
	g := make([]float64, m.N)
	kin := make([]float64, m.N)
	inv := make([]float64, m.N)
	for k, p := range p2 {
		g[k] = math.Sqrt(p + M*M)
		kin[k] = g[k]/4 + p/(4*g[k])
		inv[k] = 0.5 / g[k]
	}
	s2 := kahanSum(inv) / n
	v2 := v * v
	e := kahanSum(kin) + n*(0.5*m.M2*(v2+s2)+m.Lambda/24*(v2*v2+6*v2*s2+3*s2*s2))
	return &Hartree{Energy: e, Mass: M, VEV: v, S2: s2, Phi2: v2 + s2, Broken: v != 0, G: g}
}

var errNoRoot = errors.New("hartree: gap equation has no root in range")

// bisectRoot finds the root of an increasing-through-zero f on (0, inf) by bracketing and bisection.
func bisectRoot(f func(float64) float64) (float64, error) {
	lo, hi := 1e-12, 1.0
	for f(hi) < 0 {
		hi *= 2
		if hi > 1e150 {
			return 0, errNoRoot
		}
	}
	for f(lo) > 0 {
		lo /= 2
		if lo < 1e-300 {
			return 0, errNoRoot
		}
	}
	return bisect(f, lo, hi), nil
}

func bisect(f func(float64) float64, lo, hi float64) float64 {
	flo := f(lo)
	for i := 0; i < 200 && hi-lo > 1e-15*hi; i++ {
		mid := 0.5 * (lo + hi)
		fm := f(mid)
		if (fm < 0) == (flo < 0) {
			lo, flo = mid, fm
		} else {
			hi = mid
		}
	}
	return 0.5 * (lo + hi)
}

// allRoots returns the sign changes of f on a logarithmic grid over [a, b], refined by bisection.
// It stops early when f returns NaN (a cancelled computation).
func allRoots(f func(float64) float64, a, b float64) []float64 {
	const steps = 1000
	var roots []float64
	r := math.Pow(b/a, 1.0/steps)
	x0, f0 := a, f(a)
	for i := 1; i <= steps; i++ {
		x1 := x0 * r
		f1 := f(x1)
		if math.IsNaN(f1) {
			return roots
		}
		if (f0 < 0) != (f1 < 0) {
			roots = append(roots, bisect(f, x0, x1))
		}
		x0, f0 = x1, f1
	}
	return roots
}
