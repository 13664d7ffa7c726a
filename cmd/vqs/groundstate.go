package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"vqs/ansatz/mera"
	"vqs/hamiltonian"
	"vqs/results"
	"vqs/vmc"
)

func init() { subcommands = append(subcommands, newGroundStateCmd) }

type groundStateFlags struct {
	physicsFlags
	Iters, Samples, MeasureSamples, Chains, Scales, Width, Steps, Levels int
	Rungs                                                                int
	Optimizer, Init, Out, Sampler, Store                                 string
	LR, Shift, SREps, TMin, TMax, RefMass                                float64
	Seed                                                                 uint64
	Resume, Ablation                                                     bool
	Timeout                                                              time.Duration
}

// groundStateJSON is the --json output and the "result" part of the run record.
type groundStateJSON struct {
	Method         string   `json:"method"`
	L              int      `json:"L"`
	Dim            int      `json:"dim"`
	Sites          int      `json:"sites"`
	M2             float64  `json:"m2"`
	Lambda         float64  `json:"lambda"`
	Energy         float64  `json:"energy"`
	EnergyErr      float64  `json:"energy_err"`
	EnergyPerSite  float64  `json:"energy_per_site"`
	Variance       float64  `json:"variance"`
	VarianceErr    float64  `json:"variance_err"`
	GaussianEnergy float64  `json:"gaussian_energy"`
	ExactEnergy    *float64 `json:"exact_energy"`
	ExactMethod    string   `json:"exact_method,omitempty"`
	CorrelationCap *float64 `json:"correlation_captured,omitempty"`
	Acceptance     float64  `json:"acceptance"`
	VirialRatio    float64  `json:"virial_ratio"`
	VirialErr      float64  `json:"virial_ratio_err"`
	Phi2           float64  `json:"phi2"`
	Phi2Err        float64  `json:"phi2_err"`
	AbsM           float64  `json:"abs_m"`
	AbsMErr        float64  `json:"abs_m_err"`
	Binder         float64  `json:"binder"`
	BinderErr      float64  `json:"binder_err"`
	TauInt         float64  `json:"tau_int"`
	Samples        int      `json:"samples"`
	Iterations     int      `json:"iterations"`
	Seconds        float64  `json:"seconds"`
	Stopped        string   `json:"stopped,omitempty"`
	Seed           uint64   `json:"seed"`
	Optimizer      string   `json:"optimizer"`
	SamplerName    string   `json:"sampler"`
	Scales         int      `json:"scales"`
	Width          int      `json:"width"`
	Init           string   `json:"init"`
	Params         int      `json:"params"`
	Version        string   `json:"version"`
}

