// Command reach runs one exact diagonalization and reports its cost: wall time per Lanczos
// iteration, iterations and the energies. It measures how far the matrix-free ED reaches
// (3x3 at nmax 8 by default); run it under /usr/bin/time -v for the peak memory.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"vqs/hamiltonian"
	"vqs/hamiltonian/ed"
)

func main() {
	L := flag.Int("L", 3, "lattice side")
	dim := flag.Int("dim", 2, "dimensions")
	nmax := flag.Int("nmax", 8, "levels per site")
	m2 := flag.Float64("m2", 1, "m^2")
	lambda := flag.Float64("lambda", 24, "lambda (phi^4/4! convention)")
	limit := flag.Duration("limit", 0, "stop after this long (0: run to convergence)")
	every := flag.Int("every", 10, "print every this many iterations")
	symmetry := flag.String("symmetry", "", "z2 or full (default: full on more than one site)")
	convergence := flag.Bool("convergence", false, "also solve with nmax-2 levels")
	evenOnly := flag.Bool("even-only", false, "skip the odd sector")
	flag.Parse()
	sym, err := ed.ParseSymmetry(*symmetry)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}

	m, err := hamiltonian.NewModel(*L, *dim, *m2, *lambda)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx := context.Background()
	if *limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *limit)
		defer cancel()
	}
	start := time.Now()
	last := start
	cfg := ed.Config{NMax: *nmax, Symmetry: sym, Convergence: *convergence, EvenOnly: *evenOnly, Progress: func(p ed.Progress) {
		if p.Iteration == 1 {
			fmt.Printf("nmax %d sector %d (%d states): first iteration after %.1f s (setup included)\n", p.NMax, p.Sector, p.States, time.Since(start).Seconds())
			last = time.Now()
		}
		if p.Iteration%*every == 0 {
			now := time.Now()
			fmt.Printf("sector %d it %4d  E %.13f  resid %.2e  %.2f s/it  elapsed %.0f s\n",
				p.Sector, p.Iteration, p.Energy, p.Residual, now.Sub(last).Seconds()/float64(*every), now.Sub(start).Seconds())
			last = now
		}
	}}
	fmt.Printf("%d^%d sites, nmax %d, m2 %g, lambda %g: omega %.6f, estimate %.2f GiB\n",
		*L, *dim, *nmax, *m2, *lambda, ed.DefaultOmega(m), float64(ed.MemoryEstimate(m, cfg))/(1<<30))
	res, err := ed.Solve(ctx, m, cfg)
	if err != nil {
		fmt.Printf("stopped after %.0f s: %v\n", time.Since(start).Seconds(), err)
		os.Exit(1)
	}
	fmt.Printf("E0 %.15f  odd %.15f  gap %.13f  states %d  iterations %d + %d  residual %.2e  change %.3g  time %.1f s\n",
		res.Energy, res.OddEnergy, res.Gap, res.States, res.Iterations, res.OddIterations, res.Residual, res.TruncationChange, time.Since(start).Seconds())
	fmt.Println(res.Group)
	for _, s := range res.Sectors {
		fmt.Printf("  %s nmax %d: %d states, E %.15f, %d iterations\n", s.Name, s.NMax, s.States, s.Energy, s.Iterations)
	}
}
