package pimc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"vqs/hamiltonian"
	"vqs/rgsampler"
	"vqs/stats"
)

// Defaults and limits.
const (
	// BetaGaps is c in the automatic beta = c/gap: exp(-c) = 6e-6 is the weight of the first
	// excited level relative to the ground state.
	BetaGaps = 12.0
	// BetaFloor is the smallest automatic beta (lattice units), a guard against a gap
	// estimate that is too large.
	BetaFloor = 2.0
	// DefaultSamples, DefaultChains and DefaultWarmup replace zero values in Config.
	DefaultSamples = 2000
	DefaultChains  = 2
	DefaultWarmup  = 300
	// MinSamples is the fewest measured samples per chain that Run accepts: below it the
	// Gamma method cannot estimate an autocorrelation time.
	MinSamples = stats.MinAutocorrLength
	// MinSlices is the fewest time slices a point may have (beta/eps >= MinSlices).
	MinSlices = 4
	// MaxSites bounds the spatial lattice (checked before anything is allocated): every
	// sample holds Lt copies of it, and 1024x1024 is already far beyond what HMC can equilibrate.
	MaxSites = 1 << 20
	// BetaCheckSigmas is the difference between the energies at beta and 2 beta, in combined
	// standard errors, beyond which BetaCheck.Flagged is set.
	BetaCheckSigmas = 2.0
)

// Extrapolation names the eps^2 extrapolation reported as Result.E0.
type Extrapolation string

// The extrapolations (see the package documentation).
const (
	ExtrapolateGaussian Extrapolation = "gaussian" // after subtracting the exact Gaussian eps and beta error
	ExtrapolateRaw      Extrapolation = "raw"      // the measured points as they are
)

// Config sets up a run. Zero values of Samples, Chains, Warmup and Extrapolation take the
// defaults; Beta = 0 is the automatic beta.
type Config struct {
	L, Dim     int     // periodic L^Dim spatial lattice (docs/physics.md)
	M2, Lambda float64 // couplings; Lambda multiplies phi^4/4!
	// Eps are the time spacings (lattice units of the spatial spacing), at least two distinct.
	Eps []float64
	// Beta is the imaginary-time extent; each point has Lt = SmoothSlices(Beta/eps) slices
	// and its own beta Lt*eps >= Beta. 0: max(BetaFloor, BetaGaps/gap) with the Hartree gap.
	Beta float64
	// Samples per chain per eps; each is one HMC trajectory of length pi/2.
	Samples int
	// Chains are independent HMC chains per eps, one goroutine each.
	Chains int
	// Warmup trajectories per chain before measuring (the HMC step size is tuned there).
	Warmup int
	// Seed: chain c of point i uses the PCG stream (Seed, i<<20 | c); the beta check is point
	// len(Eps). Runs are reproducible.
	Seed          uint64
	Extrapolation Extrapolation
	// SkipBetaCheck skips the rerun of the largest eps at twice the beta.
	SkipBetaCheck bool
}

// Estimate is a Monte Carlo mean over independent chains with its error, blocking error,
// tau_int, ESS and split-R-hat (package stats).
type Estimate = stats.Estimate

// Point is the measurement at one time spacing.
type Point struct {
	Eps, Beta float64 // beta = Lt*eps
	Lt        int
	Samples   int // per chain (fewer than requested when the run was interrupted)
	Chains    int
	// Energy is the slice average of the virial estimator 2 V2 + 3 V4; Potential of V; Phi2 of
	// the site average of phi_x^2.
	Energy, Potential, Phi2 Estimate
	// GaussianShift is the exact error of the virial estimator in the Gaussian (Hartree)
	// theory at this eps and Lt: FreeSlice(G).Energy - sum_k G_k/2.
	GaussianShift float64
	Acceptance    float64 // mean HMC acceptance probability over chains
	StepSize      float64 // tuned leapfrog step of chain 0
	Seconds       float64 // wall time, warm-up included
	// Stuck says why the chains cannot be trusted (they barely moved, or never left their
	// start), or is empty. A stuck point's estimates are flagged unreliable and it is left out
	// of the extrapolations.
	Stuck string
}

