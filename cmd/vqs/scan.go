package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"vqs/critical"
	"vqs/groundstate"
	"vqs/results"
	"vqs/scan"
	"vqs/stats"
)

func init() { subcommands = append(subcommands, newScanCmd) }

func newScanCmd() *cobra.Command {
	var f groundStateFlags
	var sizes, m2List, emit, plotDir, store string
	var jobs int
	var xPower float64
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Finite-size scan: VMC, Gaussian bound and exact values at several L, with an infinite-volume extrapolation",
		Long: `scan runs, at every lattice size in --L, the VMC ground state (same flags as ground-state),
the Gaussian-variational bound, the exact free energy when lambda = 0 and exact diagonalization
when the lattice is tiny (N <= 4), and stores every result in the results store (--store).

It resumes: a size whose VMC run with the same physics and VMC flags is already in the store
is reused, and the size in progress keeps a checkpoint in <store>/checkpoints/, so a scan that
is killed or preempted is continued by running the same command again. Two identical scans
running at once store each size once. It ends with a table, an infinite-volume extrapolation
of E0/N by a weighted linear fit in 1/N (or 1/L^p with --x-power p) with its fit uncertainty,
and plots (the scaling plot and one VMC trace per size in --plots DIR). An interrupted scan
exits with status 3.

--emit slurm prints a Slurm job-array script instead of running: one size per array task,
all writing into one shared store; 'vqs results table --store DIR' then merges them and
'vqs scan' with the same flags (after the array finishes) prints the extrapolation and plots.`,
		Example: `  vqs scan --L 4,8,16 --m2 1 --lambda 24
  vqs scan --L 4,8,16,32 --m2 1 --lambda 24 --store /scratch/me/runs --emit slurm > scan.sbatch`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ls, err := parseSizes(sizes)
			if err != nil {
				return usageError{err}
			}
			m2s, err := parseList(m2List, "--m2")
			if err != nil {
				return usageError{err}
			}
			f.L, f.M2 = ls[0], m2s[0]
			g, err := f.config(cmd)
			if err != nil {
				return err
			}
			cfg := scan.Config{Sizes: ls, GroundState: g, Store: store, Jobs: jobs, XPower: xPower, Seed: g.Seed}
			if len(m2s) > 1 {
				cfg.M2s = m2s
			}
			if err := cfg.Validate(); err != nil {
				return usageError{err}
			}
			switch emit {
			case "":
			case "slurm":
				return emitSlurm(cmd.OutOrStdout(), cmd, store, ls, m2s)
			default:
				return usageError{fmt.Errorf("--emit must be slurm, got %q", emit)}
			}
			if timeout < 0 {
				return usageError{fmt.Errorf("--timeout must be >= 0, got %v", timeout)}
			}
			if _, err := openStore(store); err != nil {
				return err
			}
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			if validateOnly {
				return nil
			}
			logw := cmd.ErrOrStderr()
			progs := map[string]*progress{}
			var mu sync.Mutex
			res, err := scan.Run(ctx, cfg, func(p scan.Progress) {
				mu.Lock()
				defer mu.Unlock()
				at := fmt.Sprintf("L = %d", p.L)
				if len(cfg.M2s) > 0 {
					at += fmt.Sprintf(", m2 = %g", p.M2)
				}
				switch p.Event {
				case "reused":
					fmt.Fprintf(logw, "scan: %s already in the store (%s), reused\n", at, p.ID)
				case "resume":
					fmt.Fprintf(logw, "scan: %s resumes from its checkpoint at iteration %d\n", at, p.Resume)
				case "start":
					fmt.Fprintf(logw, "scan: %s\n", at)
				case "run":
					if progs[at] == nil {
						progs[at] = newProgress(logw)
					}
					progs[at].update(p.Run)
				}
			})
			for _, p := range progs {
				p.done()
			}
			if err != nil {
				return err
			}
			dir := plotDir
			if dir == "" {
				dir = filepath.Join(store, "plots")
			}
			plots, perr := scan.Plots(res, cfg, dir)
			if perr != nil {
				fmt.Fprintf(logw, "vqs: warning: plots: %s\n", oneLine(perr))
			}
			out := scanJSON(res, cfg, plots)
			if f.JSON {
				err = writeJSON(cmd.OutOrStdout(), out)
			} else {
				err = printScan(cmd.OutOrStdout(), out)
			}
			if err != nil {
				return err
			}
			if res.Interrupted {
				return interruptedError{"unfinished sizes are checkpointed in the store; run the same command again to continue"}
			}
			return nil
		},
	}
	f.registerOthers(cmd, 24)
	f.registerVMC(cmd)
	fl := cmd.Flags()
	fl.StringVar(&sizes, "L", "4,8,16", "lattice sizes, comma-separated (sites per direction, periodic)")
	fl.StringVar(&m2List, "m2", "1", "bare mass squared m^2 (lattice units), or a comma-separated list: with several values the scan covers every (L, m2) and locates the critical m2 from Binder and L x gap crossings")
	fl.StringVar(&store, "store", results.DefaultDir, "results store directory (shared by all sizes; see vqs results)")
	fl.IntVar(&jobs, "jobs", 1, "sizes run at the same time (each VMC already uses every core through its chains)")
	fl.StringVar(&emit, "emit", "", "instead of running, print a batch script: slurm (one job-array task per size)")
	fl.StringVar(&plotDir, "plots", "", "directory for the PNG plots (default: <store>/plots)")
	fl.Float64Var(&xPower, "x-power", 0, "abscissa of the extrapolation: 1/L^p (0: p = dim, i.e. 1/N)")
	fl.DurationVar(&timeout, "timeout", 0, "stop cleanly after this long (e.g. 2h); the size in progress keeps its checkpoint")
	return cmd
}

