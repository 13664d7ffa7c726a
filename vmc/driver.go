package vmc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"vqs/hamiltonian"
)

// Config controls an optimisation and its final measurement.
type Config struct {
	Iterations     int     // optimisation steps
	Samples        int     // samples per iteration, all chains together
	MeasureSamples int     // samples of the final measurement (0: 4 x Samples)
	Optimizer      string  // "sr" (default) or "adam"
	LR             float64 // learning rate: imaginary-time step for SR, step size for Adam
	Shift          float64 // SR relative diagonal shift
	SREps          float64 // SR absolute diagonal shift
	Thermalize     int     // trajectories per chain before the first iteration (0: 20)
	Checkpoint     string  // path of the checkpoint file ("" for none)
	CheckpointSecs float64 // seconds between checkpoints (0: 30)
	// Progress, if set, is called after every iteration.
	Progress func(IterStats)
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

// Checkpoint is what a resumed run needs: the parameters, the optimiser's state and the chains.
type Checkpoint struct {
	Iter   int         `json:"iter"`
	Params []float64   `json:"params"`
	AdamM  []float64   `json:"adam_m,omitempty"`
	AdamV  []float64   `json:"adam_v,omitempty"`
	AdamT  int         `json:"adam_t,omitempty"`
	Chains [][]float64 `json:"chains"`
	Trace  []IterStats `json:"trace"`
}

// Result is the outcome of Run.
type Result struct {
	Iterations int         // iterations completed
	Trace      []IterStats // one entry per iteration
	Final      Estimates   // measurement with frozen parameters
	Params     []float64   // the parameters measured
	// Stopped says why the optimisation ended early: "" (it did not), "interrupted",
	// or "diverged: ..." (the last good parameters were restored).
	Stopped string
}

// Run optimises wf by VMC with the given sampler and then measures with frozen parameters.
// If ctx is cancelled, it stops, writes a checkpoint and still measures briefly with what it
// has, so an interrupted run returns a result. A checkpoint cp, if not nil, is resumed.
func Run(ctx context.Context, m *hamiltonian.Model, wf Wavefunction, s Sampler, cfg Config, cp *Checkpoint) (*Result, error) {
	if err := sameLattice(m, wf); err != nil {
		return nil, err
	}
	if cfg.Samples < s.Chains() {
		return nil, fmt.Errorf("vmc: %d samples per iteration is fewer than the %d chains", cfg.Samples, s.Chains())
	}
	p := wf.NumParams()
	var opt Optimizer
	var adam *Adam
	switch cfg.Optimizer {
	case "", "sr":
		opt = SR{Shift: cfg.Shift, Eps: cfg.SREps}
	case "adam":
		adam = NewAdam(p)
		opt = adam
	default:
		return nil, fmt.Errorf("vmc: unknown optimizer %q (want sr or adam)", cfg.Optimizer)
	}
	res := &Result{}
	start := 0
	if cp != nil {
		if len(cp.Params) != p {
			return nil, fmt.Errorf("vmc: checkpoint has %d parameters, the ansatz %d", len(cp.Params), p)
		}
		if err := wf.SetParams(cp.Params); err != nil {
			return nil, err
		}
		s.Refresh()
		if err := s.SetState(cp.Chains); err != nil {
			return nil, err
		}
		if adam != nil && len(cp.AdamM) == p {
			copy(adam.M, cp.AdamM)
			copy(adam.V, cp.AdamV)
			adam.T = cp.AdamT
		}
		start = cp.Iter
		res.Trace = append(res.Trace, cp.Trace...)
	} else {
		th := cfg.Thermalize
		if th == 0 {
			th = 20
		}
		if _, err := s.Sample(ctx, th, nil); err != nil && ctx.Err() == nil {
			return nil, err
		}
	}
	perChain := (cfg.Samples + s.Chains() - 1) / s.Chains()
	acc := newAccumulator(s.Chains(), perChain, p, m)
	theta := wf.Params(nil)
	good := append([]float64(nil), theta...)
	bestE, bestErr := math.Inf(1), 0.0
	t0 := time.Now()
	lastCkpt := time.Now()
	ckptEvery := time.Duration(cfg.CheckpointSecs * float64(time.Second))
	if ckptEvery <= 0 {
		ckptEvery = 30 * time.Second
	}
	save := func(iter int) error {
		if cfg.Checkpoint == "" {
			return nil
		}
		c := Checkpoint{Iter: iter, Params: wf.Params(nil), Chains: s.State(), Trace: res.Trace}
		if adam != nil {
			c.AdamM, c.AdamV, c.AdamT = adam.M, adam.V, adam.T
		}
		return writeJSONAtomic(cfg.Checkpoint, c)
	}
	it := start
	for ; it < cfg.Iterations; it++ {
		if ctx.Err() != nil {
			res.Stopped = "interrupted"
			break
		}
		acc.reset()
		accept, err := s.Sample(ctx, perChain, acc.visit(wf))
		if err != nil {
			if ctx.Err() != nil {
				res.Stopped = "interrupted"
				break
			}
			return nil, err
		}
		e, eErr, variance := acc.energy()
		if !finiteAll(e, variance) || (bestE < math.Inf(1) && e-bestE > math.Max(0.5*math.Abs(bestE), 50*(bestErr+eErr))) {
			res.Stopped = fmt.Sprintf("diverged: energy %.6g at iteration %d (best %.6g); restored the last good parameters", e, it, bestE)
			if err := wf.SetParams(good); err != nil {
				return nil, err
			}
			s.Refresh()
			break
		}
		if e < bestE {
			bestE, bestErr = e, eErr
		}
		copy(good, wf.Params(theta))
		lr := Schedule(cfg.LR, it, cfg.Iterations)
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
		if time.Since(lastCkpt) > ckptEvery {
			if err := save(it + 1); err != nil {
				return nil, err
			}
			lastCkpt = time.Now()
		}
	}
	res.Iterations = it
	if err := save(it); err != nil {
		return nil, err
	}
	// The measurement phase runs even after an interrupt, on a fresh context, but short.
	ms := cfg.MeasureSamples
	if ms == 0 {
		ms = 4 * cfg.Samples
	}
	mctx := ctx
	if ctx.Err() != nil {
		ms = cfg.Samples
		mctx = context.Background()
	}
	final, err := Measure(mctx, m, wf, s, ms)
	if err != nil {
		return nil, err
	}
	res.Final = final
	res.Params = wf.Params(nil)
	return res, nil
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

// writeJSONAtomic writes v to path through a temporary file and a rename, so a kill never
// leaves a half-written file.
func writeJSONAtomic(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}

// LoadCheckpoint reads a checkpoint written by Run.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("checkpoint %s is corrupt: %w", path, err)
	}
	if len(c.Params) == 0 {
		return nil, errors.New("checkpoint " + path + " has no parameters")
	}
	return &c, nil
}
