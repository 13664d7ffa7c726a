package stats

import (
	"encoding/json"
	"math"
)

// Estimate is a Monte Carlo estimate of one quantity from one or more independent chains,
// with everything needed to judge it: the standard error (Gamma method, accounting for the
// autocorrelation), an independent blocking error as a cross-check, the integrated
// autocorrelation time, the effective sample size, the split-R-hat across chains and a verdict.
//
// It is the one estimate type of vqs: VMC, DMC, the path integral, the Euclidean samplers and
// the results store all report it. Exact values have Error 0 (see Exact); unknown numbers are
// NaN, written to JSON as null. A diagnostic that is 0 or NaN is not known, so a hand-made
// Estimate{Value: v, Error: e} is a plain, trusted value with an error bar.
type Estimate struct {
	Value float64 // the estimate (the grand mean, or f of the means for a derived quantity)
	Error float64 // standard error; 0 for exact values

	Tau    float64 // integrated autocorrelation time, in samples of one chain (0.5: independent)
	TauErr float64 // statistical error of Tau
	ESS    float64 // effective sample size, summed over chains
	// BlockErr is the error from Flyvbjerg-Petersen blocking, computed independently of
	// Error; the two should agree within their own uncertainty (about 1/sqrt(2 blocks)).
	BlockErr float64
	// RHat is the split-R-hat of Gelman et al. over all chains, each split in halves (so a
	// single chain is checked against itself): 1 for chains that sample the same distribution;
	// well above 1 when chains are stuck in different places or drift. NaN when chains are
	// too short (fewer than 4 samples).
	RHat float64
	// Unreliable is set when the error bar cannot be trusted: some chain was too short for its
	// autocorrelation (no Gamma-method window found), or RHat exceeds RHatLimit (stuck or
	// unmixed chains).
	Unreliable bool
}

// RHatLimit is the split-R-hat above which an estimate is flagged unreliable.
const RHatLimit = 1.1

// Exact returns an estimate of a value known without statistical error.
func Exact(v float64) Estimate { return Estimate{Value: v} }

// Pool combines independent chains of samples of one quantity (chains may differ in length;
// empty ones are ignored): the mean over all samples, its error from the Gamma-method error of
// each chain weighted by the chain's share of the samples, Tau averaged with the same weights,
// ESS summed, and the split-R-hat across chains. A single series is the one-chain case.
func Pool(chains [][]float64) Estimate {
	nan := math.NaN()
	e := Estimate{Value: nan, Error: nan, Tau: nan, TauErr: nan, ESS: nan, BlockErr: nan, RHat: nan, Unreliable: true}
	n := 0
	for _, c := range chains {
		n += len(c)
	}
	if n == 0 {
		return e
	}
	nf := float64(n)
	var sum, v, vb, tau, tauE2, ess float64
	reliable := true
	for _, c := range chains {
		if len(c) == 0 {
			continue
		}
		w := float64(len(c)) / nf
		for _, x := range c {
			sum += x
		}
		err := ErrorOfMean(c)
		v += w * w * err * err
		b := BinningError(c).Error
		vb += w * w * b * b
		a := IntegratedAutocorr(c)
		if !a.WindowFound && len(c) >= MinAutocorrLength {
			reliable = false
		}
		if math.IsNaN(a.Tau) {
			// A constant chain: nothing fluctuates. It adds no autocorrelation information.
			continue
		}
		tau += w * a.Tau
		tauE2 += w * w * a.TauErr * a.TauErr
		ess += a.ESS
	}
	e.Value = sum / nf
	e.Error = math.Sqrt(v)
	e.BlockErr = math.Sqrt(vb)
	if tau > 0 {
		e.Tau, e.TauErr, e.ESS = tau, math.Sqrt(tauE2), ess
	}
	e.RHat = SplitRHat(chains)
	if e.RHat > RHatLimit || math.IsNaN(e.Error) {
		reliable = false
	}
	e.Unreliable = !reliable
	return e
}

