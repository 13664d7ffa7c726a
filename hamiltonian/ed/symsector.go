package ed

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
)

// A basis state is stored as its code c = sum_x n_x n^x (site 0 the fastest digit). The
// representative of an orbit is its smallest code, which is also the lexicographically smallest
// digit string read from the last site, so the representatives with all digits below n-2 are
// those of the smaller basis.
//
// The matrix of H between orbit states follows from H commuting with G. For a representative r
// of R and x = sum_R' x_R' |R'>,
//
//	<R|H|x> = |O_R|^(1/2) <r|H|x> = |O_R|^(1/2) sum_s <r|H|s> x_{rep(s)} |O_{rep(s)}|^(-1/2),
//
// so one row needs H applied to the single state r (about 4 N + 4 bonds terms), and for each
// resulting state s the index of its orbit. That index comes from a table over all codes of the
// sector, index[c >> 1]: on a parity sector c -> c >> 1 is one-to-one (for odd n the parity is
// c mod 2; for even n the codes 2j and 2j+1 differ only in the first digit, by one). The table
// is the memory cost of the method, 4 bytes per state of the Z2 sector; the vectors are |G|
// times shorter than the Z2 sector's.

// symSector is the zero-momentum, fully symmetric sector of one Z2 parity.
type symSector struct {
	n, sites, parity int
	pw               []int64  // n^x
	reps             []uint64 // code of each representative, increasing
	digits           []uint8  // digits[i*sites+x]: occupation of site x in representative i
	class            []uint8  // orbit-size class of each representative
	sqrtSize         []float64
	invSqrtSize      []float64
	sizes            []int   // orbit size of each class
	index            []int32 // index[c >> 1]: the orbit of code c
}

// symSectorBytes is the memory of a symSector of dim orbits with n levels on sites sites,
// before it is built.
func symSectorBytes(n, sites int, dim int64) int64 {
	full, _ := powInt(n, sites)
	return 4*int64((full+1)/2) + (9+int64(sites))*dim + 8*int64(sites)
}

// newSymSector enumerates the orbits of the parity-s states under g into buf, on the workers
// of pl. A code is a representative when no symmetry maps it to a smaller code, comparing
// digit strings from the last site down. Since the group moves any site to the last one, a
// representative holds its smallest digit t on the last site, so only the digit strings with
// all digits >= t are visited (about n^N / N of them), and one that is not a representative
// usually loses to one of the first few symmetries. The strings are scanned in chunks (a fixed
// pair of top digits each) twice, first to count the representatives of each chunk and then to
// write them in order; the images of every representative are then marked in the table. dim
// is the exact number of orbits (sectorDim).
func newSymSector(ctx context.Context, g *spaceGroup, n, s int, dim int64, buf *symBuffers, pl *pool) (*symSector, error) {
	full, _ := powInt(n, g.sites)
	sec := &symSector{n: n, sites: g.sites, parity: s, pw: make([]int64, g.sites)}
	for x := range sec.pw {
		p, _ := powInt(n, x)
		sec.pw[x] = int64(p)
	}
	// Orbit sizes are |G|/|Stab|, so the classes are the divisors of |G|.
	order := g.order()
	stabClass := make([]uint8, order+1)
	for k := 1; k <= order; k++ {
		if order%k != 0 {
			continue
		}
		if len(sec.sizes) > math.MaxUint8 {
			return nil, fmt.Errorf("ed: more than %d orbit sizes", math.MaxUint8+1)
		}
		stabClass[k] = uint8(len(sec.sizes))
		sec.sizes = append(sec.sizes, order/k)
		sec.sqrtSize = append(sec.sqrtSize, math.Sqrt(float64(order/k)))
		sec.invSqrtSize = append(sec.invSqrtSize, 1/math.Sqrt(float64(order/k)))
	}
	sc := orbitScanner{n: n, s: s, pw: sec.pw, inv: g.inverses()}
	nChunks := sc.chunks()
	counts := make([]int64, nChunks+1)
	var next atomic.Int64
	var failed atomic.Bool
	scan := func(write bool) func(w int) {
		return func(w int) {
			digits := make([]int, g.sites)
			for {
				k := int(next.Add(1) - 1)
				if k >= nChunks || failed.Load() {
					return
				}
				if ctx.Err() != nil {
					failed.Store(true)
					return
				}
				id := counts[k]
				sc.scan(k, digits, func(c int64, d []int, stab int) {
					if write {
						sec.reps[id] = uint64(c)
						for x, v := range d {
							sec.digits[id*int64(g.sites)+int64(x)] = uint8(v)
						}
						sec.class[id] = stabClass[stab]
					}
					id++
				})
				if !write {
					counts[k] = id
				}
			}
		}
	}
	pl.run(scan(false))
	if failed.Load() {
		return nil, ctx.Err()
	}
	// counts[k] becomes the number of representatives before chunk k.
	total := int64(0)
	for k := 0; k < nChunks; k++ {
		total, counts[k] = total+counts[k], total
	}
	if total != dim {
		return nil, fmt.Errorf("ed: %d orbits, Burnside counts %d (a bug)", total, dim)
	}
	sec.reps = buf.reps[:dim]
	sec.digits = buf.digits[:dim*int64(g.sites)]
	sec.class = buf.class[:dim]
	next.Store(0)
	pl.run(scan(true))
	if failed.Load() {
		return nil, ctx.Err()
	}

	// Every state of the sector lies in one orbit, so every slot of the table is written.
	sec.index = buf.index[:(full+1)/2]
	const chunkReps = 1 << 12
	next.Store(0)
	pl.run(func(w int) {
		for {
			r0 := next.Add(chunkReps) - chunkReps
			if r0 >= dim || failed.Load() {
				return
			}
			if ctx.Err() != nil {
				failed.Store(true)
				return
			}
			for i := r0; i < min(r0+chunkReps, dim); i++ {
				d := sec.digits[i*int64(g.sites) : (i+1)*int64(g.sites)]
				for _, p := range g.perms {
					var img int64
					for x, v := range d {
						img += int64(v) * sec.pw[p[x]]
					}
					sec.index[img>>1] = int32(i)
				}
			}
		}
	})
	if failed.Load() {
		return nil, ctx.Err()
	}
	// For odd n and s = 1 the last slot belongs to no state of the sector. The matvec reads
	// it only for a term of value zero, so any valid index will do.
	if n%2 == 1 && s == 1 && full%2 == 1 {
		sec.index[len(sec.index)-1] = 0
	}
	return sec, nil
}

