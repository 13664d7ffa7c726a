package ed

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/lapack/gonum"
)

// lanczosResult is the outcome of one Lanczos run for the lowest eigenvalue of a sector.
type lanczosResult struct {
	value      float64
	iterations int
	residual   float64 // |H x - value x| of the Ritz vector, from the tridiagonal matrix
}

// lowest runs the three-term Lanczos recursion in the engine's current sector with the vectors
// v0, v1, v2 (each at least the sector's length) and returns the lowest eigenvalue.
//
// Only three vectors are kept, so orthogonality is not maintained beyond the last two; this
// affects the higher Ritz values (spurious copies) but not the lowest one, which converges
// before orthogonality is lost. The run stops when the residual r = beta_k |s_k| of the lowest
// Ritz pair bounds its error below tol*max(|E|, 1): either r itself is that small, or the
// Ritz value has stopped moving and the Kato-Temple estimate r^2/(theta_2 - theta_1) is.
func (e *engine) lowest(ctx context.Context, td *tridiag, v0, v1, v2 []float64, tol float64, seed uint64, progress func(it int, energy, residual float64)) (lanczosResult, error) {
	n := e.dim
	u, v, w := v0[:n], v1[:n], v2[:n]
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	for i := range v {
		v[i] = 2*rng.Float64() - 1
		u[i] = 0
	}
	nrm := math.Sqrt(e.dot(v, v))
	e.scale(v, 1/nrm)

	// A cancelled context also stops a product in flight (a 3x3 product takes seconds).
	e.stop.Store(false)
	defer context.AfterFunc(ctx, func() { e.stop.Store(true) })()

	td.reset()
	maxIter := td.capacity()
	betaPrev := 0.0
	prev := math.Inf(1)
	var res lanczosResult
	for k := 0; k < maxIter; k++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		e.matvec(w, v)
		if err := ctx.Err(); err != nil {
			return res, err
		}
		alpha := e.dot(w, v)
		e.update(w, -alpha, v, -betaPrev, u)
		// A second pass against v restores the local orthogonality that cancellation loses.
		c := e.dot(w, v)
		beta2 := e.update(w, -c, v, 0, u)
		alpha += c
		beta := math.Sqrt(beta2)
		if math.IsNaN(alpha) || math.IsInf(alpha, 0) || math.IsNaN(beta) || math.IsInf(beta, 0) {
			// checkScale keeps H small enough that this does not happen.
			return res, fmt.Errorf("lanczos: the matrix elements are not finite at iteration %d (alpha %v, beta %v)", k+1, alpha, beta)
		}
		td.push(alpha, beta)

		theta1, theta2 := td.lowestTwo()
		last := td.lastComponent(theta1)
		r := beta * math.Abs(last)
		if math.IsNaN(theta1) || math.IsNaN(r) {
			return res, fmt.Errorf("lanczos: the tridiagonal eigenproblem is not finite at iteration %d", k+1)
		}
		res = lanczosResult{value: theta1, iterations: k + 1, residual: r}
		if progress != nil {
			progress(k+1, theta1, r)
		}
		scale := math.Max(math.Abs(theta1), 1)
		gapEst := theta2 - theta1
		switch {
		case beta == 0:
			// The Krylov space is invariant: theta1 is exact in it. (Reaching k = n is not
			// enough: in floating point the basis is no longer orthogonal by then.)
			return res, nil
		case r <= tol*scale:
			return res, nil
		case math.Abs(prev-theta1) <= tol*scale && r*r <= tol*scale*gapEst:
			return res, nil
		}
		prev = theta1
		u, v, w = v, w, u
		e.scale(v, 1/beta)
		betaPrev = beta
	}
	return res, fmt.Errorf("lanczos did not converge in %d iterations (residual %.3g at E = %.15g)",
		maxIter, res.residual, res.value)
}

// tridiag accumulates the Lanczos tridiagonal matrix T (diagonal alpha, off-diagonal beta) and
// finds its lowest eigenpairs in O(k) per step: Sturm-sequence bisection for the eigenvalues and
// one step of inverse iteration for the eigenvector's last component.
type tridiag struct {
	alpha, beta         []float64
	dl, d, du, rhs, sol []float64 // workspace of the inverse iteration
}

func newTridiag(capacity int) *tridiag {
	return &tridiag{
		alpha: make([]float64, 0, capacity),
		beta:  make([]float64, 0, capacity),
		dl:    make([]float64, capacity),
		d:     make([]float64, capacity),
		du:    make([]float64, capacity),
		rhs:   make([]float64, capacity),
		sol:   make([]float64, capacity),
	}
}