func newGroundStateCmd() *cobra.Command {
	var f groundStateFlags
	cmd := &cobra.Command{
		Use:   "ground-state",
		Short: "Variational ground state by VMC with the RG-structured (MERA-inspired) ansatz",
		Long: `ground-state optimizes the RG-structured wavefunctional

  log Psi = -(1/2) sum_k g(k)|phi_k|^2/N + sum_s sum_x f_s(patch of phi_{t_s} around x)

where phi_t = exp(-t w) phi is the field flowed to RG time t (w(k) = sqrt(p_k^2 + M_ref^2),
M_ref the Hartree mass) on a geometric ladder t_s = 0, 0.3, ..., L/2 (see --t-min, --rungs)

by variational Monte Carlo (samples of |Psi|^2 by Fourier-accelerated HMC; stochastic
reconfiguration or Adam), then measures with frozen parameters. The Gaussian kernel starts at
the Gaussian-variational (Hartree) optimum, so iteration 0 is already that upper bound.

It prints the energy with an error bar that accounts for autocorrelation (blocking within each
chain, combined over independent chains), Var(E_loc) (zero at an eigenstate), the Gaussian bound,
and the exact energy where one is cheap: the free theory at lambda = 0, exact diagonalization
on tiny lattices. Energies are in lattice units. The variational energy is an upper bound on E0
up to its statistical error.

Output files with --out DIR: run.json (parameters, seed, version, timings, final estimates),
trace.csv (iter,energy,energy_err,variance,acceptance,lr,seconds), checkpoint.json (resume with
--resume). Ctrl-C or SIGTERM stops the optimization, saves the checkpoint and prints the result
so far; so does --timeout.`,
		Example: `  vqs ground-state                                  # 8x8, m2 = 1, lambda = 24, under a minute
  vqs ground-state --L 16 --m2 -1.55 --lambda 12 --iters 400 --out runs/crit16
  vqs ground-state --L 32 --lambda 0 --init product --out runs/free32
  vqs ground-state --out runs/crit16 --resume         # continue from the checkpoint`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runGroundState(cmd, &f) },
	}
	f.register(cmd, 8, 1, 24)
	f.registerVMC(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.Out, "out", "", "directory for run.json, trace.csv and checkpoint.json (created if missing)")
	fl.StringVar(&f.Store, "store", "", "also add the run to this results store (see vqs results), e.g. runs")
	fl.BoolVar(&f.Ablation, "ablation", false, "run the ansatz variants with the same budget and seed (Gaussian only; local terms at t = 0 only; then one more rung of the RG ladder per row, up to all) and print a comparison table")
	fl.BoolVar(&f.Resume, "resume", false, "resume from the checkpoint in --out (same physics and ansatz flags required)")
	fl.DurationVar(&f.Timeout, "timeout", 0, "stop the optimization cleanly after this long (e.g. 10m), then measure and save")
	return cmd
}

// registerVMC adds the flags of the VMC optimisation, shared by ground-state and scan.
func (f *groundStateFlags) registerVMC(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.IntVar(&f.Iters, "iters", 200, "optimization iterations")
	fl.IntVar(&f.Samples, "samples", 1024, "Monte Carlo samples per iteration (all chains together)")
	fl.IntVar(&f.MeasureSamples, "measure-samples", 0, "samples of the final measurement with frozen parameters (0: 8 x --samples)")
	fl.IntVar(&f.Chains, "chains", 16, "independent Markov chains, run in parallel on all cores")
	fl.IntVar(&f.Scales, "scales", -1, "rungs of the RG ladder (see --t-min) that carry local non-Gaussian terms, counted from t = 0: 1 = t = 0 only (a local Jastrow factor), k = the k smallest RG times, -1 = all; 0 = Gaussian only")
	fl.IntVar(&f.Width, "width", 2, "logcosh units of each rung's local function, on the plus-shaped patch of the flowed field (0: polynomials only)")
	fl.Float64Var(&f.TMin, "t-min", 0, "smallest nonzero RG time of the ladder, in lattice units; the flowed field is phi_t = exp(-t w) phi with w(k) = sqrt(p_k^2 + M_ref^2) (0: 0.3)")
	fl.Float64Var(&f.TMax, "t-max", 0, "largest RG time of the ladder, in lattice units (0: L/2)")
	fl.IntVar(&f.Rungs, "rungs", 0, "nonzero RG times, spaced geometrically from --t-min to --t-max; the ladder also has t = 0 (0: round(log2(t-max/t-min)) + 1, about one per factor 2)")
	fl.Float64Var(&f.RefMass, "ref-mass", 0, "M_ref of the reference dispersion that defines the flowed fields, in lattice units; fixed for the run (0: the Hartree mass; a later run may pass a better one, e.g. a measured gap)")
	fl.IntVar(&f.Steps, "steps", 4, "leapfrog steps per HMC trajectory (total rotation angle pi/2)")
	fl.StringVar(&f.Optimizer, "optimizer", "sr", "sr (stochastic reconfiguration, natural gradient) or adam")
	fl.Float64Var(&f.LR, "lr", 0, "learning rate: imaginary-time step for sr, step size for adam (0: 0.05 for sr, 0.01 for adam); cosine-decayed to 1/10 over the second half")
	fl.Float64Var(&f.Shift, "sr-shift", 0.001, "sr: relative diagonal shift of the S matrix, in units of each parameter's own variance of O (regularizes poorly sampled directions; 0.001 converges both the free theory from --init product and interacting states, where 0.05 left Var(E_loc) 10x higher)")
	fl.Float64Var(&f.SREps, "sr-eps", 1e-6, "sr: absolute diagonal shift of the S matrix, in units of O^2 (protects parameters whose O barely fluctuates)")
	fl.StringVar(&f.Init, "init", "hartree", "starting state: hartree (the Gaussian-variational optimum) or product (g(k) constant: a deliberately wrong product state)")
	fl.StringVar(&f.Sampler, "sampler", "hmc", "sampler of |Psi|^2: hmc (Fourier-accelerated, mass matrix = the ansatz's Gaussian part, which it integrates exactly) or bridge (RG bridge sampler, exact by Metropolis-Hastings, score = the exact diffused score of the Gaussian part)")
	fl.IntVar(&f.Levels, "levels", 12, "bridge sampler: number of RG diffusion steps")
	fl.Uint64Var(&f.Seed, "seed", 1, "random seed; the run is reproducible given the seed and --chains")
}

