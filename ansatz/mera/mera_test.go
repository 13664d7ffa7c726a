package mera

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"vqs/hamiltonian"
	"vqs/internal/latfft"
)

func mustModel(t testing.TB, L, dim int, m2, lambda float64) *hamiltonian.Model {
	t.Helper()
	m, err := hamiltonian.NewModel(L, dim, m2, lambda)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustNew(t testing.TB, m *hamiltonian.Model, cfg Config) *Ansatz {
	t.Helper()
	a, err := New(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The default ladder is 0 and about one time per factor 2 from 0.3 to min(L/2, 4); the options
// move its ends and set its length.
func TestLadder(t *testing.T) {
	for _, c := range []struct {
		L    int
		cfg  Config
		want []float64
	}{
		{32, Config{}, []float64{0, 0.3, 0, 0, 0, 4}},
		{32, Config{TMax: 16}, []float64{0, 0.3, 0.3 * math.Pow(16/0.3, 1.0/6), 0, 0, 0, 0, 16}},
		{8, Config{}, []float64{0, 0.3, 0, 0, 0, 4}},
		{1, Config{}, []float64{0, 0.3, 0.5}},
		{16, Config{TMin: 1, TMax: 4, Rungs: 3}, []float64{0, 1, 2, 4}},
		{16, Config{TMin: 2, TMax: 2}, []float64{0, 2}},
		{16, Config{TMin: 0.5, Rungs: 1}, []float64{0, 0.5}},
	} {
		got, err := ladder(c.L, c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(c.want) {
			t.Errorf("L=%d %+v: times %v, want %d of them", c.L, c.cfg, got, len(c.want))
			continue
		}
		ratio := 0.0
		for i, w := range c.want {
			if w != 0 && math.Abs(got[i]-w) > 1e-12*w {
				t.Errorf("L=%d %+v: t_%d = %v, want %v (all %v)", c.L, c.cfg, i, got[i], w, got)
			}
			if i >= 2 {
				r := got[i] / got[i-1]
				if ratio != 0 && math.Abs(r-ratio) > 1e-9*r {
					t.Errorf("L=%d %+v: not geometric: %v", c.L, c.cfg, got)
				}
				ratio = r
			}
		}
		if got[0] != 0 {
			t.Errorf("L=%d %+v: t_0 = %v", c.L, c.cfg, got[0])
		}
	}
	a := mustNew(t, mustModel(t, 16, 2, 1, 1), Config{Scales: 3, Width: 1})
	if tt := a.Times(); len(tt) != 6 || a.LocalScales() != 3 {
		t.Errorf("Times %v, LocalScales %d", tt, a.LocalScales())
	}
}

func TestConfigErrors(t *testing.T) {
	m := mustModel(t, 8, 2, 1, 1)
	bad := []Config{
		{Scales: 7, Width: 2},  // the default 8x8 ladder has 6 rungs
		{Scales: -2, Width: 2}, // meaningless
		{Scales: 1, Width: -1},
		{Scales: 0, Init: "random"},
		{Scales: -1, TMin: 2, TMax: 1},
		{Scales: -1, TMin: -1},
		{Scales: -1, Rungs: -1},
		{Scales: -1, RefMass: -1},
		{Scales: -1, RefMass: math.Inf(1)},
		{Scales: -1, TMax: math.Inf(1)},
	}
	for _, c := range bad {
		if _, err := New(m, c); err == nil {
			t.Errorf("New(%+v) accepted an invalid config", c)
		}
	}
	for _, c := range []Config{{Scales: 0}, {Scales: 6, Width: 1}, {Scales: -1, Width: 3, Init: "product"},
		{Scales: 1}, {Scales: -1, TMin: 0.5, TMax: 2, Rungs: 2, RefMass: 0.7}} {
		if _, err := New(m, c); err != nil {
			t.Errorf("New(%+v): %v", c, err)
		}
	}
}

// The parameter count follows from the layout: log A, B, one band per octave, per rung with
// local terms 4 polynomial coefficients and Width units of 1 + (2 dim + 1) parameters, and the
// two of the cat unit.
func TestParamLayout(t *testing.T) {
	m := mustModel(t, 8, 2, 1, 1)
	nb := len(mustNew(t, m, Config{}).bands)
	if nb != 4 {
		t.Errorf("8x8 has %d bands, want 4", nb)
	}
	for _, c := range []struct{ scales, width, want int }{
		{0, 3, 2 + nb},
		{1, 0, 2 + nb + 4 + 2},
		{2, 3, 2 + nb + 2*(4+3*6) + 2},
		{-1, 3, 2 + nb + 6*(4+3*6) + 2},
	} {
		a := mustNew(t, m, Config{Scales: c.scales, Width: c.width})
		if a.NumParams() != c.want || len(a.ParamNames()) != c.want {
			t.Errorf("Scales=%d Width=%d: NumParams %d, names %d, want %d", c.scales, c.width, a.NumParams(), len(a.ParamNames()), c.want)
		}
		names := a.ParamNames()
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				t.Errorf("duplicate parameter name %q", n)
			}
			seen[n] = true
		}
	}
}

func TestSetParams(t *testing.T) {
	m := mustModel(t, 4, 2, 1, 1)
	a := mustNew(t, m, Config{Scales: -1, Width: 2})
	th := a.Params(nil)
	if err := a.SetParams(th[1:]); err == nil {
		t.Error("wrong length accepted")
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		th2 := slices.Clone(th)
		th2[3] = bad
		if err := a.SetParams(th2); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	// Any finite vector is accepted and leaves a positive, finite kernel and c4, c6 <= 0.
	rng := rand.New(rand.NewPCG(1, 2))
	names := a.ParamNames()
	for trial := 0; trial < 20; trial++ {
		for i := range th {
			th[i] = (rng.Float64() - 0.5) * math.Pow(10, float64(rng.IntN(600)-300))
		}
		th[0], th[2] = 1e300, -1e300
		if err := a.SetParams(th); err != nil {
			t.Fatal(err)
		}
		for k, g := range a.GaussianKernel() {
			if !(g > 0) || math.IsInf(g, 0) {
				t.Fatalf("g(%d) = %v", k, g)
			}
		}
		got := a.Params(th[:0])
		for i, n := range names {
			local := !strings.HasPrefix(n, "gauss.")
			if (local && math.Abs(got[i]) > maxLocal) || (n == "gauss.B" && got[i] < 0) {
				t.Fatalf("%s = %v after clamping", n, got[i])
			}
		}
		// Every evaluation stays finite at a field where Psi lives.
		ws := a.NewWorkspace()
		phi := randomField(rng, m.N)
		grad := make([]float64, m.N)
		o := make([]float64, a.NumParams())
		u, lap := a.Derivs(ws, phi, grad, o)
		if !finite(u) || !finite(lap) || !finite(grad...) || !finite(o...) {
			t.Fatalf("non-finite evaluation after SetParams of extreme values: u %v lap %v", u, lap)
		}
	}
	// Params reuses dst.
	buf := make([]float64, 0, a.NumParams()+5)
	if p := a.Params(buf); &p[0] != &buf[:1][0] {
		t.Error("Params did not reuse dst")
	}
}

// randomize sets every parameter to a random value away from the clamps, with local terms
// large enough that their derivatives dominate the comparison.
func randomize(t testing.TB, a *Ansatz, rng *rand.Rand) {
	t.Helper()
	th := a.Params(nil)
	for i, n := range a.ParamNames() {
		switch {
		case n == "gauss.logA":
			th[i] = math.Log(0.5 + rng.Float64())
		case n == "gauss.B":
			th[i] = 0.3 + rng.Float64()
		case strings.HasPrefix(n, "gauss.c"):
			th[i] = 0.6 * (rng.Float64() - 0.5)
		case strings.HasSuffix(n, ".c4"), strings.HasSuffix(n, ".n31"), strings.HasSuffix(n, ".n22"):
			th[i] = 0.2 * (rng.Float64() - 0.5)
		case strings.HasSuffix(n, ".c6"):
			th[i] = 0.02 * (rng.Float64() - 0.5)
		case strings.HasSuffix(n, ".a"):
			th[i] = 2 * (rng.Float64() - 0.5)
		default: // logcosh weights and cat.b
			th[i] = 1.5 * rng.NormFloat64() / math.Sqrt(float64(a.slots))
		}
	}
	if err := a.SetParams(th); err != nil {
		t.Fatal(err)
	}
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

func randomField(rng *rand.Rand, n int) []float64 {
	phi := make([]float64, n)
	for i := range phi {
		phi[i] = 0.2 + 0.8*rng.NormFloat64() // off-centre so that odd terms are exercised
	}
	return phi
}

// richardson returns the central difference of f at step h, extrapolated from h and h/2.
func richardson(f func(h float64) float64, h float64) float64 {
	d1, d2 := f(h), f(h/2)
	return (4*d2 - d1) / 3
}

func close(got, want, scale, tol float64) bool {
	return math.Abs(got-want) <= tol*(math.Abs(want)+scale)
}

type fdCase struct {
	L, dim, scales int
}

func fdCases() []fdCase {
	var cs []fdCase
	for _, dim := range []int{1, 2} {
		for _, L := range []int{1, 2, 3, 4, 6, 8} {
			cs = append(cs, fdCase{L, dim, -1})
		}
	}
	// Partial ladders (odd and even numbers of rungs with t > 0, t = 0 alone), and the
	// coinciding slots of small lattices in three dimensions.
	cs = append(cs, fdCase{8, 2, 2}, fdCase{8, 2, 3}, fdCase{6, 1, 1}, fdCase{4, 3, -1}, fdCase{2, 3, -1})
	return cs
}

// fdField is a random field inside the confining wall (TestWall tests the wall).
func fdField(a *Ansatz, rng *rand.Rand) []float64 {
	phi := randomField(rng, a.Model().N)
	for i, v := range phi {
		phi[i] = math.Max(-0.9*a.wallR, math.Min(0.9*a.wallR, v))
	}
	return phi
}

// TestFieldDerivatives checks du/dphi and the Laplacian of Derivs, and LocalTerms and its
// gradient, against central differences of LogPsi and LocalTerms.
func TestFieldDerivatives(t *testing.T) {
	for ci, c := range fdCases() {
		t.Run(fmt.Sprintf("L%d_d%d_s%d", c.L, c.dim, c.scales), func(t *testing.T) {
			m := mustModel(t, c.L, c.dim, 0.7, 3)
			a := mustNew(t, m, Config{Scales: c.scales, Width: 2})
			rng := rand.New(rand.NewPCG(uint64(ci), 7))
			randomize(t, a, rng)
			ws := a.NewWorkspace()
			phi := fdField(a, rng)
			n := m.N
			grad := make([]float64, n)
			u, lap := a.Derivs(ws, phi, grad, nil)
			if lp := a.LogPsi(ws, phi); !close(lp, u, 1, 1e-12) {
				t.Fatalf("Derivs u = %v, LogPsi = %v", u, lp)
			}
			lgrad := make([]float64, n)
			ul := a.LocalTerms(ws, phi, lgrad)
			// The Gaussian part is known exactly: u_loc = u + (1/2) phi^T G phi.
			quad := latfft.NewPlan(c.L, c.dim).QuadForm(phi, a.Kernel())
			if !close(ul, u+0.5*quad, 1, 1e-11) {
				t.Fatalf("LocalTerms = %v, u + quad/2 = %v", ul, u+0.5*quad)
			}
			shift := func(f func() float64, x int, h float64) float64 {
				old := phi[x]
				phi[x] = old + h
				fp := f()
				phi[x] = old - h
				fm := f()
				phi[x] = old
				return fp - fm
			}
			logPsi := func() float64 { return a.LogPsi(ws, phi) }
			locTerms := func() float64 { return a.LocalTerms(ws, phi, nil) }
			gscale := 0.0
			for _, g := range grad {
				gscale = math.Max(gscale, math.Abs(g))
			}
			for x := 0; x < n; x++ {
				fd := richardson(func(h float64) float64 { return shift(logPsi, x, h) / (2 * h) }, 1e-3)
				if !close(grad[x], fd, 1e-3*gscale, 1e-8) {
					t.Errorf("du/dphi_%d = %.12g, finite difference %.12g", x, grad[x], fd)
				}
				fdl := richardson(func(h float64) float64 { return shift(locTerms, x, h) / (2 * h) }, 1e-3)
				if !close(lgrad[x], fdl, 1e-3*gscale, 1e-8) {
					t.Errorf("du_loc/dphi_%d = %.12g, finite difference %.12g", x, lgrad[x], fdl)
				}
			}
			second := func(f func() float64, h float64) float64 {
				s, f0 := 0.0, f()
				for x := 0; x < n; x++ {
					old := phi[x]
					phi[x] = old + h
					fp := f()
					phi[x] = old - h
					fm := f()
					phi[x] = old
					s += (fp - 2*f0 + fm) / (h * h)
				}
				return s
			}
			fdLap := richardson(func(h float64) float64 { return second(logPsi, h) }, 2e-3)
			if !close(lap, fdLap, 1, 1e-6) {
				t.Errorf("Laplacian %.12g, finite differences %.12g", lap, fdLap)
			}
			// The local part alone: the Gaussian part contributes exactly -sum_k g(k).
			sumG := 0.0
			for _, g := range a.Kernel() {
				sumG += g
			}
			fdLocLap := richardson(func(h float64) float64 { return second(locTerms, h) }, 2e-3)
			if !close(lap+sumG, fdLocLap, 0.1, 1e-6) {
				t.Errorf("local Laplacian %.12g, finite differences %.12g", lap+sumG, fdLocLap)
			}
			if math.Abs(fdLocLap) < 1e-2*sumG {
				t.Errorf("local Laplacian %.3g is too small against sum g = %.3g for a sharp test", fdLocLap, sumG)
			}
		})
	}
}

// TestParamDerivatives checks O_i = du/dtheta_i against central differences of LogPsi.
func TestParamDerivatives(t *testing.T) {
	for ci, c := range fdCases() {
		t.Run(fmt.Sprintf("L%d_d%d_s%d", c.L, c.dim, c.scales), func(t *testing.T) {
			m := mustModel(t, c.L, c.dim, 0.7, 3)
			a := mustNew(t, m, Config{Scales: c.scales, Width: 2})
			rng := rand.New(rand.NewPCG(uint64(ci), 11))
			randomize(t, a, rng)
			ws := a.NewWorkspace()
			phi := fdField(a, rng)
			o := make([]float64, a.NumParams())
			logDerivParams(a, ws, phi, o)
			th := a.Params(nil)
			names := a.ParamNames()
			work := slices.Clone(th)
			for i := range th {
				fd := richardson(func(h float64) float64 {
					work[i] = th[i] + h
					if err := a.SetParams(work); err != nil {
						t.Fatal(err)
					}
					up := a.LogPsi(ws, phi)
					work[i] = th[i] - h
					if err := a.SetParams(work); err != nil {
						t.Fatal(err)
					}
					down := a.LogPsi(ws, phi)
					work[i] = th[i]
					return (up - down) / (2 * h)
				}, 1e-3)
				if !close(o[i], fd, 1e-2, 1e-8) {
					t.Errorf("O[%s] = %.12g, finite difference %.12g", names[i], o[i], fd)
				}
			}
			if err := a.SetParams(th); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// On L = 1 every slot of the patch is the same site: the Laplacian must count the cross terms.
// With one unit, w = (1, 1, 1) on a single site (dim 1), f = a logcosh(3 z) with z = phi/sigma_0,
// so d2f/dphi2 = 9 a sech^2(3 z)/sigma_0^2, nine times the diagonal-only value.
func TestDuplicateSlotsClosedForm(t *testing.T) {
	m := mustModel(t, 1, 1, 1, 0)
	a := mustNew(t, m, Config{Scales: 1, Width: 1})
	th := a.Params(nil)
	for i := range th {
		th[i] = 0
	}
	th[0] = 0 // A = 1, g = 1
	names := a.ParamNames()
	for i, n := range names {
		switch n {
		case "s0.h0.a":
			th[i] = 0.7
		case "s0.h0.w0", "s0.h0.w1", "s0.h0.w2":
			th[i] = 1
		}
	}
	if err := a.SetParams(th); err != nil {
		t.Fatal(err)
	}
	ws := a.NewWorkspace()
	phi := []float64{0.3}
	grad := make([]float64, 1)
	u, lap := a.Derivs(ws, phi, grad, nil)
	sigma := math.Sqrt(0.5) // the free oscillator of frequency 1
	z := 3 * phi[0] / sigma
	sech := 1 / math.Cosh(z)
	if want := -0.5*phi[0]*phi[0] + 0.7*math.Log(math.Cosh(z)); math.Abs(u-want) > 1e-14 {
		t.Errorf("u = %v, want %v", u, want)
	}
	if want := -phi[0] + 0.7*3*math.Tanh(z)/sigma; math.Abs(grad[0]-want) > 1e-14 {
		t.Errorf("du = %v, want %v", grad[0], want)
	}
	if want := -1 + 0.7*9*sech*sech/(sigma*sigma); math.Abs(lap-want) > 1e-13 {
		t.Errorf("lap = %v, want %v", lap, want)
	}
}

// Derivs with o must give the same u, gradient and Laplacian as without, and LocalGrad the
// gradient of LocalTerms.
func TestDerivsWithAndWithoutO(t *testing.T) {
	for ci, c := range fdCases() {
		m := mustModel(t, c.L, c.dim, -0.4, 5)
		a := mustNew(t, m, Config{Scales: c.scales, Width: 2})
		rng := rand.New(rand.NewPCG(uint64(ci), 13))
		randomize(t, a, rng)
		ws := a.NewWorkspace()
		phi := fdField(a, rng)
		grad, grad2 := make([]float64, m.N), make([]float64, m.N)
		o := make([]float64, a.NumParams())
		u, lap := a.Derivs(ws, phi, grad, o)
		u2, lap2 := a.Derivs(ws, phi, grad2, nil)
		lg, lg2 := make([]float64, m.N), make([]float64, m.N)
		a.LocalTerms(ws, phi, lg)
		a.LocalGrad(ws, phi, lg2)
		for x := range lg {
			if lg[x] != lg2[x] {
				t.Errorf("%+v: LocalGrad[%d] = %v, LocalTerms gradient %v", c, x, lg2[x], lg[x])
			}
		}
		lp := a.LogPsi(ws, phi)
		if !close(u, u2, 1, 1e-12) || !close(u, lp, 1, 1e-12) || !close(lap, lap2, 1, 1e-12) {
			t.Errorf("%+v: with O u=%v lap=%v, without u=%v lap=%v, LogPsi %v", c, u, lap, u2, lap2, lp)
		}
		for x := range grad {
			if !close(grad[x], grad2[x], 1, 1e-12) {
				t.Errorf("%+v: grad[%d] %v vs %v", c, x, grad[x], grad2[x])
			}
		}
	}
}

// The bands are a partition of unity, the top band holds k = 0 alone, every band holds some
// momentum (no dead parameters), and band s peaks at |p| = 2^-s p_max, so a common band
// amplitude c only rescales the kernel by e^c.
func TestBands(t *testing.T) {
	for _, c := range []struct{ L, dim int }{{32, 2}, {8, 2}, {6, 1}, {3, 2}, {1, 1}, {8, 3}, {2, 1}, {2, 2}, {2, 3}, {4, 2}, {16, 2}, {64, 1}} {
		m := mustModel(t, c.L, c.dim, 1, 0)
		a := mustNew(t, m, Config{Scales: 0})
		top := len(a.bands) - 1
		for s, b := range a.bands {
			used := false
			for k, v := range b {
				used = used || v > 1e-6
				if s == top && k != 0 && v != 0 {
					t.Errorf("%+v: top band holds k = %d (%v)", c, k, v)
				}
			}
			if !used {
				t.Errorf("%+v: band %d of %d holds no momentum", c, s, len(a.bands))
			}
		}
		for k := 0; k < m.N; k++ {
			sum := 0.0
			for s, b := range a.bands {
				if b[k] < 0 || b[k] > 1 {
					t.Fatalf("%+v: b_%d(%d) = %v", c, s, k, b[k])
				}
				sum += b[k]
			}
			if math.Abs(sum-1) > 1e-15 {
				t.Errorf("%+v: bands sum to %v at k = %d", c, sum, k)
			}
		}
		if a.bands[top][0] != 1 {
			t.Errorf("%+v: top band at k = 0 is %v", c, a.bands[top][0])
		}
		pmax := 2 * math.Sqrt(float64(c.dim))
		for k, p2 := range a.p2 {
			for s := 0; s < top; s++ {
				if math.Abs(math.Sqrt(p2)-pmax/math.Exp2(float64(s))) < 1e-12 && math.Abs(a.bands[s][k]-1) > 1e-12 {
					t.Errorf("%+v: band %d at |p| = p_max/2^%d is %v, want 1", c, s, s, a.bands[s][k])
				}
			}
		}
		th := a.Params(nil)
		th[0], th[1] = math.Log(0.8), 0.6
		for s := range a.bands {
			th[2+s] = 0.3
		}
		if err := a.SetParams(th); err != nil {
			t.Fatal(err)
		}
		for k, g := range a.GaussianKernel() {
			if want := math.Sqrt(0.8+0.6*a.p2[k]) * math.Exp(0.3); math.Abs(g-want) > 1e-14*want {
				t.Errorf("%+v: g(%d) = %v, want %v", c, k, g, want)
			}
		}
	}
}
