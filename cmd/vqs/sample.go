package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"vqs/results"
	"vqs/rgsampler"
	"vqs/sampling"
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
	irCutoff     float64
	reference    string
	splitLevel   int
	pretrain     int
	hmcPerMove   int
	clusters     int
	clustersSet  bool // --clusters given (it applies to --method cluster and all only)
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
	tauPlot      string
}

// estimateJSON is one observable in the --json output: the keys of stats.Estimate, with
// "reliable" always written, and the effective samples per second of sampling alone and of the
// whole run (warm-up, pre-training and training included).
type estimateJSON struct {
	Value    *float64 `json:"value"`
	Error    *float64 `json:"error"`
	Tau      *float64 `json:"tau_int"`
	TauErr   *float64 `json:"tau_int_err"`
	ESS      *float64 `json:"ess"`
	BlockErr *float64 `json:"block_error"`
	RHat     *float64 `json:"r_hat"` // split-R-hat across chains: 1 when they agree
	// Reliable is false when some chain was too short for its autocorrelation (or never
	// moved), or the chains disagree (split-R-hat above stats.RHatLimit): error, tau_int and
	// ESS are then not trustworthy.
	Reliable     bool     `json:"reliable"`
	ESSPerS      *float64 `json:"ess_per_s"`
	ESSPerSTotal *float64 `json:"ess_per_s_total"`
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
	Sampler         string                  `json:"sampler"`
	L               int                     `json:"L"`
	Sites           int                     `json:"sites"`
	Score           string                  `json:"score,omitempty"`
	IRModes         int                     `json:"bridge_modes,omitempty"` // modes a bridge move regenerates
	Samples         int                     `json:"samples_per_chain"`
	Chains          int                     `json:"chains"`
	Seconds         float64                 `json:"sampling_seconds"`
	SetupSeconds    float64                 `json:"setup_seconds"`
	TrainingSeconds float64                 `json:"training_seconds,omitempty"`
	Acceptance      *float64                `json:"acceptance"`
	StepSize        *float64                `json:"hmc_step_size,omitempty"`
	Depths          []depthJSON             `json:"depths,omitempty"`
	HMCPerMove      int                     `json:"hmc_per_bridge_move,omitempty"`
	HMCAccept       *float64                `json:"hybrid_hmc_acceptance,omitempty"`
	Clusters        int                     `json:"clusters_per_trajectory,omitempty"`
	ClusterFraction *float64                `json:"cluster_fraction,omitempty"` // mean flipped cluster size / sites
	Observables     map[string]estimateJSON `json:"observables"`
	Correlator      [][]estimateJSON        `json:"correlator"`
	Couplings       []learnedCouplingJSON   `json:"learned_couplings,omitempty"`
	SplitTime       *float64                `json:"split_time,omitempty"` // --score split: RG time from which the learned score is used
	Interrupted     bool                    `json:"interrupted,omitempty"`
}

