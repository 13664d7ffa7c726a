package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/spf13/cobra"

	"vqs/dmc"
	"vqs/groundstate"
	"vqs/results"
)

func init() { subcommands = append(subcommands, newDMCCmd) }

func newDMCCmd() *cobra.Command {
	var g groundStateFlags // the guide's problem and, without --guide, its training
	var c dmc.Config
	var guide, taus, store string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "dmc",
		Short: "Exact E0 by diffusion Monte Carlo, guided by the variational state (no fixed-node error)",
		Long: `dmc computes E0 by importance-sampled diffusion Monte Carlo guided by the RG-structured
variational state: the Hamiltonian is stoquastic, so there is no fixed-node error, and the
time-step and population errors are measured (package dmc says how). --guide DIR loads a
'vqs ground-state --out DIR' state (physics flags given must agree); without it the guide is
trained first with the ground-state flags (saved in --out/guide). The guide's VMC energy uses
the same moves without weights; each --tau is run, largest first, extrapolated linearly to
tau = 0, and the largest is rerun with --pop-walkers walkers. "~": no blocking plateau.
Ctrl-C, SIGTERM or --timeout save the checkpoint in --out, print the result so far and exit
with status 3; --resume continues exactly.`,
		Example: `  vqs dmc --L 1 --dim 1 --m2 1 --lambda 24 --iters 300
  vqs ground-state --L 8 --m2 -1.55 --lambda 12 --iters 400 --out runs/gs8
  vqs dmc --guide runs/gs8 --tau 0.1,0.05 --walkers 512 --time 40 --out runs/dmc8 --store runs`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if c.Taus, err = parseFloats(taus, "--tau"); err != nil {
				return usageError{err}
			}
			if c.Train, err = g.config(cmd); err != nil {
				return err
			}
			c.Seed = c.Train.Seed
			if guide != "" {
				if c.Guide, err = dmc.LoadGuide(guide); err != nil {
					return usageError{err}
				}
				p := c.Guide.Problem
				for name, ok := range map[string]bool{"L": g.L == p.L, "dim": g.Dim == p.Dim, "m2": g.M2 == p.M2, "lambda": g.Lambda == p.Lambda} {
					if cmd.Flags().Changed(name) && !ok {
						return usageError{fmt.Errorf("--%s disagrees with the guide in %s (%d^%d, m2 = %g, lambda = %g)", name, guide, p.L, p.Dim, p.M2, p.Lambda)}
					}
				}
			}
			if err := dmcFlagsValid(c, timeout); err != nil {
				return err
			}
			var st *results.Store
			if store != "" {
				if st, err = openStore(store); err != nil {
					return err
				}
			}
			if validateOnly {
				return nil
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			if timeout > 0 {
				ctx, cancel = context.WithTimeout(cmd.Context(), timeout)
			}
			defer cancel()
			prog := newProgress(cmd.ErrOrStderr())
			res, runErr := dmc.Run(ctx, c, func(p dmc.Progress) { dmcProgress(cmd.ErrOrStderr(), prog, p) })
			prog.done()
			if res == nil {
				return runErr
			}
			sum := res.Summary()
			if st != nil {
				rec := res.Record(runErr)
				if err := st.Put(rec); err != nil {
					return fmt.Errorf("storing the run: %w", err)
				}
				sum.StoreID = rec.ID
			}
			if g.JSON {
				err = writeJSON(cmd.OutOrStdout(), sum)
			} else {
				err = printDMC(cmd.OutOrStdout(), sum)
			}
			if err != nil {
				return fmt.Errorf("writing the result: %w", err)
			}
			if runErr != nil && ctx.Err() != nil {
				return interruptedError{context.Cause(ctx).Error()}
			}
			return runErr
		},
	}
	g.register(cmd, groundstate.DefaultL, groundstate.DefaultM2, groundstate.DefaultLambda)
	g.registerVMC(cmd)
	fl := cmd.Flags()
	fl.StringVar(&guide, "guide", "", "directory of a 'vqs ground-state --out DIR' run whose state guides the walkers; empty: train one with the ground-state flags")
	fl.StringVar(&taus, "tau", "0.1,0.05", "comma-separated DMC time steps (each > 0, distinct); two or more are extrapolated linearly to tau = 0")
	fl.IntVar(&c.Walkers, "walkers", dmc.DefaultWalkers, fmt.Sprintf("walkers (fixed population, >= %d)", dmc.MinWalkers))
	fl.Float64Var(&c.Time, "time", dmc.DefaultTime, "imaginary time measured at each tau, after equilibration")
	fl.Float64Var(&c.Equilibration, "equil", 0, "imaginary time run at the first tau before measuring, half of it at each later one (they start projected); 0: 2/g(0) clamped to [1, 10], plus a detected transient")
	fl.Float64Var(&c.VMCTime, "vmc-time", 0, "imaginary time of the guide's VMC measurement with the same moves (0: --time)")
	fl.IntVar(&c.PopulationWalkers, "pop-walkers", 0, "walkers of the population check, a rerun of the largest tau (0: --walkers/2, no check below 16 walkers; -1: no check)")
	fl.Float64Var(&c.ProductTime, "product-time", 0, "window (imaginary time) of the population-control correction (0: 1/g(0) clamped to [1, 5]; -1: none)")
	fl.Float64Var(&c.LagTime, "lag-time", 0, "longest imaginary-time lag of the mode correlations for the gap (0: 3/g(0) clamped to [0.5, 20]; -1: no gap)")
	fl.IntVar(&c.Workers, "workers", 0, "goroutines moving walkers (0: all cores); results do not depend on it")
	fl.StringVar(&c.Dir, "out", "", "run directory for checkpoint.gob, result.json and (when trained here) the guide in guide/")
	fl.BoolVar(&c.Resume, "resume", false, "resume from the checkpoint in --out (same flags required)")
	fl.DurationVar(&timeout, "timeout", 0, "stop cleanly after this long (e.g. 25m), save the checkpoint and print the result so far")
	fl.StringVar(&store, "store", "", "also add the run to this results store (kind dmc), e.g. runs")
	return cmd
}

