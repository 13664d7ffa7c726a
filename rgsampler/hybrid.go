package rgsampler

import (
	"context"
	"errors"
	"fmt"
)

// Hybrid is one chain that alternates HMC trajectories and bridge moves on the same field:
// per returned sample, HMCPerSample trajectories of h, then BridgePerSample moves of b. Each
// move leaves the target invariant on its own (a bridge move regenerates its whole path from
// phi_0, so it is a Markov kernel on phi_0 alone), hence so does their composition: the local
// modes are left to HMC and the bridge contributes global moves. h and b must sample the same
// target on the same lattice; the Hybrid owns them while it runs.
type Hybrid struct {
	h                    *HMC
	b                    *Bridge
	hmcPer, bridgePer    int
	hmcAccSum, hmcAccCnt float64
}

// NewHybrid returns the alternating chain; it starts from the bridge's current field.
func NewHybrid(h *HMC, b *Bridge, hmcPerSample, bridgePerSample int) (*Hybrid, error) {
	if h == nil || b == nil {
		return nil, errors.New("hybrid: nil chain")
	}
	if hmcPerSample < 0 || bridgePerSample < 0 || hmcPerSample+bridgePerSample == 0 {
		return nil, fmt.Errorf("hybrid: moves per sample must be >= 0 and not both 0, got %d, %d", hmcPerSample, bridgePerSample)
	}
	if h.n != b.n {
		return nil, fmt.Errorf("hybrid: HMC lattice has %d sites, bridge %d", h.n, b.n)
	}
	return &Hybrid{h: h, b: b, hmcPer: hmcPerSample, bridgePer: bridgePerSample}, nil
}

// Bridge returns the bridge part (for its per-depth acceptance).
func (x *Hybrid) Bridge() *Bridge { return x.b }

// HMCAcceptance returns the mean acceptance of the HMC trajectories run so far.
func (x *Hybrid) HMCAcceptance() float64 { return ratio(x.hmcAccSum, int(x.hmcAccCnt)) }

// Sample fills out[0..n-1] like Bridge.Sample and returns the mean acceptance of its bridge
// moves (of its HMC trajectories when it runs no bridge moves).
func (x *Hybrid) Sample(ctx context.Context, n int, out [][]float64) (float64, error) {
	if len(out) < n {
		return 0, fmt.Errorf("hybrid: %d samples requested, %d slots given", n, len(out))
	}
	sum, cnt := 0.0, 0
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			return ratio(sum, cnt), ctx.Err()
		}
		if x.hmcPer > 0 {
			x.h.setState(x.b.phi, x.b.logp)
			for t := 0; t < x.hmcPer; t++ {
				a := x.h.move()
				x.hmcAccSum += a
				x.hmcAccCnt++
				if x.bridgePer == 0 {
					sum += a
					cnt++
				}
			}
			x.b.setState(x.h.phi, x.h.logp)
		}
		for m := 0; m < x.bridgePer; m++ {
			j := x.b.cfg.Depths[x.b.sched]
			x.b.sched = (x.b.sched + 1) % len(x.b.cfg.Depths)
			sum += x.b.move(j)
			cnt++
		}
		if len(out[i]) != x.b.n {
			return ratio(sum, cnt), fmt.Errorf("hybrid: sample slot %d has length %d, want %d", i, len(out[i]), x.b.n)
		}
		copy(out[i], x.b.phi)
	}
	return ratio(sum, cnt), nil
}
