// Package groundstate is the ground-state pipeline of vqs as one library call: from a problem
// (lattice and couplings) and the method's settings it builds the RG-structured ansatz and a
// sampler of |Psi|^2, optimises the ansatz by variational Monte Carlo with checkpoints in a run
// directory, measures with frozen parameters, and sets the result beside the references a
// physicist compares with: the Gaussian-variational bound, the exact energy where it is cheap
// (free theory, exact diagonalization) and the fraction of the correlation energy captured.
//
// Run is what `vqs ground-state` calls; Ablation runs several ansatz variants with one budget
// and seed; Resume continues a run directory. Results go to a results store with Save.
package groundstate

import (
	"errors"
	"fmt"
	"math"

	"vqs/ansatz/mera"
	"vqs/hamiltonian"
	"vqs/internal/sysmem"
	"vqs/vmc"
)

// The defaults of Config, in one place; the CLI registers its flags from them.
const (
	DefaultL       = 8 // the built-in default problem: 8x8, m2 = 1, lambda = 24
	DefaultM2      = 1.0
	DefaultLambda  = 24.0
	DefaultDim     = 2
	DefaultSampler = "hmc"
	DefaultChains  = 16
	DefaultSteps   = 4 // HMC leapfrog steps per trajectory (total rotation angle pi/2)
	DefaultHMCMass = HMCMassAdaptive
	DefaultLevels  = 12 // RG diffusion steps of the bridge sampler
	DefaultSeed    = 1
)

// The HMC mass matrices (Config.HMCMass).
const (
	HMCMassAdaptive = "adaptive"
	HMCMassKernel   = "kernel"
)

// DefaultAnsatz is the ansatz used when Config.Ansatz is nil: local terms at every rung of the
// RG ladder, two logcosh units per rung.
var DefaultAnsatz = mera.Config{Scales: -1, Width: 2, Init: "hartree"}

// Config is one ground-state computation. Zero values of the method's settings mean their
// defaults (the constants above and vmc's); the couplings have none, as 0 is a valid value.
type Config struct {
	L      int     `json:"L"`
	Dim    int     `json:"dim"` // spatial dimensions (0: 2, the 2+1D theory)
	M2     float64 `json:"m2"`
	Lambda float64 `json:"lambda"` // coefficient of phi^4/4!

	// Ansatz is the structure and starting point of the wavefunctional (nil: DefaultAnsatz).
	Ansatz *mera.Config `json:"ansatz,omitempty"`

	Sampler string `json:"sampler,omitempty"` // "hmc" (Fourier-accelerated HMC) or "bridge" (RG bridge sampler)
	Chains  int    `json:"chains,omitempty"`  // independent Markov chains, run in parallel
	Steps   int    `json:"steps,omitempty"`   // HMC leapfrog steps per trajectory
	// HMCMass is HMC's mass matrix: HMCMassAdaptive (the default: adapted to the samples'
	// variance per mode, the k = 0 mode centred on its well in the broken phase; see vmc.HMC)
	// or HMCMassKernel (twice the ansatz's Gaussian kernel, fixed: the baseline).
	HMCMass string `json:"hmc_mass,omitempty"`
	Levels  int    `json:"levels,omitempty"` // bridge sampler RG levels
	// BridgeScore is the bridge's score: "learned" (the default: retrained on the chains'
	// samples at every iteration), "gaussian" (the exact score of the Gaussian part) or
	// "denoised".
	BridgeScore string `json:"bridge_score,omitempty"`

	Iterations     int     `json:"iterations,omitempty"`      // 0: vmc.IterationsFor(L); < 0: none
	Samples        int     `json:"samples,omitempty"`         // per iteration, all chains together
	MeasureSamples int     `json:"measure_samples,omitempty"` // final measurement
	Optimizer      string  `json:"optimizer,omitempty"`       // "sr" (stochastic reconfiguration) or "adam"
	LR             float64 `json:"lr,omitempty"`              // 0: the optimizer's default
	SRShift        float64 `json:"sr_shift,omitempty"`        // SR relative diagonal shift (0: vmc.DefaultSRShift)
	SREps          float64 `json:"sr_eps,omitempty"`          // SR absolute diagonal shift (0: vmc.DefaultSREps)

	Seed uint64 `json:"seed"` // the run is reproducible given Seed and Chains

	// Dir is the run directory ("" for none): problem.json (this Config), checkpoint.json
	// (after every iteration, atomically), trace.csv (one synced line per iteration) and
	// run.json (the result). A directory holding a checkpoint is refused unless Resume (continue
	// it) or Force (start over) is set.
	Dir    string `json:"-"`
	Resume bool   `json:"-"`
	Force  bool   `json:"-"`
	// NoReference skips the exact reference (ED on tiny lattices can take seconds).
	NoReference bool `json:"-"`
}

