package stats

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// ar1 returns a stationary AR(1) series x_{i+1} = rho x_i + sqrt(1-rho^2) eps_i with unit
// variance, whose integrated autocorrelation time is (1+rho)/(2(1-rho)).
func ar1(n int, rho float64, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	x := make([]float64, n)
	x[0] = rng.NormFloat64()
	c := math.Sqrt(1 - rho*rho)
	for i := 1; i < n; i++ {
		x[i] = rho*x[i-1] + c*rng.NormFloat64()
	}
	return x
}

func ar1Tau(rho float64) float64 { return (1 + rho) / (2 * (1 - rho)) }

// ar1ErrorOfMean is the exact standard deviation of the mean of n consecutive points of the
// unit-variance stationary AR(1) process: Var = (1/n^2) sum_{i,j} rho^|i-j|.
func ar1ErrorOfMean(n int, rho float64) float64 {
	nf := float64(n)
	v := ((1+rho)/(1-rho) - 2*rho*(1-math.Pow(rho, nf))/(nf*(1-rho)*(1-rho))) / nf
	return math.Sqrt(v)
}

func TestMeanVariance(t *testing.T) {
	x := []float64{1, 2, 3, 4}
	if got := Mean(x); got != 2.5 {
		t.Errorf("Mean = %v, want 2.5", got)
	}
	// sum of squared deviations 1.25*2+0.25*2 = 5, over n-1 = 3
	if got := Variance(x); math.Abs(got-5.0/3) > 1e-15 {
		t.Errorf("Variance = %v, want 5/3", got)
	}
	// A large offset must not destroy the variance.
	y := []float64{1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4}
	if got := Variance(y); math.Abs(got-5.0/3) > 1e-6 {
		t.Errorf("Variance with offset 1e9 = %v, want 5/3", got)
	}
	if v := stat.Variance(x, nil); math.Abs(Variance(x)-v) > 1e-15 {
		t.Errorf("Variance %v disagrees with gonum %v", Variance(x), v)
	}
}

func TestDegenerateInputs(t *testing.T) {
	for _, x := range [][]float64{nil, {}, {3}} {
		if !math.IsNaN(Variance(x)) || !math.IsNaN(ErrorOfMean(x)) || !math.IsNaN(BinningError(x).Error) {
			t.Errorf("len %d: want NaN variance and errors", len(x))
		}
		a := IntegratedAutocorr(x)
		if !math.IsNaN(a.Tau) || !math.IsNaN(a.ESS) {
			t.Errorf("len %d: IntegratedAutocorr = %+v, want NaN", len(x), a)
		}
	}
	if !math.IsNaN(Mean(nil)) {
		t.Error("Mean(nil) should be NaN")
	}
	constant := make([]float64, 1000)
	for i := range constant {
		constant[i] = 0.7
	}
	if e := ErrorOfMean(constant); e != 0 {
		t.Errorf("ErrorOfMean(constant) = %v, want 0", e)
	}
	if b := BinningError(constant); b.Error != 0 || !b.Plateau {
		t.Errorf("BinningError(constant) = %+v, want 0 with plateau", b)
	}
	if a := IntegratedAutocorr(constant); !math.IsNaN(a.Tau) {
		t.Errorf("IntegratedAutocorr(constant).Tau = %v, want NaN", a.Tau)
	}
	// Two and three points: must not panic, and give finite numbers where defined.
	for _, x := range [][]float64{{1, 2}, {1, 2, 4}, {1, -1, 1, -1, 1, -1}} {
		a := IntegratedAutocorr(x)
		e := ErrorOfMean(x)
		b := BinningError(x)
		if math.IsNaN(a.Tau) || math.IsNaN(e) || math.IsNaN(b.Error) || b.Plateau {
			t.Errorf("%v: autocorr %+v, error %v, binning %+v", x, a, e, b)
		}
	}
}

