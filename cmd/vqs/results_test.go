package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"vqs/results"
)

// resRun executes the CLI in-process and returns stdout, stderr and the error.
func resRun(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

// resFixture fills a store with runs at m2 = 0.5, lambda = 0, dim 2: ground-state runs at
// L = 4 and 8 whose E/N lie exactly on E/N = a + b/N (with errors), exact and Gaussian
// runs, one run with a trace, correlator and flow, a run with other parameters, and a
// corrupt file.
func resFixture(t *testing.T) (dir string, ids map[string]string) {
	t.Helper()
	dir = t.TempDir()
	s, err := results.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ids = map[string]string{}
	put := func(name string, r results.Record) {
		t.Helper()
		if r.Started.IsZero() {
			r.Started = time.Date(2026, 1, 1, 0, 0, len(ids), 0, time.UTC)
		}
		if err := s.Put(&r); err != nil {
			t.Fatal(err)
		}
		ids[name] = r.ID
	}
	const a, b = 0.75, 2.0
	for _, c := range []struct {
		L   int
		err float64
	}{{4, 0.01}, {8, 0.002}} {
		n := float64(c.L * c.L)
		put("gs"+strconv.Itoa(c.L), results.Record{Kind: results.KindGroundState, Status: results.StatusDone,
			Params:    results.Params{L: c.L, Dim: 2, M2: 0.5, Lambda: 0},
			Estimates: map[string]results.Estimate{results.EstEnergy: {Value: (a + b/n) * n, Error: c.err * n}}})
		put("exact"+strconv.Itoa(c.L), results.Record{Kind: results.KindExact,
			Params:    results.Params{L: c.L, Dim: 2, M2: 0.5, Lambda: 0},
			Estimates: map[string]results.Estimate{results.EstEnergy: results.Exact((a + b/n) * n)}})
		put("gauss"+strconv.Itoa(c.L), results.Record{Kind: results.KindGaussian,
			Params:    results.Params{L: c.L, Dim: 2, M2: 0.5, Lambda: 0},
			Estimates: map[string]results.Estimate{results.EstEnergy: results.Exact((a + 0.01 + b/n) * n)}})
	}
	// A run with everything plottable, at another size.
	id := results.NewID()
	tw, rel, err := s.CreateTrace(id)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if err := tw.Write(results.TracePoint{Iter: i, Energy: 29.2 + 5*math.Exp(-float64(i)/8), EnergyErr: 0.1,
			Variance: 3 * math.Exp(-float64(i)/10), Acceptance: 0.5, LR: 0.01, Seconds: float64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	var r, g, tt, m2, lam results.Floats
	for i := range 6 {
		r, g = append(r, float64(i)), append(g, math.Exp(-float64(i)))
		tt, m2, lam = append(tt, float64(i)), append(m2, 0.5+0.1*float64(i)), append(lam, 0)
	}
	put("full", results.Record{ID: id, Kind: results.KindGroundState, Status: results.StatusDone, Trace: rel,
		Params:    results.Params{L: 6, Dim: 2, M2: 0.5, Lambda: 0},
		Estimates: map[string]results.Estimate{results.EstEnergy: {Value: 20.01, Error: 0.05}, results.EstVariance: {Value: 0.01, Error: 0.001}},
		Curves: map[string]results.Curve{
			results.CurveCorrelator:            {X: r, Y: g, Err: results.Floats{0.01, 0.01, 0.01, 0.01, 0.01, 0.01}},
			results.CurveCorrelatorExact:       {Label: "free theory", X: r, Y: g},
			results.CurveFlowPrefix + "m2":     {X: tt, Y: m2},
			results.CurveFlowPrefix + "lambda": {X: tt, Y: lam},
		}})
	put("exact6", results.Record{Kind: results.KindExact, Params: results.Params{L: 6, Dim: 2, M2: 0.5, Lambda: 0},
		Estimates: map[string]results.Estimate{results.EstEnergy: results.Exact(29)}})
	put("other", results.Record{Kind: results.KindGroundState, Params: results.Params{L: 4, Dim: 2, M2: -1, Lambda: 6},
		Estimates: map[string]results.Estimate{results.EstEnergy: {Value: -3, Error: 0.1}}})
	if err := os.WriteFile(filepath.Join(dir, "broken.json"), []byte("{\"id\": "), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, ids
}

func TestResultsListShowTable(t *testing.T) {
	dir, ids := resFixture(t)
	out, errOut, err := resRun(t, "results", "--store", dir, "list")
	if err != nil {
		t.Fatal(err)
	}
	for name, id := range ids {
		if !strings.Contains(out, id) {
			t.Errorf("list lacks %s (%s):\n%s", name, id, out)
		}
	}
	warn := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(warn) != 1 || !strings.Contains(warn[0], "broken.json") {
		t.Errorf("want one warning line naming broken.json, got %q", errOut)
	}

	out, _, err = resRun(t, "results", "--store", dir, "show", ids["gs8"])
	if err != nil || !strings.Contains(out, "L = 8, dim = 2, N = 64 sites") {
		t.Errorf("show: %v\n%s", err, out)
	}
	// E = (0.75 + 2/64)*64 = 50 with error 0.128.
	if !strings.Contains(out, "50.00(13)") {
		t.Errorf("show lacks the energy 50.00(13):\n%s", out)
	}
	out, _, err = resRun(t, "results", "--store", dir, "show", ids["full"])
	if err != nil || !strings.Contains(out, "40 iterations") || !strings.Contains(out, "curve correlator") {
		t.Errorf("show full: %v\n%s", err, out)
	}

	out, _, err = resRun(t, "results", "--store", dir, "table", "--format", "csv", "--kind", "exact")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("csv table: %v\n%s", err, out)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, row := range rows[1:] {
		L, _ := strconv.Atoi(row[col["L"]])
		eps, _ := strconv.ParseFloat(row[col["energy_per_site"]], 64)
		if want := 0.75 + 2/float64(L*L); math.Abs(eps-want) > 1e-14 {
			t.Errorf("L = %d: E/N = %v, want %v", L, eps, want)
		}
	}
	for _, format := range []string{"text", "md", "json"} {
		if _, _, err := resRun(t, "results", "--store", dir, "table", "--format", format); err != nil {
			t.Errorf("table --format %s: %v", format, err)
		}
	}
}

func TestResultsPlots(t *testing.T) {
	dir, ids := resFixture(t)
	figs := t.TempDir()
	// Two sizes with errors: the fit is the line through both points, so the intercept and
	// its error follow in closed form: x = 1/N, A = (y1 x2 - y2 x1)/(x2 - x1),
	// sigma_A = sqrt((x2 s1)^2 + (x1 s2)^2)/(x2 - x1).
	x1, x2 := 1.0/64, 1.0/16
	y1, y2 := 0.75+2*x1, 0.75+2*x2
	s1, s2 := 0.002, 0.01
	wantA := (y1*x2 - y2*x1) / (x2 - x1)
	wantErr := math.Hypot(x2*s1, x1*s2) / (x2 - x1)
	out, _, err := resRun(t, "results", "--store", dir, "plot", "--kind", "scaling", "--m2", "0.5", "--lambda", "0",
		"--run-kind", "ground-state", "--out", filepath.Join(figs, "s.png"), ids["gs4"], ids["gs8"])
	if err != nil {
		t.Fatal(err)
	}
	want := results.FormatEstimate(results.Estimate{Value: wantA, Error: wantErr})
	if !strings.Contains(out, want) {
		t.Errorf("scaling fit: want %s in\n%s", want, out)
	}
	// Without IDs the runs of the default kinds and parameters are selected (L = 4, 6, 8).
	out, _, err = resRun(t, "results", "--store", dir, "plot", "--kind", "scaling", "--m2", "0.5", "--lambda", "0",
		"--x-power", "3", "--out", filepath.Join(figs, "s.svg"))
	if err != nil || !strings.Contains(out, "3 (dim 2, m2 = 0.5, lambda = 0)") {
		t.Errorf("scaling by filter: %v\n%s", err, out)
	}
	// Mixed parameters without a filter: a usage error naming the sets.
	if _, _, err := resRun(t, "results", "--store", dir, "plot", "--kind", "scaling", "--out", filepath.Join(figs, "x.png")); err == nil {
		t.Error("scaling over mixed parameters accepted")
	}
	for _, c := range [][]string{
		{"--kind", "trace", "--out", filepath.Join(figs, "t.png"), ids["full"]},
		{"--kind", "correlator", "--out", filepath.Join(figs, "c.svg"), ids["full"]},
		{"--kind", "correlator", "--log", "--out", filepath.Join(figs, "c.png"), ids["full"]},
		{"--kind", "flow", "--out", filepath.Join(figs, "f.png"), ids["full"]},
	} {
		out, _, err := resRun(t, append([]string{"results", "--store", dir, "plot"}, c...)...)
		if err != nil {
			t.Errorf("%v: %v", c, err)
			continue
		}
		if fi, err := os.Stat(c[len(c)-2]); err != nil || fi.Size() < 2000 {
			t.Errorf("%v: figure missing or tiny (%v)", c, err)
		}
		if c[1] == "trace" && !strings.Contains(out, "exact 29") {
			t.Errorf("trace plot found no reference lines:\n%s", out)
		}
	}
	bad := [][]string{
		{"plot", "--kind", "trace", "--out", filepath.Join(figs, "t.png")},
		{"plot", "--kind", "trace", "--out", filepath.Join(figs, "t.png"), ids["gs4"]},
		{"plot", "--kind", "pie", "--out", filepath.Join(figs, "t.png")},
		{"plot", "--kind", "scaling", "--out", filepath.Join(figs, "t.pdf")},
		{"plot", "--kind", "scaling"},
		{"plot", "--kind", "flow", "--out", filepath.Join(figs, "f.png"), ids["gs4"]},
		{"show"},
		{"show", "no-such-run"},
		{"table", "--format", "xml"},
		{"bogus"},
	}
	for _, c := range bad {
		_, _, err := resRun(t, append([]string{"results", "--store", dir}, c...)...)
		if err == nil {
			t.Errorf("%v: no error", c)
		} else if strings.Contains(oneLine(err), "\n") {
			t.Errorf("%v: multi-line error", c)
		}
	}
}
