package vmc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"vqs/internal/latfft"
	"vqs/rgsampler"
	"vqs/rgsampler/learned"
)

// The scores of the bridge sampler of |Psi|^2.
const (
	// BridgeScoreLearned is the learned RG score (rgsampler/learned) started from the exact
	// diffused score of the wavefunction's Gaussian part and trained by denoising score
	// matching on the chains' own recent samples after every parameter update, warm-started
	// from the previous iteration's score: it learns what the non-Gaussian part of |Psi|^2 adds.
	BridgeScoreLearned = "learned"
	// BridgeScoreGaussian is the exact score of the Gaussian part alone, diffused exactly.
	BridgeScoreGaussian = "gaussian"
	// BridgeScoreDenoised is the first-order (Tweedie/Laplace) score built from the gradient
	// of log |Psi|^2 at the Wiener-denoised field (rgsampler.DenoisedScore): analytic, exact for
	// the Gaussian part, and it follows theta by itself, at the price of one gradient of the
	// wavefunction per level.
	BridgeScoreDenoised = "denoised"
)

// Defaults of BridgeConfig.
const (
	DefaultBridgeLevels       = 12
	DefaultBridgeScore        = BridgeScoreLearned
	DefaultBridgeTrainSteps   = 20
	DefaultBridgeTrainSamples = 32
	DefaultBridgeLearnedBelow = 2
)

// BridgeConfig sets up the bridge sampler of |Psi|^2. Zero values take the defaults above.
type BridgeConfig struct {
	Levels int    // RG steps of the diffusion (levels 0..Levels)
	Score  string // BridgeScoreLearned, BridgeScoreGaussian or BridgeScoreDenoised
	// Depths is the depth schedule, cycled (nil: 1..Levels).
	Depths []int
	// DenoisedBelow > 0 uses the denoised score at the levels below it and Score from there:
	// the shallow levels are where a Gaussian or learned score is worst (the non-Gaussian part
	// of |Psi|^2 lives in the ultraviolet) and the denoised score best (it is exact as t -> 0),
	// for one gradient of the wavefunction per shallow level.
	DenoisedBelow int
	// TrainSteps are the Adam steps of the learned score per Refresh (negative: never train,
	// the exact Gaussian score of the start); TrainSamples the most recent samples per chain
	// it trains on.
	TrainSteps, TrainSamples int
	// LearnedBelow is the first level where the learned score gives way to the exact score of
	// the Gaussian part (default 2: the learned score at level 1 alone). The shallowest reverse
	// step is where the Gaussian score misses most (the non-Gaussian part of |Psi|^2 lives in
	// the ultraviolet), and every level the network drives costs two network evaluations per
	// move. Measured at m2 = -1.55, lambda = 12 on one trained state (12 levels, 4 chains, 8192
	// samples), E_loc effective samples per second: 32x32, 197 (default) against 108 with
	// LearnedBelow 7 and 147 for the Gaussian score; 16x16, 2188 against 905 and 3342. At deep
	// levels the field is mostly noise and a network trained on a few hundred samples fits that
	// noise: with the quadratic couplings learned too it cost all the acceptance of the deepest
	// moves on 8x8.
	LearnedBelow int
	// LearnQuadratic lets training move the quadratic couplings Z_i, m2_i of the learned score
	// too; by default they stay those of the exact Gaussian part and only the interaction
	// residual is learned (with a few hundred samples per iteration the deep levels' couplings
	// are too noisy to learn: measured, they cost most of the deep acceptance).
	LearnQuadratic bool
	// Learned is the network of the learned score; its Reference is the Gaussian part's
	// covariance 1/(2 g) and follows the wavefunction; FitDraws defaults to none (the
	// closed-form refit of the couplings costs more than a VMC iteration's sampling) and
	// OutputScale to exactly 0 (the untrained score is the exact score of the Gaussian part).
	Learned learned.Config
}

func (c BridgeConfig) withDefaults() BridgeConfig {
	if c.Levels <= 0 {
		c.Levels = DefaultBridgeLevels
	}
	if c.Score == "" {
		c.Score = DefaultBridgeScore
	}
	if c.TrainSteps == 0 {
		c.TrainSteps = DefaultBridgeTrainSteps
	}
	if c.TrainSamples <= 0 {
		c.TrainSamples = DefaultBridgeTrainSamples
	}
	if c.LearnedBelow <= 0 {
		c.LearnedBelow = DefaultBridgeLearnedBelow
	}
	if c.Learned.FitDraws == 0 {
		c.Learned.FitDraws = -1
	}
	if c.Learned.OutputScale == 0 {
		c.Learned.OutputScale = -1 // the untrained score is exactly the Gaussian part's
	}
	return c
}

