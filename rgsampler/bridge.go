package rgsampler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"vqs/internal/latfft"
)

// Reverse selects the Gaussian reverse kernel r(phi_i | phi_{i+1}) of the bridge.
type Reverse int

const (
	// PosteriorReverse: the posterior of the exact forward step phi_{i+1} = a phi_i + sqrt(v) xi
	// (per mode) for a Gaussian p_i of covariance C_i: mean (phi_{i+1} + v s_{i+1}(phi_{i+1}))/a,
	// which is exact for any p_i (Tweedie), and variance (1/C_i + a^2/v)^-1. With the exact score
	// of a Gaussian target it is the exact reverse kernel, so every proposal is accepted.
	PosteriorReverse Reverse = iota
	// EulerReverse: one Euler-Maruyama step of the reverse SDE from t_{i+1} back to t_i with
	// h = t_{i+1} - t_i: mean phi + h (A phi + 2 B s_{i+1}(phi)), variance 2 B h, with A and B
	// at t_{i+1}. Exact only as the steps shrink.
	EulerReverse
)

// String returns the name used on the command line.
func (r Reverse) String() string {
	if r == EulerReverse {
		return "euler"
	}
	return "posterior"
}

// BridgeConfig sets up a bridge chain. Zero values take the defaults.
type BridgeConfig struct {
	Reverse Reverse
	// Depths is the depth schedule, cycled in order: a move at depth j (1..K) keeps phi_j and
	// regenerates phi_0..phi_{j-1}. nil: 1, 2, ..., K. Every depth is a valid move on its own
	// (each preserves the joint law), so any schedule is exact; deep moves change the IR modes,
	// shallow ones only the UV and are accepted more often.
	Depths []int
	// Reference is the per-mode covariance c0 of a Gaussian approximation of level 0, which
	// the posterior kernel needs for C_i = a_i^2 c0 + v_i. nil: the score's own (it must then
	// implement Covariancer) for PosteriorReverse; unused by EulerReverse.
	Reference []float64
	// FlipProb is the probability per move of also proposing phi -> -phi, accepted with the
	// exact ratio p(-phi)/p(phi) (default 0; negative disables it).
	FlipProb float64
	// MovesPerSample is the number of bridge moves between returned samples (default 1).
	MovesPerSample int
	// Kernels are reverse kernels to share with other chains (NewReverseKernels, or another
	// chain's Kernels), of this diffusion and Reverse; they replace Reference. nil: the chain
	// builds its own from the score and Reference.
	Kernels *ReverseKernels
}

// DepthAcceptance is the acceptance record of one depth.
type DepthAcceptance struct {
	Depth    int
	Tries    int
	Accepted int
	MeanProb float64 // mean Metropolis-Hastings acceptance probability min(1, ratio)
	// LogRatioMean and LogRatioSD are the mean and standard deviation of the log
	// Metropolis-Hastings ratio over the tries (finite ones only). For the exact reverse kernels
	// both vanish; their growth from depth j to j+1 is the kernel mismatch that level j adds, so
	// they show which levels lose the acceptance.
	LogRatioMean, LogRatioSD float64
}

// minSNR is the signal-to-noise ratio a^2 C_i / v of a mode below which the posterior reverse
// kernel ignores the score in that mode (see NewReverseKernels).
const minSNR = 1e-6

// revKernel is the Gaussian reverse kernel from level i+1 to level i, per mode of the half
// spectrum: mean alpha phi_{i+1} + beta score_{i+1}, standard deviation sd, and the inverse
// variance times the mode's multiplicity over N (invcW), the weight of its log density.
type revKernel struct {
	alpha, beta, sd, invcW []float64
}

// ReverseKernels are the Gaussian reverse kernels r(phi_i | phi_{i+1}) of a bridge, one per
// level: they depend only on the diffusion, the kind of kernel and the level covariances (a
// reference c0 or the score's own), not on the chain. They are immutable, so chains that use the
// same score family share one set instead of each building its own.
type ReverseKernels struct {
	d         *Diffusion
	kind      Reverse
	reference []float64
	rev       []revKernel
}

