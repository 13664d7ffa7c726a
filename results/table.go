package results

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Table formats accepted by WriteTable.
const (
	FormatText     = "text"
	FormatCSV      = "csv"
	FormatMarkdown = "md"
	FormatJSON     = "json"
)

// preferredEstimates are shown first, in this order, when present; others follow sorted.
var preferredEstimates = []string{EstEnergy, EstEnergyPerSite, EstVariance, EstGap, EstVirial, EstAcceptance, EstTauInt}

// WriteTable writes recs as a table in the given format (text, csv, md or json).
//
// Columns: id, kind, status, L, dim, m2, lambda, then every estimate present in any record
// (conventional names first, see the Est constants), then seconds. When a record has an
// energy but no energy_per_site, E/N is shown as energy/N with error/N. In text and md an
// estimate is written as value(error) with two digits of error, e.g. 1.23456(78), and exact
// values (error 0) with 12 significant digits; csv has separate <name> and <name>_err
// columns at full precision, empty when unknown; json is the list of records itself.
func WriteTable(w io.Writer, recs []Record, format string) error {
	switch format {
	case FormatText, "":
		return writeAligned(w, recs)
	case FormatCSV:
		return writeCSV(w, recs)
	case FormatMarkdown:
		return writeMarkdown(w, recs)
	case FormatJSON:
		if recs == nil {
			recs = []Record{}
		}
		b, err := json.MarshalIndent(recs, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	return fmt.Errorf("results: unknown table format %q (want text, csv, md or json)", format)
}

// estimatesOf returns the record's estimates with E/N derived from E when missing.
func estimatesOf(r Record) map[string]Estimate {
	est := make(map[string]Estimate, len(r.Estimates)+1)
	for k, v := range r.Estimates {
		est[k] = v
	}
	if e, ok := est[EstEnergy]; ok {
		if _, has := est[EstEnergyPerSite]; !has {
			if n := r.Params.Sites(); n > 0 {
				est[EstEnergyPerSite] = Estimate{Value: e.Value / float64(n), Error: e.Error / float64(n)}
			}
		}
	}
	return est
}

// estimateColumns lists the estimate names present in any record, in display order.
func estimateColumns(recs []Record) []string {
	present := map[string]bool{}
	for _, r := range recs {
		for k := range estimatesOf(r) {
			present[k] = true
		}
	}
	var cols []string
	for _, k := range preferredEstimates {
		if present[k] {
			cols = append(cols, k)
			delete(present, k)
		}
	}
	var rest []string
	for k := range present {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	return append(cols, rest...)
}

var paramHeader = []string{"id", "kind", "status", "L", "dim", "m2", "lambda"}

func paramCells(r Record) []string {
	return []string{r.ID, r.Kind, r.Status, strconv.Itoa(r.Params.L), strconv.Itoa(r.Params.Dim),
		strconv.FormatFloat(r.Params.M2, 'g', -1, 64), strconv.FormatFloat(r.Params.Lambda, 'g', -1, 64)}
}

// textRows returns the header and rows with estimates as value(error).
func textRows(recs []Record) [][]string {
	cols := estimateColumns(recs)
	header := append(append(append([]string{}, paramHeader...), cols...), "seconds")
	rows := [][]string{header}
	for _, r := range recs {
		est := estimatesOf(r)
		row := paramCells(r)
		for _, c := range cols {
			if e, ok := est[c]; ok {
				row = append(row, FormatEstimate(e))
			} else {
				row = append(row, "")
			}
		}
		row = append(row, strconv.FormatFloat(r.Seconds, 'f', 1, 64))
		rows = append(rows, row)
	}
	return rows
}

func writeAligned(w io.Writer, recs []Record) error {
	return WriteAligned(w, textRows(recs))
}

// WriteAligned prints rows as left-aligned columns separated by two spaces, without
// trailing blanks.
func WriteAligned(w io.Writer, rows [][]string) error {
	if len(rows) == 0 {
		return nil
	}
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			if i < len(width) {
				width[i] = max(width[i], len(c))
			}
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, c := range row {
			if i > 0 {
				b.WriteString("  ")
			}
			if i == len(row)-1 || i >= len(width) {
				b.WriteString(c)
			} else {
				fmt.Fprintf(&b, "%-*s", width[i], c)
			}
		}
		if _, err := fmt.Fprintln(w, strings.TrimRight(b.String(), " ")); err != nil {
			return err
		}
	}
	return nil
}

func writeMarkdown(w io.Writer, recs []Record) error {
	rows := textRows(recs)
	for i, row := range rows {
		if _, err := fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | ")); err != nil {
			return err
		}
		if i == 0 {
			sep := make([]string, len(row))
			for j := range sep {
				sep[j] = "---"
				if j >= 3 {
					sep[j] = "---:" // numbers right-aligned
				}
			}
			if _, err := fmt.Fprintf(w, "| %s |\n", strings.Join(sep, " | ")); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeCSV(w io.Writer, recs []Record) error {
	cols := estimateColumns(recs)
	header := append([]string{}, paramHeader...)
	for _, c := range cols {
		header = append(header, c, c+"_err")
	}
	header = append(header, "seconds")
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, r := range recs {
		est := estimatesOf(r)
		row := paramCells(r)
		for _, c := range cols {
			e, ok := est[c]
			if !ok {
				row = append(row, "", "")
				continue
			}
			row = append(row, csvFloat(e.Value), csvFloat(e.Error))
		}
		row = append(row, csvFloat(r.Seconds))
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvFloat(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// FormatEstimate writes an estimate for people: value(error) with two significant digits of
// error, as in 1.23456(78) or 1118.4841(12); value(?) when the error is unknown; exact
// values (error 0) with 12 significant digits; "-" for an unknown value.
func FormatEstimate(e Estimate) string {
	switch {
	case math.IsNaN(e.Value) || math.IsInf(e.Value, 0):
		return "-"
	case e.Error == 0:
		return strconv.FormatFloat(e.Value, 'g', 12, 64)
	case math.IsNaN(e.Error) || math.IsInf(e.Error, 0) || e.Error < 0:
		return strconv.FormatFloat(e.Value, 'g', 6, 64) + "(?)"
	}
	// Decimals so that the error has two significant digits; an error >= 10 is shown in
	// the units of the value instead.
	decimals := 1 - int(math.Floor(math.Log10(e.Error)))
	if decimals <= 0 {
		return fmt.Sprintf("%.0f(%.0f)", e.Value, e.Error)
	}
	if decimals > 17 {
		return strconv.FormatFloat(e.Value, 'g', 12, 64) + "(" + strconv.FormatFloat(e.Error, 'g', 2, 64) + ")"
	}
	digits := math.Round(e.Error * math.Pow(10, float64(decimals)))
	return fmt.Sprintf("%.*f(%.0f)", decimals, e.Value, digits)
}