func TestCombinedSigmas(t *testing.T) {
	if got := CombinedSigmas(1, 3, -3, 0); got != 4.0/3 {
		t.Errorf("got %v, want 4/3", got)
	}
	if got := CombinedSigmas(1, 3, 5, 4); got != -0.8 {
		t.Errorf("got %v, want -0.8", got)
	}
	if got := CombinedSigmas(2, 0, 2, 0); got != 0 {
		t.Errorf("equal exact values: got %v, want 0", got)
	}
	if got := CombinedSigmas(1, 0, 2, 0); !math.IsInf(got, -1) {
		t.Errorf("different exact values: got %v, want -Inf", got)
	}
}

func TestIntegratedAutocorrAR1(t *testing.T) {
	for _, c := range []struct {
		rho  float64
		n    int
		seed uint64
	}{
		{0, 1 << 16, 1},
		{0.5, 1 << 16, 2},
		{0.9, 1 << 17, 3},
		{0.95, 1 << 18, 4}, // window > 128: exercises the FFT autocovariance
		{-0.5, 1 << 16, 5}, // anticorrelated: tau = 1/6
	} {
		x := ar1(c.n, c.rho, c.seed)
		a := IntegratedAutocorr(x)
		want := ar1Tau(c.rho)
		t.Logf("rho %.2f: tau %.4f +- %.4f (exact %.4f), W %d, ESS %.0f", c.rho, a.Tau, a.TauErr, want, a.Window, a.ESS)
		if !a.WindowFound {
			t.Errorf("rho %v: no window found", c.rho)
		}
		// Within 3 of its own error bars; the floor covers the tiny windows of (anti)iid data,
		// where TauErr underestimates the scatter of a one- or two-term sum.
		tol := math.Max(3*a.TauErr, 0.02)
		if math.Abs(a.Tau-want) > tol {
			t.Errorf("rho %v: tau = %v +- %v, want %v", c.rho, a.Tau, a.TauErr, want)
		}
		if math.Abs(a.ESS-float64(c.n)/(2*a.Tau)) > 1e-9*a.ESS {
			t.Errorf("ESS %v != n/(2 tau)", a.ESS)
		}
		exact := ar1ErrorOfMean(c.n, c.rho)
		if e := ErrorOfMean(x); math.Abs(e/exact-1) > 0.1 {
			t.Errorf("rho %v: ErrorOfMean = %v, exact %v", c.rho, e, exact)
		}
	}
}

// The error bars must be honest: over many independent series, (mean - 0)/error has unit spread.
func TestErrorOfMeanPulls(t *testing.T) {
	const series, n, rho = 400, 1 << 13, 0.8
	var s2 float64
	var covered int
	for k := range series {
		x := ar1(n, rho, uint64(100+k))
		p := Mean(x) / ErrorOfMean(x)
		s2 += p * p
		if math.Abs(p) < 1 {
			covered++
		}
	}
	rms := math.Sqrt(s2 / series)
	frac := float64(covered) / series
	t.Logf("pull rms %.3f, 1-sigma coverage %.3f", rms, frac)
	// rms of 400 unit normals scatters by 1/sqrt(800) = 3.5 %; allow the slight
	// underestimate from the window truncation too.
	if rms < 0.9 || rms > 1.12 {
		t.Errorf("pull rms = %v, want 1", rms)
	}
	if frac < 0.6 || frac > 0.76 {
		t.Errorf("1-sigma coverage %v, want 0.68", frac)
	}
}

func TestFFTAutocovMatchesDirect(t *testing.T) {
	x := ar1(1000, 0.7, 9)
	g := newAutocov(x)
	full := fftAutocov(g.dev)
	for _, lag := range []int{0, 1, 5, 127, 128, 500, 999} {
		d := directAutocov(g.dev, lag)
		if math.Abs(full[lag]-d) > 1e-12 {
			t.Errorf("lag %d: fft %v, direct %v", lag, full[lag], d)
		}
	}
}

