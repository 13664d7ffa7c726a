package dmc_test

import (
	"context"
	"fmt"
	"math"

	"vqs/dmc"
	"vqs/groundstate"
)

// The exact E0 of the anharmonic oscillator H = p^2/2 + x^2/2 + x^4 (L = 1, m2 = 1,
// lambda = 24) through the library alone: a guide trained on the spot, walkers at two time
// steps, the extrapolation to tau = 0.
func ExampleRun() {
	cfg := dmc.Config{
		Train:   groundstate.Config{L: 1, Dim: 1, M2: 1, Lambda: 24, Iterations: 300},
		Walkers: 512, Time: 40, Seed: 3,
	}
	res, err := dmc.Run(context.Background(), cfg, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	const exact = 0.803770651234274
	fmt.Printf("Gaussian bound %.4f\n", res.GaussianBound)
	fmt.Println("extrapolated to tau = 0:", res.Extrapolated)
	fmt.Println("E0 within 3 sigma of exact, error below 2e-5:", math.Abs(res.Energy-exact) < 3*res.EnergyErr && res.EnergyErr < 2e-5)
	// Output:
	// Gaussian bound 0.8125
	// extrapolated to tau = 0: true
	// E0 within 3 sigma of exact, error below 2e-5: true
}
