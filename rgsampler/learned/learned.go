// Package learned provides a trainable score for the RG bridge sampler of package rgsampler
// (docs/samplers.md): at RG level i,
//
//	s(phi, t_i) = -grad S_eff(phi; t_i) + CNN(phi, t_i)
//	S_eff = sum_k (Z_i/2) q_i(k) |phi_k|^2/N + sum_x [ (m2_i/2) phi_x^2 + (lambda_i/24) phi_x^4 ]
//
// The effective action is interpretable: q_i is the free kernel that the diffusion implies for a
// Gaussian reference start, and the running couplings Z_i, m2_i, lambda_i, learned per level,
// are the RG flow of the theory that Couplings reports. The CNN is a small periodic,
// translation-equivariant network that corrects what S_eff cannot express: odd in phi (tanh,
// no biases), conditioned on the level by per-level channel gains (FiLM), with its own linear
// response to a uniform field subtracted so that it cannot take over the mass term.
//
// The noiseless level t = 0 cannot be learned by denoising; there S_eff alone is fitted in
// closed form by score matching, which recovers the couplings of a phi^4 target exactly (up to
// sampling error).
//
// Training is denoising score matching with gorgonia (first derivatives only). The periodic
// convolutions of the training graph are hand-written gorgonia ops (convop.go: the forward
// cross-correlation, its adjoint and its filter derivative), equal to the graph built from
// gorgonia's Conv2d with periodic padding by slices to 1e-10 and 4-8x faster per step. Sampling
// needs Eval to be fast and allocation-free, so Eval runs the same network with the trained
// weights copied out of gorgonia into plain Go, with the same periodic convolution.
//
// With Config.Reference the Gaussian start can be any translation-invariant Gaussian, for
// example the Gaussian part of a VMC wavefunction, and with Config.FixQuadratic only the
// interaction residual (lambda_i and the CNN) is learned on top of it.
package learned

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"

	"vqs/hamiltonian"
	"vqs/internal/latfft"
	"vqs/rgsampler"
)

// Config sets the network's size and the training. Zero fields take the defaults noted.
type Config struct {
	Channels     int     // channels of each hidden layer (default 4)
	Layers       int     // hidden convolution layers; an output layer follows (default 2)
	KernelSize   int     // odd side of the convolution kernels (default 3)
	LearningRate float64 // Adam step size (default 0.01)
	BatchSize    int     // samples per training step (default 32)
	Seed         uint64  // seed of the initial weights
	// RefM2 is the squared mass of the Gaussian reference start that defines q_i and the initial
	// m2_i; the Hartree mass of the target theory is a good choice (default 1, must be > 0).
	RefM2 float64
	// Reference, when not nil, is the per-mode covariance c0(k) of the Gaussian reference start
	// itself (length N, indexed like sites, all > 0), in place of 1/(p^2 + RefM2): for example
	// 1/(2 g) of a wavefunction's Gaussian part, so that the untrained model is the exact score
	// of that Gaussian at every level and training learns what the rest of the state adds.
	Reference []float64
	// OutputScale is the initial per-level scale of the CNN output, small so that training
	// starts from the effective action alone (default 0.01; negative: exactly 0, so that the
	// untrained model is its effective action, the exact score of its Gaussian reference).
	OutputScale float64
	// CNNPenalty weighs beta |CNN output|^2 in the training loss (same weights as the DSM
	// term). The CNN can mimic the mass and quartic terms, so without it the split between S_eff
	// and the CNN drifts and the couplings lose their meaning; with it S_eff takes everything it
	// can express and the CNN only the rest, shrunk by 1/(1+beta) (default 0.05; negative means 0).
	CNNPenalty float64
	// FixQuadratic keeps Z_i = 1 and m2_i at the Gaussian reference's values: the quadratic
	// part of S_eff stays the exact score of the reference at every level, and training learns
	// only lambda_i and the CNN, the interaction residual (as wavelet score models learn only
	// what the free propagator misses). SetReference moves m2_i with the reference.
	FixQuadratic bool
	// FitDraws is the number of noisy draws per level for the closed-form refit of the
	// couplings that ends every Train (default 512; negative turns the refit off).
	FitDraws int
}

