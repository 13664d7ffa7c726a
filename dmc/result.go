package dmc

import (
	"math"
	"time"

	"vqs/stats"
)

// Observables are estimates of diagonal observables: phi^2 = <(1/N) sum_x phi_x^2>, the mean
// field M = (1/N) sum_x phi_x through <|M|>, <M^2>, <M^4> and the Binder cumulant
// 1 - <M^4>/(3<M^2>^2), and the structure factor S(n) = <|phi_k|^2>/N at k = 2 pi n/L along the
// lattice axes (averaged over them), n = 0..L/2.
type Observables struct {
	Phi2, AbsM, M2, M4, Binder Estimate
	StructureFactor            []Estimate
}

// VMCResult is the guide's own measurement, from the same moves without weights: Psi_T^2
// sampled by Metropolis-Hastings.
type VMCResult struct {
	Tau        float64
	Walkers    int
	Energy     Estimate
	Variance   Estimate // Var(E_loc) under Psi_T^2, zero at an eigenstate
	Obs        Observables
	Acceptance float64
	// Generations measured, after Equilibration.
	Generations   int
	Equilibration Equilibration
	TauInt        float64 // integrated autocorrelation time of the energy, imaginary time
	Seconds       float64
}

// Equilibration is what a stage discarded before measuring.
type Equilibration struct {
	Set      float64 // imaginary time run before recording
	Detected float64 // imaginary time of the leading recorded blocks discarded as a transient
	// Flagged: the transient detected took more than a quarter of the recorded time, so the
	// stage may not have equilibrated.
	Flagged bool
}

// Gap is the decay rate of a Fourier mode's imaginary-time correlation along the walkers'
// ancestry, C(t)/C(0) ~ exp(-gap t): the energy of the lowest state that the mode couples to
// the ground state, above E0. For the k = 0 mode it is the mass gap to the Z2-odd sector.
type Gap struct {
	Estimate
	FitFrom, FitTo float64   // the imaginary-time window of the fit of log C(t)
	Lags           []float64 // t
	Ratio          []float64 // C(t)/C(0)
	RatioErr       []float64
	Note           string // why there is no value, when Value is NaN
}

// Point is the DMC measurement at one time step.
type Point struct {
	Tau     float64
	TauEff  float64 // tau times the accepted fraction of the proposed squared displacement
	Walkers int
	// Energy is the mixed estimator with the population-control correction over
	// ProductTime; EnergyUncorrected is the plain average over generations.
	Energy, EnergyUncorrected Estimate
	ProductTime               float64
	Mixed                     Observables // mixed estimators <Psi_T|A|Psi_0>/<Psi_T|Psi_0>
	Gap0, Gap1                Gap         // k = 0 and the smallest non-zero momentum
	Acceptance                float64
	Generations               int // measured, after Equilibration
	Equilibration             Equilibration
	TauInt                    float64 // of the energy, imaginary time
	ClippedFraction           float64 // local energies cut in the weights
	Seconds                   float64
}

// Fit is the weighted straight-line fit E(tau) = E0 + Slope*tau.
type Fit = stats.Extrapolation

// Comparison is a difference of two energies in combined standard errors.
type Comparison struct {
	Diff, Err, Sigmas float64
	Flagged           bool // |Sigmas| > SpreadSigmas
}

// PopulationCheck reruns the largest time step with another population; with no population
// bias left the two energies agree.
type PopulationCheck struct {
	Point Point
	Comparison
}

// Result is what Run measured.
type Result struct {
	Config        Config // with the defaults filled in
	L, Dim        int
	M2, Lambda    float64
	Sites         int
	Guide         *GuideInfo // where the guide came from (Run; nil from RunWith)
	Exact         *Reference // the exact E0 where it is cheap (Run; nil otherwise)
	GaussianBound float64    // the Gaussian-variational (Hartree) energy, an upper bound (Run; NaN otherwise)
	Started       time.Time
	// GuideGap is the guide's Gaussian kernel at k = 0, which sets the automatic times.
	GuideGap float64
	// EquilibrationTime, ProductTime and LagTime are the resolved imaginary times.
	EquilibrationTime, ProductTime, LagTime float64
	VMC                                     *VMCResult
	Points                                  []Point // in the order run, the largest tau first
	Fit                                     *Fit    // nil with fewer than two time steps
	// Energy +- EnergyErr is E0: the tau -> 0 extrapolation (Fit.E0 +- Fit.ErrScaled), or the
	// only point's energy when there is one time step (Extrapolated false). NaN when nothing
	// was measured.
	Energy, EnergyErr float64
	Extrapolated      bool
	// Spread compares the energies of the two smallest time steps (smallest minus next).
	Spread *Comparison
	// Population compares the rerun of the largest time step (rerun minus first run).
	Population *PopulationCheck
	// ExtrapolatedObs are 2 mixed - VMC at the smallest time step, second order in the error
	// of the guide; the Binder cumulant and S(n) are extrapolated as values, not via moments.
	ExtrapolatedObs *Observables
	// Gap and GapK1 are the smallest time step's Gap0 and Gap1.
	Gap, GapK1 *Gap
	Seconds    float64
	Complete   bool // every stage ran to the end
}

