package vmc

import (
	"context"
	"math"

	"gonum.org/v1/gonum/mat"

	"vqs/hamiltonian"
	"vqs/internal/stats"
)

// accumulator collects local energies and log-derivatives of one iteration's samples,
// laid out chain by chain so that chains can write without locks.
type accumulator struct {
	chains, perChain, p int
	m                   *hamiltonian.Model
	evs                 []Evaluator
	grads               [][]float64 // per chain: du/dphi of the current sample
	eloc                []float64   // chains*perChain
	o                   []float64   // chains*perChain*p
	filled              []int       // samples written per chain
	od                  *mat.Dense
	centredE            []float64
}

func newAccumulator(chains, perChain, p int, m *hamiltonian.Model) *accumulator {
	n := chains * perChain
	return &accumulator{chains: chains, perChain: perChain, p: p, m: m,
		eloc: make([]float64, n), o: make([]float64, n*p), filled: make([]int, chains),
		centredE: make([]float64, n)}
}

func (a *accumulator) reset() {
	for i := range a.filled {
		a.filled[i] = 0
	}
}

func (a *accumulator) visit(wf Wavefunction) func(chain, i int, phi []float64) {
	if a.evs == nil {
		for c := 0; c < a.chains; c++ {
			a.evs = append(a.evs, wf.NewEvaluator())
			a.grads = append(a.grads, make([]float64, a.m.N))
		}
	}
	return func(chain, i int, phi []float64) {
		k := chain*a.perChain + i
		grad := a.grads[chain]
		_, lap := a.evs[chain].Derivs(phi, grad, a.o[k*a.p:(k+1)*a.p])
		a.eloc[k] = a.m.LocalEnergy(phi, grad, lap).Total
		a.filled[chain] = i + 1
	}
}

// energy returns the mean local energy, its error from the spread of the independent chains'
// means (which accounts for autocorrelation within each chain), and the variance of E_loc.
func (a *accumulator) energy() (e, err, variance float64) {
	means := make([]float64, a.chains)
	all := a.eloc[:a.chains*a.perChain]
	for c := 0; c < a.chains; c++ {
		means[c] = stats.Mean(all[c*a.perChain : (c+1)*a.perChain])
	}
	e = stats.Mean(all)
	variance = stats.Variance(all)
	if a.chains > 1 {
		err = math.Sqrt(stats.Variance(means) / float64(a.chains))
	} else {
		err = stats.ErrorOfMean(all)
	}
	return e, err, variance
}