// learnedCouplingJSON is one row of the learned flow (the field names of learned.Coupling, as
// before).
type learnedCouplingJSON struct {
	Level  int
	Time   float64
	Z      float64
	M2     float64
	Lambda float64
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
		Short: "Sample Euclidean lattice phi^4 with HMC and cluster flips, HMC alone, or the RG bridge sampler",
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

Samplers (--method):
  hmc     Fourier-accelerated HMC: mass matrix = the free action's kernel with m2 raised to the
          Gaussian (Hartree) mass, step size tuned to acceptance 0.8 during --warmup then frozen,
          trajectory length pi/2, global phi -> -phi move.
  cluster (the default) HMC with --clusters Wolff cluster flips after every trajectory
          (Brower-Tamayo embedding: given |phi|, the signs are an Ising model with couplings
          J |phi_x phi_y| per link, J = 1, or eps and 1/eps for --dim 3). Not learned and not a
          bridge: the classic cure of the critical slowing down of |M|; measured, tau_int of
          |M| stays about 2 from L = 8 to 64 at m2 = -3.7, lambda = 24, where HMC's grows from
          4.6 to 159.
  bridge  RG bridge sampler: the RG flow as a diffusion (--scheme), proposals by its reverse
          kernels driven by a score, exact Metropolis-Hastings on the joint chain; acceptance is
          reported per depth. --score learned trains the learned RG score (rgsampler/learned:
          effective action with running couplings m2_i, lambda_i plus a small CNN) by denoising
          score matching on the chain's own samples for --train-phases phases, then freezes it
          and prints the learned couplings. --score gaussian uses the exact score of the free
          theory at the Hartree mass. Any score gives exact results; a better one only raises
          the acceptance.
  both    runs hmc then bridge with the same settings and prints ESS/s ratios.
  all     runs hmc, cluster and bridge with the same settings and prints ESS/s ratios.`,
		Example: `  vqs sample --dim 2 --sizes 8,16,32 --m2 -3.7 --lambda 24 --method all --samples 3000 --tau-plot tau.png
  vqs sample --dim 2 --L 16 --m2 -0.6 --lambda 24 --method both --samples 4000
  vqs sample --dim 2 --sizes 8,16,32 --m2 -0.6 --lambda 24 --method both --score gaussian
  vqs sample --dim 3 --L 8 --Lt 16 --eps 0.25 --m2 1 --lambda 24 --method hmc --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.clustersSet = cmd.Flags().Changed("clusters")
			return runSample(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.dim, "dim", sampling.DefaultDim, "Euclidean dimension D: 2 (classic 2D lattice action) or 3 (path integral of the 2D Hamiltonian)")
	fl.IntVar(&f.L, "L", sampling.DefaultL, "lattice side length in sites (spatial side for --dim 3)")
	fl.StringVar(&f.sizes, "sizes", "", "comma-separated list of L values to run one after the other in this invocation (overrides --L), e.g. 8,16,32")
	fl.IntVar(&f.lt, "Lt", 0, "number of time slices for --dim 3 (default: L); beta = Lt*eps")
	fl.Float64Var(&f.eps, "eps", sampling.DefaultEps, "time spacing for --dim 3, in lattice units of the spatial spacing (> 0)")
	fl.Float64Var(&f.m2, "m2", -0.6, "bare mass squared m2 (lattice units); may be < 0 when lambda > 0 (double well)")
	fl.Float64Var(&f.lambda, "lambda", 24, "quartic coupling, coefficient of phi^4/4! (pass 6x a lambda/4-convention value); >= 0")
	fl.StringVar(&f.method, "method", sampling.DefaultMethod, "sampler: cluster (the default: HMC with Wolff cluster flips; measured, as fast as hmc away from criticality and 30x faster for |M| near it at L = 32), hmc (Fourier-accelerated HMC alone, the baseline), bridge, both (hmc then bridge) or all (hmc, cluster, bridge); with several, ESS/s ratios to hmc are printed")
	fl.IntVar(&f.clusters, "clusters", sampling.DefaultClusters, "--method cluster/all: Wolff cluster flips of the field's signs after every HMC trajectory (>= 1)")
	fl.StringVar(&f.scheme, "scheme", rgsampler.HeatScheme.String(), "RG diffusion of the bridge: heat (A = p^2+mu2, B = 1) or polchinski (cutoff exp(-(p^2+mu2)/Lambda^2), t = 1/Lambda^2)")
	fl.StringVar(&f.reverse, "reverse", rgsampler.PosteriorReverse.String(), "bridge reverse kernel: posterior (Tweedie mean, exact for Gaussian targets) or euler (Euler-Maruyama step of the reverse SDE)")
	fl.Float64Var(&f.mu2, "mu2", 0, fmt.Sprintf("IR mass squared of the RG diffusion, lattice units (> 0; default: the Hartree mass squared, at least %g)", sampling.DefaultMu2Floor))
	fl.IntVar(&f.levels, "levels", sampling.DefaultLevels, "number K of RG steps (levels 0..K), geometric in RG time from uv-decay/A_max to 3/mu2")
	fl.Float64Var(&f.uvDecay, "uv-decay", sampling.DefaultUVDecay, "first RG time t_1 = uv-decay/A_max: how far the UV modes decay in the first step (small steps keep strongly interacting UV levels acceptable)")
	fl.Float64Var(&f.irCutoff, "ir-cutoff", 0, "bridge: regenerate only the infrared modes with integer momentum |n| < ir-cutoff (k = 2 pi n/L), given the others (1: the zero mode; 0: every mode); with --hmc-per-move the ultraviolet is left to HMC. Measured near criticality it does not pay: given the ultraviolet modes the infrared ones barely move (even an exact heat bath of the zero mode leaves tau_int of |M| as it is)")
	fl.StringVar(&f.reference, "reference", sampling.DefaultReference, "Gaussian reference covariance of the bridge: sf (structure factor of the HMC pre-training samples) or hartree (free propagator at the Hartree mass)")
	fl.IntVar(&f.splitLevel, "split-level", sampling.DefaultSplitLevel, "--score split: the denoised score below this level (>= 1), the learned score from it on")
	fl.IntVar(&f.pretrain, "pretrain", sampling.DefaultPretrain, "HMC samples per chain, after the warm-up, that the reference covariance and the first training of the learned score use")
	fl.IntVar(&f.hmcPerMove, "hmc-per-move", 0, "bridge: HMC trajectories between bridge moves (0: pure bridge; > 0: the hybrid chain, exact as each part is)")
	fl.StringVar(&f.depths, "depths", "all", "bridge depth schedule, cycled: all (1..K) or a comma-separated list of depths in 1..K")
	fl.StringVar(&f.score, "score", sampling.DefaultScore, "bridge score: learned (trained, see --train-*), gaussian (exact score of the Gaussian reference), denoised (target gradient at the Wiener-denoised field) or split (denoised below --split-level, learned above)")
	fl.IntVar(&f.trainSteps, "train-steps", sampling.DefaultTrainSteps, "optimizer steps per training phase of the learned score (0 = no training: the learned model's Gaussian start)")
	fl.IntVar(&f.trainPhases, "train-phases", 0, "adaptive phases: sample, then retrain the score on the chains' own samples")
	fl.IntVar(&f.trainSamples, "train-samples", sampling.DefaultTrainSamples, "samples per chain per training phase")
	fl.IntVar(&f.samples, "samples", sampling.DefaultSamples, fmt.Sprintf("measured samples per chain (after warm-up; one HMC trajectory or one bridge move each); >= %d", sampling.MinSamples))
	fl.IntVar(&f.warmup, "warmup", sampling.DefaultWarmup, "warm-up samples per chain before training and measuring (HMC tunes its step size here)")
	fl.IntVar(&f.chains, "chains", sampling.DefaultChains, "independent chains, one goroutine each")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed; chain c uses the PCG stream (seed, c), so runs are reproducible")
	fl.Float64Var(&f.flip, "flip", sampling.DefaultFlip, "probability per move of proposing the global flip phi -> -phi (0 disables)")
	fl.BoolVar(&f.json, "json", false, "print one JSON object on stdout instead of the human-readable report")
	fl.StringVar(&f.store, "store", "", "also add every run to this results store (observables with errors, the learned RG flow as curves flow_m2, flow_lambda, flow_z)")
	fl.StringVar(&f.flowPlot, "flow-plot", "", "write the learned RG flow of the couplings (m2, lambda, z against RG time) to this .png or .svg")
	fl.StringVar(&f.tauPlot, "tau-plot", "", "write tau_int of <|M|> and chi against L (log-log, in samples of one chain, Gamma-method error bars), one series per sampler, to this .png or .svg; with --sizes")
	return cmd
}