// dmcFlagsValid refuses what the library would read as a default (a 0 typed on the command
// line) and anything dmc.Validate refuses, as usage errors.
func dmcFlagsValid(c dmc.Config, timeout time.Duration) error {
	switch {
	case c.Walkers < 1 || !(c.Time > 0) || c.VMCTime < 0 || c.Workers < 0:
		return usageError{fmt.Errorf("--walkers and --time must be > 0, --vmc-time and --workers >= 0")}
	case c.PopulationWalkers < -1:
		return usageError{fmt.Errorf("--pop-walkers must be -1 (no check), 0 (default) or a population, got %d", c.PopulationWalkers)}
	case (c.ProductTime < 0 && c.ProductTime != -1) || (c.LagTime < 0 && c.LagTime != -1):
		return usageError{fmt.Errorf("--product-time and --lag-time must be -1 (off), 0 (automatic) or > 0")}
	case timeout < 0:
		return usageError{fmt.Errorf("--timeout must be >= 0, got %v", timeout)}
	case c.Resume && c.Dir == "":
		return usageError{fmt.Errorf("--resume needs --out DIR holding the checkpoint")}
	}
	if err := dmc.Validate(c); err != nil {
		return usageError{err}
	}
	return nil
}

// dmcProgress prints the guide's training as ground-state does, then a line at the start of
// every DMC stage and every tenth of it.
func dmcProgress(w io.Writer, prog *progress, p dmc.Progress) {
	if p.Stage == dmc.StageGuide {
		prog.update(*p.Guide)
		return
	}
	if p.Generation*10/max(p.Generations, 1) == (p.Generation-max(1, p.Generations/200))*10/max(p.Generations, 1) && p.Generation != p.Generations {
		return
	}
	e := "equilibrating"
	if !p.Equilibrating && !math.IsNaN(p.Energy) {
		e = fmt.Sprintf("E = %.8g", p.Energy)
	}
	fmt.Fprintf(w, "dmc: %s tau %g, %d walkers: generation %d/%d  %s  acc %.4f\n", p.Stage, p.Tau, p.Walkers, p.Generation, p.Generations, e, p.Acceptance)
}

// est formats a summary estimate, with "~" when its blocking analysis found no plateau.
func est(e dmc.EstSummary) string {
	if e.Value == nil {
		return "n/a"
	}
	s := pm(*e.Value, deref(e.Err))
	if !e.Plateau && e.Err != nil {
		s += "~"
	}
	return s
}

