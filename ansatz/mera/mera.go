// Package mera is the RG-structured, MERA-inspired variational wavefunctional for the lattice
// phi^4 Hamiltonian:
//
//	u(phi) = log Psi(phi) = -(1/2) sum_k g(k) |phi_k|^2 / N  +  sum_s F_s(z_s)  +  cat(mean)  -  wall(phi)
//
// # Why the RG-flowed field
//
// The local terms act on the field flowed to RG time t by the semigroup e^{-t w},
//
//	phi_t = e^{-t w} phi,   w(k) = sqrt(p_k^2 + M_ref^2),   p_k^2 = sum_mu 4 sin^2(k_mu/2),
//
// which is the field's harmonic extension into Euclidean time (continuous MERA): phi_t at large
// t keeps only the modes of momentum below about 1/t, smoothly and without the aliasing and
// anisotropy of block averages. The choice is not decoration. First-order perturbation theory in
// lambda around a Gaussian ground state of kernel Omega gives the correction to log Psi exactly as
//
//	delta log Psi = -(lambda/24) integral_0^inf dt sum_x [(e^{-t Omega} phi)_x]^4 + (a quadratic term),
//
// because (Omega phi) . grad applied to sum_x (phi_t)_x^4 is minus its t-derivative. So the exact
// first-order state is a sum over RG scales of a local quartic of the flowed field. The ansatz
// keeps that structure and lets every scale carry a small, general even function: a discrete
// ladder of RG times t_0 = 0 < t_1 < ... < t_S replaces the integral, and the optimiser finds the
// weights, signs and higher-order terms that perturbation theory cannot.
//
// The kernel e^{-t w} is positive in position space (w is the square root of the positive
// generator p^2 + M^2, so e^{-t w} is a mixture of heat kernels) with total weight e^{-t M_ref} <= 1.
//
// # The reference dispersion
//
// w is fixed when the ansatz is built: M_ref is the Hartree (Gaussian-variational) mass of the
// model unless Config.RefMass says otherwise. Every local coefficient is defined relative to the
// flowed fields of that w, so w must not change during an optimisation. It may be refreshed
// between runs: build a new Ansatz with RefMass set to a better mass (for example the gap
// measured in a finished run, when it is far from the Hartree mass) and optimise again from its
// start. The Gaussian kernel g(k) below is separate and variational throughout.
//
// # Gaussian kernel
//
//	g(k) = sqrt(A + B p_k^2) * exp(sum_b c_b band_b(k))
//
// with parameters log A, B and one band amplitude c_b per momentum octave. The bands are a smooth
// partition of unity in x = log2(p_max/|p|) (p_max = 2 sqrt(dim)): band_b = cos^2(pi/2 (x-b)) for
// |x-b| < 1, so band b peaks at |p| = 2^-b p_max; there are enough bands that the top one holds
// k = 0 alone. With c = 0, B = 1 and A = M^2 this is the Hartree kernel; at lambda = 0 with
// M^2 = m2 it is the exact free ground state.
//
// Samplers integrate a Gaussian part exactly and treat the rest as forces. Which quadratic form
// they get is a choice: Kernel returns the fixed reference w(k) whenever there are local terms,
// and g - w then counts among the local terms (GaussianKernel returns g). Near criticality the
// optimum softens g at small momenta and confines those modes by the quartic terms instead; a
// mass matrix that followed g there made leapfrog steps fail, while w keeps matching the
// state's fluctuations at every scale.
//
// # Local functions
//
// At rung s (RG time t_s) the input is the flowed field in units of its standard deviation under
// the reference Gaussian, z_s = phi_{t_s} / sigma_s, sigma_s^2 = (1/N) sum_k e^{-2 t_s w_k}/(2 w_k),
// so that every coefficient is of order one whatever the scale (phi_t itself shrinks like
// e^{-t M}). The same function is used at every position:
//
//	F_s = sum_x [ c4 z_x^4 + c6 z_x^6 + sum_mu ( n31 (z_x^3 z_y + z_x z_y^3) + n22 z_x^2 z_y^2 ) ]
//	    + sum_x sum_h a_h logcosh(w_h . patch_x),   y = x + e_mu,
//
// where patch_x holds z at x and its 2*dim nearest neighbours (slot 0 is x, slot 1+2mu is
// x+e_mu, slot 2+2mu is x-e_mu). The neighbour terms are symmetric in the bond, as the lattice's
// reflections require. Every term is even in phi.
//
// The cat unit acts on the mean field mbar = (1/N) sum_x phi_x in units of its Hartree standard
// deviation, y = mbar sqrt(2 w_0 N): cat = a logcosh(b y). Every ansatz with local terms
// (Scales != 0) has it. With Init "hartree" in the broken phase (Hartree VEV v > 0) it starts at
// a = 1, b = v sqrt(g(0) N/2), which makes Psi the symmetric cat exp(u_+) + exp(u_-) of the two
// Hartree Gaussians shifted by +-v, so the start is the Hartree bound up to the exponentially small
// overlap of the two peaks. Without local terms (Scales = 0) the broken-phase start is the best
// symmetric Gaussian (the v = 0 solution of the gap equation) instead.
//
// # Normalizability
//
// The coefficients are unconstrained: the optimum found near criticality has mixed signs across
// scales, and clipping signs after each step spoils the natural-gradient direction. Instead a
// fixed confining wall on the unsmoothed field, present whenever there are local terms,
//
//	wall(phi) = sum_x ((|phi_x| - R)/rho)^8  for |phi_x| > R,   rho = sqrt(Hartree <phi^2>), R = 8 rho,
//
// bounds everything else at large field: by Jensen's inequality (e^{-t w} is positive with weight
// <= 1) sum_x phi_t(x)^8 <= sum_x phi_x^8, so every polynomial of degree 6 in the flowed fields
// grows more slowly than the wall, and the logcosh units grow only linearly. Psi is thus
// normalizable for every parameter vector. The wall starts eight standard deviations out, where a
// Gaussian sample lands with probability about 1e-15 per site, so it costs nothing where the
// field lives and the exact free ground state is still in the family to that accuracy.
//
// # Derivatives
//
// The field gradient is one FFT per rung plus one (flowed fields by inverse transforms of
// e^{-t w} phi_k, the rungs' gradients back by forward transforms and one final inverse, two real
// fields per complex transform), so u, du/dphi, the exact Laplacian and every O = du/dtheta cost
// O(S N log N) per sample, with no automatic differentiation. The Laplacian needs only the
// overlaps C_s(r) = (1/N) sum_k e^{-2 t_s w_k} cos(k.r) / sigma_s^2 at the few displacements r
// inside a patch: sum_y d^2/dphi_y^2 F_s = sum_x sum_{i,j} (d^2 f/du_i du_j) C_s(e_i - e_j).
//
// # Parameters
//
// theta holds "gauss.logA", "gauss.B", "gauss.c<b>" for every band b, then for every rung s with
// local terms "s<s>.c4", "s<s>.c6", "s<s>.n31", "s<s>.n22" and the units "s<s>.h<h>.a",
// "s<s>.h<h>.w0" .. "s<s>.h<h>.w<2 dim>" in slot order, then "cat.a" and "cat.b". Times returns
// t_s for every rung.
//
// # Parameter clamps
//
// SetParams accepts every finite vector and clamps it into the valid region, storing the clamped
// values (Params returns them): log A to [-200, 200], B to [0, 1e50], each c_b to [-100, 100] (so
// g(k) is finite and > 0) and every local parameter to [-1e6, 1e6] (far outside any sensible
// state; it only keeps evaluations finite). A derivative O_i at a clamped boundary is the
// one-sided derivative from inside the valid region.
package mera

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"vqs/hamiltonian"
	"vqs/internal/latfft"
)