// MinAcceptance is the HMC acceptance below which a point's chains count as stuck.
const MinAcceptance = 0.05

// Corrected returns Energy.Mean - GaussianShift, the point of the Gaussian extrapolation.
func (p Point) Corrected() float64 { return p.Energy.Value - p.GaussianShift }

// BetaCheck compares the energy at the largest eps with a rerun at twice the beta.
type BetaCheck struct {
	Eps    float64
	Base   Point // the point at beta (a copy of the one in Result.Points)
	Double Point // the rerun with 2 Lt slices
	// Diff = E(2 beta) - E(beta); Sigmas = Diff in combined standard errors.
	Diff, Sigmas float64
	// GaussianDiff is the Gaussian theory's prediction of Diff (about -its thermal error).
	GaussianDiff float64
	Flagged      bool // |Sigmas| > BetaCheckSigmas: beta may be too small
}

// Result is what Run measured.
type Result struct {
	Config   Config // with defaults filled in
	Sites    int    // N = L^Dim
	Gap      float64
	Beta     float64 // the target beta (each point has Lt*eps, close to it)
	Gaussian float64 // Hartree energy, an upper bound on E0
	Points   []Point
	// Raw and Gaussian are the two eps^2 extrapolations; nil with fewer than two points.
	Raw, GaussianFit *Fit
	// E0 +- Err is the extrapolation chosen by Config.Extrapolation, with Err = its ErrScaled;
	// NaN when there is no fit.
	E0, Err   float64
	BetaCheck *BetaCheck // nil when skipped or not reached
	Seconds   float64
}

// Progress reports where a run is; Done and Total count chain 0's samples in this stage.
type Progress struct {
	Stage       string // "warmup", "measure" or "beta-check"
	Point       int    // index into Config.Eps (len(Eps) for the beta check)
	Eps         float64
	Lt          int
	Done, Total int
}

func (c *Config) defaults() {
	if c.Samples == 0 {
		c.Samples = DefaultSamples
	}
	if c.Chains == 0 {
		c.Chains = DefaultChains
	}
	if c.Warmup == 0 {
		c.Warmup = DefaultWarmup
	}
	if c.Extrapolation == "" {
		c.Extrapolation = ExtrapolateGaussian
	}
	c.Eps = slices.Clone(c.Eps)
}

// validate checks everything but the lattice and couplings (hamiltonian.NewModel does those).
func (c *Config) validate() error {
	if len(c.Eps) < 2 {
		return fmt.Errorf("pimc: need at least two time spacings eps for the eps^2 extrapolation, got %d", len(c.Eps))
	}
	for i, e := range c.Eps {
		if !(e > 0) || math.IsInf(e, 0) {
			return fmt.Errorf("pimc: time spacing eps must be finite and > 0, got %v", e)
		}
		if slices.Contains(c.Eps[:i], e) {
			return fmt.Errorf("pimc: time spacing eps %v is listed twice", e)
		}
	}
	if c.Beta < 0 || math.IsNaN(c.Beta) || math.IsInf(c.Beta, 0) {
		return fmt.Errorf("pimc: beta must be finite and >= 0 (0 = automatic), got %v", c.Beta)
	}
	if c.Samples < MinSamples {
		return fmt.Errorf("pimc: need at least %d samples per chain, got %d", MinSamples, c.Samples)
	}
	if c.Chains < 1 || c.Warmup < 0 {
		return fmt.Errorf("pimc: need chains >= 1 and warm-up >= 0, got %d and %d", c.Chains, c.Warmup)
	}
	if c.Extrapolation != ExtrapolateGaussian && c.Extrapolation != ExtrapolateRaw {
		return fmt.Errorf("pimc: extrapolation must be %q or %q, got %q", ExtrapolateGaussian, ExtrapolateRaw, c.Extrapolation)
	}
	return nil
}

