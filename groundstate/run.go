package groundstate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"vqs/ansatz/mera"
	"vqs/buildinfo"
	"vqs/hamiltonian"
	"vqs/internal/atomicfile"
	"vqs/rgsampler"
	"vqs/stats"
	"vqs/vmc"
)

// Progress reports a running computation: after every optimisation iteration (Stage
// "optimize", Iter set) and during the final measurement (Stage "measure", Done of Total
// samples per chain).
type Progress struct {
	Stage       string
	Iter        vmc.IterStats
	Iterations  int // total optimisation iterations
	ResumedFrom int // the iteration a resumed run started from
	Done, Total int
}

// Result is a finished (or interrupted) ground-state computation.
type Result struct {
	Config   Config // with every default filled in
	Estimate vmc.Estimates
	// Gaussian is the Gaussian-variational (Hartree) optimum: an upper bound on E0, exact at
	// lambda = 0, and the ansatz's starting point.
	Gaussian *hamiltonian.Hartree
	// Exact is the exact E0 where it is cheap (nil otherwise).
	Exact *Reference
	// Correlation is the fraction of the correlation energy (Gaussian bound - exact E0)
	// captured, (E_G - E) / (E_G - E0), with its error; nil without an exact value.
	Correlation *stats.Estimate

	Status      vmc.Status
	Reason      string
	Iterations  int // iterations done in total
	ResumedFrom int // 0 for a fresh run
	Trace       []vmc.IterStats
	Params      []float64
	ParamNames  []string
	// Depths is the bridge sampler's acceptance per depth in the measurement (bridge only).
	Depths []rgsampler.DepthAcceptance
	// TrainingSeconds is the time the bridge spent training its learned score (0 for HMC).
	TrainingSeconds float64

	Started  time.Time
	Seconds  float64
	Version  string
	Host     string
	CPUs     int
	Unsaved  []string  // run-directory files that could not be written (the result is still whole)
	Times    []float64 // the RG times of the ansatz's ladder, t = 0 first
	Sampling string    // the sampler, in words
}

// LocalRungs is the number of rungs of the RG ladder that carry local terms.
func (r *Result) LocalRungs() int {
	s := r.Config.Ansatz.Scales
	if s < 0 || s > len(r.Times) {
		return len(r.Times)
	}
	return s
}

// Reference is an exact energy and how it was obtained.
type Reference struct {
	Energy float64 `json:"energy"`
	Method string  `json:"method"`
}

