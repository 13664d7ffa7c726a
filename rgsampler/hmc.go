package rgsampler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"vqs/internal/latfft"
)

// HMCConfig sets up a Fourier-accelerated HMC chain. Zero values take the defaults.
type HMCConfig struct {
	// Kernel is the mass matrix, per-mode eigenvalues (all > 0). nil: the target's
	// QuadraticKernel(M2Floor) when it implements Quadratic, else the identity. With the free
	// action's kernel every free mode oscillates with period 2 pi in trajectory time, which is
	// what makes the acceleration independent of L.
	Kernel []float64
	// M2Floor raises the bare m2 in the default kernel (default 0.5), keeping it positive in the
	// double-well regime m2 < 0.
	M2Floor float64
	// TrajLength is the trajectory length in HMC time (default pi/2: a quarter period of the
	// free modes, after which a free field is independent of its start).
	TrajLength float64
	// StepSize is the initial leapfrog step (default 0.3); Warmup tunes it.
	StepSize float64
	// TargetAccept is the Metropolis acceptance that Warmup aims for (default 0.8).
	TargetAccept float64
	// FlipProb is the probability per trajectory of also proposing the global move
	// phi -> -phi, accepted with the exact ratio p(-phi)/p(phi) (default 0.5; negative
	// disables it).
	FlipProb float64
	// Trajectories per returned sample (default 1).
	Trajectories int
	// Clusters is the number of Wolff cluster flips after every trajectory (default 0: none);
	// the target must implement Embedder. HMC moves the magnitudes of the field, the clusters
	// its signs, which is where its slowest modes near the Ising critical point are.
	Clusters int
}

func (c *HMCConfig) defaults() {
	if c.M2Floor == 0 {
		c.M2Floor = 0.5
	}
	if c.TrajLength == 0 {
		c.TrajLength = math.Pi / 2
	}
	if c.StepSize == 0 {
		c.StepSize = 0.3
	}
	if c.TargetAccept == 0 {
		c.TargetAccept = 0.8
	}
	if c.FlipProb == 0 {
		c.FlipProb = 0.5
	}
	if c.Trajectories == 0 {
		c.Trajectories = 1
	}
}

// HMC is one Fourier-accelerated Hybrid Monte Carlo chain: kinetic energy (1/2) p^T K_M^-1 p
// with a mass matrix K_M diagonal in momentum, leapfrog integration applied through FFTs,
// a step size tuned during Warmup and frozen afterwards, and a global phi -> -phi move. It is
// not safe for concurrent use; run one chain per goroutine (the Target must then be safe for
// concurrent use, as Phi4 is, or be given one per chain).
//
// The momentum lives in momentum space (a half spectrum), where it is drawn and where the mass
// matrix is diagonal; a leapfrog step costs one inverse transform (the velocity) and one
// forward transform (the force), and the force at the current field is kept from the step that
// produced it, so a trajectory of n steps costs 2n transforms, n gradients and one log density.
type HMC struct {
	target  Target
	cfg     HMCConfig
	rng     *rand.Rand
	plan    *latfft.Plan
	n       int
	sqrtK   []float64 // mass matrix eigenvalues on the half spectrum: sqrt, inverse, and the
	invK    []float64 // inverse times the multiplicity over N (the kinetic energy's weight)
	invKW   []float64
	h       float64 // leapfrog step
	phi     []float64
	logp    float64
	trial   []float64
	force   []float64
	vel     []float64
	mom     []complex128 // momentum
	tmp     []complex128
	forceK  []complex128 // transform of grad log p at phi, when forceOK
	trialK  []complex128 // and at trial
	forceOK bool
	flip    []float64
	cluster *Cluster // nil without Clusters
	flipped float64  // sites flipped by clusters, and
	flips   float64  // cluster flips, since the warm-up
}

