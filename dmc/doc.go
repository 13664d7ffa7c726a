// Package dmc computes the ground-state energy E0 of the lattice phi^4 Hamiltonian by
// importance-sampled diffusion Monte Carlo (DMC), with a variational state as the guide. The
// Hamiltonian is stoquastic (its kinetic term is the Laplacian in field space and the potential
// is diagonal), so its ground state Psi_0 is positive and a positive guide Psi_T has no nodes to
// fix: the energy is exact up to a time-step error and a population-size error, both of which
// the run measures.
//
// # Method
//
// A population of walkers, each a whole field configuration phi, samples the mixed density
// f = Psi_T Psi_0. In imaginary time f obeys a drift-diffusion equation with the drift
// du/dphi (u = log Psi_T) and a growth rate -(E_loc - E_T). One time step tau moves every
// walker by
//
//	phi' = phi + B du/dphi + S xi,   xi white noise,
//
// with B and S circulant: b_k = (1 - e^{-g_k tau})/g_k and s_k^2 = (1 - e^{-2 g_k tau})/(2 g_k),
// g(k) the guide's Gaussian kernel. This is the exact Ornstein-Uhlenbeck step of the
// Gaussian part of the drift, with the rest of the drift held fixed over the step; for small
// g tau it is the usual phi + tau du/dphi + sqrt(tau) xi. Integrating the Gaussian part exactly
// removes the stiffness of the ultraviolet modes (g ~ 3 on a lattice), which otherwise forces
// tau down and the acceptance of whole-field moves to zero as the lattice grows. Each move is
// accepted with the Metropolis-Hastings probability p of the proposal against Psi_T^2, so that
// without weights the walkers sample Psi_T^2 exactly (this is the VMC stage, which gives the
// guide's energy with the same moves), and the short-time error of the drift is corrected.
//
// Each walker then carries the weight exp(-tau_eff (Ebar - E_ref)), with Ebar the expected
// trapezoidal local energy p (E_loc(phi) + E_loc(phi'))/2 + (1-p) E_loc(phi) and tau_eff =
// tau <p |dphi|^2>/<|dphi|^2> the effective time step of the moves (C. J. Umrigar, M. P.
// Nightingale and K. J. Runge, J. Chem. Phys. 99, 2865 (1993)). Estimators use the expected
// values over accept/reject too. The population is kept at a fixed size by comb (systematic)
// resampling every generation, which conserves the total weight; the population-control bias
// that a fixed size causes is removed by weighting each generation with the product of the
// population's mean weights over the last ProductTime (as in the stochastic-reconfiguration
// DMC of R. Assaraf, M. Caffarel and A. Khelif, Phys. Rev. E 61, 4566 (2000)). Both the
// corrected and the plain estimate are reported, and a rerun of the largest time step with
// another population checks what is left.
//
// # Estimators
//
// The mixed estimator of the energy, the weighted mean of E_loc, is exact (H commutes with the
// propagator). For other diagonal observables A (phi^2, |M|, the Binder cumulant, the
// structure factor) the mixed estimator <Psi_T|A|Psi_0>/<Psi_T|Psi_0> is first order in the
// guide's error, and 2 <A>_mixed - <A>_VMC is second order; both are reported and labelled.
//
// The gap comes from the walkers' ancestry: every walker carries its ancestors' Fourier
// modes phi_k/sqrt(N) at k = 0 and at the smallest non-zero momentum, and the weighted
// average of phi_k(t) phi_k(t - s) over the population is <Psi_T phi_k e^{-(H - E0) s} phi_k
// Psi_0>, which decays as exp(-(E_1 - E0) s) with E_1 the lowest state the mode couples to
// (forward walking). For k = 0 that is the Z2-odd one-particle state: the mass gap.
//
// # Errors
//
// Every estimate is a ratio of sums over generations; its error comes from a blocking
// (Flyvbjerg-Petersen) analysis of the linearized per-block series, so it accounts for the
// correlation between generations. Equilibration is either set or detected in the recorded
// blocks by the marginal standard error rule, and reported. The time steps are extrapolated
// linearly to tau = 0, and the difference of the two smallest is reported beside it.
//
// The walkers move in parallel on all workers; every walker slot has its own random stream,
// so results do not depend on the number of workers, and a checkpoint resumed continues the
// run exactly.
package dmc
