package dmc

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"vqs/groundstate"
	"vqs/hamiltonian"
	"vqs/internal/latfft"
	"vqs/vmc"
)

// Stage kinds.
const (
	StageGuide      = "guide"      // training the guide (Run without a loaded guide)
	StageVMC        = "vmc"        // the guide's own measurement: moves without weights
	StageDMC        = "dmc"        // one time step of the extrapolation
	StagePopulation = "population" // the largest time step again with another population
)

// Columns of a stage's block rows: sums over a block's generations of
//
//	1, omega, omega E, omega E^2, E, omega q_j ..., then per lag l: omega_l, omega_l X0_l, omega_l X1_l
//
// where E and q are the generation's walker-weighted means, omega the population-control
// weight and X the mode correlations.
const (
	colCount = iota
	colW
	colE
	colE2
	colERaw
	colQ
)

// stageData is everything a stage has accumulated; it is saved in checkpoints.
type stageData struct {
	Kind    string
	Point   int // index of the time step in Result.Points (-1 for vmc)
	Tau     float64
	Walkers int
	// ERef is the reference energy of the weights exp(-tau_eff (E - ERef)); with a fixed
	// population it only scales the mean weight. Cut caps |E_loc - ERef| in the weights.
	ERef, Cut            float64
	EquilGens, MeasGens  int
	ProductGens          int // population-control window in generations
	LagEvery, Lags       int // mode correlations at lags l*LagEvery generations, l = 0..Lags
	Gen                  int // generations done, equilibration included
	Blocks               *blocks
	TauEffNum, TauEffDen float64 // sums of p |dphi|^2 and |dphi|^2 over proposals
	AccSum               float64 // sum of acceptance probabilities
	Moves                int64
	Clipped              int64 // local energies cut in the weights
	Cum                  []float64
	Seconds              float64
}

func (sd *stageData) corrBase(nq int) int { return colQ + nq }

// tauEff is the effective time step tau <p dphi^2>/<dphi^2> from the proposals so far: the
// fraction of the diffusion that rejections leave (Umrigar, Nightingale and Runge 1993).
func (sd *stageData) tauEff() float64 {
	if sd.TauEffDen > 0 {
		return sd.Tau * sd.TauEffNum / sd.TauEffDen
	}
	return sd.Tau
}

// cumAgo returns the cumulative log mean weight d generations before the end of generation
// sd.Gen (d = 0: now), and whether the ring still holds it. The value before the first
// generation is 0.
func (sd *stageData) cumAgo(d int) (float64, bool) {
	j := sd.Gen + 1 - d
	if j < 0 || d >= len(sd.Cum) {
		return 0, false
	}
	return sd.Cum[j%len(sd.Cum)], true
}

// Progress reports where a run is. It is called from Run's goroutine, never concurrently.
type Progress struct {
	Stage         string                // StageGuide, StageVMC, StageDMC or StagePopulation
	Guide         *groundstate.Progress // the guide's training (StageGuide only)
	Point         int                   // index of the time step, -1 for the VMC stage
	Tau           float64               // time step
	Walkers       int
	Generation    int // generations done in this stage, equilibration included
	Generations   int // generations of this stage
	Equilibrating bool
	Energy        float64 // running mean of the measured generations (NaN while equilibrating)
	Acceptance    float64 // mean acceptance probability of this stage's moves
}

type job struct{ op, lo, hi int }

const (
	opMove = iota
	opRefresh
	opGaussian
)

// worker is one goroutine's evaluator and scratch space.
type worker struct {
	ev     vmc.Evaluator
	plan   *latfft.Plan
	phiNew []float64    // the proposal
	grad   []float64    // du/dphi there
	gkNew  []complex128 // its half spectrum
	xi     []complex128 // the noise, a half spectrum
	dk     []complex128 // the displacement's half spectrum
	qNew   []float64
	proj   []float64
	jobs   chan job
}

