package vmc

import (
	"context"
	"math"
	"strings"
	"testing"

	"vqs/hamiltonian"
)

// stallingSampler reports an acceptance of zero on the Sample calls listed in stall (counted
// from 1, thermalisation included), as a sampler whose chains stopped moving would.
type stallingSampler struct {
	Sampler
	calls int
	stall func(call int) bool
}

func (s *stallingSampler) Sample(ctx context.Context, perChain int, visit func(chain, i int, phi []float64)) (float64, error) {
	s.calls++
	a, err := s.Sampler.Sample(ctx, perChain, visit)
	if s.stall(s.calls) {
		return 0, err
	}
	return a, err
}

func newStallingRun(t *testing.T, stall func(int) bool) (*Result, *stallingSampler) {
	t.Helper()
	m, _ := hamiltonian.NewModel(4, 2, 1, 6)
	wf := newTestWF(m, 2, 1, 0.1, true)
	h, err := NewHMC(wf, m.L, m.Dim, 4, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	s := &stallingSampler{Sampler: h, stall: stall}
	res, err := Run(context.Background(), m, wf, s, Config{Iterations: 12, Samples: 256, MeasureSamples: 512}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res, s
}

// A step after which the sampler stalls is undone and retried with a quarter of the step;
// the run goes on and completes.
func TestStalledStepIsRetriedShorter(t *testing.T) {
	res, _ := newStallingRun(t, func(call int) bool { return call == 5 }) // call 1 thermalises
	if res.Status != Completed {
		t.Fatalf("status %v (%s), want completed", res.Status, res.Reason)
	}
	if len(res.Trace) != 11 {
		t.Fatalf("%d iterations traced, want 11 (one failed and retried)", len(res.Trace))
	}
	// Iterations before the failure take the scheduled step, those after it a quarter.
	for i, st := range res.Trace {
		want := Schedule(DefaultSRLR, st.Iter-1, 12)
		if i >= 3 {
			want /= 4
		}
		if math.Abs(st.LR-want) > 1e-12*want {
			t.Fatalf("iteration %d: step %v, want %v", st.Iter, st.LR, want)
		}
	}
	if res.Trace[3].Iter != res.Trace[2].Iter+2 {
		t.Fatalf("the failed iteration should be missing from the trace: %d then %d", res.Trace[2].Iter, res.Trace[3].Iter)
	}
}

// A sampler that never recovers ends the run as Diverged with the reason, after
// MaxBacktracks retries, and a measurement that does not move is not reported as completed.
func TestPersistentStallDiverges(t *testing.T) {
	res, _ := newStallingRun(t, func(call int) bool { return call >= 4 })
	if res.Status != Diverged || !strings.Contains(res.Reason, "acceptance") {
		t.Fatalf("status %v (%s), want diverged on the acceptance", res.Status, res.Reason)
	}
	if len(res.Trace) != 2 {
		t.Fatalf("%d iterations traced, want the 2 before the stall", len(res.Trace))
	}
}
