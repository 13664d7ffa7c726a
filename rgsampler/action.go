package rgsampler

import (
	"fmt"
	"math"

	"vqs/hamiltonian"
)

// Phi4 is Euclidean lattice phi^4 theory as a Target with density exp(-S) (docs/physics.md section 6).
// It holds no buffers, so one Phi4 may serve many goroutines.
//
// Two forms share the type:
//   - NewPhi4, the isotropic D-dimensional lattice: S = sum_x [ (1/2) sum_mu (phi_{x+mu} -
//     phi_x)^2 + (m2/2) phi_x^2 + (lambda/24) phi_x^4 ], which is hamiltonian.Model's potential
//     on an L^D lattice;
//   - NewPathIntegral, the path integral of the Hamiltonian of section 1 on Lt time slices of
//     spacing eps: S_E = sum_tau [ sum_x (phi_{tau+1,x} - phi_{tau,x})^2/(2 eps) + eps V(phi_tau) ],
//     periodic in tau. Layout: time is the slowest axis, site = x + L^d * tau with x the spatial
//     site of hamiltonian.Lattice, so slice tau is phi[tau*L^d : (tau+1)*L^d] and Dims() is
//     {L, ..., L, Lt}.
type Phi4 struct {
	space *hamiltonian.Model // spatial model (the whole lattice for the isotropic form)
	lt    int                // time slices; 0 for the isotropic form
	eps   float64            // time spacing (path integral only)
	dims  []int
	n     int
}

// NewPhi4 returns the isotropic Euclidean action on the periodic L^dim lattice (dim 1 to 3).
func NewPhi4(L, dim int, m2, lambda float64) (*Phi4, error) {
	m, err := hamiltonian.NewModel(L, dim, m2, lambda)
	if err != nil {
		return nil, err
	}
	dims := make([]int, dim)
	for i := range dims {
		dims[i] = L
	}
	return &Phi4{space: m, dims: dims, n: m.N}, nil
}

// NewPathIntegral returns the Euclidean path integral of the Hamiltonian on the periodic L^dim
// spatial lattice (dim 1 to 3) with Lt >= 1 time slices of spacing eps > 0 (beta = Lt*eps).
func NewPathIntegral(L, dim, Lt int, eps, m2, lambda float64) (*Phi4, error) {
	m, err := hamiltonian.NewModel(L, dim, m2, lambda)
	if err != nil {
		return nil, err
	}
	if Lt < 1 {
		return nil, fmt.Errorf("the number of time slices Lt must be >= 1, got %d", Lt)
	}
	if !(eps > 0) || math.IsInf(eps, 0) {
		return nil, fmt.Errorf("the time spacing eps must be finite and > 0, got %v", eps)
	}
	if m.N > math.MaxInt32/Lt {
		return nil, fmt.Errorf("lattice %d^%d x %d is too large", L, dim, Lt)
	}
	dims := make([]int, dim+1)
	for i := 0; i < dim; i++ {
		dims[i] = L
	}
	dims[dim] = Lt
	return &Phi4{space: m, lt: Lt, eps: eps, dims: dims, n: m.N * Lt}, nil
}

// Dims returns the sides of the lattice, axis 0 fastest (time last for the path integral).
func (p *Phi4) Dims() []int { return p.dims }

// Sites returns the number of lattice sites (all slices for the path integral).
func (p *Phi4) Sites() int { return p.n }

// Couplings returns m2 and lambda.
func (p *Phi4) Couplings() (m2, lambda float64) { return p.space.M2, p.space.Lambda }

// TimeSlices returns Lt and eps for the path integral, and 0, 0 for the isotropic action.
func (p *Phi4) TimeSlices() (lt int, eps float64) { return p.lt, p.eps }

// Model returns the spatial Hamiltonian (the whole lattice for the isotropic form).
func (p *Phi4) Model() *hamiltonian.Model { return p.space }

