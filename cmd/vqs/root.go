package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"vqs/hamiltonian"
)

// subcommands lists constructors of the subcommands; each file adds its own in an init function
// so that commands can be developed side by side.
var subcommands []func() *cobra.Command

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "vqs",
		Short: "Ground states of lattice scalar phi^4 theory in 2+1 dimensions",
		Long: `vqs computes ground states of the lattice scalar phi^4 Hamiltonian

  H = sum_x [ pi_x^2/2 + (m2/2) phi_x^2 + (lambda/24) phi_x^4 ]
    + (1/2) sum_x sum_mu (phi_{x+mu} - phi_x)^2

on a periodic L^dim lattice with unit spacing (dim = 2 is 2+1D; 1 and 3 for checks).
lambda multiplies phi^4/4!; if you use the lambda/4 convention, pass 6x your value.
Energies are in lattice units (inverse lattice spacing).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{err}
	})
	root.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Errorf("unknown command %q (see vqs --help)", args[0])}
		}
		return nil
	}
	root.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
	for _, mk := range subcommands {
		root.AddCommand(mk())
	}
	usageArgs(root)
	return root
}

// validateOnly makes every command stop after checking its flags, before computing: the flag
// fuzz test runs thousands of command lines through the real parsing and validation.
var validateOnly bool

// usageError marks errors in the input: the command line, or a file it names (exit status 2).
// Failures while computing exit with status 1; interrupted runs with 3 (see main).
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

// usageArgs makes every argument check of c and its subcommands report a usage error, so that
// a wrong argument exits with status 2 whichever command it hits.
func usageArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			err := check(cmd, args)
			var ue usageError
			if err != nil && !errors.As(err, &ue) {
				return usageError{err}
			}
			return err
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}

// noArgs is cobra.NoArgs as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), strings.Join(args, " "))}
	}
	return nil
}

// oneLine flattens an error message to a single line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// physicsFlags are the flags common to every command that sets up the model.
type physicsFlags struct {
	L      int
	Dim    int
	M2     float64
	Lambda float64
	JSON   bool
}

func (p *physicsFlags) register(cmd *cobra.Command, defL int, defM2, defLambda float64) {
	cmd.Flags().IntVar(&p.L, "L", defL, "lattice side length (sites per direction, periodic)")
	p.registerCouplings(cmd, defM2, defLambda)
}

// registerCouplings registers every physics flag but --L (for commands that take several sizes).
func (p *physicsFlags) registerCouplings(cmd *cobra.Command, defM2, defLambda float64) {
	cmd.Flags().Float64Var(&p.M2, "m2", defM2, "bare mass squared m^2 (lattice units); may be < 0 when lambda > 0 (double well)")
	p.registerOthers(cmd, defLambda)
}

// registerOthers registers the physics flags but --L and --m2 (for commands that take lists).
func (p *physicsFlags) registerOthers(cmd *cobra.Command, defLambda float64) {
	f := cmd.Flags()
	f.IntVar(&p.Dim, "dim", 2, "number of spatial dimensions: 2 is the 2+1D theory; 1 and 3 for checks")
	f.Float64Var(&p.Lambda, "lambda", defLambda, "quartic coupling, coefficient of phi^4/4! (pass 6x a lambda/4-convention value); >= 0")
	f.BoolVar(&p.JSON, "json", false, "print one JSON object on stdout instead of the human-readable report")
}

// model validates the flags and builds the Hamiltonian.
func (p *physicsFlags) model() (*hamiltonian.Model, error) {
	m, err := hamiltonian.NewModel(p.L, p.Dim, p.M2, p.Lambda)
	if err != nil {
		return nil, usageError{err}
	}
	return m, nil
}

// writeJSON prints v as one indented JSON object. NaN and Inf never reach the output: use
// optional (pointer) fields for unknown values.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// report prints aligned "name  value" rows for the human-readable output.
type report struct {
	w    io.Writer
	rows [][2]string
}

func (r *report) add(name, format string, args ...any) {
	r.rows = append(r.rows, [2]string{name, fmt.Sprintf(format, args...)})
}

// flush prints the rows; a failed write (a full disk, a closed pipe) is an error, never a
// silently lost result.
func (r *report) flush() error {
	width := 0
	for _, row := range r.rows {
		width = max(width, len(row[0]))
	}
	var b strings.Builder
	for _, row := range r.rows {
		fmt.Fprintf(&b, "%-*s  %s\n", width, row[0], row[1])
	}
	r.rows = r.rows[:0]
	_, err := io.WriteString(r.w, b.String())
	return err
}

// finite returns a pointer to x, or nil when x is NaN or infinite, for optional JSON fields.
func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

// errWriter keeps the first write error, so that a long report written piece by piece can
// check once at the end that it reached its reader.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
