package results

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func sampleRecord() Record {
	t0 := time.Date(2026, 3, 15, 14, 22, 33, 0, time.UTC)
	return Record{
		Kind:     KindGroundState,
		Status:   StatusDone,
		Version:  "test",
		Seed:     7,
		Started:  t0,
		Finished: t0.Add(90 * time.Second),
		Seconds:  90,
		Params:   Params{L: 8, Dim: 2, M2: -0.5, Lambda: 3, Extra: map[string]any{"samples": 4096}},
		Estimates: map[string]Estimate{
			EstEnergy:   {Value: 12.345678, Error: 0.0012},
			EstVariance: {Value: 0.25, Error: math.NaN()},
			"exact_ref": Exact(12.3),
		},
		Curves: map[string]Curve{CurveCorrelator: {X: Floats{0, 1}, Y: Floats{0.3, math.NaN()}, Err: Floats{0.01, 0.02}}},
		Notes:  "made up",
	}
}

func TestPutGetRoundTrip(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "runs"))
	if err != nil {
		t.Fatal(err)
	}
	rec := sampleRecord()
	if err := s.Put(&rec); err != nil {
		t.Fatal(err)
	}
	if rec.ID == "" || rec.Schema != SchemaVersion {
		t.Fatalf("Put did not fill ID/schema: %+v", rec)
	}
	raw, err := os.ReadFile(filepath.Join(s.Dir(), rec.ID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("NaN")) {
		t.Errorf("NaN reached the JSON:\n%s", raw)
	}
	got, err := s.Get(rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != rec.ID || got.Kind != rec.Kind || got.Params.L != 8 || got.Params.M2 != -0.5 || !got.Started.Equal(rec.Started) {
		t.Errorf("round trip: got %+v", got)
	}
	if e := got.Estimates[EstEnergy]; e.Value != 12.345678 || e.Error != 0.0012 {
		t.Errorf("energy %+v", e)
	}
	if e := got.Estimates[EstVariance]; e.Value != 0.25 || !math.IsNaN(e.Error) {
		t.Errorf("unknown error should read back as NaN: %+v", e)
	}
	if e := got.Estimates["exact_ref"]; e.Error != 0 {
		t.Errorf("exact estimate %+v", e)
	}
	if c := got.Curves[CurveCorrelator]; len(c.Y) != 2 || !math.IsNaN(c.Y[1]) || c.Y[0] != 0.3 {
		t.Errorf("curve %+v", c)
	}
	if v, ok := got.Params.Extra["samples"].(float64); !ok || v != 4096 {
		t.Errorf("extra %v", got.Params.Extra)
	}
	// The same ID again must not overwrite.
	again := sampleRecord()
	again.ID = rec.ID
	if err := s.Put(&again); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate ID: err = %v, want ErrExists", err)
	}
	if _, err := s.Get("../etc/passwd"); err == nil {
		t.Error("path-like ID accepted")
	}
	bad := sampleRecord()
	bad.Seconds = math.Inf(1)
	if err := s.Put(&bad); err == nil {
		t.Error("infinite seconds accepted")
	}
	noKind := Record{}
	if err := s.Put(&noKind); err == nil {
		t.Error("record without kind accepted")
	}
}

func TestUnknownFieldsIgnored(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// A record written by a newer program with fields this one does not know.
	newer := `{"schema": 7, "id": "20990101-000000-00000000", "kind": "pimc", "future_field": {"a": [1,2]},
	  "params": {"L": 4, "dim": 2, "m2": 1, "lambda": 0, "new_param": true},
	  "estimates": {"energy": {"value": 1.5, "error": null, "confidence": 0.68}}}`
	if err := os.WriteFile(filepath.Join(s.Dir(), "20990101-000000-00000000.json"), []byte(newer), 0o644); err != nil {
		t.Fatal(err)
	}
	recs, probs, err := s.List()
	if err != nil || len(probs) != 0 || len(recs) != 1 {
		t.Fatalf("list: %v %v %v", recs, probs, err)
	}
	if e := recs[0].Estimates[EstEnergy]; e.Value != 1.5 || !math.IsNaN(e.Error) || recs[0].Params.L != 4 {
		t.Errorf("newer record read as %+v", recs[0])
	}
}

