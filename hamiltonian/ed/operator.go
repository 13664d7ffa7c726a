package ed

import (
	"math"

	"gonum.org/v1/gonum/blas/gonum"

	"vqs/hamiltonian"
)

// The tensor-product space is split into the low sites A = {0..nA-1} (fastest digits) and the
// high sites B. A basis state is a pair (a, b), and a Z2 sector s keeps the pairs with
// parity(a) XOR parity(b) = s. Ordered by b first, the sector vector is a sequence of blocks,
// one per b, each holding the A states of parity s XOR parity(b) in increasing order. Every term
// of H is then a small sparse matrix on A times a small sparse matrix on B:
//
//	H = H_A (x) 1 + 1 (x) H_B + sum_{y in B} Q_y (x) phi_y,  Q_y = -sum_{x in A} c_xy phi_x,
//
// so the matvec walks the output blocks in order and only ever gathers whole input blocks:
// H_A is a sparse product inside a block (which sits in L1/L2), H_B adds scaled copies of other
// blocks, and each cross bond applies Q_y to a neighbouring block. No index is decoded per entry.

// ell is a sparse matrix with a fixed number of entries per row (ELLPACK), padded with zero
// values at column 0. Within a block every row then runs the same short inner loop, whose
// trip count the branch predictor learns, where CSR's varying row lengths cost a
// misprediction per row.
type ell struct {
	width int
	col   []int32
	val   []float64
}

func (m *ell) bytes() int64 { return int64(4*cap(m.col) + 8*cap(m.val)) }

// ellBuilder fills an ell whose storage is allocated up front, so that building never holds
// more than the final tables (and the memory estimate is exact).
type ellBuilder struct {
	m   ell
	row int // entries in the current row
}

func newELLBuilder(rows, width int) ellBuilder {
	return ellBuilder{m: ell{
		width: width,
		col:   make([]int32, 0, rows*width),
		val:   make([]float64, 0, rows*width),
	}}
}

func (b *ellBuilder) add(col int32, v float64) {
	if b.row == b.m.width {
		panic("ed: ell row overflow") // a bug in the entry bound, not a user error
	}
	b.m.col = append(b.m.col, col)
	b.m.val = append(b.m.val, v)
	b.row++
}

func (b *ellBuilder) endRow() {
	for ; b.row < b.m.width; b.row++ {
		b.m.col = append(b.m.col, 0)
		b.m.val = append(b.m.val, 0)
	}
	b.row = 0
}

func (b *ellBuilder) build() ell { return b.m }

// csr is a compressed sparse row matrix.
type csr struct {
	rowPtr []int
	col    []int32
	val    []float64
}

func (m *csr) bytes() int64 {
	return int64(8*cap(m.rowPtr) + 4*cap(m.col) + 8*cap(m.val))
}

// bond is a coupling -c phi_x phi_y between two distinct sites (x < y); c counts how often the
// pair occurs among the forward bonds (twice on L = 2).
type bond struct {
	x, y int
	c    float64
}

// geometry is what the Hamiltonian's structure needs from the model: per-site on-site
// matrices depend only on how many self-bonds the site has (L = 1), and the distinct pairs.
type geometry struct {
	sites int
	self  []int  // number of forward bonds x -> x at each site (L = 1 only)
	bonds []bond // distinct pairs x < y with multiplicity
}

func newGeometry(m *hamiltonian.Model) geometry {
	nb := m.Neighbors()
	g := geometry{sites: m.N, self: make([]int, m.N)}
	idx := map[[2]int]int{}
	for x := 0; x < m.N; x++ {
		for mu := 0; mu < m.Dim; mu++ {
			y := nb[x*m.Dim+mu]
			if y == x {
				// The bond x-x is -phi_x^2, an on-site operator.
				g.self[x]++
				continue
			}
			key := [2]int{min(x, y), max(x, y)}
			if i, ok := idx[key]; ok {
				g.bonds[i].c++
				continue
			}
			idx[key] = len(g.bonds)
			g.bonds = append(g.bonds, bond{x: key[0], y: key[1], c: 1})
		}
	}
	return g
}

