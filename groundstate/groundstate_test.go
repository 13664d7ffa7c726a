package groundstate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vqs/results"
	"vqs/vmc"
)

// small is a quick problem with an exact reference: 2x2 at m2 = 1, lambda = 24.
func small() Config {
	return Config{L: 2, M2: 1, Lambda: 24, Iterations: 30, Samples: 256, Chains: 4, Seed: 3}
}

func TestRunSmallProblem(t *testing.T) {
	res, err := Run(context.Background(), small(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := res.Estimate.Energy
	if res.Status != vmc.Completed || res.Iterations != 30 || len(res.Trace) != 30 || res.Exact == nil || res.Correlation == nil {
		t.Fatalf("status %v, %d iterations, exact %v, correlation %v", res.Status, res.Iterations, res.Exact, res.Correlation)
	}
	if e.Value < res.Exact.Energy-3*e.Error || e.Value > res.Gaussian.Energy+3*e.Error {
		t.Fatalf("E = %v +- %v outside [exact %v, Gaussian bound %v]", e.Value, e.Error, res.Exact.Energy, res.Gaussian.Energy)
	}
	s := res.Summary()
	if s.Sites != 4 || s.Energy != e.Value || *s.ExactEnergy != res.Exact.Energy || s.Status != "completed" || s.Params != len(res.Params) {
		t.Fatalf("summary %+v", s)
	}
}

func TestValidate(t *testing.T) {
	for name, c := range map[string]Config{
		"no lattice":           {M2: 1, Lambda: 24},
		"negative lambda":      {L: 4, M2: 1, Lambda: -1},
		"free without mass":    {L: 4, M2: 0, Lambda: 0},
		"sampler":              {L: 4, M2: 1, Lambda: 24, Sampler: "gibbs"},
		"optimizer":            {L: 4, M2: 1, Lambda: 24, Optimizer: "lbfgs"},
		"samples below chains": {L: 4, M2: 1, Lambda: 24, Samples: 8, Chains: 16},
		"too few measurements": {L: 4, M2: 1, Lambda: 24, MeasureSamples: 16, Chains: 16},
		"negative rate":        {L: 4, M2: 1, Lambda: 24, LR: -0.1},
		"negative chains":      {L: 4, M2: 1, Lambda: 24, Chains: -2},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := (Config{L: 4, M2: 1, Lambda: 24}).Validate(); err != nil {
		t.Errorf("defaults refused: %v", err)
	}
}

// An interrupted run keeps its checkpoint and trace; a rerun without Resume is refused; Resume
// (reading the problem from the directory) continues to the end with a continuous trace.
func TestRunDirInterruptAndResume(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	cfg := small()
	cfg.Dir = dir
	ctx, cancel := context.WithCancel(context.Background())
	res, err := Run(ctx, cfg, func(p Progress) {
		if p.Stage == "optimize" && p.Iter.Iter == 12 {
			cancel()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != vmc.Interrupted || res.Iterations != 12 {
		t.Fatalf("status %v after %d iterations", res.Status, res.Iterations)
	}
	for _, f := range []string{ProblemFile, CheckpointFile, TraceFile, RunFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s missing after an interrupt: %v", f, err)
		}
	}
	if _, err := Run(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("a second fresh run over the checkpoint: %v", err)
	}
	res2, err := Resume(context.Background(), dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Status != vmc.Completed || res2.Iterations != 30 || res2.ResumedFrom != 12 {
		t.Fatalf("resumed: status %v, %d iterations, from %d", res2.Status, res2.Iterations, res2.ResumedFrom)
	}
	f, err := os.Open(filepath.Join(dir, TraceFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pts, err := results.ReadTrace(f)
	if err != nil || len(pts) != 30 {
		t.Fatalf("trace has %d lines (%v), want 30", len(pts), err)
	}
	for i, p := range pts {
		if p.Iter != i+1 {
			t.Fatalf("trace line %d is iteration %d", i, p.Iter)
		}
	}
	// A resume may extend the budget, not change the physics.
	if _, err := Resume(context.Background(), dir, func(c *Config) { c.M2 = 2 }, nil); err == nil {
		t.Fatal("a resume changed m2")
	}
	cfg.Force = true
	if _, err := Run(context.Background(), cfg, nil); err != nil {
		t.Fatalf("--force over an old run: %v", err)
	}
}

func TestSaveOnce(t *testing.T) {
	st, err := results.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	c := small()
	c.Iterations, c.NoReference = 3, true
	res, err := Run(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, existed, err := res.Save(st, results.KindScan, true)
	if err != nil || existed {
		t.Fatalf("first save: %v, existed %v", err, existed)
	}
	b, existed, err := res.Save(st, results.KindScan, true)
	if err != nil || !existed || b.ID != a.ID {
		t.Fatalf("second save: %v, existed %v, ids %s %s", err, existed, a.ID, b.ID)
	}
	pts, err := st.ReadTrace(a)
	if err != nil || len(pts) != 3 {
		t.Fatalf("stored trace: %d points, %v", len(pts), err)
	}
	if e := a.Estimates[results.EstEnergy]; e.Value != res.Estimate.Energy.Value {
		t.Fatalf("stored energy %v, result %v", e.Value, res.Estimate.Energy.Value)
	}
}

// The ground-state defaults take the iteration count for the lattice's side from vmc, so the
// library, the CLI and the stored record agree on it.
func TestIterationsDefaultFollowsL(t *testing.T) {
	for L, want := range map[int]int{8: vmc.IterationsFor(8), 32: vmc.IterationsFor(32)} {
		if got := (Config{L: L}).WithDefaults().Iterations; got != want {
			t.Errorf("L = %d: %d iterations, want %d", L, got, want)
		}
	}
	if vmc.IterationsFor(32) <= vmc.IterationsFor(8) {
		t.Errorf("32x32 gets %d iterations, 8x8 %d", vmc.IterationsFor(32), vmc.IterationsFor(8))
	}
}
