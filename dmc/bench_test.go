package dmc

import (
	"math/rand/v2"

	"fmt"
	"testing"
	"vqs/ansatz/mera"
	"vqs/groundstate"
	"vqs/hamiltonian"
	"vqs/vmc"
)

// benchRunner sets up a runner at L^2 with m walkers at tau 0.05, as in a DMC stage.
func benchRunner(b *testing.B, L, m int, workers int) (*runner, *stageData) {
	model := mustModel(b, L, 2, -1.55, 12)
	return benchRunnerWith(b, newTestGuide(b, model.Lattice, 0.5, 0.01), model, m, workers)
}

func benchRunnerWith(b *testing.B, g vmc.Wavefunction, model *hamiltonian.Model, m, workers int) (*runner, *stageData) {
	p, err := newPlan(Config{Walkers: m, Workers: workers, PopulationWalkers: -1, Equilibration: 0.05}, g, model)
	if err != nil {
		b.Fatal(err)
	}
	r := newRunner(p)
	r.startWorkers()
	b.Cleanup(r.stopWorkers)
	r.parallel(opGaussian)
	for _, spec := range []stageSpec{{StageVMC, -1, 0.05, m, 20}, {StageDMC, 0, 0.05, m, 20}} {
		if err := r.beginStage(spec); err != nil {
			b.Fatal(err)
		}
		sd := r.stages[len(r.stages)-1]
		r.prepare(sd)
		for i := 0; i < 30; i++ {
			r.generation(sd)
			sd.Gen++
		}
	}
	return r, r.stages[1]
}

// BenchmarkGeneration is one DMC generation (every walker moved, weighted, measured and
// resampled) on all cores, with the test guide (Gaussian kernel plus an on-site quartic term).
func BenchmarkGeneration(b *testing.B) {
	benchGenerations(b, func(b *testing.B, L, m int) (*runner, *stageData) { return benchRunner(b, L, m, 0) })
}

// BenchmarkGenerationMera is BenchmarkGeneration with the RG ansatz as the guide (the default
// ansatz, parameters perturbed from the Hartree start as after some training).
func BenchmarkGenerationMera(b *testing.B) {
	benchGenerations(b, func(b *testing.B, L, m int) (*runner, *stageData) {
		return benchRunnerWith(b, meraGuide(b, L), mustModel(b, L, 2, -1.55, 12), m, 0)
	})
}

// benchGenerations times generations of 128 walkers at L = 16 and 32 with the runner that
// setup builds, and reports walker moves per second.
func benchGenerations(b *testing.B, setup func(b *testing.B, L, m int) (*runner, *stageData)) {
	for _, L := range []int{16, 32} {
		b.Run(fmt.Sprintf("L%d", L), func(b *testing.B) {
			const m = 128
			r, sd := setup(b, L, m)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				r.generation(sd)
				sd.Gen++
			}
			b.ReportMetric(float64(m*b.N)/b.Elapsed().Seconds(), "moves/s")
		})
	}
}

// BenchmarkGuideDerivs is the guide evaluation alone (Derivs without O), one goroutine: the
// part of a move's cost that belongs to the guide.
func BenchmarkGuideDerivs(b *testing.B) {
	for _, L := range []int{16, 32} {
		b.Run(fmt.Sprintf("L%d", L), func(b *testing.B) {
			r, _ := benchRunner(b, L, 8, 1)
			w := r.workers[0]
			phi := r.phi[:r.n]
			b.ReportAllocs()
			for b.Loop() {
				w.ev.Derivs(phi, w.grad, nil)
			}
		})
	}
}

// BenchmarkMove is one walker move on one goroutine, guide included.
func BenchmarkMove(b *testing.B) {
	for _, L := range []int{16, 32} {
		b.Run(fmt.Sprintf("L%d", L), func(b *testing.B) {
			r, _ := benchRunner(b, L, 8, 1)
			w := r.workers[0]
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				r.move(w, i%8)
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "moves/s")
		})
	}
}

// meraRunner is benchRunner with the RG ansatz (all scales, width 4, perturbed from the
// Hartree start) as the guide.
func meraGuide(b *testing.B, L int) vmc.Wavefunction {
	model := mustModel(b, L, 2, -1.55, 12)
	a, err := mera.New(model, groundstate.DefaultAnsatz) // the guide a default run trains
	if err != nil {
		b.Fatal(err)
	}
	theta := a.Params(nil)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range theta {
		theta[i] += 0.01 * rng.NormFloat64()
	}
	if err := a.SetParams(theta); err != nil {
		b.Fatal(err)
	}
	return vmc.MERA{Ansatz: a}
}

func BenchmarkMeraDerivs(b *testing.B) {
	for _, L := range []int{16, 32} {
		b.Run(fmt.Sprintf("L%d", L), func(b *testing.B) {
			g := meraGuide(b, L)
			ev := g.NewEvaluator()
			phi := make([]float64, L*L)
			rng := rand.New(rand.NewPCG(3, 3))
			for i := range phi {
				phi[i] = 0.5 * rng.NormFloat64()
			}
			grad := make([]float64, L*L)
			b.ReportAllocs()
			for b.Loop() {
				ev.Derivs(phi, grad, nil)
			}
		})
	}
}
