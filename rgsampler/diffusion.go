package rgsampler

import (
	"errors"
	"fmt"
	"math"

	"vqs/hamiltonian"
	"vqs/internal/latfft"
)

// Scheme selects how the RG flow is written as a diffusion.
type Scheme int

const (
	// HeatScheme: d phi_t(p) = -A(p) phi_t dt + sqrt(2 B(p)) dW with A = p^2 + mu^2, B = 1, an
	// Ornstein-Uhlenbeck process per mode whose stationary law is the free Gaussian of mass mu.
	HeatScheme Scheme = iota
	// PolchinskiScheme: the field at RG time t is the low-momentum field of Polchinski's flow
	// with the regulated propagator C_t(p) = exp(-(p^2 + mu^2) t)/(p^2 + mu^2), that is a smooth
	// cutoff K((p^2+mu^2)/Lambda^2) with K(z) = exp(-z) and t = 1/Lambda^2.
	//
	// Derivation. Polchinski's equation says exp(-S_int,t) is exp(-S_int,0) smeared with the
	// Gaussian of covariance C_0 - C_t. Writing the full field as psi = phi + chi with phi ~
	// N(0, C_t) and chi ~ N(0, C_0 - C_t), the joint law of (phi, psi) is p_0(psi) times the
	// Gaussian conditional of phi given psi, so the flowed law is the marginal of the per-mode
	// transition phi_t = a psi + sqrt(v) xi with a = C_t/C_0 and v = C_t (1 - C_t/C_0). Between
	// times s < t the same holds with C_s in place of C_0 (and the transitions compose). As an
	// SDE d phi = -A phi dt + sqrt(2B) dW this is A = -d log C_t/dt and B = -(1/2) dC_t/dt, here
	// A = p^2 + mu^2 (as in the heat scheme) and B = exp(-(p^2 + mu^2) t)/2: the noise switches
	// off as modes are integrated out, and the flowed field tends to the free Gaussian N(0, C_t)
	// which shrinks to zero. mu^2 sits inside the cutoff function so that the zero mode is also
	// integrated out; with exp(-p^2/Lambda^2) alone the zero mode would never move and a bridge
	// sampler could not change the magnetisation.
	PolchinskiScheme
)

// String returns the scheme's name as used on the command line.
func (s Scheme) String() string {
	switch s {
	case HeatScheme:
		return "heat"
	case PolchinskiScheme:
		return "polchinski"
	}
	return fmt.Sprintf("Scheme(%d)", int(s))
}

// ParseScheme returns the scheme named "heat" or "polchinski".
func ParseScheme(name string) (Scheme, error) {
	switch name {
	case "heat":
		return HeatScheme, nil
	case "polchinski":
		return PolchinskiScheme, nil
	}
	return 0, fmt.Errorf("unknown RG scheme %q (want heat or polchinski)", name)
}

// Diffusion is the RG flow written as a Gaussian diffusion that is diagonal in momentum, on a
// grid of RG times t_0 = 0 < t_1 < ... < t_K. Level 0 is the target; higher levels have their UV
// modes progressively replaced by noise. A Diffusion is immutable and safe for concurrent use.
type Diffusion struct {
	dims   []int
	n      int
	scheme Scheme
	mu2    float64
	times  []float64
	frozen []bool      // per mode: never diffused (NewInfraredDiffusion); nil: every mode moves
	aRate  []float64   // A(p) = p^2 + mu^2, per mode
	p2     []float64   // lattice momentum squared per mode
	stepA  [][]float64 // per level i < K: a of the transition i -> i+1
	stepV  [][]float64 // and its variance v
	margA  [][]float64 // per level i: a of the transition 0 -> i
	margV  [][]float64
	// The steps on the half spectrum, for the bridge: a, sqrt(v), and 1/v times the mode's
	// multiplicity over N, so that sum_h w_h |x_h|^2 is x^T K_{1/v} x.
	halfA, halfSqrtV, halfInvVW [][]float64
	tables                      *latfft.Plan // only its read-only tables are used
}

