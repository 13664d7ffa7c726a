package vmc

import (
	"encoding/json"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Optimizer turns the energy gradient into a parameter update. It is passed to Run as a value
// (Config.Optimizer); one that keeps state between steps implements Stateful, so that a
// checkpoint carries it.
type Optimizer interface {
	// Step returns the update dtheta from the centred log-derivatives of the samples.
	// o holds n rows of P centred values O_i - <O_i>, e the centred local energies E_loc - E,
	// lr the learning rate of this iteration.
	Step(o *mat.Dense, e []float64, lr float64) ([]float64, error)
	// DefaultLR is the learning rate used when Config.LR is 0.
	DefaultLR() float64
}

// Stateful is an Optimizer with state between steps (Adam's moments) that a checkpoint must
// carry to resume exactly.
type Stateful interface {
	MarshalState() ([]byte, error)
	UnmarshalState([]byte) error
}

// gradient returns dE/dtheta = 2 <(E_loc - E)(O - <O>)>.
func gradient(o *mat.Dense, e []float64) []float64 {
	n, p := o.Dims()
	g := make([]float64, p)
	ev := mat.NewVecDense(n, e)
	gv := mat.NewVecDense(p, g)
	gv.MulVec(o.T(), ev)
	gv.ScaleVec(2/float64(n), gv)
	return g
}

// Defaults of the optimisers, in one place (the CLI registers its flags from them).
const (
	DefaultSRShift = 0.001 // SR relative diagonal shift, in units of each parameter's own Var(O)
	DefaultSREps   = 1e-6  // SR absolute diagonal shift
	DefaultSRLR    = 0.05  // SR imaginary-time step
	DefaultAdamLR  = 0.01  // Adam step size
)

// SR is stochastic reconfiguration (imaginary-time evolution projected on the ansatz):
// (S + shift) dtheta = -lr F with S = cov(O, O) and F = cov(E_loc, O) = gradient/2. The shift
// is Shift * diag(S) + Eps. With more parameters than samples it solves in sample space
// (minSR): dtheta = -lr X^T (X X^T + Eps)^-1 e, X the centred O / sqrt(n).
type SR struct {
	Shift float64 // relative diagonal shift (0: DefaultSRShift)
	Eps   float64 // absolute diagonal shift (0: DefaultSREps)
}

// DefaultLR implements Optimizer.
func (SR) DefaultLR() float64 { return DefaultSRLR }

// Step implements Optimizer.
func (s SR) Step(o *mat.Dense, e []float64, lr float64) ([]float64, error) {
	n, p := o.Dims()
	shift, eps := s.Shift, s.Eps
	if shift == 0 {
		shift = DefaultSRShift
	}
	if eps == 0 {
		eps = DefaultSREps
	}
	inv := 1 / float64(n)
	if p <= n {
		var smat mat.SymDense
		smat.SymOuterK(inv, o.T())
		// Solve with the regularised matrix A = S + Shift diag(S) + Eps scaled to unit diagonal,
		// D^-1 A D^-1 (D^2 = diag A): the same step, but the parameters' O can differ by many
		// orders of magnitude in spread, and unscaled that alone makes A numerically singular.
		scale := make([]float64, p)
		for i := 0; i < p; i++ {
			scale[i] = 1 / math.Sqrt(smat.At(i, i)*(1+shift)+eps)
		}
		for i := 0; i < p; i++ {
			for j := i; j < p; j++ {
				v := smat.At(i, j) * scale[i] * scale[j]
				if i == j {
					v = 1
				}
				smat.SetSym(i, j, v)
			}
		}
		f := gradient(o, e)
		for i := range f {
			f[i] *= -lr / 2 * scale[i]
		}
		var ch mat.Cholesky
		if ok := ch.Factorize(&smat); !ok {
			return nil, fmt.Errorf("vmc: SR matrix is not positive definite")
		}
		var d mat.VecDense
		if err := ch.SolveVecTo(&d, mat.NewVecDense(p, f)); err != nil {
			return nil, fmt.Errorf("vmc: SR solve: %w", err)
		}
		out := d.RawVector().Data
		for i := range out {
			out[i] *= scale[i]
		}
		return out, nil
	}
	// Sample space: T = X X^T (n x n), X = o / sqrt(n).
	var t mat.SymDense
	t.SymOuterK(inv, o)
	for i := 0; i < n; i++ {
		t.SetSym(i, i, t.At(i, i)+eps)
	}
	var ch mat.Cholesky
	if ok := ch.Factorize(&t); !ok {
		return nil, fmt.Errorf("vmc: minSR matrix is not positive definite")
	}
	ev := make([]float64, n)
	sq := math.Sqrt(inv)
	for i, x := range e {
		ev[i] = x * sq
	}
	var y mat.VecDense
	if err := ch.SolveVecTo(&y, mat.NewVecDense(n, ev)); err != nil {
		return nil, fmt.Errorf("vmc: minSR solve: %w", err)
	}
	d := mat.NewVecDense(p, nil)
	d.MulVec(o.T(), &y)
	d.ScaleVec(-lr*sq, d)
	return d.RawVector().Data, nil
}

// Adam is the Adam optimiser on the plain energy gradient. Its zero value is ready to use,
// with the usual defaults (Beta1 0.9, Beta2 0.999, Epsilon 1e-8); the moments are sized at
// the first step. Pass a pointer, &Adam{}: it keeps state.
type Adam struct {
	Beta1, Beta2, Epsilon float64
	M, V                  []float64 // first and second moment estimates
	T                     int       // steps taken
}

// DefaultLR implements Optimizer.
func (a *Adam) DefaultLR() float64 { return DefaultAdamLR }

// MarshalState implements Stateful.
func (a *Adam) MarshalState() ([]byte, error) { return json.Marshal(a) }

// UnmarshalState implements Stateful.
func (a *Adam) UnmarshalState(b []byte) error { return json.Unmarshal(b, a) }

// Step implements Optimizer.
func (a *Adam) Step(o *mat.Dense, e []float64, lr float64) ([]float64, error) {
	g := gradient(o, e)
	if a.Beta1 == 0 && a.Beta2 == 0 && a.Epsilon == 0 {
		a.Beta1, a.Beta2, a.Epsilon = 0.9, 0.999, 1e-8
	}
	if len(a.M) != len(g) || len(a.V) != len(g) {
		if a.T > 0 {
			return nil, fmt.Errorf("vmc: Adam has moments for %d parameters, the gradient has %d", len(a.M), len(g))
		}
		a.M, a.V = make([]float64, len(g)), make([]float64, len(g))
	}
	a.T++
	b1t := 1 - math.Pow(a.Beta1, float64(a.T))
	b2t := 1 - math.Pow(a.Beta2, float64(a.T))
	d := make([]float64, len(g))
	for i, gi := range g {
		a.M[i] = a.Beta1*a.M[i] + (1-a.Beta1)*gi
		a.V[i] = a.Beta2*a.V[i] + (1-a.Beta2)*gi*gi
		d[i] = -lr * (a.M[i] / b1t) / (math.Sqrt(a.V[i]/b2t) + a.Epsilon)
	}
	return d, nil
}

// Schedule returns the learning rate at iteration it of total: constant for the first half,
// then a cosine decay to a tenth, so that the last iterations average out the noise.
func Schedule(lr float64, it, total int) float64 {
	half := total / 2
	if it < half || total-half <= 0 {
		return lr
	}
	x := float64(it-half) / float64(total-half)
	return lr * (0.1 + 0.9*0.5*(1+math.Cos(math.Pi*x)))
}