// Config selects the structure of the ansatz and its starting point.
type Config struct {
	// Scales is the number of rungs of the RG ladder that carry local terms, counted from t = 0:
	// 1 is t = 0 only (a local Jastrow factor), k the k smallest RG times, -1 all of them.
	// 0 is the Gaussian part alone.
	Scales int
	// Width is the number of logcosh units of each rung's local function (0: polynomials only).
	Width int
	// Init is the starting point: "hartree" (default, "" too) or "product".
	Init string
	// TMin and TMax are the smallest and largest nonzero RG times, in lattice units
	// (0: DefaultTMin and min(L/2, DefaultTMax)).
	TMin, TMax float64
	// Rungs is the number of nonzero RG times, spaced geometrically from TMin to TMax
	// (0: round(log2(TMax/TMin)) + 1, about one per factor 2).
	Rungs int
	// RefMass is M_ref of the reference dispersion w(k) = sqrt(p_k^2 + M_ref^2) that defines the
	// flowed fields (0: the Hartree mass). See the package documentation.
	RefMass float64
}

// DefaultTMin is the smallest nonzero RG time of the ladder when Config.TMin is 0: below about
// 0.3 lattice units the flowed field is hardly distinguishable from the bare one.
const DefaultTMin = 0.3

// DefaultTMax caps the largest RG time of the default ladder (min(L/2, DefaultTMax)). At RG times
// of order L only the lowest modes survive the flow, so the flowed field there is the mean field,
// and in units of its symmetric Gaussian width it grows like sqrt(N) in the broken phase: at
// 32x32, m2 = -1.75, rungs up to t = 16 made the local polynomials mean-field potentials of
// order N^4 mbar^6, and every VMC run there ran away (HMC acceptance to 0 within 25 iterations,
// energies far below E0). With the ladder capped at t = 4 the flowed fields stay O(1) at every
// L, the same run converges (acceptance 0.8-0.9, Var(E_loc) 53 -> 0.2 in 30 iterations), and
// the mean field is left to the cat unit. The 16x16 ablation found no gain from rungs beyond
// t = 1.1 at m2 = -1.55 either.
const DefaultTMax = 4.0

