// Package sampling is the sampler study of Euclidean lattice phi^4 theory: it samples the same
// action with Fourier-accelerated HMC, with HMC and Wolff cluster flips of the signs, and with
// the RG bridge sampler (package rgsampler), one lattice size after another, and reports for
// each run the observables with autocorrelation-aware errors, their integrated autocorrelation
// times, effective sample sizes per second of sampling and per second of the whole run (warm-up
// and the training of a learned score included), the split-R-hat across chains that flags stuck
// chains, and the bridge's acceptance per depth.
//
// The physics. All the samplers are exact Markov chains for exp(-S), so they must agree within
// errors; what differs is how fast they decorrelate. HMC moves every mode a little per
// trajectory, with a mass matrix that makes the free modes oscillate at one frequency (Fourier
// acceleration). The bridge treats the exact RG flow as a diffusion in momentum space and
// proposes fields by running it backwards with a score, accepted by an exact Metropolis-Hastings
// test on the joint chain of the field and its diffused copies. Its acceptance is a product of
// per-site kernel errors, so it falls like exp(-c N) for moves that regenerate every mode; moves
// that regenerate only the infrared modes (Config.IRCutoff) have a ratio whose spread grows with
// the number of modes regenerated instead, and are composed with HMC for the ultraviolet
// (Config.HMCPerMove). Near criticality the slowest observable, |M|, lives at k = 0 — but
// measured, regenerating the infrared given the ultraviolet does not decorrelate it: the
// ultraviolet modes carry the local sign of the field (their skewness), which pins the
// infrared ones, so even an exact heat-bath draw of the zero mode between HMC trajectories
// leaves tau_int of |M| unchanged (5.7 against 5.2 at L = 8, 19.7 against 19.0 at L = 16).
// What does move it is a move on the signs themselves: the Wolff cluster flips of
// MethodCluster keep tau_int of |M| near 2 from L = 8 to 64 (docs/samplers.md).
//
// Run mirrors package pimc: a Config whose zero values mean the defaults below, Validate, and
// Run(ctx, cfg, progress) returning a typed Result.
package sampling

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"vqs/rgsampler"
)

// Methods and scores.
const (
	MethodHMC    = "hmc"    // Fourier-accelerated HMC only
	MethodBridge = "bridge" // the RG bridge sampler only (the hybrid chain when HMCPerMove > 0)
	MethodBoth   = "both"   // HMC, then the bridge, at every size
	// MethodCluster is HMC with Wolff cluster flips of the field's signs after every trajectory
	// (rgsampler.Cluster): not learned and not a bridge, the classic remedy for the critical
	// slowing down of |M|, run beside the others as the strongest baseline.
	MethodCluster = "cluster"
	MethodAll     = "all" // HMC, HMC with clusters, then the bridge, at every size

	ScoreLearned  = "learned"  // the learned RG score (rgsampler/learned), trained on the chains' samples
	ScoreGaussian = "gaussian" // the exact score of the Gaussian reference
	ScoreDenoised = "denoised" // the target's gradient at the Wiener-denoised field
	ScoreSplit    = "split"    // denoised below SplitLevel, learned from there

	ReferenceSF      = "sf"      // structure factor of the HMC pre-training samples
	ReferenceHartree = "hartree" // the free propagator at the Hartree mass
)

// Defaults: the values that zero fields of Config take.
const (
	DefaultDim = 2
	DefaultL   = 16
	DefaultEps = 1.0
	// DefaultMethod: HMC with cluster flips, measured at 0.8-1.1x HMC's effective samples per
	// second away from criticality (m2 = -0.6, lambda = 24, L = 16 and 32; D = 3, L = 8, Lt = 16)
	// and 1.35x, 5.3x, 31x and 90x for |M| near it (m2 = -3.7, L = 8, 16, 32, 64; setup
	// included; docs/samplers.md).
	DefaultMethod       = MethodCluster
	DefaultLevels       = 48
	DefaultUVDecay      = 0.002
	DefaultReference    = ReferenceSF
	DefaultScore        = ScoreSplit
	DefaultSplitLevel   = 20
	DefaultPretrain     = 512
	DefaultTrainSteps   = 300
	DefaultTrainSamples = 64
	DefaultSamples      = 2000
	DefaultWarmup       = 300
	DefaultChains       = 2
	DefaultFlip         = 0.5
	DefaultClusters     = 4
	// DefaultMu2Floor is the smallest default IR mass squared of the RG diffusion (the default
	// is the Hartree mass squared, raised to this).
	DefaultMu2Floor = 0.05
	// MinSamples is the fewest measured samples per chain: fewer cannot give an autocorrelation
	// time.
	MinSamples = 4
	// MaxSites bounds one lattice (all chains hold a few copies of a field per level).
	MaxSites = 1 << 22
)

