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
// a Gaussian reference kernel a(k), so the reference's dynamics is a rotation with unit frequency
// in every mode; it is integrated exactly, and only the rest of the force (the local terms and
// the difference between the wavefunction's Gaussian kernel g(k) and a(k)) is applied as
// leapfrog kicks. For a Gaussian state with a = g a trajectory of length pi/2 is an exact,
// independent draw, and near-Gaussian states stay close to that. A global phi -> -phi move is
// made with probability 1/2 before every sample: Psi is even, so it is always accepted, and it
// lets double wells mix.
//
// The reference adapts: every Refresh (a parameter change) sets a(k) from the variance of each
// mode in the samples drawn since the last one (see adapt), as a ratio to the kernel those
// samples were drawn under, applied to the new kernel; a mode whose ratio is within the
// sampling noise of 1 keeps a = g. In the broken phase the k = 0 mode is bimodal: when the
// samples' |mean field| is separated from 0 by more than four of its standard deviations, each
// chain's k = 0 mode rotates about the well it starts in, at +-C (C its own mean |phi_0|), with
// the width of the wells, and a trajectory that ends in the other well is rejected, which keeps
// the move reversible (the sign flip above moves between the wells). Between two Refreshes the
// reference is fixed, so each stretch of sampling is an exact Markov chain for |Psi|^2;
// HMCConfig.FixedMass turns the adaptation off (a = g, no centring). Measured in
// docs/samplers.md: on one 32x32 state near the critical point it gives 3.7x the effective
// samples per second of E_loc (tau_int 0.85 against 3.15 with the fixed kernel); on a double
// well with wells 1000 times narrower than the kernel's width it samples exactly where the
// fixed kernel never moves. After SetState (a resume) the reference is g until the first
// Refresh with samples.
//
// The field and the velocity are integrated in momentum space (half spectra), where the
// rotation, the kicks and the velocity draw are all diagonal. A leapfrog step costs one inverse
// transform (the field, for the local terms) and one forward transform (their gradient); the
// reference energy w^T A w + (q-C)^T A (q-C) needs none: rotations conserve it exactly and a kick
// dw = s A^-1 G changes it by 2 s G.w + s G.dw, a dot product. Intermediate steps ask for the
// local gradient only (Evaluator.LocalGrad), the last one for the value too.
type HMC struct {
	wf     Wavefunction
	dim, L int
	steps  int // leapfrog steps per trajectory
	fixed  bool
	chains []*hmcChain
	tables *latfft.Plan // read-only tables, for HalfKernel
	// Kernels on the half spectrum, refreshed with the parameters: the wavefunction's g, the
	// reference a with 1/sqrt(2a) and 1/(2a), and g - a.
	g, a, invSqrt2a, inv2a, gMinusA []float64
	gPrev                           []float64 // g while the moments were gathered
	// centered says that the k = 0 mode rotates about a centre, each chain's own (hmcChain.center:
	// C, the mean |phi_0| of its last stretch, as a half-spectrum value, N times the mean field);
	// otherwise it rotates about 0.
	centered bool
}

// HMCConfig holds the HMC sampler's settings.
type HMCConfig struct {
	Steps int // leapfrog steps per trajectory (total rotation angle pi/2); <= 0 chooses 4
	// FixedMass keeps the mass matrix at twice the wavefunction's Gaussian kernel, without
	// adaptation or centring: the baseline the adaptive reference is measured against.
	FixedMass bool
}

// Adaptation constants: the prior weight (in samples) of g(k) in each mode's variance, the
// fewest pooled samples that move the reference, the separation (in standard deviations of
// |C|) from 0 above which the k = 0 rotation is centred, the bounds on a/g, and the threshold
// on |log(a/g)| sqrt(samples) below which a mode keeps g (4 times the relative noise of a
// variance from independent real samples, sqrt(2/n), which autocorrelation raises).
const (
	adaptNoise                   = 4 * math.Sqrt2
	adaptPrior                   = 10
	adaptMin                     = 16
	centerSigmas                 = 4
	adaptMinRatio, adaptMaxRatio = 1e-2, 1e4
)

type hmcChain struct {
	ev          Evaluator
	plan        *latfft.Plan
	rng         *rand.Rand
	phi, grad   []float64    // current state and its local-term gradient
	phiK, gradK []complex128 // their half spectra
	uloc        float64
	resid       float64 // the residual r at phi (see HMC.residual) when residValid
	residValid  bool
	q, gnew     []float64
	qK, wK, gK  []complex128 // trajectory: field, velocity and local gradient, in momentum space
	accepted    int
	tried       int
	valid       bool // uloc, grad and gradK are current for phi
	// Moments of the samples since the last Refresh, for the adaptation: per half mode
	// sum |phi_k|^2, and sum |phi_0|.
	sumSq   []float64
	sumAbs0 float64
	count   int
	center  float64 // C of this chain's k = 0 rotation, when centred
}

