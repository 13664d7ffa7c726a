package dmc

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"vqs/groundstate"
)

// A run interrupted while its guide trains resumes: the training continues from its
// checkpoint to the end, then the walkers start. A resume that asks for another problem than
// the one trained in the directory is refused.
func TestResumeAfterInterruptedTraining(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Train: groundstate.Config{L: 1, Dim: 1, M2: 1, Lambda: 24, Iterations: 40, Samples: 64, Chains: 2},
		Walkers: 32, Time: 8, Taus: []float64{0.1}, PopulationWalkers: -1, Dir: dir, NoReference: true}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := Run(ctx, cfg, func(p Progress) {
		if p.Stage == StageGuide && p.Guide != nil && p.Guide.Iter.Iter >= 5 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: error %v, want context.Canceled", err)
	}
	g, err := LoadGuide(filepath.Join(dir, GuideDir))
	if err != nil || g.Info.Status != "interrupted" {
		t.Fatalf("after the interrupt the guide directory should hold an interrupted run: %v, %+v", err, g)
	}

	other := cfg
	other.Resume, other.Train.M2 = true, 2
	if _, err := Run(context.Background(), other, nil); err == nil || !strings.Contains(err.Error(), "m2 = 1") {
		t.Fatalf("a resume with another m2 must be refused, got %v", err)
	}

	cfg.Resume = true
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if res.Guide == nil || res.Guide.Source != "trained" || res.Guide.Status != "completed" || !(res.EnergyErr > 0) {
		t.Fatalf("resumed run: guide %+v, E0 %v +- %v", res.Guide, res.Energy, res.EnergyErr)
	}
	g, err = LoadGuide(filepath.Join(dir, GuideDir))
	if err != nil || g.Info.Status != "completed" {
		t.Fatalf("the resumed training should have completed: %v, %+v", err, g)
	}
}
