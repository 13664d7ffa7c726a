package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"vqs/ansatz/mera"
	"vqs/groundstate"
	"vqs/results"
	"vqs/vmc"
)

func init() { subcommands = append(subcommands, newGroundStateCmd) }

// groundStateFlags are the flags of a ground-state computation, shared by ground-state, scan
// and compare. Defaults come from the library (groundstate, vmc), so the two cannot disagree.
type groundStateFlags struct {
	physicsFlags
	cfg    groundstate.Config
	ansatz mera.Config
}

func newGroundStateCmd() *cobra.Command {
	var f groundStateFlags
	var out, store string
	var resume, force, ablation bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "ground-state",
		Short: "Variational ground state by VMC with the RG-structured (MERA-inspired) ansatz",
		Long: `ground-state optimizes the RG-structured wavefunctional (docs/ansatz.md)

  log Psi = -(1/2) sum_k g(k)|phi_k|^2/N + sum_s sum_x f_s(fields at RG scale s around x)

by variational Monte Carlo (samples of |Psi|^2 by Fourier-accelerated HMC or the RG bridge
sampler; stochastic reconfiguration or Adam), then measures with frozen parameters. The
Gaussian kernel starts at the Gaussian-variational (Hartree) optimum, so iteration 0 is already
that upper bound.

It prints the energy with an error bar that accounts for autocorrelation (Gamma method within
each chain, combined over independent chains; flagged UNRELIABLE when the chains disagree,
split-R-hat > 1.1), Var(E_loc) (zero at an eigenstate), the Gaussian bound, and the exact
energy where one is cheap (the free theory at lambda = 0, exact diagonalization on tiny
lattices) with the fraction of the correlation energy captured. Energies are in lattice units.
The variational energy is an upper bound on E0 up to its statistical error.

Run directory (--out DIR): problem.json (the problem and settings), checkpoint.json (written
atomically after every iteration), trace.csv (iter,energy,energy_err,variance,acceptance,lr,
seconds; one synced line per iteration) and run.json (the result). A kill at any moment loses
at most the iteration in progress. --resume continues the run in DIR with the settings stored
there (--iters and --measure-samples may be raised, and --sampler and its settings changed: a
finished run resumed with --sampler bridge is the same state measured by the other sampler); a
directory holding a run is refused
without --resume or --force. Ctrl-C, SIGTERM and --timeout stop the optimization, checkpoint,
measure briefly and print the result so far (exit status 3).`,
		Example: `  vqs ground-state                                  # 8x8, m2 = 1, lambda = 24, about 15 seconds
  vqs ground-state --L 16 --m2 -1.55 --lambda 12 --iters 400 --out runs/crit16
  vqs ground-state --out runs/crit16 --resume         # continue from the checkpoint
  vqs ground-state --L 32 --lambda 0 --init product   # the free theory from a wrong product state
  vqs ground-state --L 16 --m2 -1.55 --lambda 12 --ablation`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if timeout < 0 {
				return usageError{fmt.Errorf("--timeout must be >= 0, got %v", timeout)}
			}
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			if resume {
				if out == "" {
					return usageError{errors.New("--resume needs --out DIR holding the run")}
				}
				if validateOnly {
					return nil
				}
				return resumeGroundState(ctx, cmd, &f, out, store)
			}
			cfg, err := f.config(cmd)
			if err != nil {
				return err
			}
			cfg.Dir, cfg.Force = out, force
			if validateOnly {
				return nil
			}
			if ablation {
				if out != "" || store != "" {
					return usageError{errors.New("--ablation writes no run directory or store; drop --out and --store")}
				}
				return runAblation(ctx, cmd, cfg, f.JSON)
			}
			return finishGroundState(cmd, store, f.JSON, func(p func(groundstate.Progress)) (*groundstate.Result, error) {
				return groundstate.Run(ctx, cfg, p)
			})
		},
	}
	f.register(cmd, groundstate.DefaultL, groundstate.DefaultM2, groundstate.DefaultLambda)
	f.registerVMC(cmd)
	fl := cmd.Flags()
	fl.StringVar(&out, "out", "", "run directory for problem.json, checkpoint.json, trace.csv and run.json (created if missing)")
	fl.StringVar(&store, "store", "", "also add the run to this results store (see vqs results), e.g. runs")
	fl.BoolVar(&ablation, "ablation", false, "run the ansatz variants with the same budget and seed (Gaussian only; local terms at t = 0 only; then one more rung of the RG ladder per row, up to all) and print a comparison table")
	fl.BoolVar(&resume, "resume", false, "continue the run in --out with its stored settings (--iters, --samples, --measure-samples, the optimizer's and the sampler's flags may be changed)")
	fl.BoolVar(&force, "force", false, "start over in an --out directory that holds a run, discarding its checkpoint")
	fl.DurationVar(&timeout, "timeout", 0, "stop the optimization cleanly after this long (e.g. 10m), then measure and save")
	return cmd
}