// PoolDerived estimates f(<x_1>, ..., <x_k>), a smooth function of the means of several
// quantities sampled together (series[i][c] is quantity i on chain c; all of equal shape), with
// Wolff's linearisation (U. Wolff, Comput. Phys. Commun. 156, 143 (2004), section 3): the error,
// Tau and R-hat are those of the series sum_i (df/dx_i) x_i(t), with the derivatives at the
// means taken by central differences. This works with a single chain, unlike a jackknife over
// chains, and gives the derived quantity its own autocorrelation time. It is unreliable when
// any input is (stuck or too-short chains), whatever the linearised series says.
func PoolDerived(f func(means []float64) float64, series ...[][]float64) Estimate {
	k := len(series)
	means := make([]float64, k)
	errs := make([]float64, k)
	inputsStuck := false
	for i, s := range series {
		p := Pool(s)
		means[i], errs[i] = p.Value, p.Error
		inputsStuck = inputsStuck || p.Unreliable
	}
	value := f(means)
	w := make([]float64, k)
	x := append([]float64(nil), means...)
	for i := range w {
		h := 1e-6 * math.Max(math.Abs(means[i]), math.Max(errs[i], 1e-300))
		x[i] = means[i] + h
		fp := f(x)
		x[i] = means[i] - h
		fm := f(x)
		x[i] = means[i]
		w[i] = (fp - fm) / (2 * h)
	}
	if k == 0 {
		return Pool(nil)
	}
	lin := make([][]float64, len(series[0]))
	for c := range lin {
		lin[c] = make([]float64, len(series[0][c]))
		for t := range lin[c] {
			for i := range series {
				lin[c][t] += w[i] * series[i][c][t]
			}
		}
	}
	e := Pool(lin)
	e.Value = value
	// The linearised series can hide stuck inputs: for chi = N(<M^2> - <|M|>^2) it is
	// N(M^2 - 2<|M|>|M|), whose first-order change with |M| vanishes at the mean, so chains stuck
	// at different |M| agree on it. A derived quantity is no more reliable than its inputs.
	if inputsStuck || math.IsNaN(value) || math.IsInf(value, 0) {
		e.Unreliable = true
	}
	return e
}

// SplitRHat returns the split-R-hat (A. Gelman et al., Bayesian Data Analysis, 3rd ed.,
// section 11.4) of the chains: every chain is cut to the common length and split into two
// halves, and the between-half variance of the means is compared with the within-half
// variance. It is 1 for well-mixed chains and grows when halves disagree, as they do for a
// stuck chain or one still drifting. It returns NaN when the shortest non-empty chain has
// fewer than 4 samples; 1 when every half is constant with one common value, +Inf when halves
// are constant at different values.
func SplitRHat(chains [][]float64) float64 {
	n := math.MaxInt
	for _, c := range chains {
		if len(c) > 0 {
			n = min(n, len(c))
		}
	}
	if n == math.MaxInt || n < 4 {
		return math.NaN()
	}
	half := n / 2
	var means, vars []float64
	for _, c := range chains {
		if len(c) == 0 {
			continue
		}
		for _, part := range [][]float64{c[:half], c[half : 2*half]} {
			means = append(means, Mean(part))
			vars = append(vars, Variance(part))
		}
	}
	w := Mean(vars)
	b := Variance(means) * float64(half)
	if w == 0 {
		if b == 0 {
			return 1
		}
		return math.Inf(1)
	}
	hf := float64(half)
	return math.Sqrt(((hf-1)/hf*w + b/hf) / w)
}

type estimateJSON struct {
	Value    *float64 `json:"value"`
	Error    *float64 `json:"error"`
	Tau      *float64 `json:"tau_int,omitempty"`
	TauErr   *float64 `json:"tau_int_err,omitempty"`
	ESS      *float64 `json:"ess,omitempty"`
	BlockErr *float64 `json:"block_error,omitempty"`
	RHat     *float64 `json:"r_hat,omitempty"`
	Reliable *bool    `json:"reliable,omitempty"`
}

// MarshalJSON writes {"value": v, "error": e, ...} with null for a NaN or infinite value or
// error; the diagnostics (tau_int, tau_int_err, ess, block_error, r_hat) are left out when
// unknown (zero or not finite), and "reliable": false is written only for an unreliable one.
func (e Estimate) MarshalJSON() ([]byte, error) {
	j := estimateJSON{Value: finitePtr(e.Value), Error: finitePtr(e.Error), Tau: knownPtr(e.Tau),
		TauErr: knownPtr(e.TauErr), ESS: knownPtr(e.ESS), BlockErr: knownPtr(e.BlockErr), RHat: knownPtr(e.RHat)}
	if e.Unreliable {
		f := false
		j.Reliable = &f
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes: a missing or null value or error becomes NaN,
// a missing diagnostic 0 (unknown), and a missing "reliable" means reliable, so records
// written before the diagnostics existed read back as plain values.
func (e *Estimate) UnmarshalJSON(b []byte) error {
	var j estimateJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = Estimate{Value: fromPtr(j.Value), Error: fromPtr(j.Error), Tau: zeroIfNil(j.Tau), TauErr: zeroIfNil(j.TauErr),
		ESS: zeroIfNil(j.ESS), BlockErr: zeroIfNil(j.BlockErr), RHat: zeroIfNil(j.RHat),
		Unreliable: j.Reliable != nil && !*j.Reliable}
	return nil
}

func finitePtr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// knownPtr is finitePtr with 0 (the zero value: not known) left out too.
func knownPtr(v float64) *float64 {
	if v == 0 {
		return nil
	}
	return finitePtr(v)
}

func fromPtr(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func zeroIfNil(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}
