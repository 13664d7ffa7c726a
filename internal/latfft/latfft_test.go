package latfft

import (
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"
)

// boxes covers cubes and boxes, even and odd sides, sides 1 and 2 (where k = -k), primes that
// take the generic radix, and every radix path (4, 2, 3 and mixed).
var boxes = [][]int{
	{1}, {2}, {3}, {4}, {5}, {7}, {8}, {12}, {25}, {30},
	{1, 1}, {2, 2}, {3, 3}, {4, 6}, {6, 4}, {5, 3}, {8, 8}, {16, 4}, {1, 4}, {4, 1}, {7, 2}, {9, 10}, {11, 2},
	{2, 3, 5}, {3, 4, 5}, {4, 4, 4}, {6, 1, 3}, {2, 2, 2, 2},
}

// coords returns the coordinates of site (or momentum) i of the box.
func coords(dims []int, i int) []int {
	c := make([]int, len(dims))
	for mu, l := range dims {
		c[mu] = i % l
		i /= l
	}
	return c
}

// naive returns sum_x exp(-+ i k.x) x_x for every k, by the defining O(N^2) sum with the phase
// reduced exactly (k.x mod L per axis) so that it is accurate to rounding.
func naive(dims []int, x []complex128, inverse bool) []complex128 {
	n := len(x)
	sg := -1.0
	if inverse {
		sg = 1
	}
	out := make([]complex128, n)
	for k := 0; k < n; k++ {
		kc := coords(dims, k)
		for s := 0; s < n; s++ {
			xc := coords(dims, s)
			ph := 0.0
			for mu, l := range dims {
				ph += float64((kc[mu]*xc[mu])%l) / float64(l)
			}
			out[k] += x[s] * cmplx.Exp(complex(0, sg*2*math.Pi*ph))
		}
	}
	return out
}

func realField(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

func toComplex(x []float64) []complex128 {
	c := make([]complex128, len(x))
	for i, v := range x {
		c[i] = complex(v, 0)
	}
	return c
}

// neg returns the index of -k.
func neg(dims []int, k int) int {
	c := coords(dims, k)
	idx, s := 0, 1
	for mu, l := range dims {
		idx += ((l - c[mu]) % l) * s
		s *= l
	}
	return idx
}

// halfIndex returns the half-spectrum index of k, or -1 when k is outside the half.
func halfIndex(dims []int, k int) int {
	H := dims[0]/2 + 1
	k0 := k % dims[0]
	if k0 >= H {
		return -1
	}
	return k0 + H*(k/dims[0])
}

const tol = 1e-12

// TestLineAgainstNaive checks the batched 1-D transform for every length up to 40.
func TestLineAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for n := 1; n <= 40; n++ {
		for _, m := range []int{1, 3} {
			f := newLine(n)
			x := make([]complex128, n*m)
			for i := range x {
				x[i] = complex(rng.NormFloat64(), rng.NormFloat64())
			}
			for _, inv := range []bool{false, true} {
				want := make([]complex128, n*m)
				for c := 0; c < m; c++ {
					col := make([]complex128, n)
					for i := range col {
						col[i] = x[i*m+c]
					}
					got := naive([]int{n}, col, inv)
					for i := range got {
						want[i*m+c] = got[i]
					}
				}
				y := append([]complex128(nil), x...)
				f.run(y, make([]complex128, n*m), m, inv)
				for i := range y {
					if cmplx.Abs(y[i]-want[i]) > tol {
						t.Fatalf("n=%d m=%d inverse=%v: element %d = %v, want %v (radices %v)", n, m, inv, i, y[i], want[i], f.radices)
					}
				}
			}
		}
	}
}

