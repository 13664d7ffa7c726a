// Package compare puts every ground-state energy vqs can compute for a problem side by side:
// the variational energy (VMC, an upper bound up to its error), the exact value where it
// exists (exact diagonalization on tiny lattices, the free theory at lambda = 0), the
// Gaussian-variational bound and the path-integral estimate, with every pairwise difference
// in units of the combined error bar.
package compare

import (
	"context"
	"errors"
	"fmt"
	"math"

	"vqs/dmc"
	"vqs/groundstate"
	"vqs/hamiltonian"
	"vqs/hamiltonian/ed"
	"vqs/pimc"
	"vqs/stats"
	"vqs/vmc"
)

// Config is one comparison. GroundState is the VMC template of every size (its L, Dir,
// Resume and Force are replaced).
type Config struct {
	Sizes       []int
	GroundState groundstate.Config
	NMax        int       // ED levels per site (0: the default for the size)
	PIMCEps     []float64 // path-integral time spacings (nil: pimc's default)
	PIMCSamples int       // path-integral samples per chain per spacing (0: pimc's default)
	NoPIMC      bool      // skip the path integral
	// DMC, if not nil, adds diffusion Monte Carlo guided by each size's VMC state (its Guide,
	// Train, Dir and Resume are replaced).
	DMC *dmc.Config
}

// Entry is one method's energy.
type Entry struct {
	Method string  `json:"method"` // vmc, exact, gaussian, pimc or dmc
	Energy float64 `json:"energy"`
	Err    float64 `json:"energy_err"` // 0 for exact values
	Note   string  `json:"note,omitempty"`
}

// Diff is the difference of two methods' energies, A - B, in units of the combined error.
type Diff struct {
	A      string   `json:"a"`
	B      string   `json:"b"`
	Diff   float64  `json:"diff"`
	Sigmas *float64 `json:"sigmas"` // nil when both are exact
}

// Row is the comparison at one lattice size.
type Row struct {
	L       int     `json:"L"`
	Sites   int     `json:"sites"`
	Entries []Entry `json:"results"`
	Diffs   []Diff  `json:"diffs"`
}

// Result is a finished (or interrupted) comparison.
type Result struct {
	Dim         int     `json:"dim"`
	M2          float64 `json:"m2"`
	Lambda      float64 `json:"lambda"`
	Rows        []Row   `json:"sizes"`
	Interrupted bool    `json:"interrupted,omitempty"`
}

// Validate reports whether cfg can run.
func (c Config) Validate() error {
	if len(c.Sizes) == 0 {
		return errors.New("compare: no lattice sizes")
	}
	if !c.NoPIMC && c.PIMCEps != nil && len(c.PIMCEps) < 2 {
		return errors.New("compare: the path-integral extrapolation needs at least two time spacings")
	}
	if c.NMax != 0 && c.NMax < 4 {
		return fmt.Errorf("compare: ED needs at least 4 levels per site, got %d", c.NMax)
	}
	for _, l := range c.Sizes {
		g := c.GroundState
		g.L = l
		if err := g.Validate(); err != nil {
			return fmt.Errorf("L = %d: %w", l, err)
		}
		if !c.NoPIMC {
			if err := pimc.Validate(c.pimcConfig(g)); err != nil {
				return fmt.Errorf("L = %d: %w", l, err)
			}
		}
		if c.DMC != nil {
			d := *c.DMC
			d.Guide, d.Train, d.Dir, d.Resume = nil, g, "", false
			if err := dmc.Validate(d); err != nil {
				return fmt.Errorf("L = %d: %w", l, err)
			}
		}
	}
	return nil
}

func (c Config) pimcConfig(g groundstate.Config) pimc.Config {
	d := g.WithDefaults()
	return pimc.Config{L: d.L, Dim: d.Dim, M2: d.M2, Lambda: d.Lambda, Eps: c.PIMCEps, Samples: c.PIMCSamples, Seed: d.Seed}
}

// Run computes every method at every size. progress, if not nil, is told which method of
// which size starts.
func Run(ctx context.Context, cfg Config, progress func(L int, method string)) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := cfg.GroundState.WithDefaults()
	res := &Result{Dim: g.Dim, M2: g.M2, Lambda: g.Lambda}
	say := func(L int, m string) {
		if progress != nil {
			progress(L, m)
		}
	}
	for _, l := range cfg.Sizes {
		row, err := runSize(ctx, cfg, l, say)
		if err != nil {
			return nil, fmt.Errorf("L = %d: %w", l, err)
		}
		res.Rows = append(res.Rows, row)
		if ctx.Err() != nil {
			res.Interrupted = true
			break
		}
	}
	return res, nil
}