func nanEstimate() Estimate { return Estimate{Value: math.NaN(), Error: math.NaN()} }

// measuredView returns the stage's recorded blocks after the detected transient, and the
// equilibration it amounts to.
func (r *runner) measuredView(sd *stageData) (view, Equilibration) {
	b := sd.Blocks
	eq := Equilibration{Set: float64(min(sd.Gen, sd.EquilGens)) * sd.Tau}
	v := view{b: b}
	if r.p.detect && b.Rows > 0 {
		v.First = b.mserStart(colE, colW)
		recorded := b.generations(0)
		dropped := recorded - b.generations(v.First)
		eq.Detected = float64(dropped) * sd.Tau
		eq.Flagged = 4*dropped > recorded
	}
	return v, eq
}

func (r *runner) observables(v view) Observables {
	var o Observables
	if v.n() < 2 {
		e := nanEstimate()
		o = Observables{Phi2: e, AbsM: e, M2: e, M4: e, Binder: e}
		for n := 0; n < r.obs.nS; n++ {
			o.StructureFactor = append(o.StructureFactor, e)
		}
		return o
	}
	o.Phi2 = v.ratio(colQ+qPhi2, colW)
	o.AbsM = v.ratio(colQ+qAbsM, colW)
	o.M2 = v.ratio(colQ+qM2, colW)
	o.M4 = v.ratio(colQ+qM4, colW)
	o.Binder = v.function([]ratioTerm{{colQ + qM2, colW}, {colQ + qM4, colW}},
		func(r []float64) float64 { return 1 - r[1]/(3*r[0]*r[0]) },
		func(r, g []float64) {
			g[0] = 2 * r[1] / (3 * r[0] * r[0] * r[0])
			g[1] = -1 / (3 * r[0] * r[0])
		})
	for n := 0; n < r.obs.nS; n++ {
		o.StructureFactor = append(o.StructureFactor, v.ratio(colQ+qS+n, colW))
	}
	return o
}

func (r *runner) summarizeVMC(sd *stageData) *VMCResult {
	v, eq := r.measuredView(sd)
	res := &VMCResult{Tau: sd.Tau, Walkers: sd.Walkers, Equilibration: eq, Seconds: sd.Seconds,
		Generations: sd.Blocks.generations(v.First), Obs: r.observables(v)}
	if sd.Moves > 0 {
		res.Acceptance = sd.AccSum / float64(sd.Moves)
	}
	if v.n() < 2 {
		res.Energy, res.Variance, res.TauInt = nanEstimate(), nanEstimate(), math.NaN()
		return res
	}
	res.Energy = v.ratio(colE, colW)
	res.Variance = v.function([]ratioTerm{{colE, colW}, {colE2, colW}},
		func(r []float64) float64 { return r[1] - r[0]*r[0] },
		func(r, g []float64) { g[0], g[1] = -2*r[0], 1 })
	res.TauInt = v.tauInt(colE, colW) * sd.Tau
	return res
}

func (r *runner) summarizeStage(sd *stageData) Point {
	if sd.Kind == StageVMC {
		vm := r.summarizeVMC(sd)
		return Point{Energy: vm.Energy}
	}
	v, eq := r.measuredView(sd)
	pt := Point{Tau: sd.Tau, TauEff: sd.tauEff(), Walkers: sd.Walkers, Equilibration: eq,
		ProductTime: float64(sd.ProductGens) * sd.Tau, Generations: sd.Blocks.generations(v.First),
		Mixed: r.observables(v), Seconds: sd.Seconds}
	if sd.Moves > 0 {
		pt.Acceptance = sd.AccSum / float64(sd.Moves)
		pt.ClippedFraction = float64(sd.Clipped) / float64(2*sd.Moves)
	}
	if v.n() < 2 {
		pt.Energy, pt.EnergyUncorrected, pt.TauInt = nanEstimate(), nanEstimate(), math.NaN()
		pt.Gap0 = Gap{Estimate: nanEstimate(), Note: "not measured"}
		pt.Gap1 = pt.Gap0
		return pt
	}
	pt.Energy = v.ratio(colE, colW)
	pt.EnergyUncorrected = v.ratio(colERaw, colCount)
	pt.TauInt = v.tauInt(colE, colW) * sd.Tau
	if sd.Lags > 0 {
		base := sd.corrBase(r.nq)
		dt := float64(sd.LagEvery) * sd.Tau
		pt.Gap0 = v.gap(base, 1, sd.Lags, dt)
		if r.obs.k1 {
			pt.Gap1 = v.gap(base, 2, sd.Lags, dt)
		} else {
			pt.Gap1 = Gap{Estimate: nanEstimate(), Note: "no non-zero momentum on L = 1"}
		}
	} else {
		pt.Gap0 = Gap{Estimate: nanEstimate(), Note: "gap measurement switched off"}
		pt.Gap1 = pt.Gap0
	}
	return pt
}