// TestTransformsAgainstNaive checks Forward, ForwardHalf, Inverse and InverseHalf on every box
// against the defining sums, including inputs that are not spectra of real fields.
func TestTransformsAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, dims := range boxes {
		p, err := NewBoxPlan(dims)
		if err != nil {
			t.Fatal(err)
		}
		n := p.N
		x := realField(rng, n)
		want := naive(dims, toComplex(x), false)
		full := make([]complex128, n)
		p.Forward(full, x)
		half := make([]complex128, p.HalfModes())
		p.ForwardHalf(half, x)
		for k := range want {
			if cmplx.Abs(full[k]-want[k]) > tol {
				t.Fatalf("%v: Forward mode %d = %v, want %v", dims, k, full[k], want[k])
			}
			if h := halfIndex(dims, k); h >= 0 && cmplx.Abs(half[h]-want[k]) > tol {
				t.Fatalf("%v: ForwardHalf mode %d = %v, want %v", dims, k, half[h], want[k])
			}
		}
		back := make([]float64, n)
		p.Inverse(back, full)
		for i := range x {
			if math.Abs(back[i]-x[i]) > tol {
				t.Fatalf("%v: Inverse(Forward(x)) site %d = %v, want %v", dims, i, back[i], x[i])
			}
		}
		p.InverseHalf(back, half)
		for i := range x {
			if math.Abs(back[i]-x[i]) > tol {
				t.Fatalf("%v: InverseHalf(ForwardHalf(x)) site %d = %v, want %v", dims, i, back[i], x[i])
			}
		}
		// Inverse of any complex input is the real part of the inverse sum.
		z := make([]complex128, n)
		for k := range z {
			z[k] = complex(rng.NormFloat64(), rng.NormFloat64())
		}
		zc := append([]complex128(nil), z...)
		inv := naive(dims, z, true)
		p.Inverse(back, z)
		for i := range back {
			if w := real(inv[i]) / float64(n); math.Abs(back[i]-w) > tol {
				t.Fatalf("%v: Inverse of a complex input, site %d = %v, want %v", dims, i, back[i], w)
			}
			if z[i] != zc[i] {
				t.Fatalf("%v: Inverse modified its input", dims)
			}
		}
		// InverseHalf of any half input is the real part of the inverse of its Hermitian
		// extension.
		hz := make([]complex128, p.HalfModes())
		for h := range hz {
			hz[h] = complex(rng.NormFloat64(), rng.NormFloat64())
		}
		ext := make([]complex128, n)
		for k := range ext {
			if h := halfIndex(dims, k); h >= 0 {
				ext[k] = hz[h]
			} else {
				ext[k] = cmplx.Conj(hz[halfIndex(dims, neg(dims, k))])
			}
		}
		inv = naive(dims, ext, true)
		p.InverseHalf(back, hz)
		for i := range back {
			if w := real(inv[i]) / float64(n); math.Abs(back[i]-w) > tol {
				t.Fatalf("%v: InverseHalf of a general input, site %d = %v, want %v", dims, i, back[i], w)
			}
		}
	}
}

