// Package latfft does discrete Fourier transforms of fields on periodic lattices, the one piece
// of numerics that the ansatz (its Gaussian kernel and RG-flowed fields), the samplers (Fourier
// acceleration, exact Gaussian transitions, structure factors) and DMC share: real fields
// through half spectra, and complex fields (Plan.Complex) for callers that move two real fields
// at once. A lattice is an L^d cube
// or a box whose sides differ (an L_t x L^d Euclidean lattice). Sites and momenta use the
// layout of hamiltonian.Lattice, generalised to a box: index = n0 + L0*n1 + L0*L1*n2 with axis 0
// fastest, momentum k_mu = 2 pi n_mu / L_mu.
//
// Transforms are unnormalized forwards, phi_k = sum_x exp(-i k.x) phi_x, so that a circulant
// (translation-invariant) matrix K with eigenvalues c_k has phi^T K phi = (1/N) sum_k c_k
// |phi_k|^2. A real field's spectrum is Hermitian, phi_{-k} = conj(phi_k), so half of it
// determines the rest: the half spectrum keeps the momenta with 0 <= n0 <= L0/2, that is
// H = L0/2 + 1 values along axis 0 times every momentum of the other axes, laid out like the
// full one with H in place of L0 (index n0 + H*n1 + H*L1*n2). Every transform here goes through
// it: a real-to-half-complex transform along axis 0 (for even L0, a complex transform of half the
// length on the even and odd sites packed as one complex line) followed by complex transforms
// along the other axes, about half the work of a complex transform of complex(phi, 0).
package latfft

import (
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
)

// Plan holds the tables and buffers for transforms on one lattice. A Plan is not safe for
// concurrent use: give each goroutine its own. Dims, HalfModes, Multiplicity and HalfKernel
// (with a dst of its own) read only the tables and are the exception.
type Plan struct {
	// L is the side of a cubic lattice (NewPlan; 0 for a box whose sides differ), Dim the
	// number of axes and N the number of sites.
	L, Dim, N int

	dims    []int
	n0, hn  int  // side of axis 0 and the half spectrum's length along it, n0/2 + 1
	iend    int  // momenta 1 <= n0 < iend along axis 0 have a partner -k outside the half
	even    bool // n0 even: axis 0 by the packed transform of length n0/2
	rest    int  // N / n0, the number of lines along axis 0
	nHalf   int  // hn * rest
	axis0   *line
	full0   *line        // the complex transform of length n0 along axis 0, for Complex
	axes    []*line      // per axis >= 1; nil where the side is 1
	strides []int        // per axis >= 1: its stride in the half spectrum
	rtw     []complex128 // exp(-2 pi i k/n0), k <= n0/2, for even n0
	rtwHalf []complex128 // rtw/2
	negRest []int        // the index of -q among the momenta of axes >= 1
	mult    []float64
	spec    []complex128 // half spectrum in transit
	spec2   []complex128 // a second one, for ConvolveMany
	work    []complex128 // scratch of the transforms along axes >= 1
	lineA   []complex128 // the lines along axis 0, transposed, and their scratch
	lineB   []complex128
	pow     []float64 // half-spectrum power, for StructureFactor
}

// NewPlan returns a plan for the periodic L^dim lattice. It panics unless L >= 1 and dim >= 1
// (like make with a negative length); NewBoxPlan returns an error instead.
func NewPlan(L, dim int) *Plan {
	if dim < 1 {
		panic(fmt.Sprintf("latfft: dimension %d < 1", dim))
	}
	dims := make([]int, dim)
	for i := range dims {
		dims[i] = L
	}
	p, err := NewBoxPlan(dims)
	if err != nil {
		panic("latfft: " + err.Error())
	}
	return p
}

