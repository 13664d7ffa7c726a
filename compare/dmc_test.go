package compare

import (
	"context"
	"math"
	"testing"

	"vqs/dmc"
	"vqs/groundstate"
)

// TestDMCEntry: with Config.DMC the comparison gets a dmc entry guided by the VMC state, at
// the exact energy of the anharmonic oscillator within its error.
func TestDMCEntry(t *testing.T) {
	cfg := Config{Sizes: []int{1}, NoPIMC: true, DMC: &dmc.Config{Walkers: 128, Time: 40, Taus: []float64{0.1}, PopulationWalkers: -1, LagTime: -1},
		GroundState: groundstate.Config{Dim: 1, M2: 1, Lambda: 24, Iterations: 30, Samples: 128, Chains: 2, Seed: 1}}
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var e, exact *Entry
	for i, x := range res.Rows[0].Entries {
		switch x.Method {
		case "dmc":
			e = &res.Rows[0].Entries[i]
		case "exact":
			exact = &res.Rows[0].Entries[i]
		}
	}
	if e == nil || exact == nil {
		t.Fatalf("entries %+v", res.Rows[0].Entries)
	}
	if math.Abs(e.Energy-exact.Energy) > 4*e.Err || e.Err > 1e-3 {
		t.Errorf("dmc %v +- %v, exact %v", e.Energy, e.Err, exact.Energy)
	}
}