// Fit windows of log C(t): from where the ratio has fallen below exp(-gapFrom) (higher states
// have decayed) to where it is still above exp(-gapTo) and its log known to gapNoise.
const (
	gapFrom  = 0.5
	gapTo    = 3.0
	gapNoise = 0.3
)

// gap fits the decay of the lag correlations in columns base+3l (weights) and base+3l+which
// (products), l = 0..lags, at lag spacing dt. The error comes from the linearized fit, blocked
// over rows.
func (v view) gap(base, which, lags int, dt float64) Gap {
	n := v.n()
	g := Gap{Estimate: nanEstimate()}
	nw, nx := make([]float64, lags+1), make([]float64, lags+1)
	for l := 0; l <= lags; l++ {
		nw[l] = v.sum(base + 3*l)
		nx[l] = v.sum(base + 3*l + which)
	}
	if !(nw[0] > 0) || !(nx[0] > 0) {
		g.Note = "no correlation data"
		return g
	}
	c0 := nx[0] / nw[0]
	// e[l][row]: the row's linearized contribution to log R(l), R = C(l)/C(0).
	e := make([][]float64, lags+1)
	var sig []float64
	avail := 0
	for l := 0; l <= lags; l++ {
		if !(nw[l] > 0) {
			break
		}
		avail = l
		e[l] = make([]float64, n)
		for row := 0; row < n; row++ {
			e[l][row] = float64(n) * (v.at(row, base+3*l+which)/nx[l] - v.at(row, base+3*l)/nw[l] -
				v.at(row, base+which)/nx[0] + v.at(row, base)/nw[0])
		}
		rl := nx[l] / nw[l] / c0
		sl := stats.BinningError(e[l]).Error
		g.Lags = append(g.Lags, float64(l)*dt)
		g.Ratio = append(g.Ratio, rl)
		g.RatioErr = append(g.RatioErr, math.Abs(rl)*sl)
		sig = append(sig, sl)
	}
	from := -1
	for l := 1; l <= avail; l++ {
		if g.Ratio[l] <= math.Exp(-gapFrom) {
			from = l
			break
		}
	}
	if from < 0 {
		g.Note = "the correlation did not fall below exp(-0.5) within the lag time: the gap is below about 0.5/lag time"
		return g
	}
	to := from - 1
	for l := from; l <= avail; l++ {
		if !(g.Ratio[l] >= math.Exp(-gapTo)) || sig[l] > gapNoise {
			break
		}
		to = l
	}
	// With a single usable lag past the threshold, the lag before it completes the window.
	if to == from && from > 1 {
		from--
	}
	if to-from < 1 {
		g.Note = "the correlation decayed too fast or too noisily for a fit: resolve it with a smaller tau or a longer run"
		return g
	}
	var tm float64
	cnt := float64(to - from + 1)
	for l := from; l <= to; l++ {
		tm += g.Lags[l] / cnt
	}
	var stt float64
	for l := from; l <= to; l++ {
		d := g.Lags[l] - tm
		stt += d * d
	}
	slope := 0.0
	z := make([]float64, n)
	for l := from; l <= to; l++ {
		c := (g.Lags[l] - tm) / stt
		slope += c * math.Log(g.Ratio[l])
		for row := range z {
			z[row] -= c * e[l][row]
		}
	}
	// The per-row series is correlated over the lag window itself, and on runs only a few
	// dozen lag windows long blocking finds no plateau and underestimates the error (pulls of
	// -3 to -4 against the exact free-theory gap). The Gamma method's automatic window copes
	// better with such short series; the larger of the two is reported.
	bin := stats.BinningError(z)
	errGap := math.Max(bin.Error, stats.ErrorOfMean(z))
	g.Estimate = Estimate{Value: -slope, Error: errGap, BlockErr: bin.Error, Unreliable: !bin.Plateau}
	g.FitFrom, g.FitTo = g.Lags[from], g.Lags[to]
	return g
}

