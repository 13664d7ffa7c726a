// Package stats estimates means and honest error bars of Monte Carlo time series, and fits
// straight lines to data with error bars.
//
// Every function takes plain float64 slices and never panics on short, constant or empty
// input: where a quantity is undefined it returns NaN (or an error, for fits), as documented
// on each function. Error bars of correlated series must account for the autocorrelation;
// ErrorOfMean (Wolff's Gamma method) and BinningError (Flyvbjerg-Petersen blocking) are two
// independent ways to get one, and agreeing is a useful check.
package stats

import "math"

// Mean returns the arithmetic mean of x, or NaN when x is empty.
func Mean(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// Variance returns the unbiased sample variance of x (divisor n-1), or NaN when len(x) < 2.
// A constant series gives exactly 0, and a large common offset does not cost precision.
func Variance(x []float64) float64 {
	n := len(x)
	if n < 2 {
		return math.NaN()
	}
	// Deviations from x[0] are exact zeros for a constant series; the compensated two-pass
	// sum then removes the mean of the deviations.
	ss, s := 0.0, 0.0
	for _, v := range x {
		d := v - x[0]
		ss += d * d
		s += d
	}
	v := (ss - s*s/float64(n)) / float64(n-1)
	return math.Max(v, 0)
}

// CombinedSigmas returns (a-b)/sqrt(ea^2+eb^2), the distance of two independent estimates in
// units of their combined standard error. With both errors zero it returns 0 when a == b and
// +-Inf otherwise (exact values that differ are infinitely many sigmas apart); NaN inputs give NaN.
func CombinedSigmas(a, ea, b, eb float64) float64 {
	d := a - b
	s := math.Hypot(ea, eb)
	if s == 0 {
		if d == 0 {
			return 0
		}
		return math.Inf(int(math.Copysign(1, d)))
	}
	return d / s
}