func TestListSkipsTempCorruptAndForeign(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 3 {
		r := sampleRecord()
		r.Started = r.Started.Add(time.Duration(2-i) * time.Hour) // put them out of order
		if err := s.Put(&r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	// A crash mid-write leaves only a temp file with part of a record.
	full, _ := json.Marshal(sampleRecord())
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(s.Dir(), name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(tempPrefix+"crashed", full[:len(full)/2])
	write("20260101-000000-deadbeef.json", full[:len(full)/2]) // truncated by hand: corrupt
	write("notes.txt", []byte("my notes"))                     // foreign
	write("package.json", []byte(`{"name": "x"}`))             // foreign JSON
	mismatch := sampleRecord()
	mismatch.ID = "20260101-000000-00000001"
	mb, _ := json.Marshal(mismatch)
	write("20260101-000000-00000002.json", mb) // ID does not match the name
	if err := os.Mkdir(filepath.Join(s.Dir(), "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}

	recs, probs, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Errorf("got %d records, want 3", len(recs))
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].Started.Before(recs[i-1].Started) {
			t.Errorf("records not sorted by start time")
		}
	}
	var named []string
	for _, p := range probs {
		named = append(named, filepath.Base(p.File))
		if strings.Contains(p.Error(), "\n") {
			t.Errorf("multi-line problem: %q", p.Error())
		}
	}
	want := []string{"20260101-000000-00000002.json", "20260101-000000-deadbeef.json", "notes.txt", "package.json"}
	if strings.Join(named, " ") != strings.Join(want, " ") {
		t.Errorf("problems %v, want %v", named, want)
	}
	for _, p := range probs {
		if strings.Contains(p.File, tempPrefix) {
			t.Errorf("temp file reported: %v", p)
		}
	}
	if _, err := s.Get("20260101-000000-deadbeef"); err == nil {
		t.Error("Get of a corrupt record succeeded")
	}
}

// TestReaderNeverSeesPartialRecord lists the store while another goroutine writes records.
func TestReaderNeverSeesPartialRecord(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range n {
			r := sampleRecord()
			r.Notes = strings.Repeat("x", 1<<20) // large: a non-atomic write would be seen half done
			if err := s.Put(&r); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	// Read every record as soon as its name appears; records already read are not read
	// again, so the reader keeps up with the writer and would catch a half-written file.
	verified := map[string]bool{}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		entries, err := os.ReadDir(s.Dir())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			id, ok := strings.CutSuffix(e.Name(), ".json")
			if !ok || strings.HasPrefix(e.Name(), tempPrefix) || verified[id] {
				continue
			}
			if _, err := s.Get(id); err != nil {
				t.Fatalf("reader saw a partial record: %v", err)
			}
			verified[id] = true
		}
	}
	recs, probs, _ := s.List()
	if len(recs) != n || len(probs) != 0 {
		t.Errorf("after writing: %d records, %d problems", len(recs), len(probs))
	}
	entries, _ := os.ReadDir(s.Dir())
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			t.Errorf("temp file %s left behind", e.Name())
		}
	}
}

const writerEnv = "VQS_RESULTS_TEST_WRITER" // "dir|name": run as a writer subprocess

// TestConcurrentWriterHelper is not a test on its own: TestTwoProcessesWrite runs the test
// binary twice with writerEnv set, and each copy writes records here.
func TestConcurrentWriterHelper(t *testing.T) {
	spec := os.Getenv(writerEnv)
	if spec == "" {
		t.Skip("helper for TestTwoProcessesWrite")
	}
	dir, name, _ := strings.Cut(spec, "|")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		r := sampleRecord()
		r.Kind = KindScan
		r.Params.Extra = map[string]any{"writer": name, "n": i}
		if err := s.Put(&r); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTwoProcessesWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shared-runs")
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for _, name := range []string{"a", "b"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestConcurrentWriterHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), writerEnv+"="+dir+"|"+name)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, &out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("writer %d: %v\n%s", i, err, outs[i])
		}
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	recs, probs, err := s.List()
	if err != nil || len(probs) != 0 {
		t.Fatalf("list: %v %v", probs, err)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		seen[fmt.Sprint(r.Params.Extra["writer"], r.Params.Extra["n"])] = true
	}
	if len(recs) != 100 || len(seen) != 100 {
		t.Errorf("got %d records, %d distinct, want 100", len(recs), len(seen))
	}
	// Find by an extra parameter, with an int where the store holds a float64.
	found, _, err := s.Find(KindScan, Params{L: 8, Dim: 2, M2: -0.5, Lambda: 3, Extra: map[string]any{"writer": "b", "n": 7}})
	if err != nil || len(found) != 1 {
		t.Errorf("Find: %d records, %v", len(found), err)
	}
}