// noneIfZero maps a command-line 0 ("none") to the library's None, whose 0 means the default.
func noneIfZero(v int) int {
	if v == 0 {
		return sampling.None
	}
	return v
}

// config turns the flags into the library's configuration and checks what only the command
// line has (lists, names, the flow plot).
func (f *sampleFlags) config() (sampling.Config, error) {
	scheme, err := rgsampler.ParseScheme(f.scheme)
	if err != nil {
		return sampling.Config{}, err
	}
	rev := rgsampler.PosteriorReverse
	switch f.reverse {
	case "posterior":
	case "euler":
		rev = rgsampler.EulerReverse
	default:
		return sampling.Config{}, fmt.Errorf("--reverse must be posterior or euler, got %q", f.reverse)
	}
	// Zero means "default" in sampling.Config; on the command line it is an error for these.
	if f.samples < 1 || f.chains < 1 || f.levels < 1 || f.trainSamples < 1 || f.pretrain < 1 || f.splitLevel < 1 || f.clusters < 1 ||
		f.warmup < 0 || f.trainSteps < 0 || f.trainPhases < 0 || f.hmcPerMove < 0 {
		return sampling.Config{}, errors.New("--samples, --chains, --levels, --train-samples, --pretrain, --split-level, --clusters must be >= 1 and --warmup, --train-steps, --train-phases, --hmc-per-move >= 0")
	}
	if f.clustersSet && !slices.Contains(sampling.Methods(f.method), sampling.MethodCluster) {
		return sampling.Config{}, fmt.Errorf("--clusters sets the cluster flips of --method cluster or all; --method %s has none", f.method)
	}
	if !(f.eps > 0) || math.IsInf(f.eps, 0) {
		return sampling.Config{}, fmt.Errorf("--eps must be finite and > 0, got %v", f.eps)
	}
	if !(f.uvDecay > 0) || math.IsInf(f.uvDecay, 0) {
		return sampling.Config{}, fmt.Errorf("--uv-decay must be > 0, got %v", f.uvDecay)
	}
	if f.flip < 0 || f.flip > 1 || math.IsNaN(f.flip) {
		return sampling.Config{}, fmt.Errorf("--flip must be a probability, got %v", f.flip)
	}
	if f.mu2 < 0 || math.IsNaN(f.mu2) || math.IsInf(f.mu2, 0) {
		return sampling.Config{}, fmt.Errorf("--mu2 must be > 0 (0 = default), got %v", f.mu2)
	}
	if f.irCutoff < 0 || math.IsNaN(f.irCutoff) || math.IsInf(f.irCutoff, 0) {
		return sampling.Config{}, fmt.Errorf("--ir-cutoff must be >= 0 (0 = every mode), got %v", f.irCutoff)
	}
	if f.dim == 3 && f.lt < 0 {
		return sampling.Config{}, fmt.Errorf("--Lt must be >= 0 (0 = L), got %d", f.lt)
	}
	sizes := []int{f.L}
	if f.sizes != "" {
		sizes = nil
		for _, s := range strings.Split(f.sizes, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || v < 1 {
				return sampling.Config{}, fmt.Errorf("--sizes must be a comma-separated list of positive integers, got %q", f.sizes)
			}
			sizes = append(sizes, v)
		}
	}
	var depths []int
	if f.depths != "all" && f.depths != "" {
		for _, s := range strings.Split(f.depths, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || v < 1 || v > f.levels {
				return sampling.Config{}, fmt.Errorf("--depths must be all or depths in 1..%d, got %q", f.levels, f.depths)
			}
			depths = append(depths, v)
		}
	}
	flip := f.flip
	if flip == 0 {
		flip = sampling.None
	}
	cfg := sampling.Config{Dim: f.dim, Sizes: sizes, Lt: f.lt, Eps: f.eps, M2: f.m2, Lambda: f.lambda, Method: f.method,
		Scheme: scheme, Reverse: rev, Mu2: f.mu2, Levels: f.levels, UVDecay: f.uvDecay, IRCutoff: f.irCutoff,
		Reference: f.reference, Score: f.score, SplitLevel: f.splitLevel, Pretrain: f.pretrain, HMCPerMove: f.hmcPerMove,
		Clusters: f.clusters, Depths: depths, TrainSteps: noneIfZero(f.trainSteps), TrainPhases: f.trainPhases, TrainSamples: f.trainSamples,
		Samples: f.samples, Warmup: noneIfZero(f.warmup), Chains: f.chains, Seed: f.seed, Flip: flip}
	if err := sampling.Validate(cfg); err != nil {
		return sampling.Config{}, err
	}
	if ext := strings.ToLower(filepath.Ext(f.tauPlot)); f.tauPlot != "" && ext != ".png" && ext != ".svg" {
		return sampling.Config{}, fmt.Errorf("--tau-plot %q: the file name must end in .png or .svg", f.tauPlot)
	}
	if f.flowPlot != "" {
		if !slices.Contains(sampling.Methods(f.method), sampling.MethodBridge) {
			return sampling.Config{}, errors.New("--flow-plot draws the learned RG flow of the bridge: use --method bridge, both or all")
		}
		if f.score != sampling.ScoreLearned && f.score != sampling.ScoreSplit {
			return sampling.Config{}, fmt.Errorf("--flow-plot needs a learned score (--score learned or split), not %q", f.score)
		}
		if ext := strings.ToLower(filepath.Ext(f.flowPlot)); ext != ".png" && ext != ".svg" {
			return sampling.Config{}, fmt.Errorf("--flow-plot %q: the file name must end in .png or .svg", f.flowPlot)
		}
	}
	return cfg, nil
}

