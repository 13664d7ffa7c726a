// Package scan runs finite-size scans: the VMC ground state (package groundstate) at several
// lattice sizes with its references (Gaussian bound, exact values where cheap), every result in
// a results store, and the infinite-volume extrapolation of E0/N.
//
// A scan resumes: a size whose computation is already in the store is reused, and the size in
// progress keeps a checkpoint inside the store (<store>/checkpoints/<run key>/), so a scan that
// is killed or preempted and run again continues where it stopped. Records are stored under
// their run key, so two identical scans running at once store each size once.
package scan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"vqs/buildinfo"
	"vqs/groundstate"
	"vqs/hamiltonian"
	"vqs/internal/atomicfile"
	"vqs/results"
	"vqs/stats"
	"vqs/vmc"
)

// CheckpointDir is the subdirectory of the store that holds the sizes in progress.
const CheckpointDir = "checkpoints"

// Config is one scan. GroundState is the template of every point (its L, and its M2 when M2s is
// given, are replaced; its Dir, Resume and Force are ignored).
type Config struct {
	Sizes []int
	// M2s, when not empty, scans these bare masses at every size (a grid of points) and adds
	// the finite-size-scaling analysis of the critical point; otherwise GroundState.M2 alone.
	M2s         []float64
	GroundState groundstate.Config
	Store       string  // results store directory (required)
	Jobs        int     // points computed at the same time (0: 1; each already uses every core)
	XPower      float64 // abscissa 1/L^XPower of the extrapolation (0: 1/N)
	Seed        uint64  // of the crossings' bootstrap
}

// Row is one point (size and coupling) of a scan.
type Row struct {
	L, Sites int
	M2       float64
	Energy   stats.Estimate
	Variance stats.Estimate
	Binder   stats.Estimate // U4 = 1 - <M^4>/(3 <M^2>^2); BinderMethod says of which state
	// BinderMethod is groundstate.BinderMethodRR where the record has it (the crossings use the
	// state that corrects Psi_0's mean-field distribution, as the gap does), else
	// groundstate.BinderMethodPsi0.
	BinderMethod string
	Chi          stats.Estimate // N (<M^2> - <|M|>^2)
	Gap          stats.Estimate // to the Z2-odd sector; GapMethod says by which estimator
	// GapMethod names the gap estimator ("" when the point has none).
	GapMethod string
	Gaussian  float64
	Exact     *groundstate.Reference
	ID        string // the record in the store
	Reused    bool   // found in the store, not computed by this scan
	Resumed   int    // the iteration a checkpointed size resumed from (0: started fresh)
	Trace     string // the record's trace, relative to the store
	// RunStatus is how the point's VMC run ended (vmc.Status.String(): "completed",
	// "diverged", ...). Diverged points are shown but left out of the critical analysis.
	RunStatus string
}

// Result is a finished (or interrupted) scan.
type Result struct {
	Rows []Row // the points that finished, by m2 then L
	// Fit is the infinite-volume extrapolation of E0/N at a single coupling (nil with fewer
	// than two sizes or with several couplings: see Fits).
	Fit *results.ScalingFit
	// Fits holds the extrapolation at every coupling of a grid that has two sizes or more.
	Fits map[float64]*results.ScalingFit
	// Critical is the finite-size-scaling analysis of a grid (nil for a single coupling).
	Critical *Critical
	// Interrupted is set when the context was cancelled: unfinished sizes are checkpointed in
	// the store and are continued by running the same scan again.
	Interrupted bool
}

// Progress reports a scan: a point starting or found in the store, and the ground-state
// progress of the points running.
type Progress struct {
	L      int
	M2     float64
	Event  string // "start", "resume", "reused" or "run"
	ID     string // with "reused": the record found
	Resume int    // with "resume": the iteration
	Run    groundstate.Progress
}

