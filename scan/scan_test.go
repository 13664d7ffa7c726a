package scan

import (
	"context"
	"path/filepath"
	"testing"

	"vqs/groundstate"
)

// A grid scan computes every (L, m2) point with U4, chi and the gap, and analyses the grid.
func TestGridScan(t *testing.T) {
	cfg := Config{Sizes: []int{2, 3}, M2s: []float64{-1, 1}, Store: filepath.Join(t.TempDir(), "store"),
		GroundState: groundstate.Config{Lambda: 12, Iterations: 10, Samples: 256, Chains: 4}}
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 4 || res.Critical == nil || len(res.Fits) != 2 || res.Fit != nil {
		t.Fatalf("%d rows, critical %v, %d fits", len(res.Rows), res.Critical, len(res.Fits))
	}
	for _, r := range res.Rows {
		if !(r.Binder.Error > 0) || !(r.Chi.Value > 0) || r.GapMethod == "" || !(r.Gap.Value > 0) {
			t.Errorf("L = %d, m2 = %g: U4 %+v, chi %+v, gap %+v (%s)", r.L, r.M2, r.Binder, r.Chi, r.Gap, r.GapMethod)
		}
	}
	// The gap grows with m2 in the symmetric phase.
	var g1, g2 float64
	for _, r := range res.Rows {
		if r.L == 3 && r.M2 == -1 {
			g1 = r.Gap.Value
		}
		if r.L == 3 && r.M2 == 1 {
			g2 = r.Gap.Value
		}
	}
	if !(g2 > g1) {
		t.Errorf("gap at m2 = 1 (%v) not above the gap at m2 = -1 (%v)", g2, g1)
	}
	again, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range again.Rows {
		if !r.Reused {
			t.Errorf("L = %d, m2 = %g was recomputed", r.L, r.M2)
		}
	}
}