// centred returns the centred log-derivatives (n x p) and centred local energies.
func (a *accumulator) centred(e float64) (*mat.Dense, []float64) {
	n := a.chains * a.perChain
	mean := make([]float64, a.p)
	for k := 0; k < n; k++ {
		row := a.o[k*a.p : (k+1)*a.p]
		for j, v := range row {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	if a.od == nil {
		a.od = mat.NewDense(n, a.p, nil)
	}
	for k := 0; k < n; k++ {
		row := a.o[k*a.p : (k+1)*a.p]
		for j, v := range row {
			a.od.Set(k, j, v-mean[j])
		}
		a.centredE[k] = a.eloc[k] - e
	}
	return a.od, a.centredE
}

// Estimate is a value with its one-sigma error.
type Estimate struct {
	Value float64 `json:"value"`
	Error float64 `json:"error"`
}

// Estimates are the observables of the final measurement.
type Estimates struct {
	Energy     Estimate `json:"energy"`
	Variance   Estimate `json:"variance"` // Var(E_loc); zero at an eigenstate
	Phi2       Estimate `json:"phi2"`     // <phi_x^2>
	AbsM       Estimate `json:"abs_m"`    // <|M|>, M the mean field
	Binder     Estimate `json:"binder"`   // 1 - <M^4>/(3 <M^2>^2)
	Virial     Estimate `json:"virial"`   // 2<T>/<phi . grad V>; 1 at an eigenstate
	Kinetic    Estimate `json:"kinetic"`
	Acceptance float64  `json:"acceptance"`
	Samples    int      `json:"samples"`
	TauInt     float64  `json:"tau_int"` // integrated autocorrelation time of E_loc, in samples per chain
}

// Measure samples n configurations with frozen parameters and returns the observables. Errors
// of means come from blocking within each chain, combined over the independent chains; errors of
// ratios (Binder cumulant, virial ratio) from a jackknife over chains.
func Measure(ctx context.Context, m *hamiltonian.Model, wf Wavefunction, s Sampler, n int) (Estimates, error) {
	if err := sameLattice(m, wf); err != nil {
		return Estimates{}, err
	}
	nc := s.Chains()
	per := (n + nc - 1) / nc

	series := make([][][]float64, 8)
	for q := range series {
		series[q] = make([][]float64, nc)
		for c := range series[q] {
			series[q][c] = make([]float64, per)
		}
	}
	evs := make([]Evaluator, nc)
	grads := make([][]float64, nc)
	for c := range evs {
		evs[c] = wf.NewEvaluator()
		grads[c] = make([]float64, m.N)
	}
	filled := make([]int, nc)
	acc, err := s.Sample(ctx, per, func(c, i int, phi []float64) {
		_, lap := evs[c].Derivs(phi, grads[c], nil)
		le := m.LocalEnergy(phi, grads[c], lap)
		var p2, mf float64
		for _, f := range phi {
			p2 += f * f
			mf += f
		}
		p2 /= float64(len(phi))
		mf /= float64(len(phi))
		m2 := mf * mf
		for q, v := range [8]float64{le.Total, le.Kinetic, le.V2, le.V4, p2, math.Abs(mf), m2, m2 * m2} {
			series[q][c][i] = v
		}
		filled[c] = i + 1
	})
	if err != nil && ctx.Err() == nil {
		return Estimates{}, err
	}
	// An interrupted measurement uses what every chain finished.
	done := per
	for _, f := range filled {
		done = min(done, f)
	}
	if done < 2 {
		return Estimates{}, context.Canceled
	}
	for q := range series {
		for c := range series[q] {
			series[q][c] = series[q][c][:done]
		}
	}
	mean := func(q int) Estimate { return pooledMean(series[q]) }
	est := Estimates{Energy: mean(0), Kinetic: mean(1), Phi2: mean(4), AbsM: mean(5),
		Acceptance: acc, Samples: done * nc}
	// Variance of E_loc with a jackknife over chains.
	est.Variance = jackknife(nc, func(skip int) float64 {
		var s, s2 float64
		cnt := 0
		for c := 0; c < nc; c++ {
			if c == skip {
				continue
			}
			for _, v := range series[0][c] {
				s += v
				s2 += v * v
				cnt++
			}
		}
		mu := s / float64(cnt)
		return s2/float64(cnt) - mu*mu
	})
	chainMean := func(q, skip int) float64 {
		s, cnt := 0.0, 0
		for c := 0; c < nc; c++ {
			if c == skip {
				continue
			}
			for _, v := range series[q][c] {
				s += v
			}
			cnt += len(series[q][c])
		}
		return s / float64(cnt)
	}
	est.Binder = jackknife(nc, func(skip int) float64 {
		m2 := chainMean(6, skip)
		return 1 - chainMean(7, skip)/(3*m2*m2)
	})
	est.Virial = jackknife(nc, func(skip int) float64 {
		return 2 * chainMean(1, skip) / (2*chainMean(2, skip) + 4*chainMean(3, skip))
	})
	var tau float64
	for c := 0; c < nc; c++ {
		tau += stats.IntegratedAutocorr(series[0][c]).Tau
	}
	est.TauInt = tau / float64(nc)
	return est, nil
}

// pooledMean is the mean over all chains with the error from blocking each chain.
func pooledMean(chains [][]float64) Estimate {
	var sum, errSq float64
	n := 0
	for _, x := range chains {
		for _, v := range x {
			sum += v
		}
		n += len(x)
	}
	for _, x := range chains {
		e := stats.BinningError(x).Error
		w := float64(len(x)) / float64(n)
		errSq += w * w * e * e
	}
	return Estimate{Value: sum / float64(n), Error: math.Sqrt(errSq)}
}

// jackknife returns f on all data (skip = -1) with the delete-one-chain jackknife error.
func jackknife(nc int, f func(skip int) float64) Estimate {
	full := f(-1)
	if nc < 2 {
		return Estimate{Value: full, Error: math.NaN()}
	}
	var s, s2 float64
	for c := 0; c < nc; c++ {
		v := f(c)
		s += v
		s2 += v * v
	}
	mu := s / float64(nc)
	v := (s2/float64(nc) - mu*mu) * float64(nc-1)
	return Estimate{Value: full, Error: math.Sqrt(math.Max(v, 0))}
}