// registerVMC adds the flags of the VMC optimisation, shared by ground-state, scan and compare.
func (f *groundStateFlags) registerVMC(cmd *cobra.Command) {
	fl := cmd.Flags()
	c, a := &f.cfg, &f.ansatz
	fl.IntVar(&c.Iterations, "iters", 0, fmt.Sprintf("optimization iterations (default %d up to L = %d, %d x ceil(L/%d) beyond: the slowest direction near the critical point relaxes like 1/L; 0 typed: measure only, not with --resume)",
		vmc.DefaultIterations, vmc.IterationsSide, vmc.DefaultIterations, vmc.IterationsSide))
	fl.IntVar(&c.Samples, "samples", vmc.DefaultSamples, "Monte Carlo samples per iteration (all chains together)")
	fl.IntVar(&c.MeasureSamples, "measure-samples", 0, fmt.Sprintf("samples of the final measurement with frozen parameters (0: %d x --samples)", vmc.DefaultMeasureFactor))
	fl.IntVar(&c.Chains, "chains", groundstate.DefaultChains, "independent Markov chains, run in parallel on all cores")
	fl.IntVar(&a.Scales, "scales", groundstate.DefaultAnsatz.Scales, "rungs of the RG ladder (see --t-min) that carry local non-Gaussian terms, counted from t = 0: 1 = t = 0 only (a local Jastrow factor), k = the k smallest RG times, -1 = all; 0 = Gaussian only")
	fl.IntVar(&a.Width, "width", groundstate.DefaultAnsatz.Width, "logcosh units of each rung's local function, on the plus-shaped patch of the flowed field (0: polynomials only)")
	fl.Float64Var(&a.TMin, "t-min", 0, fmt.Sprintf("smallest nonzero RG time of the ladder, in lattice units; the flowed field is phi_t = exp(-t w) phi with w(k) = sqrt(p_k^2 + M_ref^2) (0: %g)", mera.DefaultTMin))
	fl.Float64Var(&a.TMax, "t-max", 0, fmt.Sprintf("largest RG time of the ladder, in lattice units (0: min(L/2, %g); larger times make the coarse rungs functions of the mean field that grow like sqrt(N) in the broken phase)", mera.DefaultTMax))
	fl.IntVar(&a.Rungs, "rungs", 0, "nonzero RG times, spaced geometrically from --t-min to --t-max; the ladder also has t = 0 (0: round(log2(t-max/t-min)) + 1, about one per factor 2)")
	fl.Float64Var(&a.RefMass, "ref-mass", 0, "M_ref of the reference dispersion that defines the flowed fields, in lattice units; fixed for the run (0: the Hartree mass; a later run may pass a better one, e.g. a measured gap)")
	fl.StringVar(&a.Init, "init", groundstate.DefaultAnsatz.Init, "starting state: hartree (the Gaussian-variational optimum) or product (g(k) constant: a deliberately wrong product state)")
	fl.IntVar(&c.Steps, "steps", groundstate.DefaultSteps, "leapfrog steps per HMC trajectory (total rotation angle pi/2)")
	fl.StringVar(&c.HMCMass, "hmc-mass", groundstate.DefaultHMCMass, "HMC mass matrix: adaptive (set each iteration from the samples' variance per momentum mode; in the broken phase the k = 0 mode rotates about its well, so the sampler keeps up at 32x32) or kernel (twice the ansatz's Gaussian kernel, fixed: the baseline)")
	fl.StringVar(&c.Optimizer, "optimizer", "sr", "sr (stochastic reconfiguration, natural gradient) or adam")
	fl.Float64Var(&c.LR, "lr", 0, fmt.Sprintf("learning rate: imaginary-time step for sr, step size for adam (0: %g for sr, %g for adam); cosine-decayed to 1/10 over the second half", vmc.DefaultSRLR, vmc.DefaultAdamLR))
	fl.Float64Var(&c.SRShift, "sr-shift", vmc.DefaultSRShift, "sr: relative diagonal shift of the S matrix, in units of each parameter's own variance of O (regularizes poorly sampled directions)")
	fl.Float64Var(&c.SREps, "sr-eps", vmc.DefaultSREps, "sr: absolute diagonal shift of the S matrix, in units of O^2 (protects parameters whose O barely fluctuates)")
	fl.StringVar(&c.Sampler, "sampler", groundstate.DefaultSampler, "sampler of |Psi|^2: hmc (Fourier-accelerated; integrates a Gaussian reference exactly, see --hmc-mass; the fastest, measured) or bridge (RG bridge sampler, exact by Metropolis-Hastings; its score is set by --bridge-score)")
	fl.StringVar(&c.BridgeScore, "bridge-score", vmc.BridgeScoreLearned, "bridge sampler score: learned (started from the exact diffused score of the Gaussian part, retrained on the chains' samples every iteration), gaussian (the exact score of the Gaussian part) or denoised")
	fl.IntVar(&c.Levels, "levels", groundstate.DefaultLevels, "bridge sampler: number of RG diffusion steps")
	fl.Uint64Var(&c.Seed, "seed", groundstate.DefaultSeed, "random seed; the run is reproducible given the seed and --chains")
}