// runner holds the walkers and the machinery that moves them.
type runner struct {
	p   *plan
	n   int
	obs *observer
	nh  int // modes of a half spectrum (latfft)
	nq  int
	nm  int // modes per history entry
	cap int // walker slots
	m   int // walkers in use

	// Walker slot i: its field, the half spectrum of du/dphi there, u, E_loc, q, and its
	// ancestors' modes (MaxLags entries of nm values).
	phi     []float64
	gk      []complex128
	u, eloc []float64
	q       []float64
	hist    []float64
	histLen int
	pushes  int // history entries pushed in this stage

	// Per-move results of slot i.
	pAcc, eBar, eImp, e2Imp, disp2 []float64
	qImp                           []float64
	clipped                        []int8

	pcg       []*rand.PCG
	rng       []*rand.Rand
	masterPCG *rand.PCG
	master    *rand.Rand

	workers []*worker
	wg      sync.WaitGroup

	// Propagator of the current time step, per mode of the half spectrum: b = (1 - e^{-g
	// tau})/g multiplies the drift, s^2 = (1 - e^{-2 g tau})/(2g) is the noise variance;
	// multInvS2 is 1/s^2 times the mode's multiplicity, for sums over the full spectrum.
	b, s, multInvS2 []float64
	gHalf, mult     []float64 // the guide's kernel and the multiplicities on the half spectrum
	eRef, cut       float64
	invSqrt2g       []float64

	// Reduction scratch.
	w      []float64
	row    []float64
	copies []int

	stages []*stageData
	stage  int
}

func newRunner(p *plan) *runner {
	n := p.lat.N
	obs := newObserver(p.lat)
	capW := max(p.cfg.Walkers, p.popWalkers)
	tables := latfft.NewPlan(p.lat.L, p.lat.Dim)
	nh := tables.HalfModes()
	r := &runner{p: p, n: n, obs: obs, nh: nh, nq: obs.nq, nm: obs.modes(), cap: capW, m: p.cfg.Walkers,
		gHalf: tables.HalfKernel(nil, p.guide.Kernel()), mult: tables.Multiplicity()}
	r.histLen = MaxLags * r.nm
	r.phi = make([]float64, capW*n)
	r.gk = make([]complex128, capW*nh)
	r.u, r.eloc = make([]float64, capW), make([]float64, capW)
	r.q = make([]float64, capW*r.nq)
	r.hist = make([]float64, capW*r.histLen)
	r.pAcc, r.eBar, r.eImp, r.e2Imp, r.disp2 = make([]float64, capW), make([]float64, capW),
		make([]float64, capW), make([]float64, capW), make([]float64, capW)
	r.qImp = make([]float64, capW*r.nq)
	r.clipped = make([]int8, capW)
	r.w = make([]float64, capW)
	r.copies = make([]int, capW)
	for i := 0; i < capW; i++ {
		pcg := rand.NewPCG(p.cfg.Seed, uint64(i)+1)
		r.pcg = append(r.pcg, pcg)
		r.rng = append(r.rng, rand.New(pcg))
	}
	r.masterPCG = rand.NewPCG(p.cfg.Seed, 0)
	r.master = rand.New(r.masterPCG)
	r.b, r.s, r.multInvS2 = make([]float64, nh), make([]float64, nh), make([]float64, nh)
	r.invSqrt2g = make([]float64, n)
	for k, g := range p.guide.Kernel() {
		r.invSqrt2g[k] = 1 / math.Sqrt(2*g)
	}
	return r
}

func (r *runner) startWorkers() {
	for i := 0; i < r.p.cfg.Workers; i++ {
		n := r.n
		nh := r.nh
		w := &worker{ev: r.p.guide.NewEvaluator(), plan: latfft.NewPlan(r.p.lat.L, r.p.lat.Dim),
			phiNew: make([]float64, n), grad: make([]float64, n), gkNew: make([]complex128, nh),
			xi: make([]complex128, nh), dk: make([]complex128, nh),
			qNew: make([]float64, r.nq), proj: make([]float64, r.obs.projLen()), jobs: make(chan job)}
		r.workers = append(r.workers, w)
		go func() {
			for j := range w.jobs {
				for i := j.lo; i < j.hi; i++ {
					switch j.op {
					case opMove:
						r.move(w, i)
					case opRefresh:
						r.refresh(w, i)
					case opGaussian:
						r.gaussian(w, i)
						r.refresh(w, i)
					}
				}
				r.wg.Done()
			}
		}()
	}
}

