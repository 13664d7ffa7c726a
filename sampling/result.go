package sampling

import (
	"math"

	"vqs/results"
	"vqs/rgsampler"
	"vqs/rgsampler/learned"
	"vqs/stats"
)

// Sampler names of a Run.
const (
	SamplerHMC    = "hmc"
	SamplerBridge = "bridge"
	SamplerHybrid = "hybrid" // bridge moves between HMC trajectories
	// SamplerCluster is HMC with Wolff cluster flips after every trajectory.
	SamplerCluster = "hmc+cluster"
)

// Observable is the estimate of one observable with its cost: effective samples per second of
// sampling alone, and per second of the whole run, which adds the warm-up, the HMC
// pre-training samples and the training of a learned score (what a user pays for the samples).
type Observable struct {
	stats.Estimate
	ESSPerSecond      float64
	ESSPerSecondTotal float64
}

// Observables are the measured observables of a run (docs/physics.md, section 6).
type Observables struct {
	Phi2   Observable // <phi^2>, site average
	AbsM   Observable // <|M|>, M the mean field
	M2     Observable // <M^2>
	Chi    Observable // N (<M^2> - <|M|>^2)
	Binder Observable // 1 - <M^4>/(3 <M^2>^2)
}

// Named returns the observables with their names in JSON and the results store, in the order
// of the report.
func (o Observables) Named() []NamedObservable {
	return []NamedObservable{{"phi2", "<phi^2>", o.Phi2}, {"abs_m", "<|M|>", o.AbsM}, {"mag_sq", "<M^2>", o.M2},
		{"chi", "chi", o.Chi}, {"binder", "Binder U", o.Binder}}
}

// NamedObservable is an observable with its key (JSON, store) and its label in text.
type NamedObservable struct {
	Key, Label string
	Observable
}

// SamplerRun is one sampler on one lattice.
type SamplerRun struct {
	Sampler string // SamplerHMC, SamplerCluster, SamplerBridge or SamplerHybrid
	L       int
	Dims    []int
	Sites   int
	Score   string // the bridge's score, in words ("" for HMC)
	Samples int    // per chain (fewer than asked when interrupted)
	Chains  int
	// SamplingSeconds is the wall time of the measurement; SetupSeconds that of everything
	// before it (warm-up, pre-training samples, training), of which TrainingSeconds trained
	// the learned score.
	SamplingSeconds, SetupSeconds, TrainingSeconds float64
	Acceptance                                     float64 // mean Metropolis probability of the moves measured
	StepSize                                       float64 // HMC's frozen leapfrog step (NaN for the bridge)
	HMCPerMove                                     int     // hybrid only
	HMCAcceptance                                  float64 // hybrid: of its HMC trajectories (NaN otherwise)
	Clusters                                       int     // hmc+cluster: cluster flips per trajectory
	ClusterFraction                                float64 // hmc+cluster: mean size of a flipped cluster / sites (NaN otherwise)
	// Depths is the bridge's acceptance per depth over all chains, in the order first tried.
	Depths []rgsampler.DepthAcceptance
	// IRModes is the number of modes the bridge regenerates (all of them without IRCutoff).
	IRModes     int
	Observables Observables
	// Corr[mu][r] is G_mu(r) along axis mu.
	Corr [][]Observable
	// Couplings is the learned RG flow of the couplings (learned and split scores).
	Couplings []learned.Coupling
	// SplitTime is the RG time from which the split score uses the learned part (NaN otherwise).
	SplitTime   float64
	Interrupted bool
}

// Result is what Run measured: one SamplerRun per size and method, in order.
type Result struct {
	Config  Config // with the defaults filled in
	Runs    []SamplerRun
	Seconds float64
}

// Progress reports where a study is. Stage is "warmup", "pretrain", "train", "adapt" or
// "measure"; Done of Total counts chain 0's samples (or training phases for "adapt", where
// Acceptance is the bridge's mean acceptance before the retraining).
type Progress struct {
	L           int
	Sampler     string
	Stage       string
	Done, Total int
	Acceptance  float64
}

func observable(e stats.Estimate, sampling, setup float64) Observable {
	return Observable{Estimate: e, ESSPerSecond: e.ESS / sampling, ESSPerSecondTotal: e.ESS / (sampling + setup)}
}

func (r *SamplerRun) summarize(rec *rgsampler.Record) {
	if rec == nil || rec.Samples() == 0 {
		return
	}
	s := rec.Summarize()
	r.Samples, r.Chains, r.SamplingSeconds = s.Samples, s.Chains, s.Seconds
	r.Acceptance = stats.Mean(rec.Accept)
	o := func(e stats.Estimate) Observable { return observable(e, s.Seconds, r.SetupSeconds) }
	r.Observables = Observables{Phi2: o(s.Phi2), AbsM: o(s.AbsM), M2: o(s.M2), Chi: o(s.Chi), Binder: o(s.Binder)}
	for _, ax := range s.Corr {
		var row []Observable
		for _, e := range ax {
			row = append(row, o(e))
		}
		r.Corr = append(r.Corr, row)
	}
}

// FlowCurves returns the learned couplings m2, lambda and z against RG time as curves (for the
// results store and its flow plot); nil without a learned score.
func (r SamplerRun) FlowCurves() []results.Curve {
	if len(r.Couplings) == 0 {
		return nil
	}
	m2 := results.Curve{Label: "m2"}
	lam := results.Curve{Label: "lambda"}
	z := results.Curve{Label: "z"}
	for _, c := range r.Couplings {
		for _, cu := range []*results.Curve{&m2, &lam, &z} {
			cu.X = append(cu.X, c.Time)
		}
		m2.Y = append(m2.Y, c.M2)
		lam.Y = append(lam.Y, c.Lambda)
		z.Y = append(z.Y, c.Z)
	}
	return []results.Curve{m2, lam, z}
}

// Ratio returns the ESS per second of an observable of run b over that of HMC at the same size
// in res (sampling alone and whole runs), NaN where there is no HMC run to compare with.
func (res *Result) Ratio(b SamplerRun, pick func(Observables) Observable) (sampling, total float64) {
	for _, h := range res.Runs {
		if h.Sampler == SamplerHMC && h.L == b.L && h.Samples > 0 {
			ho, bo := pick(h.Observables), pick(b.Observables)
			return bo.ESSPerSecond / ho.ESSPerSecond, bo.ESSPerSecondTotal / ho.ESSPerSecondTotal
		}
	}
	return math.NaN(), math.NaN()
}