// layout holds the sizes that follow from n levels per site and the A/B split.
type layout struct {
	n, sites   int
	nA, nB     int    // number of sites in A and B
	sizeA      int    // n^nA
	sizeB      int    // n^nB
	cntA, cntB [2]int // states of A (B) with even and odd digit sum
	dim        [2]int64
}

// maxBlockStates bounds n^nA so that a block of the sector vector stays in the L2 cache.
const maxBlockStates = 8192

// maxSide bounds n^nA and n^nB so that int32 column indices suffice.
const maxSide = math.MaxInt32

// newLayout chooses the split and counts states. It returns ok = false when a count would
// overflow the index types, before anything is allocated.
func newLayout(n, sites int) (layout, bool) {
	// A takes as many sites as keep its blocks cache-sized, but leaves B at least one site so
	// that the blocks can be shared among workers.
	nA := 1
	for k := 2; k <= sites-1; k++ {
		p, ok := powInt(n, k)
		if !ok || p > maxBlockStates {
			break
		}
		nA = k
	}
	return newLayoutSplit(n, sites, nA)
}

// newLayoutSplit is newLayout with nA (1 <= nA <= sites) sites in A.
func newLayoutSplit(n, sites, nA int) (layout, bool) {
	l := layout{n: n, sites: sites, nA: nA}
	l.nB = sites - l.nA
	var okA, okB bool
	l.sizeA, okA = powInt(n, l.nA)
	l.sizeB, okB = powInt(n, l.nB)
	if !okA || !okB || l.sizeA > maxSide || l.sizeB > maxSide {
		return l, false
	}
	l.cntA = parityCounts(n, l.nA)
	l.cntB = parityCounts(n, l.nB)
	for s := 0; s < 2; s++ {
		hi1, lo1 := mul64(l.cntB[0], l.cntA[s])
		hi2, lo2 := mul64(l.cntB[1], l.cntA[1-s])
		d := lo1 + lo2
		if hi1 != 0 || hi2 != 0 || lo1 > math.MaxInt64/2 || lo2 > math.MaxInt64/2 {
			return l, false
		}
		l.dim[s] = int64(d)
	}
	return l, true
}

// parityCounts returns how many of the n^k digit strings have an even and an odd digit sum:
// (n^k +- r^k)/2 with r = n mod 2, the difference of even and odd levels per site.
func parityCounts(n, k int) [2]int {
	total, _ := powInt(n, k)
	r := 1
	if n%2 == 0 && k > 0 {
		r = 0
	}
	return [2]int{(total + r) / 2, (total - r) / 2}
}

func powInt(n, k int) (int, bool) {
	p := 1
	for i := 0; i < k; i++ {
		if p > math.MaxInt64/n {
			return 0, false
		}
		p *= n
	}
	return p, true
}

func mul64(a, b int) (hi, lo uint64) {
	x, y := uint64(a), uint64(b)
	lo = x * y
	if x != 0 && lo/x != y {
		return 1, lo
	}
	return 0, lo
}

// operator is H restricted to the Z2 sectors, in the block form described above.
type operator struct {
	layout
	rankA [2][]int32 // rank of an A state within its parity, -1 in the other
	diagA [2][]float64
	hA    [2]ell   // H_A off-diagonal part, parity p -> p, ranks within the parity
	q     [][2]ell // Q_y: rows of parity p, columns of parity 1-p
	parB  []uint8
	diagB []float64
	hB    csr     // H_B off-diagonal part; columns are b'
	xB    csr     // phi_y on B for every cross site y; columns are b'
	xQ    []int32 // index into q of every xB entry
	offB  [2][]int
}

// tableBytes is the memory of everything but the sector vectors.
func (op *operator) tableBytes() int64 {
	var t int64
	for p := 0; p < 2; p++ {
		t += int64(4*len(op.rankA[p]) + 8*len(op.diagA[p]))
		t += op.hA[p].bytes()
		t += int64(8 * len(op.offB[p]))
		for i := range op.q {
			t += op.q[i][p].bytes()
		}
	}
	t += int64(len(op.parB) + 8*len(op.diagB) + 4*cap(op.xQ))
	t += op.hB.bytes() + op.xB.bytes()
	return t
}