func (r *runner) stopWorkers() {
	for _, w := range r.workers {
		close(w.jobs)
	}
	r.workers = nil
}

// parallel applies op to walker slots 0..m-1, split into contiguous ranges over the workers.
// Every slot draws from its own stream, so results do not depend on the number of workers.
func (r *runner) parallel(op int) {
	nw := len(r.workers)
	chunk := (r.m + nw - 1) / nw
	for i, w := range r.workers {
		lo, hi := i*chunk, min(r.m, (i+1)*chunk)
		if lo >= hi {
			continue
		}
		r.wg.Add(1)
		w.jobs <- job{op, lo, hi}
	}
	r.wg.Wait()
}

// setTau prepares the propagator of time step tau for the guide's kernel g.
func (r *runner) setTau(tau float64) {
	for h, g := range r.gHalf {
		r.b[h] = -math.Expm1(-g*tau) / g
		s2 := -math.Expm1(-2*g*tau) / (2 * g)
		r.s[h] = math.Sqrt(s2)
		r.multInvS2[h] = r.mult[h] / s2
	}
}

// gaussian draws slot i's field from the guide's Gaussian part, covariance (2G)^-1.
func (r *runner) gaussian(w *worker, i int) {
	rng := r.rng[i]
	tmp := w.phiNew
	for x := range tmp {
		tmp[x] = rng.NormFloat64()
	}
	w.plan.Convolve(r.phi[i*r.n:(i+1)*r.n], tmp, r.invSqrt2g)
}

// refresh recomputes slot i's derived quantities from its field.
func (r *runner) refresh(w *worker, i int) {
	n := r.n
	phi := r.phi[i*n : (i+1)*n]
	u, lap := w.ev.Derivs(phi, w.grad, nil)
	r.u[i] = u
	r.eloc[i] = r.p.model.LocalEnergy(phi, w.grad, lap).Total
	w.plan.ForwardHalf(r.gk[i*r.nh:(i+1)*r.nh], w.grad)
	r.obs.measure(phi, r.q[i*r.nq:(i+1)*r.nq], w.proj)
}

func (r *runner) clip(e float64) (float64, bool) {
	d := e - r.eRef
	if d > r.cut {
		return r.eRef + r.cut, true
	}
	if d < -r.cut {
		return r.eRef - r.cut, true
	}
	return e, false
}

