package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"vqs/compare"
	"vqs/dmc"
)

func init() { subcommands = append(subcommands, newCompareCmd) }

func newCompareCmd() *cobra.Command {
	var f groundStateFlags
	var sizes, pimcEps string
	var nmax, pimcSamples int
	var noPIMC, withDMC bool
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
(sqrt(err_a^2 + err_b^2); exact values have no error). Energies in lattice units.

The default sizes are L = 1 and 2 because exact diagonalization, the point of the comparison,
converges only there (use --L 4,8 for VMC against the path integral alone).`,
		Example: "  vqs compare --L 1,2 --m2 1 --lambda 24\n  vqs compare --L 2 --m2 -1 --lambda 12 --json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ls, err := parseSizes(sizes)
			if err != nil {
				return usageError{err}
			}
			eps, err := parseFloats(pimcEps, "--pimc-eps")
			if err != nil {
				return usageError{err}
			}
			f.L = ls[0]
			g, err := f.config(cmd)
			if err != nil {
				return err
			}
			cfg := compare.Config{Sizes: ls, GroundState: g, NMax: nmax, PIMCEps: eps, PIMCSamples: pimcSamples, NoPIMC: noPIMC}
			if withDMC {
				cfg.DMC = &dmc.Config{Seed: g.Seed}
			}
			if err := cfg.Validate(); err != nil {
				return usageError{err}
			}
			if validateOnly {
				return nil
			}
			logw := cmd.ErrOrStderr()
			res, err := compare.Run(cmd.Context(), cfg, func(L int, method string) {
				fmt.Fprintf(logw, "compare: L = %d: %s\n", L, method)
			})
			if err != nil {
				return err
			}
			if f.JSON {
				err = writeJSON(cmd.OutOrStdout(), struct {
					Method string `json:"method"`
					*compare.Result
					Version string `json:"version"`
				}{"compare", res, version})
			} else {
				err = printCompare(cmd.OutOrStdout(), res)
			}
			if err != nil {
				return err
			}
			if res.Interrupted {
				return interruptedError{"the sizes above are complete"}
			}
			return nil
		},
	}
	f.registerCouplings(cmd, 1, 24)
	f.registerVMC(cmd)
	fl := cmd.Flags()
	fl.StringVar(&sizes, "L", "1,2", "lattice sizes, comma-separated")
	fl.IntVar(&nmax, "nmax", 0, "ED: harmonic-oscillator levels per site (0: the exact command's default for the size)")
	fl.StringVar(&pimcEps, "pimc-eps", "0.2,0.14,0.1", "pimc: time spacings for the eps^2 extrapolation, comma-separated")
	fl.IntVar(&pimcSamples, "pimc-samples", 4000, "pimc: samples per chain per eps")
	fl.BoolVar(&noPIMC, "no-pimc", false, "skip the path-integral estimate")
	fl.BoolVar(&withDMC, "dmc", false, "add diffusion Monte Carlo guided by each size's VMC state (vqs dmc's defaults)")
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

func printCompare(w io.Writer, res *compare.Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "compare: %dD, m2 = %g, lambda = %g\n", res.Dim, res.M2, res.Lambda)
	for _, r := range res.Rows {
		fmt.Fprintf(&b, "\nL = %d (%d sites)\n", r.L, r.Sites)
		for _, e := range r.Entries {
			val := fmt.Sprintf("%.10g", e.Energy)
			if e.Err > 0 {
				val = fmt.Sprintf("%.10g +- %.2g", e.Energy, e.Err)
			}
			fmt.Fprintf(&b, "  %-9s %-28s %s\n", e.Method, val, e.Note)
		}
		for _, d := range r.Diffs {
			sig := "(both exact)"
			if d.Sigmas != nil {
				sig = fmt.Sprintf("%+.2f sigma", *d.Sigmas)
			}
			fmt.Fprintf(&b, "  %-8s - %-8s = %+.4g  %s\n", d.A, d.B, d.Diff, sig)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