// Parameter clamps and fixed constants, see the package documentation.
const (
	maxLogA   = 200
	maxB      = 1e50
	maxBand   = 100
	maxLocal  = 1e6
	wallStart = 8 // R / rho
)

// Number of polynomial coefficients per rung: c4, c6, n31, n22.
const nPoly = 4

// rung is one RG time of the ladder: its flow, the overlaps the Laplacian needs and, when it
// carries local terms, where its parameters sit in theta.
type rung struct {
	t     float64
	sigma float64   // std of phi_t(x) under the reference Gaussian
	flow  []float64 // e^{-t w_k} / sigma: maps phi_k to the spectrum of z (nil at t = 0)
	c0    float64   // C(0)
	cbond []float64 // C(e_mu) for each mu
	cslot []float64 // C(e_i - e_j) between patch slots i, j (P x P)
	off   int       // offset of the rung's parameters in theta
	q     []float64 // per unit: w_h^T cslot w_h, refreshed by SetParams
}

// Ansatz is the wavefunctional with its current parameters. Evaluations only read it, so they
// may run concurrently with different Workspaces; SetParams must not run concurrently with them.
type Ansatz struct {
	model  *hamiltonian.Model
	cfg    Config
	rungs  []rung // the whole ladder; rungs 0..nLocal-1 carry local terms
	nLocal int
	slots  int     // P = 2*dim + 1
	slot   [][]int // slot[i][x]: the site in slot i of the patch at x (slot[1+2mu] is x + e_mu)
	runs   [][]run // runs[i]: slot i as contiguous runs, y = slot[i][x] = x - r.x + r.y
	neg    []int   // neg[k]: the index of -k
	nGauss int     // log A, B and the bands
	catOff int     // offset of cat.a, cat.b (-1 without local terms)
	catY   float64
	wallR  float64 // R
	wallI  float64 // 1/rho
	theta  []float64
	names  []string
	p2     []float64
	wref   []float64   // w(k)
	bands  [][]float64 // bands[b][k]
	g      []float64   // g(k)
	kern   []float64   // the Gaussian part reported to samplers: wref with local terms, else g
	dgk    []float64   // g(k) - kern(k): the part of the kernel that counts as a local term
	dg     [][]float64 // dg[i][k] = dg(k)/dtheta_i for the Gaussian parameters
	sumG   float64     // sum_k g(k) = trace of the kernel
}

// unitStride is the number of parameters of one logcosh unit: a_h and w_h.
func (a *Ansatz) unitStride() int { return 1 + a.slots }