// move moves the walker in slot i. The proposal is phi' = phi + B du/dphi + S xi, with B
// and S the circulant matrices of b_k and s_k: the exact Ornstein-Uhlenbeck step of the
// guide's Gaussian part with the rest of the drift held fixed over the step, done on the half
// spectrum of the real field. It records the Metropolis-Hastings acceptance probability p
// against Psi_T^2, the expected local energy of the weight and the improved (expected over
// accept/reject) estimators, then accepts with probability p.
func (r *runner) move(w *worker, i int) {
	n, nh := r.n, r.nh
	xi, dk := w.xi, w.dk
	w.plan.WhiteNoise(xi, r.rng[i])
	gk := r.gk[i*nh : (i+1)*nh]
	xiSq := 0.0
	for h := range dk {
		x := xi[h]
		xiSq += r.mult[h] * (real(x)*real(x) + imag(x)*imag(x))
		dk[h] = complex(r.b[h], 0)*gk[h] + complex(r.s[h], 0)*x
	}
	phiNew := w.phiNew
	w.plan.InverseHalf(phiNew, dk)
	phi := r.phi[i*n : (i+1)*n]
	d2 := 0.0
	for x, d := range phiNew {
		d2 += d * d
		phiNew[x] = phi[x] + d
	}
	u1, lap := w.ev.Derivs(phiNew, w.grad, nil)
	e1 := r.p.model.LocalEnergy(phiNew, w.grad, lap).Total
	gkNew := w.gkNew
	w.plan.ForwardHalf(gkNew, w.grad)
	// log T(phi <- phi') - log T(phi' <- phi): the reverse move needs the noise
	// -(b (G + G') + s xi)/s.
	rev := 0.0
	for h, g := range gk {
		z := complex(r.b[h], 0)*(g+gkNew[h]) + complex(r.s[h], 0)*xi[h]
		rev += (real(z)*real(z) + imag(z)*imag(z)) * r.multInvS2[h]
	}
	invN := 1 / float64(n)
	logA := 2*(u1-r.u[i]) - 0.5*invN*rev + 0.5*invN*xiSq
	p := 1.0
	if logA < 0 {
		p = math.Exp(logA)
	}
	if math.IsNaN(logA) || math.IsInf(u1, 0) || math.IsNaN(e1) || math.IsInf(e1, 0) {
		p = 0
	}
	e0 := r.eloc[i]
	q0 := r.q[i*r.nq : (i+1)*r.nq]
	qi := r.qImp[i*r.nq : (i+1)*r.nq]
	c0, cl0 := r.clip(e0)
	r.pAcc[i], r.disp2[i] = p, d2
	if p == 0 {
		r.eImp[i], r.e2Imp[i], r.eBar[i] = e0, e0*e0, c0
		copy(qi, q0)
		r.clipped[i] = b2i(cl0)
		return
	}
	r.obs.measure(phiNew, w.qNew, w.proj)
	c1, cl1 := r.clip(e1)
	pq := 1 - p
	r.eImp[i] = p*e1 + pq*e0
	r.e2Imp[i] = p*e1*e1 + pq*e0*e0
	r.eBar[i] = p*0.5*(c0+c1) + pq*c0
	r.clipped[i] = b2i(cl0) + b2i(cl1)
	for j, v := range w.qNew {
		qi[j] = p*v + pq*q0[j]
	}
	if p >= 1 || r.rng[i].Float64() < p {
		copy(r.phi[i*n:(i+1)*n], phiNew)
		copy(gk, gkNew)
		r.u[i], r.eloc[i] = u1, e1
		copy(q0, w.qNew)
	}
}

func b2i(b bool) int8 {
	if b {
		return 1
	}
	return 0
}

// comb writes into copies how many times each walker survives systematic (comb) resampling
// with weights w and offset u in [0, 1): walker i gets the teeth u + j of the comb that fall
// into its share [c_{i-1}, c_i) of the cumulative weights scaled to len(w). Every walker's
// expected number of copies is len(w) w_i / sum(w), and the copies add up to len(w).
func comb(w []float64, u float64, copies []int) {
	m := len(w)
	total := 0.0
	for _, x := range w {
		total += x
	}
	scale := float64(m) / total
	c, prev := 0.0, 0
	for i, x := range w {
		c += x * scale
		k := m
		if i < m-1 {
			k = int(math.Ceil(c - u))
			k = max(prev, min(m, k))
		}
		copies[i] = k - prev
		prev = k
	}
}

// reconfigure resamples the population by the comb with the weights in r.w, copying
// survivors into the slots of the walkers that die. Slots keep their random streams.
func (r *runner) reconfigure() {
	m := r.m
	comb(r.w[:m], r.master.Float64(), r.copies[:m])
	free := 0
	for i := 0; i < m; i++ {
		for extra := r.copies[i] - 1; extra > 0; extra-- {
			for r.copies[free] != 0 {
				free++
			}
			r.copyWalker(free, i)
			r.copies[free] = -1
		}
	}
}

