// Package hamiltonian defines the lattice scalar phi^4 Hamiltonian of docs/physics.md
// (geometry, couplings, potential and its gradient) and the results that are known exactly or
// in closed form for it: the free theory at any size and the Gaussian-variational (Hartree)
// bound. It imports nothing of the project, so every other package can lean on it.
package hamiltonian

import (
	"fmt"
	"math"
)

// MaxDim is the largest spatial dimension the geometry supports.
const MaxDim = 3

// MaxSites is the largest lattice accepted: 2^26 = 67,108,864 sites. The analytic free theory
// and the Gaussian bound hold a few numbers per site, so this keeps them within a few GiB; VMC
// and exact diagonalization have their own, far smaller, limits.
const MaxSites = 1 << 26

// Lattice is a periodic hypercubic lattice of side L in Dim dimensions with unit spacing.
// Sites are numbered with the first coordinate running fastest: site = x0 + L*x1 + L^2*x2.
type Lattice struct {
	L   int // side length
	Dim int // number of spatial dimensions (1, 2 or 3)
	N   int // number of sites, L^Dim
}

// NewLattice returns the periodic lattice of side L in dim dimensions.
func NewLattice(L, dim int) (Lattice, error) {
	if dim < 1 || dim > MaxDim {
		return Lattice{}, fmt.Errorf("dimension must be 1, 2 or 3, got %d", dim)
	}
	if L < 1 {
		return Lattice{}, fmt.Errorf("lattice size L must be at least 1, got %d", L)
	}
	n := 1
	for i := 0; i < dim; i++ {
		if n > MaxSites/L {
			return Lattice{}, fmt.Errorf("lattice %d^%d has more than the %d sites vqs handles", L, dim, MaxSites)
		}
		n *= L
	}
	return Lattice{L: L, Dim: dim, N: n}, nil
}

// Coords writes the coordinates of site into c (length Dim) and returns it.
func (l Lattice) Coords(site int, c []int) []int {
	for mu := 0; mu < l.Dim; mu++ {
		c[mu] = site % l.L
		site /= l.L
	}
	return c
}

// Site returns the site index of coordinates c, taken modulo L.
func (l Lattice) Site(c []int) int {
	s := 0
	for mu := l.Dim - 1; mu >= 0; mu-- {
		x := ((c[mu] % l.L) + l.L) % l.L
		s = s*l.L + x
	}
	return s
}

// Neighbor returns the site one step from site in direction mu (0-based), forwards when
// forward is true and backwards otherwise, with periodic wrap-around.
func (l Lattice) Neighbor(site, mu int, forward bool) int {
	stride := 1
	for i := 0; i < mu; i++ {
		stride *= l.L
	}
	x := (site / stride) % l.L
	var nx int
	if forward {
		nx = x + 1
		if nx == l.L {
			nx = 0
		}
	} else {
		nx = x - 1
		if nx < 0 {
			nx = l.L - 1
		}
	}
	return site + (nx-x)*stride
}

// ForwardNeighbors returns, for every site x, the Dim forward neighbours x+mu, laid out as
// nb[x*Dim+mu]. On L = 1 a site is its own neighbour; on L = 2 forward and backward coincide.
func (l Lattice) ForwardNeighbors() []int {
	nb := make([]int, l.N*l.Dim)
	for x := 0; x < l.N; x++ {
		for mu := 0; mu < l.Dim; mu++ {
			nb[x*l.Dim+mu] = l.Neighbor(x, mu, true)
		}
	}
	return nb
}

// MomentumSquared returns the lattice momentum squared p_k^2 = sum_mu 4 sin^2(k_mu/2) of every
// momentum k_mu = 2 pi n_mu / L, indexed like sites (n plays the role of x).
func (l Lattice) MomentumSquared() []float64 {
	dims := make([]int, l.Dim)
	for mu := range dims {
		dims[mu] = l.L
	}
	return MomentumSquared(dims)
}

// MomentumSquared returns p_k^2 = sum_mu 4 sin^2(k_mu/2), k_mu = 2 pi n_mu / L_mu, for every
// momentum of the periodic box with sides dims (axis 0 fastest, as Lattice numbers sites),
// indexed like sites: the eigenvalues of minus the lattice Laplacian. Euclidean lattices
// (L^d x L_t) are boxes whose sides differ.
func MomentumSquared(dims []int) []float64 {
	n := 1
	for _, l := range dims {
		n *= l
	}
	p2 := make([]float64, n)
	for k := range p2 {
		r, s := k, 0.0
		for _, l := range dims {
			h := math.Sin(math.Pi * float64(r%l) / float64(l))
			s += 4 * h * h
			r /= l
		}
		p2[k] = s
	}
	return p2
}
