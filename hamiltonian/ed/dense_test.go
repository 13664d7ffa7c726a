package ed

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"vqs/hamiltonian"
)

// This file checks the matrix-free operator, its sector reduction and Lanczos against the full
// Hamiltonian built independently as a dense matrix from Kronecker products. The dense H is
// written straight from the model (H = sum_x [pi^2/2 + (m2/2) phi^2 + (lambda/24) phi^4]
// + (1/2) sum_{x,mu} (phi_{x+mu} - phi_x)^2), with closed-form oscillator matrix elements rather
// than products of truncated matrices, and with the gradient term as (1/2)(phi_y - phi_x)^2 per
// forward bond rather than the split used by the package.

// closedFormOps returns phi, phi^2, phi^4 and pi^2 in n oscillator levels at frequency w from
// the textbook matrix elements of (a + a^dag)^k.
func closedFormOps(n int, w float64) (phi, phi2, phi4, pi2 *mat.Dense) {
	phi, phi2, phi4, pi2 = mat.NewDense(n, n, nil), mat.NewDense(n, n, nil), mat.NewDense(n, n, nil), mat.NewDense(n, n, nil)
	sym := func(m *mat.Dense, i, j int, v float64) {
		if i < n && j < n {
			m.Set(i, j, v)
			m.Set(j, i, v)
		}
	}
	for k := 0; k < n; k++ {
		f := float64(k)
		s1 := math.Sqrt(f + 1)
		s2 := math.Sqrt((f + 1) * (f + 2))
		s4 := math.Sqrt((f + 1) * (f + 2) * (f + 3) * (f + 4))
		sym(phi, k, k+1, s1/math.Sqrt(2*w))
		sym(phi2, k, k, (2*f+1)/(2*w))
		sym(phi2, k, k+2, s2/(2*w))
		sym(phi4, k, k, (6*f*f+6*f+3)/(4*w*w))
		sym(phi4, k, k+2, (4*f+6)*s2/(4*w*w))
		sym(phi4, k, k+4, s4/(4*w*w))
		sym(pi2, k, k, w*(2*f+1)/2)
		sym(pi2, k, k+2, -w*s2/2)
	}
	return
}

// embed returns the operator o acting on site x of N sites (site 0 the fastest digit).
func embed(o mat.Matrix, x, sites, n int) *mat.Dense {
	below := identity(intPow(n, x))
	above := identity(intPow(n, sites-1-x))
	var t, r mat.Dense
	t.Kronecker(o, below)
	r.Kronecker(above, &t)
	return &r
}

func identity(k int) *mat.Dense {
	d := mat.NewDense(k, k, nil)
	for i := 0; i < k; i++ {
		d.Set(i, i, 1)
	}
	return d
}

func intPow(n, k int) int {
	p := 1
	for i := 0; i < k; i++ {
		p *= n
	}
	return p
}

// denseH builds the full Hamiltonian of m with n levels per site at frequency w.
func denseH(m *hamiltonian.Model, n int, w float64) *mat.Dense {
	phi, phi2, phi4, pi2 := closedFormOps(n, w)
	N := m.N
	dim := intPow(n, N)
	h := mat.NewDense(dim, dim, nil)
	for x := 0; x < N; x++ {
		var site mat.Dense
		site.Scale(0.5, pi2)
		var t mat.Dense
		t.Scale(0.5*m.M2, phi2)
		site.Add(&site, &t)
		t.Scale(m.Lambda/24, phi4)
		site.Add(&site, &t)
		h.Add(h, embed(&site, x, N, n))
	}
	for x := 0; x < N; x++ {
		for mu := 0; mu < m.Dim; mu++ {
			y := m.Lattice.Neighbor(x, mu, true)
			if y == x {
				continue // (phi_x - phi_x)^2 = 0
			}
			// (1/2)(phi_y - phi_x)^2 = (1/2)phi_y^2 + (1/2)phi_x^2 - phi_x phi_y, with phi^2 the
			// exact one-site operator (phi_x phi_y is exact as a product on different sites).
			var t mat.Dense
			t.Scale(0.5, embed(phi2, x, N, n))
			h.Add(h, &t)
			t.Scale(0.5, embed(phi2, y, N, n))
			h.Add(h, &t)
			var xy mat.Dense
			xy.Mul(embed(phi, x, N, n), embed(phi, y, N, n))
			h.Sub(h, &xy)
		}
	}
	return h
}

// sectorStates lists the basis states with digit-sum parity s in increasing index order.
func sectorStates(n, sites, s int) []int {
	var out []int
	for i := 0; i < intPow(n, sites); i++ {
		sum, r := 0, i
		for j := 0; j < sites; j++ {
			sum += r % n
			r /= n
		}
		if sum%2 == s {
			out = append(out, i)
		}
	}
	return out
}

func restrict(h *mat.Dense, states []int) *mat.SymDense {
	k := len(states)
	r := mat.NewSymDense(k, nil)
	for i, a := range states {
		for j := i; j < k; j++ {
			r.SetSym(i, j, 0.5*(h.At(a, states[j])+h.At(states[j], a)))
		}
	}
	return r
}

