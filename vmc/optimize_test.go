package vmc

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// The parameter-space SR step solves (S + Shift diag S + Eps) d = -lr F, even when the
// parameters' log-derivatives differ in spread by twelve orders of magnitude (the unscaled matrix
// is then numerically singular, which the solve must not be).
func TestSRStepSolvesRegularisedSystem(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, p = 400, 12
	for _, spread := range []float64{1, 1e12} {
		o := mat.NewDense(n, p, nil)
		e := make([]float64, n)
		for k := 0; k < n; k++ {
			common := rng.NormFloat64()
			for j := 0; j < p; j++ {
				scale := math.Pow(spread, float64(j)/float64(p-1)-0.5)
				o.Set(k, j, scale*(common+0.3*rng.NormFloat64()))
			}
			e[k] = rng.NormFloat64()
		}
		// Centre the columns and e, as the accumulator does.
		for j := 0; j < p; j++ {
			m := 0.0
			for k := 0; k < n; k++ {
				m += o.At(k, j)
			}
			for k := 0; k < n; k++ {
				o.Set(k, j, o.At(k, j)-m/n)
			}
		}
		sr := SR{Shift: 0.01, Eps: 1e-6}
		const lr = 0.07
		d, err := sr.Step(o, e, lr)
		if err != nil {
			t.Fatalf("spread %g: %v", spread, err)
		}
		f := gradient(o, e)
		for i := 0; i < p; i++ {
			var sd, sii float64
			for j := 0; j < p; j++ {
				sij := 0.0
				for k := 0; k < n; k++ {
					sij += o.At(k, i) * o.At(k, j) / n
				}
				if i == j {
					sii = sij
				}
				sd += sij * d[j]
			}
			lhs := sd + (sr.Shift*sii+sr.Eps)*d[i]
			rhs := -lr * f[i] / 2
			if math.Abs(lhs-rhs) > 1e-8*(math.Abs(rhs)+lr*math.Sqrt(sii)) {
				t.Errorf("spread %g, row %d: (S + shift) d = %v, -lr F = %v", spread, i, lhs, rhs)
			}
		}
	}
}
