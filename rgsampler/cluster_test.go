package rgsampler

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// The bonds must be exactly the pair terms of the action: flipping the sign of any set A of
// sites changes log p by -2 sum over the bonds that cross A of J phi_x phi_y, because every
// other term of S is even in each site's sign.
func TestBondsAreThePairTermsOfTheAction(t *testing.T) {
	cases := []struct {
		name   string
		target *Phi4
	}{
		{"2D L=3", must(NewPhi4(3, 2, -0.7, 6))},
		{"2D L=2 (double links)", must(NewPhi4(2, 2, -0.7, 6))},
		{"3D L=3", must(NewPhi4(3, 3, 0.4, 2))},
		{"path integral L=3, Lt=4", must(NewPathIntegral(3, 2, 4, 0.6, -0.5, 12))},
		{"path integral L=2, Lt=2", must(NewPathIntegral(2, 2, 2, 1.7, -0.5, 12))},
		{"path integral L=3, Lt=1", must(NewPathIntegral(3, 2, 1, 0.8, -0.5, 12))},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range cases {
		n := c.target.Sites()
		bonds := c.target.Bonds()
		phi, flipped := make([]float64, n), make([]float64, n)
		in := make([]bool, n)
		for trial := 0; trial < 20; trial++ {
			for x := range phi {
				phi[x] = rng.NormFloat64()
				in[x] = rng.IntN(2) == 0
				flipped[x] = phi[x]
				if in[x] {
					flipped[x] = -phi[x]
				}
			}
			want := 0.0
			for _, b := range bonds {
				if in[b.X] != in[b.Y] {
					want -= 2 * b.J * phi[b.X] * phi[b.Y]
				}
			}
			got := c.target.LogDensity(flipped) - c.target.LogDensity(phi)
			if math.Abs(got-want) > 1e-10*(1+math.Abs(want)) {
				t.Fatalf("%s: flipping a set changes log p by %.12g, the bonds say %.12g", c.name, got, want)
			}
		}
	}
}

// Given the magnitudes, the cluster move must sample the signs from the embedded Ising model,
// p(s) proportional to exp(log p(s |phi|)), here checked state by state on 6 sites (64 sign
// states) by a chi-square over the visited states' frequencies.
func TestClusterSamplesTheEmbeddedIsingModel(t *testing.T) {
	target := must(NewPathIntegral(3, 1, 2, 1.3, -1, 6)) // a ring of 3, two slices: double time links
	n := target.Sites()
	mag := []float64{0.45, 0.65, 0.2, 0.55, 0.35, 0.8}
	phi := make([]float64, n)
	weight := make([]float64, 1<<n)
	z := 0.0
	for s := range weight {
		for x := range phi {
			phi[x] = mag[x] * float64(1-2*((s>>x)&1))
		}
		weight[s] = math.Exp(target.LogDensity(phi))
		z += weight[s]
	}
	c := must(NewCluster(target.Bonds(), n))
	rng := rand.New(rand.NewPCG(5, 6))
	copy(phi, mag)
	const draws, thin = 200000, 5
	count := make([]float64, 1<<n)
	sizes := 0
	for i := 0; i < draws; i++ {
		for range thin {
			sizes += c.Flip(phi, rng)
		}
		s := 0
		for x, v := range phi {
			if math.Abs(v) != mag[x] {
				t.Fatalf("a cluster flip changed the magnitude of site %d: %v, was %v", x, v, mag[x])
			}
			if v < 0 {
				s |= 1 << x
			}
		}
		count[s]++
	}
	chi2 := 0.0
	for s, w := range weight {
		e := draws * w / z
		chi2 += (count[s] - e) * (count[s] - e) / e
	}
	dof := float64(len(weight) - 1)
	// chi2/dof has mean 1 and standard deviation sqrt(2/dof) = 0.18 for independent draws.
	t.Logf("chi2/dof = %.3f (dof %v), mean cluster size %.2f of %d", chi2/dof, dof, float64(sizes)/(draws*thin), n)
	if chi2/dof > 1.6 {
		t.Errorf("sign frequencies do not follow the embedded Ising model: chi2/dof = %.2f", chi2/dof)
	}
}

// HMC with cluster flips samples the interacting two-site theory exactly (both links join the
// same pair on L = 2): in the double well, where the wells are deep and the two sites nearly
// always flip together, and with m2 > 0, where the fields are small and the link opens about
// half the time.
func TestHMCWithClustersTwoSite(t *testing.T) {
	for _, c := range []struct {
		m2, lam  float64
		min, max float64 // bounds of the mean cluster fraction
	}{{-1, 6, 0.5, 1}, {0.5, 6, 0.6, 0.9}} {
		target := must(NewPhi4(2, 1, c.m2, c.lam))
		h := must(NewHMC(target, target.Dims(), nil, HMCConfig{Clusters: 2, FlipProb: -1}, 13, 0))
		if err := h.Warmup(context.Background(), 300); err != nil {
			t.Fatal(err)
		}
		samples, _ := collect(t, h, 20000, 2)
		checkTwoSite(t, samples, c.m2, c.lam)
		f := h.ClusterFraction()
		t.Logf("m2 = %v: mean cluster fraction %.3f", c.m2, f)
		if !(f >= c.min && f <= c.max) {
			t.Errorf("m2 = %v: mean cluster fraction %v, want within [%v, %v]", c.m2, f, c.min, c.max)
		}
	}
}

// After cluster flips the chain's cached log density and force must be those of the flipped
// field, or the next trajectory's Metropolis test (and its first kick) use the old field's.
func TestHMCClustersKeepTheCacheExact(t *testing.T) {
	target := must(NewPhi4(6, 2, -1, 6))
	h := must(NewHMC(target, target.Dims(), nil, HMCConfig{Clusters: 3}, 17, 0))
	if err := h.Warmup(context.Background(), 50); err != nil {
		t.Fatal(err)
	}
	grad := make([]float64, target.Sites())
	gradK := make([]complex128, len(h.forceK))
	for i := 0; i < 50; i++ {
		h.move()
		if lp := target.LogDensity(h.phi); math.Abs(lp-h.logp) > 1e-9*(1+math.Abs(lp)) {
			t.Fatalf("move %d: cached log density %v, of the field %v", i, h.logp, lp)
		}
		if h.forceOK {
			target.Grad(grad, h.phi)
			h.plan.ForwardHalf(gradK, grad)
			for k, g := range gradK {
				if d := h.forceK[k] - g; math.Hypot(real(d), imag(d)) > 1e-9*(1+math.Hypot(real(g), imag(g))) {
					t.Fatalf("move %d: cached force of mode %d is %v, of the field %v", i, k, h.forceK[k], g)
				}
			}
		}
	}
}

func TestClusterRefusals(t *testing.T) {
	for _, b := range [][]Bond{{{0, 0, 1}}, {{0, 2, 1}}, {{0, 1, 0}}, {{0, 1, math.Inf(1)}}, {{-1, 1, 1}}} {
		if _, err := NewCluster(b, 2); err == nil {
			t.Errorf("bonds %v on 2 sites accepted", b)
		}
	}
	if _, err := NewHMC(noPairs{}, []int{4}, nil, HMCConfig{Clusters: 1}, 1, 0); err == nil {
		t.Error("clusters accepted for a target without pair terms")
	}
}

// noPairs is a standard normal target: no pair terms to embed in.
type noPairs struct{}

func (noPairs) LogDensity(phi []float64) float64 {
	s := 0.0
	for _, v := range phi {
		s -= v * v / 2
	}
	return s
}

func (noPairs) Grad(dst, phi []float64) {
	for i, v := range phi {
		dst[i] = -v
	}
}

func BenchmarkClusterFlip(b *testing.B) {
	// Near the 2D critical point, in a typical field from HMC.
	target := must(NewPhi4(32, 2, -3.7, 24))
	h := must(NewHMC(target, target.Dims(), nil, HMCConfig{Clusters: 1}, 1, 0))
	if err := h.Warmup(context.Background(), 200); err != nil {
		b.Fatal(err)
	}
	c := must(NewCluster(target.Bonds(), target.Sites()))
	rng := rand.New(rand.NewPCG(1, 2))
	phi := append([]float64(nil), h.State()...)
	b.ReportAllocs()
	b.ResetTimer()
	sites := 0
	for i := 0; i < b.N; i++ {
		sites += c.Flip(phi, rng)
	}
	b.ReportMetric(float64(sites)/float64(b.N), "sites/flip")
}
