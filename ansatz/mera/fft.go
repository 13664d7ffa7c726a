package mera

import "gonum.org/v1/gonum/dsp/fourier"

// cplan is an in-place complex FFT on the periodic L^dim lattice (site layout of
// hamiltonian.Lattice), unnormalized both ways. The ansatz needs complex input and output to
// transform two real fields at once: the inverse of A_k + i B_k, with A and B Hermitian, is
// a + i b, and the forward transform of a + i b separates into A and B through
// A_k = (C_k + conj C_{-k})/2, B_k = (C_k - conj C_{-k})/(2i). latfft.Plan's transforms take
// real input or return the real part only, so this primitive lives here.
type cplan struct {
	L, dim, n int
	fft       *fourier.CmplxFFT
	line      []complex128
}

func newCplan(L, dim int) *cplan {
	n := 1
	for i := 0; i < dim; i++ {
		n *= L
	}
	return &cplan{L: L, dim: dim, n: n, fft: fourier.NewCmplxFFT(L), line: make([]complex128, L)}
}

// transform applies the 1-D transform along every axis of buf (length n), forwards
// (exp(-i k.x)) or backwards (exp(+i k.x)).
func (p *cplan) transform(buf []complex128, forward bool) {
	L := p.L
	if L == 1 {
		return
	}
	// Axis 0 is contiguous: transform each line in place.
	for base := 0; base < p.n; base += L {
		seg := buf[base : base+L]
		if forward {
			p.fft.Coefficients(seg, seg)
		} else {
			p.fft.Sequence(seg, seg)
		}
	}
	stride := L
	for mu := 1; mu < p.dim; mu++ {
		block := stride * L
		for base := 0; base < p.n; base += block {
			for off := 0; off < stride; off++ {
				start := base + off
				for i := 0; i < L; i++ {
					p.line[i] = buf[start+i*stride]
				}
				if forward {
					p.fft.Coefficients(p.line, p.line)
				} else {
					p.fft.Sequence(p.line, p.line)
				}
				for i := 0; i < L; i++ {
					buf[start+i*stride] = p.line[i]
				}
			}
		}
		stride = block
	}
}
