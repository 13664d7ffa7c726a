package pimc

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"vqs/hamiltonian"
	"vqs/rgsampler"
)

// TestFreeSliceBruteForce checks the per-mode formula against the full covariance of the
// lambda = 0 path integral, built from rgsampler's action (its Hessian, read off the exactly
// linear gradient) and inverted as a dense matrix: no Fourier modes involved.
func TestFreeSliceBruteForce(t *testing.T) {
	for _, c := range []struct {
		L, dim, lt int
		eps, m2    float64
	}{
		{3, 1, 5, 0.3, 0.7},
		{2, 2, 4, 0.45, 1.3}, // L = 2: the doubled bonds
		{3, 2, 2, 0.2, 0.5},  // Lt = 2: both links join the same pair of slices
		{4, 1, 1, 0.25, 2},   // Lt = 1: no kinetic term at all
	} {
		target, err := rgsampler.NewPathIntegral(c.L, c.dim, c.lt, c.eps, c.m2, 0)
		if err != nil {
			t.Fatal(err)
		}
		model := target.Model()
		ns, n := model.N, target.Sites()
		hess := mat.NewSymDense(n, nil)
		unit, g := make([]float64, n), make([]float64, n)
		for j := 0; j < n; j++ {
			unit[j] = 1
			target.Grad(g, unit) // -dS/dphi = -A e_j for the quadratic action
			unit[j] = 0
			for i := 0; i <= j; i++ {
				hess.SetSym(i, j, -g[i])
			}
		}
		var chol mat.Cholesky
		if !chol.Factorize(hess) {
			t.Fatalf("%+v: action not positive definite", c)
		}
		var cov mat.SymDense
		if err := chol.InverseTo(&cov); err != nil {
			t.Fatal(err)
		}
		// 2 V2 = phi^T K phi with K_xy = d^2 V / dphi_x dphi_y, read off the gradient.
		k := mat.NewDense(ns, ns, nil)
		us, gs := make([]float64, ns), make([]float64, ns)
		for y := 0; y < ns; y++ {
			us[y] = 1
			model.Gradient(us, gs)
			us[y] = 0
			for x := 0; x < ns; x++ {
				k.Set(x, y, gs[x])
			}
		}
		var energy, phi2 float64
		for tau := 0; tau < c.lt; tau++ {
			for x := 0; x < ns; x++ {
				phi2 += cov.At(tau*ns+x, tau*ns+x)
				for y := 0; y < ns; y++ {
					energy += k.At(x, y) * cov.At(tau*ns+y, tau*ns+x)
				}
			}
		}
		energy /= float64(c.lt)
		phi2 /= float64(c.lt * ns)
		free, _ := hamiltonian.NewFreeTheory(model.Lattice, c.m2)
		got, err := FreeSlice(free.Omega, c.eps, c.lt)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got.Energy-energy) > 1e-10*energy || math.Abs(got.Phi2-phi2) > 1e-10*phi2 || got.Potential != got.Energy/2 {
			t.Errorf("%+v: FreeSlice %+v, brute force energy %.15g phi2 %.15g", c, got, energy, phi2)
		}
	}
}

// TestFreeSliceLimits checks the continuum limits: at fixed eps and Lt -> infinity the
// closed form w/(2 sqrt(1 + eps^2 w^2/4)) per mode, and at fixed beta and eps -> 0 the
// thermal energy of oscillators, (w/2) coth(beta w/2).
func TestFreeSliceLimits(t *testing.T) {
	omega := []float64{0.8, 1.7, 3.1}
	const eps = 0.3
	got, _ := FreeSlice(omega, eps, 4000)
	want := 0.0
	for _, w := range omega {
		want += w / (2 * math.Sqrt(1+eps*eps*w*w/4))
	}
	if math.Abs(got.Energy-want) > 1e-12 {
		t.Errorf("Lt -> infinity: %.15g, closed form %.15g", got.Energy, want)
	}
	const beta = 2.0
	got, _ = FreeSlice(omega, beta/4000, 4000)
	want = 0
	for _, w := range omega {
		want += w / 2 / math.Tanh(beta*w/2)
	}
	// The remaining error is the O(eps^2) of the discretisation: eps^2 w^3/16 per mode.
	if math.Abs(got.Energy-want) > 1e-6 {
		t.Errorf("eps -> 0 at beta %v: %.12g, thermal energy %.12g", beta, got.Energy, want)
	}
	if _, err := FreeSlice(nil, 0.1, 3); err == nil {
		t.Error("no modes: want an error")
	}
	if _, err := FreeSlice(omega, 0, 3); err == nil {
		t.Error("eps 0: want an error")
	}
	if _, err := FreeSlice([]float64{1, 0}, 0.1, 3); err == nil {
		t.Error("zero frequency: want an error")
	}
}

