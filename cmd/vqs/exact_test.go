package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// vqsCommand returns the test binary set up to run vqs with args (see TestMain).
func vqsCommand(t *testing.T, args ...string) *exec.Cmd { return vqsProcess(t, args...) }

// Inputs whose arithmetic overflows are refused in one line with exit status 2, before any
// computation. These used to send the tridiagonal eigenvalue search into an endless loop (on
// NaN bounds) that ignored SIGTERM.
func TestExactOverflowIsUsageError(t *testing.T) {
	for _, args := range [][]string{
		{"exact", "--L", "1", "--omega", "1e308"},
		{"exact", "--L", "1", "--m2", "1e308"},
		{"exact", "--L", "1", "--omega", "1e154"},
		{"exact", "--L", "2", "--omega", "1e-300", "--symmetry", "z2"},
		{"exact", "--L", "2", "--m2", "-1e300", "--lambda", "1"},
	} {
		var stderr strings.Builder
		cmd := vqsCommand(t, args...)
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%v: %v, want exit status 2 (stderr %q)", args, err, stderr.String())
			continue
		}
		msg := strings.TrimSuffix(stderr.String(), "\n")
		if strings.Contains(msg, "\n") || !(strings.Contains(msg, "matrix elements of H") || strings.Contains(msg, "must be at most")) {
			t.Errorf("%v: stderr %q, want the one-line overflow refusal", args, msg)
		}
	}
}

// SIGTERM during a long diagonalization stops it with the interrupted status 3 and says so.
func TestExactStopsOnSIGTERM(t *testing.T) {
	cmd := vqsCommand(t, "exact", "--L", "3", "--nmax", "6", "--symmetry", "z2")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	var lines []string
	signalled := false
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if !signalled && strings.HasPrefix(sc.Text(), "ED nmax 6") {
			// The first progress line: Lanczos is running.
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			signalled = true
		}
	}
	err = cmd.Wait()
	if !signalled {
		t.Fatalf("no progress line; stderr %q", lines)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("%v, want exit status 3", err)
	}
	last := lines[len(lines)-1]
	if !strings.Contains(last, "interrupted") || !strings.Contains(last, "context canceled") {
		t.Errorf("last stderr line %q, want the interruption", last)
	}
	for _, l := range lines {
		if strings.Contains(l, "iteration 20,") {
			t.Errorf("Lanczos went on after SIGTERM: %q", l)
		}
	}
}

// The symmetric and the Z2-only diagonalization agree, and the JSON reports the symmetry and
// every sector.
func TestExactSymmetryJSON(t *testing.T) {
	type sector struct {
		Name       string
		NMax       int
		States     int64
		Energy     float64
		Iterations int `json:"lanczos_iterations"`
	}
	type result struct {
		Method           string
		Energy           float64
		Gap              *float64
		NMax             *int
		TruncationChange *float64 `json:"truncation_change"`
		Symmetry         string
		Group            string
		GroupOrder       int `json:"group_order"`
		States           int64
		Sectors          []sector
	}
	var got [2]result
	for i, sym := range []string{"z2", "full"} {
		out, err := run(t, context.Background(), "exact", "--L", "2", "--m2", "-1", "--lambda", "12", "--nmax", "10",
			"--symmetry", sym, "--json")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(out), &got[i]); err != nil {
			t.Fatal(err)
		}
		r := got[i]
		if r.Method != "ed" || r.Symmetry != sym || r.NMax == nil || *r.NMax != 10 || len(r.Sectors) != 3 ||
			r.Gap == nil || r.TruncationChange == nil || r.Sectors[0].States != r.States || r.Sectors[2].NMax != 8 {
			t.Fatalf("%s: %+v", sym, r)
		}
	}
	z, f := got[0], got[1]
	if math.Abs(z.Energy-f.Energy) > 1e-10*math.Abs(z.Energy) || math.Abs(*z.Gap-*f.Gap) > 1e-9 {
		t.Errorf("z2 E0 %.15g gap %.12g, full %.15g %.12g", z.Energy, *z.Gap, f.Energy, *f.Gap)
	}
	if z.GroupOrder != 1 || f.GroupOrder != 8 || !strings.Contains(f.Group, "C4v") || f.States >= z.States {
		t.Errorf("z2 %q (%d) %d states, full %q (%d) %d states", z.Group, z.GroupOrder, z.States, f.Group, f.GroupOrder, f.States)
	}

	// The text report names the sectors too.
	out, err := run(t, context.Background(), "exact", "--L", "2", "--m2", "-1", "--lambda", "12", "--nmax", "10")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"zero-momentum A1", "k=0 A1 Z2-even, nmax 10", "k=0 A1 Z2-odd, nmax 10", "k=0 A1 Z2-even, nmax 8", "C4v"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	if _, err := run(t, context.Background(), "exact", "--symmetry", "cubic"); !errors.As(err, new(usageError)) {
		t.Errorf("--symmetry cubic: %v, want a usage error", err)
	}
}