// config returns the ground-state configuration the flags describe, validated (a usage error
// otherwise).
func (f *groundStateFlags) config(cmd *cobra.Command) (groundstate.Config, error) {
	c := f.cfg
	c.L, c.Dim, c.M2, c.Lambda = f.L, f.Dim, f.M2, f.Lambda
	a := f.ansatz
	c.Ansatz = &a
	// In the library 0 means "the default"; on the command line a 0 the user typed is taken
	// literally: no iterations means measure only, and a zero count or shift is refused.
	fl := cmd.Flags()
	if fl.Changed("iters") && c.Iterations == 0 {
		c.Iterations = -1
	}
	for name, v := range map[string]int{"chains": c.Chains, "samples": c.Samples, "steps": c.Steps, "levels": c.Levels} {
		if fl.Changed(name) && v < 1 {
			return c, usageError{fmt.Errorf("--%s must be >= 1, got %d", name, v)}
		}
	}
	if c.Iterations < -1 || c.MeasureSamples < 0 {
		return c, usageError{fmt.Errorf("--iters and --measure-samples must be >= 0")}
	}
	if fl.Changed("sr-shift") && c.SRShift == 0 {
		return c, usageError{errors.New("--sr-shift must be > 0 (a tiny value such as 1e-9 is practically none)")}
	}
	if err := c.Validate(); err != nil {
		return c, usageError{err}
	}
	return c, nil
}