// NewReverseKernels builds the reverse kernels of kind on d. The posterior kernel takes its
// level covariances C_i = a_i^2 c0 + v_i from reference (the per-mode covariance c0 of a
// Gaussian approximation of level 0) or, when reference is nil, from score (which must then
// implement Covariancer); the Euler kernel uses neither. reference is copied.
func NewReverseKernels(d *Diffusion, kind Reverse, reference []float64, score Score) (*ReverseKernels, error) {
	n := d.Sites()
	if reference != nil && len(reference) != n {
		return nil, fmt.Errorf("bridge: reference covariance has %d modes, lattice has %d", len(reference), n)
	}
	rk := &ReverseKernels{d: d, kind: kind}
	if reference != nil {
		rk.reference = append([]float64(nil), reference...)
	}
	ci := make([]float64, n)
	A, B := make([]float64, n), make([]float64, n)
	alpha, beta, invc, sd := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i := 0; i < d.Levels()-1; i++ {
		a, v := d.Step(i)
		switch kind {
		case PosteriorReverse:
			switch {
			case reference != nil:
				d.LevelCovariance(ci, reference, i)
			default:
				cv, ok := score.(Covariancer)
				if !ok || cv.Covariance(i) == nil {
					return nil, errors.New("bridge: the posterior reverse kernel needs a reference covariance or a score that implements Covariancer")
				}
				copy(ci, cv.Covariance(i))
			}
			for k := range a {
				if d.Frozen(k) {
					continue // set below
				}
				invc[k] = 1/ci[k] + a[k]*a[k]/v[k]
				if snr := a[k] * a[k] * ci[k] / v[k]; snr < minSNR {
					// phi_{i+1} carries almost no trace of this mode of phi_i, and the Tweedie
					// mean (phi + v s)/a would amplify rounding by 1/snr. Use the reference
					// posterior mean instead; the proposal stays a Gaussian with a computable
					// density, so the Metropolis-Hastings ratio stays exact.
					alpha[k] = a[k] * ci[k] / (a[k]*a[k]*ci[k] + v[k])
					beta[k] = 0
					continue
				}
				alpha[k] = 1 / a[k]
				beta[k] = v[k] / a[k]
			}
		case EulerReverse:
			h := d.Time(i+1) - d.Time(i)
			d.Drift(A, B, d.Time(i+1))
			for k := range a {
				alpha[k] = 1 + h*A[k]
				beta[k] = 2 * h * B[k]
				invc[k] = 1 / (2 * h * B[k])
			}
		default:
			return nil, fmt.Errorf("bridge: unknown reverse kernel %d", int(kind))
		}
		for k, ic := range invc {
			if d.Frozen(k) {
				// A frozen mode is copied from phi_{i+1}: a delta kernel, with no weight in the
				// log densities (it is the same on both sides of the ratio).
				alpha[k], beta[k], sd[k], invc[k] = 1, 0, 0, 0
				continue
			}
			if !(ic > 0) || math.IsInf(ic, 0) {
				return nil, fmt.Errorf("bridge: reverse kernel at level %d mode %d has inverse variance %v", i, k, ic)
			}
			sd[k] = 1 / math.Sqrt(ic)
		}
		rk.rev = append(rk.rev, revKernel{alpha: d.half(nil, alpha), beta: d.half(nil, beta),
			sd: d.half(nil, sd), invcW: d.weights(d.half(nil, invc))})
	}
	return rk, nil
}

