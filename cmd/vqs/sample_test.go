package main

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"vqs/hamiltonian"
	"vqs/results"
	"vqs/sampling"
	"vqs/stats"
)

func TestSampleBadInputIsUsageError(t *testing.T) {
	cases := [][]string{
		{"sample", "--dim", "4"},
		{"sample", "--L", "0"},
		{"sample", "--lambda", "-1"},
		{"sample", "--m2", "0", "--lambda", "0"},
		{"sample", "--method", "metropolis"},
		{"sample", "--scheme", "wilson"},
		{"sample", "--score", "oracle"},
		{"sample", "--reverse", "backwards"},
		{"sample", "--depths", "0", "--method", "bridge", "--score", "gaussian"},
		{"sample", "--depths", "99", "--method", "bridge", "--score", "gaussian"},
		{"sample", "--sizes", "8,x"},
		{"sample", "--dim", "3", "--eps", "0"},
		{"sample", "--dim", "3", "--Lt", "-2"},
		{"sample", "--samples", "0"},
		{"sample", "--flip", "2"},
		{"sample", "--mu2", "-1"},
		{"sample", "--reference", "guess"},
		{"sample", "--uv-decay", "0"},
		{"sample", "--hmc-per-move", "-1"},
		{"sample", "--tau-plot", "tau.pdf"},
		{"sample", "--method", "cluster", "--clusters", "0"},
		{"sample", "--method", "hmc", "--clusters", "2"},
		{"sample", "--method", "cluster", "--flow-plot", "flow.png"},
	}
	for _, args := range cases {
		// Fast settings go first so that a case's own flag (e.g. --samples 0) wins.
		full := append([]string{args[0], "--samples", "4", "--warmup", "0", "--score", "gaussian"}, args[1:]...)
		_, err := run(t, context.Background(), full...)
		var ue usageError
		if err == nil || !errors.As(err, &ue) {
			t.Errorf("%v: want a usage error, got %v", args, err)
		} else {
			t.Logf("%v: %v", args, err)
		}
	}
	// The fast settings themselves are valid: every case above fails for its own flag.
	if _, err := run(t, context.Background(), "sample", "--samples", "4", "--warmup", "0", "--score", "gaussian", "--L", "4"); err != nil {
		t.Fatalf("the fast settings of the cases fail by themselves: %v", err)
	}
}

// TestSampleFreeBridgeJSON: on the free theory the Gaussian score is exact, so full-depth
// bridge moves are all accepted and <phi^2> matches (1/N) sum_k 1/(p^2 + m2), as it does for
// HMC and HMC with cluster flips (--method all runs the three).
func TestSampleFreeBridgeJSON(t *testing.T) {
	L, m2 := 6, 0.5
	args := []string{"sample", "--L", "6", "--m2", "0.5", "--lambda", "0",
		"--method", "all", "--score", "gaussian", "--reference", "hartree", "--levels", "12", "--depths", "12", "--samples", "600",
		"--warmup", "50", "--clusters", "3"}
	text, err := run(t, context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sampler     hmc+cluster on L = 6", "3 Wolff flips per trajectory",
		"L = 6    hmc+cluster abs_m", "L = 6    bridge      abs_m"} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
	store := t.TempDir()
	out, err := run(t, context.Background(), append(args, "--json", "--store", store)...)
	if err != nil {
		t.Fatal(err)
	}
	var res sampleJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	lat, _ := hamiltonian.NewLattice(L, 2)
	exact := 0.0
	for _, p := range lat.MomentumSquared() {
		exact += 1 / (p + m2)
	}
	exact /= float64(lat.N)
	if len(res.Runs) != 3 {
		t.Fatalf("want hmc, hmc+cluster and bridge runs, got %d", len(res.Runs))
	}
	st, err := results.Open(store)
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := st.List()
	if err != nil || len(recs) != 3 {
		t.Fatalf("store: %d records, %v; want 3", len(recs), err)
	}
	for _, rec := range recs {
		cl := rec.Params.Extra["sampler"] == "hmc+cluster"
		if n, _ := rec.Params.Extra["clusters"].(float64); cl != (n == 3) {
			t.Errorf("stored %v run: clusters %v", rec.Params.Extra["sampler"], rec.Params.Extra["clusters"])
		}
		if _, ok := rec.Meta["cluster_fraction"]; cl != ok {
			t.Errorf("stored %v run: cluster_fraction present %v", rec.Params.Extra["sampler"], ok)
		}
	}
	for i, want := range []string{"hmc", "hmc+cluster", "bridge"} {
		r := res.Runs[i]
		if r.Sampler != want {
			t.Errorf("run %d: sampler %q, want %q", i, r.Sampler, want)
		}
		if cl := want == "hmc+cluster"; cl != (r.Clusters == 3) || cl != (r.ClusterFraction != nil && *r.ClusterFraction > 0 && *r.ClusterFraction <= 1) {
			t.Errorf("%s: clusters_per_trajectory %d, cluster_fraction %v", want, r.Clusters, r.ClusterFraction)
		}
	}
	for _, r := range res.Runs {
		e := r.Observables["phi2"]
		if math.Abs(*e.Value-exact) > 5**e.Error {
			t.Errorf("%s: <phi^2> = %v +- %v, exact %v", r.Sampler, *e.Value, *e.Error, exact)
		}
		if r.Sampler == "bridge" && *r.Acceptance < 0.999 {
			t.Errorf("bridge acceptance %v with the exact score", *r.Acceptance)
		}
	}
}

