package dmc

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"vqs/hamiltonian"
	"vqs/vmc"
)

// aho is the anharmonic oscillator E0 at m2 = 1, lambda = 24 (x^4 coefficient 1).
const aho = 0.803770651234274

func run(t *testing.T, cfg Config, g vmc.Wavefunction, m *hamiltonian.Model) *Result {
	t.Helper()
	res, err := RunWith(context.Background(), cfg, g, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete {
		t.Fatal("run not complete")
	}
	return res
}

// TestExactGuideZeroVariance: with the exact ground state as the guide, the Gaussian
// propagator is exact, every move is accepted, E_loc is E0 everywhere and the weights are
// constant, so every energy is E0 with no fluctuation at all.
func TestExactGuideZeroVariance(t *testing.T) {
	for _, c := range []struct{ L, dim int }{{1, 1}, {4, 2}} {
		m := mustModel(t, c.L, c.dim, 0.8, 0)
		free, _ := hamiltonian.NewFreeTheory(m.Lattice, 0.8)
		g := newTestGuide(t, m.Lattice, 0.8, 0)
		res := run(t, Config{Walkers: 16, Time: 8, Taus: []float64{0.1, 0.05}, Seed: 3}, g, m)
		e0 := free.Energy()
		tol := 1e-12 * e0
		if math.Abs(res.Energy-e0) > tol || res.EnergyErr > tol {
			t.Errorf("L %d: E0 %v +- %v, exact %v", c.L, res.Energy, res.EnergyErr, e0)
		}
		if v := res.VMC.Variance.Value; math.Abs(v) > 1e-14*e0*e0 || math.Abs(res.VMC.Energy.Value-e0) > tol {
			t.Errorf("L %d: VMC %v, Var(E_loc) %v", c.L, res.VMC.Energy.Value, v)
		}
		for _, p := range res.Points {
			if math.Abs(p.Energy.Value-e0) > tol || p.Energy.Error > tol || p.Acceptance < 1-1e-9 || p.ClippedFraction != 0 {
				t.Errorf("L %d tau %v: E %+v, acceptance %v, clipped %v", c.L, p.Tau, p.Energy, p.Acceptance, p.ClippedFraction)
			}
		}
	}
}

// TestWrongMassProjects starts from a Gaussian with the wrong mass (its VMC energy is far
// above E0) on a small lattice: DMC must project to the exact free E0, so the energy is the
// projection's and not the guide's.
func TestWrongMassProjects(t *testing.T) {
	m := mustModel(t, 4, 1, 1, 0)
	free, _ := hamiltonian.NewFreeTheory(m.Lattice, 1)
	g := newTestGuide(t, m.Lattice, 2.5, 0)
	res := run(t, Config{Walkers: 256, Time: 60, Taus: []float64{0.1, 0.05}, Seed: 5, PopulationWalkers: -1}, g, m)
	e0 := free.Energy()
	vm := res.VMC.Energy
	if vm.Value-e0 < 20*vm.Error {
		t.Fatalf("the guide is not wrong enough: VMC %v +- %v, exact %v", vm.Value, vm.Error, e0)
	}
	if d := res.Energy - e0; math.Abs(d) > 3*res.EnergyErr || res.EnergyErr > 0.02 {
		t.Errorf("E0 %v +- %v, exact %v (%.1f sigma)", res.Energy, res.EnergyErr, e0, d/res.EnergyErr)
	}
	for _, p := range res.Points {
		if d := p.Energy.Value - e0; math.Abs(d) > 3*p.Energy.Error {
			t.Errorf("tau %v: E %v +- %v, exact %v", p.Tau, p.Energy.Value, p.Energy.Error, e0)
		}
	}
}

// TestAnharmonicOscillator: a single site with a crude Gaussian-plus-quartic guide projects to
// the exact anharmonic-oscillator E0, and the k = 0 correlation decays with its gap.
func TestAnharmonicOscillator(t *testing.T) {
	m := mustModel(t, 1, 1, 1, 24)
	g := newTestGuide(t, m.Lattice, 2.2*2.2, 0.08)
	res := run(t, Config{Walkers: 256, Time: 100, Taus: []float64{0.1, 0.05}, Seed: 1, PopulationWalkers: -1}, g, m)
	if d := res.Energy - aho; math.Abs(d) > 3*res.EnergyErr || res.EnergyErr > 5e-3 {
		t.Errorf("E0 %v +- %v, exact %v (%.1f sigma)", res.Energy, res.EnergyErr, aho, d/res.EnergyErr)
	}
	if vm := res.VMC.Energy; vm.Value-aho < 5*vm.Error {
		t.Errorf("VMC %v +- %v is not above E0: the guide should be crude", vm.Value, vm.Error)
	}
	// E1 - E0 of the oscillator, from exact diagonalization.
	const gap = 2.7378922 - aho
	if g := res.Gap; g == nil || math.Abs(g.Value-gap) > 3*g.Error || g.Error > 0.2 {
		t.Errorf("gap %+v, exact %v", g, gap)
	}
}

// ahoGuideMoments integrates the test guide exp(-a x^2/2 - c x^4) squared on one site: the
// exact VMC energy and <x^2> that the VMC stage must reproduce.
func ahoGuideMoments(a, c float64) (energy, x2 float64) {
	const h, xmax = 1e-4, 6.0
	var z, ez, x2z float64
	for x := -xmax; x <= xmax; x += h {
		psi2 := math.Exp(-a*x*x - 2*c*x*x*x*x)
		du := -a*x - 4*c*x*x*x
		d2u := -a - 12*c*x*x
		el := -0.5*(d2u+du*du) + 0.5*x*x + x*x*x*x
		z += psi2
		ez += psi2 * el
		x2z += psi2 * x * x
	}
	return ez / z, x2z / z
}

// TestVMCStageSamplesGuide: the moves without weights must sample Psi_T^2 exactly (detailed
// balance with the proposal's Green's function ratio), at a time step large enough that an
// error in that ratio would show.
func TestVMCStageSamplesGuide(t *testing.T) {
	m := mustModel(t, 1, 1, 1, 24)
	const a, c = 1.2, 0.3
	g := newTestGuide(t, m.Lattice, a*a, c)
	res := run(t, Config{Walkers: 128, Time: 64, VMCTime: 400, Taus: []float64{0.4}, Seed: 9, PopulationWalkers: -1, LagTime: -1}, g, m)
	e, x2 := ahoGuideMoments(a, c)
	vm := res.VMC
	if vm.Acceptance > 0.97 || vm.Acceptance < 0.3 {
		t.Errorf("acceptance %v: the test needs a step with real rejections", vm.Acceptance)
	}
	if d := vm.Energy.Value - e; math.Abs(d) > 4*vm.Energy.Error {
		t.Errorf("VMC energy %v +- %v, quadrature %v", vm.Energy.Value, vm.Energy.Error, e)
	}
	if d := vm.Obs.Phi2.Value - x2; math.Abs(d) > 4*vm.Obs.Phi2.Error {
		t.Errorf("VMC <x^2> %v +- %v, quadrature %v", vm.Obs.Phi2.Value, vm.Obs.Phi2.Error, x2)
	}
}

// TestGapsFreeTheory: with the exact free guide the k = 0 and smallest-k correlations decay
// with omega(0) = sqrt(m2) and omega(2 pi/L).
func TestGapsFreeTheory(t *testing.T) {
	const m2 = 0.64
	m := mustModel(t, 6, 1, m2, 0)
	free, _ := hamiltonian.NewFreeTheory(m.Lattice, m2)
	g := newTestGuide(t, m.Lattice, 0.9, 0) // a wrong mass: weights matter
	res := run(t, Config{Walkers: 256, Time: 60, Taus: []float64{0.05}, Seed: 1, PopulationWalkers: -1}, g, m)
	want0, want1 := free.Omega[0], free.Omega[1]
	for _, c := range []struct {
		g    *Gap
		want float64
	}{{res.Gap, want0}, {res.GapK1, want1}} {
		if c.g == nil || math.IsNaN(c.g.Value) || math.Abs(c.g.Value-c.want) > 3*c.g.Error || c.g.Error > 0.1*c.want {
			t.Errorf("gap %+v, exact %v", c.g, c.want)
		}
	}
}

// TestCombConservesWeight: the comb keeps the population size exactly, and averaged over its
// random offset every walker's number of copies is M w_i / sum(w), so the total weight is
// conserved in expectation and each walker's share exactly.
func TestCombConservesWeight(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const m = 37
	w := make([]float64, m)
	for i := range w {
		w[i] = math.Exp(2 * rng.NormFloat64())
	}
	w[5] = 0 // a walker with no weight never survives
	total := 0.0
	for _, x := range w {
		total += x
	}
	copies := make([]int, m)
	mean := make([]float64, m)
	const offsets = 20000
	for j := 0; j < offsets; j++ {
		u := (float64(j) + 0.5) / offsets
		comb(w, u, copies)
		n := 0
		for i, c := range copies {
			if c < 0 || math.Abs(float64(c)-m*w[i]/total) >= 1+1e-12 {
				t.Fatalf("u %v: walker %d gets %d copies for an expected %v", u, i, c, m*w[i]/total)
			}
			n += c
			mean[i] += float64(c) / offsets
		}
		if n != m {
			t.Fatalf("u %v: %d copies of %d walkers", u, n, m)
		}
	}
	for i := range w {
		if want := m * w[i] / total; math.Abs(mean[i]-want) > 1e-3 {
			t.Errorf("walker %d: mean copies %v, want %v", i, mean[i], want)
		}
	}
}

// TestBlocksMerge: merging blocks keeps every sum and the generation count.
func TestBlocksMerge(t *testing.T) {
	b := newBlocks(2)
	const n = 3*maxBlocks + 17
	var s0, s1 float64
	for g := 0; g < n; g++ {
		v := []float64{1, float64(g * g % 7)}
		s0 += v[0]
		s1 += v[1]
		b.add(v)
	}
	v := view{b: b}
	if v.sum(0) != s0 || v.sum(1) != s1 || b.generations(0) != n || b.Rows > maxBlocks {
		t.Fatalf("sums %v %v (want %v %v), generations %d of %d, rows %d", v.sum(0), v.sum(1), s0, s1, b.generations(0), n, b.Rows)
	}
	for r := 0; r < b.Rows-1; r++ {
		if v.at(r, 0) != float64(b.Length) {
			t.Fatalf("row %d holds %v generations, want %d", r, v.at(r, 0), b.Length)
		}
	}
}

// TestMSERDetectsTransient: a decaying start is cut, a stationary series is kept whole.
func TestMSERDetectsTransient(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, c := range []struct {
		amp     float64
		cut     bool
		comment string
	}{{0, false, "stationary"}, {3, true, "transient"}} {
		b := newBlocks(2)
		for g := 0; g < 800; g++ {
			b.add([]float64{1, c.amp*math.Exp(-float64(g)/40) + 0.1*rng.NormFloat64()})
		}
		d := b.mserStart(1, 0)
		if (d > 0) != c.cut || (c.cut && (d < 50 || d > 400)) {
			t.Errorf("%s: MSER discards %d of 800 generations", c.comment, d)
		}
	}
}

// TestCheckpointResume: a run interrupted in the middle of a time step and resumed from its
// checkpoint ends with exactly the numbers of an uninterrupted run.
func TestCheckpointResume(t *testing.T) {
	m := mustModel(t, 2, 2, 1, 24)
	g := newTestGuide(t, m.Lattice, 4, 0.05)
	path := filepath.Join(t.TempDir(), "ck.gob")
	cfg := Config{Walkers: 32, Time: 8, Taus: []float64{0.1, 0.05}, Seed: 7, Workers: 2}
	want := run(t, cfg, g, m)

	ctx, cancel := context.WithCancel(context.Background())
	cfg.Checkpoint = path
	stop := func(p Progress) {
		if p.Stage == StageDMC && p.Point == 1 && p.Generation >= 60 {
			cancel()
		}
	}
	part, err := RunWith(ctx, cfg, g, m, stop)
	if !errors.Is(err, context.Canceled) || part == nil || part.Complete {
		t.Fatalf("interrupted run: err %v, result %v", err, part)
	}
	if len(part.Points) != 2 || math.IsNaN(part.Points[0].Energy.Value) {
		t.Fatalf("the interrupted run should report the finished time step: %+v", part.Points)
	}
	cfg.Resume, cfg.Workers = true, 3 // the number of workers does not matter
	got := run(t, cfg, g, m)
	if got.Energy != want.Energy || got.EnergyErr != want.EnergyErr || got.VMC.Energy != want.VMC.Energy ||
		got.Population.Point.Energy != want.Population.Point.Energy || got.Gap.Value != want.Gap.Value {
		t.Errorf("resumed E0 %v +- %v, uninterrupted %v +- %v", got.Energy, got.EnergyErr, want.Energy, want.EnergyErr)
	}
	// A checkpoint from another configuration is refused.
	cfg.Seed = 8
	if _, err := RunWith(context.Background(), cfg, g, m, nil); err == nil {
		t.Error("a checkpoint with another seed was accepted")
	}
}

func TestValidate(t *testing.T) {
	m := mustModel(t, 2, 2, 1, 24)
	g := newTestGuide(t, m.Lattice, 4, 0.05)
	other := mustModel(t, 3, 2, 1, 24)
	good := Config{Walkers: 32, Time: 8}
	if err := Validate(withGuide(good, g, m)); err != nil {
		t.Fatalf("good config refused: %v", err)
	}
	for name, c := range map[string]Config{
		"negative tau":        {Taus: []float64{0.1, -0.1}},
		"repeated tau":        {Taus: []float64{0.1, 0.1}},
		"NaN tau":             {Taus: []float64{math.NaN()}},
		"few walkers":         {Walkers: 3},
		"too few generations": {Time: 1},
		"pop check same size": {Walkers: 32, PopulationWalkers: 32},
		"resume without file": {Resume: true},
		"NaN lag time":        {LagTime: math.NaN()},
		"negative equil":      {Equilibration: -1},
	} {
		if err := Validate(withGuide(c, g, m)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := Validate(withGuide(good, g, other)); err == nil {
		t.Error("a guide on another lattice was accepted")
	}
}

// TestPopulationControlCorrection: eight walkers with a poor guide have a large population
// bias in the plain average over generations; weighting each generation with the product of
// the mean weights over the window removes it.
func TestPopulationControlCorrection(t *testing.T) {
	m := mustModel(t, 4, 1, 1, 0)
	free, _ := hamiltonian.NewFreeTheory(m.Lattice, 1)
	g := newTestGuide(t, m.Lattice, 4, 0)
	res := run(t, Config{Walkers: 8, Time: 3000, Taus: []float64{0.1}, Seed: 1, PopulationWalkers: -1, LagTime: -1, ProductTime: 1}, g, m)
	p, e0 := res.Points[0], free.Energy()
	if d := p.EnergyUncorrected.Value - e0; d < 5*p.EnergyUncorrected.Error {
		t.Errorf("uncorrected %v +- %v is not biased above %v: the test needs a visible bias", p.EnergyUncorrected.Value, p.EnergyUncorrected.Error, e0)
	}
	if d := p.Energy.Value - e0; math.Abs(d) > 3*p.Energy.Error {
		t.Errorf("corrected %v +- %v, exact %v (%.1f sigma)", p.Energy.Value, p.Energy.Error, e0, d/p.Energy.Error)
	}
}

// withGuide sets the guide of c to g on the Hamiltonian m.
func withGuide(c Config, g vmc.Wavefunction, m *hamiltonian.Model) Config {
	c.Guide = &Guide{Wavefunction: g, Model: m}
	return c
}
