package results

import (
	"errors"
	"fmt"
	"math"

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
