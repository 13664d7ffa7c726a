package rgsampler

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

func testDiffusions(t *testing.T, dims []int) []*Diffusion {
	t.Helper()
	var out []*Diffusion
	for _, s := range []Scheme{HeatScheme, PolchinskiScheme} {
		d, err := NewDiffusionBox(dims, s, 0.8, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// TestMarginalIsCompositionOfSteps: composing Gaussian steps by hand (a multiplies,
// v -> a^2 v + v_step) must give the marginal computed in closed form from time 0.
func TestMarginalIsCompositionOfSteps(t *testing.T) {
	for _, d := range testDiffusions(t, []int{4, 3}) {
		n := d.Sites()
		a, v := make([]float64, n), make([]float64, n)
		for k := range a {
			a[k] = 1
		}
		for i := 0; i < d.Levels(); i++ {
			ma, mv := d.Marginal(i)
			for k := range a {
				if math.Abs(ma[k]-a[k]) > 1e-13 || math.Abs(mv[k]-v[k]) > 1e-13*(1+v[k]) {
					t.Fatalf("%v level %d mode %d: marginal (%v,%v), composed (%v,%v)", d.Scheme(), i, k, ma[k], mv[k], a[k], v[k])
				}
			}
			if i+1 < d.Levels() {
				sa, sv := d.Step(i)
				for k := range a {
					a[k] *= sa[k]
					v[k] = sa[k]*sa[k]*v[k] + sv[k]
				}
			}
		}
	}
}

// TestTransitionsSolveTheSDE: the covariance of the exact transitions must satisfy the moment
// equation of d phi = -A phi dt + sqrt(2B) dW, d Sigma/dt = -2 A Sigma + 2 B, with A and B from
// Drift; checked by central finite differences in t for an arbitrary initial covariance.
func TestTransitionsSolveTheSDE(t *testing.T) {
	for _, s := range []Scheme{HeatScheme, PolchinskiScheme} {
		for _, t0 := range []float64{0.05, 0.4, 1.7} {
			h := 1e-5
			times := []float64{0, t0 - h, t0, t0 + h}
			d, err := NewDiffusion(4, 2, s, 0.6, times)
			if err != nil {
				t.Fatal(err)
			}
			n := d.Sites()
			A, B := make([]float64, n), make([]float64, n)
			d.Drift(A, B, t0)
			sig0 := 0.37
			sigma := func(level, k int) float64 {
				a, v := d.Marginal(level)
				return a[k]*a[k]*sig0 + v[k]
			}
			for k := 0; k < n; k++ {
				fd := (sigma(3, k) - sigma(1, k)) / (2 * h)
				want := -2*A[k]*sigma(2, k) + 2*B[k]
				if math.Abs(fd-want) > 1e-6*(1+math.Abs(want)) {
					t.Fatalf("%v t=%v mode %d: dSigma/dt %v, SDE says %v", s, t0, k, fd, want)
				}
			}
		}
	}
}

// TestSchemesFreeFlow: started from the free Gaussian of mass mu, the heat flow is stationary
// and the Polchinski flow gives exactly the regulated propagator C_t = exp(-A t)/A.
func TestSchemesFreeFlow(t *testing.T) {
	for _, d := range testDiffusions(t, []int{5, 5}) {
		p2 := d.MomentumSquared()
		c0 := make([]float64, d.Sites())
		for k := range c0 {
			c0[k] = 1 / (p2[k] + d.Mu2())
		}
		c := make([]float64, d.Sites())
		for i := 0; i < d.Levels(); i++ {
			d.LevelCovariance(c, c0, i)
			for k := range c {
				want := c0[k]
				if d.Scheme() == PolchinskiScheme {
					want = math.Exp(-(p2[k]+d.Mu2())*d.Time(i)) * c0[k]
				}
				if math.Abs(c[k]-want) > 1e-14*(1+want) {
					t.Fatalf("%v level %d mode %d: %v want %v", d.Scheme(), i, k, c[k], want)
				}
			}
		}
		// UV modes are integrated out first: at every level a(p) decreases with p^2.
		for i := 1; i < d.Levels(); i++ {
			a, _ := d.Marginal(i)
			for k := range a {
				if p2[k] > p2[0] && !(a[k] < a[0]) {
					t.Fatalf("level %d: mode %d decays slower than the zero mode", i, k)
				}
			}
		}
		// The far-IR end is close to the free Gaussian: little memory of level 0 is left.
		a, _ := d.Marginal(d.Levels() - 1)
		if a[0] > 0.06 {
			t.Fatalf("%v: zero mode keeps a = %v of level 0 at the last level", d.Scheme(), a[0])
		}
	}
}

func TestNewDiffusionRejectsBadInput(t *testing.T) {
	cases := []struct {
		mu2   float64
		times []float64
	}{
		{0, nil}, {-1, nil}, {math.NaN(), nil}, {1, []float64{0}}, {1, []float64{0.1, 1}},
		{1, []float64{0, 1, 1}}, {1, []float64{0, math.Inf(1)}},
	}
	for _, c := range cases {
		if _, err := NewDiffusion(4, 2, HeatScheme, c.mu2, c.times); err == nil {
			t.Errorf("mu2=%v times=%v: no error", c.mu2, c.times)
		}
	}
}

// TestGaussianScoreAgainstDenseInverse builds the level covariance as a dense real-space
// matrix from cosine sums, inverts it with gonum and compares -Sigma^-1 phi with the score.
func TestGaussianScoreAgainstDenseInverse(t *testing.T) {
	dims := []int{3, 4}
	for _, d := range testDiffusions(t, dims) {
		n := d.Sites()
		p2 := d.MomentumSquared()
		c0 := make([]float64, n)
		for k := range c0 {
			c0[k] = 1 / (p2[k] + 0.3)
		}
		sc, err := GaussianScore(d, c0)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(5, 6))
		phi := make([]float64, n)
		for i := range phi {
			phi[i] = rng.NormFloat64()
		}
		got := make([]float64, n)
		cl := make([]float64, n)
		tested := 0
		for level := 0; level < d.Levels(); level++ {
			d.LevelCovariance(cl, c0, level)
			if floats.Max(cl)/floats.Min(cl) > 1e8 {
				continue // too ill-conditioned for a dense reference (late Polchinski levels)
			}
			tested++
			dense := circulantDense(dims, cl)
			var inv mat.Dense
			if err := inv.Inverse(dense); err != nil {
				t.Fatal(err)
			}
			want := mat.NewVecDense(n, nil)
			want.MulVec(&inv, mat.NewVecDense(n, phi))
			sc.Eval(got, phi, level)
			for i := range got {
				if math.Abs(got[i]+want.AtVec(i)) > 1e-9*(1+math.Abs(want.AtVec(i))) {
					t.Fatalf("%v level %d site %d: score %v, want %v", d.Scheme(), level, i, got[i], -want.AtVec(i))
				}
			}
		}
		if tested < 6 {
			t.Fatalf("%v: only %d levels checked", d.Scheme(), tested)
		}
		cl2 := sc.Clone()
		if a := testing.AllocsPerRun(10, func() { cl2.Eval(got, phi, 1) }); a != 0 {
			t.Fatalf("Eval allocates %v times", a)
		}
	}
}

// circulantDense returns the real-space matrix K_xy = (1/N) sum_k c_k cos(k.(x-y)).
func circulantDense(dims []int, c []float64) *mat.Dense {
	n := len(c)
	coord := func(s int, out []int) {
		for mu, L := range dims {
			out[mu] = s % L
			s /= L
		}
	}
	m := mat.NewDense(n, n, nil)
	xc, yc, kc := make([]int, len(dims)), make([]int, len(dims)), make([]int, len(dims))
	for x := 0; x < n; x++ {
		coord(x, xc)
		for y := 0; y < n; y++ {
			coord(y, yc)
			s := 0.0
			for k := 0; k < n; k++ {
				coord(k, kc)
				ph := 0.0
				for mu, L := range dims {
					ph += 2 * math.Pi * float64(kc[mu]*(xc[mu]-yc[mu])) / float64(L)
				}
				s += c[k] * math.Cos(ph)
			}
			m.Set(x, y, s/float64(n))
		}
	}
	return m
}