// TestKernelOperations checks Convolve, ConvolveHalf, ConvolveMany, QuadForm, Norm2, Dot, Modes
// and StructureFactor against the dense circulant K(x-y) = (1/N) sum_k c_k cos(k.(x-y)), for
// even kernels and for one that is not even (whose even part is what a real field sees).
func TestKernelOperations(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, dims := range boxes {
		p, _ := NewBoxPlan(dims)
		n := p.N
		even, odd := make([]float64, n), make([]float64, n)
		for k := range even {
			s := 0.0
			for mu, c := range coords(dims, k) {
				h := math.Sin(math.Pi * float64(c) / float64(dims[mu]))
				s += 4 * h * h
			}
			even[k] = math.Sqrt(s + 0.3)
			odd[k] = rng.NormFloat64()
		}
		src := realField(rng, n)
		src2 := realField(rng, n)
		for _, kern := range [][]float64{even, odd} {
			sym := make([]float64, n)
			for k := range sym {
				sym[k] = 0.5 * (kern[k] + kern[neg(dims, k)])
			}
			dense := func(x []float64) ([]float64, float64) {
				y, q := make([]float64, n), 0.0
				for a := 0; a < n; a++ {
					ca := coords(dims, a)
					for b := 0; b < n; b++ {
						cb := coords(dims, b)
						kab := 0.0
						for k := 0; k < n; k++ {
							ph := 0.0
							for mu, c := range coords(dims, k) {
								ph += float64((c*((ca[mu]-cb[mu]+dims[mu])%dims[mu]))%dims[mu]) / float64(dims[mu])
							}
							kab += sym[k] * math.Cos(2*math.Pi*ph)
						}
						y[a] += kab / float64(n) * x[b]
					}
					q += x[a] * y[a]
				}
				return y, q
			}
			want, quad := dense(src)
			want2, _ := dense(src2)
			check := func(name string, got, want []float64) {
				t.Helper()
				for i := range got {
					if math.Abs(got[i]-want[i]) > tol {
						t.Fatalf("%v: %s site %d = %v, want %v", dims, name, i, got[i], want[i])
					}
				}
			}
			dst := make([]float64, n)
			p.Convolve(dst, src, kern)
			check("Convolve", dst, want)
			inPlace := append([]float64(nil), src...)
			p.Convolve(inPlace, inPlace, kern)
			check("Convolve in place", inPlace, want)
			hk := p.HalfKernel(nil, kern)
			p.ConvolveHalf(dst, src, hk)
			check("ConvolveHalf", dst, want)
			many := [][]float64{make([]float64, n), make([]float64, n)}
			p.ConvolveMany(many, src2, [][]float64{kern, kern})
			check("ConvolveMany[0]", many[0], want2)
			check("ConvolveMany[1]", many[1], want2)
			if q := p.QuadForm(src, kern); math.Abs(q-quad) > 1e-10 {
				t.Fatalf("%v: QuadForm %v, want %v", dims, q, quad)
			}
			xk := make([]complex128, p.HalfModes())
			p.ForwardHalf(xk, src)
			if q := p.Norm2(xk, hk); math.Abs(q-quad) > 1e-10 {
				t.Fatalf("%v: Norm2 %v, want %v", dims, q, quad)
			}
			modes := make([]float64, n)
			p.Modes(modes, src)
			s := 0.0
			for k := range modes {
				s += kern[k] * modes[k]
			}
			if math.Abs(s-quad) > 1e-10 {
				t.Fatalf("%v: Modes . kernel = %v, want %v", dims, s, quad)
			}
		}
		// Dot is the real-space dot product; Modes and StructureFactor the per-mode power.
		a, b := make([]complex128, p.HalfModes()), make([]complex128, p.HalfModes())
		p.ForwardHalf(a, src)
		p.ForwardHalf(b, src2)
		dot := 0.0
		for i := range src {
			dot += src[i] * src2[i]
		}
		if d := p.Dot(a, b); math.Abs(d-dot) > 1e-10 {
			t.Fatalf("%v: Dot %v, want %v", dims, d, dot)
		}
		full := naive(dims, toComplex(src), false)
		full2 := naive(dims, toComplex(src2), false)
		modes, sf := make([]float64, n), make([]float64, n)
		p.Modes(modes, src)
		p.StructureFactor(sf, [][]float64{src, src2})
		for k := range full {
			m := cmplx.Abs(full[k]) * cmplx.Abs(full[k]) / float64(n)
			m2 := cmplx.Abs(full2[k]) * cmplx.Abs(full2[k]) / float64(n)
			if math.Abs(modes[k]-m) > 1e-10 || math.Abs(sf[k]-(m+m2)/2) > 1e-10 {
				t.Fatalf("%v: mode %d: Modes %v want %v, StructureFactor %v want %v", dims, k, modes[k], m, sf[k], (m+m2)/2)
			}
		}
		var mult float64
		for _, m := range p.Multiplicity() {
			mult += m
		}
		if mult != float64(n) {
			t.Fatalf("%v: multiplicities sum to %v, want %d", dims, mult, n)
		}
	}
}

// TestWhiteNoiseIsWhite: the field behind WhiteNoise is a linear map of the N normals it draws.
// Driving it with unit vectors gives that map's columns; it must be orthogonal (M M^T = I to
// rounding), which makes the field exactly N(0, I), the law of ForwardHalf of white noise.
func TestWhiteNoiseIsWhite(t *testing.T) {
	for _, dims := range boxes {
		p, _ := NewBoxPlan(dims)
		n := p.N
		cols := make([][]float64, 0, n)
		for j := 0; ; j++ {
			calls := 0
			unit := func() float64 {
				calls++
				if calls-1 == j {
					return 1
				}
				return 0
			}
			xk := make([]complex128, p.HalfModes())
			p.whiteNoise(xk, unit)
			if calls != n {
				t.Fatalf("%v: WhiteNoise drew %d normals, want N = %d", dims, calls, n)
			}
			if j == n {
				break
			}
			x := make([]float64, n)
			p.InverseHalf(x, xk)
			cols = append(cols, x)
		}
		for a := 0; a < n; a++ {
			for b := 0; b < n; b++ {
				s := 0.0
				for j := range cols {
					s += cols[j][a] * cols[j][b]
				}
				want := 0.0
				if a == b {
					want = 1
				}
				if math.Abs(s-want) > tol {
					t.Fatalf("%v: (M M^T)[%d][%d] = %v, want %v", dims, a, b, s, want)
				}
			}
		}
		// And the noise must be a half spectrum of a real field: InverseHalf then ForwardHalf
		// gives it back.
		xk := make([]complex128, p.HalfModes())
		p.WhiteNoise(xk, rand.New(rand.NewPCG(5, 5)))
		x := make([]float64, n)
		p.InverseHalf(x, xk)
		yk := make([]complex128, p.HalfModes())
		p.ForwardHalf(yk, x)
		for h := range xk {
			if cmplx.Abs(xk[h]-yk[h]) > 1e-10 {
				t.Fatalf("%v: white noise mode %d is not Hermitian: %v vs %v", dims, h, xk[h], yk[h])
			}
		}
	}
}

