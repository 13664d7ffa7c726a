package ed

import (
	"context"
	"fmt"
	"math"

	"vqs/hamiltonian"
)

// symSectorPlan is one Lanczos run of the symmetric path.
type symSectorPlan struct {
	n, parity int
	dim       int64
}

func (s symSectorPlan) name() string { return symNames[s.parity] }

// symPlan sizes the symmetric path before anything large is allocated. The sectors are solved
// one after the other in buffers sized for the largest, so the memory is that of the largest
// sector plus the state table of the top nmax (the NMax-2 table is a prefix of it).
type symPlan struct {
	geometry
	group    *spaceGroup
	sectors  []symSectorPlan
	indexLen int
	maxDim   int64
	bytes    int64
}

func newSymPlan(m *hamiltonian.Model, nmax int, convergence, evenOnly bool, maxIter int) (symPlan, error) {
	if float64(m.N)*math.Log2(float64(nmax)) > 62 {
		// The state table alone would overflow the index types; refuse before building the
		// group, which has up to N 2^d d! elements of N entries each.
		return symPlan{}, errTooLarge
	}
	g := newGeometry(m)
	sg, err := newSpaceGroup(m, g)
	if err != nil {
		return symPlan{}, err
	}
	sp := symPlan{geometry: g, group: sg}
	sectors := []symSectorPlan{{n: nmax, parity: 0}}
	if !evenOnly {
		sectors = append(sectors, symSectorPlan{n: nmax, parity: 1})
	}
	if convergence {
		sectors = append(sectors, symSectorPlan{n: nmax - 2, parity: 0})
	}
	for _, s := range sectors {
		d, ok := sg.sectorDim(s.n, s.parity)
		if !ok {
			return sp, errTooLarge
		}
		if d > math.MaxInt32 {
			return sp, errTooLarge // orbits are indexed by int32
		}
		s.dim = d
		sp.sectors = append(sp.sectors, s)
		sp.maxDim = max(sp.maxDim, d)
	}
	full, _ := powInt(nmax, m.N)
	sp.indexLen = (full + 1) / 2
	per := int64(8 + m.N + 1) // code, digits, orbit class
	vec := 4 * 8 * sp.maxDim  // three Lanczos vectors and the amplitudes u
	sp.bytes = 4*int64(sp.indexLen) + per*sp.maxDim + vec + 8*(sp.maxDim/chunk+1) + tridiagBytes(maxIter) +
		int64(8*m.N*sg.order()) + int64(4*nmax*nmax) + smallBytes
	for _, n := range distinctLevels(sp.sectors) {
		sp.bytes += siteOpsBytes(m.N, n) + symOperatorBytes(m.N, n, len(g.bonds))
	}
	return sp, nil
}

func distinctLevels(sectors []symSectorPlan) []int {
	var out []int
	for _, s := range sectors {
		if len(out) == 0 || out[len(out)-1] != s.n {
			out = append(out, s.n)
		}
	}
	return out
}

// symOperatorBytes is the memory of the row tables of newSymOperator.
func symOperatorBytes(sites, n, bonds int) int64 {
	return int64(sites*n*(8+16*onsiteWidth) + 32*n + 48*bonds)
}

// symBuffers are the allocations that every sector of a solve reuses.
type symBuffers struct {
	index      []int32
	reps       []uint64
	digits     []uint8
	class      []uint8
	v0, v1, v2 []float64
	u          []float64
}

func newSymBuffers(sp symPlan, sites int) *symBuffers {
	d := sp.maxDim
	b := &symBuffers{
		index:  make([]int32, sp.indexLen),
		reps:   make([]uint64, 0, d),
		digits: make([]uint8, 0, d*int64(sites)),
		class:  make([]uint8, 0, d),
		v0:     make([]float64, d),
		v1:     make([]float64, d),
		v2:     make([]float64, d),
		u:      make([]float64, d),
	}
	// The products gather from the state table and from u at random.
	adviseHugePages(b.index)
	adviseHugePages(b.u)
	return b
}