func TestBinningAR1(t *testing.T) {
	for _, c := range []struct {
		rho  float64
		n    int
		seed uint64
	}{
		{0, 1 << 16, 11},
		{0.5, 1 << 18, 12},
		{0.9, 1 << 20, 13},
	} {
		x := ar1(c.n, c.rho, c.seed)
		b := BinningError(x)
		exact := ar1ErrorOfMean(c.n, c.rho)
		t.Logf("rho %.2f: blocking %.5g (plateau %v), exact %.5g, ratio %.3f, levels %d", c.rho, b.Error, b.Plateau, exact, b.Error/exact, len(b.Levels))
		if !b.Plateau {
			t.Errorf("rho %v: no plateau", c.rho)
		}
		if math.Abs(b.Error/exact-1) > 0.1 {
			t.Errorf("rho %v: blocking error %v, exact %v", c.rho, b.Error, exact)
		}
		// Level 0 is the naive error sqrt(Var/n).
		if naive := math.Sqrt(Variance(x) / float64(c.n)); math.Abs(b.Levels[0]-naive) > 1e-12*naive {
			t.Errorf("level 0 = %v, want naive %v", b.Levels[0], naive)
		}
	}
}

func TestBinningTooShortOrTooCorrelated(t *testing.T) {
	x := ar1(50, 0.5, 21)
	b := BinningError(x)
	if b.Plateau || math.Abs(b.Error-math.Sqrt(Variance(x)/50)) > 1e-15 {
		t.Errorf("short series: %+v, want naive error without plateau", b)
	}
	// tau = 999.5 with only 4096 points: no honest plateau is possible.
	y := ar1(4096, 0.999, 22)
	if b := BinningError(y); b.Plateau {
		t.Errorf("tau ~ 1000 on 4096 points: plateau claimed, %+v", b)
	}
}

func TestWeightedLinearFitExact(t *testing.T) {
	x := []float64{0.1, 0.25, 0.5, 1, 2}
	sigma := []float64{0.1, 0.2, 0.05, 1, 0.3}
	y := make([]float64, len(x))
	for i := range x {
		y[i] = -1.5 + 0.75*x[i]
	}
	f, err := WeightedLinearFit(x, y, sigma)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(f.A+1.5) > 1e-13 || math.Abs(f.B-0.75) > 1e-13 || f.Chi2 > 1e-24 || f.DOF != 3 {
		t.Errorf("noiseless fit: %+v", f)
	}
	// Independent check of the parameter covariance: invert J^T W J.
	ata := mat.NewDense(2, 2, nil)
	for i := range x {
		w := 1 / (sigma[i] * sigma[i])
		ata.Set(0, 0, ata.At(0, 0)+w)
		ata.Set(0, 1, ata.At(0, 1)+w*x[i])
		ata.Set(1, 0, ata.At(1, 0)+w*x[i])
		ata.Set(1, 1, ata.At(1, 1)+w*x[i]*x[i])
	}
	var cov mat.Dense
	if err := cov.Inverse(ata); err != nil {
		t.Fatal(err)
	}
	if math.Abs(f.ErrA-math.Sqrt(cov.At(0, 0))) > 1e-12 || math.Abs(f.ErrB-math.Sqrt(cov.At(1, 1))) > 1e-12 ||
		math.Abs(f.CovAB-cov.At(0, 1)) > 1e-12 {
		t.Errorf("covariance: fit %v %v %v, normal equations %v %v %v", f.ErrA, f.ErrB, f.CovAB,
			math.Sqrt(cov.At(0, 0)), math.Sqrt(cov.At(1, 1)), cov.At(0, 1))
	}
}

