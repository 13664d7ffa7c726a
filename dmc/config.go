package dmc

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"slices"

	"vqs/groundstate"
	"vqs/hamiltonian"
	"vqs/vmc"
)

// Defaults that replace zero values in Config.
const (
	DefaultWalkers = 512
	DefaultTime    = 20.0 // imaginary time measured per time step
	// DefaultCheckpointSecs is the wall time between checkpoints.
	DefaultCheckpointSecs = 60.0
	// MinGenerations is the fewest measured generations a stage may have: a blocking
	// analysis needs at least 64 rows.
	MinGenerations = 64
	// MinWalkers is the smallest population Run accepts.
	MinWalkers = 8
	// MaxLags is the most lags of the mode correlations.
	MaxLags = 64
	// CutSigmas sets the local-energy cap of the branching weights: |E_loc - E_ref| is cut at
	// CutSigmas * sigma / sqrt(tau), sigma the guide's VMC spread of E_loc. It grows as tau
	// shrinks, so the bias it could cause vanishes with the time step, as in Umrigar,
	// Nightingale and Runge (1993); it only guards the weights against outliers.
	CutSigmas = 5.0
	// SpreadSigmas: the two smallest time steps' energies differing by more than this many
	// combined errors flags the time-step extrapolation, and a population check differing by
	// more flags the population.
	SpreadSigmas = 2.0
)

// Config sets up a run. Zero values mean the defaults; negative values of PopulationWalkers,
// ProductTime and LagTime switch the feature off.
type Config struct {
	// Taus are the time steps, each > 0 and distinct (0: {0.1, 0.05}). They are run from the
	// largest down, each starting from the previous one's walkers, and extrapolated linearly
	// to tau = 0.
	Taus []float64
	// Walkers is the fixed population size (0: DefaultWalkers).
	Walkers int
	// Time is the imaginary time measured at every time step (0: DefaultTime).
	Time float64
	// Equilibration is the imaginary time run before measuring at the VMC stage and the first
	// time step; later stages start from the previous one's walkers and run half of it. 0
	// chooses 2/g(0) clamped to [1, 10] (g(0) the guide's Gaussian kernel at k = 0, its
	// estimate of the gap) and then also discards the leading measured blocks that the
	// marginal standard error rule detects as a transient; > 0 is used as given, with no
	// detection.
	Equilibration float64
	// VMCTime is the imaginary time of the guide's own measurement (the same moves without
	// weights), which gives the VMC energy and the VMC half of the extrapolated estimators
	// (0: Time).
	VMCTime float64
	// PopulationWalkers is the population of the bias check, a rerun of the largest (the
	// cheapest) time step (0: Walkers/2; < 0: no check).
	PopulationWalkers int
	// ProductTime is the window, in imaginary time, of the population-control correction:
	// each generation's contribution is weighted by the product of the population's mean
	// weights over that window (0: 1/g(0) clamped to [1, 5]; < 0: no correction).
	ProductTime float64
	// LagTime is the longest imaginary-time lag of the mode correlations that give the gap
	// (0: 3/g(0) clamped to [0.5, 20]; < 0: no gap).
	LagTime float64
	// Workers is the number of goroutines that move walkers (0: GOMAXPROCS). Results do not
	// depend on it.
	Workers int
	// Seed: walker slot i draws from the PCG stream (Seed, i+1), the population control
	// from (Seed, 0), so a run is reproducible.
	Seed uint64
	// Checkpoint is the file to save the run's state to ("" for none), every CheckpointSecs
	// (0: DefaultCheckpointSecs), at the end of every stage and when interrupted.
	Checkpoint     string
	CheckpointSecs float64
	// Resume continues from the state in Checkpoint, which must exist and belong to the same
	// configuration, guide and Hamiltonian.
	Resume bool

	// The pipeline (Run; RunWith ignores these). Guide is the guide wavefunction with its
	// problem, as LoadGuide reads it from a ground-state run directory; nil: Run trains one
	// first by groundstate.Run with Train, whose problem (L, Dim, M2, Lambda) is then the run's.
	Guide *Guide
	Train groundstate.Config
	// Dir is the run directory ("" for none): checkpoint.gob (Checkpoint, unless that is set),
	// result.json (the Summary) and, for a guide trained here, the ground-state run in guide/,
	// which a Resume reuses.
	Dir string
	// NoReference skips the exact reference (exact diagonalization on tiny lattices).
	NoReference bool
}

// plan is a validated configuration with every automatic value resolved.
type plan struct {
	cfg        Config
	model      *hamiltonian.Model
	guide      vmc.Wavefunction
	lat        hamiltonian.Lattice
	g0         float64 // guide kernel at k = 0
	equilTime  float64 // imaginary time run before measuring at each step
	detect     bool    // whether to detect further equilibration in the measured blocks
	product    float64 // population-control window (0: none)
	lagTime    float64 // longest lag (0: no gap)
	popWalkers int     // 0: no check
}

