package learned

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// trainer holds the gorgonia graph of the DSM loss for one batch size, built once and reused
// (docs/gorgonia.md: one graph, one TapeMachine, Reset before every RunAll). Inputs are
// tensors over slices that the trainer owns and refills in place every step.
type trainer struct {
	m *Model
	// gorgoniaConv builds the convolutions from gorgonia's Conv2d with hand-made periodic
	// padding, as before the hand-written ops (convop.go): the reference they are tested and
	// benchmarked against.
	gorgoniaConv bool
	g            *G.ExprGraph
	vm           G.VM
	solver       *G.AdamSolver
	params       G.Nodes // in the order of params.all
	trainable    G.Nodes // params less the couplings Config.FixQuadratic holds fixed
	model        []G.ValueGrad

	// input data, refilled per batch
	x      []float64 // (B*nz, 1, ny, nx): the noisy fields
	phi    []float64 // (B, N): the same fields
	phi3   []float64 // (B, N): phi^3/6
	qphi   []float64 // (B, N): K_{q_i} phi
	target []float64 // (B, N): the conditional score
	eb     []float64 // (B, K): one-hot level of each sample
	ez     []float64 // (B*nz, K): the same, once per z-slice
	w      []float64 // (B): loss weight w_i/(B N)
	xi     []float64 // N, scratch
	levels []int     // (B): level of each sample, for the tests

	lossVal, scoreVal G.Value
}

func newTrainer(m *Model) (*trainer, error) { return newTrainerWith(m, false) }

func newTrainerWith(m *Model, gorgoniaConv bool) (*trainer, error) {
	t := &trainer{m: m, gorgoniaConv: gorgoniaConv}
	if err := t.build(); err != nil {
		return nil, fmt.Errorf("learned: building the training graph: %w", err)
	}
	return t, nil
}