// resumeGroundState continues the run in dir with its stored settings. Flags given with
// --resume override them where a resume may (the budget, the optimiser's settings); flags that
// would change the problem, the ansatz or the chains must repeat the stored value.
func resumeGroundState(ctx context.Context, cmd *cobra.Command, f *groundStateFlags, dir, store string) error {
	stored, err := groundstate.LoadConfig(dir)
	if err != nil {
		return usageError{err}
	}
	cp, err := groundstate.LoadCheckpoint(dir)
	if err != nil {
		return usageError{err}
	}
	if cmd.Flags().Changed("iters") && f.cfg.Iterations <= 0 {
		return usageError{fmt.Errorf("--iters %d with --resume: a resume continues the optimisation to --iters (a finished run is measured again with its --measure-samples)", f.cfg.Iterations)}
	}
	given := f.cfg
	given.L, given.Dim, given.M2, given.Lambda = f.L, f.Dim, f.M2, f.Lambda
	a := f.ansatz
	given.Ansatz = &a
	merged := stored
	ma := *stored.WithDefaults().Ansatz
	merged.Ansatz = &ma
	var bad []string
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		set, ok := configFlags[fl.Name]
		if !ok {
			return
		}
		before := merged.WithDefaults().KeyString()
		set(&merged, given)
		if merged.WithDefaults().KeyString() != before {
			bad = append(bad, "--"+fl.Name+" "+fl.Value.String())
		}
	})
	if len(bad) > 0 {
		return usageError{fmt.Errorf("--resume continues the run in %s as stored; %v would change its problem, ansatz or chains", dir, bad)}
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "resuming %s from iteration %d of %d\n", dir, cp.Iter, merged.WithDefaults().Iterations)
	return finishGroundState(cmd, store, f.JSON, func(p func(groundstate.Progress)) (*groundstate.Result, error) {
		return groundstate.Resume(ctx, dir, func(c *groundstate.Config) { *c = merged }, p)
	})
}

// configFlags copies the field of one flag from src to dst.
var configFlags = map[string]func(dst *groundstate.Config, src groundstate.Config){
	"L":               func(d *groundstate.Config, s groundstate.Config) { d.L = s.L },
	"dim":             func(d *groundstate.Config, s groundstate.Config) { d.Dim = s.Dim },
	"m2":              func(d *groundstate.Config, s groundstate.Config) { d.M2 = s.M2 },
	"lambda":          func(d *groundstate.Config, s groundstate.Config) { d.Lambda = s.Lambda },
	"scales":          func(d *groundstate.Config, s groundstate.Config) { d.Ansatz.Scales = s.Ansatz.Scales },
	"width":           func(d *groundstate.Config, s groundstate.Config) { d.Ansatz.Width = s.Ansatz.Width },
	"init":            func(d *groundstate.Config, s groundstate.Config) { d.Ansatz.Init = s.Ansatz.Init },
	"t-min":           func(d *groundstate.Config, s groundstate.Config) { d.Ansatz.TMin = s.Ansatz.TMin },
	"t-max":           func(d *groundstate.Config, s groundstate.Config) { d.Ansatz.TMax = s.Ansatz.TMax },
	"rungs":           func(d *groundstate.Config, s groundstate.Config) { d.Ansatz.Rungs = s.Ansatz.Rungs },
	"ref-mass":        func(d *groundstate.Config, s groundstate.Config) { d.Ansatz.RefMass = s.Ansatz.RefMass },
	"chains":          func(d *groundstate.Config, s groundstate.Config) { d.Chains = s.Chains },
	"sampler":         func(d *groundstate.Config, s groundstate.Config) { d.Sampler = s.Sampler },
	"bridge-score":    func(d *groundstate.Config, s groundstate.Config) { d.BridgeScore = s.BridgeScore },
	"steps":           func(d *groundstate.Config, s groundstate.Config) { d.Steps = s.Steps },
	"hmc-mass":        func(d *groundstate.Config, s groundstate.Config) { d.HMCMass = s.HMCMass },
	"levels":          func(d *groundstate.Config, s groundstate.Config) { d.Levels = s.Levels },
	"iters":           func(d *groundstate.Config, s groundstate.Config) { d.Iterations = s.Iterations },
	"samples":         func(d *groundstate.Config, s groundstate.Config) { d.Samples = s.Samples },
	"measure-samples": func(d *groundstate.Config, s groundstate.Config) { d.MeasureSamples = s.MeasureSamples },
	"optimizer":       func(d *groundstate.Config, s groundstate.Config) { d.Optimizer = s.Optimizer },
	"lr":              func(d *groundstate.Config, s groundstate.Config) { d.LR = s.LR },
	"sr-shift":        func(d *groundstate.Config, s groundstate.Config) { d.SRShift = s.SRShift },
	"sr-eps":          func(d *groundstate.Config, s groundstate.Config) { d.SREps = s.SREps },
	"seed":            func(d *groundstate.Config, s groundstate.Config) { d.Seed = s.Seed },
}

