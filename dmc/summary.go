package dmc

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"

	"vqs/buildinfo"
	"vqs/results"
)

// Summary is the flat form of a Result: the --json output of `vqs dmc` and result.json.
// Unknown numbers are null; no NaN is ever written.
type Summary struct {
	Command       string   `json:"command"`
	L             int      `json:"L"`
	Dim           int      `json:"dim"`
	Sites         int      `json:"sites"`
	M2            float64  `json:"m2"`
	Lambda        float64  `json:"lambda"`
	Seed          uint64   `json:"seed"`
	Energy        *float64 `json:"energy"` // E0: the tau -> 0 extrapolation (or the one tau's energy)
	EnergyErr     *float64 `json:"energy_err"`
	EnergyPerSite *float64 `json:"energy_per_site"`
	Extrapolated  bool     `json:"extrapolated"`
	VMCEnergy     *float64 `json:"vmc_energy"`
	VMCEnergyErr  *float64 `json:"vmc_energy_err"`
	// DMCBelowVMC is (VMC - DMC) in combined errors: DMC projects down, so it is >= -2.
	DMCBelowVMC   *float64              `json:"dmc_below_vmc_sigmas"`
	VMC           *VMCSummary           `json:"vmc"`
	Points        []PointSummary        `json:"points"` // one per time step, the largest first
	Fit           *Fit                  `json:"fit"`
	Spread        *ComparisonSummary    `json:"spread_smallest_two"`
	Population    *ComparisonSummary    `json:"population_check"`
	PopPoint      *PointSummary         `json:"population_point,omitempty"`
	Gap           *float64              `json:"gap"`
	GapErr        *float64              `json:"gap_err"`
	GapK1         *float64              `json:"gap_k1"`
	GapK1Err      *float64              `json:"gap_k1_err"`
	K1            float64               `json:"k1"`          // the smallest non-zero momentum 2 pi/L
	Observables   map[string]ObsSummary `json:"observables"` // "vmc", "mixed", "extrapolated"
	Exact         *float64              `json:"exact_energy,omitempty"`
	ExactMethod   string                `json:"exact_method,omitempty"`
	GaussianBound *float64              `json:"gaussian_bound"`
	Times         map[string]float64    `json:"times"`
	Guide         *GuideInfo            `json:"guide,omitempty"`
	GuideEnergy   *float64              `json:"guide_training_energy"`
	Seconds       float64               `json:"seconds"`
	Complete      bool                  `json:"complete"`
	Interrupted   bool                  `json:"interrupted,omitempty"`
	StoreID       string                `json:"store_id,omitempty"`
	Version       string                `json:"version"`
}

// EstSummary is an Estimate; Plateau says whether its blocking analysis found one.
type EstSummary struct {
	Value   *float64 `json:"value"`
	Err     *float64 `json:"err"`
	Plateau bool     `json:"plateau"`
}

// ObsSummary is Observables.
type ObsSummary struct {
	Phi2            EstSummary   `json:"phi2"`
	AbsM            EstSummary   `json:"abs_m"`
	M2              EstSummary   `json:"m2_mean_field"`
	M4              EstSummary   `json:"m4_mean_field"`
	Binder          EstSummary   `json:"binder"`
	StructureFactor []EstSummary `json:"structure_factor"`
}

// GapSummary is Gap.
type GapSummary struct {
	Value    *float64   `json:"value"`
	Err      *float64   `json:"err"`
	Plateau  bool       `json:"plateau"`
	FitFrom  float64    `json:"fit_from"`
	FitTo    float64    `json:"fit_to"`
	Lags     []float64  `json:"lags"`
	Ratio    []*float64 `json:"ratio"`
	RatioErr []*float64 `json:"ratio_err"`
	Note     string     `json:"note,omitempty"`
}

// EquilSummary is Equilibration.
type EquilSummary struct {
	Set      float64 `json:"set"`
	Detected float64 `json:"detected"`
	Flagged  bool    `json:"flagged"`
}

// PointSummary is Point.
type PointSummary struct {
	Tau               float64      `json:"tau"`
	TauEff            float64      `json:"tau_eff"`
	Walkers           int          `json:"walkers"`
	Energy            EstSummary   `json:"energy"`
	EnergyUncorrected EstSummary   `json:"energy_uncorrected"`
	ProductTime       float64      `json:"product_time"`
	Acceptance        float64      `json:"acceptance"`
	Generations       int          `json:"generations"`
	Equilibration     EquilSummary `json:"equilibration"`
	TauInt            *float64     `json:"tau_int"`
	ClippedFraction   float64      `json:"clipped_fraction"`
	Mixed             ObsSummary   `json:"mixed"`
	Gap0              GapSummary   `json:"gap_k0"`
	Gap1              GapSummary   `json:"gap_k1"`
	Seconds           float64      `json:"seconds"`
}