// NewHMC returns an HMC sampler with the given number of chains, each started from an exact
// draw of the wavefunction's Gaussian part. steps is the number of leapfrog steps per
// trajectory (<= 0 chooses 4).
func NewHMC(wf Wavefunction, L, dim, chains, steps int, seed uint64) (*HMC, error) {
	return NewHMCWith(wf, L, dim, chains, HMCConfig{Steps: steps}, seed)
}

// NewHMCWith is NewHMC with every setting.
func NewHMCWith(wf Wavefunction, L, dim, chains int, cfg HMCConfig, seed uint64) (*HMC, error) {
	if chains < 1 {
		return nil, errors.New("vmc: need at least one chain")
	}
	steps := cfg.Steps
	if steps <= 0 {
		steps = 4
	}
	n := len(wf.Kernel())
	tables := latfft.NewPlan(L, dim)
	if tables.N != n {
		return nil, errors.New("vmc: the wavefunction's kernel does not fit the lattice")
	}
	nh := tables.HalfModes()
	h := &HMC{wf: wf, dim: dim, L: L, steps: steps, fixed: cfg.FixedMass, tables: tables,
		g: make([]float64, nh), a: make([]float64, nh), invSqrt2a: make([]float64, nh),
		inv2a: make([]float64, nh), gMinusA: make([]float64, nh), gPrev: make([]float64, nh)}
	// The reference starts at the kernel.
	h.tables.HalfKernel(h.g, wf.Kernel())
	copy(h.a, h.g)
	h.derive()
	for c := 0; c < chains; c++ {
		ch := &hmcChain{
			ev:   wf.NewEvaluator(),
			plan: latfft.NewPlan(L, dim),
			rng:  rand.New(rand.NewPCG(seed, uint64(c)+1)),
			phi:  make([]float64, n), grad: make([]float64, n),
			phiK: make([]complex128, nh), gradK: make([]complex128, nh),
			q: make([]float64, n), gnew: make([]float64, n),
			qK: make([]complex128, nh), wK: make([]complex128, nh), gK: make([]complex128, nh),
			sumSq: make([]float64, nh),
		}
		h.gaussianDraw(ch, ch.phiK)
		ch.plan.InverseHalf(ch.phi, ch.phiK)
		h.chains = append(h.chains, ch)
	}
	return h, nil
}

// Refresh re-reads the wavefunction's Gaussian kernel and, unless the mass is fixed, adapts
// the reference to the samples drawn since the last Refresh.
func (h *HMC) Refresh() {
	copy(h.gPrev, h.g)
	h.tables.HalfKernel(h.g, h.wf.Kernel())
	h.adapt()
	h.derive()
}

// derive sets the reference's derived tables from a and g.
func (h *HMC) derive() {
	for k, a := range h.a {
		h.inv2a[k] = 0.5 / a
		h.invSqrt2a[k] = math.Sqrt(h.inv2a[k])
		h.gMinusA[k] = h.g[k] - a
	}
	for _, c := range h.chains {
		c.valid = false
	}
}