func solveSymmetric(ctx context.Context, m *hamiltonian.Model, cfg Config, st settings) (*Result, error) {
	sp, err := newSymPlan(m, cfg.NMax, cfg.Convergence, cfg.EvenOnly, st.maxIter)
	if err != nil && err != errTooLarge {
		return nil, err
	}
	if err != nil || sp.bytes > st.limit {
		return nil, symRefusal(m, cfg.NMax, sp, err, st.limit)
	}
	buf := newSymBuffers(sp, m.N)
	pl := newPool(st.workers)
	defer pl.close()
	td := newTridiag(st.maxIter)
	res := &Result{NMax: cfg.NMax, Omega: st.omega, TruncationChange: math.NaN(), OddEnergy: math.NaN(), Gap: math.NaN(), MemoryBytes: sp.bytes,
		Symmetry: SymmetryFull, Group: sp.group.describe(), GroupOrder: sp.group.order()}
	var op *symOperator // the row tables depend on n only; sectors of the same n share them
	for i, s := range sp.sectors {
		sec, err := newSymSector(ctx, sp.group, s.n, s.parity, s.dim, buf, pl)
		if err != nil {
			return nil, err
		}
		if op == nil || op.n != s.n {
			o := newSiteOps(s.n, st.omega)
			op = newSymOperator(sec, sp.geometry, siteMatrices(m, sp.geometry, o), o.phi)
		}
		op.sec = sec
		e := newSymEngine(op, pl, buf.u[:s.dim])
		r, err := e.lowest(ctx, td, buf.v0, buf.v1, buf.v2, st.tol, uint64(s.parity+1), progressFor(cfg.Progress, s.n, s.parity, s.dim))
		if err != nil {
			return nil, fmt.Errorf("%s sector with nmax %d: %w", s.name(), s.n, err)
		}
		res.Sectors = append(res.Sectors, Sector{Name: s.name(), NMax: s.n, Parity: s.parity, States: s.dim,
			Energy: r.value, Iterations: r.iterations, Residual: r.residual})
		switch {
		case i == 0:
			res.Energy, res.States, res.Iterations, res.Residual = r.value, s.dim, r.iterations, r.residual
		case s.parity == 1:
			res.OddEnergy, res.OddIterations = r.value, r.iterations
			res.Gap = res.OddEnergy - res.Energy
		default: // the NMax-2 even sector
			res.TruncationChange = res.Energy - r.value
		}
	}
	return res, nil
}

// symRefusal is the one-line refusal of the symmetric path, naming the largest sector.
func symRefusal(m *hamiltonian.Model, nmax int, sp symPlan, err error, limit int64) error {
	var states, table, gib string
	if err != nil {
		// Work with logarithms: n^N may not even fit a float64. The group divides the space
		// by at most its order.
		lgFull := float64(m.N) * math.Log10(float64(nmax))
		order := float64(m.N) * math.Pow(2, float64(m.Dim)) * math.Gamma(float64(m.Dim)+1)
		if sp.group != nil {
			order = float64(sp.group.order())
		}
		lg := lgFull - math.Log10(2*order)
		states = sci(lg, 2)
		table = sci(lgFull-math.Log10(2), 2)
		gib = sci(lgFull+math.Log10(2.0/(1<<30)), 3)
	} else {
		states = sci(math.Log10(float64(sp.sectors[0].dim)), 2)
		table = sci(math.Log10(float64(sp.indexLen)), 2)
		gib = sci(math.Log10(float64(sp.bytes)/(1<<30)), 3)
	}
	return fmt.Errorf("exact diagonalization of %d^%d sites with nmax %d needs %s states in the %s sector and a table of %s states (~%s GiB), more than the %.3g GiB available; lower --nmax or L",
		m.L, m.Dim, nmax, states, symNames[0], table, gib, float64(limit)/(1<<30))
}