// build constructs the graph. Errors from gorgonia are returned, not panicked.
func (t *trainer) build() (err error) {
	defer func() {
		// gorgonia panics on some shape errors; keep them inside the package.
		if r := recover(); r != nil {
			err = fmt.Errorf("gorgonia: %v", r)
		}
	}()
	m := t.m
	geo, cfg := m.geo, m.cfg
	B, K, N, C := cfg.BatchSize, m.levels, geo.n, cfg.Channels
	BZ := B * geo.nz
	t.x = make([]float64, BZ*geo.ny*geo.nx)
	t.phi, t.phi3 = make([]float64, B*N), make([]float64, B*N)
	t.qphi, t.target = make([]float64, B*N), make([]float64, B*N)
	t.eb, t.ez = make([]float64, B*K), make([]float64, BZ*K)
	t.w, t.xi, t.levels = make([]float64, B), make([]float64, N), make([]int, B)

	g := G.NewGraph()
	t.g = g
	input := func(name string, data []float64, shape ...int) *G.Node {
		v := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
		return G.NewTensor(g, tensor.Float64, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(v))
	}
	var x *G.Node
	if t.gorgoniaConv {
		x = input("x", t.x, BZ, 1, geo.ny, geo.nx)
	} else {
		x = input("x", t.x, B, 1, N)
	}
	phi := input("phi", t.phi, B, N)
	phi3 := input("phi3", t.phi3, B, N)
	qphi := input("qphi", t.qphi, B, N)
	target := input("target", t.target, B, N)
	eb := input("eb", t.eb, B, K)
	ez := eb
	if geo.nz > 1 && t.gorgoniaConv {
		ez = input("ez", t.ez, BZ, K)
	}
	w := input("w", t.w, B)

	param := func(name string, data []float64, shape ...int) *G.Node {
		v := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(cloneF(data)))
		n := G.NewTensor(g, tensor.Float64, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(v))
		t.params = append(t.params, n)
		return n
	}
	var convW, gainW []*G.Node
	cin := 1
	for l := 0; l <= cfg.Layers; l++ {
		cout := C
		if l == cfg.Layers {
			cout = 1
		}
		convW = append(convW, param(fmt.Sprintf("conv%d", l), m.p.conv[l], cout, geo.kz*cin, geo.ky, geo.kx))
		cin = cout
	}
	for l := 0; l < cfg.Layers; l++ {
		gainW = append(gainW, param(fmt.Sprintf("gain%d", l), m.p.gain[l], K, C))
	}
	outW := param("out", m.p.out, K)
	nFixed := len(t.params)
	zW := param("z", m.p.z, K)
	m2W := param("m2", m.p.m2, K)
	lamW := param("lambda", m.p.lam, K)
	t.trainable = append(G.Nodes(nil), t.params...)
	if cfg.FixQuadratic {
		t.trainable = append(t.trainable[:nFixed:nFixed], lamW)
	}

	h, cin := x, 1
	for l := 0; l <= cfg.Layers; l++ {
		cout := C
		if l == cfg.Layers {
			cout = 1
		}
		if t.gorgoniaConv {
			h, err = t.periodicConv(h, convW[l], cin, cout)
		} else {
			h, err = G.ApplyOp(convOp{geo: geo, cin: cin, cout: cout, batch: B}, h, convW[l])
		}
		if err != nil {
			return err
		}
		if l < cfg.Layers {
			gain, err := G.Mul(ez, gainW[l])
			if err != nil {
				return err
			}
			if t.gorgoniaConv {
				if gain, err = G.Reshape(gain, tensor.Shape{BZ, C, 1, 1}); err == nil {
					h, err = G.BroadcastHadamardProd(h, gain, nil, []byte{2, 3})
				}
			} else {
				if gain, err = G.Reshape(gain, tensor.Shape{B, C, 1}); err == nil {
					h, err = G.BroadcastHadamardProd(h, gain, nil, []byte{2})
				}
			}
			if err != nil {
				return err
			}
			if h, err = G.Tanh(h); err != nil {
				return err
			}
		}
		cin = cout
	}
	cnn, err := G.Reshape(h, tensor.Shape{B, N})
	if err != nil {
		return err
	}
	lin, err := t.uniformResponse(convW, gainW, eb)
	if err != nil {
		return err
	}
	if lin, err = G.BroadcastHadamardProd(phi, lin, nil, []byte{1}); err != nil {
		return err
	}
	if cnn, err = G.Sub(cnn, lin); err != nil {
		return err
	}
	perSample := func(vec *G.Node, field *G.Node) (*G.Node, error) {
		c, err := G.Mul(eb, vec)
		if err != nil {
			return nil, err
		}
		if c, err = G.Reshape(c, tensor.Shape{B, 1}); err != nil {
			return nil, err
		}
		return G.BroadcastHadamardProd(field, c, nil, []byte{1})
	}
	scaledCNN, err := perSample(outW, cnn)
	if err != nil {
		return err
	}
	score := scaledCNN
	for _, term := range []struct{ coupling, field *G.Node }{{zW, qphi}, {m2W, phi}, {lamW, phi3}} {
		v, err := perSample(term.coupling, term.field)
		if err != nil {
			return err
		}
		if score, err = G.Sub(score, v); err != nil {
			return err
		}
	}
	diff, err := G.Sub(score, target)
	if err != nil {
		return err
	}
	sq, err := G.Square(diff)
	if err != nil {
		return err
	}
	if cfg.CNNPenalty > 0 {
		// beta |cnn|^2 per site, added before the per-sample weights.
		csq, err := G.Square(scaledCNN)
		if err != nil {
			return err
		}
		pen, err := G.Mul(csq, G.NewConstant(cfg.CNNPenalty))
		if err != nil {
			return err
		}
		if sq, err = G.Add(sq, pen); err != nil {
			return err
		}
	}
	perB, err := G.Sum(sq, 1)
	if err != nil {
		return err
	}
	weighted, err := G.HadamardProd(perB, w)
	if err != nil {
		return err
	}
	loss, err := G.Sum(weighted)
	if err != nil {
		return err
	}
	G.Read(loss, &t.lossVal)
	G.Read(score, &t.scoreVal)
	if _, err = G.Grad(loss, t.trainable...); err != nil {
		return err
	}
	t.vm = G.NewTapeMachine(g, G.BindDualValues(t.trainable...))
	t.solver = G.NewAdamSolver(G.WithLearnRate(cfg.LearningRate))
	t.model = G.NodesToValueGrads(t.trainable)
	return nil
}

