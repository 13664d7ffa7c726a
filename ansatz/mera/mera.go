// Package mera is the RG-structured, MERA-inspired variational wavefunctional of DESIGN.md
// section 5 for the lattice phi^4 Hamiltonian:
//
//	u(phi) = log Psi(phi) = -(1/2) sum_k g(k) |phi_k|^2 / N + sum_s sum_{X at level s} f_s(patch of Phi^(s) at X)
//
// Phi^(s) is the field block-averaged s times over 2^dim blocks (the MERA isometries); the
// patches, a coarse site and its 2*dim nearest neighbours, overlap (the disentanglers); one small
// Z2-even function f_s per level is shared by all positions. Every term is a smooth function
// of a few linear combinations of phi, so the field gradient, the exact Laplacian and the
// parameter derivatives all cost O(N) per sample on top of one or two FFTs for the Gaussian part.
//
// # Gaussian kernel
//
//	g(k) = sqrt(A + B p_k^2) * exp(sum_s c_s b_s(k)),  p_k^2 = sum_mu 4 sin^2(k_mu/2)
//
// with parameters log A, B and one band amplitude c_s per RG level. The bands b_s are a smooth
// partition of unity in x = log2(p_max/|p|) (p_max = 2 sqrt(dim)): b_s = cos^2(pi/2 (x-s)) for
// |x-s| < 1, so band s peaks at |p| = 2^-s p_max; the top (mean-field) band is 1 for x >= top,
// so it alone owns k = 0. With c = 0, B = 1 and A = M^2 this is the Hartree kernel.
//
// # Local functions
//
// A patch at coarse site X has 2*dim+1 slots: slot 0 is X, slot 1+2mu is X+e_mu and slot
// 2+2mu is X-e_mu (periodic on the coarse lattice, so on sides 1 and 2 several slots hold
// the same coarse site). On the patch values u,
//
//	f_s(u) = sum_h a_h logcosh(w_h . u) + c4 u_0^4 + c6 u_0^6
//
// which is even in u, grows at most linearly through the logcosh units, and has c4, c6 <= 0,
// so the Gaussian part always dominates at large phi and Psi stays normalizable.
//
// # Parameters
//
// theta holds "gauss.logA", "gauss.B", "gauss.c<s>" for every level s, then for every level s
// with local terms the units "s<s>.h<h>" (and "s<top>.cat", see below), each as ".a" followed
// by ".w0" .. ".w<2 dim>" in slot order, then "s<s>.c4" and "s<s>.c6". On the top level (side 1)
// and on side-2 levels several slots hold the same coarse site, so only sums of some weights
// matter there; those redundant directions are kept for a uniform layout and are harmless to a
// regularised natural-gradient step.
//
// # Parameter clamps
//
// SetParams accepts every finite vector and clamps it into the valid region, storing the
// clamped values (Params returns them): log A to [-200, 200], B to [0, 1e50], each c_s to
// [-100, 100] (so g(k) is finite and > 0), c4 and c6 to (-inf, 0]. A derivative O_i at a
// clamped boundary is the one-sided derivative from inside the valid region.
//
// # The cat unit
//
// The top level (always the global mean, side 1) carries, when it has local terms, one extra
// logcosh unit beyond Width, named "s<top>.cat". With Init "hartree" in the broken phase
// (Hartree VEV v > 0) it starts at a = 1, w_0 = v g(0) N, which makes Psi the symmetric cat
// exp(u_+) + exp(u_-) of the two Gaussians shifted by +-v, so the starting energy is the
// Hartree bound up to the exponentially small overlap of the two peaks. In the symmetric phase
// it starts like every other unit. If the top level carries no local terms (Scales smaller than
// the number of levels) the cat cannot be represented, and Init "hartree" then starts from the
// best symmetric Gaussian (the v = 0 solution of the gap equation) instead.
package mera

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"vqs/hamiltonian"
)

// Config selects the structure of the ansatz and its starting point.
type Config struct {
	Scales int    // number of RG levels that carry local terms, counted from the finest; -1 = all levels; 0 = Gaussian only
	Width  int    // hidden (logcosh) units of each local function f_s (>= 1 when Scales != 0)
	Init   string // "hartree" (default, "" too) or "product"
}