// Bridge samples |Psi|^2 with the RG bridge sampler of package rgsampler: every chain is a
// Metropolis-Hastings chain on the joint law of the field and its RG diffusion, so the
// samples are exact whatever the score; the score only sets the acceptance. The diffusion's IR
// mass is the state's gap and its UV scale the largest kernel value, and the reverse kernels'
// Gaussian reference is the Gaussian part of |Psi|^2, exactly.
type Bridge struct {
	wf      Wavefunction
	d       *rgsampler.Diffusion
	cfg     BridgeConfig
	rcfg    rgsampler.BridgeConfig
	seed    uint64
	L, dim  int
	chains  []*rgsampler.Bridge
	targets []*psiTarget
	c0      []float64
	slots   [][][]float64
	model   *learned.Model // the learned score (BridgeScoreLearned); chains use clones
	rng     *rand.Rand     // training draws
	recent  [][][]float64  // per chain, a ring of its latest samples
	filled  []int          // samples written per ring, in total
	trainS  float64        // seconds spent training
	trainE  error          // the last training failure, if any
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
	t.ev.LocalGrad(phi, dst)
	t.plan.Convolve(t.kphi, phi, t.wf.Kernel())
	for x := range dst {
		dst[x] = 2 * (dst[x] - t.kphi[x])
	}
}

// NewBridge returns a bridge sampler of wf's |Psi|^2 with the given number of chains and RG
// levels (levels <= 0: the default) and every other setting at its default.
func NewBridge(wf Wavefunction, L, dim, chains, levels int, seed uint64) (*Bridge, error) {
	return NewBridgeWith(wf, L, dim, chains, BridgeConfig{Levels: levels}, seed)
}

// NewBridgeWith returns a bridge sampler of wf's |Psi|^2 with the given number of chains, each
// started from the same exact Gaussian draws as NewHMC.
func NewBridgeWith(wf Wavefunction, L, dim, chains int, cfg BridgeConfig, seed uint64) (*Bridge, error) {
	if chains < 1 {
		return nil, errors.New("vmc: need at least one chain")
	}
	cfg = cfg.withDefaults()
	switch cfg.Score {
	case BridgeScoreLearned, BridgeScoreGaussian, BridgeScoreDenoised:
	default:
		return nil, fmt.Errorf("vmc: bridge score must be %s, %s or %s, got %q", BridgeScoreLearned, BridgeScoreGaussian, BridgeScoreDenoised, cfg.Score)
	}
	for _, j := range cfg.Depths {
		if j < 1 || j > cfg.Levels {
			return nil, fmt.Errorf("vmc: bridge depth %d outside 1..%d", j, cfg.Levels)
		}
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
		rgsampler.DefaultTimes(cfg.Levels, mu2, pmax*pmax+mu2))
	if err != nil {
		return nil, err
	}
	b := &Bridge{wf: wf, d: d, cfg: cfg, seed: seed, L: L, dim: dim, rng: rand.New(rand.NewPCG(seed, 1<<40)),
		rcfg: rgsampler.BridgeConfig{Reverse: rgsampler.PosteriorReverse, FlipProb: 0.5, Depths: cfg.Depths}}
	b.c0 = b.reference(nil)
	if cfg.Score == BridgeScoreLearned {
		lc := cfg.Learned
		lc.Reference, lc.FixQuadratic = b.c0, !cfg.LearnQuadratic
		if b.model, err = learned.New(d, lc); err != nil {
			return nil, err
		}
	}
	// Start from exact Gaussian draws, like HMC.
	h, err := NewHMC(wf, L, dim, chains, 1, seed)
	if err != nil {
		return nil, err
	}
	return b, b.build(h.State())
}

// scores returns one score per chain and the reverse kernels they share, for the current
// reference b.c0 and model.
func (b *Bridge) scores() ([]rgsampler.Score, *rgsampler.ReverseKernels, error) {
	n := len(b.targets)
	out := make([]rgsampler.Score, n)
	var first rgsampler.Score
	switch b.cfg.Score {
	case BridgeScoreGaussian:
		s, err := rgsampler.GaussianScore(b.d, b.c0)
		if err != nil {
			return nil, nil, err
		}
		first = s
		for c := range out {
			out[c] = s.Clone() // read-only tables: a clone costs nothing
		}
	case BridgeScoreDenoised:
		// Each chain's score evaluates that chain's own target (its evaluator is not shared).
		for c, t := range b.targets {
			s, err := rgsampler.DenoisedScore(t, b.d, b.c0, 0)
			if err != nil {
				return nil, nil, err
			}
			out[c] = s
		}
		first = out[0]
	case BridgeScoreLearned:
		gauss, err := rgsampler.GaussianScore(b.d, b.c0)
		if err != nil {
			return nil, nil, err
		}
		first = gauss
		for c := range out {
			out[c] = rgsampler.SplitScore(b.model.Clone(), gauss.Clone(), b.cfg.LearnedBelow)
		}
	}
	if b.cfg.DenoisedBelow > 0 && b.cfg.Score != BridgeScoreDenoised {
		for c, t := range b.targets {
			den, err := rgsampler.DenoisedScore(t, b.d, b.c0, 0)
			if err != nil {
				return nil, nil, err
			}
			out[c] = rgsampler.SplitScore(den, out[c], b.cfg.DenoisedBelow)
		}
	}
	rk, err := rgsampler.NewReverseKernels(b.d, b.rcfg.Reverse, b.c0, first)
	return out, rk, err
}

