package learned

import (
	"fmt"
	"hash"
	"hash/fnv"
	"runtime"
	"sync"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The periodic convolution as gorgonia ops, written by hand. gorgonia's Conv2d pads with zeros
// only, so the graph used to build the periodic padding out of slices and concatenations, stack
// z-shifted copies for 3D lattices and run im2col and a matrix product: most of a training
// step, and hundreds of megabytes of allocation. These ops do the periodic cross-correlation of
// periodicConv directly (forward), its adjoint in the input (backward) and its derivative in the
// filter, on tensors laid out like the plain-Go network: (batch, channels, sites) with the
// sites of one channel contiguous, z slowest and x fastest.
//
// convOp :: (x (B, cin, N), w (cout, kz*cin, ky, kx)) -> (B, cout, N)
type convOp struct {
	geo       geometry
	cin, cout int
	batch     int
}

// convInputGradOp :: (dy (B, cout, N), w) -> dx (B, cin, N), the adjoint of convOp in x.
type convInputGradOp struct{ convOp }

// convFilterGradOp :: (x (B, cin, N), dy (B, cout, N)) -> dw (cout, kz*cin, ky, kx).
type convFilterGradOp struct{ convOp }

func tensorT(d int) G.TensorType { return G.TensorType{Dims: d, Of: hm.TypeVariable('a')} }

func (op convOp) Arity() int { return 2 }
func (op convOp) Type() hm.Type {
	return hm.NewFnType(tensorT(3), tensorT(4), tensorT(3))
}
func (op convOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.batch, op.cout, op.geo.n}, nil
}
func (op convOp) filterShape() tensor.Shape {
	return tensor.Shape{op.cout, op.geo.kz * op.cin, op.geo.ky, op.geo.kx}
}
func (op convOp) ReturnsPtr() bool     { return false }
func (op convOp) CallsExtern() bool    { return false }
func (op convOp) OverwritesInput() int { return -1 }
func (op convOp) String() string {
	return fmt.Sprintf("periodicConv<%v, batch %d, %d->%d, k %dx%dx%d>", op.geo.dims, op.batch, op.cin, op.cout, op.geo.kz, op.geo.ky, op.geo.kx)
}
func (op convOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op convOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op convOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op convOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 2 {
		return nil, fmt.Errorf("%v: %d inputs", op, len(inputs))
	}
	dx, err := G.ApplyOp(convInputGradOp{op}, grad, inputs[1])
	if err != nil {
		return nil, err
	}
	dw, err := G.ApplyOp(convFilterGradOp{op}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw}, nil
}

// floats returns the float64 backing of a value, or an error for anything else.
func floats(v G.Value, want int) ([]float64, error) {
	d, ok := v.Data().([]float64)
	if !ok || len(d) != want {
		return nil, fmt.Errorf("learned: convolution op got %T of %d values, want %d float64", v.Data(), len(d), want)
	}
	return d, nil
}

func (op convOp) newValue(shape tensor.Shape) G.Value {
	return tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(shape...))
}

func (op convOp) Do(in ...G.Value) (G.Value, error) {
	return op.UsePreallocDo(op.newValue(tensor.Shape{op.batch, op.cout, op.geo.n}), in...)
}

func (op convOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	n := op.geo.n
	x, err := floats(in[0], op.batch*op.cin*n)
	if err != nil {
		return nil, err
	}
	w, err := floats(in[1], op.filterShape().TotalSize())
	if err != nil {
		return nil, err
	}
	y, err := floats(prealloc, op.batch*op.cout*n)
	if err != nil {
		return nil, err
	}
	forBatch(op.batch, func(b int) {
		periodicConv(op.geo, y[b*op.cout*n:(b+1)*op.cout*n], x[b*op.cin*n:(b+1)*op.cin*n], w, op.cin, op.cout)
	})
	return prealloc, nil
}

// The gradient ops are never differentiated again (vqs takes no second derivatives).
func (op convInputGradOp) DiffWRT(int) []bool  { return []bool{false, false} }
func (op convFilterGradOp) DiffWRT(int) []bool { return []bool{false, false} }

func (op convInputGradOp) String() string { return "d" + op.convOp.String() + "/dx" }
func (op convInputGradOp) WriteHash(h hash.Hash) {
	fmt.Fprint(h, op.String())
}
func (op convInputGradOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op convInputGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.batch, op.cin, op.geo.n}, nil
}
func (op convInputGradOp) Do(in ...G.Value) (G.Value, error) {
	return op.UsePreallocDo(op.newValue(tensor.Shape{op.batch, op.cin, op.geo.n}), in...)
}
func (op convInputGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	n := op.geo.n
	dy, err := floats(in[0], op.batch*op.cout*n)
	if err != nil {
		return nil, err
	}
	w, err := floats(in[1], op.filterShape().TotalSize())
	if err != nil {
		return nil, err
	}
	dx, err := floats(prealloc, op.batch*op.cin*n)
	if err != nil {
		return nil, err
	}
	forBatch(op.batch, func(b int) {
		periodicConvAdjoint(op.geo, dx[b*op.cin*n:(b+1)*op.cin*n], dy[b*op.cout*n:(b+1)*op.cout*n], w, op.cin, op.cout)
	})
	return prealloc, nil
}

