package vmc

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"vqs/hamiltonian"
	"vqs/stats"
)

// OddGap is the variational estimate of the gap to the lowest Z2-odd state.
type OddGap struct {
	// Gap = E1 - E0, from the same samples (so their noise largely cancels), with the error from
	// a jackknife over blocks of samples.
	Gap stats.Estimate
	// E1 is the lowest Rayleigh-Ritz value in the odd trial space f(M) Psi_0, a variational
	// upper bound on the lowest odd eigenvalue (up to its error), exact for any guide: the
	// matrix elements need no approximation. E0 is the lowest Rayleigh-Ritz value in the even
	// trial space h(M) Psi_0 (h = 1, M^2, M^4, ...), an upper bound on E0 no higher than the mean
	// local energy Mean (h = 1).
	E1, E0, Mean stats.Estimate
	// Binder is U4 = 1 - <M^4>/(3 <M^2>^2) in the even Rayleigh-Ritz state h(M) Psi_0, the
	// samples reweighted by h(M)^2: Psi_0's mean-field distribution corrected as E0 is.
	Binder stats.Estimate
	// Coefficients of the optimal odd function in the basis M, M^3, M^5, ...
	Coefficients []float64
	Samples      int
}

// MeasureOddGap estimates the gap to the lowest Z2-odd state with the trial states
// Psi_1 = f(M) Psi_0, f an odd polynomial in the mean field M = (1/N) sum_x phi_x of degree
// 2 basis - 1, optimised by Rayleigh-Ritz. For real f, g and any Psi,
//
//	<f Psi|H|g Psi> = < (1/2) grad f . grad g + f g E_loc >_{|Psi|^2}
//
// (integrate the kinetic term by parts), and Psi_0 even makes f Psi_0 odd, orthogonal to the
// even ground state. So the lowest generalised eigenvalue of H_ij = < (1/2) grad f_i . grad f_j +
// f_i f_j E_loc >, S_ij = < f_i f_j > over samples of |Psi_0|^2 bounds the odd-sector energy from
// above. The even sector gets the same treatment with h = 1, M^2, ..., M^(2 basis - 2): its
// lowest value E0 corrects Psi_0's distribution of the mean field, the slowest part of the
// optimisation near the critical point, and the gap is E1 - E0. Subtracting <E_loc> instead
// charges the even state's error in its mean-field distribution to the gap alone; on the broken
// side at 32x32 that made the gap negative. At lambda = 0 with the exact Gaussian Psi_0 both are
// exact: f = M gives the k = 0 one-particle state, h = 1 the ground state, gap sqrt(m2).
func MeasureOddGap(ctx context.Context, m *hamiltonian.Model, wf Wavefunction, s Sampler, n, basis int) (*OddGap, error) {
	if err := sameLattice(m, wf); err != nil {
		return nil, err
	}
	if basis < 1 || basis > 4 {
		return nil, fmt.Errorf("vmc: odd basis size must be 1..4, got %d", basis)
	}
	nc := s.Chains()
	per := (n + nc - 1) / nc
	if per < 8 {
		return nil, fmt.Errorf("vmc: %d samples for %d chains is too few for a gap", n, nc)
	}
	// Per sample: E_loc and the mean field.
	eloc := make([][]float64, nc)
	mf := make([][]float64, nc)
	evs := make([]Evaluator, nc)
	grads := make([][]float64, nc)
	for c := range eloc {
		eloc[c], mf[c] = make([]float64, per), make([]float64, per)
		evs[c], grads[c] = wf.NewEvaluator(), make([]float64, m.N)
	}
	filled := make([]int, nc)
	if _, err := s.Sample(ctx, per, func(c, i int, phi []float64) {
		_, lap := evs[c].Derivs(phi, grads[c], nil)
		eloc[c][i] = m.LocalEnergy(phi, grads[c], lap).Total
		sum := 0.0
		for _, v := range phi {
			sum += v
		}
		mf[c][i] = sum / float64(m.N)
		filled[c] = i + 1
	}); err != nil && ctx.Err() == nil {
		return nil, err
	}
	done := per
	for _, f := range filled {
		done = min(done, f)
	}
	if done < 8 {
		return nil, fmt.Errorf("vmc: the gap measurement was interrupted after %d samples per chain: %w", done, context.Canceled)
	}
	for c := range eloc {
		eloc[c], mf[c] = eloc[c][:done], mf[c][:done]
	}
	return oddGap(eloc, mf, m.N, basis)
}

