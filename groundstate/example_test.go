package groundstate_test

import (
	"context"
	"fmt"

	"vqs/groundstate"
)

// A small ground state through the library alone: 2x2 at m2 = 1, lambda = 24, where exact
// diagonalization gives the reference.
func ExampleRun() {
	cfg := groundstate.Config{L: 2, M2: 1, Lambda: 24, Iterations: 60, Samples: 512, Chains: 8}
	res, err := groundstate.Run(context.Background(), cfg, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	e := res.Estimate.Energy
	fmt.Printf("Gaussian bound %.6f, exact %.6f (%s)\n", res.Gaussian.Energy, res.Exact.Energy, res.Exact.Method)
	fmt.Println("VMC below the bound:", e.Value < res.Gaussian.Energy)
	fmt.Println("VMC within 3 sigma above exact:", e.Value > res.Exact.Energy-3*e.Error && e.Value < res.Exact.Energy+3*e.Error+2e-3)
	fmt.Println("status:", res.Status)
	// Output:
	// Gaussian bound 4.850550, exact 4.838465 (ED, nmax 18, truncation change -8e-09)
	// VMC below the bound: true
	// VMC within 3 sigma above exact: true
	// status: completed
}