func (r *runner) copyWalker(dst, src int) {
	n, nq, nh, nk := r.n, r.nq, r.histLen, r.nh
	copy(r.phi[dst*n:(dst+1)*n], r.phi[src*n:(src+1)*n])
	copy(r.gk[dst*nk:(dst+1)*nk], r.gk[src*nk:(src+1)*nk])
	r.u[dst], r.eloc[dst] = r.u[src], r.eloc[src]
	copy(r.q[dst*nq:(dst+1)*nq], r.q[src*nq:(src+1)*nq])
	copy(r.hist[dst*nh:(dst+1)*nh], r.hist[src*nh:(src+1)*nh])
}

// histEntry returns walker i's modes pushed k >= 1 pushes ago.
func (r *runner) histEntry(i, k int) []float64 {
	slot := ((r.pushes-k)%MaxLags + MaxLags) % MaxLags
	off := i*r.histLen + slot*r.nm
	return r.hist[off : off+r.nm]
}

func (r *runner) pushHistory() {
	slot := r.pushes % MaxLags
	for i := 0; i < r.m; i++ {
		off := i*r.histLen + slot*r.nm
		copy(r.hist[off:off+r.nm], r.q[i*r.nq+r.obs.mode0:(i+1)*r.nq])
	}
	r.pushes++
}

// generation advances every walker by one step and does the weights, the measurement and
// the population control.
func (r *runner) generation(sd *stageData) {
	r.parallel(opMove)
	m := r.m
	branch := sd.Kind != StageVMC
	tauEff := sd.tauEff()
	sumW := 0.0
	for i := 0; i < m; i++ {
		sd.TauEffNum += r.pAcc[i] * r.disp2[i]
		sd.TauEffDen += r.disp2[i]
		sd.AccSum += r.pAcc[i]
		sd.Clipped += int64(r.clipped[i])
		wi := 1.0
		if branch {
			wi = math.Exp(-tauEff * (r.eBar[i] - sd.ERef))
		}
		r.w[i] = wi
		sumW += wi
	}
	sd.Moves += int64(m)
	prev, _ := sd.cumAgo(1) // the value after the previous generation
	cum := prev + math.Log(sumW/float64(m))
	sd.Cum[(sd.Gen+1)%len(sd.Cum)] = cum
	if sd.Gen >= sd.EquilGens {
		r.measure(sd, sumW, cum)
	}
	if branch && sd.Lags > 0 && sd.Gen%sd.LagEvery == 0 {
		r.pushHistory()
	}
	if branch {
		r.reconfigure()
	}
}

// measure adds this generation's row to the stage's blocks.
func (r *runner) measure(sd *stageData, sumW, cum float64) {
	m, nq := r.m, r.nq
	row := r.row[:sd.Blocks.Width]
	for j := range row {
		row[j] = 0
	}
	var e, e2 float64
	qs := row[colQ : colQ+nq]
	for i := 0; i < m; i++ {
		wi := r.w[i] / sumW
		e += wi * r.eImp[i]
		e2 += wi * r.e2Imp[i]
		qi := r.qImp[i*nq : (i+1)*nq]
		for j, v := range qi {
			qs[j] += wi * v
		}
	}
	omega := 1.0
	if sd.Kind != StageVMC {
		if c, ok := sd.cumAgo(min(sd.ProductGens, sd.Gen+1)); ok {
			omega = math.Exp(cum - c)
		}
	}
	row[colCount] = 1
	row[colW] = omega
	row[colE] = omega * e
	row[colE2] = omega * e2
	row[colERaw] = e
	for j := range qs {
		qs[j] *= omega
	}
	if sd.Kind != StageVMC && sd.Lags > 0 && sd.Gen%sd.LagEvery == 0 {
		base := sd.corrBase(nq)
		for l := 0; l <= sd.Lags; l++ {
			if l > r.pushes {
				break
			}
			c, ok := sd.cumAgo(sd.ProductGens + l*sd.LagEvery)
			if !ok {
				break
			}
			ol := math.Exp(cum - c)
			var x0, x1 float64
			for i := 0; i < m; i++ {
				var a0, a1 float64
				if l == 0 {
					cur := r.q[i*nq+r.obs.mode0 : (i+1)*nq]
					a0, a1 = r.obs.correlations(cur, cur)
				} else {
					a0, a1 = r.obs.correlations(r.qImp[i*nq+r.obs.mode0:(i+1)*nq], r.histEntry(i, l))
				}
				wi := r.w[i] / sumW
				x0 += wi * a0
				x1 += wi * a1
			}
			row[base+3*l] = ol
			row[base+3*l+1] = ol * x0
			row[base+3*l+2] = ol * x1
		}
	}
	sd.Blocks.add(row)
}

