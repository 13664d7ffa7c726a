package learned

import (
	"math"
	"math/rand/v2"
	"testing"

	"vqs/internal/latfft"
)

// heat is the heat-equation diffusion of DESIGN.md section 6 written out independently for the
// tests: per mode A = p^2 + mu2, B = 1, so a = exp(-A t), v = (1 - exp(-2 A t))/A.
type heat struct {
	geo   geometry
	mu2   float64
	times []float64
}

func (h heat) Levels() int            { return len(h.times) }
func (h heat) Time(level int) float64 { return h.times[level] }
func (h heat) Marginal(level int) (a, v []float64) {
	t := h.times[level]
	p2 := momentumSquared(h.geo)
	a, v = make([]float64, len(p2)), make([]float64, len(p2))
	for k, q := range p2 {
		A := q + h.mu2
		a[k] = math.Exp(-A * t)
		if A == 0 {
			v[k] = 2 * t
		} else {
			v[k] = -math.Expm1(-2*A*t) / A
		}
	}
	return a, v
}

func testModel(t *testing.T, L, dim int, times []float64, cfg Config) (*Model, heat) {
	t.Helper()
	geo, err := newGeometry(L, dim, 1)
	if err != nil {
		t.Fatal(err)
	}
	h := heat{geo: geo, mu2: 0.5, times: times}
	m, err := newModel(L, dim, h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m, h
}

// perturb moves every parameter off its initial value so that no term hides behind a 0 or 1.
func perturb(m *Model, rng *rand.Rand) {
	for _, s := range m.p.all() {
		for j := range s {
			s[j] += 0.3 * rng.NormFloat64()
		}
	}
}

// freeSamples draws exact samples of the free Euclidean theory with action
// (1/2) phi (-Lap + m2) phi: phi = K_{1/sqrt(p^2+m2)} xi.
func freeSamples(geo geometry, m2 float64, n int, rng *rand.Rand) [][]float64 {
	plan := latfft.NewPlan(geo.L, geo.dim)
	p2 := momentumSquared(geo)
	kern := make([]float64, geo.n)
	for k := range kern {
		kern[k] = 1 / math.Sqrt(p2[k]+m2)
	}
	out := make([][]float64, n)
	for j := range out {
		phi := make([]float64, geo.n)
		for x := range phi {
			phi[x] = rng.NormFloat64()
		}
		plan.Convolve(phi, phi, kern)
		out[j] = phi
	}
	return out
}

// freeScore is the exact score of the free theory diffused to each level:
// p_i is Gaussian with covariance C_i = a^2/(p^2+m2) + v per mode.
type freeScore struct {
	plan *latfft.Plan
	inv  [][]float64 // per level: 1/C_i
}

func newFreeScore(h heat, m2 float64) *freeScore {
	p2 := momentumSquared(h.geo)
	f := &freeScore{plan: latfft.NewPlan(h.geo.L, h.geo.dim)}
	for i := range h.times {
		a, v := h.Marginal(i)
		inv := make([]float64, len(a))
		for k := range inv {
			inv[k] = 1 / (a[k]*a[k]/(p2[k]+m2) + v[k])
		}
		f.inv = append(f.inv, inv)
	}
	return f
}

func (f *freeScore) Eval(dst, phi []float64, level int) {
	f.plan.Convolve(dst, phi, f.inv[level])
	for x := range dst {
		dst[x] = -dst[x]
	}
}

func randomField(n int, rng *rand.Rand) []float64 {
	phi := make([]float64, n)
	for x := range phi {
		phi[x] = 1.5 * rng.NormFloat64()
	}
	return phi
}

var geometries = []struct{ L, dim int }{{7, 1}, {4, 2}, {5, 2}, {3, 3}}

func TestForwardMatchesGorgonia(t *testing.T) {
	for _, gc := range geometries {
		m, _ := testModel(t, gc.L, gc.dim, []float64{0, 0.05, 0.3, 1}, Config{Channels: 3, Layers: 2, BatchSize: 5, Seed: 3})
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
						t.Fatalf("L=%d dim=%d round %d sample %d site %d: plain Go %.15g, gorgonia %.15g",
							gc.L, gc.dim, round, b, x, s[x], got[b*N+x])
					}
				}
			}
		}
	}
}

// TestGradientsFiniteDifference checks gorgonia's gradient of the DSM loss in every parameter
// against central differences of the loss computed in plain Go on the same batch.
func TestGradientsFiniteDifference(t *testing.T) {
	for _, gc := range []struct{ L, dim int }{{4, 2}, {3, 3}} {
		m, _ := testModel(t, gc.L, gc.dim, []float64{0.05, 0.4}, Config{Channels: 2, Layers: 1, BatchSize: 3, Seed: 5})
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
		batchLoss := func() float64 {
			N, s, sum := m.geo.n, make([]float64, m.geo.n), 0.0
			for b := 0; b < m.cfg.BatchSize; b++ {
				m.Eval(s, tr.phi[b*N:(b+1)*N], tr.levels[b])
				for x := range s {
					r := s[x] - tr.target[b*N+x]
					sum += tr.w[b] * r * r
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
					t.Errorf("L=%d dim=%d param %s[%d]: gorgonia %.10g, finite difference %.10g",
						gc.L, gc.dim, tr.params[j].Name(), e, grad[e], fd)
				}
				checked++
			}
		}
		t.Logf("L=%d dim=%d: %d parameter derivatives agree", gc.L, gc.dim, checked)
	}
}
