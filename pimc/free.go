package pimc

import (
	"fmt"
	"math"
)

// SliceExpectations are the expectations of the slice-averaged estimators of one sample:
// Energy of the virial estimator V + (1/2) phi.gradV, Potential of V, Phi2 of the site
// average of phi_x^2.
type SliceExpectations struct {
	Energy, Potential, Phi2 float64
}

// FreeSlice returns the exact expectations of the estimators for the free (harmonic) lattice
// path integral of docs/samplers.md with spatial normal-mode frequencies omega (all > 0, one
// per mode, e.g. hamiltonian.FreeTheory.Omega or the Hartree kernel G_k), Lt periodic time
// slices and spacing eps. It is exact at every eps and beta = Lt*eps, not only in the limit.
//
// Why it is exact: in real orthonormal spatial modes q_k the discretised action decouples into
// one periodic chain per mode, S = sum_tau (q_{tau+1}-q_tau)^2/(2 eps) + eps w^2 q_tau^2/2, a
// circulant Gaussian whose Matsubara eigenvalues are (4/eps) sin^2(pi n/Lt) + eps w^2. Hence
//
//	<q_k^2> = (1/Lt) sum_{n=0}^{Lt-1} 1 / ((4/eps) sin^2(pi n/Lt) + eps w_k^2),
//
// and with V = (1/2) sum_k w_k^2 q_k^2 the virial estimator is 2V, so Energy = sum_k w_k^2 <q_k^2>,
// Potential = Energy/2, Phi2 = (1/N) sum_k <q_k^2>. As Lt -> infinity at fixed eps,
// <q_k^2> -> 1/(2 w_k sqrt(1 + eps^2 w_k^2/4)), so Energy = sum_k w_k/2 (1 - eps^2 w_k^2/8 + O(eps^4))
// plus the thermal part, of order w exp(-beta w) per mode.
func FreeSlice(omega []float64, eps float64, lt int) (SliceExpectations, error) {
	if len(omega) == 0 {
		return SliceExpectations{}, fmt.Errorf("pimc: free path integral needs at least one mode")
	}
	if !(eps > 0) || math.IsInf(eps, 0) || lt < 1 {
		return SliceExpectations{}, fmt.Errorf("pimc: free path integral needs eps > 0 and Lt >= 1, got eps %v, Lt %d", eps, lt)
	}
	kin := make([]float64, lt)
	for n := range kin {
		s := math.Sin(math.Pi * float64(n) / float64(lt))
		kin[n] = 4 / eps * s * s
	}
	var e, p2 float64
	for k, w := range omega {
		if !(w > 0) || math.IsInf(w, 0) {
			return SliceExpectations{}, fmt.Errorf("pimc: mode %d has frequency %v, need a finite value > 0", k, w)
		}
		ew2 := eps * w * w
		q := 0.0
		for _, c := range kin {
			q += 1 / (c + ew2)
		}
		q /= float64(lt)
		e += w * w * q
		p2 += q
	}
	return SliceExpectations{Energy: e, Potential: e / 2, Phi2: p2 / float64(len(omega))}, nil
}

// groundEnergy returns sum_k w_k/2, the eps -> 0, beta -> infinity limit of FreeSlice's Energy.
func groundEnergy(omega []float64) float64 {
	s := 0.0
	for _, w := range omega {
		s += w / 2
	}
	return s
}
