package learned

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestHandConvMatchesGorgoniaConv2d: the training graph with the hand-written periodic
// convolution ops gives the loss, the score and every parameter gradient of the graph built
// from gorgonia's own Conv2d (periodic padding by slices), to 1e-10, on every geometry.
func TestHandConvMatchesGorgoniaConv2d(t *testing.T) {
	for _, dims := range geometries {
		m, _ := testModel(t, dims, []float64{0, 0.05, 0.3, 1}, Config{Channels: 3, Layers: 2, BatchSize: 5, Seed: 3, CNNPenalty: 0.2})
		rng := rand.New(rand.NewPCG(11, 12))
		perturb(m, rng)
		hand, err := newTrainerWith(m, false)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := newTrainerWith(m, true)
		if err != nil {
			t.Fatal(err)
		}
		samples := [][]float64{randomField(m.geo.n, rng), randomField(m.geo.n, rng), randomField(m.geo.n, rng)}
		for round := 0; round < 2; round++ {
			seed := uint64(round)
			hand.fillBatch(samples, rand.New(rand.NewPCG(seed, 1)))
			ref.fillBatch(samples, rand.New(rand.NewPCG(seed, 1)))
			if err := hand.run(); err != nil {
				t.Fatal(err)
			}
			if err := ref.run(); err != nil {
				t.Fatal(err)
			}
			close := func(what string, a, b float64) {
				if math.Abs(a-b) > 1e-10*(1+math.Abs(b)) {
					t.Fatalf("dims %v round %d %s: hand-written %.15g, gorgonia Conv2d %.15g", dims, round, what, a, b)
				}
			}
			close("loss", hand.loss(), ref.loss())
			hs, rs := hand.scoreVal.Data().([]float64), ref.scoreVal.Data().([]float64)
			for i := range hs {
				close("score", hs[i], rs[i])
			}
			for j := range hand.params {
				hg, err := hand.params[j].Grad()
				if err != nil {
					t.Fatal(err)
				}
				rg, err := ref.params[j].Grad()
				if err != nil {
					t.Fatal(err)
				}
				a, b := hg.Data().([]float64), rg.Data().([]float64)
				for e := range a {
					close(hand.params[j].Name()+" gradient", a[e], b[e])
				}
			}
			// Gradients accumulate over runs until a solver step clears them: clear both.
			for _, tr := range []*trainer{hand, ref} {
				if err := tr.solver.Step(tr.model); err != nil {
					t.Fatal(err)
				}
				tr.load(m.p)
			}
		}
	}
}

// TestConvAdjoint checks the two gradient kernels against their definitions: <dy, conv(x)> =
// <adjoint(dy), x>, and the filter gradient is the derivative of <dy, conv(x)> in w (exact,
// since it is linear in w).
func TestConvAdjoint(t *testing.T) {
	for _, dims := range geometries {
		g, err := newGeometry(dims, 3)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(3, 4))
		cin, cout := 2, 3
		w := randomField(cout*g.kz*cin*g.ky*g.kx, rng)
		x, dy := randomField(cin*g.n, rng), randomField(cout*g.n, rng)
		y, dx := make([]float64, cout*g.n), make([]float64, cin*g.n)
		periodicConv(g, y, x, w, cin, cout)
		periodicConvAdjoint(g, dx, dy, w, cin, cout)
		dot := func(a, b []float64) float64 {
			s := 0.0
			for i := range a {
				s += a[i] * b[i]
			}
			return s
		}
		lhs, rhs := dot(dy, y), dot(dx, x)
		if math.Abs(lhs-rhs) > 1e-11*math.Abs(lhs) {
			t.Errorf("dims %v: <dy, conv x> = %.15g, <adjoint dy, x> = %.15g", dims, lhs, rhs)
		}
		dw := make([]float64, len(w))
		periodicConvFilterGrad(g, dw, x, dy, cin, cout)
		for j := range w {
			old := w[j]
			w[j] = old + 1
			periodicConv(g, y, x, w, cin, cout)
			w[j] = old
			if d := dot(dy, y) - lhs; math.Abs(d-dw[j]) > 1e-9*(1+math.Abs(d)) {
				t.Fatalf("dims %v: filter gradient %d: %.15g, difference %.15g", dims, j, dw[j], d)
			}
		}
	}
}
