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
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"vqs/ansatz/mera"
	"vqs/dmc"
	"vqs/hamiltonian"
	"vqs/results"
	"vqs/vmc"
)

func init() { subcommands = append(subcommands, newDMCCmd) }

// KindDMC is the results-store kind of a vqs dmc run.
const kindDMC = "dmc"

// dmcFlags are the options of vqs dmc. The ground-state flags (physics and training) live in
// train, so that a guide trained on the spot takes them exactly as vqs ground-state does.
type dmcFlags struct {
	train       groundStateFlags
	guide       string
	taus        string
	walkers     int
	time        float64
	equil       float64
	vmcTime     float64
	popWalkers  int
	productTime float64
	lagTime     float64
	workers     int
	out         string
	resume      bool
	timeout     time.Duration
	store       string
}

func newDMCCmd() *cobra.Command {
	var f dmcFlags
	cmd := &cobra.Command{
		Use:   "dmc",
		Short: "Exact E0 by diffusion Monte Carlo, guided by the variational state (no fixed-node error)",
		Long: `dmc computes the ground-state energy E0 by importance-sampled diffusion Monte Carlo with the
RG-structured variational state as the guide Psi_T. The Hamiltonian is stoquastic and its ground
state positive, so there is no fixed-node error: E0 is exact up to the time-step and population
errors, which the run measures.

Guide: --guide DIR loads the state of a 'vqs ground-state --out DIR' run (its physics is used;
physics flags given here must agree). Without --guide the state is trained on the spot with the
ground-state flags (--iters, --samples, --scales, ...), and with --out DIR it is saved in
DIR/guide (a --resume reuses it).

Walkers move by the exact Ornstein-Uhlenbeck step of the guide's Gaussian part plus the rest of
its drift, phi' = phi + B du/dphi + S xi, accepted by Metropolis-Hastings against Psi_T^2, and
carry the weights exp(-tau_eff (E_loc - E_ref)), tau_eff = tau x accepted fraction of the
diffusion. The population stays fixed (comb resampling every generation); each generation is
weighted by the product of the mean weights over --product-time, which removes the
population-control bias. First the same moves without weights measure the guide (the VMC
energy and the VMC half of the extrapolated estimators); then each --tau is run, largest
first, and E(tau) is extrapolated linearly to tau = 0; the difference of the two smallest tau
is printed beside it. The largest (cheapest) tau is rerun with --pop-walkers walkers as the
population check.

Estimators: the energy is the mixed estimator (exact). phi^2, <|M|>, the Binder cumulant and the
structure factor S(k) along the axes are printed as mixed estimators and as the extrapolated
2 mixed - VMC, labelled. The gap comes from the decay in imaginary time of the k = 0 mode's
correlation along the walkers' ancestry (and the smallest non-zero k's, whose decay is the
one-particle energy at that momentum). Errors: blocking over generations. Equilibration: by
default 2/g(0) (g the guide's kernel) plus a transient detected by the marginal standard error
rule; --equil sets it instead.

Energies are in lattice units; lambda multiplies phi^4/4! (pass 6x a lambda/4-convention value).
Ctrl-C or SIGTERM (or --timeout) saves the checkpoint in --out and prints the result so far;
--resume continues exactly where it stopped.`,
		Example: `  vqs dmc --L 1 --dim 1 --m2 1 --lambda 24 --iters 300
  vqs ground-state --L 8 --m2 -1.55 --lambda 12 --iters 400 --out runs/gs8
  vqs dmc --guide runs/gs8 --tau 0.1,0.05 --walkers 512 --time 40 --out runs/dmc8
  vqs dmc --guide runs/gs8 --out runs/dmc8 --resume`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runDMC(cmd, &f) },
	}
	f.train.register(cmd, 8, 1, 24)
	f.train.registerVMC(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.guide, "guide", "", "directory of a 'vqs ground-state --out DIR' run whose state guides the walkers; empty: train one with the ground-state flags")
	fl.StringVar(&f.taus, "tau", "0.1,0.05", "comma-separated DMC time steps (each > 0, distinct); two or more are extrapolated linearly to tau = 0")
	fl.IntVar(&f.walkers, "walkers", dmc.DefaultWalkers, fmt.Sprintf("walkers (fixed population, >= %d)", dmc.MinWalkers))
	fl.Float64Var(&f.time, "time", dmc.DefaultTime, "imaginary time measured at each tau, after equilibration")
	fl.Float64Var(&f.equil, "equil", 0, "imaginary time run at each tau before measuring; 0: 2/g(0) clamped to [1, 10] plus a detected transient")
	fl.Float64Var(&f.vmcTime, "vmc-time", 0, "imaginary time of the guide's VMC measurement with the same moves (0: --time)")
	fl.IntVar(&f.popWalkers, "pop-walkers", 0, "walkers of the population check, a rerun of the largest tau (0: --walkers/2; -1: no check)")
	fl.Float64Var(&f.productTime, "product-time", 0, "window (imaginary time) of the population-control correction (0: 1/g(0) clamped to [1, 5]; -1: no correction)")
	fl.Float64Var(&f.lagTime, "lag-time", 0, "longest imaginary-time lag of the mode correlations for the gap (0: 3/g(0) clamped to [0.5, 20]; -1: no gap)")
	fl.IntVar(&f.workers, "workers", 0, "goroutines moving walkers (0: all cores); results do not depend on it")
	fl.StringVar(&f.out, "out", "", "directory for checkpoint.gob, result.json and (when trained here) the guide in guide/")
	fl.BoolVar(&f.resume, "resume", false, "resume from the checkpoint in --out (same flags required)")
	fl.DurationVar(&f.timeout, "timeout", 0, "stop cleanly after this long (e.g. 25m), save the checkpoint and print the result so far")
	fl.StringVar(&f.store, "store", "", "also add the run to this results store (kind dmc), e.g. runs")
	return cmd
}