// plan is a validated run: the model, its Gaussian reference and the slices of every point.
type plan struct {
	cfg     Config
	model   *hamiltonian.Model
	hartree *hamiltonian.Hartree
	beta    float64
	lts     []int
}

func newPlan(cfg Config) (*plan, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	lat, err := hamiltonian.NewLattice(cfg.L, cfg.Dim)
	if err != nil {
		return nil, fmt.Errorf("pimc: %w", err)
	}
	if lat.N > MaxSites {
		return nil, fmt.Errorf("pimc: %d^%d = %d sites is more than the %d a path integral can sample here", cfg.L, cfg.Dim, lat.N, MaxSites)
	}
	m, err := hamiltonian.NewModel(cfg.L, cfg.Dim, cfg.M2, cfg.Lambda)
	if err != nil {
		return nil, fmt.Errorf("pimc: %w", err)
	}
	h, err := hamiltonian.SolveHartree(m)
	if err != nil {
		return nil, fmt.Errorf("pimc: Gaussian reference: %w", err)
	}
	p := &plan{cfg: cfg, model: m, hartree: h, beta: cfg.Beta}
	if p.beta == 0 {
		p.beta = math.Max(BetaFloor, BetaGaps/h.Mass)
	}
	for _, e := range cfg.Eps {
		if p.beta/e > 1<<24 {
			return nil, fmt.Errorf("pimc: eps %v at beta %.4g needs more than 2^24 time slices", e, p.beta)
		}
		lt := SmoothSlices(p.beta / e)
		if lt < MinSlices {
			return nil, fmt.Errorf("pimc: eps %v gives %d time slices at beta %.4g; need >= %d (use a smaller eps or a larger beta)", e, lt, p.beta, MinSlices)
		}
		// Both the point and its beta check must fit rgsampler's lattice limit.
		if _, err := rgsampler.NewPathIntegral(cfg.L, cfg.Dim, 2*lt, e, cfg.M2, cfg.Lambda); err != nil {
			return nil, fmt.Errorf("pimc: eps %v: %w", e, err)
		}
		p.lts = append(p.lts, lt)
	}
	return p, nil
}

// SmoothSlices returns the smallest Lt >= round(x) whose prime factors are all 2, 3 or 5.
// The HMC's FFTs along the time axis cost O(p^2) per prime factor p (a prime Lt = 47 makes a
// trajectory on 8x8 three times slower than Lt = 48); rounding up only lengthens beta, by at
// most about 12 percent, which lowers the thermal error.
func SmoothSlices(x float64) int {
	lt := max(1, int(math.Round(x)))
	for ; ; lt++ {
		r := lt
		for _, f := range []int{2, 3, 5} {
			for r%f == 0 {
				r /= f
			}
		}
		if r == 1 {
			return lt
		}
	}
}

// Validate reports whether Run would accept cfg, without sampling anything.
func Validate(cfg Config) error {
	_, err := newPlan(cfg)
	return err
}

