package stats

import (
	"errors"
	"fmt"
	"math"
)

// LinearFit is a weighted least-squares straight line y = A + B x.
type LinearFit struct {
	A, B       float64 // intercept and slope
	ErrA, ErrB float64 // standard errors from the input sigmas (not rescaled by chi^2/DOF)
	CovAB      float64 // covariance of A and B
	Chi2       float64 // sum of squared residuals in units of sigma
	DOF        int     // len(x) - 2
}

// WeightedLinearFit fits y = A + B x with weights 1/sigma^2. The parameter errors follow from
// the sigmas alone; compare Chi2 with DOF to judge whether the sigmas describe the scatter.
// The intercept A is the extrapolation to x = 0 (e.g. infinite volume in x = 1/N).
//
// It returns an error when the slices differ in length, when there are fewer than 2 points,
// when a value is not finite or a sigma is not positive, or when all x are equal.
func WeightedLinearFit(x, y, sigma []float64) (LinearFit, error) {
	n := len(x)
	if len(y) != n || len(sigma) != n {
		return LinearFit{}, fmt.Errorf("stats: linear fit needs equal lengths, got x %d, y %d, sigma %d", n, len(y), len(sigma))
	}
	if n < 2 {
		return LinearFit{}, fmt.Errorf("stats: linear fit needs at least 2 points, got %d", n)
	}
	var s, sx, sy float64
	for i := range x {
		if !isFinite(x[i]) || !isFinite(y[i]) || !isFinite(sigma[i]) || sigma[i] <= 0 {
			return LinearFit{}, fmt.Errorf("stats: linear fit point %d: x %g, y %g, sigma %g (need finite values and sigma > 0)", i, x[i], y[i], sigma[i])
		}
		w := 1 / (sigma[i] * sigma[i])
		s += w
		sx += w * x[i]
		sy += w * y[i]
	}
	// Centering x at its weighted mean makes the normal equations diagonal and well conditioned.
	xm := sx / s
	var stt, sty float64
	for i := range x {
		w := 1 / (sigma[i] * sigma[i])
		t := x[i] - xm
		stt += w * t * t
		sty += w * t * y[i]
	}
	if stt == 0 || stt <= 1e-14*s*xm*xm {
		return LinearFit{}, errors.New("stats: linear fit needs at least two distinct x values")
	}
	b := sty / stt
	a := (sy - sx*b) / s
	f := LinearFit{
		A:     a,
		B:     b,
		ErrA:  math.Sqrt(1/s + xm*xm/stt),
		ErrB:  math.Sqrt(1 / stt),
		CovAB: -xm / stt,
		DOF:   n - 2,
	}
	for i := range x {
		r := (y[i] - a - b*x[i]) / sigma[i]
		f.Chi2 += r * r
	}
	return f, nil
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
