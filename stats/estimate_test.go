package stats

import (
	"encoding/json"
	"math"
	"testing"
)

// Pooled AR(1) chains: the error must match the exact error of the mean of all samples, tau
// the exact tau, ESS the sum, and healthy chains pass R-hat.
func TestPoolAR1Chains(t *testing.T) {
	const rho, n, chains = 0.8, 20000, 4
	var cs [][]float64
	for c := 0; c < chains; c++ {
		cs = append(cs, ar1(n, rho, uint64(100+c)))
	}
	e := Pool(cs)
	want := ar1ErrorOfMean(n, rho) / math.Sqrt(chains)
	if math.Abs(e.Error/want-1) > 0.15 || math.Abs(e.BlockErr/want-1) > 0.25 {
		t.Errorf("error %v, block error %v, exact %v", e.Error, e.BlockErr, want)
	}
	if math.Abs(e.Tau-ar1Tau(rho)) > 4*e.TauErr {
		t.Errorf("tau %v +- %v, exact %v", e.Tau, e.TauErr, ar1Tau(rho))
	}
	if wantESS := chains * n / (2 * ar1Tau(rho)); math.Abs(e.ESS/wantESS-1) > 0.2 {
		t.Errorf("ESS %v, want about %v", e.ESS, wantESS)
	}
	if math.Abs(e.Value) > 5*want || e.Unreliable || e.RHat > 1.02 {
		t.Errorf("mean %v, unreliable %v, R-hat %v", e.Value, e.Unreliable, e.RHat)
	}
}

// Chains stuck in different places (each moves a little around its own mode, as a sampler
// that never crosses between the two wells of a double well) must be flagged, whatever their
// own Gamma-method errors say; so must a single chain that drifts.
func TestPoolFlagsStuckChains(t *testing.T) {
	a, b := ar1(4000, 0.5, 1), ar1(4000, 0.5, 2)
	for i := range b {
		a[i] += 3
		b[i] -= 3
	}
	e := Pool([][]float64{a, b})
	if !e.Unreliable || !(e.RHat > 2) {
		t.Errorf("two chains in different modes: R-hat %v, unreliable %v", e.RHat, e.Unreliable)
	}
	drift := ar1(4000, 0.5, 3)
	for i := range drift {
		drift[i] += 6 * float64(i) / float64(len(drift))
	}
	if e := Pool([][]float64{drift}); !e.Unreliable || !(e.RHat > RHatLimit) {
		t.Errorf("drifting chain: R-hat %v, unreliable %v", e.RHat, e.Unreliable)
	}
	// Chains that never moved, at different values.
	if e := Pool([][]float64{{1, 1, 1, 1, 1, 1}, {2, 2, 2, 2, 2, 2}}); !e.Unreliable || !math.IsInf(e.RHat, 1) {
		t.Errorf("frozen chains at different values: R-hat %v, unreliable %v", e.RHat, e.Unreliable)
	}
	// An exact eigenstate: every sample equal. That is a reliable zero error.
	if e := Pool([][]float64{{5, 5, 5, 5, 5}, {5, 5, 5, 5, 5}}); e.Unreliable || e.Error != 0 || e.RHat != 1 || e.Value != 5 {
		t.Errorf("constant chains: %+v", e)
	}
}

func TestPoolDegenerate(t *testing.T) {
	if e := Pool(nil); !math.IsNaN(e.Value) || !e.Unreliable {
		t.Errorf("no data: %+v", e)
	}
	if e := Pool([][]float64{{1}}); e.Value != 1 || !math.IsNaN(e.Error) || !e.Unreliable {
		t.Errorf("one sample: %+v", e)
	}
	// Unequal chain lengths weight by length.
	if e := Pool([][]float64{{1, 1, 1}, {4}}); e.Value != 7.0/4 {
		t.Errorf("weighted mean %v, want 1.75", e.Value)
	}
}

