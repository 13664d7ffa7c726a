package pimc

import (
	"fmt"
	"math"

	"vqs/stats"
)

// Fit is the extrapolation E(eps) = E0 + Slope*eps^2 to eps = 0, a weighted least-squares
// straight line in x = eps^2 through the per-eps estimates.
type Fit struct {
	E0, Err         float64 // intercept and its error from the input error bars alone
	Slope, SlopeErr float64 // c of c*eps^2
	Chi2            float64
	DOF             int // points - 2; with 0 there is no goodness-of-fit test
	// ErrScaled is Err times sqrt(chi^2/DOF) when that exceeds 1 (the Particle Data Group
	// rule: when the points scatter more than their error bars say, trust the scatter).
	ErrScaled float64
}

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
	f := Fit{E0: lf.A, Err: lf.ErrA, Slope: lf.B, SlopeErr: lf.ErrB, Chi2: lf.Chi2, DOF: lf.DOF, ErrScaled: lf.ErrA}
	if lf.DOF > 0 && lf.Chi2 > float64(lf.DOF) {
		f.ErrScaled = lf.ErrA * math.Sqrt(lf.Chi2/float64(lf.DOF))
	}
	return f, nil
}