// rungParams is the number of parameters of one rung with local terms.
func (a *Ansatz) rungParams() int { return nPoly + a.cfg.Width*a.unitStride() }

// New builds the ansatz for model m and initialises it as cfg.Init asks.
func New(m *hamiltonian.Model, cfg Config) (*Ansatz, error) {
	if m == nil {
		return nil, errors.New("mera: nil model")
	}
	switch cfg.Init {
	case "", "hartree", "product":
	default:
		return nil, fmt.Errorf("mera: unknown Init %q (want \"hartree\" or \"product\")", cfg.Init)
	}
	if cfg.Width < 0 {
		return nil, fmt.Errorf("mera: Width must be >= 0, got %d", cfg.Width)
	}
	times, err := ladder(m.L, cfg)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Scales < -1:
		return nil, fmt.Errorf("mera: Scales must be -1 (all rungs) or >= 0, got %d", cfg.Scales)
	case cfg.Scales > len(times):
		return nil, fmt.Errorf("mera: Scales = %d but the RG ladder has only %d rungs %v", cfg.Scales, len(times), times)
	}
	if !(cfg.RefMass >= 0) || math.IsInf(cfg.RefMass, 0) {
		return nil, fmt.Errorf("mera: RefMass must be finite and >= 0, got %v", cfg.RefMass)
	}
	hr, err := hamiltonian.SolveHartree(m)
	if err != nil {
		return nil, fmt.Errorf("mera: Hartree initialisation: %w", err)
	}
	a := &Ansatz{model: m, cfg: cfg, slots: 2*m.Dim + 1}
	a.nLocal = cfg.Scales
	if cfg.Scales == -1 {
		a.nLocal = len(times)
	}
	a.p2 = m.MomentumSquared()
	mref := cfg.RefMass
	if mref == 0 {
		mref = hr.Mass
	}
	a.wref = make([]float64, m.N)
	for k, p := range a.p2 {
		a.wref[k] = math.Sqrt(p + mref*mref)
	}
	a.buildGeometry()
	a.buildRungs(times)
	a.bands = makeBands(a.p2, m.Dim, bandCount(a.p2, m.Dim))
	a.layoutParams()
	rho := math.Sqrt(hr.Phi2)
	a.wallR, a.wallI = wallStart*rho, 1/rho
	a.catY = math.Sqrt(2 * a.wref[0] * float64(m.N))
	a.g = make([]float64, m.N)
	a.kern, a.dgk = a.g, make([]float64, m.N)
	if a.nLocal > 0 {
		a.kern = a.wref
	}
	a.dg = make([][]float64, a.nGauss)
	for i := range a.dg {
		a.dg[i] = make([]float64, m.N)
	}
	theta, err := a.initialParams(hr)
	if err != nil {
		return nil, err
	}
	if err := a.SetParams(theta); err != nil {
		return nil, err
	}
	return a, nil
}

// ladder returns the RG times of cfg on a lattice of side L: 0, then Rungs times spaced
// geometrically from TMin to TMax.
func ladder(L int, cfg Config) ([]float64, error) {
	tmin, tmax := cfg.TMin, cfg.TMax
	if tmin == 0 {
		tmin = DefaultTMin
	}
	if tmax == 0 {
		tmax = math.Min(float64(L)/2, DefaultTMax)
	}
	if !(tmin > 0) || !(tmax >= tmin) || math.IsInf(tmax, 0) {
		return nil, fmt.Errorf("mera: need 0 < TMin <= TMax < inf, got TMin = %v, TMax = %v", tmin, tmax)
	}
	n := cfg.Rungs
	if n < 0 {
		return nil, fmt.Errorf("mera: Rungs must be >= 0, got %d", n)
	}
	if n == 0 {
		n = int(math.Round(math.Log2(tmax/tmin))) + 1
	}
	times := []float64{0}
	for j := 0; j < n; j++ {
		t := tmin
		if n > 1 {
			t = tmin * math.Pow(tmax/tmin, float64(j)/float64(n-1))
		}
		times = append(times, t)
	}
	return times, nil
}