// TestVirialEstimator compares the slice averages with V + (1/2) phi.gradV computed from
// hamiltonian's Potential and Gradient on a random field (double well, so both parts matter).
func TestVirialEstimator(t *testing.T) {
	m, _ := hamiltonian.NewModel(3, 2, -0.5, 7)
	const lt = 4
	rng := rand.New(rand.NewPCG(3, 4))
	phi := make([]float64, m.N*lt)
	for i := range phi {
		phi[i] = 1.5 * rng.NormFloat64()
	}
	grad := make([]float64, m.N)
	var e, v, p2 float64
	for tau := 0; tau < lt; tau++ {
		s := phi[tau*m.N : (tau+1)*m.N]
		m.Gradient(s, grad)
		dot := 0.0
		for x, f := range s {
			dot += f * grad[x]
			p2 += f * f
		}
		e += m.Potential(s) + dot/2
		v += m.Potential(s)
	}
	e, v, p2 = e/lt, v/lt, p2/float64(lt*m.N)
	ge, gv, gp := sliceAverages(m, phi, lt)
	if math.Abs(ge-e) > 1e-12*math.Abs(e) || math.Abs(gv-v) > 1e-12*math.Abs(v) || math.Abs(gp-p2) > 1e-12*p2 {
		t.Errorf("sliceAverages = %v %v %v, want %v %v %v", ge, gv, gp, e, v, p2)
	}
}

func TestSmoothSlices(t *testing.T) {
	smooth := func(n int) bool {
		for p := 7; p <= n; p++ {
			if n%p == 0 {
				prime := true
				for d := 2; d*d <= p; d++ {
					if p%d == 0 {
						prime = false
					}
				}
				if prime {
					return false
				}
			}
		}
		return true
	}
	for x := 0.4; x < 400; x += 0.7 {
		got := SmoothSlices(x)
		lo := max(1, int(math.Round(x)))
		if got < lo || !smooth(got) {
			t.Fatalf("SmoothSlices(%v) = %d, not a 5-smooth number >= %d", x, got, lo)
		}
		for n := lo; n < got; n++ {
			if smooth(n) {
				t.Fatalf("SmoothSlices(%v) = %d, but %d is smaller and 5-smooth", x, got, n)
			}
		}
		if float64(got) > 1.13*float64(lo)+1 {
			t.Errorf("SmoothSlices(%v) = %d lengthens beta by more than 13%%", x, got)
		}
	}
}

func TestExtrapolateSynthetic(t *testing.T) {
	eps := []float64{0.3, 0.2, 0.15, 0.1}
	const e0, slope = -1.25, 4.0
	y, sig := make([]float64, len(eps)), make([]float64, len(eps))
	for i, e := range eps {
		y[i], sig[i] = e0+slope*e*e, 0.01*float64(i+1)
	}
	f, err := Extrapolate(eps, y, sig)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(f.E0-e0) > 1e-12 || math.Abs(f.Slope-slope) > 1e-10 || f.Chi2 > 1e-20 || f.DOF != 2 {
		t.Errorf("exact line: %+v", f)
	}
	// Noisy data: the pulls (E0 - true)/Err must be standard normal and chi^2 average DOF.
	rng := rand.New(rand.NewPCG(7, 8))
	const trials = 4000
	var s1, s2, c2 float64
	for range trials {
		for i, e := range eps {
			y[i] = e0 + slope*e*e + sig[i]*rng.NormFloat64()
		}
		f, err := Extrapolate(eps, y, sig)
		if err != nil {
			t.Fatal(err)
		}
		pull := (f.E0 - e0) / f.Err
		s1 += pull
		s2 += pull * pull
		c2 += f.Chi2
		if f.ErrScaled < f.Err {
			t.Fatalf("scaled error %v below the plain one %v", f.ErrScaled, f.Err)
		}
	}
	mean, sd := s1/trials, math.Sqrt(s2/trials-(s1/trials)*(s1/trials))
	if math.Abs(mean) > 0.06 || math.Abs(sd-1) > 0.04 || math.Abs(c2/trials-2) > 0.15 {
		t.Errorf("pulls mean %.3f sd %.3f, chi^2 mean %.3f (want 0, 1, 2)", mean, sd, c2/trials)
	}
	// Closed form for two points: the line through them.
	f, _ = Extrapolate([]float64{0.2, 0.1}, []float64{1.3, 1.0}, []float64{0.1, 0.1})
	if want := 1.0 - (1.3-1.0)/(0.04-0.01)*0.01; math.Abs(f.E0-want) > 1e-12 || f.DOF != 0 {
		t.Errorf("two points: E0 %v, want %v", f.E0, want)
	}
	for _, bad := range []struct{ eps, y, s []float64 }{
		{[]float64{0.1}, []float64{1}, []float64{0.1}},
		{[]float64{0.1, 0.1}, []float64{1, 2}, []float64{0.1, 0.1}},
		{[]float64{0.1, 0.2}, []float64{1, 2}, []float64{0.1, 0}},
		{[]float64{0.1, 0.2}, []float64{1, math.NaN()}, []float64{0.1, 0.1}},
		{[]float64{0.1, 0.2}, []float64{1}, []float64{0.1, 0.1}},
	} {
		if _, err := Extrapolate(bad.eps, bad.y, bad.s); err == nil {
			t.Errorf("Extrapolate(%v, %v, %v): want an error", bad.eps, bad.y, bad.s)
		}
	}
}
