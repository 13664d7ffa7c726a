package groundstate

import (
	"context"
	"math"

	"vqs/hamiltonian"
	"vqs/hamiltonian/ed"
)

// Summary is the flat form of a Result: the --json output of `vqs ground-state` and the
// "result" of run.json. Optional numbers are null when unknown; no NaN is ever written.
type Summary struct {
	Method         string   `json:"method"`
	L              int      `json:"L"`
	Dim            int      `json:"dim"`
	Sites          int      `json:"sites"`
	M2             float64  `json:"m2"`
	Lambda         float64  `json:"lambda"`
	Energy         float64  `json:"energy"`
	EnergyErr      float64  `json:"energy_err"`
	EnergyPerSite  float64  `json:"energy_per_site"`
	Variance       *float64 `json:"variance"`
	VarianceErr    *float64 `json:"variance_err"`
	GaussianEnergy float64  `json:"gaussian_energy"`
	ExactEnergy    *float64 `json:"exact_energy"`
	ExactMethod    string   `json:"exact_method,omitempty"`
	CorrelationCap *float64 `json:"correlation_captured,omitempty"`
	CorrelationErr *float64 `json:"correlation_captured_err,omitempty"`
	Acceptance     float64  `json:"acceptance"`
	VirialRatio    *float64 `json:"virial_ratio"`
	VirialErr      *float64 `json:"virial_ratio_err"`
	Phi2           float64  `json:"phi2"`
	Phi2Err        *float64 `json:"phi2_err"`
	AbsM           float64  `json:"abs_m"`
	AbsMErr        *float64 `json:"abs_m_err"`
	Binder         *float64 `json:"binder"`
	BinderErr      *float64 `json:"binder_err"`
	// BinderRR is U4 in the even Rayleigh-Ritz state (BinderMethodRR), Psi_0's mean-field
	// distribution corrected as the gap's E0 is; nil where the gap could not be formed.
	BinderRR    *float64 `json:"binder_rr"`
	BinderRRErr *float64 `json:"binder_rr_err"`
	Chi         *float64 `json:"chi"` // N (<M^2> - <|M|>^2)
	ChiErr      *float64 `json:"chi_err"`
	// Gap is the variational gap to the Z2-odd sector (GapMethod says how it was obtained).
	Gap            *float64  `json:"gap"`
	GapErr         *float64  `json:"gap_err"`
	GapMethod      string    `json:"gap_method,omitempty"`
	TauInt         *float64  `json:"tau_int"`   // of E_loc, in samples per chain
	ESSPerS        *float64  `json:"ess_per_s"` // effective samples of E_loc per second of measurement
	AbsMTau        *float64  `json:"abs_m_tau_int"`
	AbsMESSPerS    *float64  `json:"abs_m_ess_per_s"`
	MeasureSeconds float64   `json:"measure_seconds"`
	TrainSeconds   float64   `json:"bridge_training_seconds,omitempty"` // the learned bridge score's, over the run
	ESS            *float64  `json:"ess"`                               // effective samples of E_loc in the measurement
	RHat           *float64  `json:"r_hat"`                             // split-R-hat of E_loc across chains
	Reliable       bool      `json:"reliable"`
	Samples        int       `json:"samples"`
	MeasureCut     bool      `json:"measurement_interrupted,omitempty"`
	Iterations     int       `json:"iterations"`
	ResumedFrom    int       `json:"resumed_from,omitempty"`
	Seconds        float64   `json:"seconds"`
	Status         string    `json:"status"`
	Stopped        string    `json:"stopped,omitempty"` // why the optimisation ended early
	Seed           uint64    `json:"seed"`
	Optimizer      string    `json:"optimizer"`
	SamplerName    string    `json:"sampler"`
	Sampling       string    `json:"sampling"` // the sampler in words
	Scales         int       `json:"scales"`
	Width          int       `json:"width"`
	Init           string    `json:"init"`
	Params         int       `json:"params"`
	RGTimes        []float64 `json:"rg_times"`
	Depths         []Depth   `json:"bridge_depths,omitempty"`
	Unsaved        []string  `json:"unsaved,omitempty"`
	Version        string    `json:"version"`
}

// BinderMethodRR and BinderMethodPsi0 name the two Binder cumulants in outputs: of the even
// Rayleigh-Ritz state h(M) Psi_0 (the samples reweighted by h^2), and of Psi_0 itself.
const (
	BinderMethodRR   = "even Rayleigh-Ritz state h(M) Psi_0, h in 1, M^2, M^4"
	BinderMethodPsi0 = "Psi_0"
)