// oddGap is the Rayleigh-Ritz estimate of MeasureOddGap from per-chain series of E_loc and the
// mean field M (only |M| matters: every matrix element is even in M), all of one length.
func oddGap(eloc, mf [][]float64, sites, basis int) (*OddGap, error) {
	nc := len(eloc)
	if nc == 0 || len(eloc[0]) < 8 {
		return nil, errors.New("vmc: too few samples for a gap")
	}
	done := len(eloc[0])
	// Sums of H and S of both sectors and of E_loc per block (a contiguous run of every chain),
	// for a delete-one-block jackknife: a leave-one-out estimate is the total minus one block.
	const blocks = 16
	nb := min(blocks, done)
	blockLen := done / nb
	bb := basis * basis
	// Layout of one block's sums: odd H, odd S, even H, even S (basis x basis each, row-major),
	// then sum E_loc and the count.
	width := 4*bb + 2
	blockSums := make([][]float64, nb)
	total := make([]float64, width)
	f, g := make([]float64, 2*basis), make([]float64, 2*basis) // odd powers, then even ones
	for b := range blockSums {
		bs := make([]float64, width)
		for c := 0; c < nc; c++ {
			for t := b * blockLen; t < (b+1)*blockLen; t++ {
				M, E := mf[c][t], eloc[c][t]
				for i := 0; i < basis; i++ {
					po, pe := float64(2*i+1), float64(2*i)
					f[i], g[i] = math.Pow(M, po), po*math.Pow(M, po-1)
					f[basis+i] = math.Pow(M, pe)
					if i > 0 {
						g[basis+i] = pe * math.Pow(M, pe-1)
					} else {
						g[basis+i] = 0
					}
				}
				for sec := 0; sec < 2; sec++ {
					fs, gs, hs := f[sec*basis:(sec+1)*basis], g[sec*basis:(sec+1)*basis], bs[2*sec*bb:]
					for i := 0; i < basis; i++ {
						for j := 0; j < basis; j++ {
							// grad f_i . grad f_j = sum_x (f_i'/N)(f_j'/N) = f_i' f_j' / N.
							hs[i*basis+j] += 0.5*gs[i]*gs[j]/float64(sites) + fs[i]*fs[j]*E
							hs[bb+i*basis+j] += fs[i] * fs[j]
						}
					}
				}
				bs[4*bb] += E
				bs[4*bb+1]++
			}
		}
		blockSums[b] = bs
		for k, v := range bs {
			total[k] += v
		}
	}
	cur := make([]float64, width)
	// binder is U4 of h(M) Psi_0 (h = sum_i even[i] M^(2i)) over the blocks other than skip.
	binder := func(skip int, even []float64) float64 {
		var w, w2, w4 float64
		for b := 0; b < nb; b++ {
			if b == skip {
				continue
			}
			for c := 0; c < nc; c++ {
				for t := b * blockLen; t < (b+1)*blockLen; t++ {
					M2 := mf[c][t] * mf[c][t]
					h, p := 0.0, 1.0
					for _, e := range even {
						h += e * p
						p *= M2
					}
					h *= h
					w += h
					w2 += h * M2
					w4 += h * M2 * M2
				}
			}
		}
		m2 := w2 / w
		return 1 - (w4/w)/(3*m2*m2)
	}
	solve := func(skip int) (e1, e0, mean, u4 float64, coef []float64, err error) {
		copy(cur, total)
		if skip >= 0 {
			for k, v := range blockSums[skip] {
				cur[k] -= v
			}
		}
		mean = cur[4*bb] / cur[4*bb+1]
		if e1, coef, err = lowestRitz(cur[:bb], cur[bb:2*bb], basis); err != nil {
			return 0, 0, 0, 0, nil, fmt.Errorf("odd sector: %w", err)
		}
		var even []float64
		if e0, even, err = lowestRitz(cur[2*bb:3*bb], cur[3*bb:4*bb], basis); err != nil {
			return 0, 0, 0, 0, nil, fmt.Errorf("even sector: %w", err)
		}
		return e1, e0, mean, binder(skip, even), coef, nil
	}
	e1, e0, mean, u4, coef, err := solve(-1)
	if err != nil {
		return nil, err
	}
	// Delete-one-block jackknife of E1, E0, the mean, the gap and U4.
	var sum, sq [5]float64
	for b := 0; b < nb; b++ {
		a1, a0, am, au, _, err := solve(b)
		if err != nil {
			return nil, err
		}
		for k, v := range [5]float64{a1, a0, am, a1 - a0, au} {
			sum[k] += v
			sq[k] += v * v
		}
	}
	jk := func(k int) float64 {
		mu := sum[k] / float64(nb)
		return math.Sqrt(math.Max(0, (sq[k]/float64(nb)-mu*mu)*float64(nb-1)))
	}
	return &OddGap{
		Gap: stats.Estimate{Value: e1 - e0, Error: jk(3)}, E1: stats.Estimate{Value: e1, Error: jk(0)},
		E0: stats.Estimate{Value: e0, Error: jk(1)}, Mean: stats.Estimate{Value: mean, Error: jk(2)},
		Binder:       stats.Estimate{Value: u4, Error: jk(4)},
		Coefficients: coef, Samples: done * nc,
	}, nil
}

