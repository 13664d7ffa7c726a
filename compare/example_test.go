package compare_test

import (
	"context"
	"fmt"

	"vqs/compare"
	"vqs/groundstate"
)

// The anharmonic oscillator (one site) by every method, through the library alone.
func ExampleRun() {
	cfg := compare.Config{Sizes: []int{1}, PIMCEps: []float64{0.3, 0.2}, PIMCSamples: 2000,
		GroundState: groundstate.Config{M2: 1, Lambda: 24, Iterations: 100, Samples: 1024, Chains: 4}}
	res, err := compare.Run(context.Background(), cfg, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range res.Rows[0].Entries {
		if e.Method != "pimc" { // its last digits are noise at this budget
			fmt.Printf("%-8s %.3f\n", e.Method, e.Energy)
		}
	}
	for _, d := range res.Rows[0].Diffs {
		if d.A == "pimc" || d.B == "pimc" {
			fmt.Printf("%s - %s within 3 sigma: %v\n", d.A, d.B, d.Sigmas != nil && *d.Sigmas > -3 && *d.Sigmas < 3)
		}
	}
	// Output:
	// vmc      0.804
	// exact    0.804
	// gaussian 0.812
	// vmc - pimc within 3 sigma: true
	// exact - pimc within 3 sigma: true
	// gaussian - pimc within 3 sigma: true
}
