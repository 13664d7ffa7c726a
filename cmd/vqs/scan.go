package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"vqs/hamiltonian"
	"vqs/hamiltonian/ed"
	"vqs/results"
)

func init() { subcommands = append(subcommands, newScanCmd) }

type scanFlags struct {
	groundStateFlags
	Sizes   string
	Jobs    int
	Emit    string
	PlotDir string
	XPower  float64
}

func newScanCmd() *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Finite-size scan: VMC, Gaussian bound and exact values at several L, with an infinite-volume extrapolation",
		Long: `scan runs, at every lattice size in --L, the VMC ground state (same flags as ground-state),
the Gaussian-variational bound, the exact free energy when lambda = 0 and exact diagonalization
when the lattice is tiny (N <= 4), and stores every result in the results store (--store).

It resumes: a size whose VMC run with the same physics and VMC flags is already in the store
is skipped, so a killed scan is continued by running the same command again. It ends with a
table, an infinite-volume extrapolation of E0/N by a weighted linear fit in 1/N (or 1/L^p with
--x-power p) with its fit uncertainty, and plots (scaling.png and one VMC trace per size in
--plots DIR).

--emit slurm prints a Slurm job-array script instead of running: one size per array task,
all writing into one shared store; 'vqs results table --store DIR' then merges them and
'vqs scan' with the same flags (after the array finishes) prints the extrapolation and plots.`,
		Example: `  vqs scan --L 4,8,16 --m2 1 --lambda 24
  vqs scan --L 4,8,16,32 --m2 1 --lambda 24 --store /scratch/me/runs --emit slurm > scan.sbatch`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runScan(cmd, &f) },
	}
	f.registerCouplings(cmd, 1, 24)
	f.registerVMC(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.Sizes, "L", "4,8,16", "lattice sizes, comma-separated (sites per direction, periodic)")
	fl.StringVar(&f.Store, "store", "runs", "results store directory (shared by all sizes; see vqs results)")
	fl.IntVar(&f.Jobs, "jobs", 1, "sizes run at the same time (each VMC already uses every core through its chains)")
	fl.StringVar(&f.Emit, "emit", "", "instead of running, print a batch script: slurm (one job-array task per size)")
	fl.StringVar(&f.PlotDir, "plots", "", "directory for the PNG plots (default: <store>/plots)")
	fl.Float64Var(&f.XPower, "x-power", 0, "abscissa of the extrapolation: 1/L^p (0: p = dim, i.e. 1/N)")
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

// scanRow is one size of a scan: VMC with references.
type scanRow struct {
	L         int      `json:"L"`
	Sites     int      `json:"sites"`
	Energy    float64  `json:"energy"`
	EnergyErr float64  `json:"energy_err"`
	Variance  float64  `json:"variance"`
	Gaussian  float64  `json:"gaussian_energy"`
	Exact     *float64 `json:"exact_energy"`
	ExactHow  string   `json:"exact_method,omitempty"`
	ID        string   `json:"id"`
	Reused    bool     `json:"reused"`
	trace     string
}

type scanJSON struct {
	Method      string    `json:"method"`
	Dim         int       `json:"dim"`
	M2          float64   `json:"m2"`
	Lambda      float64   `json:"lambda"`
	Rows        []scanRow `json:"sizes"`
	EInf        *float64  `json:"energy_per_site_infinite_volume"`
	EInfErr     *float64  `json:"energy_per_site_infinite_volume_err"`
	FitChi2     *float64  `json:"fit_chi2"`
	FitDOF      int       `json:"fit_dof"`
	XPower      float64   `json:"x_power"`
	Plots       []string  `json:"plots"`
	Store       string    `json:"store"`
	Interrupted bool      `json:"interrupted,omitempty"`
	Version     string    `json:"version"`
}