func runSample(ctx context.Context, stdout, stderr io.Writer, f sampleFlags) error {
	cfg, err := f.config()
	if err != nil {
		return usageError{err}
	}
	if validateOnly {
		return nil
	}
	res, runErr := sampling.Run(ctx, cfg, sampleProgress(stderr))
	if res == nil {
		return runErr
	}
	out := sampleOutput(res)
	plots, exportErr := exportSample(f, res)
	out.Plots = plots
	if f.json {
		if err := writeJSON(stdout, out); err != nil {
			return err
		}
	} else if err := printSample(stdout, res, out); err != nil {
		return err
	}
	if exportErr != nil {
		return fmt.Errorf("the result above was not fully saved: %w", exportErr)
	}
	if runErr != nil {
		if errors.Is(runErr, context.Canceled) || errors.Is(runErr, context.DeadlineExceeded) {
			return interruptedError{"the results above are what was measured before the interrupt"}
		}
		return runErr
	}
	return nil
}

// sampleProgress prints one line on stderr per stage and about every 10% of a measurement.
func sampleProgress(w io.Writer) func(sampling.Progress) {
	start := time.Now()
	return func(p sampling.Progress) {
		switch p.Stage {
		case "warmup":
			start = time.Now()
			fmt.Fprintf(w, "%s L=%d: warm-up %d samples per chain\n", p.Sampler, p.L, p.Total)
		case "pretrain":
			fmt.Fprintf(w, "%s L=%d: %d HMC pre-training samples per chain\n", p.Sampler, p.L, p.Total)
		case "train":
			fmt.Fprintf(w, "%s L=%d: training the learned score, %d steps on the HMC samples\n", p.Sampler, p.L, p.Total)
		case "adapt":
			fmt.Fprintf(w, "  training phase %d/%d done (acceptance before it %.3f)\n", p.Done, p.Total, p.Acceptance)
		case "measure":
			if p.Done == 1 {
				start = time.Now()
			}
			if step := max(1, p.Total/10); p.Done%step == 0 || p.Done == p.Total {
				fmt.Fprintf(w, "  %s: %d/%d samples per chain (%.1f s)\n", p.Sampler, p.Done, p.Total, time.Since(start).Seconds())
			}
		}
	}
}

