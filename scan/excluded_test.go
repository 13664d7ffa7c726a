package scan

import (
	"testing"

	"vqs/stats"
)

// A point whose VMC run diverged is listed and left out of the crossings and the collapse.
func TestDivergedPointsAreLeftOut(t *testing.T) {
	est := func(v float64) stats.Estimate { return stats.Estimate{Value: v, Error: 0.01} }
	var rows []Row
	for _, L := range []int{8, 16} {
		for i, m2 := range []float64{-1.2, -1.1, -1.0, -0.9} {
			// U4 falls with m2 and more steeply on the larger lattice: a crossing near -1.05.
			u := 0.3 - 0.1*float64(i-1)*(1+float64(L)/16)
			rows = append(rows, Row{L: L, M2: m2, Binder: est(u), Gap: est(1 + 0.1*float64(i)), RunStatus: "completed"})
		}
	}
	rows[0].RunStatus, rows[0].Binder = "diverged", est(-50) // garbage that would move the curves
	c := analyse(rows, 1)
	if len(c.Excluded) != 1 || c.Excluded[0] != "L = 8, m2 = -1.2" {
		t.Fatalf("excluded %v", c.Excluded)
	}
	for _, cur := range c.BinderCurves {
		for _, p := range cur.Points {
			if p.Value == -50 {
				t.Fatal("the diverged point is still in the U4 curves")
			}
		}
	}
}
