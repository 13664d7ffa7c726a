package mera

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"vqs/internal/latfft"
)

// benchAnsatz is the ansatz of the benchmarks: six rungs with local terms (t = 0 and five RG
// times), the default width, random parameters.
func benchAnsatz(b *testing.B, L int) (*Ansatz, []float64) {
	m := mustModel(b, L, 2, -0.5, 3)
	a := mustNew(b, m, Config{Scales: 6, Width: 2})
	randomize(b, a, rand.New(rand.NewPCG(1, 1)))
	return a, randomField(rand.New(rand.NewPCG(2, 2)), m.N)
}

// BenchmarkMeasure is what one VMC sample costs: u, du/dphi, the Laplacian and every O in one
// Derivs pass. (The name is kept so that benchmark histories line up.)
func BenchmarkMeasure(b *testing.B) {
	for _, L := range []int{8, 16, 32} {
		b.Run(fmt.Sprintf("L%d", L), func(b *testing.B) {
			a, phi := benchAnsatz(b, L)
			ws := a.NewWorkspace()
			grad := make([]float64, len(phi))
			o := make([]float64, a.NumParams())
			b.ReportAllocs()
			for b.Loop() {
				a.Derivs(ws, phi, grad, o)
			}
		})
	}
}

// BenchmarkLocalGrad is one leapfrog step's force from the local terms, the unit of an HMC
// trajectory.
func BenchmarkLocalGrad(b *testing.B) {
	for _, L := range []int{8, 16, 32} {
		b.Run(fmt.Sprintf("L%d", L), func(b *testing.B) {
			a, phi := benchAnsatz(b, L)
			ws := a.NewWorkspace()
			grad := make([]float64, len(phi))
			b.ReportAllocs()
			for b.Loop() {
				a.LocalGrad(ws, phi, grad)
			}
		})
	}
}

// BenchmarkTransform is one complex FFT of the lattice, the unit of the evaluations' cost.
func BenchmarkTransform(b *testing.B) {
	for _, L := range []int{8, 16, 32} {
		b.Run(fmt.Sprintf("L%d", L), func(b *testing.B) {
			p := latfft.NewPlan(L, 2)
			buf := make([]complex128, L*L)
			for i := range buf {
				buf[i] = complex(float64(i%7), float64(i%3))
			}
			for b.Loop() {
				p.Complex(buf, false)
			}
		})
	}
}
