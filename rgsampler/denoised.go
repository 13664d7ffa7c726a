package rgsampler

import (
	"fmt"
	"math"
)

// denoisedScore approximates the score of every RG level from the target's own gradient.
type denoisedScore struct {
	target Target
	dims   []int
	iters  int
	c0     []float64   // reference covariance per mode (shared)
	invC0  []float64   // 1/c0 (shared)
	wiener [][]float64 // per level: a c0 / D, D = a^2 c0 + v (shared)
	post   [][]float64 // per level: c0 v / D, the reference posterior covariance (shared)
	invD   [][]float64 // per level: 1/D (shared)
	cov    [][]float64 // per level: D (shared)
	fft    *FFT
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
// It implements Covariancer with the reference level covariances.
func DenoisedScore(target Target, d *Diffusion, c0 []float64, iters int) (Score, error) {
	n := d.Sites()
	if len(c0) != n {
		return nil, fmt.Errorf("DenoisedScore: c0 has %d modes, lattice has %d", len(c0), n)
	}
	if iters < 0 {
		return nil, fmt.Errorf("DenoisedScore: iterations must be >= 0, got %d", iters)
	}
	s := &denoisedScore{target: target, dims: d.Dims(), iters: iters, c0: append([]float64(nil), c0...),
		invC0: make([]float64, n)}
	for k, c := range c0 {
		if !(c > 0) || math.IsInf(c, 0) {
			return nil, fmt.Errorf("DenoisedScore: covariance must be finite and > 0, mode %d has %v", k, c)
		}
		s.invC0[k] = 1 / c
	}
	for i := 0; i < d.Levels(); i++ {
		a, v := d.Marginal(i)
		w, p, id, cv := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for k := range a {
			D := a[k]*a[k]*c0[k] + v[k]
			w[k], p[k], id[k], cv[k] = a[k]*c0[k]/D, c0[k]*v[k]/D, 1/D, D
		}
		s.wiener, s.post, s.invD, s.cov = append(s.wiener, w), append(s.post, p), append(s.invD, id), append(s.cov, cv)
	}
	return s, s.alloc()
}

func (s *denoisedScore) alloc() error {
	f, err := NewFFT(s.dims)
	if err != nil {
		return err
	}
	n := f.Sites()
	s.fft, s.pk, s.xk, s.rk = f, make([]complex128, n), make([]complex128, n), make([]complex128, n)
	s.x, s.g = make([]float64, n), make([]float64, n)
	return nil
}

func (s *denoisedScore) Eval(dst, phi []float64, level int) {
	w, post, invD := s.wiener[level], s.post[level], s.invD[level]
	s.fft.Forward(s.pk, phi)
	for k, c := range s.pk {
		s.xk[k] = c * complex(w[k], 0)
	}
	for it := 0; ; it++ {
		s.fft.Inverse(s.x, s.xk)
		s.target.Grad(s.g, s.x)
		s.fft.Forward(s.rk, s.g)
		for k, c := range s.xk {
			s.rk[k] += c * complex(s.invC0[k], 0) // grad r = grad log p_0 + x/c0
		}
		if it == s.iters {
			break
		}
		for k, c := range s.pk {
			s.xk[k] = c*complex(w[k], 0) + s.rk[k]*complex(post[k], 0)
		}
	}
	for k, c := range s.pk {
		s.rk[k] = s.rk[k]*complex(w[k], 0) - c*complex(invD[k], 0) // w = a c0/D
	}
	s.fft.Inverse(dst, s.rk)
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

// SplitScore returns the score that evaluates shallow at levels below cut and deep at levels
// cut and above: for example DenoisedScore where the target's own gradient is accurate (small
// RG times) and a learned score where the field is coarse-grained. It implements Covariancer
// when both parts do.
func SplitScore(shallow, deep Score, cut int) Score {
	return &splitScore{shallow: shallow, deep: deep, cut: cut}
}

func (s *splitScore) Eval(dst, phi []float64, level int) {
	if level < s.cut {
		s.shallow.Eval(dst, phi, level)
		return
	}
	s.deep.Eval(dst, phi, level)
}

func (s *splitScore) Clone() Score {
	return &splitScore{shallow: s.shallow.Clone(), deep: s.deep.Clone(), cut: s.cut}
}

// Covariance returns the part's level covariance; nil when that part has none.
func (s *splitScore) Covariance(level int) []float64 {
	part := s.deep
	if level < s.cut {
		part = s.shallow
	}
	if c, ok := part.(Covariancer); ok {
		return c.Covariance(level)
	}
	return nil
}