func lowestEigen(t *testing.T, s *mat.SymDense) float64 {
	var es mat.EigenSym
	if !es.Factorize(s, false) {
		t.Fatal("EigenSym failed")
	}
	return es.Values(nil)[0]
}

type denseCase struct {
	L, dim    int
	m2, lam   float64
	n         int
	omega     float64 // 0: default
	checkSymm bool
}

var denseCases = []denseCase{
	{L: 2, dim: 1, m2: 0.5, lam: 3, n: 8},            // two-site chain: the pair is a double bond
	{L: 2, dim: 1, m2: -2, lam: 6, n: 9, omega: 1.3}, // double well, odd nmax
	{L: 2, dim: 2, m2: -1, lam: 12, n: 5},            // 2x2, odd nmax, m2 < 0
	{L: 2, dim: 2, m2: 1, lam: 24, n: 4, omega: 2.7},
	{L: 1, dim: 2, m2: -1, lam: 6, n: 11}, // one site, two self-bonds
	{L: 1, dim: 3, m2: 0.7, lam: 2, n: 6},
	{L: 3, dim: 1, m2: 0.3, lam: 5, n: 6}, // three-site ring, single bonds
	{L: 4, dim: 1, m2: -0.5, lam: 4, n: 5},
	{L: 3, dim: 1, m2: 2, lam: 0, n: 7, omega: 0.8},
}

func (c denseCase) String() string {
	return fmt.Sprintf("L=%d dim=%d m2=%g lambda=%g n=%d omega=%g", c.L, c.dim, c.m2, c.lam, c.n, c.omega)
}

func TestMatvecAgainstDense(t *testing.T) {
	for _, c := range denseCases {
		m, err := hamiltonian.NewModel(c.L, c.dim, c.m2, c.lam)
		if err != nil {
			t.Fatal(err)
		}
		w := c.omega
		if w == 0 {
			w = DefaultOmega(m)
		}
		h := denseH(m, c.n, w)
		g := newGeometry(m)
		for s := 0; s < 2; s++ {
			states := sectorStates(c.n, m.N, s)
			hs := restrict(h, states)
			rng := rand.New(rand.NewPCG(3, uint64(s)))
			x := make([]float64, len(states))
			for i := range x {
				x[i] = rng.NormFloat64()
			}
			var want mat.VecDense
			want.MulVec(hs, mat.NewVecDense(len(x), x))
			// Every split of the sites into A and B, including all of them in A.
			for nA := 1; nA <= m.N; nA++ {
				l, ok := newLayoutSplit(c.n, m.N, nA)
				if !ok {
					t.Fatal("layout overflow")
				}
				if got := l.dim[s]; got != int64(len(states)) {
					t.Fatalf("%v sector %d: dimension %d, want %d", c, s, got, len(states))
				}
				op := newOperator(m, l, g, w)
				for _, workers := range []int{1, 3} {
					pl := newPool(workers)
					e := newEngine(op, pl, max(l.dim[0], l.dim[1]))
					e.setSector(s)
					y := make([]float64, len(x))
					e.matvec(y, x)
					pl.close()
					for i := range y {
						if d := math.Abs(y[i] - want.AtVec(i)); d > 1e-11*(1+math.Abs(want.AtVec(i))) {
							t.Fatalf("%v sector %d nA=%d workers=%d: (Hx)[%d] = %.15g, dense %.15g",
								c, s, nA, workers, i, y[i], want.AtVec(i))
						}
					}
				}
			}
		}
	}
}

// TestSolveAgainstDense checks both paths against the dense H: the Z2 path against its lowest
// eigenvalue in each parity sector, the symmetric path against its lowest eigenvalue on the
// fully symmetric states, built from the brute-force projector (symmetry_test.go).
func TestSolveAgainstDense(t *testing.T) {
	for _, c := range denseCases {
		m, _ := hamiltonian.NewModel(c.L, c.dim, c.m2, c.lam)
		for _, sym := range []Symmetry{SymmetryZ2, SymmetryFull} {
			res, err := Solve(context.Background(), m, Config{NMax: c.n, Omega: c.omega, Workers: 2, Symmetry: sym})
			if err != nil {
				t.Fatalf("%v: %v", c, err)
			}
			if res.Symmetry != sym {
				t.Fatalf("%v: asked for %q, used %q", c, sym, res.Symmetry)
			}
			h := denseH(m, c.n, res.Omega)
			var want [2]float64
			for s := 0; s < 2; s++ {
				if sym == SymmetryZ2 {
					want[s] = lowestEigen(t, restrict(h, sectorStates(c.n, m.N, s)))
				} else {
					want[s] = lowestEigen(t, project(h, symmetricBasis(t, m, c.n, s)))
				}
			}
			got := [2]float64{res.Energy, res.OddEnergy}
			for s := 0; s < 2; s++ {
				if math.Abs(got[s]-want[s]) > 1e-10*math.Max(1, math.Abs(want[s])) {
					t.Errorf("%v %s sector %d: Lanczos %.15g, dense %.15g", c, sym, s, got[s], want[s])
				}
			}
			if math.Abs(res.Gap-(want[1]-want[0])) > 1e-10*math.Max(1, math.Abs(want[0])) {
				t.Errorf("%v %s: gap %.15g, dense %.15g", c, sym, res.Gap, want[1]-want[0])
			}
		}
	}
}