// problemKey is what must match between a checkpoint and a resumed run.
type problemKey struct {
	L, Dim, Scales, Width, Rungs, Chains int
	M2, Lambda, TMin, TMax, RefMass      float64
	Init                                 string
}

// meraConfig is the ansatz the flags ask for.
func (f *groundStateFlags) meraConfig() mera.Config {
	return mera.Config{Scales: f.Scales, Width: f.Width, Init: f.Init, TMin: f.TMin, TMax: f.TMax,
		Rungs: f.Rungs, RefMass: f.RefMass}
}

func runGroundState(cmd *cobra.Command, f *groundStateFlags) error {
	m, err := f.model()
	if err != nil {
		return err
	}
	if err := f.validate(); err != nil {
		return usageError{err}
	}
	ctx := cmd.Context()
	if f.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.Timeout)
		defer cancel()
	}
	if f.Ablation {
		return runAblation(ctx, cmd, m, f)
	}
	run, err := solveGroundState(ctx, m, f, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	if f.Store != "" {
		if _, err := storeGroundState(f.Store, results.KindGroundState, m, f, run); err != nil {
			return err
		}
	}
	if f.JSON {
		return writeJSON(cmd.OutOrStdout(), run.out)
	}
	printGroundState(cmd.OutOrStdout(), run.out)
	return nil
}

// groundStateRun is one finished VMC run: its printed summary and the full result.
type groundStateRun struct {
	out   groundStateJSON
	res   *vmc.Result
	names []string
	start time.Time
}

