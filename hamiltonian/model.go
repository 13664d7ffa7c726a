package hamiltonian

import (
	"errors"
	"fmt"
	"math"
)

// MaxCoupling bounds |m2| and lambda.
const MaxCoupling = 1e12

// Params are the couplings of H = sum_x [pi^2/2 + (M2/2) phi^2 + (Lambda/24) phi^4] + gradient term.
// Lambda multiplies phi^4/4!; users of the lambda/4 convention pass 6 times their value.
type Params struct {
	M2     float64 // bare mass squared; may be negative when Lambda > 0 (double well)
	Lambda float64 // quartic coupling, coefficient of phi^4/4!
}

// Validate reports whether the couplings define a Hamiltonian with a normalizable ground state.
func (p Params) Validate() error {
	if math.IsNaN(p.M2) || math.IsInf(p.M2, 0) {
		return fmt.Errorf("m2 must be a finite number, got %v", p.M2)
	}
	if math.IsNaN(p.Lambda) || math.IsInf(p.Lambda, 0) {
		return fmt.Errorf("lambda must be a finite number, got %v", p.Lambda)
	}
	if p.Lambda < 0 {
		return fmt.Errorf("lambda must be >= 0 (H is unbounded below otherwise), got %v", p.Lambda)
	}
	if math.Abs(p.M2) > MaxCoupling || p.Lambda > MaxCoupling {
		return fmt.Errorf("|m2| and lambda must be at most %g (lattice units; beyond that the mass is far above the lattice cutoff and double precision loses the energies), got m2 = %v, lambda = %v", MaxCoupling, p.M2, p.Lambda)
	}
	if p.Lambda == 0 && p.M2 <= 0 {
		return fmt.Errorf("with lambda = 0, m2 must be > 0 for a normalizable ground state, got m2 = %v", p.M2)
	}
	return nil
}

// Model is the phi^4 Hamiltonian on a given lattice.
type Model struct {
	Lattice
	Params
	nb []int // forward neighbours, nb[x*Dim+mu]
}

// NewModel validates the lattice and couplings and returns the model.
func NewModel(L, dim int, m2, lambda float64) (*Model, error) {
	lat, err := NewLattice(L, dim)
	if err != nil {
		return nil, err
	}
	p := Params{M2: m2, Lambda: lambda}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Model{Lattice: lat, Params: p, nb: lat.ForwardNeighbors()}, nil
}

// ErrLength is returned when a field has the wrong number of components.
var ErrLength = errors.New("field length does not match the number of sites")

// PotentialParts returns the quadratic part V2 (mass and gradient terms) and the quartic part V4
// of the potential at phi. phi must have length N.
func (m *Model) PotentialParts(phi []float64) (v2, v4 float64) {
	d := m.Dim
	var mass, grad, quart float64
	for x, f := range phi {
		f2 := f * f
		mass += f2
		quart += f2 * f2
		for mu := 0; mu < d; mu++ {
			df := phi[m.nb[x*d+mu]] - f
			grad += df * df
		}
	}
	return 0.5*m.M2*mass + 0.5*grad, m.Lambda / 24 * quart
}

// LocalEnergy is the local energy E_loc(phi) = (H Psi)(phi) / Psi(phi) of a positive
// wavefunction Psi = exp(u), split into its parts: Kinetic = -(1/2) sum_x [d^2u/dphi_x^2 +
// (du/dphi_x)^2], the quadratic potential V2 (mass and gradient terms) and the quartic V4.
// Total = Kinetic + V2 + V4.
type LocalEnergy struct{ Total, Kinetic, V2, V4 float64 }

// LocalEnergy assembles E_loc at phi from the wavefunction's derivatives there: grad = du/dphi
// and lap = sum_x d^2u/dphi_x^2. This is the one place where the Hamiltonian meets a state;
// VMC and DMC both go through it.
func (m *Model) LocalEnergy(phi, grad []float64, lap float64) LocalEnergy {
	sq := 0.0
	for _, g := range grad {
		sq += g * g
	}
	kin := -0.5 * (lap + sq)
	v2, v4 := m.PotentialParts(phi)
	return LocalEnergy{Total: kin + v2 + v4, Kinetic: kin, V2: v2, V4: v4}
}

// Potential returns V(phi) = V2 + V4.
func (m *Model) Potential(phi []float64) float64 {
	v2, v4 := m.PotentialParts(phi)
	return v2 + v4
}

// Gradient writes dV/dphi_x into grad (length N).
func (m *Model) Gradient(phi, grad []float64) {
	d := m.Dim
	for x := range grad {
		grad[x] = 0
	}
	for x, f := range phi {
		grad[x] += m.M2*f + m.Lambda/6*f*f*f
		for mu := 0; mu < d; mu++ {
			y := m.nb[x*d+mu]
			df := phi[y] - f
			grad[y] += df
			grad[x] -= df
		}
	}
}

// Neighbors returns the forward-neighbour table nb[x*Dim+mu] (shared; do not modify).
func (m *Model) Neighbors() []int { return m.nb }
