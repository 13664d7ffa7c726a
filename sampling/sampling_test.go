package sampling

import (
	"context"
	"math"
	"testing"

	"vqs/hamiltonian"
)

// freePhi2 is <phi^2> = (1/N) sum_k 1/(p_k^2 + m2) of the free Euclidean theory on L^2.
func freePhi2(t *testing.T, L int, m2 float64) float64 {
	t.Helper()
	lat, err := hamiltonian.NewLattice(L, 2)
	if err != nil {
		t.Fatal(err)
	}
	s := 0.0
	for _, p := range lat.MomentumSquared() {
		s += 1 / (p + m2)
	}
	return s / float64(lat.N)
}

// TestFreeTheoryBothSamplers: HMC, HMC with cluster flips, the bridge with the exact Gaussian
// score (every move accepted) and the infrared hybrid reproduce the exact propagator of the
// free theory.
func TestFreeTheoryBothSamplers(t *testing.T) {
	L, m2 := 6, 0.5
	exact := freePhi2(t, L, m2)
	for _, cfg := range []Config{
		{Sizes: []int{L}, M2: m2, Method: MethodAll, Score: ScoreGaussian, Reference: ReferenceHartree, Levels: 12,
			Depths: []int{12}, Samples: 600, Warmup: 50, Pretrain: 50, Seed: 3},
		{Sizes: []int{L}, M2: m2, Method: MethodBridge, Score: ScoreGaussian, Reference: ReferenceHartree, Levels: 4,
			IRCutoff: 1.5, HMCPerMove: 1, Samples: 600, Warmup: 50, Pretrain: 50, Seed: 4},
	} {
		res, err := Run(context.Background(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if cfg.Method == MethodAll {
			want = 3
		}
		if len(res.Runs) != want {
			t.Fatalf("%d runs, want %d", len(res.Runs), want)
		}
		for _, r := range res.Runs {
			e := r.Observables.Phi2
			t.Logf("%s: <phi^2> = %.5f +- %.5f (exact %.5f), acceptance %.4f, ESS/s %.0f (%.0f with setup)",
				r.Sampler, e.Value, e.Error, exact, r.Acceptance, e.ESSPerSecond, e.ESSPerSecondTotal)
			if math.Abs(e.Value-exact) > 5*e.Error {
				t.Errorf("%s: <phi^2> = %v +- %v, exact %v", r.Sampler, e.Value, e.Error, exact)
			}
			if r.Sampler != SamplerHMC && r.Sampler != SamplerCluster && r.Acceptance < 0.999999 {
				t.Errorf("%s: acceptance %v with the exact score", r.Sampler, r.Acceptance)
			}
			if !(e.ESSPerSecondTotal > 0 && e.ESSPerSecondTotal < e.ESSPerSecond) {
				t.Errorf("%s: ESS/s with setup %v not below ESS/s of sampling %v", r.Sampler, e.ESSPerSecondTotal, e.ESSPerSecond)
			}
		}
		if ir := res.Runs[len(res.Runs)-1]; cfg.IRCutoff > 0 && (ir.Sampler != SamplerHybrid || ir.IRModes != 9) {
			t.Errorf("infrared hybrid run: sampler %q, %d modes regenerated, want hybrid and 9", ir.Sampler, ir.IRModes)
		}
	}
}

// TestClustersNearCriticality: at L = 16 near the critical point HMC's tau_int of |M| is about
// 20; Wolff cluster flips between its trajectories must leave every observable as it is
// (within errors) and cut that autocorrelation (measured 2.3).
func TestClustersNearCriticality(t *testing.T) {
	base := Config{Sizes: []int{16}, M2: -3.7, Lambda: 24, Samples: 2000, Warmup: 100, Chains: 2, Seed: 7}
	var runs []SamplerRun
	for _, m := range []string{MethodHMC, MethodCluster} {
		cfg := base
		cfg.Method = m
		res, err := Run(context.Background(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, res.Runs[0])
	}
	h, c := runs[0], runs[1]
	if c.Sampler != SamplerCluster || c.Clusters != DefaultClusters || !(c.ClusterFraction > 0 && c.ClusterFraction < 1) {
		t.Errorf("cluster run: sampler %q, %d clusters, fraction %v", c.Sampler, c.Clusters, c.ClusterFraction)
	}
	if !math.IsNaN(h.ClusterFraction) || h.Clusters != 0 {
		t.Errorf("plain HMC run reports clusters: %d, %v", h.Clusters, h.ClusterFraction)
	}
	ho, co := h.Observables.Named(), c.Observables.Named()
	for i := range ho {
		a, b := ho[i], co[i]
		z := (a.Value - b.Value) / math.Hypot(a.Error, b.Error)
		t.Logf("%s: hmc %.4f +- %.4f (tau %.1f), hmc+cluster %.4f +- %.4f (tau %.1f), %.2f sigma",
			a.Key, a.Value, a.Error, a.Tau, b.Value, b.Error, b.Tau, z)
		if math.Abs(z) > 4 || b.Unreliable {
			t.Errorf("%s: hmc+cluster %v +- %v against hmc %v +- %v (unreliable %v)", a.Key, b.Value, b.Error, a.Value, a.Error, b.Unreliable)
		}
	}
	if ht, ct := h.Observables.AbsM.Tau, c.Observables.AbsM.Tau; !(ct < ht/3) {
		t.Errorf("tau_int of |M|: %v with clusters, %v without: the clusters do not decorrelate it", ct, ht)
	}
}

// TestStuckChainsAreFlagged: near the critical point at L = 16, a bridge with the Gaussian
// score accepts its shallow moves (they regenerate the ultraviolet: the chains move) but
// almost never a full-depth one, the only move that changes the infrared, so each chain's |M|
// stays near its start: stuck, but not frozen. The split-R-hat across chains must flag |M| and
// chi as unreliable. HMC on the same action (a healthy run) must pass.
func TestStuckChainsAreFlagged(t *testing.T) {
	base := Config{Sizes: []int{16}, M2: -3.7, Lambda: 24, Samples: 300, Warmup: 100, Pretrain: 20, Chains: 4, Seed: 5}
	stuck := base
	stuck.Method, stuck.Score, stuck.Reference, stuck.Levels, stuck.Depths = MethodBridge, ScoreGaussian, ReferenceHartree, 8, []int{1, 8}
	res, err := Run(context.Background(), stuck, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Runs[0]
	t.Logf("stuck bridge: acceptance %.2g, <|M|> R-hat %.3g, chi R-hat %.3g", r.Acceptance, r.Observables.AbsM.RHat, r.Observables.Chi.RHat)
	for _, d := range r.Depths {
		t.Logf("  depth %d: acceptance %.3g", d.Depth, d.MeanProb)
		if (d.Depth == 1) != (d.MeanProb > 0.3) || (d.Depth == 8 && d.MeanProb > 1e-3) {
			t.Fatalf("depth %d accepts %.3g: the test needs moving ultraviolet and a stuck infrared", d.Depth, d.MeanProb)
		}
	}
	if !(r.Observables.Phi2.Tau > 0) {
		t.Errorf("<phi^2> never moved: %+v", r.Observables.Phi2)
	}
	for _, o := range []NamedObservable{{"abs_m", "", r.Observables.AbsM}, {"chi", "", r.Observables.Chi}} {
		if !o.Unreliable {
			t.Errorf("stuck bridge: %s = %v +- %v (R-hat %v) not flagged unreliable", o.Key, o.Value, o.Error, o.RHat)
		}
	}
	healthy := base
	healthy.Sizes, healthy.Samples = []int{8}, 2000
	res, err = Run(context.Background(), healthy, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := res.Runs[0]
	for _, o := range h.Observables.Named() {
		t.Logf("healthy HMC: %s = %.4f +- %.4f, tau %.2f, R-hat %.3f", o.Key, o.Value, o.Error, o.Tau, o.RHat)
		if o.Unreliable {
			t.Errorf("healthy HMC: %s flagged unreliable (R-hat %v)", o.Key, o.RHat)
		}
	}
}

func TestValidate(t *testing.T) {
	good := Config{Sizes: []int{8}, M2: -1, Lambda: 24}
	if err := Validate(good); err != nil {
		t.Fatal(err)
	}
	bad := []Config{
		{Dim: 4},
		{Sizes: []int{0}},
		{M2: 0, Lambda: 0},
		{Lambda: -1},
		{Method: "metropolis"},
		{Method: MethodCluster, Clusters: -1},
		{Method: MethodBridge, Score: "oracle"},
		{Method: MethodBridge, Reference: "guess"},
		{Method: MethodBridge, Depths: []int{99}},
		{Method: MethodBridge, Depths: []int{-2}},
		{Method: MethodBridge, IRCutoff: -1},
		{Method: MethodBridge, IRCutoff: 1, Score: ScoreLearned},
		{Samples: 2},
		{Flip: 2},
		{Warmup: -5},
		{Dim: 3, Eps: -1},
		{Mu2: -1},
		{UVDecay: -1},
		{HMCPerMove: -1},
	}
	for _, c := range bad {
		if c.M2 == 0 && c.Lambda == 0 && c.Dim != 4 && len(c.Sizes) == 0 && c.Method == "" && c.Samples == 0 && c.Flip == 0 &&
			c.Warmup == 0 && c.Eps == 0 && c.Mu2 == 0 && c.UVDecay == 0 && c.HMCPerMove == 0 {
			// {M2: 0, Lambda: 0}: the free theory needs m2 > 0.
		} else if c.Lambda == 0 && c.Dim != 4 {
			c.M2, c.Lambda = -1, 24
		}
		if err := Validate(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// TestCancel: a cancelled study returns promptly with ctx.Err() and what it had.
func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	res, err := Run(ctx, Config{Sizes: []int{8, 8}, M2: -1, Lambda: 24, Samples: 1 << 30}, func(p Progress) {
		if p.Stage == "measure" {
			if calls++; calls == 200 {
				cancel()
			}
		}
	})
	// The chains stop together at the cancellation; the run keeps the common length of both.
	if err != context.Canceled || res == nil || len(res.Runs) != 1 || !res.Runs[0].Interrupted || res.Runs[0].Samples > 201 {
		t.Fatalf("err %v, result %+v", err, res)
	}
}
