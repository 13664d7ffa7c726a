package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"vqs/results"
	"vqs/scan"
)

func init() { subcommands = append(subcommands, newScanCmd) }

func newScanCmd() *cobra.Command {
	var f groundStateFlags
	var sizes, emit, plotDir, store string
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
			f.L = ls[0]
			g, err := f.config(cmd)
			if err != nil {
				return err
			}
			cfg := scan.Config{Sizes: ls, GroundState: g, Store: store, Jobs: jobs, XPower: xPower}
			if err := cfg.Validate(); err != nil {
				return usageError{err}
			}
			switch emit {
			case "":
			case "slurm":
				return emitSlurm(cmd.OutOrStdout(), cmd, store, ls)
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
			progs := map[int]*progress{}
			var mu sync.Mutex
			res, err := scan.Run(ctx, cfg, func(p scan.Progress) {
				mu.Lock()
				defer mu.Unlock()
				switch p.Event {
				case "reused":
					fmt.Fprintf(logw, "scan: L = %d already in the store (%s), reused\n", p.L, p.ID)
				case "resume":
					fmt.Fprintf(logw, "scan: L = %d resumes from its checkpoint at iteration %d\n", p.L, p.Resume)
				case "start":
					fmt.Fprintf(logw, "scan: L = %d\n", p.L)
				case "run":
					if progs[p.L] == nil {
						progs[p.L] = newProgress(logw)
					}
					progs[p.L].update(p.Run)
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
	f.registerCouplings(cmd, 1, 24)
	f.registerVMC(cmd)
	fl := cmd.Flags()
	fl.StringVar(&sizes, "L", "4,8,16", "lattice sizes, comma-separated (sites per direction, periodic)")
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

type scanRowJSON struct {
	L         int      `json:"L"`
	Sites     int      `json:"sites"`
	Energy    float64  `json:"energy"`
	EnergyErr float64  `json:"energy_err"`
	Variance  *float64 `json:"variance"`
	Gaussian  float64  `json:"gaussian_energy"`
	Exact     *float64 `json:"exact_energy"`
	ExactHow  string   `json:"exact_method,omitempty"`
	ID        string   `json:"id"`
	Reused    bool     `json:"reused"`
	Resumed   int      `json:"resumed_from,omitempty"`
}

type scanOutJSON struct {
	Method      string        `json:"method"`
	Dim         int           `json:"dim"`
	M2          float64       `json:"m2"`
	Lambda      float64       `json:"lambda"`
	Rows        []scanRowJSON `json:"sizes"`
	EInf        *float64      `json:"energy_per_site_infinite_volume"`
	EInfErr     *float64      `json:"energy_per_site_infinite_volume_err"`
	FitChi2     *float64      `json:"fit_chi2"`
	FitDOF      int           `json:"fit_dof"`
	XPower      float64       `json:"x_power"`
	Plots       []string      `json:"plots"`
	Store       string        `json:"store"`
	Interrupted bool          `json:"interrupted,omitempty"`
	Version     string        `json:"version"`
}

func scanJSON(res *scan.Result, cfg scan.Config, plots []string) scanOutJSON {
	g := cfg.GroundState.WithDefaults()
	out := scanOutJSON{Method: "scan", Dim: g.Dim, M2: g.M2, Lambda: g.Lambda, XPower: cfg.XPower, Plots: plots,
		Store: cfg.Store, Interrupted: res.Interrupted, Version: version}
	for _, r := range res.Rows {
		row := scanRowJSON{L: r.L, Sites: r.Sites, Energy: r.Energy.Value, EnergyErr: r.Energy.Error,
			Variance: finite(r.Variance.Value), Gaussian: r.Gaussian, ID: r.ID, Reused: r.Reused, Resumed: r.Resumed}
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
	return out
}

func printScan(w io.Writer, o scanOutJSON) error {
	var b strings.Builder
	fmt.Fprintf(&b, "scan: %dD, m2 = %g, lambda = %g  (store %s)\n", o.Dim, o.M2, o.Lambda, o.Store)
	tab := [][]string{{"L", "N", "E0 (VMC)", "E0/N", "Var(E_loc)", "Gaussian bound", "exact", ""}}
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
		tab = append(tab, []string{strconv.Itoa(r.L), strconv.Itoa(r.Sites), fmt.Sprintf("%.8g +- %.2g", r.Energy, r.EnergyErr),
			fmt.Sprintf("%.10g", r.Energy/n), v, fmt.Sprintf("%.10g", r.Gaussian), ex, note})
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
	for _, p := range o.Plots {
		fmt.Fprintf(&b, "plot: %s\n", p)
	}
	if o.Interrupted {
		fmt.Fprintln(&b, "interrupted: unfinished sizes are checkpointed in the store; run the same command again to continue")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// emitSlurm writes a job-array script that runs one size per task into the shared store, with
// every flag the user set passed on.
func emitSlurm(w io.Writer, cmd *cobra.Command, store string, sizes []int) error {
	abs, err := filepath.Abs(store)
	if err != nil {
		return err
	}
	var flags []string
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		switch fl.Name {
		case "L", "store", "emit", "plots", "json", "jobs", "help":
			return
		}
		flags = append(flags, "--"+fl.Name+" "+shellQuote(fl.Value.String()))
	})
	var sz []string
	for _, l := range sizes {
		sz = append(sz, strconv.Itoa(l))
	}
	chains, _ := cmd.Flags().GetInt("chains")
	all := strings.Join(flags, " ")
	_, err = fmt.Fprintf(w, `#!/bin/bash
# Slurm job array written by: vqs scan --emit slurm (vqs %s)
# One lattice size per array task; every task writes into the shared store below. A task that
# is preempted (SIGTERM) checkpoints its size in the store and exits with status 3; requeued,
# it resumes from there.
# Submit with: sbatch THIS_FILE.  When all tasks are done, merge and extrapolate with:
#   vqs results table --store %s
#   vqs scan --L %s --store %s %s
#SBATCH --job-name=vqs-scan
#SBATCH --array=0-%d
#SBATCH --cpus-per-task=%d
#SBATCH --time=24:00:00
#SBATCH --signal=TERM@120
#SBATCH --requeue
set -euo pipefail
SIZES=(%s)
L=${SIZES[$SLURM_ARRAY_TASK_ID]}
exec vqs scan --L "$L" --store %s --plots %s/plots/L$L %s
`, version, abs, strings.Join(sz, ","), abs, all, len(sizes)-1, max(2, chains/4),
		strings.Join(sz, " "), abs, abs, all)
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
