package dmc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"

	"vqs/ansatz/mera"
	"vqs/groundstate"
	"vqs/hamiltonian"
	"vqs/hamiltonian/ed"
	"vqs/internal/atomicfile"
	"vqs/vmc"
)

// Files of a run directory (Config.Dir).
const (
	CheckpointFile = "checkpoint.gob"
	ResultFile     = "result.json"
	GuideDir       = "guide" // the ground-state run of a guide trained here
)

// Guide is a variational state that guides the walkers, with the problem it was trained for.
type Guide struct {
	Problem      groundstate.Config // the ground-state run's configuration, defaults filled in
	Model        *hamiltonian.Model
	Wavefunction vmc.Wavefunction
	Info         GuideInfo
}

// GuideInfo says where a guide came from, for the report.
type GuideInfo struct {
	Source string `json:"source"` // "loaded" or "trained"
	Dir    string `json:"dir,omitempty"`
	Params int    `json:"params"`
	Scales int    `json:"scales"`
	Width  int    `json:"width"`
	Init   string `json:"init"`
	// Energy +- EnergyErr is the VMC energy its ground-state run measured (NaN when unknown).
	Energy       float64 `json:"-"`
	EnergyErr    float64 `json:"-"`
	TrainSeconds float64 `json:"training_seconds"`
	// Status is how the guide's ground-state run ended ("completed", "diverged", ...; empty
	// when only its checkpoint was read), and Stopped why it ended early.
	Status  string `json:"status,omitempty"`
	Stopped string `json:"stopped,omitempty"`
}

