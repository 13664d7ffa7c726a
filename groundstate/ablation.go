package groundstate

import (
	"context"
	"fmt"
)

// AblationRow is one ansatz variant of an ablation study.
type AblationRow struct {
	Name   string
	Scales int // mera.Config.Scales of the variant
	Result *Result
}

// AblationVariants returns the variants an ablation of cfg runs, in order: the Gaussian part
// only, local terms on the finest scale only, and every scale.
func AblationVariants() []struct {
	Name   string
	Scales int
} {
	return []struct {
		Name   string
		Scales int
	}{{"Gaussian only", 0}, {"finest scale only", 1}, {"all scales", -1}}
}

// Ablation measures what the RG structure buys at one problem: it runs every variant of
// AblationVariants with cfg's budget and seed (no run directory) and returns them in order.
// An interrupt ends it after the variant in progress, which is returned with its status.
func Ablation(ctx context.Context, cfg Config, progress func(variant string, p Progress)) ([]AblationRow, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	var rows []AblationRow
	for _, v := range AblationVariants() {
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
		rows = append(rows, AblationRow{Name: v.Name, Scales: v.Scales, Result: res})
		if ctx.Err() != nil {
			break
		}
	}
	return rows, nil
}
