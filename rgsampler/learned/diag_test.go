package learned

import (
	"context"
	"math/rand/v2"
	"testing"

	"vqs/rgsampler"
)

func TestDiag(t *testing.T) {
	const m2 = 1.0
	dims := []int{8, 8}
	d := newDiffusion(t, dims, rgsampler.HeatScheme, rgsampler.DefaultTimes(4, 0.5, 8.5))
	for _, pen := range []float64{-1, 0.05, 0.5} {
		m, _ := New(d, Config{Seed: 11, RefM2: m2, LearningRate: 0.02, CNNPenalty: pen})
		for i := range m.p.m2 {
			m.p.z[i] *= 1.3
			m.p.m2[i] += 0.6
		}
		rng := rand.New(rand.NewPCG(5, 6))
		train := freeSamples(t, dims, m2, 512, rng)
		for round := 0; round < 3; round++ {
			m.Train(context.Background(), train, 400, rng)
			phi := make([]float64, m.geo.n)
			c := make([]float64, m.geo.n)
			for x := range phi {
				phi[x] = 1e-4
			}
			for _, cp := range m.Couplings() {
				cov := make([]float64, m.geo.n)
				d.LevelCovariance(cov, freeCov(dims, m2), cp.Level)
				m.cnn(c, phi, cp.Level)
				t.Logf("pen %g round %d level %d: Z %.4f m2 %.4f cnn %.4f total %.4f (exact %.4f) lambda %.4f", pen, round, cp.Level, cp.Z, cp.M2, -c[0]/1e-4, cp.M2-c[0]/1e-4, 1/cov[0], cp.Lambda)
			}
		}
	}
}
