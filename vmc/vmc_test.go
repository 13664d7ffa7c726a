package vmc

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"vqs/hamiltonian"
	"vqs/internal/latfft"
)

// testWF is an independent, minimal wavefunction for testing the sampler and the driver without
// the MERA ansatz: u = -(1/2) phi^T K phi - c4 sum_x phi_x^4, g(k) = sqrt(A + B p_k^2).
// Its parameters are (A, B, c4); with fitC4 false only (A, B) are exposed.
type testWF struct {
	m        *hamiltonian.Model
	p2, g    []float64
	a, b, c4 float64
	fitC4    bool
}

func newTestWF(m *hamiltonian.Model, a, b, c4 float64, fitC4 bool) *testWF {
	w := &testWF{m: m, p2: m.MomentumSquared(), g: make([]float64, m.N), c4: c4, fitC4: fitC4}
	w.set(a, b)
	return w
}

func (w *testWF) set(a, b float64) {
	w.a, w.b = a, b
	for k, p := range w.p2 {
		w.g[k] = math.Sqrt(a + b*p)
	}
}

func (w *testWF) NumParams() int {
	if w.fitC4 {
		return 3
	}
	return 2
}
func (w *testWF) Params(dst []float64) []float64 {
	if w.fitC4 {
		return append(dst[:0], w.a, w.b, w.c4)
	}
	return append(dst[:0], w.a, w.b)
}
func (w *testWF) SetParams(t []float64) error {
	if t[0] <= 0 || t[1] < 0 || (w.fitC4 && t[2] < 0) {
		return errors.New("invalid")
	}
	w.set(t[0], t[1])
	if w.fitC4 {
		w.c4 = t[2]
	}
	return nil
}
func (w *testWF) ParamNames() []string         { return []string{"A", "B", "c4"}[:w.NumParams()] }
func (w *testWF) Kernel() []float64            { return w.g }
func (w *testWF) Lattice() hamiltonian.Lattice { return w.m.Lattice }
func (w *testWF) NewEvaluator() Evaluator {
	n := w.m.N
	return &testEval{w: w, plan: latfft.NewPlan(w.m.L, w.m.Dim), kphi: make([]float64, n),
		modes: make([]float64, n)}
}

type testEval struct {
	w           *testWF
	plan        *latfft.Plan
	kphi, modes []float64
}

func (e *testEval) LocalTerms(phi, grad []float64) float64 {
	u := 0.0
	for x, f := range phi {
		u -= e.w.c4 * f * f * f * f
		grad[x] = -4 * e.w.c4 * f * f * f
	}
	return u
}
func (e *testEval) LocalGrad(phi, grad []float64) { e.LocalTerms(phi, grad) }
func (e *testEval) LogPsi(phi []float64) float64 {
	g := make([]float64, len(phi))
	return -0.5*e.plan.QuadForm(phi, e.w.g) + e.LocalTerms(phi, g)
}
func (e *testEval) Derivs(phi, grad, o []float64) (u, lap float64) {
	e.plan.Convolve(e.kphi, phi, e.w.g)
	for _, g := range e.w.g {
		lap -= g
	}
	for x, f := range phi {
		grad[x] = -e.kphi[x] - 4*e.w.c4*f*f*f
		lap -= 12 * e.w.c4 * f * f
		u += -0.5*f*e.kphi[x] - e.w.c4*f*f*f*f
	}
	if o != nil {
		e.LogDerivParams(phi, o)
	}
	return u, lap
}
func (e *testEval) LogDerivParams(phi, o []float64) {
	e.plan.Modes(e.modes, phi)
	var da, db float64
	for k, g := range e.w.g {
		da -= 0.5 * e.modes[k] * 0.5 / g
		db -= 0.5 * e.modes[k] * 0.5 * e.w.p2[k] / g
	}
	o[0], o[1] = da, db
	if e.w.fitC4 {
		s := 0.0
		for _, f := range phi {
			s -= f * f * f * f
		}
		o[2] = s
	}
}

// The HMC sampler must reproduce <phi_x^2> of |Psi|^2: for a Gaussian (1/N) sum_k 1/(2 g_k),
// and for a single site with a quartic local term the value from quadrature.
func TestHMCSamplesPsiSquared(t *testing.T) {
	m, _ := hamiltonian.NewModel(6, 2, 0.5, 0)
	wf := newTestWF(m, 0.5, 1, 0, false)
	want := 0.0
	for _, g := range wf.g {
		want += 0.5 / g
	}
	want /= float64(m.N)
	checkPhi2(t, m, wf, want)

	m1, _ := hamiltonian.NewModel(1, 2, 1, 24)
	wf1 := newTestWF(m1, 2.2, 0, 0.3, false)
	// Quadrature of phi^2 exp(-g phi^2 - 2 c4 phi^4).
	var z, z2 float64
	for x := -8.0; x <= 8; x += 1e-4 {
		p := math.Exp(-wf1.g[0]*x*x - 2*0.3*x*x*x*x)
		z += p
		z2 += x * x * p
	}
	checkPhi2(t, m1, wf1, z2/z)
}

