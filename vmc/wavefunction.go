// Package vmc finds variational ground states by Monte Carlo: it samples |Psi|^2 of a
// wavefunction, estimates the energy and its gradient from local energies, and updates the
// parameters by stochastic reconfiguration or Adam (DESIGN.md section 4). It defines the seams
// (Wavefunction, Sampler) and the driver that runs an optimisation with checkpoints.
package vmc

// LocalEnergy is the local energy of one configuration split into its parts:
// Kinetic = -(1/2) sum_x [d^2u/dphi_x^2 + (du/dphi_x)^2], and the quadratic and quartic
// potential parts. Total = Kinetic + V2 + V4.
type LocalEnergy struct{ Total, Kinetic, V2, V4 float64 }

// Wavefunction is a positive, parametrized wavefunction Psi = exp(u) whose Gaussian part is
// translation invariant with kernel g(k): u = -(1/2) sum_k g(k)|phi_k|^2/N + u_loc(phi).
// Samplers use the kernel to integrate the Gaussian part exactly.
type Wavefunction interface {
	NumParams() int
	Params(dst []float64) []float64
	SetParams(theta []float64) error
	ParamNames() []string
	Kernel() []float64
	NewEvaluator() Evaluator
}

// Evaluator evaluates a Wavefunction for one goroutine; it owns its scratch space.
type Evaluator interface {
	LogPsi(phi []float64) float64
	// LocalTerms returns u_loc and writes its phi-gradient into grad.
	LocalTerms(phi, grad []float64) float64
	LocalEnergy(phi []float64) LocalEnergy
	// Measure returns the local energy and writes O_i = du/dtheta_i into o, in one pass
	// where the wavefunction can share work between them.
	Measure(phi, o []float64) LocalEnergy
}
