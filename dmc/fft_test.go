package dmc

import (
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"vqs/hamiltonian"
	"vqs/internal/latfft"
)

// TestCFFT compares the paired complex transform with latfft's real transforms, for power-of-two
// and other sides in one to three dimensions: forwards, the split into two real fields, and
// back.
func TestCFFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct{ L, dim int }{{1, 1}, {2, 2}, {8, 1}, {6, 2}, {16, 2}, {4, 3}, {5, 3}} {
		lat, _ := hamiltonian.NewLattice(c.L, c.dim)
		f := newCFFT(lat)
		plan := latfft.NewPlan(c.L, c.dim)
		a, b := make([]float64, lat.N), make([]float64, lat.N)
		z := make([]complex128, lat.N)
		for x := range a {
			a[x], b[x] = rng.NormFloat64(), rng.NormFloat64()
			z[x] = complex(a[x], b[x])
		}
		f.transform(z, true)
		ka, kb := make([]complex128, lat.N), make([]complex128, lat.N)
		f.split(z, ka, kb)
		wa, wb := make([]complex128, lat.N), make([]complex128, lat.N)
		plan.Forward(wa, a)
		plan.Forward(wb, b)
		for k := range ka {
			if cmplx.Abs(ka[k]-wa[k]) > 1e-12*float64(lat.N) || cmplx.Abs(kb[k]-wb[k]) > 1e-12*float64(lat.N) {
				t.Fatalf("L %d dim %d: k %d: %v %v, latfft %v %v", c.L, c.dim, k, ka[k], kb[k], wa[k], wb[k])
			}
		}
		f.transform(z, false)
		for x := range z {
			if d := cmplx.Abs(z[x]/complex(float64(lat.N), 0) - complex(a[x], b[x])); d > 1e-12 {
				t.Fatalf("L %d dim %d: round trip off by %v at %d", c.L, c.dim, d, x)
			}
		}
	}
	_ = math.Pi
}

func BenchmarkCFFT(b *testing.B) {
	for _, L := range []int{16, 32} {
		lat, _ := hamiltonian.NewLattice(L, 2)
		f := newCFFT(lat)
		z := make([]complex128, lat.N)
		for i := range z {
			z[i] = complex(float64(i%5), float64(i%3))
		}
		b.Run(fmt.Sprintf("pair/L%d", L), func(b *testing.B) {
			for b.Loop() {
				f.transform(z, true)
			}
		})
		plan := latfft.NewPlan(L, 2)
		src := make([]float64, lat.N)
		b.Run(fmt.Sprintf("latfft/L%d", L), func(b *testing.B) {
			for b.Loop() {
				plan.Forward(z, src)
			}
		})
	}
}