// buildGeometry sets up the patches and the index of -k.
func (a *Ansatz) buildGeometry() {
	m := a.model
	P := a.slots
	a.slot = make([][]int, P)
	for i := range a.slot {
		a.slot[i] = make([]int, m.N)
	}
	for x := 0; x < m.N; x++ {
		a.slot[0][x] = x
		for mu := 0; mu < m.Dim; mu++ {
			a.slot[1+2*mu][x] = m.Neighbor(x, mu, true)
			a.slot[2+2*mu][x] = m.Neighbor(x, mu, false)
		}
	}
	a.runs = make([][]run, P)
	for i, sl := range a.slot {
		a.runs[i] = runsOf(sl)
	}
	a.neg = make([]int, m.N)
	c := make([]int, m.Dim)
	for k := 0; k < m.N; k++ {
		m.Coords(k, c)
		for mu := range c {
			c[mu] = -c[mu]
		}
		a.neg[k] = m.Site(c)
	}
}

// run is a stretch of sites x = x0 .. x0+n-1 whose partners are y0 .. y0+n-1.
type run struct{ x, y, n int }

// runsOf splits the map x -> y[x] into contiguous runs.
func runsOf(y []int) []run {
	var rs []run
	for x := 0; x < len(y); {
		r := run{x: x, y: y[x], n: 1}
		for x+r.n < len(y) && y[x+r.n] == r.y+r.n {
			r.n++
		}
		rs = append(rs, r)
		x += r.n
	}
	return rs
}

// buildRungs computes each rung's flow, its standard deviation under the reference Gaussian and
// the overlaps C_s(r) of the Laplacian.
func (a *Ansatz) buildRungs(times []float64) {
	m := a.model
	n, P := m.N, a.slots
	plan := latfft.NewPlan(m.L, m.Dim)
	spec := make([]complex128, n)
	cfull := make([]float64, n)
	ci, cj := make([]int, m.Dim), make([]int, m.Dim)
	a.rungs = make([]rung, len(times))
	for s, t := range times {
		r := &a.rungs[s]
		r.t = t
		var v2 float64
		for k, w := range a.wref {
			e := math.Exp(-2 * t * w)
			v2 += e / (2 * w)
			spec[k] = complex(e, 0)
		}
		r.sigma = math.Sqrt(v2 / float64(n))
		if t > 0 {
			r.flow = make([]float64, n)
			for k, w := range a.wref {
				r.flow[k] = math.Exp(-t*w) / r.sigma
			}
		}
		plan.Inverse(cfull, spec)
		inv := 1 / (r.sigma * r.sigma)
		if t == 0 {
			// Exactly the identity: keep C free of rounding.
			for i := range cfull {
				cfull[i] = 0
			}
			cfull[0] = 1
		}
		for i := range cfull {
			cfull[i] *= inv
		}
		r.c0 = cfull[0]
		r.cbond = make([]float64, m.Dim)
		for mu := range r.cbond {
			r.cbond[mu] = cfull[m.Neighbor(0, mu, true)]
		}
		r.cslot = make([]float64, P*P)
		for i := 0; i < P; i++ {
			m.Coords(a.slot[i][0], ci)
			for j := 0; j < P; j++ {
				m.Coords(a.slot[j][0], cj)
				d := make([]int, m.Dim)
				for mu := range d {
					d[mu] = ci[mu] - cj[mu]
				}
				r.cslot[i*P+j] = cfull[m.Site(d)]
			}
		}
	}
}

// bandCount is the number of Gaussian bands: enough octaves below p_max to hold every nonzero
// momentum, and a top band that holds k = 0 alone.
func bandCount(p2 []float64, dim int) int {
	pmax := 2 * math.Sqrt(float64(dim))
	xmax := math.Inf(-1)
	for _, pp := range p2 {
		if pp > 0 {
			xmax = math.Max(xmax, math.Log2(pmax/math.Sqrt(pp)))
		}
	}
	if math.IsInf(xmax, -1) {
		return 1 // L = 1: k = 0 only
	}
	return int(math.Ceil(math.Max(0, xmax)-1e-9)) + 2
}

