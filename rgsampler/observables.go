package rgsampler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"vqs/internal/latfft"
	"vqs/stats"
)

// Chain is one Markov chain that fills caller-owned samples; HMC and Bridge implement it.
type Chain interface {
	Sample(ctx context.Context, n int, out [][]float64) (acceptance float64, err error)
}

// Record holds what a run measured: per chain, one time series per observable. Primary
// observables per sample are
//
//	phi2 = (1/N) sum_x phi_x^2,  M = (1/N) sum_x phi_x (the mean field),  |M|,  M^2,  M^4,
//
// and the two-point function G_mu(r) = (1/N) sum_x phi_x phi_{x + r e_mu} for r = 0..L_mu/2
// along every axis mu.
type Record struct {
	Dims    []int
	Chains  int
	Phi2    [][]float64
	M       [][]float64
	AbsM    [][]float64
	M2      [][]float64
	M4      [][]float64
	Corr    [][][][]float64 // [axis][r][chain][t]
	Seconds float64         // wall time spent sampling (all chains together)
	Accept  []float64       // mean acceptance per chain over the run
}

// Samples returns the number of samples per chain actually recorded (the shortest chain).
func (r *Record) Samples() int {
	n := -1
	for _, s := range r.Phi2 {
		if n < 0 || len(s) < n {
			n = len(s)
		}
	}
	return max(n, 0)
}

// measurer computes the observables of one sample; one per goroutine.
type measurer struct {
	plan *latfft.Plan
	fk   []complex128
	g    []float64
}

func newMeasurer(dims []int) *measurer {
	p, _ := latfft.NewBoxPlan(dims) // dims were validated by the chain's constructor
	return &measurer{plan: p, fk: make([]complex128, p.HalfModes()), g: make([]float64, p.N)}
}

// correlator writes G(x) = (1/N) sum_y phi_y phi_{y+x} for every separation x into m.g: the
// inverse transform of the power |phi_k|^2/N.
func (m *measurer) correlator(phi []float64) {
	m.plan.ForwardHalf(m.fk, phi)
	n := float64(len(phi))
	for k, c := range m.fk {
		m.fk[k] = complex((real(c)*real(c)+imag(c)*imag(c))/n, 0)
	}
	m.plan.InverseHalf(m.g, m.fk)
}

// StructureFactor returns S(k) = <|phi_k|^2>/N of the samples on the box dims (axis 0
// fastest), indexed like sites: the measured per-mode covariance of a translation-invariant
// ensemble, for use as a reference covariance (BridgeConfig.Reference, GaussianScore). It is
// floored at 1e-12 so that it is a valid covariance even where the samples do not move a mode.
func StructureFactor(dims []int, samples [][]float64) ([]float64, error) {
	if _, err := boxSites(dims); err != nil {
		return nil, err
	}
	p, err := latfft.NewBoxPlan(dims)
	if err != nil {
		return nil, err
	}
	if len(samples) == 0 {
		return nil, errors.New("structure factor: no samples")
	}
	for i, s := range samples {
		if len(s) != p.N {
			return nil, fmt.Errorf("structure factor: sample %d has %d sites, lattice has %d", i, len(s), p.N)
		}
	}
	sf := make([]float64, p.N)
	p.StructureFactor(sf, samples)
	for k := range sf {
		sf[k] = math.Max(sf[k], 1e-12)
	}
	return sf, nil
}

