package vmc

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sync"

	"vqs/internal/latfft"
)

// Sampler draws configurations from |Psi|^2 on several chains in parallel.
type Sampler interface {
	// Sample advances every chain by perChain samples and calls visit(chain, i, phi) for each
	// sample from that chain's goroutine; phi is only valid during the call. It returns the
	// acceptance rate of the moves made.
	Sample(ctx context.Context, perChain int, visit func(chain, i int, phi []float64)) (float64, error)
	// Refresh tells the sampler that the wavefunction's parameters changed.
	Refresh()
	// Chains returns the number of chains.
	Chains() int
	// State and SetState expose the chains' configurations for checkpoints.
	State() [][]float64
	SetState([][]float64) error
}

// HMC is Fourier-accelerated Hybrid Monte Carlo on |Psi|^2 = exp(2u). The mass matrix is twice
// the wavefunction's Gaussian kernel, so the Gaussian part of the dynamics is a rotation with unit
// frequency in every mode; it is integrated exactly, and only the local (non-Gaussian) force is
// applied as leapfrog kicks. For a purely Gaussian state a trajectory of length pi/2 is an exact,
// independent draw, and near-Gaussian states stay close to that. A global phi -> -phi move is
// made with probability 1/2 before every sample: Psi is even, so it is always accepted, and it
// lets double wells mix.
//
// The field and the velocity are integrated in momentum space (half spectra), where the
// rotation, the kicks and the velocity draw are all diagonal. A leapfrog step costs one inverse
// transform (the field, for the local terms) and one forward transform (their gradient); the
// Gaussian energy w^T K w + phi^T K phi needs none: rotations conserve it exactly and a kick
// dw = s K^-1 grad changes it by 2 s grad.w + s grad.dw, a dot product. Intermediate steps ask
// for the local gradient only (Evaluator.LocalGrad), the last one for the value too.
type HMC struct {
	wf     Wavefunction
	dim, L int
	steps  int // leapfrog steps per trajectory
	chains []*hmcChain
	tables *latfft.Plan // read-only tables, for HalfKernel
	// Gaussian kernel data on the half spectrum, refreshed with the parameters: g, 1/sqrt(2g)
	// and 1/(2g).
	g, invSqrt2g, inv2g []float64
}

type hmcChain struct {
	ev          Evaluator
	plan        *latfft.Plan
	rng         *rand.Rand
	phi, grad   []float64    // current state and its local-term gradient
	phiK, gradK []complex128 // their half spectra
	uloc        float64
	q, gnew     []float64
	qK, wK, gK  []complex128 // trajectory: field, velocity and local gradient, in momentum space
	accepted    int
	tried       int
	valid       bool // uloc, grad and gradK are current for phi
}

// NewHMC returns an HMC sampler with the given number of chains, each started from an exact
// draw of the wavefunction's Gaussian part. steps is the number of leapfrog steps per
// trajectory (<= 0 chooses 4).
func NewHMC(wf Wavefunction, L, dim, chains, steps int, seed uint64) (*HMC, error) {
	if chains < 1 {
		return nil, errors.New("vmc: need at least one chain")
	}
	if steps <= 0 {
		steps = 4
	}
	n := len(wf.Kernel())
	tables := latfft.NewPlan(L, dim)
	if tables.N != n {
		return nil, errors.New("vmc: the wavefunction's kernel does not fit the lattice")
	}
	nh := tables.HalfModes()
	h := &HMC{wf: wf, dim: dim, L: L, steps: steps, tables: tables,
		g: make([]float64, nh), invSqrt2g: make([]float64, nh), inv2g: make([]float64, nh)}
	h.Refresh()
	for c := 0; c < chains; c++ {
		ch := &hmcChain{
			ev:   wf.NewEvaluator(),
			plan: latfft.NewPlan(L, dim),
			rng:  rand.New(rand.NewPCG(seed, uint64(c)+1)),
			phi:  make([]float64, n), grad: make([]float64, n),
			phiK: make([]complex128, nh), gradK: make([]complex128, nh),
			q: make([]float64, n), gnew: make([]float64, n),
			qK: make([]complex128, nh), wK: make([]complex128, nh), gK: make([]complex128, nh),
		}
		h.gaussianDraw(ch, ch.phiK)
		ch.plan.InverseHalf(ch.phi, ch.phiK)
		h.chains = append(h.chains, ch)
	}
	return h, nil
}

// Refresh re-reads the wavefunction's Gaussian kernel.
func (h *HMC) Refresh() {
	h.tables.HalfKernel(h.g, h.wf.Kernel())
	for k, g := range h.g {
		h.inv2g[k] = 0.5 / g
		h.invSqrt2g[k] = math.Sqrt(h.inv2g[k])
	}
	for _, c := range h.chains {
		c.valid = false
	}
}

// Chains returns the number of chains.
func (h *HMC) Chains() int { return len(h.chains) }

// State returns copies of the chains' configurations.
func (h *HMC) State() [][]float64 {
	s := make([][]float64, len(h.chains))
	for i, c := range h.chains {
		s[i] = append([]float64(nil), c.phi...)
	}
	return s
}

// SetState restores configurations saved by State.
func (h *HMC) SetState(s [][]float64) error {
	if len(s) != len(h.chains) {
		return errors.New("vmc: checkpoint has a different number of chains")
	}
	for i, c := range h.chains {
		if len(s[i]) != len(c.phi) {
			return errors.New("vmc: checkpoint configuration has the wrong size")
		}
		copy(c.phi, s[i])
		c.plan.ForwardHalf(c.phiK, c.phi)
		c.valid = false
	}
	return nil
}

