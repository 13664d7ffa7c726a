// Package pimc computes the ground-state energy E0 of the lattice phi^4 Hamiltonian (docs/physics.md
// section 1) from its Euclidean path integral (section 6), independently of any variational
// state: a non-variational cross-check of VMC and exact diagonalization at any L.
//
// Method. The D = dim+1 path integral with Lt periodic slices of spacing eps,
//
//	S_E = sum_tau [ sum_x (phi_{tau+1,x} - phi_{tau,x})^2/(2 eps) + eps V(phi_tau) ],
//
// is sampled with rgsampler's Fourier-accelerated HMC (mass matrix at the Euclidean Hartree
// mass, step tuned during warm-up, global phi -> -phi move). One time slice is then distributed
// as |Psi_0|^2 up to O(eps^2) and the thermal admixture of excited states, so the virial
// estimator
//
//	E = V + (1/2) phi.gradV = 2 V2 + 3 V4     (V2 quadratic, V4 quartic part of V)
//
// has the expectation E0 there (the virial theorem 2<T> = <phi.gradV> holds in every
// eigenstate, so the thermal error is exactly <H>_beta - E0 = sum_n (E_n - E0) w_n, each level
// contributing at most (E_n - E0) exp(-beta (E_n - E0))). Every sample is averaged over its Lt
// slices; errors come from Wolff's Gamma method per chain, combined over independent chains,
// with a blocking (Flyvbjerg-Petersen) error alongside as a cross-check.
//
// Time step. Points at several eps are extrapolated linearly in eps^2. Two extrapolations are
// made from the same data: "raw", E(eps) = E0 + c eps^2 on the measured values, and
// "gaussian", the same fit after subtracting from each point the exactly known error of the
// Gaussian (Hartree) theory at that eps and Lt (FreeSlice with the Hartree kernel G_k minus
// sum_k G_k/2). The subtraction vanishes as eps -> 0 and beta -> infinity, so both fits target
// the same E0, but the Gaussian one removes the bulk of the eps^2, eps^4, ... dependence, which
// is dominated by the nearly free ultraviolet modes: on 8x8 the free eps^4 term alone would bias
// a raw fit through eps = 0.2, 0.14, 0.1 by about -0.05. At lambda = 0 the subtracted points are
// exactly E0 at every eps. Where the eps dependence is not Gaussian the subtraction helps less:
// for the single anharmonic oscillator (m2 = 1, lambda = 24) the eps^4 bias of the fit through
// eps = 0.25, 0.175, 0.125 is -0.9e-3 after it and -1.3e-3 without (exact transfer-matrix
// values; smaller eps shrink it as eps^4). Config.Extrapolation picks the one reported as E0.
//
// Imaginary-time extent. By default beta = max(BetaFloor, BetaGaps/gap) with the gap estimated
// by the Hartree mass M (sqrt(m2) at lambda = 0; in the broken phase the mass of fluctuations
// within a well: a tunnelling splitting Delta much below 1/beta biases the energy by at most
// Delta/2, and one near 1/beta is what the beta check is for). BetaGaps = 12 puts
// exp(-beta*gap) at 6e-6. The check: the largest eps (the cheapest point) is rerun at 2 beta
// and the difference is reported in combined standard errors, flagged beyond 2.
package pimc