// orbitScanner finds the representatives of parity s. inv[g][y] is the site that g moves to y,
// so the image of a digit string d under g has digit d[inv[g][y]] at site y.
type orbitScanner struct {
	n, s int
	pw   []int64
	inv  [][]int32
}

// chunks is the number of chunks: one per top digit t and next digit u >= t (one per t on a
// single site).
func (o *orbitScanner) chunks() int {
	if len(o.pw) == 1 {
		return o.n
	}
	return o.n * (o.n + 1) / 2
}

// scan calls emit, in increasing order of the code, for every representative of chunk k with
// its code, digits and the number of symmetries that fix it. The chunks are in increasing
// order of their codes.
func (o *orbitScanner) scan(k int, digits []int, emit func(c int64, d []int, stab int)) {
	n, sites := o.n, len(o.pw)
	top := sites - 1
	// Chunk k is the k-th pair (t, u), t <= u, in lexicographic order.
	t, u := k, -1
	if sites > 1 {
		for t = 0; k >= n-t; t++ {
			k -= n - t
		}
		u = t + k
	}
	lower := max(sites-2, 0)
	for x := range digits {
		digits[x] = t
	}
	if sites > 1 {
		digits[top-1] = u
	}
	var code int64
	par := 0
	for x, d := range digits {
		code += int64(d) * o.pw[x]
		par += d
	}
	par %= 2
	for {
		if par == o.s && o.isRepresentative(digits) {
			emit(code, digits, o.stabilizer(digits))
		}
		x := 0
		for ; x < lower; x++ {
			digits[x]++
			code += o.pw[x]
			par ^= 1
			if digits[x] < n {
				break
			}
			// From n back to t: the digit changes by -(n - t).
			code -= int64(n-t) * o.pw[x]
			par ^= (n - t) & 1
			digits[x] = t
		}
		if x == lower {
			return
		}
	}
}

// isRepresentative reports whether no symmetry maps the digit string to a smaller one.
func (o *orbitScanner) isRepresentative(d []int) bool {
	top := len(d) - 1
	for _, iv := range o.inv {
		for y := top; y >= 0; y-- {
			a, b := d[iv[y]], d[y]
			if a != b {
				if a < b {
					return false
				}
				break
			}
		}
	}
	return true
}

// stabilizer counts the symmetries that leave the digit string unchanged.
func (o *orbitScanner) stabilizer(d []int) int {
	stab := 0
	for _, iv := range o.inv {
		same := true
		for y := len(d) - 1; y >= 0; y-- {
			if d[iv[y]] != d[y] {
				same = false
				break
			}
		}
		if same {
			stab++
		}
	}
	return stab
}

func decode(c int64, n int, digits []int) {
	for x := range digits {
		digits[x] = int(c % int64(n))
		c /= int64(n)
	}
}

func (s *symSector) dim() int { return len(s.reps) }

// onsiteWidth is the number of off-diagonal elements in a row of h: phi^2 and pi^2 connect
// levels two apart, phi^4 four apart.
const onsiteWidth = 4

