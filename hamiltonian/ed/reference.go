package ed

import (
	"context"
	"errors"
	"fmt"
	"math"

	"vqs/hamiltonian"
)

// DefaultNMax is the number of levels per site that keeps an ED of this many sites quick and,
// up to 4 sites, converged for couplings of order one: 2x2 at 18 levels has a truncation change
// of 8e-9 at m2 = 1, lambda = 24 and takes a tenth of a second. For the 3x3 lattice it is the 8
// levels that the symmetric sectors solve in about 25 s on 2 cores (truncation change 5e-4).
func DefaultNMax(sites int) int {
	switch {
	case sites == 1:
		return 60
	case sites == 2:
		return 30
	case sites <= 4:
		return 18
	case sites <= 9:
		return 8
	default:
		return 6
	}
}

// ReferenceTolerance is the relative truncation change, |E0(nmax) - E0(nmax-2)| / max(1, |E0|),
// below which an ED energy serves as the exact reference: far below any VMC error bar on the
// lattices where it is reached.
const ReferenceTolerance = 1e-7

// ReferenceMaxSites is the largest lattice that Reference diagonalizes by default. Up to 4 sites
// the default basis converges to ReferenceTolerance in about a second. The 3x3 lattice does not
// come close at any affordable nmax: at m2 = 1, lambda = 24 its truncation change is 5.1e-4 at
// nmax 8 (25 s on 2 cores), 3.5e-5 at nmax 10 (6 minutes, 2.2 GiB) and 1.1e-5 at nmax 12
// (16 minutes for E0 alone, 11.3 GiB), so a 3x3 reference is computed once with `vqs exact`, not
// on every run.
const ReferenceMaxSites = 4

// ReferenceConfig controls Reference. Zero values mean the defaults.
type ReferenceConfig struct {
	NMax      int      // levels per site; 0 = DefaultNMax(sites)
	MaxSites  int      // largest lattice to diagonalize; 0 = ReferenceMaxSites
	Tolerance float64  // relative truncation change accepted as converged; 0 = ReferenceTolerance
	Symmetry  Symmetry // as in Config
	Progress  func(Progress)
}

// ReferenceResult is an exact ground-state energy and how it was obtained.
type ReferenceResult struct {
	Energy           float64
	Method           string  // "free theory" or "exact diagonalization"
	NMax             int     // levels per site (ED only)
	TruncationChange float64 // E0(NMax) - E0(NMax-2) (ED only; NaN for the free theory)
	Converged        bool    // the free theory, or an ED whose truncation change is within the tolerance
	ED               *Result // the diagonalization (nil for the free theory)
}

// String says how the energy was obtained, for printing beside it.
func (r *ReferenceResult) String() string {
	if r.ED == nil {
		return r.Method
	}
	return fmt.Sprintf("ED, nmax %d, truncation change %.1g", r.NMax, r.TruncationChange)
}

// ErrNoReference is returned (wrapped) by Reference for a lattice with no cheap exact energy.
var ErrNoReference = errors.New("no cheap exact reference")

// Reference returns the exact ground-state energy of m when it is cheap: the free theory at
// lambda = 0 (any size), or an exact diagonalization with the convergence check on lattices of
// at most cfg.MaxSites sites. An ED result comes back whether or not it converged; its
// Converged field says whether it is within the tolerance (callers that need an exact number
// check it). Larger interacting lattices give an error wrapping ErrNoReference.
func Reference(ctx context.Context, m *hamiltonian.Model, cfg ReferenceConfig) (*ReferenceResult, error) {
	if m == nil {
		return nil, errors.New("ed: nil model")
	}
	if m.Lambda == 0 {
		f, err := hamiltonian.NewFreeTheory(m.Lattice, m.M2)
		if err != nil {
			return nil, err
		}
		return &ReferenceResult{Energy: f.Energy(), Method: "free theory", TruncationChange: math.NaN(), Converged: true}, nil
	}
	maxSites := cfg.MaxSites
	if maxSites == 0 {
		maxSites = ReferenceMaxSites
	}
	if m.N > maxSites {
		return nil, fmt.Errorf("%w for %d^%d sites at lambda = %g: exact diagonalization is for at most %d sites here",
			ErrNoReference, m.L, m.Dim, m.Lambda, maxSites)
	}
	tol := cfg.Tolerance
	if tol == 0 {
		tol = ReferenceTolerance
	}
	if !(tol > 0) {
		return nil, fmt.Errorf("the reference tolerance must be > 0, got %v", cfg.Tolerance)
	}
	nmax := cfg.NMax
	if nmax == 0 {
		nmax = DefaultNMax(m.N)
	}
	res, err := Solve(ctx, m, Config{NMax: nmax, Convergence: true, EvenOnly: true, Symmetry: cfg.Symmetry, Progress: cfg.Progress})
	if err != nil {
		return nil, err
	}
	return &ReferenceResult{
		Energy:           res.Energy,
		Method:           "exact diagonalization",
		NMax:             nmax,
		TruncationChange: res.TruncationChange,
		Converged:        math.Abs(res.TruncationChange) <= tol*math.Max(1, math.Abs(res.Energy)),
		ED:               res,
	}, nil
}