func (t *tridiag) reset()        { t.alpha, t.beta = t.alpha[:0], t.beta[:0] }
func (t *tridiag) capacity() int { return cap(t.alpha) }

// tridiagBytes is the memory of newTridiag(capacity).
func tridiagBytes(capacity int) int64 { return 7 * 8 * int64(capacity) }

// push appends alpha to the diagonal; beta is the coupling to the next (not yet known) row.
func (t *tridiag) push(alpha, beta float64) {
	t.alpha = append(t.alpha, alpha)
	t.beta = append(t.beta, beta)
}

// countBelow returns the number of eigenvalues of T smaller than x (Sturm sequence).
func (t *tridiag) countBelow(x float64) int {
	count := 0
	q := 1.0
	for i, a := range t.alpha {
		b2 := 0.0
		if i > 0 {
			b2 = t.beta[i-1] * t.beta[i-1]
		}
		q = a - x - b2/q
		if q == 0 {
			q = -1e-300 // a zero pivot means x is an eigenvalue; count it as below
		}
		if q < 0 {
			count++
		}
	}
	return count
}

// maxBisections bounds the bisection: halving a finite float64 interval reaches adjacent numbers
// in at most about 2100 steps (the exponent range and the 53-bit mantissa).
const maxBisections = 2200

// eigenvalue returns the (j+1)-th smallest eigenvalue of T by bisection, or NaN when T is not
// finite. Each step costs O(k), and the number of steps is bounded, so the search ends in
// milliseconds whatever the entries.
func (t *tridiag) eigenvalue(j int) float64 {
	k := len(t.alpha)
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, a := range t.alpha {
		r := 0.0
		if i > 0 {
			r += math.Abs(t.beta[i-1])
		}
		if i < k-1 {
			r += math.Abs(t.beta[i])
		}
		lo = math.Min(lo, a-r)
		hi = math.Max(hi, a+r)
	}
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return math.NaN()
	}
	for i := 0; ; i++ {
		mid := 0.5 * (lo + hi)
		if math.IsInf(mid, 0) {
			mid = 0.5*lo + 0.5*hi // lo + hi overflowed
		}
		if mid <= lo || mid >= hi || i == maxBisections {
			return mid
		}
		if t.countBelow(mid) > j {
			hi = mid
		} else {
			lo = mid
		}
	}
}

// lowestTwo returns the two smallest eigenvalues of T (the second is +Inf when T is 1x1).
func (t *tridiag) lowestTwo() (float64, float64) {
	if len(t.alpha) == 1 {
		return t.alpha[0], math.Inf(1)
	}
	return t.eigenvalue(0), t.eigenvalue(1)
}

// lastComponent returns the last component of the normalised eigenvector of T for the
// eigenvalue theta, by inverse iteration with a shift just below theta.
func (t *tridiag) lastComponent(theta float64) float64 {
	k := len(t.alpha)
	if k == 1 {
		return 1
	}
	var lapack gonum.Implementation
	norm := 0.0
	for _, a := range t.alpha {
		norm = math.Max(norm, math.Abs(a))
	}
	for _, b := range t.beta[:k-1] {
		norm = math.Max(norm, math.Abs(b))
	}
	shift := theta - 1e-14*norm
	x := t.rhs[:k]
	for i := range x {
		x[i] = 1
	}
	if math.IsNaN(theta) || math.IsNaN(norm) || math.IsInf(norm, 0) {
		return math.NaN()
	}
	for it := 0; it < 2; it++ {
		for attempt := 0; ; attempt++ {
			if attempt == 30 {
				return math.NaN() // a singular shift 30 times over: T is degenerate beyond repair
			}
			copy(t.d[:k], t.alpha)
			for i := range t.d[:k] {
				t.d[i] -= shift
			}
			copy(t.dl[:k-1], t.beta[:k-1])
			copy(t.du[:k-1], t.beta[:k-1])
			y := t.sol[:k]
			copy(y, x) // keep x in case the solve fails
			if lapack.Dgtsv(k, 1, t.dl[:k-1], t.d[:k], t.du[:k-1], y, 1) {
				copy(x, y)
				break
			}
			shift -= 1e-12 * norm * math.Pow(10, float64(attempt))
		}
		s := 0.0
		for _, v := range x {
			s += v * v
		}
		s = 1 / math.Sqrt(s)
		for i := range x {
			x[i] *= s
		}
	}
	return x[k-1]
}
