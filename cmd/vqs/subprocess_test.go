package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"vqs/groundstate"
	"vqs/results"
	"vqs/vmc"
)

// TestMain lets the test binary stand in for the vqs binary: with VQS_TEST_MAIN=1 it runs main,
// so tests can send real signals to a real process.
func TestMain(m *testing.M) {
	if os.Getenv("VQS_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func vqsProcess(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	c := exec.Command(os.Args[0], args...)
	c.Env = append(os.Environ(), "VQS_TEST_MAIN=1")
	return c
}

// exitStatus returns the process's exit status, -1 if it died by a signal.
func exitStatus(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -2
	}
	return 0
}

// waitFor polls until cond holds or the process ends; it reports whether cond held.
func waitFor(t *testing.T, done <-chan error, cond func() bool) bool {
	t.Helper()
	for {
		select {
		case err := <-done:
			t.Fatalf("the process ended before the condition held: %v", err)
		case <-time.After(20 * time.Millisecond):
			if cond() {
				return true
			}
		}
	}
}

func traceLines(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "trace.csv"))
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n")) - 1 // minus the header
}

// kill -9 in the middle of a run loses at most the iteration in progress: the checkpoint is at
// most one iteration behind the trace, and --resume finishes the run with a continuous trace.
func TestKill9LosesAtMostOneIteration(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	c := vqsProcess(t, "ground-state", "--L", "4", "--iters", "60", "--samples", "256", "--chains", "4", "--out", dir)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	waitFor(t, done, func() bool { return traceLines(dir) >= 8 })
	c.Process.Signal(syscall.SIGKILL)
	<-done
	lines := traceLines(dir)
	cp, err := groundstate.LoadCheckpoint(dir)
	if err != nil {
		t.Fatalf("no readable checkpoint after kill -9: %v", err)
	}
	if cp.Iter < lines-1 || cp.Iter > lines {
		t.Fatalf("checkpoint at iteration %d, trace has %d lines", cp.Iter, lines)
	}
	out, err := vqsProcess(t, "ground-state", "--out", dir, "--resume", "--json").Output()
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	var s groundstate.Summary
	if err := json.Unmarshal(out, &s); err != nil || s.Iterations != 60 || s.ResumedFrom != cp.Iter || traceLines(dir) != 60 {
		t.Fatalf("resumed run: %+v (%v), trace %d lines", s, err, traceLines(dir))
	}
}

// SIGTERM during a scan checkpoints the size in progress in the store and exits 3; the same
// command resumes that size instead of starting it over.
func TestScanSIGTERMResumes(t *testing.T) {
	store := filepath.Join(t.TempDir(), "store")
	args := []string{"scan", "--L", "2,4", "--iters", "80", "--samples", "512", "--chains", "4", "--store", store}
	c := vqsProcess(t, args...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	ckpts := filepath.Join(store, "checkpoints")
	waitFor(t, done, func() bool {
		m, _ := filepath.Glob(filepath.Join(ckpts, "*", "trace.csv"))
		for _, f := range m {
			if traceLines(filepath.Dir(f)) >= 5 && strings.Contains(stderr.String(), "scan: L = 4") {
				return true
			}
		}
		return false
	})
	c.Process.Signal(syscall.SIGTERM)
	if code := exitStatus(<-done); code != 3 {
		t.Fatalf("exit status %d after SIGTERM, want 3\n%s", code, stderr.String())
	}
	again := vqsProcess(t, args...)
	var stderr2 bytes.Buffer
	again.Stderr = &stderr2
	if err := again.Run(); err != nil {
		t.Fatalf("second scan: %v\n%s", err, stderr2.String())
	}
	if !strings.Contains(stderr2.String(), "L = 2 already in the store") || !strings.Contains(stderr2.String(), "L = 4 resumes from its checkpoint") {
		t.Fatalf("the second scan did not reuse and resume:\n%s", stderr2.String())
	}
	if m, _ := filepath.Glob(filepath.Join(ckpts, "*")); len(m) != 0 {
		t.Fatalf("checkpoints left after the scan finished: %v", m)
	}
}

// SIGTERM during the final measurement says so, in text and JSON, and exits 3.
func TestMeasurementCutBySignalSaysSo(t *testing.T) {
	c := vqsProcess(t, "ground-state", "--L", "4", "--iters", "2", "--samples", "64", "--chains", "4",
		"--measure-samples", "2000000", "--json")
	var stdout bytes.Buffer
	c.Stdout = &stdout
	pr, _ := c.StderrPipe()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "measuring") {
			c.Process.Signal(syscall.SIGTERM)
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if code := exitStatus(c.Wait()); code != 3 {
		t.Fatalf("exit status %d, want 3", code)
	}
	var s groundstate.Summary
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if !s.MeasureCut || s.Status != vmc.Interrupted.String() || s.Samples >= 2000000 {
		t.Fatalf("cut measurement reported as %+v", s)
	}
}

// A result that cannot reach stdout (a full disk) is an error, never a silent exit 0.
func TestFullStdoutIsAnError(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full")
	}
	defer full.Close()
	for _, args := range [][]string{
		{"exact", "--L", "1"},
		{"gaussian"},
		{"ground-state", "--L", "2", "--iters", "2", "--samples", "64", "--chains", "4"},
		{"ground-state", "--L", "2", "--iters", "2", "--samples", "64", "--chains", "4", "--json"},
	} {
		c := vqsProcess(t, args...)
		c.Stdout = full
		if code := exitStatus(c.Run()); code != 1 {
			t.Errorf("%v with stdout on /dev/full: exit %d, want 1", args, code)
		}
	}
}

// A store that cannot be written is refused before anything is computed.
func TestUnwritableStoreRefusedUpFront(t *testing.T) {
	start := time.Now()
	c := vqsProcess(t, "ground-state", "--store", "/proc/self")
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if code := exitStatus(c.Run()); code != 2 || !strings.Contains(stderr.String(), "not writable") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Logf("took %v: was it computed before the refusal?", d) // informative only: no timing limits in tests
	}
}

// Two identical scans at once store each size once, so a later fit cannot count it twice.
func TestConcurrentIdenticalScans(t *testing.T) {
	store := filepath.Join(t.TempDir(), "store")
	args := []string{"scan", "--L", "2,3", "--iters", "10", "--samples", "128", "--chains", "2", "--store", store}
	a, b := vqsProcess(t, args...), vqsProcess(t, args...)
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	if ea, eb := a.Wait(), b.Wait(); ea != nil || eb != nil {
		t.Fatalf("scans: %v, %v", ea, eb)
	}
	st, _ := results.Open(store)
	recs, _, err := st.Select(results.Filter{Kinds: []string{results.KindScan}})
	if err != nil || len(recs) != 2 {
		t.Fatalf("%d scan records (%v), want 2", len(recs), err)
	}
}
