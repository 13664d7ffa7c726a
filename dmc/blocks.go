package dmc

import (
	"math"

	"vqs/stats"
)

// maxBlocks is the most blocks a series keeps; when it is full, neighbouring blocks are merged
// in pairs and the block length doubles. 1024 blocks are plenty for a blocking analysis
// (stats.BinningError wants at least 64) and keep checkpoints small.
const maxBlocks = 1024

// blocks accumulates per-generation vectors of sums into blocks of equal length in
// generations, merging pairs when maxBlocks are full ("blocking on the fly"). Row b holds the
// sums over its generations; the last row may be incomplete.
type blocks struct {
	Width  int       // entries per row
	Length int       // generations per complete block
	Rows   int       // rows in use, the last one possibly incomplete
	Fill   int       // generations in the last row
	Data   []float64 // Rows*Width sums
}

func newBlocks(width int) *blocks {
	return &blocks{Width: width, Length: 1, Data: make([]float64, 0, maxBlocks*width)}
}

// add adds one generation's vector v (length Width), starting a new row when the last one is
// complete (after merging pairs when all maxBlocks rows are in use).
func (b *blocks) add(v []float64) {
	if b.Rows == 0 || b.Fill == b.Length {
		if b.Rows == maxBlocks {
			b.merge()
		}
		for i := 0; i < b.Width; i++ {
			b.Data = append(b.Data, 0) // within the preallocated capacity
		}
		b.Rows++
		b.Fill = 0
	}
	r := b.Data[(b.Rows-1)*b.Width : b.Rows*b.Width]
	for i, x := range v {
		r[i] += x
	}
	b.Fill++
}

// merge halves the number of rows by adding neighbours; it is called only when every row is
// complete.
func (b *blocks) merge() {
	w := b.Width
	half := b.Rows / 2
	for i := 0; i < half; i++ {
		dst := b.Data[i*w : (i+1)*w]
		a := b.Data[2*i*w : (2*i+1)*w]
		c := b.Data[(2*i+1)*w : (2*i+2)*w]
		for j := range dst {
			dst[j] = a[j] + c[j]
		}
	}
	b.Rows = half
	b.Data = b.Data[:half*w]
	b.Length *= 2
	b.Fill = b.Length
}

// generations returns how many generations the rows from index first on hold.
func (b *blocks) generations(first int) int {
	if first >= b.Rows {
		return 0
	}
	return (b.Rows-1-first)*b.Length + b.Fill
}

// view is the rows from First on: the measured blocks after the detected equilibration.
type view struct {
	b     *blocks
	First int
}

func (v view) n() int { return v.b.Rows - v.First }

func (v view) at(row, col int) float64 { return v.b.Data[(v.First+row)*v.b.Width+col] }

// sum returns the sum of column col over the view's rows.
func (v view) sum(col int) float64 {
	s := 0.0
	for r := 0; r < v.n(); r++ {
		s += v.at(r, col)
	}
	return s
}

// Estimate is the one estimate type of vqs. Here Unreliable means that the blocking analysis
// of the error reached no plateau: the series was too short for its correlation time and
// Error is a lower bound. BlockErr is the blocking error itself (Error is the larger of it and
// the Gamma method's).
type Estimate = stats.Estimate

// ratioTerm is one ratio r = sum(num)/sum(den) over the view's rows, an ingredient of a
// function of ratios.
type ratioTerm struct{ num, den int }

// ratios returns the ratio values of terms over v.
func (v view) ratios(terms []ratioTerm) []float64 {
	r := make([]float64, len(terms))
	for i, t := range terms {
		r[i] = v.sum(t.num) / v.sum(t.den)
	}
	return r
}