func (c Config) withDefaults() (Config, error) {
	if c.Channels == 0 {
		c.Channels = 4
	}
	if c.Layers == 0 {
		c.Layers = 2
	}
	if c.KernelSize == 0 {
		c.KernelSize = 3
	}
	if c.LearningRate == 0 {
		c.LearningRate = 0.01
	}
	if c.BatchSize == 0 {
		c.BatchSize = 32
	}
	if c.RefM2 == 0 {
		c.RefM2 = 1
	}
	if c.OutputScale == 0 {
		c.OutputScale = 0.01
	} else if c.OutputScale < 0 {
		c.OutputScale = 0
	}
	if c.FitDraws == 0 {
		c.FitDraws = 512
	}
	if c.CNNPenalty == 0 {
		c.CNNPenalty = 0.05
	} else if c.CNNPenalty < 0 {
		c.CNNPenalty = 0
	}
	switch {
	case c.Channels < 1 || c.Layers < 1 || c.BatchSize < 1:
		return c, fmt.Errorf("learned: Channels, Layers and BatchSize must be positive, got %d, %d, %d",
			c.Channels, c.Layers, c.BatchSize)
	case c.KernelSize < 1 || c.KernelSize%2 == 0:
		return c, fmt.Errorf("learned: KernelSize must be odd and positive, got %d", c.KernelSize)
	case !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 0):
		return c, fmt.Errorf("learned: LearningRate must be positive, got %g", c.LearningRate)
	case !(c.RefM2 > 0) || math.IsInf(c.RefM2, 0):
		return c, fmt.Errorf("learned: RefM2 must be positive, got %g", c.RefM2)
	case !validCovariance(c.Reference):
		return c, errors.New("learned: the reference covariance must be finite and > 0 in every mode")
	case math.IsNaN(c.OutputScale) || math.IsInf(c.OutputScale, 0):
		return c, fmt.Errorf("learned: OutputScale must be finite, got %g", c.OutputScale)
	case math.IsNaN(c.CNNPenalty) || math.IsInf(c.CNNPenalty, 0):
		return c, fmt.Errorf("learned: CNNPenalty must be finite, got %g", c.CNNPenalty)
	}
	return c, nil
}

