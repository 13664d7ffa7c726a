package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"vqs/hamiltonian"
	"vqs/hamiltonian/ed"
	"vqs/pimc"
)

func init() { subcommands = append(subcommands, newCompareCmd) }

type compareFlags struct {
	groundStateFlags
	Sizes       string
	NMax        int
	PIMCEps     string
	PIMCSamples int
	NoPIMC      bool
}

// energyResult is one method's energy in a comparison; Err is 0 for exact values.
type energyResult struct {
	Method string  `json:"method"`
	Energy float64 `json:"energy"`
	Err    float64 `json:"energy_err"`
	Note   string  `json:"note,omitempty"`
}

// pairDiff is the difference of two methods in units of their combined error bar.
type pairDiff struct {
	A, B   string
	Diff   float64  `json:"diff"`
	Sigmas *float64 `json:"sigmas"` // nil when both are exact
}

type compareRow struct {
	L       int            `json:"L"`
	Sites   int            `json:"sites"`
	Results []energyResult `json:"results"`
	Diffs   []pairDiff     `json:"diffs"`
}

func newCompareCmd() *cobra.Command {
	var f compareFlags
	cmd := &cobra.Command{
		Use:   "compare",
		Short: "VMC, exact (ED or free), Gaussian and path-integral energies side by side",
		Long: `compare computes, at every size in --L, the ground-state energy by
  vmc       the variational Monte Carlo of ground-state (an upper bound, up to its error),
  exact     exact diagonalization on tiny lattices (N <= 4, --nmax levels per site) or the free
            theory at lambda = 0,
  gaussian  the Gaussian-variational (Hartree) bound,
  pimc      the path-integral estimate (vqs pimc: virial estimator, eps^2 extrapolation),
and prints them side by side with every pairwise difference in units of the combined error bar
(sqrt(err_a^2 + err_b^2); exact values have no error). Energies in lattice units.`,
		Example: "  vqs compare --L 1,2 --m2 1 --lambda 24\n  vqs compare --L 2 --m2 -1 --lambda 12 --json",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, args []string) error { return runCompare(cmd, &f) },
	}
	f.registerCouplings(cmd, 1, 24)
	f.registerVMC(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.Sizes, "L", "1,2", "lattice sizes, comma-separated")
	fl.IntVar(&f.NMax, "nmax", 0, "ED: harmonic-oscillator levels per site (0: the exact command's default for the size)")
	fl.StringVar(&f.PIMCEps, "pimc-eps", "0.2,0.14,0.1", "pimc: time spacings for the eps^2 extrapolation, comma-separated")
	fl.IntVar(&f.PIMCSamples, "pimc-samples", 4000, "pimc: samples per chain per eps")
	fl.BoolVar(&f.NoPIMC, "no-pimc", false, "skip the path-integral estimate")
	return cmd
}

func parseFloats(s, flag string) ([]float64, error) {
	var out []float64
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s: %q is not a positive number", flag, p)
		}
		out = append(out, v)
	}
	return out, nil
}

func runCompare(cmd *cobra.Command, f *compareFlags) error {
	sizes, err := parseSizes(f.Sizes)
	if err != nil {
		return usageError{err}
	}
	eps, err := parseFloats(f.PIMCEps, "--pimc-eps")
	if err != nil {
		return usageError{err}
	}
	if !f.NoPIMC && len(eps) < 2 {
		return usageError{fmt.Errorf("--pimc-eps needs at least two time spacings")}
	}
	if err := f.validate(); err != nil {
		return usageError{err}
	}
	ctx := cmd.Context()
	var rows []compareRow
	for _, l := range sizes {
		f.L = l
		m, err := f.model()
		if err != nil {
			return err
		}
		row, err := compareSize(ctx, cmd.ErrOrStderr(), m, f, eps)
		if err != nil {
			return fmt.Errorf("L = %d: %w", l, err)
		}
		rows = append(rows, row)
		if ctx.Err() != nil {
			break
		}
	}
	if f.JSON {
		return writeJSON(cmd.OutOrStdout(), rows)
	}
	printCompare(cmd.OutOrStdout(), f, rows)
	return nil
}