func sampleEstJSON(o sampling.Observable) estimateJSON {
	e := o.Estimate
	return estimateJSON{Value: finite(e.Value), Error: finite(e.Error), Tau: finite(e.Tau), TauErr: finite(e.TauErr),
		ESS: finite(e.ESS), BlockErr: finite(e.BlockErr), RHat: finite(e.RHat), Reliable: !e.Unreliable,
		ESSPerS: finite(o.ESSPerSecond), ESSPerSTotal: finite(o.ESSPerSecondTotal)}
}

func sampleOutput(res *sampling.Result) sampleJSON {
	c := res.Config
	out := sampleJSON{Command: "sample", Dim: c.Dim, M2: c.M2, Lambda: c.Lambda, Scheme: c.Scheme.String(),
		Reverse: c.Reverse.String(), Seed: c.Seed, Version: version, Runs: []runJSON{}}
	if c.Dim == 3 {
		out.Lt, out.Eps = c.Lt, c.Eps
	}
	for _, r := range res.Runs {
		j := runJSON{Sampler: r.Sampler, L: r.L, Sites: r.Sites, Score: r.Score, Samples: r.Samples, Chains: r.Chains,
			Seconds: r.SamplingSeconds, SetupSeconds: r.SetupSeconds, TrainingSeconds: r.TrainingSeconds,
			Acceptance: finite(r.Acceptance), StepSize: finite(r.StepSize), HMCPerMove: r.HMCPerMove,
			HMCAccept: finite(r.HMCAcceptance), Clusters: r.Clusters, ClusterFraction: finite(r.ClusterFraction),
			SplitTime: finite(r.SplitTime), Interrupted: r.Interrupted,
			Observables: map[string]estimateJSON{}}
		if r.Sampler == sampling.SamplerBridge || r.Sampler == sampling.SamplerHybrid {
			j.IRModes = r.IRModes
		}
		for _, o := range r.Observables.Named() {
			j.Observables[o.Key] = sampleEstJSON(o.Observable)
		}
		for _, ax := range r.Corr {
			var row []estimateJSON
			for _, o := range ax {
				row = append(row, sampleEstJSON(o))
			}
			j.Correlator = append(j.Correlator, row)
		}
		for _, d := range r.Depths {
			j.Depths = append(j.Depths, depthJSON{Depth: d.Depth, Tries: d.Tries, Accepted: d.Accepted, Acceptance: d.MeanProb,
				LogRatioMean: finite(d.LogRatioMean), LogRatioSD: finite(d.LogRatioSD)})
		}
		for _, cp := range r.Couplings {
			j.Couplings = append(j.Couplings, learnedCouplingJSON(cp))
		}
		out.Runs = append(out.Runs, j)
	}
	return out
}

