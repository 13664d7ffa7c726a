package main

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"vqs/hamiltonian"
	"vqs/pimc"
	"vqs/results"
)

func TestPimcBadInputIsUsageError(t *testing.T) {
	cases := [][]string{
		{"--eps", "0.1"},
		{"--eps", "0.1,x"},
		{"--eps", "0.1,0"},
		{"--eps", "0.1,0.1"},
		{"--eps", "0.2,-0.1"},
		{"--beta", "-1"},
		{"--beta", "NaN"},
		{"--beta", "0.3"}, // fewer than 4 slices at eps 0.2
		{"--samples", "0"},
		{"--samples", "5"},
		{"--chains", "0"},
		{"--warmup", "0"},
		{"--extrapolation", "cubic"},
		{"--L", "0"},
		{"--dim", "4"},
		{"--lambda", "-1"},
		{"--m2", "0", "--lambda", "0"},
		{"--bogus"},
	}
	for _, c := range cases {
		_, err := run(t, context.Background(), append([]string{"pimc", "--L", "1", "--dim", "1"}, c...)...)
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

// TestPimcFreeJSONAndStore runs the free theory on 2x2 (where the Gaussian-subtracted points are
// exact at every eps): the JSON E0 must match the exact free E0, every point its exact
// finite-eps value, and the stored record must carry the same numbers.
func TestPimcFreeJSONAndStore(t *testing.T) {
	dir := t.TempDir()
	out, err := run(t, context.Background(), "pimc", "--L", "2", "--dim", "2", "--m2", "0.8", "--lambda", "0",
		"--eps", "0.3,0.2", "--beta", "5", "--samples", "800", "--chains", "2", "--warmup", "100",
		"--seed", "4", "--json", "--store", dir)
	if err != nil {
		t.Fatal(err)
	}
	var res pimcJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lat, _ := hamiltonian.NewLattice(2, 2)
	free, _ := hamiltonian.NewFreeTheory(lat, 0.8)
	if res.E0 == nil || res.Err == nil || math.Abs(*res.E0-free.Energy()) > 3**res.Err {
		t.Fatalf("E0 %v +- %v, exact %v", res.E0, res.Err, free.Energy())
	}
	if len(res.Points) != 2 || res.BetaCheck == nil || res.BetaCheck.Double.Lt != 2*res.Points[0].Lt || res.Raw == nil || res.Gaussian == nil {
		t.Fatalf("points %d, beta check %+v, fits %v %v", len(res.Points), res.BetaCheck, res.Raw, res.Gaussian)
	}
	for _, p := range res.Points {
		ex, _ := pimc.FreeSlice(free.Omega, p.Eps, p.Lt)
		if math.Abs(*p.Energy.Mean-ex.Energy) > 3.5**p.Energy.Err {
			t.Errorf("eps %v: E %v +- %v, exact %v", p.Eps, *p.Energy.Mean, *p.Energy.Err, ex.Energy)
		}
		if math.Abs(p.Beta-float64(p.Lt)*p.Eps) > 1e-12 || p.Beta < 5 {
			t.Errorf("eps %v: beta %v with Lt %d", p.Eps, p.Beta, p.Lt)
		}
	}
	s, _ := results.Open(dir)
	rec, err := s.Get(res.StoreID)
	if err != nil {
		t.Fatal(err)
	}
	e := rec.Estimates[results.EstEnergy]
	if rec.Kind != results.KindPIMC || rec.Status != results.StatusDone || e.Value != *res.E0 || e.Error != *res.Err {
		t.Errorf("record kind %q status %q energy %+v; JSON E0 %v +- %v", rec.Kind, rec.Status, e, *res.E0, *res.Err)
	}
	if ps := rec.Estimates[results.EstEnergyPerSite]; math.Abs(ps.Value-*res.E0/4) > 1e-12 {
		t.Errorf("energy per site %v, want %v", ps.Value, *res.E0/4)
	}
	c := rec.Curves["energy_vs_eps2"]
	if len(c.X) != 2 || c.X[0] != 0.3*0.3 || c.Y[1] != *res.Points[1].Energy.Mean || c.Err[1] != *res.Points[1].Energy.Err {
		t.Errorf("curve energy_vs_eps2 %+v", c)
	}
	if rec.Params.L != 2 || rec.Params.Dim != 2 || rec.Params.M2 != 0.8 || rec.Seed != 4 {
		t.Errorf("params %+v seed %d", rec.Params, rec.Seed)
	}
}

// TestPimcInterrupted: a cancelled run still prints its (here empty) JSON and says it was
// interrupted; the stored record is marked so.
func TestPimcInterrupted(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out, err := run(t, ctx, "pimc", "--L", "1", "--dim", "1", "--eps", "0.3,0.2", "--samples", "100", "--json", "--store", dir)
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("want an interrupted error, got %v", err)
	}
	var res pimcJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !res.Interrupted || len(res.Points) != 0 || res.E0 != nil {
		t.Errorf("interrupted %v, %d points, E0 %v", res.Interrupted, len(res.Points), res.E0)
	}
	s, _ := results.Open(dir)
	if rec, err := s.Get(res.StoreID); err != nil || rec.Status != results.StatusInterrupted {
		t.Errorf("stored record %+v, %v", rec, err)
	}
}

// TestPimcHumanReport checks that the text report lists every eps and the reference lines.
func TestPimcHumanReport(t *testing.T) {
	out, err := run(t, context.Background(), "pimc", "--L", "1", "--dim", "1", "--eps", "0.3,0.2",
		"--samples", "200", "--warmup", "50")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"0.3 ", "0.2 ", "E0, gaussian extrapolation", "E0, raw extrapolation", "beta check", "Gaussian (Hartree) bound    0.812500", "tau_int"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
