package hamiltonian

import (
	"fmt"
	"math"
)

// FreeTheory holds the exact solution of the lambda = 0 theory on a lattice.
type FreeTheory struct {
	Lattice
	M2    float64
	Omega []float64 // omega_k = sqrt(m2 + p_k^2), indexed like sites
}

// NewFreeTheory returns the exact free theory; m2 must be > 0.
func NewFreeTheory(lat Lattice, m2 float64) (*FreeTheory, error) {
	if !(m2 > 0) || math.IsInf(m2, 0) {
		return nil, fmt.Errorf("the free theory needs a finite m2 > 0, got %v", m2)
	}
	p2 := lat.MomentumSquared()
	om := make([]float64, lat.N)
	for k, p := range p2 {
		om[k] = math.Sqrt(m2 + p)
	}
	return &FreeTheory{Lattice: lat, M2: m2, Omega: om}, nil
}

// Energy returns the ground-state energy E0 = (1/2) sum_k omega_k.
func (f *FreeTheory) Energy() float64 {
	return 0.5 * kahanSum(f.Omega)
}

// Gap returns the first excitation energy min_k omega_k = sqrt(m2).
func (f *FreeTheory) Gap() float64 {
	g := math.Inf(1)
	for _, w := range f.Omega {
		g = math.Min(g, w)
	}
	return g
}

// Correlator returns <phi_x phi_y> for separation r = y - x (lattice coordinates, length Dim):
// (1/N) sum_k cos(k.r)/(2 omega_k).
func (f *FreeTheory) Correlator(r []int) float64 {
	c := make([]int, f.Dim)
	terms := make([]float64, f.N)
	for k := 0; k < f.N; k++ {
		f.Coords(k, c)
		ph := 0.0
		for mu := 0; mu < f.Dim; mu++ {
			ph += 2 * math.Pi * float64(c[mu]*r[mu]) / float64(f.L)
		}
		terms[k] = math.Cos(ph) / (2 * f.Omega[k])
	}
	return kahanSum(terms) / float64(f.N)
}

// kahanSum adds xs with compensated summation so that sums over 10^3..10^6 modes keep
// every printed digit.
func kahanSum(xs []float64) float64 {
	var s, c float64
	for _, x := range xs {
		y := x - c
		t := s + y
		c = (t - s) - y
		s = t
	}
	return s
}