func TestFind(t *testing.T) {
	s, _ := Open(t.TempDir())
	for _, L := range []int{4, 8, 16} {
		for _, kind := range []string{KindScan, KindExact} {
			r := sampleRecord()
			r.Kind = kind
			r.Params.L = L
			if err := s.Put(&r); err != nil {
				t.Fatal(err)
			}
		}
	}
	p := Params{L: 8, Dim: 2, M2: -0.5, Lambda: 3}
	if got, _, _ := s.Find(KindScan, p); len(got) != 1 || got[0].Params.L != 8 || got[0].Kind != KindScan {
		t.Errorf("Find scan L=8: %v", got)
	}
	if got, _, _ := s.Find("", p); len(got) != 2 {
		t.Errorf("Find any kind L=8: %d records, want 2", len(got))
	}
	p.Lambda = 3.0000001
	if got, _, _ := s.Find("", p); len(got) != 0 {
		t.Errorf("Find with another lambda: %d records, want 0", len(got))
	}
	p.Lambda = 3
	p.Extra = map[string]any{"samples": 4096.0}
	if got, _, _ := s.Find(KindScan, p); len(got) != 1 {
		t.Errorf("Find with matching extra: %d, want 1", len(got))
	}
	p.Extra = map[string]any{"samples": 1024}
	if got, _, _ := s.Find(KindScan, p); len(got) != 0 {
		t.Errorf("Find with other extra: %d, want 0", len(got))
	}
}