func TestNoAllocations(t *testing.T) {
	p := NewPlan(8, 2)
	rng := rand.New(rand.NewPCG(6, 6))
	x, y := realField(rng, p.N), make([]float64, p.N)
	kern := realField(rng, p.N)
	hk := p.HalfKernel(nil, kern)
	full, half := make([]complex128, p.N), make([]complex128, p.HalfModes())
	many := [][]float64{make([]float64, p.N)}
	kerns := [][]float64{kern}
	for name, f := range map[string]func(){
		"Forward":         func() { p.Forward(full, x) },
		"Inverse":         func() { p.Inverse(y, full) },
		"ForwardHalf":     func() { p.ForwardHalf(half, x) },
		"InverseHalf":     func() { p.InverseHalf(y, half) },
		"Convolve":        func() { p.Convolve(y, x, kern) },
		"ConvolveHalf":    func() { p.ConvolveHalf(y, x, hk) },
		"ConvolveMany":    func() { p.ConvolveMany(many, x, kerns) },
		"QuadForm":        func() { p.QuadForm(x, kern) },
		"Modes":           func() { p.Modes(y, x) },
		"StructureFactor": func() { p.StructureFactor(y, many) },
		"WhiteNoise":      func() { p.WhiteNoise(half, rng) },
	} {
		if a := testing.AllocsPerRun(10, f); a != 0 {
			t.Errorf("%s allocates %v times", name, a)
		}
	}
}

func TestNewBoxPlanRejectsBadBoxes(t *testing.T) {
	for _, dims := range [][]int{nil, {0}, {4, -1}, {1 << 16, 1 << 16}} {
		if _, err := NewBoxPlan(dims); err == nil {
			t.Errorf("NewBoxPlan(%v) accepted", dims)
		}
	}
}

// benchBoxes are the lattices of the benchmarks: the VMC sizes and a 16 x 32^2 path integral.
var benchBoxes = [][]int{{8, 8}, {16, 16}, {32, 32}, {16, 32, 32}}

func boxName(dims []int) string {
	s := ""
	for i, l := range dims {
		if i > 0 {
			s += "x"
		}
		s += fmt.Sprint(l)
	}
	return s
}

// benchBoxesRun runs op on a plan and a random field for every benchmark lattice.
func benchBoxesRun(b *testing.B, op func(p *Plan, src []float64)) {
	for _, dims := range benchBoxes {
		b.Run(boxName(dims), func(b *testing.B) {
			p, _ := NewBoxPlan(dims)
			src := realField(rand.New(rand.NewPCG(1, 1)), p.N)
			op(p, src) // allocate nothing inside the loop
			b.ReportAllocs()
			for b.Loop() {
				op(p, src)
			}
		})
	}
}

// BenchmarkForward is one full-spectrum transform of a real field.
func BenchmarkForward(b *testing.B) {
	var dst []complex128
	benchBoxesRun(b, func(p *Plan, src []float64) {
		if len(dst) != p.N {
			dst = make([]complex128, p.N)
		}
		p.Forward(dst, src)
	})
}

// BenchmarkConvolve is one circulant product (a forward and an inverse transform).
func BenchmarkConvolve(b *testing.B) {
	var kern []float64
	benchBoxesRun(b, func(p *Plan, src []float64) {
		if len(kern) != p.N {
			kern = make([]float64, p.N)
			for i := range kern {
				kern[i] = 1
			}
		}
		p.Convolve(src, src, kern)
	})
}

// BenchmarkForwardHalf is the half-spectrum transform the samplers use.
func BenchmarkForwardHalf(b *testing.B) {
	var dst []complex128
	benchBoxesRun(b, func(p *Plan, src []float64) {
		if len(dst) != p.HalfModes() {
			dst = make([]complex128, p.HalfModes())
		}
		p.ForwardHalf(dst, src)
	})
}