// function estimates f(r_1, ..., r_m) of ratios of block sums, with the error from the
// linearized series (the delta method): row b contributes sum_i df/dr_i (num_ib - r_i den_ib)
// / mean(den_i), whose mean is f's fluctuation, and the blocking analysis of that series gives
// an error that accounts for the correlation between rows. grad receives r and returns df/dr.
func (v view) function(terms []ratioTerm, f func(r []float64) float64, grad func(r, g []float64)) Estimate {
	n := v.n()
	if n < 2 {
		return Estimate{Value: math.NaN(), Error: math.NaN()}
	}
	r := v.ratios(terms)
	g := make([]float64, len(terms))
	grad(r, g)
	means := make([]float64, len(terms))
	for i, t := range terms {
		means[i] = v.sum(t.den) / float64(n)
	}
	z := make([]float64, n)
	for row := 0; row < n; row++ {
		s := 0.0
		for i, t := range terms {
			s += g[i] * (v.at(row, t.num) - r[i]*v.at(row, t.den)) / means[i]
		}
		z[row] = s
	}
	// Blocking without a plateau underestimates the error of a series only a few correlation
	// times long; the Gamma method's automatic window copes better there, so the larger of the
	// two is the error (as for the gap).
	bin := stats.BinningError(z)
	return Estimate{Value: f(r), Error: math.Max(bin.Error, stats.ErrorOfMean(z)), BlockErr: bin.Error, Unreliable: !bin.Plateau}
}

// ratio estimates sum(num)/sum(den).
func (v view) ratio(num, den int) Estimate {
	return v.function([]ratioTerm{{num, den}}, func(r []float64) float64 { return r[0] },
		func(r, g []float64) { g[0] = 1 })
}

// tauInt returns the integrated autocorrelation time of the ratio num/den in generations,
// from the rows' own ratios (a lower bound once it approaches the block length).
func (v view) tauInt(num, den int) float64 {
	n := v.n()
	if n < 2 {
		return math.NaN()
	}
	y := make([]float64, n)
	for r := range y {
		y[r] = v.at(r, num) / v.at(r, den)
	}
	a := stats.IntegratedAutocorr(y)
	// A row averages Length generations: tau in generations is Length*(tau_rows - 1/2) + 1/2
	// for a correlation time much longer than a row, and 1/2 for independent generations.
	return math.Max(0.5, float64(v.b.Length)*(a.Tau-0.5)+0.5)
}

// mserStart returns the number of leading rows to discard as equilibration by the marginal
// standard error rule (MSER, White 1997): the d <= n/2 that minimises the variance of the
// remaining row ratios divided by (n-d)^2. Trailing drifts push d up; a flat series gives 0.
func (b *blocks) mserStart(num, den int) int {
	n := b.Rows
	if b.Rows > 1 && b.Fill < b.Length {
		n-- // the incomplete last row would weigh as much as a full one
	}
	if n < 8 {
		return 0
	}
	y := make([]float64, n)
	for r := range y {
		y[r] = b.Data[r*b.Width+num] / b.Data[r*b.Width+den]
	}
	// Suffix sums give every candidate's variance in one pass.
	best, bestD := math.Inf(1), 0
	var s, s2 float64
	crit := make([]float64, n)
	for d := n - 1; d >= 0; d-- {
		s += y[d]
		s2 += y[d] * y[d]
		m := float64(n - d)
		crit[d] = (s2 - s*s/m) / (m * m)
	}
	for d := 0; d <= n/2; d++ {
		if crit[d] < best {
			best, bestD = crit[d], d
		}
	}
	// On a stationary series MSER still picks some d by chance; discard only a transient
	// whose mean stands out from the rest by more than mserSigmas standard errors.
	if bestD == 0 {
		return 0
	}
	head := stats.Mean(y[:bestD])
	rest := y[bestD:]
	errRest := stats.BinningError(rest).Error
	errHead := math.Sqrt(stats.Variance(rest) / float64(bestD)) // the rest's spread, at the head's length
	if math.Abs(head-stats.Mean(rest)) <= mserSigmas*math.Hypot(errHead, errRest) {
		return 0
	}
	return bestD
}

// mserSigmas is how far, in standard errors, the discarded head must lie from the rest.
const mserSigmas = 3.0