func printDMC(w io.Writer, s dmc.Summary) error {
	r := report{w: w}
	r.add("method", "diffusion Monte Carlo, %d^%d = %d sites, m2 = %g, lambda = %g", s.L, s.Dim, s.Sites, s.M2, s.Lambda)
	if gd := s.Guide; gd != nil {
		how := "trained here"
		if gd.Source == "loaded" {
			how = "loaded from " + gd.Dir
		}
		r.add("guide", "RG ansatz, %d parameters, %s (its VMC energy %s)", gd.Params, how, val(s.GuideEnergy))
	}
	if v := s.VMC; v != nil {
		r.add("VMC of the guide", "%s  Var(E_loc) %s  (same moves, tau %g, no weights; acceptance %.4f)", est(v.Energy), est(v.Variance), v.Tau, v.Acceptance)
	}
	points := s.Points
	if s.PopPoint != nil {
		points = append(points, *s.PopPoint)
	}
	for _, p := range points {
		r.add(fmt.Sprintf("E(tau = %g), %d walkers", p.Tau, p.Walkers), "%s  (uncorrected %s; tau_eff %.4g, acceptance %.4f, equilibration %.3g+%.3g)",
			est(p.Energy), est(p.EnergyUncorrected), p.TauEff, p.Acceptance, p.Equilibration.Set, p.Equilibration.Detected)
	}
	label := "E0 (one tau, not extrapolated)"
	if s.Extrapolated {
		label = "E0 (tau -> 0)"
	}
	r.add(label, "%s  per site %s", pm(deref(s.Energy), deref(s.EnergyErr)), pm(deref(s.EnergyPerSite), deref(s.EnergyErr)/float64(s.Sites)))
	for i, c := range []*dmc.ComparisonSummary{s.Spread, s.Population} {
		if c != nil {
			r.add([]string{"spread of the two smallest tau", "population check"}[i], "%s (%.2f sigma; flagged %v)", pm(deref(c.Diff), deref(c.Err)), deref(c.Sigmas), c.Flagged)
		}
	}
	if s.VMCEnergy != nil && s.Energy != nil {
		sig := ""
		if s.DMCBelowVMC != nil && !math.IsInf(*s.DMCBelowVMC, 0) && !math.IsNaN(*s.DMCBelowVMC) {
			sig = fmt.Sprintf("%.1f sigma; ", *s.DMCBelowVMC)
		}
		r.add("VMC - DMC", "%.4g (%sDMC projects down)", *s.VMCEnergy-*s.Energy, sig)
	}
	if s.Exact != nil && s.Energy != nil {
		sig := ""
		if e := deref(s.EnergyErr); e > 0 {
			sig = fmt.Sprintf(", %.1f sigma", (*s.Energy-*s.Exact)/e)
		}
		r.add("exact", "%.10g  (%s; DMC - exact = %.3g%s)", *s.Exact, s.ExactMethod, *s.Energy-*s.Exact, sig)
	}
	r.add("Gaussian bound", "%s", val(s.GaussianBound))
	if s.Gap != nil {
		r.add("gap, k = 0 mode", "%s", pm(*s.Gap, deref(s.GapErr)))
	}
	for _, o := range []struct {
		name string
		get  func(dmc.ObsSummary) dmc.EstSummary
	}{{"<phi^2>", func(o dmc.ObsSummary) dmc.EstSummary { return o.Phi2 }}, {"<|M|>", func(o dmc.ObsSummary) dmc.EstSummary { return o.AbsM }},
		{"Binder cumulant", func(o dmc.ObsSummary) dmc.EstSummary { return o.Binder }}} {
		r.add(o.name, "VMC %s  mixed %s  extrapolated %s", est(o.get(s.Observables["vmc"])), est(o.get(s.Observables["mixed"])), est(o.get(s.Observables["extrapolated"])))
	}
	r.add("time", "%.1f s", s.Seconds)
	if s.StoreID != "" {
		r.add("stored as", "%s", s.StoreID)
	}
	if !s.Complete {
		r.add("status", "incomplete (interrupted)")
	}
	return r.flush()
}

// val formats an optional number.
func val(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.10g", *p)
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
