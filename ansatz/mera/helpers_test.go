package mera

import "vqs/hamiltonian"

// localEnergy assembles E_loc from Derivs through the Hamiltonian, as vmc does.
func localEnergy(a *Ansatz, ws *Workspace, phi []float64) hamiltonian.LocalEnergy {
	grad := make([]float64, len(phi))
	_, lap := a.Derivs(ws, phi, grad, nil)
	return a.Model().LocalEnergy(phi, grad, lap)
}

// logDerivParams writes O = du/dtheta at phi into o.
func logDerivParams(a *Ansatz, ws *Workspace, phi, o []float64) {
	a.Derivs(ws, phi, make([]float64, len(phi)), o)
}
