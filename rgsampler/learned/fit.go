package learned

import (
	"fmt"

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
		sym := mat.NewSymDense(3, []float64{
			M[0], M[1], M[2],
			M[1], M[3], M[4],
			M[2], M[4], M[5]})
		var chol mat.Cholesky
		if !chol.Factorize(sym) {
			return fmt.Errorf("learned: the samples do not determine the couplings at level %d (singular score-matching system)", i)
		}
		var theta mat.VecDense
		if err := chol.SolveVecTo(&theta, mat.NewVecDense(3, b[:])); err != nil {
			return fmt.Errorf("learned: score-matching fit at level %d: %w", i, err)
		}
		m.p.z[i], m.p.m2[i], m.p.lam[i] = theta.AtVec(0), theta.AtVec(1), theta.AtVec(2)
	}
	return nil
}