// Bridge is one chain of the RG bridge sampler (docs/samplers.md) on the joint law
// p(phi_0) prod_i k(phi_{i+1} | phi_i) of the target and its RG diffusion, whose phi_0
// marginal is the target. A move at depth j refreshes phi_1..phi_j from the exact forward
// kernels (a Gibbs step), proposes phi'_{j-1}, ..., phi'_0 from the Gaussian reverse kernels
// started at phi_j, and accepts with the exact Metropolis-Hastings ratio of the joint:
//
//	p(phi'_0) prod_{i<j} k(phi'_{i+1}|phi'_i) r(phi_i|phi_{i+1})
//	------------------------------------------------------------ .
//	p(phi_0)  prod_{i<j} k(phi_{i+1}|phi_i)  r(phi'_i|phi'_{i+1})
//
// Levels above j cancel. The normalisations of k and r do not depend on the fields and cancel
// too. Any score gives exact results; a better one only raises the acceptance.
//
// Every kernel is diagonal in momentum, so the path lives in momentum space (half spectra):
// the noise is drawn there, and a field goes to real space only where the score needs it and
// for the target at phi'_0. A move at depth j evaluates the score 2j - 1 times and costs one
// inverse transform plus what those evaluations cost: nothing for GaussianScore (one transform
// per move in all), two transforms each for DenoisedScore and for a score that needs the field in
// real space (an inverse to get it, a forward for its result): 4j - 1 in all, against about 10j
// when every score went through real space and the noise was drawn there.
//
// A Bridge is not safe for concurrent use; give each chain its own Score (Score.Clone) and a
// Target that is safe for concurrent use or its own Target.
type Bridge struct {
	target Target
	d      *Diffusion
	score  Score
	spec   SpectralScore // score itself, or an adapter of a real-space score
	rk     *ReverseKernels
	cfg    BridgeConfig
	rng    *rand.Rand
	plan   *latfft.Plan
	n, K   int
	phi    []float64
	phiK   []complex128 // half spectrum of phi
	logp   float64
	path   [][]float64 // real-space fields, filled only where the score needs them
	pathF  [][]complex128
	prop   [][]float64
	propF  [][]complex128
	xiF    []complex128
	sF     []complex128
	sTop   []complex128 // score at phi_j, shared by the old and new paths
	flip   []float64
	tries  []int
	accs   []int
	probs  []float64
	lrSum  []float64 // per depth: sum and sum of squares of finite log ratios, and their count
	lrSq   []float64
	lrN    []int
	sched  int
}

// realSpaceScore adapts a Score that has only Eval: the field in real space in, the score's
// transform out.
type realSpaceScore struct {
	Score
	plan *latfft.Plan
	buf  []float64
}

func (r *realSpaceScore) NeedsField(int) bool { return true }

func (r *realSpaceScore) EvalSpectrum(dst []complex128, phi []float64, _ []complex128, level int) {
	r.Score.Eval(r.buf, phi, level)
	r.plan.ForwardHalf(dst, r.buf)
}

// NewBridge returns a bridge chain for target on d's lattice, with score driving the reverse
// kernels, started at init (copied; nil starts at phi = 0), with the random stream
// PCG(seed, stream).
func NewBridge(target Target, d *Diffusion, score Score, init []float64, cfg BridgeConfig, seed, stream uint64) (*Bridge, error) {
	if cfg.MovesPerSample == 0 {
		cfg.MovesPerSample = 1
	}
	if cfg.MovesPerSample < 0 {
		return nil, errors.New("bridge: moves per sample must be >= 1")
	}
	n, K := d.Sites(), d.Levels()-1
	if cfg.Depths == nil {
		for j := 1; j <= K; j++ {
			cfg.Depths = append(cfg.Depths, j)
		}
	}
	for _, j := range cfg.Depths {
		if j < 1 || j > K {
			return nil, fmt.Errorf("bridge: depth %d outside 1..%d", j, K)
		}
	}
	if len(cfg.Depths) == 0 {
		return nil, errors.New("bridge: empty depth schedule")
	}
	if init != nil && len(init) != n {
		return nil, fmt.Errorf("bridge: initial field has %d sites, lattice has %d", len(init), n)
	}
	cfg.Depths = append([]int(nil), cfg.Depths...)
	plan, err := latfft.NewBoxPlan(d.Dims())
	if err != nil {
		return nil, err
	}
	nh := plan.HalfModes()
	b := &Bridge{target: target, d: d, cfg: cfg, rng: rand.New(rand.NewPCG(seed, stream)), plan: plan,
		n: n, K: K, phi: make([]float64, n), phiK: make([]complex128, nh), xiF: make([]complex128, nh),
		sF: make([]complex128, nh), sTop: make([]complex128, nh), flip: make([]float64, n),
		tries: make([]int, K+1), accs: make([]int, K+1), probs: make([]float64, K+1),
		lrSum: make([]float64, K+1), lrSq: make([]float64, K+1), lrN: make([]int, K+1)}
	for i := 0; i <= K; i++ {
		b.path = append(b.path, make([]float64, n))
		b.prop = append(b.prop, make([]float64, n))
		b.pathF = append(b.pathF, make([]complex128, nh))
		b.propF = append(b.propF, make([]complex128, nh))
	}
	if cfg.Kernels != nil {
		err = b.SetKernels(score, cfg.Kernels)
	} else {
		err = b.SetScore(score)
	}
	if err != nil {
		return nil, err
	}
	b.cfg.Kernels = nil // the chain's kernels are b.rk from here on
	if init != nil {
		copy(b.phi, init)
	}
	b.plan.ForwardHalf(b.phiK, b.phi)
	if err := b.SetTarget(target); err != nil {
		return nil, err
	}
	return b, nil
}

