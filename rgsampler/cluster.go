package rgsampler

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Bond is one ferromagnetic pair term J phi_X phi_Y (J > 0) of a log density.
type Bond struct {
	X, Y int32
	J    float64
}

// Embedder is implemented by targets whose log density is even in the sign of every site
// except for ferromagnetic nearest-neighbour pair terms, log p = f(|phi|) + sum_bonds J phi_x
// phi_y. Given the magnitudes |phi|, the signs are then an Ising model with couplings
// J |phi_x| |phi_y| (the embedding of Brower and Tamayo, Phys. Rev. Lett. 62 (1989) 1087),
// which Wolff's single-cluster move samples exactly and, near the Ising critical point, with
// little critical slowing down. Bonds lists every pair term once (a pair that the periodic
// lattice joins twice, as on L = 2, appears twice).
type Embedder interface {
	Bonds() []Bond
}

// Bonds returns the pair terms of -S: J = 1 for every nearest-neighbour link of the isotropic
// action; J = eps within a time slice and 1/eps between slices for the path integral (links of
// a site with itself, on L = 1 or Lt = 1, cancel in S and are left out).
func (p *Phi4) Bonds() []Bond {
	nb, d, ns := p.space.Neighbors(), p.space.Dim, p.space.N
	js := 1.0
	if p.lt > 0 {
		js = p.eps
	}
	var out []Bond
	for tau := 0; tau < max(p.lt, 1); tau++ {
		off := tau * ns
		for x := 0; x < ns; x++ {
			for mu := 0; mu < d; mu++ {
				if y := nb[x*d+mu]; y != x {
					out = append(out, Bond{int32(off + x), int32(off + y), js})
				}
			}
			if p.lt > 1 {
				out = append(out, Bond{int32(off + x), int32(((tau+1)%p.lt)*ns + x), 1 / p.eps})
			}
		}
	}
	return out
}

// Cluster is Wolff's single-cluster move on the signs of a field, embedded in a target's
// ferromagnetic pair terms: from a uniformly drawn seed site it grows the cluster of sites
// with the seed's sign, joining a neighbour across a bond with probability
// 1 - exp(-2 J |phi_x phi_y|), and flips the cluster's sign. The move leaves the target
// invariant whatever the magnitudes are, but it never changes them, so it is composed with a
// sampler that does (HMCConfig.Clusters). Not safe for concurrent use: one per chain.
type Cluster struct {
	start []int32   // adjacency of site x: entries start[x] .. start[x+1]-1
	nbr   []int32   // neighbour of each entry
	j     []float64 // coupling of each entry
	mark  []uint32  // mark[x] == gen: x is in the current cluster
	gen   uint32
	stack []int32 // the cluster's sites, in the order they joined
}

// NewCluster returns the move on n sites with the given bonds.
func NewCluster(bonds []Bond, n int) (*Cluster, error) {
	if n < 1 || n > math.MaxInt32 {
		return nil, fmt.Errorf("cluster: %d sites", n)
	}
	start := make([]int32, n+1)
	for _, b := range bonds {
		if b.X < 0 || int(b.X) >= n || b.Y < 0 || int(b.Y) >= n || b.X == b.Y {
			return nil, fmt.Errorf("cluster: bond %d-%d on %d sites", b.X, b.Y, n)
		}
		if !(b.J > 0) || math.IsInf(b.J, 0) {
			return nil, fmt.Errorf("cluster: bond %d-%d has coupling %v, want finite and > 0", b.X, b.Y, b.J)
		}
		start[b.X+1]++
		start[b.Y+1]++
	}
	for x := 0; x < n; x++ {
		start[x+1] += start[x]
	}
	c := &Cluster{start: start, nbr: make([]int32, 2*len(bonds)), j: make([]float64, 2*len(bonds)),
		mark: make([]uint32, n), stack: make([]int32, 0, n)}
	fill := append([]int32(nil), start[:n]...)
	for _, b := range bonds {
		for _, e := range [2][2]int32{{b.X, b.Y}, {b.Y, b.X}} {
			k := fill[e[0]]
			c.nbr[k], c.j[k] = e[1], b.J
			fill[e[0]]++
		}
	}
	return c, nil
}

// NewTargetCluster returns the move for a target that implements Embedder.
func NewTargetCluster(t Target, n int) (*Cluster, error) {
	e, ok := t.(Embedder)
	if !ok {
		return nil, errors.New("cluster: the target has no ferromagnetic pair terms to embed an Ising model in")
	}
	return NewCluster(e.Bonds(), n)
}

// Flip does one move on phi in place and returns the number of sites flipped.
func (c *Cluster) Flip(phi []float64, rng *rand.Rand) int {
	c.gen++
	if c.gen == 0 { // wrapped: old marks could read as current
		clear(c.mark)
		c.gen = 1
	}
	seed := int32(rng.IntN(len(c.mark)))
	c.mark[seed] = c.gen
	c.stack = append(c.stack[:0], seed)
	for i := 0; i < len(c.stack); i++ {
		x := c.stack[i]
		fx := phi[x]
		for k := c.start[x]; k < c.start[x+1]; k++ {
			y := c.nbr[k]
			if c.mark[y] == c.gen {
				continue
			}
			// Same sign, and the bond is open with probability 1 - exp(-2 J phi_x phi_y).
			if p := fx * phi[y]; p > 0 && rng.Float64() < -math.Expm1(-2*c.j[k]*p) {
				c.mark[y] = c.gen
				c.stack = append(c.stack, y)
			}
		}
	}
	for _, x := range c.stack {
		phi[x] = -phi[x]
	}
	return len(c.stack)
}
