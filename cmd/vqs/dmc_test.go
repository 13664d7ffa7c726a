package main

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vqs/dmc"
	"vqs/results"
)

const ahoE0 = 0.803770651234274

func TestDMCBadInputIsUsageError(t *testing.T) {
	guide := trainTinyGuide(t)
	cases := [][]string{
		{"--tau", "0.1,x"},
		{"--tau", "0.1,-0.05"},
		{"--tau", "0.1,0.1"},
		{"--walkers", "0"},
		{"--walkers", "4"},
		{"--time", "0"},
		{"--time", "1"}, // fewer than 64 generations at tau 0.05
		{"--pop-walkers", "-2"},
		{"--product-time", "-2"},
		{"--lag-time", "-0.5"},
		{"--resume"},
		{"--guide", filepath.Join(t.TempDir(), "missing")},
		{"--guide", guide, "--m2", "2"},
		{"--guide", guide, "--L", "3"},
		{"--lambda", "-1"},
		{"--bogus"},
	}
	for _, c := range cases {
		_, err := run(t, context.Background(), append([]string{"dmc", "--L", "1", "--dim", "1", "--iters", "1"}, c...)...)
		var ue usageError
		if err == nil || !errors.As(err, &ue) {
			t.Errorf("%v: want a usage error, got %v", c, err)
			continue
		}
		if msg := oneLine(err); msg == "" || strings.Contains(msg, "\n") {
			t.Errorf("%v: error %q is not one line", c, msg)
		}
	}
}

// trainTinyGuide saves a short ground-state run of the anharmonic oscillator and returns its
// directory.
func trainTinyGuide(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "guide")
	if _, err := run(t, context.Background(), "ground-state", "--L", "1", "--dim", "1", "--m2", "1", "--lambda", "24",
		"--iters", "40", "--samples", "128", "--chains", "2", "--out", dir, "--json"); err != nil {
		t.Fatal(err)
	}
	return dir
}

func dmcRun(t *testing.T, ctx context.Context, args ...string) (dmc.Summary, error) {
	t.Helper()
	out, err := run(t, ctx, append([]string{"dmc", "--json"}, args...)...)
	var r dmc.Summary
	if out != "" {
		if jerr := json.Unmarshal([]byte(out), &r); jerr != nil {
			t.Fatalf("%v\n%s", jerr, out)
		}
	}
	return r, err
}

// TestDMCGuideJSONStoreResume runs DMC on the anharmonic oscillator with a saved guide: the
// JSON carries E0 (within its error of the exact value), the VMC energy, one entry per time
// step and the gap; the store gets a dmc record; an interrupted run resumed from its checkpoint
// ends with exactly the numbers of an uninterrupted one.
func TestDMCGuideJSONStoreResume(t *testing.T) {
	guide := trainTinyGuide(t)
	store := t.TempDir()
	args := []string{"--guide", guide, "--walkers", "128", "--time", "20", "--tau", "0.1,0.05", "--seed", "3"}
	r, err := dmcRun(t, context.Background(), append(args, "--store", store)...)
	if err != nil {
		t.Fatal(err)
	}
	if r.Energy == nil || r.EnergyErr == nil || math.Abs(*r.Energy-ahoE0) > 4**r.EnergyErr || *r.EnergyErr > 2e-3 {
		t.Fatalf("energy %v +- %v, exact %v", deref(r.Energy), deref(r.EnergyErr), ahoE0)
	}
	if r.L != 1 || r.Dim != 1 || r.M2 != 1 || r.Lambda != 24 || !r.Extrapolated || !r.Complete || r.Guide == nil || r.Guide.Source != "loaded" {
		t.Errorf("run description: %+v", r)
	}
	if len(r.Points) != 2 || r.Points[0].Tau != 0.1 || r.Points[1].Tau != 0.05 || r.VMCEnergy == nil || r.Fit == nil ||
		r.Spread == nil || r.Population == nil || r.Gap == nil || r.GapErr == nil || r.Exact == nil {
		t.Fatalf("missing parts: points %d, vmc %v, fit %v, spread %v, population %v, gap %v", len(r.Points), r.VMCEnergy,
			r.Fit, r.Spread, r.Population, r.Gap)
	}
	// E1 - E0 of the oscillator.
	if gap := 2.7378922 - ahoE0; math.Abs(*r.Gap-gap) > 4**r.GapErr {
		t.Errorf("gap %v +- %v, exact %v", *r.Gap, *r.GapErr, gap)
	}
	st, err := results.Open(store)
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := st.List()
	if err != nil || len(recs) != 1 || recs[0].Kind != results.KindDMC || recs[0].Estimates[results.EstEnergy].Value != *r.Energy {
		t.Fatalf("store: %v, %+v", err, recs)
	}

	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // interrupted at once: the checkpoint holds the first walkers
	part, err := dmcRun(t, ctx, append(args, "--out", out)...)
	if err == nil || !strings.Contains(err.Error(), "interrupted") || !part.Interrupted || part.Complete {
		t.Fatalf("interrupted run: err %v, %+v", err, part)
	}
	if _, err := os.Stat(filepath.Join(out, "checkpoint.gob")); err != nil {
		t.Fatal("no checkpoint after the interrupt")
	}
	got, err := dmcRun(t, context.Background(), append(args, "--out", out, "--resume")...)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Energy != *r.Energy || *got.EnergyErr != *r.EnergyErr || *got.VMCEnergy != *r.VMCEnergy {
		t.Errorf("resumed E0 %v +- %v, uninterrupted %v +- %v", *got.Energy, *got.EnergyErr, *r.Energy, *r.EnergyErr)
	}
	if _, err := os.Stat(filepath.Join(out, "result.json")); err != nil {
		t.Error("no result.json")
	}
	// Resuming with other DMC settings is refused.
	if _, err := dmcRun(t, context.Background(), append(args, "--out", out, "--resume", "--walkers", "32")...); err == nil {
		t.Error("resume with another population accepted")
	}
}

// TestDMCTrainsGuide: without --guide the state is trained with the ground-state flags and
// saved in --out/guide, and the report text has the main lines.
func TestDMCTrainsGuide(t *testing.T) {
	out := t.TempDir()
	text, err := run(t, context.Background(), "dmc", "--L", "1", "--dim", "1", "--iters", "20", "--samples", "64",
		"--chains", "2", "--walkers", "32", "--time", "8", "--tau", "0.1", "--pop-walkers", "-1", "--out", out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"trained here", "E0 (one tau, not extrapolated)", "VMC of the guide", "exact", "<phi^2>",
		"gap, k = 0 mode"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "guide", "run.json")); err != nil {
		t.Errorf("the trained guide was not saved: %v", err)
	}
}
