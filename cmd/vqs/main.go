// Command vqs computes ground states of lattice scalar phi^4 theory in 2+1 dimensions:
// exact references (free theory, exact diagonalization), the Gaussian-variational bound,
// variational Monte Carlo with an RG-structured ansatz, diffusion Monte Carlo, scans that
// locate the critical point, and Euclidean sampling.
// Run `vqs --help` for the subcommands and their conventions.
//
// Exit status: 0 done; 1 a failure while computing or writing; 2 bad input (the command line,
// or a file it names); 3 interrupted (Ctrl-C, SIGTERM or --timeout), after printing the result
// so far.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"vqs/buildinfo"
	"vqs/vmc"
)

// version is the program version recorded in every run record.
var version = buildinfo.Version()

// interruptedError marks a run that was stopped by a signal or a timeout after it printed what
// it had (exit status 3).
type interruptedError struct{ why string }

func (e interruptedError) Error() string {
	return "interrupted (" + e.why + "): the result above is what was computed before the stop"
}

// statusError turns how a VMC run ended into the command's error: nil unless it was
// interrupted or timed out.
func statusError(s vmc.Status, reason string) error {
	if s == vmc.Interrupted || s == vmc.TimedOut {
		return interruptedError{reason}
	}
	return nil
}

func main() {
	// SIGINT (Ctrl-C) and SIGTERM (batch-scheduler preemption) cancel the context; long runs
	// watch it, checkpoint and print what they have.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "vqs: error:", oneLine(err))
	}
	os.Exit(exitCode(err))
}

// exitCode returns the exit status for the error a command returned.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ue usageError
	var ie interruptedError
	switch {
	case errors.As(err, &ue):
		return 2
	case errors.As(err, &ie), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return 3
	}
	return 1
}