func runSize(ctx context.Context, cfg Config, L int, say func(int, string)) (Row, error) {
	g := cfg.GroundState
	g.L, g.Dir, g.Resume, g.Force, g.NoReference = L, "", false, false, true
	m, err := g.Model()
	if err != nil {
		return Row{}, err
	}
	row := Row{L: L, Sites: m.N}
	say(L, "vmc")
	gs, err := groundstate.Run(ctx, g, nil)
	if err != nil {
		return row, err
	}
	row.Entries = append(row.Entries, Entry{"vmc", gs.Estimate.Energy.Value, gs.Estimate.Energy.Error, gs.Summary().Stopped})
	switch {
	case m.Lambda == 0:
		f, err := hamiltonian.NewFreeTheory(m.Lattice, m.M2)
		if err != nil {
			return row, err
		}
		row.Entries = append(row.Entries, Entry{"exact", f.Energy(), 0, "free theory"})
	case m.N <= ed.ReferenceMaxSites && ctx.Err() == nil:
		say(L, "exact")
		r, err := ed.Reference(ctx, m, ed.ReferenceConfig{NMax: cfg.NMax})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return row, err
		}
		row.Entries = append(row.Entries, Entry{"exact", r.Energy, 0, r.String()})
	}
	row.Entries = append(row.Entries, Entry{"gaussian", gs.Gaussian.Energy, 0, "Hartree bound"})
	if !cfg.NoPIMC && ctx.Err() == nil {
		say(L, "pimc")
		pr, err := pimc.Run(ctx, cfg.pimcConfig(g), nil)
		if err != nil {
			if ctx.Err() == nil {
				return row, err
			}
		} else {
			row.Entries = append(row.Entries, Entry{"pimc", pr.E0, pr.Err, pimcNote(pr)})
		}
	}
	if cfg.DMC != nil && ctx.Err() == nil && gs.Status == vmc.Diverged {
		return row, fmt.Errorf("L = %d: no DMC, the VMC state that would guide it diverged: %s", L, gs.Reason)
	} else if cfg.DMC != nil && ctx.Err() == nil {
		say(L, "dmc")
		dc := *cfg.DMC
		dc.Train, dc.Dir, dc.Checkpoint, dc.Resume, dc.NoReference = groundstate.Config{}, "", "", false, true
		if dc.Guide, err = dmc.GuideFrom(gs); err != nil {
			return row, err
		}
		dr, err := dmc.Run(ctx, dc, nil)
		switch {
		case err != nil && ctx.Err() == nil:
			return row, err
		case err == nil && !math.IsNaN(dr.Energy):
			row.Entries = append(row.Entries, Entry{"dmc", dr.Energy, dr.EnergyErr, "guided by the VMC state, tau -> 0"})
		}
	}
	for i := 0; i < len(row.Entries); i++ {
		for j := i + 1; j < len(row.Entries); j++ {
			a, b := row.Entries[i], row.Entries[j]
			d := Diff{A: a.Method, B: b.Method, Diff: a.Energy - b.Energy}
			if math.Hypot(a.Err, b.Err) > 0 {
				s := stats.CombinedSigmas(a.Energy, a.Err, b.Energy, b.Err)
				d.Sigmas = &s
			}
			row.Diffs = append(row.Diffs, d)
		}
	}
	return row, nil
}

// pimcNote says how the path-integral value was obtained and warns where it may be biased.
func pimcNote(pr *pimc.Result) string {
	note := fmt.Sprintf("eps^2 extrapolation over %d spacings, beta %.3g", len(pr.Points), pr.Beta)
	if pr.BetaCheck != nil && pr.BetaCheck.Flagged {
		note += fmt.Sprintf("; WARNING: doubling beta moved E by %.1f sigma", pr.BetaCheck.Sigmas)
	}
	if pr.Raw != nil && pr.GaussianFit != nil {
		if z := stats.CombinedSigmas(pr.Raw.E0, pr.Raw.Err, pr.GaussianFit.E0, pr.GaussianFit.Err); math.Abs(z) > 2 {
			note += fmt.Sprintf("; raw and Gaussian-subtracted extrapolations differ by %.1f sigma (eps too large?)", z)
		}
	}
	return note
}
