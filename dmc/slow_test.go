package dmc

import (
	"os"
	"testing"

	"vqs/hamiltonian"
)

func slow(t *testing.T) {
	if os.Getenv("VQS_SLOW") == "" {
		t.Skip("long physics check; set VQS_SLOW=1")
	}
}

func logResult(t *testing.T, res *Result, exact float64) {
	t.Helper()
	t.Logf("VMC %.9g +- %.2g, Var(E_loc) %.3g, acceptance %.4f", res.VMC.Energy.Value, res.VMC.Energy.Error,
		res.VMC.Variance.Value, res.VMC.Acceptance)
	for _, p := range res.Points {
		t.Logf("tau %-6g E %.9g +- %.2g (uncorrected %.9g), acceptance %.4f, tau_int %.3g, equilibration %+v",
			p.Tau, p.Energy.Value, p.Energy.Error, p.EnergyUncorrected.Value, p.Acceptance, p.TauInt, p.Equilibration)
	}
	if pc := res.Population; pc != nil {
		t.Logf("population check: %d walkers, E %.9g +- %.2g, diff %.2f sigma", pc.Point.Walkers, pc.Point.Energy.Value,
			pc.Point.Energy.Error, pc.Sigmas)
	}
	t.Logf("E0 %.10g +- %.2g, exact %.10g: %.2f sigma; VMC - E0 = %.3g; %.0f s", res.Energy, res.EnergyErr, exact,
		(res.Energy-exact)/res.EnergyErr, res.VMC.Energy.Value-res.Energy, res.Seconds)
}

// TestSlowAnharmonicOscillator: one site, m2 = 1, lambda = 24, with the Gaussian-plus-quartic
// guide of least Var(E_loc) (a = 1.64, c = 0.108, Var = 4.4e-4): E0 to 2e-5.
func TestSlowAnharmonicOscillator(t *testing.T) {
	slow(t)
	m := mustModel(t, 1, 1, 1, 24)
	g := newTestGuide(t, m.Lattice, 1.64*1.64, 0.108)
	res := run(t, Config{Walkers: 1024, Time: 400, Taus: []float64{0.1, 0.05, 0.025}, Seed: 11}, g, m)
	logResult(t, res, aho)
	if d := res.Energy - aho; d < -3*res.EnergyErr || d > 3*res.EnergyErr || res.EnergyErr > 2e-5 {
		t.Errorf("E0 %v +- %v, exact %v", res.Energy, res.EnergyErr, aho)
	}
}

// TestSlowFree16WrongMass: the free theory on 16x16 from a Gaussian guide with the wrong mass
// (mass^2 1.5 for m2 = 1): the DMC energy is the exact E0, far below the guide's.
func TestSlowFree16WrongMass(t *testing.T) {
	slow(t)
	m := mustModel(t, 16, 2, 1, 0)
	free, _ := hamiltonian.NewFreeTheory(m.Lattice, 1)
	g := newTestGuide(t, m.Lattice, 1.5, 0)
	res := run(t, Config{Walkers: 1024, Time: 40, Taus: []float64{0.1, 0.05}, Seed: 12}, g, m)
	e0 := free.Energy()
	logResult(t, res, e0)
	if d := res.Energy - e0; d < -3*res.EnergyErr || d > 3*res.EnergyErr {
		t.Errorf("E0 %v +- %v, exact %v", res.Energy, res.EnergyErr, e0)
	}
	if vm := res.VMC.Energy; vm.Value-e0 < 20*res.EnergyErr {
		t.Errorf("the guide's energy %v is not far above E0 %v on the scale of the DMC error %v", vm.Value, e0, res.EnergyErr)
	}
}
