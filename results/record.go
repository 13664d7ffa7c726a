// Package results stores run records of vqs on disk and turns them into tables and plots.
//
// A store is a directory (default ./runs) holding one JSON file per run, <id>.json, plus
// per-iteration traces under traces/. Records are written atomically and are never
// rewritten, so concurrent processes may add runs to one store and a reader never sees a
// partial record. Readers ignore JSON fields they do not know, so commands may add fields
// (to Record, Params.Extra, Estimates or Curves) without breaking older readers.
//
// The package imports no physics: it knows parameters and numbers, not what they mean,
// beyond the conventions for names documented on Record.
package results

import (
	"encoding/json"
	"math"
	"time"

	"vqs/stats"
)

// SchemaVersion is the version of the record format written by this package. Readers accept
// records of any version; fields they do not know are ignored.
const SchemaVersion = 1

// Kinds of run used by the vqs commands.
const (
	KindGroundState = "ground-state" // variational Monte Carlo ground state
	KindExact       = "exact"        // exact diagonalization or closed form
	KindGaussian    = "gaussian"     // Gaussian variational (Hartree) bound
	KindPIMC        = "pimc"         // Euclidean path-integral sampling
	KindScan        = "scan"         // one size of a finite-size scan
	KindDMC         = "dmc"          // diffusion Monte Carlo (exact E0 up to time-step and population bias)
	KindSample      = "sample"       // Euclidean lattice sampling (vqs sample)
)

// Run status values.
const (
	StatusDone        = "done"        // ran to completion
	StatusInterrupted = "interrupted" // cancelled (SIGINT/SIGTERM); estimates are what it had
	StatusFailed      = "failed"      // stopped by an error; Notes says which
)

// Conventional estimate names. Tables show these first, in this order, then any others.
const (
	EstEnergy        = "energy"          // ground-state energy E0 (lattice units)
	EstEnergyPerSite = "energy_per_site" // E0/N
	EstVariance      = "variance"        // Var(E_loc), 0 at an eigenstate
	EstGap           = "gap"             // first excitation energy E1 - E0
	EstVirial        = "virial_ratio"    // 2<T>/<phi.gradV>, 1 at an eigenstate
	EstAcceptance    = "acceptance"      // Metropolis acceptance rate
	EstTauInt        = "tau_int"         // integrated autocorrelation time of E_loc
)

// Conventional curve names (Record.Curves).
const (
	CurveCorrelator      = "correlator"       // X = distance r, Y = G(r) = <phi_0 phi_r>
	CurveCorrelatorExact = "correlator_exact" // reference G(r), e.g. free theory
	CurveFlowPrefix      = "flow_"            // flow_m2, flow_lambda, ...: X = RG time t
)

// Record is one run: what was computed, with which parameters, and the results.
type Record struct {
	Schema  int    `json:"schema"`
	ID      string `json:"id"`   // set by Store.Put when empty; also the file name <id>.json
	Kind    string `json:"kind"` // one of the Kind constants, or a new kind
	Status  string `json:"status,omitempty"`
	Version string `json:"version,omitempty"` // program version
	Seed    uint64 `json:"seed"`              // random seed (0 for deterministic kinds)
	Host    string `json:"host,omitempty"`

	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Seconds  float64   `json:"seconds"` // wall time of the run

	Params    Params              `json:"params"`
	Estimates map[string]Estimate `json:"estimates,omitempty"`
	// Meta holds facts of the run that are not estimates (acceptance, samples, iterations, ...),
	// so that no reader mistakes them for exact values.
	Meta map[string]any `json:"meta,omitempty"`
	// Curves holds data series such as the correlator or an RG flow (see the Curve constants).
	Curves map[string]Curve `json:"curves,omitempty"`
	// Trace is the path of the per-iteration CSV trace relative to the store directory
	// (see Store.CreateTrace), or empty.
	Trace string `json:"trace,omitempty"`
	Notes string `json:"notes,omitempty"`
}

// Params are the physical parameters of a run (conventions of docs/physics.md)
// and anything else that identifies it (sampler settings, ansatz size, ...) in Extra.
type Params struct {
	L      int     `json:"L"`
	Dim    int     `json:"dim"`
	M2     float64 `json:"m2"`
	Lambda float64 `json:"lambda"`
	// Extra holds further parameters. Values read back from JSON are float64, string, bool,
	// nil, []any or map[string]any.
	Extra map[string]any `json:"extra,omitempty"`
}

// Sites returns N = L^Dim, or 0 when L or Dim is not positive.
func (p Params) Sites() int {
	if p.L <= 0 || p.Dim <= 0 {
		return 0
	}
	n := 1
	for range p.Dim {
		n *= p.L
	}
	return n
}

// Estimate is a value with its standard error and its Monte Carlo diagnostics: the one
// estimate type of vqs (package stats). Error is 0 for exact values and NaN when unknown;
// non-finite numbers are written to JSON as null and read back as NaN.
type Estimate = stats.Estimate

// Exact returns an estimate without error.
func Exact(v float64) Estimate { return stats.Exact(v) }

// Curve is a data series Y(X) with optional errors (Err empty or as long as Y).
// Non-finite numbers are written to JSON as null and read back as NaN.
type Curve struct {
	Label string `json:"label,omitempty"`
	X     Floats `json:"x"`
	Y     Floats `json:"y"`
	Err   Floats `json:"err,omitempty"`
}

// Floats is a float64 slice whose JSON form writes NaN and infinities as null.
type Floats []float64

// MarshalJSON writes the numbers, with null for NaN or infinite ones.
func (f Floats) MarshalJSON() ([]byte, error) {
	p := make([]*float64, len(f))
	for i, v := range f {
		p[i] = finitePtr(v)
	}
	return json.Marshal(p)
}

// UnmarshalJSON reads numbers, with NaN for null.
func (f *Floats) UnmarshalJSON(b []byte) error {
	var p []*float64
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if p == nil {
		*f = nil
		return nil
	}
	out := make(Floats, len(p))
	for i, v := range p {
		out[i] = fromPtr(v)
	}
	*f = out
	return nil
}

func finitePtr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func fromPtr(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