func TestWeightedLinearFitPulls(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 43))
	x := []float64{1.0 / 64, 1.0 / 144, 1.0 / 256, 1.0 / 576, 1.0 / 1024}
	sigma := []float64{0.02, 0.01, 0.03, 0.015, 0.05}
	const trueA, trueB, trials = 2.0, -3.0, 4000
	y := make([]float64, len(x))
	w := make([]float64, len(x))
	for i := range w {
		w[i] = 1 / (sigma[i] * sigma[i])
	}
	var pa, pa2, pb, pb2, pab, chi2 float64
	for range trials {
		for i := range x {
			y[i] = trueA + trueB*x[i] + sigma[i]*rng.NormFloat64()
		}
		f, err := WeightedLinearFit(x, y, sigma)
		if err != nil {
			t.Fatal(err)
		}
		// Independent implementation of the same estimator.
		alpha, beta := stat.LinearRegression(x, y, w, false)
		if math.Abs(alpha-f.A) > 1e-9 || math.Abs(beta-f.B) > 1e-7 {
			t.Fatalf("fit %v %v, gonum %v %v", f.A, f.B, alpha, beta)
		}
		a := (f.A - trueA) / f.ErrA
		b := (f.B - trueB) / f.ErrB
		pa += a
		pa2 += a * a
		pb += b
		pb2 += b * b
		pab += (f.A - trueA) * (f.B - trueB) / f.CovAB
		chi2 += f.Chi2
	}
	n := float64(trials)
	t.Logf("pull A: mean %.3f rms %.3f; pull B: mean %.3f rms %.3f; cov ratio %.3f; <chi2> %.3f (DOF 3)",
		pa/n, math.Sqrt(pa2/n), pb/n, math.Sqrt(pb2/n), pab/n, chi2/n)
	// With 4000 trials: mean pulls scatter by 0.016, rms by 0.011, <chi2> by 0.04.
	if math.Abs(pa/n) > 0.06 || math.Abs(pb/n) > 0.06 {
		t.Errorf("biased pulls: %v %v", pa/n, pb/n)
	}
	if math.Abs(math.Sqrt(pa2/n)-1) > 0.04 || math.Abs(math.Sqrt(pb2/n)-1) > 0.04 {
		t.Errorf("pull widths %v %v, want 1", math.Sqrt(pa2/n), math.Sqrt(pb2/n))
	}
	if math.Abs(pab/n-1) > 0.1 {
		t.Errorf("empirical/claimed covariance = %v, want 1", pab/n)
	}
	if math.Abs(chi2/n-3) > 0.2 {
		t.Errorf("<chi2> = %v, want 3", chi2/n)
	}
}

func TestWeightedLinearFitErrors(t *testing.T) {
	cases := []struct {
		name     string
		x, y, sg []float64
	}{
		{"empty", nil, nil, nil},
		{"one point", []float64{1}, []float64{1}, []float64{1}},
		{"length mismatch", []float64{1, 2}, []float64{1}, []float64{1, 1}},
		{"zero sigma", []float64{1, 2}, []float64{1, 2}, []float64{0, 1}},
		{"NaN y", []float64{1, 2}, []float64{math.NaN(), 2}, []float64{1, 1}},
		{"equal x", []float64{3, 3, 3}, []float64{1, 2, 3}, []float64{1, 1, 1}},
	}
	for _, c := range cases {
		if _, err := WeightedLinearFit(c.x, c.y, c.sg); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	// Two points: exact line, no degrees of freedom.
	f, err := WeightedLinearFit([]float64{0, 1}, []float64{1, 3}, []float64{1, 1})
	if err != nil || f.DOF != 0 || math.Abs(f.A-1) > 1e-15 || math.Abs(f.B-2) > 1e-15 {
		t.Errorf("two points: %+v, %v", f, err)
	}
}

func BenchmarkIntegratedAutocorr(b *testing.B) {
	x := ar1(1<<16, 0.9, 1)
	b.ReportAllocs()
	for b.Loop() {
		IntegratedAutocorr(x)
	}
}

func BenchmarkBinningError(b *testing.B) {
	x := ar1(1<<16, 0.9, 1)
	b.ReportAllocs()
	for b.Loop() {
		BinningError(x)
	}
}
