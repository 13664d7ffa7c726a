package vmc

import (
	"context"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/mat"

	"vqs/hamiltonian"
	"vqs/stats"
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

// energy returns the mean local energy with its error (stats.Pool over the chains, which
// accounts for autocorrelation within each) and the variance of E_loc.
func (a *accumulator) energy() (e, err, variance float64) {
	chains := make([][]float64, a.chains)
	for c := range chains {
		chains[c] = a.eloc[c*a.perChain : (c+1)*a.perChain]
	}
	p := stats.Pool(chains)
	return p.Value, p.Error, stats.Variance(a.eloc[:a.chains*a.perChain])
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

// Estimate is a Monte Carlo estimate with its error and diagnostics (package stats).
type Estimate = stats.Estimate

// Estimates are the observables of the final measurement.
type Estimates struct {
	Energy     Estimate `json:"energy"`
	Variance   Estimate `json:"variance"` // Var(E_loc); zero at an eigenstate
	Phi2       Estimate `json:"phi2"`     // <phi_x^2>
	AbsM       Estimate `json:"abs_m"`    // <|M|>, M the mean field
	M2         Estimate `json:"mag_sq"`   // <M^2>
	Binder     Estimate `json:"binder"`   // 1 - <M^4>/(3 <M^2>^2)
	Chi        Estimate `json:"chi"`      // N (<M^2> - <|M|>^2), finite in the broken phase
	Virial     Estimate `json:"virial"`   // 2<T>/<phi . grad V>; 1 at an eigenstate
	Kinetic    Estimate `json:"kinetic"`
	Acceptance float64  `json:"acceptance"`
	Samples    int      `json:"samples"`
	Seconds    float64  `json:"seconds"` // wall time of the measurement (its ESS per second: ESS / Seconds)
	// Interrupted is set when the measurement was cut short (a cancelled context): Samples
	// then counts what every chain finished.
	Interrupted bool `json:"interrupted,omitempty"`
	// OddGap is the variational gap to the Z2-odd sector from the same samples (see
	// MeasureOddGap, with OddGapBasis odd powers of M); nil where it could not be formed.
	OddGap *OddGap `json:"odd_gap,omitempty"`
}

// OddGapBasis is the number of odd powers of M (M, M^3, M^5) in the trial space of the
// variational gap that Measure reports, and of even ones (1, M^2, M^4) in its even sector.
const OddGapBasis = 3

// Measure samples n configurations with frozen parameters and returns the observables, every
// error from stats.Pool (Gamma method within each chain, combined over chains; derived
// quantities by Wolff's linearisation, so one chain is enough). progress, if not nil, is called
// with the samples done per chain, from the goroutine of chain 0, about every 5%.
func Measure(ctx context.Context, m *hamiltonian.Model, wf Wavefunction, s Sampler, n int, progress func(done, total int)) (Estimates, error) {
	if err := sameLattice(m, wf); err != nil {
		return Estimates{}, err
	}
	nc := s.Chains()
	per := (n + nc - 1) / nc

	const (
		qE = iota
		qE2
		qKin
		qV2
		qV4
		qPhi2
		qAbsM
		qM2
		qM4
		nq
	)
	series := make([][][]float64, nq)
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
	every := max(1, per/20)
	t0 := time.Now()
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
		for q, v := range [nq]float64{le.Total, le.Total * le.Total, le.Kinetic, le.V2, le.V4, p2, math.Abs(mf), m2, m2 * m2} {
			series[q][c][i] = v
		}
		filled[c] = i + 1
		if c == 0 && progress != nil && ((i+1)%every == 0 || i+1 == per) {
			progress(i+1, per)
		}
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
		return Estimates{}, fmt.Errorf("vmc: the measurement was interrupted after %d samples per chain, too few for an estimate: %w", done, context.Canceled)
	}
	for q := range series {
		for c := range series[q] {
			series[q][c] = series[q][c][:done]
		}
	}
	elapsed := time.Since(t0).Seconds()
	est := Estimates{Seconds: elapsed, Energy: stats.Pool(series[qE]), Kinetic: stats.Pool(series[qKin]), Phi2: stats.Pool(series[qPhi2]),
		AbsM: stats.Pool(series[qAbsM]), M2: stats.Pool(series[qM2]), Acceptance: acc, Samples: done * nc,
		Interrupted: done < per}
	est.Variance = stats.PoolDerived(func(x []float64) float64 { return x[1] - x[0]*x[0] }, series[qE], series[qE2])
	est.Binder = stats.PoolDerived(func(x []float64) float64 { return 1 - x[1]/(3*x[0]*x[0]) }, series[qM2], series[qM4])
	sites := float64(m.N)
	est.Chi = stats.PoolDerived(func(x []float64) float64 { return sites * (x[0] - x[1]*x[1]) }, series[qM2], series[qAbsM])
	if g, err := oddGap(series[qE], series[qAbsM], m.N, OddGapBasis); err == nil {
		est.OddGap = g
	}
	est.Virial = stats.PoolDerived(func(x []float64) float64 { return 2 * x[0] / (2*x[1] + 4*x[2]) },
		series[qKin], series[qV2], series[qV4])
	return est, nil
}