// DefaultTimes returns the default RG time grid with K steps for mass parameter mu2 on a
// lattice whose largest A(p) is aMax: GeometricTimes(K, 0.2, 3, mu2, aMax).
func DefaultTimes(K int, mu2, aMax float64) []float64 { return GeometricTimes(K, 0.2, 3, mu2, aMax) }

// GeometricTimes returns t_0 = 0, then K times spaced geometrically from uvDecay/aMax, where
// the fastest (UV) modes have decayed by exp(-uvDecay), to irDecay/mu2, where the slowest (zero)
// mode has decayed by exp(-irDecay). The bridge's acceptance in strongly interacting theories
// needs a small uvDecay: a reverse step loses acceptance like exp(-N x per-site error), and the
// per-site error of the first steps grows with their size.
func GeometricTimes(K int, uvDecay, irDecay, mu2, aMax float64) []float64 {
	t := make([]float64, K+1)
	if K < 1 {
		return t
	}
	lo, hi := uvDecay/aMax, irDecay/mu2
	if hi <= lo {
		hi = 10 * lo
	}
	if K == 1 {
		t[1] = hi
		return t
	}
	r := math.Pow(hi/lo, 1/float64(K-1))
	for i := 1; i <= K; i++ {
		t[i] = lo * math.Pow(r, float64(i-1))
	}
	return t
}

// NewDiffusion returns the diffusion on the periodic L^dim lattice. times must start at 0 and
// increase; nil gives DefaultTimes with 12 steps. mu2 > 0 is the IR mass of the flow.
func NewDiffusion(L, dim int, scheme Scheme, mu2 float64, times []float64) (*Diffusion, error) {
	if dim < 1 || dim > 4 {
		return nil, fmt.Errorf("dimension must be 1 to 4, got %d", dim)
	}
	dims := make([]int, dim)
	for i := range dims {
		dims[i] = L
	}
	return NewDiffusionBox(dims, scheme, mu2, times)
}

// NewDiffusionBox is NewDiffusion on a box with sides dims (axis 0 fastest), for example
// {L, L, Lt} for a Euclidean lattice with Lt time slices.
func NewDiffusionBox(dims []int, scheme Scheme, mu2 float64, times []float64) (*Diffusion, error) {
	return newDiffusion(dims, scheme, mu2, times, 0)
}

// NewInfraredDiffusion is NewDiffusionBox restricted to the infrared: only the modes whose
// integer momentum n (k_mu = 2 pi n_mu / L_mu, n_mu taken in -L_mu/2..L_mu/2) has |n| < cutoff
// diffuse; every other mode is frozen (a = 1, v = 0 at every step). A bridge on it regenerates
// the few infrared modes conditioned on the ultraviolet ones, which stay as they are. The
// Metropolis-Hastings ratio of such a move is a sum over the regenerated modes' kernel errors
// plus the target's change, so its spread grows with their number, not with the volume, and
// the slowest observables near criticality (|M|, chi) live there. cutoff 1 keeps the zero mode
// alone; 1.2 adds its 2 dim nearest neighbours and 1.5 the diagonal ones (9 modes in 2D). The
// ultraviolet is left to another chain (HMC in a Hybrid). When times is nil, the default grid
// spans the rates of the infrared modes only. Measured near the critical point of the 2D theory
// it does not pay: given the ultraviolet modes, which carry the local sign of the field, the
// infrared ones barely move, so such moves leave tau_int of |M| as HMC alone has it.
func NewInfraredDiffusion(dims []int, scheme Scheme, mu2 float64, times []float64, cutoff float64) (*Diffusion, error) {
	if !(cutoff > 0) || math.IsInf(cutoff, 0) {
		return nil, fmt.Errorf("the infrared cutoff must be finite and > 0, got %v", cutoff)
	}
	return newDiffusion(dims, scheme, mu2, times, cutoff)
}