func fmtVal(o sampling.Observable) string {
	e := o.Estimate
	if math.IsNaN(e.Value) {
		return "n/a"
	}
	s := fmt.Sprintf("%.6g", e.Value)
	if !math.IsNaN(e.Error) {
		s += fmt.Sprintf(" +- %.2g", e.Error)
	}
	if !math.IsNaN(e.Tau) && e.Tau != 0 {
		s += fmt.Sprintf("   tau_int %.3g", e.Tau)
		if !math.IsNaN(e.TauErr) {
			s += fmt.Sprintf(" +- %.2g", e.TauErr)
		}
	}
	if !math.IsNaN(e.ESS) && e.ESS != 0 {
		s += fmt.Sprintf("   ESS %.0f, %.4g/s (%.4g/s with setup)", e.ESS, o.ESSPerSecond, o.ESSPerSecondTotal)
	}
	if !math.IsNaN(e.RHat) {
		s += fmt.Sprintf("   R-hat %.3f", e.RHat)
	}
	if e.Unreliable {
		s += "   UNRELIABLE (chains stuck or disagreeing, split-R-hat > 1.1, or too short for their tau_int)"
	}
	return s
}

func printSample(out io.Writer, res *sampling.Result, j sampleJSON) error {
	ew := &errWriter{w: out}
	printSampleTo(ew, res)
	for _, p := range j.Plots {
		fmt.Fprintf(ew, "plot: %s\n", p)
	}
	return ew.err
}