// TestSampleHybridFree: the hybrid chain (HMC trajectories between bridge moves with the
// denoised score) on the free theory must reproduce <phi^2> = (1/N) sum_k 1/(p^2 + m2).
func TestSampleHybridFree(t *testing.T) {
	L, m2 := 6, 0.5
	out, err := run(t, context.Background(), "sample", "--L", "6", "--m2", "0.5", "--lambda", "0",
		"--method", "bridge", "--score", "denoised", "--hmc-per-move", "1", "--levels", "16",
		"--depths", "4,8,16", "--samples", "600", "--warmup", "50", "--pretrain", "50", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res sampleJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	lat, _ := hamiltonian.NewLattice(L, 2)
	exact := 0.0
	for _, p := range lat.MomentumSquared() {
		exact += 1 / (p + m2)
	}
	exact /= float64(lat.N)
	if len(res.Runs) != 1 || res.Runs[0].Sampler != "hybrid" || res.Runs[0].HMCAccept == nil {
		t.Fatalf("want one hybrid run with its HMC acceptance, got %+v", res.Runs)
	}
	e := res.Runs[0].Observables["phi2"]
	if math.Abs(*e.Value-exact) > 5**e.Error {
		t.Errorf("hybrid: <phi^2> = %v +- %v, exact %v", *e.Value, *e.Error, exact)
	}
}

// --tau-plot draws tau_int of <|M|> and chi against L, one series per sampler and observable,
// with the measured tau_int of every size, and lists the file among the plots.
func TestSampleTauPlot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tau.png")
	out, err := run(t, context.Background(), "sample", "--sizes", "4,6", "--m2", "0.5", "--lambda", "0",
		"--method", "hmc", "--samples", "200", "--warmup", "20", "--tau-plot", path, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res sampleJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.Plots, path) {
		t.Errorf("plots %v lack %s", res.Plots, path)
	}
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Fatalf("tau plot: %v", err)
	}
	// Runs out of size order (--sizes 8,4): every series comes out sorted by L; an unreliable
	// estimate leaves its sampler's series for its own.
	absM := func(tau, tauErr float64, unreliable bool) sampling.Observables {
		return sampling.Observables{AbsM: sampling.Observable{Estimate: stats.Estimate{Tau: tau, TauErr: tauErr, Unreliable: unreliable}}}
	}
	sp := tauPlot(&sampling.Result{Config: sampling.Config{Dim: 2, M2: 0.5}, Runs: []sampling.SamplerRun{
		{Sampler: "hmc", L: 8, Observables: absM(4.5, 0.5, false)}, {Sampler: "bridge", L: 8, Observables: absM(130, 40, true)},
		{Sampler: "hmc", L: 4, Observables: absM(1.5, 0.2, false)}, {Sampler: "bridge", L: 4, Observables: absM(30, 8, false)}}})
	byLabel := map[string]results.Curve{}
	for _, c := range sp.Series {
		byLabel[c.Label] = c
	}
	hmc, bridge, stuck := byLabel["hmc, <|M|>"], byLabel["bridge, <|M|>"], byLabel["bridge, <|M|> (UNRELIABLE: a lower bound)"]
	if len(sp.Series) != 5 || !slices.Equal(hmc.X, []float64{4, 8}) || !slices.Equal(hmc.Y, []float64{1.5, 4.5}) ||
		!slices.Equal(hmc.Err, []float64{0.2, 0.5}) || !slices.Equal(bridge.X, []float64{4}) || !slices.Equal(stuck.Y, []float64{130}) ||
		!slices.Equal(sp.XTicks, []float64{4, 8}) || !sp.LogX || !sp.LogY {
		t.Errorf("tau plot %+v", sp)
	}
}