// Run computes the ground state that cfg describes. A cancelled ctx (Ctrl-C, SIGTERM, a
// deadline) ends the optimisation cleanly: the checkpoint is written, a short measurement is
// made and the result comes back with Status Interrupted or TimedOut. progress, if not nil,
// is called from the running goroutine.
func Run(ctx context.Context, cfg Config, progress func(Progress)) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	m, _ := cfg.Model()
	hart, err := hamiltonian.SolveHartree(m)
	if err != nil {
		return nil, err
	}
	ans, err := mera.New(m, *cfg.Ansatz)
	if err != nil {
		return nil, err
	}
	wf := vmc.MERA{Ansatz: ans}
	var rd *runDir
	var cp *vmc.Checkpoint
	if cfg.Dir != "" {
		if rd, cp, err = openRunDir(cfg); err != nil {
			return nil, err
		}
		defer rd.close()
	}
	seed := cfg.Seed
	res := &Result{Config: cfg, Gaussian: hart, Started: time.Now(), Version: buildinfo.Version(), CPUs: runtime.NumCPU(),
		ParamNames: ans.ParamNames(), Times: ans.Times()}
	res.Host, _ = os.Hostname()
	if cp != nil {
		if err := cp.Validate(wf, cfg.Chains, cfg.vmcConfig()); err != nil {
			return nil, fmt.Errorf("cannot resume from %s: %w", filepath.Join(cfg.Dir, CheckpointFile), err)
		}
		res.ResumedFrom = cp.Iter
		seed += uint64(cp.Iter) * 7919 // fresh streams after a resume, still fixed by the seed
	}
	sampler, err := newSampler(cfg, wf, m, seed)
	if err != nil {
		return nil, err
	}
	vc := cfg.vmcConfig()
	var saveErr error
	vc.Progress = func(s vmc.IterStats) {
		if rd != nil && saveErr == nil {
			saveErr = rd.iteration(s)
		}
		if progress != nil {
			progress(Progress{Stage: "optimize", Iter: s, Iterations: cfg.Iterations, ResumedFrom: res.ResumedFrom})
		}
	}
	if progress != nil {
		vc.MeasureProgress = func(done, total int) { progress(Progress{Stage: "measure", Done: done, Total: total}) }
	}
	if rd != nil {
		vc.Checkpoint = func(c *vmc.Checkpoint) error {
			if saveErr != nil {
				return saveErr
			}
			return rd.checkpoint(c)
		}
	}
	out, err := vmc.Run(ctx, m, wf, sampler, vc, cp)
	if err != nil {
		return nil, err
	}
	fin := out.Final
	if !finite(fin.Energy.Value) || !finite(fin.Energy.Error) {
		return nil, errors.New("the final energy is not finite; no result written (try a smaller learning rate)")
	}
	res.Estimate, res.Status, res.Reason = fin, out.Status, out.Reason
	res.Iterations, res.Trace, res.Params = out.Iterations, out.Trace, out.Params
	if b, ok := sampler.(*vmc.Bridge); ok {
		res.Depths = b.DepthAcceptance()
		res.Sampling = b.Describe()
		res.TrainingSeconds = b.TrainingSeconds()
	} else {
		res.Sampling = "Fourier-accelerated HMC, " + cfg.HMCMass + " mass"
	}
	if !cfg.NoReference {
		if ref, ok := exactReference(context.WithoutCancel(ctx), m); ok {
			res.Exact = ref
			if corr := hart.Energy - ref.Energy; corr > 1e-12*math.Abs(ref.Energy) {
				res.Correlation = &stats.Estimate{Value: (hart.Energy - fin.Energy.Value) / corr, Error: fin.Energy.Error / corr}
			}
		}
	}
	res.Seconds = time.Since(res.Started).Seconds()
	if rd != nil {
		if err := atomicfile.ReplaceJSON(filepath.Join(cfg.Dir, RunFile), res.runFile()); err != nil {
			res.Unsaved = append(res.Unsaved, RunFile+": "+err.Error())
		}
		if saveErr != nil {
			res.Unsaved = append(res.Unsaved, TraceFile+": "+saveErr.Error())
		}
	}
	return res, nil
}

// Resume continues the run in dir with its own Config (problem.json); change, if not nil,
// may alter the settings a resume may change (the budget: Iterations, MeasureSamples, the
// optimiser's settings) before it runs.
func Resume(ctx context.Context, dir string, change func(*Config), progress func(Progress)) (*Result, error) {
	cfg, err := LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	before := cfg.key()
	if change != nil {
		change(&cfg)
	}
	if cfg.key() != before {
		return nil, fmt.Errorf("a resume cannot change the problem, the ansatz or the chains of the run in %s", dir)
	}
	cfg.Dir, cfg.Resume, cfg.Force = dir, true, false
	return Run(ctx, cfg, progress)
}

// vmcConfig is the vmc part of the settings.
func (c Config) vmcConfig() vmc.Config {
	return vmc.Config{Iterations: c.Iterations, Samples: c.Samples, MeasureSamples: c.MeasureSamples,
		Optimizer: c.optimizer(), LR: c.LR}
}

func newSampler(cfg Config, wf vmc.MERA, m *hamiltonian.Model, seed uint64) (vmc.Sampler, error) {
	if cfg.Sampler == "bridge" {
		return vmc.NewBridgeWith(wf, m.L, m.Dim, cfg.Chains, vmc.BridgeConfig{Levels: cfg.Levels, Score: cfg.BridgeScore}, seed)
	}
	return vmc.NewHMCWith(wf, m.L, m.Dim, cfg.Chains, vmc.HMCConfig{Steps: cfg.Steps, FixedMass: cfg.HMCMass == HMCMassKernel}, seed)
}

// runFile is the content of run.json: the summary, the configuration, the provenance and
// the parameters.
func (r *Result) runFile() map[string]any {
	return map[string]any{"kind": "ground-state", "version": r.Version, "seed": r.Config.Seed,
		"started": r.Started.UTC().Format(time.RFC3339), "finished": time.Now().UTC().Format(time.RFC3339),
		"host": r.Host, "cpus": r.CPUs, "config": r.Config, "result": r.Summary(),
		"param_names": r.ParamNames, "params": r.Params, "trace": TraceFile}
}