func (c *Config) defaults() {
	c.Taus = slices.Clone(c.Taus)
	if len(c.Taus) == 0 {
		c.Taus = []float64{0.1, 0.05}
	}
	if c.Walkers == 0 {
		c.Walkers = DefaultWalkers
	}
	if c.Time == 0 {
		c.Time = DefaultTime
	}
	if c.VMCTime == 0 {
		c.VMCTime = c.Time
	}
	if c.PopulationWalkers == 0 {
		c.PopulationWalkers = c.Walkers / 2
		if c.PopulationWalkers < MinWalkers {
			c.PopulationWalkers = -1 // too few walkers to halve: no check by default
		}
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Checkpoint == "" && c.Dir != "" {
		c.Checkpoint = filepath.Join(c.Dir, CheckpointFile)
	}
	if c.CheckpointSecs == 0 {
		c.CheckpointSecs = DefaultCheckpointSecs
	}
}

func finitePositive(x float64) bool { return x > 0 && !math.IsInf(x, 0) }

func (c *Config) validate() error {
	for i, t := range c.Taus {
		if !finitePositive(t) {
			return fmt.Errorf("dmc: time step tau must be finite and > 0, got %v", t)
		}
		if slices.Contains(c.Taus[:i], t) {
			return fmt.Errorf("dmc: time step tau %v is listed twice", t)
		}
	}
	if c.Walkers < MinWalkers {
		return fmt.Errorf("dmc: need at least %d walkers, got %d", MinWalkers, c.Walkers)
	}
	if c.PopulationWalkers > 0 && c.PopulationWalkers < MinWalkers {
		return fmt.Errorf("dmc: the population check needs at least %d walkers, got %d", MinWalkers, c.PopulationWalkers)
	}
	if c.PopulationWalkers == c.Walkers {
		return fmt.Errorf("dmc: the population check must use a population other than %d walkers", c.Walkers)
	}
	if !finitePositive(c.Time) || !finitePositive(c.VMCTime) {
		return fmt.Errorf("dmc: measured imaginary times must be finite and > 0, got %v and %v", c.Time, c.VMCTime)
	}
	for _, x := range []float64{c.Equilibration, c.ProductTime, c.LagTime, c.CheckpointSecs} {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("dmc: imaginary times must be finite, got %v", x)
		}
	}
	if c.Equilibration < 0 || c.CheckpointSecs < 0 {
		return errors.New("dmc: equilibration and checkpoint interval must be >= 0")
	}
	if c.Workers < 1 {
		return fmt.Errorf("dmc: need at least one worker, got %d", c.Workers)
	}
	if c.Resume && c.Checkpoint == "" {
		return errors.New("dmc: resuming needs a checkpoint file")
	}
	for _, t := range c.Taus {
		if n := c.Time / t; n < MinGenerations || n > 1<<31 {
			return fmt.Errorf("dmc: time %v at tau %v is %.0f generations; need %d to 2^31", c.Time, t, n, MinGenerations)
		}
		if n := c.VMCTime / t; n > 1<<31 {
			return fmt.Errorf("dmc: VMC time %v at tau %v is too many generations", c.VMCTime, t)
		}
	}
	if n := c.VMCTime / slices.Max(c.Taus); n < MinGenerations {
		return fmt.Errorf("dmc: VMC time %v at tau %v is %.0f generations; need %d", c.VMCTime, slices.Max(c.Taus), n, MinGenerations)
	}
	return nil
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

func newPlan(cfg Config, guide vmc.Wavefunction, h *hamiltonian.Model) (*plan, error) {
	if guide == nil || h == nil {
		return nil, errors.New("dmc: need a guide wavefunction and a Hamiltonian")
	}
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	lat := guide.Lattice()
	if lat.L != h.L || lat.Dim != h.Dim {
		return nil, fmt.Errorf("dmc: the guide is on a %d^%d lattice, the Hamiltonian on %d^%d", lat.L, lat.Dim, h.L, h.Dim)
	}
	g := guide.Kernel()
	if len(g) != lat.N {
		return nil, fmt.Errorf("dmc: the guide's kernel has %d entries for %d sites", len(g), lat.N)
	}
	for _, x := range g {
		if !finitePositive(x) {
			return nil, fmt.Errorf("dmc: the guide's Gaussian kernel must be finite and > 0, got %v", x)
		}
	}
	p := &plan{cfg: cfg, model: h, guide: guide, lat: lat, g0: g[0]}
	p.equilTime, p.detect = cfg.Equilibration, false
	if cfg.Equilibration == 0 {
		p.equilTime, p.detect = clamp(2/p.g0, 1, 10), true
	}
	switch {
	case cfg.ProductTime > 0:
		p.product = cfg.ProductTime
	case cfg.ProductTime == 0:
		p.product = clamp(1/p.g0, 1, 5)
	}
	switch {
	case cfg.LagTime > 0:
		p.lagTime = cfg.LagTime
	case cfg.LagTime == 0:
		p.lagTime = clamp(3/p.g0, 0.5, 20)
	}
	if cfg.PopulationWalkers > 0 {
		p.popWalkers = cfg.PopulationWalkers
	}
	return p, nil
}

// Validate reports whether Run would accept cfg, without training a guide or moving a
// walker: the DMC settings, and the guide (cfg.Guide) or the training that makes it
// (cfg.Train).
func Validate(cfg Config) error {
	if cfg.Guide != nil {
		_, err := newPlan(cfg, cfg.Guide.Wavefunction, cfg.Guide.Model)
		return err
	}
	c := cfg
	c.defaults()
	if err := c.validate(); err != nil {
		return err
	}
	return cfg.Train.Validate()
}
