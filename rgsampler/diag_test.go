package rgsampler

import (
	"context"
	"flag"
	"math"
	"testing"
)

var diag = flag.Bool("vqs.diag", false, "run the bridge diagnostics in the critical region (slow)")

// geomTimes returns t_0 = 0 and K times geometric from lo to hi.
func geomTimes(K int, lo, hi float64) []float64 {
	t := make([]float64, K+1)
	r := math.Pow(hi/lo, 1/float64(K-1))
	for i := 1; i <= K; i++ {
		t[i] = lo * math.Pow(r, float64(i-1))
	}
	return t
}

// TestBridgeDiagnostics prints the per-depth acceptance and log-ratio statistics of the bridge
// in the critical region of 2D phi^4 for several scores and time grids (-vqs.diag).
func TestBridgeDiagnostics(t *testing.T) {
	if !*diag {
		t.Skip("-vqs.diag not set")
	}
	L, m2, lam := 8, -3.7, 24.0
	target := must(NewPhi4(L, 2, m2, lam))
	mh := target.HartreeMass()
	mu2 := math.Max(mh, 0.05)
	ref := target.QuadraticKernel(mh)
	for k := range ref {
		ref[k] = 1 / ref[k]
	}
	h := must(NewHMC(target, target.Dims(), nil, HMCConfig{M2Floor: mh}, 1, 0))
	if err := h.Warmup(context.Background(), 300); err != nil {
		t.Fatal(err)
	}
	init := append([]float64(nil), h.State()...)
	aMax := 8 + mu2
	t.Logf("Hartree M2 %.4f", mh)
	for _, tc := range []struct {
		name  string
		times []float64
		score string
		iters int
	}{
		{"default K=12 gaussian", DefaultTimes(12, mu2, aMax), "gauss", 0},
		{"default K=12 denoised", DefaultTimes(12, mu2, aMax), "den", 0},
		{"default K=12 denoised it1", DefaultTimes(12, mu2, aMax), "den", 1},
		{"fine K=24 denoised", geomTimes(24, 0.005/aMax, 3/mu2), "den", 0},
		{"fine K=24 denoised it1", geomTimes(24, 0.005/aMax, 3/mu2), "den", 1},
		{"fine K=48 denoised it1", geomTimes(48, 0.002/aMax, 3/mu2), "den", 1},
	} {
		d := must(NewDiffusionBox(target.Dims(), HeatScheme, mu2, tc.times))
		var sc Score
		if tc.score == "gauss" {
			sc = must(GaussianScore(d, ref))
		} else {
			sc = must(DenoisedScore(target, d, ref, tc.iters))
		}
		b := must(NewBridge(target, d, sc, init, BridgeConfig{Reference: ref}, 2, 0))
		collect(t, b, 40*(d.Levels()-1), target.Sites())
		t.Logf("%s:", tc.name)
		for _, a := range b.Acceptance() {
			t.Logf("  depth %2d t=%.4g acc %.3f  logr %.3g +- %.3g", a.Depth, d.Time(a.Depth), a.MeanProb, a.LogRatioMean, a.LogRatioSD)
		}
	}
}
