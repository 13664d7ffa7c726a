// Package latfft does discrete Fourier transforms of real fields on periodic L^d lattices, the
// one piece of numerics that the ansatz (its Gaussian kernel) and the samplers (Fourier
// acceleration, exact Gaussian transitions) share. Sites and momenta use the layout of
// hamiltonian.Lattice: index = n0 + L*n1 + L^2*n2, momentum k_mu = 2 pi n_mu / L.
package latfft

import (
	"gonum.org/v1/gonum/dsp/fourier"
)

// Plan holds the buffers for transforms on one lattice. A Plan is not safe for concurrent use:
// give each goroutine its own.
type Plan struct {
	L, Dim, N int
	fft       *fourier.CmplxFFT
	buf       []complex128 // N, the field in transit
	line      []complex128 // L, one line along an axis
}

// NewPlan returns a plan for the periodic lattice of side L in dim dimensions.
func NewPlan(L, dim int) *Plan {
	n := 1
	for i := 0; i < dim; i++ {
		n *= L
	}
	return &Plan{L: L, Dim: dim, N: n, fft: fourier.NewCmplxFFT(L),
		buf: make([]complex128, n), line: make([]complex128, L)}
}

// transform applies the 1-D transform along every axis of p.buf, forwards or backwards
// (unnormalized both ways).
func (p *Plan) transform(forward bool) {
	L := p.L
	if L == 1 {
		return
	}
	stride := 1
	for mu := 0; mu < p.Dim; mu++ {
		block := stride * L
		for base := 0; base < p.N; base += block {
			for off := 0; off < stride; off++ {
				start := base + off
				for i := 0; i < L; i++ {
					p.line[i] = p.buf[start+i*stride]
				}
				if forward {
					p.fft.Coefficients(p.line, p.line)
				} else {
					p.fft.Sequence(p.line, p.line)
				}
				for i := 0; i < L; i++ {
					p.buf[start+i*stride] = p.line[i]
				}
			}
		}
		stride = block
	}
}

// Forward writes dst_k = sum_x exp(-i k.x) src_x (unnormalized) into dst (length N).
func (p *Plan) Forward(dst []complex128, src []float64) {
	for i, v := range src {
		p.buf[i] = complex(v, 0)
	}
	p.transform(true)
	copy(dst, p.buf)
}

// Inverse writes the real part of (1/N) sum_k exp(i k.x) src_k into dst, the inverse of Forward.
func (p *Plan) Inverse(dst []float64, src []complex128) {
	copy(p.buf, src)
	p.transform(false)
	inv := 1 / float64(p.N)
	for i := range dst {
		dst[i] = real(p.buf[i]) * inv
	}
}

// Convolve writes dst = K src, where K is the translation-invariant (circulant) matrix whose
// eigenvalue at momentum k is kernel[k]. kernel must be even, kernel[k] = kernel[-k], for dst to
// be real. dst and src may be the same slice.
func (p *Plan) Convolve(dst, src, kernel []float64) {
	for i, v := range src {
		p.buf[i] = complex(v, 0)
	}
	p.transform(true)
	for k, g := range kernel {
		p.buf[k] *= complex(g, 0)
	}
	p.transform(false)
	inv := 1 / float64(p.N)
	for i := range dst {
		dst[i] = real(p.buf[i]) * inv
	}
}

// QuadForm returns src^T K src = (1/N) sum_k kernel[k] |src_k|^2 for the circulant K of kernel.
func (p *Plan) QuadForm(src, kernel []float64) float64 {
	for i, v := range src {
		p.buf[i] = complex(v, 0)
	}
	p.transform(true)
	s := 0.0
	for k, g := range kernel {
		c := p.buf[k]
		s += g * (real(c)*real(c) + imag(c)*imag(c))
	}
	return s / float64(p.N)
}

// Modes writes |src_k|^2 / N for every momentum k into dst: the per-mode weights whose sum
// against a kernel is QuadForm, and whose derivative in the kernel is what a kernel parameter needs.
func (p *Plan) Modes(dst, src []float64) {
	for i, v := range src {
		p.buf[i] = complex(v, 0)
	}
	p.transform(true)
	inv := 1 / float64(p.N)
	for k := range dst {
		c := p.buf[k]
		dst[k] = (real(c)*real(c) + imag(c)*imag(c)) * inv
	}
}