// None, given to a count whose zero value means its default (Warmup, TrainSteps), or to Flip,
// asks for none: no warm-up, no training (the learned model's Gaussian start), no global flip.
const None = -1

// Config sets up a study. Zero values take the defaults above.
type Config struct {
	// Dim is the Euclidean dimension: 2, the classic lattice action on L^2, or 3, the path
	// integral of the 2D Hamiltonian on L^2 x Lt with time spacing Eps (docs/physics.md, 6).
	Dim int
	// Sizes are the lattice sides L, run one after the other (default {DefaultL}).
	Sizes []int
	// Lt is the number of time slices for Dim 3 (0: L); Eps their spacing (default 1).
	Lt  int
	Eps float64
	// M2 and Lambda are the bare couplings; Lambda multiplies phi^4/4!.
	M2, Lambda float64
	// Method is MethodHMC, MethodBridge, MethodBoth, MethodCluster or MethodAll.
	Method string
	// Clusters is the number of Wolff cluster flips after every HMC trajectory of
	// MethodCluster (the other methods' HMC has none).
	Clusters int

	// The bridge (unused by HMC).
	Scheme  rgsampler.Scheme  // the RG diffusion (zero: the heat scheme)
	Reverse rgsampler.Reverse // the reverse kernel (zero: the posterior kernel)
	// Mu2 is the IR mass squared of the diffusion (0: the Hartree mass squared, at least
	// DefaultMu2Floor).
	Mu2 float64
	// Levels is the number K of RG steps, geometric in RG time from UVDecay/A_max to 3/Mu2.
	Levels int
	// UVDecay sets the first RG time t_1 = UVDecay/A_max: how far the fastest modes decay in
	// the first step.
	UVDecay float64
	// IRCutoff, when > 0, restricts the diffusion to the infrared modes with integer momentum
	// |n| < IRCutoff (rgsampler.NewInfraredDiffusion): bridge moves then regenerate those modes
	// alone, given the others. 0: every mode diffuses.
	IRCutoff float64
	// Reference is the Gaussian reference covariance of the bridge: ReferenceSF or
	// ReferenceHartree.
	Reference string
	// Score is ScoreLearned, ScoreGaussian, ScoreDenoised or ScoreSplit.
	Score string
	// SplitLevel is the first level of the learned part of ScoreSplit (default 20).
	SplitLevel int
	// Pretrain is the number of HMC samples per chain, after the warm-up, that give the
	// reference covariance, the first training set of a learned score and the bridge chains'
	// start.
	Pretrain int
	// HMCPerMove > 0 makes the bridge the hybrid chain: that many HMC trajectories between
	// bridge moves (exact, as each part is).
	HMCPerMove int
	// Depths is the depth schedule of the bridge, cycled (nil: 1..K).
	Depths []int
	// TrainSteps are the optimizer steps per training of a learned score (None: no training).
	TrainSteps int
	// TrainPhases are the adaptive phases: sample TrainSamples per chain with the bridge, then
	// retrain the score on them (default 0).
	TrainPhases  int
	TrainSamples int

	// Both samplers.
	Samples int     // measured samples per chain (one HMC trajectory or one bridge move each)
	Warmup  int     // warm-up samples per chain (HMC tunes its step here; None: none)
	Chains  int     // independent chains, one goroutine each
	Seed    uint64  // chain c uses the PCG stream (Seed, c)
	Flip    float64 // probability per move of the global phi -> -phi proposal (None: off)
}

// WithDefaults returns the configuration with every zero field replaced by its default (and
// None left as it is).
func (c Config) WithDefaults() Config {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.Dim, DefaultDim)
	if len(c.Sizes) == 0 {
		c.Sizes = []int{DefaultL}
	}
	c.Sizes = slices.Clone(c.Sizes)
	c.Depths = slices.Clone(c.Depths)
	if c.Eps == 0 {
		c.Eps = DefaultEps
	}
	if c.Method == "" {
		c.Method = DefaultMethod
	}
	def(&c.Levels, DefaultLevels)
	if c.UVDecay == 0 {
		c.UVDecay = DefaultUVDecay
	}
	if c.Reference == "" {
		c.Reference = DefaultReference
	}
	if c.Score == "" {
		c.Score = DefaultScore
	}
	def(&c.SplitLevel, DefaultSplitLevel)
	def(&c.Pretrain, DefaultPretrain)
	def(&c.TrainSteps, DefaultTrainSteps)
	def(&c.TrainSamples, DefaultTrainSamples)
	def(&c.Samples, DefaultSamples)
	def(&c.Warmup, DefaultWarmup)
	def(&c.Chains, DefaultChains)
	def(&c.Clusters, DefaultClusters)
	if c.Flip == 0 {
		c.Flip = DefaultFlip
	}
	return c
}

