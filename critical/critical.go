// Package critical locates a critical point by finite-size scaling. Near a continuous
// transition the Binder cumulant U4 = 1 - <M^4>/(3 <M^2>^2) and the scaled gap L x Delta are,
// to leading order, functions of (m2 - m2_c) L^(1/nu) alone, so their curves against m2 for
// different lattice sizes L cross at m2_c (up to corrections that shrink with L). This package
// finds those crossings between successive sizes with parametric-bootstrap errors, takes m2_c
// from the largest pair with the drift of the crossings shown, extrapolates the last two
// crossings in L with the leading correction to scaling, and measures the data collapse, with
// nu fixed or fitted.
//
// The 2+1D phi^4 transition is in the 3D Ising class: nu = 0.63002(10) (Hasenbusch 2010),
// NuIsing3D below.
package critical

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// NuIsing3D is the correlation-length exponent of the 3D Ising universality class.
const NuIsing3D = 0.63002

// OmegaIsing3D is the leading correction-to-scaling exponent of the 3D Ising class (conformal
// bootstrap, Simmons-Duffin 2017: 0.82968(23)). The crossing of the curves of L and b L moves
// towards m2_c like L^-(1/nu + omega).
const OmegaIsing3D = 0.82968

// Point is an observable at one coupling, with its standard error.
type Point struct {
	M2, Value, Err float64
}

// Curve is an observable against m2 at one lattice size, sorted by m2.
type Curve struct {
	L      int
	Points []Point
}

// Crossing is where the curves of two sizes cross.
type Crossing struct {
	L1, L2 int
	M2     float64 // the crossing coupling
	Err    float64 // its bootstrap standard error
	Value  float64 // the observable at the crossing
	// Fraction of bootstrap resamples in which the curves crossed at all in the interval: well
	// below 1 means the crossing is not resolved by the data.
	Resolved float64
}

// Result is the critical coupling from one observable.
type Result struct {
	M2c, Err  float64
	Crossings []Crossing // successive sizes, smallest first
	// Drift is the change of the crossing between the last two pairs (0 with one pair): how far
	// the crossings still move with L.
	Drift float64
	// Extrapolated is m2_c with the leading correction to scaling removed, from the last two
	// crossings; nil with fewer than three distinct sizes or when fewer than two bootstrap
	// resamples have both crossings (otherwise its Resolved says in what fraction they do).
	Extrapolated *Extrapolation
}

// Extrapolation is m2_c extrapolated to L = infinity from two crossings, assuming the leading
// correction to scaling with fixed exponents: the crossing of U(L) = F(x) + c L^-omega G(x),
// x = (m2 - m2_c) L^(1/nu), with U(b L) sits at
//
//	m2*(L, bL) = m2_c + C L^-(1/nu + omega) (1 - b^-omega) / (b^(1/nu) - 1)
//
// to leading order, with one unknown C for all pairs. Two crossings fix C and m2_c; for
// doubling sizes m2_c = m2*_2 + (m2*_2 - m2*_1) / (2^(1/nu + omega) - 1).
type Extrapolation struct {
	M2c, Err  float64
	Nu, Omega float64 // the exponents assumed
	// Resolved is the fraction of bootstrap resamples in which both crossings were found.
	Resolved float64
}

// Bootstrap is the number of resamples for crossing errors.
const Bootstrap = 2000

// MinSignificance is how many combined standard errors apart the two curves must be on each
// side of a crossing for it to count: far from m2_c the curves of all sizes saturate together
// and their difference changes sign by noise alone.
const MinSignificance = 2