// uniformResponse is the graph version of Model.uniformResponse, per sample: (B, 1).
func (t *trainer) uniformResponse(convW, gainW []*G.Node, eb *G.Node) (*G.Node, error) {
	geo, cfg := t.m.geo, t.m.cfg
	C := cfg.Channels
	var u *G.Node // (B, cin)
	cin := 1
	for l := 0; l <= cfg.Layers; l++ {
		cout := C
		if l == cfg.Layers {
			cout = 1
		}
		w, err := G.Reshape(convW[l], tensor.Shape{cout, geo.kz, cin, geo.ky * geo.kx})
		if err != nil {
			return nil, err
		}
		if w, err = G.Sum(w, 1, 3); err != nil { // (cout, cin)
			return nil, err
		}
		if w, err = G.Reshape(w, tensor.Shape{cout, cin}); err != nil {
			return nil, err
		}
		if u == nil {
			// First layer: cin = 1, the response is the column w for every sample.
			if u, err = G.Reshape(w, tensor.Shape{1, cout}); err != nil {
				return nil, err
			}
		} else {
			wt, err := G.Transpose(w)
			if err != nil {
				return nil, err
			}
			if u, err = G.Mul(u, wt); err != nil { // (B, cout)
				return nil, err
			}
		}
		if l < cfg.Layers {
			g, err := G.Mul(eb, gainW[l]) // (B, C)
			if err != nil {
				return nil, err
			}
			if l == 0 {
				u, err = G.BroadcastHadamardProd(g, u, nil, []byte{0})
			} else {
				u, err = G.HadamardProd(g, u)
			}
			if err != nil {
				return nil, err
			}
		}
		cin = cout
	}
	return u, nil
}

// periodicConv is the graph version of the package-level periodicConv: h is (B*nz, cin, ny, nx).
// z-shifted copies are stacked as channels (index dz*cin + c), y and x are padded periodically
// by wrapping slices, and Conv2d with no zero padding does the rest.
func (t *trainer) periodicConv(h, filter *G.Node, cin, cout int) (*G.Node, error) {
	geo := t.m.geo
	B, BZ := t.m.cfg.BatchSize, t.m.cfg.BatchSize*geo.nz
	var err error
	if geo.kz > 1 {
		plane := cin * geo.ny * geo.nx
		h3, err := G.Reshape(h, tensor.Shape{B, geo.nz, plane})
		if err != nil {
			return nil, err
		}
		var stack []*G.Node
		for dz := 0; dz < geo.kz; dz++ {
			s := mod(dz-geo.kz/2, geo.nz)
			r := h3
			if s != 0 {
				if r, err = wrap(h3, 1, s, []int{B, geo.nz, plane}); err != nil {
					return nil, err
				}
			}
			if r, err = G.Reshape(r, tensor.Shape{BZ, cin, geo.ny, geo.nx}); err != nil {
				return nil, err
			}
			stack = append(stack, r)
		}
		if h, err = G.Concat(1, stack...); err != nil {
			return nil, err
		}
	}
	c := cin * geo.kz
	if py := geo.ky / 2; py > 0 {
		if h, err = pad(h, 2, py, []int{BZ, c, geo.ny, geo.nx}); err != nil {
			return nil, err
		}
	}
	if px := geo.kx / 2; px > 0 {
		if h, err = pad(h, 3, px, []int{BZ, c, geo.ny + 2*(geo.ky/2), geo.nx}); err != nil {
			return nil, err
		}
	}
	return G.Conv2d(h, filter, tensor.Shape{geo.ky, geo.kx}, []int{0, 0}, []int{1, 1}, []int{1, 1})
}