func validCovariance(c []float64) bool {
	for _, v := range c {
		if !(v > 0) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// Coupling is one row of the learned RG flow: the couplings of S_eff at one level.
type Coupling struct {
	Level  int
	Time   float64 // RG time t_i of the level
	Z      float64 // scale of the free kernel q_i (1 for the Gaussian reference)
	M2     float64 // squared mass m2_i
	Lambda float64 // quartic coupling lambda_i (multiplying phi^4/4!)
}

// geometry is the lattice as the convolutions see it: extents (nz, ny, nx), x fastest, which
// is the site layout of rgsampler (axis 0 fastest); missing axes have extent 1 and kernel 1.
type geometry struct {
	dims       []int
	n          int
	nz, ny, nx int
	kz, ky, kx int // kernel extents
}

func newGeometry(dims []int, k int) (geometry, error) {
	if len(dims) < 1 || len(dims) > 3 {
		return geometry{}, fmt.Errorf("learned: the network handles 1 to 3 lattice axes, got %d", len(dims))
	}
	g := geometry{dims: append([]int(nil), dims...), nz: 1, ny: 1, nx: dims[0], kz: 1, ky: 1, kx: k}
	if len(dims) >= 2 {
		g.ny, g.ky = dims[1], k
	}
	if len(dims) == 3 {
		g.nz, g.kz = dims[2], k
	}
	for _, L := range dims {
		if L < k/2 {
			// Periodic padding wraps once; a kernel wider than that would have to wrap twice.
			return geometry{}, fmt.Errorf("learned: kernel size %d needs lattice sides of at least %d, got %v", k, k/2, dims)
		}
	}
	g.n = g.nz * g.ny * g.nx
	return g, nil
}

// params are the trainable numbers in plain slices; the gorgonia trainer mirrors them.
type params struct {
	conv [][]float64 // layer l: (cout, kz*cin, ky, kx), input channel index dz*cin + c
	gain [][]float64 // hidden layer l: (levels, channels), multiplies the convolution (FiLM)
	out  []float64   // (levels) scale of the CNN output
	z    []float64   // (levels)
	m2   []float64   // (levels)
	lam  []float64   // (levels)
}

func (p params) clone() params {
	c := params{out: cloneF(p.out), z: cloneF(p.z), m2: cloneF(p.m2), lam: cloneF(p.lam)}
	for _, w := range p.conv {
		c.conv = append(c.conv, cloneF(w))
	}
	for _, w := range p.gain {
		c.gain = append(c.gain, cloneF(w))
	}
	return c
}

// all lists every parameter slice in a fixed order (the trainer's and the tests' order).
func (p params) all() [][]float64 {
	var s [][]float64
	s = append(s, p.conv...)
	s = append(s, p.gain...)
	return append(s, p.out, p.z, p.m2, p.lam)
}

func cloneF(x []float64) []float64 { return append([]float64(nil), x...) }

var (
	_ rgsampler.Trainer       = (*Model)(nil)
	_ rgsampler.Covariancer   = (*Model)(nil)
	_ rgsampler.SpectralScore = (*Model)(nil)
)

// Model is the learned score. It implements rgsampler.Trainer and rgsampler.Covariancer. A Model is not safe for
// concurrent use: give each goroutine its own Clone.
type Model struct {
	cfg    Config
	geo    geometry
	levels int
	times  []float64
	a, v   [][]float64 // per level, per mode: the marginal level 0 -> i
	sqrtV  [][]float64
	invSV  [][]float64 // 1/sqrt(v), zero where v = 0
	q      [][]float64 // per level, per mode: the reference free kernel, q_i(0) = 0
	weight []float64   // per level: the DSM loss weight, mean_k v_i(k); 0 for noiseless levels
	cov    [][]float64 // per level, per mode: the Gaussian approximation Covariance returns
	p      params

	plan   *latfft.Plan
	qHalf  [][]float64 // per level: q on the half spectrum
	bufA   []float64   // channels*n
	bufB   []float64   // channels*n
	bufOut []float64   // n
	chanA  []float64   // channels
	chanB  []float64   // channels

	tr *trainer // built on the first Train
}

// New returns an untrained model for the diffusion d: S_eff at its Gaussian reference values
// (Z = 1, m2_i from the reference start, lambda = 0) and a CNN whose output starts small.
// d must have 1 to 3 axes.
func New(d *rgsampler.Diffusion, cfg Config) (*Model, error) {
	if d == nil {
		return nil, errors.New("learned: nil diffusion")
	}
	return newModel(d.Dims(), d, cfg)
}

// schedule is what the model needs of a diffusion (the tests also use a stand-in).
type schedule interface {
	Levels() int
	Time(level int) float64
	Marginal(level int) (a, v []float64)
}

func newModel(dims []int, d schedule, cfg Config) (*Model, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	geo, err := newGeometry(dims, cfg.KernelSize)
	if err != nil {
		return nil, err
	}
	K := d.Levels()
	if K < 1 {
		return nil, errors.New("learned: the diffusion has no levels")
	}
	plan, err := latfft.NewBoxPlan(geo.dims)
	if err != nil {
		return nil, err
	}
	m := &Model{cfg: cfg, geo: geo, levels: K, plan: plan}
	c0 := cfg.Reference
	if c0 == nil {
		c0 = hamiltonian.MomentumSquared(geo.dims)
		for k := range c0 {
			c0[k] = 1 / (c0[k] + cfg.RefM2)
		}
	} else if len(c0) != geo.n {
		return nil, fmt.Errorf("learned: the reference covariance has %d modes, the lattice %d", len(c0), geo.n)
	}
	m.cfg.Reference = cloneF(c0)
	trainable := 0
	for i := 0; i < K; i++ {
		a, v := d.Marginal(i)
		if len(a) != geo.n || len(v) != geo.n {
			return nil, fmt.Errorf("learned: level %d marginal has %d, %d modes, want %d", i, len(a), len(v), geo.n)
		}
		a, v = cloneF(a), cloneF(v)
		sv, isv := make([]float64, geo.n), make([]float64, geo.n)
		vmax, vmin, vsum := 0.0, math.Inf(1), 0.0
		for k := range v {
			if !(v[k] >= 0) || math.IsInf(v[k], 0) || math.IsNaN(a[k]) || math.IsInf(a[k], 0) {
				return nil, fmt.Errorf("learned: level %d marginal is not finite with v >= 0 at mode %d", i, k)
			}
			sv[k] = math.Sqrt(v[k])
			if v[k] > 0 {
				isv[k] = 1 / sv[k]
			}
			vmax, vmin, vsum = math.Max(vmax, v[k]), math.Min(vmin, v[k]), vsum+v[k]
		}
		w, out := 0.0, 0.0
		switch {
		case vmax == 0:
			// A noiseless level (the target, t = 0): denoising cannot train it, so S_eff alone is
			// fitted there in closed form (fitNoiseless) and the CNN is off.
		case vmin == 0:
			return nil, fmt.Errorf("learned: level %d leaves some modes noiseless: denoising score matching is undefined there", i)
		default:
			w, out = vsum/float64(geo.n), cfg.OutputScale
			trainable++
		}
		q := make([]float64, geo.n)
		cz := a[0]*a[0]*c0[0] + v[0]
		for k := range q {
			ck := a[k]*a[k]*c0[k] + v[k]
			q[k] = 1/ck - 1/cz
		}
		m.times = append(m.times, d.Time(i))
		m.a, m.v, m.sqrtV, m.invSV = append(m.a, a), append(m.v, v), append(m.sqrtV, sv), append(m.invSV, isv)
		m.q, m.weight = append(m.q, q), append(m.weight, w)
		m.qHalf = append(m.qHalf, plan.HalfKernel(nil, q))
		cov := make([]float64, geo.n)
		for k := range cov {
			cov[k] = a[k]*a[k]*c0[k] + v[k]
		}
		m.cov = append(m.cov, cov)
		m.p.z = append(m.p.z, 1)
		m.p.m2 = append(m.p.m2, 1/cz)
		m.p.lam = append(m.p.lam, 0)
		m.p.out = append(m.p.out, out)
	}
	if trainable == 0 {
		return nil, errors.New("learned: the diffusion has no level with noise to train on")
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6c6561726e6564))
	cin := 1
	for l := 0; l <= cfg.Layers; l++ {
		cout := cfg.Channels
		if l == cfg.Layers {
			cout = 1
		}
		fan := cin * geo.kz * geo.ky * geo.kx
		w := make([]float64, cout*fan)
		// Unit-variance preactivations for unit-variance inputs: tanh starts in its linear range
		// but not vanishingly so.
		std := 1 / math.Sqrt(float64(fan))
		for j := range w {
			w[j] = std * rng.NormFloat64()
		}
		m.p.conv = append(m.p.conv, w)
		if l < cfg.Layers {
			g := make([]float64, K*cout)
			for j := range g {
				g[j] = 1
			}
			m.p.gain = append(m.p.gain, g)
		}
		cin = cout
	}
	m.allocBuffers()
	return m, nil
}

func (m *Model) allocBuffers() {
	m.bufA = make([]float64, m.cfg.Channels*m.geo.n)
	m.bufB = make([]float64, m.cfg.Channels*m.geo.n)
	m.bufOut = make([]float64, m.geo.n)
	m.chanA = make([]float64, m.cfg.Channels)
	m.chanB = make([]float64, m.cfg.Channels)
}

// SetReference replaces the Gaussian reference c0 (as Config.Reference) and keeps what was
// learned on top of it: q_i and the level covariances follow the new reference, and each m2_i
// moves by the change of the reference's own 1/C_i(0), so that a model that was the exact score
// of the old Gaussian is that of the new one, and a trained model keeps its deviations. It is
// the warm start of a score whose target moves, as a VMC wavefunction does between iterations.
// Clones made before the call keep the old reference.
func (m *Model) SetReference(c0 []float64) error {
	if len(c0) != m.geo.n || !validCovariance(c0) {
		return fmt.Errorf("learned: a reference covariance needs %d finite, positive modes", m.geo.n)
	}
	old := m.cfg.Reference
	m.cfg.Reference = cloneF(c0)
	q, qh, cov := make([][]float64, m.levels), make([][]float64, m.levels), make([][]float64, m.levels)
	for i := range q {
		a, v := m.a[i], m.v[i]
		czOld := a[0]*a[0]*old[0] + v[0]
		cz := a[0]*a[0]*c0[0] + v[0]
		q[i], cov[i] = make([]float64, m.geo.n), make([]float64, m.geo.n)
		for k := range q[i] {
			cov[i][k] = a[k]*a[k]*c0[k] + v[k]
			q[i][k] = 1/cov[i][k] - 1/cz
		}
		qh[i] = m.plan.HalfKernel(nil, q[i])
		m.p.m2[i] += 1/cz - 1/czOld
	}
	m.q, m.qHalf, m.cov = q, qh, cov
	return nil
}

// Levels returns the number of RG levels of the diffusion the model was built for.
func (m *Model) Levels() int { return m.levels }

// Couplings returns the learned running couplings of S_eff, one row per level. Levels with
// noise are learned by denoising score matching (with the CNN alongside); the noiseless target
// level t = 0 by the closed-form score-matching fit of S_eff alone (see Train).
func (m *Model) Couplings() []Coupling {
	rows := make([]Coupling, m.levels)
	for i := range rows {
		rows[i] = Coupling{Level: i, Time: m.times[i], Z: m.p.z[i], M2: m.p.m2[i], Lambda: m.p.lam[i]}
	}
	return rows
}

// WriteCouplingsCSV writes the learned flow of the couplings as CSV with the header
// level,time,z,m2,lambda,method; method is "dsm" (denoising score matching, S_eff plus CNN) or
// "sm" (the closed-form score-matching fit of S_eff at the noiseless level).
func (m *Model) WriteCouplingsCSV(w io.Writer) error {
	buf := []byte("level,time,z,m2,lambda,method\n")
	for _, c := range m.Couplings() {
		buf = strconv.AppendInt(buf, int64(c.Level), 10)
		for _, x := range []float64{c.Time, c.Z, c.M2, c.Lambda} {
			buf = append(buf, ',')
			buf = strconv.AppendFloat(buf, x, 'g', -1, 64)
		}
		if m.weight[c.Level] > 0 {
			buf = append(buf, ",dsm\n"...)
		} else {
			buf = append(buf, ",sm\n"...)
		}
	}
	_, err := w.Write(buf)
	return err
}

// Covariance returns the per-mode covariance of the Gaussian approximation of level i, for
// the bridge's posterior reverse kernel (rgsampler.Covariancer); shared, do not modify. The
// diffusion is linear, so level i's covariance is exactly a_i^2 C_0 + v_i with C_0 the target's;
// Train estimates C_0 by the structure factor of its samples, and before any training the
// reference (Config.Reference, or 1/(p^2 + RefM2)) stands in.
func (m *Model) Covariance(level int) []float64 { return m.cov[level] }

// fitCovariance sets the covariances from the structure factor S(k) = <|phi_k|^2>/N of the
// samples, in new slices so that clones holding the old ones are unaffected.
func (m *Model) fitCovariance(samples [][]float64) {
	n := m.geo.n
	sf := make([]float64, n)
	m.plan.StructureFactor(sf, samples)
	cov := make([][]float64, m.levels)
	for i := range cov {
		cov[i] = make([]float64, n)
		for k := range sf {
			cov[i][k] = m.a[i][k]*m.a[i][k]*sf[k] + m.v[i][k]
		}
	}
	m.cov = cov
}

// Clone returns an independent copy with equal parameters and its own buffers. The copy does
// not share the optimizer's state: training it starts a fresh Adam.
func (m *Model) Clone() rgsampler.Score { return m.clone() }

func (m *Model) clone() *Model {
	c := *m
	c.p = m.p.clone()
	c.plan, _ = latfft.NewBoxPlan(m.geo.dims) // the dims were validated by New
	c.tr = nil
	c.allocBuffers()
	return &c
}

// Eval writes the score at level into dst (length N) for the field phi. It does not allocate.
// An out-of-range level or a wrong length panics, like an index out of range.
func (m *Model) Eval(dst, phi []float64, level int) {
	n := m.geo.n
	if len(dst) != n || len(phi) != n {
		panic(fmt.Sprintf("learned: Eval with fields of length %d, %d on %d sites", len(dst), len(phi), n))
	}
	m.cnn(m.bufOut, phi, level)
	m.plan.Convolve(dst, phi, m.q[level])
	z, m2, lam6 := m.p.z[level], m.p.m2[level], m.p.lam[level]/6
	for x, f := range phi {
		dst[x] = m.bufOut[x] - z*dst[x] - f*(m2+lam6*f*f)
	}
}

// NeedsField reports that the network needs the field in real space at every level.
func (m *Model) NeedsField(int) bool { return true }

// EvalSpectrum writes the half spectrum of the score at level into dst (rgsampler.SpectralScore):
// the network and the local terms in real space, one forward transform, and the kernel term
// -Z q phi_k directly on the given spectrum phiK. It does not allocate.
func (m *Model) EvalSpectrum(dst []complex128, phi []float64, phiK []complex128, level int) {
	n := m.geo.n
	if len(phi) != n || len(dst) != len(m.qHalf[level]) || len(phiK) != len(dst) {
		panic(fmt.Sprintf("learned: EvalSpectrum with fields of length %d, %d, %d on %d sites", len(dst), len(phi), len(phiK), n))
	}
	m.cnn(m.bufOut, phi, level)
	z, m2, lam6 := m.p.z[level], m.p.m2[level], m.p.lam[level]/6
	for x, f := range phi {
		m.bufOut[x] -= f * (m2 + lam6*f*f)
	}
	m.plan.ForwardHalf(dst, m.bufOut)
	for h, q := range m.qHalf[level] {
		dst[h] -= complex(z*q, 0) * phiK[h]
	}
}

// Train fits the model to the level-0 samples. Noisy levels get steps Adam steps of denoising
// score matching with gorgonia, drawing samples, levels and noise from rng; the optimizer's
// state carries over between calls. Then, with the CNN fixed, the couplings of every noisy
// level are set to the exact minimum of the DSM loss over FitDraws fresh draws (the score is
// linear in them): Adam leaves them jittering by about its step size in the directions the data
// determine weakly, and the couplings are what Couplings reports. A noiseless level (t = 0), where denoising is undefined,
// gets S_eff alone fitted first by score matching (Hyvarinen), which for S_eff linear in its
// couplings is a 3x3 linear solve: for a phi^4 target it recovers the action's own couplings.
func (m *Model) Train(ctx context.Context, samples [][]float64, steps int, rng *rand.Rand) error {
	if len(samples) == 0 {
		return errors.New("learned: no samples to train on")
	}
	for j, s := range samples {
		if len(s) != m.geo.n {
			return fmt.Errorf("learned: sample %d has %d sites, want %d", j, len(s), m.geo.n)
		}
	}
	m.fitCovariance(samples)
	if err := m.fitNoiseless(samples); err != nil {
		return err
	}
	if m.tr == nil {
		tr, err := newTrainer(m)
		if err != nil {
			return err
		}
		m.tr = tr
	}
	m.tr.load(m.p)
	for s := 0; s < steps; s++ {
		if err := ctx.Err(); err != nil {
			m.tr.store(&m.p)
			return err
		}
		m.tr.fillBatch(samples, rng)
		if err := m.tr.step(); err != nil {
			m.tr.store(&m.p)
			return fmt.Errorf("learned: training step %d: %w", s, err)
		}
	}
	m.tr.store(&m.p)
	if steps > 0 && m.cfg.FitDraws > 0 {
		return m.refitCouplings(ctx, samples, rng)
	}
	return nil
}

// Loss returns the DSM loss of score (the model itself when nil) on draws noisy copies of the
// level-0 samples, with levels, samples and noise from rng: the mean over draws of
// w_i/N |s(phi_i) + K_{1/sqrt v_i} xi|^2, the loss that Train minimizes. With the same rng
// state two scores see the same draws, so their losses compare without noise from the draws.
func (m *Model) Loss(score interface {
	Eval(dst, phi []float64, level int)
}, samples [][]float64, draws int, rng *rand.Rand) (float64, error) {
	if score == nil {
		score = m
	}
	if len(samples) == 0 || draws < 1 {
		return 0, errors.New("learned: Loss needs samples and draws")
	}
	n := m.geo.n
	phi, target, s, xi := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	total := 0.0
	for d := 0; d < draws; d++ {
		i := m.drawLevel(rng)
		phi0 := samples[rng.IntN(len(samples))]
		if len(phi0) != n {
			return 0, fmt.Errorf("learned: sample with %d sites, want %d", len(phi0), n)
		}
		m.noisy(phi, target, xi, phi0, i, rng)
		score.Eval(s, phi, i)
		sum := 0.0
		for x := range s {
			r := s[x] - target[x]
			sum += r * r
		}
		total += m.weight[i] * sum / float64(n)
	}
	return total / float64(draws), nil
}

// drawLevel picks a trainable level uniformly.
func (m *Model) drawLevel(rng *rand.Rand) int {
	for {
		i := rng.IntN(m.levels)
		if m.weight[i] > 0 {
			return i
		}
	}
}

// noisy draws phi_i = K_a phi0 + K_sqrt(v) xi and writes it to phi, with the conditional score
// -(K_{1/v})(phi_i - K_a phi0) = -K_{1/sqrt v} xi to target. xi is scratch.
func (m *Model) noisy(phi, target, xi, phi0 []float64, level int, rng *rand.Rand) {
	for x := range xi {
		xi[x] = rng.NormFloat64()
	}
	m.plan.Convolve(target, xi, m.invSV[level])
	m.plan.Convolve(xi, xi, m.sqrtV[level])
	m.plan.Convolve(phi, phi0, m.a[level])
	for x := range phi {
		phi[x] += xi[x]
		target[x] = -target[x]
	}
}
