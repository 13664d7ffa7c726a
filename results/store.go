package results

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"vqs/internal/atomicfile"
)

// DefaultDir is the store directory used when none is given.
const DefaultDir = "runs"

// TraceDir is the subdirectory of a store that holds per-iteration traces.
const TraceDir = "traces"

// tempPrefix starts the names of files being written; List ignores them, so a crash while
// writing leaves at most an ignored temp file, never a partial record.
const tempPrefix = atomicfile.TempPrefix

// ErrExists is returned by Put when a record with the same ID is already stored.
var ErrExists = errors.New("results: a record with this ID already exists")

// Store is a directory of run records.
type Store struct {
	dir string
}

// Open opens the store in dir (DefaultDir when empty), creating it if needed.
func Open(dir string) (*Store, error) {
	if dir == "" {
		dir = DefaultDir
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("results: open store: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("results: open store: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("results: open store: %s is not a directory", dir)
	}
	return &Store{dir: dir}, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// NewID returns a fresh record ID: the UTC time to the second and 32 random bits, e.g.
// 20260315-142233-a1b2c3d4. IDs sort by creation time; two processes starting in the same
// second collide with probability 2^-32, and Put detects that.
func NewID() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return time.Now().UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

// validID reports whether id can name a file inside the store.
func validID(id string) error {
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") || !filepath.IsLocal(id) {
		return fmt.Errorf("results: invalid record ID %q", id)
	}
	return nil
}

func (s *Store) recordPath(id string) string { return filepath.Join(s.dir, id+".json") }

// Put stores rec atomically: it is written to a temp file in the store directory, synced,
// then linked to <id>.json, which fails rather than overwrite an existing record. An empty
// rec.ID is replaced by a fresh NewID (retried on collision); Schema and Host are filled in
// when zero. It returns ErrExists when rec.ID was given and is taken.
func (s *Store) Put(rec *Record) error {
	if rec.Kind == "" {
		return errors.New("results: record without kind")
	}
	if math.IsNaN(rec.Seconds) || math.IsInf(rec.Seconds, 0) {
		return fmt.Errorf("results: record seconds %v is not finite", rec.Seconds)
	}
	if rec.Schema == 0 {
		rec.Schema = SchemaVersion
	}
	for k, v := range rec.Meta {
		// JSON has no NaN: an unknown number is written as null.
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			rec.Meta[k] = nil
		}
	}
	if rec.Host == "" {
		rec.Host, _ = os.Hostname()
	}
	auto := rec.ID == ""
	for attempt := 0; ; attempt++ {
		if auto {
			rec.ID = NewID()
		}
		if err := validID(rec.ID); err != nil {
			return err
		}
		data, err := json.MarshalIndent(rec, "", "  ")
		if err != nil {
			return fmt.Errorf("results: encode record: %w", err)
		}
		data = append(data, '\n')
		err = s.writeAtomic(rec.recordName(), data)
		if errors.Is(err, ErrExists) && auto && attempt < 10 {
			continue
		}
		if err != nil && auto {
			rec.ID = ""
		}
		return err
	}
}

func (r *Record) recordName() string { return r.ID + ".json" }

// writeAtomic writes data to name in the store so that name either does not exist or holds
// all of data, and never replaces an existing file.
func (s *Store) writeAtomic(name string, data []byte) error {
	if err := atomicfile.Create(filepath.Join(s.dir, name), data); err != nil {
		if errors.Is(err, atomicfile.ErrExists) {
			return fmt.Errorf("%w: %s", ErrExists, filepath.Join(s.dir, name))
		}
		return fmt.Errorf("results: %w", err)
	}
	return nil
}

// Get reads the record with the given ID.
func (s *Store) Get(id string) (Record, error) {
	if err := validID(id); err != nil {
		return Record{}, err
	}
	return readRecord(s.recordPath(id), id)
}

func readRecord(path, id string) (Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Record{}, err
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, fmt.Errorf("corrupt record: %w", err)
	}
	if r.ID == "" || r.Kind == "" {
		return Record{}, errors.New("not a run record (no id or kind)")
	}
	if r.ID != id {
		return Record{}, fmt.Errorf("record ID %q does not match its file name", r.ID)
	}
	return r, nil
}

// Problem is a file in the store that could not be read as a run record.
type Problem struct {
	File string // path of the file
	Err  error
}