// gaussianDraw writes the half spectrum of an exact sample of the Gaussian part, covariance
// (2K)^-1, into dst: white noise drawn in momentum space, scaled by 1/sqrt(2g).
func (h *HMC) gaussianDraw(c *hmcChain, dst []complex128) {
	c.plan.WhiteNoise(dst, c.rng)
	for k, s := range h.invSqrt2g {
		dst[k] *= complex(s, 0)
	}
}

// Sample implements Sampler.
func (h *HMC) Sample(ctx context.Context, perChain int, visit func(chain, i int, phi []float64)) (float64, error) {
	var wg sync.WaitGroup
	for ci, c := range h.chains {
		c.accepted, c.tried = 0, 0
		wg.Add(1)
		go func(ci int, c *hmcChain) {
			defer wg.Done()
			for i := 0; i < perChain; i++ {
				if i%16 == 0 && ctx.Err() != nil {
					return
				}
				h.trajectory(c)
				if c.rng.Uint64()&1 == 1 {
					for x := range c.phi {
						c.phi[x] = -c.phi[x]
						c.grad[x] = -c.grad[x]
					}
					for k := range c.phiK {
						c.phiK[k] = -c.phiK[k]
						c.gradK[k] = -c.gradK[k]
					}
				}
				if visit != nil {
					visit(ci, i, c.phi)
				}
			}
		}(ci, c)
	}
	wg.Wait()
	acc, tried := 0, 0
	for _, c := range h.chains {
		acc += c.accepted
		tried += c.tried
	}
	if err := ctx.Err(); err != nil {
		return ratio(acc, tried), err
	}
	return ratio(acc, tried), nil
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// trajectory makes one HMC update of chain c. The velocity w = M^-1 pi with M = 2K is drawn
// from N(0, (2K)^-1); the Hamiltonian is w^T K w + phi^T K phi - 2 u_loc(phi).
func (h *HMC) trajectory(c *hmcChain) {
	if !c.valid {
		c.uloc = c.ev.LocalTerms(c.phi, c.grad)
		c.plan.ForwardHalf(c.gradK, c.grad)
		c.valid = true
	}
	h.gaussianDraw(c, c.wK)
	// Total rotation angle pi/2, jittered so that no mode sits on a resonance.
	dt := (math.Pi / 2) * (0.9 + 0.2*c.rng.Float64()) / float64(h.steps)
	dGauss, uloc := h.integrate(c, dt)
	// h0 - h1 with the Gaussian energy's change from the kicks alone.
	d := -dGauss + 2*(uloc-c.uloc)
	c.tried++
	if d >= 0 || c.rng.Float64() < math.Exp(d) {
		c.accepted++
		copy(c.phi, c.q)
		copy(c.phiK, c.qK)
		copy(c.grad, c.gnew)
		copy(c.gradK, c.gK)
		c.uloc = uloc
	}
}

// integrate runs the leapfrog steps of one trajectory from (phi, wK) with rotation angle dt per
// step. It leaves the end point in c.q, c.qK, c.wK, its local gradient in c.gnew and c.gK, and
// returns the change of the Gaussian energy w^T K w + q^T K q and u_loc at the end point.
func (h *HMC) integrate(c *hmcChain, dt float64) (dGauss, uloc float64) {
	cs, sn := math.Cos(dt), math.Sin(dt)
	copy(c.qK, c.phiK)
	copy(c.gK, c.gradK)
	dGauss = h.kick(c, dt/2)
	for s := 0; s < h.steps; s++ {
		for k, q := range c.qK {
			w := c.wK[k]
			c.qK[k] = q*complex(cs, 0) + w*complex(sn, 0)
			c.wK[k] = w*complex(cs, 0) - q*complex(sn, 0)
		}
		c.plan.InverseHalf(c.q, c.qK)
		if s < h.steps-1 {
			c.ev.LocalGrad(c.q, c.gnew)
		} else {
			uloc = c.ev.LocalTerms(c.q, c.gnew)
		}
		c.plan.ForwardHalf(c.gK, c.gnew)
		if s < h.steps-1 {
			dGauss += h.kick(c, dt)
		} else {
			dGauss += h.kick(c, dt/2)
		}
	}
	return dGauss, uloc
}

// kick adds dw = scale K^-1 grad u_loc to the velocity (grad from c.gK) and returns the change
// of w^T K w, 2 scale grad.w + scale grad.dw, by Parseval on the half spectrum.
func (h *HMC) kick(c *hmcChain, scale float64) float64 {
	mult := c.plan.Multiplicity()
	g, w, inv := c.gK[:len(c.wK)], c.wK, h.inv2g[:len(c.wK)]
	mult = mult[:len(w)]
	var gw, gdw float64
	for k, gk := range g {
		dw := complex(2*scale*inv[k], 0) * gk
		wk := w[k]
		gr, gi := real(gk), imag(gk)
		gw += mult[k] * (gr*real(wk) + gi*imag(wk))
		gdw += mult[k] * (gr*real(dw) + gi*imag(dw))
		w[k] = wk + dw
	}
	return scale * (2*gw + gdw) / float64(c.plan.N)
}