// layoutParams assigns parameter offsets and names.
func (a *Ansatz) layoutParams() {
	nb := len(a.bands)
	a.nGauss = 2 + nb
	names := []string{"gauss.logA", "gauss.B"}
	for b := 0; b < nb; b++ {
		names = append(names, fmt.Sprintf("gauss.c%d", b))
	}
	a.catOff = -1
	for s := 0; s < a.nLocal; s++ {
		r := &a.rungs[s]
		r.off = len(names)
		r.q = make([]float64, a.cfg.Width)
		names = append(names, fmt.Sprintf("s%d.c4", s), fmt.Sprintf("s%d.c6", s),
			fmt.Sprintf("s%d.n31", s), fmt.Sprintf("s%d.n22", s))
		for h := 0; h < a.cfg.Width; h++ {
			unit := fmt.Sprintf("s%d.h%d", s, h)
			names = append(names, unit+".a")
			for i := 0; i < a.slots; i++ {
				names = append(names, fmt.Sprintf("%s.w%d", unit, i))
			}
		}
	}
	if a.nLocal > 0 {
		a.catOff = len(names)
		names = append(names, "cat.a", "cat.b")
	}
	a.names = names
	a.theta = make([]float64, len(names))
}

// makeBands returns nb band functions b(k), a smooth partition of unity in
// x = log2(p_max/|p|) with band b centred at x = b and the top band owning k = 0.
func makeBands(p2 []float64, dim, nb int) [][]float64 {
	b := make([][]float64, nb)
	for s := range b {
		b[s] = make([]float64, len(p2))
	}
	top := nb - 1
	pmax := 2 * math.Sqrt(float64(dim))
	for k, pp := range p2 {
		x := math.Inf(1)
		if pp > 0 {
			x = math.Max(0, math.Log2(pmax/math.Sqrt(pp)))
		}
		if x >= float64(top) {
			b[top][k] = 1
			continue
		}
		j := int(math.Floor(x)) // x in [j, j+1) with j < top
		c := math.Cos(math.Pi / 2 * (x - float64(j)))
		b[j][k] = c * c
		b[j+1][k] = 1 - c*c
	}
	return b
}

// initialParams returns theta for cfg.Init: the Gaussian part from the Hartree solution hr,
// polynomial coefficients zero, and logcosh units with zero output but non-degenerate, seeded
// random weights.
func (a *Ansatz) initialParams(hr *hamiltonian.Hartree) ([]float64, error) {
	m := a.model
	theta := make([]float64, len(a.names))
	var vev float64
	switch a.cfg.Init {
	case "", "hartree":
		M := hr.Mass
		if hr.Broken {
			if a.nLocal > 0 {
				vev = hr.VEV
			} else {
				M = hr.SymmetricMass
			}
		}
		theta[0], theta[1] = math.Log(M*M), 1
	case "product":
		theta[0], theta[1] = math.Log(hr.Mass*hr.Mass+2*float64(m.Dim)), 0
	}
	// The inputs are in units of their standard deviation, so weights of size 1/sqrt(P) put
	// w.u in the units' nonlinear range, where the energy gradient in a_h is not suppressed.
	rng := rand.New(rand.NewPCG(0x6d657261, 0x5eed))
	stride := a.unitStride()
	scale := 1 / math.Sqrt(float64(a.slots))
	for s := 0; s < a.nLocal; s++ {
		o := a.rungs[s].off + nPoly
		for h := 0; h < a.cfg.Width; h++ {
			for i := 0; i < a.slots; i++ {
				theta[o+h*stride+1+i] = scale * rng.NormFloat64()
			}
		}
	}
	if a.catOff >= 0 {
		theta[a.catOff+1] = 1
		if vev > 0 {
			// logcosh(v g(0) sum_x phi_x) = logcosh(b y) with y = mbar sqrt(2 w_0 N), w_0 = g(0).
			g0 := math.Sqrt(math.Exp(theta[0]))
			theta[a.catOff] = 1
			theta[a.catOff+1] = vev * g0 * float64(m.N) / a.catY
		}
	}
	return theta, nil
}

// kernelInto writes g(k) for the Gaussian parameters in theta (already clamped) into g.
func (a *Ansatz) kernelInto(g []float64, theta []float64) {
	A, B := math.Exp(theta[0]), theta[1]
	for k, p := range a.p2 {
		e := 0.0
		for s, b := range a.bands {
			e += theta[2+s] * b[k]
		}
		g[k] = math.Sqrt(A+B*p) * math.Exp(e)
	}
}

