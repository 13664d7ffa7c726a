package ed

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"testing"

	"gonum.org/v1/gonum/mat"

	"vqs/hamiltonian"
)

// independentGroup generates the lattice symmetry group as the closure of its generators, the
// unit translations, the reflection of each axis and the exchange of neighbouring axes, built
// from the lattice's own Neighbor, Coords and Site rather than from newSpaceGroup's formula.
func independentGroup(m *hamiltonian.Model) [][]int {
	var gens [][]int
	c := make([]int, m.Dim)
	for mu := 0; mu < m.Dim; mu++ {
		tr, refl, swap := make([]int, m.N), make([]int, m.N), make([]int, m.N)
		for x := 0; x < m.N; x++ {
			tr[x] = m.Neighbor(x, mu, true)
			m.Coords(x, c)
			c[mu] = -c[mu]
			refl[x] = m.Site(c)
			m.Coords(x, c)
			if mu+1 < m.Dim {
				c[mu], c[mu+1] = c[mu+1], c[mu]
			}
			swap[x] = m.Site(c)
		}
		gens = append(gens, tr, refl, swap)
	}
	key := func(p []int) string { return fmt.Sprint(p) }
	id := make([]int, m.N)
	for x := range id {
		id[x] = x
	}
	seen := map[string]bool{key(id): true}
	group := [][]int{id}
	for i := 0; i < len(group); i++ {
		for _, g := range gens {
			q := make([]int, m.N)
			for x := range q {
				q[x] = g[group[i][x]]
			}
			if !seen[key(q)] {
				seen[key(q)] = true
				group = append(group, q)
			}
		}
	}
	return group
}

func TestSpaceGroupOrders(t *testing.T) {
	for _, c := range []struct{ L, dim, order int }{
		{1, 1, 1}, {1, 2, 1}, {2, 1, 2}, {5, 1, 10}, {8, 1, 16},
		{2, 2, 8}, // reflections move no site on L = 2: translations x the axis exchange
		{3, 2, 72}, {4, 2, 128}, {2, 3, 48}, {3, 3, 1296},
	} {
		m := mustModel(t, c.L, c.dim, 1, 1)
		sg, err := newSpaceGroup(m, newGeometry(m))
		if err != nil {
			t.Fatal(err)
		}
		if sg.order() != c.order {
			t.Errorf("L=%d dim=%d: %d permutations, want %d", c.L, c.dim, sg.order(), c.order)
		}
		ind := independentGroup(m)
		if len(ind) != sg.order() {
			t.Errorf("L=%d dim=%d: closure of the generators has %d elements, newSpaceGroup %d", c.L, c.dim, len(ind), sg.order())
		}
		have := map[string]bool{}
		for _, p := range sg.perms {
			q := make([]int, len(p))
			for i, v := range p {
				q[i] = int(v)
			}
			have[fmt.Sprint(q)] = true
		}
		for _, p := range ind {
			if !have[fmt.Sprint(p)] {
				t.Errorf("L=%d dim=%d: generated permutation %v missing", c.L, c.dim, p)
				break
			}
		}
		for x := range sg.perms[0] {
			if sg.perms[0][x] != int32(x) {
				t.Fatalf("L=%d dim=%d: the first permutation is not the identity", c.L, c.dim)
			}
		}
	}
}

// projector returns P = (1/|G|) sum_g U_g on the full space of n levels per site, from the
// independently generated group; U_g moves the occupation of site x to site g(x).
func projector(m *hamiltonian.Model, n int) *mat.Dense {
	full := intPow(n, m.N)
	group := independentGroup(m)
	p := mat.NewDense(full, full, nil)
	digits := make([]int, m.N)
	for c := 0; c < full; c++ {
		for r, x := c, 0; x < m.N; x++ {
			digits[x] = r % n
			r /= n
		}
		for _, g := range group {
			img := 0
			for x, d := range digits {
				img += d * intPow(n, g[x])
			}
			p.Set(img, c, p.At(img, c)+1/float64(len(group)))
		}
	}
	return p
}

