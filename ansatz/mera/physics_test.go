package mera

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"vqs/hamiltonian"
	"vqs/internal/latfft"
)

// At lambda = 0 the Hartree start is the exact free ground state, so E_loc is E0 at every phi
// inside the confining wall.
func TestFreeTheoryZeroVariance(t *testing.T) {
	for _, c := range []struct {
		L  int
		m2 float64
	}{{8, 1}, {8, 0.3}, {32, 1}} {
		m := mustModel(t, c.L, 2, c.m2, 0)
		free, err := hamiltonian.NewFreeTheory(m.Lattice, c.m2)
		if err != nil {
			t.Fatal(err)
		}
		e0 := free.Energy()
		a := mustNew(t, m, Config{Scales: -1, Width: 3})
		ws := a.NewWorkspace()
		rng := rand.New(rand.NewPCG(uint64(c.L), 3))
		for trial := 0; trial < 5; trial++ {
			// Fields up to the confining wall (trial 0 is phi = 0), which stops the family
			// from being exactly Gaussian only beyond eight standard deviations.
			phi := randomField(rng, m.N)
			top := 0.0
			for _, v := range phi {
				top = math.Max(top, math.Abs(v))
			}
			for i := range phi {
				phi[i] *= float64(trial) / 4 * 0.99 * a.wallR / top
			}
			el := localEnergy(a, ws, phi)
			if math.Abs(el.Total-e0) > 1e-9*e0 {
				t.Errorf("L=%d m2=%v: E_loc = %.15g, E0 = %.15g", c.L, c.m2, el.Total, e0)
			}
			v2, v4 := m.PotentialParts(phi)
			if el.V2 != v2 || el.V4 != v4 || math.Abs(el.Kinetic+el.V2+el.V4-el.Total) > 1e-12*e0 {
				t.Errorf("inconsistent parts %+v", el)
			}
		}
	}
}

// gaussianSampler draws exact samples of |Psi|^2 for the Gaussian part of a (local terms off):
// phi = K xi with K = (2 g)^(-1/2), so <phi phi^T> = (2 G)^-1.
type gaussianSampler struct {
	plan   *latfft.Plan
	kernel []float64
	xi     []float64
	rng    *rand.Rand
}

func newGaussianSampler(a *Ansatz, seed uint64) *gaussianSampler {
	m := a.Model()
	k := make([]float64, m.N)
	for i, g := range a.GaussianKernel() {
		k[i] = 1 / math.Sqrt(2*g)
	}
	return &gaussianSampler{plan: latfft.NewPlan(m.L, m.Dim), kernel: k, xi: make([]float64, m.N),
		rng: rand.New(rand.NewPCG(seed, 99))}
}

func (s *gaussianSampler) sample(phi []float64) {
	for i := range s.xi {
		s.xi[i] = s.rng.NormFloat64()
	}
	s.plan.Convolve(phi, s.xi, s.kernel)
}

// meanLocalEnergy returns the mean of E_loc and its standard error over n samples; shift, if
// not nil, is added to every sample with a random sign (the two peaks of a cat state).
func meanLocalEnergy(a *Ansatz, n int, seed uint64, shift func(phi []float64, sign float64)) (mean, stderr float64) {
	s := newGaussianSampler(a, seed)
	ws := a.NewWorkspace()
	phi := make([]float64, a.Model().N)
	var sum, sum2 float64
	for i := 0; i < n; i++ {
		s.sample(phi)
		if shift != nil {
			sign := 1.0
			if s.rng.IntN(2) == 0 {
				sign = -1
			}
			shift(phi, sign)
		}
		e := localEnergy(a, ws, phi).Total
		sum += e
		sum2 += e * e
	}
	mean = sum / float64(n)
	return mean, math.Sqrt((sum2/float64(n) - mean*mean) / float64(n-1))
}

// gaussianEnergy is <H> in the centred Gaussian state of kernel g, in closed form:
// sum_k [g/4 + p^2/(4g)] + N [(m2/2) s2 + (lambda/8) s2^2], s2 = (1/N) sum_k 1/(2g).
func gaussianEnergy(m *hamiltonian.Model, g []float64) float64 {
	p2 := m.MomentumSquared()
	var kin, s2 float64
	for k, gk := range g {
		kin += gk/4 + p2[k]/(4*gk)
		s2 += 1 / (2 * gk)
	}
	s2 /= float64(m.N)
	n := float64(m.N)
	return kin + n*(0.5*m.M2*s2+m.Lambda/8*s2*s2)
}

