package ed

import (
	"context"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"

	"vqs/hamiltonian"
)

func mustModel(t testing.TB, L, dim int, m2, lambda float64) *hamiltonian.Model {
	t.Helper()
	m, err := hamiltonian.NewModel(L, dim, m2, lambda)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// At lambda = 0 the ground state is the free Gaussian; the oscillator basis converges to it.
func TestFreeTheory(t *testing.T) {
	for _, c := range []struct {
		L, dim, n int
		m2        float64
	}{
		{2, 1, 20, 1},   // two-site chain
		{2, 1, 24, 0.3}, // lighter: more correlated
		{2, 2, 16, 1},   // 2x2
		{2, 2, 18, 0.5},
	} {
		m := mustModel(t, c.L, c.dim, c.m2, 0)
		free, err := hamiltonian.NewFreeTheory(m.Lattice, c.m2)
		if err != nil {
			t.Fatal(err)
		}
		for _, sym := range []Symmetry{SymmetryZ2, SymmetryFull} {
			res, err := Solve(context.Background(), m, Config{NMax: c.n, Symmetry: sym})
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(res.Energy - free.Energy()); d > 1e-8 {
				t.Errorf("L=%d dim=%d m2=%g %s: E0 = %.15g, free %.15g (diff %.2g)", c.L, c.dim, c.m2, sym, res.Energy, free.Energy(), d)
			}
			// The lowest odd state is one particle at rest.
			if d := math.Abs(res.Gap - free.Gap()); d > 1e-7 {
				t.Errorf("L=%d dim=%d m2=%g %s: gap = %.15g, free %.15g", c.L, c.dim, c.m2, sym, res.Gap, free.Gap())
			}
		}
	}
}

// A single site is the anharmonic oscillator p^2/2 + x^2/2 + x^4,
// whatever the dimension: the self-bonds of L = 1 cancel the gradient term's diagonal part.
func TestAnharmonicOscillator(t *testing.T) {
	const want = 0.803770651234274
	for dim := 1; dim <= 3; dim++ {
		m := mustModel(t, 1, dim, 1, 24)
		for _, sym := range []Symmetry{SymmetryAuto, SymmetryFull} {
			res, err := Solve(context.Background(), m, Config{NMax: 40, Symmetry: sym})
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(res.Energy - want); d > 1e-9 {
				t.Errorf("dim=%d %s: E0 = %.15g, want %.15g (diff %.2g)", dim, res.Symmetry, res.Energy, want, d)
			}
			if res.Omega != 2 {
				t.Errorf("dim=%d: default omega %v, want the Hartree mass 2", dim, res.Omega)
			}
			if sym == SymmetryAuto && res.Symmetry != SymmetryZ2 {
				t.Errorf("one site: the default symmetry is %q, want z2 (the group is trivial)", res.Symmetry)
			}
		}
	}
}

// The Gaussian-variational energy is an upper bound on E0. ED with a finite basis is an upper
// bound too, so the check allows for its measured truncation change.
func TestHartreeIsAboveED(t *testing.T) {
	type tc struct {
		L, dim, n int
		m2, lam   float64
	}
	var cases []tc
	for _, m2 := range []float64{-2, -1, 0.25, 1} {
		for _, lam := range []float64{1, 6, 24} {
			if m2 < 0 && lam < 6 {
				// Wells at phi^2 = 6|m2|/lambda >= 6 need far more levels on 2x2.
				cases = append(cases, tc{1, 1, 40, m2, lam}, tc{2, 1, 30, m2, lam})
				continue
			}
			cases = append(cases, tc{1, 1, 40, m2, lam}, tc{2, 1, 24, m2, lam}, tc{2, 2, 14, m2, lam})
		}
	}
	for _, c := range cases {
		m := mustModel(t, c.L, c.dim, c.m2, c.lam)
		hf, err := hamiltonian.SolveHartree(m)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Solve(context.Background(), m, Config{NMax: c.n, Convergence: true})
		if err != nil {
			t.Fatal(err)
		}
		// Convergence in nmax is roughly geometric; three times the last change bounds the rest.
		slack := 3*math.Abs(res.TruncationChange) + 1e-12
		if hf.Energy < res.Energy-slack {
			t.Errorf("%+v: Hartree %.12g below ED %.12g (truncation change %.2g)", c, hf.Energy, res.Energy, res.TruncationChange)
		}
		if math.Abs(res.TruncationChange) > 0.2*math.Abs(hf.Energy-res.Energy)+1e-12 {
			t.Errorf("%+v: ED not converged enough to test the bound (change %.2g, margin %.2g)",
				c, res.TruncationChange, hf.Energy-res.Energy)
		}
	}
}

func TestTruncationChangeShrinks(t *testing.T) {
	m := mustModel(t, 2, 2, -1, 12)
	prev := math.Inf(1)
	var energies []float64
	for _, n := range []int{6, 8, 10, 12} {
		res, err := Solve(context.Background(), m, Config{NMax: n, Convergence: true})
		if err != nil {
			t.Fatal(err)
		}
		d := math.Abs(res.TruncationChange)
		if !(d < prev) {
			t.Errorf("nmax %d: |truncation change| %.3g did not shrink from %.3g", n, d, prev)
		}
		// Variational in nmax: the energy only goes down.
		if res.TruncationChange > 1e-12 {
			t.Errorf("nmax %d: E0 rose by %.3g from nmax %d", n, res.TruncationChange, n-2)
		}
		prev = d
		energies = append(energies, res.Energy)
		if len(energies) > 1 {
			if want := energies[len(energies)-1] - energies[len(energies)-2]; math.Abs(res.TruncationChange-want) > 1e-12 {
				t.Errorf("nmax %d: truncation change %.15g, separate solves give %.15g", n, res.TruncationChange, want)
			}
		}
	}
}

func TestBadInputsAreErrors(t *testing.T) {
	ctx := context.Background()
	m := mustModel(t, 2, 2, 1, 1)
	for _, cfg := range []Config{
		{NMax: 1},
		{NMax: 0},
		{NMax: -5},
		{NMax: 3, Convergence: true},
		{NMax: 4, Omega: -1},
		{NMax: 4, Omega: math.NaN()},
		{NMax: 4, Tol: -1},
		{NMax: 4, Workers: -2},
		{NMax: 4, MaxIter: -1},
		{NMax: 4, MemoryLimit: -1},
		{NMax: 4, Symmetry: "cubic"},
		{NMax: 300, Symmetry: SymmetryFull},
		// Matrix elements that overflow, or whose squares would in Lanczos.
		{NMax: 4, Omega: 1e308},
		{NMax: 4, Omega: 1e154},
		{NMax: 4, Omega: 1e-308},
		{NMax: 4, Omega: math.Inf(1)},
	} {
		if _, err := Solve(ctx, m, cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: message %q is not one line", cfg, err)
		}
	}
	// Couplings whose matrix elements overflow never reach the diagonalization: the model
	// refuses them (the Gershgorin guard in Solve stays as a second line of defence, reached
	// through omega above).
	for _, c := range []struct{ m2, lambda float64 }{{1e308, 24}, {1e300, 1}, {-1e308, 1e308}} {
		if _, err := hamiltonian.NewModel(2, 2, c.m2, c.lambda); err == nil {
			t.Errorf("m2=%g lambda=%g: the model was accepted", c.m2, c.lambda)
		}
	}
	if _, err := Solve(ctx, nil, Config{NMax: 4}); err == nil {
		t.Error("nil model: no error")
	}
}

// Spaces that do not fit are refused in one line, before the vectors are allocated; sizes that
// overflow the index types are refused the same way.
func TestMemoryRefusal(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		L, dim, n int
		limit     int64
		sym       Symmetry
	}{
		{3, 2, 8, 1 << 30, SymmetryZ2}, // 6.7e7 states need ~1.5 GiB
		{3, 2, 12, 1 << 30, SymmetryFull},
		{4, 2, 20, 0, SymmetryZ2}, // 20^16: overflows int64 and any memory
		{4, 2, 20, 0, SymmetryFull},
		{5, 3, 40, 0, SymmetryZ2}, // 40^125 does not fit a float64
		{5, 3, 40, 0, SymmetryFull},
		{2, 2, 10, 100_000, SymmetryZ2}, // tiny limit
		{2, 2, 10, 10_000, SymmetryFull},
	} {
		m := mustModel(t, c.L, c.dim, 1, 1)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Solve(ctx, m, Config{NMax: c.n, MemoryLimit: c.limit, Symmetry: c.sym})
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Fatalf("%+v: no error", c)
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, "lower --nmax") || !strings.Contains(msg, "GiB") {
			t.Errorf("%+v: message %q", c, msg)
		}
		if strings.Contains(msg, "Inf") || strings.Contains(msg, "NaN") {
			t.Errorf("%+v: message %q", c, msg)
		}
		if c.sym == SymmetryFull && !strings.Contains(msg, "k=0 A1") {
			t.Errorf("%+v: message %q does not name the sector", c, msg)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
			t.Errorf("%+v: allocated %d bytes before refusing", c, got)
		}
	}
	for _, sym := range []Symmetry{SymmetryZ2, SymmetryFull} {
		if got := MemoryEstimate(mustModel(t, 4, 2, 1, 1), Config{NMax: 20, Symmetry: sym}); got != math.MaxInt64 {
			t.Errorf("%s: overflowing estimate %d, want MaxInt64", sym, got)
		}
	}
}