func (b *Bridge) build(init [][]float64) error {
	b.chains, b.targets, b.slots, b.recent, b.filled = nil, nil, nil, nil, nil
	for _, phi := range init {
		b.targets = append(b.targets, &psiTarget{wf: b.wf, ev: b.wf.NewEvaluator(), plan: latfft.NewPlan(b.L, b.dim), kphi: make([]float64, len(phi))})
		b.slots = append(b.slots, [][]float64{make([]float64, len(phi))})
		ring := make([][]float64, b.cfg.TrainSamples)
		for i := range ring {
			ring[i] = make([]float64, len(phi))
		}
		b.recent, b.filled = append(b.recent, ring), append(b.filled, 0)
	}
	s, rk, err := b.scores()
	if err != nil {
		return err
	}
	for c, phi := range init {
		cfg := b.rcfg
		cfg.Kernels = rk
		ch, err := rgsampler.NewBridge(b.targets[c], b.d, s[c], phi, cfg, b.seed, uint64(c)+1)
		if err != nil {
			return err
		}
		b.chains = append(b.chains, ch)
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

// Refresh re-reads the wavefunction: new target densities, the learned score moved to the new
// Gaussian part and retrained on the chains' recent samples (warm-started), and one new set of
// reverse kernels that every chain shares.
func (b *Bridge) Refresh() {
	b.c0 = b.reference(b.c0)
	if b.model != nil {
		if err := b.model.SetReference(b.c0); err != nil {
			b.trainE = err
		} else if b.cfg.TrainSteps > 0 {
			if pool := b.trainingSet(); len(pool) > 0 {
				t0 := time.Now()
				// A few steps, bounded; a failed training keeps the last score, which is still
				// an exact sampler.
				b.trainE = b.model.Train(context.Background(), pool, b.cfg.TrainSteps, b.rng)
				b.trainS += time.Since(t0).Seconds()
			}
		}
	}
	s, rk, err := b.scores()
	for c, ch := range b.chains {
		if err == nil {
			err = ch.SetKernels(s[c], rk)
		}
		// A kernel the score cannot use cannot come from a valid wavefunction; on an error keep
		// the old kernels, which are still an exact sampler of the new target once SetTarget
		// has run.
		_ = ch.SetTarget(b.targets[c])
	}
}

// trainingSet returns the recent samples of every chain (shared; the rings are rewritten by
// the next Sample).
func (b *Bridge) trainingSet() [][]float64 {
	var pool [][]float64
	for c, ring := range b.recent {
		pool = append(pool, ring[:min(b.filled[c], len(ring))]...)
	}
	return pool
}

// Describe says in words which score drives the bridge, for reports.
func (b *Bridge) Describe() string {
	switch b.cfg.Score {
	case BridgeScoreGaussian:
		return "RG bridge sampler (exact score of the Gaussian part)"
	case BridgeScoreDenoised:
		return "RG bridge sampler (denoised score from the gradient of log |Psi|^2)"
	}
	s := fmt.Sprintf("RG bridge sampler (learned score below level %d, retrained every iteration; exact Gaussian score above", b.cfg.LearnedBelow)
	if b.cfg.DenoisedBelow > 0 {
		s += fmt.Sprintf("; denoised below level %d", b.cfg.DenoisedBelow)
	}
	return s + ")"
}

// TrainingSeconds returns the wall time spent training the learned score so far.
func (b *Bridge) TrainingSeconds() float64 { return b.trainS }

// TrainingError returns the error of the last training of the learned score (nil if it
// succeeded or none ran); the sampler keeps the previous score then.
func (b *Bridge) TrainingError() error { return b.trainE }

// Model returns the learned score (nil for the other scores); do not use it concurrently
// with Sample or Refresh.
func (b *Bridge) Model() *learned.Model { return b.model }

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
			sum, done := 0.0, 0
			ring := b.recent[c]
			for i := 0; i < perChain; i++ {
				a, err := ch.Sample(ctx, 1, b.slots[c])
				if err != nil {
					errs[c] = err
					break
				}
				sum += a
				done++
				if b.model != nil {
					copy(ring[b.filled[c]%len(ring)], b.slots[c][0])
					b.filled[c]++
				}
				if visit != nil {
					visit(c, i, b.slots[c][0])
				}
			}
			accs[c] = ratioF(sum, done)
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

func ratioF(s float64, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
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
