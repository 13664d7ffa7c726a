package critical

import (
	"math"
	"math/rand/v2"
	"testing"
)

// synthetic returns U4-like curves that obey finite-size scaling exactly,
// U = 0.45 - 0.2 tanh(0.1 (m2 - m2c) L^(1/nu)), plus Gaussian noise of the stated error.
func synthetic(m2c, nu, noise float64, sizes []int, m2s []float64, seed uint64) []Curve {
	rng := rand.New(rand.NewPCG(seed, 1))
	var cs []Curve
	for _, L := range sizes {
		c := Curve{L: L}
		for _, m := range m2s {
			x := (m - m2c) * math.Pow(float64(L), 1/nu)
			v := 0.45 - 0.2*math.Tanh(0.1*x)
			c.Points = append(c.Points, Point{M2: m, Value: v + noise*rng.NormFloat64(), Err: noise})
		}
		cs = append(cs, c)
	}
	return cs
}

func grid(lo, hi float64, n int) []float64 {
	var g []float64
	for i := range n {
		g = append(g, lo+(hi-lo)*float64(i)/float64(n-1))
	}
	return g
}

// The crossings of curves that scale exactly are at m2c, within their bootstrap errors, and
// the errors are honest: over many noise realisations the pulls have unit spread.
func TestCrossingsFindTheCriticalPoint(t *testing.T) {
	const m2c = -1.66
	m2s := grid(-1.72, -1.6, 7)
	var pulls []float64
	for seed := range uint64(100) {
		cs := synthetic(m2c, NuIsing3D, 0.004, []int{8, 16, 32}, m2s, seed)
		r, err := Critical(cs, seed)
		if err != nil {
			t.Fatal(err)
		}
		pulls = append(pulls, (r.M2c-m2c)/r.Err)
	}
	var s, s2 float64
	for _, p := range pulls {
		s += p
		s2 += p * p
	}
	mean := s / float64(len(pulls))
	sd := math.Sqrt(s2/float64(len(pulls)) - mean*mean)
	// The pulls must be centred and of unit width (within the spread 100 realisations allow).
	t.Logf("pulls over 100 realisations: mean %.3f, sd %.3f", mean, sd)
	if math.Abs(mean) > 0.3 || sd < 0.75 || sd > 1.35 {
		t.Fatalf("pulls: mean %.3f, sd %.3f", mean, sd)
	}
}

func TestNoCrossingIsAnError(t *testing.T) {
	cs := synthetic(-2.5, NuIsing3D, 0.004, []int{8, 16}, grid(-1.75, -1.5, 6), 1)
	if _, err := Critical(cs, 1); err == nil {
		t.Fatal("curves that do not cross in the range gave a critical point")
	}
}

// The collapse is best at the true nu, and FitNu finds it.
func TestCollapseAndFitNu(t *testing.T) {
	const m2c = -1.66
	cs := synthetic(m2c, NuIsing3D, 0.002, []int{8, 16, 32}, grid(-1.72, -1.6, 7), 7)
	atTrue, _, err := Collapse(cs, m2c, NuIsing3D)
	if err != nil {
		t.Fatal(err)
	}
	atWrong, _, _ := Collapse(cs, m2c, 1.0)
	if !(atTrue < 3) || !(atWrong > 3*atTrue) {
		t.Fatalf("collapse chi2/dof %.3g at the true nu, %.3g at nu = 1", atTrue, atWrong)
	}
	nu, e, err := FitNu(cs, m2c, 0.3, 1.5)
	t.Logf("collapse %.3g at the true nu, %.3g at nu = 1; fitted nu = %.4f +- %.4f", atTrue, atWrong, nu, e)
	if err != nil || math.Abs(nu-NuIsing3D) > 3*e+0.01 || !(e > 0) {
		t.Fatalf("nu = %v +- %v (%v), want %v", nu, e, err, NuIsing3D)
	}
}