// Validate reports whether cfg can run.
func (c Config) Validate() error {
	if len(c.Sizes) == 0 {
		return errors.New("scan: no lattice sizes")
	}
	if c.Store == "" {
		return errors.New("scan: no results store")
	}
	if c.Jobs < 0 {
		return fmt.Errorf("scan: jobs must be >= 0, got %d", c.Jobs)
	}
	if c.XPower < 0 || c.XPower != c.XPower || c.XPower > 1e6 {
		return fmt.Errorf("scan: the extrapolation power must be a number >= 0, got %v", c.XPower)
	}
	m2s := c.M2s
	if len(m2s) == 0 {
		m2s = []float64{c.GroundState.M2}
	}
	for _, l := range c.Sizes {
		for _, m2 := range m2s {
			g := c.GroundState
			g.L, g.M2 = l, m2
			if err := g.Validate(); err != nil {
				if len(c.M2s) > 0 {
					return fmt.Errorf("L = %d, m2 = %g: %w", l, m2, err)
				}
				return fmt.Errorf("L = %d: %w", l, err)
			}
		}
	}
	return nil
}

// Run computes (or finds in the store) every size and the extrapolation. The references of
// each size are stored once per problem.
func Run(ctx context.Context, cfg Config, progress func(Progress)) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sizes := slices.Compact(slices.Sorted(slices.Values(cfg.Sizes)))
	m2s := slices.Compact(slices.Sorted(slices.Values(cfg.M2s)))
	grid := len(m2s) > 0
	if !grid {
		m2s = []float64{cfg.GroundState.M2}
	}
	type point struct {
		L  int
		M2 float64
	}
	var points []point
	for _, m2 := range m2s {
		for _, l := range sizes {
			points = append(points, point{l, m2})
		}
	}
	st, err := results.Open(cfg.Store)
	if err != nil {
		return nil, err
	}
	jobs := max(cfg.Jobs, 1)
	rows := make([]Row, len(points))
	errs := make([]error, len(points))
	var mu sync.Mutex // one progress call at a time
	report := func(p Progress) {
		if progress != nil {
			mu.Lock()
			progress(p)
			mu.Unlock()
		}
	}
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for i, pt := range points {
		sem <- struct{}{} // points start in order, at most jobs at a time
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			rows[i], errs[i] = runSize(ctx, st, cfg, pt.L, pt.M2, report)
		}()
	}
	wg.Wait()
	res := &Result{Fits: map[float64]*results.ScalingFit{}}
	for i := range rows {
		if errs[i] != nil {
			if errors.Is(errs[i], context.Canceled) || errors.Is(errs[i], context.DeadlineExceeded) || ctx.Err() != nil {
				res.Interrupted = true
				continue
			}
			if grid {
				return nil, fmt.Errorf("L = %d, m2 = %g: %w", points[i].L, points[i].M2, errs[i])
			}
			return nil, fmt.Errorf("L = %d: %w", points[i].L, errs[i])
		}
		res.Rows = append(res.Rows, rows[i])
	}
	dim := cfg.GroundState.WithDefaults().Dim
	for _, m2 := range m2s {
		var pts []results.ScalingPoint
		for _, r := range res.Rows {
			if r.M2 == m2 {
				n := float64(r.Sites)
				pts = append(pts, results.ScalingPoint{L: r.L, EPerSite: r.Energy.Value / n, Err: r.Energy.Error / n})
			}
		}
		if len(pts) >= 2 {
			if f, err := results.FitScaling(pts, dim, cfg.XPower); err == nil {
				res.Fits[m2] = &f
			}
		}
	}
	if !grid {
		res.Fit = res.Fits[m2s[0]]
	} else if len(m2s) >= 2 {
		// One size still gets the curves of U4 and L x gap against m2 (and says why there is
		// no crossing), not a scaling plot that mixes couplings.
		res.Critical = analyse(res.Rows, cfg.Seed)
	}
	return res, nil
}