func combined(a, b Estimate) Comparison {
	d := a.Value - b.Value
	// Rounding floor: two estimates that agree to 1e-12 agree, even when both error bars are
	// zero (an exact guide makes every local energy equal).
	e := math.Max(math.Hypot(a.Error, b.Error), 1e-12*math.Max(math.Abs(a.Value), math.Abs(b.Value)))
	c := Comparison{Diff: d, Err: e, Sigmas: d / e}
	if e == 0 {
		c.Sigmas = 0
		if d != 0 {
			c.Sigmas = math.Inf(int(math.Copysign(1, d)))
		}
	}
	c.Flagged = math.Abs(c.Sigmas) > SpreadSigmas
	return c
}

func extrapolate(mixed, vmc Estimate) Estimate {
	return Estimate{Value: 2*mixed.Value - vmc.Value, Error: math.Hypot(2*mixed.Error, vmc.Error),
		Unreliable: mixed.Unreliable || vmc.Unreliable}
}

// result assembles the Result from every stage that has data.
func (r *runner) result() *Result {
	p := r.p
	res := &Result{Config: p.cfg, Sites: r.n, GuideGap: p.g0, EquilibrationTime: p.equilTime,
		ProductTime: p.product, LagTime: p.lagTime, Energy: math.NaN(), EnergyErr: math.NaN()}
	specs := p.stageSpecs()
	res.Complete = r.stage == len(specs)
	if len(r.stages) == 0 {
		return res
	}
	res.VMC = r.summarizeVMC(r.stages[0])
	var pop *Point
	for _, sd := range r.stages[1:] {
		pt := r.summarizeStage(sd)
		if sd.Kind == StagePopulation {
			pop = &pt
			continue
		}
		res.Points = append(res.Points, pt)
	}
	var taus, es, errs []float64
	for _, pt := range res.Points {
		if !math.IsNaN(pt.Energy.Value) && !math.IsNaN(pt.Energy.Error) {
			taus = append(taus, pt.Tau)
			es = append(es, pt.Energy.Value)
			errs = append(errs, pt.Energy.Error)
		}
	}
	switch {
	case len(taus) == 1:
		res.Energy, res.EnergyErr = es[0], errs[0]
	case len(taus) >= 2:
		if f, ok := fitTau(taus, es, errs); ok {
			res.Fit = &f
			res.Energy, res.EnergyErr, res.Extrapolated = f.E0, f.ErrScaled, true
		}
	}
	if k := len(res.Points); k >= 2 {
		c := combined(res.Points[k-1].Energy, res.Points[k-2].Energy)
		res.Spread = &c
	}
	if k := len(res.Points); k >= 1 {
		last := res.Points[k-1]
		if pop != nil {
			res.Population = &PopulationCheck{Point: *pop, Comparison: combined(pop.Energy, res.Points[0].Energy)}
		}
		if res.VMC != nil {
			m, v := last.Mixed, res.VMC.Obs
			ex := Observables{Phi2: extrapolate(m.Phi2, v.Phi2), AbsM: extrapolate(m.AbsM, v.AbsM),
				M2: extrapolate(m.M2, v.M2), M4: extrapolate(m.M4, v.M4), Binder: extrapolate(m.Binder, v.Binder)}
			for n := range m.StructureFactor {
				ex.StructureFactor = append(ex.StructureFactor, extrapolate(m.StructureFactor[n], v.StructureFactor[n]))
			}
			res.ExtrapolatedObs = &ex
		}
		g0, g1 := last.Gap0, last.Gap1
		res.Gap, res.GapK1 = &g0, &g1
	}
	return res
}

// fitTau extrapolates E(tau) = E0 + c tau. Points without an error bar (a zero-variance guide)
// are fitted unweighted with a zero error.
func fitTau(taus, es, errs []float64) (Fit, bool) {
	allZero := true
	for _, e := range errs {
		if e > 0 {
			allZero = false
		}
	}
	sig := errs
	if allZero {
		sig = make([]float64, len(errs))
		for i := range sig {
			sig[i] = 1
		}
	} else {
		sig = append([]float64(nil), errs...)
		for i, e := range sig {
			if !(e > 0) {
				return Fit{}, false
			}
			sig[i] = e
		}
	}
	lf, err := stats.WeightedLinearFit(taus, es, sig)
	if err != nil {
		return Fit{}, false
	}
	f := lf.Extrapolation()
	if allZero {
		f.Err, f.SlopeErr, f.Chi2, f.ErrScaled = 0, 0, 0, 0
	}
	return f, true
}