// estimateTableBytes bounds tableBytes from the structure alone, before anything is built.
func estimateTableBytes(l layout, g geometry) int64 {
	onsite := int64(min(4, l.n-1)) // |k - k'| in {2, 4}
	inA := func(x int) bool { return x < l.nA }
	var bondsA, bondsB int64
	crossNbrs := map[int]int64{} // cross site y in B -> number of A sites coupled to it
	for _, b := range g.bonds {
		switch {
		case inA(b.x) && inA(b.y):
			bondsA++
		case !inA(b.x) && !inA(b.y):
			bondsB++
		default:
			crossNbrs[b.y]++ // b.x < b.y, so y is the B site
		}
	}
	sA, sB := int64(l.sizeA), int64(l.sizeB)
	nnzA := sA * (onsite*int64(l.nA) + 4*bondsA)
	var nnzQ int64
	for _, c := range crossNbrs {
		nnzQ += sA * 2 * c
	}
	nnzB := sB * (onsite*int64(l.nB) + 4*bondsB)
	nnzX := sB * 2 * int64(len(crossNbrs))
	const entry = 12 // int32 column + float64 value
	t := sA * (2*4 + 8)
	t += nnzA*entry + nnzQ*entry
	t += sB*(1+8) + 2*8*(sB+1)
	t += nnzB*entry + 8*(sB+1)
	t += nnzX*(entry+4) + 8*(sB+1)
	return t
}

// siteMatrices returns the on-site matrix h_x of every site.
func siteMatrices(m *hamiltonian.Model, g geometry, ops siteOps) [][]float64 {
	h := make([][]float64, g.sites)
	for x := range h {
		// The gradient term's diagonal part gives each site 2 dim; a self-bond takes 2 back.
		c := m.M2 + 2*float64(m.Dim) - 2*float64(g.self[x])
		h[x] = ops.onSite(c, m.Lambda)
	}
	return h
}

