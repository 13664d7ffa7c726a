// Package ed computes the ground state of the lattice phi^4 Hamiltonian on small lattices by
// exact diagonalization. It is the reference that variational results are checked against.
//
// Each site carries a harmonic-oscillator basis of NMax levels at frequency Omega, with
// phi = (a + a^dag)/sqrt(2 Omega) and pi = i sqrt(Omega/2)(a^dag - a). The Hamiltonian is split as
//
//	H = sum_x h_x - sum_{x,mu} phi_x phi_{x+mu},
//	h_x = pi^2/2 + ((m2 + 2 dim)/2) phi^2 + (lambda/24) phi^4,
//
// where the 2 dim is the diagonal part of the gradient term; on L = 2 the same pair appears twice
// among the forward bonds, and on L = 1 the bond x-x is -phi_x^2, an on-site term. H is applied
// matrix-free and the lowest eigenvalue of each sector is found by Lanczos with a few vectors
// of the sector's length, on all cores.
//
// The sectors come from the symmetries of H. Z2 (phi -> -phi) acts as (-1)^(sum of occupation
// numbers) and splits the tensor-product space in halves (SymmetryZ2). The lattice symmetries
// (translations, and the signed permutations of the axes: reflection, C4v, Oh) permute the
// sites; the ground state and the lowest Z2-odd state are invariant under all of them, so
// SymmetryFull, the default, works in the zero-momentum A1 sectors, spanned by one normalized
// orbit sum per orbit of basis states: 144 times smaller than the tensor-product space on 3x3.
// Reference wraps Solve, with the free theory at lambda = 0, as the one exact reference the
// rest of the program compares with.
//
// The energies are variational in NMax: the truncated basis gives upper bounds that decrease
// to the exact values; Config.Convergence reports the change from NMax-2 to NMax.
package ed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"

	"vqs/hamiltonian"
	"vqs/internal/sysmem"
)

// Config controls an exact diagonalization.
type Config struct {
	NMax        int      // HO levels per site (n)
	Omega       float64  // basis frequency; 0 means DefaultOmega(m)
	Symmetry    Symmetry // which symmetry reduces the space; "" means SymmetryAuto
	Workers     int      // goroutines for the matvec; 0 = runtime.GOMAXPROCS(0)
	Tol         float64  // Lanczos convergence of eigenvalues, relative to max(|E|, 1); 0 = 1e-13
	MaxIter     int      // Lanczos iterations per sector; 0 = 2000
	MemoryLimit int64    // bytes; 0 = 80% of MemAvailable from /proc/meminfo (fallback 16 GiB)
	Convergence bool     // also solve with NMax-2 levels and report the change of E0
	EvenOnly    bool     // skip the Z2-odd sector: E0 without the gap, in about half the time

	// Progress, if set, is called after every Lanczos iteration (from the solving goroutine),
	// so that long runs can report how far they are.
	Progress func(Progress)
}

// Symmetry selects the sectors Solve diagonalizes in.
type Symmetry string

const (
	// SymmetryAuto is SymmetryFull on lattices of more than one site and SymmetryZ2 on one site.
	SymmetryAuto Symmetry = ""
	// SymmetryZ2 uses only phi -> -phi: the even and odd halves of the tensor-product space.
	SymmetryZ2 Symmetry = "z2"
	// SymmetryFull uses translations, the point group and Z2: the zero-momentum A1 sectors,
	// even and odd, about 2|G| times smaller than the full space.
	SymmetryFull Symmetry = "full"
)

// ParseSymmetry reads "z2" or "full" ("" and "auto" mean SymmetryAuto).
func ParseSymmetry(s string) (Symmetry, error) {
	switch s {
	case "", "auto":
		return SymmetryAuto, nil
	case "z2", "full":
		return Symmetry(s), nil
	}
	return "", fmt.Errorf("symmetry must be z2, full or auto, got %q", s)
}

// Progress describes one Lanczos iteration.
type Progress struct {
	NMax      int     // levels per site of this solve (NMax-2 for the convergence check)
	Sector    int     // 0 even, 1 odd
	States    int64   // dimension of the sector
	Iteration int     // 1-based
	Energy    float64 // current lowest Ritz value
	Residual  float64 // its residual norm estimate
}

