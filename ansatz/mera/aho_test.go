package mera

import (
	"flag"
	"math"
	"testing"
)

// ahoE0 is the ground-state energy of H = p^2/2 + x^2/2 + x^4 (docs/physics.md, "Exact results").
const ahoE0 = 0.803770651234274

// quadrature evaluates <H> = int Psi^2 E_loc / int Psi^2 and its gradient
// 2 <(E_loc - E)(O - <O>)> for a single-site ansatz by the trapezoid rule on a uniform grid,
// which converges exponentially for these smooth, fast-decaying integrands.
type quadrature struct {
	a    *Ansatz
	ws   *Workspace
	grid []float64
	o    []float64
}

func newQuadrature(a *Ansatz, halfWidth float64, points int) *quadrature {
	q := &quadrature{a: a, ws: a.NewWorkspace(), o: make([]float64, a.NumParams())}
	for i := 0; i < points; i++ {
		q.grid = append(q.grid, -halfWidth+2*halfWidth*float64(i)/float64(points-1))
	}
	return q
}

// energy returns <H> and, when grad is not nil, writes dE/dtheta into it.
func (q *quadrature) energy(grad []float64) float64 {
	phi := make([]float64, 1)
	n := len(q.grid)
	logw := make([]float64, n)
	umax := math.Inf(-1)
	for i, x := range q.grid {
		phi[0] = x
		logw[i] = 2 * q.a.LogPsi(q.ws, phi)
		umax = math.Max(umax, logw[i])
	}
	var z, e float64
	el := make([]float64, n)
	w := make([]float64, n)
	for i, x := range q.grid {
		phi[0] = x
		w[i] = math.Exp(logw[i] - umax)
		el[i] = localEnergy(q.a, q.ws, phi).Total
		z += w[i]
		e += w[i] * el[i]
	}
	e /= z
	if grad != nil {
		for j := range grad {
			grad[j] = 0
		}
		eo := make([]float64, len(grad))
		for i, x := range q.grid {
			phi[0] = x
			logDerivParams(q.a, q.ws, phi, q.o)
			for j, v := range q.o {
				eo[j] += w[i] * (el[i] - e) * v
			}
		}
		// sum_i w_i (E_loc - E) = 0, so <O> need not be subtracted.
		for j := range grad {
			grad[j] = 2 * eo[j] / z
		}
	}
	return e
}

// optimizeAHO minimises the quadrature energy of the L = 1 ansatz over theta with BFGS.
func optimizeAHO(t *testing.T, width, iters int) (*Ansatz, float64) {
	m := mustModel(t, 1, 1, 1, 24)
	a := mustNew(t, m, Config{Scales: -1, Width: width})
	q := newQuadrature(a, 5, 301)
	set := func(y []float64) {
		if err := a.SetParams(y); err != nil {
			t.Fatal(err)
		}
	}
	obj := func(y, g []float64) float64 {
		set(y)
		return q.energy(g)
	}
	y := a.Params(nil)
	x, done := bfgs(obj, y, iters)
	t.Logf("width %d: %d BFGS iterations", width, done)
	set(x)
	return a, q.energy(nil)
}

var slow = flag.Bool("vqs.slow", false, "run the long optimisations")

// TestAnharmonicOscillator shows that the L = 1 family reaches the exact anharmonic-oscillator
// ground-state energy: the optimum found on a coarse grid is re-evaluated on a finer, wider one,
// and since every state is variational it must lie above E0 (up to the quadrature error).
func TestAnharmonicOscillator(t *testing.T) {
	iters := 300
	if *slow {
		iters = 5000
	}
	for _, width := range []int{1, 2} {
		a, e := optimizeAHO(t, width, iters)
		fine := newQuadrature(a, 8, 2401).energy(nil)
		rel := (fine - ahoE0) / ahoE0
		t.Logf("width %d: E = %.15f on the fine grid (coarse %.15f), relative error %.3g", width, fine, e, rel)
		if math.Abs(fine-e) > 1e-12 {
			t.Errorf("quadrature not converged: %v vs %v", fine, e)
		}
		if rel < -1e-12 || rel > 2e-5 {
			t.Errorf("width %d: E = %.15f, relative error %.3g, want 0 <= error <= 2e-5", width, fine, rel)
		}
	}
}

// At L = 1 the Hartree start is the Gaussian of frequency M = 2 with E = 0.8125 (docs/physics.md).
func TestAnharmonicHartreeStart(t *testing.T) {
	a := mustNew(t, mustModel(t, 1, 1, 1, 24), Config{Scales: -1, Width: 2})
	if g := a.GaussianKernel()[0]; math.Abs(g-2) > 1e-12 {
		t.Errorf("g = %v, want M = 2", g)
	}
	if e := newQuadrature(a, 8, 801).energy(nil); math.Abs(e-0.8125) > 1e-12 {
		t.Errorf("E = %.15f, want 0.8125", e)
	}
}

// bfgs minimises f (which writes its gradient into g) from x0 by BFGS with a backtracking
// Armijo line search, and returns the best point and the number of iterations.
func bfgs(f func(x, g []float64) float64, x0 []float64, maxIter int) ([]float64, int) {
	n := len(x0)
	x := append([]float64(nil), x0...)
	g := make([]float64, n)
	fx := f(x, g)
	h := make([]float64, n*n) // inverse Hessian estimate
	for i := 0; i < n; i++ {
		h[i*n+i] = 1
	}
	xn, gn, p, s, yv, hy := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	it := 0
	for ; it < maxIter; it++ {
		gmax := 0.0
		for _, v := range g {
			gmax = math.Max(gmax, math.Abs(v))
		}
		if gmax < 1e-11 {
			break
		}
		slope := 0.0
		for i := 0; i < n; i++ {
			p[i] = 0
			for j := 0; j < n; j++ {
				p[i] -= h[i*n+j] * g[j]
			}
			slope += p[i] * g[i]
		}
		if slope >= 0 { // lost descent: restart from steepest descent
			for i := range h {
				h[i] = 0
			}
			slope = 0
			for i := 0; i < n; i++ {
				h[i*n+i] = 1
				p[i] = -g[i]
				slope -= g[i] * g[i]
			}
		}
		step, fn := 1.0, 0.0
		ok := false
		for k := 0; k < 60; k++ {
			for i := range x {
				xn[i] = x[i] + step*p[i]
			}
			fn = f(xn, gn)
			if fn <= fx+1e-4*step*slope {
				ok = true
				break
			}
			step /= 2
		}
		if !ok {
			break
		}
		sy := 0.0
		for i := range x {
			s[i] = xn[i] - x[i]
			yv[i] = gn[i] - g[i]
			sy += s[i] * yv[i]
		}
		copy(x, xn)
		copy(g, gn)
		fx = fn
		if sy <= 1e-300 {
			continue
		}
		yhy := 0.0
		for i := 0; i < n; i++ {
			hy[i] = 0
			for j := 0; j < n; j++ {
				hy[i] += h[i*n+j] * yv[j]
			}
			yhy += yv[i] * hy[i]
		}
		// H += (1 + y.Hy/sy) s s^T / sy - (Hy s^T + s (Hy)^T) / sy
		c := (1 + yhy/sy) / sy
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				h[i*n+j] += c*s[i]*s[j] - (hy[i]*s[j]+s[i]*hy[j])/sy
			}
		}
	}
	return x, it
}
