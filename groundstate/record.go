package groundstate

import (
	"time"

	"vqs/results"
	"vqs/vmc"
)

// Record returns the result as a results-store record of the given kind (results.KindGroundState
// for a single run, results.KindScan for one size of a scan), without its trace.
func (r *Result) Record(kind string) *results.Record {
	s := r.Summary()
	e := r.Estimate
	status := results.StatusDone
	switch {
	case r.Status == vmc.Diverged:
		status = results.StatusFailed // its estimates describe a broken state
	case r.Status.Early():
		status = results.StatusInterrupted
	}
	est := map[string]results.Estimate{
		results.EstEnergy:        e.Energy,
		results.EstEnergyPerSite: {Value: s.EnergyPerSite, Error: s.EnergyErr / float64(s.Sites)},
		results.EstVariance:      e.Variance,
		results.EstVirial:        e.Virial,
		"phi2":                   e.Phi2,
		"abs_m":                  e.AbsM,
		"binder":                 e.Binder,
		"chi":                    e.Chi,
		"gaussian_energy":        results.Exact(r.Gaussian.Energy),
	}
	meta := map[string]any{"acceptance": e.Acceptance, "samples": e.Samples, "iterations": r.Iterations,
		"status": r.Status.String(), "sampler": r.Sampling}
	if r.Exact != nil {
		est["exact_energy"] = results.Exact(r.Exact.Energy)
		meta["exact_method"] = r.Exact.Method
	}
	if r.Correlation != nil {
		est["correlation_captured"] = *r.Correlation
	}
	if g := e.OddGap; g != nil {
		est[results.EstGap] = g.Gap
		meta["gap_method"] = GapMethodVariational
		est["binder_rr"] = g.Binder
	}
	c := r.Config
	return &results.Record{Kind: kind, Status: status, Version: r.Version, Seed: c.Seed, Host: r.Host,
		Started: r.Started, Finished: r.Started.Add(time.Duration(r.Seconds * float64(time.Second))), Seconds: r.Seconds,
		Params:    results.Params{L: c.L, Dim: c.Dim, M2: c.M2, Lambda: c.Lambda, Extra: c.Extra()},
		Estimates: est, Notes: s.Stopped,
		Meta: meta}
}

// Extra is what identifies the computation beyond the physics: runs with equal Extra (and
// equal physics) are repeats of one deterministic computation.
func (c Config) Extra() map[string]any {
	d := c.WithDefaults()
	return map[string]any{"iters": d.Iterations, "samples": d.Samples, "measure_samples": d.MeasureSamples,
		"chains": d.Chains, "scales": d.Ansatz.Scales, "width": d.Ansatz.Width, "init": d.Ansatz.Init,
		"optimizer": d.Optimizer, "sampler": d.Sampler, "seed": d.Seed, "lr": d.LR, "sr_shift": d.SRShift,
		"sr_eps": d.SREps, "steps": d.Steps, "levels": d.Levels, "bridge_score": d.BridgeScore}
}

// Save stores the result and its trace in st as a record of the given kind and returns the
// record. With once set the record is stored under its run key (results.Store.PutOnce): if the
// same computation is already there, that record is returned instead and nothing is written.
func (r *Result) Save(st *results.Store, kind string, once bool) (rec results.Record, existed bool, err error) {
	next := r.Record(kind)
	if once {
		if old, gerr := st.Get(results.Key(kind, next.Params)); gerr == nil {
			return old, true, nil
		}
	}
	// The trace gets a fresh name even for a keyed record, so that two processes racing to
	// store one computation never collide on it (the loser's trace is left unreferenced).
	tw, rel, err := st.CreateTrace(results.NewID())
	if err == nil {
		for _, s := range r.Trace {
			if err = tw.Write(tracePoint(s)); err != nil {
				break
			}
		}
		if cerr := tw.Close(); err == nil {
			err = cerr
		}
		next.Trace = rel
	}
	if err != nil {
		return results.Record{}, false, err
	}
	if once {
		stored, existed, err := st.PutOnce(next)
		return stored, existed, err
	}
	if err := st.Put(next); err != nil {
		return results.Record{}, false, err
	}
	return *next, false, nil
}
