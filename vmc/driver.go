package vmc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"vqs/hamiltonian"
)

// The defaults of Config, in one place: a zero field means the value here. The command line
// registers its flags from these, so the CLI and the library cannot disagree.
const (
	DefaultIterations    = 200 // optimisation steps up to L = 16 (see IterationsFor)
	DefaultSamples       = 1024
	DefaultMeasureFactor = 8  // the final measurement draws this many times Samples
	DefaultThermalize    = 20 // sampler sweeps per chain before the first iteration

	// MinAcceptance is the sampler acceptance below which an iteration counts as failed:
	// the chains have stopped moving and their estimates mean nothing.
	MinAcceptance = 0.02
	// MaxBacktracks is how many failed steps in a row are retried, each with a quarter of
	// the step, before the run stops as Diverged. Each step that samples well doubles the
	// step factor again, up to 1.
	MaxBacktracks = 6
)

// IterationsFor is the default number of optimisation steps on a lattice of side L:
// DefaultIterations up to L = 16 and DefaultIterations x ceil(L/16) beyond. SR is imaginary-time
// evolution, and its slowest direction, the mean field near the critical point, relaxes at the
// rate of the gap, which falls like 1/L there. Measured at 32x32, m2 = -1.68, lambda = 12: after
// 200 steps E is 0.015 +- 0.003 above DMC's E0 and U4 of Psi_0 is 0.21; a fresh run of 400 steps
// is 0.0026 +- 0.0026 above it (and 600 reach U4 = 0.38); at 16x16, m2 = -1.68, 200 steps are
// within 0.0002 +- 0.0011 of DMC. L <= 0 (unknown) gives DefaultIterations.
func IterationsFor(L int) int {
	return DefaultIterations * max(1, (L+IterationsSide-1)/IterationsSide)
}

// IterationsSide is the lattice side up to which IterationsFor is DefaultIterations.
const IterationsSide = 16

// Config controls an optimisation and its final measurement. The zero value of every field
// means its default.
type Config struct {
	// Iterations is the number of optimisation steps (0: IterationsFor the lattice's side;
	// negative: none, only the measurement).
	Iterations int
	// Samples per iteration, all chains together (0: DefaultSamples).
	Samples int
	// MeasureSamples of the final measurement with frozen parameters (0: DefaultMeasureFactor
	// x Samples).
	MeasureSamples int
	// Optimizer turns the energy gradient into a step (nil: SR{}, stochastic reconfiguration
	// with its default shifts).
	Optimizer Optimizer
	// LR is the learning rate: the imaginary-time step of SR, the step size of Adam (0: the
	// optimizer's DefaultLR). Iterations in the second half decay it (see Schedule).
	LR float64
	// Thermalize is the number of sampler steps per chain before the first iteration of a
	// fresh run (0: DefaultThermalize).
	Thermalize int

	// Progress, if set, is called after every iteration.
	Progress func(IterStats)
	// MeasureProgress, if set, is called during the final measurement with the samples done
	// per chain and their total.
	MeasureProgress func(done, total int)
	// Stop, if set, is called after every iteration with the trace so far; returning a status
	// other than Running ends the optimisation with that status and reason (for example
	// EarlyStopping). Non-finite or exploding energies always stop it (Diverged).
	Stop func(trace []IterStats) (Status, string)
	// Checkpoint, if set, receives the state after an iteration when CheckpointEvery has
	// passed since the last one, and at the end. An error from it ends Run with that error.
	Checkpoint func(*Checkpoint) error
	// CheckpointEvery is the least time between checkpoints (0: after every iteration).
	CheckpointEvery time.Duration
}

// withDefaults returns c with every zero field replaced by its default, on a lattice of side L
// (0 where unknown: only the iteration count depends on it).
func (c Config) withDefaults(L int) Config {
	if c.Iterations == 0 {
		c.Iterations = IterationsFor(L)
	}
	if c.Iterations < 0 {
		c.Iterations = 0
	}
	if c.Samples == 0 {
		c.Samples = DefaultSamples
	}
	if c.MeasureSamples == 0 {
		c.MeasureSamples = DefaultMeasureFactor * c.Samples
	}
	if c.Optimizer == nil {
		c.Optimizer = SR{}
	}
	if c.LR == 0 {
		c.LR = c.Optimizer.DefaultLR()
	}
	if c.Thermalize == 0 {
		c.Thermalize = DefaultThermalize
	}
	return c
}