// The estimate used for the refusal bounds what a solve allocates, and is not wildly above it.
func TestMemoryEstimateBoundsAllocation(t *testing.T) {
	for _, c := range []struct {
		L, dim, n int
		sym       Symmetry
		conv      bool
	}{
		{2, 2, 12, SymmetryZ2, false}, {3, 1, 15, SymmetryZ2, false}, {1, 2, 30, SymmetryZ2, false}, {2, 2, 9, SymmetryZ2, false},
		{2, 2, 14, SymmetryZ2, true},
		{2, 2, 16, SymmetryFull, false}, {3, 2, 5, SymmetryFull, true}, {6, 1, 9, SymmetryFull, false}, {1, 2, 30, SymmetryFull, true},
		{2, 3, 5, SymmetryFull, true},
	} {
		m := mustModel(t, c.L, c.dim, 0.5, 3)
		cfg := Config{NMax: c.n, Workers: 2, Symmetry: c.sym, Convergence: c.conv}
		est := MemoryEstimate(m, cfg)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		res, err := Solve(context.Background(), m, cfg)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if res.MemoryBytes != est {
			t.Errorf("%+v: Result.MemoryBytes %d, MemoryEstimate %d", c, res.MemoryBytes, est)
		}
		alloc := int64(after.TotalAlloc - before.TotalAlloc)
		if alloc > est || est > 2*alloc+smallBytes {
			t.Errorf("%+v: allocated %d bytes, estimate %d", c, alloc, est)
		}
		if c.sym == SymmetryFull {
			continue
		}
		// The table part of the estimate bounds the tables actually built.
		l, _ := newLayout(c.n, m.N)
		g := newGeometry(m)
		if built, bound := newOperator(m, l, g, 1).tableBytes(), estimateTableBytes(l, g); built > bound {
			t.Errorf("%+v: tables %d bytes, estimate %d", c, built, bound)
		}
	}
}

