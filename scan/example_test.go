package scan_test

import (
	"context"
	"fmt"
	"os"

	"vqs/groundstate"
	"vqs/scan"
)

// A finite-size scan of the free theory through the library alone, into a temporary store:
// every size is compared with its exact energy.
func ExampleRun() {
	store, _ := os.MkdirTemp("", "vqs-example-")
	defer os.RemoveAll(store)
	cfg := scan.Config{Sizes: []int{2, 4}, Store: store, GroundState: groundstate.Config{M2: 1, Lambda: 0,
		Iterations: 20, Samples: 256, Chains: 4}}
	res, err := scan.Run(context.Background(), cfg, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Rows {
		fmt.Printf("L = %d: exact %.6f, VMC within 1e-6 relative: %v\n", r.L, r.Exact.Energy,
			(r.Energy.Value-r.Exact.Energy)/r.Exact.Energy < 1e-6)
	}
	fmt.Printf("infinite volume E0/N = %.4f\n", res.Fit.A)
	// Output:
	// L = 2: exact 4.236068, VMC within 1e-6 relative: true
	// L = 4: exact 17.463808, VMC within 1e-6 relative: true
	// infinite volume E0/N = 1.1023
}