// Parameter clamps, see the package documentation.
const (
	maxLogA = 200
	maxB    = 1e50
	maxBand = 100
)

// level is one RG level: the coarse lattice, how it maps onto the next level, its patches and,
// when it carries local terms, where its parameters sit in theta.
type level struct {
	side, sites int
	weight      float64 // N_s/N = d Phi^(s)_Y / d phi_x for x in block Y
	parent      []int   // site of level s+1 containing each site of this level (nil at the top)
	shrink      float64 // N_{s+1}/N_s, the averaging factor into the parent
	patch       []int   // patch[Y*P+i]: the coarse site in slot i of the patch at Y
	group       []int   // group[i]: first slot of the patch holding the same coarse site as slot i
	local       bool
	units       int       // logcosh units of f_s (Width, plus the cat unit at the top)
	off         int       // offset of f_s's parameters in theta
	q           []float64 // per unit: sum over slot groups of (sum of w_h over the group)^2
}

// Ansatz is the wavefunctional with its current parameters. Evaluations only read it, so they
// may run concurrently with different Workspaces; SetParams must not run concurrently with them.
type Ansatz struct {
	model  *hamiltonian.Model
	cfg    Config
	levels []level
	nLocal int // levels 0..nLocal-1 carry local terms
	slots  int // P = 2*dim + 1
	nGauss int // log A, B, c_0..c_{S-1}
	theta  []float64
	names  []string
	p2     []float64
	bands  [][]float64 // bands[s][k]
	g      []float64   // g(k)
	dg     [][]float64 // dg[i][k] = dg(k)/dtheta_i for the Gaussian parameters
	sumG   float64     // sum_k g(k) = trace of the kernel
}

// unitStride is the number of parameters of one logcosh unit: a_h and w_h.
func (a *Ansatz) unitStride() int { return 1 + a.slots }

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
	a := &Ansatz{model: m, cfg: cfg, slots: 2*m.Dim + 1}
	a.buildLevels()
	nl := len(a.levels)
	switch {
	case cfg.Scales < -1:
		return nil, fmt.Errorf("mera: Scales must be -1 (all levels) or >= 0, got %d", cfg.Scales)
	case cfg.Scales > nl:
		return nil, fmt.Errorf("mera: Scales = %d but L = %d has only %d RG levels %v", cfg.Scales, m.L, nl, a.Levels())
	case cfg.Scales == -1:
		a.nLocal = nl
	default:
		a.nLocal = cfg.Scales
	}
	if a.nLocal > 0 && cfg.Width < 1 {
		return nil, fmt.Errorf("mera: Width must be >= 1 when local terms are used (Scales = %d), got %d", cfg.Scales, cfg.Width)
	}
	a.layoutParams()
	a.p2 = m.MomentumSquared()
	a.bands = makeBands(a.p2, m.Dim, nl)
	a.g = make([]float64, m.N)
	a.dg = make([][]float64, a.nGauss)
	for i := range a.dg {
		a.dg[i] = make([]float64, m.N)
	}
	theta, err := a.initialParams()
	if err != nil {
		return nil, err
	}
	if err := a.SetParams(theta); err != nil {
		return nil, err
	}
	return a, nil
}

// buildLevels sets up the RG levels: halve by 2x2 blocks while the side is even, then one
// global-mean level if the side is still above 1.
func (a *Ansatz) buildLevels() {
	m := a.model
	d, P := m.Dim, a.slots
	sides := []int{m.L}
	for s := m.L; s%2 == 0; {
		s /= 2
		sides = append(sides, s)
	}
	if sides[len(sides)-1] > 1 {
		sides = append(sides, 1)
	}
	a.levels = make([]level, len(sides))
	for i, side := range sides {
		lat, _ := hamiltonian.NewLattice(side, d) // side >= 1 and dim valid: cannot fail
		lv := &a.levels[i]
		lv.side, lv.sites = side, lat.N
		lv.weight = float64(lat.N) / float64(m.N)
		lv.patch = make([]int, lat.N*P)
		for y := 0; y < lat.N; y++ {
			lv.patch[y*P] = y
			for mu := 0; mu < d; mu++ {
				lv.patch[y*P+1+2*mu] = lat.Neighbor(y, mu, true)
				lv.patch[y*P+2+2*mu] = lat.Neighbor(y, mu, false)
			}
		}
		// Which slots coincide depends only on the side (translation invariance), so the
		// patch at Y = 0 defines the groups for all.
		lv.group = make([]int, P)
		for j := 0; j < P; j++ {
			lv.group[j] = j
			for i := 0; i < j; i++ {
				if lv.patch[i] == lv.patch[j] {
					lv.group[j] = i
					break
				}
			}
		}
		if i+1 < len(sides) {
			next := sides[i+1]
			nlat, _ := hamiltonian.NewLattice(next, d)
			lv.shrink = float64(nlat.N) / float64(lat.N)
			lv.parent = make([]int, lat.N)
			c := make([]int, d)
			for y := 0; y < lat.N; y++ {
				lat.Coords(y, c)
				if next == 1 {
					lv.parent[y] = 0
					continue
				}
				for mu := range c {
					c[mu] /= 2
				}
				lv.parent[y] = nlat.Site(c)
			}
		}
	}
}