// LoadGuide reads the state of the ground-state run in dir (groundstate.Run with Dir set): its
// problem.json and the parameters of its run.json, or of its last checkpoint when the run did
// not finish.
func LoadGuide(dir string) (*Guide, error) {
	cfg, err := groundstate.LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	var run struct {
		Params []float64           `json:"params"`
		Result groundstate.Summary `json:"result"`
	}
	energy, energyErr := math.NaN(), math.NaN()
	if b, err := os.ReadFile(filepath.Join(dir, groundstate.RunFile)); err == nil {
		if err := json.Unmarshal(b, &run); err != nil {
			return nil, fmt.Errorf("%s is corrupt: %w", filepath.Join(dir, groundstate.RunFile), err)
		}
		energy, energyErr = run.Result.Energy, run.Result.EnergyErr
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	params := run.Params
	if len(params) == 0 {
		cp, err := groundstate.LoadCheckpoint(dir)
		if err != nil {
			return nil, err
		}
		params = cp.Params
	}
	g, err := newGuide(cfg, params)
	if err != nil {
		return nil, fmt.Errorf("the guide in %s: %w", dir, err)
	}
	g.Info.Source, g.Info.Dir, g.Info.Energy, g.Info.EnergyErr = "loaded", dir, energy, energyErr
	g.Info.Status, g.Info.Stopped = run.Result.Status, run.Result.Stopped
	return g, nil
}

// newGuide builds the ansatz of cfg with the parameters params.
func newGuide(cfg groundstate.Config, params []float64) (*Guide, error) {
	cfg = cfg.WithDefaults()
	m, err := cfg.Model()
	if err != nil {
		return nil, err
	}
	ans, err := mera.New(m, *cfg.Ansatz)
	if err != nil {
		return nil, err
	}
	if len(params) != ans.NumParams() {
		return nil, fmt.Errorf("%d parameters for an ansatz of %d", len(params), ans.NumParams())
	}
	if err := ans.SetParams(params); err != nil {
		return nil, err
	}
	a := cfg.Ansatz
	return &Guide{Problem: cfg, Model: m, Wavefunction: vmc.MERA{Ansatz: ans},
		Info: GuideInfo{Params: len(params), Scales: a.Scales, Width: a.Width, Init: a.Init}}, nil
}

// GuideFrom is the guide of a finished ground-state computation.
func GuideFrom(res *groundstate.Result) (*Guide, error) {
	g, err := newGuide(res.Config, res.Params)
	if err != nil {
		return nil, err
	}
	g.Info.Source, g.Info.Dir = "trained", res.Config.Dir
	g.Info.Energy, g.Info.EnergyErr = res.Estimate.Energy.Value, res.Estimate.Energy.Error
	g.Info.TrainSeconds = res.Seconds
	return g, nil
}

// trainGuide trains the guide with cfg.Train, in cfg.Dir/guide when there is a run
// directory; a Resume reuses a guide trained there (or continues its training). It returns
// nil with no error when the training was interrupted.
func trainGuide(ctx context.Context, cfg Config, progress func(Progress)) (*Guide, error) {
	tc := cfg.Train
	dir := ""
	if cfg.Dir != "" {
		dir = filepath.Join(cfg.Dir, GuideDir)
	}
	if cfg.Resume && dir != "" {
		if _, err := os.Stat(filepath.Join(dir, groundstate.RunFile)); err == nil {
			g, err := LoadGuide(dir)
			if err != nil {
				return nil, err
			}
			// An interrupted training also leaves a run.json; only a finished one is the guide.
			if g.Info.Status != vmc.Interrupted.String() && g.Info.Status != vmc.TimedOut.String() {
				g.Info.Source = "trained"
				return g, checkTrained(g, tc)
			}
		}
	}
	var gp func(groundstate.Progress)
	if progress != nil {
		gp = func(p groundstate.Progress) { progress(Progress{Stage: StageGuide, Guide: &p, Point: -1}) }
	}
	t0 := time.Now()
	var res *groundstate.Result
	var err error
	if _, statErr := os.Stat(filepath.Join(dir, groundstate.CheckpointFile)); cfg.Resume && dir != "" && statErr == nil {
		res, err = groundstate.Resume(ctx, dir, nil, gp)
	} else {
		tc.Dir, tc.Force, tc.Resume, tc.NoReference = dir, true, false, true
		res, err = groundstate.Run(ctx, tc, gp)
	}
	if err != nil {
		return nil, fmt.Errorf("training the guide: %w", err)
	}
	if res.Status == vmc.Interrupted || res.Status == vmc.TimedOut {
		return nil, nil
	}
	if res.Status == vmc.Diverged {
		return nil, fmt.Errorf("training the guide: %s", res.Reason)
	}
	g, err := GuideFrom(res)
	if g != nil {
		g.Info.TrainSeconds = time.Since(t0).Seconds()
		g.Info.Status = res.Status.String()
		err = checkTrained(g, tc)
	}
	return g, err
}

// checkTrained refuses a guide, reused or resumed from the run directory, whose problem is not
// the one cfg.Train asks for: a resume must not silently keep an earlier problem.
func checkTrained(g *Guide, train groundstate.Config) error {
	want, have := train.WithDefaults(), g.Problem.WithDefaults()
	if want.L != have.L || want.Dim != have.Dim || want.M2 != have.M2 || want.Lambda != have.Lambda {
		return fmt.Errorf("the guide trained in the run directory is for L = %d, dim = %d, m2 = %g, lambda = %g, not L = %d, dim = %d, m2 = %g, lambda = %g",
			have.L, have.Dim, have.M2, have.Lambda, want.L, want.Dim, want.M2, want.Lambda)
	}
	return nil
}

// Run is the whole DMC computation: the guide (cfg.Guide, or trained with cfg.Train), the
// walkers at every time step with the extrapolation and the population check (RunWith), and
// the references beside them (the Gaussian bound; the exact E0 where exact diagonalization or
// the free theory gives it). With cfg.Dir it checkpoints there and writes result.json. On
// cancellation, during the guide's training or after, it returns what it has with ctx.Err().
func Run(ctx context.Context, cfg Config, progress func(Progress)) (*Result, error) {
	started := time.Now()
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("run directory: %w", err)
		}
		if cfg.Checkpoint == "" {
			cfg.Checkpoint = filepath.Join(cfg.Dir, CheckpointFile)
		}
	}
	g := cfg.Guide
	if g == nil {
		if err := Validate(cfg); err != nil {
			return nil, err
		}
		var err error
		if g, err = trainGuide(ctx, cfg, progress); err != nil {
			return nil, err
		}
		if g == nil {
			c := cfg
			c.defaults()
			res := &Result{Config: c, Energy: math.NaN(), EnergyErr: math.NaN(), GaussianBound: math.NaN(), Started: started}
			res.L, res.Dim, res.M2, res.Lambda = cfg.Train.L, cfg.Train.WithDefaults().Dim, cfg.Train.M2, cfg.Train.Lambda
			res.Seconds = time.Since(started).Seconds()
			return res, ctx.Err()
		}
	}
	before := time.Since(started).Seconds() // loading or training the guide
	if cfg.Resume && cfg.Checkpoint != "" {
		// Interrupted while the guide was training: the walkers have no checkpoint yet and
		// start from the beginning.
		if _, err := os.Stat(cfg.Checkpoint); errors.Is(err, fs.ErrNotExist) {
			cfg.Resume = false
		}
	}
	res, runErr := RunWith(ctx, cfg, g.Wavefunction, g.Model, progress)
	if res == nil {
		return nil, runErr
	}
	info := g.Info
	res.Guide, res.Started = &info, started
	res.Seconds += before
	res.GaussianBound = math.NaN()
	if h, err := hamiltonian.SolveHartree(g.Model); err == nil {
		res.GaussianBound = h.Energy
	}
	if cfg.NoReference {
		// the caller has its own
	} else if ref, err := ed.Reference(context.WithoutCancel(ctx), g.Model, ed.ReferenceConfig{}); err == nil && ref.Converged {
		res.Exact = &Reference{Energy: ref.Energy, Method: ref.String()}
	}
	if cfg.Dir != "" {
		if err := atomicfile.ReplaceJSON(filepath.Join(cfg.Dir, ResultFile), res.Summary()); err != nil && runErr == nil {
			runErr = err
		}
	}
	return res, runErr
}

// Reference is an exact energy and how it was obtained.
type Reference struct {
	Energy float64 `json:"energy"`
	Method string  `json:"method"`
}
