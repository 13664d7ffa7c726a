package vmc

import (
	"context"
	"math"
	"testing"

	"vqs/hamiltonian"
)

// TestBridgeScoresSamplePsiSquared: every score of the bridge samples |Psi|^2 exactly. On a
// Gaussian state the learned score starts as the exact score of the Gaussian part (every move
// accepted); on a quartic state, after several rounds of sampling and retraining (Refresh),
// <phi^2> and <M^2> still agree with HMC, and training has run.
func TestBridgeScoresSamplePsiSquared(t *testing.T) {
	m, _ := hamiltonian.NewModel(4, 2, 0.5, 0)
	gauss := newTestWF(m, 0.5, 1, 0, false)
	want := 0.0
	for _, g := range gauss.g {
		want += 0.5 / g
	}
	want /= float64(m.N)
	s, err := NewBridgeWith(gauss, m.L, m.Dim, 4, BridgeConfig{Levels: 6}, 3)
	if err != nil {
		t.Fatal(err)
	}
	est, err := Measure(context.Background(), m, gauss, s, 2000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(est.Phi2.Value - want); d > 4*est.Phi2.Error || est.Acceptance < 0.999999 {
		t.Fatalf("Gaussian, learned score untrained: <phi^2> = %v +- %v, want %v; acceptance %v", est.Phi2.Value, est.Phi2.Error, want, est.Acceptance)
	}

	quartic := newTestWF(m, 0.6, 1, 0.15, false)
	h, _ := NewHMC(quartic, m.L, m.Dim, 4, 4, 9)
	ref, err := Measure(context.Background(), m, quartic, h, 20000, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, score := range []string{BridgeScoreLearned, BridgeScoreGaussian, BridgeScoreDenoised} {
		b, err := NewBridgeWith(quartic, m.L, m.Dim, 4, BridgeConfig{Levels: 6, Score: score, DenoisedBelow: 2}, 5)
		if err != nil {
			t.Fatal(err)
		}
		for round := 0; round < 5; round++ {
			if _, err := b.Sample(context.Background(), 32, nil); err != nil {
				t.Fatal(err)
			}
			b.Refresh()
		}
		if err := b.TrainingError(); err != nil {
			t.Fatal(err)
		}
		if trained := b.TrainingSeconds() > 0; trained != (score == BridgeScoreLearned) {
			t.Errorf("%s: trained %v", score, trained)
		}
		est, err := Measure(context.Background(), m, quartic, b, 8000, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []struct {
			name string
			a, b Estimate
		}{{"<phi^2>", est.Phi2, ref.Phi2}, {"<M^2>", est.M2, ref.M2}, {"E", est.Energy, ref.Energy}} {
			z := (q.a.Value - q.b.Value) / math.Hypot(q.a.Error, q.b.Error)
			t.Logf("%s: %s = %.5f +- %.5f, HMC %.5f +- %.5f (%.1f sigma), acceptance %.3f", score, q.name, q.a.Value, q.a.Error, q.b.Value, q.b.Error, z, est.Acceptance)
			if math.Abs(z) > 4 {
				t.Errorf("%s: %s off HMC by %.1f sigma", score, q.name, z)
			}
		}
	}
}
