// Package ed computes the ground state of the lattice phi^4 Hamiltonian on small lattices by
// exact diagonalization (DESIGN.md section 3). It is the reference that variational results are
// checked against.
//
// Each site carries a harmonic-oscillator basis of NMax levels at frequency Omega, with
// phi = (a + a^dag)/sqrt(2 Omega) and pi = i sqrt(Omega/2)(a^dag - a). The Hamiltonian is split as
//
//	H = sum_x h_x - sum_{x,mu} phi_x phi_{x+mu},
//	h_x = pi^2/2 + ((m2 + 2 dim)/2) phi^2 + (lambda/24) phi^4,
//
// where the 2 dim is the diagonal part of the gradient term; on L = 2 the same pair appears twice
// among the forward bonds, and on L = 1 the bond x-x is -phi_x^2, an on-site term. It is applied
// matrix-free on the tensor-product space restricted to a sector of the Z2 symmetry
// phi -> -phi, which acts as (-1)^(sum of occupation numbers); the lowest eigenvalue of each
// sector is found by Lanczos with a few vectors of the sector's length.
//
// The energies are variational in NMax: the truncated basis gives upper bounds that decrease
// to the exact values; Config.Convergence reports the change from NMax-2 to NMax.
package ed

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"

	"vqs/hamiltonian"
)

// Config controls an exact diagonalization.
type Config struct {
	NMax        int     // HO levels per site (n)
	Omega       float64 // basis frequency; 0 means DefaultOmega(m)
	Workers     int     // goroutines for the matvec; 0 = runtime.GOMAXPROCS(0)
	Tol         float64 // Lanczos convergence of eigenvalues, relative to max(|E|, 1); 0 = 1e-13
	MaxIter     int     // Lanczos iterations per sector; 0 = 2000
	MemoryLimit int64   // bytes; 0 = 80% of MemAvailable from /proc/meminfo (fallback 16 GiB)
	Convergence bool    // also solve with NMax-2 levels and report the change of E0

	// Progress, if set, is called after every Lanczos iteration (from the solving goroutine),
	// so that long runs can report how far they are.
	Progress func(Progress)
}

// Progress describes one Lanczos iteration.
type Progress struct {
	NMax      int     // levels per site of this solve (NMax-2 for the convergence check)
	Sector    int     // 0 even, 1 odd
	Iteration int     // 1-based
	Energy    float64 // current lowest Ritz value
	Residual  float64 // its residual norm estimate
}

// Result is the outcome of Solve.
//
// Gap is OddEnergy - Energy: only the lowest eigenvalue of each sector is computed, not the
// second even one. The lowest excitation is Z2-odd in the symmetric phase (one particle at
// rest) and in the broken phase (the tunnelling partner of the ground state), so there this is
// the gap; an even excitation below the odd one would not be seen.
type Result struct {
	Energy           float64 // E0, lowest even-sector eigenvalue
	OddEnergy        float64 // lowest odd-sector eigenvalue
	Gap              float64 // OddEnergy - Energy (see above)
	NMax             int
	Omega            float64
	TruncationChange float64 // E0(NMax) - E0(NMax-2); NaN when not computed
	States           int64   // dimension of the even sector
	MemoryBytes      int64   // the estimate used for the refusal check (MemoryEstimate, plus the NMax-2 tables with Convergence)
	Iterations       int     // Lanczos iterations of the even-sector ground state
	OddIterations    int     // Lanczos iterations of the odd sector
	Residual         float64 // |H x - E0 x| of the even-sector Ritz vector (Lanczos estimate)
}