// WithDefaults returns c with every zero setting replaced by its default, as Run sees it.
func (c Config) WithDefaults() Config {
	if c.Dim == 0 {
		c.Dim = DefaultDim
	}
	if c.Ansatz == nil {
		a := DefaultAnsatz
		c.Ansatz = &a
	} else {
		a := *c.Ansatz
		if a.Init == "" {
			a.Init = DefaultAnsatz.Init
		}
		c.Ansatz = &a
	}
	if c.Sampler == "" {
		c.Sampler = DefaultSampler
	}
	if c.Chains == 0 {
		c.Chains = DefaultChains
	}
	if c.Steps == 0 {
		c.Steps = DefaultSteps
	}
	if c.HMCMass == "" {
		c.HMCMass = DefaultHMCMass
	}
	if c.Levels == 0 {
		c.Levels = DefaultLevels
	}
	if c.Iterations == 0 {
		c.Iterations = vmc.IterationsFor(c.L)
	}
	if c.Samples == 0 {
		c.Samples = vmc.DefaultSamples
	}
	if c.MeasureSamples == 0 {
		c.MeasureSamples = vmc.DefaultMeasureFactor * c.Samples
	}
	if c.Optimizer == "" {
		c.Optimizer = "sr"
	}
	if c.SRShift == 0 {
		c.SRShift = vmc.DefaultSRShift
	}
	if c.SREps == 0 {
		c.SREps = vmc.DefaultSREps
	}
	if c.LR == 0 {
		c.LR = c.optimizer().DefaultLR()
	}
	return c
}

// Model returns the Hamiltonian of the problem.
func (c Config) Model() (*hamiltonian.Model, error) {
	d := c.Dim
	if d == 0 {
		d = DefaultDim
	}
	return hamiltonian.NewModel(c.L, d, c.M2, c.Lambda)
}

// Validate reports whether c describes a computation that can run, in one line.
func (c Config) Validate() error {
	if _, err := c.Model(); err != nil {
		return err
	}
	d := c.WithDefaults()
	switch {
	case d.Sampler != "hmc" && d.Sampler != "bridge":
		return fmt.Errorf("sampler must be hmc or bridge, got %q", d.Sampler)
	case d.BridgeScore != "" && d.BridgeScore != vmc.BridgeScoreLearned && d.BridgeScore != vmc.BridgeScoreGaussian && d.BridgeScore != vmc.BridgeScoreDenoised:
		return fmt.Errorf("bridge score must be %s, %s or %s, got %q", vmc.BridgeScoreLearned, vmc.BridgeScoreGaussian, vmc.BridgeScoreDenoised, d.BridgeScore)
	case d.Optimizer != "sr" && d.Optimizer != "adam":
		return fmt.Errorf("optimizer must be sr or adam, got %q", d.Optimizer)
	case d.Chains < 1:
		return fmt.Errorf("chains must be >= 1, got %d", d.Chains)
	case d.HMCMass != HMCMassAdaptive && d.HMCMass != HMCMassKernel:
		return fmt.Errorf("HMC mass must be %s or %s, got %q", HMCMassAdaptive, HMCMassKernel, d.HMCMass)
	case d.Steps < 1 || d.Levels < 1:
		return errors.New("steps and levels must be >= 1")
	case d.Samples < d.Chains:
		return fmt.Errorf("samples per iteration (%d) must be at least the number of chains (%d)", d.Samples, d.Chains)
	case d.MeasureSamples < 2*d.Chains:
		return fmt.Errorf("measurement samples (%d) must be at least twice the number of chains (%d)", d.MeasureSamples, d.Chains)
	case !finite(d.LR) || d.LR <= 0:
		return fmt.Errorf("learning rate must be a finite number > 0, got %v", d.LR)
	case !finite(d.SRShift) || d.SRShift < 0 || !finite(d.SREps) || d.SREps <= 0:
		return fmt.Errorf("SR shifts must be finite, relative >= 0 and absolute > 0 (got %v, %v)", d.SRShift, d.SREps)
	}
	m, _ := d.Model()
	a, err := mera.New(m, *d.Ansatz)
	if err != nil {
		return err
	}
	if need, have := d.MemoryEstimate(a.NumParams()), float64(sysmem.Available()); need > have {
		return fmt.Errorf("%d samples per iteration and %d measurement samples with %d parameters need about %s, more than the %s available; lower --samples or --measure-samples",
			d.Samples, d.MeasureSamples, a.NumParams(), sysmem.GiB(need), sysmem.GiB(have))
	}
	return nil
}

// MemoryEstimate is the memory in bytes that the samples of a run with p parameters take:
// per iteration the log-derivatives O (n x p, twice: raw and centred) and the SR matrix
// (p x p, or n x n when solved in sample space), and for the measurement nine series per
// sample.
func (c Config) MemoryEstimate(p int) float64 {
	d := c.WithDefaults()
	n := float64(d.Samples)
	sr := math.Min(float64(p)*float64(p), n*n)
	return 8 * (2*n*float64(p+2) + sr + 9*float64(d.MeasureSamples))
}

// optimizer returns the vmc optimiser the settings name (defaults not yet applied is fine).
func (c Config) optimizer() vmc.Optimizer {
	if c.Optimizer == "adam" {
		return &vmc.Adam{}
	}
	return vmc.SR{Shift: c.SRShift, Eps: c.SREps}
}

// key is what a checkpoint and the run resuming it must share: the problem, the ansatz's
// structure and the chains. The optimiser's settings, the budget and the sampler may change on
// a resume: the checkpoint holds the chains' fields, from which any exact sampler of |Psi|^2
// continues (an HMC reference and a learned bridge score are rebuilt from the state either
// way), so a trained state can be measured again with the other sampler.
type key struct {
	L, Dim, Chains int
	M2, Lambda     float64
	Ansatz         mera.Config
}

// KeyString is the key in words: two configurations with the same KeyString can share a
// checkpoint.
func (c Config) KeyString() string { return fmt.Sprintf("%+v", c.key()) }

func (c Config) key() key {
	d := c.WithDefaults()
	return key{L: d.L, Dim: d.Dim, Chains: d.Chains, M2: d.M2, Lambda: d.Lambda, Ansatz: *d.Ansatz}
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
