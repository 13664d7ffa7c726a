package dmc

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// checkpointVersion changes whenever the checkpoint layout does.
const checkpointVersion = 1

// checkpoint is a run's whole state between two generations: the stages measured so far, the
// walkers and every random stream, so that a resumed run continues exactly as an
// uninterrupted one would. It is written with encoding/gob (binary, compact for the walkers'
// fields).
type checkpoint struct {
	Version int
	Key     runKey
	Guide   []float64 // the guide's parameters, which must not have changed
	Stage   int       // index of the stage in progress (== number of stages when done)
	Stages  []*stageData
	Walkers int
	Phi     []float64 // Walkers*N
	Hist    []float64 // Walkers*MaxLags*modes
	Pushes  int
	RNG     [][]byte // per walker slot, all slots
	Master  []byte
	Seconds float64
}

// runKey is what a resumed run must share with the checkpoint.
type runKey struct {
	L, Dim            int
	M2, Lambda        float64
	Taus              string // the time steps, printed exactly
	Walkers           int
	Time, VMCTime     float64
	Equilibration     float64
	PopulationWalkers int
	ProductTime       float64
	LagTime           float64
	Seed              uint64
}

func (p *plan) key() runKey {
	c := p.cfg
	return runKey{L: p.lat.L, Dim: p.lat.Dim, M2: p.model.M2, Lambda: p.model.Lambda, Taus: fmt.Sprint(c.Taus),
		Walkers: c.Walkers, Time: c.Time, VMCTime: c.VMCTime, Equilibration: c.Equilibration,
		PopulationWalkers: c.PopulationWalkers, ProductTime: c.ProductTime, LagTime: c.LagTime, Seed: c.Seed}
}

func (k runKey) equal(o runKey) bool {
	return k == o
}

func (r *runner) save(path string, seconds float64) error {
	ck := checkpoint{Version: checkpointVersion, Key: r.p.key(), Guide: r.p.guide.Params(nil),
		Stage: r.stage, Stages: r.stages, Walkers: r.m, Phi: r.phi[:r.m*r.n], Hist: r.hist[:r.m*r.histLen],
		Pushes: r.pushes, Seconds: seconds}
	for _, p := range r.pcg {
		b, err := p.MarshalBinary()
		if err != nil {
			return err
		}
		ck.RNG = append(ck.RNG, b)
	}
	b, err := r.masterPCG.MarshalBinary()
	if err != nil {
		return err
	}
	ck.Master = b
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&ck); err != nil {
		return fmt.Errorf("dmc: encoding the checkpoint: %w", err)
	}
	return writeAtomic(path, buf.Bytes())
}

// writeAtomic writes data to path through a temporary file and a rename, so that a kill
// never leaves a half-written checkpoint.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	name := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return err
	}
	return os.Rename(name, path)
}

func loadCheckpoint(path string) (*checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dmc: reading the checkpoint: %w", err)
	}
	var ck checkpoint
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&ck); err != nil {
		return nil, fmt.Errorf("dmc: checkpoint %s is corrupt: %w", path, err)
	}
	if ck.Version != checkpointVersion {
		return nil, fmt.Errorf("dmc: checkpoint %s has version %d, this program writes %d", path, ck.Version, checkpointVersion)
	}
	return &ck, nil
}

// restore puts the runner into the checkpoint's state (the walkers' derived quantities are
// recomputed afterwards from their fields).
func (r *runner) restore(ck *checkpoint) error {
	if !ck.Key.equal(r.p.key()) {
		return fmt.Errorf("dmc: the checkpoint is for %+v, not %+v", ck.Key, r.p.key())
	}
	if !slices.Equal(ck.Guide, r.p.guide.Params(nil)) {
		return fmt.Errorf("dmc: the checkpoint was made with other guide parameters")
	}
	specs := r.p.stageSpecs()
	if ck.Stage > len(specs) || len(ck.Stages) > len(specs) || ck.Stage > len(ck.Stages) || ck.Stage < len(ck.Stages)-1 {
		return fmt.Errorf("dmc: the checkpoint's stages do not fit this run")
	}
	if ck.Walkers < 1 || ck.Walkers > r.cap || len(ck.Phi) != ck.Walkers*r.n || len(ck.Hist) != ck.Walkers*r.histLen ||
		len(ck.RNG) != len(r.pcg) {
		return fmt.Errorf("dmc: the checkpoint's walkers do not fit this lattice and population")
	}
	for i, sd := range ck.Stages {
		if sd.Kind != specs[i].kind || sd.Tau != specs[i].tau || sd.Blocks == nil || len(sd.Cum) == 0 {
			return fmt.Errorf("dmc: checkpoint stage %d does not fit this run", i)
		}
		// Restore the capacity that blocks.add relies on to stay allocation-free.
		data := make([]float64, len(sd.Blocks.Data), maxBlocks*sd.Blocks.Width)
		copy(data, sd.Blocks.Data)
		sd.Blocks.Data = data
	}
	for i, b := range ck.RNG {
		if err := r.pcg[i].UnmarshalBinary(b); err != nil {
			return err
		}
	}
	if err := r.masterPCG.UnmarshalBinary(ck.Master); err != nil {
		return err
	}
	r.stages, r.stage, r.m, r.pushes = ck.Stages, ck.Stage, ck.Walkers, ck.Pushes
	copy(r.phi, ck.Phi)
	copy(r.hist, ck.Hist)
	return nil
}