// runSize finds one size in the store or computes it, resuming its checkpoint if there is one.
func runSize(ctx context.Context, st *results.Store, cfg Config, L int, m2 float64, report func(Progress)) (Row, error) {
	g := cfg.GroundState
	g.L, g.M2, g.Resume, g.Force = L, m2, false, false
	m, err := g.Model()
	if err != nil {
		return Row{}, err
	}
	row := Row{L: L, M2: m2, Sites: m.N}
	h, err := hamiltonian.SolveHartree(m)
	if err != nil {
		return row, err
	}
	row.Gaussian = h.Energy
	p := results.Params{L: m.L, Dim: m.Dim, M2: m.M2, Lambda: m.Lambda}
	if _, _, err := st.PutOnce(referenceRecord(results.KindGaussian, p, h.Energy, "Hartree bound")); err != nil {
		return row, err
	}
	vp := p
	vp.Extra = g.Extra()
	key := results.Key(results.KindScan, vp)
	if rec, err := st.Get(key); err == nil && rec.Status == results.StatusDone {
		report(Progress{L: L, M2: m2, Event: "reused", ID: rec.ID})
		row.Reused = true
		return fromRecord(row, rec), nil
	}
	// The size in progress lives in the store, so that a killed scan resumes it; a lock keeps
	// a second scan of the same size waiting (then it finds the first's record) instead of
	// writing into the same directory.
	if err := os.MkdirAll(filepath.Join(st.Dir(), CheckpointDir), 0o755); err != nil {
		return row, err
	}
	unlock, err := atomicfile.Lock(ctx, filepath.Join(st.Dir(), CheckpointDir, key+".lock"))
	if err != nil {
		return row, err
	}
	defer unlock()
	if rec, err := st.Get(key); err == nil && rec.Status == results.StatusDone {
		report(Progress{L: L, M2: m2, Event: "reused", ID: rec.ID})
		row.Reused = true
		return fromRecord(row, rec), nil
	}
	g.Dir = filepath.Join(st.Dir(), CheckpointDir, key)
	if cp, err := groundstate.LoadCheckpoint(g.Dir); err == nil {
		g.Resume = true
		row.Resumed = cp.Iter
		report(Progress{L: L, M2: m2, Event: "resume", Resume: cp.Iter})
	} else {
		g.Force = true // a directory without a checkpoint holds nothing to keep
		report(Progress{L: L, M2: m2, Event: "start"})
	}
	res, err := groundstate.Run(ctx, g, func(gp groundstate.Progress) { report(Progress{L: L, M2: m2, Event: "run", Run: gp}) })
	if err != nil {
		return row, err
	}
	if res.Status == vmc.Interrupted || res.Status == vmc.TimedOut {
		return row, context.Canceled // checkpointed in g.Dir; not stored as done
	}
	if res.Exact != nil {
		if _, _, err := st.PutOnce(referenceRecord(results.KindExact, p, res.Exact.Energy, res.Exact.Method)); err != nil {
			return row, err
		}
	}
	rec, existed, err := res.Save(st, results.KindScan, true)
	if err != nil {
		return row, err
	}
	os.RemoveAll(g.Dir)
	os.Remove(g.Dir + ".lock")
	row.Reused = existed // an identical scan running at the same time stored it first
	return fromRecord(row, rec), nil
}

func fromRecord(row Row, rec results.Record) Row {
	row.Energy = rec.Estimates[results.EstEnergy]
	row.Variance = rec.Estimates[results.EstVariance]
	row.Binder, row.BinderMethod = rec.Estimates["binder"], groundstate.BinderMethodPsi0
	if b, ok := rec.Estimates["binder_rr"]; ok {
		row.Binder, row.BinderMethod = b, groundstate.BinderMethodRR
	}
	row.Chi = rec.Estimates["chi"]
	if g, ok := rec.Estimates[results.EstGap]; ok {
		row.Gap = g
		row.GapMethod, _ = rec.Meta["gap_method"].(string)
	}
	row.ID, row.Trace = rec.ID, rec.Trace
	row.RunStatus, _ = rec.Meta["status"].(string)
	if e, ok := rec.Estimates["exact_energy"]; ok {
		how, _ := rec.Meta["exact_method"].(string)
		row.Exact = &groundstate.Reference{Energy: e.Value, Method: how}
	}
	return row
}

// referenceRecord is a deterministic reference value, stored once per problem.
func referenceRecord(kind string, p results.Params, e float64, how string) *results.Record {
	n := float64(p.Sites())
	return &results.Record{Kind: kind, Status: results.StatusDone, Version: buildinfo.Version(), Params: p, Notes: how,
		Estimates: map[string]results.Estimate{results.EstEnergy: results.Exact(e), results.EstEnergyPerSite: results.Exact(e / n)}}
}
