package scan

import (
	"fmt"
	"os"
	"path/filepath"

	"vqs/results"
)

// Plots draws the scan into dir: the scaling plot of E0/N against 1/N (or 1/L^XPower) with the
// fit, the Gaussian bounds and the exact values, and one convergence trace per size. It
// returns the files written.
func Plots(res *Result, cfg Config, dir string) ([]string, error) {
	if len(res.Rows) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	g := cfg.GroundState.WithDefaults()
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