// stageSpec is one stage of a run.
type stageSpec struct {
	kind    string
	point   int
	tau     float64
	walkers int
	time    float64
}

func (p *plan) stageSpecs() []stageSpec {
	taus := slices.Clone(p.cfg.Taus)
	slices.Sort(taus)
	slices.Reverse(taus)
	specs := []stageSpec{{StageVMC, -1, taus[0], p.cfg.Walkers, p.cfg.VMCTime}}
	for i, t := range taus {
		specs = append(specs, stageSpec{StageDMC, i, t, p.cfg.Walkers, p.cfg.Time})
	}
	if p.popWalkers > 0 {
		// The population bias is a property of the walker count; at the largest time step the
		// check costs least.
		specs = append(specs, stageSpec{StagePopulation, 0, taus[0], p.popWalkers, p.cfg.Time})
	}
	return specs
}

func gens(t, tau float64) int { return int(math.Ceil(t/tau - 1e-9)) }

// newStage sets up the data of stage spec, given the stages before it.
func (r *runner) newStage(spec stageSpec) (*stageData, error) {
	p := r.p
	// The first DMC stage starts from Psi_T^2 and must project; later ones start from the
	// previous stage's walkers, which differ only by the change of time step or population.
	equil := p.equilTime
	if len(r.stages) > 1 {
		equil /= 2
	}
	sd := &stageData{Kind: spec.kind, Point: spec.point, Tau: spec.tau, Walkers: spec.walkers, Cut: math.Inf(1),
		EquilGens: gens(equil, spec.tau), MeasGens: gens(spec.time, spec.tau)}
	width := colQ + r.nq
	if spec.kind != StageVMC {
		vm := r.summarizeVMC(r.stages[0])
		sigma := math.Sqrt(math.Max(vm.Variance.Value, 0))
		sd.Cut = math.Inf(1)
		if sigma > 0 {
			sd.Cut = CutSigmas * sigma / math.Sqrt(spec.tau)
		}
		prev := r.summarizeStage(r.stages[len(r.stages)-1])
		sd.ERef = prev.Energy.Value
		if math.IsNaN(sd.ERef) || math.IsInf(sd.ERef, 0) {
			return nil, fmt.Errorf("dmc: the %s stage before tau %v has no finite energy", r.stages[len(r.stages)-1].Kind, spec.tau)
		}
		if p.product > 0 {
			sd.ProductGens = max(1, int(math.Round(p.product/spec.tau)))
		}
		if p.lagTime > 0 {
			total := max(1, int(math.Round(p.lagTime/spec.tau)))
			sd.LagEvery = (total + MaxLags - 1) / MaxLags
			sd.Lags = max(1, total/sd.LagEvery)
			width += 3 * (sd.Lags + 1)
		}
	}
	sd.Cum = make([]float64, sd.ProductGens+sd.Lags*sd.LagEvery+2)
	sd.Blocks = newBlocks(width)
	return sd, nil
}

// resize changes the population to m walkers, filling new slots with copies of the first ones.
func (r *runner) resize(m int) {
	for i := r.m; i < m; i++ {
		r.copyWalker(i, i%r.m)
	}
	r.m = m
}

// beginStage creates the data of the next stage from its spec and adjusts the population.
func (r *runner) beginStage(spec stageSpec) error {
	sd, err := r.newStage(spec)
	if err != nil {
		return err
	}
	if spec.walkers != r.m {
		r.resize(spec.walkers)
	}
	r.pushes = 0
	r.stages = append(r.stages, sd)
	return nil
}

