package dmc

import (
	"math"
	"math/bits"

	"gonum.org/v1/gonum/dsp/fourier"

	"vqs/hamiltonian"
)

// cfft transforms complex fields on the periodic L^dim lattice (layout of hamiltonian.Lattice).
// The walkers' fields are real, so a move transforms two walkers at once, one as the real and
// one as the imaginary part: half the transforms of real-to-complex ones. Lines of a power-of-two
// length use an in-place radix-2 transform on the strided data; other lengths go through
// gonum's mixed-radix FFT. Not safe for concurrent use.
type cfft struct {
	L, dim, n int
	pow2      bool
	rev       []int        // bit reversal of 0..L-1
	tw        []complex128 // exp(-2 pi i k/L), k < L/2
	gonum     *fourier.CmplxFFT
	line      []complex128
	neg       []int32 // index of -k
}

func newCFFT(lat hamiltonian.Lattice) *cfft {
	L := lat.L
	f := &cfft{L: L, dim: lat.Dim, n: lat.N, pow2: L >= 2 && L&(L-1) == 0, line: make([]complex128, L)}
	if f.pow2 {
		shift := bits.UintSize - bits.TrailingZeros(uint(L))
		f.rev = make([]int, L)
		for i := range f.rev {
			f.rev[i] = int(bits.Reverse(uint(i)) >> shift)
		}
		f.tw = make([]complex128, L/2)
		for k := range f.tw {
			s, c := math.Sincos(-2 * math.Pi * float64(k) / float64(L))
			f.tw[k] = complex(c, s)
		}
	} else if L > 1 {
		f.gonum = fourier.NewCmplxFFT(L)
	}
	f.neg = make([]int32, lat.N)
	c := make([]int, lat.Dim)
	for k := 0; k < lat.N; k++ {
		lat.Coords(k, c)
		for mu := range c {
			c[mu] = -c[mu]
		}
		f.neg[k] = int32(lat.Site(c))
	}
	return f
}

// transform applies the unnormalized DFT along every axis of z in place: exp(-i k.x) forwards,
// exp(+i k.x) backwards.
func (f *cfft) transform(z []complex128, forward bool) {
	L := f.L
	if L == 1 {
		return
	}
	stride := 1
	for mu := 0; mu < f.dim; mu++ {
		block := stride * L
		for base := 0; base < f.n; base += block {
			for off := 0; off < stride; off++ {
				if f.pow2 {
					f.radix2(z, base+off, stride, forward)
					continue
				}
				for i := 0; i < L; i++ {
					f.line[i] = z[base+off+i*stride]
				}
				if forward {
					f.gonum.Coefficients(f.line, f.line)
				} else {
					f.gonum.Sequence(f.line, f.line)
				}
				for i := 0; i < L; i++ {
					z[base+off+i*stride] = f.line[i]
				}
			}
		}
		stride = block
	}
}

// radix2 transforms the line z[start + i*stride], i < L, in place.
func (f *cfft) radix2(z []complex128, start, stride int, forward bool) {
	L := f.L
	for i, j := range f.rev {
		if i < j {
			a, b := start+i*stride, start+j*stride
			z[a], z[b] = z[b], z[a]
		}
	}
	for size := 2; size <= L; size <<= 1 {
		half := size / 2
		step := L / size
		for s := 0; s < L; s += size {
			for k := 0; k < half; k++ {
				w := f.tw[k*step]
				if !forward {
					w = complex(real(w), -imag(w))
				}
				a := start + (s+k)*stride
				b := a + half*stride
				t := w * z[b]
				z[b] = z[a] - t
				z[a] += t
			}
		}
	}
}

// split separates the transform y of a + i b, a and b real, into the transforms of a and b:
// A_k = (y_k + conj(y_-k))/2, B_k = (y_k - conj(y_-k))/(2i).
func (f *cfft) split(y, a, b []complex128) {
	for k, nk := range f.neg {
		p, q := y[k], y[nk]
		qc := complex(real(q), -imag(q))
		a[k] = 0.5 * (p + qc)
		d := p - qc // 2i B_k
		b[k] = complex(0.5*imag(d), -0.5*real(d))
	}
}