// In the symmetric phase the Hartree start is the Hartree Gaussian: the mean local energy over
// its exact samples is SolveHartree's energy.
func TestHartreeStartSymmetric(t *testing.T) {
	m := mustModel(t, 8, 2, 0.5, 6)
	hr, err := hamiltonian.SolveHartree(m)
	if err != nil {
		t.Fatal(err)
	}
	if hr.Broken {
		t.Fatal("test point is in the broken phase")
	}
	a := mustNew(t, m, Config{Scales: -1, Width: 2})
	for k, g := range a.GaussianKernel() {
		if math.Abs(g-hr.G[k]) > 1e-12*hr.G[k] {
			t.Fatalf("g(%d) = %v, Hartree G = %v", k, g, hr.G[k])
		}
	}
	// The closed form used for the other Gaussian starts agrees with SolveHartree here.
	if e := gaussianEnergy(m, a.GaussianKernel()); math.Abs(e-hr.Energy) > 1e-12*math.Abs(hr.Energy) {
		t.Errorf("closed-form Gaussian energy %.15g, Hartree %.15g", e, hr.Energy)
	}
	mean, se := meanLocalEnergy(a, 4000, 1, nil)
	t.Logf("<E_loc> = %.6f +- %.6f, Hartree %.6f", mean, se, hr.Energy)
	if math.Abs(mean-hr.Energy) > 4*se {
		t.Errorf("<E_loc> = %.6f +- %.6f, Hartree energy %.6f", mean, se, hr.Energy)
	}
}

// In the broken phase the start is the cat of the two shifted Hartree Gaussians: sampling the
// two peaks with equal weight gives the Hartree energy (the overlap is exp(-v^2 g(0) N), far
// below the statistical error here), whatever the number of rungs with local terms. Without
// local terms there is no cat, and the start is the best symmetric Gaussian, whose energy is
// known in closed form.
func TestHartreeStartBroken(t *testing.T) {
	m := mustModel(t, 4, 2, -4, 6)
	hr, err := hamiltonian.SolveHartree(m)
	if err != nil {
		t.Fatal(err)
	}
	if !hr.Broken {
		t.Fatal("test point is not in the broken phase")
	}
	for _, scales := range []int{-1, 1} {
		a := mustNew(t, m, Config{Scales: scales, Width: 2})
		g0 := a.GaussianKernel()[0]
		if overlap := hr.VEV * hr.VEV * g0 * float64(m.N); overlap < 30 {
			t.Fatalf("v^2 g(0) N = %v: peaks overlap", overlap)
		}
		v := hr.VEV
		mean, se := meanLocalEnergy(a, 4000, 2, func(phi []float64, sign float64) {
			for i := range phi {
				phi[i] += sign * v
			}
		})
		t.Logf("cat, Scales %d: <E_loc> = %.6f +- %.6f, Hartree %.6f (v = %.4f)", scales, mean, se, hr.Energy, v)
		if math.Abs(mean-hr.Energy) > 4*se {
			t.Errorf("cat, Scales %d: <E_loc> = %.6f +- %.6f, Hartree energy %.6f", scales, mean, se, hr.Energy)
		}
	}

	b := mustNew(t, m, Config{Scales: 0})
	want := gaussianEnergy(m, b.Kernel())
	mean, se := meanLocalEnergy(b, 4000, 3, nil)
	t.Logf("symmetric fallback: <E_loc> = %.6f +- %.6f, closed form %.6f", mean, se, want)
	if math.Abs(mean-want) > 4*se {
		t.Errorf("symmetric fallback: <E_loc> = %.6f +- %.6f, closed form %.6f", mean, se, want)
	}
	if !(want > hr.Energy) {
		t.Errorf("symmetric Gaussian %.6f is not above the broken Hartree energy %.6f", want, hr.Energy)
	}
	// The symmetric kernel solves the v = 0 gap equation M^2 = m2 + (lambda/2) s2.
	M := b.Kernel()[0]
	s2 := 0.0
	for _, g := range b.Kernel() {
		s2 += 1 / (2 * g)
	}
	s2 /= float64(m.N)
	if r := M*M - m.M2 - 0.5*m.Lambda*s2; math.Abs(r) > 1e-10 {
		t.Errorf("symmetric gap equation residual %v", r)
	}
}

