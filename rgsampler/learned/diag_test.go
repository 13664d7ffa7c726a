package learned

import (
	"context"
	"flag"
	"math"
	"math/rand/v2"
	"testing"

	"vqs/rgsampler"
)

var diag = flag.Bool("vqs.diag", false, "run the bridge diagnostics in the critical region (slow)")

// TestSplitScoreDiagnostics prints per-depth acceptance of the bridge in the critical region
// of 2D phi^4 with the denoised score at shallow levels and the learned score deeper.
func TestSplitScoreDiagnostics(t *testing.T) {
	if !*diag {
		t.Skip("-vqs.diag not set")
	}
	ctx := context.Background()
	L, m2, lam := 8, -3.7, 24.0
	target, _ := rgsampler.NewPhi4(L, 2, m2, lam)
	mh := target.HartreeMass()
	mu2 := math.Max(mh, 0.05)
	h, _ := rgsampler.NewHMC(target, target.Dims(), nil, rgsampler.HMCConfig{M2Floor: mh}, 1, 0)
	h.Warmup(ctx, 300)
	samples := make([][]float64, 1024)
	buf := [][]float64{make([]float64, target.Sites())}
	for i := range samples {
		h.Sample(ctx, 1, buf)
		samples[i] = append([]float64(nil), buf[0]...)
	}
	sf, _ := rgsampler.StructureFactor(target.Dims(), samples)
	init := samples[len(samples)-1]
	K, aMax := 48, 8+mu2
	times := make([]float64, K+1)
	lo, hi := 0.002/aMax, 3/mu2
	for i := 1; i <= K; i++ {
		times[i] = lo * math.Pow(hi/lo, float64(i-1)/float64(K-1))
	}
	d, _ := rgsampler.NewDiffusionBox(target.Dims(), rgsampler.HeatScheme, mu2, times)
	ref := target.QuadraticKernel(mh)
	for k := range ref {
		ref[k] = 1 / ref[k]
	}
	model, err := New(d, Config{RefM2: mh, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := model.Train(ctx, samples, 400, rand.New(rand.NewPCG(4, 0))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c0   []float64
		cut  int
	}{{"learned only", sf, 0}, {"denoised(S(k)) only", sf, K + 1}, {"denoised(S(k)) + learned from 20", sf, 20},
		{"denoised(S(k)) + learned from 26", sf, 26}, {"denoised(S(k)) + learned from 32", sf, 32}} {
		den, _ := rgsampler.DenoisedScore(target, d, tc.c0, 0)
		sc := rgsampler.SplitScore(den, model.Clone(), tc.cut)
		b, err := rgsampler.NewBridge(target, d, sc, init, rgsampler.BridgeConfig{Reference: tc.c0}, 2, 0)
		if err != nil {
			t.Fatal(err)
		}
		out := make([][]float64, 20*K)
		for i := range out {
			out[i] = make([]float64, target.Sites())
		}
		b.Sample(ctx, len(out), out)
		t.Logf("%s:", tc.name)
		for _, a := range b.Acceptance() {
			if a.Depth%2 == 0 {
				t.Logf("  depth %2d t=%.4g acc %.3f  logr %.3g +- %.3g", a.Depth, d.Time(a.Depth), a.MeanProb, a.LogRatioMean, a.LogRatioSD)
			}
		}
	}
}