// finishGroundState runs the computation with a progress line, stores it and prints it. A
// result that cannot be stored is still printed, with what was not saved, and exits non-zero.
func finishGroundState(cmd *cobra.Command, store string, asJSON bool, run func(func(groundstate.Progress)) (*groundstate.Result, error)) error {
	var st *results.Store
	if store != "" {
		var err error
		if st, err = openStore(store); err != nil {
			return err
		}
	}
	prog := newProgress(cmd.ErrOrStderr())
	res, err := run(prog.update)
	prog.done()
	if err != nil {
		return err
	}
	var saveErr error
	if st != nil {
		if _, _, err := res.Save(st, results.KindGroundState, false); err != nil {
			res.Unsaved = append(res.Unsaved, "store "+store+": "+err.Error())
			saveErr = fmt.Errorf("the result was not saved to the store %s: %w", store, err)
		}
	}
	if len(res.Unsaved) > 0 && saveErr == nil {
		saveErr = fmt.Errorf("the result was not fully saved: %v", res.Unsaved)
	}
	if asJSON {
		err = writeJSON(cmd.OutOrStdout(), res.Summary())
	} else {
		err = printGroundState(cmd.OutOrStdout(), res.Summary())
	}
	if err != nil {
		return fmt.Errorf("writing the result: %w", err)
	}
	if saveErr != nil {
		return saveErr
	}
	return statusError(res.Status, res.Reason)
}

// runAblation prints the ablation study: one row per ansatz variant, same budget and seed.
func runAblation(ctx context.Context, cmd *cobra.Command, cfg groundstate.Config, asJSON bool) error {
	prog := newProgress(cmd.ErrOrStderr())
	current := ""
	rows, err := groundstate.Ablation(ctx, cfg, func(variant string, p groundstate.Progress) {
		if variant != current {
			prog.done()
			fmt.Fprintf(cmd.ErrOrStderr(), "ablation: %s\n", variant)
			current = variant
			prog = newProgress(cmd.ErrOrStderr())
		}
		prog.update(p)
	})
	prog.done()
	if err != nil {
		return err
	}
	type row struct {
		Ansatz string              `json:"ansatz"`
		Rungs  int                 `json:"rungs"`
		TMax   float64             `json:"t_max"`
		Result groundstate.Summary `json:"result"`
	}
	out := struct {
		Method string  `json:"method"`
		Rows   []row   `json:"variants"`
		Bound  float64 `json:"gaussian_energy"`
	}{Method: "ablation"}
	for _, r := range rows {
		out.Rows = append(out.Rows, row{r.Name, r.Result.LocalRungs(), r.TMax, r.Result.Summary()})
		out.Bound = r.Result.Gaussian.Energy
	}
	if asJSON {
		err = writeJSON(cmd.OutOrStdout(), out)
	} else {
		err = printAblation(cmd.OutOrStdout(), cfg, out.Bound, rows)
	}
	if err != nil || len(rows) == 0 {
		return err
	}
	last := rows[len(rows)-1].Result
	return statusError(last.Status, last.Reason)
}

