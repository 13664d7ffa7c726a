// Package vmc finds variational ground states by Monte Carlo: it samples |Psi|^2 of a
// wavefunction, estimates the energy and its gradient from local energies, and updates the
// parameters by stochastic reconfiguration or Adam (docs/physics.md, section 4). It defines the
// seams (Wavefunction, Evaluator, Sampler, Optimizer) and the driver that runs an optimisation
// with checkpoints.
//
// The split follows NetKet's operator/state design: a Wavefunction only knows log Psi and its
// derivatives; the Hamiltonian it is measured against is passed to Run and Measure, which
// assemble E_loc through hamiltonian.Model.LocalEnergy.
package vmc

import "vqs/hamiltonian"

// LocalEnergy is the local energy of one configuration split into its parts (see
// hamiltonian.LocalEnergy).
type LocalEnergy = hamiltonian.LocalEnergy

// Wavefunction is a positive, parametrized wavefunction Psi = exp(u) whose Gaussian part is
// translation invariant with kernel g(k): u = -(1/2) sum_k g(k)|phi_k|^2/N + u_loc(phi).
// Samplers use the kernel to integrate the Gaussian part exactly.
type Wavefunction interface {
	// Lattice is the lattice the wavefunction lives on; Run refuses a Hamiltonian on another.
	Lattice() hamiltonian.Lattice
	NumParams() int
	Params(dst []float64) []float64
	SetParams(theta []float64) error
	ParamNames() []string
	// Kernel returns g(k), indexed like sites (read-only; SetParams may update it in place).
	Kernel() []float64
	NewEvaluator() Evaluator
}

// Evaluator evaluates a Wavefunction for one goroutine; it owns its scratch space.
type Evaluator interface {
	// LogPsi returns u = log Psi(phi), unnormalized.
	LogPsi(phi []float64) float64
	// LocalTerms returns u_loc (everything but the Gaussian part) and writes its phi-gradient
	// into grad.
	LocalTerms(phi, grad []float64) float64
	// LocalGrad writes only the phi-gradient of u_loc into grad: what a leapfrog step needs,
	// cheaper than LocalTerms where the value costs extra (logarithms).
	LocalGrad(phi, grad []float64)
	// Derivs returns u and its exact Laplacian sum_x d^2u/dphi_x^2, writes du/dphi into grad
	// and, when o is not nil, O_i = du/dtheta_i into o, in one pass.
	Derivs(phi, grad, o []float64) (u, lap float64)
}