// Result is the outcome of Solve.
//
// Gap is OddEnergy - Energy: only the lowest eigenvalue of each sector is computed, not the
// second even one. The lowest excitation is Z2-odd in the symmetric phase (one particle at
// rest) and in the broken phase (the tunnelling partner of the ground state), so there this is
// the gap; an even excitation below the odd one would not be seen. Both states are invariant
// under the lattice symmetries, so the fully symmetric sectors contain them.
type Result struct {
	Energy           float64 // E0, lowest even-sector eigenvalue
	OddEnergy        float64 // lowest odd-sector eigenvalue (NaN with EvenOnly)
	Gap              float64 // OddEnergy - Energy (see above; NaN with EvenOnly)
	NMax             int
	Omega            float64
	TruncationChange float64 // E0(NMax) - E0(NMax-2); NaN when not computed
	States           int64   // dimension of the even sector
	MemoryBytes      int64   // the estimate used for the refusal check (MemoryEstimate)
	Iterations       int     // Lanczos iterations of the even-sector ground state
	OddIterations    int     // Lanczos iterations of the odd sector
	Residual         float64 // |H x - E0 x| of the even-sector Ritz vector (Lanczos estimate)

	Symmetry   Symmetry // SymmetryZ2 or SymmetryFull: what was used
	Group      string   // the symmetry group in words
	GroupOrder int      // distinct site permutations used (1 for SymmetryZ2)
	Sectors    []Sector // every sector solved, in order
}

// Sector is the outcome of one Lanczos run.
type Sector struct {
	Name       string  // e.g. "Z2-even" or "k=0 A1 Z2-odd"
	NMax       int     // levels per site
	Parity     int     // 0 even, 1 odd
	States     int64   // dimension
	Energy     float64 // lowest eigenvalue
	Iterations int
	Residual   float64
}

const (
	// smallBytes covers the allocations too small to count one by one (the pool, maps of
	// bonds, the engine), so that the estimate bounds the total.
	smallBytes     = 256 << 10
	defaultTol     = 1e-13
	defaultMaxIter = 2000
	// maxMatrixNorm bounds the Gershgorin estimate of |H| so that Lanczos can square it (the
	// norm of H v for a unit vector v) without overflowing float64 (1.8e308).
	maxMatrixNorm = 1e150
)

