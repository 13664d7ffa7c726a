package vmc

import (
	"context"
	"math"
	"testing"

	"vqs/hamiltonian"
	"vqs/internal/latfft"
)

// TestHMCGaussianEnergyUpdate: the O(N) bookkeeping of the Gaussian energy w^T K w + q^T K q
// through a trajectory (exact rotations conserve it, each kick adds 2 s grad.w + s grad.dw)
// must equal the change measured with FFT quadratic forms at both ends.
func TestHMCGaussianEnergyUpdate(t *testing.T) {
	for _, tc := range []struct{ L, dim, steps int }{{6, 2, 4}, {5, 2, 7}, {4, 3, 3}, {1, 2, 4}} {
		m, _ := hamiltonian.NewModel(tc.L, tc.dim, 0.5, 0)
		wf := newTestWF(m, 0.6, 1.3, 0.08, false)
		h, err := NewHMC(wf, m.L, m.Dim, 1, tc.steps, 9)
		if err != nil {
			t.Fatal(err)
		}
		c := h.chains[0]
		p := latfft.NewPlan(m.L, m.Dim)
		for trial := 0; trial < 5; trial++ {
			h.trajectory(c) // move the chain somewhere typical first
			c.uloc = c.ev.LocalTerms(c.phi, c.grad)
			c.plan.ForwardHalf(c.gradK, c.grad)
			h.gaussianDraw(c, c.wK)
			w0, q0 := make([]float64, m.N), append([]float64(nil), c.phi...)
			p.InverseHalf(w0, c.wK)
			e0 := p.QuadForm(w0, wf.g) + p.QuadForm(q0, wf.g)
			dGauss, uloc := h.integrate(c, 0.37)
			w1 := make([]float64, m.N)
			p.InverseHalf(w1, c.wK)
			e1 := p.QuadForm(w1, wf.g) + p.QuadForm(c.q, wf.g)
			if math.Abs(dGauss-(e1-e0)) > 1e-10*(math.Abs(e0)+math.Abs(e1)) {
				t.Fatalf("%+v: Gaussian energy change %.15g by the O(N) update, %.15g by QuadForm", tc, dGauss, e1-e0)
			}
			if math.Abs(dGauss) < 1e-6 {
				t.Fatalf("%+v: the kicks changed the Gaussian energy by only %g: the test is vacuous", tc, dGauss)
			}
			if want := c.ev.LocalTerms(c.q, make([]float64, m.N)); math.Abs(uloc-want) > 1e-12*math.Abs(want) {
				t.Fatalf("%+v: u_loc at the end %v, want %v", tc, uloc, want)
			}
		}
	}
}

// TestHMCGaussianStateAcceptsAll: for a Gaussian state the dynamics is integrated exactly, so
// every trajectory is accepted.
func TestHMCGaussianStateAcceptsAll(t *testing.T) {
	m, _ := hamiltonian.NewModel(8, 2, 0.5, 0)
	wf := newTestWF(m, 0.5, 1, 0, false)
	h, err := NewHMC(wf, m.L, m.Dim, 2, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := h.Sample(context.Background(), 500, nil)
	if err != nil {
		t.Fatal(err)
	}
	if acc != 1 {
		t.Fatalf("acceptance %v for a Gaussian state, want 1", acc)
	}
}

func TestHMCTrajectoryDoesNotAllocate(t *testing.T) {
	m, _ := hamiltonian.NewModel(6, 2, 0.5, 0)
	wf := newTestWF(m, 0.6, 1.3, 0.08, false)
	h, _ := NewHMC(wf, m.L, m.Dim, 1, 4, 9)
	c := h.chains[0]
	if a := testing.AllocsPerRun(20, func() { h.trajectory(c) }); a != 0 {
		t.Fatalf("a trajectory allocates %v times", a)
	}
}