func (op convFilterGradOp) String() string { return "d" + op.convOp.String() + "/dw" }
func (op convFilterGradOp) WriteHash(h hash.Hash) {
	fmt.Fprint(h, op.String())
}
func (op convFilterGradOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op convFilterGradOp) Type() hm.Type {
	return hm.NewFnType(tensorT(3), tensorT(3), tensorT(4))
}
func (op convFilterGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.filterShape(), nil
}
func (op convFilterGradOp) Do(in ...G.Value) (G.Value, error) {
	return op.UsePreallocDo(op.newValue(op.filterShape()), in...)
}
func (op convFilterGradOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	n := op.geo.n
	x, err := floats(in[0], op.batch*op.cin*n)
	if err != nil {
		return nil, err
	}
	dy, err := floats(in[1], op.batch*op.cout*n)
	if err != nil {
		return nil, err
	}
	dw, err := floats(prealloc, op.filterShape().TotalSize())
	if err != nil {
		return nil, err
	}
	// Each worker sums its share of the batch into its own filter, then they are added in a
	// fixed order, so that the result does not depend on the scheduling.
	parts := make([][]float64, workers(op.batch))
	var wg sync.WaitGroup
	for p := range parts {
		parts[p] = make([]float64, len(dw))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := p; b < op.batch; b += len(parts) {
				periodicConvFilterGrad(op.geo, parts[p], x[b*op.cin*n:(b+1)*op.cin*n], dy[b*op.cout*n:(b+1)*op.cout*n], op.cin, op.cout)
			}
		}()
	}
	wg.Wait()
	clear(dw)
	for _, part := range parts {
		for j, v := range part {
			dw[j] += v
		}
	}
	return prealloc, nil
}

// workers is the number of goroutines for a batch: one per CPU, at most one per sample.
func workers(batch int) int { return max(1, min(batch, runtime.GOMAXPROCS(0))) }

// forBatch runs f(b) for every sample of a batch, spread over the CPUs; samples are
// independent, so the result does not depend on the split.
func forBatch(batch int, f func(b int)) {
	nw := workers(batch)
	if nw == 1 {
		for b := range batch {
			f(b)
		}
		return
	}
	var wg sync.WaitGroup
	for p := range nw {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := p; b < batch; b += nw {
				f(b)
			}
		}()
	}
	wg.Wait()
}

// periodicConvAdjoint writes the adjoint of periodicConv applied to dy (cout channels) into dx
// (cin channels): dx[c](r) = sum_{o,taps} w[o][tap] dy[o](r - s_tap), the transpose of
// out[o](r) = sum w in[c](r + s_tap).
func periodicConvAdjoint(g geometry, dx, dy, w []float64, cin, cout int) {
	n := g.n
	pz, py, px := g.kz/2, g.ky/2, g.kx/2
	clear(dx[:cin*n])
	j := 0
	for o := 0; o < cout; o++ {
		srcC := dy[o*n : (o+1)*n]
		for dz := 0; dz < g.kz; dz++ {
			sz := mod(dz-pz, g.nz)
			for c := 0; c < cin; c++ {
				dstC := dx[c*n : (c+1)*n]
				for dy := 0; dy < g.ky; dy++ {
					sy := mod(dy-py, g.ny)
					for ddx := 0; ddx < g.kx; ddx++ {
						sx := mod(ddx-px, g.nx)
						wt := w[j]
						j++
						back := mod(-sx, g.nx)
						for z := 0; z < g.nz; z++ {
							zs := z + sz
							if zs >= g.nz {
								zs -= g.nz
							}
							for y := 0; y < g.ny; y++ {
								ys := y + sy
								if ys >= g.ny {
									ys -= g.ny
								}
								// out row (z, y) read in row (zs, ys) shifted by sx; the adjoint
								// adds the out row into the in row shifted back.
								d := dstC[(zs*g.ny+ys)*g.nx : (zs*g.ny+ys+1)*g.nx]
								s := srcC[(z*g.ny+y)*g.nx : (z*g.ny+y+1)*g.nx]
								axpyShift(d, s, wt, back)
							}
						}
					}
				}
			}
		}
	}
}

// periodicConvFilterGrad adds to dw (the filter's shape) the derivative of sum dy . out with
// respect to the filter: dw[o][tap] += sum_r dy[o](r) in[c](r + s_tap).
func periodicConvFilterGrad(g geometry, dw, in, dy []float64, cin, cout int) {
	n := g.n
	pz, py, px := g.kz/2, g.ky/2, g.kx/2
	j := 0
	for o := 0; o < cout; o++ {
		gC := dy[o*n : (o+1)*n]
		for dz := 0; dz < g.kz; dz++ {
			sz := mod(dz-pz, g.nz)
			for c := 0; c < cin; c++ {
				srcC := in[c*n : (c+1)*n]
				for dy := 0; dy < g.ky; dy++ {
					sy := mod(dy-py, g.ny)
					for ddx := 0; ddx < g.kx; ddx++ {
						sx := mod(ddx-px, g.nx)
						sum := 0.0
						for z := 0; z < g.nz; z++ {
							zs := z + sz
							if zs >= g.nz {
								zs -= g.nz
							}
							for y := 0; y < g.ny; y++ {
								ys := y + sy
								if ys >= g.ny {
									ys -= g.ny
								}
								a := gC[(z*g.ny+y)*g.nx : (z*g.ny+y+1)*g.nx]
								s := srcC[(zs*g.ny+ys)*g.nx : (zs*g.ny+ys+1)*g.nx]
								sum += dotShift(a, s, sx)
							}
						}
						dw[j] += sum
						j++
					}
				}
			}
		}
	}
}

// dotShift returns sum_x a[x] s[(x+sx) mod len], with 0 <= sx < len(s).
func dotShift(a, s []float64, sx int) float64 {
	nx := len(a)
	head, src := a[:nx-sx], s[sx:]
	sum := 0.0
	for x := range head {
		sum += head[x] * src[x]
	}
	tail := a[nx-sx:]
	for x := range tail {
		sum += tail[x] * s[x]
	}
	return sum
}