// DefaultOmega returns the basis frequency Solve uses when Config.Omega is 0.
//
// It is the frequency of the best symmetric product state, one Gaussian exp(-w phi^2/2) per
// site. Its energy per site is w/4 + c/(4w) + lambda/(32 w^2), where the on-site curvature
// c = m2 + 2 dim includes the diagonal part of the gradient term (less the self-bonds of L = 1,
// where the gradient term vanishes), so the optimum solves w^2 = c + (lambda/2) <phi^2> with
// <phi^2> = 1/(2w).
//
// In the double-well regime (c < 0) that root is small (about lambda/(4|c|)) and the basis it
// gives is too wide to resolve the wells; there w is raised to sqrt(|c|), but not above
// 2*30/(1.5 v)^2, at which 30 levels still reach 1.5 times the classical minimum
// v^2 = -6 m2/lambda of a uniform field. This is a heuristic (checked on single sites and
// two-site chains); Config.Omega overrides it.
func DefaultOmega(m *hamiltonian.Model) float64 {
	g := newGeometry(m)
	c := m.M2 + 2*float64(m.Dim) - 2*float64(g.self[0])
	if m.Lambda == 0 {
		return math.Sqrt(c) // c >= m2 > 0 for a valid model
	}
	// f(w) = w^3 - c w - lambda/4 is negative at 0 and has exactly one positive root. Both
	// loops end: hi overflows to +Inf (where f is NaN or +Inf) within 1100 doublings.
	f := func(w float64) float64 { return w*w*w - c*w - m.Lambda/4 }
	lo, hi := 0.0, 1.0
	for i := 0; i < 1100 && f(hi) < 0; i++ {
		lo, hi = hi, 2*hi
	}
	for i := 0; i < 200; i++ {
		mid := 0.5 * (lo + hi)
		if mid <= lo || mid >= hi {
			break
		}
		if f(mid) < 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	w := 0.5 * (lo + hi)
	if c < 0 {
		wells := math.Sqrt(-c)
		if m.M2 < 0 {
			v2 := -6 * m.M2 / m.Lambda
			wells = math.Min(wells, 2*30/(1.5*1.5*v2))
		}
		w = math.Max(w, wells)
	}
	return w
}

// plan checks the sizes for n levels per site without allocating the space.
type plan struct {
	layout
	geometry
	vectorBytes, tableBytes int64
}

// errTooLarge reports a space whose size does not even fit the index types.
var errTooLarge = errors.New("state space too large")

func newPlan(m *hamiltonian.Model, nmax, maxIter int) (plan, error) {
	l, ok := newLayout(nmax, m.N)
	if !ok {
		return plan{}, errTooLarge
	}
	g := newGeometry(m)
	dim := max(l.dim[0], l.dim[1])
	if dim > math.MaxInt64/32 {
		return plan{}, errTooLarge
	}
	// Three Lanczos vectors, the per-chunk partial sums and the tridiagonal workspace.
	vec := 3*8*dim + 8*(dim/chunk+1) + tridiagBytes(maxIter)
	tables := estimateTableBytes(l, g) + siteOpsBytes(m.N, nmax) + smallBytes
	return plan{layout: l, geometry: g, vectorBytes: vec, tableBytes: tables}, nil
}

// siteOpsBytes is the memory of the single-site matrices: seven in the enlarged basis, four
// truncated, one per site.
func siteOpsBytes(sites, nmax int) int64 {
	big := int64(nmax + extraLevels)
	return 8 * (7*big*big + int64(4+sites)*int64(nmax)*int64(nmax))
}

// MemoryEstimate returns the bytes Solve(m, cfg) needs, the figure it compares with the memory
// limit: for SymmetryZ2 three vectors of the larger sector and the operator's tables (plus the
// NMax-2 tables with Convergence); for SymmetryFull the largest sector's vectors and the state
// table, which all sectors share. It returns math.MaxInt64 when the space overflows the index
// types, and 0 for an nmax below 2.
func MemoryEstimate(m *hamiltonian.Model, cfg Config) int64 {
	if cfg.NMax < 2 {
		return 0
	}
	maxIter := cfg.MaxIter
	if maxIter <= 0 {
		maxIter = defaultMaxIter
	}
	if resolveSymmetry(m, cfg) == SymmetryFull {
		sp, err := newSymPlan(m, cfg.NMax, cfg.Convergence, cfg.EvenOnly, maxIter)
		if err != nil {
			return math.MaxInt64
		}
		return sp.bytes
	}
	p, err := newPlan(m, cfg.NMax, maxIter)
	if err != nil {
		return math.MaxInt64
	}
	need := p.vectorBytes + p.tableBytes
	if cfg.Convergence && cfg.NMax >= 4 {
		p2, err := newPlan(m, cfg.NMax-2, maxIter)
		if err != nil {
			return math.MaxInt64
		}
		need += p2.tableBytes
	}
	return need
}

// resolveSymmetry returns the symmetry Solve uses for cfg.
func resolveSymmetry(m *hamiltonian.Model, cfg Config) Symmetry {
	switch {
	case cfg.Symmetry != SymmetryAuto:
		return cfg.Symmetry
	case m.N > 1 && cfg.NMax <= maxSymLevels:
		return SymmetryFull
	}
	return SymmetryZ2
}

// settings are the validated values of a Config.
type settings struct {
	omega   float64
	workers int
	tol     float64
	maxIter int
	limit   int64
	sym     Symmetry
}

func (cfg Config) resolve(m *hamiltonian.Model) (settings, error) {
	var st settings
	if m == nil {
		return st, errors.New("ed: nil model")
	}
	if cfg.NMax < 2 {
		return st, fmt.Errorf("nmax (HO levels per site) must be at least 2, got %d", cfg.NMax)
	}
	if cfg.Convergence && cfg.NMax < 4 {
		return st, fmt.Errorf("the convergence check solves again with nmax-2 levels and needs nmax >= 4, got %d", cfg.NMax)
	}
	switch cfg.Symmetry {
	case SymmetryAuto, SymmetryZ2:
	case SymmetryFull:
		if cfg.NMax > maxSymLevels {
			return st, fmt.Errorf("the symmetric sectors store a level in a byte: nmax must be at most %d, got %d", maxSymLevels, cfg.NMax)
		}
	default:
		return st, fmt.Errorf("symmetry must be %q or %q, got %q", SymmetryZ2, SymmetryFull, cfg.Symmetry)
	}
	st.sym = resolveSymmetry(m, cfg)
	st.omega = cfg.Omega
	if st.omega == 0 {
		st.omega = DefaultOmega(m)
	}
	if !(st.omega > 0) || math.IsInf(st.omega, 0) {
		if cfg.Omega == 0 {
			return st, fmt.Errorf("the default basis frequency is not a finite number > 0 for m2 = %g, lambda = %g (got %v); pass omega", m.M2, m.Lambda, st.omega)
		}
		return st, fmt.Errorf("the basis frequency omega must be a finite number > 0, got %v", cfg.Omega)
	}
	st.workers = cfg.Workers
	if st.workers == 0 {
		st.workers = runtime.GOMAXPROCS(0)
	}
	if st.workers < 0 {
		return st, fmt.Errorf("workers must be >= 0, got %d", cfg.Workers)
	}
	st.tol = cfg.Tol
	if st.tol == 0 {
		st.tol = defaultTol
	}
	if !(st.tol > 0) || st.tol >= 1 {
		return st, fmt.Errorf("the Lanczos tolerance must be in (0, 1), got %v", cfg.Tol)
	}
	st.maxIter = cfg.MaxIter
	if st.maxIter == 0 {
		st.maxIter = defaultMaxIter
	}
	if st.maxIter < 0 {
		return st, fmt.Errorf("the Lanczos iteration limit must be >= 0, got %d", cfg.MaxIter)
	}
	st.limit = cfg.MemoryLimit
	if st.limit == 0 {
		st.limit = sysmem.Available()
	}
	if st.limit < 0 {
		return st, fmt.Errorf("the memory limit must be >= 0 bytes, got %d", cfg.MemoryLimit)
	}
	if err := checkScale(m, cfg.NMax, st.omega); err != nil {
		return st, err
	}
	return st, nil
}

// checkScale refuses couplings and frequencies whose matrix elements are not finite, or so
// large that Lanczos would overflow, before anything is computed. The Gershgorin bound is the
// largest absolute row sum of the on-site matrices over all sites plus that of phi squared over
// all bonds; it bounds |H|.
func checkScale(m *hamiltonian.Model, nmax int, omega float64) error {
	ops := newSiteOps(nmax, omega)
	g := newGeometry(m)
	rowSum := func(a []float64) float64 {
		worst := 0.0
		for i := 0; i < nmax; i++ {
			s := 0.0
			for _, v := range a[i*nmax : (i+1)*nmax] {
				s += math.Abs(v)
			}
			worst = math.Max(worst, s)
		}
		return worst
	}
	bound := 0.0
	perSelf := map[int]float64{} // sites differ only in their number of self-bonds
	for x := 0; x < m.N; x++ {
		r, ok := perSelf[g.self[x]]
		if !ok {
			c := m.M2 + 2*float64(m.Dim) - 2*float64(g.self[x])
			r = rowSum(ops.onSite(c, m.Lambda))
			perSelf[g.self[x]] = r
		}
		bound += r
	}
	phi := rowSum(ops.phi)
	for _, b := range g.bonds {
		bound += b.c * phi * phi
	}
	if !(bound <= maxMatrixNorm) { // also NaN
		size := "overflow float64"
		if !math.IsInf(bound, 0) && !math.IsNaN(bound) {
			size = fmt.Sprintf("reach %.3g, beyond the %.0e that Lanczos can square", bound, maxMatrixNorm)
		}
		return fmt.Errorf("omega = %.4g, m2 = %.4g, lambda = %.4g with nmax %d make the matrix elements of H %s; use values of order one",
			omega, m.M2, m.Lambda, nmax, size)
	}
	return nil
}

// Solve diagonalizes H with cfg.NMax levels per site in the Z2-even and odd sectors, reduced
// by the lattice symmetries when cfg.Symmetry says so (the default on more than one site). It
// refuses, before allocating, a space that does not fit in the memory limit, and inputs whose
// arithmetic would overflow.
func Solve(ctx context.Context, m *hamiltonian.Model, cfg Config) (*Result, error) {
	st, err := cfg.resolve(m)
	if err != nil {
		return nil, err
	}
	if st.sym == SymmetryFull {
		return solveSymmetric(ctx, m, cfg, st)
	}
	return solveZ2(ctx, m, cfg, st)
}

func solveZ2(ctx context.Context, m *hamiltonian.Model, cfg Config, st settings) (*Result, error) {
	p, err := newPlan(m, cfg.NMax, st.maxIter)
	need := p.vectorBytes + p.tableBytes
	var p2 plan
	if err == nil && cfg.Convergence {
		// The NMax-2 tables may be built before the collector has freed the NMax ones.
		p2, err = newPlan(m, cfg.NMax-2, st.maxIter)
		need += p2.tableBytes
	}
	if err != nil || need > st.limit {
		states := sci(math.Log10(float64(p.dim[0])), 2)
		gib := sci(math.Log10(float64(need)/(1<<30)), 3)
		if err != nil {
			// Work with logarithms: n^N may not even fit a float64.
			lg := float64(m.N)*math.Log10(float64(cfg.NMax)) - math.Log10(2)
			states = sci(lg, 2)
			gib = sci(lg+math.Log10(3*8.0/(1<<30)), 3)
		}
		return nil, fmt.Errorf("exact diagonalization of %d^%d sites with nmax %d needs %s states (~%s GiB), more than the %.3g GiB available; lower --nmax or L",
			m.L, m.Dim, cfg.NMax, states, gib, float64(st.limit)/(1<<30))
	}

	pl := newPool(st.workers)
	defer pl.close()
	maxDim := max(p.dim[0], p.dim[1])
	vecs := [3][]float64{make([]float64, maxDim), make([]float64, maxDim), make([]float64, maxDim)}

	td := newTridiag(st.maxIter)
	op := newOperator(m, p.layout, p.geometry, st.omega)
	e := newEngine(op, pl, maxDim)
	r := [2]lanczosResult{1: {value: math.NaN()}}
	for s := 0; s < 2 && !(s == 1 && cfg.EvenOnly); s++ {
		e.setSector(s)
		r[s], err = e.lowest(ctx, td, vecs[0], vecs[1], vecs[2], st.tol, uint64(s+1), progressFor(cfg.Progress, cfg.NMax, s, p.dim[s]))
		if err != nil {
			return nil, fmt.Errorf("%s sector: %w", [2]string{"even", "odd"}[s], err)
		}
	}
	res := &Result{
		Energy:           r[0].value,
		OddEnergy:        r[1].value,
		Gap:              r[1].value - r[0].value,
		NMax:             cfg.NMax,
		Omega:            st.omega,
		TruncationChange: math.NaN(),
		States:           p.dim[0],
		MemoryBytes:      need,
		Iterations:       r[0].iterations,
		OddIterations:    r[1].iterations,
		Residual:         r[0].residual,
		Symmetry:         SymmetryZ2,
		Group:            "Z2 (phi -> -phi)",
		GroupOrder:       1,
	}
	for s := 0; s < 2 && !(s == 1 && cfg.EvenOnly); s++ {
		res.Sectors = append(res.Sectors, Sector{Name: z2Names[s], NMax: cfg.NMax, Parity: s, States: p.dim[s],
			Energy: r[s].value, Iterations: r[s].iterations, Residual: r[s].residual})
	}
	if cfg.Convergence {
		op, e = nil, nil // the smaller tables replace these
		e2 := newEngine(newOperator(m, p2.layout, p2.geometry, st.omega), pl, p2.dim[0])
		e2.setSector(0)
		r2, err := e2.lowest(ctx, td, vecs[0], vecs[1], vecs[2], st.tol, 1, progressFor(cfg.Progress, cfg.NMax-2, 0, p2.dim[0]))
		if err != nil {
			return nil, fmt.Errorf("even sector with nmax %d: %w", cfg.NMax-2, err)
		}
		res.TruncationChange = res.Energy - r2.value
		res.Sectors = append(res.Sectors, Sector{Name: z2Names[0], NMax: cfg.NMax - 2, States: p2.dim[0],
			Energy: r2.value, Iterations: r2.iterations, Residual: r2.residual})
	}
	return res, nil
}

var (
	z2Names  = [2]string{"Z2-even", "Z2-odd"}
	symNames = [2]string{"k=0 A1 Z2-even", "k=0 A1 Z2-odd"}
)

// sci formats 10^lg with the given significant digits like %g, also beyond float64's range.
func sci(lg float64, digits int) string {
	if lg < 300 {
		return strconv.FormatFloat(math.Pow(10, lg), 'g', digits, 64)
	}
	e := math.Floor(lg)
	mant := math.Pow(10, lg-e)
	return strconv.FormatFloat(mant, 'f', digits-1, 64) + "e+" + strconv.Itoa(int(e))
}

func progressFor(f func(Progress), nmax, sector int, states int64) func(int, float64, float64) {
	if f == nil {
		return nil
	}
	return func(it int, e, r float64) {
		f(Progress{NMax: nmax, Sector: sector, States: states, Iteration: it, Energy: e, Residual: r})
	}
}
