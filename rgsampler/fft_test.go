package rgsampler

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"vqs/hamiltonian"
	"vqs/internal/latfft"
)

// TestFFTAgainstBruteForceDFT checks the anisotropic transform against the defining sum.
func TestFFTAgainstBruteForceDFT(t *testing.T) {
	dims := []int{3, 4, 5}
	p, err := NewFFT(dims)
	if err != nil {
		t.Fatal(err)
	}
	n := p.Sites()
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	got := make([]complex128, n)
	p.Forward(got, x)
	coord := func(s int) []int {
		c := make([]int, len(dims))
		for mu, L := range dims {
			c[mu] = s % L
			s /= L
		}
		return c
	}
	for k := 0; k < n; k++ {
		kc := coord(k)
		var want complex128
		for s := 0; s < n; s++ {
			xc := coord(s)
			ph := 0.0
			for mu, L := range dims {
				ph -= 2 * math.Pi * float64(kc[mu]*xc[mu]) / float64(L)
			}
			want += complex(x[s], 0) * cmplx.Exp(complex(0, ph))
		}
		if cmplx.Abs(got[k]-want) > 1e-10 {
			t.Fatalf("mode %d: got %v want %v", k, got[k], want)
		}
	}
	back := make([]float64, n)
	p.Inverse(back, got)
	for i := range x {
		if math.Abs(back[i]-x[i]) > 1e-12 {
			t.Fatalf("round trip site %d: %v vs %v", i, back[i], x[i])
		}
	}
}

// TestFFTMatchesLatfft cross-checks the isotropic case and the momentum table against the
// independent implementations in internal/latfft and hamiltonian.
func TestFFTMatchesLatfft(t *testing.T) {
	L, dim := 6, 2
	p, _ := NewFFT([]int{L, L})
	q := latfft.NewPlan(L, dim)
	lat, _ := hamiltonian.NewLattice(L, dim)
	p2 := lat.MomentumSquared()
	mine := MomentumSquared([]int{L, L})
	for k := range p2 {
		if math.Abs(p2[k]-mine[k]) > 1e-14 {
			t.Fatalf("p^2 mode %d: %v vs %v", k, mine[k], p2[k])
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, L*L)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	kern := make([]float64, L*L)
	for k := range kern {
		kern[k] = 1 / (p2[k] + 0.7)
	}
	a, b := make([]float64, L*L), make([]float64, L*L)
	p.Convolve(a, x, kern)
	q.Convolve(b, x, kern)
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12 {
			t.Fatalf("convolve site %d: %v vs %v", i, a[i], b[i])
		}
	}
}
