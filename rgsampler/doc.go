// Package rgsampler samples Euclidean lattice phi^4 field theory (docs/physics.md section 6) and any
// other smooth lattice density: a Fourier-accelerated HMC baseline, Wolff cluster flips of the
// field's signs that compose with it (for targets with ferromagnetic pair terms, Embedder), and
// the RG bridge sampler, which treats the exact renormalization-group flow as a diffusion and
// proposes whole field configurations by running that diffusion backwards with a score (exact
// for Gaussian targets, learned otherwise), corrected by an exact Metropolis-Hastings test on
// the joint chain.
//
// Conventions. Fields are real slices indexed like hamiltonian.Lattice sites, generalised to
// an anisotropic box: site = x0 + n0*x1 + n0*n1*x2 with axis 0 fastest. Momenta are indexed
// like sites (momentum k_mu = 2 pi n_mu / n_mu_size). A "kernel" or per-mode array c is the
// list of eigenvalues of a translation-invariant (circulant) matrix K_c, indexed by momentum.
// Fourier transforms are unnormalised forwards, phi_k = sum_x exp(-i k.x) phi_x, so that
// phi^T K_c phi = (1/N) sum_k c_k |phi_k|^2. They all go through internal/latfft, and the
// samplers' inner loops keep fields as half spectra (fields are real, so half the momenta
// determine the rest), with per-mode arrays restricted to the same half.
package rgsampler

import (
	"context"
	"math/rand/v2"
)

// Score approximates grad_phi log p_level(phi), the score of the RG-diffused distribution at
// each level of a Diffusion's time grid (level 0 = the target itself).
type Score interface {
	Eval(dst, phi []float64, level int) // must not allocate in steady state
	Clone() Score                       // an independent copy for another goroutine
}

// SpectralScore is a Score that also works on the field's half spectrum (the layout of
// latfft.Plan.ForwardHalf), which the bridge keeps for every field of its path, so that the
// bridge pays only for the transforms the score really needs. EvalSpectrum writes the half
// spectrum of the score at level into dst, given the field as its half spectrum phiK and, where
// NeedsField(level) is true, in real space as phi too (phi is nil otherwise). It must agree with
// Eval up to rounding: the bridge is exact with any score, but its acceptance is that of the
// score it is given.
type SpectralScore interface {
	Score
	NeedsField(level int) bool
	EvalSpectrum(dst []complex128, phi []float64, phiK []complex128, level int) // must not allocate
}

// Trainer is a Score that can be (re)trained by denoising score matching on samples of level 0.
type Trainer interface {
	Score
	Train(ctx context.Context, samples [][]float64, steps int, rng *rand.Rand) error
}

// Target is an unnormalized log density on the lattice with its gradient.
type Target interface {
	LogDensity(phi []float64) float64
	Grad(dst, phi []float64) // grad log density
}

// Covariancer is implemented by scores that know a Gaussian approximation of every level:
// Covariance(level) returns the per-mode covariance C_level(k) (shared; do not modify). The
// bridge's posterior reverse kernel uses it for its variance.
type Covariancer interface {
	Covariance(level int) []float64
}

// Quadratic is implemented by targets whose -log density has a translation-invariant
// quadratic part: QuadraticKernel returns its per-mode eigenvalues (the inverse free
// propagator) with the bare mass squared raised to at least m2Floor, so that they stay
// positive when m2 < 0. HMC builds its default mass matrix from it.
type Quadratic interface {
	QuadraticKernel(m2Floor float64) []float64
}
