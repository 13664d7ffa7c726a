package scan

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"vqs/critical"
	"vqs/results"
)

// Plots draws the scan into dir: the scaling plot of E0/N against 1/N (or 1/L^XPower) with the
// fit, the Gaussian bounds, the exact values and the DMC energies stored at the same couplings,
// and one convergence trace per size. It
// returns the files written.
func Plots(res *Result, cfg Config, dir string) ([]string, error) {
	if len(res.Rows) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	g := cfg.GroundState.WithDefaults()
	if res.Critical != nil {
		couplings := fmt.Sprintf("%dD, lambda = %g", g.Dim, g.Lambda)
		return criticalPlots(res.Critical, dir, fmt.Sprintf("d%d_lambda_%g", g.Dim, g.Lambda), couplings)
	}
	couplings := fmt.Sprintf("%dD, m2 = %g, lambda = %g", g.Dim, g.M2, g.Lambda)
	tag := fmt.Sprintf("d%d_m2_%g_lambda_%g", g.Dim, g.M2, g.Lambda)
	sp := results.ScalingPlot{Title: "E0/N, " + couplings, Dim: g.Dim, XPower: cfg.XPower,
		Data: results.ScalingSeries{Label: "VMC"}, Fit: len(res.Rows) >= 2}
	gauss := results.ScalingSeries{Label: "Gaussian bound"}
	exact := results.ScalingSeries{Label: "exact"}
	for _, r := range res.Rows {
		n := float64(r.Sites)
		sp.Data.Points = append(sp.Data.Points, results.ScalingPoint{L: r.L, EPerSite: r.Energy.Value / n, Err: r.Energy.Error / n})
		gauss.Points = append(gauss.Points, results.ScalingPoint{L: r.L, EPerSite: r.Gaussian / n})
		if r.Exact != nil {
			exact.Points = append(exact.Points, results.ScalingPoint{L: r.L, EPerSite: r.Exact.Energy / n})
		}
	}
	sp.ReferencePoints = append(sp.ReferencePoints, gauss)
	if len(exact.Points) > 0 {
		sp.ReferencePoints = append(sp.ReferencePoints, exact)
	}
	if d := storedDMC(cfg.Store, g.Dim, g.M2, g.Lambda); len(d.Points) > 0 {
		sp.ReferencePoints = append(sp.ReferencePoints, d)
	}
	path := filepath.Join(dir, "scaling_"+tag+".png")
	if _, err := results.PlotScaling(path, sp); err != nil {
		return nil, err
	}
	files := []string{path}
	st, err := results.Open(cfg.Store)
	if err != nil {
		return files, err
	}
	for _, r := range res.Rows {
		if r.Trace == "" {
			continue
		}
		pts, err := st.ReadTrace(results.Record{ID: r.ID, Trace: r.Trace})
		if err != nil && len(pts) == 0 {
			continue
		}
		refs := []results.Reference{{Label: "Gaussian bound", Value: r.Gaussian}}
		if r.Exact != nil {
			refs = append(refs, results.Reference{Label: "exact", Value: r.Exact.Energy})
		}
		tp := filepath.Join(dir, fmt.Sprintf("trace_%s_L%d.png", tag, r.L))
		title := fmt.Sprintf("VMC convergence, L = %d, %s", r.L, couplings)
		if err := results.PlotTrace(tp, results.TracePlot{Title: title, Points: pts, References: refs,
			Final: &results.Reference{Label: "final measurement", Value: r.Energy.Value, Err: r.Energy.Error}}); err != nil {
			return files, err
		}
		files = append(files, tp)
	}
	return files, nil
}

