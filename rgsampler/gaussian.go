package rgsampler

import "fmt"

// gaussianScore is the exact score of every level for a Gaussian level-0 law.
type gaussianScore struct {
	cov  [][]float64 // per level, per mode covariance (shared between clones)
	prec [][]float64 // -1/cov, the score's kernel (shared between clones)
	fft  *FFT
	dims []int
}

// GaussianScore returns the exact score at every level of d for a Gaussian level-0 target with
// mean zero and circulant covariance c0 (per mode, all > 0): at level i the law is Gaussian with
// covariance a_i^2 c0 + v_i per mode and the score is -phi / that. It also implements
// Covariancer. It is the exact score of the free theory (c0 = 1/(p^2 + m2)) and a baseline
// score for interacting ones.
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
	for i := 0; i < d.Levels(); i++ {
		c := make([]float64, d.Sites())
		d.LevelCovariance(c, c0, i)
		p := make([]float64, d.Sites())
		for k := range c {
			p[k] = -1 / c[k]
		}
		g.cov, g.prec = append(g.cov, c), append(g.prec, p)
	}
	var err error
	g.fft, err = NewFFT(g.dims)
	return g, err
}

func (g *gaussianScore) Eval(dst, phi []float64, level int) {
	g.fft.Convolve(dst, phi, g.prec[level])
}

func (g *gaussianScore) Clone() Score {
	c := *g
	c.fft, _ = NewFFT(g.dims) // dims were validated when g was built
	return &c
}

func (g *gaussianScore) Covariance(level int) []float64 { return g.cov[level] }
