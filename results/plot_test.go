package results

import (
	"bytes"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// plotDir keeps the test figures for a person to look at; by default they go to a temp dir.
var plotDir = flag.String("results.plotdir", "", "directory to keep the figures rendered by the plot tests")

func figureDir(t *testing.T) string {
	if *plotDir != "" {
		if err := os.MkdirAll(*plotDir, 0o755); err != nil {
			t.Fatal(err)
		}
		return *plotDir
	}
	return t.TempDir()
}

// checkImage verifies that the file exists and starts like a PNG or an SVG.
func checkImage(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch filepath.Ext(path) {
	case ".png":
		if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("%s is not a PNG", path)
		}
	case ".svg":
		if !bytes.Contains(b[:min(len(b), 512)], []byte("<svg")) {
			t.Errorf("%s is not an SVG", path)
		}
	}
	if len(b) < 2000 {
		t.Errorf("%s is suspiciously small (%d bytes)", path, len(b))
	}
}

// madeUpScaling is E/N = -0.3 + 2/L^3 with noise of the stated size.
func madeUpScaling() ScalingPlot {
	rng := rand.New(rand.NewPCG(1, 2))
	var data, exact, gauss ScalingSeries
	data.Label = "VMC (made-up data)"
	exact.Label = "exact (made-up)"
	gauss.Label = "Gaussian bound (made-up)"
	for _, L := range []int{4, 6, 8, 12, 16, 24} {
		e := -0.3 + 2/math.Pow(float64(L), 3)
		sigma := 2e-4 * float64(L) / 8
		data.Points = append(data.Points, ScalingPoint{L, e + sigma*rng.NormFloat64(), sigma})
		if L <= 6 {
			exact.Points = append(exact.Points, ScalingPoint{L, e, 0})
		}
		gauss.Points = append(gauss.Points, ScalingPoint{L, e + 0.004, 0})
	}
	return ScalingPlot{
		Title: "E0/N against 1/L^3, L^2 lattice, m2 = -0.5, lambda = 3 (made-up)",
		Dim:   2, XPower: 3, Data: data, Fit: true,
		ReferencePoints: []ScalingSeries{exact, gauss},
		ReferenceLines:  []Reference{{Label: "exact L = inf", Value: -0.3}},
	}
}

func TestPlotsRender(t *testing.T) {
	dir := figureDir(t)
	for _, ext := range []string{".png", ".svg"} {
		sp := madeUpScaling()
		fit, err := PlotScaling(filepath.Join(dir, "scaling"+ext), sp)
		if err != nil {
			t.Fatal(err)
		}
		// The made-up data lie on a line with intercept -0.3: the fit must find it.
		if fit == nil || math.Abs(fit.A+0.3) > 4*fit.ErrA {
			t.Errorf("scaling fit %+v, want A = -0.3", fit)
		}
		checkImage(t, filepath.Join(dir, "scaling"+ext))

		sp.XPower = 0
		sp.Title = "E0/N against 1/N (made-up)"
		if _, err := PlotScaling(filepath.Join(dir, "scaling_invN"+ext), sp); err != nil {
			t.Fatal(err)
		}

		rng := rand.New(rand.NewPCG(3, 4))
		var pts []TracePoint
		for i := range 300 {
			e := 1118.484 + 40*math.Exp(-float64(i)/40) + 0.02*rng.NormFloat64()
			pts = append(pts, TracePoint{Iter: i, Energy: e, EnergyErr: 0.05 + 2*math.Exp(-float64(i)/40),
				Variance: 0.3 + 200*math.Exp(-float64(i)/25), Acceptance: 0.5, LR: 0.01, Seconds: float64(i)})
		}
		if err := PlotTrace(filepath.Join(dir, "trace"+ext), TracePlot{
			Title:      "VMC convergence, L = 32, dim 2, m2 = 1, lambda = 0 (made-up)",
			Points:     pts,
			References: []Reference{{Label: "exact", Value: 1118.484118259315}, {Label: "Gaussian", Value: 1118.6}},
		}); err != nil {
			t.Fatal(err)
		}
		checkImage(t, filepath.Join(dir, "trace"+ext))

		var r, g, ge, gx Floats
		for i := range 17 {
			x := float64(i)
			v := 0.3*math.Cosh((x-16)/4)/math.Cosh(4) + 0.002*rng.NormFloat64()
			r, g, ge = append(r, x), append(g, v), append(ge, 0.002+0.001*x/16)
			gx = append(gx, 0.3*math.Cosh((x-16)/4)/math.Cosh(4))
		}
		if err := PlotCorrelator(filepath.Join(dir, "correlator"+ext), CorrelatorPlot{
			Title: "Two-point function, L = 32 (made-up)",
			Data:  Curve{Label: "VMC", X: r, Y: g, Err: ge},
			Exact: &Curve{Label: "free theory (exact)", X: r, Y: gx},
		}); err != nil {
			t.Fatal(err)
		}
		checkImage(t, filepath.Join(dir, "correlator"+ext))
		if err := PlotCorrelator(filepath.Join(dir, "correlator_log"+ext), CorrelatorPlot{
			Title: "Two-point function, log scale (made-up)", LogY: true,
			Data: Curve{X: r, Y: g, Err: ge},
		}); err != nil {
			t.Fatal(err)
		}

		var tt, m2, lam, lerr Floats
		for i := range 50 {
			x := float64(i) / 10
			tt, m2, lam = append(tt, x), append(m2, -0.5+0.8*(1-math.Exp(-x))), append(lam, 3*math.Exp(-x/2))
			lerr = append(lerr, 0.05)
		}
		if err := PlotFlow(filepath.Join(dir, "flow"+ext), FlowPlot{
			Title: "Learned RG flow (made-up)",
			Couplings: []Curve{
				{Label: "m2", X: tt, Y: m2},
				{Label: "lambda", X: tt, Y: lam, Err: lerr},
			},
		}); err != nil {
			t.Fatal(err)
		}
		checkImage(t, filepath.Join(dir, "flow"+ext))
		// On a log RG-time axis, t = 0 is left out rather than breaking the plot.
		if err := PlotFlow(filepath.Join(dir, "flowlog"+ext), FlowPlot{Title: "log t",
			Couplings: []Curve{{Label: "m2", X: tt, Y: m2}}, LogT: true}); err != nil {
			t.Fatal(err)
		}
		checkImage(t, filepath.Join(dir, "flowlog"+ext))

		// tau_int against L on log-log axes, as vqs sample --tau-plot draws it; a zero (a
		// failed estimate) is left out on a log axis rather than breaking the plot.
		if err := PlotSeries(filepath.Join(dir, "tau"+ext), SeriesPlot{Title: "tau_int against L (made-up)",
			XLabel: "L", YLabel: "tau_int", LogX: true, LogY: true, XTicks: []float64{8, 16, 32},
			Series: []Curve{{Label: "hmc", X: Floats{8, 16, 32}, Y: Floats{4.6, 21, 73}, Err: Floats{0.3, 3, 15}},
				{Label: "bridge", X: Floats{8, 16, 32}, Y: Floats{90, 0, 700}, Err: Floats{20, 0, 900}}}}); err != nil {
			t.Fatal(err)
		}
		checkImage(t, filepath.Join(dir, "tau"+ext))
		// Within one decade the y axis still gets labelled ticks.
		if err := PlotSeries(filepath.Join(dir, "tau_decade"+ext), SeriesPlot{Title: "within a decade (made-up)",
			XLabel: "L", YLabel: "tau_int", LogX: true, LogY: true, XTicks: []float64{16, 32},
			Series: []Curve{{Label: "hmc", X: Floats{16, 32}, Y: Floats{21, 35}, Err: Floats{3, 5}}}}); err != nil {
			t.Fatal(err)
		}
		checkImage(t, filepath.Join(dir, "tau_decade"+ext))
	}
	if err := PlotSeries(filepath.Join(t.TempDir(), "x.png"), SeriesPlot{LogY: true,
		Series: []Curve{{X: Floats{1, 2}, Y: Floats{0, -1}}}}); err == nil {
		t.Error("a log plot without a positive point was accepted")
	}
}

func TestPlotErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := PlotScaling(filepath.Join(dir, "x.pdf"), madeUpScaling()); err == nil {
		t.Error("unsupported extension accepted")
	}
	if _, err := PlotScaling(filepath.Join(dir, "x.png"), ScalingPlot{Dim: 2}); err == nil {
		t.Error("empty scaling plot accepted")
	}
	mixed := ScalingPlot{Dim: 2, Fit: true, Data: ScalingSeries{Points: []ScalingPoint{{4, 1, 0}, {8, 1, 0.1}}}}
	if _, err := PlotScaling(filepath.Join(dir, "x.png"), mixed); err == nil {
		t.Error("fit of mixed exact and noisy data accepted")
	}
	if err := PlotTrace(filepath.Join(dir, "x.png"), TracePlot{}); err == nil {
		t.Error("empty trace accepted")
	}
	if err := PlotCorrelator(filepath.Join(dir, "x.png"), CorrelatorPlot{Data: Curve{X: Floats{1}, Y: Floats{1, 2}}}); err == nil {
		t.Error("mismatched correlator accepted")
	}
	if err := PlotFlow(filepath.Join(dir, "x.png"), FlowPlot{}); err == nil {
		t.Error("empty flow accepted")
	}
	// Exact data: unweighted fit reproduces an exact line.
	exact := ScalingPlot{Dim: 2, Fit: true, Data: ScalingSeries{Points: []ScalingPoint{{2, 1 + 3.0/4, 0}, {4, 1 + 3.0/16, 0}, {8, 1 + 3.0/64, 0}}}}
	fit, err := PlotScaling(filepath.Join(dir, "exact.png"), exact)
	if err != nil || math.Abs(fit.A-1) > 1e-12 || math.Abs(fit.B-3) > 1e-12 || fit.ErrA != 0 {
		t.Errorf("exact-data fit %+v, %v", fit, err)
	}
	// Error bars reaching below zero on a log axis: gonum/plot would panic; we cut them.
	if err := PlotCorrelator(filepath.Join(dir, "log.png"), CorrelatorPlot{LogY: true,
		Data: Curve{X: Floats{0, 1, 2}, Y: Floats{1, 0.1, 0.01}, Err: Floats{0.1, 0.2, 0.05}}}); err != nil {
		t.Errorf("log correlator with large errors: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name()[0] == '.' {
			t.Errorf("temp file %s left behind", e.Name())
		}
	}
}