// Times returns the RG time t_s of every rung of the ladder, t_0 = 0 first.
func (a *Ansatz) Times() []float64 {
	t := make([]float64, len(a.rungs))
	for i, r := range a.rungs {
		t[i] = r.t
	}
	return t
}

// LocalScales returns how many rungs, counted from t = 0, carry local terms.
func (a *Ansatz) LocalScales() int { return a.nLocal }

// Model returns the Hamiltonian the ansatz was built for.
func (a *Ansatz) Model() *hamiltonian.Model { return a.model }

// NumParams returns the number of variational parameters.
func (a *Ansatz) NumParams() int { return len(a.theta) }

// ParamNames returns a name for every parameter, in theta order.
func (a *Ansatz) ParamNames() []string { return append([]string(nil), a.names...) }

// Params copies theta into dst (reused when long enough) and returns it.
func (a *Ansatz) Params(dst []float64) []float64 {
	if cap(dst) < len(a.theta) {
		dst = make([]float64, len(a.theta))
	}
	dst = dst[:len(a.theta)]
	copy(dst, a.theta)
	return dst
}

// Kernel returns the kernel K(k) > 0 of the Gaussian part that samplers integrate exactly,
// u = -(1/2) sum_k K(k) |phi_k|^2/N + u_loc, indexed like sites (read-only). Without local terms
// it is the variational kernel g(k), which SetParams updates in place. With local terms it is the
// fixed reference dispersion w(k), and the difference g - w counts as a local term: near
// criticality the optimum softens g at small momenta and confines those modes by the quartic
// terms instead, and a mass matrix that follows g there would make leapfrog steps fail, while w
// matches the state's actual fluctuations at every scale.
func (a *Ansatz) Kernel() []float64 { return a.kern }

// GaussianKernel returns the variational kernel g(k) of the Gaussian factor (read-only; SetParams
// updates it in place).
func (a *Ansatz) GaussianKernel() []float64 { return a.g }

// SetParams sets theta, clamping it into the valid region (see the package documentation).
// It fails only for a wrong length or a NaN or infinite component.
func (a *Ansatz) SetParams(theta []float64) error {
	if len(theta) != len(a.theta) {
		return fmt.Errorf("mera: SetParams got %d parameters, want %d", len(theta), len(a.theta))
	}
	for i, v := range theta {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("mera: parameter %d (%s) is %v", i, a.names[i], v)
		}
	}
	t := a.theta
	copy(t, theta)
	t[0] = math.Max(-maxLogA, math.Min(maxLogA, t[0]))
	t[1] = math.Max(0, math.Min(maxB, t[1]))
	for b := range a.bands {
		t[2+b] = math.Max(-maxBand, math.Min(maxBand, t[2+b]))
	}
	for i := a.nGauss; i < len(t); i++ {
		t[i] = math.Max(-maxLocal, math.Min(maxLocal, t[i]))
	}
	P, stride := a.slots, a.unitStride()
	for s := 0; s < a.nLocal; s++ {
		r := &a.rungs[s]
		for h := range r.q {
			w := t[r.off+nPoly+h*stride+1 : r.off+nPoly+(h+1)*stride]
			q := 0.0
			for i, wi := range w {
				for j, wj := range w {
					q += wi * wj * r.cslot[i*P+j]
				}
			}
			r.q[h] = q
		}
	}
	a.kernelInto(a.g, t)
	A, B := math.Exp(t[0]), t[1]
	var sum, comp float64
	for k, p := range a.p2 {
		g := a.g[k]
		den := 2 * (A + B*p)
		a.dg[0][k] = g * A / den
		a.dg[1][k] = g * p / den
		for b, band := range a.bands {
			a.dg[2+b][k] = g * band[k]
		}
		a.dgk[k] = g - a.kern[k]
		// Compensated sum: the trace enters every local energy and must keep its digits.
		y := g - comp
		tt := sum + y
		comp = (tt - sum) - y
		sum = tt
	}
	a.sumG = sum
	return nil
}
