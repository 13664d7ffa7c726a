package groundstate

import (
	"context"
	"fmt"

	"vqs/ansatz/mera"
)

// AblationRow is one ansatz variant of an ablation study.
type AblationRow struct {
	Name   string
	Scales int     // mera.Config.Scales of the variant: rungs with local terms, counted from t = 0
	TMax   float64 // the largest RG time with local terms (0 for t = 0 only and Gaussian only)
	Result *Result
}

// AblationVariant is one ansatz variant an ablation runs.
type AblationVariant struct {
	Name   string
	Scales int
	TMax   float64
}

// AblationVariants returns the variants an ablation of cfg runs, in order: the Gaussian part
// only, local terms at RG time t = 0 only (a local Jastrow factor), then one more rung of the
// ladder per row up to all of them, so each row shows what its scale adds.
func AblationVariants(cfg Config) ([]AblationVariant, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	m, _ := cfg.Model()
	probe := *cfg.Ansatz
	probe.Scales = 0
	ans, err := mera.New(m, probe)
	if err != nil {
		return nil, err
	}
	times := ans.Times()
	vs := []AblationVariant{{"Gaussian only", 0, 0}, {"t = 0 only", 1, 0}}
	for k := 2; k < len(times); k++ {
		vs = append(vs, AblationVariant{fmt.Sprintf("t <= %.3g", times[k-1]), k, times[k-1]})
	}
	if len(times) > 1 {
		last := times[len(times)-1]
		vs = append(vs, AblationVariant{fmt.Sprintf("all (t <= %.3g)", last), -1, last})
	}
	return vs, nil
}

// Ablation measures what the RG structure buys at one problem: it runs every variant of
// AblationVariants with cfg's budget and seed (no run directory) and returns them in order.
// An interrupt ends it after the variant in progress, which is returned with its status.
func Ablation(ctx context.Context, cfg Config, progress func(variant string, p Progress)) ([]AblationRow, error) {
	vs, err := AblationVariants(cfg)
	if err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	var rows []AblationRow
	for _, v := range vs {
		c := cfg
		a := *cfg.Ansatz
		a.Scales = v.Scales
		c.Ansatz, c.Dir, c.Resume, c.Force = &a, "", false, false
		var pr func(Progress)
		if progress != nil {
			name := v.Name
			pr = func(p Progress) { progress(name, p) }
		}
		res, err := Run(ctx, c, pr)
		if err != nil {
			return rows, fmt.Errorf("ablation, %s: %w", v.Name, err)
		}
		rows = append(rows, AblationRow{Name: v.Name, Scales: v.Scales, TMax: v.TMax, Result: res})
		if ctx.Err() != nil {
			break
		}
	}
	return rows, nil
}
