package mera

import (
	"math"

	"vqs/internal/latfft"
)

// Workspace holds the buffers of one goroutine's evaluations. Make one per goroutine with
// NewWorkspace; it belongs to the Ansatz that made it.
type Workspace struct {
	plan   *latfft.Plan
	gphi   []float64    // G phi
	modes  []float64    // |phi_k|^2 / N
	fields [][]float64  // Phi^(s) for s >= 1 (level 0 is phi itself)
	grads  [][]float64  // du/dPhi^(s) for s >= 1
	u      []float64    // the current patch
	gslot  []float64    // du_loc/du_i of the current patch
	buf    []complex128 // phi_k
}

// NewWorkspace returns buffers for evaluating a.
func (a *Ansatz) NewWorkspace() *Workspace {
	m := a.model
	ws := &Workspace{
		plan:   latfft.NewPlan(m.L, m.Dim),
		gphi:   make([]float64, m.N),
		modes:  make([]float64, m.N),
		fields: make([][]float64, len(a.levels)),
		grads:  make([][]float64, len(a.levels)),
		u:      make([]float64, a.slots),
		gslot:  make([]float64, a.slots),
		buf:    make([]complex128, m.N),
	}
	for s := 1; s < len(a.levels); s++ {
		ws.fields[s] = make([]float64, a.levels[s].sites)
		ws.grads[s] = make([]float64, a.levels[s].sites)
	}
	return ws
}

// logcosh returns log cosh z, tanh z and sech^2 z, evaluated without overflow:
// log cosh z = |z| + log1p(e) - log 2 with e = exp(-2|z|) <= 1.
func logcosh(z float64) (lc, th, sech2 float64) {
	th, sech2, e := tanhSech2(z)
	return math.Abs(z) + math.Log1p(e) - math.Ln2, th, sech2
}

// tanhSech2 returns tanh z, sech^2 z and e = exp(-2|z|); it skips the logarithm, the most
// expensive step, for callers that need no value.
func tanhSech2(z float64) (th, sech2, e float64) {
	e = math.Exp(-2 * math.Abs(z))
	r := 1 / (1 + e)
	th = (1 - e) * r
	if z < 0 {
		th = -th
	}
	return th, 4 * e * r * r, e
}

// coarsen fills ws.fields[1..upto-1] by block averaging phi level by level.
func (a *Ansatz) coarsen(ws *Workspace, phi []float64, upto int) {
	for s := 1; s < upto; s++ {
		dst := ws.fields[s]
		for i := range dst {
			dst[i] = 0
		}
		lv := &a.levels[s-1]
		src := phi
		if s > 1 {
			src = ws.fields[s-1]
		}
		for y, v := range src {
			dst[lv.parent[y]] += v
		}
		for i := range dst {
			dst[i] *= lv.shrink
		}
	}
}

func (ws *Workspace) field(s int, phi []float64) []float64 {
	if s == 0 {
		return phi
	}
	return ws.fields[s]
}

// localRequest says what one pass over the local terms computes.
type localRequest struct {
	value bool      // u_loc
	grad  []float64 // du_loc/dphi, when not nil
	lap   bool      // the exact Laplacian of u_loc
	o     []float64 // du_loc/dtheta added into o (full parameter vector), when not nil
}

