package mera

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkMeasure is what one VMC sample costs: u, du/dphi, the Laplacian and every O in one
// Derivs pass. (The name is kept so that benchmark histories line up.)
func BenchmarkMeasure(b *testing.B) {
	for _, L := range []int{8, 16, 32} {
		b.Run(fmt.Sprintf("L%d", L), func(b *testing.B) {
			m := mustModel(b, L, 2, -0.5, 3)
			a := mustNew(b, m, Config{Scales: -1, Width: 4})
			randomize(b, a, rand.New(rand.NewPCG(1, 1)))
			ws := a.NewWorkspace()
			phi := randomField(rand.New(rand.NewPCG(2, 2)), m.N)
			grad := make([]float64, m.N)
			o := make([]float64, a.NumParams())
			b.ReportAllocs()
			for b.Loop() {
				a.Derivs(ws, phi, grad, o)
			}
		})
	}
}
