package stats

import (
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
)

// Autocorr is the integrated autocorrelation time of a series and what follows from it.
type Autocorr struct {
	// Tau is the integrated autocorrelation time tau_int = 1/2 + sum_{t>=1} rho(t), in units
	// of the series' steps: 0.5 for independent data, less for anticorrelated data.
	Tau float64
	// TauErr is the statistical error of Tau (Madras-Sokal, Wolff's eq. (42)); NaN when
	// the series is too short to estimate Tau at all.
	TauErr float64
	// Window is the summation window W: autocovariances at lags 1..W are summed.
	Window int
	// ESS is the effective sample size n/(2 Tau).
	ESS float64
	// WindowFound is false when no window could be chosen: either the series is shorter
	// than MinAutocorrLength (Tau is then assumed 0.5) or the automatic window reached n/2
	// without its stopping condition holding, so the series is too short for its
	// correlation time and Tau is a lower bound.
	WindowFound bool
}

// MinAutocorrLength is the shortest series whose autocorrelation IntegratedAutocorr
// estimates; shorter ones are treated as independent.
const MinAutocorrLength = 16

// wolffS is Wolff's S parameter: the assumed ratio of the slowest mode's time to tau_int.
const wolffS = 1.5

// directLags is how many autocovariance lags are summed directly before switching to an FFT
// of the whole series (O(n W) against O(n log n)).
const directLags = 128

// IntegratedAutocorr estimates the integrated autocorrelation time with Wolff's Gamma method
// (U. Wolff, Comput. Phys. Commun. 156, 143 (2004)): automatic windowing with S = 1.5 and the
// bias correction of the autocovariance for the estimated mean.
//
// Wolff's window rule assumes positive autocorrelations and stops at W = 1 as soon as the
// lag-1 correlation is negative, which would make tau of anticorrelated data (e.g. from
// overrelaxation) almost 0 and its error bars far too small. In that case Tau comes from
// Geyer's initial positive sequence instead (sums of autocovariance pairs at lags 2k, 2k+1
// while they are positive; C. J. Geyer, Statist. Sci. 7, 473 (1992)), valid for reversible
// chains.
//
// Special cases: len(x) < 2 gives Tau, TauErr and ESS NaN; a constant series gives them NaN
// too (nothing fluctuates); a series shorter than MinAutocorrLength gives Tau 0.5, TauErr
// NaN, WindowFound false. Tau is never below 0.5/n, so ESS <= n^2.
func IntegratedAutocorr(x []float64) Autocorr {
	n := len(x)
	nan := math.NaN()
	if n < 2 {
		return Autocorr{Tau: nan, TauErr: nan, ESS: nan}
	}
	g := newAutocov(x)
	g0 := g.at(0)
	if g0 == 0 {
		return Autocorr{Tau: nan, TauErr: nan, ESS: nan, WindowFound: true}
	}
	nf := float64(n)
	if n < MinAutocorrLength {
		return Autocorr{Tau: 0.5, TauErr: nan, ESS: nf}
	}
	maxW := n / 2
	window, found := maxW, false
	if g.at(1) < 0 {
		window, found = geyerWindow(g, maxW)
	} else {
		sum := g0 // running C_F(W) = Gamma(0) + 2 sum_{t=1..W} Gamma(t)
		for w := 1; w <= maxW; w++ {
			sum += 2 * g.at(w)
			tauInt := sum / (2 * g0)
			// Wolff eq. (51): tau(W) from tau_int(W), assuming a single exponential mode.
			tauW := 1e-6 // tau_int <= 1/2: nothing left to sum; stop at once
			if tauInt > 0.5 {
				tauW = wolffS / math.Log((2*tauInt+1)/(2*tauInt-1))
			}
			// Wolff eq. (52): truncation bias exp(-W/tau) against statistical error sqrt(W/n).
			if math.Exp(-float64(w)/tauW)-tauW/math.Sqrt(float64(w)*nf) < 0 {
				window, found = w, true
				break
			}
		}
	}
	// Bias correction (Wolff eq. (49)): every Gamma(t) is low by about C_F/n because the
	// mean is estimated from the same data.
	cf := g0
	for t := 1; t <= window; t++ {
		cf += 2 * g.at(t)
	}
	shift := cf / nf
	cf += shift * float64(2*window+1)
	g0c := g0 + shift
	tau := math.Max(cf/(2*g0c), 0.5/nf)
	tauErr := tau * 2 * math.Sqrt(math.Max(float64(window)+0.5-tau, 0)/nf)
	return Autocorr{Tau: tau, TauErr: tauErr, Window: window, ESS: nf / (2 * tau), WindowFound: found}
}