// With a correction to scaling, U = F(x) + c L^-omega, the crossings drift towards m2c like
// L^-(1/nu + omega): the largest pair's crossing is biased by several of its errors, and the
// extrapolation removes the bias with honest errors.
func TestExtrapolationRemovesTheCorrectionToScaling(t *testing.T) {
	const m2c, c, noise = -1.66, 0.1, 0.0005
	m2s := grid(-1.72, -1.6, 7)
	var raw, ext, ratios []float64
	for seed := range uint64(100) {
		rng := rand.New(rand.NewPCG(seed, 2))
		var cs []Curve
		for _, L := range []int{8, 16, 32} {
			cv := Curve{L: L}
			for _, m := range m2s {
				x := (m - m2c) * math.Pow(float64(L), 1/NuIsing3D)
				v := 0.45 - 0.2*math.Tanh(0.1*x) + c*math.Pow(float64(L), -OmegaIsing3D)
				cv.Points = append(cv.Points, Point{M2: m, Value: v + noise*rng.NormFloat64(), Err: noise})
			}
			cs = append(cs, cv)
		}
		r, err := Critical(cs, seed)
		if err != nil {
			t.Fatal(err)
		}
		e := r.Extrapolated
		if e == nil || !(e.Err > 0) || e.Resolved < 0.99 {
			t.Fatalf("seed %d: extrapolation %+v", seed, e)
		}
		raw = append(raw, (r.M2c-m2c)/r.Err)
		ext = append(ext, (e.M2c-m2c)/e.Err)
		// The middle curve enters both crossings with opposite signs in m2c, so the joint
		// error exceeds the propagation of the two crossings' errors as if independent.
		c1, c2 := correctionScale(8, 16, NuIsing3D, OmegaIsing3D), correctionScale(16, 32, NuIsing3D, OmegaIsing3D)
		indep := math.Hypot(c2/(c1-c2)*r.Crossings[0].Err, c1/(c1-c2)*r.Crossings[1].Err)
		ratios = append(ratios, e.Err/indep)
	}
	meanSD := func(p []float64) (float64, float64) {
		var s, s2 float64
		for _, v := range p {
			s += v
			s2 += v * v
		}
		mu := s / float64(len(p))
		return mu, math.Sqrt(s2/float64(len(p)) - mu*mu)
	}
	rm, rs := meanSD(raw)
	em, es := meanSD(ext)
	t.Logf("pulls of the largest pair's crossing: mean %.2f sd %.2f; extrapolated: mean %.2f sd %.2f", rm, rs, em, es)
	if math.Abs(rm) < 3 {
		t.Fatalf("the correction should bias the unextrapolated crossing: mean pull %.2f", rm)
	}
	if math.Abs(em) > 0.3 || es < 0.75 || es > 1.35 {
		t.Fatalf("extrapolated pulls: mean %.3f, sd %.3f", em, es)
	}
	// Measured: 1.17 for the joint bootstrap, 1.00 when the middle curve is redrawn apart for
	// each pair.
	if rm, _ := meanSD(ratios); rm < 1.08 {
		t.Fatalf("extrapolated error / independent propagation = %.3f on average: the bootstrap is not joint", rm)
	}
}

// Sizes that do not double (b differs between the pairs): on curves with an exact correction
// to scaling the extrapolation lands on m2c, where the crossings do not.
func TestExtrapolationWithUnequalRatios(t *testing.T) {
	const m2c, c, err = -1.66, 0.1, 1e-6
	for _, sizes := range [][]int{{8, 12, 24}, {8, 20, 24}, {16, 24, 64}} {
		var cs []Curve
		for _, L := range sizes {
			cv := Curve{L: L}
			for _, m := range grid(-1.72, -1.6, 13) {
				x := (m - m2c) * math.Pow(float64(L), 1/NuIsing3D)
				cv.Points = append(cv.Points, Point{M2: m, Value: 0.45 - 0.2*math.Tanh(0.1*x) + c*math.Pow(float64(L), -OmegaIsing3D), Err: err})
			}
			cs = append(cs, cv)
		}
		r, e := Critical(cs, 1)
		if e != nil || r.Extrapolated == nil {
			t.Fatalf("sizes %v: %v, %+v", sizes, e, r.Extrapolated)
		}
		t.Logf("sizes %v: largest pair %.6f, extrapolated %.6f (m2c %.2f)", sizes, r.M2c, r.Extrapolated.M2c, m2c)
		if d, raw := math.Abs(r.Extrapolated.M2c-m2c), math.Abs(r.M2c-m2c); d > 1e-4 || raw < 2e-4 || d > raw/5 {
			t.Fatalf("sizes %v: largest pair %.6f, extrapolated %.6f, want %.6f", sizes, r.M2c, r.Extrapolated.M2c, m2c)
		}
	}
}

// For doubling sizes the extrapolation is the closed form m2*_2 + (m2*_2 - m2*_1)/(2^(1/nu+omega) - 1).
func TestCorrectionScaleDoubling(t *testing.T) {
	c1 := correctionScale(8, 16, NuIsing3D, OmegaIsing3D)
	c2 := correctionScale(16, 32, NuIsing3D, OmegaIsing3D)
	want := math.Pow(2, 1/NuIsing3D+OmegaIsing3D)
	if math.Abs(c1/c2-want) > 1e-12*want {
		t.Fatalf("ratio %v, want %v", c1/c2, want)
	}
}
