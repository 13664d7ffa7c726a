package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vqs/compare"
	"vqs/groundstate"
	"vqs/results"
)

// run executes the CLI in-process and returns stdout and the error.
func run(t *testing.T, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

func TestBadInputIsOneLineError(t *testing.T) {
	cases := [][]string{
		{"exact", "--L", "0"},
		{"exact", "--lambda", "-1"},
		{"exact", "--m2", "0", "--lambda", "0"},
		{"exact", "--m2", "-1", "--lambda", "0"},
		{"exact", "--m2", "NaN"},
		{"exact", "--lambda", "Inf"},
		{"exact", "--L", "4", "--nmax", "20"},
		{"exact", "--bogus"},
		{"gaussian", "--L", "-3"},
		{"gaussian", "--dim", "5"},
		{"ground-state", "--chains", "0"},
		{"ground-state", "--optimizer", "newton"},
		{"ground-state", "--init", "random"},
		{"ground-state", "--resume"},
		{"ground-state", "--lr", "NaN"},
		{"ground-state", "--scales", "9"},
	}
	for _, c := range cases {
		_, err := run(t, context.Background(), c...)
		if err == nil {
			t.Errorf("%v: no error", c)
			continue
		}
		if msg := oneLine(err); strings.Contains(msg, "\n") || msg == "" {
			t.Errorf("%v: error %q is not one line", c, msg)
		}
	}
}

func TestExactFree32x32JSON(t *testing.T) {
	out, err := run(t, context.Background(), "exact", "--L", "32", "--m2", "1", "--lambda", "0", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Method string
		Energy float64
		Gap    *float64
		Sites  int
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if want := 1118.484118259315; math.Abs(r.Energy-want) > 1e-9*want || r.Sites != 1024 || r.Gap == nil || *r.Gap != 1 {
		t.Fatalf("got %+v, want energy %v", r, want)
	}
}

// An interrupted ground-state run must still print a finite result and leave a checkpoint that
// --resume continues from.
func TestGroundStateInterruptAndResume(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // interrupted before the first iteration
	args := []string{"ground-state", "--L", "2", "--iters", "6", "--samples", "64", "--chains", "4",
		"--out", dir, "--json"}
	out, err := run(t, ctx, args...)
	var ie interruptedError
	if !errors.As(err, &ie) || exitCode(err) != 3 {
		t.Fatalf("an interrupted run returned %v (exit %d), want the interrupted status 3", err, exitCode(err))
	}
	var r groundstate.Summary
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Status != "interrupted" || r.Stopped != "interrupted" || r.Iterations != 0 || math.IsNaN(r.Energy) {
		t.Fatalf("interrupted run: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "checkpoint.json")); err != nil {
		t.Fatal("no checkpoint after interrupt")
	}
	out, err = run(t, context.Background(), append(args, "--resume")...)
	if err != nil {
		t.Fatal(err)
	}
	r = groundstate.Summary{}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Iterations != 6 || r.Stopped != "" || r.Status != "completed" || r.ExactEnergy == nil || r.Energy < *r.ExactEnergy-5*r.EnergyErr {
		t.Fatalf("resumed run: %+v", r)
	}
	for _, f := range []string{"run.json", "trace.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	// Resuming with different physics is refused.
	if _, err := run(t, context.Background(), "ground-state", "--L", "2", "--m2", "2", "--chains", "4",
		"--samples", "64", "--out", dir, "--resume"); err == nil {
		t.Fatal("resume with another m2 accepted")
	}
	// The finished state measured again by the other sampler: any exact sampler continues the
	// stored chains, so the energies agree.
	out, err = run(t, context.Background(), "ground-state", "--L", "2", "--chains", "4", "--samples", "64",
		"--out", dir, "--resume", "--sampler", "bridge", "--bridge-score", "gaussian", "--measure-samples", "4096", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rb groundstate.Summary
	if err := json.Unmarshal([]byte(out), &rb); err != nil {
		t.Fatal(err)
	}
	if rb.SamplerName != "bridge" || rb.Iterations != 6 || math.Abs(rb.Energy-r.Energy) > 5*math.Hypot(rb.EnergyErr, r.EnergyErr) {
		t.Fatalf("the state measured by the bridge: %s, %d iterations, E = %v +- %v against HMC's %v +- %v",
			rb.SamplerName, rb.Iterations, rb.Energy, rb.EnergyErr, r.Energy, r.EnergyErr)
	}
	// --iters 0 (measure only) cannot mean that on a resume: refused, not silently ignored.
	var ue usageError
	if _, err := run(t, context.Background(), "ground-state", "--L", "2", "--chains", "4", "--samples", "64",
		"--out", dir, "--resume", "--iters", "0"); !errors.As(err, &ue) {
		t.Fatalf("resume with --iters 0: %v, want a usage error", err)
	}
}

// A scan stores every size; run again, it finds them in the store and computes nothing new.
func TestScanResumesFromStore(t *testing.T) {
	dir := t.TempDir()
	args := []string{"scan", "--L", "1,2", "--iters", "4", "--samples", "32", "--chains", "2",
		"--store", dir, "--json"}
	parse := func(out string) scanOutJSON {
		var r scanOutJSON
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return r
	}
	out, err := run(t, context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	first := parse(out)
	if len(first.Rows) != 2 || first.Rows[0].Reused || first.Rows[0].Exact == nil || first.EInf == nil {
		t.Fatalf("first scan: %+v", first)
	}
	out, err = run(t, context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	second := parse(out)
	for i, r := range second.Rows {
		if !r.Reused || r.ID != first.Rows[i].ID || r.Energy != first.Rows[i].Energy {
			t.Fatalf("second scan recomputed L = %d: %+v", r.L, r)
		}
	}
	if _, err := os.Stat(first.Plots[0]); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, context.Background(), "scan", "--L", "4,8", "--store", dir, "--emit", "slurm")
	if err != nil || !strings.Contains(out, "#SBATCH --array=0-1") || !strings.Contains(out, "SIZES=(4 8)") {
		t.Fatalf("slurm script: %v\n%s", err, out)
	}
}

func TestCompareListsEveryMethod(t *testing.T) {
	out, err := run(t, context.Background(), "compare", "--L", "1", "--iters", "5", "--samples", "64",
		"--chains", "2", "--pimc-samples", "100", "--pimc-eps", "0.3,0.2", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res compare.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	rows := res.Rows
	if len(rows) != 1 || len(rows[0].Entries) != 4 || len(rows[0].Diffs) != 6 {
		t.Fatalf("got %+v", rows)
	}
	for _, r := range rows[0].Entries {
		if r.Method == "exact" && math.Abs(r.Energy-0.803770651234274) > 1e-9 {
			t.Fatalf("exact %v", r.Energy)
		}
	}
	if _, err := run(t, context.Background(), "compare", "--pimc-eps", "0.1"); err == nil {
		t.Fatal("a single eps accepted")
	}
}

// vqs sample stores its run with the learned flow, and results plots that flow.
func TestSampleStoresLearnedFlow(t *testing.T) {
	dir := t.TempDir()
	plot := filepath.Join(dir, "flow.png")
	if _, err := run(t, context.Background(), "sample", "--method", "bridge", "--dim", "2", "--L", "4", "--m2", "-1", "--lambda", "24",
		"--samples", "50", "--train-steps", "5", "--pretrain", "32", "--warmup", "20", "--levels", "8",
		"--store", dir, "--flow-plot", plot, "--json"); err != nil {
		t.Fatal(err)
	}
	st, err := results.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := st.List()
	if err != nil || len(recs) != 1 {
		t.Fatalf("records %v, %v", recs, err)
	}
	c, ok := recs[0].Curves[results.CurveFlowPrefix+"m2"]
	if !ok || len(c.X) != 9 || recs[0].Estimates["binder"].Error <= 0 {
		t.Fatalf("record without the flow of m2 over 9 levels or the Binder cumulant: %+v", recs[0])
	}
	if _, err := os.Stat(plot); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, context.Background(), "results", "plot", "--kind", "flow", "--store", dir,
		"--out", filepath.Join(dir, "f2.svg"), recs[0].ID); err != nil {
		t.Fatal(err)
	}
	// The stored G(r) is plottable.
	if g := recs[0].Curves[results.CurveCorrelator]; len(g.Y) != 3 || !(g.Y[0] > g.Y[1]) {
		t.Fatalf("stored correlator %+v", g)
	}
	if _, err := run(t, context.Background(), "results", "plot", "--kind", "correlator", "--store", dir,
		"--out", filepath.Join(dir, "g.png"), recs[0].ID); err != nil {
		t.Fatal(err)
	}
	// --flow-plot is refused before the run where it cannot work.
	for _, bad := range [][]string{{"--method", "hmc"}, {"--method", "bridge", "--flow-plot", "x.pdf"}} {
		args := append([]string{"sample", "--L", "4", "--flow-plot", plot}, bad...)
		if _, err := run(t, context.Background(), args...); err == nil || exitCode(err) != 2 {
			t.Errorf("%v: %v", bad, err)
		}
	}
}