const (
	// smallBytes covers the allocations too small to count one by one (the pool, maps of
	// bonds, the engine), so that the estimate bounds the total.
	smallBytes     = 256 << 10
	defaultTol     = 1e-13
	defaultMaxIter = 2000
	fallbackMemory = 16 << 30
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
	// f(w) = w^3 - c w - lambda/4 is negative at 0 and has exactly one positive root.
	f := func(w float64) float64 { return w*w*w - c*w - m.Lambda/4 }
	lo, hi := 0.0, 1.0
	for f(hi) < 0 {
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
	// The single-site matrices: seven in the enlarged basis, four truncated, one per site.
	big := int64(nmax + extraLevels)
	ops := 8 * (7*big*big + int64(4+m.N)*int64(nmax)*int64(nmax))
	tables := estimateTableBytes(l, g) + ops + smallBytes
	return plan{layout: l, geometry: g, vectorBytes: vec, tableBytes: tables}, nil
}

// MemoryEstimate returns the bytes Solve needs for nmax levels per site: three vectors of the
// larger sector and the operator's tables (the NMax-2 solve of Config.Convergence reuses the
// vectors and needs less). It returns math.MaxInt64 when the space overflows the index types.
func MemoryEstimate(m *hamiltonian.Model, nmax int) int64 {
	if nmax < 2 {
		return 0
	}
	p, err := newPlan(m, nmax, defaultMaxIter)
	if err != nil {
		return math.MaxInt64
	}
	return p.vectorBytes + p.tableBytes
}

// Solve diagonalizes H in both Z2 sectors with cfg.NMax levels per site. It refuses, before
// allocating, a space that does not fit in the memory limit.
func Solve(ctx context.Context, m *hamiltonian.Model, cfg Config) (*Result, error) {
	if m == nil {
		return nil, errors.New("ed: nil model")
	}
	if cfg.NMax < 2 {
		return nil, fmt.Errorf("nmax (HO levels per site) must be at least 2, got %d", cfg.NMax)
	}
	if cfg.Convergence && cfg.NMax < 4 {
		return nil, fmt.Errorf("the convergence check solves again with nmax-2 levels and needs nmax >= 4, got %d", cfg.NMax)
	}
	omega := cfg.Omega
	if omega == 0 {
		omega = DefaultOmega(m)
	}
	if !(omega > 0) || math.IsInf(omega, 0) {
		return nil, fmt.Errorf("the basis frequency omega must be a finite number > 0, got %v", cfg.Omega)
	}
	workers := cfg.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers < 0 {
		return nil, fmt.Errorf("workers must be >= 0, got %d", cfg.Workers)
	}
	tol := cfg.Tol
	if tol == 0 {
		tol = defaultTol
	}
	if !(tol > 0) || tol >= 1 {
		return nil, fmt.Errorf("the Lanczos tolerance must be in (0, 1), got %v", cfg.Tol)
	}
	maxIter := cfg.MaxIter
	if maxIter == 0 {
		maxIter = defaultMaxIter
	}
	if maxIter < 0 {
		return nil, fmt.Errorf("the Lanczos iteration limit must be >= 0, got %d", cfg.MaxIter)
	}
	limit := cfg.MemoryLimit
	if limit == 0 {
		limit = availableMemory()
	}
	if limit < 0 {
		return nil, fmt.Errorf("the memory limit must be >= 0 bytes, got %d", cfg.MemoryLimit)
	}

	p, err := newPlan(m, cfg.NMax, maxIter)
	need := p.vectorBytes + p.tableBytes
	var p2 plan
	if err == nil && cfg.Convergence {
		// The NMax-2 tables may be built before the collector has freed the NMax ones.
		p2, err = newPlan(m, cfg.NMax-2, maxIter)
		need += p2.tableBytes
	}
	if err != nil || need > limit {
		states := sci(math.Log10(float64(p.dim[0])), 2)
		gib := sci(math.Log10(float64(need)/(1<<30)), 3)
		if err != nil {
			// Work with logarithms: n^N may not even fit a float64.
			lg := float64(m.N)*math.Log10(float64(cfg.NMax)) - math.Log10(2)
			states = sci(lg, 2)
			gib = sci(lg+math.Log10(3*8.0/(1<<30)), 3)
		}
		return nil, fmt.Errorf("exact diagonalization of %d^%d sites with nmax %d needs %s states (~%s GiB), more than the %.3g GiB available; lower --nmax or L",
			m.L, m.Dim, cfg.NMax, states, gib, float64(limit)/(1<<30))
	}

	pl := newPool(workers)
	defer pl.close()
	maxDim := max(p.dim[0], p.dim[1])
	vecs := [3][]float64{make([]float64, maxDim), make([]float64, maxDim), make([]float64, maxDim)}

	td := newTridiag(maxIter)
	op := newOperator(m, p.layout, p.geometry, omega)
	e := newEngine(op, pl, maxDim)
	var r [2]lanczosResult
	for s := 0; s < 2; s++ {
		e.setSector(s)
		r[s], err = e.lowest(ctx, td, vecs[0], vecs[1], vecs[2], tol, uint64(s+1), progressFor(cfg.Progress, cfg.NMax, s))
		if err != nil {
			return nil, fmt.Errorf("%s sector: %w", [2]string{"even", "odd"}[s], err)
		}
	}
	res := &Result{
		Energy:           r[0].value,
		OddEnergy:        r[1].value,
		Gap:              r[1].value - r[0].value,
		NMax:             cfg.NMax,
		Omega:            omega,
		TruncationChange: math.NaN(),
		States:           p.dim[0],
		MemoryBytes:      need,
		Iterations:       r[0].iterations,
		OddIterations:    r[1].iterations,
		Residual:         r[0].residual,
	}
	if cfg.Convergence {
		op, e = nil, nil // the smaller tables replace these
		e2 := newEngine(newOperator(m, p2.layout, p2.geometry, omega), pl, p2.dim[0])
		e2.setSector(0)
		r2, err := e2.lowest(ctx, td, vecs[0], vecs[1], vecs[2], tol, 1, progressFor(cfg.Progress, cfg.NMax-2, 0))
		if err != nil {
			return nil, fmt.Errorf("even sector with nmax %d: %w", cfg.NMax-2, err)
		}
		res.TruncationChange = res.Energy - r2.value
	}
	return res, nil
}

// sci formats 10^lg with the given significant digits like %g, also beyond float64's range.
func sci(lg float64, digits int) string {
	if lg < 300 {
		return strconv.FormatFloat(math.Pow(10, lg), 'g', digits, 64)
	}
	e := math.Floor(lg)
	mant := math.Pow(10, lg-e)
	return strconv.FormatFloat(mant, 'f', digits-1, 64) + "e+" + strconv.Itoa(int(e))
}

func progressFor(f func(Progress), nmax, sector int) func(int, float64, float64) {
	if f == nil {
		return nil
	}
	return func(it int, e, r float64) {
		f(Progress{NMax: nmax, Sector: sector, Iteration: it, Energy: e, Residual: r})
	}
}

// availableMemory returns 80% of MemAvailable, or fallbackMemory when it cannot be read.
func availableMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return fallbackMemory
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemAvailable:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil || kb <= 0 {
				break
			}
			return kb * 1024 / 10 * 8
		}
	}
	return fallbackMemory
}