func runScan(cmd *cobra.Command, f *scanFlags) error {
	sizes, err := parseSizes(f.Sizes)
	if err != nil {
		return usageError{err}
	}
	if f.Jobs < 1 {
		return usageError{fmt.Errorf("--jobs must be >= 1")}
	}
	models := make([]*hamiltonian.Model, len(sizes))
	for i, l := range sizes {
		f.L = l
		if models[i], err = f.model(); err != nil {
			return err
		}
	}
	if err := f.validate(); err != nil {
		return usageError{err}
	}
	switch f.Emit {
	case "":
	case "slurm":
		return emitSlurm(cmd.OutOrStdout(), f, sizes)
	default:
		return usageError{fmt.Errorf("--emit must be slurm, got %q", f.Emit)}
	}
	ctx := cmd.Context()
	if f.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.Timeout)
		defer cancel()
	}
	st, err := results.Open(f.Store)
	if err != nil {
		return err
	}
	rows := make([]scanRow, len(sizes))
	errs := make([]error, len(sizes))
	sem := make(chan struct{}, f.Jobs)
	var mu sync.Mutex // serializes progress output of parallel sizes
	var wg sync.WaitGroup
	for i, m := range models {
		sem <- struct{}{} // sizes start in order, at most --jobs at a time
		wg.Add(1)
		go func(i int, m *hamiltonian.Model) {
			defer wg.Done()
			defer func() { <-sem }()
			if ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			rows[i], errs[i] = scanSize(ctx, st, m, f, cmd.ErrOrStderr(), &mu)
		}(i, m)
	}
	wg.Wait()
	out := scanJSON{Method: "scan", Dim: f.Dim, M2: f.M2, Lambda: f.Lambda, XPower: f.XPower, Store: f.Store, Version: version}
	for i := range rows {
		if errs[i] != nil {
			if ctx.Err() != nil {
				out.Interrupted = true
				continue
			}
			return fmt.Errorf("L = %d: %w", sizes[i], errs[i])
		}
		out.Rows = append(out.Rows, rows[i])
	}
	if err := scanReport(st, f, &out); err != nil {
		return err
	}
	if f.JSON {
		return writeJSON(cmd.OutOrStdout(), out)
	}
	printScan(cmd.OutOrStdout(), out)
	return nil
}

// scanSize computes (or finds in the store) every result of one size.
func scanSize(ctx context.Context, st *results.Store, m *hamiltonian.Model, f *scanFlags, logw io.Writer, mu *sync.Mutex) (scanRow, error) {
	row := scanRow{L: m.L, Sites: m.N}
	p := results.Params{L: m.L, Dim: m.Dim, M2: m.M2, Lambda: m.Lambda}
	// References first: they are cheap, and stored once per problem.
	h, err := hamiltonian.SolveHartree(m)
	if err != nil {
		return row, err
	}
	row.Gaussian = h.Energy
	if err := putOnce(st, results.KindGaussian, p, func() *results.Record {
		return &results.Record{Estimates: map[string]results.Estimate{
			results.EstEnergy: results.Exact(h.Energy), results.EstEnergyPerSite: results.Exact(h.Energy / float64(m.N)),
			"mass": results.Exact(h.Mass), "vev": results.Exact(h.VEV)}}
	}); err != nil {
		return row, err
	}
	if ref, err := ed.Reference(ctx, m, ed.ReferenceConfig{}); err == nil && ref.Converged {
		ex, how := ref.Energy, ref.String()
		row.Exact, row.ExactHow = &ex, how
		if err := putOnce(st, results.KindExact, p, func() *results.Record {
			return &results.Record{Estimates: map[string]results.Estimate{
				results.EstEnergy: results.Exact(ex), results.EstEnergyPerSite: results.Exact(ex / float64(m.N))},
				Notes: how}
		}); err != nil {
			return row, err
		}
	}
	vp := p
	vp.Extra = f.extra()
	found, _, err := st.Find(results.KindScan, vp)
	if err != nil {
		return row, err
	}
	for _, r := range found {
		if r.Status == results.StatusDone {
			e := r.Estimates[results.EstEnergy]
			row.Energy, row.EnergyErr = e.Value, e.Error
			row.Variance = r.Estimates[results.EstVariance].Value
			row.ID, row.Reused, row.trace = r.ID, true, r.Trace
			mu.Lock()
			fmt.Fprintf(logw, "scan: L = %d already in the store (%s), skipped\n", m.L, r.ID)
			mu.Unlock()
			return row, nil
		}
	}
	g := f.groundStateFlags
	g.L, g.Out, g.Resume = m.L, "", false
	mu.Lock()
	fmt.Fprintf(logw, "scan: L = %d (%d sites)\n", m.L, m.N)
	mu.Unlock()
	run, err := solveGroundState(ctx, m, &g, &lockedWriter{w: logw, mu: mu})
	if err != nil {
		return row, err
	}
	if run.out.Stopped != "" {
		// An interrupted size is not stored as done, so a rerun computes it again.
		return row, context.Canceled
	}
	id, err := storeGroundState(st.Dir(), results.KindScan, m, &g, run)
	if err != nil {
		return row, err
	}
	row.Energy, row.EnergyErr, row.Variance, row.ID = run.out.Energy, run.out.EnergyErr, run.out.Variance, id
	if rec, err := st.Get(id); err == nil {
		row.trace = rec.Trace
	}
	return row, nil
}