// adapt sets the reference kernel a and the centres from the chains' moments and clears them.
// Modes k != 0 rotate about 0: their second moment, pooled over the chains, gives
// a = 1/(2 variance), shrunk towards g (see shrink). A reference narrower than the spread of the
// chains' positions would swing them through distances it cannot accept, so for these modes it
// is the pooled spread about 0 that counts. The k = 0 mode is centred when the mean |phi_0| is
// more than centerSigmas of its standard deviations within the chains from 0: each chain then
// rotates about its own mean |phi_0|, C, and a_0 comes from the spread of |phi_0| within the
// chains, so that a chain stuck away from the others (or a chain restored from a checkpoint)
// makes short moves about where it is rather than long ones about a common centre.
func (h *HMC) adapt() {
	n := 0
	for _, c := range h.chains {
		n += c.count
	}
	if h.fixed {
		copy(h.a, h.g)
		return
	}
	if n < adaptMin {
		for k := range h.a { // too few new samples: the old ratios to g, as below
			if !h.centered || k != 0 {
				h.a[k] *= h.g[k] / h.gPrev[k]
			}
		}
		return
	}
	N, fn := float64(h.tables.N), float64(n)
	var mean0, within0, nWithin float64
	for _, c := range h.chains {
		mean0 += c.sumAbs0
		if c.count < 2 {
			continue // no spread to measure
		}
		mc := c.sumAbs0 / float64(c.count)
		within0 += math.Max(c.sumSq[0]-float64(c.count)*mc*mc, 0)
		nWithin += float64(c.count)
	}
	mean0 /= fn
	if nWithin > 0 {
		within0 /= nWithin
	}
	h.centered = nWithin > 0 && mean0*mean0 > centerSigmas*centerSigmas*within0
	for k, g := range h.gPrev {
		second := 0.0
		for _, c := range h.chains {
			second += c.sumSq[k]
		}
		second /= fn
		if k == 0 && h.centered {
			second = within0
		}
		// E|phi_k|^2 / N = 1/(2a) for a Gaussian of kernel a (both halves of a complex mode).
		a := 0.5 * N / second
		if !h.centered || k != 0 {
			// A mode whose variance is within the noise of g's keeps g: for a near-Gaussian
			// state a = g is the exact rotation, and estimation noise only spoils it.
			if math.Abs(math.Log(a/g)) < adaptNoise/math.Sqrt(fn) {
				a = g
			}
		}
		// The moments were drawn under the previous kernel; a mode keeps its measured ratio to
		// it, so that a known change of g (the optimiser's step) reaches the reference at once.
		// The centred k = 0 mode's width is set by the local terms, not by g.
		if a = shrink(a, g, fn); !h.centered || k != 0 {
			a *= h.g[k] / g
		}
		h.a[k] = a
	}
	for _, c := range h.chains {
		c.center = 0
		if h.centered && c.count > 0 {
			c.center = c.sumAbs0 / float64(c.count)
		} else if h.centered {
			c.center = mean0
		}
		c.resetMoments()
	}
}

// shrink combines a measured kernel a (from n samples) with the wavefunction's g, weighted as
// adaptPrior samples, in precision: a stuck chain measures a tiny variance and so a narrow
// reference, which errs on the safe side (shorter moves), where an average of variances would
// let the kernel's wide prior dominate. The result stays within [adaptMinRatio, adaptMaxRatio] g.
func shrink(a, g, n float64) float64 {
	a = math.Min(adaptMaxRatio*g, math.Max(adaptMinRatio*g, a)) // also maps +Inf (no spread) to the bound
	return (n*a + adaptPrior*g) / (n + adaptPrior)
}

func (c *hmcChain) resetMoments() {
	clear(c.sumSq)
	c.sumAbs0, c.count = 0, 0
}

// record adds the chain's current state to its moments.
func (c *hmcChain) record() {
	for k, v := range c.phiK {
		c.sumSq[k] += real(v)*real(v) + imag(v)*imag(v)
	}
	c.sumAbs0 += math.Abs(real(c.phiK[0]))
	c.count++
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
		// No moments from the restored states: one sample per chain has no spread, and taken
		// as moments it centred the k = 0 mode with a width of zero (measured after a resume:
		// tau_int of |M| 96 against 3.6 with the kernel). The next Refresh adapts from real
		// samples; until then the reference is g.
		c.resetMoments()
	}
	h.centered = false
	copy(h.a, h.g)
	h.derive()
	return nil
}