// VMCSummary is VMCResult.
type VMCSummary struct {
	Tau           float64      `json:"tau"`
	Walkers       int          `json:"walkers"`
	Energy        EstSummary   `json:"energy"`
	Variance      EstSummary   `json:"variance"`
	Acceptance    float64      `json:"acceptance"`
	Generations   int          `json:"generations"`
	Equilibration EquilSummary `json:"equilibration"`
	TauInt        *float64     `json:"tau_int"`
	Seconds       float64      `json:"seconds"`
}

// ComparisonSummary is Comparison.
type ComparisonSummary struct {
	Diff    *float64 `json:"diff"`
	Err     *float64 `json:"err"`
	Sigmas  *float64 `json:"sigmas"`
	Flagged bool     `json:"flagged"`
}

func opt(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

func estSummary(e Estimate) EstSummary {
	return EstSummary{Value: opt(e.Value), Err: opt(e.Error), Plateau: !e.Unreliable}
}

func obsSummary(o Observables) ObsSummary {
	out := ObsSummary{Phi2: estSummary(o.Phi2), AbsM: estSummary(o.AbsM), M2: estSummary(o.M2), M4: estSummary(o.M4),
		Binder: estSummary(o.Binder), StructureFactor: []EstSummary{}}
	for _, s := range o.StructureFactor {
		out.StructureFactor = append(out.StructureFactor, estSummary(s))
	}
	return out
}

func gapSummary(g Gap) GapSummary {
	out := GapSummary{Value: opt(g.Value), Err: opt(g.Error), Plateau: !g.Unreliable, FitFrom: g.FitFrom, FitTo: g.FitTo,
		Lags: g.Lags, Note: g.Note, Ratio: []*float64{}, RatioErr: []*float64{}}
	if out.Lags == nil {
		out.Lags = []float64{}
	}
	for i := range g.Ratio {
		out.Ratio = append(out.Ratio, opt(g.Ratio[i]))
		out.RatioErr = append(out.RatioErr, opt(g.RatioErr[i]))
	}
	return out
}

func pointSummary(p Point) PointSummary {
	return PointSummary{Tau: p.Tau, TauEff: p.TauEff, Walkers: p.Walkers, Energy: estSummary(p.Energy),
		EnergyUncorrected: estSummary(p.EnergyUncorrected), ProductTime: p.ProductTime, Acceptance: p.Acceptance,
		Generations: p.Generations, Equilibration: EquilSummary(p.Equilibration), TauInt: opt(p.TauInt),
		ClippedFraction: p.ClippedFraction, Mixed: obsSummary(p.Mixed), Gap0: gapSummary(p.Gap0), Gap1: gapSummary(p.Gap1),
		Seconds: p.Seconds}
}

func comparisonSummary(c Comparison) *ComparisonSummary {
	return &ComparisonSummary{Diff: opt(c.Diff), Err: opt(c.Err), Sigmas: opt(c.Sigmas), Flagged: c.Flagged}
}

// Summary returns the flat form of the result.
func (res *Result) Summary() Summary {
	c := res.Config
	n := max(res.Sites, 1)
	out := Summary{Command: "dmc", L: res.L, Dim: res.Dim, Sites: res.Sites, M2: res.M2, Lambda: res.Lambda, Seed: c.Seed,
		Energy: opt(res.Energy), EnergyErr: opt(res.EnergyErr), EnergyPerSite: opt(res.Energy / float64(n)),
		Extrapolated: res.Extrapolated, Points: []PointSummary{}, Guide: res.Guide, Seconds: res.Seconds,
		Complete: res.Complete, Interrupted: !res.Complete, Version: buildinfo.Version(),
		K1: 2 * math.Pi / float64(max(res.L, 1)), GaussianBound: opt(res.GaussianBound),
		Times: map[string]float64{"equilibration": res.EquilibrationTime, "product": res.ProductTime,
			"lag": res.LagTime, "measured": c.Time, "vmc": c.VMCTime, "guide_gap": res.GuideGap},
		Observables: map[string]ObsSummary{}}
	if res.Guide != nil {
		out.GuideEnergy = opt(res.Guide.Energy)
	}
	if v := res.VMC; v != nil {
		out.VMCEnergy, out.VMCEnergyErr = opt(v.Energy.Value), opt(v.Energy.Error)
		out.VMC = &VMCSummary{Tau: v.Tau, Walkers: v.Walkers, Energy: estSummary(v.Energy), Variance: estSummary(v.Variance),
			Acceptance: v.Acceptance, Generations: v.Generations, Equilibration: EquilSummary(v.Equilibration),
			TauInt: opt(v.TauInt), Seconds: v.Seconds}
		out.Observables["vmc"] = obsSummary(v.Obs)
		out.DMCBelowVMC = opt((v.Energy.Value - res.Energy) / math.Hypot(v.Energy.Error, res.EnergyErr))
	}
	for _, p := range res.Points {
		out.Points = append(out.Points, pointSummary(p))
	}
	if k := len(res.Points); k > 0 {
		out.Observables["mixed"] = obsSummary(res.Points[k-1].Mixed)
	}
	if res.ExtrapolatedObs != nil {
		out.Observables["extrapolated"] = obsSummary(*res.ExtrapolatedObs)
	}
	out.Fit = res.Fit
	if res.Spread != nil {
		out.Spread = comparisonSummary(*res.Spread)
	}
	if pc := res.Population; pc != nil {
		out.Population = comparisonSummary(pc.Comparison)
		pp := pointSummary(pc.Point)
		out.PopPoint = &pp
	}
	if res.Gap != nil {
		out.Gap, out.GapErr = opt(res.Gap.Value), opt(res.Gap.Error)
	}
	if res.GapK1 != nil {
		out.GapK1, out.GapK1Err = opt(res.GapK1.Value), opt(res.GapK1.Error)
	}
	if res.Exact != nil {
		out.Exact, out.ExactMethod = opt(res.Exact.Energy), res.Exact.Method
	}
	return out
}

// Record returns the run as a results-store record (kind dmc): E0 and E0/N with their errors,
// the guide's VMC energy (vmc_energy, from the same moves without weights), Var(E_loc), the
// gap, E(tau) against tau as a curve, and the settings. runErr is the error Run returned with
// the result (an interrupt makes the record "interrupted").
func (res *Result) Record(runErr error) *results.Record {
	c := res.Config
	taus := make([]any, len(c.Taus))
	for i, t := range c.Taus {
		taus[i] = t
	}
	n := float64(max(res.Sites, 1))
	extra := map[string]any{"taus": taus, "walkers": c.Walkers, "time": c.Time}
	if g := res.Guide; g != nil {
		extra["guide"], extra["guide_dir"], extra["guide_params"] = g.Source, g.Dir, g.Params
	}
	rec := &results.Record{Kind: results.KindDMC, Status: results.StatusDone, Version: buildinfo.Version(), Seed: c.Seed,
		Started: res.Started, Finished: time.Now(), Seconds: res.Seconds,
		Params:    results.Params{L: res.L, Dim: res.Dim, M2: res.M2, Lambda: res.Lambda, Extra: extra},
		Estimates: map[string]results.Estimate{},
	}
	// An error whose blocking found no plateau is a lower bound: stored as unreliable.
	e0Unreliable := len(res.Points) == 0
	for _, p := range res.Points {
		e0Unreliable = e0Unreliable || p.Energy.Unreliable
	}
	rec.Estimates[results.EstEnergy] = results.Estimate{Value: res.Energy, Error: res.EnergyErr, Unreliable: e0Unreliable}
	rec.Estimates[results.EstEnergyPerSite] = results.Estimate{Value: res.Energy / n, Error: res.EnergyErr / n, Unreliable: e0Unreliable}
	if runErr != nil {
		rec.Status = results.StatusInterrupted
		if !errors.Is(runErr, context.Canceled) && !errors.Is(runErr, context.DeadlineExceeded) {
			rec.Status = results.StatusFailed
			rec.Notes = strings.Join(strings.Fields(runErr.Error()), " ")
		}
	}
	if v := res.VMC; v != nil {
		u := v.Energy.Unreliable
		rec.Estimates[EstVMCEnergy] = results.Estimate{Value: v.Energy.Value, Error: v.Energy.Error, Unreliable: u}
		rec.Estimates[EstVMCEnergyPerSite] = results.Estimate{Value: v.Energy.Value / n, Error: v.Energy.Error / n, Unreliable: u}
		rec.Estimates[results.EstVariance] = results.Estimate{Value: v.Variance.Value, Error: v.Variance.Error, Unreliable: v.Variance.Unreliable}
	}
	if res.Gap != nil && !math.IsNaN(res.Gap.Value) {
		rec.Estimates[results.EstGap] = results.Estimate{Value: res.Gap.Value, Error: res.Gap.Error, Unreliable: res.Gap.Unreliable}
	}
	if len(res.Points) > 0 {
		cur := results.Curve{Label: "E(tau) vs tau, mixed estimator"}
		for _, p := range res.Points {
			cur.X = append(cur.X, p.Tau)
			cur.Y = append(cur.Y, p.Energy.Value)
			cur.Err = append(cur.Err, p.Energy.Error)
		}
		rec.Curves = map[string]results.Curve{"energy_vs_tau": cur}
	}
	return rec
}

// Estimates of a DMC record beyond the conventional ones: the guide's VMC energy.
const (
	EstVMCEnergy        = "vmc_energy"
	EstVMCEnergyPerSite = "vmc_energy_per_site"
)
