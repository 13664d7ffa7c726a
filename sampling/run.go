package sampling

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"vqs/hamiltonian"
	"vqs/rgsampler"
	"vqs/rgsampler/learned"
)

// plan is one validated lattice size: its target and, for the bridge, its diffusion.
type plan struct {
	cfg    Config
	L      int
	target *rgsampler.Phi4
	d      *rgsampler.Diffusion // nil when the bridge does not run
	mu2    float64
	depths []int
}

func newPlans(cfg Config) ([]*plan, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	var plans []*plan
	for _, L := range cfg.Sizes {
		p, err := newPlan(cfg, L)
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	return plans, nil
}

func newPlan(cfg Config, L int) (*plan, error) {
	p := &plan{cfg: cfg, L: L}
	var err error
	if cfg.Dim == 2 {
		p.target, err = rgsampler.NewPhi4(L, 2, cfg.M2, cfg.Lambda)
	} else {
		lt := cfg.Lt
		if lt == 0 {
			lt = L
		}
		p.target, err = rgsampler.NewPathIntegral(L, 2, lt, cfg.Eps, cfg.M2, cfg.Lambda)
	}
	if err != nil {
		return nil, fmt.Errorf("sampling: %w", err)
	}
	if p.target.Sites() > MaxSites {
		return nil, fmt.Errorf("sampling: %v is %d sites, more than the %d this study samples", p.target.Dims(), p.target.Sites(), MaxSites)
	}
	if !slices.Contains(Methods(cfg.Method), MethodBridge) {
		return p, nil
	}
	p.mu2 = cfg.Mu2
	if p.mu2 == 0 {
		p.mu2 = math.Max(p.target.HartreeMass(), DefaultMu2Floor)
	}
	dims := p.target.Dims()
	var in []bool
	if cfg.IRCutoff > 0 {
		in = rgsampler.InfraredModes(dims, cfg.IRCutoff)
	}
	aMax := p.mu2
	for k, q := range hamiltonian.MomentumSquared(dims) {
		if in == nil || in[k] {
			aMax = math.Max(aMax, q+p.mu2)
		}
	}
	times := rgsampler.GeometricTimes(cfg.Levels, cfg.UVDecay, 3, p.mu2, aMax)
	if cfg.IRCutoff > 0 {
		p.d, err = rgsampler.NewInfraredDiffusion(dims, cfg.Scheme, p.mu2, times, cfg.IRCutoff)
	} else {
		p.d, err = rgsampler.NewDiffusionBox(dims, cfg.Scheme, p.mu2, times)
	}
	if err != nil {
		return nil, fmt.Errorf("sampling: %w", err)
	}
	for _, j := range cfg.Depths {
		if j < 1 || j > cfg.Levels {
			return nil, fmt.Errorf("sampling: bridge depths must be in 1..%d, got %d", cfg.Levels, j)
		}
	}
	p.depths = cfg.Depths
	return p, nil
}

// Methods returns the single samplers that method runs at every size, in order: itself, or
// those of MethodBoth and MethodAll.
func Methods(method string) []string {
	switch method {
	case MethodBoth:
		return []string{MethodHMC, MethodBridge}
	case MethodAll:
		return []string{MethodHMC, MethodCluster, MethodBridge}
	}
	return []string{method}
}

// Run samples every size of cfg with the samplers it names and analyses the runs. progress,
// if not nil, is called from the sampling goroutines, never concurrently. On cancellation it
// returns the runs measured so far (a run cut short keeps what it had, marked Interrupted)
// with ctx.Err().
func Run(ctx context.Context, cfg Config, progress func(Progress)) (*Result, error) {
	start := time.Now()
	cfg = cfg.WithDefaults()
	plans, err := newPlans(cfg)
	if err != nil {
		return nil, err
	}
	res := &Result{Config: cfg}
	defer func() { res.Seconds = time.Since(start).Seconds() }()
	var mu sync.Mutex
	report := func(p Progress) {
		if progress != nil {
			mu.Lock()
			progress(p)
			mu.Unlock()
		}
	}
	for _, p := range plans {
		for _, m := range Methods(cfg.Method) {
			var r *SamplerRun
			switch m {
			case MethodHMC:
				r, err = p.runHMC(ctx, 0, report)
			case MethodCluster:
				r, err = p.runHMC(ctx, cfg.Clusters, report)
			default:
				r, err = p.runBridge(ctx, report)
			}
			if r != nil && r.Samples > 0 {
				res.Runs = append(res.Runs, *r)
			}
			if err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// parallel runs f(c) for every chain on its own goroutine and returns the first error.
func parallel(chains int, f func(c int) error) error {
	errs := make([]error, chains)
	var wg sync.WaitGroup
	for c := range chains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[c] = f(c)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// firstErr returns ctx.Err() when the context ended (the cause of every chain's error), else err.
func firstErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// measure runs the chains for the measurement and fills r from the record.
func (p *plan) measure(ctx context.Context, r *SamplerRun, chains []rgsampler.Chain, report func(Progress)) error {
	rec, err := rgsampler.Run(ctx, chains, p.target.Dims(), p.cfg.Samples, func(done int) {
		report(Progress{L: p.L, Sampler: r.Sampler, Stage: "measure", Done: done, Total: p.cfg.Samples})
	})
	r.summarize(rec)
	if err != nil {
		r.Interrupted = true
	}
	return err
}

func (p *plan) newRun(sampler string) *SamplerRun {
	return &SamplerRun{Sampler: sampler, L: p.L, Dims: p.target.Dims(), Sites: p.target.Sites(), StepSize: math.NaN(),
		HMCAcceptance: math.NaN(), SplitTime: math.NaN(), ClusterFraction: math.NaN()}
}

// hmcChains returns warmed-up HMC chains with the streams (Seed, stream0 + c) and the given
// cluster flips per trajectory.
func (p *plan) hmcChains(ctx context.Context, stream0 uint64, clusters int, sampler string, report func(Progress)) ([]*rgsampler.HMC, error) {
	cfg := p.cfg
	hs := make([]*rgsampler.HMC, cfg.Chains)
	hc := rgsampler.HMCConfig{M2Floor: p.target.HartreeMass(), FlipProb: cfg.flipProb(), Clusters: clusters}
	for c := range hs {
		h, err := rgsampler.NewHMC(p.target, p.target.Dims(), nil, hc, cfg.Seed, stream0+uint64(c))
		if err != nil {
			return nil, err
		}
		hs[c] = h
	}
	report(Progress{L: p.L, Sampler: sampler, Stage: "warmup", Total: count(cfg.Warmup)})
	err := parallel(len(hs), func(c int) error { return hs[c].Warmup(ctx, count(cfg.Warmup)) })
	return hs, firstErr(ctx, err)
}

// runHMC runs HMC, with that many cluster flips after every trajectory (SamplerCluster) when
// clusters > 0. The cluster chains use their own streams.
func (p *plan) runHMC(ctx context.Context, clusters int, report func(Progress)) (*SamplerRun, error) {
	setup := time.Now()
	name, stream0 := SamplerHMC, uint64(0)
	if clusters > 0 {
		name, stream0 = SamplerCluster, 2000
	}
	r := p.newRun(name)
	hs, err := p.hmcChains(ctx, stream0, clusters, name, report)
	if err != nil {
		return nil, err
	}
	r.SetupSeconds = time.Since(setup).Seconds()
	chains := make([]rgsampler.Chain, len(hs))
	for c, h := range hs {
		chains[c] = h
	}
	err = p.measure(ctx, r, chains, report)
	r.StepSize = hs[0].StepSize()
	if clusters > 0 {
		r.Clusters = clusters
		f := 0.0
		for _, h := range hs {
			f += h.ClusterFraction() / float64(len(hs))
		}
		r.ClusterFraction = f
	}
	return r, err
}

// runBridge runs the bridge (or the hybrid chain): HMC warm-up and pre-training samples,
// which give every bridge chain a typical start (any start is exact, but a bridge with a poor
// score can take very long to leave phi = 0), the reference covariance and the first training
// set of a learned score; then the bridge's own warm-up, the adaptive phases, and the
// measurement.
func (p *plan) runBridge(ctx context.Context, report func(Progress)) (*SamplerRun, error) {
	cfg := p.cfg
	setup := time.Now()
	name := SamplerBridge
	if cfg.HMCPerMove > 0 {
		name = SamplerHybrid
	}
	r := p.newRun(name)
	dims, n := p.target.Dims(), p.target.Sites()
	hs, err := p.hmcChains(ctx, 1000, 0, name, report)
	if err != nil {
		return nil, err
	}
	report(Progress{L: p.L, Sampler: name, Stage: "pretrain", Total: cfg.Pretrain})
	pools := make([][][]float64, cfg.Chains)
	err = parallel(cfg.Chains, func(c int) error {
		pools[c] = make([][]float64, cfg.Pretrain)
		for i := range pools[c] {
			pools[c][i] = make([]float64, n)
		}
		_, err := hs[c].Sample(ctx, cfg.Pretrain, pools[c])
		return err
	})
	if err = firstErr(ctx, err); err != nil {
		return nil, err
	}
	var pool [][]float64
	for _, s := range pools {
		pool = append(pool, s...)
	}
	hartree := p.target.HartreeMass()
	ref := p.target.QuadraticKernel(hartree)
	for k := range ref {
		ref[k] = 1 / ref[k]
	}
	refName := "Hartree propagator"
	if cfg.Reference == ReferenceSF {
		if ref, err = rgsampler.StructureFactor(dims, pool); err != nil {
			return nil, err
		}
		refName = "structure factor of the HMC samples"
	}
	d := p.d
	var model *learned.Model
	if cfg.Score == ScoreLearned || cfg.Score == ScoreSplit {
		if model, err = learned.New(d, learned.Config{RefM2: math.Max(hartree, 1e-3), Seed: cfg.Seed}); err != nil {
			return nil, err
		}
		report(Progress{L: p.L, Sampler: name, Stage: "train", Total: count(cfg.TrainSteps)})
		t0 := time.Now()
		if err := model.Train(ctx, pool, count(cfg.TrainSteps), rand.New(rand.NewPCG(cfg.Seed, 1<<33))); err != nil {
			return nil, firstErr(ctx, err)
		}
		r.TrainingSeconds += time.Since(t0).Seconds()
	}
	var score rgsampler.Score
	switch cfg.Score {
	case ScoreLearned:
		score, r.Score = model, "learned"
	case ScoreGaussian:
		score, err = rgsampler.GaussianScore(d, ref)
		r.Score = "gaussian (exact score of the " + refName + ")"
	case ScoreDenoised:
		score, err = rgsampler.DenoisedScore(p.target, d, ref, 0)
		r.Score = "denoised (target gradient at the Wiener-denoised field, reference: " + refName + ")"
	case ScoreSplit:
		var den rgsampler.Score
		den, err = rgsampler.DenoisedScore(p.target, d, ref, 0)
		cut := min(cfg.SplitLevel, d.Levels()-1)
		score = rgsampler.SplitScore(den, model, cfg.SplitLevel)
		r.Score = fmt.Sprintf("split: denoised below level %d (t = %.3g), learned from there (reference: %s)",
			cfg.SplitLevel, d.Time(cut), refName)
		r.SplitTime = d.Time(cut)
	}
	if err != nil {
		return nil, err
	}
	r.IRModes = n
	if d.Infrared() {
		r.IRModes = 0
		for _, ok := range rgsampler.InfraredModes(dims, cfg.IRCutoff) {
			if ok {
				r.IRModes++
			}
		}
		r.Score += fmt.Sprintf("; infrared bridge: %d modes with |n| < %g regenerated", r.IRModes, cfg.IRCutoff)
	}
	bcfg := rgsampler.BridgeConfig{Reverse: cfg.Reverse, Depths: p.depths, Reference: ref, FlipProb: cfg.flipProb()}
	bs := make([]*rgsampler.Bridge, cfg.Chains)
	hys := make([]*rgsampler.Hybrid, cfg.Chains)
	chains := make([]rgsampler.Chain, cfg.Chains)
	for c := range bs {
		b, err := rgsampler.NewBridge(p.target, d, score.Clone(), pools[c][len(pools[c])-1], bcfg, cfg.Seed, uint64(c))
		if err != nil {
			return nil, err
		}
		bs[c], chains[c] = b, b
		if cfg.HMCPerMove > 0 {
			if hys[c], err = rgsampler.NewHybrid(hs[c], b, cfg.HMCPerMove, 1); err != nil {
				return nil, err
			}
			chains[c] = hys[c]
		}
	}
	report(Progress{L: p.L, Sampler: name, Stage: "warmup", Total: count(cfg.Warmup)})
	err = parallel(cfg.Chains, func(c int) error {
		buf := [][]float64{make([]float64, n)}
		for i := 0; i < count(cfg.Warmup); i++ {
			if _, err := chains[c].Sample(ctx, 1, buf); err != nil {
				return err
			}
		}
		return nil
	})
	if err = firstErr(ctx, err); err != nil {
		return nil, err
	}
	if model != nil && cfg.TrainPhases > 0 {
		rng := rand.New(rand.NewPCG(cfg.Seed, 1<<32))
		t0 := time.Now()
		err := rgsampler.Adapt(ctx, bs, model, cfg.TrainPhases, cfg.TrainSamples, count(cfg.TrainSteps), rng, func(phase int, acc float64) {
			report(Progress{L: p.L, Sampler: name, Stage: "adapt", Done: phase, Total: cfg.TrainPhases, Acceptance: acc})
		})
		// Adapt samples as well as trains; all of it is the price of the learned score.
		r.TrainingSeconds += time.Since(t0).Seconds()
		if err != nil {
			return nil, firstErr(ctx, err)
		}
	}
	for _, b := range bs {
		b.ResetCounts()
	}
	r.SetupSeconds = time.Since(setup).Seconds()
	err = p.measure(ctx, r, chains, report)
	if cfg.HMCPerMove > 0 {
		r.HMCPerMove = cfg.HMCPerMove
		acc := 0.0
		for _, hy := range hys {
			acc += hy.HMCAcceptance() / float64(len(hys))
		}
		r.HMCAcceptance = acc
	}
	var recs [][]rgsampler.DepthAcceptance
	for _, b := range bs {
		recs = append(recs, b.Acceptance())
	}
	r.Depths = rgsampler.PoolAcceptance(recs...)
	if model != nil {
		r.Couplings = model.Couplings()
	}
	return r, err
}
