package results

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// TraceHeader is the header line of a per-iteration trace CSV.
const TraceHeader = "iter,energy,energy_err,variance,acceptance,lr,seconds"

// TracePoint is one optimisation iteration of a VMC run.
type TracePoint struct {
	Iter       int
	Energy     float64 // mean local energy of the iteration's samples
	EnergyErr  float64 // its standard error (autocorrelation included)
	Variance   float64 // Var(E_loc)
	Acceptance float64 // Metropolis acceptance rate
	LR         float64 // learning rate (step size) used
	Seconds    float64 // wall time since the start of the run
}

// TraceWriter writes a trace CSV one line per Write, so that a crash loses at most the line
// being written. It does not allocate per line.
type TraceWriter struct {
	w      io.Writer
	closer io.Closer
	buf    []byte
}

// NewTraceWriter writes the header to w and returns a writer for the rows.
func NewTraceWriter(w io.Writer) (*TraceWriter, error) {
	if _, err := io.WriteString(w, TraceHeader+"\n"); err != nil {
		return nil, fmt.Errorf("results: write trace header: %w", err)
	}
	return &TraceWriter{w: w, buf: make([]byte, 0, 160)}, nil
}

// Write appends one row. Numbers are written in the shortest form that reads back exactly;
// NaN and infinities as NaN, +Inf, -Inf.
func (t *TraceWriter) Write(p TracePoint) error {
	b := strconv.AppendInt(t.buf[:0], int64(p.Iter), 10)
	for _, v := range [...]float64{p.Energy, p.EnergyErr, p.Variance, p.Acceptance, p.LR, p.Seconds} {
		b = append(b, ',')
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	b = append(b, '\n')
	t.buf = b
	if _, err := t.w.Write(b); err != nil {
		return fmt.Errorf("results: write trace: %w", err)
	}
	return nil
}

// Close syncs and closes the file when the writer came from Store.CreateTrace; otherwise it
// does nothing (the caller owns the io.Writer).
func (t *TraceWriter) Close() error {
	if t.closer == nil {
		return nil
	}
	if s, ok := t.closer.(interface{ Sync() error }); ok {
		_ = s.Sync()
	}
	return t.closer.Close()
}

// traceColumns are the columns of TraceHeader in order.
var traceColumns = strings.Split(TraceHeader, ",")

// ReadTrace reads a trace CSV. Columns are found by header name, so files with extra columns
// (added by newer writers) or in another order are read; iter and energy are required, other
// missing columns read as NaN. On a malformed row it returns the rows before it together
// with an error naming the line: a run killed while writing leaves a partial last line, and
// the rows before it are still good.
func ReadTrace(r io.Reader) ([]TracePoint, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("results: read trace: %w", err)
	}
	if len(data) == 0 {
		return nil, errors.New("results: read trace: empty file")
	}
	// Every row ends in a newline; a last line without one was cut off mid-write.
	complete := data[len(data)-1] == '\n'
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	header := strings.Split(strings.TrimSpace(lines[0]), ",")
	index := make([]int, len(traceColumns)) // position of each known column in the file
	for i, name := range traceColumns {
		index[i] = -1
		for j, h := range header {
			if strings.TrimSpace(h) == name {
				index[i] = j
			}
		}
	}
	if index[0] < 0 || index[1] < 0 {
		return nil, fmt.Errorf("results: read trace: header %q lacks iter or energy", lines[0])
	}
	var pts []TracePoint
	var vals [7]float64
	for k := 1; k < len(lines); k++ {
		line := k + 1
		if k == len(lines)-1 && !complete {
			return pts, fmt.Errorf("results: read trace: line %d is incomplete (no newline; interrupted while writing?)", line)
		}
		text := strings.TrimSpace(lines[k])
		if text == "" {
			continue
		}
		fields := strings.Split(text, ",")
		if len(fields) != len(header) {
			return pts, fmt.Errorf("results: read trace: line %d has %d fields, want %d", line, len(fields), len(header))
		}
		for i, j := range index {
			vals[i] = math.NaN()
			if j < 0 {
				continue
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(fields[j]), 64)
			if err != nil {
				return pts, fmt.Errorf("results: read trace: line %d, column %s: %w", line, traceColumns[i], err)
			}
			vals[i] = v
		}
		if vals[0] != math.Trunc(vals[0]) {
			return pts, fmt.Errorf("results: read trace: line %d: iter %v is not an integer", line, vals[0])
		}
		pts = append(pts, TracePoint{int(vals[0]), vals[1], vals[2], vals[3], vals[4], vals[5], vals[6]})
	}
	return pts, nil
}