// A ratio of means from one chain: the linearised error must match the delta method computed
// by hand from the exact AR(1) errors of independent numerator and denominator series.
func TestPoolDerivedRatio(t *testing.T) {
	const n, rho = 40000, 0.6
	x, y := ar1(n, rho, 7), ar1(n, rho, 8)
	for i := range x {
		x[i] += 2
		y[i] = 4 + 0.5*y[i]
	}
	e := PoolDerived(func(m []float64) float64 { return m[0] / m[1] }, [][]float64{x}, [][]float64{y})
	mx, my := Mean(x), Mean(y)
	if math.Abs(e.Value-mx/my) > 1e-15 {
		t.Errorf("value %v, want %v", e.Value, mx/my)
	}
	ex, ey := ar1ErrorOfMean(n, rho), 0.5*ar1ErrorOfMean(n, rho)
	want := math.Hypot(ex/my, mx*ey/(my*my))
	if math.Abs(e.Error/want-1) > 0.15 {
		t.Errorf("error %v, delta method %v", e.Error, want)
	}
	if math.Abs(e.Tau-ar1Tau(rho)) > 5*e.TauErr || e.Unreliable {
		t.Errorf("tau %v +- %v (exact %v), unreliable %v", e.Tau, e.TauErr, ar1Tau(rho), e.Unreliable)
	}
}

// Chains stuck at different |M| agree on the linearised series of chi = N(<M^2> - <|M|>^2)
// (its first-order change with |M| vanishes at the mean), so chi must inherit the verdict of
// its inputs; healthy chains must pass.
func TestPoolDerivedInheritsStuckInputs(t *testing.T) {
	chi := func(x []float64) float64 { return 100 * (x[0] - x[1]*x[1]) }
	series := func(offsets ...float64) (m2, absM [][]float64) {
		for c, off := range offsets {
			a := ar1(4000, 0.5, uint64(10+c))
			var s2, s1 []float64
			for _, v := range a {
				m := math.Abs(off + 0.02*v)
				s1, s2 = append(s1, m), append(s2, m*m)
			}
			m2, absM = append(m2, s2), append(absM, s1)
		}
		return m2, absM
	}
	m2, absM := series(0.25, 0.35)
	if p := Pool(absM); !p.Unreliable {
		t.Fatalf("the stuck |M| chains themselves are not flagged: R-hat %v", p.RHat)
	}
	if e := PoolDerived(chi, m2, absM); !e.Unreliable {
		t.Errorf("chi of chains stuck at |M| = 0.25 and 0.35: R-hat %v of the linearised series, not flagged", e.RHat)
	}
	m2, absM = series(0.3, 0.3)
	if e := PoolDerived(chi, m2, absM); e.Unreliable {
		t.Errorf("chi of healthy chains flagged: R-hat %v", e.RHat)
	}
}

func TestEstimateJSON(t *testing.T) {
	for _, e := range []Estimate{Exact(3.5), Pool([][]float64{ar1(500, 0.3, 9)}), {Value: math.NaN(), Error: math.Inf(1)},
		Pool([][]float64{{1, 1, 1, 1, 1, 1}, {2, 2, 2, 2, 2, 2}})} {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var back Estimate
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		// NaN and Inf come back as NaN (value, error) or 0 (diagnostics: unknown).
		same := func(a, b float64) bool { return a == b || (!isFinite(a) && (math.IsNaN(b) || b == 0)) }
		if !same(e.Value, back.Value) || !same(e.Error, back.Error) || !same(e.Tau, back.Tau) || !same(e.RHat, back.RHat) ||
			!same(e.ESS, back.ESS) || back.Unreliable != e.Unreliable {
			t.Errorf("%s: %+v read back as %+v", b, e, back)
		}
	}
	// Records written before the diagnostics existed.
	var old Estimate
	if err := json.Unmarshal([]byte(`{"value": 1.5, "error": 0.1}`), &old); err != nil || old.Value != 1.5 || old.Error != 0.1 || old.Unreliable {
		t.Errorf("old record: %+v, %v", old, err)
	}
}
