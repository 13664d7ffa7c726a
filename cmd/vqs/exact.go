package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/spf13/cobra"

	"vqs/hamiltonian"
	"vqs/hamiltonian/ed"
)

func init() { subcommands = append(subcommands, newExactCmd) }

// exactJSON is the --json output of vqs exact.
type exactJSON struct {
	Method           string   `json:"method"`
	L                int      `json:"L"`
	Dim              int      `json:"dim"`
	Sites            int      `json:"sites"`
	M2               float64  `json:"m2"`
	Lambda           float64  `json:"lambda"`
	Energy           float64  `json:"energy"`
	EnergyPerSite    float64  `json:"energy_per_site"`
	Gap              *float64 `json:"gap"`
	NMax             *int     `json:"nmax,omitempty"`
	Omega            *float64 `json:"omega,omitempty"`
	TruncationChange *float64 `json:"truncation_change,omitempty"`
	OddEnergy        *float64 `json:"odd_energy,omitempty"`
	States           int64    `json:"states,omitempty"`
	MemoryBytes      int64    `json:"memory_bytes,omitempty"`
	Iterations       int      `json:"lanczos_iterations,omitempty"`
	Seconds          float64  `json:"seconds"`
	Version          string   `json:"version"`
}

// defaultNMax is the number of levels per site that keeps ED of this size quick and converged
// for couplings of order one.
func defaultNMax(sites int) int {
	switch {
	case sites == 1:
		return 60
	case sites == 2:
		return 30
	case sites <= 4:
		return 16
	case sites <= 8:
		return 8
	default:
		return 6
	}
}