// SetTarget replaces the target (for example a VMC wavefunction after a parameter update);
// the chain continues from its current field.
func (b *Bridge) SetTarget(t Target) error {
	lp := t.LogDensity(b.phi)
	if math.IsNaN(lp) || math.IsInf(lp, 1) {
		return fmt.Errorf("bridge: log density at the current field is %v", lp)
	}
	b.target, b.logp = t, lp
	return nil
}

// setState moves the chain to phi with log density logp (for Hybrid).
func (b *Bridge) setState(phi []float64, logp float64) {
	copy(b.phi, phi)
	b.plan.ForwardHalf(b.phiK, b.phi)
	b.logp = logp
}

// SetScore replaces the score (for example after training) and rebuilds the reverse kernels.
// The bridge uses s itself, not a clone.
func (b *Bridge) SetScore(s Score) error {
	rk, err := NewReverseKernels(b.d, b.cfg.Reverse, b.cfg.Reference, s)
	if err != nil {
		return err
	}
	b.setScore(s)
	b.cfg.Reference, b.rk = rk.reference, rk
	return nil
}

func (b *Bridge) setScore(s Score) {
	b.score = s
	if sp, ok := s.(SpectralScore); ok {
		b.spec = sp
		return
	}
	b.spec = &realSpaceScore{Score: s, plan: b.plan, buf: make([]float64, b.n)}
}

// SetReference replaces the level-0 reference covariance of the posterior kernel.
func (b *Bridge) SetReference(c0 []float64) error {
	rk, err := NewReverseKernels(b.d, b.cfg.Reverse, c0, b.score)
	if err != nil {
		return err
	}
	b.cfg.Reference, b.rk = rk.reference, rk
	return nil
}

// SetKernels replaces the score and the reverse kernels together, without rebuilding the
// kernels: chains that sample with one score family share one ReverseKernels (which must be of
// this chain's diffusion and kind). The bridge uses s itself, not a clone.
func (b *Bridge) SetKernels(s Score, rk *ReverseKernels) error {
	if rk == nil || rk.d != b.d || rk.kind != b.cfg.Reverse {
		return errors.New("bridge: reverse kernels of another diffusion or kind")
	}
	b.setScore(s)
	b.cfg.Reference, b.rk = rk.reference, rk
	return nil
}

// Kernels returns the chain's reverse kernels (immutable; other chains may share them).
func (b *Bridge) Kernels() *ReverseKernels { return b.rk }

// State returns the current field phi_0 (shared; copy it to keep it).
func (b *Bridge) State() []float64 { return b.phi }

// Acceptance returns the acceptance record of every depth that has been tried, cumulative
// since the last ResetCounts.
func (b *Bridge) Acceptance() []DepthAcceptance {
	var out []DepthAcceptance
	for j := 1; j <= b.K; j++ {
		if b.tries[j] > 0 {
			da := DepthAcceptance{Depth: j, Tries: b.tries[j], Accepted: b.accs[j],
				MeanProb: b.probs[j] / float64(b.tries[j]), LogRatioMean: math.NaN(), LogRatioSD: math.NaN()}
			if n := float64(b.lrN[j]); n > 0 {
				da.LogRatioMean = b.lrSum[j] / n
				da.LogRatioSD = math.Sqrt(math.Max(0, b.lrSq[j]/n-da.LogRatioMean*da.LogRatioMean))
			}
			out = append(out, da)
		}
	}
	return out
}