// Validate reports whether the configuration can run with chains Markov chains.
func (c Config) Validate(chains int) error {
	c = c.withDefaults(0)
	switch {
	case c.Samples < 0 || c.MeasureSamples < 0 || c.Thermalize < 0:
		return errors.New("vmc: Samples, MeasureSamples and Thermalize must not be negative")
	case chains < 1:
		return errors.New("vmc: need at least one chain")
	case c.Samples < chains:
		return fmt.Errorf("vmc: %d samples per iteration is fewer than the %d chains", c.Samples, chains)
	case c.MeasureSamples < 2*chains:
		return fmt.Errorf("vmc: %d measurement samples is fewer than 2 per chain (%d chains)", c.MeasureSamples, chains)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("vmc: the learning rate must be a finite number > 0, got %v", c.LR)
	}
	return nil
}

// IterStats is the state of the optimisation after one iteration.
type IterStats struct {
	Iter       int     `json:"iter"`
	Energy     float64 `json:"energy"`
	EnergyErr  float64 `json:"energy_err"`
	Variance   float64 `json:"variance"`
	Acceptance float64 `json:"acceptance"`
	LR         float64 `json:"lr"`
	Seconds    float64 `json:"seconds"`
}

// Status says how an optimisation ended.
type Status int

const (
	Running     Status = iota // not ended (what a Stop function returns to continue)
	Completed                 // every iteration ran
	Interrupted               // the context was cancelled
	TimedOut                  // the context's deadline passed
	Diverged                  // the energy was not finite or exploded, or the sampler stopped moving, after MaxBacktracks shorter retries; the last good parameters were restored
	Converged                 // a Stop function reported convergence
	Stopped                   // a Stop function ended the run for another reason
)

var statusNames = [...]string{"running", "completed", "interrupted", "timeout", "diverged", "converged", "stopped"}

func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return fmt.Sprintf("Status(%d)", int(s))
	}
	return statusNames[s]
}

// MarshalText writes the status name, so JSON shows "completed", "interrupted", ...
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a status name.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if n == string(b) {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("vmc: unknown status %q", b)
}

// Early reports whether the run ended before its last iteration for a reason other than
// convergence, so its result is partial.
func (s Status) Early() bool {
	return s == Interrupted || s == TimedOut || s == Diverged || s == Stopped
}

// Checkpoint is what a resumed run needs: the parameters, the optimiser's state, the chains and
// the trace so far.
type Checkpoint struct {
	Iter      int             `json:"iter"`
	Params    []float64       `json:"params"`
	Optimizer json.RawMessage `json:"optimizer,omitempty"` // the optimiser's own state (Stateful)
	Chains    [][]float64     `json:"chains"`
	Trace     []IterStats     `json:"trace"`
	// Damp is the step-size factor left by failed steps (see MaxBacktracks); 0 in files
	// written before it existed, read as 1.
	Damp float64 `json:"damp,omitempty"`
}

// Validate checks a checkpoint against the wavefunction, the number of chains and sites and
// the configured iterations, so that a damaged or foreign file is refused before anything runs.
func (cp *Checkpoint) Validate(wf Wavefunction, chains int, cfg Config) error {
	cfg = cfg.withDefaults(wf.Lattice().L)
	n := wf.Lattice().N
	switch {
	case cp.Iter < 0 || cp.Iter > cfg.Iterations:
		return fmt.Errorf("checkpoint iteration %d is outside 0..%d", cp.Iter, cfg.Iterations)
	case len(cp.Params) != wf.NumParams():
		return fmt.Errorf("checkpoint has %d parameters, the wavefunction %d", len(cp.Params), wf.NumParams())
	case len(cp.Chains) != chains:
		return fmt.Errorf("checkpoint has %d chains, the sampler %d", len(cp.Chains), chains)
	case len(cp.Trace) != cp.Iter:
		return fmt.Errorf("checkpoint at iteration %d has %d trace entries", cp.Iter, len(cp.Trace))
	}
	if !finiteAll(cp.Params...) {
		return errors.New("checkpoint parameters are not all finite")
	}
	for c, phi := range cp.Chains {
		if len(phi) != n {
			return fmt.Errorf("checkpoint chain %d has %d sites, the lattice %d", c, len(phi), n)
		}
		if !finiteAll(phi...) {
			return fmt.Errorf("checkpoint chain %d holds a non-finite field", c)
		}
	}
	for i, s := range cp.Trace {
		if s.Iter != i+1 {
			return fmt.Errorf("checkpoint trace entry %d is iteration %d", i, s.Iter)
		}
	}
	return nil
}

// Result is the outcome of Run.
type Result struct {
	Iterations int         // iterations completed
	Trace      []IterStats // one entry per iteration
	Final      Estimates   // measurement with frozen parameters
	Params     []float64   // the parameters measured
	Status     Status
	Reason     string // what ended the run, in words
}