// newOperator builds the tables for model m with n levels at frequency w.
func newOperator(m *hamiltonian.Model, l layout, g geometry, w float64) *operator {
	n := l.n
	ops := newSiteOps(n, w)
	h := siteMatrices(m, g, ops)
	phi := ops.phi
	pow := make([]int, l.sites)
	for x := range pow {
		if x < l.nA {
			pow[x], _ = powInt(n, x)
		} else {
			pow[x], _ = powInt(n, x-l.nA)
		}
	}
	var bondsA, bondsB []bond
	crossIdx := map[int]int{}
	var crossSites []int
	var crossBonds [][]bond // per cross site, its bonds to A
	for _, b := range g.bonds {
		switch {
		case b.y < l.nA:
			bondsA = append(bondsA, b)
		case b.x >= l.nA:
			bondsB = append(bondsB, b)
		default:
			i, ok := crossIdx[b.y]
			if !ok {
				i = len(crossSites)
				crossIdx[b.y] = i
				crossSites = append(crossSites, b.y)
				crossBonds = append(crossBonds, nil)
			}
			crossBonds[i] = append(crossBonds[i], b)
		}
	}

	op := &operator{layout: l}

	// A part.
	for p := 0; p < 2; p++ {
		op.rankA[p] = make([]int32, l.sizeA)
		op.diagA[p] = make([]float64, 0, l.cntA[p])
	}
	var next [2]int32
	forEachState(n, l.nA, func(a int, _ []int, p int) {
		op.rankA[p][a] = next[p]
		op.rankA[1-p][a] = -1
		next[p]++
	})
	onsite := min(4, n-1) // nonzero off-diagonal levels of h: |k - k'| in {2, 4}
	var bld [2]ellBuilder
	qb := make([][2]ellBuilder, len(crossSites))
	for p := 0; p < 2; p++ {
		bld[p] = newELLBuilder(l.cntA[p], onsite*l.nA+4*len(bondsA))
		for i, bs := range crossBonds {
			qb[i][p] = newELLBuilder(l.cntA[p], 2*len(bs))
		}
	}
	forEachState(n, l.nA, func(a int, d []int, p int) {
		diag := 0.0
		for x := 0; x < l.nA; x++ {
			diag += h[x][d[x]*n+d[x]]
		}
		op.diagA[p] = append(op.diagA[p], diag)
		rank := op.rankA[p]
		for x := 0; x < l.nA; x++ {
			for k := 0; k < n; k++ {
				if v := h[x][d[x]*n+k]; k != d[x] && v != 0 {
					bld[p].add(rank[a+(k-d[x])*pow[x]], v)
				}
			}
		}
		for _, b := range bondsA {
			for _, dx := range [2]int{-1, 1} {
				kx := d[b.x] + dx
				if kx < 0 || kx >= n {
					continue
				}
				for _, dy := range [2]int{-1, 1} {
					ky := d[b.y] + dy
					if ky < 0 || ky >= n {
						continue
					}
					v := -b.c * phi[d[b.x]*n+kx] * phi[d[b.y]*n+ky]
					bld[p].add(rank[a+dx*pow[b.x]+dy*pow[b.y]], v)
				}
			}
		}
		bld[p].endRow()
		// Q_y maps parity 1-p to p: it flips one A digit.
		other := op.rankA[1-p]
		for i, bs := range crossBonds {
			for _, b := range bs {
				for _, dx := range [2]int{-1, 1} {
					kx := d[b.x] + dx
					if kx < 0 || kx >= n {
						continue
					}
					qb[i][p].add(other[a+dx*pow[b.x]], -b.c*phi[d[b.x]*n+kx])
				}
			}
			qb[i][p].endRow()
		}
	})
	for p := 0; p < 2; p++ {
		op.hA[p] = bld[p].build()
	}
	op.q = make([][2]ell, len(crossSites))
	for i := range qb {
		for p := 0; p < 2; p++ {
			op.q[i][p] = qb[i][p].build()
		}
	}

	// B part. Digits of B are the sites nA.., so site x has digit d[x-nA].
	op.parB = make([]uint8, l.sizeB)
	op.diagB = make([]float64, l.sizeB)
	hb := newCSRBuilder(l.sizeB, onsite*l.nB+4*len(bondsB))
	xb := newCSRBuilder(l.sizeB, 2*len(crossSites))
	op.xQ = make([]int32, 0, 2*len(crossSites)*l.sizeB)
	forEachState(n, l.nB, func(b int, d []int, p int) {
		op.parB[b] = uint8(p)
		diag := 0.0
		for j := 0; j < l.nB; j++ {
			diag += h[l.nA+j][d[j]*n+d[j]]
		}
		op.diagB[b] = diag
		for j := 0; j < l.nB; j++ {
			hx := h[l.nA+j]
			for k := 0; k < n; k++ {
				if v := hx[d[j]*n+k]; k != d[j] && v != 0 {
					hb.add(int32(b+(k-d[j])*pow[l.nA+j]), v)
				}
			}
		}
		for _, bd := range bondsB {
			jx, jy := bd.x-l.nA, bd.y-l.nA
			for _, dx := range [2]int{-1, 1} {
				kx := d[jx] + dx
				if kx < 0 || kx >= n {
					continue
				}
				for _, dy := range [2]int{-1, 1} {
					ky := d[jy] + dy
					if ky < 0 || ky >= n {
						continue
					}
					v := -bd.c * phi[d[jx]*n+kx] * phi[d[jy]*n+ky]
					hb.add(int32(b+dx*pow[bd.x]+dy*pow[bd.y]), v)
				}
			}
		}
		hb.endRow()
		for i, y := range crossSites {
			j := y - l.nA
			for _, dy := range [2]int{-1, 1} {
				ky := d[j] + dy
				if ky < 0 || ky >= n {
					continue
				}
				xb.add(int32(b+dy*pow[y]), phi[d[j]*n+ky])
				op.xQ = append(op.xQ, int32(i))
			}
		}
		xb.endRow()
	})
	op.hB = hb.build()
	op.xB = xb.build()
	for s := 0; s < 2; s++ {
		off := make([]int, l.sizeB+1)
		for b := 0; b < l.sizeB; b++ {
			off[b+1] = off[b] + l.cntA[s^int(op.parB[b])]
		}
		op.offB[s] = off
	}
	return op
}