// ResetCounts clears the acceptance record.
func (b *Bridge) ResetCounts() {
	for j := range b.tries {
		b.tries[j], b.accs[j], b.probs[j] = 0, 0, 0
		b.lrSum[j], b.lrSq[j], b.lrN[j] = 0, 0, 0
	}
}

// scoreAt writes the score's half spectrum at level for the field with half spectrum phiK into
// dst, first bringing the field to real space (into phi) when the score needs it there.
func (b *Bridge) scoreAt(dst []complex128, phi []float64, phiK []complex128, level int) {
	if b.spec.NeedsField(level) {
		b.plan.InverseHalf(phi, phiK)
		b.spec.EvalSpectrum(dst, phi, phiK, level)
		return
	}
	b.spec.EvalSpectrum(dst, nil, phiK, level)
}

// fwdLog returns log k(hi | lo) for the forward step from level i, up to a constant.
func (b *Bridge) fwdLog(hi, lo []complex128, i int) float64 {
	a, w := b.d.halfA[i], b.d.halfInvVW[i]
	lo, a, w = lo[:len(hi)], a[:len(hi)], w[:len(hi)]
	s := 0.0
	for h, c := range hi {
		d := c - complex(a[h], 0)*lo[h]
		s += w[h] * (real(d)*real(d) + imag(d)*imag(d))
	}
	return -0.5 * s
}

// revLog returns log r(lo | hi) for the reverse step to level i with score sF at hi, up to a
// constant.
func (b *Bridge) revLog(lo, hi, sF []complex128, i int) float64 {
	r := b.rk.rev[i]
	hi, sF = hi[:len(lo)], sF[:len(lo)]
	alpha, beta, w := r.alpha[:len(lo)], r.beta[:len(lo)], r.invcW[:len(lo)]
	s := 0.0
	for h, c := range lo {
		d := c - complex(alpha[h], 0)*hi[h] - complex(beta[h], 0)*sF[h]
		s += w[h] * (real(d)*real(d) + imag(d)*imag(d))
	}
	return -0.5 * s
}

// move does one bridge move at depth j and returns its acceptance probability.
func (b *Bridge) move(j int) float64 {
	// Gibbs refresh of phi_1..phi_j from the forward kernels.
	copy(b.pathF[0], b.phiK)
	logKOld := 0.0
	for i := 0; i < j; i++ {
		a, sv := b.d.halfA[i], b.d.halfSqrtV[i]
		b.plan.WhiteNoise(b.xiF, b.rng)
		lo, hi := b.pathF[i], b.pathF[i+1]
		for h := range hi {
			hi[h] = complex(a[h], 0)*lo[h] + complex(sv[h], 0)*b.xiF[h]
		}
		logKOld += b.fwdLog(hi, lo, i)
	}
	// Reverse density of the current path.
	logROld := 0.0
	for i := j - 1; i >= 0; i-- {
		dst := b.sF
		if i == j-1 {
			dst = b.sTop
		}
		b.scoreAt(dst, b.path[i+1], b.pathF[i+1], i+1)
		logROld += b.revLog(b.pathF[i], b.pathF[i+1], dst, i)
	}
	// Proposal from the reverse kernels started at phi_j.
	copy(b.propF[j], b.pathF[j])
	logRNew, logKNew := 0.0, 0.0
	for i := j - 1; i >= 0; i-- {
		sF := b.sTop
		if i < j-1 {
			sF = b.sF
			b.scoreAt(sF, b.prop[i+1], b.propF[i+1], i+1)
		}
		r := b.rk.rev[i]
		b.plan.WhiteNoise(b.xiF, b.rng)
		lo, hi := b.propF[i], b.propF[i+1]
		for h := range lo {
			lo[h] = complex(r.alpha[h], 0)*hi[h] + complex(r.beta[h], 0)*sF[h] + complex(r.sd[h], 0)*b.xiF[h]
		}
		logRNew += b.revLog(lo, hi, sF, i)
		logKNew += b.fwdLog(hi, lo, i)
	}
	b.plan.InverseHalf(b.prop[0], b.propF[0])
	lp := b.target.LogDensity(b.prop[0])
	logRatio := (lp - b.logp) + (logKNew - logKOld) + (logROld - logRNew)
	acc := 0.0
	if !math.IsNaN(logRatio) {
		acc = math.Min(1, math.Exp(logRatio))
	}
	b.tries[j]++
	b.probs[j] += acc
	if !math.IsNaN(logRatio) && !math.IsInf(logRatio, 0) {
		b.lrSum[j] += logRatio
		b.lrSq[j] += logRatio * logRatio
		b.lrN[j]++
	}
	if b.rng.Float64() < acc {
		b.accs[j]++
		copy(b.phi, b.prop[0])
		copy(b.phiK, b.propF[0])
		b.logp = lp
	}
	if b.cfg.FlipProb > 0 && b.rng.Float64() < b.cfg.FlipProb {
		for i, v := range b.phi {
			b.flip[i] = -v
		}
		lp := b.target.LogDensity(b.flip)
		if b.rng.Float64() < math.Exp(lp-b.logp) {
			b.phi, b.flip = b.flip, b.phi
			for h, c := range b.phiK {
				b.phiK[h] = -c
			}
			b.logp = lp
		}
	}
	return acc
}

