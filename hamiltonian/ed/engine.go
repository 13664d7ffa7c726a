package ed

import (
	"sync"
	"sync/atomic"
)

// pool runs a job on a fixed set of goroutines, started once per solve, so that a matvec or a
// vector operation dispatches work without allocating.
type pool struct {
	workers int
	kick    []chan struct{}
	wg      sync.WaitGroup
	job     func(w int)
}

func newPool(workers int) *pool {
	p := &pool{workers: workers}
	for w := 1; w < workers; w++ {
		ch := make(chan struct{})
		p.kick = append(p.kick, ch)
		go func() {
			for range ch {
				p.job(w)
				p.wg.Done()
			}
		}()
	}
	return p
}

// run executes job(w) for every worker w and waits; the caller's goroutine is worker 0.
func (p *pool) run(job func(w int)) {
	p.job = job
	p.wg.Add(len(p.kick))
	for _, ch := range p.kick {
		ch <- struct{}{}
	}
	job(0)
	p.wg.Wait()
}

func (p *pool) close() {
	for _, ch := range p.kick {
		close(ch)
	}
}

// chunk is the granularity of the vector reductions. Partial sums are taken per chunk and added
// in chunk order, so every result is bit-for-bit the same whatever the number of workers.
const chunk = 1 << 14

// engine applies H in one sector and performs the vector operations of Lanczos in parallel.
// The sector is either a Z2 sector of the tensor-product space (op) or a fully symmetric one
// (sym).
type engine struct {
	op      *operator
	sym     *symOperator
	pool    *pool
	sector  int
	dim     int
	bounds  []int     // worker w owns the blocks (Z2) or rows (symmetric) bounds[w] <= b < bounds[w+1]
	partial []float64 // one entry per chunk
	u       []float64 // symmetric sector: the basis-state amplitudes of the input

	// stop is raised when the context is cancelled, so that a product that takes seconds
	// returns early (with an unusable result, which the caller discards).
	stop atomic.Bool

	// Operands of the job in flight; set before pool.run.
	dst, x, y, z []float64
	a, b         float64

	// prepareJob, if set, runs before matvecJob (on all workers, with a barrier between).
	prepareJob, matvecJob, dotJob, updateJob, scaleJob func(w int)
}

// stopCheckBlocks and stopCheckRows are how much work a product does between looks at stop.
const (
	stopCheckBlocks = 64
	stopCheckRows   = 1024
)

func newEngine(op *operator, p *pool, maxDim int64) *engine {
	e := newBareEngine(p, maxDim)
	e.op = op
	e.matvecJob = func(w int) {
		for b := e.bounds[w]; b < e.bounds[w+1] && !e.stop.Load(); b += stopCheckBlocks {
			e.op.applyBlocks(e.sector, e.dst, e.x, b, min(b+stopCheckBlocks, e.bounds[w+1]))
		}
	}
	return e
}

// newSymEngine returns an engine for the symmetric sector of op, with u (the sector's length)
// as the workspace of the basis-state amplitudes.
func newSymEngine(op *symOperator, p *pool, u []float64) *engine {
	dim := op.sec.dim()
	e := newBareEngine(p, int64(dim))
	e.sym, e.dim = op, dim
	e.u = u[:dim]
	for w := 0; w <= p.workers; w++ {
		e.bounds[w] = dim * w / p.workers
	}
	e.prepareJob = func(w int) {
		e.sym.scale(e.u, e.x, e.bounds[w], e.bounds[w+1])
	}
	e.matvecJob = func(w int) {
		for r := e.bounds[w]; r < e.bounds[w+1] && !e.stop.Load(); r += stopCheckRows {
			e.sym.apply(e.dst, e.u, r, min(r+stopCheckRows, e.bounds[w+1]))
		}
	}
	return e
}

func newBareEngine(p *pool, maxDim int64) *engine {
	e := &engine{pool: p, bounds: make([]int, p.workers+1)}
	e.partial = make([]float64, (int(maxDim)+chunk-1)/chunk)
	e.dotJob = func(w int) {
		c0, c1 := e.chunks(w)
		for c := c0; c < c1; c++ {
			lo, hi := c*chunk, min((c+1)*chunk, e.dim)
			x, y := e.x[lo:hi], e.y[lo:hi]
			s := 0.0
			for i := range x {
				s += x[i] * y[i]
			}
			e.partial[c] = s
		}
	}
	// x += a*y + b*z, then partial = x.x
	e.updateJob = func(w int) {
		c0, c1 := e.chunks(w)
		for c := c0; c < c1; c++ {
			lo, hi := c*chunk, min((c+1)*chunk, e.dim)
			x, y, z := e.x[lo:hi], e.y[lo:hi], e.z[lo:hi]
			a, b := e.a, e.b
			s := 0.0
			for i := range x {
				v := x[i] + a*y[i] + b*z[i]
				x[i] = v
				s += v * v
			}
			e.partial[c] = s
		}
	}
	e.scaleJob = func(w int) {
		c0, c1 := e.chunks(w)
		for c := c0; c < c1; c++ {
			lo, hi := c*chunk, min((c+1)*chunk, e.dim)
			x := e.x[lo:hi]
			for i := range x {
				x[i] *= e.a
			}
		}
	}
	return e
}

// setSector selects the sector and divides its blocks among the workers by row count.
func (e *engine) setSector(s int) {
	e.sector = s
	e.dim = int(e.op.dim[s])
	off := e.op.offB[s]
	nb := e.op.sizeB
	b := 0
	for w := 0; w <= e.pool.workers; w++ {
		target := e.dim * w / e.pool.workers
		for b < nb && off[b] < target {
			b++
		}
		e.bounds[w] = b
	}
	e.bounds[e.pool.workers] = nb
}

func (e *engine) chunks(w int) (int, int) {
	n := (e.dim + chunk - 1) / chunk
	return n * w / e.pool.workers, n * (w + 1) / e.pool.workers
}

func (e *engine) sumPartials() float64 {
	n := (e.dim + chunk - 1) / chunk
	s := 0.0
	for _, v := range e.partial[:n] {
		s += v
	}
	return s
}

// matvec sets dst = H src in the current sector.
func (e *engine) matvec(dst, src []float64) {
	e.dst, e.x = dst, src
	if e.prepareJob != nil {
		e.pool.run(e.prepareJob)
	}
	e.pool.run(e.matvecJob)
}

func (e *engine) dot(x, y []float64) float64 {
	e.x, e.y = x, y
	e.pool.run(e.dotJob)
	return e.sumPartials()
}

// update sets x += a*y + b*z and returns |x|^2.
func (e *engine) update(x []float64, a float64, y []float64, b float64, z []float64) float64 {
	e.x, e.y, e.z, e.a, e.b = x, y, z, a, b
	e.pool.run(e.updateJob)
	return e.sumPartials()
}

func (e *engine) scale(x []float64, a float64) {
	e.x, e.a = x, a
	e.pool.run(e.scaleJob)
}
