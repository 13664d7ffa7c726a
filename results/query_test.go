package results

import (
	"math"
	"path/filepath"
	"sync"
	"testing"
)

func TestSelect(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "runs"))
	if err != nil {
		t.Fatal(err)
	}
	put := func(kind string, L int, m2 float64, extra map[string]any) string {
		r := Record{Kind: kind, Status: StatusDone, Params: Params{L: L, Dim: 2, M2: m2, Lambda: 12, Extra: extra},
			Estimates: map[string]Estimate{EstEnergy: {Value: float64(L), Error: 0.1}}}
		if err := s.Put(&r); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	a := put(KindGroundState, 8, -1.55, map[string]any{"seed": 1})
	put(KindGroundState, 16, -1.55, map[string]any{"seed": 1})
	put(KindExact, 8, -1.55, nil)
	put(KindGroundState, 8, -1.4, map[string]any{"seed": 2})
	m2 := -1.55
	for name, c := range map[string]struct {
		f    Filter
		want int
	}{
		"all":           {Filter{}, 4},
		"kind":          {Filter{Kinds: []string{KindGroundState}}, 3},
		"size":          {Filter{L: 8}, 3},
		"coupling":      {Filter{M2: &m2}, 3},
		"extra":         {Filter{Extra: map[string]any{"seed": 1}}, 2},
		"extra missing": {Filter{Extra: map[string]any{"seed": 3}}, 0},
		"ids":           {Filter{IDs: []string{a}}, 1},
		"ids filtered":  {Filter{IDs: []string{a}, L: 16}, 0},
	} {
		got, _, err := s.Select(c.f)
		if err != nil || len(got) != c.want {
			t.Errorf("%s: %d records (%v), want %d", name, len(got), err, c.want)
		}
	}
	if _, _, err := s.Select(Filter{IDs: []string{"nope"}}); err == nil {
		t.Error("an unknown ID was not an error")
	}
	refs, err := s.References(Params{L: 8, Dim: 2, M2: -1.55, Lambda: 12})
	if err != nil || len(refs) != 1 || refs[0].Label != "exact" || refs[0].Value != 8 {
		t.Errorf("references %+v, %v", refs, err)
	}
}

// Two writers storing the same deterministic computation at once store it once, and both see
// the same record.
func TestPutOnceIsIdempotentUnderConcurrency(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "runs"))
	if err != nil {
		t.Fatal(err)
	}
	p := Params{L: 8, Dim: 2, M2: 1, Lambda: 24, Extra: map[string]any{"iters": 200, "seed": 1}}
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &Record{Kind: KindScan, Status: StatusDone, Params: p, Estimates: map[string]Estimate{EstEnergy: {Value: float64(i), Error: 1}}}
			got, _, err := s.PutOnce(r)
			if err != nil {
				t.Error(err)
			}
			ids[i] = got.ID
		}()
	}
	wg.Wait()
	all, _, _ := s.List()
	if len(all) != 1 {
		t.Fatalf("%d records stored, want 1", len(all))
	}
	for _, id := range ids {
		if id != all[0].ID {
			t.Fatalf("writers saw IDs %v, stored %s", ids, all[0].ID)
		}
	}
	// A different computation has a different key.
	q := p
	q.Extra = map[string]any{"iters": 200, "seed": 2}
	if Key(KindScan, p) == Key(KindScan, q) || Key(KindScan, p) != Key(KindScan, Params{L: 8, Dim: 2, M2: 1, Lambda: 24,
		Extra: map[string]any{"seed": 1, "iters": 200}}) {
		t.Error("Key does not identify the computation")
	}
}

func TestFitScaling(t *testing.T) {
	// E/N = 1.5 + 2/N exactly at L = 4, 8, 16 in 2D.
	var pts []ScalingPoint
	for _, L := range []int{4, 8, 16} {
		pts = append(pts, ScalingPoint{L: L, EPerSite: 1.5 + 2/float64(L*L), Err: 1e-3})
	}
	f, err := FitScaling(pts, 2, 0)
	if err != nil || math.Abs(f.A-1.5) > 1e-12 || math.Abs(f.B-2) > 1e-10 || f.XPower != 2 || f.Exact {
		t.Fatalf("fit %+v, %v", f, err)
	}
	for _, bad := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := FitScaling(pts, 2, bad); err == nil {
			t.Errorf("x power %v accepted", bad)
		}
	}
}