// The deliberately poor product start lies above the exact free E0; its energy matches the
// closed form for a Gaussian of constant kernel.
func TestProductStart(t *testing.T) {
	m := mustModel(t, 8, 2, 1, 0)
	free, _ := hamiltonian.NewFreeTheory(m.Lattice, 1)
	a := mustNew(t, m, Config{Scales: -1, Width: 2, Init: "product"})
	want := math.Sqrt(1 + 4.0)
	for k, g := range a.GaussianKernel() {
		if math.Abs(g-want) > 1e-12 {
			t.Fatalf("g(%d) = %v, want the constant %v", k, g, want)
		}
	}
	mean, se := meanLocalEnergy(a, 4000, 4, nil)
	exact := gaussianEnergy(m, a.GaussianKernel())
	t.Logf("product: <E_loc> = %.6f +- %.6f, closed form %.6f, E0 %.6f", mean, se, exact, free.Energy())
	if math.Abs(mean-exact) > 4*se {
		t.Errorf("<E_loc> = %.6f +- %.6f, closed form %.6f", mean, se, exact)
	}
	if !(mean-free.Energy() > 10*se) {
		t.Errorf("product state %.6f +- %.6f not above E0 = %.6f", mean, se, free.Energy())
	}
	// The samplers' Gaussian part is the reference dispersion, here the exact free one; the
	// constant g lives in the local terms. Without local terms it is g itself.
	for k, p2 := range m.MomentumSquared() {
		if w := math.Sqrt(p2 + 1); math.Abs(a.Kernel()[k]-w) > 1e-12*w {
			t.Fatalf("Kernel(%d) = %v, want the free dispersion %v", k, a.Kernel()[k], w)
		}
	}
	b := mustNew(t, m, Config{Scales: 0, Init: "product"})
	for k, g := range b.Kernel() {
		if math.Abs(g-want) > 1e-12 {
			t.Fatalf("Gaussian-only Kernel(%d) = %v, want g = %v", k, g, want)
		}
	}
}

// Every evaluation is allocation-free.
func TestNoAllocations(t *testing.T) {
	m := mustModel(t, 8, 2, -0.5, 3)
	a := mustNew(t, m, Config{Scales: -1, Width: 3})
	randomize(t, a, rand.New(rand.NewPCG(5, 5)))
	ws := a.NewWorkspace()
	phi := randomField(rand.New(rand.NewPCG(5, 6)), m.N)
	grad := make([]float64, m.N)
	o := make([]float64, a.NumParams())
	for name, f := range map[string]func(){
		"LogPsi":        func() { a.LogPsi(ws, phi) },
		"LocalTerms":    func() { a.LocalTerms(ws, phi, grad) },
		"LocalGrad":     func() { a.LocalGrad(ws, phi, grad) },
		"Derivs":        func() { a.Derivs(ws, phi, grad, nil) },
		"Derivs with O": func() { a.Derivs(ws, phi, grad, o) },
	} {
		if n := testing.AllocsPerRun(20, f); n != 0 {
			t.Errorf("%s: %v allocations per call", name, n)
		}
	}
}

// Evaluations with separate workspaces may run concurrently and agree with a serial run
// (run under -race to check the sharing).
func TestConcurrentWorkspaces(t *testing.T) {
	m := mustModel(t, 8, 2, -0.5, 3)
	a := mustNew(t, m, Config{Scales: -1, Width: 2})
	randomize(t, a, rand.New(rand.NewPCG(8, 8)))
	phis := make([][]float64, 4)
	want := make([]float64, len(phis))
	ws := a.NewWorkspace()
	for i := range phis {
		phis[i] = randomField(rand.New(rand.NewPCG(9, uint64(i))), m.N)
		want[i] = localEnergy(a, ws, phis[i]).Total
	}
	got := make([]float64, len(phis))
	var wg sync.WaitGroup
	for i := range phis {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := a.NewWorkspace()
			o := make([]float64, a.NumParams())
			for r := 0; r < 10; r++ {
				got[i] = localEnergy(a, w, phis[i]).Total
				logDerivParams(a, w, phis[i], o)
			}
		}()
	}
	wg.Wait()
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("sample %d: concurrent %v, serial %v", i, got[i], want[i])
		}
	}
}

