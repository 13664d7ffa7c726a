package stats

import (
	"encoding/json"
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

// Extrapolation is a weighted straight-line fit y = E0 + Slope x read as an extrapolation to
// x = 0 (eps^2 -> 0 in PIMC, tau -> 0 in DMC, 1/N -> 0 in a scan).
type Extrapolation struct {
	E0, Err         float64 // intercept and its error from the input error bars alone
	Slope, SlopeErr float64
	Chi2            float64
	DOF             int // points - 2; with 0 there is no goodness-of-fit test
	// ErrScaled is Err times sqrt(chi^2/DOF) when that exceeds 1 (the Particle Data Group
	// rule: when the points scatter more than their error bars say, trust the scatter).
	ErrScaled float64
}

// Extrapolation returns the fit as an extrapolation to x = 0, with the scaled error.
func (f LinearFit) Extrapolation() Extrapolation {
	e := Extrapolation{E0: f.A, Err: f.ErrA, Slope: f.B, SlopeErr: f.ErrB, Chi2: f.Chi2, DOF: f.DOF, ErrScaled: f.ErrA}
	if f.DOF > 0 && f.Chi2 > float64(f.DOF) {
		e.ErrScaled = f.ErrA * math.Sqrt(f.Chi2/float64(f.DOF))
	}
	return e
}

type extrapolationJSON struct {
	E0        *float64 `json:"E0"`
	Err       *float64 `json:"err"`
	ErrScaled *float64 `json:"err_scaled"`
	Slope     *float64 `json:"slope"`
	SlopeErr  *float64 `json:"slope_err"`
	Chi2      *float64 `json:"chi2"`
	DOF       int      `json:"dof"`
}

// MarshalJSON writes the fit with null for a value that is not finite.
func (e Extrapolation) MarshalJSON() ([]byte, error) {
	return json.Marshal(extrapolationJSON{E0: finitePtr(e.E0), Err: finitePtr(e.Err), ErrScaled: finitePtr(e.ErrScaled),
		Slope: finitePtr(e.Slope), SlopeErr: finitePtr(e.SlopeErr), Chi2: finitePtr(e.Chi2), DOF: e.DOF})
}