// Run measures E(eps) at every eps of cfg, extrapolates to eps = 0 and runs the beta check.
// progress, if not nil, is called from a sampling goroutine, never concurrently. On
// cancellation it returns what was measured so far (a point cut short counts when every chain
// has at least MinSamples samples; fits and check as far as the points allow) with ctx.Err().
func Run(ctx context.Context, cfg Config, progress func(Progress)) (*Result, error) {
	start := time.Now()
	p, err := newPlan(cfg)
	if err != nil {
		return nil, err
	}
	res := &Result{Config: p.cfg, Sites: p.model.N, Gap: p.hartree.Mass, Beta: p.beta,
		Gaussian: p.hartree.Energy, E0: math.NaN(), Err: math.NaN()}
	defer func() { res.Seconds = time.Since(start).Seconds() }()
	var runErr error
	largest := 0
	for i, e := range p.cfg.Eps {
		pt, err := p.measure(ctx, i, e, p.lts[i], "measure", progress)
		if pt != nil {
			res.Points = append(res.Points, *pt)
		}
		if err != nil {
			runErr = err
			break
		}
		if e > p.cfg.Eps[largest] {
			largest = i
		}
	}
	res.fit()
	if runErr != nil || p.cfg.SkipBetaCheck {
		return res, runErr
	}
	i := len(p.cfg.Eps)
	base := res.Points[largest]
	dbl, err := p.measure(ctx, i, base.Eps, 2*base.Lt, "beta-check", progress)
	if dbl != nil {
		bc := &BetaCheck{Eps: base.Eps, Base: base, Double: *dbl}
		bc.Diff = dbl.Energy.Value - base.Energy.Value
		bc.Sigmas = stats.CombinedSigmas(dbl.Energy.Value, dbl.Energy.Error, base.Energy.Value, base.Energy.Error)
		bc.GaussianDiff = dbl.GaussianShift - base.GaussianShift
		bc.Flagged = math.Abs(bc.Sigmas) > BetaCheckSigmas
		res.BetaCheck = bc
	}
	return res, err
}

// fit makes both extrapolations from the points and picks E0.
func (r *Result) fit() {
	var eps, raw, cor, errs []float64
	for _, p := range r.Points {
		if p.Stuck != "" {
			continue // no honest error bar to weigh it by
		}
		eps, raw, cor, errs = append(eps, p.Eps), append(raw, p.Energy.Value), append(cor, p.Corrected()), append(errs, p.Energy.Error)
	}
	if f, err := Extrapolate(eps, raw, errs); err == nil {
		r.Raw = &f
	}
	if f, err := Extrapolate(eps, cor, errs); err == nil {
		r.GaussianFit = &f
	}
	chosen := r.GaussianFit
	if r.Config.Extrapolation == ExtrapolateRaw {
		chosen = r.Raw
	}
	if chosen != nil {
		r.E0, r.Err = chosen.E0, chosen.ErrScaled
	}
}

// series are one chain's per-sample estimators.
type series struct {
	energy, potential, phi2 []float64
	accept                  float64
	step                    float64
}

// measure samples one point: cfg.Chains HMC chains in parallel on the path integral with lt
// slices. It returns nil with the error when nothing usable was measured.
func (p *plan) measure(ctx context.Context, index int, eps float64, lt int, stage string, progress func(Progress)) (*Point, error) {
	start := time.Now()
	target, err := rgsampler.NewPathIntegral(p.cfg.L, p.cfg.Dim, lt, eps, p.cfg.M2, p.cfg.Lambda)
	if err != nil {
		return nil, err
	}
	m2Floor := target.HartreeMass()
	chains := make([]series, p.cfg.Chains)
	errs := make([]error, p.cfg.Chains)
	report := func(stage string, done, total int) {
		if progress != nil {
			progress(Progress{Stage: stage, Point: index, Eps: eps, Lt: lt, Done: done, Total: total})
		}
	}
	var wg sync.WaitGroup
	for c := range chains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep := report
			if c != 0 {
				rep = nil
			}
			errs[c] = p.runChain(ctx, target, m2Floor, uint64(index)<<20|uint64(c), &chains[c], stage, rep)
		}()
	}
	wg.Wait()
	var runErr error
	for _, e := range errs {
		if e != nil {
			runErr = e
			break
		}
	}
	n := len(chains[0].energy)
	for _, s := range chains {
		n = min(n, len(s.energy))
	}
	if n < MinSamples {
		if runErr == nil {
			runErr = errors.New("pimc: no samples measured")
		}
		return nil, runErr
	}
	pt := &Point{Eps: eps, Beta: float64(lt) * eps, Lt: lt, Samples: n, Chains: len(chains),
		StepSize: chains[0].step, Seconds: time.Since(start).Seconds()}
	cut := func(get func(s *series) []float64) [][]float64 {
		out := make([][]float64, len(chains))
		for c := range chains {
			out[c] = get(&chains[c])[:n]
		}
		return out
	}
	pt.Energy = combine(cut(func(s *series) []float64 { return s.energy }))
	pt.Potential = combine(cut(func(s *series) []float64 { return s.potential }))
	pt.Phi2 = combine(cut(func(s *series) []float64 { return s.phi2 }))
	for _, s := range chains {
		pt.Acceptance += s.accept / float64(len(chains))
	}
	g, err := FreeSlice(p.hartree.G, eps, lt)
	if err != nil {
		return nil, err
	}
	pt.GaussianShift = g.Energy - groundEnergy(p.hartree.G)
	if pt.Stuck = stuckReason(pt); pt.Stuck != "" {
		pt.Energy.Unreliable, pt.Potential.Unreliable, pt.Phi2.Unreliable = true, true, true
	}
	return pt, runErr
}