// criticalPlots draws the finite-size-scaling plots of a grid scan: U4 and L x gap against m2
// for every size (with m2_c from their crossings), and the collapse of U4 against
// (m2 - m2_c) L^(1/nu) with the 3D Ising nu.
func criticalPlots(c *Critical, dir, tag, couplings string) ([]string, error) {
	var files []string
	curves := func(cs []critical.Curve, scale func(L int, m2 float64) float64) []results.Curve {
		var out []results.Curve
		for _, cv := range cs {
			rc := results.Curve{Label: fmt.Sprintf("L = %d", cv.L)}
			for _, p := range cv.Points {
				rc.X, rc.Y, rc.Err = append(rc.X, scale(cv.L, p.M2)), append(rc.Y, p.Value), append(rc.Err, p.Err)
			}
			out = append(out, rc)
		}
		return out
	}
	id := func(_ int, m2 float64) float64 { return m2 }
	vline := func(r *critical.Result, label string) []results.Reference {
		if r == nil {
			return nil
		}
		refs := []results.Reference{{Label: label, Value: r.M2c, Err: r.Err}}
		if e := r.Extrapolated; e != nil {
			refs = append(refs, results.Reference{Label: "m2_c extrapolated in L (3D Ising nu, omega)", Value: e.M2c, Err: e.Err})
		}
		return refs
	}
	if len(c.BinderCurves) > 0 {
		p := filepath.Join(dir, "binder_"+tag+".png")
		if err := results.PlotSeries(p, results.SeriesPlot{Title: "Binder cumulant, " + couplings,
			XLabel: "bare mass squared m2  (lattice units)", YLabel: "U4 = 1 - <M^4>/(3 <M^2>^2)",
			Series: curves(c.BinderCurves, id), VLines: vline(c.Binder, "m2_c from the U4 crossing of the two largest L")}); err != nil {
			return files, err
		}
		files = append(files, p)
	}
	if len(c.ScaledGapCurves) > 0 {
		p := filepath.Join(dir, "lgap_"+tag+".png")
		if err := results.PlotSeries(p, results.SeriesPlot{Title: "Scaled gap L x Delta, " + couplings + "; " + strings.SplitN(c.GapMethod, ",", 2)[0],
			XLabel: "bare mass squared m2  (lattice units)", YLabel: "L x gap  (dimensionless)",
			Series: curves(c.ScaledGapCurves, id), VLines: vline(c.Gap, "m2_c from the L x gap crossing of the two largest L")}); err != nil {
			return files, err
		}
		files = append(files, p)
	}
	if c.Binder != nil && len(c.BinderCurves) > 0 {
		m2c, nu := c.Binder.M2c, critical.NuIsing3D
		p := filepath.Join(dir, "collapse_"+tag+".png")
		title := fmt.Sprintf("Collapse of U4, nu = %.5f (3D Ising), m2_c = %.5g; quality %.3g", nu, m2c, c.CollapseIsing)
		if err := results.PlotSeries(p, results.SeriesPlot{Title: title,
			XLabel: "(m2 - m2_c) L^(1/nu)  (scaled distance to the critical point)", YLabel: "U4",
			Series:   curves(c.BinderCurves, func(L int, m2 float64) float64 { return (m2 - m2c) * math.Pow(float64(L), 1/nu) }),
			Unjoined: true}); err != nil {
			return files, err
		}
		files = append(files, p)
	}
	return files, nil
}

// storedDMC is E0/N of the finished DMC runs (vqs dmc --store) in the store at these
// couplings, the non-variational reference beside the VMC points; none when there are none or
// the store cannot be read.
func storedDMC(store string, dim int, m2, lambda float64) results.ScalingSeries {
	series := results.ScalingSeries{Label: "DMC"}
	st, err := results.Open(store)
	if err != nil {
		return series
	}
	recs, _, err := st.Select(results.Filter{Kinds: []string{results.KindDMC}, Status: results.StatusDone, Dim: dim, M2: &m2, Lambda: &lambda})
	if err != nil {
		return series
	}
	for _, r := range recs {
		if e, ok := r.EnergyPerSite(); ok {
			series.Points = append(series.Points, results.ScalingPoint{L: r.Params.L, EPerSite: e.Value, Err: e.Error})
		}
	}
	return series
}
