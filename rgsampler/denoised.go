package rgsampler

import (
	"fmt"
	"math"

	"vqs/internal/latfft"
)

// denoisedScore approximates the score of every level from the target's own gradient.
type denoisedScore struct {
	target Target
	dims   []int
	iters  int
	// Per-mode tables on the half spectrum (shared between clones); cov is per full mode.
	invC0  []float64   // 1/c0
	wiener [][]float64 // per level: a c0 / D, D = a^2 c0 + v
	post   [][]float64 // per level: c0 v / D, the reference posterior covariance
	invD   [][]float64 // per level: 1/D
	cov    [][]float64 // per level: D
	plan   *latfft.Plan
	pk     []complex128
	xk     []complex128
	rk     []complex128
	x      []float64
	g      []float64
}

// DenoisedScore returns an approximate score of every level of d built from the target's exact
// gradient: the first-order (Laplace) expansion of p_i around a Gaussian reference. With
// log p_0 = log N(0, c0) + r and the forward marginal phi_i = a x + sqrt(v) xi, the posterior of
// x given phi_i is N(xhat, Sigma) exp(r(x)) with xhat = (a c0/D) phi_i (the Wiener filter),
// Sigma = c0 v/D and D = a^2 c0 + v per mode. Linearising r at the posterior mean and using
// Tweedie's formula s_i(phi) = (a E[x|phi] - phi)/v gives
//
//	s_i(phi) = ( -phi + a c0 grad r(x*) ) / D,   grad r(x) = grad log p_0(x) + x/c0 (per mode),
//
// with x* = xhat, refined by iters fixed-point steps x* <- xhat + Sigma grad r(x*). It is the
// exact score at level 0 (a = 1, v = 0), for a Gaussian target of covariance c0 at every level,
// and tends to the target's own score as t -> 0, which is where learned scores are worst and
// the bridge's acceptance is lost. At deep levels, where Sigma is no longer small against the
// curvature of r, it falls back towards the Gaussian reference score. The fixed-point steps
// converge only where Sigma |hess r| < 1 (shallow levels); keep iters small (0 or 1).
// It implements Covariancer with the reference level covariances, and SpectralScore: from the
// field's spectrum it costs 2(iters+1) transforms and one target gradient per iteration.
func DenoisedScore(target Target, d *Diffusion, c0 []float64, iters int) (Score, error) {
	n := d.Sites()
	if len(c0) != n {
		return nil, fmt.Errorf("DenoisedScore: c0 has %d modes, lattice has %d", len(c0), n)
	}
	if iters < 0 {
		return nil, fmt.Errorf("DenoisedScore: iterations must be >= 0, got %d", iters)
	}
	s := &denoisedScore{target: target, dims: d.Dims(), iters: iters}
	ic := make([]float64, n)
	for k, c := range c0 {
		if !(c > 0) || math.IsInf(c, 0) {
			return nil, fmt.Errorf("DenoisedScore: covariance must be finite and > 0, mode %d has %v", k, c)
		}
		ic[k] = 1 / c
	}
	s.invC0 = d.half(nil, ic)
	for i := 0; i < d.Levels(); i++ {
		a, v := d.Marginal(i)
		w, p, id, cv := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for k := range a {
			D := a[k]*a[k]*c0[k] + v[k]
			w[k], p[k], id[k], cv[k] = a[k]*c0[k]/D, c0[k]*v[k]/D, 1/D, D
		}
		s.wiener, s.post = append(s.wiener, d.half(nil, w)), append(s.post, d.half(nil, p))
		s.invD, s.cov = append(s.invD, d.half(nil, id)), append(s.cov, cv)
	}
	return s, s.alloc()
}

func (s *denoisedScore) alloc() error {
	f, err := latfft.NewBoxPlan(s.dims)
	if err != nil {
		return err
	}
	n, h := f.N, f.HalfModes()
	s.plan, s.pk, s.xk, s.rk = f, make([]complex128, h), make([]complex128, h), make([]complex128, h)
	s.x, s.g = make([]float64, n), make([]float64, n)
	return nil
}

func (s *denoisedScore) Eval(dst, phi []float64, level int) {
	s.plan.ForwardHalf(s.pk, phi)
	s.spectrum(s.pk, s.pk, level)
	s.plan.InverseHalf(dst, s.pk)
}

func (s *denoisedScore) NeedsField(int) bool { return false }

func (s *denoisedScore) EvalSpectrum(dst []complex128, _ []float64, phiK []complex128, level int) {
	s.spectrum(dst, phiK, level)
}

// spectrum writes the score's half spectrum at level for the field's half spectrum pk into dst,
// which may be pk itself.
func (s *denoisedScore) spectrum(dst, pk []complex128, level int) {
	w, post, invD := s.wiener[level], s.post[level], s.invD[level]
	for h, c := range pk {
		s.xk[h] = c * complex(w[h], 0)
	}
	for it := 0; ; it++ {
		s.plan.InverseHalf(s.x, s.xk)
		s.target.Grad(s.g, s.x)
		s.plan.ForwardHalf(s.rk, s.g)
		for h, c := range s.xk {
			s.rk[h] += c * complex(s.invC0[h], 0) // grad r = grad log p_0 + x/c0
		}
		if it == s.iters {
			break
		}
		for h, c := range pk {
			s.xk[h] = c*complex(w[h], 0) + s.rk[h]*complex(post[h], 0)
		}
	}
	for h, c := range pk {
		dst[h] = s.rk[h]*complex(w[h], 0) - c*complex(invD[h], 0) // w = a c0/D
	}
}

func (s *denoisedScore) Clone() Score {
	c := *s
	_ = c.alloc() // dims were validated when s was built
	return &c
}

func (s *denoisedScore) Covariance(level int) []float64 { return s.cov[level] }

// splitScore uses one score for the shallow levels and another for the deep ones.
type splitScore struct {
	shallow, deep Score
	cut           int
}

// spectralSplit is a splitScore whose parts are both SpectralScores.
type spectralSplit struct{ splitScore }

// SplitScore returns the score that evaluates shallow at levels below cut and deep at levels
// cut and above: for example DenoisedScore where the target's own gradient is accurate (small
// RG times) and a learned score where the field is coarse-grained. It implements Covariancer
// when both parts do, and SpectralScore when both parts do.
func SplitScore(shallow, deep Score, cut int) Score {
	s := splitScore{shallow: shallow, deep: deep, cut: cut}
	_, ok1 := shallow.(SpectralScore)
	_, ok2 := deep.(SpectralScore)
	if ok1 && ok2 {
		return &spectralSplit{s}
	}
	return &s
}

func (s *splitScore) part(level int) Score {
	if level < s.cut {
		return s.shallow
	}
	return s.deep
}

func (s *splitScore) Eval(dst, phi []float64, level int) { s.part(level).Eval(dst, phi, level) }

func (s *splitScore) Clone() Score {
	return SplitScore(s.shallow.Clone(), s.deep.Clone(), s.cut)
}

// Covariance returns the part's level covariance; nil when that part has none.
func (s *splitScore) Covariance(level int) []float64 {
	if c, ok := s.part(level).(Covariancer); ok {
		return c.Covariance(level)
	}
	return nil
}

func (s *spectralSplit) NeedsField(level int) bool {
	return s.part(level).(SpectralScore).NeedsField(level)
}

func (s *spectralSplit) EvalSpectrum(dst []complex128, phi []float64, phiK []complex128, level int) {
	s.part(level).(SpectralScore).EvalSpectrum(dst, phi, phiK, level)
}