// symmetricBasis returns an orthonormal basis (columns, full-space coordinates) of the
// symmetric states of parity s: the eigenvectors of eigenvalue 1 of the brute-force projector
// restricted to the parity sector.
func symmetricBasis(t *testing.T, m *hamiltonian.Model, n, s int) *mat.Dense {
	t.Helper()
	p := projector(m, n)
	states := sectorStates(n, m.N, s)
	ps := restrict(p, states)
	var es mat.EigenSym
	if !es.Factorize(ps, true) {
		t.Fatal("EigenSym failed")
	}
	var vecs mat.Dense
	es.VectorsTo(&vecs)
	var cols []int
	for i, v := range es.Values(nil) {
		if v > 0.5 {
			cols = append(cols, i)
		} else if math.Abs(v) > 1e-10 {
			t.Fatalf("projector eigenvalue %v is neither 0 nor 1", v)
		}
	}
	b := mat.NewDense(intPow(n, m.N), len(cols), nil)
	for j, col := range cols {
		for i, st := range states {
			b.Set(st, j, vecs.At(i, col))
		}
	}
	return b
}

// project returns B^T H B, symmetrized.
func project(h *mat.Dense, b *mat.Dense) *mat.SymDense {
	var hb, bhb mat.Dense
	hb.Mul(h, b)
	bhb.Mul(b.T(), &hb)
	k, _ := bhb.Dims()
	out := mat.NewSymDense(k, nil)
	for i := 0; i < k; i++ {
		for j := i; j < k; j++ {
			out.SetSym(i, j, 0.5*(bhb.At(i, j)+bhb.At(j, i)))
		}
	}
	return out
}

func buildSector(t testing.TB, m *hamiltonian.Model, n, s int) (*symSector, *spaceGroup, geometry) {
	t.Helper()
	g := newGeometry(m)
	sg, err := newSpaceGroup(m, g)
	if err != nil {
		t.Fatal(err)
	}
	dim, ok := sg.sectorDim(n, s)
	if !ok {
		t.Fatal("sector too large")
	}
	sp := symPlan{group: sg, maxDim: dim}
	full, _ := powInt(n, m.N)
	sp.indexLen = (full + 1) / 2
	pl := newPool(2)
	defer pl.close()
	sec, err := newSymSector(context.Background(), sg, n, s, dim, newSymBuffers(sp, m.N), pl)
	if err != nil {
		t.Fatal(err)
	}
	return sec, sg, g
}

// The orbits against the projector: P|r> = |O|^(-1) sum_{s in O} |s>, so |P r|^2 = 1/|O|
// gives the orbit size, its support is the orbit (whose smallest code must be r, and every
// member of which must map to r in the table), and trace P on the sector is its dimension.
func TestOrbitsAgainstProjector(t *testing.T) {
	for _, c := range []struct{ L, dim, n int }{
		{2, 2, 4}, {2, 2, 5}, {4, 1, 5}, {3, 1, 6}, {2, 1, 7}, {1, 2, 5}, {2, 3, 2}, {3, 2, 2},
	} {
		m := mustModel(t, c.L, c.dim, 1, 1)
		p := projector(m, c.n)
		for s := 0; s < 2; s++ {
			sec, _, _ := buildSector(t, m, c.n, s)
			states := sectorStates(c.n, m.N, s)
			trace := 0.0
			for _, st := range states {
				trace += p.At(st, st)
			}
			if math.Abs(trace-float64(sec.dim())) > 1e-9 {
				t.Errorf("%+v s=%d: trace P = %v, %d orbits", c, s, trace, sec.dim())
			}
			covered := 0
			for i, r := range sec.reps {
				col := mat.Col(nil, int(r), p)
				norm2, minCode := 0.0, -1
				for code, v := range col {
					if v == 0 {
						continue
					}
					norm2 += v * v
					if minCode < 0 {
						minCode = code
					}
					covered++
					if got := sec.index[code>>1]; got != int32(i) {
						t.Fatalf("%+v s=%d: code %d of orbit %d maps to %d", c, s, code, i, got)
					}
				}
				size := sec.sizes[sec.class[i]]
				if math.Abs(norm2*float64(size)-1) > 1e-12 {
					t.Errorf("%+v s=%d rep %d: |P r|^2 = %v, orbit size %d", c, s, r, norm2, size)
				}
				if minCode != int(r) {
					t.Errorf("%+v s=%d: representative %d, smallest code of its orbit %d", c, s, r, minCode)
				}
				for x := 0; x < m.N; x++ {
					if want := int(r) / intPow(c.n, x) % c.n; int(sec.digits[i*m.N+x]) != want {
						t.Fatalf("%+v: digits of %d wrong", c, r)
					}
				}
			}
			if covered != len(states) {
				t.Errorf("%+v s=%d: orbits cover %d states of %d", c, s, covered, len(states))
			}
		}
	}
}

