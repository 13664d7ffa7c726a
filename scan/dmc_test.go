package scan

import (
	"testing"

	"vqs/results"
)

// TestStoredDMC: the scaling plot's DMC series holds the finished DMC runs at the scan's
// couplings, and no others.
func TestStoredDMC(t *testing.T) {
	dir := t.TempDir()
	st, err := results.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	put := func(kind, status string, L int, m2, e float64) {
		rec := &results.Record{Kind: kind, Status: status, Params: results.Params{L: L, Dim: 2, M2: m2, Lambda: 12},
			Estimates: map[string]results.Estimate{results.EstEnergy: {Value: e, Error: 0.01}}}
		if err := st.Put(rec); err != nil {
			t.Fatal(err)
		}
	}
	put(results.KindDMC, results.StatusDone, 4, -1, 16)
	put(results.KindDMC, results.StatusDone, 8, -1, 64)
	put(results.KindDMC, results.StatusInterrupted, 16, -1, 256)
	put(results.KindDMC, results.StatusDone, 4, 1, 99)
	put(results.KindGroundState, results.StatusDone, 4, -1, 17)
	s := storedDMC(dir, 2, -1, 12)
	if len(s.Points) != 2 {
		t.Fatalf("points %+v", s.Points)
	}
	for _, p := range s.Points {
		if p.EPerSite != 1 || p.Err != 0.01/float64(p.L*p.L) {
			t.Errorf("point %+v: want E/N = 1", p)
		}
	}
}
