package mera

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkRungPass is one rung's local function on 32x32 with and without logcosh units, with
// everything Derivs needs ("full") and with the gradient alone (a leapfrog step).
func BenchmarkRungPass(b *testing.B) {
	for _, w := range []int{0, 2} {
		m := mustModel(b, 32, 2, -0.5, 3)
		a := mustNew(b, m, Config{Scales: 6, Width: w})
		randomize(b, a, rand.New(rand.NewPCG(1, 1)))
		ws := a.NewWorkspace()
		phi := randomField(rand.New(rand.NewPCG(2, 2)), m.N)
		o := make([]float64, a.NumParams())
		a.Derivs(ws, phi, make([]float64, m.N), o)
		r := &a.rungs[2]
		np := a.rungParams()
		params, out := a.theta[r.off:r.off+np], o[r.off:r.off+np]
		b.Run(fmt.Sprintf("full/width%d", w), func(b *testing.B) {
			for b.Loop() {
				a.rungPass(ws, r, params, ws.z[2], ws.gz[2], out, true, true)
			}
		})
		b.Run(fmt.Sprintf("grad/width%d", w), func(b *testing.B) {
			for b.Loop() {
				a.rungPass(ws, r, params, ws.z[2], ws.gz[2], nil, false, false)
			}
		})
	}
}
