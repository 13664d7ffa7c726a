package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"vqs/hamiltonian"
	"vqs/results"
	"vqs/rgsampler"
	"vqs/rgsampler/learned"
)

func init() { subcommands = append(subcommands, newSampleCmd) }

// sampleFlags are the options of vqs sample.
type sampleFlags struct {
	dim          int
	L            int
	sizes        string
	lt           int
	eps          float64
	m2, lambda   float64
	method       string
	scheme       string
	reverse      string
	mu2          float64
	levels       int
	uvDecay      float64
	reference    string
	splitLevel   int
	pretrain     int
	hmcPerMove   int
	depths       string
	score        string
	trainSteps   int
	trainPhases  int
	trainSamples int
	samples      int
	warmup       int
	chains       int
	seed         uint64
	flip         float64
	json         bool
	store        string
	flowPlot     string
}

// estimateJSON is one observable in the --json output.
type estimateJSON struct {
	Mean    *float64 `json:"mean"`
	Err     *float64 `json:"err"`
	Tau     *float64 `json:"tau_int"`
	TauErr  *float64 `json:"tau_int_err"`
	ESS     *float64 `json:"ess"`
	ESSPerS *float64 `json:"ess_per_s"`
	RHat    *float64 `json:"r_hat"` // split-R-hat across chains: 1 when they agree
	// Reliable is false when some chain was too short for its autocorrelation (or never
	// moved), or the chains disagree (split-R-hat above 1.1): err, tau_int and ESS are then
	// not trustworthy.
	Reliable bool `json:"reliable"`
}

type depthJSON struct {
	Depth      int     `json:"depth"`
	Tries      int     `json:"tries"`
	Accepted   int     `json:"accepted"`
	Acceptance float64 `json:"acceptance"`
	// LogRatioMean and LogRatioSD: mean and spread of the log Metropolis-Hastings ratio.
	LogRatioMean *float64 `json:"log_ratio_mean"`
	LogRatioSD   *float64 `json:"log_ratio_sd"`
}

type runJSON struct {
	Sampler      string                  `json:"sampler"`
	L            int                     `json:"L"`
	Sites        int                     `json:"sites"`
	Score        string                  `json:"score,omitempty"`
	Samples      int                     `json:"samples_per_chain"`
	Chains       int                     `json:"chains"`
	Seconds      float64                 `json:"sampling_seconds"`
	SetupSeconds float64                 `json:"setup_seconds"`
	Acceptance   *float64                `json:"acceptance"`
	StepSize     *float64                `json:"hmc_step_size,omitempty"`
	Depths       []depthJSON             `json:"depths,omitempty"`
	HMCPerMove   int                     `json:"hmc_per_bridge_move,omitempty"`
	HMCAccept    *float64                `json:"hybrid_hmc_acceptance,omitempty"`
	Observables  map[string]estimateJSON `json:"observables"`
	Correlator   [][]estimateJSON        `json:"correlator"`
	Couplings    []learned.Coupling      `json:"learned_couplings,omitempty"`
	SplitTime    *float64                `json:"split_time,omitempty"` // --score split: RG time from which the learned score is used
	Interrupted  bool                    `json:"interrupted,omitempty"`
}

type sampleJSON struct {
	Command string    `json:"command"`
	Dim     int       `json:"dim"`
	Lt      int       `json:"Lt,omitempty"`
	Eps     float64   `json:"eps,omitempty"`
	M2      float64   `json:"m2"`
	Lambda  float64   `json:"lambda"`
	Scheme  string    `json:"scheme"`
	Reverse string    `json:"reverse"`
	Seed    uint64    `json:"seed"`
	Runs    []runJSON `json:"runs"`
	Plots   []string  `json:"plots,omitempty"`
	Version string    `json:"version"`
}