func printAblation(w io.Writer, cfg groundstate.Config, bound float64, rows []groundstate.AblationRow) error {
	c := cfg.WithDefaults()
	var b report
	b.w = w
	if _, err := fmt.Fprintf(w, "ablation at %d^%d, m2 = %g, lambda = %g (Gaussian bound %.8g)\n", c.L, c.Dim, c.M2, c.Lambda, bound); err != nil {
		return err
	}
	if len(rows) > 0 {
		if _, err := fmt.Fprintf(w, "RG times of the ladder: %s\n", formatTimes(rows[0].Result.Times)); err != nil {
			return err
		}
	}
	tab := [][]string{{"local terms", "rungs", "params", "energy", "below bound", "Var(E_loc)"}}
	for _, r := range rows {
		s := r.Result.Summary()
		v := "-"
		if s.Variance != nil {
			v = fmtEst(*s.Variance, s.VarianceErr)
		}
		tab = append(tab, []string{r.Name, fmt.Sprint(r.Result.LocalRungs()), fmt.Sprint(s.Params), fmtEst(s.Energy, &s.EnergyErr),
			fmt.Sprintf("%.4g (%.1f sigma)", bound-s.Energy, (bound-s.Energy)/s.EnergyErr), v})
	}
	return results.WriteAligned(w, tab)
}

// formatTimes lists RG times compactly.
func formatTimes(ts []float64) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = fmt.Sprintf("%.3g", t)
	}
	return strings.Join(s, ", ")
}

func printGroundState(w io.Writer, o groundstate.Summary) error {
	r := report{w: w}
	r.add("method", "VMC, RG-structured ansatz (%d parameters), %s, %d iterations", o.Params, o.Optimizer, o.Iterations)
	r.add("lattice", "%d^%d = %d sites, m2 = %g, lambda = %g", o.L, o.Dim, o.Sites, o.M2, o.Lambda)
	rel := ""
	if !o.Reliable {
		rel = "  UNRELIABLE: the chains disagree (split-R-hat above 1.1) or are too short for their autocorrelation"
	}
	r.add("energy", "%.10g +- %.2g%s", o.Energy, o.EnergyErr, rel)
	r.add("energy per site", "%.10g +- %.2g", o.EnergyPerSite, o.EnergyErr/float64(o.Sites))
	if o.Variance != nil {
		r.add("Var(E_loc)", "%s", fmtEst(*o.Variance, o.VarianceErr))
	}
	r.add("Gaussian bound", "%.10g  (VMC - bound = %.4g, %.1f sigma)", o.GaussianEnergy,
		o.Energy-o.GaussianEnergy, (o.Energy-o.GaussianEnergy)/o.EnergyErr)
	if o.ExactEnergy != nil {
		r.add("exact", "%.10g  (%s; VMC - exact = %.3g, %.1f sigma)", *o.ExactEnergy, o.ExactMethod,
			o.Energy-*o.ExactEnergy, (o.Energy-*o.ExactEnergy)/o.EnergyErr)
	}
	if o.CorrelationCap != nil && o.CorrelationErr != nil && o.ExactEnergy != nil {
		r.add("correlation energy", "%.2f%% +- %.2f%% captured (Gaussian bound - exact = %.4g)",
			100**o.CorrelationCap, 100**o.CorrelationErr, o.GaussianEnergy-*o.ExactEnergy)
	}
	if o.VirialRatio != nil {
		r.add("virial ratio", "%s  (1 at an eigenstate)", fmtEst(*o.VirialRatio, o.VirialErr))
	}
	r.add("<phi^2>", "%s", fmtEst(o.Phi2, o.Phi2Err))
	r.add("<|M|>", "%s", fmtEst(o.AbsM, o.AbsMErr))
	if o.Binder != nil {
		r.add("Binder cumulant", "%s", fmtEst(*o.Binder, o.BinderErr))
	}
	if o.BinderRR != nil {
		r.add("Binder (RR)", "%s  (U4 in the %s)", fmtEst(*o.BinderRR, o.BinderRRErr), groundstate.BinderMethodRR)
	}
	if o.Chi != nil {
		r.add("chi", "%s  (N (<M^2> - <|M|>^2))", fmtEst(*o.Chi, o.ChiErr))
	}
	if o.Gap != nil {
		note := o.GapMethod
		if o.GapErr != nil && *o.Gap < -2**o.GapErr {
			// E_odd and E_VMC are both upper bounds; a negative difference means the even state
			// is further from its eigenstate than the odd one (typical deep in the broken phase,
			// where the true gap is exponentially small).
			note += "; NEGATIVE: the even state is not converged, the gap is below this resolution"
		}
		r.add("gap (odd sector)", "%s  (%s)", fmtEst(*o.Gap, o.GapErr), note)
	}
	r.add("acceptance", "%.3f", o.Acceptance)
	if o.TauInt != nil {
		ess := ""
		if o.ESSPerS != nil {
			ess = fmt.Sprintf(", %.4g effective samples/s", *o.ESSPerS)
		}
		r.add("tau_int(E_loc)", "%.2f samples per chain%s", *o.TauInt, ess)
	}
	if o.SamplerName == "bridge" {
		r.add("sampler", "%s (training %.1f s)", o.Sampling, o.TrainSeconds)
	}
	samples := fmt.Sprintf("%d (measurement)", o.Samples)
	if o.MeasureCut {
		samples += ", INTERRUPTED: fewer than asked"
	}
	r.add("samples", "%s", samples)
	for _, d := range o.Depths {
		r.add(fmt.Sprintf("bridge depth %d", d.Depth), "acceptance %.4f (%d/%d)", d.Acceptance, d.Accepted, d.Tries)
	}
	if o.ResumedFrom > 0 {
		r.add("resumed", "from iteration %d", o.ResumedFrom)
	}
	r.add("time", "%.1f s", o.Seconds)
	if o.Stopped != "" {
		r.add("stopped", "%s", o.Stopped)
	}
	for _, u := range o.Unsaved {
		r.add("NOT SAVED", "%s", u)
	}
	return r.flush()
}

