package learned

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"vqs/hamiltonian"
	"vqs/internal/latfft"
	"vqs/rgsampler"
)

func newDiffusion(t testing.TB, dims []int, scheme rgsampler.Scheme, times []float64) *rgsampler.Diffusion {
	t.Helper()
	d, err := rgsampler.NewDiffusionBox(dims, scheme, 0.5, times)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func testModel(t testing.TB, dims []int, times []float64, cfg Config) (*Model, *rgsampler.Diffusion) {
	t.Helper()
	d := newDiffusion(t, dims, rgsampler.HeatScheme, times)
	m, err := New(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m, d
}

// perturb moves every parameter off its initial value so that no term hides behind a 0 or 1.
func perturb(m *Model, rng *rand.Rand) {
	for _, s := range m.p.all() {
		for j := range s {
			s[j] += 0.3 * rng.NormFloat64()
		}
	}
}

// freeCov returns the per-mode covariance 1/(p^2 + m2) of the free Euclidean theory with
// action (1/2) phi (-Lap + m2) phi.
func freeCov(dims []int, m2 float64) []float64 {
	c := hamiltonian.MomentumSquared(dims)
	for k := range c {
		c[k] = 1 / (c[k] + m2)
	}
	return c
}

// freeSamples draws exact samples of the free theory: phi = K_{sqrt C} xi.
func freeSamples(t testing.TB, dims []int, m2 float64, n int, rng *rand.Rand) [][]float64 {
	fft, err := latfft.NewBoxPlan(dims)
	if err != nil {
		t.Fatal(err)
	}
	kern := freeCov(dims, m2)
	for k := range kern {
		kern[k] = math.Sqrt(kern[k])
	}
	out := make([][]float64, n)
	for j := range out {
		phi := make([]float64, fft.N)
		for x := range phi {
			phi[x] = rng.NormFloat64()
		}
		fft.Convolve(phi, phi, kern)
		out[j] = phi
	}
	return out
}

func randomField(n int, rng *rand.Rand) []float64 {
	phi := make([]float64, n)
	for x := range phi {
		phi[x] = 1.5 * rng.NormFloat64()
	}
	return phi
}

var geometries = [][]int{{7}, {4, 4}, {5, 5}, {3, 3, 3}, {4, 3, 5}}

func TestForwardMatchesGorgonia(t *testing.T) {
	for _, dims := range geometries {
		m, _ := testModel(t, dims, []float64{0, 0.05, 0.3, 1}, Config{Channels: 3, Layers: 2, BatchSize: 5, Seed: 3})
		rng := rand.New(rand.NewPCG(1, 2))
		perturb(m, rng)
		tr, err := newTrainer(m)
		if err != nil {
			t.Fatal(err)
		}
		samples := [][]float64{randomField(m.geo.n, rng), randomField(m.geo.n, rng)}
		s := make([]float64, m.geo.n)
		for round := 0; round < 2; round++ { // the second round checks that inputs refill in place
			tr.fillBatch(samples, rng)
			if err := tr.run(); err != nil {
				t.Fatal(err)
			}
			got := tr.scoreVal.Data().([]float64)
			N := m.geo.n
			for b := 0; b < m.cfg.BatchSize; b++ {
				m.Eval(s, tr.phi[b*N:(b+1)*N], tr.levels[b])
				for x := range s {
					if d := math.Abs(s[x] - got[b*N+x]); d > 1e-10*(1+math.Abs(s[x])) {
						t.Fatalf("dims %v round %d sample %d site %d: plain Go %.15g, gorgonia %.15g",
							dims, round, b, x, s[x], got[b*N+x])
					}
				}
			}
		}
	}
}

// TestGradientsFiniteDifference checks gorgonia's gradient of the DSM loss in every parameter
// against central differences of the loss computed in plain Go on the same batch.
func TestGradientsFiniteDifference(t *testing.T) {
	for _, dims := range [][]int{{4, 4}, {3, 3, 3}} {
		m, _ := testModel(t, dims, []float64{0, 0.05, 0.4}, Config{Channels: 2, Layers: 1, BatchSize: 3, Seed: 5, CNNPenalty: 0.3})
		rng := rand.New(rand.NewPCG(7, 8))
		perturb(m, rng)
		tr, err := newTrainer(m)
		if err != nil {
			t.Fatal(err)
		}
		tr.load(m.p)
		samples := [][]float64{randomField(m.geo.n, rng), randomField(m.geo.n, rng)}
		tr.fillBatch(samples, rng)
		if err := tr.run(); err != nil {
			t.Fatal(err)
		}
		// The training loss: DSM plus beta |CNN|^2, in plain Go.
		batchLoss := func() float64 {
			N, sum := m.geo.n, 0.0
			s, c := make([]float64, N), make([]float64, N)
			for b := 0; b < m.cfg.BatchSize; b++ {
				phi := tr.phi[b*N : (b+1)*N]
				m.Eval(s, phi, tr.levels[b])
				m.cnn(c, phi, tr.levels[b])
				for x := range s {
					r := s[x] - tr.target[b*N+x]
					sum += tr.w[b] * (r*r + m.cfg.CNNPenalty*c[x]*c[x])
				}
			}
			return sum
		}
		if l0 := batchLoss(); math.Abs(l0-tr.loss()) > 1e-12*math.Abs(l0) {
			t.Fatalf("loss: plain Go %.15g, gorgonia %.15g", l0, tr.loss())
		}
		const h = 1e-5
		checked := 0
		for j, s := range m.p.all() {
			gv, err := tr.params[j].Grad()
			if err != nil {
				t.Fatal(err)
			}
			grad := gv.Data().([]float64)
			for e := range s {
				old := s[e]
				s[e] = old + h
				lp := batchLoss()
				s[e] = old - h
				lm := batchLoss()
				s[e] = old
				fd := (lp - lm) / (2 * h)
				if math.Abs(fd-grad[e]) > 1e-6*(math.Abs(fd)+1e-3) {
					t.Errorf("dims %v param %s[%d]: gorgonia %.10g, finite difference %.10g",
						dims, tr.params[j].Name(), e, grad[e], fd)
				}
				checked++
			}
		}
		t.Logf("dims %v: %d parameter derivatives agree", dims, checked)
	}
}

// TestTrainFreeTheory trains on exact samples of a free theory, starting from couplings pushed
// away from the exact ones, and checks that the DSM loss falls towards the loss of the exact
// score and that the learned couplings approach the exact flow: at level i the law is Gaussian
// with covariance C_i = a_i^2/(p^2+m2) + v_i, so with the reference start at the true m2,
// Z_i = 1 and m2_i = 1/C_i(0) are exact.
func TestTrainFreeTheory(t *testing.T) {
	const m2 = 1.0
	dims := []int{8, 8}
	d := newDiffusion(t, dims, rgsampler.HeatScheme, rgsampler.DefaultTimes(4, 0.5, 8.5))
	m, err := New(d, Config{Seed: 11, RefM2: m2, LearningRate: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.p.m2 {
		m.p.z[i] *= 1.3
		m.p.m2[i] += 0.6
	}
	rng := rand.New(rand.NewPCG(5, 6))
	train := freeSamples(t, dims, m2, 4096, rng)
	test := freeSamples(t, dims, m2, 256, rng)
	exact, err := rgsampler.GaussianScore(d, freeCov(dims, m2))
	if err != nil {
		t.Fatal(err)
	}
	loss := func(s interface {
		Eval(dst, phi []float64, level int)
	}) float64 {
		l, err := m.Loss(s, test, 2000, rand.New(rand.NewPCG(99, 99)))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	before, best := loss(m), loss(exact)
	if err := m.Train(context.Background(), train, 600, rng); err != nil {
		t.Fatal(err)
	}
	after := loss(m)
	t.Logf("DSM loss: before %.5f, after %.5f, exact score %.5f", before, after, best)
	if !(after < before) || after-best > 0.1*(before-best) {
		t.Errorf("training did not bring the loss close to the exact score's")
	}
	for _, c := range m.Couplings() {
		cov := make([]float64, m.geo.n)
		d.LevelCovariance(cov, freeCov(dims, m2), c.Level)
		t.Logf("level %d t=%.4f: Z %.4f m2 %.4f (exact %.4f) lambda %.4f", c.Level, c.Time, c.Z, c.M2, 1/cov[0], c.Lambda)
		// Loose: lambda is poorly determined where the field is small (its standard error at
		// level 0 is about 0.1 for these samples) and trades off against m2 and Z.
		if math.Abs(c.M2-1/cov[0]) > 0.1 || math.Abs(c.Z-1) > 0.05 {
			t.Errorf("level %d: learned (Z, m2) = (%.4f, %.4f), exact (1, %.4f)", c.Level, c.Z, c.M2, 1/cov[0])
		}
	}
}

// TestReferenceIsExactFreeScore: with the CNN off and the couplings at their initial values,
// the score is the exact score of the free theory whose mass is RefM2, computed independently
// by rgsampler.GaussianScore, at every level and in both schemes.
func TestReferenceIsExactFreeScore(t *testing.T) {
	const m2 = 0.7
	for _, dims := range [][]int{{9}, {6, 6}, {4, 3, 5}} {
		for _, scheme := range []rgsampler.Scheme{rgsampler.HeatScheme, rgsampler.PolchinskiScheme} {
			d := newDiffusion(t, dims, scheme, nil)
			m, err := New(d, Config{RefM2: m2})
			if err != nil {
				t.Fatal(err)
			}
			for i := range m.p.out {
				m.p.out[i] = 0
			}
			exact, err := rgsampler.GaussianScore(d, freeCov(dims, m2))
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			phi := randomField(m.geo.n, rng)
			got, want := make([]float64, m.geo.n), make([]float64, m.geo.n)
			for i := 0; i < d.Levels(); i++ {
				for k, c := range m.Covariance(i) {
					if w := exact.(rgsampler.Covariancer).Covariance(i)[k]; math.Abs(c-w) > 1e-12*w {
						t.Fatalf("dims %v %v level %d mode %d: covariance %.15g, exact %.15g", dims, scheme, i, k, c, w)
					}
				}
				m.Eval(got, phi, i)
				exact.Eval(want, phi, i)
				for x := range got {
					if math.Abs(got[x]-want[x]) > 1e-10*(1+math.Abs(want[x])) {
						t.Fatalf("dims %v %v level %d site %d: %.15g, exact %.15g", dims, scheme, i, x, got[x], want[x])
					}
				}
			}
		}
	}
}

// TestEvalSymmetries: the score commutes with lattice translations and is odd in phi (the
// target's Z2 symmetry survives the linear diffusion), for any parameters; Eval allocates
// nothing.
func TestEvalSymmetries(t *testing.T) {
	for _, dims := range geometries {
		m, d := testModel(t, dims, nil, Config{Seed: 9})
		rng := rand.New(rand.NewPCG(5, 5))
		perturb(m, rng)
		n := m.geo.n
		phi := randomField(n, rng)
		s, s2, shifted, neg := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		stride := 1
		for mu, L := range dims {
			// shifted(x) = phi(x - e_mu)
			for x := range phi {
				c := (x / stride) % L
				src := x - c*stride + ((c+L-1)%L)*stride
				shifted[x] = phi[src]
			}
			level := 1 + mu%(d.Levels()-1)
			m.Eval(s, phi, level)
			m.Eval(s2, shifted, level)
			for x := range s {
				c := (x / stride) % L
				src := x - c*stride + ((c+L-1)%L)*stride
				if math.Abs(s2[x]-s[src]) > 1e-12*(1+math.Abs(s[src])) {
					t.Fatalf("dims %v: score of the field shifted along axis %d is not the shifted score at site %d: %g vs %g", dims, mu, x, s2[x], s[src])
				}
			}
			stride *= L
		}
		for x := range phi {
			neg[x] = -phi[x]
		}
		m.Eval(s, phi, 1)
		m.Eval(s2, neg, 1)
		for x := range s {
			if math.Abs(s[x]+s2[x]) > 1e-12*(1+math.Abs(s[x])) {
				t.Fatalf("dims %v: score not odd at site %d: %g vs %g", dims, x, s[x], s2[x])
			}
		}
		// The CNN's linear response to a uniform field is subtracted (m2 alone carries it):
		// its output on a small uniform field is O(eps^3), so halving eps divides it by 8.
		uniform := func(eps float64) float64 {
			for x := range neg {
				neg[x] = eps
			}
			m.cnn(s2, neg, 1)
			return s2[0]
		}
		if r := uniform(2e-3) / uniform(1e-3); math.Abs(r-8) > 0.1 {
			t.Errorf("dims %v: CNN output on a uniform field scales by %.4f when the field doubles, want 8 (cubic)", dims, r)
		}
		if a := testing.AllocsPerRun(20, func() { m.Eval(s, phi, 1) }); a != 0 {
			t.Errorf("dims %v: Eval allocates %v times", dims, a)
		}
	}
}

// iidSamples draws fields whose sites are independent with density
// exp(-(m2/2) phi^2 - (lambda/24) phi^4), by rejection from N(0, 1): a phi^4 "action" with
// no gradient term, so the score-matching fit must give Z = 0.
func iidSamples(n, count int, m2, lambda float64, rng *rand.Rand) [][]float64 {
	logRatio := func(f float64) float64 { return -(m2-1)/2*f*f - lambda/24*f*f*f*f }
	rmax := math.Inf(-1)
	for f := 0.0; f < 20; f += 1e-4 {
		rmax = math.Max(rmax, logRatio(f))
	}
	out := make([][]float64, count)
	for j := range out {
		phi := make([]float64, n)
		for x := range phi {
			for {
				f := rng.NormFloat64()
				if rng.Float64() < math.Exp(logRatio(f)-rmax) {
					phi[x] = f
					break
				}
			}
		}
		out[j] = phi
	}
	return out
}

// TestScoreMatchingFitAtTarget checks the closed-form fit of the noiseless level against
// densities known exactly: the free theory (Z = 1, m2, lambda = 0) and independent sites in a
// single and a double well (Z = 0, m2, lambda).
func TestScoreMatchingFitAtTarget(t *testing.T) {
	dims := []int{8, 8}
	d := newDiffusion(t, dims, rgsampler.HeatScheme, nil)
	rng := rand.New(rand.NewPCG(21, 22))
	cases := []struct {
		name             string
		samples          [][]float64
		z, m2, lambda    float64
		tz, tm2, tlambda float64
	}{
		// Standard deviations over 20 seeds: (0.007, 0.027, 0.11), (0.0035, 0.030, 0.14),
		// (0.0026, 0.018, 0.060); means within one standard error of the truth. Tolerance 4 sd.
		{"free m2=1", freeSamples(t, dims, 1, 4000, rng), 1, 1, 0, 0.03, 0.11, 0.43},
		{"sites m2=0.5 lambda=6", iidSamples(64, 2000, 0.5, 6, rng), 0, 0.5, 6, 0.015, 0.12, 0.55},
		{"sites m2=-1 lambda=6", iidSamples(64, 2000, -1, 6, rng), 0, -1, 6, 0.011, 0.075, 0.24},
	}
	for _, c := range cases {
		m, err := New(d, Config{})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.fitNoiseless(c.samples); err != nil {
			t.Fatal(err)
		}
		got := m.Couplings()[0]
		t.Logf("%s: Z %.4f m2 %.4f lambda %.4f", c.name, got.Z, got.M2, got.Lambda)
		if math.Abs(got.Z-c.z) > c.tz || math.Abs(got.M2-c.m2) > c.tm2 || math.Abs(got.Lambda-c.lambda) > c.tlambda {
			t.Errorf("%s: fitted (Z, m2, lambda) = (%.4f, %.4f, %.4f), want (%g, %g, %g)", c.name, got.Z, got.M2, got.Lambda, c.z, c.m2, c.lambda)
		}
	}
}

func TestCouplingsAndCSV(t *testing.T) {
	m, d := testModel(t, []int{6, 6}, nil, Config{Seed: 2})
	rng := rand.New(rand.NewPCG(1, 3))
	if err := m.Train(context.Background(), freeSamples(t, []int{6, 6}, 1, 64, rng), 5, rng); err != nil {
		t.Fatal(err)
	}
	rows := m.Couplings()
	if len(rows) != d.Levels() {
		t.Fatalf("%d rows for %d levels", len(rows), d.Levels())
	}
	var buf bytes.Buffer
	if err := m.WriteCouplingsCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(rows)+1 || strings.Join(recs[0], ",") != "level,time,z,m2,lambda,method" {
		t.Fatalf("CSV has %d records, header %v", len(recs), recs[0])
	}
	for i, c := range rows {
		if c.Level != i || c.Time != d.Time(i) {
			t.Errorf("row %d: level %d time %g, want %d %g", i, c.Level, c.Time, i, d.Time(i))
		}
		rec := recs[i+1]
		for j, want := range []float64{float64(c.Level), c.Time, c.Z, c.M2, c.Lambda} {
			got, err := strconv.ParseFloat(rec[j], 64)
			if err != nil || got != want {
				t.Errorf("CSV row %d column %d: %q, want %v", i, j, rec[j], want)
			}
		}
		wantMethod := "dsm"
		if i == 0 {
			wantMethod = "sm"
		}
		if rec[5] != wantMethod {
			t.Errorf("CSV row %d: method %q, want %q", i, rec[5], wantMethod)
		}
	}
}

func TestCloneIsIndependent(t *testing.T) {
	dims := []int{5, 5}
	m, d := testModel(t, dims, nil, Config{Seed: 4, BatchSize: 8})
	rng := rand.New(rand.NewPCG(8, 9))
	samples := freeSamples(t, dims, 1, 32, rng)
	if err := m.Train(context.Background(), samples, 3, rng); err != nil {
		t.Fatal(err)
	}
	c, ok := m.Clone().(*Model)
	if !ok {
		t.Fatal("Clone does not return a *Model")
	}
	n := m.geo.n
	phi := randomField(n, rng)
	want, got := make([]float64, n), make([]float64, n)
	level := d.Levels() / 2
	m.Eval(want, phi, level)
	c.Eval(got, phi, level)
	for x := range got {
		if got[x] != want[x] {
			t.Fatalf("clone differs at site %d: %g vs %g", x, got[x], want[x])
		}
	}
	if err := c.Train(context.Background(), samples, 3, rng); err != nil {
		t.Fatal(err)
	}
	again := make([]float64, n)
	m.Eval(again, phi, level)
	c.Eval(got, phi, level)
	same := true
	for x := range got {
		if again[x] != want[x] {
			t.Fatalf("training the clone changed the original at site %d", x)
		}
		same = same && got[x] == want[x]
	}
	if same {
		t.Error("training the clone did not change it")
	}
}

func TestTrainHonoursCancellation(t *testing.T) {
	m, _ := testModel(t, []int{4, 4}, nil, Config{Seed: 1})
	rng := rand.New(rand.NewPCG(1, 1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Train(ctx, freeSamples(t, []int{4, 4}, 1, 8, rng), 1000, rng); err == nil {
		t.Error("Train with a cancelled context returned no error")
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	d := newDiffusion(t, []int{4, 4}, rgsampler.HeatScheme, nil)
	for _, cfg := range []Config{{KernelSize: 2}, {Channels: -1}, {LearningRate: -1}, {RefM2: -1}, {BatchSize: -3}, {KernelSize: 11}} {
		if _, err := New(d, cfg); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
	if _, err := New(newDiffusion(t, []int{3, 3, 3, 3}, rgsampler.HeatScheme, nil), Config{}); err == nil {
		t.Error("4 axes accepted")
	}
	if _, err := New(nil, Config{}); err == nil {
		t.Error("nil diffusion accepted")
	}
	m, _ := New(d, Config{})
	if err := m.Train(context.Background(), [][]float64{make([]float64, 5)}, 1, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("a sample of the wrong size accepted")
	}
}

// TestCovarianceFromSamples: the Gaussian approximation of every level is a_i^2 S(k) + v_i with
// S the samples' structure factor; on free samples it must match the exact a_i^2/(p^2+m2) + v_i,
// which the reference (RefM2 = 3 here) misses by far more than the tolerance.
func TestCovarianceFromSamples(t *testing.T) {
	const m2 = 1.0
	dims := []int{6, 6}
	m, d := testModel(t, dims, nil, Config{RefM2: 3})
	rng := rand.New(rand.NewPCG(4, 4))
	m.fitCovariance(freeSamples(t, dims, m2, 4096, rng))
	worstRef := 0.0
	for i := 0; i < d.Levels(); i++ {
		cov, ref := make([]float64, m.geo.n), make([]float64, m.geo.n)
		d.LevelCovariance(cov, freeCov(dims, m2), i)
		d.LevelCovariance(ref, freeCov(dims, 3), i)
		for k, c := range m.Covariance(i) {
			// S(k) from 4096 samples: relative standard error 1/sqrt(2048) (phi_k and phi_-k are
			// one complex mode), 1/sqrt(4096) for real modes; 0.1 is more than 4 of them.
			if math.Abs(c/cov[k]-1) > 0.1 {
				t.Errorf("level %d mode %d: covariance %.4f, exact %.4f", i, k, c, cov[k])
			}
			worstRef = math.Max(worstRef, math.Abs(ref[k]/cov[k]-1))
		}
	}
	if worstRef < 0.3 {
		t.Fatalf("the reference is too close to the truth (%.2f) for this test to tell them apart", worstRef)
	}
}

// TestEvalSpectrumMatchesEval: the bridge's spectral form of the score, brought back to real
// space, is Eval, at every level, on boxes of one to three axes whose sides differ.
func TestEvalSpectrumMatchesEval(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, dims := range [][]int{{7}, {6, 4}, {4, 3, 5}} {
		m, _ := testModel(t, dims, []float64{0, 0.05, 0.3, 1}, Config{Channels: 3, Layers: 2, Seed: 4})
		perturb(m, rng)
		p, _ := latfft.NewBoxPlan(dims)
		phi := randomField(p.N, rng)
		phiK := make([]complex128, p.HalfModes())
		p.ForwardHalf(phiK, phi)
		want, back, sk := make([]float64, p.N), make([]float64, p.N), make([]complex128, p.HalfModes())
		for lv := 0; lv < m.Levels(); lv++ {
			if !m.NeedsField(lv) {
				t.Fatal("the network needs the field")
			}
			m.Eval(want, phi, lv)
			m.EvalSpectrum(sk, phi, phiK, lv)
			p.InverseHalf(back, sk)
			worst, size := 0.0, 0.0
			for x := range want {
				worst = math.Max(worst, math.Abs(back[x]-want[x]))
				size = math.Max(size, math.Abs(want[x]))
			}
			if worst > 1e-12*size {
				t.Fatalf("%v level %d: EvalSpectrum differs from Eval by %g (largest value %g)", dims, lv, worst, size)
			}
		}
		if a := testing.AllocsPerRun(5, func() { m.EvalSpectrum(sk, phi, phiK, 1) }); a != 0 {
			t.Errorf("%v: EvalSpectrum allocates %v times", dims, a)
		}
	}
}

// TestReferenceCovariance: with Config.Reference c0 the untrained model (CNN off) is the exact
// score of the Gaussian N(0, c0) at every level, for a c0 that is not a free propagator (the
// Gaussian part of a VMC wavefunction, 1/(2 sqrt(p^2 + M^2))); after SetReference(c1) it is
// that of c1, and a coupling learned on top of the old reference keeps its deviation.
func TestReferenceCovariance(t *testing.T) {
	dims := []int{6, 6}
	d := newDiffusion(t, dims, rgsampler.HeatScheme, nil)
	psiCov := func(M2 float64) []float64 {
		c := hamiltonian.MomentumSquared(dims)
		for k := range c {
			c[k] = 0.5 / math.Sqrt(c[k]+M2)
		}
		return c
	}
	c0, c1 := psiCov(0.4), psiCov(1.3)
	m, err := New(d, Config{Reference: c0})
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.p.out {
		m.p.out[i] = 0
	}
	rng := rand.New(rand.NewPCG(5, 6))
	phi := randomField(m.geo.n, rng)
	check := func(c []float64, what string) {
		exact, err := rgsampler.GaussianScore(d, c)
		if err != nil {
			t.Fatal(err)
		}
		got, want := make([]float64, m.geo.n), make([]float64, m.geo.n)
		for i := 0; i < d.Levels(); i++ {
			m.Eval(got, phi, i)
			exact.Eval(want, phi, i)
			for x := range got {
				if math.Abs(got[x]-want[x]) > 1e-10*(1+math.Abs(want[x])) {
					t.Fatalf("%s: level %d site %d: %.15g, exact %.15g", what, i, x, got[x], want[x])
				}
			}
		}
	}
	check(c0, "reference c0")
	if err := m.SetReference(c1); err != nil {
		t.Fatal(err)
	}
	check(c1, "after SetReference(c1)")
	m.p.m2[3] += 0.25
	before := m.p.m2[3]
	if err := m.SetReference(c0); err != nil {
		t.Fatal(err)
	}
	a, v := d.Marginal(3)
	shift := 1/(a[0]*a[0]*c0[0]+v[0]) - 1/(a[0]*a[0]*c1[0]+v[0])
	if math.Abs(m.p.m2[3]-(before+shift)) > 1e-12 {
		t.Fatalf("learned deviation lost: m2 %v, want %v", m.p.m2[3], before+shift)
	}
	if _, err := New(d, Config{Reference: c0[:3]}); err == nil {
		t.Fatal("a reference of the wrong length accepted")
	}
	if err := m.SetReference(make([]float64, m.geo.n)); err == nil {
		t.Fatal("a zero reference accepted")
	}
}

// TestFixQuadratic: with the quadratic part held at an exact reference, the score-matching fit
// at the target level recovers the quartic coupling alone (independent sites, m2 = 0.5,
// lambda = 6: reference c0 = 1/m2 in every mode, so q = 0 and m2_0 = 0.5), and training moves
// lambda and the network but leaves every Z_i and m2_i where the reference put them.
func TestFixQuadratic(t *testing.T) {
	dims := []int{8, 8}
	d := newDiffusion(t, dims, rgsampler.HeatScheme, []float64{0, 0.05, 0.3, 1})
	rng := rand.New(rand.NewPCG(23, 24))
	ref := make([]float64, 64)
	for k := range ref {
		ref[k] = 1 / 0.5
	}
	m, err := New(d, Config{Reference: ref, FixQuadratic: true, FitDraws: 64, BatchSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	z0, m20 := cloneF(m.p.z), cloneF(m.p.m2)
	samples := iidSamples(64, 2000, 0.5, 6, rng)
	if err := m.fitNoiseless(samples); err != nil {
		t.Fatal(err)
	}
	if got := m.Couplings()[0]; math.Abs(got.Z-1) > 0 || math.Abs(got.M2-0.5) > 1e-12 || math.Abs(got.Lambda-6) > 0.4 {
		t.Errorf("fit with the quadratic part fixed: (Z, m2, lambda) = (%v, %v, %v), want (1, 0.5, 6 +- 0.4)", got.Z, got.M2, got.Lambda)
	}
	out0 := cloneF(m.p.out)
	if err := m.Train(context.Background(), samples[:200], 30, rng); err != nil {
		t.Fatal(err)
	}
	for i := range z0 {
		if m.p.z[i] != z0[i] || m.p.m2[i] != m20[i] {
			t.Errorf("level %d: Z %v -> %v, m2 %v -> %v with the quadratic part fixed", i, z0[i], m.p.z[i], m20[i], m.p.m2[i])
		}
	}
	moved := false
	for i := range out0 {
		moved = moved || m.p.out[i] != out0[i]
	}
	if !moved {
		t.Error("training did not move the network")
	}
}