// prepare sets the propagator and scratch for stage sd.
func (r *runner) prepare(sd *stageData) {
	r.setTau(sd.Tau)
	r.eRef, r.cut = sd.ERef, sd.Cut
	if cap(r.row) < sd.Blocks.Width {
		r.row = make([]float64, sd.Blocks.Width)
	}
}

// runStage runs the generations of sd that are left.
func (r *runner) runStage(ctx context.Context, sd *stageData, progress func(Progress), save func() error) error {
	r.prepare(sd)
	total := sd.EquilGens + sd.MeasGens
	every := max(1, total/200)
	lastSave := time.Now()
	t0 := time.Now()
	secs0 := sd.Seconds
	for sd.Gen < total {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.generation(sd)
		sd.Gen++
		sd.Seconds = secs0 + time.Since(t0).Seconds()
		if progress != nil && (sd.Gen%every == 0 || sd.Gen == total) {
			pr := Progress{Stage: sd.Kind, Point: sd.Point, Tau: sd.Tau, Walkers: r.m, Generation: sd.Gen,
				Generations: total, Equilibrating: sd.Gen <= sd.EquilGens, Energy: math.NaN(),
				Acceptance: sd.AccSum / float64(sd.Moves)}
			if sd.Blocks.Rows > 0 {
				v := view{b: sd.Blocks}
				pr.Energy = v.sum(colE) / v.sum(colW)
			}
			progress(pr)
		}
		if save != nil && time.Since(lastSave).Seconds() > r.p.cfg.CheckpointSecs && sd.Gen < total {
			if err := save(); err != nil {
				return err
			}
			lastSave = time.Now()
		}
	}
	return nil
}

// RunWith measures the ground-state energy of h by importance-sampled DMC with the given
// guide, at every time step of cfg, extrapolates to tau = 0 and runs the population check at
// the largest time step; cfg.Guide, cfg.Train and cfg.Dir are not used (Run is the whole
// pipeline). progress, if not nil, is called from RunWith's goroutine. On cancellation it
// saves the checkpoint and returns the result of what was measured so far with ctx.Err().
//
// guide must not change during the run (its parameters are recorded in the checkpoint).
func RunWith(ctx context.Context, cfg Config, guide vmc.Wavefunction, h *hamiltonian.Model, progress func(Progress)) (*Result, error) {
	start := time.Now()
	p, err := newPlan(cfg, guide, h)
	if err != nil {
		return nil, err
	}
	r := newRunner(p)
	specs := p.stageSpecs()
	r.startWorkers()
	defer r.stopWorkers()
	seconds0 := 0.0
	if p.cfg.Resume {
		ck, err := loadCheckpoint(p.cfg.Checkpoint)
		if err != nil {
			return nil, err
		}
		if err := r.restore(ck); err != nil {
			return nil, err
		}
		seconds0 = ck.Seconds
		r.parallel(opRefresh)
	} else {
		r.parallel(opGaussian)
	}
	save := func() error {
		if p.cfg.Checkpoint == "" {
			return nil
		}
		return r.save(p.cfg.Checkpoint, seconds0+time.Since(start).Seconds())
	}
	var runErr error
	for r.stage < len(specs) {
		if r.stage == len(r.stages) {
			if err := r.beginStage(specs[r.stage]); err != nil {
				runErr = err
				break
			}
		}
		if err := r.runStage(ctx, r.stages[r.stage], progress, save); err != nil {
			runErr = err
			break
		}
		r.stage++
		if err := save(); err != nil {
			runErr = err
			break
		}
	}
	if runErr != nil && ctx.Err() != nil {
		if err := save(); err != nil {
			return nil, err
		}
	}
	res := r.result()
	res.L, res.Dim, res.M2, res.Lambda = h.L, h.Dim, h.M2, h.Lambda
	res.Seconds = seconds0 + time.Since(start).Seconds()
	return res, runErr
}
