package results

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
)

// Filter selects records. A zero field matches every record.
type Filter struct {
	IDs    []string // exactly these records, in this order (the other fields still filter)
	Kinds  []string // any of these kinds
	Status string
	L, Dim int
	M2     *float64
	Lambda *float64
	// Extra must hold every key given here with an equal value (compared as JSON, which
	// round-trips float64 exactly).
	Extra map[string]any
}

// Match reports whether r passes the filter (IDs aside).
func (f Filter) Match(r Record) bool {
	if len(f.Kinds) > 0 && !contains(f.Kinds, r.Kind) {
		return false
	}
	switch {
	case f.Status != "" && r.Status != f.Status,
		f.L != 0 && r.Params.L != f.L,
		f.Dim != 0 && r.Params.Dim != f.Dim,
		f.M2 != nil && r.Params.M2 != *f.M2,
		f.Lambda != nil && r.Params.Lambda != *f.Lambda:
		return false
	}
	return extraMatches(r.Params.Extra, f.Extra)
}

// Select returns the records that pass f: the ones named in f.IDs in that order (an unknown or
// unreadable ID is an error), else every record of the store oldest first, with the unreadable
// files as Problems.
func (s *Store) Select(f Filter) ([]Record, []Problem, error) {
	var recs []Record
	var probs []Problem
	if len(f.IDs) > 0 {
		for _, id := range f.IDs {
			r, err := s.Get(id)
			if err != nil {
				return nil, nil, fmt.Errorf("record %s: %s", id, oneLine(err.Error()))
			}
			recs = append(recs, r)
		}
	} else {
		all, p, err := s.List()
		if err != nil {
			return nil, nil, err
		}
		recs, probs = all, p
	}
	out := recs[:0]
	for _, r := range recs {
		if f.Match(r) {
			out = append(out, r)
		}
	}
	return out, probs, nil
}

// Couplings returns a filter for the physics of p (L, Dim, M2, Lambda) without its Extra.
func Couplings(p Params) Filter {
	m2, lambda := p.M2, p.Lambda
	return Filter{L: p.L, Dim: p.Dim, M2: &m2, Lambda: &lambda}
}

// Key returns the run key of a record of this kind with these parameters, Extra included: two
// records with the same key are repeats of one deterministic computation.
func Key(kind string, p Params) string {
	b, _ := json.Marshal(struct {
		Kind   string `json:"kind"`
		Params Params `json:"params"`
	}{kind, p})
	h := sha256.Sum256(b)
	return kind + "-" + hex.EncodeToString(h[:8])
}

// PutOnce stores rec under the ID Key(rec.Kind, rec.Params) unless a record with that key is
// already there, in which case it returns that record and existed = true. The check and the
// write are one atomic step, so two processes running the same computation at once store it
// once, and the second gets the first's record.
func (s *Store) PutOnce(rec *Record) (stored Record, existed bool, err error) {
	rec.ID = Key(rec.Kind, rec.Params)
	err = s.Put(rec)
	if errors.Is(err, ErrExists) {
		r, gerr := s.Get(rec.ID)
		if gerr != nil {
			return Record{}, false, gerr
		}
		return r, true, nil
	}
	if err != nil {
		return Record{}, false, err
	}
	return *rec, false, nil
}

// EnergyPerSite returns E/N of a run: its energy_per_site estimate, or energy/N.
func (r Record) EnergyPerSite() (Estimate, bool) {
	if e, ok := r.Estimates[EstEnergyPerSite]; ok && !math.IsNaN(e.Value) {
		return e, true
	}
	if e, ok := r.Estimates[EstEnergy]; ok && !math.IsNaN(e.Value) {
		if n := r.Params.Sites(); n > 0 {
			return Estimate{Value: e.Value / float64(n), Error: e.Error / float64(n)}, true
		}
	}
	return Estimate{}, false
}

// ReferenceKinds are the kinds whose energies serve as references for a parameter set, with
// their labels: exact values, the Gaussian bound and DMC.
var ReferenceKinds = []struct{ Kind, Label string }{
	{KindExact, "exact"}, {KindGaussian, "Gaussian bound"}, {KindDMC, "DMC"},
}

// References returns, for the physics of p, the energy of the newest stored record of each
// reference kind that has one.
func (s *Store) References(p Params) ([]Reference, error) {
	recs, _, err := s.Select(Couplings(p))
	if err != nil {
		return nil, err
	}
	var refs []Reference
	for _, rk := range ReferenceKinds {
		for i := len(recs) - 1; i >= 0; i-- {
			if recs[i].Kind != rk.Kind {
				continue
			}
			if e, ok := recs[i].Estimates[EstEnergy]; ok && !math.IsNaN(e.Value) {
				refs = append(refs, Reference{Label: rk.Label, Value: e.Value, Err: e.Error})
				break
			}
		}
	}
	return refs, nil
}

// EstimateOrder lists the names of m with the conventional estimates first, in their order,
// then the others alphabetically.
func EstimateOrder(m map[string]Estimate) []string {
	first := []string{EstEnergy, EstEnergyPerSite, EstVariance, EstGap, EstVirial, EstAcceptance, EstTauInt}
	var out []string
	for _, k := range first {
		if _, ok := m[k]; ok {
			out = append(out, k)
		}
	}
	var rest []string
	for k := range m {
		if !contains(first, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
