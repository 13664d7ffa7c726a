package vmc

import (
	"context"
	"math"
	"testing"

	"vqs/hamiltonian"
	"vqs/internal/latfft"
	"vqs/stats"
)

// wellWF is a broken-phase toy with exactly known moments: u = -(1/2) sum_k g_k |phi_k|^2/N +
// log cosh(kappa s) - beta s^2/(2N), s = sum_x phi_x. |Psi|^2 is a Gaussian in every k != 0 mode
// and, in s, the mixture exp(-alpha s^2) (e^{2 kappa s} + e^{-2 kappa s} + 2)/4 with alpha =
// (g_0 + beta)/N: two Gaussians at +-kappa/alpha and one at 0, all of variance 1/(2 alpha). A
// large beta makes the wells much narrower than the kernel's 1/(2 g_0), as the local terms do
// at 32x32 in the broken phase.
type wellWF struct {
	m           *hamiltonian.Model
	g           []float64
	kappa, beta float64
}

func newWellWF(m *hamiltonian.Model, kappa, beta float64) *wellWF {
	w := &wellWF{m: m, g: make([]float64, m.N), kappa: kappa, beta: beta}
	for k, p := range m.MomentumSquared() {
		w.g[k] = math.Sqrt(0.5 + p)
	}
	return w
}

func (w *wellWF) Lattice() hamiltonian.Lattice   { return w.m.Lattice }
func (w *wellWF) NumParams() int                 { return 0 }
func (w *wellWF) Params(dst []float64) []float64 { return dst[:0] }
func (w *wellWF) SetParams([]float64) error      { return nil }
func (w *wellWF) ParamNames() []string           { return nil }
func (w *wellWF) Kernel() []float64              { return w.g }
func (w *wellWF) NewEvaluator() Evaluator {
	return &wellEval{w: w, plan: latfft.NewPlan(w.m.L, w.m.Dim)}
}

type wellEval struct {
	w    *wellWF
	plan *latfft.Plan
}

func (e *wellEval) LocalTerms(phi, grad []float64) float64 {
	s := 0.0
	for _, f := range phi {
		s += f
	}
	n := float64(len(phi))
	d := e.w.kappa*math.Tanh(e.w.kappa*s) - e.w.beta*s/n
	for x := range grad {
		grad[x] = d
	}
	ks := math.Abs(e.w.kappa * s)
	return ks + math.Log1p(math.Exp(-2*ks)) - math.Ln2 - e.w.beta*s*s/(2*n)
}
func (e *wellEval) LocalGrad(phi, grad []float64) { e.LocalTerms(phi, grad) }
func (e *wellEval) LogPsi(phi []float64) float64 {
	return -0.5*e.plan.QuadForm(phi, e.w.g) + e.LocalTerms(phi, make([]float64, len(phi)))
}
func (e *wellEval) Derivs(phi, grad, o []float64) (u, lap float64) {
	panic("not used by the samplers")
}

// exactMoments returns <s^2> and <s^4> of the wellWF mixture.
func (w *wellWF) exactMoments() (m2, m4 float64) {
	n := float64(w.m.N)
	alpha := (w.g[0] + w.beta) / n
	c, v := w.kappa/alpha, 0.5/alpha
	// Relative weights of the shifted pair and of the centred Gaussian: e^{kappa^2/alpha}/2 : 1/2.
	ws := 1 / (1 + math.Exp(-w.kappa*w.kappa/alpha))
	m2 = ws*(c*c+v) + (1-ws)*v
	m4 = ws*(c*c*c*c+6*c*c*v+3*v*v) + (1-ws)*3*v*v
	return m2, m4
}