// Cross finds where the curves a and b cross: among the sign changes of their difference on
// the couplings both have, the one with the curves most significantly apart on both sides
// (at least MinSignificance combined errors), located by linear interpolation. The error is a
// parametric bootstrap: every point is redrawn from a normal of its value and error, and the
// crossing is found again the same way.
func Cross(a, b Curve, rng *rand.Rand) (Crossing, error) {
	xs, pa, pb := common(a, b)
	if len(xs) < 2 {
		return Crossing{}, fmt.Errorf("critical: L = %d and %d share fewer than two couplings", a.L, b.L)
	}
	d, sd := differences(pa, pb)
	k, sig := significantChange(d, sd)
	if k < 0 || sig < MinSignificance {
		return Crossing{}, fmt.Errorf("critical: the curves of L = %d and %d do not cross significantly between m2 = %g and %g",
			a.L, b.L, xs[0], xs[len(xs)-1])
	}
	m, v := interpolate(xs, pa, d, k)
	c := Crossing{L1: a.L, L2: b.L, M2: m, Value: v}
	var s, s2 float64
	n := 0
	db := make([]float64, len(xs))
	va := make([]Point, len(xs))
	for range Bootstrap {
		for i := range xs {
			va[i] = pa[i]
			va[i].Value += pa[i].Err * rng.NormFloat64()
			db[i] = va[i].Value - (pb[i].Value + pb[i].Err*rng.NormFloat64())
		}
		// The resample's own most significant crossing, as for the data.
		if kk, _ := significantChange(db, sd); kk >= 0 {
			mb, _ := interpolate(xs, va, db, kk)
			s += mb
			s2 += mb * mb
			n++
		}
	}
	c.Resolved = float64(n) / Bootstrap
	if n > 1 {
		mu := s / float64(n)
		c.Err = math.Sqrt(math.Max(0, s2/float64(n)-mu*mu))
	} else {
		c.Err = math.Inf(1)
	}
	return c, nil
}

// differences returns the differences of two curves' values at common couplings and their
// combined errors.
func differences(pa, pb []Point) (d, sd []float64) {
	d, sd = make([]float64, len(pa)), make([]float64, len(pa))
	for i := range pa {
		d[i] = pa[i].Value - pb[i].Value
		sd[i] = math.Hypot(pa[i].Err, pb[i].Err)
	}
	return d, sd
}

// locate is the crossing of a and b as a bootstrap resample finds it: the most significant
// sign change of their difference, without the MinSignificance cut of the data's own crossing.
func locate(a, b Curve) (float64, bool) {
	xs, pa, pb := common(a, b)
	d, sd := differences(pa, pb)
	k, _ := significantChange(d, sd)
	if k < 0 {
		return 0, false
	}
	m, _ := interpolate(xs, pa, d, k)
	return m, true
}

// common returns the couplings both curves have and their points there.
func common(a, b Curve) ([]float64, []Point, []Point) {
	idx := map[float64]Point{}
	for _, p := range b.Points {
		idx[p.M2] = p
	}
	var xs []float64
	var pa, pb []Point
	for _, p := range a.Points {
		if q, ok := idx[p.M2]; ok {
			xs, pa, pb = append(xs, p.M2), append(pa, p), append(pb, q)
		}
	}
	return xs, pa, pb
}

// significantChange returns the interval k (between points k and k+1) where d changes sign
// with the largest significance: the smaller of how far (in errors sd) d reaches beyond zero on
// either side, with the sign it has there. It returns -1 when d never changes sign.
func significantChange(d, sd []float64) (k int, sig float64) {
	k = -1
	for i := 0; i+1 < len(d); i++ {
		if (d[i] < 0) == (d[i+1] < 0) {
			continue
		}
		s := math.Copysign(1, d[i+1])
		left, right := 0.0, 0.0
		for j := 0; j <= i; j++ {
			left = math.Max(left, -s*d[j]/sd[j])
		}
		for j := i + 1; j < len(d); j++ {
			right = math.Max(right, s*d[j]/sd[j])
		}
		if q := math.Min(left, right); q > sig {
			k, sig = i, q
		}
	}
	return k, sig
}

// interpolate returns the zero of d between xs[k] and xs[k+1] and curve a's value there. Both
// come from the cubic through the four points around the interval (the two on each side where
// they exist), which removes most of the bias a straight line has across a curved crossing.
func interpolate(xs []float64, a []Point, d []float64, k int) (m2, v float64) {
	lo := max(0, min(k-1, len(xs)-4))
	hi := min(len(xs), lo+4)
	px, pd, pv := xs[lo:hi], d[lo:hi], make([]float64, hi-lo)
	for i := range pv {
		pv[i] = a[lo+i].Value
	}
	f := func(x float64) float64 { return lagrange(px, pd, x) }
	l, r := xs[k], xs[k+1]
	fl := f(l)
	for range 100 {
		mid := 0.5 * (l + r)
		if fm := f(mid); (fm < 0) == (fl < 0) {
			l, fl = mid, fm
		} else {
			r = mid
		}
	}
	m2 = 0.5 * (l + r)
	return m2, lagrange(px, pv, m2)
}

