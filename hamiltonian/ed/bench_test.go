package ed

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"testing"

	"vqs/hamiltonian"
)

// benchOperator builds the default-layout operator of an L^2 lattice with n levels.
func benchOperator(b *testing.B, L, n int) (*hamiltonian.Model, *operator, layout) {
	m, err := hamiltonian.NewModel(L, 2, 1, 24)
	if err != nil {
		b.Fatal(err)
	}
	l, ok := newLayout(n, m.N)
	if !ok {
		b.Fatal("layout overflow")
	}
	return m, newOperator(m, l, newGeometry(m), DefaultOmega(m)), l
}

// BenchmarkMatvec times one product with H in the even sector, for the Z2 sectors and the
// symmetric ones, on the same lattices: ns/op compares the cost of a Lanczos step on the same
// problem, states/s the throughput per sector state. Compare with
// benchstat -col /sym (the sub-benchmark names are key=value pairs).
func BenchmarkMatvec(b *testing.B) {
	for _, c := range []struct{ L, n int }{{2, 16}, {3, 6}, {3, 8}} {
		for _, sym := range []Symmetry{SymmetryZ2, SymmetryFull} {
			b.Run(fmt.Sprintf("lattice=%dx%d_nmax%d/sym=%s", c.L, c.L, c.n, sym), func(b *testing.B) {
				e, dim := benchEngine(b, c.L, c.n, sym)
				defer e.pool.close()
				x := make([]float64, dim)
				y := make([]float64, dim)
				for i := range x {
					x[i] = 1 / float64(i+1)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					e.matvec(y, x)
				}
				b.ReportMetric(float64(dim)*float64(b.N)/b.Elapsed().Seconds(), "states/s")
			})
		}
	}
}

// benchEngine builds the even-sector engine of an L^2 lattice (m2 = 1, lambda = 24) with n
// levels, on all cores.
func benchEngine(b *testing.B, L, n int, sym Symmetry) (*engine, int) {
	pl := newPool(runtime.GOMAXPROCS(0))
	if sym == SymmetryZ2 {
		_, op, l := benchOperator(b, L, n)
		e := newEngine(op, pl, l.dim[0])
		e.setSector(0)
		return e, e.dim
	}
	m := mustModel(b, L, 2, 1, 24)
	sec, _, g := buildSector(b, m, n, 0)
	ops := newSiteOps(n, DefaultOmega(m))
	e := newSymEngine(newSymOperator(sec, g, siteMatrices(m, g, ops), ops.phi), pl, make([]float64, sec.dim()))
	return e, e.dim
}

// assembleCSR builds H in sector s as an explicit sparse matrix, row by row from the digits
// of every state, with closed-form matrix elements: an independent second implementation
// that also serves as the assembled-matrix alternative the matrix-free design is measured
// against.
func assembleCSR(m *hamiltonian.Model, n, s int, w float64) *csr {
	phi, phi2, phi4, pi2 := closedFormOps(n, w)
	states := sectorStates(n, m.N, s)
	pow := make([]int, m.N)
	for x := range pow {
		pow[x] = intPow(n, x)
	}
	nb := m.Neighbors()
	out := &csr{rowPtr: []int{0}}
	digits := make([]int, m.N)
	row := map[int]float64{}
	for _, st := range states {
		r := st
		for x := range digits {
			digits[x] = r % n
			r /= n
		}
		clear(row)
		for x := 0; x < m.N; x++ {
			d := digits[x]
			for k := 0; k < n; k++ {
				v := 0.5*pi2.At(d, k) + 0.5*m.M2*phi2.At(d, k) + m.Lambda/24*phi4.At(d, k)
				for mu := 0; mu < m.Dim; mu++ {
					if nb[x*m.Dim+mu] != x {
						v += phi2.At(d, k) // (1/2)phi_x^2 from this bond and from the one into x
					}
				}
				if v != 0 {
					row[st+(k-d)*pow[x]] += v
				}
			}
			for mu := 0; mu < m.Dim; mu++ {
				y := nb[x*m.Dim+mu]
				if y == x {
					continue
				}
				dy := digits[y]
				for kx := max(d-1, 0); kx <= min(d+1, n-1); kx++ {
					for ky := max(dy-1, 0); ky <= min(dy+1, n-1); ky++ {
						if v := phi.At(d, kx) * phi.At(dy, ky); v != 0 {
							row[st+(kx-d)*pow[x]+(ky-dy)*pow[y]] -= v
						}
					}
				}
			}
		}
		cols := make([]int, 0, len(row))
		for c := range row {
			cols = append(cols, c)
		}
		sort.Ints(cols)
		for _, c := range cols {
			out.col = append(out.col, int32(sort.SearchInts(states, c)))
			out.val = append(out.val, row[c])
		}
		out.rowPtr = append(out.rowPtr, len(out.col))
	}
	return out
}