// The broken-phase start is exactly log(exp(u_+) + exp(u_-)) of the two shifted Hartree
// Gaussians, up to a constant: compare differences of LogPsi with the closed form.
func TestCatIsTwoShiftedGaussians(t *testing.T) {
	m := mustModel(t, 4, 2, -4, 6)
	hr, err := hamiltonian.SolveHartree(m)
	if err != nil || !hr.Broken {
		t.Fatalf("need a broken-phase test point (err %v)", err)
	}
	a := mustNew(t, m, Config{Scales: -1, Width: 2})
	ws := a.NewWorkspace()
	plan := latfft.NewPlan(m.L, m.Dim)
	shifted := make([]float64, m.N)
	peak := func(phi []float64, v float64) float64 {
		for i, x := range phi {
			shifted[i] = x - v
		}
		return -0.5 * plan.QuadForm(shifted, hr.G)
	}
	exact := func(phi []float64) float64 {
		up, down := peak(phi, hr.VEV), peak(phi, -hr.VEV)
		hi := math.Max(up, down)
		return hi + math.Log(math.Exp(up-hi)+math.Exp(down-hi))
	}
	rng := rand.New(rand.NewPCG(21, 21))
	ref := make([]float64, m.N)
	offset := a.LogPsi(ws, ref) - exact(ref)
	for trial := 0; trial < 20; trial++ {
		phi := randomField(rng, m.N)
		for i := range phi {
			phi[i] = 0.5*phi[i] + hr.VEV*float64(trial%3-1)
		}
		got, want := a.LogPsi(ws, phi)-offset, exact(phi)
		if math.Abs(got-want) > 1e-10*(1+math.Abs(want)) {
			t.Errorf("log Psi = %.12g, log(e^u+ + e^u-) = %.12g", got, want)
		}
	}
}

// The flowed fields are e^{-t w} phi / sigma_t, checked against an independent convolution, and
// e^{-t w} is a positive kernel of total weight e^{-t M_ref} (what the normalizability argument
// leans on).
func TestFlowedFields(t *testing.T) {
	for _, c := range []struct{ L, dim int }{{8, 2}, {5, 2}, {6, 1}, {4, 3}, {2, 2}} {
		m := mustModel(t, c.L, c.dim, -0.3, 4)
		a := mustNew(t, m, Config{Scales: -1, Width: 1})
		ws := a.NewWorkspace()
		phi := randomField(rand.New(rand.NewPCG(3, uint64(c.L))), m.N)
		a.LocalTerms(ws, phi, make([]float64, m.N))
		plan := latfft.NewPlan(m.L, m.Dim)
		hr, _ := hamiltonian.SolveHartree(m)
		want := make([]float64, m.N)
		kern := make([]float64, m.N)
		delta := make([]float64, m.N)
		delta[0] = 1
		resp := make([]float64, m.N)
		for s, r := range a.rungs {
			var v2 float64
			for k, p := range a.p2 {
				w := math.Sqrt(p + hr.Mass*hr.Mass)
				kern[k] = math.Exp(-r.t * w)
				v2 += kern[k] * kern[k] / (2 * w)
			}
			sigma := math.Sqrt(v2 / float64(m.N))
			plan.Convolve(want, phi, kern)
			for x := range want {
				if got := ws.z[s][x]; math.Abs(got-want[x]/sigma) > 1e-12*(1+math.Abs(got)) {
					t.Fatalf("%+v rung %d (t = %v): z(%d) = %v, want %v", c, s, r.t, x, got, want[x]/sigma)
				}
			}
			plan.Convolve(resp, delta, kern)
			total := 0.0
			for x, v := range resp {
				if v < -1e-15 {
					t.Errorf("%+v t = %v: kernel(%d) = %v < 0", c, r.t, x, v)
				}
				total += v
			}
			if wt := math.Exp(-r.t * hr.Mass); math.Abs(total-wt) > 1e-12 {
				t.Errorf("%+v t = %v: kernel weight %v, want e^{-t M} = %v", c, r.t, total, wt)
			}
		}
	}
}