// The symmetric matvec against B^T H B, with B the projector's orthonormal symmetric basis
// mapped onto the orbit states: B's columns span the same space, so the orbit states |R>
// (columns of P r, normalized) are combinations of them; here they are used directly, built
// from P, and H is the dense Kronecker-product Hamiltonian.
func TestSymMatvecAgainstDense(t *testing.T) {
	for _, c := range denseCases {
		m := mustModel(t, c.L, c.dim, c.m2, c.lam)
		w := c.omega
		if w == 0 {
			w = DefaultOmega(m)
		}
		h := denseH(m, c.n, w)
		p := projector(m, c.n)
		ops := newSiteOps(c.n, w)
		for s := 0; s < 2; s++ {
			sec, _, g := buildSector(t, m, c.n, s)
			full := intPow(c.n, m.N)
			b := mat.NewDense(full, sec.dim(), nil)
			for i, r := range sec.reps {
				col := mat.Col(nil, int(r), p)
				nrm := 0.0
				for _, v := range col {
					nrm += v * v
				}
				for code, v := range col {
					b.Set(code, i, v/math.Sqrt(nrm))
				}
			}
			hs := project(h, b)
			rng := rand.New(rand.NewPCG(5, uint64(s)))
			x := make([]float64, sec.dim())
			for i := range x {
				x[i] = rng.NormFloat64()
			}
			var want mat.VecDense
			want.MulVec(hs, mat.NewVecDense(len(x), x))
			op := newSymOperator(sec, g, siteMatrices(m, g, ops), ops.phi)
			for _, workers := range []int{1, 3} {
				pl := newPool(workers)
				e := newSymEngine(op, pl, make([]float64, sec.dim()))
				y := make([]float64, len(x))
				e.matvec(y, x)
				pl.close()
				for i := range y {
					if d := math.Abs(y[i] - want.AtVec(i)); d > 1e-11*(1+math.Abs(want.AtVec(i))) {
						t.Fatalf("%v sector %d workers %d: (Hx)[%d] = %.15g, dense %.15g", c, s, workers, i, y[i], want.AtVec(i))
					}
				}
			}
		}
	}
}

