package main

import (
	"context"
	"strings"
	"testing"
)

// FuzzCommandLine runs arbitrary command lines through every command's real flag parsing and
// validation (stopping before any computation): none may panic, and every error is one line
// that names no NaN. `go test -fuzz FuzzCommandLine ./cmd/vqs` explores further; the seeds run
// in the default suite.
func FuzzCommandLine(f *testing.F) {
	for _, seed := range []string{
		"exact --L 2 --nmax 18",
		"exact --L 1 --omega 1e308",
		"exact --m2 1e308",
		"gaussian --L 5000",
		"gaussian --m2 -1e308",
		"gaussian --dim 3 --L 200 --m2 -1e6 --lambda 24",
		"ground-state --L 4 --iters 3 --samples 256 --chains 1",
		"ground-state --measure-samples 16",
		"ground-state --samples 2000000000",
		"ground-state --timeout -1s",
		"ground-state --lr NaN --sr-shift Inf",
		"ground-state --scales 99 --width -3",
		"ground-state --L 3 --sampler bridge --levels 0",
		"ground-state --out d --resume --L 9",
		"scan --L 4,8,,x --x-power -1",
		"scan --L 4 --x-power NaN",
		"scan --L 0",
		"compare --L 1,2 --pimc-eps 0.1",
		"compare --pimc-eps -1,0",
		"pimc --L 33 --warmup 5",
		"pimc --eps 0,0.1 --beta -2",
		"sample --L 0 --method both",
		"sample --flow-plot x.pdf --method bridge",
		"sample --depths 0,99 --method bridge --score gaussian",
		"results plot --kind scaling --out x.png --x-power -1",
		"results plot --kind flow",
		"results show",
		"frobnicate --L 3",
		"ground-state extra args",
		"--help",
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	validateOnly = true
	f.Cleanup(func() { validateOnly = false })
	f.Fuzz(func(t *testing.T, line string) {
		t.Chdir(dir) // stores or run directories a command line names land here
		args := strings.Fields(line)
		for _, a := range args {
			if a == "completion" || strings.HasPrefix(a, "--store=/") || a == "--out=/" {
				return // shell-completion scripts and absolute paths are not flag validation
			}
		}
		_, err := run(t, context.Background(), args...)
		if err == nil {
			return
		}
		msg := oneLine(err)
		if msg == "" || strings.Contains(msg, "\n") {
			t.Fatalf("%q: error %q is not one line", line, msg)
		}
		if strings.Contains(msg, "NaN") && !strings.Contains(line, "NaN") && !strings.Contains(line, "nan") {
			t.Fatalf("%q: error names a NaN: %s", line, msg)
		}
	})
}