// local evaluates what req asks for in one pass over the levels; u is 0 unless req.value.
func (a *Ansatz) local(ws *Workspace, phi []float64, req localRequest) (u, lap float64) {
	grad, o := req.grad, req.o
	if len(grad) == 0 {
		grad = nil
	}
	if len(o) == 0 {
		o = nil
	}
	for i := range grad {
		grad[i] = 0
	}
	if a.nLocal == 0 {
		return 0, 0
	}
	wantLog := req.value || o != nil
	a.coarsen(ws, phi, a.nLocal)
	P, stride := a.slots, a.unitStride()
	uu, gs := ws.u[:P], ws.gslot[:P]
	for s := 0; s < a.nLocal; s++ {
		lv := &a.levels[s]
		F := ws.field(s, phi)
		var G []float64
		if grad != nil {
			G = grad
			if s > 0 {
				G = ws.grads[s]
				for i := range G {
					G[i] = 0
				}
			}
		}
		np := lv.units*stride + 2
		params := a.theta[lv.off : lv.off+np]
		var out []float64
		if o != nil {
			out = o[lv.off : lv.off+np]
		}
		c4, c6 := params[np-2], params[np-1]
		var us, ls float64
		for y := 0; y < lv.sites; y++ {
			patch := lv.patch[y*P : y*P+P]
			for i, site := range patch {
				uu[i] = F[site]
				gs[i] = 0
			}
			for h := 0; h < lv.units; h++ {
				ah := params[h*stride]
				w := params[h*stride+1 : (h+1)*stride]
				z := 0.0
				for i, wi := range w {
					z += wi * uu[i]
				}
				th, sech2, e := tanhSech2(z)
				c := ah * th // d(a_h logcosh z)/dz
				if wantLog {
					lc := math.Abs(z) + math.Log1p(e) - math.Ln2
					us += ah * lc
					if out != nil {
						out[h*stride] += lc
						ow := out[h*stride+1 : (h+1)*stride]
						for i, ui := range uu {
							ow[i] += c * ui
						}
					}
				}
				if G != nil {
					for i, wi := range w {
						gs[i] += c * wi
					}
				}
				if req.lap {
					ls += ah * sech2 * lv.q[h]
				}
			}
			u0 := uu[0]
			u02 := u0 * u0
			u04 := u02 * u02
			us += c4*u04 + c6*u04*u02
			if out != nil {
				out[np-2] += u04
				out[np-1] += u04 * u02
			}
			if G != nil {
				gs[0] += (4*c4 + 6*c6*u02) * u02 * u0
				for i, site := range patch {
					G[site] += gs[i]
				}
			}
			if req.lap {
				ls += 12*c4*u02 + 30*c6*u04
			}
		}
		if req.value {
			u += us
		}
		// Summed over the N/N_s fine sites of each block, w_s^2 * (N/N_s) = w_s.
		lap += lv.weight * ls
	}
	if grad != nil {
		// Chain rule, top down: phi_x enters Phi^(s) with weight w_s through its block only.
		top := a.nLocal - 1
		if top > 0 {
			G := ws.grads[top]
			w := a.levels[top].weight
			for i := range G {
				G[i] *= w
			}
			for s := top - 1; s >= 1; s-- {
				lv := &a.levels[s]
				G, up := ws.grads[s], ws.grads[s+1]
				for y := range G {
					G[y] = lv.weight*G[y] + up[lv.parent[y]]
				}
			}
			up, parent := ws.grads[1], a.levels[0].parent
			for x := range grad {
				grad[x] += up[parent[x]]
			}
		}
	}
	return u, lap
}

// LogPsi returns u = log Psi(phi) (unnormalized).
func (a *Ansatz) LogPsi(ws *Workspace, phi []float64) float64 {
	q := ws.plan.QuadForm(phi, a.g)
	ul, _ := a.local(ws, phi, localRequest{value: true})
	return -0.5*q + ul
}

// LocalTerms returns u_loc = sum_s sum_X f_s (everything but the Gaussian part) and writes its
// phi-gradient into grad; with a nil grad it only returns the value. Samplers that integrate
// the Gaussian part exactly in Fourier space use it.
func (a *Ansatz) LocalTerms(ws *Workspace, phi, grad []float64) float64 {
	u, _ := a.local(ws, phi, localRequest{value: true, grad: grad})
	return u
}

// LocalGrad writes the phi-gradient of u_loc into grad without computing u_loc, which saves
// the logarithms of the logcosh units.
func (a *Ansatz) LocalGrad(ws *Workspace, phi, grad []float64) {
	a.local(ws, phi, localRequest{grad: grad})
}

// Derivs returns u = log Psi(phi) and its exact Laplacian sum_x d^2u/dphi_x^2, writes du/dphi
// into grad and, when o is not nil, O_i = du/dtheta_i into o (length NumParams). Everything
// comes from one forward and one inverse FFT and one pass over the local terms.
func (a *Ansatz) Derivs(ws *Workspace, phi, grad, o []float64) (u, lap float64) {
	n := a.model.N
	ws.plan.Forward(ws.buf, phi)
	inv := 1 / float64(n)
	for k, c := range ws.buf {
		ws.modes[k] = (real(c)*real(c) + imag(c)*imag(c)) * inv
		ws.buf[k] = c * complex(a.g[k], 0)
	}
	ws.plan.Inverse(ws.gphi, ws.buf)
	if o != nil {
		a.gaussianO(ws.modes, o)
	}
	ul, lap := a.local(ws, phi, localRequest{value: true, grad: grad, lap: true, o: o})
	q := 0.0
	for x, v := range phi {
		q += v * ws.gphi[x]
		grad[x] -= ws.gphi[x]
	}
	return ul - 0.5*q, lap - a.sumG
}

// gaussianO writes the Gaussian parameters' O_i = -(1/2) sum_k (dg_k/dtheta_i) |phi_k|^2/N
// into o and zeroes the rest of o.
func (a *Ansatz) gaussianO(modes, o []float64) {
	for i := range o {
		o[i] = 0
	}
	for i, dg := range a.dg {
		s := 0.0
		for k, v := range modes {
			s += dg[k] * v
		}
		o[i] = -0.5 * s
	}
}