// On lattices too large for the dense H, the symmetric product is checked against the sparse
// full-space H of assembleCSR (an independent implementation) applied to the orbit states
// expanded by the independently generated group.
func TestSymMatvecAgainstAssembled(t *testing.T) {
	for _, c := range []struct {
		L, dim, n int
		m2, lam   float64
	}{
		{3, 2, 3, 1, 24}, {3, 2, 4, -1, 12}, {6, 1, 4, 0.5, 6}, {2, 3, 3, -0.5, 6},
	} {
		m := mustModel(t, c.L, c.dim, c.m2, c.lam)
		w := DefaultOmega(m)
		ops := newSiteOps(c.n, w)
		group := independentGroup(m)
		for s := 0; s < 2; s++ {
			sec, _, g := buildSector(t, m, c.n, s)
			states := sectorStates(c.n, m.N, s)
			pos := map[int]int{}
			for i, st := range states {
				pos[st] = i
			}
			rng := rand.New(rand.NewPCG(7, uint64(s)))
			x := make([]float64, sec.dim())
			for i := range x {
				x[i] = rng.NormFloat64()
			}
			// v = sum_R x_R |R> in Z2-sector coordinates, and the orbit of each representative.
			v := make([]float64, len(states))
			orbits := make([][]int, sec.dim())
			digits := make([]int, m.N)
			for i, r := range sec.reps {
				for rr, xx := int(r), 0; xx < m.N; xx++ {
					digits[xx] = rr % c.n
					rr /= c.n
				}
				set := map[int]bool{}
				for _, gp := range group {
					img := 0
					for xx, d := range digits {
						img += d * intPow(c.n, gp[xx])
					}
					set[img] = true
				}
				for st := range set {
					orbits[i] = append(orbits[i], st)
				}
				sort.Ints(orbits[i])
				for _, st := range orbits[i] {
					v[pos[st]] += x[i] / math.Sqrt(float64(len(orbits[i])))
				}
			}
			hcsr := assembleCSR(m, c.n, s, w)
			hv := make([]float64, len(states))
			for i := range hv {
				for k := hcsr.rowPtr[i]; k < hcsr.rowPtr[i+1]; k++ {
					hv[i] += hcsr.val[k] * v[hcsr.col[k]]
				}
			}
			op := newSymOperator(sec, g, siteMatrices(m, g, ops), ops.phi)
			pl := newPool(2)
			e := newSymEngine(op, pl, make([]float64, sec.dim()))
			y := make([]float64, len(x))
			e.matvec(y, x)
			pl.close()
			for i := range y {
				want := 0.0 // <R|H v>
				for _, st := range orbits[i] {
					want += hv[pos[st]] / math.Sqrt(float64(len(orbits[i])))
				}
				if math.Abs(y[i]-want) > 1e-11*(1+math.Abs(want)) {
					t.Fatalf("%+v sector %d: (Hx)[%d] = %.15g, assembled %.15g", c, s, i, y[i], want)
				}
			}
		}
	}
}

// The symmetric sectors hold the lowest Z2-even and Z2-odd states, so both paths give the
// same energies: 2x2, 3x3 at small nmax, chains, the cube, the double well.
func TestSymmetricMatchesZ2(t *testing.T) {
	for _, c := range []struct {
		L, dim, n int
		m2, lam   float64
	}{
		{2, 2, 10, 1, 24}, {2, 2, 9, -1, 12}, {3, 2, 4, 1, 24}, {3, 2, 4, -1, 12},
		{6, 1, 6, 1, 24}, {5, 1, 7, -2, 6}, {2, 1, 20, 0.5, 3}, {2, 3, 4, 1, 24},
	} {
		m := mustModel(t, c.L, c.dim, c.m2, c.lam)
		var res [2]*Result
		for i, sym := range []Symmetry{SymmetryZ2, SymmetryFull} {
			r, err := Solve(context.Background(), m, Config{NMax: c.n, Symmetry: sym, Convergence: true})
			if err != nil {
				t.Fatal(err)
			}
			res[i] = r
		}
		z, f := res[0], res[1]
		tol := 1e-10 * math.Max(1, math.Abs(z.Energy))
		if math.Abs(z.Energy-f.Energy) > tol || math.Abs(z.OddEnergy-f.OddEnergy) > tol ||
			math.Abs(z.TruncationChange-f.TruncationChange) > tol {
			t.Errorf("%+v: Z2 E0 %.15g odd %.15g change %.3g; symmetric %.15g %.15g %.3g", c,
				z.Energy, z.OddEnergy, z.TruncationChange, f.Energy, f.OddEnergy, f.TruncationChange)
		}
		if f.States*int64(f.GroupOrder) < z.States || f.States >= z.States && f.GroupOrder > 1 {
			t.Errorf("%+v: symmetric sector %d states, Z2 %d, group %d", c, f.States, z.States, f.GroupOrder)
		}
		if len(f.Sectors) != 3 || len(z.Sectors) != 3 {
			t.Errorf("%+v: sectors %+v / %+v", c, f.Sectors, z.Sectors)
		}
	}
}

