package vmc

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"vqs/ansatz/mera"
	"vqs/hamiltonian"
)

func benchAnsatz(b *testing.B, L int) (*hamiltonian.Model, Wavefunction) {
	m, err := hamiltonian.NewModel(L, 2, 1, 24)
	if err != nil {
		b.Fatal(err)
	}
	a, err := mera.New(m, mera.Config{Scales: -1, Width: 4})
	if err != nil {
		b.Fatal(err)
	}
	// Non-zero local terms, as after some optimisation.
	theta := a.Params(nil)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range theta {
		theta[i] += 0.01 * rng.NormFloat64()
	}
	if err := a.SetParams(theta); err != nil {
		b.Fatal(err)
	}
	return m, MERA{a}
}

// BenchmarkHMCTrajectory is one HMC update of one chain (the sampler's unit of work), with the
// fixed kernel mass and with the adaptive reference (adapted once, so that a != g).
func BenchmarkHMCTrajectory(b *testing.B) {
	for _, L := range []int{8, 16, 32} {
		for _, fixed := range []bool{true, false} {
			name := map[bool]string{true: "kernel", false: "adaptive"}[fixed]
			b.Run(fmt.Sprintf("N=%d/mass=%s", L*L, name), func(b *testing.B) {
				m, wf := benchAnsatz(b, L)
				s, err := NewHMCWith(wf, m.L, m.Dim, 1, HMCConfig{Steps: 4, FixedMass: fixed}, 1)
				if err != nil {
					b.Fatal(err)
				}
				c := s.chains[0]
				for i := 0; i < 2*adaptMin; i++ {
					s.trajectory(c)
					c.record()
				}
				s.Refresh()
				s.trajectory(c)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					s.trajectory(c)
					c.record()
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sweeps/s")
			})
		}
	}
}

// BenchmarkBridgeIteration is the bridge sampler's share of one VMC iteration: a Refresh after
// a parameter update, then 8 samples on each of 2 chains (the default 12 RG levels).
func BenchmarkBridgeIteration(b *testing.B) {
	m, wf := benchAnsatz(b, 16)
	s, err := NewBridge(wf, m.L, m.Dim, 2, 12, 1)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s.Refresh()
		if _, err := s.Sample(ctx, 8, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSampleAndMeasure is a whole VMC iteration's sampling with local energies and
// log-derivatives, over 2 chains (one per core here).
func BenchmarkSampleAndMeasure(b *testing.B) {
	m, wf := benchAnsatz(b, 16)
	s, _ := NewHMC(wf, m.L, m.Dim, 2, 4, 1)
	acc := newAccumulator(2, 64, wf.NumParams(), m)
	b.ReportAllocs()
	for b.Loop() {
		acc.reset()
		if _, err := s.Sample(context.Background(), 64, acc.visit(wf)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkSRStep is one stochastic-reconfiguration solve, in parameter space (n > P) and in
// sample space (minSR, P > n).
func BenchmarkSRStep(b *testing.B) {
	for _, c := range []struct{ n, p int }{{1024, 170}, {256, 1000}} {
		b.Run(fmt.Sprintf("n=%d,P=%d", c.n, c.p), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(2, 2))
			o := mat.NewDense(c.n, c.p, nil)
			e := make([]float64, c.n)
			for i := 0; i < c.n; i++ {
				for j := 0; j < c.p; j++ {
					o.Set(i, j, rng.NormFloat64())
				}
				e[i] = rng.NormFloat64()
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := (SR{Shift: 0.05}).Step(o, e, 0.05); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