// InfraredModes returns, per mode (indexed like sites), whether its integer momentum n has
// |n| < cutoff, the modes NewInfraredDiffusion lets diffuse.
func InfraredModes(dims []int, cutoff float64) []bool {
	n := 1
	for _, L := range dims {
		n *= L
	}
	in := make([]bool, n)
	for k := range in {
		r2, rest := 0, k
		for _, L := range dims {
			m := rest % L
			rest /= L
			if m > L/2 {
				m -= L
			}
			r2 += m * m
		}
		in[k] = float64(r2) < cutoff*cutoff
	}
	return in
}

func newDiffusion(dims []int, scheme Scheme, mu2 float64, times []float64, irCutoff float64) (*Diffusion, error) {
	n, err := boxSites(dims)
	if err != nil {
		return nil, err
	}
	var frozen []bool
	if irCutoff > 0 {
		frozen = InfraredModes(dims, irCutoff)
		for k := range frozen {
			frozen[k] = !frozen[k]
		}
	}
	if !(mu2 > 0) || math.IsInf(mu2, 0) {
		return nil, fmt.Errorf("the diffusion mass mu2 must be finite and > 0, got %v", mu2)
	}
	if scheme != HeatScheme && scheme != PolchinskiScheme {
		return nil, fmt.Errorf("unknown scheme %d", int(scheme))
	}
	p2 := hamiltonian.MomentumSquared(dims)
	aRate := make([]float64, n)
	aMax := 0.0
	for k, p := range p2 {
		aRate[k] = p + mu2
		if frozen == nil || !frozen[k] {
			aMax = max(aMax, aRate[k])
		}
	}
	if times == nil {
		times = DefaultTimes(12, mu2, aMax)
	}
	if len(times) < 2 || times[0] != 0 {
		return nil, errors.New("the RG time grid needs at least two times and must start at 0")
	}
	for i := 1; i < len(times); i++ {
		if !(times[i] > times[i-1]) || math.IsInf(times[i], 0) {
			return nil, fmt.Errorf("RG times must increase and be finite, got %v", times)
		}
	}
	tables, err := latfft.NewBoxPlan(dims)
	if err != nil {
		return nil, err
	}
	d := &Diffusion{dims: append([]int(nil), dims...), n: n, scheme: scheme, mu2: mu2,
		times: append([]float64(nil), times...), frozen: frozen, aRate: aRate, p2: p2, tables: tables}
	K := len(times) - 1
	for i := 0; i <= K; i++ {
		a, v := make([]float64, n), make([]float64, n)
		d.transition(a, v, 0, times[i])
		d.margA, d.margV = append(d.margA, a), append(d.margV, v)
		if i < K {
			a, v := make([]float64, n), make([]float64, n)
			d.transition(a, v, times[i], times[i+1])
			d.stepA, d.stepV = append(d.stepA, a), append(d.stepV, v)
			sv, iv := make([]float64, n), make([]float64, n)
			for k := range v {
				sv[k], iv[k] = math.Sqrt(v[k]), 1/v[k]
				if d.Frozen(k) {
					iv[k] = 0 // the forward kernel of a frozen mode is a delta: it adds nothing
				}
			}
			d.halfA = append(d.halfA, d.half(nil, a))
			d.halfSqrtV = append(d.halfSqrtV, d.half(nil, sv))
			d.halfInvVW = append(d.halfInvVW, d.weights(d.half(nil, iv)))
		}
	}
	return d, nil
}

// boxSites validates the sides of a box (1 to 4 axes) and returns its number of sites.
func boxSites(dims []int) (int, error) {
	if len(dims) > 4 {
		return 0, fmt.Errorf("a lattice needs 1 to 4 axes, got %d", len(dims))
	}
	return latfft.Sites(dims)
}

// half writes the even per-mode array c onto the half spectrum (see latfft.Plan.HalfKernel).
func (d *Diffusion) half(dst, c []float64) []float64 { return d.tables.HalfKernel(dst, c) }