// The result does not depend on the number of workers, to the last bit: rows are computed
// independently and reductions are added in a fixed chunk order.
func TestWorkersReproducible(t *testing.T) {
	m := mustModel(t, 2, 2, -1, 12)
	for _, sym := range []Symmetry{SymmetryZ2, SymmetryFull} {
		var ref *Result
		for _, w := range []int{1, 2, 5} {
			res, err := Solve(context.Background(), m, Config{NMax: 11, Workers: w, Symmetry: sym})
			if err != nil {
				t.Fatal(err)
			}
			if ref == nil {
				ref = res
				continue
			}
			if res.Energy != ref.Energy || res.OddEnergy != ref.OddEnergy || res.Iterations != ref.Iterations {
				t.Errorf("%s workers %d: E0 %.17g odd %.17g (%d it), workers 1: %.17g %.17g (%d it)",
					sym, w, res.Energy, res.OddEnergy, res.Iterations, ref.Energy, ref.OddEnergy, ref.Iterations)
			}
		}
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, sym := range []Symmetry{SymmetryZ2, SymmetryFull} {
		_, err := Solve(ctx, mustModel(t, 2, 2, 1, 1), Config{NMax: 6, Symmetry: sym})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: got %v, want context.Canceled", sym, err)
		}
	}
}

