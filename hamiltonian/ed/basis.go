package ed

import "math"

// siteOps are the single-site operators in a truncated harmonic-oscillator basis of n levels,
// stored row-major as n*n matrices.
type siteOps struct {
	n    int
	phi  []float64 // (a + a^dag)/sqrt(2w)
	phi2 []float64
	phi4 []float64
	pi2  []float64
}

// extraLevels is how much larger the basis is in which products are formed before truncation:
// phi^4 couples level k to k+4, so the product reaches two levels above the top (k+2 in the
// middle) and four is safely enough for all of phi^2, phi^4 and pi^2.
const extraLevels = 4

// newSiteOps builds phi, phi^2, phi^4 and pi^2 at frequency w. The products are formed in the
// larger basis and truncated afterwards: truncating phi first would drop the intermediate
// levels n, n+1 and spoil the matrix elements between the top levels.
func newSiteOps(n int, w float64) siteOps {
	m := n + extraLevels
	x := make([]float64, m*m) // a + a^dag
	d := make([]float64, m*m) // a^dag - a
	for k := 0; k+1 < m; k++ {
		s := math.Sqrt(float64(k + 1))
		x[k*m+k+1], x[(k+1)*m+k] = s, s
		d[(k+1)*m+k], d[k*m+k+1] = s, -s
	}
	scale := 1 / math.Sqrt(2*w)
	phiBig := make([]float64, m*m)
	for i, v := range x {
		phiBig[i] = v * scale
	}
	phi2Big := matMul(phiBig, phiBig, m)
	phi4Big := matMul(phi2Big, phi2Big, m)
	dd := matMul(d, d, m)
	pi2Big := make([]float64, m*m)
	for i, v := range dd {
		pi2Big[i] = -0.5 * w * v // pi^2 = -(w/2)(a^dag - a)^2
	}
	return siteOps{
		n:    n,
		phi:  truncate(phiBig, m, n),
		phi2: truncate(phi2Big, m, n),
		phi4: truncate(phi4Big, m, n),
		pi2:  truncate(pi2Big, m, n),
	}
}

// onSite returns h = pi^2/2 + (c/2) phi^2 + (lambda/24) phi^4 as an n*n matrix.
func (s siteOps) onSite(c, lambda float64) []float64 {
	h := make([]float64, s.n*s.n)
	for i := range h {
		h[i] = 0.5*s.pi2[i] + 0.5*c*s.phi2[i] + lambda/24*s.phi4[i]
	}
	return h
}

func matMul(a, b []float64, m int) []float64 {
	c := make([]float64, m*m)
	for i := 0; i < m; i++ {
		for k := 0; k < m; k++ {
			aik := a[i*m+k]
			if aik == 0 {
				continue
			}
			for j := 0; j < m; j++ {
				c[i*m+j] += aik * b[k*m+j]
			}
		}
	}
	return c
}

func truncate(a []float64, m, n int) []float64 {
	t := make([]float64, n*n)
	for i := 0; i < n; i++ {
		copy(t[i*n:(i+1)*n], a[i*m:i*m+n])
	}
	return t
}