// solveGroundState runs VMC for m with the flags in f, with --out checkpoints and resume,
// printing progress to progressW.
func solveGroundState(ctx context.Context, m *hamiltonian.Model, f *groundStateFlags, progressW io.Writer) (*groundStateRun, error) {
	hart, err := hamiltonian.SolveHartree(m)
	if err != nil {
		return nil, err
	}
	ans, err := mera.New(m, f.meraConfig())
	if err != nil {
		return nil, usageError{err}
	}
	wf := vmc.MERA{Ansatz: ans}
	key := problemKey{m.L, m.Dim, f.Scales, f.Width, f.Rungs, f.Chains, m.M2, m.Lambda, f.TMin, f.TMax, f.RefMass, f.Init}
	var cp *vmc.Checkpoint
	ckptPath := ""
	if f.Out != "" {
		if err := os.MkdirAll(f.Out, 0o755); err != nil {
			return nil, err
		}
		ckptPath = filepath.Join(f.Out, "checkpoint.json")
		if f.Resume {
			if cp, err = vmc.LoadCheckpoint(ckptPath); err != nil {
				return nil, err
			}
			var old problemKey
			if err := readJSONFile(filepath.Join(f.Out, "problem.json"), &old); err != nil {
				return nil, err
			}
			if old != key {
				return nil, usageError{fmt.Errorf("--resume: the checkpoint in %s is for %+v, not %+v", f.Out, old, key)}
			}
		} else if err := writeJSONFile(filepath.Join(f.Out, "problem.json"), key); err != nil {
			return nil, err
		}
	}
	seed := f.Seed
	if cp != nil {
		seed += uint64(cp.Iter) * 7919 // fresh streams after a resume, still determined by the seed
	}
	var sampler vmc.Sampler
	switch f.Sampler {
	case "bridge":
		sampler, err = vmc.NewBridge(wf, m.L, m.Dim, f.Chains, f.Levels, seed)
	default:
		sampler, err = vmc.NewHMC(wf, m.L, m.Dim, f.Chains, f.Steps, seed)
	}
	if err != nil {
		return nil, err
	}
	lr := f.LR
	if lr == 0 {
		lr = 0.05
		if f.Optimizer == "adam" {
			lr = 0.01
		}
	}
	prog := newProgress(progressW, f.Iters)
	cfg := vmc.Config{Iterations: f.Iters, Samples: f.Samples, MeasureSamples: f.MeasureSamples,
		Optimizer: f.Optimizer, LR: lr, Shift: f.Shift, SREps: f.SREps, Checkpoint: ckptPath, Progress: prog.update}
	if cfg.MeasureSamples == 0 {
		cfg.MeasureSamples = 8 * f.Samples
	}
	t0 := time.Now()
	res, err := vmc.Run(ctx, m, wf, sampler, cfg, cp)
	prog.done()
	if err != nil {
		return nil, err
	}
	fin := res.Final
	if !finiteAll(fin.Energy.Value, fin.Energy.Error, fin.Variance.Value) {
		return nil, errors.New("the final energy is not finite; no result written (try a smaller --lr)")
	}
	out := groundStateJSON{Method: "vmc", L: m.L, Dim: m.Dim, Sites: m.N, M2: m.M2, Lambda: m.Lambda,
		Energy: fin.Energy.Value, EnergyErr: fin.Energy.Error, EnergyPerSite: fin.Energy.Value / float64(m.N),
		Variance: fin.Variance.Value, VarianceErr: fin.Variance.Error, GaussianEnergy: hart.Energy,
		Acceptance: fin.Acceptance, VirialRatio: fin.Virial.Value, VirialErr: fin.Virial.Error,
		Phi2: fin.Phi2.Value, Phi2Err: fin.Phi2.Error, AbsM: fin.AbsM.Value, AbsMErr: fin.AbsM.Error,
		Binder: fin.Binder.Value, BinderErr: fin.Binder.Error, TauInt: fin.TauInt, Samples: fin.Samples,
		Iterations: res.Iterations, Seconds: time.Since(t0).Seconds(), Stopped: res.Stopped, Seed: f.Seed,
		Optimizer: f.Optimizer, SamplerName: f.Sampler, Scales: f.Scales, Width: f.Width, Init: f.Init,
		Params: ans.NumParams(), Version: version}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && res.Stopped == "interrupted" {
		out.Stopped = "timeout"
	}
	if ex, how, ok := exactReference(ctx, m); ok {
		out.ExactEnergy, out.ExactMethod = &ex, how
		if corr := hart.Energy - ex; corr > 1e-12*math.Abs(ex) {
			c := (hart.Energy - fin.Energy.Value) / corr
			out.CorrelationCap = &c
		}
	}
	run := &groundStateRun{out: out, res: res, names: ans.ParamNames(), start: t0}
	if f.Out != "" {
		if err := writeTraceFile(filepath.Join(f.Out, "trace.csv"), res.Trace); err != nil {
			return nil, err
		}
		rec := map[string]any{"kind": "ground-state", "version": version, "seed": f.Seed,
			"started": t0.UTC().Format(time.RFC3339), "finished": time.Now().UTC().Format(time.RFC3339),
			"host": hostname(), "cpus": runtime.NumCPU(), "flags": f, "result": out,
			"param_names": run.names, "params": res.Params, "trace": "trace.csv"}
		if err := writeJSONFile(filepath.Join(f.Out, "run.json"), rec); err != nil {
			return nil, err
		}
	}
	return run, nil
}