// parseTaus parses a comma-separated list of time steps.
func parseTaus(s string) ([]float64, error) {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return nil, fmt.Errorf("--tau must be a comma-separated list of numbers, got %q", s)
		}
		out = append(out, v)
	}
	return out, nil
}

func (f *dmcFlags) config() (dmc.Config, error) {
	taus, err := parseTaus(f.taus)
	if err != nil {
		return dmc.Config{}, err
	}
	// Zero means "default" in dmc.Config; on the command line these must be given properly.
	if f.walkers < 1 || !(f.time > 0) || f.vmcTime < 0 || f.workers < 0 {
		return dmc.Config{}, fmt.Errorf("--walkers and --time must be > 0, --vmc-time and --workers >= 0")
	}
	if f.popWalkers < -1 {
		return dmc.Config{}, fmt.Errorf("--pop-walkers must be -1 (no check), 0 (default) or a population, got %d", f.popWalkers)
	}
	for name, v := range map[string]float64{"--product-time": f.productTime, "--lag-time": f.lagTime} {
		if v < 0 && v != -1 {
			return dmc.Config{}, fmt.Errorf("%s must be -1 (off), 0 (automatic) or > 0, got %v", name, v)
		}
	}
	if f.resume && f.out == "" {
		return dmc.Config{}, errors.New("--resume needs --out DIR holding the checkpoint")
	}
	cfg := dmc.Config{Taus: taus, Walkers: f.walkers, Time: f.time, Equilibration: f.equil, VMCTime: f.vmcTime,
		PopulationWalkers: f.popWalkers, ProductTime: f.productTime, LagTime: f.lagTime, Workers: f.workers,
		Seed: f.train.Seed, Resume: f.resume}
	if f.out != "" {
		cfg.Checkpoint = filepath.Join(f.out, "checkpoint.gob")
	}
	return cfg, nil
}