// symOperator is H on a symSector, applied row by row. Every row runs the same branch-free
// loops: a term that would leave the basis (a level below 0 or above n-1) has the value 0 and
// the code shift 0, so it reads the row's own amplitude and adds nothing. Branches on the
// digits would be mispredicted for about one digit in n/2.
type symOperator struct {
	sec *symSector
	n   int
	// diag[x*n + d] = h_x[d][d]; onShift and onVal hold, at (x*n + d)*onsiteWidth + t, the
	// code shift (k - d) n^x and the value h_x[d][k] of the off-diagonal elements of row d.
	diag    []float64
	onShift []int64
	onVal   []float64
	bonds   []symBond
	// up[d] = phi[d][d+1] and upOK[d] = 1 when d+1 < n (else both 0); dn and dnOK for d-1.
	up, dn     []float64
	upOK, dnOK []int64
}

// symBond is a bond -c phi_x phi_y with the code weights of its sites.
type symBond struct {
	x, y   int
	px, py int64
	c      float64
}

// maxSymLevels bounds n so that a digit fits a byte.
const maxSymLevels = 255

// newSymOperator builds the row tables from the on-site matrices h[x] and phi (n*n each).
func newSymOperator(sec *symSector, g geometry, h [][]float64, phi []float64) *symOperator {
	n := sec.n
	op := &symOperator{sec: sec, n: n, diag: make([]float64, sec.sites*n),
		onShift: make([]int64, sec.sites*n*onsiteWidth), onVal: make([]float64, sec.sites*n*onsiteWidth),
		up: make([]float64, n), dn: make([]float64, n), upOK: make([]int64, n), dnOK: make([]int64, n)}
	for x := 0; x < sec.sites; x++ {
		hx := h[x]
		for d := 0; d < n; d++ {
			op.diag[x*n+d] = hx[d*n+d]
			t := (x*n + d) * onsiteWidth
			for k := 0; k < n; k++ {
				if v := hx[d*n+k]; k != d && v != 0 {
					if t == (x*n+d+1)*onsiteWidth {
						panic("ed: more than onsiteWidth off-diagonal elements in a row of h") // a bug
					}
					op.onShift[t], op.onVal[t] = int64(k-d)*sec.pw[x], v
					t++
				}
			}
		}
	}
	for d := 0; d < n; d++ {
		if d+1 < n {
			op.up[d], op.upOK[d] = phi[d*n+d+1], 1
		}
		if d > 0 {
			op.dn[d], op.dnOK[d] = phi[d*n+d-1], 1
		}
	}
	for _, b := range g.bonds {
		op.bonds = append(op.bonds, symBond{x: b.x, y: b.y, px: sec.pw[b.x], py: sec.pw[b.y], c: b.c})
	}
	return op
}

// scale sets u = x / |O|^(1/2) on rows r0 <= i < r1: the amplitude of each basis state.
func (op *symOperator) scale(u, x []float64, r0, r1 int) {
	cl, inv := op.sec.class[r0:r1], op.sec.invSqrtSize
	for i, c := range cl {
		u[r0+i] = x[r0+i] * inv[c]
	}
}

// apply sets dst = H x on rows r0 <= i < r1, given the amplitudes u of scale.
func (op *symOperator) apply(dst, u []float64, r0, r1 int) {
	n := op.n
	sec := op.sec
	sites := sec.sites
	index := sec.index
	reps, class, sq := sec.reps, sec.class, sec.sqrtSize
	up, dn, upOK, dnOK := op.up, op.dn, op.upOK, op.dnOK
	onShift, onVal, diagTab := op.onShift, op.onVal, op.diag
	for i := r0; i < r1; i++ {
		c := int64(reps[i])
		d := sec.digits[i*sites : i*sites+sites]
		diag := 0.0
		acc := 0.0
		for x, dx := range d {
			k := x*n + int(dx)
			diag += diagTab[k]
			sh := onShift[k*onsiteWidth : k*onsiteWidth+onsiteWidth]
			v := onVal[k*onsiteWidth : k*onsiteWidth+onsiteWidth]
			acc += v[0]*u[index[(c+sh[0])>>1]] + v[1]*u[index[(c+sh[1])>>1]] +
				v[2]*u[index[(c+sh[2])>>1]] + v[3]*u[index[(c+sh[3])>>1]]
		}
		acc += diag * u[i]
		for _, b := range op.bonds {
			dx, dy := d[b.x], d[b.y]
			xu, xd := c+upOK[dx]*b.px, c-dnOK[dx]*b.px
			yu, yd := upOK[dy]*b.py, dnOK[dy]*b.py
			s := up[dx]*(up[dy]*u[index[(xu+yu)>>1]]+dn[dy]*u[index[(xu-yd)>>1]]) +
				dn[dx]*(up[dy]*u[index[(xd+yu)>>1]]+dn[dy]*u[index[(xd-yd)>>1]])
			acc -= b.c * s
		}
		dst[i] = sq[class[i]] * acc
	}
}
