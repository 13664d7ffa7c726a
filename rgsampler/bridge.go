package rgsampler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
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
// kernel ignores the score in that mode (see buildReverse).
const minSNR = 1e-6

// revKernel is the Gaussian reverse kernel from level i+1 to level i, per mode:
// mean alpha phi_{i+1} + beta score_{i+1}, standard deviation sd, inverse variance invc.
type revKernel struct {
	alpha, beta, sd, invc []float64
}

// Bridge is one chain of the RG bridge sampler (DESIGN.md section 6) on the joint law
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
// A Bridge is not safe for concurrent use; give each chain its own Score (Score.Clone) and a
// Target that is safe for concurrent use or its own Target.
type Bridge struct {
	target Target
	d      *Diffusion
	score  Score
	cfg    BridgeConfig
	rng    *rand.Rand
	fft    *FFT
	n, K   int
	rev    []revKernel
	sqrtV  [][]float64 // forward step: sqrt(v) and 1/v per level
	invV   [][]float64
	phi    []float64
	logp   float64
	path   [][]float64
	pathF  [][]complex128
	prop   [][]float64
	propF  [][]complex128
	xi     []float64
	xiF    []complex128
	s      []float64
	sF     []complex128
	sTop   []complex128 // score at phi_j, shared by the old and new paths
	diff   []complex128
	flip   []float64
	tries  []int
	accs   []int
	probs  []float64
	lrSum  []float64 // per depth: sum and sum of squares of finite log ratios, and their count
	lrSq   []float64
	lrN    []int
	sched  int
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
	fft, err := NewFFT(d.Dims())
	if err != nil {
		return nil, err
	}
	b := &Bridge{target: target, d: d, cfg: cfg, rng: rand.New(rand.NewPCG(seed, stream)), fft: fft,
		n: n, K: K, phi: make([]float64, n), xi: make([]float64, n), xiF: make([]complex128, n),
		s: make([]float64, n), sF: make([]complex128, n), sTop: make([]complex128, n),
		diff: make([]complex128, n), flip: make([]float64, n),
		tries: make([]int, K+1), accs: make([]int, K+1), probs: make([]float64, K+1),
		lrSum: make([]float64, K+1), lrSq: make([]float64, K+1), lrN: make([]int, K+1)}
	for i := 0; i <= K; i++ {
		b.path = append(b.path, make([]float64, n))
		b.prop = append(b.prop, make([]float64, n))
		b.pathF = append(b.pathF, make([]complex128, n))
		b.propF = append(b.propF, make([]complex128, n))
		if i < K {
			_, v := d.Step(i)
			sv, iv := make([]float64, n), make([]float64, n)
			for k := range v {
				sv[k], iv[k] = math.Sqrt(v[k]), 1/v[k]
			}
			b.sqrtV, b.invV = append(b.sqrtV, sv), append(b.invV, iv)
		}
	}
	if err := b.SetScore(score); err != nil {
		return nil, err
	}
	if init != nil {
		copy(b.phi, init)
	}
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

// SetScore replaces the score (for example after training) and rebuilds the reverse kernels.
// The bridge uses s itself, not a clone.
func (b *Bridge) SetScore(s Score) error {
	b.score = s
	return b.buildReverse()
}

// SetReference replaces the level-0 reference covariance of the posterior kernel.
func (b *Bridge) SetReference(c0 []float64) error {
	if c0 != nil && len(c0) != b.n {
		return fmt.Errorf("bridge: reference covariance has %d modes, lattice has %d", len(c0), b.n)
	}
	b.cfg.Reference = append([]float64(nil), c0...)
	return b.buildReverse()
}

func (b *Bridge) buildReverse() error {
	d, n := b.d, b.n
	b.rev = b.rev[:0]
	ci := make([]float64, n)
	A, B := make([]float64, n), make([]float64, n)
	for i := 0; i < b.K; i++ {
		r := revKernel{alpha: make([]float64, n), beta: make([]float64, n), sd: make([]float64, n), invc: make([]float64, n)}
		a, v := d.Step(i)
		switch b.cfg.Reverse {
		case PosteriorReverse:
			switch {
			case b.cfg.Reference != nil:
				d.LevelCovariance(ci, b.cfg.Reference, i)
			default:
				cv, ok := b.score.(Covariancer)
				if !ok {
					return errors.New("bridge: the posterior reverse kernel needs a reference covariance or a score that implements Covariancer")
				}
				copy(ci, cv.Covariance(i))
			}
			for k := range a {
				r.invc[k] = 1/ci[k] + a[k]*a[k]/v[k]
				if snr := a[k] * a[k] * ci[k] / v[k]; snr < minSNR {
					// phi_{i+1} carries almost no trace of this mode of phi_i, and the Tweedie
					// mean (phi + v s)/a would amplify rounding by 1/snr. Use the reference
					// posterior mean instead; the proposal stays a Gaussian with a computable
					// density, so the Metropolis-Hastings ratio stays exact.
					r.alpha[k] = a[k] * ci[k] / (a[k]*a[k]*ci[k] + v[k])
					r.beta[k] = 0
					continue
				}
				r.alpha[k] = 1 / a[k]
				r.beta[k] = v[k] / a[k]
			}
		case EulerReverse:
			h := d.Time(i+1) - d.Time(i)
			d.Drift(A, B, d.Time(i+1))
			for k := range a {
				r.alpha[k] = 1 + h*A[k]
				r.beta[k] = 2 * h * B[k]
				r.invc[k] = 1 / (2 * h * B[k])
			}
		default:
			return fmt.Errorf("bridge: unknown reverse kernel %d", int(b.cfg.Reverse))
		}
		for k, ic := range r.invc {
			if !(ic > 0) || math.IsInf(ic, 0) {
				return fmt.Errorf("bridge: reverse kernel at level %d mode %d has inverse variance %v", i, k, ic)
			}
			r.sd[k] = 1 / math.Sqrt(ic)
		}
		b.rev = append(b.rev, r)
	}
	return nil
}

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

// noise fills b.xi with N(0,1) and b.xiF with its transform.
func (b *Bridge) noise() {
	for i := range b.xi {
		b.xi[i] = b.rng.NormFloat64()
	}
	b.fft.Forward(b.xiF, b.xi)
}

// scoreF writes the transform of the score at level of the real field phi into dst.
func (b *Bridge) scoreF(dst []complex128, phi []float64, level int) {
	b.score.Eval(b.s, phi, level)
	b.fft.Forward(dst, b.s)
}

// move does one bridge move at depth j and returns its acceptance probability.
func (b *Bridge) move(j int) float64 {
	fwdLog := func(hi, lo []complex128, i int) float64 {
		a, _ := b.d.Step(i)
		for k := range b.diff {
			b.diff[k] = hi[k] - complex(a[k], 0)*lo[k]
		}
		return -0.5 * modeNorm2(b.diff, b.invV[i])
	}
	revLog := func(lo, hi, sF []complex128, i int) float64 {
		r := b.rev[i]
		for k := range b.diff {
			b.diff[k] = lo[k] - complex(r.alpha[k], 0)*hi[k] - complex(r.beta[k], 0)*sF[k]
		}
		return -0.5 * modeNorm2(b.diff, r.invc)
	}
	// Gibbs refresh of phi_1..phi_j from the forward kernels.
	copy(b.path[0], b.phi)
	b.fft.Forward(b.pathF[0], b.phi)
	logKOld := 0.0
	for i := 0; i < j; i++ {
		a, _ := b.d.Step(i)
		b.noise()
		lo, hi := b.pathF[i], b.pathF[i+1]
		for k := range hi {
			hi[k] = complex(a[k], 0)*lo[k] + complex(b.sqrtV[i][k], 0)*b.xiF[k]
		}
		b.fft.Inverse(b.path[i+1], hi)
		logKOld += fwdLog(hi, lo, i)
	}
	// Reverse density of the current path.
	logROld := 0.0
	for i := j - 1; i >= 0; i-- {
		dst := b.sF
		if i == j-1 {
			dst = b.sTop
		}
		b.scoreF(dst, b.path[i+1], i+1)
		logROld += revLog(b.pathF[i], b.pathF[i+1], dst, i)
	}
	// Proposal from the reverse kernels started at phi_j.
	copy(b.prop[j], b.path[j])
	copy(b.propF[j], b.pathF[j])
	logRNew, logKNew := 0.0, 0.0
	for i := j - 1; i >= 0; i-- {
		sF := b.sTop
		if i < j-1 {
			sF = b.sF
			b.scoreF(sF, b.prop[i+1], i+1)
		}
		r := b.rev[i]
		b.noise()
		lo, hi := b.propF[i], b.propF[i+1]
		for k := range lo {
			lo[k] = complex(r.alpha[k], 0)*hi[k] + complex(r.beta[k], 0)*sF[k] + complex(r.sd[k], 0)*b.xiF[k]
		}
		b.fft.Inverse(b.prop[i], lo)
		logRNew += revLog(lo, hi, sF, i)
		logKNew += fwdLog(hi, lo, i)
	}
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
		b.logp = lp
	}
	if b.cfg.FlipProb > 0 && b.rng.Float64() < b.cfg.FlipProb {
		for i, v := range b.phi {
			b.flip[i] = -v
		}
		lp := b.target.LogDensity(b.flip)
		if b.rng.Float64() < math.Exp(lp-b.logp) {
			b.phi, b.flip = b.flip, b.phi
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