func compareSize(ctx context.Context, logw io.Writer, m *hamiltonian.Model, f *compareFlags, eps []float64) (compareRow, error) {
	row := compareRow{L: m.L, Sites: m.N}
	fmt.Fprintf(logw, "compare: L = %d: VMC\n", m.L)
	g := f.groundStateFlags
	g.Out, g.Resume = "", false
	run, err := solveGroundState(ctx, m, &g, logw)
	if err != nil {
		return row, err
	}
	note := ""
	if run.out.Stopped != "" {
		note = run.out.Stopped
	}
	row.Results = append(row.Results, energyResult{"vmc", run.out.Energy, run.out.EnergyErr, note})
	announced := false
	ref, err := ed.Reference(ctx, m, ed.ReferenceConfig{NMax: f.NMax, Progress: func(p ed.Progress) {
		if !announced {
			fmt.Fprintf(logw, "compare: L = %d: exact diagonalization, nmax %d\n", m.L, p.NMax)
			announced = true
		}
	}})
	switch {
	case errors.Is(err, ed.ErrNoReference):
	case err != nil && ctx.Err() == nil:
		return row, usageError{err} // a refused --nmax
	case err != nil:
		return row, err
	case ref.ED == nil:
		row.Results = append(row.Results, energyResult{"exact", ref.Energy, 0, ref.Method})
	default:
		row.Results = append(row.Results, energyResult{"exact", ref.Energy, 0,
			fmt.Sprintf("ED nmax %d, truncation change %.1g", ref.NMax, ref.TruncationChange)})
	}
	h, err := hamiltonian.SolveHartree(m)
	if err != nil {
		return row, err
	}
	row.Results = append(row.Results, energyResult{"gaussian", h.Energy, 0, "Hartree bound"})
	if !f.NoPIMC && ctx.Err() == nil {
		fmt.Fprintf(logw, "compare: L = %d: path integral\n", m.L)
		pr, err := pimc.Run(ctx, pimc.Config{L: m.L, Dim: m.Dim, M2: m.M2, Lambda: m.Lambda, Eps: eps,
			Samples: f.PIMCSamples, Seed: f.Seed}, nil)
		if err != nil {
			return row, err
		}
		note := fmt.Sprintf("eps^2 extrapolation over %d spacings, beta %.3g", len(pr.Points), pr.Beta)
		if pr.BetaCheck != nil && pr.BetaCheck.Flagged {
			note += fmt.Sprintf("; WARNING: doubling beta moved E by %.1f sigma", pr.BetaCheck.Sigmas)
		}
		if pr.Raw != nil && pr.GaussianFit != nil {
			if z := (pr.Raw.E0 - pr.GaussianFit.E0) / math.Hypot(pr.Raw.Err, pr.GaussianFit.Err); math.Abs(z) > 2 {
				note += fmt.Sprintf("; raw and Gaussian-subtracted extrapolations differ by %.1f sigma (eps too large?)", z)
			}
		}
		row.Results = append(row.Results, energyResult{"pimc", pr.E0, pr.Err, note})
	}
	for i := 0; i < len(row.Results); i++ {
		for j := i + 1; j < len(row.Results); j++ {
			a, b := row.Results[i], row.Results[j]
			d := pairDiff{A: a.Method, B: b.Method, Diff: a.Energy - b.Energy}
			if c := math.Hypot(a.Err, b.Err); c > 0 {
				s := d.Diff / c
				d.Sigmas = &s
			}
			row.Diffs = append(row.Diffs, d)
		}
	}
	return row, nil
}

func printCompare(w io.Writer, f *compareFlags, rows []compareRow) {
	fmt.Fprintf(w, "compare: %dD, m2 = %g, lambda = %g\n", f.Dim, f.M2, f.Lambda)
	for _, r := range rows {
		fmt.Fprintf(w, "\nL = %d (%d sites)\n", r.L, r.Sites)
		for _, e := range r.Results {
			val := fmt.Sprintf("%.10g", e.Energy)
			if e.Err > 0 {
				val = fmt.Sprintf("%.10g +- %.2g", e.Energy, e.Err)
			}
			fmt.Fprintf(w, "  %-9s %-28s %s\n", e.Method, val, e.Note)
		}
		for _, d := range r.Diffs {
			sig := "(both exact)"
			if d.Sigmas != nil {
				sig = fmt.Sprintf("%+.2f sigma", *d.Sigmas)
			}
			fmt.Fprintf(w, "  %-8s - %-8s = %+.4g  %s\n", d.A, d.B, d.Diff, sig)
		}
	}
}