// Action returns S(phi).
func (p *Phi4) Action(phi []float64) float64 {
	if p.lt == 0 {
		return p.space.Potential(phi)
	}
	ns := p.space.N
	s := 0.0
	for tau := 0; tau < p.lt; tau++ {
		cur := phi[tau*ns : (tau+1)*ns]
		next := phi[((tau+1)%p.lt)*ns:]
		kin := 0.0
		for x, f := range cur {
			d := next[x] - f
			kin += d * d
		}
		s += kin/(2*p.eps) + p.eps*p.space.Potential(cur)
	}
	return s
}

// LogDensity returns -S(phi).
func (p *Phi4) LogDensity(phi []float64) float64 { return -p.Action(phi) }

// Grad writes -dS/dphi into dst.
func (p *Phi4) Grad(dst, phi []float64) {
	if p.lt == 0 {
		p.space.Gradient(phi, dst)
		for i := range dst {
			dst[i] = -dst[i]
		}
		return
	}
	ns := p.space.N
	inv := 1 / p.eps
	for tau := 0; tau < p.lt; tau++ {
		cur := phi[tau*ns : (tau+1)*ns]
		prev := phi[((tau+p.lt-1)%p.lt)*ns:]
		next := phi[((tau+1)%p.lt)*ns:]
		g := dst[tau*ns : (tau+1)*ns]
		p.space.Gradient(cur, g)
		for x, f := range cur {
			// d/dphi of the two kinetic links that touch (tau, x); on Lt = 2 both links join
			// the same pair, on Lt = 1 they vanish, as in the action.
			g[x] = -(p.eps*g[x] + inv*((f-next[x])+(f-prev[x])))
		}
	}
}

// QuadraticKernel returns the per-mode eigenvalues of the quadratic part of S with m2 raised
// to at least m2Floor: p^2 + max(m2, m2Floor) for the isotropic action, and
// 4 sin^2(omega/2)/eps + eps (p^2 + max(m2, m2Floor)) for the path integral (omega the Matsubara
// momentum along the time axis). HMC uses it as its mass matrix.
func (p *Phi4) QuadraticKernel(m2Floor float64) []float64 {
	m2 := max(p.space.M2, m2Floor)
	if p.lt == 0 {
		q := hamiltonian.MomentumSquared(p.dims)
		for k := range q {
			q[k] += m2
		}
		return q
	}
	ps := hamiltonian.MomentumSquared(p.dims[:len(p.dims)-1])
	q := make([]float64, p.n)
	ns := len(ps)
	for w := 0; w < p.lt; w++ {
		h := math.Sin(math.Pi * float64(w) / float64(p.lt))
		for x := 0; x < ns; x++ {
			q[w*ns+x] = 4*h*h/p.eps + p.eps*(ps[x]+m2)
		}
	}
	return q
}

// HartreeMass returns the squared mass M2 of the best Gaussian approximation of the symmetric
// phase (Euclidean Hartree / self-consistent one-loop): M2 = m2 + (lambda/2) <phi^2>_M2 with
// <phi^2>_M2 = (1/N) sum_k 1/Q_k(M2) the free propagator at mass M2 (the path integral's
// kernel for the path integral). It always has a unique root M2 > 0 when lambda > 0, because
// the zero mode makes <phi^2> diverge as M2 -> 0; at lambda = 0 it is m2. It is the default
// Gaussian reference of the samplers (HMC mass floor, bridge reference covariance).
func (p *Phi4) HartreeMass() float64 {
	m2, lam := p.Couplings()
	if lam == 0 {
		return m2
	}
	f := func(M2 float64) float64 {
		q := p.QuadraticKernel(M2)
		s := 0.0
		for _, v := range q {
			s += 1 / v
		}
		return M2 - m2 - lam/2*s/float64(len(q))
	}
	lo, hi := 1e-12, math.Max(1, 2*math.Abs(m2))
	for f(hi) < 0 {
		hi *= 2
	}
	for i := 0; i < 200 && hi-lo > 1e-14*hi; i++ {
		mid := 0.5 * (lo + hi)
		if f(mid) < 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return 0.5 * (lo + hi)
}