// NewBoxPlan returns a plan for the periodic box with the given sides, axis 0 fastest.
func NewBoxPlan(dims []int) (*Plan, error) {
	n, err := Sites(dims)
	if err != nil {
		return nil, err
	}
	n0 := dims[0]
	p := &Plan{Dim: len(dims), N: n, dims: append([]int(nil), dims...), n0: n0, hn: n0/2 + 1,
		even: n0%2 == 0, rest: n / n0}
	p.L = n0
	for _, l := range dims {
		if l != n0 {
			p.L = 0
		}
	}
	p.iend = n0 - p.hn + 1
	p.nHalf = p.hn * p.rest
	if p.even {
		h := n0 / 2
		p.axis0 = newLine(h)
		p.rtw = make([]complex128, h+1)
		for k := range p.rtw {
			s, c := math.Sincos(-2 * math.Pi * float64(k) / float64(n0))
			p.rtw[k] = complex(c, s)
		}
		p.rtwHalf = make([]complex128, h+1)
		for k, w := range p.rtw {
			p.rtwHalf[k] = 0.5 * w
		}
		p.full0 = newLine(n0)
	} else {
		p.axis0 = newLine(n0)
		p.full0 = p.axis0
	}
	p.axes = make([]*line, len(dims))
	p.strides = make([]int, len(dims))
	stride := p.hn
	for mu := 1; mu < len(dims); mu++ {
		p.strides[mu] = stride
		if dims[mu] > 1 {
			p.axes[mu] = newLine(dims[mu])
		}
		stride *= dims[mu]
	}
	// -q among the other axes' momenta: negate every coordinate modulo its side.
	p.negRest = make([]int, p.rest)
	for r := range p.negRest {
		q, s, idx := r, 1, 0
		for _, l := range dims[1:] {
			c := q % l
			q /= l
			idx += ((l - c) % l) * s
			s *= l
		}
		p.negRest[r] = idx
	}
	p.mult = make([]float64, p.nHalf)
	for r := 0; r < p.rest; r++ {
		row := p.mult[r*p.hn : (r+1)*p.hn]
		for k0 := range row {
			row[k0] = 1
			if k0 >= 1 && k0 < p.iend {
				row[k0] = 2
			}
		}
	}
	p.spec, p.spec2, p.work = make([]complex128, p.nHalf), make([]complex128, p.nHalf), make([]complex128, p.nHalf)
	p.lineA, p.lineB = make([]complex128, n0*p.rest), make([]complex128, n0*p.rest)
	p.pow = make([]float64, p.nHalf)
	return p, nil
}

// Complex transforms the complex field x (length N, the site layout) in place, unnormalized
// both ways: forwards, x_k = sum_x exp(-i k.x) x_x, or backwards with exp(+i k.x). It is for
// callers that move two real fields a, b at once as a + i b: the backward transform of
// A_k + i B_k with A, B Hermitian is a + i b, and the forward transform C of a + i b separates
// as A_k = (C_k + conj C_{-k})/2, B_k = (C_k - conj C_{-k})/(2i).
func (p *Plan) Complex(x []complex128, inverse bool) {
	x = x[:p.N]
	n0, R := p.n0, p.rest
	if n0 > 1 {
		zt := p.lineA[:p.N]
		for r := 0; r < R; r++ {
			for i, v := range x[r*n0 : r*n0+n0] {
				zt[i*R+r] = v
			}
		}
		p.full0.run(zt, p.lineB[:p.N], R, inverse)
		for r := 0; r < R; r++ {
			row := x[r*n0 : r*n0+n0]
			for i := range row {
				row[i] = zt[i*R+r]
			}
		}
	}
	stride := n0
	for mu := 1; mu < p.Dim; mu++ {
		block := stride * p.dims[mu]
		if f := p.axes[mu]; f != nil {
			for b := 0; b < p.N; b += block {
				f.run(x[b:b+block], p.lineB[:block], stride, inverse)
			}
		}
		stride = block
	}
}