// putOnce stores a deterministic reference result unless the store already has one.
func putOnce(st *results.Store, kind string, p results.Params, mk func() *results.Record) error {
	found, _, err := st.Find(kind, p)
	if err != nil || len(found) > 0 {
		return err
	}
	rec := mk()
	rec.Kind, rec.Status, rec.Version, rec.Host = kind, results.StatusDone, version, hostname()
	rec.Params = p
	rec.Started, rec.Finished = time.Now(), time.Now()
	return st.Put(rec)
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// scanReport fits the infinite-volume E0/N and draws the plots.
func scanReport(st *results.Store, f *scanFlags, out *scanJSON) error {
	if len(out.Rows) == 0 {
		return nil
	}
	dir := f.PlotDir
	if dir == "" {
		dir = filepath.Join(st.Dir(), "plots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tag := fmt.Sprintf("d%d_m2_%g_lambda_%g", f.Dim, f.M2, f.Lambda)
	sp := results.ScalingPlot{Title: fmt.Sprintf("E0/N, %dD lattice, m2 = %g, lambda = %g", f.Dim, f.M2, f.Lambda),
		Dim: f.Dim, XPower: f.XPower, Data: results.ScalingSeries{Label: "VMC"}, Fit: len(out.Rows) >= 2}
	gauss := results.ScalingSeries{Label: "Gaussian bound"}
	exact := results.ScalingSeries{Label: "exact"}
	for _, r := range out.Rows {
		n := float64(r.Sites)
		sp.Data.Points = append(sp.Data.Points, results.ScalingPoint{L: r.L, EPerSite: r.Energy / n, Err: r.EnergyErr / n})
		gauss.Points = append(gauss.Points, results.ScalingPoint{L: r.L, EPerSite: r.Gaussian / n})
		if r.Exact != nil {
			exact.Points = append(exact.Points, results.ScalingPoint{L: r.L, EPerSite: *r.Exact / n})
		}
	}
	sp.ReferencePoints = append(sp.ReferencePoints, gauss)
	if len(exact.Points) > 0 {
		sp.ReferencePoints = append(sp.ReferencePoints, exact)
	}
	path := filepath.Join(dir, "scaling_"+tag+".png")
	fit, err := results.PlotScaling(path, sp)
	if err != nil {
		return err
	}
	out.Plots = append(out.Plots, path)
	if fit != nil {
		out.EInf, out.EInfErr, out.FitChi2, out.FitDOF = finite(fit.A), finite(fit.ErrA), finite(fit.Chi2), fit.DOF
	}
	for _, r := range out.Rows {
		if r.trace == "" {
			continue
		}
		pts, err := st.ReadTrace(results.Record{ID: r.ID, Trace: r.trace})
		if err != nil && len(pts) == 0 {
			continue
		}
		refs := []results.Reference{{Label: "Gaussian bound", Value: r.Gaussian}}
		if r.Exact != nil {
			refs = append(refs, results.Reference{Label: "exact", Value: *r.Exact})
		}
		tp := filepath.Join(dir, fmt.Sprintf("trace_%s_L%d.png", tag, r.L))
		if err := results.PlotTrace(tp, results.TracePlot{Title: fmt.Sprintf("VMC convergence, L = %d", r.L),
			Points: pts, References: refs}); err != nil {
			return err
		}
		out.Plots = append(out.Plots, tp)
	}
	return nil
}

func printScan(w io.Writer, o scanJSON) {
	fmt.Fprintf(w, "scan: %dD, m2 = %g, lambda = %g  (store %s)\n", o.Dim, o.M2, o.Lambda, o.Store)
	fmt.Fprintf(w, "%4s %6s %24s %16s %12s %16s %18s\n", "L", "N", "E0 (VMC)", "E0/N", "Var(E_loc)", "Gaussian bound", "exact")
	for _, r := range o.Rows {
		ex := "-"
		if r.Exact != nil {
			ex = fmt.Sprintf("%.10g", *r.Exact)
		}
		note := ""
		if r.Reused {
			note = "  (from store)"
		}
		n := float64(r.Sites)
		fmt.Fprintf(w, "%4d %6d %14.8g +- %-7.2g %16.10g %12.4g %16.10g %18s%s\n", r.L, r.Sites, r.Energy, r.EnergyErr,
			r.Energy/n, r.Variance, r.Gaussian, ex, note)
	}
	if o.EInf != nil {
		x := "1/N"
		if o.XPower != 0 {
			x = fmt.Sprintf("1/L^%g", o.XPower)
		}
		errs, chi := math.NaN(), math.NaN()
		if o.EInfErr != nil {
			errs = *o.EInfErr
		}
		if o.FitChi2 != nil {
			chi = *o.FitChi2
		}
		fmt.Fprintf(w, "infinite volume: E0/N = %.8g +- %.2g (weighted linear fit in %s, chi2/dof = %.3g/%d)\n",
			*o.EInf, errs, x, chi, o.FitDOF)
	}
	for _, p := range o.Plots {
		fmt.Fprintf(w, "plot: %s\n", p)
	}
	if o.Interrupted {
		fmt.Fprintln(w, "interrupted: unfinished sizes are not stored; run the same command again to continue")
	}
}

// emitSlurm writes a job-array script that runs one size per task into the shared store.
func emitSlurm(w io.Writer, f *scanFlags, sizes []int) error {
	store, err := filepath.Abs(f.Store)
	if err != nil {
		return err
	}
	var flags []string
	for _, c := range [][2]string{
		{"dim", strconv.Itoa(f.Dim)}, {"m2", fmt.Sprint(f.M2)}, {"lambda", fmt.Sprint(f.Lambda)},
		{"iters", strconv.Itoa(f.Iters)}, {"samples", strconv.Itoa(f.Samples)}, {"measure-samples", strconv.Itoa(f.MeasureSamples)},
		{"chains", strconv.Itoa(f.Chains)}, {"scales", strconv.Itoa(f.Scales)}, {"width", strconv.Itoa(f.Width)},
		{"steps", strconv.Itoa(f.Steps)}, {"optimizer", f.Optimizer}, {"lr", fmt.Sprint(f.LR)},
		{"sr-shift", fmt.Sprint(f.Shift)}, {"sr-eps", fmt.Sprint(f.SREps)}, {"init", f.Init}, {"sampler", f.Sampler}, {"levels", strconv.Itoa(f.Levels)},
		{"seed", fmt.Sprint(f.Seed)},
	} {
		flags = append(flags, "--"+c[0]+" "+c[1])
	}
	var sz []string
	for _, l := range sizes {
		sz = append(sz, strconv.Itoa(l))
	}
	all := strings.Join(flags, " ")
	_, err = fmt.Fprintf(w, `#!/bin/bash
# Slurm job array written by: vqs scan --emit slurm (vqs %s)
# One lattice size per array task; every task writes into the shared store below.
# Submit with: sbatch THIS_FILE.  When all tasks are done, merge and extrapolate with:
#   vqs results table --store %s
#   vqs scan --L %s --store %s %s
#SBATCH --job-name=vqs-scan
#SBATCH --array=0-%d
#SBATCH --cpus-per-task=%d
#SBATCH --time=24:00:00
#SBATCH --signal=TERM@120
set -euo pipefail
SIZES=(%s)
L=${SIZES[$SLURM_ARRAY_TASK_ID]}
exec vqs scan --L "$L" --store %s --plots %s/plots/L$L %s
`, version, store, strings.Join(sz, ","), store, all, len(sizes)-1, max(2, f.Chains/4),
		strings.Join(sz, " "), store, store, all)
	return err
}
