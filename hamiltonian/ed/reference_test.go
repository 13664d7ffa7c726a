package ed

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"vqs/hamiltonian"
)

func TestReference(t *testing.T) {
	ctx := context.Background()
	// The free theory at any size.
	m := mustModel(t, 32, 2, 1, 0)
	ref, err := Reference(ctx, m, ReferenceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	free, _ := hamiltonian.NewFreeTheory(m.Lattice, 1)
	if ref.Energy != free.Energy() || !ref.Converged || ref.ED != nil || ref.String() != "free theory" {
		t.Errorf("free: %+v", ref)
	}
	// One site: the anharmonic oscillator, converged at the default 60 levels.
	ref, err = Reference(ctx, mustModel(t, 1, 2, 1, 24), ReferenceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(ref.Energy-0.803770651234274) > 1e-9 || !ref.Converged || ref.NMax != DefaultNMax(1) {
		t.Errorf("one site: %+v", ref)
	}
	// 2x2 at the default 18 levels, against a separate Solve with the convergence check.
	m = mustModel(t, 2, 2, 1, 24)
	ref, err = Reference(ctx, m, ReferenceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Solve(ctx, m, Config{NMax: 18, Convergence: true, Symmetry: SymmetryZ2})
	if err != nil {
		t.Fatal(err)
	}
	if ref.NMax != 18 || math.Abs(ref.Energy-res.Energy) > 1e-10*res.Energy || !ref.Converged ||
		math.Abs(ref.TruncationChange-res.TruncationChange) > 1e-10 {
		t.Errorf("2x2: %+v, Z2 solve E0 %.15g change %.3g", ref, res.Energy, res.TruncationChange)
	}
	if s := ref.String(); !strings.HasPrefix(s, "ED, nmax 18, truncation change -8e-09") {
		t.Errorf("2x2: description %q", s)
	}
	// A basis too small to converge comes back flagged.
	ref, err = Reference(ctx, m, ReferenceConfig{NMax: 6})
	if err != nil {
		t.Fatal(err)
	}
	if ref.Converged || math.Abs(ref.TruncationChange) < 1e-4 {
		t.Errorf("2x2 at nmax 6: %+v, want not converged", ref)
	}
	// 3x3 is not diagonalized by default, but can be asked for.
	if _, err := Reference(ctx, mustModel(t, 3, 2, 1, 24), ReferenceConfig{}); !errors.Is(err, ErrNoReference) {
		t.Errorf("3x3: %v, want ErrNoReference", err)
	}
	ref, err = Reference(ctx, mustModel(t, 3, 2, 1, 24), ReferenceConfig{MaxSites: 9, NMax: 4})
	if err != nil || ref.Converged || ref.ED.GroupOrder != 72 {
		t.Errorf("3x3 at nmax 4: %+v, %v", ref, err)
	}
	if _, err := Reference(ctx, m, ReferenceConfig{Tolerance: -1}); err == nil {
		t.Error("negative tolerance: no error")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Reference(cctx, m, ReferenceConfig{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// A cancelled context stops the solve at the next product: no Lanczos iteration completes
// after the one during which it was cancelled.
func TestCancelDuringSolve(t *testing.T) {
	for _, sym := range []Symmetry{SymmetryZ2, SymmetryFull} {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		_, err := Solve(ctx, mustModel(t, 3, 2, 1, 24), Config{NMax: 4, Symmetry: sym, Progress: func(p Progress) {
			calls++
			if p.Iteration == 3 {
				cancel()
			}
		}})
		cancel()
		if !errors.Is(err, context.Canceled) || calls != 3 {
			t.Errorf("%s: %v after %d iterations, want context.Canceled after 3", sym, err, calls)
		}
	}
}

// The tridiagonal search ends on entries that are not finite (it used to loop forever on NaN
// bounds) and reports them as NaN.
func TestTridiagNotFinite(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e308} {
		td := newTridiag(4)
		td.push(1, 0.5)
		td.push(bad, bad)
		td.push(2, 1)
		t1, t2 := td.lowestTwo()
		last := td.lastComponent(t1)
		if bad != 1e308 && (!math.IsNaN(t1) || !math.IsNaN(t2) || !math.IsNaN(last)) {
			t.Errorf("entry %v: eigenvalues %v %v, last component %v; want NaN", bad, t1, t2, last)
		}
	}
}
