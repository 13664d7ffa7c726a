package groundstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"vqs/internal/atomicfile"
	"vqs/results"
	"vqs/vmc"
)

// Files of a run directory.
const (
	ProblemFile    = "problem.json"    // the Config of the run
	CheckpointFile = "checkpoint.json" // the state after the last iteration (vmc.Checkpoint)
	TraceFile      = "trace.csv"       // one line per iteration (results trace format)
	RunFile        = "run.json"        // the finished result
)

// runDir is an open run directory: it appends the trace as the run goes and replaces the
// checkpoint atomically, so a kill at any moment loses at most the iteration in progress.
type runDir struct {
	dir   string
	trace *os.File
	tw    *results.TraceWriter
}

// LoadConfig reads the Config of the run in dir (its problem.json), for Resume.
func LoadConfig(dir string) (Config, error) {
	var c Config
	b, err := os.ReadFile(filepath.Join(dir, ProblemFile))
	if err != nil {
		return c, fmt.Errorf("no run to resume in %s: %w", dir, err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s is corrupt: %w", filepath.Join(dir, ProblemFile), err)
	}
	c.Dir = dir
	return c, nil
}

// LoadCheckpoint reads the checkpoint of the run in dir.
func LoadCheckpoint(dir string) (*vmc.Checkpoint, error) {
	path := filepath.Join(dir, CheckpointFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("no checkpoint to resume in %s: %w", dir, err)
	}
	var c vmc.Checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("checkpoint %s is corrupt: %w", path, err)
	}
	return &c, nil
}

// openRunDir prepares cfg.Dir for a run: a fresh run refuses a directory that holds a
// checkpoint unless Force is set; a resumed one loads and checks its checkpoint. It returns
// the checkpoint to resume (nil for a fresh run).
func openRunDir(cfg Config) (*runDir, *vmc.Checkpoint, error) {
	dir := cfg.Dir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("run directory: %w", err)
	}
	var cp *vmc.Checkpoint
	if cfg.Resume {
		old, err := LoadConfig(dir)
		if err != nil {
			return nil, nil, err
		}
		if old.key() != cfg.key() {
			return nil, nil, fmt.Errorf("the run in %s is for %+v, not %+v", dir, old.key(), cfg.key())
		}
		if cp, err = LoadCheckpoint(dir); err != nil {
			return nil, nil, err
		}
	} else if _, err := os.Stat(filepath.Join(dir, CheckpointFile)); err == nil && !cfg.Force {
		return nil, nil, fmt.Errorf("%s already holds a run (%s): continue it with --resume or start over with --force",
			dir, CheckpointFile)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("run directory: %w", err)
	}
	if !cfg.Resume {
		if cfg.Force {
			os.Remove(filepath.Join(dir, CheckpointFile))
			os.Remove(filepath.Join(dir, RunFile))
		}
		if err := atomicfile.ReplaceJSON(filepath.Join(dir, ProblemFile), cfg); err != nil {
			return nil, nil, err
		}
	}
	// The trace restarts from what the checkpoint holds: lines of iterations after it (the
	// kill came between the trace line and the checkpoint) are dropped.
	f, err := os.Create(filepath.Join(dir, TraceFile))
	if err != nil {
		return nil, nil, fmt.Errorf("trace: %w", err)
	}
	rd := &runDir{dir: dir, trace: f}
	if rd.tw, err = results.NewTraceWriter(f); err != nil {
		f.Close()
		return nil, nil, err
	}
	if cp != nil {
		for _, s := range cp.Trace {
			if err := rd.tw.Write(tracePoint(s)); err != nil {
				rd.close()
				return nil, nil, err
			}
		}
	}
	return rd, cp, rd.trace.Sync()
}

// iteration appends one trace line and syncs it.
func (rd *runDir) iteration(s vmc.IterStats) error {
	if err := rd.tw.Write(tracePoint(s)); err != nil {
		return err
	}
	return rd.trace.Sync()
}

// checkpoint replaces the checkpoint atomically.
func (rd *runDir) checkpoint(c *vmc.Checkpoint) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return atomicfile.Replace(filepath.Join(rd.dir, CheckpointFile), b)
}

func (rd *runDir) close() error { return rd.trace.Close() }

func tracePoint(s vmc.IterStats) results.TracePoint {
	return results.TracePoint{Iter: s.Iter, Energy: s.Energy, EnergyErr: s.EnergyErr, Variance: s.Variance,
		Acceptance: s.Acceptance, LR: s.LR, Seconds: s.Seconds}
}
