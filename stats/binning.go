package stats

import "math"

// Binning is the result of a Flyvbjerg-Petersen blocking analysis.
type Binning struct {
	// Error is the estimated standard error of the mean.
	Error float64
	// Levels holds the naive error of the mean at each blocking level: level k averages
	// blocks of 2^k consecutive points. Level 0 is sqrt(Var/n), the error if the data were
	// independent. Only levels with at least 2 blocks are listed.
	Levels []float64
	// Plateau reports whether the blocked errors reached a level where they stop growing
	// (Lee et al.'s criterion, see BinningError). When false, Error is not trustworthy: the
	// series is too short for its correlation time, or too short for blocking at all.
	Plateau bool
}

// MinBlockingLength is the shortest series that BinningError blocks; shorter series get the
// naive error sqrt(Var/n) with Plateau false.
const MinBlockingLength = 64

// minPlateauBlocks is the fewest blocks a chosen level may have: with fewer, the error of
// the error (about 1/sqrt(2 blocks)) exceeds 18 percent.
const minPlateauBlocks = 16

// BinningError estimates the error of the mean of a correlated series by repeatedly averaging
// neighbouring pairs (Flyvbjerg and Petersen, J. Chem. Phys. 91, 461 (1989)). The naive error
// grows with the block size until the blocks are longer than the correlation time, then stays
// flat. The level used is the smallest block size B = 2^k with
//
//	B^3 > 2 n (Levels[k]/Levels[0])^4
//
// (Lee, Needs et al., Phys. Rev. E 83, 066706 (2011)), which balances the bias of too short
// blocks against the noise of too few; it must leave at least 16 blocks.
//
// Special cases: len(x) < 2 gives Error NaN and no levels; a constant series gives Error 0
// with Plateau true; a series shorter than MinBlockingLength gives the naive error with
// Plateau false; when no level satisfies the criterion, Error is the largest error among the
// levels with at least 16 blocks (still an underestimate) and Plateau is false.
func BinningError(x []float64) Binning {
	n := len(x)
	if n < 2 {
		return Binning{Error: math.NaN()}
	}
	v0 := Variance(x)
	naive := math.Sqrt(v0 / float64(n))
	if v0 == 0 {
		return Binning{Error: 0, Levels: []float64{0}, Plateau: true}
	}
	if n < MinBlockingLength {
		return Binning{Error: naive, Levels: []float64{naive}}
	}
	blocks := append([]float64(nil), x...)
	var levels []float64
	var counts []int
	for len(blocks) >= 2 {
		m := len(blocks)
		levels = append(levels, math.Sqrt(Variance(blocks)/float64(m)))
		counts = append(counts, m)
		// Pair neighbours; an odd last point is dropped, as in Flyvbjerg-Petersen.
		half := m / 2
		for i := 0; i < half; i++ {
			blocks[i] = 0.5 * (blocks[2*i] + blocks[2*i+1])
		}
		blocks = blocks[:half]
	}
	b := Binning{Levels: levels}
	for k, e := range levels {
		if counts[k] < minPlateauBlocks {
			break
		}
		size := math.Ldexp(1, k)
		r := e / levels[0]
		if size*size*size > 2*float64(n)*r*r*r*r {
			b.Error = e
			b.Plateau = true
			return b
		}
	}
	for k, e := range levels {
		if counts[k] >= minPlateauBlocks {
			b.Error = math.Max(b.Error, e)
		}
	}
	return b
}
