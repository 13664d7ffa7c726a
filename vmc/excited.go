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
	// Gap = E1 - E0: E1 the lowest Rayleigh-Ritz value in the odd trial space, E0 the mean
	// local energy of the same samples (so their noise largely cancels), with the error from a
	// jackknife over blocks of samples.
	Gap stats.Estimate
	// E1 is a variational upper bound on the lowest odd eigenvalue (up to its error), exact
	// for any guide: the matrix elements need no approximation.
	E1, E0 stats.Estimate
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
// above, and E1 - <E_loc> estimates the gap from above as Psi_0 approaches the ground state. At
// lambda = 0 with the exact Gaussian Psi_0 and f = M it is exact: the k = 0 one-particle state,
// gap sqrt(m2).
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
	// Sums of H, S and E_loc per block (a contiguous run of every chain), for a delete-one-block
	// jackknife: a leave-one-out estimate is the total minus one block.
	const blocks = 16
	nb := min(blocks, done)
	blockLen := done / nb
	type sums struct {
		h, s    []float64 // basis x basis, row-major
		e0, cnt float64
	}
	newSums := func() sums { return sums{h: make([]float64, basis*basis), s: make([]float64, basis*basis)} }
	blockSums := make([]sums, nb)
	total := newSums()
	f, g := make([]float64, basis), make([]float64, basis)
	for b := range blockSums {
		bs := newSums()
		for c := 0; c < nc; c++ {
			for t := b * blockLen; t < (b+1)*blockLen; t++ {
				M, E := mf[c][t], eloc[c][t]
				for i := range f {
					p := float64(2*i + 1)
					f[i], g[i] = math.Pow(M, p), p*math.Pow(M, p-1)
				}
				for i := 0; i < basis; i++ {
					for j := 0; j < basis; j++ {
						// grad f_i . grad f_j = sum_x (f_i'/N)(f_j'/N) = f_i' f_j' / N.
						bs.h[i*basis+j] += 0.5*g[i]*g[j]/float64(sites) + f[i]*f[j]*E
						bs.s[i*basis+j] += f[i] * f[j]
					}
				}
				bs.e0 += E
				bs.cnt++
			}
		}
		blockSums[b] = bs
		for k := range total.h {
			total.h[k] += bs.h[k]
			total.s[k] += bs.s[k]
		}
		total.e0 += bs.e0
		total.cnt += bs.cnt
	}
	solve := func(skip int) (e1, e0 float64, coef []float64, err error) {
		cur := newSums()
		copy(cur.h, total.h)
		copy(cur.s, total.s)
		cur.e0, cur.cnt = total.e0, total.cnt
		if skip >= 0 {
			for k := range cur.h {
				cur.h[k] -= blockSums[skip].h[k]
				cur.s[k] -= blockSums[skip].s[k]
			}
			cur.e0 -= blockSums[skip].e0
			cur.cnt -= blockSums[skip].cnt
		}
		e0 = cur.e0 / cur.cnt
		// The powers of M are far from orthogonal: scale to unit diagonal of S, then reduce the
		// generalised problem H c = E S c with the Cholesky factor of S.
		d := make([]float64, basis)
		for i := range d {
			d[i] = 1 / math.Sqrt(cur.s[i*basis+i])
		}
		hs, ss := mat.NewSymDense(basis, nil), mat.NewSymDense(basis, nil)
		for i := 0; i < basis; i++ {
			for j := i; j < basis; j++ {
				hs.SetSym(i, j, 0.5*(cur.h[i*basis+j]+cur.h[j*basis+i])*d[i]*d[j])
				ss.SetSym(i, j, cur.s[i*basis+j]*d[i]*d[j])
			}
		}
		var ch mat.Cholesky
		if !ch.Factorize(ss) {
			return 0, 0, nil, errors.New("vmc: the odd trial functions are linearly dependent on these samples")
		}
		var l, linv mat.TriDense
		ch.LTo(&l)
		if err := linv.InverseTri(&l); err != nil {
			return 0, 0, nil, err
		}
		var tmp, red mat.Dense
		tmp.Mul(&linv, hs)
		red.Mul(&tmp, linv.T())
		rs := mat.NewSymDense(basis, nil)
		for i := 0; i < basis; i++ {
			for j := i; j < basis; j++ {
				rs.SetSym(i, j, 0.5*(red.At(i, j)+red.At(j, i)))
			}
		}
		var es mat.EigenSym
		if !es.Factorize(rs, true) {
			return 0, 0, nil, errors.New("vmc: odd-sector eigenproblem did not converge")
		}
		vals := es.Values(nil)
		var vecs mat.Dense
		es.VectorsTo(&vecs)
		y := mat.NewVecDense(basis, nil)
		for i := 0; i < basis; i++ {
			y.SetVec(i, vecs.At(i, 0))
		}
		var cv mat.VecDense
		cv.MulVec(linv.T(), y)
		coef = make([]float64, basis)
		for i := range coef {
			coef[i] = cv.AtVec(i) * d[i]
		}
		// A normalized function has the sign of its first coefficient positive.
		if coef[0] < 0 {
			for i := range coef {
				coef[i] = -coef[i]
			}
		}
		return vals[0], e0, coef, nil
	}
	e1, e0, coef, err := solve(-1)
	if err != nil {
		return nil, err
	}
	// Delete-one-block jackknife.
	var s1, s1q, s0, s0q, sg, sgq float64
	for b := 0; b < nb; b++ {
		a1, a0, _, err := solve(b)
		if err != nil {
			return nil, err
		}
		s1, s1q = s1+a1, s1q+a1*a1
		s0, s0q = s0+a0, s0q+a0*a0
		g := a1 - a0
		sg, sgq = sg+g, sgq+g*g
	}
	jk := func(s, q float64) float64 {
		mu := s / float64(nb)
		return math.Sqrt(math.Max(0, (q/float64(nb)-mu*mu)*float64(nb-1)))
	}
	return &OddGap{
		Gap: stats.Estimate{Value: e1 - e0, Error: jk(sg, sgq)}, E1: stats.Estimate{Value: e1, Error: jk(s1, s1q)},
		E0: stats.Estimate{Value: e0, Error: jk(s0, s0q)}, Coefficients: coef, Samples: done * nc,
	}, nil
}