// NewHMC returns a chain on the box dims (axis 0 fastest) started at init (copied; nil starts
// at phi = 0), with its own random stream PCG(seed, stream).
func NewHMC(target Target, dims []int, init []float64, cfg HMCConfig, seed, stream uint64) (*HMC, error) {
	cfg.defaults()
	if _, err := boxSites(dims); err != nil {
		return nil, err
	}
	plan, err := latfft.NewBoxPlan(dims)
	if err != nil {
		return nil, err
	}
	n := plan.N
	if init != nil && len(init) != n {
		return nil, fmt.Errorf("HMC: initial field has %d sites, lattice has %d", len(init), n)
	}
	if !(cfg.TrajLength > 0) || !(cfg.StepSize > 0) || !(cfg.TargetAccept > 0 && cfg.TargetAccept < 1) || cfg.Trajectories < 1 || cfg.Clusters < 0 {
		return nil, errors.New("HMC: trajectory length and step size must be > 0, target acceptance in (0,1), trajectories >= 1, clusters >= 0")
	}
	kern := cfg.Kernel
	if kern == nil {
		if q, ok := target.(Quadratic); ok {
			kern = q.QuadraticKernel(cfg.M2Floor)
		} else {
			kern = make([]float64, n)
			for k := range kern {
				kern[k] = 1
			}
		}
	}
	if len(kern) != n {
		return nil, fmt.Errorf("HMC: mass kernel has %d modes, lattice has %d", len(kern), n)
	}
	for k, m := range kern {
		if !(m > 0) || math.IsInf(m, 0) {
			return nil, fmt.Errorf("HMC: mass kernel must be finite and > 0, mode %d has %v", k, m)
		}
	}
	nh := plan.HalfModes()
	h := &HMC{target: target, cfg: cfg, rng: rand.New(rand.NewPCG(seed, stream)), plan: plan, n: n,
		sqrtK: make([]float64, nh), invK: make([]float64, nh), invKW: make([]float64, nh), h: cfg.StepSize,
		phi: make([]float64, n), trial: make([]float64, n), force: make([]float64, n),
		vel: make([]float64, n), mom: make([]complex128, nh), tmp: make([]complex128, nh),
		forceK: make([]complex128, nh), trialK: make([]complex128, nh), flip: make([]float64, n)}
	mult := plan.Multiplicity()
	for k, m := range plan.HalfKernel(nil, kern) {
		h.sqrtK[k] = math.Sqrt(m)
		h.invK[k] = 1 / m
		h.invKW[k] = mult[k] / (m * float64(n))
	}
	if cfg.Clusters > 0 {
		if h.cluster, err = NewTargetCluster(target, n); err != nil {
			return nil, fmt.Errorf("HMC: %w", err)
		}
	}
	if init != nil {
		copy(h.phi, init)
	}
	h.logp = target.LogDensity(h.phi)
	if math.IsNaN(h.logp) || math.IsInf(h.logp, 1) {
		return nil, fmt.Errorf("HMC: log density at the initial field is %v", h.logp)
	}
	return h, nil
}

// StepSize returns the current leapfrog step.
func (h *HMC) StepSize() float64 { return h.h }

// State returns the current field (shared; copy it to keep it).
func (h *HMC) State() []float64 { return h.phi }

// SetState moves the chain to phi (copied), for example after another chain's move on the
// same target.
func (h *HMC) SetState(phi []float64) error {
	if len(phi) != h.n {
		return fmt.Errorf("HMC: field has %d sites, lattice has %d", len(phi), h.n)
	}
	lp := h.target.LogDensity(phi)
	if math.IsNaN(lp) || math.IsInf(lp, 1) {
		return fmt.Errorf("HMC: log density at the new field is %v", lp)
	}
	h.setState(phi, lp)
	return nil
}

// setState moves the chain to phi with log density logp (for Hybrid).
func (h *HMC) setState(phi []float64, logp float64) {
	copy(h.phi, phi)
	h.logp = logp
	h.forceOK = false
}

// kinetic returns (1/2) p^T K_M^-1 p of the momentum.
func (h *HMC) kinetic() float64 {
	s := 0.0
	w := h.invKW[:len(h.mom)]
	for k, c := range h.mom {
		s += w[k] * (real(c)*real(c) + imag(c)*imag(c))
	}
	return 0.5 * s
}

// kick adds eps times the force transform f to the momentum.
func (h *HMC) kick(eps float64, f []complex128) {
	f = f[:len(h.mom)]
	for k, c := range f {
		h.mom[k] += complex(eps, 0) * c
	}
}