// slab slices [from, to) along axis of a node of the given shape and restores the axis that
// Slice drops when it has length 1.
func slab(h *G.Node, axis, from, to int, shape []int) (*G.Node, error) {
	sl := make([]tensor.Slice, len(shape))
	sl[axis] = G.S(from, to)
	r, err := G.Slice(h, sl...)
	if err != nil {
		return nil, err
	}
	sh := append([]int(nil), shape...)
	sh[axis] = to - from
	return G.Reshape(r, tensor.Shape(sh))
}

// wrap rolls h along axis so that the result at index j holds h at (j+s) mod n, 0 < s < n.
func wrap(h *G.Node, axis, s int, shape []int) (*G.Node, error) {
	n := shape[axis]
	a, err := slab(h, axis, s, n, shape)
	if err != nil {
		return nil, err
	}
	b, err := slab(h, axis, 0, s, shape)
	if err != nil {
		return nil, err
	}
	return G.Concat(axis, a, b)
}

// pad extends h periodically by p sites on both ends of axis (p <= the axis length).
func pad(h *G.Node, axis, p int, shape []int) (*G.Node, error) {
	n := shape[axis]
	left, err := slab(h, axis, n-p, n, shape)
	if err != nil {
		return nil, err
	}
	right, err := slab(h, axis, 0, p, shape)
	if err != nil {
		return nil, err
	}
	return G.Concat(axis, left, h, right)
}

// fillBatch draws a batch: for every slot a sample, a trainable level and noise.
func (t *trainer) fillBatch(samples [][]float64, rng *rand.Rand) {
	m := t.m
	B, N := m.cfg.BatchSize, m.geo.n
	clear(t.eb)
	clear(t.ez)
	for b := 0; b < B; b++ {
		i := m.drawLevel(rng)
		t.levels[b] = i
		phi0 := samples[rng.IntN(len(samples))]
		phi, target := t.phi[b*N:(b+1)*N], t.target[b*N:(b+1)*N]
		m.noisy(phi, target, t.xi, phi0, i, rng)
		t.fillDerived(b, i)
	}
}

// fillDerived fills the inputs of slot b that follow from its field t.phi[b] and level i.
func (t *trainer) fillDerived(b, i int) {
	m := t.m
	B, K, N, nz := m.cfg.BatchSize, m.levels, m.geo.n, m.geo.nz
	phi := t.phi[b*N : (b+1)*N]
	copy(t.x[b*N:(b+1)*N], phi)
	m.plan.Convolve(t.qphi[b*N:(b+1)*N], phi, m.q[i])
	for x, f := range phi {
		t.phi3[b*N+x] = f * f * f / 6
	}
	for k := 0; k < K; k++ {
		t.eb[b*K+k] = 0
	}
	t.eb[b*K+i] = 1
	for z := 0; z < nz; z++ {
		row := t.ez[(b*nz+z)*K : (b*nz+z+1)*K]
		clear(row)
		row[i] = 1
	}
	t.w[b] = m.weight[i] / float64(B*N)
}

// run evaluates the graph (forward and backward) on the current batch.
func (t *trainer) run() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("gorgonia: %v", r)
		}
	}()
	t.vm.Reset()
	return t.vm.RunAll()
}

// step runs the graph on the current batch and takes one Adam step.
func (t *trainer) step() error {
	if err := t.run(); err != nil {
		return err
	}
	return t.solver.Step(t.model)
}

// loss returns the loss of the last run.
func (t *trainer) loss() float64 { return t.lossVal.Data().(float64) }

// load copies the plain parameters into the graph's parameter values.
func (t *trainer) load(p params) {
	for j, src := range p.all() {
		copy(t.params[j].Value().Data().([]float64), src)
	}
}

// store copies the graph's parameter values into the plain parameters.
func (t *trainer) store(p *params) {
	for j, dst := range p.all() {
		copy(dst, t.params[j].Value().Data().([]float64))
	}
}
