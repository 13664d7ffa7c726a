package latfft

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Convolve must equal the dense circulant product built from the kernel's real-space form
// K(x-y) = (1/N) sum_k kernel_k cos(k.(x-y)).
func TestConvolveMatchesDense(t *testing.T) {
	for _, tc := range []struct{ L, d int }{{1, 2}, {2, 2}, {3, 2}, {4, 2}, {6, 1}, {3, 3}, {5, 2}} {
		p := NewPlan(tc.L, tc.d)
		rng := rand.New(rand.NewPCG(3, 4))
		kern := make([]float64, p.N)
		coords := func(i int) []int {
			c := make([]int, tc.d)
			for mu := range c {
				c[mu] = i % tc.L
				i /= tc.L
			}
			return c
		}
		// An even kernel: a function of the momentum squared.
		for k := range kern {
			s := 0.0
			for _, n := range coords(k) {
				h := math.Sin(math.Pi * float64(n) / float64(tc.L))
				s += 4 * h * h
			}
			kern[k] = math.Sqrt(s + 0.3)
		}
		src := make([]float64, p.N)
		for i := range src {
			src[i] = rng.NormFloat64()
		}
		dst := make([]float64, p.N)
		p.Convolve(dst, src, kern)
		quad := 0.0
		for x := 0; x < p.N; x++ {
			want := 0.0
			cx := coords(x)
			for y := 0; y < p.N; y++ {
				cy := coords(y)
				kxy := 0.0
				for k := 0; k < p.N; k++ {
					ck := coords(k)
					ph := 0.0
					for mu := range ck {
						ph += 2 * math.Pi * float64(ck[mu]*(cx[mu]-cy[mu])) / float64(tc.L)
					}
					kxy += kern[k] * math.Cos(ph)
				}
				want += kxy / float64(p.N) * src[y]
			}
			if math.Abs(dst[x]-want) > 1e-12 {
				t.Fatalf("L=%d d=%d: (K src)[%d] = %v, want %v", tc.L, tc.d, x, dst[x], want)
			}
			quad += src[x] * want
		}
		if q := p.QuadForm(src, kern); math.Abs(q-quad) > 1e-10 {
			t.Fatalf("L=%d d=%d: QuadForm %v, want %v", tc.L, tc.d, q, quad)
		}
		modes := make([]float64, p.N)
		p.Modes(modes, src)
		s := 0.0
		for k := range modes {
			s += kern[k] * modes[k]
		}
		if math.Abs(s-quad) > 1e-10 {
			t.Fatalf("Modes . kernel = %v, want %v", s, quad)
		}
		// Inverse undoes Forward.
		c := make([]complex128, p.N)
		p.Forward(c, src)
		back := make([]float64, p.N)
		p.Inverse(back, c)
		for i := range back {
			if math.Abs(back[i]-src[i]) > 1e-12 {
				t.Fatalf("Inverse(Forward(x)) != x at %d", i)
			}
		}
	}
}

func BenchmarkConvolve32x32(b *testing.B) {
	p := NewPlan(32, 2)
	src := make([]float64, p.N)
	kern := make([]float64, p.N)
	for i := range kern {
		kern[i] = 1
		src[i] = float64(i)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Convolve(src, src, kern)
	}
}
