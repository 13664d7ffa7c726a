package dmc

import (
	"errors"
	"math"
	"testing"

	"vqs/hamiltonian"
	"vqs/internal/latfft"
	"vqs/vmc"
)

// testGuide is a small guide for the tests: u = -(1/2) phi^T G phi - c sum_x phi_x^4 with G
// the circulant of kernel g(k) = sqrt(mass2 + p_k^2). With c = 0 and mass2 = m2 it is the
// exact free ground state; another mass2 makes a deliberately wrong Gaussian. Its one
// parameter is c.
type testGuide struct {
	lat     hamiltonian.Lattice
	g       []float64
	trace   float64 // sum_k g(k)
	quartic float64
}

func newTestGuide(t testing.TB, lat hamiltonian.Lattice, mass2, quartic float64) *testGuide {
	t.Helper()
	p2 := lat.MomentumSquared()
	g := make([]float64, lat.N)
	tr := 0.0
	for k, p := range p2 {
		g[k] = math.Sqrt(mass2 + p)
		tr += g[k]
	}
	return &testGuide{lat: lat, g: g, trace: tr, quartic: quartic}
}

func (t *testGuide) Lattice() hamiltonian.Lattice { return t.lat }
func (t *testGuide) NumParams() int               { return 1 }
func (t *testGuide) Params(dst []float64) []float64 {
	return append(dst[:0], t.quartic)
}
func (t *testGuide) SetParams(theta []float64) error {
	if len(theta) != 1 || theta[0] < 0 {
		return errors.New("testGuide: one parameter c >= 0")
	}
	t.quartic = theta[0]
	return nil
}
func (t *testGuide) ParamNames() []string { return []string{"c"} }
func (t *testGuide) Kernel() []float64    { return t.g }
func (t *testGuide) NewEvaluator() vmc.Evaluator {
	return &testEval{t: t, plan: latfft.NewPlan(t.lat.L, t.lat.Dim), buf: make([]float64, t.lat.N)}
}

type testEval struct {
	t    *testGuide
	plan *latfft.Plan
	buf  []float64
}

func (e *testEval) LogPsi(phi []float64) float64 {
	u := -0.5 * e.plan.QuadForm(phi, e.t.g)
	for _, f := range phi {
		u -= e.t.quartic * f * f * f * f
	}
	return u
}

func (e *testEval) LocalTerms(phi, grad []float64) float64 {
	c := e.t.quartic
	u := 0.0
	for x, f := range phi {
		u -= c * f * f * f * f
		grad[x] = -4 * c * f * f * f
	}
	return u
}

func (e *testEval) LocalGrad(phi, grad []float64) { e.LocalTerms(phi, grad) }

func (e *testEval) Derivs(phi, grad, o []float64) (u, lap float64) {
	c := e.t.quartic
	e.plan.Convolve(e.buf, phi, e.t.g)
	lap = -e.t.trace
	for x, f := range phi {
		u += -0.5*f*e.buf[x] - c*f*f*f*f
		grad[x] = -e.buf[x] - 4*c*f*f*f
		lap -= 12 * c * f * f
	}
	if o != nil {
		o[0] = 0
		for _, f := range phi {
			o[0] -= f * f * f * f
		}
	}
	return u, lap
}

func mustModel(t testing.TB, L, dim int, m2, lambda float64) *hamiltonian.Model {
	t.Helper()
	m, err := hamiltonian.NewModel(L, dim, m2, lambda)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGuideDerivatives checks the test guide's gradient and Laplacian against finite
// differences, so that the DMC tests rest on a correct guide.
func TestGuideDerivatives(t *testing.T) {
	m := mustModel(t, 3, 2, 0.7, 0)
	g := newTestGuide(t, m.Lattice, 1.3, 0.05)
	ev := g.NewEvaluator()
	phi := make([]float64, m.N)
	for x := range phi {
		phi[x] = 0.3*math.Sin(float64(3*x+1)) + 0.1
	}
	grad := make([]float64, m.N)
	u, lap := ev.Derivs(phi, grad, nil)
	if d := math.Abs(u - ev.LogPsi(phi)); d > 1e-12 {
		t.Fatalf("Derivs u %v, LogPsi %v", u, ev.LogPsi(phi))
	}
	const h = 1e-4
	fdLap := 0.0
	for x := range phi {
		p := append([]float64(nil), phi...)
		p[x] += h
		up := ev.LogPsi(p)
		p[x] -= 2 * h
		um := ev.LogPsi(p)
		if fd := (up - um) / (2 * h); math.Abs(fd-grad[x]) > 1e-6 {
			t.Errorf("grad[%d] = %v, finite difference %v", x, grad[x], fd)
		}
		fdLap += (up - 2*u + um) / (h * h)
	}
	if math.Abs(fdLap-lap) > 1e-4 {
		t.Errorf("lap = %v, finite difference %v", lap, fdLap)
	}
}
