package learned

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

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
	c := rgsampler.MomentumSquared(dims)
	for k := range c {
		c[k] = 1 / (c[k] + m2)
	}
	return c
}

// freeSamples draws exact samples of the free theory: phi = K_{sqrt C} xi.
func freeSamples(t testing.TB, dims []int, m2 float64, n int, rng *rand.Rand) [][]float64 {
	fft, err := rgsampler.NewFFT(dims)
	if err != nil {
		t.Fatal(err)
	}
	kern := freeCov(dims, m2)
	for k := range kern {
		kern[k] = math.Sqrt(kern[k])
	}
	out := make([][]float64, n)
	for j := range out {
		phi := make([]float64, fft.Sites())
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
	train := freeSamples(t, dims, m2, 512, rng)
	test := freeSamples(t, dims, m2, 256, rng)
	exact, err := rgsampler.GaussianScore(d, freeCov(dims, m2))
	if err != nil {
		t.Fatal(err)
	}
	loss := func(s interface {
		Eval(dst, phi []float64, level int)
	}) float64 {
		l, err := m.Loss(s, test, 4000, rand.New(rand.NewPCG(99, 99)))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	before, best := loss(m), loss(exact)
	if err := m.Train(context.Background(), train, 400, rng); err != nil {
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
	}
}