// lagrange evaluates at x the polynomial through the points (xs[i], ys[i]).
func lagrange(xs, ys []float64, x float64) float64 {
	s := 0.0
	for i := range xs {
		w := ys[i]
		for j := range xs {
			if j != i {
				w *= (x - xs[j]) / (xs[i] - xs[j])
			}
		}
		s += w
	}
	return s
}

// Critical returns m2_c from the crossings of successive sizes: the crossing of the two
// largest sizes, with the drift from the pair before.
func Critical(curves []Curve, seed uint64) (Result, error) {
	cs := append([]Curve(nil), curves...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].L < cs[j].L })
	if len(cs) < 2 {
		return Result{}, errors.New("critical: crossings need at least two lattice sizes")
	}
	rng := rand.New(rand.NewPCG(seed, 0xc417))
	var r Result
	for i := 0; i+1 < len(cs); i++ {
		c, err := Cross(cs[i], cs[i+1], rng)
		if err != nil {
			return r, err
		}
		r.Crossings = append(r.Crossings, c)
	}
	last := r.Crossings[len(r.Crossings)-1]
	r.M2c, r.Err = last.M2, last.Err
	if n := len(r.Crossings); n > 1 {
		r.Drift = last.M2 - r.Crossings[n-2].M2
		r.Extrapolated = extrapolate(cs[n-2:], r.Crossings[n-2:], rng)
	}
	return r, nil
}

// correctionScale is the factor L^-(1/nu + omega) (1 - b^-omega) / (b^(1/nu) - 1) by which the
// crossing of L1 and L2 = b L1 is off m2_c (see Extrapolation).
func correctionScale(l1, l2 int, nu, omega float64) float64 {
	L, b := float64(l1), float64(l2)/float64(l1)
	return math.Pow(L, -(1/nu+omega)) * (1 - math.Pow(b, -omega)) / (math.Pow(b, 1/nu) - 1)
}

// extrapolate is the Extrapolation of the two crossings cx of the three curves cs (sorted by L),
// with its error from a joint parametric bootstrap: the middle curve enters both crossings, so
// their errors are correlated and must be resampled together.
func extrapolate(cs []Curve, cx []Crossing, rng *rand.Rand) *Extrapolation {
	if cx[0].L1 >= cx[0].L2 || cx[1].L1 >= cx[1].L2 || cx[0].L1 >= cx[1].L1 {
		return nil // sizes repeated: no distance in L to extrapolate over
	}
	c1 := correctionScale(cx[0].L1, cx[0].L2, NuIsing3D, OmegaIsing3D)
	c2 := correctionScale(cx[1].L1, cx[1].L2, NuIsing3D, OmegaIsing3D)
	at := func(m1, m2 float64) float64 { return (m2*c1 - m1*c2) / (c1 - c2) }
	e := &Extrapolation{M2c: at(cx[0].M2, cx[1].M2), Nu: NuIsing3D, Omega: OmegaIsing3D}
	redrawn := make([]Curve, len(cs))
	for c := range cs {
		redrawn[c] = Curve{L: cs[c].L, Points: slices.Clone(cs[c].Points)}
	}
	var s, s2 float64
	n := 0
	for range Bootstrap {
		for c := range cs {
			for i, p := range cs[c].Points {
				redrawn[c].Points[i].Value = p.Value + p.Err*rng.NormFloat64()
			}
		}
		m1, ok1 := locate(redrawn[0], redrawn[1])
		m2, ok2 := locate(redrawn[1], redrawn[2])
		if ok1 && ok2 {
			v := at(m1, m2)
			s += v
			s2 += v * v
			n++
		}
	}
	e.Resolved = float64(n) / Bootstrap
	if n < 2 {
		return nil
	}
	mu := s / float64(n)
	e.Err = math.Sqrt(math.Max(0, s2/float64(n)-mu*mu))
	return e
}