func checkPhi2(t *testing.T, m *hamiltonian.Model, wf *testWF, want float64) {
	t.Helper()
	s, err := NewHMC(wf, m.L, m.Dim, 8, 4, 7)
	if err != nil {
		t.Fatal(err)
	}
	est, err := Measure(context.Background(), m, wf, s, 40000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(est.Phi2.Value - want); d > 4*est.Phi2.Error || est.Phi2.Error > 0.02*want {
		t.Fatalf("L=%d: <phi^2> = %v +- %v, want %v", m.L, est.Phi2.Value, est.Phi2.Error, want)
	}
	if est.Acceptance < 0.5 {
		t.Fatalf("acceptance %v", est.Acceptance)
	}
}

// At the exact free ground state the local energy is the same for every sample: the energy is
// exact and the variance zero.
func TestZeroVarianceAtFreeGroundState(t *testing.T) {
	m, _ := hamiltonian.NewModel(8, 2, 0.7, 0)
	wf := newTestWF(m, 0.7, 1, 0, false)
	s, _ := NewHMC(wf, m.L, m.Dim, 4, 4, 1)
	est, err := Measure(context.Background(), m, wf, s, 400, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := hamiltonian.NewFreeTheory(m.Lattice, 0.7)
	if math.Abs(est.Energy.Value-f.Energy()) > 1e-10*f.Energy() || est.Variance.Value > 1e-16*f.Energy()*f.Energy() {
		t.Fatalf("E = %v (var %v), want %v exactly", est.Energy.Value, est.Variance.Value, f.Energy())
	}
	// <phi.gradV> is estimated from samples, so the virial ratio is 1 only within errors.
	if v := est.Virial; math.Abs(v.Value-1) > 4*v.Error || v.Error > 0.05 {
		t.Fatalf("virial ratio %v +- %v, want 1", v.Value, v.Error)
	}
}

// From a wrong Gaussian (a product state, B = 0) both optimisers must find the exact free
// ground state A = m2, B = 1.
func TestOptimisersReachFreeGroundState(t *testing.T) {
	for _, opt := range []struct {
		name  string
		opt   Optimizer
		lr    float64
		iters int
	}{{"sr", SR{Shift: 1e-3}, 0.1, 120}, {"adam", &Adam{}, 0.03, 300}} {
		m, _ := hamiltonian.NewModel(6, 2, 1, 0)
		wf := newTestWF(m, 5, 0, 0, false)
		s, _ := NewHMC(wf, m.L, m.Dim, 4, 4, 3)
		res, err := Run(context.Background(), m, wf, s, Config{Iterations: opt.iters, Samples: 400,
			Optimizer: opt.opt, LR: opt.lr}, nil)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := hamiltonian.NewFreeTheory(m.Lattice, 1)
		e := res.Final.Energy
		if rel := math.Abs(e.Value-f.Energy()) / f.Energy(); rel > 1e-4 || e.Value < f.Energy()-3*e.Error-1e-9 {
			t.Errorf("%s: E = %v +- %v, exact %v (params %v)", opt.name, e.Value, e.Error, f.Energy(), res.Params)
		}
	}
}

// SR in parameter space and in sample space (minSR) solve the same regularized system when
// the shift is the same absolute one.
func TestMinSRMatchesSR(t *testing.T) {
	m, _ := hamiltonian.NewModel(1, 2, 1, 24)
	wf := newTestWF(m, 3, 0, 0.1, true)
	s, _ := NewHMC(wf, 1, 2, 1, 4, 5)
	acc := newAccumulator(1, 2, 3, m)
	acc.reset()
	if _, err := s.Sample(context.Background(), 2, acc.visit(wf)); err != nil {
		t.Fatal(err)
	}
	e, _, _ := acc.energy()
	o, ce := acc.centred(e)
	// Two samples, three parameters: sample space. Compare with a tiny-shift parameter-space
	// solve on the same data via the push-through identity, with Shift tiny.
	dMin, err := SR{Eps: 1e-3}.Step(o, ce, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	// Parameter space with the same absolute shift: (X^T X + eps) d = -lr X^T e / sqrt(n)...
	n, p := o.Dims()
	xtX := make([][]float64, p)
	rhs := make([]float64, p)
	for i := 0; i < p; i++ {
		xtX[i] = make([]float64, p)
		for j := 0; j < p; j++ {
			for k := 0; k < n; k++ {
				xtX[i][j] += o.At(k, i) * o.At(k, j) / float64(n)
			}
		}
		xtX[i][i] += 1e-3
		for k := 0; k < n; k++ {
			rhs[i] -= 0.1 * o.At(k, i) * ce[k] / float64(n)
		}
	}
	// residual of the parameter-space equations at dMin
	for i := 0; i < p; i++ {
		r := -rhs[i]
		for j := 0; j < p; j++ {
			r += xtX[i][j] * dMin[j]
		}
		if math.Abs(r) > 1e-9*(1+math.Abs(rhs[i])) {
			t.Fatalf("minSR step does not solve the SR equations: residual %v in row %d", r, i)
		}
	}
}

func TestScheduleDecays(t *testing.T) {
	if Schedule(1, 0, 100) != 1 || Schedule(1, 49, 100) != 1 {
		t.Fatal("schedule must be flat in the first half")
	}
	if l := Schedule(1, 99, 100); l > 0.11 || l < 0.1 {
		t.Fatalf("final lr %v, want ~0.1", l)
	}
}

// The bridge sampler must sample |Psi|^2 exactly: <phi^2> of a Gaussian state (where every
// proposal is exact) and of a quartic single-site state from quadrature.
func TestBridgeSamplesPsiSquared(t *testing.T) {
	m, _ := hamiltonian.NewModel(4, 2, 0.5, 0)
	wf := newTestWF(m, 0.5, 1, 0, false)
	want := 0.0
	for _, g := range wf.g {
		want += 0.5 / g
	}
	want /= float64(m.N)
	s, err := NewBridge(wf, m.L, m.Dim, 4, 6, 3)
	if err != nil {
		t.Fatal(err)
	}
	est, err := Measure(context.Background(), m, wf, s, 4000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(est.Phi2.Value - want); d > 4*est.Phi2.Error || est.Acceptance < 0.999 {
		t.Fatalf("Gaussian: <phi^2> = %v +- %v, want %v; acceptance %v", est.Phi2.Value, est.Phi2.Error, want, est.Acceptance)
	}
	m1, _ := hamiltonian.NewModel(1, 2, 1, 24)
	wf1 := newTestWF(m1, 2.2, 0, 0.3, false)
	var z, z2 float64
	for x := -8.0; x <= 8; x += 1e-4 {
		p := math.Exp(-wf1.g[0]*x*x - 2*0.3*x*x*x*x)
		z += p
		z2 += x * x * p
	}
	s1, _ := NewBridge(wf1, 1, 2, 4, 4, 5)
	est, err = Measure(context.Background(), m1, wf1, s1, 20000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(est.Phi2.Value - z2/z); d > 4*est.Phi2.Error || est.Acceptance > 0.99 {
		t.Fatalf("quartic: <phi^2> = %v +- %v, want %v (acceptance %v)", est.Phi2.Value, est.Phi2.Error, z2/z, est.Acceptance)
	}
}

// poisonWF returns NaN local energies once A exceeds a threshold, like a state that has
// wandered into a numerically broken region.
type poisonWF struct {
	*testWF
	maxA float64
}

func (w *poisonWF) NewEvaluator() Evaluator {
	return &poisonEval{testEval: w.testWF.NewEvaluator().(*testEval), w: w}
}

type poisonEval struct {
	*testEval
	w *poisonWF
}

func (e *poisonEval) Derivs(phi, grad, o []float64) (u, lap float64) {
	u, lap = e.testEval.Derivs(phi, grad, o)
	if e.w.a > e.w.maxA {
		lap = math.NaN()
	}
	return u, lap
}

// A NaN energy stops the optimisation, restores the last good parameters and still measures.
func TestDivergenceRestoresLastGoodParameters(t *testing.T) {
	m, _ := hamiltonian.NewModel(4, 2, 1, 0)
	wf := &poisonWF{testWF: newTestWF(m, 0.2, 1, 0, false), maxA: 0.5}
	s, _ := NewHMC(wf, m.L, m.Dim, 4, 4, 3)
	res, err := Run(context.Background(), m, wf, s, Config{Iterations: 200, Samples: 256, LR: 0.1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Every step into the poisoned region is undone and retried shorter: the run either
	// completes next to the boundary or, if the retries run out, stops as Diverged.
	if res.Status != Completed && (res.Status != Diverged || !strings.HasPrefix(res.Reason, "diverged")) {
		t.Fatalf("status %v (%q) after %d iterations", res.Status, res.Reason, res.Iterations)
	}
	damped := 0
	for _, st := range res.Trace {
		if st.LR < 0.99*Schedule(0.1, st.Iter-1, 200) {
			damped++
		}
	}
	if damped == 0 {
		t.Fatal("no step was shortened, yet the optimum lies in the poisoned region")
	}
	if res.Params[0] > 0.5 || math.IsNaN(res.Final.Energy.Value) {
		t.Fatalf("params %v, final energy %v: the last good parameters were not restored", res.Params, res.Final.Energy)
	}
}