// useCSR makes the engine multiply by the assembled matrix, rows split evenly among workers.
func useCSR(e *engine, h *csr) {
	rows := len(h.rowPtr) - 1
	e.matvecJob = func(w int) {
		r0, r1 := rows*w/e.pool.workers, rows*(w+1)/e.pool.workers
		for i := r0; i < r1; i++ {
			acc := 0.0
			for k := h.rowPtr[i]; k < h.rowPtr[i+1]; k++ {
				acc += h.val[k] * e.x[h.col[k]]
			}
			e.dst[i] = acc
		}
	}
}

// TestCSRMatchesOperator checks the matrix-free product against the independently assembled
// matrix on a case too large for the dense check (2x2, 9 levels, both sectors).
func TestCSRMatchesOperator(t *testing.T) {
	m, _ := hamiltonian.NewModel(2, 2, -1, 12)
	w := DefaultOmega(m)
	const n = 9
	l, _ := newLayout(n, m.N)
	op := newOperator(m, l, newGeometry(m), w)
	pl := newPool(2)
	defer pl.close()
	for s := 0; s < 2; s++ {
		h := assembleCSR(m, n, s, w)
		e := newEngine(op, pl, l.dim[s])
		e.setSector(s)
		x := make([]float64, l.dim[s])
		for i := range x {
			x[i] = math.Sin(float64(i))
		}
		y := make([]float64, len(x))
		e.matvec(y, x)
		useCSR(e, h)
		z := make([]float64, len(x))
		e.matvec(z, x)
		for i := range y {
			if math.Abs(y[i]-z[i]) > 1e-11*(1+math.Abs(z[i])) {
				t.Fatalf("sector %d row %d: matrix-free %.15g, assembled %.15g", s, i, y[i], z[i])
			}
		}
	}
}

// BenchmarkED2x2 compares the full even-sector ground state at 16 levels computed matrix-free
// with the same Lanczos on the assembled sparse matrix (assembly included).
func BenchmarkED2x2(b *testing.B) {
	m, _ := hamiltonian.NewModel(2, 2, 1, 24)
	w := DefaultOmega(m)
	const n = 16
	ctx := context.Background()
	var energies [2]float64
	b.Run("matrixfree", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l, _ := newLayout(n, m.N)
			op := newOperator(m, l, newGeometry(m), w)
			pl := newPool(runtime.GOMAXPROCS(0))
			e := newEngine(op, pl, l.dim[0])
			e.setSector(0)
			v := [3][]float64{make([]float64, l.dim[0]), make([]float64, l.dim[0]), make([]float64, l.dim[0])}
			r, err := e.lowest(ctx, newTridiag(defaultMaxIter), v[0], v[1], v[2], defaultTol, 1, nil)
			pl.close()
			if err != nil {
				b.Fatal(err)
			}
			energies[0] = r.value
			b.ReportMetric(float64(op.tableBytes()), "table-bytes")
		}
	})
	b.Run("assembled", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l, _ := newLayout(n, m.N)
			h := assembleCSR(m, n, 0, w)
			op := &operator{layout: l}
			pl := newPool(runtime.GOMAXPROCS(0))
			e := newEngine(op, pl, l.dim[0])
			e.sector, e.dim = 0, int(l.dim[0])
			useCSR(e, h)
			v := [3][]float64{make([]float64, l.dim[0]), make([]float64, l.dim[0]), make([]float64, l.dim[0])}
			r, err := e.lowest(ctx, newTridiag(defaultMaxIter), v[0], v[1], v[2], defaultTol, 1, nil)
			pl.close()
			if err != nil {
				b.Fatal(err)
			}
			energies[1] = r.value
			b.ReportMetric(float64(h.bytes()), "matrix-bytes")
		}
	})
	// The same product on the prebuilt matrix, to separate assembly from iteration.
	b.Run("assembled_lanczos_only", func(b *testing.B) {
		l, _ := newLayout(n, m.N)
		h := assembleCSR(m, n, 0, w)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			op := &operator{layout: l}
			pl := newPool(runtime.GOMAXPROCS(0))
			e := newEngine(op, pl, l.dim[0])
			e.sector, e.dim = 0, int(l.dim[0])
			useCSR(e, h)
			v := [3][]float64{make([]float64, l.dim[0]), make([]float64, l.dim[0]), make([]float64, l.dim[0])}
			if _, err := e.lowest(ctx, newTridiag(defaultMaxIter), v[0], v[1], v[2], defaultTol, 1, nil); err != nil {
				b.Fatal(err)
			}
			pl.close()
		}
	})
	if energies[0] != 0 && energies[1] != 0 && math.Abs(energies[0]-energies[1]) > 1e-10*math.Abs(energies[0]) {
		b.Fatalf("matrix-free E0 %.15g, assembled %.15g", energies[0], energies[1])
	}
}

// BenchmarkSymSector times the enumeration of the orbits and the state table of the even
// symmetric sector of 3x3.
func BenchmarkSymSector(b *testing.B) {
	for _, n := range []int{6, 8} {
		b.Run(fmt.Sprintf("lattice=3x3_nmax%d", n), func(b *testing.B) {
			m := mustModel(b, 3, 2, 1, 24)
			for i := 0; i < b.N; i++ {
				buildSector(b, m, n, 0)
			}
		})
	}
}
