package rgsampler

import (
	"fmt"

	"vqs/internal/latfft"
)

// gaussianScore is the exact score of every level for a Gaussian level-0 law. Its tables are
// read-only and shared between clones; only Eval, the real-space form, needs a plan of its own,
// made on first use, so a bridge (which calls EvalSpectrum) never builds one.
type gaussianScore struct {
	cov  [][]float64 // per level, per mode covariance
	prec [][]float64 // per level, -1/cov on the half spectrum: the score's kernel
	dims []int
	plan *latfft.Plan
}

// GaussianScore returns the exact score at every level of d for a Gaussian level-0 target with
// mean zero and circulant covariance c0 (per mode, all > 0): at level i the law is Gaussian with
// covariance a_i^2 c0 + v_i per mode and the score is -phi / that. It also implements
// Covariancer and SpectralScore (needing no field: the score is diagonal in momentum). It is the
// exact score of the free theory (c0 = 1/(p^2 + m2)) and a baseline score for interacting ones.
func GaussianScore(d *Diffusion, c0 []float64) (Score, error) {
	if len(c0) != d.Sites() {
		return nil, fmt.Errorf("GaussianScore: c0 has %d modes, lattice has %d", len(c0), d.Sites())
	}
	for k, c := range c0 {
		if !(c > 0) {
			return nil, fmt.Errorf("GaussianScore: covariance must be > 0, mode %d has %v", k, c)
		}
	}
	g := &gaussianScore{dims: d.Dims()}
	p := make([]float64, d.Sites())
	for i := 0; i < d.Levels(); i++ {
		c := make([]float64, d.Sites())
		d.LevelCovariance(c, c0, i)
		for k := range c {
			p[k] = -1 / c[k]
		}
		g.cov, g.prec = append(g.cov, c), append(g.prec, d.half(nil, p))
	}
	return g, nil
}

func (g *gaussianScore) Eval(dst, phi []float64, level int) {
	if g.plan == nil {
		g.plan, _ = latfft.NewBoxPlan(g.dims) // dims were validated by the diffusion
	}
	g.plan.ConvolveHalf(dst, phi, g.prec[level])
}

func (g *gaussianScore) NeedsField(int) bool { return false }

func (g *gaussianScore) EvalSpectrum(dst []complex128, _ []float64, phiK []complex128, level int) {
	p := g.prec[level]
	for h, c := range phiK[:len(p)] {
		dst[h] = c * complex(p[h], 0)
	}
}

func (g *gaussianScore) Clone() Score {
	c := *g
	c.plan = nil
	return &c
}

func (g *gaussianScore) Covariance(level int) []float64 { return g.cov[level] }
