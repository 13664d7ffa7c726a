package mera

import (
	"math"

	"vqs/internal/latfft"
)

// Workspace holds the buffers of one goroutine's evaluations. Make one per goroutine with
// NewWorkspace; it belongs to the Ansatz that made it.
type Workspace struct {
	fft  *latfft.Plan
	spec []complex128 // phi_k
	buf  []complex128 // two flowed fields, or two rung gradients, in transit
	acc  []complex128 // spectrum of the gradient
	z    [][]float64  // z_s = phi_{t_s}/sigma_s of every rung with local terms
	gz   [][]float64  // dF_s/dz_s
	s, c []float64    // one logcosh unit's argument and a_h tanh at every site
}

// NewWorkspace returns buffers for evaluating a.
func (a *Ansatz) NewWorkspace() *Workspace {
	m := a.model
	ws := &Workspace{
		fft:  latfft.NewPlan(m.L, m.Dim),
		spec: make([]complex128, m.N),
		buf:  make([]complex128, m.N),
		acc:  make([]complex128, m.N),
		z:    make([][]float64, a.nLocal),
		gz:   make([][]float64, a.nLocal),
		s:    make([]float64, m.N),
		c:    make([]float64, m.N),
	}
	for s := range ws.z {
		ws.z[s] = make([]float64, m.N)
		ws.gz[s] = make([]float64, m.N)
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

// request says what one evaluation computes.
type request struct {
	gauss bool      // include the Gaussian part
	value bool      // u
	lap   bool      // the exact Laplacian
	grad  []float64 // du/dphi, when not nil
	o     []float64 // O = du/dtheta (full parameter vector), when not nil
}

// eval computes what req asks for; u and lap are 0 unless asked for.
func (a *Ansatz) eval(ws *Workspace, phi []float64, req request) (u, lap float64) {
	n := a.model.N
	invN := 1 / float64(n)
	grad, o := req.grad, req.o
	if len(grad) == 0 {
		grad = nil
	}
	if len(o) == 0 {
		o = nil
	}
	for i := range o {
		o[i] = 0
	}
	// The quadratic form in Fourier space: the whole kernel g for u, or g - Kernel() for u_loc.
	var quad []float64
	switch {
	case req.gauss:
		quad = a.g
	case a.nLocal > 0:
		quad = a.dgk
	}
	// Rungs 1.. have t > 0 and need the spectrum of phi; so does the quadratic form.
	flowed := a.nLocal > 1
	if quad != nil || flowed {
		for x, v := range phi {
			ws.spec[x] = complex(v, 0)
		}
		ws.fft.Complex(ws.spec, false)
	}
	if quad != nil {
		u = a.quadratic(ws, quad)
	}
	if req.gauss {
		lap = -a.sumG
		if o != nil {
			a.gaussianO(ws, o)
		}
	}
	if a.nLocal == 0 {
		if grad != nil {
			a.finishGradient(ws, grad, quad, false)
		}
		return u, lap
	}
	// The flowed fields, two rungs per inverse transform.
	r0 := &a.rungs[0]
	inv0 := 1 / r0.sigma
	z0 := ws.z[0]
	for x, v := range phi {
		z0[x] = v * inv0
	}
	for s := 1; s < a.nLocal; s += 2 {
		fa := a.rungs[s].flow
		if s+1 < a.nLocal {
			fb := a.rungs[s+1].flow
			for k, c := range ws.spec {
				ws.buf[k] = c * complex(fa[k]*invN, fb[k]*invN)
			}
		} else {
			for k, c := range ws.spec {
				ws.buf[k] = c * complex(fa[k]*invN, 0)
			}
		}
		ws.fft.Complex(ws.buf, true)
		za := ws.z[s]
		for x, c := range ws.buf {
			za[x] = real(c)
		}
		if s+1 < a.nLocal {
			zb := ws.z[s+1]
			for x, c := range ws.buf {
				zb[x] = imag(c)
			}
		}
	}
	wantVal := req.value || o != nil
	var ul, ll float64
	for s := 0; s < a.nLocal; s++ {
		r := &a.rungs[s]
		np := a.rungParams()
		var out, G []float64
		if o != nil {
			out = o[r.off : r.off+np]
		}
		if grad != nil {
			G = ws.gz[s]
			for i := range G {
				G[i] = 0
			}
		}
		v, l := a.rungPass(ws, r, a.theta[r.off:r.off+np], ws.z[s], G, out, wantVal, req.lap)
		ul += v
		ll += l
	}
	// The cat unit on the mean field.
	sum := 0.0
	for _, v := range phi {
		sum += v
	}
	ca, cb := a.theta[a.catOff], a.theta[a.catOff+1]
	y := sum * invN * a.catY
	lc, th, sech2 := logcosh(cb * y)
	ul += ca * lc
	if o != nil {
		o[a.catOff] = lc
		o[a.catOff+1] = ca * th * y
	}
	catGrad := ca * cb * th * a.catY * invN
	ll += ca * cb * cb * sech2 * a.catY * a.catY * invN
	// The confining wall.
	var wallU, wallL float64
	for _, v := range phi {
		if d := math.Abs(v) - a.wallR; d > 0 {
			r := d * a.wallI
			r2 := r * r
			r6 := r2 * r2 * r2
			wallU += r6 * r2
			wallL += 56 * r6
		}
	}
	ul -= wallU
	ll -= wallL * a.wallI * a.wallI
	if req.value {
		u += ul
	} else {
		u = 0
	}
	if req.lap {
		lap += ll
	}
	if grad != nil {
		a.finishGradient(ws, grad, quad, flowed)
		g0 := ws.gz[0]
		for x, v := range phi {
			gx := grad[x] + g0[x]*inv0 + catGrad
			if d := math.Abs(v) - a.wallR; d > 0 {
				r := d * a.wallI
				r2 := r * r
				w := 8 * r2 * r2 * r2 * r * a.wallI
				if v < 0 {
					w = -w
				}
				gx -= w
			}
			grad[x] = gx
		}
	}
	return u, lap
}

// quadratic returns -(1/2) sum_k kern(k) |phi_k|^2/N from the spectrum in ws.spec.
func (a *Ansatz) quadratic(ws *Workspace, kern []float64) float64 {
	q := 0.0
	for k, c := range ws.spec {
		q += kern[k] * (real(c)*real(c) + imag(c)*imag(c))
	}
	return -0.5 * q / float64(a.model.N)
}

// gaussianO writes the Gaussian parameters' O_i = -(1/2) sum_k (dg_k/dtheta_i) |phi_k|^2/N
// into o, from the spectrum in ws.spec.
func (a *Ansatz) gaussianO(ws *Workspace, o []float64) {
	invN := 1 / float64(a.model.N)
	modes := ws.s // scratch, free until the rung passes
	for k, c := range ws.spec {
		modes[k] = (real(c)*real(c) + imag(c)*imag(c)) * invN
	}
	for i, dg := range a.dg {
		s := 0.0
		for k, v := range modes {
			s += dg[k] * v
		}
		o[i] = -0.5 * s
	}
}

// finishGradient writes into grad the part of du/dphi that goes through Fourier space: -K phi
// for the quadratic form of kernel quad (when not nil), and the rungs with t > 0 when flowed
// (from their gradients in ws.gz). It zeroes grad when there is neither.
func (a *Ansatz) finishGradient(ws *Workspace, grad, quad []float64, flowed bool) {
	if quad == nil && !flowed {
		for x := range grad {
			grad[x] = 0
		}
		return
	}
	acc := ws.acc
	if quad != nil {
		for k, c := range ws.spec {
			acc[k] = -c * complex(quad[k], 0)
		}
	} else {
		for k := range acc {
			acc[k] = 0
		}
	}
	if flowed {
		for s := 1; s < a.nLocal; s += 2 {
			fa := a.rungs[s].flow
			ga := ws.gz[s]
			if s+1 < a.nLocal {
				gb := ws.gz[s+1]
				for x := range ws.buf {
					ws.buf[x] = complex(ga[x], gb[x])
				}
				ws.fft.Complex(ws.buf, false)
				// With C the transform of g_a + i g_b and Cm = conj C_{-k}: the transforms of g_a
				// and g_b are (C + Cm)/2 and (C - Cm)/(2i).
				fb := a.rungs[s+1].flow
				for k, c := range ws.buf {
					cm := ws.buf[a.neg[k]]
					cm = complex(real(cm), -imag(cm))
					acc[k] += 0.5 * (complex(fa[k], -fb[k])*c + complex(fa[k], fb[k])*cm)
				}
			} else {
				for x := range ws.buf {
					ws.buf[x] = complex(ga[x], 0)
				}
				ws.fft.Complex(ws.buf, false)
				for k, c := range ws.buf {
					acc[k] += c * complex(fa[k], 0)
				}
			}
		}
	}
	ws.fft.Complex(acc, true)
	invN := 1 / float64(a.model.N)
	for x, c := range acc {
		grad[x] = real(c) * invN
	}
}

// rungPass evaluates one rung's local function F_s on z: it returns F_s (when wantVal) and its
// Laplacian in phi (when wantLap), adds dF_s/dz into G and the parameter derivatives into out,
// each when not nil. The loops run over whole fields, one term at a time, so that each is a
// simple pass over contiguous arrays.
func (a *Ansatz) rungPass(ws *Workspace, r *rung, params, z, G, out []float64, wantVal, wantLap bool) (val, lap float64) {
	n := len(z)
	c4, c6, n31, n22 := params[0], params[1], params[2], params[3]
	c0 := r.c0
	// On-site terms.
	var o4, o6, l4 float64
	if G != nil {
		G = G[:n]
		for x, zx := range z {
			zx2 := zx * zx
			G[x] += (4*c4 + 6*c6*zx2) * zx2 * zx
		}
	}
	if wantVal || wantLap {
		for _, zx := range z {
			zx2 := zx * zx
			zx4 := zx2 * zx2
			o4 += zx4
			o6 += zx4 * zx2
			l4 += zx2
		}
	}
	val += c4*o4 + c6*o6
	lap += (12*c4*l4 + 30*c6*o4) * c0
	// Bond terms, y = x + e_mu.
	var o31, o22 float64
	for mu := range r.cbond {
		var b31, b22, bs2, bp float64
		for _, rn := range a.runs[1+2*mu] {
			zx, zy := z[rn.x:rn.x+rn.n], z[rn.y:rn.y+rn.n]
			if G != nil {
				gx, gy := G[rn.x:rn.x+rn.n], G[rn.y:rn.y+rn.n]
				for i, x := range zx {
					y := zy[i]
					x2, y2 := x*x, y*y
					gx[i] += n31*(3*x2+y2)*y + 2*n22*x*y2
					gy[i] += n31*(x2+3*y2)*x + 2*n22*x2*y
				}
			}
			if wantVal || wantLap {
				for i, x := range zx {
					y := zy[i]
					p := x * y
					s2 := x*x + y*y
					b31 += p * s2
					b22 += p * p
					bs2 += s2
					bp += p
				}
			}
		}
		// f = n31 (x^3 y + x y^3) + n22 x^2 y^2: f_xx + f_yy and f_xy.
		lap += c0*(12*n31*bp+2*n22*bs2) + 2*r.cbond[mu]*(3*n31*bs2+4*n22*bp)
		o31 += b31
		o22 += b22
	}
	val += n31*o31 + n22*o22
	if out != nil {
		out[0] += o4
		out[1] += o6
		out[2] += o31
		out[3] += o22
	}
	if !wantVal {
		val = 0
	}
	if !wantLap {
		lap = 0
	}
	W := len(r.q)
	if W == 0 {
		return val, lap
	}
	P, stride := a.slots, a.unitStride()
	needLog := wantVal || out != nil
	S, C := ws.s[:n], ws.c[:n]
	for h := 0; h < W; h++ {
		base := nPoly + h*stride
		ah := params[base]
		w := params[base+1 : base+1+P]
		// S = w . patch at every site.
		w0 := w[0]
		for x, zx := range z {
			S[x] = w0 * zx
		}
		for i := 1; i < P; i++ {
			wi := w[i]
			for _, rn := range a.runs[i] {
				sx, zy := S[rn.x:rn.x+rn.n], z[rn.y:rn.y+rn.n]
				for j, v := range zy {
					sx[j] += wi * v
				}
			}
		}
		var sl, ss float64
		if needLog {
			// sum_x log1p(e_x) as the logarithm of products of at most 256 factors in [1, 2]
			// (no overflow, relative rounding 3e-14): one logarithm per 256 sites.
			prod := 1.0
			for x, s := range S {
				th, sech2, e := tanhSech2(s)
				C[x] = ah * th
				sl += math.Abs(s)
				prod *= 1 + e
				ss += sech2
				if x&255 == 255 {
					sl += math.Log(prod)
					prod = 1
				}
			}
			sl += math.Log(prod) - float64(n)*math.Ln2
		} else {
			for x, s := range S {
				th, sech2, _ := tanhSech2(s)
				C[x] = ah * th
				ss += sech2
			}
		}
		if wantVal {
			val += ah * sl
		}
		if wantLap {
			lap += ah * ss * r.q[h]
		}
		if out != nil {
			out[base] += sl
			ow := out[base+1 : base+1+P]
			for i := 0; i < P; i++ {
				acc := 0.0
				for _, rn := range a.runs[i] {
					cx, zy := C[rn.x:rn.x+rn.n], z[rn.y:rn.y+rn.n]
					for j, v := range zy {
						acc += cx[j] * v
					}
				}
				ow[i] += acc
			}
		}
		if G != nil {
			for i := 0; i < P; i++ {
				wi := w[i]
				for _, rn := range a.runs[i] {
					cx, gy := C[rn.x:rn.x+rn.n], G[rn.y:rn.y+rn.n]
					for j, v := range cx {
						gy[j] += wi * v
					}
				}
			}
		}
	}
	return val, lap
}

// LogPsi returns u = log Psi(phi) (unnormalized).
func (a *Ansatz) LogPsi(ws *Workspace, phi []float64) float64 {
	u, _ := a.eval(ws, phi, request{gauss: true, value: true})
	return u
}

// LocalTerms returns u_loc = u + (1/2) sum_k K(k)|phi_k|^2/N, everything but the Gaussian part of
// kernel K = Kernel(), and writes its phi-gradient into grad; with a nil grad it only returns the
// value. Samplers that integrate the Gaussian part exactly in Fourier space use it.
func (a *Ansatz) LocalTerms(ws *Workspace, phi, grad []float64) float64 {
	u, _ := a.eval(ws, phi, request{value: true, grad: grad})
	return u
}

// LocalGrad writes the phi-gradient of u_loc into grad without computing u_loc, which saves
// the logarithms of the logcosh units.
func (a *Ansatz) LocalGrad(ws *Workspace, phi, grad []float64) {
	a.eval(ws, phi, request{grad: grad})
}

// Derivs returns u = log Psi(phi) and its exact Laplacian sum_x d^2u/dphi_x^2, writes du/dphi
// into grad and, when o is not nil, O_i = du/dtheta_i into o (length NumParams). It costs one
// forward transform of phi, one inverse and one forward transform per two rungs with t > 0, one
// final inverse transform and one pass over the local terms.
func (a *Ansatz) Derivs(ws *Workspace, phi, grad, o []float64) (u, lap float64) {
	return a.eval(ws, phi, request{gauss: true, value: true, lap: true, grad: grad, o: o})
}