// geyerWindow returns the window 2K+1 of Geyer's initial positive sequence: the pair sums
// Gamma(2k) + Gamma(2k+1) for k < K are all positive, and the one at K is not.
func geyerWindow(g *autocov, maxW int) (int, bool) {
	for k := 1; 2*k+1 <= maxW; k++ {
		if g.at(2*k)+g.at(2*k+1) <= 0 {
			return 2*k - 1, true
		}
	}
	return maxW, false
}

// ErrorOfMean returns sqrt(2 tau Var / n), the standard error of the mean of a correlated
// series with tau from IntegratedAutocorr. It returns 0 for a constant series (no fluctuation
// at all: the caller must judge whether that means an exact eigenstate or a stuck chain),
// NaN when len(x) < 2, and the naive sqrt(Var/n) below MinAutocorrLength.
func ErrorOfMean(x []float64) float64 {
	n := len(x)
	if n < 2 {
		return math.NaN()
	}
	v := Variance(x)
	if v == 0 {
		return 0
	}
	a := IntegratedAutocorr(x)
	return math.Sqrt(2 * a.Tau * v / float64(n))
}

// autocov computes Gamma(t) = 1/(n-t) sum_i (x_i - mean)(x_{i+t} - mean) on demand: directly
// for small lags, from one FFT of the zero-padded series once lags get long.
type autocov struct {
	dev  []float64 // x - mean
	lags []float64 // Gamma(0..len-1) computed directly so far
	full []float64 // all lags, once computed by FFT
}

func newAutocov(x []float64) *autocov {
	// Deviations from x[0] first: a constant series then gives exact zeros.
	dev := make([]float64, len(x))
	for i, v := range x {
		dev[i] = v - x[0]
	}
	m := Mean(dev)
	for i := range dev {
		dev[i] -= m
	}
	return &autocov{dev: dev}
}

func (a *autocov) at(t int) float64 {
	if a.full != nil {
		return a.full[t]
	}
	if t < len(a.lags) {
		return a.lags[t]
	}
	if t < directLags {
		for len(a.lags) <= t {
			a.lags = append(a.lags, directAutocov(a.dev, len(a.lags)))
		}
		return a.lags[t]
	}
	a.full = fftAutocov(a.dev)
	return a.full[t]
}

func directAutocov(dev []float64, t int) float64 {
	n := len(dev)
	s := 0.0
	for i := 0; i+t < n; i++ {
		s += dev[i] * dev[i+t]
	}
	return s / float64(n-t)
}

// fftAutocov returns Gamma(t) for every lag t < n, by the Wiener-Khinchin theorem on the
// series padded with zeros to a power of two >= 2n (so the circular correlation does not wrap).
func fftAutocov(dev []float64) []float64 {
	n := len(dev)
	m := 1
	for m < 2*n {
		m <<= 1
	}
	padded := make([]float64, m)
	copy(padded, dev)
	fft := fourier.NewFFT(m)
	c := fft.Coefficients(nil, padded)
	for i, z := range c {
		c[i] = complex(real(z)*real(z)+imag(z)*imag(z), 0)
	}
	corr := fft.Sequence(nil, c)
	out := make([]float64, n)
	for t := range out {
		out[t] = corr[t] / float64(m) / float64(n-t)
	}
	return out
}
