package dmc

import (
	"math"

	"vqs/hamiltonian"
)

// Layout of the per-configuration measurement vector q: the observables whose mixed
// estimators are reported, then the Fourier modes whose imaginary-time correlations give the
// gap.
const (
	qPhi2 = iota // (1/N) sum_x phi_x^2
	qAbsM        // |M|, M = (1/N) sum_x phi_x
	qM2          // M^2
	qM4          // M^4
	qS           // S(n) for n = 0..L/2, then the modes
)

// observer measures q on a configuration. The structure factor is taken along the lattice
// axes, S(n) = (1/dim) sum_mu |phi_k|^2 / N at k = 2 pi n e_mu / L, from the projections of
// the field onto each axis, which costs O(N + dim L^2) instead of an FFT.
type observer struct {
	lat    hamiltonian.Lattice
	nS     int       // structure-factor entries, n = 0..L/2
	k1     bool      // whether the smallest non-zero momentum exists (L >= 2)
	nq     int       // length of q
	mode0  int       // index of phi_{k=0}/sqrt(N) in q
	coord  []int32   // coord[x*dim+mu] = x_mu
	cos    []float64 // cos(2 pi n x / L) at n*L + x
	sin    []float64
	invN   float64
	invRtN float64
}

func newObserver(lat hamiltonian.Lattice) *observer {
	L, d := lat.L, lat.Dim
	o := &observer{lat: lat, nS: L/2 + 1, k1: L >= 2, invN: 1 / float64(lat.N), invRtN: 1 / math.Sqrt(float64(lat.N))}
	o.mode0 = qS + o.nS
	o.nq = o.mode0 + 1
	if o.k1 {
		o.nq += 2 * d
	}
	o.coord = make([]int32, lat.N*d)
	c := make([]int, d)
	for x := 0; x < lat.N; x++ {
		lat.Coords(x, c)
		for mu := 0; mu < d; mu++ {
			o.coord[x*d+mu] = int32(c[mu])
		}
	}
	o.cos = make([]float64, L*L)
	o.sin = make([]float64, L*L)
	for n := 0; n < L; n++ {
		for x := 0; x < L; x++ {
			a := 2 * math.Pi * float64(n*x%L) / float64(L)
			o.cos[n*L+x], o.sin[n*L+x] = math.Cos(a), math.Sin(a)
		}
	}
	return o
}

// projLen is the scratch length measure needs.
func (o *observer) projLen() int { return o.lat.Dim * o.lat.L }

// measure writes q(phi) into q, using proj (length projLen) as scratch.
func (o *observer) measure(phi, q, proj []float64) {
	L, d := o.lat.L, o.lat.Dim
	for i := range proj {
		proj[i] = 0
	}
	var s1, s2 float64
	for x, f := range phi {
		s1 += f
		s2 += f * f
		for mu := 0; mu < d; mu++ {
			proj[mu*L+int(o.coord[x*d+mu])] += f
		}
	}
	m := s1 * o.invN
	m2 := m * m
	q[qPhi2] = s2 * o.invN
	q[qAbsM] = math.Abs(m)
	q[qM2] = m2
	q[qM4] = m2 * m2
	for n := 0; n < o.nS; n++ {
		s := 0.0
		for mu := 0; mu < d; mu++ {
			p := proj[mu*L : (mu+1)*L]
			var re, im float64
			cs, sn := o.cos[n*L:(n+1)*L], o.sin[n*L:(n+1)*L]
			for x, v := range p {
				re += v * cs[x]
				im += v * sn[x]
			}
			s += re*re + im*im
		}
		q[qS+n] = s * o.invN / float64(d)
	}
	q[o.mode0] = s1 * o.invRtN
	if o.k1 {
		cs, sn := o.cos[L:2*L], o.sin[L:2*L]
		for mu := 0; mu < d; mu++ {
			p := proj[mu*L : (mu+1)*L]
			var re, im float64
			for x, v := range p {
				re += v * cs[x]
				im += v * sn[x]
			}
			q[o.mode0+1+2*mu] = re * o.invRtN
			q[o.mode0+2+2*mu] = im * o.invRtN
		}
	}
}

// correlations returns the products of the modes a with the modes b (both laid out as q
// from mode0 on): the k = 0 mode's a0*b0 and the smallest momentum's average over axes and
// its cos and sin parts.
func (o *observer) correlations(a, b []float64) (x0, x1 float64) {
	x0 = a[0] * b[0]
	if o.k1 {
		s := 0.0
		for j := 1; j <= 2*o.lat.Dim; j++ {
			s += a[j] * b[j]
		}
		x1 = s / float64(o.lat.Dim)
	}
	return x0, x1
}

// modes is the number of entries of q from mode0 on (what a walker's history stores).
func (o *observer) modes() int { return o.nq - o.mode0 }
