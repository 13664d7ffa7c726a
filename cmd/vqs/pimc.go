package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"vqs/pimc"
	"vqs/results"
)

func init() { subcommands = append(subcommands, newPimcCmd) }

// pimcFlags are the options of vqs pimc beyond the physics flags.
type pimcFlags struct {
	phys          physicsFlags
	eps           string
	beta          float64
	samples       int
	chains        int
	warmup        int
	seed          uint64
	extrapolation string
	noBetaCheck   bool
	store         string
}

type pimcEstimateJSON struct {
	Mean   *float64 `json:"mean"`
	Err    *float64 `json:"err"`
	BinErr *float64 `json:"blocking_err"`
	Tau    *float64 `json:"tau_int"`
	ESS    *float64 `json:"ess"`
}

type pimcPointJSON struct {
	Eps           float64          `json:"eps"`
	Lt            int              `json:"Lt"`
	Beta          float64          `json:"beta"`
	Samples       int              `json:"samples_per_chain"`
	Chains        int              `json:"chains"`
	Energy        pimcEstimateJSON `json:"energy"`
	Corrected     *float64         `json:"energy_gaussian_subtracted"`
	GaussianShift *float64         `json:"gaussian_shift"`
	Potential     pimcEstimateJSON `json:"potential"`
	Phi2          pimcEstimateJSON `json:"phi2"`
	Acceptance    *float64         `json:"acceptance"`
	StepSize      *float64         `json:"hmc_step_size"`
	Seconds       float64          `json:"seconds"`
	Stuck         string           `json:"stuck,omitempty"` // why the point's chains are not trusted
}

type pimcBetaCheckJSON struct {
	Eps          float64       `json:"eps"`
	Beta         float64       `json:"beta"`
	DoubleBeta   float64       `json:"double_beta"`
	Double       pimcPointJSON `json:"double"`
	Diff         *float64      `json:"diff"`
	Sigmas       *float64      `json:"sigmas"`
	GaussianDiff *float64      `json:"gaussian_diff"`
	Flagged      bool          `json:"flagged"`
}

type pimcJSON struct {
	Command       string             `json:"command"`
	L             int                `json:"L"`
	Dim           int                `json:"dim"`
	Sites         int                `json:"sites"`
	M2            float64            `json:"m2"`
	Lambda        float64            `json:"lambda"`
	Seed          uint64             `json:"seed"`
	Gap           *float64           `json:"gap_estimate"`
	Beta          *float64           `json:"beta"`
	Points        []pimcPointJSON    `json:"points"`
	Extrapolation string             `json:"extrapolation"`
	E0            *float64           `json:"E0"`
	Err           *float64           `json:"err"`
	EnergyPerSite *float64           `json:"energy_per_site"`
	Raw           *pimc.Fit          `json:"fit_raw"`
	Gaussian      *pimc.Fit          `json:"fit_gaussian"`
	BetaCheck     *pimcBetaCheckJSON `json:"beta_check,omitempty"`
	GaussianBound *float64           `json:"gaussian_bound"`
	Seconds       float64            `json:"seconds"`
	Interrupted   bool               `json:"interrupted,omitempty"`
	StoreID       string             `json:"store_id,omitempty"`
	Version       string             `json:"version"`
}

