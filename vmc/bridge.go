package vmc

import (
	"context"
	"errors"
	"math"
	"sync"

	"vqs/internal/latfft"
	"vqs/rgsampler"
)

// Bridge samples |Psi|^2 with the RG bridge sampler of package rgsampler: every chain is a
// Metropolis-Hastings chain on the joint law of the field and its RG diffusion, so the
// samples are exact whatever the score. The score is the exact score of the wavefunction's
// Gaussian part (diffused exactly), so proposals are exact for a Gaussian state and the
// acceptance measures how non-Gaussian Psi is.
type Bridge struct {
	wf      Wavefunction
	d       *rgsampler.Diffusion
	cfg     rgsampler.BridgeConfig
	seed    uint64
	L, dim  int
	chains  []*rgsampler.Bridge
	targets []*psiTarget
	c0      []float64
	slots   [][][]float64
	mu      sync.Mutex
	accept  []rgsampler.DepthAcceptance
}

// psiTarget is |Psi|^2 as an rgsampler.Target for one chain.
type psiTarget struct {
	wf   Wavefunction
	ev   Evaluator
	plan *latfft.Plan
	kphi []float64
}

func (t *psiTarget) LogDensity(phi []float64) float64 { return 2 * t.ev.LogPsi(phi) }

// Grad writes the gradient of 2 log Psi = -phi^T K phi + 2 u_loc.
func (t *psiTarget) Grad(dst, phi []float64) {
	t.ev.LocalTerms(phi, dst)
	t.plan.Convolve(t.kphi, phi, t.wf.Kernel())
	for x := range dst {
		dst[x] = 2 * (dst[x] - t.kphi[x])
	}
}

// NewBridge returns a bridge sampler of wf's |Psi|^2 with the given number of chains and RG
// levels (levels <= 0: 12), each chain started from the same exact Gaussian draws as NewHMC.
func NewBridge(wf Wavefunction, L, dim, chains, levels int, seed uint64) (*Bridge, error) {
	if chains < 1 {
		return nil, errors.New("vmc: need at least one chain")
	}
	if levels <= 0 {
		levels = 12
	}
	g := wf.Kernel()
	gmin, pmax := math.Inf(1), 0.0
	for _, x := range g {
		gmin = math.Min(gmin, x)
		pmax = math.Max(pmax, x)
	}
	// The flow's IR mass is the state's gap and its UV scale the largest kernel value, so the
	// time grid spans the modes of this state.
	mu2 := gmin * gmin
	d, err := rgsampler.NewDiffusion(L, dim, rgsampler.HeatScheme, mu2,
		rgsampler.DefaultTimes(levels, mu2, pmax*pmax+mu2))
	if err != nil {
		return nil, err
	}
	b := &Bridge{wf: wf, d: d, seed: seed, L: L, dim: dim,
		cfg: rgsampler.BridgeConfig{Reverse: rgsampler.PosteriorReverse, FlipProb: 0.5}}
	// Start from exact Gaussian draws, like HMC.
	h, err := NewHMC(wf, L, dim, chains, 1, seed)
	if err != nil {
		return nil, err
	}
	return b, b.build(h.State())
}

// kernels returns the score and the reverse kernels of the current reference b.c0. Both are
// read-only and shared by every chain (each gets a clone of the score, which costs nothing).
func (b *Bridge) kernels() (rgsampler.Score, *rgsampler.ReverseKernels, error) {
	s, err := rgsampler.GaussianScore(b.d, b.c0)
	if err != nil {
		return nil, nil, err
	}
	rk, err := rgsampler.NewReverseKernels(b.d, b.cfg.Reverse, b.c0, s)
	return s, rk, err
}

func (b *Bridge) build(init [][]float64) error {
	b.c0 = b.reference(b.c0)
	s, rk, err := b.kernels()
	if err != nil {
		return err
	}
	b.chains, b.targets, b.slots = nil, nil, nil
	for c, phi := range init {
		t := &psiTarget{wf: b.wf, ev: b.wf.NewEvaluator(), plan: latfft.NewPlan(b.L, b.dim), kphi: make([]float64, len(phi))}
		cfg := b.cfg
		cfg.Kernels = rk
		ch, err := rgsampler.NewBridge(t, b.d, s.Clone(), phi, cfg, b.seed, uint64(c)+1)
		if err != nil {
			return err
		}
		b.chains = append(b.chains, ch)
		b.targets = append(b.targets, t)
		b.slots = append(b.slots, [][]float64{make([]float64, len(phi))})
	}
	return nil
}

// reference returns the covariance 1/(2 g) of the Gaussian part of |Psi|^2.
func (b *Bridge) reference(dst []float64) []float64 {
	g := b.wf.Kernel()
	if len(dst) != len(g) {
		dst = make([]float64, len(g))
	}
	for k, x := range g {
		dst[k] = 0.5 / x
	}
	return dst
}

// Refresh re-reads the wavefunction: new target densities, and one new score and set of
// reverse kernels that every chain shares.
func (b *Bridge) Refresh() {
	b.c0 = b.reference(b.c0)
	s, rk, err := b.kernels()
	for c, ch := range b.chains {
		if err == nil {
			err = ch.SetKernels(s.Clone(), rk)
		}
		// A kernel the score cannot use cannot come from a valid wavefunction; on an error keep
		// the old kernels, which are still an exact sampler of the new target once SetTarget
		// has run.
		_ = ch.SetTarget(b.targets[c])
	}
}

// Chains returns the number of chains.
func (b *Bridge) Chains() int { return len(b.chains) }

// State returns copies of the chains' fields.
func (b *Bridge) State() [][]float64 {
	s := make([][]float64, len(b.chains))
	for i, ch := range b.chains {
		s[i] = append([]float64(nil), ch.State()...)
	}
	return s
}

// SetState restarts the chains from saved fields.
func (b *Bridge) SetState(s [][]float64) error {
	if len(s) != len(b.chains) {
		return errors.New("vmc: checkpoint has a different number of chains")
	}
	return b.build(s)
}

// Sample implements Sampler.
func (b *Bridge) Sample(ctx context.Context, perChain int, visit func(chain, i int, phi []float64)) (float64, error) {
	accs := make([]float64, len(b.chains))
	errs := make([]error, len(b.chains))
	var wg sync.WaitGroup
	for c, ch := range b.chains {
		ch.ResetCounts()
		wg.Add(1)
		go func(c int, ch *rgsampler.Bridge) {
			defer wg.Done()
			sum := 0.0
			for i := 0; i < perChain; i++ {
				a, err := ch.Sample(ctx, 1, b.slots[c])
				if err != nil {
					errs[c] = err
					break
				}
				sum += a
				if visit != nil {
					visit(c, i, b.slots[c][0])
				}
			}
			accs[c] = sum / float64(perChain)
		}(c, ch)
	}
	wg.Wait()
	acc := 0.0
	for _, a := range accs {
		acc += a
	}
	acc /= float64(len(accs))
	b.collectAcceptance()
	for _, err := range errs {
		if err != nil {
			return acc, err
		}
	}
	return acc, nil
}

// collectAcceptance sums the per-depth acceptance over chains.
func (b *Bridge) collectAcceptance() {
	recs := make([][]rgsampler.DepthAcceptance, len(b.chains))
	for c, ch := range b.chains {
		recs[c] = ch.Acceptance()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.accept = rgsampler.PoolAcceptance(recs...)
}

// DepthAcceptance returns the acceptance per bridge depth of the last Sample call, summed
// over chains.
func (b *Bridge) DepthAcceptance() []rgsampler.DepthAcceptance {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]rgsampler.DepthAcceptance(nil), b.accept...)
}