// The wall is zero inside R and ((|phi|-R)/rho)^8 beyond, with exact derivatives.
func TestWall(t *testing.T) {
	m := mustModel(t, 3, 2, 0.5, 2)
	a := mustNew(t, m, Config{Scales: 1, Width: 0})
	th := a.Params(nil)
	for i := a.nGauss; i < len(th); i++ {
		th[i] = 0 // local terms off: only the wall is left
	}
	if err := a.SetParams(th); err != nil {
		t.Fatal(err)
	}
	ws := a.NewWorkspace()
	rho := 1 / a.wallI
	phi := make([]float64, m.N)
	for x := range phi {
		phi[x] = 0.9 * a.wallR * math.Cos(float64(x))
	}
	grad := make([]float64, m.N)
	if u := a.LocalTerms(ws, phi, grad); u != 0 || slices.Max(grad) != 0 || slices.Min(grad) != 0 {
		t.Errorf("inside the wall: u_loc = %v, grad %v", u, grad)
	}
	phi[2], phi[5] = a.wallR+1.3*rho, -a.wallR-0.4*rho
	want := -(math.Pow(1.3, 8) + math.Pow(0.4, 8))
	if u := a.LocalTerms(ws, phi, grad); math.Abs(u-want) > 1e-12*math.Abs(want) {
		t.Errorf("u_loc = %v, want %v", u, want)
	}
	if g, w := grad[2], -8*math.Pow(1.3, 7)/rho; math.Abs(g-w) > 1e-12*math.Abs(w) {
		t.Errorf("grad = %v, want %v", g, w)
	}
	if g, w := grad[5], 8*math.Pow(0.4, 7)/rho; math.Abs(g-w) > 1e-12*math.Abs(w) {
		t.Errorf("grad = %v, want %v", g, w)
	}
	sumG := 0.0
	for _, g := range a.GaussianKernel() {
		sumG += g
	}
	_, lap := a.Derivs(ws, phi, grad, nil)
	if w := -sumG - 56*(math.Pow(1.3, 6)+math.Pow(0.4, 6))/(rho*rho); math.Abs(lap-w) > 1e-12*math.Abs(w) {
		t.Errorf("lap = %v, want %v", lap, w)
	}
}

// Psi is normalizable for every parameter vector: far out along every direction tried, log Psi
// lies below its Gaussian part, and ever further below, even with local coefficients of either
// sign far larger than an optimisation produces.
func TestNormalizable(t *testing.T) {
	for _, c := range []struct{ L, dim int }{{8, 2}, {16, 2}, {1, 1}, {2, 2}, {6, 1}, {4, 3}} {
		m := mustModel(t, c.L, c.dim, -1, 6)
		a := mustNew(t, m, Config{Scales: -1, Width: 3})
		rng := rand.New(rand.NewPCG(uint64(c.L), uint64(c.dim)))
		ws := a.NewWorkspace()
		rho := 1 / a.wallI
		dirs := [][]float64{}
		uniform, stagger, spike, wave := make([]float64, m.N), make([]float64, m.N), make([]float64, m.N), make([]float64, m.N)
		coords := make([]int, m.Dim)
		for x := range uniform {
			m.Coords(x, coords)
			uniform[x] = 1
			stagger[x] = 1
			for _, n := range coords {
				if n%2 == 1 {
					stagger[x] = -stagger[x]
				}
			}
			wave[x] = math.Cos(2 * math.Pi * float64(coords[0]) / float64(m.L))
		}
		spike[0] = 1
		dirs = append(dirs, uniform, stagger, spike, wave)
		for i := 0; i < 20; i++ {
			dirs = append(dirs, randomField(rng, m.N))
		}
		for trial := 0; trial < 10; trial++ {
			th := a.Params(nil)
			for i := a.nGauss; i < len(th); i++ {
				th[i] = 4 * (rng.Float64() - 0.5)
			}
			if err := a.SetParams(th); err != nil {
				t.Fatal(err)
			}
			for d, dir := range dirs {
				top := 0.0
				for _, v := range dir {
					top = math.Max(top, math.Abs(v))
				}
				prev := 0.0
				for _, r := range []float64{1e4, 1e5, 1e6} {
					phi := make([]float64, m.N)
					for x, v := range dir {
						phi[x] = r * rho * v / top
					}
					ul := a.LocalTerms(ws, phi, nil)
					if !(ul < prev) {
						t.Errorf("%+v trial %d direction %d: u_loc(%g rho) = %v, not below %v", c, trial, d, r, ul, prev)
					}
					prev = ul
				}
			}
		}
	}
}