// Sites validates the sides of a box and returns its number of sites.
func Sites(dims []int) (int, error) {
	if len(dims) < 1 {
		return 0, fmt.Errorf("a lattice needs at least one axis, got %d", len(dims))
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

// Dims returns the sides of the lattice (shared; do not modify).
func (p *Plan) Dims() []int { return p.dims }

// HalfModes returns the length of a half spectrum, (L0/2 + 1) N / L0.
func (p *Plan) HalfModes() int { return p.nHalf }

// Multiplicity returns, per half-spectrum mode, how many modes of the full spectrum it stands
// for: 2 where -k lies outside the half (0 < n0 < L0/2), 1 on the planes n0 = 0 and n0 = L0/2,
// which hold k and -k both. For any even f, sum_k f_k = sum_h Multiplicity_h f_h. Shared; do
// not modify.
func (p *Plan) Multiplicity() []float64 { return p.mult }

// ForwardHalf writes the half spectrum of src (length N) into dst (length HalfModes).
func (p *Plan) ForwardHalf(dst []complex128, src []float64) {
	p.forwardAxis0(dst[:p.nHalf], src[:p.N])
	p.otherAxes(dst, false)
}

// InverseHalf writes into dst (length N) the real field whose half spectrum is src, the
// inverse of ForwardHalf; src is left unchanged. Where src is not the half spectrum of a real
// field (on the planes n0 = 0 and n0 = L0/2, which must be Hermitian by themselves) it returns
// the real part of the inverse of the Hermitian extension of src.
func (p *Plan) InverseHalf(dst []float64, src []complex128) {
	copy(p.spec, src[:p.nHalf])
	p.inverseInPlace(dst, p.spec)
}

// inverseInPlace is InverseHalf that overwrites x.
func (p *Plan) inverseInPlace(dst []float64, x []complex128) {
	p.otherAxes(x, true)
	p.inverseAxis0(dst[:p.N], x)
}

// otherAxes transforms the half spectrum x along every axis but 0.
func (p *Plan) otherAxes(x []complex128, inverse bool) {
	for mu := 1; mu < p.Dim; mu++ {
		f := p.axes[mu]
		if f == nil {
			continue
		}
		s := p.strides[mu]
		block := s * f.n
		w := p.work[:block]
		for b := 0; b < p.nHalf; b += block {
			f.run(x[b:b+block], w, s, inverse)
		}
	}
}

// The lines along axis 0 are transformed all at once, as the columns of a transposed copy zt
// (element t of line r at t*rest + r): the batched transform then runs over contiguous runs of
// rest elements, which is about 2.5 times faster than one short line at a time.

// forwardAxis0 transforms every line of src along axis 0 into its first hn coefficients.
func (p *Plan) forwardAxis0(dst []complex128, src []float64) {
	n0, H, R := p.n0, p.hn, p.rest
	if !p.even {
		zt := p.lineA[:n0*R]
		for r := 0; r < R; r++ {
			for i, v := range src[r*n0 : r*n0+n0] {
				zt[i*R+r] = complex(v, 0)
			}
		}
		p.axis0.run(zt, p.lineB[:n0*R], R, false)
		for k := 0; k < H; k++ {
			for r, c := range zt[k*R : k*R+R] {
				dst[r*H+k] = c
			}
		}
		return
	}
	// z_t = x_{2t} + i x_{2t+1} has Z = E + i O with E, O the transforms of the even and odd
	// sites, and X_k = E_k + exp(-2 pi i k/n0) O_k, where E_k = (Z_k + conj Z_{h-k})/2 and
	// O_k = -i (Z_k - conj Z_{h-k})/2.
	h := n0 / 2
	zt := p.lineA[:h*R]
	for r := 0; r < R; r++ {
		line := src[r*n0 : r*n0+n0]
		for t := 0; t < h; t++ {
			zt[t*R+r] = complex(line[2*t], line[2*t+1])
		}
	}
	p.axis0.run(zt, p.lineB[:h*R], R, false)
	hw := p.rtwHalf[:h]
	for r := 0; r < R; r++ {
		out := dst[r*H : r*H+H]
		z0 := zt[r]
		out[0] = complex(real(z0)+imag(z0), 0)
		out[h] = complex(real(z0)-imag(z0), 0)
		for k := 1; k < h; k++ {
			// With a = Z_k, b = conj Z_{h-k}, d = a - b and w/2 = (wr, wi):
			// X_k = (a + b)/2 + (w/2)(-i d).
			a, b := zt[k*R+r], zt[(h-k)*R+r]
			ar, ai, br, bi := real(a), imag(a), real(b), -imag(b)
			dr, di := ar-br, ai-bi
			wr, wi := real(hw[k]), imag(hw[k])
			out[k] = complex(0.5*(ar+br)+wr*di+wi*dr, 0.5*(ai+bi)+wi*di-wr*dr)
		}
	}
}

// inverseAxis0 undoes forwardAxis0 line by line and divides by N.
func (p *Plan) inverseAxis0(dst []float64, x []complex128) {
	n0, H, R := p.n0, p.hn, p.rest
	scale := 1 / float64(p.N)
	if !p.even {
		zt := p.lineA[:n0*R]
		for r := 0; r < R; r++ {
			in := x[r*H : r*H+H]
			zt[r] = in[0]
			for k := 1; k < H; k++ {
				zt[k*R+r] = in[k]
				zt[(n0-k)*R+r] = cmplx.Conj(in[k])
			}
		}
		p.axis0.run(zt, p.lineB[:n0*R], R, true)
		for r := 0; r < R; r++ {
			line := dst[r*n0 : r*n0+n0]
			for i := range line {
				line[i] = real(zt[i*R+r]) * scale
			}
		}
		return
	}
	// Rebuild 2Z_k = (X_k + conj X_{h-k}) + i exp(2 pi i k/n0) (X_k - conj X_{h-k}); the planes
	// k = 0 and h enter through their real parts only, which is the inverse of the Hermitian
	// extension.
	h := n0 / 2
	zt := p.lineA[:h*R]
	for r := 0; r < R; r++ {
		in := x[r*H : r*H+H]
		a0, ah := real(in[0]), real(in[h])
		zt[r] = complex(a0+ah, a0-ah)
		for k := 1; k < h; k++ {
			a, b := in[k], cmplx.Conj(in[h-k])
			wd := cmplx.Conj(p.rtw[k]) * (a - b)
			zt[k*R+r] = a + b + complex(-imag(wd), real(wd))
		}
	}
	p.axis0.run(zt, p.lineB[:h*R], R, true)
	for r := 0; r < R; r++ {
		line := dst[r*n0 : r*n0+n0]
		for t := 0; t < h; t++ {
			c := zt[t*R+r]
			line[2*t] = real(c) * scale
			line[2*t+1] = imag(c) * scale
		}
	}
}

// Forward writes dst_k = sum_x exp(-i k.x) src_x (unnormalized) for every momentum into dst
// (length N).
func (p *Plan) Forward(dst []complex128, src []float64) {
	p.ForwardHalf(p.spec, src)
	n0, H := p.n0, p.hn
	for r := 0; r < p.rest; r++ {
		out := dst[r*n0 : r*n0+n0]
		copy(out, p.spec[r*H:r*H+H])
		mir := p.spec[p.negRest[r]*H : p.negRest[r]*H+H]
		for k0 := H; k0 < n0; k0++ {
			out[k0] = cmplx.Conj(mir[n0-k0])
		}
	}
}

// Inverse writes the real part of (1/N) sum_k exp(i k.x) src_k into dst (length N), the
// inverse of Forward. src (length N) is left unchanged.
func (p *Plan) Inverse(dst []float64, src []complex128) {
	// The real part of the inverse is the inverse of the Hermitian part (src_k + conj src_-k)/2.
	n0, H := p.n0, p.hn
	for r := 0; r < p.rest; r++ {
		in := src[r*n0 : r*n0+n0]
		mir := src[p.negRest[r]*n0 : p.negRest[r]*n0+n0]
		out := p.spec[r*H : r*H+H]
		out[0] = 0.5 * (in[0] + cmplx.Conj(mir[0]))
		for k0 := 1; k0 < H; k0++ {
			out[k0] = 0.5 * (in[k0] + cmplx.Conj(mir[n0-k0]))
		}
	}
	p.inverseInPlace(dst, p.spec)
}

// HalfKernel writes the per-mode array c (length N, indexed like sites) onto the half spectrum:
// dst_h = (c_k + c_-k)/2 (length HalfModes; allocated when dst is too short) and returns it.
// Multiplying a half spectrum by it is the circulant of c on a real field (exactly, for even
// c; by its even part otherwise, which is all a real field sees).
func (p *Plan) HalfKernel(dst, c []float64) []float64 {
	if len(dst) < p.nHalf {
		dst = make([]float64, p.nHalf)
	}
	dst = dst[:p.nHalf]
	n0, H := p.n0, p.hn
	for r := 0; r < p.rest; r++ {
		in := c[r*n0 : r*n0+n0]
		mir := c[p.negRest[r]*n0 : p.negRest[r]*n0+n0]
		out := dst[r*H : r*H+H]
		out[0] = 0.5 * (in[0] + mir[0])
		for k0 := 1; k0 < H; k0++ {
			out[k0] = 0.5 * (in[k0] + mir[n0-k0])
		}
	}
	return dst
}

// symmetrize multiplies the half spectrum x by the even part of the full kernel c.
func (p *Plan) symmetrize(x []complex128, c []float64) {
	n0, H := p.n0, p.hn
	for r := 0; r < p.rest; r++ {
		in := c[r*n0 : r*n0+n0]
		mir := c[p.negRest[r]*n0 : p.negRest[r]*n0+n0]
		row := x[r*H : r*H+H]
		row[0] *= complex(0.5*(in[0]+mir[0]), 0)
		for k0 := 1; k0 < H; k0++ {
			row[k0] *= complex(0.5*(in[k0]+mir[n0-k0]), 0)
		}
	}
}

// Convolve writes dst = K src, where K is the translation-invariant (circulant) matrix whose
// eigenvalue at momentum k is kernel[k] (length N). kernel should be even, kernel[k] =
// kernel[-k]; otherwise dst is the real part of K src. dst and src may be the same slice.
func (p *Plan) Convolve(dst, src, kernel []float64) {
	p.ForwardHalf(p.spec, src)
	p.symmetrize(p.spec, kernel)
	p.inverseInPlace(dst, p.spec)
}

// ConvolveHalf is Convolve with the kernel given on the half spectrum (HalfKernel), which
// saves its symmetrization on every call.
func (p *Plan) ConvolveHalf(dst, src, half []float64) {
	p.ForwardHalf(p.spec, src)
	for h, g := range half[:p.nHalf] {
		p.spec[h] *= complex(g, 0)
	}
	p.inverseInPlace(dst, p.spec)
}

// ConvolveMany writes dst[i] = K_i src for every kernel (each length N, as in Convolve) from
// one forward transform. No dst[i] may share memory with src.
func (p *Plan) ConvolveMany(dst [][]float64, src []float64, kernels [][]float64) {
	p.ForwardHalf(p.spec2, src)
	for i, kern := range kernels {
		copy(p.spec, p.spec2)
		p.symmetrize(p.spec, kern)
		p.inverseInPlace(dst[i], p.spec)
	}
}

func abs2(c complex128) float64 { return real(c)*real(c) + imag(c)*imag(c) }

// QuadForm returns src^T K src = (1/N) sum_k kernel[k] |src_k|^2 for the circulant K of kernel.
func (p *Plan) QuadForm(src, kernel []float64) float64 {
	p.ForwardHalf(p.spec, src)
	n0, H := p.n0, p.hn
	s := 0.0
	for r := 0; r < p.rest; r++ {
		row := p.spec[r*H : r*H+H]
		in := kernel[r*n0 : r*n0+n0]
		mir := kernel[p.negRest[r]*n0 : p.negRest[r]*n0+n0]
		s += in[0] * abs2(row[0])
		for k0 := 1; k0 < p.iend; k0++ {
			s += (in[k0] + mir[n0-k0]) * abs2(row[k0])
		}
		if p.even && n0 > 1 {
			s += in[H-1] * abs2(row[H-1])
		}
	}
	return s / float64(p.N)
}

// Norm2 returns (1/N) sum_k w_k |x_k|^2 over the full spectrum, for x a half spectrum and w an
// even per-mode weight given on the half spectrum (HalfKernel): the quadratic form x^T K_w x
// of the real field x.
func (p *Plan) Norm2(x []complex128, w []float64) float64 {
	s := 0.0
	x = x[:p.nHalf]
	w, m := w[:len(x)], p.mult[:len(x)]
	for h, c := range x {
		s += m[h] * w[h] * abs2(c)
	}
	return s / float64(p.N)
}

// Dot returns sum_x a_x b_x, the real-space dot product of the real fields whose half spectra
// are a and b.
func (p *Plan) Dot(a, b []complex128) float64 {
	s := 0.0
	a = a[:p.nHalf]
	b, m := b[:len(a)], p.mult[:len(a)]
	for h, c := range a {
		d := b[h]
		s += m[h] * (real(c)*real(d) + imag(c)*imag(d))
	}
	return s / float64(p.N)
}

// Modes writes |src_k|^2 / N for every momentum k into dst (length N): the per-mode weights
// whose sum against a kernel is QuadForm, and whose derivative in the kernel is what a kernel
// parameter needs.
func (p *Plan) Modes(dst, src []float64) {
	p.ForwardHalf(p.spec, src)
	inv := 1 / float64(p.N)
	for h, c := range p.spec {
		p.pow[h] = abs2(c) * inv
	}
	p.expand(dst, p.pow)
}

// expand writes the even per-mode array given on the half spectrum onto every momentum.
func (p *Plan) expand(dst, half []float64) {
	n0, H := p.n0, p.hn
	for r := 0; r < p.rest; r++ {
		out := dst[r*n0 : r*n0+n0]
		copy(out, half[r*H:r*H+H])
		mir := half[p.negRest[r]*H : p.negRest[r]*H+H]
		for k0 := H; k0 < n0; k0++ {
			out[k0] = mir[n0-k0]
		}
	}
}

// StructureFactor writes S(k) = <|phi_k|^2>/N, the mean over samples (each length N), for
// every momentum into dst (length N): the measured per-mode covariance of a translation-
// invariant ensemble, the propagator 1/(p^2 + m2) for the free theory. No samples give zeros.
func (p *Plan) StructureFactor(dst []float64, samples [][]float64) {
	for h := range p.pow {
		p.pow[h] = 0
	}
	for _, phi := range samples {
		p.ForwardHalf(p.spec, phi)
		for h, c := range p.spec {
			p.pow[h] += abs2(c)
		}
	}
	if len(samples) > 0 {
		inv := 1 / (float64(p.N) * float64(len(samples)))
		for h := range p.pow {
			p.pow[h] *= inv
		}
	}
	p.expand(dst, p.pow)
}

// WhiteNoise writes into dst (length HalfModes) the half spectrum of a field of independent
// N(0, 1) sites, drawn directly in momentum space with N normals from rng: the same law as
// ForwardHalf of such a field, without the transform. It is the noise of every Gaussian step
// that is diagonal in momentum.
func (p *Plan) WhiteNoise(dst []complex128, rng *rand.Rand) {
	p.whiteNoise(dst, rng.NormFloat64)
}

// whiteNoise is WhiteNoise with the normals from normal. A unitary transform maps white noise to
// white noise, so each pair (k, -k) is a complex normal with independent real and imaginary
// parts of variance N/2, and each self-conjugate momentum (2k = 0) a real normal of variance N.
func (p *Plan) whiteNoise(dst []complex128, normal func() float64) {
	n0, H := p.n0, p.hn
	sN, sH := math.Sqrt(float64(p.N)), math.Sqrt(0.5*float64(p.N))
	for r := 0; r < p.rest; r++ {
		row := dst[r*H : r*H+H]
		nr := p.negRest[r]
		// The plane n0 = 0 (and n0 = L0/2 for even L0) pairs row r with row -r.
		self := func(k0 int) {
			switch {
			case nr == r:
				row[k0] = complex(sN*normal(), 0)
			case r < nr:
				c := complex(sH*normal(), sH*normal())
				row[k0] = c
				dst[nr*H+k0] = cmplx.Conj(c)
			}
		}
		self(0)
		for k0 := 1; k0 < p.iend; k0++ {
			row[k0] = complex(sH*normal(), sH*normal())
		}
		if p.even && n0 > 1 {
			self(H - 1)
		}
	}
}