// layoutParams assigns parameter offsets and names.
func (a *Ansatz) layoutParams() {
	nl := len(a.levels)
	a.nGauss = 2 + nl
	names := []string{"gauss.logA", "gauss.B"}
	for s := 0; s < nl; s++ {
		names = append(names, fmt.Sprintf("gauss.c%d", s))
	}
	for s := 0; s < a.nLocal; s++ {
		lv := &a.levels[s]
		lv.local = true
		lv.units = a.cfg.Width
		if s == nl-1 {
			lv.units++ // the cat unit
		}
		lv.off = len(names)
		lv.q = make([]float64, lv.units)
		for h := 0; h < lv.units; h++ {
			unit := fmt.Sprintf("s%d.h%d", s, h)
			if s == nl-1 && h == lv.units-1 {
				unit = fmt.Sprintf("s%d.cat", s)
			}
			names = append(names, unit+".a")
			for i := 0; i < a.slots; i++ {
				names = append(names, fmt.Sprintf("%s.w%d", unit, i))
			}
		}
		names = append(names, fmt.Sprintf("s%d.c4", s), fmt.Sprintf("s%d.c6", s))
	}
	a.names = names
	a.theta = make([]float64, len(names))
}

// makeBands returns the band functions b_s(k), a smooth partition of unity in
// x = log2(p_max/|p|) with band s centred at x = s and the top band owning k = 0.
func makeBands(p2 []float64, dim, nl int) [][]float64 {
	b := make([][]float64, nl)
	for s := range b {
		b[s] = make([]float64, len(p2))
	}
	top := nl - 1
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

// initialParams returns theta for cfg.Init: the Gaussian part from the Hartree solution and
// local functions with zero output but non-degenerate, seeded random weights.
func (a *Ansatz) initialParams() ([]float64, error) {
	m := a.model
	hr, err := hamiltonian.SolveHartree(m)
	if err != nil {
		return nil, fmt.Errorf("mera: Hartree initialisation: %w", err)
	}
	theta := make([]float64, len(a.names))
	top := len(a.levels) - 1
	catAvailable := a.nLocal == len(a.levels)
	var vev float64
	switch a.cfg.Init {
	case "", "hartree":
		M := hr.Mass
		if hr.Broken {
			if catAvailable {
				vev = hr.VEV
			} else {
				M, err = symmetricHartreeMass(m, a.p2)
				if err != nil {
					return nil, err
				}
			}
		}
		theta[0], theta[1] = math.Log(M*M), 1
	case "product":
		theta[0], theta[1] = math.Log(hr.Mass*hr.Mass+2*float64(m.Dim)), 0
	}
	// The random weights are scaled by the rms of the patch values under the initial Gaussian
	// so that w.u is of order one: the logcosh units then start in their nonlinear range and
	// the energy gradient in a_h is not suppressed.
	g := make([]float64, m.N)
	a.kernelInto(g, theta)
	rng := rand.New(rand.NewPCG(0x6d657261, 0x5eed))
	stride := a.unitStride()
	for s := 0; s < a.nLocal; s++ {
		lv := &a.levels[s]
		sigma := math.Sqrt(blockVariance(m.Lattice, g, m.L/lv.side))
		scale := 1 / (sigma * math.Sqrt(float64(a.slots)))
		for h := 0; h < lv.units; h++ {
			o := lv.off + h*stride
			for i := 0; i < a.slots; i++ {
				theta[o+1+i] = scale * rng.NormFloat64()
			}
			if s == top && h == lv.units-1 && vev > 0 {
				// The cat unit: logcosh(v g(0) sum_x phi_x) on the mean field.
				theta[o] = 1
				for i := 0; i < a.slots; i++ {
					theta[o+1+i] = 0
				}
				theta[o+1] = vev * g[0] * float64(m.N)
			}
		}
	}
	return theta, nil
}

// blockVariance returns the variance of the average of phi over a b^dim block under the
// Gaussian |Psi|^2 of kernel g: (1/N) sum_k |F_b(k)|^2 / (2 g_k), with F_b the block filter.
func blockVariance(lat hamiltonian.Lattice, g []float64, b int) float64 {
	c := make([]int, lat.Dim)
	v := 0.0
	for k := 0; k < lat.N; k++ {
		lat.Coords(k, c)
		f := 1.0
		for _, n := range c {
			if n == 0 {
				continue
			}
			h := math.Pi * float64(n) / float64(lat.L) // k_mu / 2
			r := math.Sin(float64(b)*h) / (float64(b) * math.Sin(h))
			f *= r * r
		}
		v += f / (2 * g[k])
	}
	return v / float64(lat.N)
}

// symmetricHartreeMass solves the symmetric-phase gap equation M^2 = m2 + (lambda/2) s2(M); its
// left side minus right side increases with M and runs from -inf (the k = 0 mode) to +inf.
func symmetricHartreeMass(m *hamiltonian.Model, p2 []float64) (float64, error) {
	f := func(M float64) float64 {
		s := 0.0
		for _, p := range p2 {
			s += 0.5 / math.Sqrt(p+M*M)
		}
		return M*M - m.M2 - 0.5*m.Lambda*s/float64(m.N)
	}
	lo, hi := 1.0, 1.0
	for f(hi) < 0 {
		if hi *= 2; hi > 1e150 {
			return 0, errors.New("mera: symmetric gap equation has no root")
		}
	}
	for f(lo) > 0 {
		if lo /= 2; lo < 1e-150 {
			return 0, errors.New("mera: symmetric gap equation has no root")
		}
	}
	for i := 0; i < 200 && hi-lo > 1e-15*hi; i++ {
		mid := 0.5 * (lo + hi)
		if f(mid) < 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return 0.5 * (lo + hi), nil
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

// Levels returns the coarse lattice side L_s of every RG level, finest first.
func (a *Ansatz) Levels() []int {
	s := make([]int, len(a.levels))
	for i, lv := range a.levels {
		s[i] = lv.side
	}
	return s
}

// LocalLevels returns how many levels, counted from the finest, carry local terms.
func (a *Ansatz) LocalLevels() int { return a.nLocal }

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

// Kernel returns the current Gaussian kernel g(k) > 0, indexed like sites. It is a read-only
// view that SetParams updates in place.
func (a *Ansatz) Kernel() []float64 { return a.g }

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
	for s := range a.bands {
		t[2+s] = math.Max(-maxBand, math.Min(maxBand, t[2+s]))
	}
	stride := a.unitStride()
	for s := 0; s < a.nLocal; s++ {
		lv := &a.levels[s]
		c := lv.off + lv.units*stride
		t[c] = math.Min(0, t[c])
		t[c+1] = math.Min(0, t[c+1])
		for h := 0; h < lv.units; h++ {
			w := t[lv.off+h*stride+1 : lv.off+(h+1)*stride]
			// sum_{i,j in the same slot group} w_i w_j = sum over groups of (group sum)^2.
			q := 0.0
			for i := range w {
				if lv.group[i] != i {
					continue
				}
				gs := 0.0
				for j := range w {
					if lv.group[j] == i {
						gs += w[j]
					}
				}
				q += gs * gs
			}
			lv.q[h] = q
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
		for s, b := range a.bands {
			a.dg[2+s][k] = g * b[k]
		}
		// Compensated sum: the trace enters every local energy and must keep its digits.
		y := g - comp
		tt := sum + y
		comp = (tt - sum) - y
		sum = tt
	}
	a.sumG = sum
	return nil
}
