package learned

import (
	"context"
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// fitNoiseless fits Z, m2 and lambda at every noiseless level to the samples by score
// matching. With s = -(Z f_1 + m2 f_2 + lambda f_3), f_1 = K_q phi, f_2 = phi, f_3 = phi^3/6,
// Hyvarinen's objective E[|s|^2/2 + div s] is quadratic in the couplings, minimal where
// M theta = b with M_jl = E[f_j . f_l] and b_j = E[div f_j]: div f_1 = tr K_q = sum_k q(k),
// div f_2 = N, div f_3 = sum_x phi_x^2/2. Integration by parts makes this exact for any
// density of that form, without second derivatives of anything learned.
func (m *Model) fitNoiseless(samples [][]float64) error {
	n := m.geo.n
	var phi, f1 []float64
	for i := 0; i < m.levels; i++ {
		if m.weight[i] > 0 {
			continue
		}
		if phi == nil {
			phi, f1 = make([]float64, n), make([]float64, n)
		}
		trQ := 0.0
		for _, q := range m.q[i] {
			trQ += q
		}
		var M [6]float64 // upper triangle: 11 12 13 22 23 33
		var b [3]float64
		for _, phi0 := range samples {
			m.plan.Convolve(phi, phi0, m.a[i]) // the level's field, K_a phi_0 (a = 1 at t = 0)
			m.plan.Convolve(f1, phi, m.q[i])
			var s11, s12, s13, s22, s23, s33, sum2 float64
			for x, f := range phi {
				f3 := f * f * f / 6
				s11 += f1[x] * f1[x]
				s12 += f1[x] * f
				s13 += f1[x] * f3
				s22 += f * f
				s23 += f * f3
				s33 += f3 * f3
				sum2 += f * f
			}
			for j, v := range [6]float64{s11, s12, s13, s22, s23, s33} {
				M[j] += v
			}
			b[0] += trQ
			b[1] += float64(n)
			b[2] += sum2 / 2
		}
		if !m.setCouplings(i, M, b) {
			return fmt.Errorf("learned: the samples do not determine the couplings at level %d (singular score-matching system)", i)
		}
	}
	return nil
}

// refitCouplings sets Z, m2 and lambda at every noisy level to the minimum of the DSM loss
// with the CNN held fixed. The score is c - (Z f_1 + m2 f_2 + lambda f_3) with the f_j of
// fitNoiseless, so the loss E|c - theta.f - target|^2 is minimal where M theta = r with
// M_jl = E[f_j . f_l] and r_j = E[f_j . (c - target)], estimated on FitDraws draws per level.
// The CNN penalty does not involve the couplings.
func (m *Model) refitCouplings(ctx context.Context, samples [][]float64, rng *rand.Rand) error {
	n := m.geo.n
	phi, target, xi := make([]float64, n), make([]float64, n), make([]float64, n)
	f1, c := make([]float64, n), make([]float64, n)
	for i := 0; i < m.levels; i++ {
		if m.weight[i] == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		var M [6]float64
		var r [3]float64
		for d := 0; d < m.cfg.FitDraws; d++ {
			m.noisy(phi, target, xi, samples[rng.IntN(len(samples))], i, rng)
			m.plan.Convolve(f1, phi, m.q[i])
			m.cnn(c, phi, i)
			for x, f := range phi {
				f3 := f * f * f / 6
				e := c[x] - target[x]
				M[0] += f1[x] * f1[x]
				M[1] += f1[x] * f
				M[2] += f1[x] * f3
				M[3] += f * f
				M[4] += f * f3
				M[5] += f3 * f3
				r[0] += f1[x] * e
				r[1] += f * e
				r[2] += f3 * e
			}
		}
		if !m.setCouplings(i, M, r) {
			return fmt.Errorf("learned: the draws do not determine the couplings at level %d (singular least-squares system)", i)
		}
	}
	return nil
}

// setCouplings sets the couplings of level i to the solution of the normal equations M theta =
// b (upper triangle of M as in solve3); with Config.FixQuadratic only lambda is free, and its
// equation is the third row with Z and m2 held: M13 Z + M23 m2 + M33 lambda = b3.
func (m *Model) setCouplings(i int, M [6]float64, b [3]float64) bool {
	if m.cfg.FixQuadratic {
		if !(M[5] > 0) {
			return false
		}
		m.p.lam[i] = (b[2] - M[2]*m.p.z[i] - M[4]*m.p.m2[i]) / M[5]
		return true
	}
	theta, ok := solve3(M, b)
	if ok {
		m.p.z[i], m.p.m2[i], m.p.lam[i] = theta[0], theta[1], theta[2]
	}
	return ok
}

// solve3 solves the symmetric positive-definite system with upper triangle M (11 12 13 22 23
// 33) by Cholesky; ok is false when M is not positive definite.
func solve3(M [6]float64, b [3]float64) (theta [3]float64, ok bool) {
	sym := mat.NewSymDense(3, []float64{
		M[0], M[1], M[2],
		M[1], M[3], M[4],
		M[2], M[4], M[5]})
	var chol mat.Cholesky
	if !chol.Factorize(sym) {
		return theta, false
	}
	var x mat.VecDense
	if err := chol.SolveVecTo(&x, mat.NewVecDense(3, b[:])); err != nil {
		return theta, false
	}
	return [3]float64{x.AtVec(0), x.AtVec(1), x.AtVec(2)}, true
}