// Sample fills out[0..n-1] (caller-owned, each of length N) with successive states phi_0,
// cfg.MovesPerSample moves apart, and returns the mean acceptance probability of the moves
// run. This is the entry point for VMC: wrap 2 log Psi as the Target and pass the ansatz's
// Gaussian kernel as GaussianScore(d, 1/(2g)). On cancellation it stops between samples and
// returns ctx.Err(); slots not yet reached are left as they were.
func (b *Bridge) Sample(ctx context.Context, n int, out [][]float64) (float64, error) {
	if len(out) < n {
		return 0, fmt.Errorf("bridge: %d samples requested, %d slots given", n, len(out))
	}
	sum, cnt := 0.0, 0
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			return ratio(sum, cnt), ctx.Err()
		}
		for m := 0; m < b.cfg.MovesPerSample; m++ {
			j := b.cfg.Depths[b.sched]
			b.sched = (b.sched + 1) % len(b.cfg.Depths)
			sum += b.move(j)
			cnt++
		}
		if len(out[i]) != b.n {
			return ratio(sum, cnt), fmt.Errorf("bridge: sample slot %d has length %d, want %d", i, len(out[i]), b.n)
		}
		copy(out[i], b.phi)
	}
	return ratio(sum, cnt), nil
}

// PoolAcceptance sums the acceptance records of several chains per depth, in the order the
// depths first appear: tries and acceptances add, the mean probability and the log-ratio
// moments are weighted by the tries (the log-ratio ones over chains where they are known).
func PoolAcceptance(chains ...[]DepthAcceptance) []DepthAcceptance {
	type sums struct {
		da            DepthAcceptance
		prob          float64
		lrS, lrQ, lrW float64
	}
	byDepth := map[int]*sums{}
	var order []int
	for _, ch := range chains {
		for _, a := range ch {
			s, ok := byDepth[a.Depth]
			if !ok {
				s = &sums{da: DepthAcceptance{Depth: a.Depth}}
				byDepth[a.Depth] = s
				order = append(order, a.Depth)
			}
			w := float64(a.Tries)
			s.da.Tries += a.Tries
			s.da.Accepted += a.Accepted
			s.prob += w * a.MeanProb
			if !math.IsNaN(a.LogRatioMean) && !math.IsNaN(a.LogRatioSD) {
				s.lrS += w * a.LogRatioMean
				s.lrQ += w * (a.LogRatioSD*a.LogRatioSD + a.LogRatioMean*a.LogRatioMean)
				s.lrW += w
			}
		}
	}
	out := make([]DepthAcceptance, 0, len(order))
	for _, j := range order {
		s := byDepth[j]
		s.da.MeanProb = ratio(s.prob, s.da.Tries)
		s.da.LogRatioMean, s.da.LogRatioSD = math.NaN(), math.NaN()
		if s.lrW > 0 {
			m := s.lrS / s.lrW
			s.da.LogRatioMean = m
			s.da.LogRatioSD = math.Sqrt(math.Max(0, s.lrQ/s.lrW-m*m))
		}
		out = append(out, s.da)
	}
	return out
}