// The adaptive HMC samples a narrow, far-out double well in the mean field exactly (the k = 0
// rotation centred on the well, crossings rejected, wells mixed by the sign flip), where the
// fixed-mass baseline, rotating about 0 with the kernel's width, barely moves.
func TestHMCAdaptiveDoubleWell(t *testing.T) {
	m, _ := hamiltonian.NewModel(8, 2, 0.5, 0)
	// Wells at s = +-c with c/sd = kappa sqrt(2/alpha) = 12 and 1/(2 alpha) 1/1000 of the
	// kernel's variance of s.
	n := float64(m.N)
	g0 := math.Sqrt(0.5)
	beta := 999 * g0
	alpha := (g0 + beta) / n
	kappa := 12 / math.Sqrt(2/alpha)
	wf := newWellWF(m, kappa, beta)
	want2, want4 := wf.exactMoments()

	run := func(fixed bool) (m2, m4 stats.Estimate, acc float64) {
		h, err := NewHMCWith(wf, m.L, m.Dim, 4, HMCConfig{FixedMass: fixed}, 5)
		if err != nil {
			t.Fatal(err)
		}
		// Start every chain in a well, off its centre by up to 5 of the well's standard
		// deviations (VMC's chains are in the wells as they form), then warm up with a
		// Refresh after each stretch, as VMC's iterations do.
		st := h.State()
		for c, phi := range st {
			shift := (want2 - 1/(2*alpha)) // c^2
			off := math.Sqrt(shift) + float64(c-2)*2.5*math.Sqrt(0.5/alpha)
			if c%2 == 1 {
				off = -off
			}
			for x := range phi {
				phi[x] = phi[x]*0.05 + off/n
			}
		}
		if err := h.SetState(st); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 4; i++ {
			if _, err := h.Sample(context.Background(), 200, nil); err != nil {
				t.Fatal(err)
			}
			h.Refresh()
		}
		const per = 4000
		s2 := make([][]float64, h.Chains())
		s4 := make([][]float64, h.Chains())
		acc, err = h.Sample(context.Background(), per, func(c, i int, phi []float64) {
			s := 0.0
			for _, f := range phi {
				s += f
			}
			s2[c] = append(s2[c], s*s)
			s4[c] = append(s4[c], s*s*s*s)
		})
		if err != nil {
			t.Fatal(err)
		}
		return stats.Pool(s2), stats.Pool(s4), acc
	}
	m2, m4, acc := run(false)
	if acc < 0.5 {
		t.Errorf("adaptive: acceptance %.3f", acc)
	}
	for _, c := range []struct {
		name string
		got  stats.Estimate
		want float64
	}{{"<s^2>", m2, want2}, {"<s^4>", m4, want4}} {
		if d := math.Abs(c.got.Value - c.want); d > 4*c.got.Error || c.got.Error > 0.01*c.want {
			t.Errorf("adaptive: %s = %v +- %v, exact %v", c.name, c.got.Value, c.got.Error, c.want)
		}
	}
	_, _, accFixed := run(true)
	if accFixed > 0.2 {
		t.Errorf("fixed mass: acceptance %.3f: the double well is not hard enough to test the adaptation", accFixed)
	}
	t.Logf("acceptance adaptive %.3f, fixed %.3f; <s^2> %v +- %v (exact %v)", acc, accFixed, m2.Value, m2.Error, want2)
}

// Restoring chains (a resume) must not adapt from the restored states: one sample per chain
// has no spread, and taken as moments it centred the k = 0 mode with zero width.
func TestHMCSetStateKeepsKernel(t *testing.T) {
	m, _ := hamiltonian.NewModel(8, 2, 0.5, 0)
	n := float64(m.N)
	g0 := math.Sqrt(0.5)
	beta := 999 * g0
	wf := newWellWF(m, 12/math.Sqrt(2*n/(g0+beta)), beta)
	h, err := NewHMC(wf, m.L, m.Dim, 16, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	st := h.State()
	for c, phi := range st {
		for x := range phi {
			phi[x] = 0.04 * float64(1+c%3) // every chain in a well, none with a spread
		}
	}
	if err := h.SetState(st); err != nil {
		t.Fatal(err)
	}
	h.Refresh()
	if h.centered {
		t.Fatal("restored states centred the k = 0 mode")
	}
	for k := range h.a {
		if h.a[k] != h.g[k] {
			t.Fatalf("mode %d: reference %v after a restore, kernel %v", k, h.a[k], h.g[k])
		}
	}
}
