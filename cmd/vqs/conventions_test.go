package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every input error exits with status 2, whatever layer finds it.
func TestUsageErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	os.WriteFile(file, []byte("x"), 0o644)
	corrupt := filepath.Join(dir, "corrupt")
	os.MkdirAll(corrupt, 0o755)
	os.WriteFile(filepath.Join(corrupt, "problem.json"), []byte(`{"L": 2, "m2": 1, "lambda": 24, "seed": 1}`), 0o644)
	os.WriteFile(filepath.Join(corrupt, "checkpoint.json"), []byte(`{"iter": 3, "params": [1,`), 0o644)
	cases := map[string][]string{
		"unknown subcommand":   {"frobnicate"},
		"extra argument":       {"ground-state", "extra"},
		"extra argument exact": {"exact", "--L", "2", "surplus"},
		"missing checkpoint":   {"ground-state", "--out", filepath.Join(dir, "nothing"), "--resume"},
		"corrupt checkpoint":   {"ground-state", "--out", corrupt, "--resume"},
		"store is a file":      {"ground-state", "--L", "2", "--iters", "1", "--store", file},
		"too few measurements": {"ground-state", "--L", "2", "--chains", "4", "--measure-samples", "4"},
		"negative timeout":     {"ground-state", "--timeout", "-1s"},
		"zero chains":          {"ground-state", "--chains", "0"},
		"scan x-power":         {"scan", "--x-power", "-1", "--store", dir},
		"scan x-power NaN":     {"scan", "--x-power", "NaN", "--store", dir},
		"results of no store":  {"results", "list", "--store", filepath.Join(dir, "no-such-store")},
		"results unknown verb": {"results", "frob"},
	}
	for name, args := range cases {
		_, err := run(t, context.Background(), args...)
		if code := exitCode(err); code != 2 {
			t.Errorf("%s (%v): exit %d (%v), want 2", name, args, code, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "no-such-store")); err == nil {
		t.Error("results list created the store it was asked to read")
	}
}

// --json prints exactly one JSON object on stdout, for every command that has it.
func TestJSONIsOneObject(t *testing.T) {
	store := t.TempDir()
	for _, args := range [][]string{
		{"exact", "--L", "1", "--json"},
		{"gaussian", "--L", "4", "--json"},
		{"ground-state", "--L", "2", "--iters", "3", "--samples", "64", "--chains", "4", "--json", "--store", store},
		{"ground-state", "--L", "2", "--iters", "2", "--samples", "64", "--chains", "4", "--json", "--ablation"},
		{"compare", "--L", "1", "--iters", "2", "--samples", "64", "--chains", "2", "--no-pimc", "--json"},
		{"results", "list", "--store", store, "--json"},
	} {
		out, err := run(t, context.Background(), args...)
		if err != nil {
			t.Errorf("%v: %v", args, err)
			continue
		}
		var obj map[string]any
		dec := json.NewDecoder(strings.NewReader(out))
		if err := dec.Decode(&obj); err != nil {
			t.Errorf("%v: not a JSON object: %v\n%s", args, err, out)
			continue
		}
		if dec.More() {
			t.Errorf("%v: more than one JSON value on stdout", args)
		}
	}
}

// A run directory holding a run is not overwritten by accident.
func TestRerunWithoutResumeIsRefused(t *testing.T) {
	dir := t.TempDir()
	args := []string{"ground-state", "--L", "2", "--iters", "2", "--samples", "64", "--chains", "4", "--out", dir}
	if _, err := run(t, context.Background(), args...); err != nil {
		t.Fatal(err)
	}
	_, err := run(t, context.Background(), args...)
	if err == nil || !strings.Contains(err.Error(), "--resume") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("rerun over a checkpoint: %v", err)
	}
	if _, err := run(t, context.Background(), append(args, "--force")...); err != nil {
		t.Fatalf("--force: %v", err)
	}
	// --resume reads the problem from the directory: no flags needed, and it says where it resumes.
	if _, err := run(t, context.Background(), "ground-state", "--out", dir, "--resume", "--iters", "4"); err != nil {
		t.Fatalf("--resume with only the directory: %v", err)
	}
}