func printSampleTo(w io.Writer, res *sampling.Result) {
	c := res.Config
	r := report{w: w}
	lat := "2D lattice action"
	if c.Dim == 3 {
		lat = fmt.Sprintf("path integral, Lt = %d (0: = L), eps = %g", c.Lt, c.Eps)
	}
	r.add("theory", "Euclidean phi^4, %s, m2 = %g, lambda = %g (phi^4/4! convention)", lat, c.M2, c.Lambda)
	r.flush()
	for _, run := range res.Runs {
		fmt.Fprintln(w)
		r.add("sampler", "%s on L = %d (%d sites)", run.Sampler, run.L, run.Sites)
		if run.Score != "" {
			r.add("score", "%s", run.Score)
		}
		setup := fmt.Sprintf("%.2f s warm-up/training", run.SetupSeconds)
		if run.TrainingSeconds > 0 {
			setup = fmt.Sprintf("%.2f s warm-up/training (%.2f s training)", run.SetupSeconds, run.TrainingSeconds)
		}
		r.add("samples", "%d per chain x %d chains, %.2f s sampling, %s", run.Samples, run.Chains, run.SamplingSeconds, setup)
		if !math.IsNaN(run.Acceptance) {
			r.add("acceptance", "%.4f (mean Metropolis probability)", run.Acceptance)
		}
		if run.HMCPerMove > 0 && !math.IsNaN(run.HMCAcceptance) {
			r.add("hybrid", "%d HMC trajectories per bridge move, HMC acceptance %.4f", run.HMCPerMove, run.HMCAcceptance)
		}
		if !math.IsNaN(run.StepSize) {
			r.add("HMC step", "%.4g (frozen after warm-up)", run.StepSize)
		}
		if run.Clusters > 0 && !math.IsNaN(run.ClusterFraction) {
			r.add("clusters", "%d Wolff flips per trajectory, mean cluster %.3g of the sites", run.Clusters, run.ClusterFraction)
		}
		if run.Interrupted {
			r.add("note", "INTERRUPTED: partial statistics")
		}
		for _, o := range run.Observables.Named() {
			r.add(o.Label, "%s", fmtVal(o.Observable))
		}
		if len(run.Corr) > 0 {
			for d, o := range run.Corr[0] {
				r.add(fmt.Sprintf("G(%d)", d), "%s", fmtVal(o))
			}
		}
		for _, dj := range run.Depths {
			lr := ""
			if !math.IsNaN(dj.LogRatioMean) && !math.IsNaN(dj.LogRatioSD) {
				lr = fmt.Sprintf(", log ratio %.3g +- %.3g", dj.LogRatioMean, dj.LogRatioSD)
			}
			r.add(fmt.Sprintf("depth %d", dj.Depth), "acceptance %.4f (%d/%d accepted%s)", dj.MeanProb, dj.Accepted, dj.Tries, lr)
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
	for _, run := range res.Runs {
		if run.Sampler == sampling.SamplerHMC {
			continue
		}
		for _, o := range run.Observables.Named() {
			if o.Key == "mag_sq" {
				continue
			}
			key := o.Key
			samp, total := res.Ratio(run, func(obs sampling.Observables) sampling.Observable {
				for _, n := range obs.Named() {
					if n.Key == key {
						return n.Observable
					}
				}
				return sampling.Observable{}
			})
			if math.IsNaN(samp) {
				continue
			}
			if !printed {
				fmt.Fprintln(w)
				fmt.Fprintln(w, "ESS per second relative to hmc (sampling alone; whole run with warm-up and training):")
				printed = true
			}
			fmt.Fprintf(w, "  L = %-4d %-11s %-7s %.3g   %.3g\n", run.L, run.Sampler, key, samp, total)
		}
	}
}

// exportSample writes the flow plot and the store records that the flags ask for, and returns
// the plot files written.
func exportSample(f sampleFlags, res *sampling.Result) ([]string, error) {
	var plots []string
	c := res.Config
	for _, r := range res.Runs {
		flow := r.FlowCurves()
		if f.flowPlot != "" && flow != nil {
			title := fmt.Sprintf("Learned RG flow of the couplings, L = %d, m2 = %g, lambda = %g", r.L, c.M2, c.Lambda)
			fp := results.FlowPlot{Title: title, Couplings: flow, LogT: true,
				Bare: map[string]float64{"m2": c.M2, "lambda": c.Lambda}, Units: map[string]string{"z": ""}}
			if !math.IsNaN(r.SplitTime) {
				fp.UnusedBelow = r.SplitTime
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
		for _, o := range r.Observables.Named() {
			if !math.IsNaN(o.Value) && !math.IsNaN(o.Error) {
				est[o.Key] = o.Estimate
			}
		}
		meta := map[string]any{"sampling_seconds": r.SamplingSeconds, "setup_seconds": r.SetupSeconds}
		if !math.IsNaN(r.Acceptance) {
			meta["acceptance"] = r.Acceptance
		}
		if r.Clusters > 0 {
			meta["cluster_fraction"] = r.ClusterFraction
		}
		lt, eps := 0, 0.0
		if c.Dim == 3 {
			lt, eps = c.Lt, c.Eps
		}
		rec := &results.Record{Kind: "sample", Status: results.StatusDone, Version: version, Seed: c.Seed,
			Host: hostname(), Finished: time.Now(), Seconds: r.SamplingSeconds + r.SetupSeconds,
			Params: results.Params{L: r.L, Dim: c.Dim, M2: c.M2, Lambda: c.Lambda, Extra: map[string]any{
				"sampler": r.Sampler, "score": r.Score, "samples": r.Samples, "chains": r.Chains,
				"euclidean": true, "Lt": lt, "eps": eps}},
			Estimates: est, Meta: meta, Curves: map[string]results.Curve{}}
		if r.Clusters > 0 {
			rec.Params.Extra["clusters"] = r.Clusters
		}
		rec.Started = rec.Finished.Add(-time.Duration(rec.Seconds * float64(time.Second)))
		if r.Interrupted {
			rec.Status = results.StatusInterrupted
		}
		for _, cu := range flow {
			rec.Curves[results.CurveFlowPrefix+cu.Label] = cu
		}
		if len(r.Corr) > 0 {
			// G(r) along axis 0, for 'vqs results plot --kind correlator'.
			cu := results.Curve{Label: r.Sampler}
			for d, o := range r.Corr[0] {
				if math.IsNaN(o.Value) {
					continue
				}
				cu.X, cu.Y, cu.Err = append(cu.X, float64(d)), append(cu.Y, o.Value), append(cu.Err, o.Error)
			}
			rec.Curves[results.CurveCorrelator] = cu
		}
		if err := st.Put(rec); err != nil {
			return plots, err
		}
	}
	// After the records: a plot that cannot be drawn (no finite tau_int, e.g. an interrupted
	// run) must not cost the stored results.
	if f.tauPlot != "" && len(res.Runs) > 0 {
		if err := results.PlotSeries(f.tauPlot, tauPlot(res)); err != nil {
			return plots, err
		}
		plots = append(plots, f.tauPlot)
	}
	return plots, nil
}

// tauPlot is tau_int of <|M|> and of chi against L for every sampler of res, on log-log axes:
// critical slowing down is the slope. Unreliable estimates form their own, labelled series.
func tauPlot(res *sampling.Result) results.SeriesPlot {
	c := res.Config
	var order []string
	series := map[string]*results.Curve{}
	var sizes []float64
	// By L, whatever the order of --sizes, so that the lines do not double back.
	runs := slices.Clone(res.Runs)
	slices.SortStableFunc(runs, func(a, b sampling.SamplerRun) int { return cmp.Compare(a.L, b.L) })
	for _, r := range runs {
		if !slices.Contains(sizes, float64(r.L)) {
			sizes = append(sizes, float64(r.L))
		}
		for _, o := range []struct {
			label string
			est   sampling.Observable
		}{{"<|M|>", r.Observables.AbsM}, {"chi", r.Observables.Chi}} {
			name := r.Sampler + ", " + o.label
			if o.est.Unreliable {
				// Stuck or unmixed chains: the window saw only part of the decay, so the
				// tau_int is at best a lower bound, and it must not read as a measurement.
				name += " (UNRELIABLE: a lower bound)"
			}
			if series[name] == nil {
				series[name] = &results.Curve{Label: name}
				order = append(order, name)
			}
			s := series[name]
			s.X, s.Y, s.Err = append(s.X, float64(r.L)), append(s.Y, o.est.Tau), append(s.Err, o.est.TauErr)
		}
	}
	sp := results.SeriesPlot{Title: fmt.Sprintf("Autocorrelation against lattice size, Euclidean %dD, m2 = %g, lambda = %g", c.Dim, c.M2, c.Lambda),
		XLabel: "L  (lattice sites per side)", YLabel: "tau_int  (samples of one chain)",
		LogX: true, LogY: true, XTicks: sizes}
	for _, name := range order {
		sp.Series = append(sp.Series, *series[name])
	}
	return sp
}