func newSampleCmd() *cobra.Command {
	var f sampleFlags
	cmd := &cobra.Command{
		Use:   "sample",
		Short: "Sample Euclidean lattice phi^4 with Fourier-accelerated HMC or the RG bridge sampler",
		Long: `sample draws field configurations of Euclidean lattice phi^4 theory and measures

  <phi^2>    site average of phi_x^2
  <|M|>      M = (1/N) sum_x phi_x, the mean field
  chi        N (<M^2> - <|M|>^2), the finite-volume susceptibility (stays finite when broken)
  U          1 - <M^4> / (3 <M^2>^2), the Binder cumulant (0 Gaussian, 2/3 ordered)
  G(r)       (1/N) sum_x phi_x phi_{x + r e_0}, the two-point function along axis 0

with Gamma-method errors (Wolff), integrated autocorrelation times tau_int in samples, the
effective sample size ESS summed over chains and ESS per second of sampling wall time.

Actions (lattice units, periodic):
  --dim 2: S = sum_x [ (1/2) sum_mu (phi_{x+mu}-phi_x)^2 + (m2/2) phi^2 + (lambda/24) phi^4 ] on L^2
  --dim 3: the path integral of the 2D Hamiltonian on Lt time slices of spacing eps,
           S_E = sum_tau [ sum_x (phi_{tau+1,x}-phi_{tau,x})^2/(2 eps) + eps V(phi_tau) ];
           G(r) is then along a spatial axis.
lambda multiplies phi^4/4!; users of the lambda/4 convention pass 6x their value.

Samplers:
  hmc     Fourier-accelerated HMC: mass matrix = the free action's kernel with m2 raised to the
          Gaussian (Hartree) mass, step size tuned to acceptance 0.8 during --warmup then frozen,
          trajectory length pi/2, global phi -> -phi move.
  bridge  RG bridge sampler: the RG flow as a diffusion (--scheme), proposals by its reverse
          kernels driven by a score, exact Metropolis-Hastings on the joint chain; acceptance is
          reported per depth. --score learned trains the learned RG score (rgsampler/learned:
          effective action with running couplings m2_i, lambda_i plus a small CNN) by denoising
          score matching on the chain's own samples for --train-phases phases, then freezes it
          and prints the learned couplings. --score gaussian uses the exact score of the free
          theory at the Hartree mass. Any score gives exact results; a better one only raises
          the acceptance.
  both    runs hmc then bridge with the same settings and prints ESS/s ratios.`,
		Example: `  vqs sample --dim 2 --L 16 --m2 -0.6 --lambda 24 --method both --samples 4000
  vqs sample --dim 2 --sizes 8,16,32 --m2 -0.6 --lambda 24 --method both --score gaussian
  vqs sample --dim 3 --L 8 --Lt 16 --eps 0.25 --m2 1 --lambda 24 --method hmc --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSample(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.dim, "dim", 2, "Euclidean dimension D: 2 (classic 2D lattice action) or 3 (path integral of the 2D Hamiltonian)")
	fl.IntVar(&f.L, "L", 16, "lattice side length in sites (spatial side for --dim 3)")
	fl.StringVar(&f.sizes, "sizes", "", "comma-separated list of L values to run one after the other in this invocation (overrides --L), e.g. 8,16,32")
	fl.IntVar(&f.lt, "Lt", 0, "number of time slices for --dim 3 (default: L); beta = Lt*eps")
	fl.Float64Var(&f.eps, "eps", 1, "time spacing for --dim 3, in lattice units of the spatial spacing (> 0)")
	fl.Float64Var(&f.m2, "m2", -0.6, "bare mass squared m2 (lattice units); may be < 0 when lambda > 0 (double well)")
	fl.Float64Var(&f.lambda, "lambda", 24, "quartic coupling, coefficient of phi^4/4! (pass 6x a lambda/4-convention value); >= 0")
	fl.StringVar(&f.method, "method", "hmc", "sampler: hmc (the default: exact and, measured, the fastest), bridge, or both (hmc then bridge, with ESS/s ratios)")
	fl.StringVar(&f.scheme, "scheme", "heat", "RG diffusion of the bridge: heat (A = p^2+mu2, B = 1) or polchinski (cutoff exp(-(p^2+mu2)/Lambda^2), t = 1/Lambda^2)")
	fl.StringVar(&f.reverse, "reverse", "posterior", "bridge reverse kernel: posterior (Tweedie mean, exact for Gaussian targets) or euler (Euler-Maruyama step of the reverse SDE)")
	fl.Float64Var(&f.mu2, "mu2", 0, "IR mass squared of the RG diffusion, lattice units (> 0; default: the Hartree mass squared, at least 0.05)")
	fl.IntVar(&f.levels, "levels", 48, "number K of RG steps (levels 0..K), geometric in RG time from uv-decay/A_max to 3/mu2")
	fl.Float64Var(&f.uvDecay, "uv-decay", 0.002, "first RG time t_1 = uv-decay/A_max: how far the UV modes decay in the first step (small steps keep strongly interacting UV levels acceptable)")
	fl.StringVar(&f.reference, "reference", "sf", "Gaussian reference covariance of the bridge: sf (structure factor of the HMC pre-training samples) or hartree (free propagator at the Hartree mass)")
	fl.IntVar(&f.splitLevel, "split-level", 20, "--score split: the denoised score below this level, the learned score from it on")
	fl.IntVar(&f.pretrain, "pretrain", 512, "HMC samples per chain, after the warm-up, that the reference covariance and the first training of the learned score use")
	fl.IntVar(&f.hmcPerMove, "hmc-per-move", 0, "bridge: HMC trajectories between bridge moves (0: pure bridge; > 0: the hybrid chain, exact as each part is)")
	fl.StringVar(&f.depths, "depths", "all", "bridge depth schedule, cycled: all (1..K) or a comma-separated list of depths in 1..K")
	fl.StringVar(&f.score, "score", "split", "bridge score: learned (trained, see --train-*), gaussian (exact score of the Gaussian reference), denoised (target gradient at the Wiener-denoised field) or split (denoised below --split-level, learned above)")
	fl.IntVar(&f.trainSteps, "train-steps", 300, "optimizer steps per training phase of the learned score (0 = no training: the learned model's Gaussian start)")
	fl.IntVar(&f.trainPhases, "train-phases", 0, "adaptive phases: sample, then retrain the score on the chains' own samples")
	fl.IntVar(&f.trainSamples, "train-samples", 64, "samples per chain per training phase")
	fl.IntVar(&f.samples, "samples", 2000, "measured samples per chain (after warm-up; one HMC trajectory or one bridge move each)")
	fl.IntVar(&f.warmup, "warmup", 300, "warm-up samples per chain before training and measuring (HMC tunes its step size here)")
	fl.IntVar(&f.chains, "chains", 2, "independent chains, one goroutine each")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed; chain c uses the PCG stream (seed, c), so runs are reproducible")
	fl.Float64Var(&f.flip, "flip", 0.5, "probability per move of proposing the global flip phi -> -phi (0 disables)")
	fl.BoolVar(&f.json, "json", false, "print one JSON object on stdout instead of the human-readable report")
	fl.StringVar(&f.store, "store", "", "also add every run to this results store (observables with errors, the learned RG flow as curves flow_m2, flow_lambda, flow_z)")
	fl.StringVar(&f.flowPlot, "flow-plot", "", "write the learned RG flow of the couplings (m2, lambda, z against RG time) to this .png or .svg")
	return cmd
}

// validate checks the flags that the library does not.
func (f *sampleFlags) validate() ([]int, error) {
	if f.dim != 2 && f.dim != 3 {
		return nil, fmt.Errorf("--dim must be 2 or 3, got %d", f.dim)
	}
	switch f.method {
	case "hmc", "bridge", "both":
	default:
		return nil, fmt.Errorf("--method must be hmc, bridge or both, got %q", f.method)
	}
	switch f.score {
	case "learned", "gaussian", "denoised", "split":
	default:
		return nil, fmt.Errorf("--score must be learned, gaussian, denoised or split, got %q", f.score)
	}
	if f.reference != "sf" && f.reference != "hartree" {
		return nil, fmt.Errorf("--reference must be sf or hartree, got %q", f.reference)
	}
	if !(f.uvDecay > 0) || math.IsInf(f.uvDecay, 0) || f.hmcPerMove < 0 || f.pretrain < 1 || f.splitLevel < 0 {
		return nil, errors.New("--uv-decay must be > 0, --hmc-per-move and --split-level >= 0, --pretrain >= 1")
	}
	if f.reverse != "posterior" && f.reverse != "euler" {
		return nil, fmt.Errorf("--reverse must be posterior or euler, got %q", f.reverse)
	}
	if _, err := rgsampler.ParseScheme(f.scheme); err != nil {
		return nil, err
	}
	if f.samples < 1 || f.chains < 1 || f.warmup < 0 || f.levels < 1 || f.trainSteps < 0 || f.trainPhases < 0 || f.trainSamples < 1 {
		return nil, errors.New("--samples, --chains, --levels, --train-samples must be >= 1 and --warmup, --train-steps, --train-phases >= 0")
	}
	if f.flip < 0 || f.flip > 1 || math.IsNaN(f.flip) {
		return nil, fmt.Errorf("--flip must be a probability, got %v", f.flip)
	}
	if f.flowPlot != "" {
		if f.method == "hmc" {
			return nil, errors.New("--flow-plot draws the learned RG flow of the bridge: use --method bridge or both")
		}
		if f.score != "learned" && f.score != "split" {
			return nil, fmt.Errorf("--flow-plot needs a learned score (--score learned or split), not %q", f.score)
		}
		if ext := strings.ToLower(filepath.Ext(f.flowPlot)); ext != ".png" && ext != ".svg" {
			return nil, fmt.Errorf("--flow-plot %q: the file name must end in .png or .svg", f.flowPlot)
		}
	}
	if f.mu2 < 0 || math.IsNaN(f.mu2) || math.IsInf(f.mu2, 0) {
		return nil, fmt.Errorf("--mu2 must be > 0 (0 = default), got %v", f.mu2)
	}
	sizes := []int{f.L}
	if f.sizes != "" {
		sizes = nil
		for _, s := range strings.Split(f.sizes, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || v < 1 {
				return nil, fmt.Errorf("--sizes must be a comma-separated list of positive integers, got %q", f.sizes)
			}
			sizes = append(sizes, v)
		}
	}
	return sizes, nil
}

func (f *sampleFlags) target(L int) (*rgsampler.Phi4, error) {
	if f.dim == 2 {
		return rgsampler.NewPhi4(L, 2, f.m2, f.lambda)
	}
	lt := f.lt
	if lt == 0 {
		lt = L
	}
	return rgsampler.NewPathIntegral(L, 2, lt, f.eps, f.m2, f.lambda)
}

func (f *sampleFlags) depthList(K int) ([]int, error) {
	if f.depths == "all" || f.depths == "" {
		return nil, nil
	}
	var out []int
	for _, s := range strings.Split(f.depths, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v < 1 || v > K {
			return nil, fmt.Errorf("--depths must be all or depths in 1..%d, got %q", K, f.depths)
		}
		out = append(out, v)
	}
	return out, nil
}

func runSample(ctx context.Context, stdout, stderr io.Writer, f sampleFlags) error {
	sizes, err := f.validate()
	if err != nil {
		return usageError{err}
	}
	// Validate every size before spending time on any.
	for _, L := range sizes {
		if _, err := f.target(L); err != nil {
			return usageError{err}
		}
	}
	if validateOnly {
		return nil
	}
	scheme, _ := rgsampler.ParseScheme(f.scheme)
	rev := rgsampler.PosteriorReverse
	if f.reverse == "euler" {
		rev = rgsampler.EulerReverse
	}
	out := sampleJSON{Command: "sample", Dim: f.dim, M2: f.m2, Lambda: f.lambda, Scheme: f.scheme,
		Reverse: f.reverse, Seed: f.seed, Version: version}
	if f.dim == 3 {
		out.Lt, out.Eps = f.lt, f.eps
	}
	var runErr error
	for _, L := range sizes {
		target, _ := f.target(L)
		methods := []string{f.method}
		if f.method == "both" {
			methods = []string{"hmc", "bridge"}
		}
		for _, m := range methods {
			var r runJSON
			if m == "hmc" {
				r, runErr = runHMC(ctx, stderr, f, target)
			} else {
				r, runErr = runBridge(ctx, stderr, f, target, scheme, rev)
			}
			r.L = L
			if r.Observables != nil {
				out.Runs = append(out.Runs, r)
			}
			if runErr != nil {
				break
			}
		}
		if runErr != nil {
			break
		}
	}
	plots, exportErr := exportSample(f, out)
	out.Plots = plots
	if f.json {
		if err := writeJSON(stdout, out); err != nil {
			return err
		}
	} else if err := printSample(stdout, out); err != nil {
		return err
	}
	if exportErr != nil {
		return fmt.Errorf("the result above was not fully saved: %w", exportErr)
	}
	if runErr != nil {
		if errors.Is(runErr, context.Canceled) {
			return interruptedError{"the results above are what was measured before the interrupt"}
		}
		return runErr
	}
	return nil
}

func chainDims(t *rgsampler.Phi4) []int { return t.Dims() }

func runHMC(ctx context.Context, stderr io.Writer, f sampleFlags, target *rgsampler.Phi4) (runJSON, error) {
	setup := time.Now()
	hartree := target.HartreeMass()
	var chains []rgsampler.Chain
	var hs []*rgsampler.HMC
	for c := 0; c < f.chains; c++ {
		h, err := rgsampler.NewHMC(target, chainDims(target), nil, rgsampler.HMCConfig{M2Floor: hartree, FlipProb: flipProb(f.flip)}, f.seed, uint64(c))
		if err != nil {
			return runJSON{}, err
		}
		hs, chains = append(hs, h), append(chains, h)
	}
	fmt.Fprintf(stderr, "hmc L=%d: warm-up %d trajectories x %d chains\n", target.Dims()[0], f.warmup, f.chains)
	errs := make(chan error, len(hs))
	for _, h := range hs {
		go func() { errs <- h.Warmup(ctx, f.warmup) }()
	}
	for range hs {
		if err := <-errs; err != nil {
			return runJSON{}, err
		}
	}
	setupSec := time.Since(setup).Seconds()
	rec, err := rgsampler.Run(ctx, chains, target.Dims(), f.samples, progressPrinter(stderr, "hmc", f.samples))
	r := summarize("hmc", target, rec, setupSec)
	r.StepSize = finite(hs[0].StepSize())
	if err != nil {
		r.Interrupted = true
	}
	return r, err
}

func flipProb(p float64) float64 {
	if p == 0 {
		return -1 // disabled (0 means default in the library configs)
	}
	return p
}

func runBridge(ctx context.Context, stderr io.Writer, f sampleFlags, target *rgsampler.Phi4, scheme rgsampler.Scheme, rev rgsampler.Reverse) (runJSON, error) {
	setup := time.Now()
	hartree := target.HartreeMass()
	mu2 := f.mu2
	if mu2 == 0 {
		mu2 = math.Max(hartree, 0.05)
	}
	dims := target.Dims()
	aMax := mu2
	for _, p := range hamiltonian.MomentumSquared(dims) {
		aMax = math.Max(aMax, p+mu2)
	}
	d, err := rgsampler.NewDiffusionBox(dims, scheme, mu2, rgsampler.GeometricTimes(f.levels, f.uvDecay, 3, mu2, aMax))
	if err != nil {
		return runJSON{}, usageError{err}
	}
	depths, err := f.depthList(d.Levels() - 1)
	if err != nil {
		return runJSON{}, usageError{err}
	}
	// HMC warm-up, then pre-training samples: they give every bridge chain a typical start
	// (any start is exact, but a bridge with a poor score can take very long to leave phi = 0),
	// the reference covariance and the first training set of the learned score.
	fmt.Fprintf(stderr, "bridge L=%d: HMC warm-up %d + pre-training samples %d x %d chains\n", dims[0], f.warmup, f.pretrain, f.chains)
	pools := make([][][]float64, f.chains)
	hmcs := make([]*rgsampler.HMC, f.chains)
	errs := make(chan error, f.chains)
	for c := range pools {
		h, err := rgsampler.NewHMC(target, dims, nil, rgsampler.HMCConfig{M2Floor: hartree, FlipProb: flipProb(f.flip)}, f.seed, uint64(1000+c))
		if err != nil {
			return runJSON{}, err
		}
		hmcs[c] = h
		go func() {
			err := h.Warmup(ctx, f.warmup)
			if err == nil {
				pools[c] = make([][]float64, f.pretrain)
				for i := range pools[c] {
					pools[c][i] = make([]float64, target.Sites())
				}
				_, err = h.Sample(ctx, f.pretrain, pools[c])
			}
			errs <- err
		}()
	}
	for range pools {
		if err := <-errs; err != nil {
			return runJSON{}, err
		}
	}
	var pool [][]float64
	for _, p := range pools {
		pool = append(pool, p...)
	}
	ref := target.QuadraticKernel(hartree)
	for k := range ref {
		ref[k] = 1 / ref[k]
	}
	refName := "Hartree propagator"
	if f.reference == "sf" {
		if ref, err = rgsampler.StructureFactor(dims, pool); err != nil {
			return runJSON{}, err
		}
		refName = "structure factor of the HMC samples"
	}
	var score rgsampler.Score
	var model *learned.Model
	if f.score == "learned" || f.score == "split" {
		model, err = learned.New(d, learned.Config{RefM2: math.Max(hartree, 1e-3), Seed: f.seed})
		if err != nil {
			return runJSON{}, err
		}
		fmt.Fprintf(stderr, "bridge L=%d: training the learned score, %d steps on %d HMC samples\n", dims[0], f.trainSteps, len(pool))
		if err := model.Train(ctx, pool, f.trainSteps, rand.New(rand.NewPCG(f.seed, 1<<33))); err != nil {
			return runJSON{}, err
		}
	}
	scoreName := ""
	var splitTime *float64
	switch f.score {
	case "learned":
		score, scoreName = model, "learned"
	case "gaussian":
		score, scoreName = must2(rgsampler.GaussianScore(d, ref)), "gaussian (exact score of the "+refName+")"
	case "denoised":
		score, err = rgsampler.DenoisedScore(target, d, ref, 0)
		scoreName = "denoised (target gradient at the Wiener-denoised field, reference: " + refName + ")"
	case "split":
		var den rgsampler.Score
		den, err = rgsampler.DenoisedScore(target, d, ref, 0)
		score = rgsampler.SplitScore(den, model, f.splitLevel)
		scoreName = fmt.Sprintf("split: denoised below level %d (t = %.3g), learned from there (reference: %s)",
			f.splitLevel, d.Time(min(f.splitLevel, d.Levels()-1)), refName)
		splitTime = finite(d.Time(min(f.splitLevel, d.Levels()-1)))
	}
	if err != nil {
		return runJSON{}, err
	}
	cfg := rgsampler.BridgeConfig{Reverse: rev, Depths: depths, Reference: ref, FlipProb: flipProb(f.flip)}
	var bs []*rgsampler.Bridge
	var hys []*rgsampler.Hybrid
	var chains []rgsampler.Chain
	for c := 0; c < f.chains; c++ {
		b, err := rgsampler.NewBridge(target, d, score.Clone(), pools[c][len(pools[c])-1], cfg, f.seed, uint64(c))
		if err != nil {
			return runJSON{}, err
		}
		bs = append(bs, b)
		if f.hmcPerMove > 0 {
			hy, err := rgsampler.NewHybrid(hmcs[c], b, f.hmcPerMove, 1)
			if err != nil {
				return runJSON{}, err
			}
			hys, chains = append(hys, hy), append(chains, hy)
		} else {
			chains = append(chains, b)
		}
	}
	fmt.Fprintf(stderr, "bridge L=%d (%s score, %s scheme, %d levels, %d HMC trajectories per move): warm-up %d samples x %d chains\n",
		dims[0], f.score, f.scheme, d.Levels(), f.hmcPerMove, f.warmup, f.chains)
	for _, ch := range chains {
		go func() {
			buf := [][]float64{make([]float64, d.Sites())}
			var err error
			for i := 0; i < f.warmup && err == nil; i++ {
				_, err = ch.Sample(ctx, 1, buf)
			}
			errs <- err
		}()
	}
	for range chains {
		if err := <-errs; err != nil {
			return runJSON{}, err
		}
	}
	if model != nil && f.trainPhases > 0 {
		rng := rand.New(rand.NewPCG(f.seed, 1<<32))
		err := rgsampler.Adapt(ctx, bs, model, f.trainPhases, f.trainSamples, f.trainSteps, rng, func(p int, acc float64) {
			fmt.Fprintf(stderr, "  training phase %d/%d done (acceptance before it %.3f)\n", p, f.trainPhases, acc)
		})
		if err != nil {
			return runJSON{}, err
		}
	}
	for _, b := range bs {
		b.ResetCounts()
	}
	setupSec := time.Since(setup).Seconds()
	name := "bridge"
	if f.hmcPerMove > 0 {
		name = "hybrid"
	}
	rec, err := rgsampler.Run(ctx, chains, dims, f.samples, progressPrinter(stderr, name, f.samples))
	r := summarize(name, target, rec, setupSec)
	r.Score, r.SplitTime = scoreName, splitTime
	if err != nil {
		r.Interrupted = true
	}
	if f.hmcPerMove > 0 {
		r.HMCPerMove = f.hmcPerMove
		acc := 0.0
		for _, hy := range hys {
			acc += hy.HMCAcceptance() / float64(len(hys))
		}
		r.HMCAccept = finite(acc)
	}
	type depthSum struct {
		dj             depthJSON
		lrS, lrQ, lrN2 float64
	}
	tries := map[int]*depthSum{}
	var order []int
	for _, b := range bs {
		for _, a := range b.Acceptance() {
			ds, ok := tries[a.Depth]
			if !ok {
				ds = &depthSum{dj: depthJSON{Depth: a.Depth}}
				tries[a.Depth] = ds
				order = append(order, a.Depth)
			}
			ds.dj.Tries += a.Tries
			ds.dj.Accepted += a.Accepted
			ds.dj.Acceptance += a.MeanProb * float64(a.Tries)
			if !math.IsNaN(a.LogRatioMean) {
				w := float64(a.Tries)
				ds.lrS += w * a.LogRatioMean
				ds.lrQ += w * (a.LogRatioSD*a.LogRatioSD + a.LogRatioMean*a.LogRatioMean)
				ds.lrN2 += w
			}
		}
	}
	for _, j := range order {
		ds := tries[j]
		ds.dj.Acceptance /= float64(ds.dj.Tries)
		if ds.lrN2 > 0 {
			m := ds.lrS / ds.lrN2
			ds.dj.LogRatioMean = finite(m)
			ds.dj.LogRatioSD = finite(math.Sqrt(math.Max(0, ds.lrQ/ds.lrN2-m*m)))
		}
		r.Depths = append(r.Depths, ds.dj)
	}
	if model != nil {
		r.Couplings = model.Couplings()
	}
	return r, err
}

func must2(s rgsampler.Score, err error) rgsampler.Score {
	if err != nil {
		panic(err) // only for constructors whose inputs were validated above
	}
	return s
}

// progressPrinter reports sampling progress on stderr about every 10%.
func progressPrinter(w io.Writer, name string, total int) func(int) {
	step := max(1, total/10)
	start := time.Now()
	return func(done int) {
		if done%step == 0 || done == total {
			fmt.Fprintf(w, "  %s: %d/%d samples per chain (%.1f s)\n", name, done, total, time.Since(start).Seconds())
		}
	}
}

func sampleEstJSON(e rgsampler.Estimate, seconds float64) estimateJSON {
	return estimateJSON{Mean: finite(e.Value), Err: finite(e.Error), Tau: finite(e.Tau), TauErr: finite(e.TauErr),
		ESS: finite(e.ESS), ESSPerS: finite(e.ESS / seconds), RHat: finite(e.RHat), Reliable: !e.Unreliable}
}

func summarize(name string, target *rgsampler.Phi4, rec *rgsampler.Record, setupSec float64) runJSON {
	r := runJSON{Sampler: name, Sites: target.Sites(), SetupSeconds: setupSec}
	if rec == nil || rec.Samples() == 0 {
		return r
	}
	s := rec.Summarize()
	r.Samples, r.Chains, r.Seconds = s.Samples, s.Chains, s.Seconds
	acc := 0.0
	for _, a := range rec.Accept {
		acc += a / float64(len(rec.Accept))
	}
	r.Acceptance = finite(acc)
	r.Observables = map[string]estimateJSON{
		"phi2":   sampleEstJSON(s.Phi2, s.Seconds),
		"abs_m":  sampleEstJSON(s.AbsM, s.Seconds),
		"mag_sq": sampleEstJSON(s.M2, s.Seconds),
		"chi":    sampleEstJSON(s.Chi, s.Seconds),
		"binder": sampleEstJSON(s.Binder, s.Seconds),
	}
	for _, ax := range s.Corr {
		var row []estimateJSON
		for _, e := range ax {
			row = append(row, sampleEstJSON(e, s.Seconds))
		}
		r.Correlator = append(r.Correlator, row)
	}
	return r
}

func fmtVal(e estimateJSON) string {
	if e.Mean == nil {
		return "n/a"
	}
	s := fmt.Sprintf("%.6g", *e.Mean)
	if e.Err != nil {
		s += fmt.Sprintf(" +- %.2g", *e.Err)
	}
	if e.Tau != nil {
		s += fmt.Sprintf("   tau_int %.3g", *e.Tau)
		if e.TauErr != nil {
			s += fmt.Sprintf(" +- %.2g", *e.TauErr)
		}
	}
	if e.ESSPerS != nil {
		s += fmt.Sprintf("   ESS %.0f, %.4g/s", *e.ESS, *e.ESSPerS)
	}
	if !e.Reliable {
		s += "   UNRELIABLE (chains stuck or disagreeing, split-R-hat > 1.1, or too short for their tau_int)"
	}
	return s
}

func printSample(out io.Writer, res sampleJSON) error {
	ew := &errWriter{w: out}
	printSampleTo(ew, res)
	for _, p := range res.Plots {
		fmt.Fprintf(ew, "plot: %s\n", p)
	}
	return ew.err
}

func printSampleTo(w io.Writer, out sampleJSON) {
	r := report{w: w}
	lat := "2D lattice action"
	if out.Dim == 3 {
		lat = fmt.Sprintf("path integral, Lt = %d (0: = L), eps = %g", out.Lt, out.Eps)
	}
	r.add("theory", "Euclidean phi^4, %s, m2 = %g, lambda = %g (phi^4/4! convention)", lat, out.M2, out.Lambda)
	r.flush()
	essOf := map[[2]string]float64{}
	for _, run := range out.Runs {
		fmt.Fprintln(w)
		r.add("sampler", "%s on L = %d (%d sites)", run.Sampler, run.L, run.Sites)
		if run.Score != "" {
			r.add("score", "%s", run.Score)
		}
		r.add("samples", "%d per chain x %d chains, %.2f s sampling, %.2f s warm-up/training", run.Samples, run.Chains, run.Seconds, run.SetupSeconds)
		if run.Acceptance != nil {
			r.add("acceptance", "%.4f (mean Metropolis probability)", *run.Acceptance)
		}
		if run.HMCPerMove > 0 && run.HMCAccept != nil {
			r.add("hybrid", "%d HMC trajectories per bridge move, HMC acceptance %.4f", run.HMCPerMove, *run.HMCAccept)
		}
		if run.StepSize != nil {
			r.add("HMC step", "%.4g (frozen after warm-up)", *run.StepSize)
		}
		if run.Interrupted {
			r.add("note", "INTERRUPTED: partial statistics")
		}
		for _, k := range []struct{ key, label string }{{"phi2", "<phi^2>"}, {"abs_m", "<|M|>"}, {"mag_sq", "<M^2>"}, {"chi", "chi"}, {"binder", "Binder U"}} {
			e := run.Observables[k.key]
			r.add(k.label, "%s", fmtVal(e))
			if e.ESSPerS != nil {
				essOf[[2]string{strconv.Itoa(run.L) + "/" + k.key, run.Sampler}] = *e.ESSPerS
			}
		}
		if len(run.Correlator) > 0 {
			for d, e := range run.Correlator[0] {
				r.add(fmt.Sprintf("G(%d)", d), "%s", fmtVal(e))
			}
		}
		for _, dj := range run.Depths {
			lr := ""
			if dj.LogRatioMean != nil && dj.LogRatioSD != nil {
				lr = fmt.Sprintf(", log ratio %.3g +- %.3g", *dj.LogRatioMean, *dj.LogRatioSD)
			}
			r.add(fmt.Sprintf("depth %d", dj.Depth), "acceptance %.4f (%d/%d accepted%s)", dj.Acceptance, dj.Accepted, dj.Tries, lr)
		}
		r.flush()
		if len(run.Couplings) > 0 {
			fmt.Fprintln(w, "learned couplings (S_eff per RG level):")
			fmt.Fprintf(w, "  %5s %12s %12s %12s\n", "level", "t", "m2_i", "lambda_i")
			for _, c := range run.Couplings {
				fmt.Fprintf(w, "  %5d %12.5g %12.5g %12.5g\n", c.Level, c.Time, c.M2, c.Lambda)
			}
		}
	}
	// ESS/s ratios when both samplers ran at a size.
	printed := false
	for _, run := range out.Runs {
		if run.Sampler != "bridge" && run.Sampler != "hybrid" {
			continue
		}
		for _, k := range []string{"abs_m", "chi", "binder", "phi2"} {
			key := strconv.Itoa(run.L) + "/" + k
			h, okH := essOf[[2]string{key, "hmc"}]
			b, okB := essOf[[2]string{key, run.Sampler}]
			if okH && okB && h > 0 {
				if !printed {
					fmt.Fprintln(w)
					fmt.Fprintf(w, "ESS per second, %s / hmc:\n", run.Sampler)
					printed = true
				}
				fmt.Fprintf(w, "  L = %-4d %-7s %.3g\n", run.L, k, b/h)
			}
		}
	}
}

// flowCurves turns the learned couplings into plain curves against RG time for results.
func flowCurves(cs []learned.Coupling) []results.Curve {
	m2 := results.Curve{Label: "m2"}
	lam := results.Curve{Label: "lambda"}
	z := results.Curve{Label: "z"}
	for _, c := range cs {
		for _, cu := range []*results.Curve{&m2, &lam, &z} {
			cu.X = append(cu.X, c.Time)
		}
		m2.Y = append(m2.Y, c.M2)
		lam.Y = append(lam.Y, c.Lambda)
		z.Y = append(z.Y, c.Z)
	}
	return []results.Curve{m2, lam, z}
}

// exportSample writes the flow plot and the store records that the flags ask for, and returns
// the plot files written.
func exportSample(f sampleFlags, out sampleJSON) ([]string, error) {
	var plots []string
	for _, r := range out.Runs {
		if f.flowPlot != "" && len(r.Couplings) > 0 {
			title := fmt.Sprintf("Learned RG flow of the couplings, L = %d, m2 = %g, lambda = %g", r.L, f.m2, f.lambda)
			fp := results.FlowPlot{Title: title, Couplings: flowCurves(r.Couplings), LogT: true,
				Bare: map[string]float64{"m2": f.m2, "lambda": f.lambda}, Units: map[string]string{"z": ""}}
			if r.SplitTime != nil {
				fp.UnusedBelow = *r.SplitTime
			}
			if err := results.PlotFlow(f.flowPlot, fp); err != nil {
				return plots, err
			}
			plots = append(plots, f.flowPlot)
		}
		if f.store == "" {
			continue
		}
		st, err := results.Open(f.store)
		if err != nil {
			return plots, err
		}
		est := map[string]results.Estimate{}
		for name, e := range r.Observables {
			if e.Mean != nil && e.Err != nil {
				est[name] = results.Estimate{Value: *e.Mean, Error: *e.Err, Unreliable: !e.Reliable}
			}
		}
		meta := map[string]any{"sampling_seconds": r.Seconds, "setup_seconds": r.SetupSeconds}
		if r.Acceptance != nil {
			meta["acceptance"] = *r.Acceptance
		}
		rec := &results.Record{Kind: "sample", Status: results.StatusDone, Version: version, Seed: f.seed,
			Host: hostname(), Finished: time.Now(), Seconds: r.Seconds + r.SetupSeconds,
			Params: results.Params{L: r.L, Dim: f.dim, M2: f.m2, Lambda: f.lambda, Extra: map[string]any{
				"sampler": r.Sampler, "score": r.Score, "samples": r.Samples, "chains": r.Chains,
				"euclidean": true, "Lt": out.Lt, "eps": out.Eps}},
			Estimates: est, Meta: meta, Curves: map[string]results.Curve{}}
		rec.Started = rec.Finished.Add(-time.Duration(rec.Seconds * float64(time.Second)))
		if r.Interrupted {
			rec.Status = results.StatusInterrupted
		}
		if len(r.Couplings) > 0 {
			for _, c := range flowCurves(r.Couplings) {
				rec.Curves[results.CurveFlowPrefix+c.Label] = c
			}
		}
		if len(r.Correlator) > 0 {
			// G(r) along axis 0, for 'vqs results plot --kind correlator'.
			c := results.Curve{Label: r.Sampler}
			for d, e := range r.Correlator[0] {
				if e.Mean == nil {
					continue
				}
				c.X, c.Y = append(c.X, float64(d)), append(c.Y, *e.Mean)
				er := math.NaN()
				if e.Err != nil {
					er = *e.Err
				}
				c.Err = append(c.Err, er)
			}
			rec.Curves[results.CurveCorrelator] = c
		}
		if err := st.Put(rec); err != nil {
			return plots, err
		}
	}
	return plots, nil
}