// fmtEst formats value +- error, or the value alone when the error is unknown.
func fmtEst(v float64, err *float64) string {
	if err == nil {
		return fmt.Sprintf("%.6g", v)
	}
	return fmt.Sprintf("%.6g +- %.2g", v, *err)
}

// openStore opens a results store for writing, refusing up front a path that is a file or
// cannot be written, so that no computation is lost at the end.
func openStore(dir string) (*results.Store, error) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, usageError{fmt.Errorf("--store %s is a file, not a directory", dir)}
	}
	st, err := results.Open(dir)
	if err != nil {
		return nil, usageError{err}
	}
	if err := st.CheckWritable(); err != nil {
		return nil, usageError{err}
	}
	return st, nil
}

// progress prints a live status line on stderr: in place on a terminal, otherwise a line every
// few percent so that logs stay short.
type progress struct {
	w           io.Writer
	tty         bool
	last        string
	first       int       // first iteration seen by this process
	t0          time.Time // when it was seen
	lastMeasure int
}

func newProgress(w io.Writer) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil {
			tty = st.Mode()&os.ModeCharDevice != 0
		}
	}
	return &progress{w: w, tty: tty, lastMeasure: -1}
}

func (p *progress) update(g groundstate.Progress) {
	var line string
	every := 1
	switch g.Stage {
	case "optimize":
		s := g.Iter
		// A resumed run starts at a later iteration: rate from this run's iterations only.
		if p.first == 0 {
			p.first, p.t0 = s.Iter, time.Now()
		}
		left := time.Duration(0)
		if done := s.Iter - p.first; done > 0 {
			left = (time.Since(p.t0) / time.Duration(done) * time.Duration(g.Iterations-s.Iter)).Round(time.Second)
		}
		line = fmt.Sprintf("iter %d/%d  E = %.8g +- %.2g  Var(E_loc) = %.3g  acc = %.2f  left %v",
			s.Iter, g.Iterations, s.Energy, s.EnergyErr, s.Variance, s.Acceptance, left)
		every = max(1, g.Iterations/20)
		if !p.tty && s.Iter%every != 0 && s.Iter != g.Iterations {
			return
		}
	case "measure":
		pct := 100 * g.Done / max(g.Total, 1)
		if !p.tty && pct/10 == p.lastMeasure/10 {
			return
		}
		p.lastMeasure = pct
		line = fmt.Sprintf("measuring: %d/%d samples per chain (%d%%)", g.Done, g.Total, pct)
	default:
		return
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.last = line
	} else {
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) done() {
	if p.tty && p.last != "" {
		fmt.Fprintln(p.w)
		p.last = ""
	}
}