func newExactCmd() *cobra.Command {
	var pf physicsFlags
	var nmax int
	var omega float64
	var forceED bool
	cmd := &cobra.Command{
		Use:   "exact",
		Short: "Exact ground-state energy: analytic free theory (any size) or exact diagonalization (small lattices)",
		Long: `exact prints the ground-state energy E0 and the gap.

At lambda = 0 the theory is free and solved analytically at any size:
E0 = (1/2) sum_k omega_k, omega_k^2 = m2 + sum_mu 4 sin^2(k_mu/2), gap = sqrt(m2).

At lambda > 0 it diagonalizes H exactly (Lanczos, matrix-free) in a truncated harmonic-oscillator
basis of --nmax levels per site at frequency --omega, in the Z2-even sector (ground state) and the
odd sector. The gap is the lowest odd-sector energy minus E0 (the one-particle state in the
symmetric phase; in the broken phase it is the tunnelling splitting). truncation_change is
E0(nmax) - E0(nmax-2): the basis error is of that order or smaller. The Hilbert space has
nmax^N states, so ED is for tiny lattices (2x2 at nmax 18: about a second; 3x3 at nmax 8:
6.7e7 states per sector, about 17 minutes on 2 cores and 1.6 GB).
Energies in lattice units.`,
		Example: `  vqs exact --L 32 --m2 1 --lambda 0
  vqs exact --L 1 --m2 1 --lambda 24 --nmax 60
  vqs exact --L 2 --m2 -1 --lambda 12 --nmax 18 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := pf.model()
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("nmax") && nmax < 4 {
				return usageError{fmt.Errorf("--nmax must be at least 4, got %d", nmax)}
			}
			if math.IsNaN(omega) || math.IsInf(omega, 0) || omega < 0 {
				return usageError{fmt.Errorf("--omega must be a finite number > 0 (or 0 for the default), got %v", omega)}
			}
			if validateOnly {
				return nil
			}
			t0 := time.Now()
			out := exactJSON{L: m.L, Dim: m.Dim, Sites: m.N, M2: m.M2, Lambda: m.Lambda, Version: version}
			if m.Lambda == 0 && !forceED {
				f, err := hamiltonian.NewFreeTheory(m.Lattice, m.M2)
				if err != nil {
					return err
				}
				out.Method = "free"
				out.Energy = f.Energy()
				out.Gap = finite(f.Gap())
			} else {
				if !cmd.Flags().Changed("nmax") {
					nmax = defaultNMax(m.N)
				}
				res, err := solveED(cmd.Context(), m, nmax, omega, cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				out.Method = "ed"
				out.Energy = res.Energy
				out.Gap = finite(res.Gap)
				out.NMax = &res.NMax
				out.Omega = finite(res.Omega)
				out.TruncationChange = finite(res.TruncationChange)
				out.OddEnergy = finite(res.OddEnergy)
				out.States = res.States
				out.MemoryBytes = res.MemoryBytes
				out.Iterations = res.Iterations
			}
			out.EnergyPerSite = out.Energy / float64(m.N)
			out.Seconds = time.Since(t0).Seconds()
			if pf.JSON {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			r := report{w: cmd.OutOrStdout()}
			if out.Method == "free" {
				r.add("method", "free theory (analytic)")
			} else {
				r.add("method", "exact diagonalization (Lanczos, Z2 sectors)")
			}
			r.add("lattice", "%d^%d = %d sites, m2 = %g, lambda = %g", m.L, m.Dim, m.N, m.M2, m.Lambda)
			r.add("energy", "%.15g", out.Energy)
			r.add("energy per site", "%.15g", out.EnergyPerSite)
			if out.Gap != nil {
				r.add("gap", "%.12g", *out.Gap)
			}
			if out.Method == "ed" {
				r.add("basis", "nmax = %d levels per site, omega = %.8g", *out.NMax, *out.Omega)
				if out.TruncationChange != nil {
					r.add("truncation change", "%.3g  (E0(nmax) - E0(nmax-2))", *out.TruncationChange)
				}
				r.add("even sector", "%d states, ~%.3g GiB, %d Lanczos iterations", out.States,
					float64(out.MemoryBytes)/(1<<30), out.Iterations)
			}
			r.add("time", "%.3g s", out.Seconds)
			return r.flush()
		},
	}
	pf.register(cmd, 2, 1, 24)
	cmd.Flags().IntVar(&nmax, "nmax", 0, "ED: harmonic-oscillator levels per site (default by size: 60 for 1 site, 30 for 2, 16 for 4, 8 for <= 8, else 6)")
	cmd.Flags().Float64Var(&omega, "omega", 0, "ED: basis frequency (0: that of the best product state, whose curvature includes the 2*dim of the gradient term)")
	cmd.Flags().BoolVar(&forceED, "ed", false, "use exact diagonalization even at lambda = 0 (a check of the ED against the analytic result)")
	return cmd
}

// solveED runs the ED with a convergence report, telling the user on stderr when it is large.
func solveED(ctx context.Context, m *hamiltonian.Model, nmax int, omega float64, logw io.Writer) (*ed.Result, error) {
	if mem := ed.MemoryEstimate(m, nmax); mem > 1<<28 && mem < 1<<36 {
		fmt.Fprintf(logw, "vqs: exact diagonalization needs ~%.2g GiB; this may take a while (Ctrl-C stops it)\n",
			float64(mem)/(1<<30))
	}
	cfg := ed.Config{NMax: nmax, Omega: omega, Convergence: true}
	if ed.MemoryEstimate(m, nmax) > 1<<26 {
		// Large solves take minutes: report the Lanczos progress every 10 iterations.
		start := time.Now()
		cfg.Progress = func(p ed.Progress) {
			if p.Iteration%10 == 0 {
				sector := "even"
				if p.Sector == 1 {
					sector = "odd"
				}
				fmt.Fprintf(logw, "ED nmax %d, %s sector: iteration %d, E = %.12g, residual %.2g, %v\n",
					p.NMax, sector, p.Iteration, p.Energy, p.Residual, time.Since(start).Round(time.Second))
			}
		}
	}
	res, err := ed.Solve(ctx, m, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted: %w", err)
		}
		return nil, usageError{err}
	}
	return res, nil
}

// exactReference returns an exact E0 when one is cheap: the free theory at lambda = 0, or a
// converged ED on a tiny lattice (truncation change below 1e-7 relative, far below any VMC
// error bar there).
func exactReference(ctx context.Context, m *hamiltonian.Model) (float64, string, bool) {
	if m.Lambda == 0 {
		f, err := hamiltonian.NewFreeTheory(m.Lattice, m.M2)
		if err != nil {
			return 0, "", false
		}
		return f.Energy(), "free theory", true
	}
	if m.N > 4 {
		return 0, "", false
	}
	nmax := defaultNMax(m.N)
	if m.N == 4 {
		nmax = 18
	}
	res, err := ed.Solve(ctx, m, ed.Config{NMax: nmax, Convergence: true})
	if err != nil || math.IsNaN(res.TruncationChange) || math.Abs(res.TruncationChange) > 1e-7*math.Max(1, math.Abs(res.Energy)) {
		return 0, "", false
	}
	return res.Energy, fmt.Sprintf("ED, nmax %d, truncation change %.1g", nmax, res.TruncationChange), true
}