// gaussianDraw writes the half spectrum of an exact sample of the reference Gaussian, covariance
// (2A)^-1 about 0, into dst: white noise drawn in momentum space, scaled by 1/sqrt(2a).
func (h *HMC) gaussianDraw(c *hmcChain, dst []complex128) {
	c.plan.WhiteNoise(dst, c.rng)
	for k, s := range h.invSqrt2a {
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
				if !h.fixed { // a fixed reference never reads the moments
					c.record()
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

// trajectory makes one HMC update of chain c. The velocity w = M^-1 pi with M = 2A is drawn
// from N(0, (2A)^-1); the Hamiltonian is w^T A w + (phi-C)^T A (phi-C) - 2 r(phi), where
// r = u - (reference part) = u_loc - (1/2) (g-a)|phi|^2 - (A's centring terms) is what the kicks
// apply (residual).
func (h *HMC) trajectory(c *hmcChain) {
	if !c.valid {
		c.uloc = c.ev.LocalTerms(c.phi, c.grad)
		c.plan.ForwardHalf(c.gradK, c.grad)
		c.valid, c.residValid = true, false
	}
	// The centre is on the side the chain starts on; a trajectory that crosses to the other is
	// rejected below.
	center := 0.0
	if h.centered {
		center = c.center
	}
	if real(c.phiK[0]) < 0 {
		center = -center
	}
	if !c.residValid {
		// The residual is even under the sign flip (the centre flips with the field), so it
		// stays current through flips; it changes with the state and with a Refresh.
		c.resid, c.residValid = h.residual(c.phiK, c.uloc, center), true
	}
	h.gaussianDraw(c, c.wK)
	// Total rotation angle pi/2, jittered so that no mode sits on a resonance.
	dt := (math.Pi / 2) * (0.9 + 0.2*c.rng.Float64()) / float64(h.steps)
	dGauss, uloc := h.integrate(c, dt, center)
	// h0 - h1 with the reference energy's change from the kicks alone.
	resid := h.residual(c.qK, uloc, center)
	d := -dGauss + 2*(resid-c.resid)
	c.tried++
	if center != 0 && (real(c.qK[0]) < 0) != (center < 0) {
		return
	}
	if d >= 0 || c.rng.Float64() < math.Exp(d) {
		c.accepted++
		copy(c.phi, c.q)
		copy(c.phiK, c.qK)
		copy(c.grad, c.gnew)
		copy(c.gradK, c.gK)
		c.uloc, c.resid = uloc, resid
	}
}

// residual returns r = u_loc - (1/2) sum_k (g-a)|q_k|^2/N - a_0 (C q_0 - C^2/2)/N at the field
// with half spectrum qK and local terms uloc: log Psi minus the reference's exponent
// -(1/2) sum_k a |q_k - C_k|^2 / N, up to a constant.
func (h *HMC) residual(qK []complex128, uloc, center float64) float64 {
	r := uloc - 0.5*h.tables.Norm2(qK, h.gMinusA)
	if center != 0 {
		r -= h.a[0] * (center*real(qK[0]) - 0.5*center*center) / float64(h.tables.N)
	}
	return r
}

// integrate runs the leapfrog steps of one trajectory from (phi, wK) with rotation angle dt per
// step, the k = 0 mode rotating about center. It leaves the end point in c.q, c.qK, c.wK, its
// local gradient in c.gnew and c.gK, and returns the change of the reference energy
// w^T A w + (q-C)^T A (q-C) and u_loc at the end point.
func (h *HMC) integrate(c *hmcChain, dt, center float64) (dGauss, uloc float64) {
	cs, sn := math.Cos(dt), math.Sin(dt)
	copy(c.qK, c.phiK)
	copy(c.gK, c.gradK)
	shift := complex(center, 0)
	dGauss = h.kick(c, dt/2, center)
	for s := 0; s < h.steps; s++ {
		c.qK[0] -= shift
		for k, q := range c.qK {
			w := c.wK[k]
			c.qK[k] = q*complex(cs, 0) + w*complex(sn, 0)
			c.wK[k] = w*complex(cs, 0) - q*complex(sn, 0)
		}
		c.qK[0] += shift
		c.plan.InverseHalf(c.q, c.qK)
		if s < h.steps-1 {
			c.ev.LocalGrad(c.q, c.gnew)
		} else {
			uloc = c.ev.LocalTerms(c.q, c.gnew)
		}
		c.plan.ForwardHalf(c.gK, c.gnew)
		if s < h.steps-1 {
			dGauss += h.kick(c, dt, center)
		} else {
			dGauss += h.kick(c, dt/2, center)
		}
	}
	return dGauss, uloc
}

// kick adds dw = scale A^-1 G to the velocity, where G is the gradient of the residual r in
// momentum space, G_k = (grad u_loc)_k - (g_k - a_k) q_k - [k = 0] a_0 C (grad u_loc from c.gK,
// q from c.qK), and returns the change of w^T A w, 2 scale G.w + scale G.dw, by Parseval on the
// half spectrum.
func (h *HMC) kick(c *hmcChain, scale, center float64) float64 {
	mult := c.plan.Multiplicity()
	g, w, q, inv, gma := c.gK[:len(c.wK)], c.wK, c.qK[:len(c.wK)], h.inv2a[:len(c.wK)], h.gMinusA[:len(c.wK)]
	mult = mult[:len(w)]
	var gw, gdw float64
	for k, gk := range g {
		gk -= complex(gma[k], 0) * q[k]
		if k == 0 {
			gk -= complex(h.a[0]*center, 0)
		}
		dw := complex(2*scale*inv[k], 0) * gk
		wk := w[k]
		gr, gi := real(gk), imag(gk)
		gw += mult[k] * (gr*real(wk) + gi*imag(wk))
		gdw += mult[k] * (gr*real(dw) + gi*imag(dw))
		w[k] = wk + dw
	}
	return scale * (2*gw + gdw) / float64(c.plan.N)
}
