package vmc

import (
	"context"
	"math"
	"testing"

	"vqs/hamiltonian"
	"vqs/internal/latfft"
)

// TestHMCGaussianEnergyUpdate: the O(N) bookkeeping of the reference energy
// w^T A w + (q-C)^T A (q-C) through a trajectory (exact rotations conserve it, each kick adds
// 2 s G.w + s G.dw) must equal the change measured with quadratic forms at both ends, both for
// the plain reference (a = g) and for an adapted one (a != g, the k = 0 mode centred).
func TestHMCGaussianEnergyUpdate(t *testing.T) {
	for _, tc := range []struct {
		L, dim, steps int
		adapted       bool
	}{{6, 2, 4, false}, {5, 2, 7, false}, {4, 3, 3, false}, {1, 2, 4, false}, {6, 2, 4, true}, {5, 2, 3, true}} {
		m, _ := hamiltonian.NewModel(tc.L, tc.dim, 0.5, 0)
		wf := newTestWF(m, 0.6, 1.3, 0.08, false)
		h, err := NewHMC(wf, m.L, m.Dim, 1, tc.steps, 9)
		if err != nil {
			t.Fatal(err)
		}
		c := h.chains[0]
		p := latfft.NewPlan(m.L, m.Dim)
		center := 0.0
		if tc.adapted {
			for k := range h.a {
				h.a[k] = h.g[k] * (0.5 + 0.1*float64(k%7))
			}
			h.centered, c.center = true, 0.8*float64(m.N)
			h.derive()
		}
		ref := func(qK, wK []complex128) float64 {
			d := append([]complex128(nil), qK...)
			d[0] -= complex(center, 0)
			return p.Norm2(wK, h.a) + p.Norm2(d, h.a)
		}
		for trial := 0; trial < 5; trial++ {
			if tc.adapted {
				// Put the chain in the centred well first, as a trajectory requires.
				for x := range c.phi {
					c.phi[x] = 0.8 + 0.3*math.Sin(float64(3*x+trial))
				}
				c.plan.ForwardHalf(c.phiK, c.phi)
				center = c.center
			} else {
				h.trajectory(c) // move the chain somewhere typical first
			}
			c.uloc = c.ev.LocalTerms(c.phi, c.grad)
			c.plan.ForwardHalf(c.gradK, c.grad)
			h.gaussianDraw(c, c.wK)
			e0 := ref(c.phiK, c.wK)
			dGauss, uloc := h.integrate(c, 0.37, center)
			e1 := ref(c.qK, c.wK)
			if math.Abs(dGauss-(e1-e0)) > 1e-10*(math.Abs(e0)+math.Abs(e1)) {
				t.Fatalf("%+v: reference energy change %.15g by the O(N) update, %.15g by quadratic forms", tc, dGauss, e1-e0)
			}
			if math.Abs(dGauss) < 1e-6 {
				t.Fatalf("%+v: the kicks changed the reference energy by only %g: the test is vacuous", tc, dGauss)
			}
			if want := c.ev.LocalTerms(c.q, make([]float64, m.N)); math.Abs(uloc-want) > 1e-12*math.Abs(want) {
				t.Fatalf("%+v: u_loc at the end %v, want %v", tc, uloc, want)
			}
			// The residual plus the reference exponent is log Psi, up to a constant that does
			// not depend on the field.
			logPsi := func(qK []complex128, ul float64) float64 { return ul - 0.5*p.Norm2(qK, h.g) }
			d0 := append([]complex128(nil), c.phiK...)
			d1 := append([]complex128(nil), c.qK...)
			d0[0] -= complex(center, 0)
			d1[0] -= complex(center, 0)
			r0 := h.residual(c.phiK, c.uloc, center) - 0.5*p.Norm2(d0, h.a)
			r1 := h.residual(c.qK, uloc, center) - 0.5*p.Norm2(d1, h.a)
			if got, want := r1-r0, logPsi(c.qK, uloc)-logPsi(c.phiK, c.uloc); math.Abs(got-want) > 1e-10*(1+math.Abs(want)) {
				t.Fatalf("%+v: residual + reference changes by %.15g, log Psi by %.15g", tc, got, want)
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
