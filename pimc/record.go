package pimc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"vqs/buildinfo"
	"vqs/results"
)

// Record returns the run as a results-store record: E0 with its error, the parameters, E(eps)
// against eps^2 (raw and Gaussian-subtracted) as curves, and the run's facts. runErr is the
// error Run returned with the result (an interrupt makes the record "interrupted").
func (res *Result) Record(started time.Time, runErr error) *results.Record {
	c := res.Config
	eps := make([]any, len(c.Eps))
	for i, e := range c.Eps {
		eps[i] = e
	}
	rec := &results.Record{Kind: results.KindPIMC, Status: results.StatusDone, Version: buildinfo.Version(), Seed: c.Seed,
		Started: started, Finished: time.Now(), Seconds: res.Seconds,
		Params: results.Params{L: c.L, Dim: c.Dim, M2: c.M2, Lambda: c.Lambda, Extra: map[string]any{
			"beta": res.Beta, "eps": eps, "samples": c.Samples, "chains": c.Chains, "warmup": c.Warmup,
			"extrapolation": string(c.Extrapolation)}},
		Estimates: map[string]results.Estimate{
			results.EstEnergy:        {Value: res.E0, Error: res.Err},
			results.EstEnergyPerSite: {Value: res.E0 / float64(res.Sites), Error: res.Err / float64(res.Sites)},
		},
	}
	if runErr != nil {
		rec.Status = results.StatusInterrupted
		if !errors.Is(runErr, context.Canceled) && !errors.Is(runErr, context.DeadlineExceeded) {
			rec.Status = results.StatusFailed
			rec.Notes = strings.Join(strings.Fields(runErr.Error()), " ")
		}
	}
	if len(res.Points) > 0 {
		cur := results.Curve{Label: "E(eps) vs eps^2, virial estimator"}
		sub := results.Curve{Label: "E(eps) - Gaussian shift vs eps^2"}
		for _, p := range res.Points {
			cur.X = append(cur.X, p.Eps*p.Eps)
			cur.Y = append(cur.Y, p.Energy.Value)
			cur.Err = append(cur.Err, p.Energy.Error)
			sub.X = append(sub.X, p.Eps*p.Eps)
			sub.Y = append(sub.Y, p.Corrected())
			sub.Err = append(sub.Err, p.Energy.Error)
		}
		acc, tau := 0.0, 0.0
		for _, p := range res.Points {
			acc += p.Acceptance / float64(len(res.Points))
			tau = math.Max(tau, p.Energy.Tau)
		}
		rec.Curves = map[string]results.Curve{"energy_vs_eps2": cur, "energy_vs_eps2_gaussian_subtracted": sub}
		rec.Meta = map[string]any{"acceptance": acc, "tau_int": tau}
	}
	if bc := res.BetaCheck; bc != nil {
		if rec.Meta == nil {
			rec.Meta = map[string]any{}
		}
		rec.Meta["beta_check_sigmas"] = bc.Sigmas
		if bc.Flagged {
			rec.Notes = strings.TrimSpace(rec.Notes + fmt.Sprintf(" beta check flagged: E(2 beta) - E(beta) = %.3g sigma", bc.Sigmas))
		}
	}
	return rec
}