// Run optimises wf by VMC against the Hamiltonian m with the given sampler, then measures with
// frozen parameters. If ctx is cancelled it stops, checkpoints and still measures briefly (one
// iteration's worth of samples), so an interrupted run returns a result. A checkpoint cp, if
// not nil, is resumed: its parameters, chains, optimiser state and trace are restored.
func Run(ctx context.Context, m *hamiltonian.Model, wf Wavefunction, s Sampler, cfg Config, cp *Checkpoint) (*Result, error) {
	if err := sameLattice(m, wf); err != nil {
		return nil, err
	}
	if err := cfg.Validate(s.Chains()); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults(m.L)
	p := wf.NumParams()
	opt := cfg.Optimizer
	res := &Result{Status: Completed}
	start := 0
	damp, backtracks := 1.0, 0 // step-size factor after failed steps, and consecutive failures
	if cp != nil {
		if err := cp.Validate(wf, s.Chains(), cfg); err != nil {
			return nil, fmt.Errorf("vmc: %w", err)
		}
		if err := wf.SetParams(cp.Params); err != nil {
			return nil, err
		}
		s.Refresh()
		if err := s.SetState(cp.Chains); err != nil {
			return nil, err
		}
		if st, ok := opt.(Stateful); ok && len(cp.Optimizer) > 0 {
			if err := st.UnmarshalState(cp.Optimizer); err != nil {
				return nil, fmt.Errorf("vmc: checkpoint optimizer state: %w", err)
			}
		}
		start = cp.Iter
		res.Trace = append(res.Trace, cp.Trace...)
		if cp.Damp > 0 && cp.Damp <= 1 {
			damp = cp.Damp
		}
	} else if _, err := s.Sample(ctx, cfg.Thermalize, nil); err != nil && ctx.Err() == nil {
		return nil, err
	}
	perChain := (cfg.Samples + s.Chains() - 1) / s.Chains()
	acc := newAccumulator(s.Chains(), perChain, p, m)
	theta := wf.Params(nil)
	good := append([]float64(nil), theta...)
	goodChains := s.State()
	// restoreGood puts back the last parameters and chain states that sampled well.
	restoreGood := func() error {
		if err := wf.SetParams(good); err != nil {
			return err
		}
		s.Refresh()
		return s.SetState(goodChains)
	}
	bestE, bestErr := math.Inf(1), 0.0
	t0 := time.Now()
	var lastCkpt time.Time
	save := func(iter int) error {
		if cfg.Checkpoint == nil {
			return nil
		}
		c := &Checkpoint{Iter: iter, Params: wf.Params(nil), Chains: s.State(), Trace: res.Trace, Damp: damp}
		if st, ok := opt.(Stateful); ok {
			b, err := st.MarshalState()
			if err != nil {
				return err
			}
			c.Optimizer = b
		}
		lastCkpt = time.Now()
		return cfg.Checkpoint(c)
	}
	stopped := func() bool {
		if ctx.Err() == nil {
			return false
		}
		res.Status, res.Reason = Interrupted, "interrupted"
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			res.Status, res.Reason = TimedOut, "timeout"
		}
		return true
	}
	it := start
	for ; it < cfg.Iterations; it++ {
		if stopped() {
			break
		}
		acc.reset()
		accept, err := s.Sample(ctx, perChain, acc.visit(wf))
		if err != nil {
			if stopped() {
				break
			}
			return nil, err
		}
		e, eErr, variance := acc.energy()
		// A step can take the state where the sampler no longer moves (every proposal
		// rejected: the chains sit still and their E_loc means nothing), or make the energy
		// explode. Either way the step was too long: go back to the last parameters and chain
		// states that sampled well and retry with a quarter of the step, a few times.
		var failure string
		switch {
		case !finiteAll(e, variance):
			failure = fmt.Sprintf("energy %.6g", e)
		case bestE < math.Inf(1) && e-bestE > math.Max(0.5*math.Abs(bestE), 50*(bestErr+eErr)):
			failure = fmt.Sprintf("energy %.6g (best %.6g)", e, bestE)
		case accept < MinAcceptance:
			failure = fmt.Sprintf("sampler acceptance %.3g", accept)
		}
		if failure != "" {
			if err := restoreGood(); err != nil {
				return nil, err
			}
			if backtracks < MaxBacktracks && it > start {
				backtracks++
				damp /= 4
				continue
			}
			res.Status = Diverged
			res.Reason = fmt.Sprintf("diverged: %s at iteration %d after %d shorter retries; restored the last good parameters", failure, it+1, backtracks)
			break
		}
		backtracks = 0
		if e < bestE {
			bestE, bestErr = e, eErr
		}
		copy(good, wf.Params(theta))
		goodChains = s.State()
		lr := damp * Schedule(cfg.LR, it, cfg.Iterations)
		damp = math.Min(1, 2*damp) // each step that sampled well earns back half of what a failure took
		o, centred := acc.centred(e)
		d, err := opt.Step(o, centred, lr)
		if err != nil {
			return nil, err
		}
		if err := applyStep(wf, good, d); err != nil {
			return nil, err
		}
		s.Refresh()
		st := IterStats{Iter: it + 1, Energy: e, EnergyErr: eErr, Variance: variance, Acceptance: accept,
			LR: lr, Seconds: time.Since(t0).Seconds()}
		res.Trace = append(res.Trace, st)
		if cfg.Progress != nil {
			cfg.Progress(st)
		}
		if time.Since(lastCkpt) >= cfg.CheckpointEvery {
			if err := save(it + 1); err != nil {
				return nil, err
			}
		}
		if cfg.Stop != nil {
			if status, why := cfg.Stop(res.Trace); status != Running {
				res.Status, res.Reason = status, why
				it++
				break
			}
		}
	}
	res.Iterations = it
	if err := save(it); err != nil {
		return nil, err
	}
	// The measurement runs even after an interrupt, but then briefly and on a context that
	// is no longer cancelled, so that the result so far is still measured.
	ms := cfg.MeasureSamples
	mctx := ctx
	if ctx.Err() != nil {
		ms = max(cfg.Samples, 2*s.Chains())
		mctx = context.WithoutCancel(ctx)
	}
	final, err := Measure(mctx, m, wf, s, ms, cfg.MeasureProgress)
	if err != nil {
		return nil, err
	}
	if bad := !finiteAll(final.Energy.Value) || final.Acceptance < MinAcceptance; bad && !slices.Equal(good, wf.Params(theta)) {
		// The last step was never sampled before the measurement; if it broke the state,
		// measure the last parameters that sampled well instead.
		if err := restoreGood(); err != nil {
			return nil, err
		}
		if final, err = Measure(mctx, m, wf, s, ms, cfg.MeasureProgress); err != nil {
			return nil, err
		}
		if finiteAll(final.Energy.Value) && final.Acceptance >= MinAcceptance && (res.Status == Completed || res.Status == Converged) {
			res.Status, res.Reason = Diverged, "diverged: the last step broke the state; measured the parameters before it"
		}
	}
	if !finiteAll(final.Energy.Value) && (res.Status == Completed || res.Status == Converged) {
		res.Status, res.Reason = Diverged, fmt.Sprintf("the measured energy is not finite (%v)", final.Energy.Value)
	}
	if final.Interrupted && res.Status == Completed {
		res.Status, res.Reason = Interrupted, fmt.Sprintf("interrupted during the measurement (%d of %d samples)", final.Samples, ms)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			res.Status = TimedOut
		}
	}
	if final.Acceptance < MinAcceptance && (res.Status == Completed || res.Status == Converged) {
		res.Status = Diverged
		res.Reason = fmt.Sprintf("the sampler did not move in the measurement (acceptance %.3g): the estimates mean nothing", final.Acceptance)
	}
	res.Final = final
	res.Params = wf.Params(nil)
	return res, nil
}