// storeGroundState adds the run to the results store as a record with its trace.
func storeGroundState(dir, kind string, m *hamiltonian.Model, f *groundStateFlags, run *groundStateRun) (string, error) {
	st, err := results.Open(dir)
	if err != nil {
		return "", err
	}
	id := results.NewID()
	tw, rel, err := st.CreateTrace(id)
	if err != nil {
		return "", err
	}
	for _, s := range run.res.Trace {
		if err := tw.Write(tracePoint(s)); err != nil {
			tw.Close()
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	o := run.out
	status := results.StatusDone
	if o.Stopped != "" {
		status = results.StatusInterrupted
	}
	est := map[string]results.Estimate{
		results.EstEnergy:        {Value: o.Energy, Error: o.EnergyErr},
		results.EstEnergyPerSite: {Value: o.EnergyPerSite, Error: o.EnergyErr / float64(o.Sites)},
		results.EstVariance:      {Value: o.Variance, Error: o.VarianceErr},
		results.EstVirial:        {Value: o.VirialRatio, Error: o.VirialErr},
		results.EstAcceptance:    results.Exact(o.Acceptance),
		results.EstTauInt:        results.Exact(o.TauInt),
		"gaussian_energy":        results.Exact(o.GaussianEnergy),
		"phi2":                   {Value: o.Phi2, Error: o.Phi2Err},
		"abs_m":                  {Value: o.AbsM, Error: o.AbsMErr},
		"binder":                 {Value: o.Binder, Error: o.BinderErr},
	}
	if o.ExactEnergy != nil {
		est["exact_energy"] = results.Exact(*o.ExactEnergy)
	}
	rec := &results.Record{ID: id, Kind: kind, Status: status, Version: version,
		Seed: f.Seed, Host: hostname(), Started: run.start, Finished: time.Now(), Seconds: o.Seconds,
		Params:    results.Params{L: m.L, Dim: m.Dim, M2: m.M2, Lambda: m.Lambda, Extra: f.extra()},
		Estimates: est, Trace: rel, Notes: o.Stopped}
	if err := st.Put(rec); err != nil {
		return "", err
	}
	return id, nil
}

// extra is what identifies a VMC run beyond the physics: runs with the same extra are
// interchangeable repeats (scan skips them).
func (f *groundStateFlags) extra() map[string]any {
	return map[string]any{"iters": f.Iters, "samples": f.Samples, "chains": f.Chains, "scales": f.Scales,
		"width": f.Width, "init": f.Init, "optimizer": f.Optimizer, "sampler": f.Sampler, "seed": f.Seed,
		"lr": f.LR, "sr_shift": f.Shift, "sr_eps": f.SREps, "steps": f.Steps, "levels": f.Levels,
		"t_min": f.TMin, "t_max": f.TMax, "rungs": f.Rungs, "ref_mass": f.RefMass}
}

func tracePoint(s vmc.IterStats) results.TracePoint {
	return results.TracePoint{Iter: s.Iter, Energy: s.Energy, EnergyErr: s.EnergyErr, Variance: s.Variance,
		Acceptance: s.Acceptance, LR: s.LR, Seconds: s.Seconds}
}

// runAblation measures the value of the RG structure at one problem, in one invocation with
// the same seed and budget: the Gaussian part only, local terms at t = 0 only (a local Jastrow
// factor), then one more rung of the RG ladder per row up to all of them.
func runAblation(ctx context.Context, cmd *cobra.Command, m *hamiltonian.Model, f *groundStateFlags) error {
	probe := f.meraConfig()
	probe.Scales = 0
	ans, err := mera.New(m, probe)
	if err != nil {
		return usageError{err}
	}
	times := ans.Times()
	type row struct {
		Ansatz string          `json:"ansatz"`
		Scales int             `json:"scales"`
		TMax   float64         `json:"t_max"`
		Result groundStateJSON `json:"result"`
	}
	type variant struct {
		name   string
		scales int
	}
	variants := []variant{{"Gaussian only", 0}, {"t = 0 only", 1}}
	for k := 2; k < len(times); k++ {
		variants = append(variants, variant{fmt.Sprintf("t <= %.3g", times[k-1]), k})
	}
	if len(times) > 1 {
		variants = append(variants, variant{fmt.Sprintf("all (t <= %.3g)", times[len(times)-1]), -1})
	}
	var rows []row
	for _, c := range variants {
		g := *f
		g.Scales, g.Out, g.Resume = c.scales, "", false
		fmt.Fprintf(cmd.ErrOrStderr(), "ablation: %s\n", c.name)
		run, err := solveGroundState(ctx, m, &g, cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		n := c.scales
		if n < 0 {
			n = len(times)
		}
		tmax := 0.0
		if n > 0 {
			tmax = times[n-1]
		}
		rows = append(rows, row{c.name, n, tmax, run.out})
		if ctx.Err() != nil {
			break
		}
	}
	if f.JSON {
		return writeJSON(cmd.OutOrStdout(), rows)
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "ablation at %d^%d, m2 = %g, lambda = %g (Gaussian bound %.8g)\n", m.L, m.Dim, m.M2, m.Lambda,
		rows[0].Result.GaussianEnergy)
	fmt.Fprintf(w, "RG times of the ladder: %s\n", formatTimes(times))
	fmt.Fprintf(w, "%-18s %6s %8s %22s %16s %14s\n", "local terms", "rungs", "params", "energy", "below bound", "Var(E_loc)")
	for _, r := range rows {
		o := r.Result
		fmt.Fprintf(w, "%-18s %6d %8d %14.8g +- %-6.2g %8.4g (%5.1fσ) %8.4g +- %.2g\n", r.Ansatz, r.Scales, o.Params, o.Energy, o.EnergyErr,
			o.GaussianEnergy-o.Energy, (o.GaussianEnergy-o.Energy)/o.EnergyErr, o.Variance, o.VarianceErr)
	}
	return nil
}

// formatTimes lists RG times compactly.
func formatTimes(ts []float64) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%.3g", t)
	}
	return s
}

func (f *groundStateFlags) validate() error {
	switch {
	case f.Iters < 0:
		return fmt.Errorf("--iters must be >= 0, got %d", f.Iters)
	case f.Chains < 1:
		return fmt.Errorf("--chains must be >= 1, got %d", f.Chains)
	case f.Samples < f.Chains:
		return fmt.Errorf("--samples (%d) must be at least --chains (%d)", f.Samples, f.Chains)
	case f.MeasureSamples < 0:
		return fmt.Errorf("--measure-samples must be >= 0")
	case f.Steps < 1:
		return fmt.Errorf("--steps must be >= 1")
	case f.Optimizer != "sr" && f.Optimizer != "adam":
		return fmt.Errorf("--optimizer must be sr or adam, got %q", f.Optimizer)
	case f.Init != "hartree" && f.Init != "product":
		return fmt.Errorf("--init must be hartree or product, got %q", f.Init)
	case f.Sampler != "hmc" && f.Sampler != "bridge":
		return fmt.Errorf("--sampler must be hmc or bridge, got %q", f.Sampler)
	case f.Levels < 1:
		return fmt.Errorf("--levels must be >= 1")
	case !(f.Shift >= 0) || !(f.SREps > 0) || math.IsInf(f.Shift, 0) || math.IsInf(f.SREps, 0):
		return fmt.Errorf("--sr-shift must be >= 0 and --sr-eps > 0, finite")
	case math.IsNaN(f.LR) || math.IsInf(f.LR, 0) || f.LR < 0:
		return fmt.Errorf("--lr must be a finite number >= 0")
	case f.Resume && f.Out == "":
		return fmt.Errorf("--resume needs --out DIR holding the checkpoint")
	}
	return nil
}

func printGroundState(w io.Writer, o groundStateJSON) {
	r := report{w: w}
	r.add("method", "VMC, RG-structured ansatz (%d parameters), %s, %d iterations", o.Params, o.Optimizer, o.Iterations)
	r.add("lattice", "%d^%d = %d sites, m2 = %g, lambda = %g", o.L, o.Dim, o.Sites, o.M2, o.Lambda)
	r.add("energy", "%.10g +- %.2g", o.Energy, o.EnergyErr)
	r.add("energy per site", "%.10g +- %.2g", o.EnergyPerSite, o.EnergyErr/float64(o.Sites))
	r.add("Var(E_loc)", "%.4g +- %.2g", o.Variance, o.VarianceErr)
	r.add("Gaussian bound", "%.10g  (VMC - bound = %.4g, %.1f sigma)", o.GaussianEnergy,
		o.Energy-o.GaussianEnergy, (o.Energy-o.GaussianEnergy)/o.EnergyErr)
	if o.ExactEnergy != nil {
		r.add("exact", "%.10g  (%s; VMC - exact = %.3g, %.1f sigma)", *o.ExactEnergy, o.ExactMethod,
			o.Energy-*o.ExactEnergy, (o.Energy-*o.ExactEnergy)/o.EnergyErr)
	}
	if o.CorrelationCap != nil {
		corr := o.GaussianEnergy - *o.ExactEnergy
		r.add("correlation energy", "%.2f%% +- %.2f%% captured (Gaussian bound - exact = %.4g)",
			100**o.CorrelationCap, 100*o.EnergyErr/corr, corr)
	}
	r.add("virial ratio", "%.5f +- %.2g  (1 at an eigenstate)", o.VirialRatio, o.VirialErr)
	r.add("<phi^2>", "%.6g +- %.2g", o.Phi2, o.Phi2Err)
	r.add("<|M|>", "%.6g +- %.2g", o.AbsM, o.AbsMErr)
	r.add("Binder cumulant", "%.5g +- %.2g", o.Binder, o.BinderErr)
	r.add("acceptance", "%.3f", o.Acceptance)
	r.add("tau_int(E_loc)", "%.2f samples", o.TauInt)
	r.add("samples", "%d (measurement)", o.Samples)
	r.add("time", "%.1f s", o.Seconds)
	if o.Stopped != "" {
		r.add("stopped", "%s", o.Stopped)
	}
	r.flush()
}

func finiteAll(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readJSONFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func writeTraceFile(path string, tr []vmc.IterStats) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	tw, err := results.NewTraceWriter(f)
	if err == nil {
		for _, s := range tr {
			if err = tw.Write(tracePoint(s)); err != nil {
				break
			}
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// progress prints a live status line on stderr: in place on a terminal, otherwise a line every
// few percent so that logs stay short.
type progress struct {
	w     io.Writer
	tty   bool
	total int
	every int
	last  string
	first int       // first iteration seen by this process
	t0    time.Time // when it was seen
}

func newProgress(w io.Writer, total int) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil {
			tty = st.Mode()&os.ModeCharDevice != 0
		}
	}
	return &progress{w: w, tty: tty, total: total, every: max(1, total/20)}
}

func (p *progress) update(s vmc.IterStats) {
	// A resumed run starts at a later iteration: rate from this run's iterations only.
	if p.first == 0 {
		p.first, p.t0 = s.Iter, time.Now()
	}
	left := time.Duration(0)
	if done := s.Iter - p.first; done > 0 {
		left = (time.Since(p.t0) / time.Duration(done) * time.Duration(p.total-s.Iter)).Round(time.Second)
	}
	line := fmt.Sprintf("iter %d/%d  E = %.8g +- %.2g  Var(E_loc) = %.3g  acc = %.2f  left %v",
		s.Iter, p.total, s.Energy, s.EnergyErr, s.Variance, s.Acceptance, left)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.last = line
	} else if s.Iter%p.every == 0 || s.Iter == p.total {
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) done() {
	if p.tty && p.last != "" {
		fmt.Fprintln(p.w)
	}
}