// trajectory runs one HMC trajectory with step eps and nSteps leapfrog steps from the current
// state and returns the Metropolis acceptance probability; the state is updated if accepted.
func (h *HMC) trajectory(eps float64, nSteps int) float64 {
	// p = K_M^(1/2) xi with xi white noise, drawn in momentum space.
	h.plan.WhiteNoise(h.mom, h.rng)
	for k, s := range h.sqrtK {
		h.mom[k] *= complex(s, 0)
	}
	k0 := h.kinetic()
	if !h.forceOK {
		h.target.Grad(h.force, h.phi)
		h.plan.ForwardHalf(h.forceK, h.force)
		h.forceOK = true
	}
	copy(h.trial, h.phi)
	h.kick(0.5*eps, h.forceK)
	for s := 0; s < nSteps; s++ {
		for k, c := range h.mom {
			h.tmp[k] = c * complex(h.invK[k], 0)
		}
		h.plan.InverseHalf(h.vel, h.tmp)
		for i, v := range h.vel {
			h.trial[i] += eps * v
		}
		h.target.Grad(h.force, h.trial)
		h.plan.ForwardHalf(h.trialK, h.force)
		if s < nSteps-1 {
			h.kick(eps, h.trialK)
		} else {
			h.kick(0.5*eps, h.trialK)
		}
	}
	k1 := h.kinetic()
	lp := h.target.LogDensity(h.trial)
	dH := (k1 - lp) - (k0 - h.logp)
	acc := 0.0
	if !math.IsNaN(dH) {
		acc = math.Min(1, math.Exp(-dH))
	}
	if h.rng.Float64() < acc {
		h.phi, h.trial = h.trial, h.phi
		h.forceK, h.trialK = h.trialK, h.forceK
		h.logp = lp
	}
	return acc
}

// ClusterFraction returns the mean size of the cluster flips since the warm-up as a fraction of
// the lattice (NaN without clusters).
func (h *HMC) ClusterFraction() float64 { return ratio(h.flipped/float64(h.n), int(h.flips)) }

// move does one trajectory with a jittered step (uniform within +-10%, against resonances),
// the optional global flip and the cluster flips; it returns the trajectory's acceptance
// probability.
func (h *HMC) move() float64 {
	nSteps := max(1, int(math.Ceil(h.cfg.TrajLength/h.h)))
	eps := h.cfg.TrajLength / float64(nSteps) * (0.9 + 0.2*h.rng.Float64())
	acc := h.trajectory(eps, nSteps)
	if h.cfg.FlipProb > 0 && h.rng.Float64() < h.cfg.FlipProb {
		for i, v := range h.phi {
			h.flip[i] = -v
		}
		lp := h.target.LogDensity(h.flip)
		if h.rng.Float64() < math.Exp(lp-h.logp) {
			h.phi, h.flip = h.flip, h.phi
			h.logp = lp
			h.forceOK = false
		}
	}
	if h.cluster != nil {
		for range h.cfg.Clusters {
			h.flipped += float64(h.cluster.Flip(h.phi, h.rng))
		}
		h.flips += float64(h.cfg.Clusters)
		h.logp = h.target.LogDensity(h.phi)
		h.forceOK = false
	}
	return acc
}

// Warmup runs n trajectories while tuning the step size towards the target acceptance by a
// Robbins-Monro iteration on log(step), then freezes the step at the geometric mean of the
// second half of its path, so that the chain is exactly Markov (and reversible) afterwards.
func (h *HMC) Warmup(ctx context.Context, n int) error {
	logH := math.Log(h.h)
	sum, cnt := 0.0, 0
	for i := 0; i < n; i++ {
		if i%16 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		acc := h.move()
		logH += (acc - h.cfg.TargetAccept) / math.Pow(float64(i+1), 0.6)
		logH = math.Min(logH, math.Log(h.cfg.TrajLength))
		h.h = math.Exp(logH)
		if i >= n/2 {
			sum += logH
			cnt++
		}
	}
	if cnt > 0 {
		h.h = math.Exp(sum / float64(cnt))
	}
	// The clusters of the warm-up, grown from its start, are not those of the chain.
	h.flipped, h.flips = 0, 0
	return nil
}

// Sample fills out[0..n-1] (caller-owned, each of length N) with successive states, each
// cfg.Trajectories trajectories apart, and returns the mean Metropolis acceptance
// probability of the trajectories run. On cancellation it stops between samples and returns
// ctx.Err(); the slots it had not reached are left as they were.
func (h *HMC) Sample(ctx context.Context, n int, out [][]float64) (float64, error) {
	if len(out) < n {
		return 0, fmt.Errorf("HMC.Sample: %d samples requested, %d slots given", n, len(out))
	}
	sum, cnt := 0.0, 0
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			return ratio(sum, cnt), ctx.Err()
		}
		for t := 0; t < h.cfg.Trajectories; t++ {
			sum += h.move()
			cnt++
		}
		copy(out[i], h.phi)
	}
	return ratio(sum, cnt), nil
}

func ratio(s float64, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}