// EvenOnly solves the even sectors alone, with the same energies.
func TestEvenOnly(t *testing.T) {
	m := mustModel(t, 2, 2, -1, 12)
	for _, sym := range []Symmetry{SymmetryZ2, SymmetryFull} {
		all, err := Solve(context.Background(), m, Config{NMax: 8, Symmetry: sym, Convergence: true})
		if err != nil {
			t.Fatal(err)
		}
		even, err := Solve(context.Background(), m, Config{NMax: 8, Symmetry: sym, Convergence: true, EvenOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if even.Energy != all.Energy || even.TruncationChange != all.TruncationChange || !math.IsNaN(even.Gap) ||
			!math.IsNaN(even.OddEnergy) || len(even.Sectors) != 2 || even.Sectors[1].Parity != 0 || even.Sectors[1].NMax != 6 {
			t.Errorf("%s: even only %+v, all %+v", sym, even, all)
		}
	}
}

// The 3x3 reference of the issue: nmax 8, m2 = 1, lambda = 24, against the Z2 path's value
// (1000 s on 2 cores with the Z2 sectors alone).
func TestSymmetric3x3Reference(t *testing.T) {
	if os.Getenv("VQS_SLOW") == "" {
		t.Skip("3x3 at nmax 8 takes about a minute; set VQS_SLOW=1")
	}
	m := mustModel(t, 3, 2, 1, 24)
	res, err := Solve(context.Background(), m, Config{NMax: 8, Symmetry: SymmetryFull})
	if err != nil {
		t.Fatal(err)
	}
	if want := 11.01186088665834; math.Abs(res.Energy-want) > 1e-9 {
		t.Errorf("E0 %.15g, Z2 path %.15g", res.Energy, want)
	}
}

// sequentialOrbits is the simplest orbit enumeration, kept as a reference for newSymSector:
// visit the codes of the sector in increasing order; the first one of an orbit not yet marked
// is its representative, and all its images are marked with its index.
func sequentialOrbits(g *spaceGroup, n, s int) (reps []uint64, sizes []int, index []int32) {
	full := intPow(n, g.sites)
	index = make([]int32, (full+1)/2)
	for i := range index {
		index[i] = -1
	}
	digits := make([]int, g.sites)
	for c := 0; c < full; c++ {
		sum := 0
		for r, x := c, 0; x < g.sites; x++ {
			digits[x] = r % n
			sum += digits[x]
			r /= n
		}
		if sum%2 != s || index[c>>1] >= 0 {
			continue
		}
		id := int32(len(reps))
		size := 0
		for _, p := range g.perms {
			img := 0
			for x, d := range digits {
				img += d * intPow(n, int(p[x]))
			}
			if index[img>>1] < 0 {
				index[img>>1] = id
				size++
			}
		}
		reps = append(reps, uint64(c))
		sizes = append(sizes, size)
	}
	return reps, sizes, index
}

func TestSymSectorAgainstSequential(t *testing.T) {
	for _, c := range []struct{ L, dim, n int }{{3, 2, 4}, {3, 2, 5}, {2, 2, 9}, {5, 1, 6}, {2, 3, 3}, {1, 1, 7}, {2, 1, 8}} {
		m := mustModel(t, c.L, c.dim, 1, 1)
		for s := 0; s < 2; s++ {
			sec, sg, _ := buildSector(t, m, c.n, s)
			reps, sizes, index := sequentialOrbits(sg, c.n, s)
			if len(reps) != sec.dim() {
				t.Fatalf("%+v s=%d: %d orbits, sequential %d", c, s, sec.dim(), len(reps))
			}
			for i := range reps {
				if reps[i] != sec.reps[i] || sizes[i] != sec.sizes[sec.class[i]] {
					t.Fatalf("%+v s=%d orbit %d: rep %d size %d, sequential %d %d", c, s, i,
						sec.reps[i], sec.sizes[sec.class[i]], reps[i], sizes[i])
				}
			}
			for j, v := range index {
				if v >= 0 && sec.index[j] != v {
					t.Fatalf("%+v s=%d: slot %d maps to %d, sequential %d", c, s, j, sec.index[j], v)
				}
			}
		}
	}
}