// gonumHalf is ForwardHalf done with gonum's FFTs, the alternative to this package's own
// transform: gonum's real FFT (FFTPACK) along axis 0, then its complex FFT along the other
// axes with a gather and a scatter per line. BenchmarkForwardHalfGonum measures it against
// BenchmarkForwardHalf; TestGonumHalfAgrees keeps the comparison honest.
type gonumHalf struct {
	dims  []int
	rfft  *fourier.FFT
	cffts []*fourier.CmplxFFT
	coef  []complex128
	line  []complex128
}

func newGonumHalf(dims []int) *gonumHalf {
	g := &gonumHalf{dims: dims, rfft: fourier.NewFFT(dims[0]), coef: make([]complex128, dims[0]/2+1)}
	maxL := 1
	for _, l := range dims[1:] {
		g.cffts = append(g.cffts, fourier.NewCmplxFFT(l))
		maxL = max(maxL, l)
	}
	g.line = make([]complex128, maxL)
	return g
}

func (g *gonumHalf) forward(dst []complex128, src []float64) {
	n0, H := g.dims[0], g.dims[0]/2+1
	rest := len(src) / n0
	for r := 0; r < rest; r++ {
		g.rfft.Coefficients(g.coef, src[r*n0:r*n0+n0])
		copy(dst[r*H:r*H+H], g.coef)
	}
	stride := H
	for mu, L := range g.dims[1:] {
		block := stride * L
		line := g.line[:L]
		for base := 0; base < len(dst); base += block {
			for off := 0; off < stride; off++ {
				for i := range line {
					line[i] = dst[base+off+i*stride]
				}
				g.cffts[mu].Coefficients(line, line)
				for i := range line {
					dst[base+off+i*stride] = line[i]
				}
			}
		}
		stride = block
	}
}

func TestGonumHalfAgrees(t *testing.T) {
	for _, dims := range benchBoxes {
		p, _ := NewBoxPlan(dims)
		x := realField(rand.New(rand.NewPCG(9, 9)), p.N)
		a, b := make([]complex128, p.HalfModes()), make([]complex128, p.HalfModes())
		p.ForwardHalf(a, x)
		newGonumHalf(dims).forward(b, x)
		for h := range a {
			if cmplx.Abs(a[h]-b[h]) > 1e-9 {
				t.Fatalf("%v: mode %d: %v here, %v by gonum", dims, h, a[h], b[h])
			}
		}
	}
}

// BenchmarkForwardHalfGonum is BenchmarkForwardHalf done with gonum's FFTs (gonumHalf).
func BenchmarkForwardHalfGonum(b *testing.B) {
	var g *gonumHalf
	var dst []complex128
	benchBoxesRun(b, func(p *Plan, src []float64) {
		if len(dst) != p.HalfModes() {
			g, dst = newGonumHalf(p.Dims()), make([]complex128, p.HalfModes())
		}
		g.forward(dst, src)
	})
}

// Complex against the direct sum, on cubes and boxes of odd and even sides, both ways.
func TestComplexAgainstDirectSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, dims := range [][]int{{1}, {5}, {8}, {4, 4}, {3, 5}, {6, 2, 3}, {1, 4}} {
		p, err := NewBoxPlan(dims)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]complex128, p.N)
		for i := range x {
			x[i] = complex(rng.NormFloat64(), rng.NormFloat64())
		}
		for _, inverse := range []bool{false, true} {
			want := directComplex(dims, x, inverse)
			got := append([]complex128(nil), x...)
			p.Complex(got, inverse)
			for k := range got {
				if cmplx.Abs(got[k]-want[k]) > 1e-10*float64(p.N) {
					t.Fatalf("dims %v inverse %v: mode %d is %v, direct sum %v", dims, inverse, k, got[k], want[k])
				}
			}
		}
	}
}

func directComplex(dims []int, x []complex128, inverse bool) []complex128 {
	n := len(x)
	sign := -1.0
	if inverse {
		sign = 1
	}
	coord := func(i int) []int {
		c := make([]int, len(dims))
		for mu, l := range dims {
			c[mu] = i % l
			i /= l
		}
		return c
	}
	out := make([]complex128, n)
	for k := 0; k < n; k++ {
		kc := coord(k)
		for j := 0; j < n; j++ {
			jc := coord(j)
			ph := 0.0
			for mu, l := range dims {
				ph += 2 * math.Pi * float64(kc[mu]*jc[mu]) / float64(l)
			}
			out[k] += x[j] * cmplx.Exp(complex(0, sign*ph))
		}
	}
	return out
}