func (p Problem) Error() string { return p.File + ": " + oneLine(p.Err.Error()) }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// List returns all records in the store, oldest first (by Started, then ID), and one Problem
// for each file that is not a readable record: corrupt JSON, a foreign file, a record whose
// ID does not match its name. Problems never stop the listing. Temp files of writes in
// progress and subdirectories are skipped silently. The error is only for an unreadable
// store directory.
func (s *Store) List() ([]Record, []Problem, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("results: list store: %w", err)
	}
	var recs []Record
	var probs []Problem
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(s.dir, name)
		if e.IsDir() || strings.HasPrefix(name, tempPrefix) {
			continue
		}
		id, ok := strings.CutSuffix(name, ".json")
		if !ok || validID(id) != nil {
			probs = append(probs, Problem{path, errors.New("not a run record (foreign file)")})
			continue
		}
		r, err := readRecord(path, id)
		if err != nil {
			probs = append(probs, Problem{path, err})
			continue
		}
		recs = append(recs, r)
	}
	sort.SliceStable(recs, func(i, j int) bool {
		if !recs[i].Started.Equal(recs[j].Started) {
			return recs[i].Started.Before(recs[j].Started)
		}
		return recs[i].ID < recs[j].ID
	})
	return recs, probs, nil
}

// Find returns the records of the given kind (any kind when empty) whose L, Dim, M2 and
// Lambda equal those of p, and whose Params.Extra holds every key of p.Extra with an equal
// value (compared by their JSON form, so 3 and 3.0 match). Floats are compared exactly:
// JSON round-trips float64 exactly, so the same flag value always matches. Callers that
// want finished runs only check Status. Problems are those of List.
func (s *Store) Find(kind string, p Params) ([]Record, []Problem, error) {
	recs, probs, err := s.List()
	if err != nil {
		return nil, nil, err
	}
	var out []Record
	for _, r := range recs {
		if kind != "" && r.Kind != kind {
			continue
		}
		if r.Params.L != p.L || r.Params.Dim != p.Dim || r.Params.M2 != p.M2 || r.Params.Lambda != p.Lambda {
			continue
		}
		if extraMatches(r.Params.Extra, p.Extra) {
			out = append(out, r)
		}
	}
	return out, probs, nil
}

func extraMatches(have, want map[string]any) bool {
	for k, w := range want {
		h, ok := have[k]
		if !ok {
			return false
		}
		hb, err1 := json.Marshal(h)
		wb, err2 := json.Marshal(w)
		if err1 != nil || err2 != nil || !bytes.Equal(hb, wb) {
			return false
		}
	}
	return true
}

// CreateTrace creates the trace file traces/<id>.csv in the store, failing if it exists,
// writes the header and returns the writer and the path to put in Record.Trace.
func (s *Store) CreateTrace(id string) (*TraceWriter, string, error) {
	if err := validID(id); err != nil {
		return nil, "", err
	}
	rel := filepath.Join(TraceDir, id+".csv")
	if err := os.MkdirAll(filepath.Join(s.dir, TraceDir), 0o755); err != nil {
		return nil, "", fmt.Errorf("results: create trace: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.dir, rel), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, "", fmt.Errorf("results: create trace: %w", err)
	}
	tw, err := NewTraceWriter(f)
	if err != nil {
		f.Close()
		return nil, "", err
	}
	tw.closer = f
	return tw, filepath.ToSlash(rel), nil
}

// ReadTrace reads the trace of rec. Like the package-level ReadTrace, it returns the
// complete rows together with an error for a damaged row (e.g. the last line of a run
// that was killed while writing it).
func (s *Store) ReadTrace(rec Record) ([]TracePoint, error) {
	if rec.Trace == "" {
		return nil, fmt.Errorf("results: record %s has no trace", rec.ID)
	}
	rel := filepath.FromSlash(rec.Trace)
	if !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("results: record %s: trace path %q leaves the store", rec.ID, rec.Trace)
	}
	f, err := os.Open(filepath.Join(s.dir, rel))
	if err != nil {
		return nil, fmt.Errorf("results: record %s: %w", rec.ID, err)
	}
	defer f.Close()
	return ReadTrace(f)
}

// CheckWritable reports whether records can be written into the store, by creating and
// removing a probe file; commands call it before computing, so that a result is never lost to
// a read-only store at the end.
func (s *Store) CheckWritable() error {
	f, err := os.CreateTemp(s.dir, tempPrefix+"probe-*")
	if err != nil {
		return fmt.Errorf("results: store %s is not writable: %w", s.dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