// GapMethodVariational names the variational gap estimator in outputs.
const GapMethodVariational = "variational: Rayleigh-Ritz over f(M) Psi_0, odd f in M, M^3, M^5 against even f in 1, M^2, M^4"

// Depth is the bridge sampler's acceptance at one depth.
type Depth struct {
	Depth      int     `json:"depth"`
	Tries      int     `json:"tries"`
	Accepted   int     `json:"accepted"`
	Acceptance float64 `json:"acceptance"`
}

// Summary flattens the result.
func (r *Result) Summary() Summary {
	c, e := r.Config, r.Estimate
	n := 1
	for range c.Dim {
		n *= c.L
	}
	s := Summary{Method: "vmc", L: c.L, Dim: c.Dim, Sites: n, M2: c.M2, Lambda: c.Lambda,
		Energy: e.Energy.Value, EnergyErr: e.Energy.Error, EnergyPerSite: e.Energy.Value / float64(n),
		Variance: opt(e.Variance.Value), VarianceErr: opt(e.Variance.Error), GaussianEnergy: r.Gaussian.Energy,
		Acceptance: e.Acceptance, VirialRatio: opt(e.Virial.Value), VirialErr: opt(e.Virial.Error),
		Phi2: e.Phi2.Value, Phi2Err: opt(e.Phi2.Error), AbsM: e.AbsM.Value, AbsMErr: opt(e.AbsM.Error),
		Binder: opt(e.Binder.Value), BinderErr: opt(e.Binder.Error), TauInt: opt(e.Energy.Tau), ESS: opt(e.Energy.ESS),
		RHat: opt(e.Energy.RHat), Reliable: !e.Energy.Unreliable, Samples: e.Samples, MeasureCut: e.Interrupted,
		Iterations: r.Iterations, ResumedFrom: r.ResumedFrom, Seconds: r.Seconds, Status: r.Status.String(),
		Seed: c.Seed, Optimizer: c.Optimizer, SamplerName: c.Sampler, Sampling: r.Sampling, Scales: c.Ansatz.Scales, Width: c.Ansatz.Width,
		Init: c.Ansatz.Init, Params: len(r.Params), RGTimes: r.Times, Unsaved: r.Unsaved, Version: r.Version}
	if r.Status.Early() {
		s.Stopped = r.Reason
	}
	s.Chi, s.ChiErr = opt(e.Chi.Value), opt(e.Chi.Error)
	s.MeasureSeconds, s.TrainSeconds = e.Seconds, r.TrainingSeconds
	if e.Seconds > 0 {
		s.ESSPerS, s.AbsMESSPerS = opt(e.Energy.ESS/e.Seconds), opt(e.AbsM.ESS/e.Seconds)
	}
	s.AbsMTau = opt(e.AbsM.Tau)
	if g := e.OddGap; g != nil {
		s.Gap, s.GapErr, s.GapMethod = opt(g.Gap.Value), opt(g.Gap.Error), GapMethodVariational
		s.BinderRR, s.BinderRRErr = opt(g.Binder.Value), opt(g.Binder.Error)
	}
	if r.Exact != nil {
		s.ExactEnergy, s.ExactMethod = opt(r.Exact.Energy), r.Exact.Method
	}
	if r.Correlation != nil {
		s.CorrelationCap, s.CorrelationErr = opt(r.Correlation.Value), opt(r.Correlation.Error)
	}
	for _, d := range r.Depths {
		s.Depths = append(s.Depths, Depth{Depth: d.Depth, Tries: d.Tries, Accepted: d.Accepted, Acceptance: d.MeanProb})
	}
	return s
}

// opt returns a pointer to x, or nil when x is NaN or infinite, for optional JSON fields.
func opt(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// exactReference returns an exact E0 when one is cheap and converged (ed.Reference: the free
// theory at lambda = 0, exact diagonalization on tiny lattices).
func exactReference(ctx context.Context, m *hamiltonian.Model) (*Reference, bool) {
	ref, err := ed.Reference(ctx, m, ed.ReferenceConfig{})
	if err != nil || !ref.Converged {
		return nil, false
	}
	return &Reference{Energy: ref.Energy, Method: ref.String()}, true
}