// loadGuide rebuilds the variational state saved by 'vqs ground-state --out dir' from
// dir/run.json: the ansatz from its flags, then its parameters.
//
// It is kept apart so that it can move into the library as it stands.
func loadGuide(dir string) (*hamiltonian.Model, vmc.Wavefunction, *groundStateFlags, float64, error) {
	var rec struct {
		Flags  groundStateFlags `json:"flags"`
		Params []float64        `json:"params"`
		Result struct {
			Energy float64 `json:"energy"`
		} `json:"result"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		return nil, nil, nil, 0, fmt.Errorf("--guide: %w", err)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, nil, nil, 0, fmt.Errorf("--guide: %s/run.json: %w", dir, err)
	}
	if len(rec.Params) == 0 {
		return nil, nil, nil, 0, fmt.Errorf("--guide: %s/run.json holds no parameters", dir)
	}
	g := rec.Flags
	m, err := hamiltonian.NewModel(g.L, g.Dim, g.M2, g.Lambda)
	if err != nil {
		return nil, nil, nil, 0, fmt.Errorf("--guide: %s/run.json: %w", dir, err)
	}
	ans, err := mera.New(m, mera.Config{Scales: g.Scales, Width: g.Width, Init: g.Init})
	if err != nil {
		return nil, nil, nil, 0, fmt.Errorf("--guide: %w", err)
	}
	if ans.NumParams() != len(rec.Params) {
		return nil, nil, nil, 0, fmt.Errorf("--guide: %s/run.json has %d parameters, its ansatz %d", dir, len(rec.Params), ans.NumParams())
	}
	if err := ans.SetParams(rec.Params); err != nil {
		return nil, nil, nil, 0, fmt.Errorf("--guide: %w", err)
	}
	return m, vmc.MERA{Ansatz: ans}, &g, rec.Result.Energy, nil
}

// trainGuide optimizes the variational state on the spot with the ground-state flags, saving
// it in out (when not empty) exactly as 'vqs ground-state --out' would.
//
// It is kept apart so that it can move into the library as it stands.
func trainGuide(ctx context.Context, m *hamiltonian.Model, f groundStateFlags, out string, progressW io.Writer) (vmc.Wavefunction, float64, error) {
	f.Out, f.Resume, f.Store = out, false, ""
	run, err := solveGroundState(ctx, m, &f, progressW)
	if err != nil {
		return nil, 0, err
	}
	if ctx.Err() != nil {
		return nil, 0, fmt.Errorf("interrupted while training the guide: %w", ctx.Err())
	}
	ans, err := mera.New(m, mera.Config{Scales: f.Scales, Width: f.Width, Init: f.Init})
	if err != nil {
		return nil, 0, err
	}
	if err := ans.SetParams(run.res.Params); err != nil {
		return nil, 0, err
	}
	return vmc.MERA{Ansatz: ans}, run.out.Energy, nil
}

// guideInfo says where the guide came from, for the report.
type guideInfo struct {
	Source       string  `json:"source"` // "loaded" or "trained"
	Dir          string  `json:"dir,omitempty"`
	Params       int     `json:"params"`
	Scales       int     `json:"scales"`
	Width        int     `json:"width"`
	Init         string  `json:"init"`
	TrainEnergy  float64 `json:"training_energy"`
	TrainSeconds float64 `json:"training_seconds"`
}

func runDMC(cmd *cobra.Command, f *dmcFlags) error {
	cfg, err := f.config()
	if err != nil {
		return usageError{err}
	}
	if err := f.train.validate(); err != nil {
		return usageError{err}
	}
	ctx := cmd.Context()
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	stderr := cmd.ErrOrStderr()
	var store *results.Store
	if f.store != "" {
		if store, err = results.Open(f.store); err != nil {
			return err
		}
	}
	if f.out != "" {
		if err := os.MkdirAll(f.out, 0o755); err != nil {
			return err
		}
	}
	started := time.Now()
	var m *hamiltonian.Model
	var guide vmc.Wavefunction
	info := guideInfo{}
	guideDir := f.guide
	if guideDir == "" && f.resume {
		guideDir = filepath.Join(f.out, "guide") // the guide trained by the run being resumed
	}
	if guideDir != "" {
		var gf *groundStateFlags
		m, guide, gf, info.TrainEnergy, err = loadGuide(guideDir)
		if err != nil {
			return usageError{err}
		}
		for _, c := range []struct {
			name       string
			flag, gval float64
		}{{"L", float64(f.train.L), float64(gf.L)}, {"dim", float64(f.train.Dim), float64(gf.Dim)},
			{"m2", f.train.M2, gf.M2}, {"lambda", f.train.Lambda, gf.Lambda}} {
			if cmd.Flags().Changed(c.name) && c.flag != c.gval {
				return usageError{fmt.Errorf("--%s %v disagrees with the guide's %v (%s)", c.name, c.flag, c.gval, guideDir)}
			}
		}
		info.Source, info.Dir, info.Scales, info.Width, info.Init = "loaded", guideDir, gf.Scales, gf.Width, gf.Init
	} else {
		if m, err = f.train.model(); err != nil {
			return err
		}
		out := ""
		if f.out != "" {
			out = filepath.Join(f.out, "guide")
		}
		fmt.Fprintf(stderr, "dmc: training the guide (%d iterations)\n", f.train.Iters)
		t0 := time.Now()
		if guide, info.TrainEnergy, err = trainGuide(ctx, m, f.train, out, stderr); err != nil {
			return err
		}
		info.TrainSeconds = time.Since(t0).Seconds()
		info.Source, info.Dir, info.Scales, info.Width, info.Init = "trained", out, f.train.Scales, f.train.Width, f.train.Init
	}
	info.Params = guide.NumParams()
	if err := dmc.Validate(cfg, guide, m); err != nil {
		return usageError{err}
	}
	res, runErr := dmc.Run(ctx, cfg, guide, m, dmcProgress(stderr, len(cfg.Taus)))
	if res == nil {
		return runErr
	}
	interrupted := runErr != nil && (errors.Is(runErr, context.Canceled) || errors.Is(runErr, context.DeadlineExceeded))
	out := dmcOutput(res, m, info, interrupted, time.Since(started).Seconds())
	if store != nil {
		rec := dmcRecord(res, out, started, runErr)
		if err := store.Put(rec); err != nil {
			return fmt.Errorf("storing the run: %w", err)
		}
		out.StoreID = rec.ID
	}
	if f.out != "" {
		if err := writeJSONFile(filepath.Join(f.out, "result.json"), out); err != nil {
			return err
		}
	}
	if f.train.JSON {
		if err := writeJSON(cmd.OutOrStdout(), out); err != nil {
			return err
		}
	} else {
		printDMC(cmd.OutOrStdout(), res, out)
	}
	if runErr != nil {
		if interrupted {
			hint := ""
			if f.out != "" {
				hint = "; continue with --resume"
			}
			return fmt.Errorf("interrupted: the results above are what was measured before the interrupt%s", hint)
		}
		return runErr
	}
	return nil
}

// dmcProgress prints a line on stderr at the start of every stage and every 10 percent of it.
func dmcProgress(w io.Writer, taus int) func(dmc.Progress) {
	lastTenth, lastStage := -1, ""
	return func(p dmc.Progress) {
		label := fmt.Sprintf("tau %g (%d/%d)", p.Tau, p.Point+1, taus)
		switch p.Stage {
		case dmc.StageVMC:
			label = fmt.Sprintf("VMC of the guide at tau %g", p.Tau)
		case dmc.StagePopulation:
			label = fmt.Sprintf("population check at tau %g", p.Tau)
		}
		key := fmt.Sprint(p.Stage, p.Point)
		if key != lastStage {
			lastStage, lastTenth = key, -1
		}
		tenth := 10 * p.Generation / max(p.Generations, 1)
		if tenth == lastTenth {
			return
		}
		lastTenth = tenth
		e := "equilibrating"
		if !p.Equilibrating && !math.IsNaN(p.Energy) {
			e = fmt.Sprintf("E = %.8g", p.Energy)
		}
		fmt.Fprintf(w, "dmc: %s, %d walkers: generation %d/%d  %s  acc %.4f\n", label, p.Walkers, p.Generation, p.Generations, e, p.Acceptance)
	}
}

type dmcEstJSON struct {
	Value   *float64 `json:"value"`
	Err     *float64 `json:"err"`
	Plateau bool     `json:"plateau"`
}

func dmcEst(e dmc.Estimate) dmcEstJSON {
	return dmcEstJSON{Value: finite(e.Value), Err: finite(e.Error), Plateau: e.Plateau}
}

type dmcObsJSON struct {
	Phi2            dmcEstJSON   `json:"phi2"`
	AbsM            dmcEstJSON   `json:"abs_m"`
	M2              dmcEstJSON   `json:"m2_mean_field"`
	M4              dmcEstJSON   `json:"m4_mean_field"`
	Binder          dmcEstJSON   `json:"binder"`
	StructureFactor []dmcEstJSON `json:"structure_factor"`
}

func dmcObs(o dmc.Observables) dmcObsJSON {
	out := dmcObsJSON{Phi2: dmcEst(o.Phi2), AbsM: dmcEst(o.AbsM), M2: dmcEst(o.M2), M4: dmcEst(o.M4),
		Binder: dmcEst(o.Binder), StructureFactor: []dmcEstJSON{}}
	for _, s := range o.StructureFactor {
		out.StructureFactor = append(out.StructureFactor, dmcEst(s))
	}
	return out
}

type dmcGapJSON struct {
	Value    *float64   `json:"value"`
	Err      *float64   `json:"err"`
	Plateau  bool       `json:"plateau"`
	FitFrom  float64    `json:"fit_from"`
	FitTo    float64    `json:"fit_to"`
	Lags     []float64  `json:"lags"`
	Ratio    []*float64 `json:"ratio"`
	RatioErr []*float64 `json:"ratio_err"`
	Note     string     `json:"note,omitempty"`
}

func dmcGap(g dmc.Gap) dmcGapJSON {
	out := dmcGapJSON{Value: finite(g.Value), Err: finite(g.Error), Plateau: g.Plateau, FitFrom: g.FitFrom,
		FitTo: g.FitTo, Lags: g.Lags, Note: g.Note}
	if out.Lags == nil {
		out.Lags = []float64{}
	}
	out.Ratio, out.RatioErr = []*float64{}, []*float64{}
	for i := range g.Ratio {
		out.Ratio = append(out.Ratio, finite(g.Ratio[i]))
		out.RatioErr = append(out.RatioErr, finite(g.RatioErr[i]))
	}
	return out
}

type dmcEquilJSON struct {
	Set      float64 `json:"set"`
	Detected float64 `json:"detected"`
	Flagged  bool    `json:"flagged"`
}

type dmcPointJSON struct {
	Tau               float64      `json:"tau"`
	TauEff            float64      `json:"tau_eff"`
	Walkers           int          `json:"walkers"`
	Energy            dmcEstJSON   `json:"energy"`
	EnergyUncorrected dmcEstJSON   `json:"energy_uncorrected"`
	ProductTime       float64      `json:"product_time"`
	Acceptance        float64      `json:"acceptance"`
	Generations       int          `json:"generations"`
	Equilibration     dmcEquilJSON `json:"equilibration"`
	TauInt            *float64     `json:"tau_int"`
	ClippedFraction   float64      `json:"clipped_fraction"`
	Mixed             dmcObsJSON   `json:"mixed"`
	Gap0              dmcGapJSON   `json:"gap_k0"`
	Gap1              dmcGapJSON   `json:"gap_k1"`
	Seconds           float64      `json:"seconds"`
}

func dmcPoint(p dmc.Point) dmcPointJSON {
	return dmcPointJSON{Tau: p.Tau, TauEff: p.TauEff, Walkers: p.Walkers, Energy: dmcEst(p.Energy),
		EnergyUncorrected: dmcEst(p.EnergyUncorrected), ProductTime: p.ProductTime, Acceptance: p.Acceptance,
		Generations: p.Generations, Equilibration: dmcEquilJSON(p.Equilibration), TauInt: finite(p.TauInt),
		ClippedFraction: p.ClippedFraction, Mixed: dmcObs(p.Mixed), Gap0: dmcGap(p.Gap0), Gap1: dmcGap(p.Gap1),
		Seconds: p.Seconds}
}

type dmcCompareJSON struct {
	Diff    *float64 `json:"diff"`
	Err     *float64 `json:"err"`
	Sigmas  *float64 `json:"sigmas"`
	Flagged bool     `json:"flagged"`
}

func dmcCompare(c dmc.Comparison) *dmcCompareJSON {
	return &dmcCompareJSON{Diff: finite(c.Diff), Err: finite(c.Err), Sigmas: finite(c.Sigmas), Flagged: c.Flagged}
}

type dmcVMCJSON struct {
	Tau           float64      `json:"tau"`
	Walkers       int          `json:"walkers"`
	Energy        dmcEstJSON   `json:"energy"`
	Variance      dmcEstJSON   `json:"variance"`
	Acceptance    float64      `json:"acceptance"`
	Generations   int          `json:"generations"`
	Equilibration dmcEquilJSON `json:"equilibration"`
	TauInt        *float64     `json:"tau_int"`
	Seconds       float64      `json:"seconds"`
}

type dmcJSON struct {
	Command       string   `json:"command"`
	L             int      `json:"L"`
	Dim           int      `json:"dim"`
	Sites         int      `json:"sites"`
	M2            float64  `json:"m2"`
	Lambda        float64  `json:"lambda"`
	Seed          uint64   `json:"seed"`
	Energy        *float64 `json:"energy"`
	EnergyErr     *float64 `json:"energy_err"`
	EnergyPerSite *float64 `json:"energy_per_site"`
	Extrapolated  bool     `json:"extrapolated"`
	VMCEnergy     *float64 `json:"vmc_energy"`
	VMCEnergyErr  *float64 `json:"vmc_energy_err"`
	// DMCBelowVMC is (VMC - DMC) in combined errors: DMC projects down, so it is >= -2.
	DMCBelowVMC   *float64           `json:"dmc_below_vmc_sigmas"`
	VMC           *dmcVMCJSON        `json:"vmc"`
	Points        []dmcPointJSON     `json:"points"`
	Fit           *pimcFitJSON       `json:"fit"`
	Spread        *dmcCompareJSON    `json:"spread_smallest_two"`
	Population    *dmcCompareJSON    `json:"population_check"`
	PopPoint      *dmcPointJSON      `json:"population_point,omitempty"`
	Gap           *float64           `json:"gap"`
	GapErr        *float64           `json:"gap_err"`
	GapK1         *float64           `json:"gap_k1"`
	GapK1Err      *float64           `json:"gap_k1_err"`
	K1            float64            `json:"k1"` // the smallest non-zero momentum 2 pi/L
	Observables   map[string]any     `json:"observables"`
	Exact         *float64           `json:"exact_energy,omitempty"`
	ExactMethod   string             `json:"exact_method,omitempty"`
	GaussianBound *float64           `json:"gaussian_bound"`
	Times         map[string]float64 `json:"times"`
	Guide         guideInfo          `json:"guide"`
	Seconds       float64            `json:"seconds"`
	Complete      bool               `json:"complete"`
	Interrupted   bool               `json:"interrupted,omitempty"`
	StoreID       string             `json:"store_id,omitempty"`
	Version       string             `json:"version"`
}

func dmcOutput(res *dmc.Result, m *hamiltonian.Model, info guideInfo, interrupted bool, seconds float64) dmcJSON {
	c := res.Config
	out := dmcJSON{Command: "dmc", L: m.L, Dim: m.Dim, Sites: m.N, M2: m.M2, Lambda: m.Lambda, Seed: c.Seed,
		Energy: finite(res.Energy), EnergyErr: finite(res.EnergyErr), EnergyPerSite: finite(res.Energy / float64(m.N)),
		Extrapolated: res.Extrapolated, Points: []dmcPointJSON{}, Guide: info, Seconds: seconds,
		Complete: res.Complete, Interrupted: interrupted, Version: version, K1: 2 * math.Pi / float64(m.L),
		Times: map[string]float64{"equilibration": res.EquilibrationTime, "product": res.ProductTime,
			"lag": res.LagTime, "measured": c.Time, "vmc": c.VMCTime, "guide_gap": res.GuideGap},
		Observables: map[string]any{}}
	if v := res.VMC; v != nil {
		out.VMCEnergy, out.VMCEnergyErr = finite(v.Energy.Value), finite(v.Energy.Error)
		out.VMC = &dmcVMCJSON{Tau: v.Tau, Walkers: v.Walkers, Energy: dmcEst(v.Energy), Variance: dmcEst(v.Variance),
			Acceptance: v.Acceptance, Generations: v.Generations, Equilibration: dmcEquilJSON(v.Equilibration),
			TauInt: finite(v.TauInt), Seconds: v.Seconds}
		out.Observables["vmc"] = dmcObs(v.Obs)
		out.DMCBelowVMC = finite((v.Energy.Value - res.Energy) / math.Hypot(v.Energy.Error, res.EnergyErr))
	}
	for _, p := range res.Points {
		out.Points = append(out.Points, dmcPoint(p))
	}
	if k := len(res.Points); k > 0 {
		out.Observables["mixed"] = dmcObs(res.Points[k-1].Mixed)
	}
	if res.ExtrapolatedObs != nil {
		out.Observables["extrapolated"] = dmcObs(*res.ExtrapolatedObs)
	}
	if f := res.Fit; f != nil {
		out.Fit = &pimcFitJSON{E0: finite(f.E0), Err: finite(f.Err), ErrScaled: finite(f.ErrScaled), Slope: finite(f.Slope),
			SlopeErr: finite(f.SlopeErr), Chi2: finite(f.Chi2), DOF: f.DOF}
	}
	if res.Spread != nil {
		out.Spread = dmcCompare(*res.Spread)
	}
	if pc := res.Population; pc != nil {
		out.Population = dmcCompare(pc.Comparison)
		pp := dmcPoint(pc.Point)
		out.PopPoint = &pp
	}
	if res.Gap != nil {
		out.Gap, out.GapErr = finite(res.Gap.Value), finite(res.Gap.Error)
	}
	if res.GapK1 != nil {
		out.GapK1, out.GapK1Err = finite(res.GapK1.Value), finite(res.GapK1.Error)
	}
	if h, err := hamiltonian.SolveHartree(m); err == nil {
		out.GaussianBound = finite(h.Energy)
	}
	if ex, how, ok := exactReference(context.Background(), m); ok && (m.Lambda == 0 || m.N <= 4) {
		out.Exact, out.ExactMethod = &ex, how
	}
	return out
}

// pmE formats an estimate with a trailing "~" when its blocking analysis found no plateau.
func pmE(e dmc.Estimate) string {
	s := pm(e.Value, e.Error)
	if !e.Plateau && !math.IsNaN(e.Value) && e.Error > 0 {
		s += "~"
	}
	return s
}

func printObsRow(r *report, name string, get func(o dmcObsJSON) dmcEstJSON, obs map[string]any) {
	cell := func(key string) string {
		o, ok := obs[key].(dmcObsJSON)
		if !ok {
			return "n/a"
		}
		e := get(o)
		if e.Value == nil {
			return "n/a"
		}
		err := math.NaN()
		if e.Err != nil {
			err = *e.Err
		}
		return pmE(dmc.Estimate{Value: *e.Value, Error: err, Plateau: e.Plateau})
	}
	r.add(name, "VMC %-22s mixed %-22s extrapolated %s", cell("vmc"), cell("mixed"), cell("extrapolated"))
}

func printGap(r *report, name string, g dmc.Gap) {
	if math.IsNaN(g.Value) {
		r.add(name, "not measured: %s", g.Note)
		return
	}
	r.add(name, "%s  (fit of log C(t) over t = %.3g..%.3g)", pmE(g.Estimate), g.FitFrom, g.FitTo)
}

func printDMC(w io.Writer, res *dmc.Result, out dmcJSON) {
	fmt.Fprintf(w, "Diffusion Monte Carlo: %d^%d lattice (N = %d), m2 = %g, lambda = %g\n", out.L, out.Dim, out.Sites, out.M2, out.Lambda)
	g := out.Guide
	how := "trained here"
	if g.Source == "loaded" {
		how = "loaded from " + g.Dir
	}
	fmt.Fprintf(w, "guide: RG ansatz, %d parameters, %s (training energy %.8g)\n", g.Params, how, g.TrainEnergy)
	fmt.Fprintf(w, "times: equilibration %.3g (+ detected), population-control window %.3g, lag %.3g, measured %.3g per tau\n\n",
		res.EquilibrationTime, res.ProductTime, res.LagTime, res.Config.Time)
	if v := res.VMC; v != nil {
		fmt.Fprintf(w, "VMC of the guide (same moves, tau %g, no weights): E = %s, Var(E_loc) = %s, acceptance %.4f\n\n",
			v.Tau, pmE(v.Energy), pmE(v.Variance), v.Acceptance)
	}
	fmt.Fprintf(w, "%-8s %-8s %7s %-24s %-24s %7s %8s %8s %9s %8s\n", "tau", "tau_eff", "walkers", "E(tau)", "E(tau) uncorrected",
		"acc", "tau_int", "equil", "gens", "seconds")
	row := func(label string, p dmc.Point) {
		eq := fmt.Sprintf("%.3g+%.3g", p.Equilibration.Set, p.Equilibration.Detected)
		if p.Equilibration.Flagged {
			eq += "!"
		}
		fmt.Fprintf(w, "%-8s %-8.4g %7d %-24s %-24s %7.4f %8.3g %8s %9d %8.1f\n", label, p.TauEff, p.Walkers,
			pmE(p.Energy), pmE(p.EnergyUncorrected),
			p.Acceptance, p.TauInt, eq, p.Generations, p.Seconds)
	}
	for _, p := range res.Points {
		row(strconv.FormatFloat(p.Tau, 'g', -1, 64), p)
	}
	if pc := res.Population; pc != nil {
		row(strconv.FormatFloat(pc.Point.Tau, 'g', -1, 64)+"*", pc.Point)
	}
	fmt.Fprintln(w)
	r := report{w: w}
	switch {
	case res.Extrapolated:
		f := res.Fit
		dof := "exact line through two points"
		if f.DOF > 0 {
			dof = fmt.Sprintf("chi^2/dof %.2f/%d", f.Chi2, f.DOF)
		}
		r.add("E0 (tau -> 0)", "%s   slope %s   %s", pm(res.Energy, res.EnergyErr), pm(f.Slope, f.SlopeErr), dof)
	case !math.IsNaN(res.Energy):
		r.add("E0 (one tau, not extrapolated)", "%s", pm(res.Energy, res.EnergyErr))
	default:
		r.add("E0", "n/a (nothing measured)")
	}
	if !math.IsNaN(res.Energy) {
		r.add("E0 per site", "%s", pm(res.Energy/float64(out.Sites), res.EnergyErr/float64(out.Sites)))
	}
	if s := res.Spread; s != nil {
		flag := "ok"
		if s.Flagged {
			flag = "the time-step dependence is resolved; rely on the extrapolation"
		}
		r.add("spread of the two smallest tau", "%s (%.2f sigma; %s)", pm(s.Diff, s.Err), s.Sigmas, flag)
	}
	if pc := res.Population; pc != nil {
		flag := "ok"
		if pc.Flagged {
			flag = "FLAGGED: population bias; use more walkers or a longer --product-time"
		}
		r.add("population check", "E(%d walkers) - E(%d) = %s (%.2f sigma; %s)", pc.Point.Walkers, res.Config.Walkers,
			pm(pc.Diff, pc.Err), pc.Sigmas, flag)
	}
	if out.DMCBelowVMC != nil {
		r.add("VMC - DMC", "%s (%.1f sigma; DMC projects down)", pm(res.VMC.Energy.Value-res.Energy, math.Hypot(res.VMC.Energy.Error, res.EnergyErr)), *out.DMCBelowVMC)
	}
	if out.Exact != nil {
		r.add("exact", "%.10g  (%s; DMC - exact = %.3g, %.1f sigma)", *out.Exact, out.ExactMethod, res.Energy-*out.Exact,
			(res.Energy-*out.Exact)/res.EnergyErr)
	}
	if out.GaussianBound != nil {
		r.add("Gaussian (Hartree) bound", "%.10g", *out.GaussianBound)
	}
	if res.Gap != nil {
		printGap(&r, "gap, k = 0 mode", *res.Gap)
	}
	if res.GapK1 != nil {
		printGap(&r, fmt.Sprintf("E(k = 2pi/%d) - E0", out.L), *res.GapK1)
	}
	printObsRow(&r, "<phi^2>", func(o dmcObsJSON) dmcEstJSON { return o.Phi2 }, out.Observables)
	printObsRow(&r, "<|M|>", func(o dmcObsJSON) dmcEstJSON { return o.AbsM }, out.Observables)
	printObsRow(&r, "Binder cumulant", func(o dmcObsJSON) dmcEstJSON { return o.Binder }, out.Observables)
	if v := res.VMC; v != nil {
		for n := range v.Obs.StructureFactor {
			printObsRow(&r, fmt.Sprintf("S(k = 2pi %d/%d)", n, out.L), func(o dmcObsJSON) dmcEstJSON { return o.StructureFactor[n] }, out.Observables)
		}
	}
	r.add("wall time", "%.1f s (guide training %.1f s)", out.Seconds, out.Guide.TrainSeconds)
	if out.StoreID != "" {
		r.add("stored as", "%s", out.StoreID)
	}
	if !out.Complete {
		r.add("status", "incomplete (interrupted)")
	}
	r.flush()
	fmt.Fprintln(w, "~: the blocking analysis found no plateau (the run is short for its correlation time; the error may be low)")
}

func dmcRecord(res *dmc.Result, out dmcJSON, started time.Time, runErr error) *results.Record {
	c := res.Config
	taus := make([]any, len(c.Taus))
	for i, t := range c.Taus {
		taus[i] = t
	}
	rec := &results.Record{Kind: kindDMC, Status: results.StatusDone, Version: version, Seed: c.Seed, Host: hostname(),
		Started: started, Finished: time.Now(), Seconds: out.Seconds,
		Params: results.Params{L: out.L, Dim: out.Dim, M2: out.M2, Lambda: out.Lambda, Extra: map[string]any{
			"taus": taus, "walkers": c.Walkers, "time": c.Time, "guide": out.Guide.Source, "guide_dir": out.Guide.Dir,
			"guide_params": out.Guide.Params}},
		Estimates: map[string]results.Estimate{
			results.EstEnergy:        {Value: res.Energy, Error: res.EnergyErr},
			results.EstEnergyPerSite: {Value: res.Energy / float64(out.Sites), Error: res.EnergyErr / float64(out.Sites)},
		},
	}
	if runErr != nil {
		rec.Status = results.StatusInterrupted
		if !errors.Is(runErr, context.Canceled) && !errors.Is(runErr, context.DeadlineExceeded) {
			rec.Status = results.StatusFailed
			rec.Notes = oneLine(runErr)
		}
	}
	if v := res.VMC; v != nil {
		rec.Estimates["vmc_energy"] = results.Estimate{Value: v.Energy.Value, Error: v.Energy.Error}
		rec.Estimates[results.EstVariance] = results.Estimate{Value: v.Variance.Value, Error: v.Variance.Error}
	}
	if res.Gap != nil && !math.IsNaN(res.Gap.Value) {
		rec.Estimates[results.EstGap] = results.Estimate{Value: res.Gap.Value, Error: res.Gap.Error}
	}
	if len(res.Points) > 0 {
		cur := results.Curve{Label: "E(tau) vs tau, mixed estimator"}
		for _, p := range res.Points {
			cur.X = append(cur.X, p.Tau)
			cur.Y = append(cur.Y, p.Energy.Value)
			cur.Err = append(cur.Err, p.Energy.Error)
		}
		rec.Curves = map[string]results.Curve{"energy_vs_tau": cur}
	}
	return rec
}
