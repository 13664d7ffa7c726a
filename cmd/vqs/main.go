// Command vqs computes ground states of lattice scalar phi^4 theory in 2+1 dimensions:
// exact references (free theory, exact diagonalization), the Gaussian-variational bound,
// variational Monte Carlo with an RG-structured ansatz, and Euclidean sampling.
// Run `vqs --help` for the subcommands and their conventions.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is the program version recorded in every run record; set by -ldflags at release.
var version = "0.1.0-dev"

func main() {
	// SIGINT (Ctrl-C) and SIGTERM (batch-scheduler preemption) cancel the context; long runs
	// watch it, checkpoint and print what they have.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "vqs: error:", oneLine(err))
		code := 1
		var ue usageError
		if errors.As(err, &ue) {
			code = 2
		}
		stop()
		os.Exit(code)
	}
}