func TestMatvecAndLanczosStepsDoNotAllocate(t *testing.T) {
	m := mustModel(t, 2, 2, 1, 6)
	l, _ := newLayout(7, m.N)
	op := newOperator(m, l, newGeometry(m), DefaultOmega(m))
	pl := newPool(3)
	defer pl.close()
	e := newEngine(op, pl, max(l.dim[0], l.dim[1]))
	e.setSector(1)
	x := make([]float64, e.dim)
	y := make([]float64, e.dim)
	z := make([]float64, e.dim)
	for i := range x {
		x[i] = float64(i % 7)
	}
	td := newTridiag(10)
	td.push(1, 0.5)
	td.push(2, 0.25)
	td.push(3, 0.1)
	allocs := testing.AllocsPerRun(20, func() {
		e.matvec(y, x)
		_ = e.dot(x, y)
		_ = e.update(y, 0.1, x, 0.2, z)
		e.scale(y, 0.5)
		t1, _ := td.lowestTwo()
		_ = td.lastComponent(t1)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per step", allocs)
	}

	sec, _, g := buildSector(t, m, 7, 1)
	ops := newSiteOps(7, DefaultOmega(m))
	se := newSymEngine(newSymOperator(sec, g, siteMatrices(m, g, ops), ops.phi), pl, make([]float64, sec.dim()))
	xs := make([]float64, se.dim)
	ys := make([]float64, se.dim)
	for i := range xs {
		xs[i] = float64(i % 5)
	}
	if allocs := testing.AllocsPerRun(20, func() { se.matvec(ys, xs) }); allocs != 0 {
		t.Errorf("symmetric product: %v allocations", allocs)
	}
}

// The tridiagonal helpers against a closed form: the k x k matrix with 2 on the diagonal and
// -1 beside it has eigenvalues 2 - 2 cos(j pi/(k+1)) and eigenvectors sin(i j pi/(k+1)).
func TestTridiagClosedForm(t *testing.T) {
	const k = 30
	td := newTridiag(k)
	for i := 0; i < k; i++ {
		td.push(2, -1)
	}
	t1, t2 := td.lowestTwo()
	w1 := 2 - 2*math.Cos(math.Pi/(k+1))
	w2 := 2 - 2*math.Cos(2*math.Pi/(k+1))
	if math.Abs(t1-w1) > 1e-14 || math.Abs(t2-w2) > 1e-14 {
		t.Errorf("eigenvalues %.16g %.16g, want %.16g %.16g", t1, t2, w1, w2)
	}
	norm := 0.0
	for i := 1; i <= k; i++ {
		s := math.Sin(float64(i) * math.Pi / (k + 1))
		norm += s * s
	}
	want := math.Sin(k*math.Pi/(k+1)) / math.Sqrt(norm)
	if got := td.lastComponent(t1); math.Abs(math.Abs(got)-want) > 1e-10 {
		t.Errorf("last component %.12g, want +-%.12g", got, want)
	}
}

// DefaultOmega solves the product-state self-consistency w^2 = c + lambda/(4w).
func TestDefaultOmega(t *testing.T) {
	for _, c := range []struct {
		L, dim  int
		m2, lam float64
		curv    float64 // on-site curvature c
	}{
		{2, 2, 1, 24, 5}, {3, 2, -1, 12, 3}, {1, 1, 1, 24, 1}, {1, 3, 0.5, 6, 0.5}, {4, 1, 2, 0, 4},
	} {
		m := mustModel(t, c.L, c.dim, c.m2, c.lam)
		w := DefaultOmega(m)
		if r := w*w - c.curv - c.lam/(4*w); math.Abs(r) > 1e-12*w*w {
			t.Errorf("%+v: omega %v leaves residual %v", c, w, r)
		}
	}
	// Double well: raised to the well curvature scale, but not beyond the reach of the basis.
	if w := DefaultOmega(mustModel(t, 1, 1, -4, 6)); w != 2 {
		t.Errorf("m2=-4 lambda=6 single site: omega %v, want sqrt(4) = 2", w)
	}
	if w, want := DefaultOmega(mustModel(t, 1, 1, -10, 1)), 60/(2.25*60.0); math.Abs(w-want) > 1e-15 {
		t.Errorf("m2=-10 lambda=1 single site: omega %v, want %v", w, want)
	}
}

func TestSci(t *testing.T) {
	for _, c := range []struct {
		lg     float64
		digits int
		want   string
	}{
		{math.Log10(1.23e20), 2, "1.2e+20"},
		{math.Log10(3.6e12), 3, "3.6e+12"},
		{math.Log10(19.1), 3, "19.1"},
		{200.0 + math.Log10(3.3), 2, "3.3e+200"},
		{1000 + math.Log10(2.5), 2, "2.5e+1000"},
	} {
		if got := sci(c.lg, c.digits); got != c.want {
			t.Errorf("sci(%v, %d) = %q, want %q", c.lg, c.digits, got, c.want)
		}
	}
}
