package scan

import (
	"fmt"
	"math"
	"sort"

	"vqs/critical"
)

// Critical is the finite-size-scaling analysis of a scan over couplings: the critical bare mass
// from the crossings of the Binder cumulant U4(L) and of L x gap between successive sizes, and
// the collapse of U4 against (m2 - m2_c) L^(1/nu).
type Critical struct {
	Binder *critical.Result // from U4
	// BinderWhy says why there is no Binder result (e.g. the curves do not cross).
	BinderWhy string
	Gap       *critical.Result // from L x gap
	GapWhy    string
	GapMethod string // the gap estimator the L x gap curves use
	// Collapse of U4 at the Binder m2_c: its quality (about 1 for a collapse within errors)
	// with nu fixed to the 3D Ising value, and nu fitted.
	CollapseIsing   float64
	NuFit, NuFitErr float64
	// NuFitExtrapolated is nu fitted to the collapse about the Binder m2_c extrapolated in L
	// (0 when there is none): the fitted nu moves with the m2_c it is centred on.
	NuFitExtrapolated, NuFitExtrapolatedErr float64
	CollapseWhy                             string
	BinderCurves                            []critical.Curve
	ScaledGapCurves                         []critical.Curve
	CollapseM2c, NuFix                      float64
	// Excluded lists the points left out because their VMC run diverged ("L = 32, m2 = -1.75").
	Excluded []string
}

// analyse runs the finite-size-scaling analysis on the rows of a grid scan.
func analyse(rows []Row, seed uint64) *Critical {
	c := &Critical{NuFix: critical.NuIsing3D}
	byL := map[int]*critical.Curve{}
	gapByL := map[int]*critical.Curve{}
	for _, r := range rows {
		if r.RunStatus == "diverged" {
			c.Excluded = append(c.Excluded, fmt.Sprintf("L = %d, m2 = %g", r.L, r.M2))
			continue
		}
		if b := r.Binder; finite(b.Value) && b.Error > 0 {
			if byL[r.L] == nil {
				byL[r.L] = &critical.Curve{L: r.L}
			}
			byL[r.L].Points = append(byL[r.L].Points, critical.Point{M2: r.M2, Value: b.Value, Err: b.Error})
		}
		if g := r.Gap; finite(g.Value) && g.Error > 0 {
			if gapByL[r.L] == nil {
				gapByL[r.L] = &critical.Curve{L: r.L}
			}
			l := float64(r.L)
			gapByL[r.L].Points = append(gapByL[r.L].Points, critical.Point{M2: r.M2, Value: l * g.Value, Err: l * g.Error})
			c.GapMethod = r.GapMethod
		}
	}
	c.BinderCurves, c.ScaledGapCurves = sorted(byL), sorted(gapByL)
	if res, err := critical.Critical(c.BinderCurves, seed); err == nil {
		c.Binder = &res
	} else {
		c.BinderWhy = err.Error()
	}
	if res, err := critical.Critical(c.ScaledGapCurves, seed+1); err == nil {
		c.Gap = &res
	} else {
		c.GapWhy = err.Error()
	}
	if c.Binder != nil {
		c.CollapseM2c = c.Binder.M2c
		if q, _, err := critical.Collapse(c.BinderCurves, c.Binder.M2c, critical.NuIsing3D); err == nil {
			c.CollapseIsing = q
			if nu, e, err := critical.FitNu(c.BinderCurves, c.Binder.M2c, 0.3, 1.5); err == nil {
				c.NuFit, c.NuFitErr = nu, e
			}
			if x := c.Binder.Extrapolated; x != nil {
				if nu, e, err := critical.FitNu(c.BinderCurves, x.M2c, 0.3, 1.5); err == nil {
					c.NuFitExtrapolated, c.NuFitExtrapolatedErr = nu, e
				}
			}
		} else {
			c.CollapseWhy = err.Error()
		}
	}
	return c
}

func sorted(m map[int]*critical.Curve) []critical.Curve {
	var out []critical.Curve
	for _, c := range m {
		sort.Slice(c.Points, func(i, j int) bool { return c.Points[i].M2 < c.Points[j].M2 })
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].L < out[j].L })
	return out
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