// forEachState calls f for every digit string of k sites with n levels, in increasing order of
// the index sum_j d[j] n^j, with the digits and their parity, updating the digits like an
// odometer rather than dividing.
func forEachState(n, k int, f func(idx int, d []int, parity int)) {
	d := make([]int, k)
	total, _ := powInt(n, k)
	par := 0
	for idx := 0; idx < total; idx++ {
		f(idx, d, par)
		for j := 0; j < k; j++ {
			d[j]++
			par ^= 1
			if d[j] < n {
				break
			}
			// Wrapping from n to 0 changes the digit sum by -n.
			par ^= n & 1
			d[j] = 0
		}
	}
}

// csrBuilder fills a csr whose storage is allocated up front from a bound on the entries per
// row, so that building never holds more than the final tables (the memory estimate is exact).
type csrBuilder struct {
	m csr
}

func newCSRBuilder(rows, maxPerRow int) csrBuilder {
	b := csrBuilder{m: csr{
		rowPtr: make([]int, 1, rows+1),
		col:    make([]int32, 0, rows*maxPerRow),
		val:    make([]float64, 0, rows*maxPerRow),
	}}
	return b
}

func (b *csrBuilder) add(col int32, v float64) {
	b.m.col = append(b.m.col, col)
	b.m.val = append(b.m.val, v)
}

func (b *csrBuilder) endRow() {
	b.m.rowPtr = append(b.m.rowPtr, len(b.m.col))
}

func (b *csrBuilder) build() csr { return b.m }

var blas = gonum.Implementation{}

// applyBlocks computes dst = H src for the blocks b0 <= b < b1 of sector s.
func (op *operator) applyBlocks(s int, dst, src []float64, b0, b1 int) {
	off := op.offB[s]
	for b := b0; b < b1; b++ {
		p := s ^ int(op.parB[b])
		o := off[b]
		nA := op.cntA[p]
		out := dst[o : o+nA]
		in := src[o : o+nA]
		dB := op.diagB[b]
		dA := op.diagA[p][:nA]
		hA := &op.hA[p]
		if wd := hA.width; wd > 0 {
			col, val := hA.col[:nA*wd], hA.val[:nA*wd]
			for i := range out {
				acc := (dA[i] + dB) * in[i]
				cs, vs := col[i*wd:i*wd+wd], val[i*wd:i*wd+wd]
				for k, c := range cs {
					acc += vs[k] * in[c]
				}
				out[i] = acc
			}
		} else {
			for i := range out {
				out[i] = (dA[i] + dB) * in[i]
			}
		}
		for k := op.hB.rowPtr[b]; k < op.hB.rowPtr[b+1]; k++ {
			o2 := off[op.hB.col[k]]
			blas.Daxpy(nA, op.hB.val[k], src[o2:o2+nA], 1, out, 1)
		}
		nA1 := op.cntA[1-p]
		for k := op.xB.rowPtr[b]; k < op.xB.rowPtr[b+1]; k++ {
			c := op.xB.val[k]
			o2 := off[op.xB.col[k]]
			in2 := src[o2 : o2+nA1]
			q := &op.q[op.xQ[k]][p]
			wd := q.width
			qcol, qval := q.col[:nA*wd], q.val[:nA*wd]
			for i := range out {
				acc := 0.0
				cs, vs := qcol[i*wd:i*wd+wd], qval[i*wd:i*wd+wd]
				for kk, j := range cs {
					acc += vs[kk] * in2[j]
				}
				out[i] += c * acc
			}
		}
	}
}