// stuckReason says why a point's chains cannot be trusted, or returns "".
func stuckReason(p *Point) string {
	switch {
	case p.Acceptance < MinAcceptance:
		return fmt.Sprintf("HMC acceptance %.3f: the chains barely move (too short a warm-up to tune the step? raise --warmup)", p.Acceptance)
	case p.Energy.Error == 0 || p.Energy.Unreliable:
		return "the energy estimate has no honest error bar: the chains did not move, or disagree (split-R-hat above 1.1)"
	}
	return ""
}

// runChain warms one HMC chain up and records its estimators into s.
func (p *plan) runChain(ctx context.Context, target *rgsampler.Phi4, m2Floor float64, stream uint64, s *series, stage string, report func(string, int, int)) error {
	h, err := rgsampler.NewHMC(target, target.Dims(), nil, rgsampler.HMCConfig{M2Floor: m2Floor}, p.cfg.Seed, stream)
	if err != nil {
		return err
	}
	if report != nil {
		report("warmup", 0, p.cfg.Warmup)
	}
	if err := h.Warmup(ctx, p.cfg.Warmup); err != nil {
		return err
	}
	s.step = h.StepSize()
	n := p.cfg.Samples
	s.energy, s.potential, s.phi2 = make([]float64, 0, n), make([]float64, 0, n), make([]float64, 0, n)
	lt, _ := target.TimeSlices()
	buf := [][]float64{make([]float64, target.Sites())}
	every := max(1, n/100)
	accSum := 0.0
	for t := 0; t < n; t++ {
		acc, err := h.Sample(ctx, 1, buf)
		if err != nil {
			return err
		}
		accSum += acc
		e, v, f2 := sliceAverages(p.model, buf[0], lt)
		s.energy = append(s.energy, e)
		s.potential = append(s.potential, v)
		s.phi2 = append(s.phi2, f2)
		s.accept = accSum / float64(t+1)
		if report != nil && ((t+1)%every == 0 || t+1 == n) {
			report(stage, t+1, n)
		}
	}
	return nil
}

// sliceAverages returns, averaged over the lt time slices of phi, the virial estimator
// V + (1/2) phi.gradV, which is 2 V2 + 3 V4 because V2 is quadratic and V4 quartic in phi,
// the potential V, and the site average of phi^2.
func sliceAverages(m *hamiltonian.Model, phi []float64, lt int) (virial, potential, phi2 float64) {
	ns := m.N
	for tau := 0; tau < lt; tau++ {
		slice := phi[tau*ns : (tau+1)*ns]
		v2, v4 := m.PotentialParts(slice)
		virial += 2*v2 + 3*v4
		potential += v2 + v4
		for _, f := range slice {
			phi2 += f * f
		}
	}
	l := float64(lt)
	return virial / l, potential / l, phi2 / (l * float64(ns))
}

// combine pools independent chains.
func combine(chains [][]float64) Estimate { return stats.Pool(chains) }
