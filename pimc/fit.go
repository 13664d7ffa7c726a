package pimc

import (
	"fmt"

	"vqs/stats"
)

// Fit is the extrapolation E(eps) = E0 + Slope*eps^2 to eps = 0, a weighted least-squares
// straight line in x = eps^2 through the per-eps estimates.
type Fit = stats.Extrapolation

// Extrapolate fits y = E0 + c eps^2 with weights 1/err^2 (stats.WeightedLinearFit on
// x = eps^2). It needs at least two distinct eps and positive finite errors.
func Extrapolate(eps, y, err []float64) (Fit, error) {
	if len(eps) != len(y) || len(eps) != len(err) {
		return Fit{}, fmt.Errorf("pimc: extrapolation needs equal lengths, got %d eps, %d values, %d errors", len(eps), len(y), len(err))
	}
	x := make([]float64, len(eps))
	for i, e := range eps {
		x[i] = e * e
	}
	lf, e := stats.WeightedLinearFit(x, y, err)
	if e != nil {
		return Fit{}, fmt.Errorf("pimc: eps^2 extrapolation: %w", e)
	}
	return lf.Extrapolation(), nil
}