func TestTraceRoundTrip(t *testing.T) {
	pts := []TracePoint{
		{0, 1118.5, 0.01, 3.5, 0.51, 0.01, 0.25},
		{1, 1.0 / 3, math.NaN(), math.Inf(1), 0.5, 1e-3, 0.5},
		{2, -2e-300, 0, 0, 1, 0, 1e9},
	}
	var buf bytes.Buffer
	w, err := NewTraceWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pts {
		if err := w.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.HasPrefix(buf.String(), TraceHeader+"\n") {
		t.Errorf("header missing: %q", buf.String())
	}
	got, err := ReadTrace(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(pts) {
		t.Fatalf("read %d points, wrote %d", len(got), len(pts))
	}
	same := func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
	for i := range pts {
		a, b := pts[i], got[i]
		if a.Iter != b.Iter || !same(a.Energy, b.Energy) || !same(a.EnergyErr, b.EnergyErr) || !same(a.Variance, b.Variance) ||
			!same(a.Acceptance, b.Acceptance) || !same(a.LR, b.LR) || !same(a.Seconds, b.Seconds) {
			t.Errorf("point %d: wrote %+v, read %+v", i, a, b)
		}
	}
	// Killed while writing the last line: the complete rows survive, with an error.
	cut := buf.Bytes()[:buf.Len()-5]
	got, err = ReadTrace(bytes.NewReader(cut))
	if err == nil || len(got) != 2 {
		t.Errorf("truncated trace: %d points, err %v; want 2 and an error", len(got), err)
	}
	// Other column order and an extra column from a newer writer.
	other := "energy,iter,walkers\n1.5,3,64\n2.5,4,64\n"
	got, err = ReadTrace(strings.NewReader(other))
	if err != nil || len(got) != 2 || got[1].Iter != 4 || got[1].Energy != 2.5 || !math.IsNaN(got[1].Variance) {
		t.Errorf("reordered trace: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "a,b\n1,2\n", TraceHeader + "\n1.5,1,1,1,1,1,1\n", TraceHeader + "\n1,x,1,1,1,1,1\n"} {
		if _, err := ReadTrace(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	// Writing a row does not allocate.
	w2, _ := NewTraceWriter(io.Discard)
	if a := testing.AllocsPerRun(100, func() { _ = w2.Write(pts[0]) }); a != 0 {
		t.Errorf("TraceWriter.Write allocates %v times per row", a)
	}
}

func TestStoreTrace(t *testing.T) {
	s, _ := Open(t.TempDir())
	id := NewID()
	tw, rel, err := s.CreateTrace(id)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := tw.Write(TracePoint{Iter: i, Energy: float64(10 - i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateTrace(id); err == nil {
		t.Error("second CreateTrace for the same ID succeeded")
	}
	r := sampleRecord()
	r.ID, r.Trace = id, rel
	if err := s.Put(&r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := s.ReadTrace(got)
	if err != nil || len(pts) != 5 || pts[4].Energy != 6 {
		t.Errorf("trace %+v, %v", pts, err)
	}
	// The traces directory does not disturb the listing.
	if recs, probs, _ := s.List(); len(recs) != 1 || len(probs) != 0 {
		t.Errorf("list with traces: %d records, %v", len(recs), probs)
	}
	got.Trace = "../../etc/passwd"
	if _, err := s.ReadTrace(got); err == nil {
		t.Error("trace path outside the store accepted")
	}
}

func TestTables(t *testing.T) {
	a := sampleRecord()
	a.ID = "20260315-142233-aaaaaaaa"
	b := sampleRecord()
	b.ID = "20260315-142233-bbbbbbbb"
	b.Kind = KindExact
	b.Params.L = 4
	b.Estimates = map[string]Estimate{EstEnergy: Exact(3.25), EstGap: Exact(0.5)}
	recs := []Record{a, b}

	var buf bytes.Buffer
	if err := WriteTable(&buf, recs, FormatCSV); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"id", "L", "energy", "energy_err", "energy_per_site", "gap", "variance_err", "exact_ref"} {
		if _, ok := col[h]; !ok {
			t.Errorf("csv lacks column %s: %v", h, rows[0])
		}
	}
	num := func(r int, h string) float64 {
		v, err := strconv.ParseFloat(rows[r][col[h]], 64)
		if err != nil {
			t.Fatalf("row %d column %s: %v", r, h, err)
		}
		return v
	}
	if num(1, "energy") != 12.345678 || num(1, "energy_err") != 0.0012 {
		t.Errorf("csv energy row 1: %v", rows[1])
	}
	// E/N derived from E: 12.345678/64 for L = 8 in 2D, 3.25/16 for L = 4.
	if math.Abs(num(1, "energy_per_site")-12.345678/64) > 1e-15 || math.Abs(num(2, "energy_per_site")-3.25/16) > 1e-15 {
		t.Errorf("energy per site: %v, %v", rows[1][col["energy_per_site"]], rows[2][col["energy_per_site"]])
	}
	if rows[1][col["variance_err"]] != "" || rows[2][col["gap"]] != "0.5" || rows[1][col["gap"]] != "" {
		t.Errorf("unknown or missing values: %v / %v", rows[1], rows[2])
	}

	buf.Reset()
	if err := WriteTable(&buf, recs, FormatText); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "12.3457(12)") || !strings.Contains(lines[2], "3.25") {
		t.Errorf("text table:\n%s", buf.String())
	}
	// Aligned: the energy column starts at the same offset in every line.
	pos := strings.Index(lines[0], "energy ")
	if pos < 0 || !strings.HasPrefix(lines[1][pos:], "12.3457(12)") {
		t.Errorf("text table not aligned:\n%s", buf.String())
	}

	buf.Reset()
	if err := WriteTable(&buf, recs, FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	md := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(md) != 4 || !strings.HasPrefix(md[1], "| --- |") || strings.Count(md[0], "|") != strings.Count(md[2], "|") {
		t.Errorf("markdown table:\n%s", buf.String())
	}

	buf.Reset()
	if err := WriteTable(&buf, recs, FormatJSON); err != nil {
		t.Fatal(err)
	}
	var back []Record
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || len(back) != 2 || back[1].Estimates[EstGap].Value != 0.5 {
		t.Errorf("json table: %v, %v", back, err)
	}
	if err := WriteTable(&buf, recs, "xml"); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestFormatEstimate(t *testing.T) {
	for _, c := range []struct {
		e    Estimate
		want string
	}{
		{Estimate{Value: 1.234567, Error: 0.00078}, "1.23457(78)"},
		{Estimate{Value: 1118.48412, Error: 0.0012}, "1118.4841(12)"},
		{Estimate{Value: -0.30015, Error: 0.000131}, "-0.30015(13)"},
		{Estimate{Value: 12345.6, Error: 23}, "12346(23)"},
		{Estimate{Value: 2.5, Error: 0.1}, "2.50(10)"},
		{Exact(1118.484118259315), "1118.48411826"},
		{Estimate{Value: 1.5, Error: math.NaN()}, "1.5(?)"},
		{Estimate{Value: math.NaN(), Error: 0.1}, "-"},
	} {
		if got := FormatEstimate(c.e); got != c.want {
			t.Errorf("FormatEstimate(%v) = %q, want %q", c.e, got, c.want)
		}
	}
}