// lowestRitz returns the lowest generalised eigenvalue of H c = E S c (row-major sums, n x n)
// and its eigenvector, normalised so that its first coefficient is positive.
func lowestRitz(h, s []float64, n int) (float64, []float64, error) {
	// The powers of M are far from orthogonal: scale to unit diagonal of S, then reduce the
	// generalised problem with the Cholesky factor of S.
	d := make([]float64, n)
	for i := range d {
		d[i] = 1 / math.Sqrt(s[i*n+i])
	}
	hs, ss := mat.NewSymDense(n, nil), mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			hs.SetSym(i, j, 0.5*(h[i*n+j]+h[j*n+i])*d[i]*d[j])
			ss.SetSym(i, j, s[i*n+j]*d[i]*d[j])
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(ss) {
		return 0, nil, errors.New("vmc: the trial functions are linearly dependent on these samples")
	}
	var l, linv mat.TriDense
	ch.LTo(&l)
	if err := linv.InverseTri(&l); err != nil {
		return 0, nil, err
	}
	var tmp, red mat.Dense
	tmp.Mul(&linv, hs)
	red.Mul(&tmp, linv.T())
	rs := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			rs.SetSym(i, j, 0.5*(red.At(i, j)+red.At(j, i)))
		}
	}
	var es mat.EigenSym
	if !es.Factorize(rs, true) {
		return 0, nil, errors.New("vmc: the Rayleigh-Ritz eigenproblem did not converge")
	}
	vals := es.Values(nil)
	var vecs mat.Dense
	es.VectorsTo(&vecs)
	y := mat.NewVecDense(n, nil)
	for i := 0; i < n; i++ {
		y.SetVec(i, vecs.At(i, 0))
	}
	var cv mat.VecDense
	cv.MulVec(linv.T(), y)
	coef := make([]float64, n)
	for i := range coef {
		coef[i] = cv.AtVec(i) * d[i]
	}
	if coef[0] < 0 {
		for i := range coef {
			coef[i] = -coef[i]
		}
	}
	return vals[0], coef, nil
}
