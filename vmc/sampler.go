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
type HMC struct {
	wf     Wavefunction
	dim, L int
	steps  int // leapfrog steps per trajectory
	chains []*hmcChain
	// Gaussian kernel data, refreshed with the parameters.
	g, invSqrt2g, inv2g []float64
}

type hmcChain struct {
	ev                Evaluator
	plan              *latfft.Plan
	rng               *rand.Rand
	phi, grad         []float64 // current state and its local-term gradient
	uloc              float64
	q, w, f, xi, gnew []float64
	accepted, tried   int
	valid             bool // uloc and grad are current for phi
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
	h := &HMC{wf: wf, dim: dim, L: L, steps: steps,
		g: make([]float64, n), invSqrt2g: make([]float64, n), inv2g: make([]float64, n)}
	h.Refresh()
	for c := 0; c < chains; c++ {
		ch := &hmcChain{
			ev:   wf.NewEvaluator(),
			plan: latfft.NewPlan(L, dim),
			rng:  rand.New(rand.NewPCG(seed, uint64(c)+1)),
			phi:  make([]float64, n), grad: make([]float64, n),
			q: make([]float64, n), w: make([]float64, n), f: make([]float64, n),
			xi: make([]float64, n), gnew: make([]float64, n),
		}
		h.gaussianDraw(ch, ch.phi)
		h.chains = append(h.chains, ch)
	}
	return h, nil
}

// Refresh re-reads the wavefunction's Gaussian kernel.
func (h *HMC) Refresh() {
	copy(h.g, h.wf.Kernel())
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
		c.valid = false
	}
	return nil
}

// gaussianDraw writes an exact sample of the Gaussian part, covariance (2K)^-1, into dst.
func (h *HMC) gaussianDraw(c *hmcChain, dst []float64) {
	for i := range c.xi {
		c.xi[i] = c.rng.NormFloat64()
	}
	c.plan.Convolve(dst, c.xi, h.invSqrt2g)
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
		c.valid = true
	}
	h.gaussianDraw(c, c.w)
	h0 := c.plan.QuadForm(c.w, h.g) + c.plan.QuadForm(c.phi, h.g) - 2*c.uloc
	// Total rotation angle pi/2, jittered so that no mode sits on a resonance.
	dt := (math.Pi / 2) * (0.9 + 0.2*c.rng.Float64()) / float64(h.steps)
	cs, sn := math.Cos(dt), math.Sin(dt)
	copy(c.q, c.phi)
	copy(c.gnew, c.grad)
	kick := func(scale float64) {
		// w += scale * (2K)^-1 * (2 grad u_loc)
		c.plan.Convolve(c.f, c.gnew, h.inv2g)
		for x := range c.w {
			c.w[x] += 2 * scale * c.f[x]
		}
	}
	var uloc float64
	kick(dt / 2)
	for s := 0; s < h.steps; s++ {
		for x := range c.q {
			q, w := c.q[x], c.w[x]
			c.q[x] = q*cs + w*sn
			c.w[x] = w*cs - q*sn
		}
		uloc = c.ev.LocalTerms(c.q, c.gnew)
		if s < h.steps-1 {
			kick(dt)
		} else {
			kick(dt / 2)
		}
	}
	h1 := c.plan.QuadForm(c.w, h.g) + c.plan.QuadForm(c.q, h.g) - 2*uloc
	c.tried++
	if d := h0 - h1; d >= 0 || c.rng.Float64() < math.Exp(d) {
		c.accepted++
		copy(c.phi, c.q)
		copy(c.grad, c.gnew)
		c.uloc = uloc
	}
}