// Run runs every chain for n samples on its own goroutine and records the observables. It
// stops early when ctx is cancelled and returns what was measured so far with ctx.Err();
// chains are then truncated to a common length. progress, if not nil, is called from the
// chains' goroutines (serialised) with the number of samples done by chain 0.
func Run(ctx context.Context, chains []Chain, dims []int, n int, progress func(done int)) (*Record, error) {
	if n < 1 || len(chains) < 1 {
		return nil, fmt.Errorf("run: need >= 1 chain and >= 1 sample, got %d and %d", len(chains), n)
	}
	nSites, err := boxSites(dims)
	if err != nil {
		return nil, err
	}
	c := len(chains)
	r := &Record{Dims: append([]int(nil), dims...), Chains: c,
		Phi2: make([][]float64, c), M: make([][]float64, c), AbsM: make([][]float64, c),
		M2: make([][]float64, c), M4: make([][]float64, c), Accept: make([]float64, c)}
	r.Corr = make([][][][]float64, len(dims))
	for mu, L := range dims {
		r.Corr[mu] = make([][][]float64, L/2+1)
		for d := range r.Corr[mu] {
			r.Corr[mu][d] = make([][]float64, c)
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	errs := make([]error, c)
	for ci, ch := range chains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := newMeasurer(dims)
			buf := [][]float64{make([]float64, nSites)}
			accSum := 0.0
			for t := 0; t < n; t++ {
				acc, err := ch.Sample(ctx, 1, buf)
				if err != nil {
					errs[ci] = err
					break
				}
				accSum += acc
				r.record(ci, m, buf[0])
				r.Accept[ci] = accSum / float64(t+1)
				if ci == 0 && progress != nil {
					mu.Lock()
					progress(t + 1)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	r.Seconds = time.Since(start).Seconds()
	r.truncate()
	for _, e := range errs {
		if e != nil {
			return r, e
		}
	}
	return r, nil
}

func (r *Record) record(ci int, m *measurer, phi []float64) {
	n := float64(len(phi))
	var s1, s2 float64
	for _, v := range phi {
		s1 += v
		s2 += v * v
	}
	M := s1 / n
	r.Phi2[ci] = append(r.Phi2[ci], s2/n)
	r.M[ci] = append(r.M[ci], M)
	r.AbsM[ci] = append(r.AbsM[ci], math.Abs(M))
	r.M2[ci] = append(r.M2[ci], M*M)
	r.M4[ci] = append(r.M4[ci], M*M*M*M)
	m.correlator(phi)
	stride := 1
	for mu, L := range r.Dims {
		for d := range r.Corr[mu] {
			r.Corr[mu][d][ci] = append(r.Corr[mu][d][ci], m.g[d*stride])
		}
		stride *= L
	}
}

// truncate cuts every chain to the shortest one, so that chains weigh equally.
func (r *Record) truncate() {
	n := r.Samples()
	cut := func(s [][]float64) {
		for i := range s {
			s[i] = s[i][:n]
		}
	}
	cut(r.Phi2)
	cut(r.M)
	cut(r.AbsM)
	cut(r.M2)
	cut(r.M4)
	for _, ax := range r.Corr {
		for _, s := range ax {
			cut(s)
		}
	}
}

// Estimate is a Monte Carlo estimate with its error, tau_int, ESS and split-R-hat across
// chains (package stats); Unreliable flags stuck or too-short chains.
type Estimate = stats.Estimate

// Summary is the analysed result of a run.
type Summary struct {
	Samples int // per chain
	Chains  int
	Seconds float64
	Phi2    Estimate // <phi^2>, site average
	AbsM    Estimate // <|M|>
	M2      Estimate // <M^2>
	// Chi = N (<M^2> - <|M|>^2), the finite-volume susceptibility that stays finite in the
	// broken phase (the connected one with <M> = 0 by symmetry would grow like N there).
	Chi Estimate
	// Binder = 1 - <M^4>/(3 <M^2>^2): 2/3 deep in the broken phase, 0 for a Gaussian M.
	Binder Estimate
	// Corr[mu][r] is G_mu(r) along axis mu.
	Corr [][]Estimate
}

// Summarize analyses a record. Derived quantities get their errors and tau from the
// linearised series of the Gamma method.
func (r *Record) Summarize() Summary {
	s := Summary{Samples: r.Samples(), Chains: r.Chains, Seconds: r.Seconds}
	if s.Samples == 0 {
		return s
	}
	n, _ := latfft.Sites(r.Dims)
	N := float64(n)
	s.Phi2 = stats.Pool(r.Phi2)
	s.AbsM = stats.Pool(r.AbsM)
	s.M2 = stats.Pool(r.M2)
	s.Chi = stats.PoolDerived(func(x []float64) float64 { return N * (x[0] - x[1]*x[1]) }, r.M2, r.AbsM)
	s.Binder = stats.PoolDerived(func(x []float64) float64 { return 1 - x[0]/(3*x[1]*x[1]) }, r.M4, r.M2)
	s.Corr = make([][]Estimate, len(r.Corr))
	for mu, ax := range r.Corr {
		for _, d := range ax {
			s.Corr[mu] = append(s.Corr[mu], stats.Pool(d))
		}
	}
	return s
}

// Adapt runs the adaptive phase of the bridge: phases times, every chain samples perPhase
// states, all chains' samples train the score (trainer.Train with steps steps), and each chain
// gets a fresh clone of the trained score; the chains' reference covariances stay as they are.
// (Replacing them by the power spectrum of the pooled bridge samples, as this once did, was
// measured to cut the acceptance at depth 9 of 48 from 0.96 to 0.40 on 16^2 near criticality:
// a few hundred correlated samples of a slowly mixing chain estimate it worse than the long
// HMC run that gave the reference, and the denoised part of a split score keeps the old one.)
// After Adapt the score is frozen: measure with Run. The training data are
// the chains' own samples, which are exact draws of the target only once the chains have
// equilibrated; any score keeps the bridge exact, so early poor data cost acceptance, never
// correctness.
func Adapt(ctx context.Context, chains []*Bridge, trainer Trainer, phases, perPhase, steps int, rng *rand.Rand, progress func(phase int, acc float64)) error {
	if len(chains) == 0 {
		return fmt.Errorf("adapt: no chains")
	}
	n := chains[0].n
	pool := make([][]float64, len(chains)*perPhase)
	for i := range pool {
		pool[i] = make([]float64, n)
	}
	for p := 0; p < phases; p++ {
		var wg sync.WaitGroup
		errs := make([]error, len(chains))
		accs := make([]float64, len(chains))
		for ci, b := range chains {
			wg.Add(1)
			go func() {
				defer wg.Done()
				accs[ci], errs[ci] = b.Sample(ctx, perPhase, pool[ci*perPhase:(ci+1)*perPhase])
			}()
		}
		wg.Wait()
		for _, e := range errs {
			if e != nil {
				return e
			}
		}
		if err := trainer.Train(ctx, pool, steps, rng); err != nil {
			return err
		}
		// Chains with the same diffusion, kernel kind and reference share one set of reverse
		// kernels (the clones of one trained score have equal covariances).
		var rk *ReverseKernels
		var rkRef []float64
		var err error
		for _, b := range chains {
			s, ref := trainer.Clone(), b.cfg.Reference
			if rk == nil || rk.d != b.d || rk.kind != b.cfg.Reverse || !slices.Equal(ref, rkRef) {
				if rk, err = NewReverseKernels(b.d, b.cfg.Reverse, ref, s); err != nil {
					return err
				}
				rkRef = ref
			}
			if err := b.SetKernels(s, rk); err != nil {
				return err
			}
		}
		if progress != nil {
			progress(p+1, stats.Mean(accs))
		}
	}
	return nil
}
