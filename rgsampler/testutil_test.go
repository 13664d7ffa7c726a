package rgsampler

import (
	"math"
	"testing"

	"vqs/internal/latfft"
	"vqs/stats"
)

// twoSiteExact integrates the two-site (L = 2, dim 1) Euclidean phi^4 density by quadrature,
// with the action written out by hand: on L = 2 both forward bonds join the same pair, so the
// gradient term is (phi_1 - phi_0)^2. It returns <phi^2>, <M^2>, <M^4> with M = (phi_0+phi_1)/2.
func twoSiteExact(m2, lambda float64) (phi2, m2mom, m4 float64) {
	const n = 1200
	lim := 6.0
	h := 2 * lim / n
	var z float64
	for i := 0; i <= n; i++ {
		a := -lim + float64(i)*h
		for j := 0; j <= n; j++ {
			b := -lim + float64(j)*h
			s := (b-a)*(b-a) + m2/2*(a*a+b*b) + lambda/24*(a*a*a*a+b*b*b*b)
			w := math.Exp(-s)
			m := (a + b) / 2
			z += w
			phi2 += w * (a*a + b*b) / 2
			m2mom += w * m * m
			m4 += w * m * m * m * m
		}
	}
	return phi2 / z, m2mom / z, m4 / z
}

// checkTwoSite compares <phi^2>, <M^2> and <M^4> of two-site samples with twoSiteExact, to 4
// error bars.
func checkTwoSite(t *testing.T, samples [][]float64, m2, lambda float64) {
	t.Helper()
	var p2, mm2, mm4 []float64
	for _, s := range samples {
		m := (s[0] + s[1]) / 2
		p2 = append(p2, (s[0]*s[0]+s[1]*s[1])/2)
		mm2 = append(mm2, m*m)
		mm4 = append(mm4, m*m*m*m)
	}
	e2, em2, em4 := twoSiteExact(m2, lambda)
	checkMean(t, "<phi^2>", p2, e2, 4)
	checkMean(t, "<M^2>", mm2, em2, 4)
	checkMean(t, "<M^4>", mm4, em4, 4)
}

// checkMean compares the mean of a Monte Carlo series with an exact value, with an error that
// accounts for autocorrelation (Gamma method), allowing nSigma error bars.
func checkMean(t *testing.T, name string, series []float64, exact, nSigma float64) {
	t.Helper()
	m := stats.Mean(series)
	e := stats.ErrorOfMean(series)
	if !(math.Abs(m-exact) <= nSigma*e) {
		t.Errorf("%s: %.5f +- %.5f, exact %.5f (%.1f sigma)", name, m, e, exact, (m-exact)/e)
	} else {
		t.Logf("%s: %.5f +- %.5f, exact %.5f", name, m, e, exact)
	}
}

// powerSpectrumCheck compares the mean per-mode power |phi_k|^2/N of samples with exact
// covariances c per mode and returns the largest deviation in error bars and the mean squared
// one.
func powerSpectrumCheck(t *testing.T, dims []int, samples [][]float64, c []float64) (maxZ, meanZ2 float64) {
	t.Helper()
	f, _ := latfft.NewBoxPlan(dims)
	n := f.N
	modes := make([]float64, n)
	series := make([][]float64, n)
	for _, s := range samples {
		f.Modes(modes, s)
		for k, v := range modes {
			series[k] = append(series[k], v)
		}
	}
	for k := range series {
		z := (stats.Mean(series[k]) - c[k]) / stats.ErrorOfMean(series[k])
		maxZ = math.Max(maxZ, math.Abs(z))
		meanZ2 += z * z / float64(n)
	}
	return maxZ, meanZ2
}
