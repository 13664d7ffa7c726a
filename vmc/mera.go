package vmc

import (
	"vqs/ansatz/mera"
)

// MERA adapts the RG-structured ansatz to the Wavefunction seam.
type MERA struct{ *mera.Ansatz }

// NewEvaluator returns an evaluator with its own workspace.
func (m MERA) NewEvaluator() Evaluator {
	return meraEvaluator{a: m.Ansatz, ws: m.Ansatz.NewWorkspace(), grad: make([]float64, m.Model().N)}
}

type meraEvaluator struct {
	a    *mera.Ansatz
	ws   *mera.Workspace
	grad []float64 // scratch for Measure
}

func (e meraEvaluator) LogPsi(phi []float64) float64 { return e.a.LogPsi(e.ws, phi) }
func (e meraEvaluator) LocalTerms(phi, grad []float64) float64 {
	return e.a.LocalTerms(e.ws, phi, grad)
}
func (e meraEvaluator) LocalEnergy(phi []float64) LocalEnergy {
	return LocalEnergy(e.a.LocalEnergy(e.ws, phi))
}

func (e meraEvaluator) Measure(phi, o []float64) LocalEnergy {
	_, el := e.a.Measure(e.ws, phi, e.grad, o)
	return LocalEnergy(el)
}