// parseSizes reads "4,8,16" into sorted, distinct sizes.
func parseSizes(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		l, err := strconv.Atoi(part)
		if err != nil || l < 1 {
			return nil, fmt.Errorf("--L: %q is not a lattice size (a positive integer)", part)
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--L: no sizes given")
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// parseList reads "a,b,c" into sorted, distinct finite numbers.
func parseList(s, flag string) ([]float64, error) {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		v, err := strconv.ParseFloat(part, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s: %q is not a finite number", flag, part)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no values given", flag)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

type scanRowJSON struct {
	L         int      `json:"L"`
	M2        float64  `json:"m2"`
	Sites     int      `json:"sites"`
	Energy    float64  `json:"energy"`
	EnergyErr float64  `json:"energy_err"`
	Variance  *float64 `json:"variance"`
	Gaussian  float64  `json:"gaussian_energy"`
	Exact     *float64 `json:"exact_energy"`
	ExactHow  string   `json:"exact_method,omitempty"`
	Binder    *float64 `json:"binder"`
	BinderErr *float64 `json:"binder_err"`
	BinderHow string   `json:"binder_method,omitempty"`
	Chi       *float64 `json:"chi"`
	ChiErr    *float64 `json:"chi_err"`
	Gap       *float64 `json:"gap"`
	GapErr    *float64 `json:"gap_err"`
	GapMethod string   `json:"gap_method,omitempty"`
	ID        string   `json:"id"`
	Reused    bool     `json:"reused"`
	Resumed   int      `json:"resumed_from,omitempty"`
}

type scanCrossingJSON struct {
	L1       int      `json:"L1"`
	L2       int      `json:"L2"`
	M2       float64  `json:"m2"`
	Err      *float64 `json:"m2_err"` // null when no bootstrap resample crossed
	Value    float64  `json:"value"`
	Resolved float64  `json:"resolved_fraction"` // of bootstrap resamples that crossed at all
}

// scanCriticalJSON is the finite-size-scaling analysis of a scan over m2.
type scanCriticalJSON struct {
	M2cBinder       *float64           `json:"m2c_binder"`
	M2cBinderErr    *float64           `json:"m2c_binder_err"`
	BinderCrossings []scanCrossingJSON `json:"binder_crossings"`
	BinderDrift     *float64           `json:"binder_drift"`
	// m2_c extrapolated in L from the last two crossings (critical.Extrapolation).
	M2cBinderExt    *float64           `json:"m2c_binder_extrapolated"`
	M2cBinderExtErr *float64           `json:"m2c_binder_extrapolated_err"`
	BinderExtRes    *float64           `json:"m2c_binder_extrapolated_resolved"` // fraction of resamples with both crossings
	BinderWhy       string             `json:"binder_note,omitempty"`
	M2cGap          *float64           `json:"m2c_gap"`
	M2cGapErr       *float64           `json:"m2c_gap_err"`
	GapCrossings    []scanCrossingJSON `json:"gap_crossings"`
	GapDrift        *float64           `json:"gap_drift"`
	M2cGapExt       *float64           `json:"m2c_gap_extrapolated"`
	M2cGapExtErr    *float64           `json:"m2c_gap_extrapolated_err"`
	GapExtRes       *float64           `json:"m2c_gap_extrapolated_resolved"`
	OmegaIsing      float64            `json:"omega_ising"` // the correction exponent the extrapolations assume
	GapWhy          string             `json:"gap_note,omitempty"`
	GapMethod       string             `json:"gap_method,omitempty"`
	Excluded        []string           `json:"excluded,omitempty"` // points whose VMC run diverged
	NuIsing         float64            `json:"nu_ising"`
	CollapseIsing   *float64           `json:"collapse_quality_ising"` // about 1 when U4 collapses within errors
	NuFit           *float64           `json:"nu_fit"`
	NuFitErr        *float64           `json:"nu_fit_err"`
	NuFitExt        *float64           `json:"nu_fit_extrapolated"` // nu fitted about m2c_binder_extrapolated
	NuFitExtErr     *float64           `json:"nu_fit_extrapolated_err"`
}

type scanOutJSON struct {
	Method      string            `json:"method"`
	Dim         int               `json:"dim"`
	M2          *float64          `json:"m2,omitempty"` // a single-coupling scan
	M2s         []float64         `json:"m2s,omitempty"`
	Lambda      float64           `json:"lambda"`
	Rows        []scanRowJSON     `json:"sizes"`
	EInf        *float64          `json:"energy_per_site_infinite_volume"`
	EInfErr     *float64          `json:"energy_per_site_infinite_volume_err"`
	FitChi2     *float64          `json:"fit_chi2"`
	FitDOF      int               `json:"fit_dof"`
	XPower      float64           `json:"x_power"`
	Critical    *scanCriticalJSON `json:"critical,omitempty"`
	Plots       []string          `json:"plots"`
	Store       string            `json:"store"`
	Interrupted bool              `json:"interrupted,omitempty"`
	Version     string            `json:"version"`
}

func scanJSON(res *scan.Result, cfg scan.Config, plots []string) scanOutJSON {
	g := cfg.GroundState.WithDefaults()
	out := scanOutJSON{Method: "scan", Dim: g.Dim, Lambda: g.Lambda, XPower: cfg.XPower, Plots: plots,
		Store: cfg.Store, Interrupted: res.Interrupted, Version: version}
	if len(cfg.M2s) > 0 {
		out.M2s = cfg.M2s
	} else {
		out.M2 = &g.M2
	}
	for _, r := range res.Rows {
		row := scanRowJSON{L: r.L, M2: r.M2, Sites: r.Sites, Energy: r.Energy.Value, EnergyErr: r.Energy.Error,
			Variance: finite(r.Variance.Value), Gaussian: r.Gaussian, ID: r.ID, Reused: r.Reused, Resumed: r.Resumed,
			Binder: finite(r.Binder.Value), BinderErr: finite(r.Binder.Error), Chi: finite(r.Chi.Value), ChiErr: finite(r.Chi.Error),
			GapMethod: r.GapMethod, BinderHow: r.BinderMethod}
		if r.GapMethod != "" {
			row.Gap, row.GapErr = finite(r.Gap.Value), finite(r.Gap.Error)
		}
		if r.Exact != nil {
			row.Exact, row.ExactHow = finite(r.Exact.Energy), r.Exact.Method
		}
		out.Rows = append(out.Rows, row)
	}
	if f := res.Fit; f != nil {
		out.EInf, out.FitChi2, out.FitDOF = finite(f.A), finite(f.Chi2), f.DOF
		if !f.Exact {
			out.EInfErr = finite(f.ErrA)
		}
	}
	if c := res.Critical; c != nil {
		cj := &scanCriticalJSON{BinderWhy: c.BinderWhy, GapWhy: c.GapWhy, GapMethod: c.GapMethod, NuIsing: critical.NuIsing3D,
			OmegaIsing: critical.OmegaIsing3D, Excluded: c.Excluded,
			BinderCrossings: []scanCrossingJSON{}, GapCrossings: []scanCrossingJSON{}}
		crossings := func(r *critical.Result) ([]scanCrossingJSON, *float64, *float64, *float64) {
			if r == nil {
				return []scanCrossingJSON{}, nil, nil, nil
			}
			var cs []scanCrossingJSON
			for _, x := range r.Crossings {
				cs = append(cs, scanCrossingJSON{L1: x.L1, L2: x.L2, M2: x.M2, Err: finite(x.Err), Value: x.Value, Resolved: x.Resolved})
			}
			return cs, finite(r.M2c), finite(r.Err), finite(r.Drift)
		}
		cj.BinderCrossings, cj.M2cBinder, cj.M2cBinderErr, cj.BinderDrift = crossings(c.Binder)
		cj.GapCrossings, cj.M2cGap, cj.M2cGapErr, cj.GapDrift = crossings(c.Gap)
		extrapolated := func(r *critical.Result) (*float64, *float64, *float64) {
			if r == nil || r.Extrapolated == nil {
				return nil, nil, nil
			}
			return finite(r.Extrapolated.M2c), finite(r.Extrapolated.Err), finite(r.Extrapolated.Resolved)
		}
		cj.M2cBinderExt, cj.M2cBinderExtErr, cj.BinderExtRes = extrapolated(c.Binder)
		cj.M2cGapExt, cj.M2cGapExtErr, cj.GapExtRes = extrapolated(c.Gap)
		if c.Binder != nil && c.CollapseWhy == "" {
			cj.CollapseIsing = finite(c.CollapseIsing)
			if c.NuFitErr > 0 {
				cj.NuFit, cj.NuFitErr = finite(c.NuFit), finite(c.NuFitErr)
			}
			if c.NuFitExtrapolatedErr > 0 {
				cj.NuFitExt, cj.NuFitExtErr = finite(c.NuFitExtrapolated), finite(c.NuFitExtrapolatedErr)
			}
		}
		out.Critical = cj
	}
	return out
}

func printScan(w io.Writer, o scanOutJSON) error {
	var b strings.Builder
	if o.M2 != nil {
		fmt.Fprintf(&b, "scan: %dD, m2 = %g, lambda = %g  (store %s)\n", o.Dim, *o.M2, o.Lambda, o.Store)
	} else {
		fmt.Fprintf(&b, "scan: %dD, lambda = %g, m2 in %v  (store %s)\n", o.Dim, o.Lambda, o.M2s, o.Store)
	}
	head := []string{"L", "N", "E0 (VMC)", "E0/N", "Var(E_loc)", "Gaussian bound", "exact", ""}
	if o.M2 == nil {
		head = []string{"m2", "L", "N", "E0 (VMC)", "E0/N", "Var(E_loc)", "U4", "chi", "gap", "L x gap", ""}
	}
	tab := [][]string{head}
	pm := func(v, e *float64) string {
		if v == nil {
			return "-"
		}
		if e == nil {
			return fmt.Sprintf("%.5g", *v)
		}
		return fmt.Sprintf("%.5g +- %.2g", *v, *e)
	}
	for _, r := range o.Rows {
		ex, v := "-", "-"
		if r.Exact != nil {
			ex = fmt.Sprintf("%.10g", *r.Exact)
		}
		if r.Variance != nil {
			v = fmt.Sprintf("%.4g", *r.Variance)
		}
		note := ""
		switch {
		case r.Reused:
			note = "(from store)"
		case r.Resumed > 0:
			note = fmt.Sprintf("(resumed at iteration %d)", r.Resumed)
		}
		n := float64(r.Sites)
		e := fmt.Sprintf("%.8g +- %.2g", r.Energy, r.EnergyErr)
		if o.M2 != nil {
			tab = append(tab, []string{strconv.Itoa(r.L), strconv.Itoa(r.Sites), e,
				fmt.Sprintf("%.10g", r.Energy/n), v, fmt.Sprintf("%.10g", r.Gaussian), ex, note})
			continue
		}
		lg := "-"
		if r.Gap != nil && r.GapErr != nil {
			lg = fmt.Sprintf("%.4g +- %.2g", float64(r.L)**r.Gap, float64(r.L)**r.GapErr)
		}
		tab = append(tab, []string{fmt.Sprintf("%g", r.M2), strconv.Itoa(r.L), strconv.Itoa(r.Sites), e,
			fmt.Sprintf("%.8g", r.Energy/n), v, pm(r.Binder, r.BinderErr), pm(r.Chi, r.ChiErr), pm(r.Gap, r.GapErr), lg, note})
	}
	if err := results.WriteAligned(&b, tab); err != nil {
		return err
	}
	if o.EInf != nil {
		x := "1/N"
		if o.XPower != 0 {
			x = fmt.Sprintf("1/L^%g", o.XPower)
		}
		e := "(exact data)"
		if o.EInfErr != nil {
			e = fmt.Sprintf("+- %.2g", *o.EInfErr)
		}
		quality := "two sizes: the line goes through both"
		if o.FitChi2 != nil && o.FitDOF > 0 {
			quality = fmt.Sprintf("chi2/dof = %.3g/%d", *o.FitChi2, o.FitDOF)
		}
		fmt.Fprintf(&b, "infinite volume: E0/N = %.8g %s (weighted linear fit in %s, %s)\n", *o.EInf, e, x, quality)
	}
	if c := o.Critical; c != nil {
		line := func(name string, m2c, err, drift, ext, extErr, extRes *float64, cs []scanCrossingJSON, why string) {
			if m2c == nil {
				fmt.Fprintf(&b, "critical point from %s: none (%s)\n", name, why)
				return
			}
			// A missing error (no bootstrap resample crossed) prints as value(?).
			est := func(v float64, e *float64) string {
				x := results.Estimate{Value: v, Error: math.NaN()}
				if e != nil {
					x.Error = *e
				}
				return results.FormatEstimate(x)
			}
			fmt.Fprintf(&b, "critical point from %s: m2_c = %s", name, est(*m2c, err))
			if drift != nil && len(cs) > 1 {
				fmt.Fprintf(&b, "  (drift from the previous pair %+.2g)", *drift)
			}
			fmt.Fprintln(&b)
			for _, x := range cs {
				fmt.Fprintf(&b, "  crossing L = %d, %d: m2 = %s (value %.4g, resolved in %.0f%% of resamples)\n",
					x.L1, x.L2, est(x.M2, x.Err), x.Value, 100*x.Resolved)
			}
			if ext != nil {
				res := math.NaN()
				if extRes != nil {
					res = *extRes
				}
				fmt.Fprintf(&b, "  extrapolated in L from the last two crossings (shift ~ L^-(1/nu + omega), 3D Ising nu = %.4g, omega = %.4g): m2_c = %s (resolved in %.0f%% of resamples)\n",
					c.NuIsing, c.OmegaIsing, est(*ext, extErr), 100*res)
			}
		}
		if len(c.Excluded) > 0 {
			fmt.Fprintf(&b, "left out of the analysis (VMC diverged): %s\n", strings.Join(c.Excluded, "; "))
		}
		line("the U4 crossings (U4 of the "+binderMethod(o.Rows)+")", c.M2cBinder, c.M2cBinderErr, c.BinderDrift,
			c.M2cBinderExt, c.M2cBinderExtErr, c.BinderExtRes, c.BinderCrossings, c.BinderWhy)
		line("the L x gap crossings ("+c.GapMethod+")", c.M2cGap, c.M2cGapErr, c.GapDrift,
			c.M2cGapExt, c.M2cGapExtErr, c.GapExtRes, c.GapCrossings, c.GapWhy)
		if c.M2cBinder != nil && c.M2cGap != nil && c.M2cBinderErr != nil && c.M2cGapErr != nil {
			fmt.Fprintf(&b, "the two estimates differ by %.2f combined sigma (largest pair)",
				stats.CombinedSigmas(*c.M2cBinder, *c.M2cBinderErr, *c.M2cGap, *c.M2cGapErr))
			if c.M2cBinderExt != nil && c.M2cGapExt != nil && c.M2cBinderExtErr != nil && c.M2cGapExtErr != nil {
				fmt.Fprintf(&b, ", %.2f extrapolated", stats.CombinedSigmas(*c.M2cBinderExt, *c.M2cBinderExtErr, *c.M2cGapExt, *c.M2cGapExtErr))
			}
			fmt.Fprintln(&b)
		}
		if c.CollapseIsing != nil {
			fmt.Fprintf(&b, "collapse of U4 with nu = %.5f (3D Ising): quality %.3g (about 1: collapses within errors)\n", c.NuIsing, *c.CollapseIsing)
		}
		if c.NuFit != nil {
			fmt.Fprintf(&b, "nu fitted to the best collapse about the largest pair's m2_c: %.3f +- %.2g\n", *c.NuFit, *c.NuFitErr)
		}
		if c.NuFitExt != nil && c.M2cBinderExt != nil {
			fmt.Fprintf(&b, "nu fitted to the collapse about the extrapolated m2_c = %.5g: %.3f +- %.2g\n", *c.M2cBinderExt, *c.NuFitExt, *c.NuFitExtErr)
		}
	}
	for _, p := range o.Plots {
		fmt.Fprintf(&b, "plot: %s\n", p)
	}
	if o.Interrupted {
		fmt.Fprintln(&b, "interrupted: unfinished points are checkpointed in the store; run the same command again to continue")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// emitSlurm writes a job-array script that runs one size per task into the shared store, with
// every flag the user set passed on.
func emitSlurm(w io.Writer, cmd *cobra.Command, store string, sizes []int, m2s []float64) error {
	abs, err := filepath.Abs(store)
	if err != nil {
		return err
	}
	var flags []string
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		switch fl.Name {
		case "L", "m2", "store", "emit", "plots", "json", "jobs", "help":
			return
		}
		flags = append(flags, "--"+fl.Name+" "+shellQuote(fl.Value.String()))
	})
	var sz, ms, tasksL, tasksM []string
	for _, l := range sizes {
		sz = append(sz, strconv.Itoa(l))
	}
	for _, m := range m2s {
		ms = append(ms, strconv.FormatFloat(m, 'g', -1, 64))
	}
	for _, m := range ms { // one array task per (L, m2) point, largest work last
		for _, l := range sz {
			tasksL, tasksM = append(tasksL, l), append(tasksM, m)
		}
	}
	chains, _ := cmd.Flags().GetInt("chains")
	all := strings.Join(flags, " ")
	_, err = fmt.Fprintf(w, `#!/bin/bash
# Slurm job array written by: vqs scan --emit slurm (vqs %s)
# One (L, m2) point per array task; every task writes into the shared store below. A task that
# is preempted (SIGTERM) checkpoints its size in the store and exits with status 3; requeued,
# it resumes from there.
# Submit with: sbatch THIS_FILE.  When all tasks are done, merge and extrapolate with:
#   vqs results table --store %s
#   vqs scan --L %s --m2 %s --store %s %s
#SBATCH --job-name=vqs-scan
#SBATCH --array=0-%d
#SBATCH --cpus-per-task=%d
#SBATCH --time=24:00:00
#SBATCH --signal=TERM@120
#SBATCH --requeue
set -euo pipefail
SIZES=(%s)
M2S=(%s)
L=${SIZES[$SLURM_ARRAY_TASK_ID]}
M2=${M2S[$SLURM_ARRAY_TASK_ID]}
exec vqs scan --L "$L" --m2 "$M2" --store %s --plots %s/plots/L${L}_m2_${M2} %s
`, version, abs, strings.Join(sz, ","), strings.Join(ms, ","), abs, all, len(tasksL)-1, max(2, chains/4),
		strings.Join(tasksL, " "), strings.Join(tasksM, " "), abs, abs, all)
	return err
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe characters.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.,+=/:", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// binderMethod names the state whose U4 the rows carry: the common method, or both when the
// store mixes records from before and after the Rayleigh-Ritz U4 existed.
func binderMethod(rows []scanRowJSON) string {
	seen := map[string]bool{}
	for _, r := range rows {
		if r.BinderHow != "" {
			seen[r.BinderHow] = true
		}
	}
	switch len(seen) {
	case 0:
		return groundstate.BinderMethodPsi0
	case 1:
		for m := range seen {
			return m
		}
	}
	return groundstate.BinderMethodRR + " where the record has it, else " + groundstate.BinderMethodPsi0
}