// count returns a count that may be None as the number it stands for.
func count(n int) int { return max(n, 0) }

// Validate reports whether Run would accept cfg, without sampling anything.
func Validate(cfg Config) error {
	_, err := newPlans(cfg.WithDefaults())
	return err
}

func (c Config) validate() error {
	switch {
	case c.Dim != 2 && c.Dim != 3:
		return fmt.Errorf("sampling: the dimension must be 2 or 3, got %d", c.Dim)
	case c.Method != MethodHMC && c.Method != MethodBridge && c.Method != MethodBoth && c.Method != MethodCluster && c.Method != MethodAll:
		return fmt.Errorf("sampling: the method must be %s, %s, %s, %s or %s, got %q", MethodHMC, MethodBridge, MethodBoth, MethodCluster, MethodAll, c.Method)
	case c.Clusters < 1:
		return fmt.Errorf("sampling: cluster flips per trajectory must be >= 1, got %d", c.Clusters)
	case c.Score != ScoreLearned && c.Score != ScoreGaussian && c.Score != ScoreDenoised && c.Score != ScoreSplit:
		return fmt.Errorf("sampling: the score must be %s, %s, %s or %s, got %q", ScoreLearned, ScoreGaussian, ScoreDenoised, ScoreSplit, c.Score)
	case c.Reference != ReferenceSF && c.Reference != ReferenceHartree:
		return fmt.Errorf("sampling: the reference must be %s or %s, got %q", ReferenceSF, ReferenceHartree, c.Reference)
	case c.Scheme != rgsampler.HeatScheme && c.Scheme != rgsampler.PolchinskiScheme:
		return fmt.Errorf("sampling: unknown RG scheme %d", int(c.Scheme))
	case c.Reverse != rgsampler.PosteriorReverse && c.Reverse != rgsampler.EulerReverse:
		return fmt.Errorf("sampling: unknown reverse kernel %d", int(c.Reverse))
	case !(c.UVDecay > 0) || math.IsInf(c.UVDecay, 0):
		return fmt.Errorf("sampling: the UV decay must be finite and > 0, got %v", c.UVDecay)
	case c.Mu2 < 0 || math.IsNaN(c.Mu2) || math.IsInf(c.Mu2, 0):
		return fmt.Errorf("sampling: the diffusion mass mu2 must be finite and > 0 (0: default), got %v", c.Mu2)
	case c.IRCutoff < 0 || math.IsNaN(c.IRCutoff) || math.IsInf(c.IRCutoff, 0):
		return fmt.Errorf("sampling: the infrared cutoff must be finite and >= 0 (0: every mode), got %v", c.IRCutoff)
	case c.Levels < 1 || c.SplitLevel < 1 || c.Pretrain < 1 || c.TrainSamples < 1 || c.Chains < 1:
		return errors.New("sampling: levels, split level, pre-training samples, training samples and chains must be >= 1")
	case c.Samples < MinSamples:
		return fmt.Errorf("sampling: need at least %d samples per chain, got %d", MinSamples, c.Samples)
	case c.HMCPerMove < 0 || c.TrainPhases < 0:
		return errors.New("sampling: HMC trajectories per bridge move and training phases must be >= 0")
	case c.Warmup < None || c.TrainSteps < None:
		return fmt.Errorf("sampling: warm-up and training steps must be >= 0, or None (%d)", None)
	case c.Flip != None && (c.Flip < 0 || c.Flip > 1 || math.IsNaN(c.Flip)):
		return fmt.Errorf("sampling: the flip probability must be in [0, 1] or None, got %v", c.Flip)
	case c.Dim == 3 && (!(c.Eps > 0) || math.IsInf(c.Eps, 0) || c.Lt < 0):
		return fmt.Errorf("sampling: the path integral needs eps > 0 and Lt >= 0 (0: L), got %v and %d", c.Eps, c.Lt)
	}
	if c.IRCutoff > 0 && c.Reverse == rgsampler.EulerReverse {
		return errors.New("sampling: the infrared bridge uses the posterior reverse kernel")
	}
	if c.IRCutoff > 0 && c.Score != ScoreGaussian && c.Score != ScoreDenoised {
		return fmt.Errorf("sampling: the infrared bridge needs the %s or %s score (the learned score trains every mode), got %q", ScoreGaussian, ScoreDenoised, c.Score)
	}
	for _, L := range c.Sizes {
		if L < 1 {
			return fmt.Errorf("sampling: lattice sides must be >= 1, got %d", L)
		}
	}
	return nil
}

// flipProb is the flip probability in the convention of the rgsampler configs, where 0 means
// their default and a negative value none.
func (c Config) flipProb() float64 {
	if c.Flip == None || c.Flip == 0 {
		return -1
	}
	return c.Flip
}
