package vmc

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"vqs/hamiltonian"
)

// stallingSampler reports an acceptance of zero on the Sample calls listed in stall (counted
// from 1, thermalisation included), as a sampler whose chains stopped moving would.
type stallingSampler struct {
	Sampler
	wf    Wavefunction
	calls int
	stall func(call int) bool
	// params[c] and start[c], end[c]: the parameters and the chains' states at the start of
	// call c and at its end.
	params, start, end map[int][]float64
}

func (s *stallingSampler) Sample(ctx context.Context, perChain int, visit func(chain, i int, phi []float64)) (float64, error) {
	s.calls++
	s.params[s.calls] = s.wf.Params(nil)
	s.start[s.calls] = flatten(s.State())
	a, err := s.Sampler.Sample(ctx, perChain, visit)
	s.end[s.calls] = flatten(s.State())
	if s.stall(s.calls) {
		return 0, err
	}
	return a, err
}

func flatten(x [][]float64) []float64 {
	var out []float64
	for _, v := range x {
		out = append(out, v...)
	}
	return out
}

func newStallingRun(t *testing.T, stall func(int) bool) (*Result, *stallingSampler) {
	t.Helper()
	m, _ := hamiltonian.NewModel(4, 2, 1, 6)
	wf := newTestWF(m, 2, 1, 0.1, true)
	h, err := NewHMC(wf, m.L, m.Dim, 4, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	s := &stallingSampler{Sampler: h, wf: wf, stall: stall, params: map[int][]float64{}, start: map[int][]float64{}, end: map[int][]float64{}}
	res, err := Run(context.Background(), m, wf, s, Config{Iterations: 12, Samples: 256, MeasureSamples: 512}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res, s
}

// A step after which the sampler stalls is undone and retried with a quarter of the step;
// the run goes on and completes.
func TestStalledStepIsRetriedShorter(t *testing.T) {
	res, s := newStallingRun(t, func(call int) bool { return call == 5 }) // call 1 thermalises
	// Call 5 samples after the step of iteration 2 and fails: call 6 must start from the
	// parameters and chains that call 4 (iteration 2) sampled with and ended in.
	if !slices.Equal(s.params[6], s.params[4]) || slices.Equal(s.params[5], s.params[4]) {
		t.Fatalf("the failed step was not undone: params %v, %v, %v at calls 4, 5, 6", s.params[4], s.params[5], s.params[6])
	}
	if !slices.Equal(s.start[6], s.end[4]) || slices.Equal(s.start[6], s.end[5]) {
		t.Fatal("the chains were not put back to where the last good iteration left them")
	}
	if res.Status != Completed {
		t.Fatalf("status %v (%s), want completed", res.Status, res.Reason)
	}
	if len(res.Trace) != 11 {
		t.Fatalf("%d iterations traced, want 11 (one failed and retried)", len(res.Trace))
	}
	// Iterations before the failure take the scheduled step; the retry a quarter of it, the
	// next a half, then the full step again.
	factor := []float64{1, 1, 1, 0.25, 0.5, 1, 1, 1, 1, 1, 1}
	for i, st := range res.Trace {
		want := factor[i] * Schedule(DefaultSRLR, st.Iter-1, 12)
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

// A measurement whose chains did not move ends the run as Diverged, not Completed.
func TestStalledMeasurementIsNotCompleted(t *testing.T) {
	res, _ := newStallingRun(t, func(call int) bool { return call >= 14 }) // 1 + 12 iterations, then the measurement
	if len(res.Trace) != 12 {
		t.Fatalf("%d iterations, want 12", len(res.Trace))
	}
	if res.Status != Diverged || !strings.Contains(res.Reason, "measurement") {
		t.Fatalf("status %v (%s), want diverged in the measurement", res.Status, res.Reason)
	}
}
