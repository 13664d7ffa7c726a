package results

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"vqs/stats"
)

// ScalingFit is the infinite-volume extrapolation of E0/N: a weighted straight line in
// x = 1/L^XPower, whose intercept A (with ErrA) is E0/N at L = infinity.
type ScalingFit struct {
	stats.LinearFit
	XPower float64 // the abscissa's power of 1/L
	// Exact is set when every point is exact (no errors): the fit is then unweighted and A
	// has no error.
	Exact bool
}

// FitScaling fits E0/N of pts against 1/L^p with p = xPower, or p = dim when xPower is 0
// (x = 1/N). Points must have errors that are all positive, or all zero. It is what the
// scaling plot draws, without the plot.
func FitScaling(pts []ScalingPoint, dim int, xPower float64) (ScalingFit, error) {
	if dim <= 0 {
		return ScalingFit{}, fmt.Errorf("results: scaling fit needs the dimension, got %d", dim)
	}
	if xPower < 0 || math.IsNaN(xPower) || math.IsInf(xPower, 0) {
		return ScalingFit{}, fmt.Errorf("results: scaling fit power must be >= 0, got %v", xPower)
	}
	p := xPower
	if p == 0 {
		p = float64(dim)
	}
	x, y, e := make([]float64, len(pts)), make([]float64, len(pts)), make([]float64, len(pts))
	for i, q := range pts {
		if q.L <= 0 {
			return ScalingFit{}, fmt.Errorf("results: scaling fit: lattice size %d", q.L)
		}
		x[i], y[i], e[i] = math.Pow(float64(q.L), -p), q.EPerSite, q.Err
	}
	f, exact, err := fitScaling(x, y, e)
	return ScalingFit{LinearFit: f, XPower: p, Exact: exact}, err
}

// fitScaling fits E/N against x; exact reports an unweighted fit of error-free data.
func fitScaling(x, y, e []float64) (f stats.LinearFit, exact bool, err error) {
	zero, positive := 0, 0
	for _, v := range e {
		switch {
		case v == 0:
			zero++
		case v > 0 && !math.IsInf(v, 0):
			positive++
		}
	}
	switch {
	case positive == len(e):
		f, err = stats.WeightedLinearFit(x, y, e)
	case zero == len(e):
		ones := make([]float64, len(e))
		for i := range ones {
			ones[i] = 1
		}
		f, err = stats.WeightedLinearFit(x, y, ones)
		f.ErrA, f.ErrB, f.CovAB, f.Chi2 = 0, 0, 0, 0
		exact = true
	default:
		err = errors.New("results: scaling fit needs errors that are all positive or all zero (exact)")
	}
	if err != nil {
		return stats.LinearFit{}, false, fmt.Errorf("results: scaling fit: %w", err)
	}
	return f, exact, nil
}

// ScalingData gathers a finite-size scaling data set from the store: E0/N of every record
// that f selects and that has an energy, which must all share dim, m2 and lambda (an error
// names the parameter sets otherwise), and, with refs, the exact, Gaussian and DMC energies
// stored for the same couplings as reference series. Duplicate records at one L (repeats with
// other seeds) are all kept; Counts says how many there are per L.
func (s *Store) ScalingData(f Filter, refs bool) (ScalingSet, error) {
	recs, _, err := s.Select(f)
	if err != nil {
		return ScalingSet{}, err
	}
	var set ScalingSet
	type couplings struct {
		dim       int
		m2, lambd float64
	}
	sets := map[couplings]int{}
	for _, r := range recs {
		if _, ok := r.EnergyPerSite(); ok {
			set.Records = append(set.Records, r)
			sets[couplings{r.Params.Dim, r.Params.M2, r.Params.Lambda}]++
		}
	}
	if len(set.Records) == 0 {
		return set, fmt.Errorf("no runs with an energy in the store %s", s.Dir())
	}
	if len(sets) > 1 {
		var names []string
		for c, n := range sets {
			names = append(names, fmt.Sprintf("dim %d, m2 = %g, lambda = %g (%d runs)", c.dim, c.m2, c.lambd, n))
		}
		sort.Strings(names)
		return set, fmt.Errorf("the runs have different parameters: %s; choose one set, or give IDs", strings.Join(names, "; "))
	}
	first := set.Records[0].Params
	set.Dim, set.M2, set.Lambda = first.Dim, first.M2, first.Lambda
	set.Counts = map[int]int{}
	var kinds []string
	for _, r := range set.Records {
		e, _ := r.EnergyPerSite()
		set.Data.Points = append(set.Data.Points, ScalingPoint{L: r.Params.L, EPerSite: e.Value, Err: e.Error})
		set.Counts[r.Params.L]++
		if !contains(kinds, r.Kind) {
			kinds = append(kinds, r.Kind)
		}
	}
	set.Data.Label = "E0/N (" + strings.Join(kinds, ", ") + ")"
	if !refs {
		return set, nil
	}
	m2, lambda := set.M2, set.Lambda
	all, _, err := s.Select(Filter{Dim: set.Dim, M2: &m2, Lambda: &lambda})
	if err != nil {
		return set, err
	}
	for _, rk := range ReferenceKinds {
		series := ScalingSeries{Label: rk.Label}
		for _, r := range all {
			if r.Kind != rk.Kind {
				continue
			}
			if e, ok := r.EnergyPerSite(); ok {
				series.Points = append(series.Points, ScalingPoint{L: r.Params.L, EPerSite: e.Value, Err: e.Error})
			}
		}
		if len(series.Points) > 0 {
			set.References = append(set.References, series)
		}
	}
	return set, nil
}

// ScalingSet is a finite-size scaling data set of one parameter set.
type ScalingSet struct {
	Dim        int
	M2, Lambda float64
	Records    []Record
	Data       ScalingSeries
	References []ScalingSeries
	Counts     map[int]int // records per L
}