// Collapse is the quality of the data collapse of curves onto one function of
// x = (m2 - m2c) L^(1/nu), measured without assuming a form for that function (J. Houdayer and
// A. K. Hartmann, Phys. Rev. B 70, 014418 (2004)): every point is compared with the other sizes'
// curves interpolated linearly at its x, in units of the combined error. It returns the mean
// squared deviation per compared point and how many points were compared; near 1 the curves
// collapse within their errors.
func Collapse(curves []Curve, m2c, nu float64) (quality float64, compared int, err error) {
	type pt struct{ x, y, e float64 }
	scaled := make([][]pt, len(curves))
	for i, c := range curves {
		s := math.Pow(float64(c.L), 1/nu)
		for _, p := range c.Points {
			if !(p.Err > 0) {
				return 0, 0, fmt.Errorf("critical: the point at L = %d, m2 = %g has no error", c.L, p.M2)
			}
			scaled[i] = append(scaled[i], pt{(p.M2 - m2c) * s, p.Value, p.Err})
		}
		sort.Slice(scaled[i], func(a, b int) bool { return scaled[i][a].x < scaled[i][b].x })
	}
	var sum float64
	for i, ci := range scaled {
		for _, p := range ci {
			// The master curve at p.x: the weighted mean of the other sizes' interpolations.
			var wsum, ysum float64
			for j, cj := range scaled {
				if j == i || len(cj) < 2 || p.x < cj[0].x || p.x > cj[len(cj)-1].x {
					continue
				}
				k := sort.Search(len(cj), func(k int) bool { return cj[k].x >= p.x })
				if k == 0 {
					k = 1
				}
				a, b := cj[k-1], cj[k]
				t := (p.x - a.x) / (b.x - a.x)
				y := a.y + t*(b.y-a.y)
				e := math.Hypot((1-t)*a.e, t*b.e)
				w := 1 / (e * e)
				wsum += w
				ysum += w * y
			}
			if wsum == 0 {
				continue
			}
			ybar, ebar2 := ysum/wsum, 1/wsum
			d := p.y - ybar
			sum += d * d / (p.e*p.e + ebar2)
			compared++
		}
	}
	if compared < 3 {
		return 0, compared, errors.New("critical: the curves do not overlap in the scaled variable; no collapse to measure")
	}
	return sum / float64(compared), compared, nil
}

// FitNu returns the nu in [lo, hi] with the best collapse at m2c (golden-section search on
// Collapse) and its error, where the summed squared deviation (scaled to one per point at the
// optimum when it is above one) rises by one.
func FitNu(curves []Curve, m2c, lo, hi float64) (nu, err float64, fitErr error) {
	f := func(nu float64) (float64, int) {
		q, n, e := Collapse(curves, m2c, nu)
		if e != nil {
			return math.Inf(1), 0
		}
		return q, n
	}
	g := (math.Sqrt(5) - 1) / 2
	a, b := lo, hi
	c, d := b-g*(b-a), a+g*(b-a)
	fc, _ := f(c)
	fd, _ := f(d)
	for i := 0; i < 80 && b-a > 1e-6; i++ {
		if fc < fd {
			b, d, fd = d, c, fc
			c = b - g*(b-a)
			fc, _ = f(c)
		} else {
			a, c, fc = c, d, fd
			d = a + g*(b-a)
			fd, _ = f(d)
		}
	}
	nu = (a + b) / 2
	best, n := f(nu)
	if math.IsInf(best, 1) {
		return 0, 0, errors.New("critical: no collapse could be fitted")
	}
	total := func(v float64) float64 { q, m := f(v); return q * float64(m) / math.Max(best, 1) }
	target := total(nu) + 1
	_ = n
	step := (hi - lo) * 1e-4
	up, down := nu, nu
	for up < hi && total(up) < target {
		up += step
	}
	for down > lo && total(down) < target {
		down -= step
	}
	return nu, (up - down) / 2, nil
}
