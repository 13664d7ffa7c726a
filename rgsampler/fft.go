package rgsampler

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
)

// FFT does discrete Fourier transforms of real fields on a periodic box whose sides may differ
// (an L_t x L^d Euclidean lattice needs that; internal/latfft only does L^d). Axis 0 runs
// fastest. An FFT holds buffers and is not safe for concurrent use: give each goroutine its own.
type FFT struct {
	dims []int
	n    int
	ffts []*fourier.CmplxFFT
	buf  []complex128
	line []complex128
}

// NewFFT returns a transform plan for the periodic box with the given sides (axis 0 fastest).
func NewFFT(dims []int) (*FFT, error) {
	n, err := boxSites(dims)
	if err != nil {
		return nil, err
	}
	p := &FFT{dims: append([]int(nil), dims...), n: n, buf: make([]complex128, n)}
	maxL := 1
	for _, l := range dims {
		p.ffts = append(p.ffts, fourier.NewCmplxFFT(l))
		maxL = max(maxL, l)
	}
	p.line = make([]complex128, maxL)
	return p, nil
}

// boxSites validates the sides of a box and returns its number of sites.
func boxSites(dims []int) (int, error) {
	if len(dims) < 1 || len(dims) > 4 {
		return 0, fmt.Errorf("a lattice needs 1 to 4 axes, got %d", len(dims))
	}
	n := 1
	for _, l := range dims {
		if l < 1 {
			return 0, fmt.Errorf("lattice sides must be >= 1, got %v", dims)
		}
		if n > math.MaxInt32/l {
			return 0, fmt.Errorf("lattice %v is too large", dims)
		}
		n *= l
	}
	return n, nil
}

// Sites returns the number of sites N.
func (p *FFT) Sites() int { return p.n }

// Dims returns the sides of the box (shared; do not modify).
func (p *FFT) Dims() []int { return p.dims }

// transform applies the unnormalised 1-D transform along every axis of x in place.
func (p *FFT) transform(x []complex128, forward bool) {
	stride := 1
	for mu, L := range p.dims {
		block := stride * L
		if L > 1 {
			f := p.ffts[mu]
			line := p.line[:L]
			for base := 0; base < p.n; base += block {
				if stride == 1 {
					// Contiguous lines transform in place without a gather.
					seg := x[base : base+L]
					if forward {
						f.Coefficients(seg, seg)
					} else {
						f.Sequence(seg, seg)
					}
					continue
				}
				for off := 0; off < stride; off++ {
					start := base + off
					for i := range line {
						line[i] = x[start+i*stride]
					}
					if forward {
						f.Coefficients(line, line)
					} else {
						f.Sequence(line, line)
					}
					for i := range line {
						x[start+i*stride] = line[i]
					}
				}
			}
		}
		stride = block
	}
}

// Forward writes dst_k = sum_x exp(-i k.x) src_x into dst (length N).
func (p *FFT) Forward(dst []complex128, src []float64) {
	for i, v := range src {
		dst[i] = complex(v, 0)
	}
	p.transform(dst, true)
}

// Inverse writes the real part of (1/N) sum_k exp(i k.x) src_k into dst, the inverse of
// Forward. src is left unchanged.
func (p *FFT) Inverse(dst []float64, src []complex128) {
	copy(p.buf, src)
	p.transform(p.buf, false)
	inv := 1 / float64(p.n)
	for i := range dst {
		dst[i] = real(p.buf[i]) * inv
	}
}

// Convolve writes dst = K src for the circulant K with eigenvalues kernel (even in k, so that
// dst is real). dst and src may be the same slice.
func (p *FFT) Convolve(dst, src, kernel []float64) {
	for i, v := range src {
		p.buf[i] = complex(v, 0)
	}
	p.transform(p.buf, true)
	for k, g := range kernel {
		p.buf[k] *= complex(g, 0)
	}
	p.transform(p.buf, false)
	inv := 1 / float64(p.n)
	for i := range dst {
		dst[i] = real(p.buf[i]) * inv
	}
}

// MomentumSquared returns p_k^2 = sum_mu 4 sin^2(k_mu/2) for every momentum of the box with the
// given sides, indexed like sites: the eigenvalues of minus the lattice Laplacian.
func MomentumSquared(dims []int) []float64 {
	n, _ := boxSites(dims)
	p2 := make([]float64, n)
	for k := range p2 {
		r := k
		s := 0.0
		for _, L := range dims {
			h := math.Sin(math.Pi * float64(r%L) / float64(L))
			s += 4 * h * h
			r /= L
		}
		p2[k] = s
	}
	return p2
}

// modeNorm2 returns (1/N) sum_k w_k |x_k|^2, the quadratic form x^T K_w x of a real field given
// by its transform x_k.
func modeNorm2(xk []complex128, w []float64) float64 {
	s := 0.0
	for k, c := range xk {
		s += w[k] * (real(c)*real(c) + imag(c)*imag(c))
	}
	return s / float64(len(xk))
}