// weights multiplies a half-spectrum weight by each mode's multiplicity over N, in place, so
// that sum_h w_h |x_h|^2 over a half spectrum x is the quadratic form of the real field.
func (d *Diffusion) weights(w []float64) []float64 {
	m, inv := d.tables.Multiplicity(), 1/float64(d.n)
	for h := range w {
		w[h] *= m[h] * inv
	}
	return w
}

// halfModes returns the length of a half spectrum.
func (d *Diffusion) halfModes() int { return d.tables.HalfModes() }

// transition writes the exact per-mode transition from RG time s to t >= s.
func (d *Diffusion) transition(a, v []float64, s, t float64) {
	for k, A := range d.aRate {
		if d.Frozen(k) {
			a[k], v[k] = 1, 0
			continue
		}
		h := t - s
		a[k] = math.Exp(-A * h)
		switch d.scheme {
		case HeatScheme:
			// OU with B = 1: v = (1 - a^2)/A, written with expm1 for small A h.
			v[k] = -math.Expm1(-2*A*h) / A
		case PolchinskiScheme:
			// v = C_t (1 - C_t/C_s) with C_t = exp(-A t)/A.
			v[k] = math.Exp(-A*t) / A * -math.Expm1(-A*h)
		}
	}
}

// Frozen reports whether mode k never diffuses (see NewInfraredDiffusion).
func (d *Diffusion) Frozen(k int) bool { return d.frozen != nil && d.frozen[k] }

// Infrared reports whether the diffusion is restricted to the infrared modes.
func (d *Diffusion) Infrared() bool { return d.frozen != nil }

// Dims returns the sides of the lattice (shared; do not modify).
func (d *Diffusion) Dims() []int { return d.dims }

// Sites returns the number of lattice sites N.
func (d *Diffusion) Sites() int { return d.n }

// Scheme returns the RG scheme.
func (d *Diffusion) Scheme() Scheme { return d.scheme }

// Mu2 returns the IR mass parameter of the flow.
func (d *Diffusion) Mu2() float64 { return d.mu2 }

// MomentumSquared returns p_k^2 per mode (shared; do not modify).
func (d *Diffusion) MomentumSquared() []float64 { return d.p2 }

// Levels returns the number of levels K+1.
func (d *Diffusion) Levels() int { return len(d.times) }

// Time returns the RG time of a level.
func (d *Diffusion) Time(level int) float64 { return d.times[level] }

// Times returns a copy of the time grid.
func (d *Diffusion) Times() []float64 { return append([]float64(nil), d.times...) }

// Step returns the exact transition level i -> i+1, per mode: phi_{i+1} = K_a phi_i +
// K_sqrt(v) xi, K_c the circulant with eigenvalues c, xi ~ N(0, I) in real space. The slices
// are shared; do not modify.
func (d *Diffusion) Step(level int) (a, v []float64) { return d.stepA[level], d.stepV[level] }

// Marginal returns the transition from level 0 to level i (the composition of the steps),
// shared; do not modify.
func (d *Diffusion) Marginal(level int) (a, v []float64) { return d.margA[level], d.margV[level] }

// Drift writes the SDE coefficients at RG time t: d phi = -A phi dt + sqrt(2B) dW per mode
// (A = B = 0 for a frozen mode).
func (d *Diffusion) Drift(A, B []float64, t float64) {
	for k, r := range d.aRate {
		if d.Frozen(k) {
			A[k], B[k] = 0, 0
			continue
		}
		A[k] = r
		switch d.scheme {
		case HeatScheme:
			B[k] = 1
		case PolchinskiScheme:
			B[k] = 0.5 * math.Exp(-r*t)
		}
	}
}

// LevelCovariance writes the per-mode covariance at level i of a Gaussian level-0 law with
// circulant covariance c0: a_i^2 c0 + v_i.
func (d *Diffusion) LevelCovariance(dst, c0 []float64, level int) {
	a, v := d.Marginal(level)
	for k := range dst {
		dst[k] = a[k]*a[k]*c0[k] + v[k]
	}
}
