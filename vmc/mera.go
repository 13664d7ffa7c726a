package vmc

import (
	"vqs/ansatz/mera"
	"vqs/hamiltonian"
)

// MERA adapts the RG-structured ansatz to the Wavefunction seam.
type MERA struct{ *mera.Ansatz }

// Lattice returns the lattice of the ansatz's model.
func (m MERA) Lattice() hamiltonian.Lattice { return m.Model().Lattice }

// NewEvaluator returns an evaluator with its own workspace.
func (m MERA) NewEvaluator() Evaluator {
	return meraEvaluator{a: m.Ansatz, ws: m.Ansatz.NewWorkspace()}
}

type meraEvaluator struct {
	a  *mera.Ansatz
	ws *mera.Workspace
}

func (e meraEvaluator) LogPsi(phi []float64) float64 { return e.a.LogPsi(e.ws, phi) }
func (e meraEvaluator) LocalTerms(phi, grad []float64) float64 {
	return e.a.LocalTerms(e.ws, phi, grad)
}
func (e meraEvaluator) LocalGrad(phi, grad []float64) { e.a.LocalGrad(e.ws, phi, grad) }
func (e meraEvaluator) Derivs(phi, grad, o []float64) (u, lap float64) {
	return e.a.Derivs(e.ws, phi, grad, o)
}
