package rgsampler

import (
	"math"
	"math/rand/v2"
	"testing"

	"vqs/hamiltonian"
	"vqs/internal/latfft"
)

func randomField(n int, scale float64, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 99))
	x := make([]float64, n)
	for i := range x {
		x[i] = scale * rng.NormFloat64()
	}
	return x
}

func testTargets(t *testing.T) map[string]*Phi4 {
	t.Helper()
	out := map[string]*Phi4{}
	add := func(name string, p *Phi4, err error) {
		if err != nil {
			t.Fatal(err)
		}
		out[name] = p
	}
	p, err := NewPhi4(4, 2, -0.6, 24)
	add("2D", p, err)
	p, err = NewPhi4(3, 3, 0.4, 3)
	add("3D iso", p, err)
	p, err = NewPathIntegral(3, 2, 5, 0.3, -0.5, 6)
	add("path Lt=5", p, err)
	p, err = NewPathIntegral(2, 2, 2, 0.7, 1, 2)
	add("path Lt=2", p, err)
	p, err = NewPathIntegral(3, 1, 1, 0.4, 1, 2)
	add("path Lt=1", p, err)
	return out
}

// TestPhi4GradMatchesFiniteDifferences checks the force against central differences of the
// action.
func TestPhi4GradMatchesFiniteDifferences(t *testing.T) {
	for name, p := range testTargets(t) {
		phi := randomField(p.Sites(), 0.8, 7)
		g := make([]float64, p.Sites())
		p.Grad(g, phi)
		h := 1e-5
		for i := range phi {
			old := phi[i]
			phi[i] = old + h
			up := p.LogDensity(phi)
			phi[i] = old - h
			dn := p.LogDensity(phi)
			phi[i] = old
			fd := (up - dn) / (2 * h)
			if math.Abs(fd-g[i]) > 1e-6*(1+math.Abs(fd)) {
				t.Fatalf("%s site %d: grad %v, finite difference %v", name, i, g[i], fd)
			}
		}
	}
}

// TestPathIntegralBruteForce evaluates S_E from its definition with explicit coordinates,
// written independently of Phi4 and of hamiltonian.Model.
func TestPathIntegralBruteForce(t *testing.T) {
	L, lt, eps, m2, lam := 3, 4, 0.37, -0.4, 5.0
	p, err := NewPathIntegral(L, 2, lt, eps, m2, lam)
	if err != nil {
		t.Fatal(err)
	}
	phi := randomField(p.Sites(), 1, 8)
	at := func(x0, x1, tau int) float64 {
		return phi[(x0%L)+L*(x1%L)+L*L*(tau%lt)]
	}
	want := 0.0
	for tau := 0; tau < lt; tau++ {
		for x1 := 0; x1 < L; x1++ {
			for x0 := 0; x0 < L; x0++ {
				f := at(x0, x1, tau)
				dt := at(x0, x1, tau+1) - f
				d0 := at(x0+1, x1, tau) - f
				d1 := at(x0, x1+1, tau) - f
				v := 0.5*(d0*d0+d1*d1) + m2/2*f*f + lam/24*f*f*f*f
				want += dt*dt/(2*eps) + eps*v
			}
		}
	}
	if got := p.Action(phi); math.Abs(got-want) > 1e-12*math.Abs(want) {
		t.Fatalf("S_E = %v, brute force %v", got, want)
	}
	// With eps = 1 and Lt = L the path integral is the isotropic action one dimension up.
	q, _ := NewPathIntegral(L, 2, L, 1, m2, lam)
	iso, _ := NewPhi4(L, 3, m2, lam)
	phi = randomField(q.Sites(), 1, 9)
	if a, b := q.Action(phi), iso.Action(phi); math.Abs(a-b) > 1e-12*math.Abs(b) {
		t.Fatalf("eps=1 path integral %v, isotropic 3D %v", a, b)
	}
}

// TestQuadraticKernelIsTheFreeAction: at lambda = 0, S = (1/2) phi^T K_Q phi exactly.
func TestQuadraticKernelIsTheFreeAction(t *testing.T) {
	for _, p := range []*Phi4{
		must(NewPhi4(5, 2, 0.7, 0)),
		must(NewPathIntegral(3, 2, 4, 0.45, 0.9, 0)),
	} {
		phi := randomField(p.Sites(), 1, 10)
		f, _ := latfft.NewBoxPlan(p.Dims())
		m2, _ := p.Couplings()
		want := 0.5 * f.QuadForm(phi, p.QuadraticKernel(m2))
		if got := p.Action(phi); math.Abs(got-want) > 1e-12*math.Abs(want) {
			t.Fatalf("%v: action %v, quadratic form %v", p.Dims(), got, want)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestHartreeMass checks the gap equation with the propagator summed independently from
// hamiltonian's momentum table, and the lambda = 0 limit.
func TestHartreeMass(t *testing.T) {
	if got := must(NewPhi4(8, 2, 0.7, 0)).HartreeMass(); got != 0.7 {
		t.Fatalf("lambda = 0: %v", got)
	}
	L, m2, lam := 8, -0.6, 24.0
	p := must(NewPhi4(L, 2, m2, lam))
	M2 := p.HartreeMass()
	lat, _ := hamiltonian.NewLattice(L, 2)
	g := 0.0
	for _, q := range lat.MomentumSquared() {
		g += 1 / (q + M2)
	}
	g /= float64(lat.N)
	if r := M2 - m2 - lam/2*g; math.Abs(r) > 1e-9 || !(M2 > 0) {
		t.Fatalf("M2 = %v leaves gap-equation residual %v", M2, r)
	}
}