func newPimcCmd() *cobra.Command {
	var f pimcFlags
	cmd := &cobra.Command{
		Use:   "pimc",
		Short: "Non-variational E0 from the Euclidean path integral (HMC, virial estimator, eps^2 extrapolation)",
		Long: `pimc computes the ground-state energy E0 of the lattice Hamiltonian from its Euclidean
path integral, independently of any variational state, at any L:

  S_E = sum_tau [ sum_x (phi_{tau+1,x} - phi_{tau,x})^2/(2 eps) + eps V(phi_tau) ]

on Lt periodic time slices of spacing eps (beta = Lt*eps), sampled by Fourier-accelerated HMC.
One time slice is distributed as |Psi_0|^2 up to O(eps^2) and exp(-beta*gap), and the virial
estimator E = V + (1/2) phi.gradV = 2 V2 + 3 V4 (averaged over the slices of every sample) then
has the expectation E0. Errors: Gamma method per chain (tau_int in samples), combined over
independent chains; the blocking error is printed alongside as a cross-check.

For each --eps it prints E(eps); then it extrapolates E(eps) = E0 + c eps^2 by a weighted linear
fit in eps^2, twice: "raw" on the measured points, and "gaussian" after subtracting from each
point the exact eps and beta error of the Gaussian (Hartree) theory at that eps and Lt, which
removes most of the eps dependence (it comes from the nearly free UV modes) and is exact at
lambda = 0. --extrapolation picks the one reported as E0. Its error is scaled by
sqrt(chi^2/dof) when that exceeds 1.

beta: by default beta = max(2, 12/gap), gap = the Hartree mass (sqrt(m2) at lambda = 0), so
exp(-beta*gap) ~ 6e-6; Lt is rounded up to a product of 2, 3 and 5 (fast FFTs). The beta check
reruns the largest eps at 2 beta and prints E(2 beta) - E(beta) in combined standard errors,
flagged beyond 2. The Gaussian (Hartree) energy, an upper bound on E0, is printed for reference.

Energies are in lattice units; lambda multiplies phi^4/4! (pass 6x a lambda/4-convention value).
Ctrl-C stops the run and prints what was measured.`,
		Example: `  vqs pimc --L 1 --m2 1 --lambda 24 --eps 0.25,0.175,0.125 --samples 20000
  vqs pimc --L 8 --m2 1 --lambda 24 --eps 0.2,0.14,0.1 --samples 4000 --chains 2 --store runs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPimc(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	f.phys.register(cmd, 8, 1, 24)
	fl := cmd.Flags()
	fl.StringVar(&f.eps, "eps", "0.2,0.14,0.1", "comma-separated time spacings eps, in units of the spatial lattice spacing (at least two distinct values, each > 0)")
	fl.Float64Var(&f.beta, "beta", 0, "imaginary-time extent beta = Lt*eps in lattice units; 0 = automatic, max(2, 12/gap) with the Hartree gap")
	fl.IntVar(&f.samples, "samples", pimc.DefaultSamples, fmt.Sprintf("measured samples per chain and eps, one HMC trajectory (length pi/2) each; >= %d", pimc.MinSamples))
	fl.IntVar(&f.chains, "chains", pimc.DefaultChains, "independent HMC chains per eps, one goroutine each")
	fl.IntVar(&f.warmup, "warmup", pimc.DefaultWarmup, "warm-up trajectories per chain and eps before measuring (the HMC step size is tuned here); >= 1")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed; chain c at the i-th eps uses the PCG stream (seed, i<<20 | c), so runs are reproducible")
	fl.StringVar(&f.extrapolation, "extrapolation", string(pimc.ExtrapolateGaussian), "extrapolation reported as E0: gaussian (after subtracting the exact Gaussian eps and beta error) or raw")
	fl.BoolVar(&f.noBetaCheck, "no-beta-check", false, "skip the rerun of the largest eps at twice the beta")
	fl.StringVar(&f.store, "store", "", "directory of a run store to record this run in (kind pimc; created if missing); empty: do not store")
	return cmd
}

// parseEpsList parses a comma-separated list of numbers.
func parseEpsList(s string) ([]float64, error) {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return nil, fmt.Errorf("--eps must be a comma-separated list of numbers, got %q", s)
		}
		out = append(out, v)
	}
	return out, nil
}

func (f *pimcFlags) config() (pimc.Config, error) {
	eps, err := parseEpsList(f.eps)
	if err != nil {
		return pimc.Config{}, err
	}
	// Zero means "default" in pimc.Config; on the command line it is an error.
	if f.samples < 1 || f.chains < 1 || f.warmup < 1 {
		return pimc.Config{}, fmt.Errorf("--samples, --chains and --warmup must be >= 1, got %d, %d, %d", f.samples, f.chains, f.warmup)
	}
	cfg := pimc.Config{L: f.phys.L, Dim: f.phys.Dim, M2: f.phys.M2, Lambda: f.phys.Lambda, Eps: eps,
		Beta: f.beta, Samples: f.samples, Chains: f.chains, Warmup: f.warmup, Seed: f.seed,
		Extrapolation: pimc.Extrapolation(f.extrapolation), SkipBetaCheck: f.noBetaCheck}
	if err := pimc.Validate(cfg); err != nil {
		return pimc.Config{}, err
	}
	return cfg, nil
}

func runPimc(ctx context.Context, stdout, stderr io.Writer, f pimcFlags) error {
	cfg, err := f.config()
	if err != nil {
		return usageError{err}
	}
	var store *results.Store
	if f.store != "" {
		if store, err = openStore(f.store); err != nil {
			return err
		}
	}
	if validateOnly {
		return nil
	}
	started := time.Now()
	res, runErr := pimc.Run(ctx, cfg, pimcProgress(stderr, len(cfg.Eps)))
	if res == nil {
		return runErr
	}
	out := pimcOutput(res, runErr != nil)
	var storeErr error
	if store != nil {
		rec := res.Record(started, runErr)
		if storeErr = store.Put(rec); storeErr == nil {
			out.StoreID = rec.ID
		}
	}
	if f.phys.JSON {
		if err := writeJSON(stdout, out); err != nil {
			return err
		}
	} else {
		if err := printPimc(stdout, res, out); err != nil {
			return err
		}
	}
	if storeErr != nil {
		return fmt.Errorf("the result above was not saved to the store: %w", storeErr)
	}
	if runErr != nil {
		if errors.Is(runErr, context.Canceled) || errors.Is(runErr, context.DeadlineExceeded) {
			return interruptedError{"the results above are what was measured before the interrupt"}
		}
		return runErr
	}
	return nil
}

// pimcProgress prints one line on stderr per stage and every 10 percent of a measurement.
func pimcProgress(w io.Writer, points int) func(pimc.Progress) {
	lastTenth := -1
	return func(p pimc.Progress) {
		label := fmt.Sprintf("eps %g (%d/%d)", p.Eps, p.Point+1, points)
		if p.Point == points {
			label = fmt.Sprintf("beta check at eps %g", p.Eps)
		}
		switch p.Stage {
		case "warmup":
			lastTenth = -1
			fmt.Fprintf(w, "pimc: %s, Lt %d: warm-up %d trajectories per chain\n", label, p.Lt, p.Total)
		default:
			tenth := 10 * p.Done / max(p.Total, 1)
			if tenth != lastTenth {
				lastTenth = tenth
				fmt.Fprintf(w, "pimc: %s, Lt %d: %d/%d samples per chain\n", label, p.Lt, p.Done, p.Total)
			}
		}
	}
}

func estJSON(e pimc.Estimate) pimcEstimateJSON {
	return pimcEstimateJSON{Mean: finite(e.Value), Err: finite(e.Error), BinErr: finite(e.BlockErr), Tau: finite(e.Tau), ESS: finite(e.ESS)}
}

func pointJSON(p pimc.Point) pimcPointJSON {
	return pimcPointJSON{Eps: p.Eps, Lt: p.Lt, Beta: p.Beta, Samples: p.Samples, Chains: p.Chains,
		Energy: estJSON(p.Energy), Corrected: finite(p.Corrected()), GaussianShift: finite(p.GaussianShift),
		Potential: estJSON(p.Potential), Phi2: estJSON(p.Phi2), Acceptance: finite(p.Acceptance),
		StepSize: finite(p.StepSize), Seconds: p.Seconds, Stuck: p.Stuck}
}

func pimcOutput(res *pimc.Result, interrupted bool) pimcJSON {
	c := res.Config
	out := pimcJSON{Command: "pimc", L: c.L, Dim: c.Dim, Sites: res.Sites, M2: c.M2, Lambda: c.Lambda, Seed: c.Seed,
		Gap: finite(res.Gap), Beta: finite(res.Beta), Extrapolation: string(c.Extrapolation),
		E0: finite(res.E0), Err: finite(res.Err), EnergyPerSite: finite(res.E0 / float64(res.Sites)),
		Raw: res.Raw, Gaussian: res.GaussianFit, GaussianBound: finite(res.Gaussian),
		Seconds: res.Seconds, Interrupted: interrupted, Version: version, Points: []pimcPointJSON{}}
	for _, p := range res.Points {
		out.Points = append(out.Points, pointJSON(p))
	}
	if bc := res.BetaCheck; bc != nil {
		out.BetaCheck = &pimcBetaCheckJSON{Eps: bc.Eps, Beta: bc.Base.Beta, DoubleBeta: bc.Double.Beta,
			Double: pointJSON(bc.Double), Diff: finite(bc.Diff), Sigmas: finite(bc.Sigmas),
			GaussianDiff: finite(bc.GaussianDiff), Flagged: bc.Flagged}
	}
	return out
}

// pm formats value +- error with the error's two significant digits deciding the precision.
func pm(v, e float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	if !(e > 0) || math.IsInf(e, 0) {
		return fmt.Sprintf("%.6g +- %g", v, e)
	}
	digits := max(0, min(12, 1-int(math.Floor(math.Log10(e)))))
	return fmt.Sprintf("%.*f +- %.*f", digits, v, digits, e)
}

func printPimc(out io.Writer, res *pimc.Result, o pimcJSON) error {
	ew := &errWriter{w: out}
	printPimcTo(ew, res, o)
	return ew.err
}

func printPimcTo(w io.Writer, res *pimc.Result, out pimcJSON) {
	c := res.Config
	fmt.Fprintf(w, "Path-integral E0: %d^%d lattice (N = %d), m2 = %g, lambda = %g\n", c.L, c.Dim, res.Sites, c.M2, c.Lambda)
	betaHow := "given"
	if c.Beta == 0 {
		betaHow = fmt.Sprintf("max(%g, %g/gap), gap = Hartree mass %.4f", pimc.BetaFloor, pimc.BetaGaps, res.Gap)
	}
	fmt.Fprintf(w, "beta = %.4g (%s); Lt rounded up to a 2,3,5-smooth number\n\n", res.Beta, betaHow)
	fmt.Fprintf(w, "%-7s %5s %7s  %-24s %-24s %8s %6s %7s %12s %8s\n", "eps", "Lt", "beta", "E(eps)", "E(eps) - Gaussian shift", "tau_int", "acc", "step", "samples", "seconds")
	for _, p := range res.Points {
		fmt.Fprintf(w, "%-7g %5d %7.3f  %-24s %-24s %8.2f %6.3f %7.4f %7dx%-4d %8.1f\n", p.Eps, p.Lt, p.Beta,
			pm(p.Energy.Value, p.Energy.Error), pm(p.Corrected(), p.Energy.Error), p.Energy.Tau, p.Acceptance, p.StepSize,
			p.Samples, p.Chains, p.Seconds)
	}
	for _, p := range res.Points {
		if p.Stuck != "" {
			fmt.Fprintf(w, "WARNING eps %g: %s; left out of the extrapolations\n", p.Eps, p.Stuck)
		}
	}
	fmt.Fprintln(w)
	r := report{w: w}
	fitRow := func(name string, f *pimc.Fit) {
		if f == nil {
			r.add(name, "n/a (needs two measured, unstuck eps)")
			return
		}
		dof := "no dof"
		if f.DOF > 0 {
			dof = fmt.Sprintf("chi^2/dof %.2f/%d", f.Chi2, f.DOF)
		}
		r.add(name, "%s   slope c = %s   %s", pm(f.E0, f.ErrScaled), pm(f.Slope, f.SlopeErr), dof)
	}
	fitRow("E0, gaussian extrapolation", res.GaussianFit)
	fitRow("E0, raw extrapolation", res.Raw)
	r.add("E0 reported", "%s  (%s)", pm(res.E0, res.Err), c.Extrapolation)
	r.add("E0 per site", "%s", pm(res.E0/float64(res.Sites), res.Err/float64(res.Sites)))
	if bc := res.BetaCheck; bc != nil {
		flag := "ok"
		if bc.Flagged {
			flag = "FLAGGED: beta may be too small for the gap"
		}
		r.add("beta check", "eps %g: E(beta = %.4g) - E(beta = %.4g) = %s, %.2f sigma; %s (Gaussian theory predicts %.2g)",
			bc.Eps, bc.Double.Beta, bc.Base.Beta, pm(bc.Diff, math.Hypot(bc.Double.Energy.Error, bc.Base.Energy.Error)), bc.Sigmas, flag, bc.GaussianDiff)
	} else {
		r.add("beta check", "not run")
	}
	r.add("Gaussian (Hartree) bound", "%.6f  (upper bound on E0)", res.Gaussian)
	r.add("wall time", "%.1f s", res.Seconds)
	if out.StoreID != "" {
		r.add("stored as", "%s", out.StoreID)
	}
	if out.Interrupted {
		r.add("status", "interrupted")
	}
	r.flush()
}