// EarlyStopping returns a Stop function in the manner of NetKet's EarlyStopping: it reports
// Converged when the energy has not improved on its best value by more than minDelta for
// patience iterations.
func EarlyStopping(patience int, minDelta float64) func([]IterStats) (Status, string) {
	return func(tr []IterStats) (Status, string) {
		best, at := math.Inf(1), 0
		for i, s := range tr {
			if s.Energy < best-minDelta {
				best, at = s.Energy, i
			}
		}
		if len(tr)-1-at >= patience {
			return Converged, fmt.Sprintf("converged: no improvement by more than %g in %d iterations (best %.8g at iteration %d)",
				minDelta, patience, best, tr[at].Iter)
		}
		return Running, ""
	}
}

// sameLattice reports an error unless wf lives on the lattice of the Hamiltonian m.
func sameLattice(m *hamiltonian.Model, wf Wavefunction) error {
	if lat := wf.Lattice(); lat.L != m.L || lat.Dim != m.Dim {
		return fmt.Errorf("vmc: the wavefunction is on a %d^%d lattice, the Hamiltonian on %d^%d", lat.L, lat.Dim, m.L, m.Dim)
	}
	return nil
}

// applyStep sets theta + d, halving d while the wavefunction rejects the parameters.
func applyStep(wf Wavefunction, theta, d []float64) error {
	next := make([]float64, len(theta))
	var err error
	for try := 0; try < 20; try++ {
		for i := range next {
			next[i] = theta[i] + d[i]
		}
		if err = wf.SetParams(next); err == nil {
			return nil
		}
		for i := range d {
			d[i] /= 2
		}
	}
	if e2 := wf.SetParams(theta); e2 != nil {
		return e2
	}
	return fmt.Errorf("vmc: no acceptable step: %w", err)
}

func finiteAll(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
