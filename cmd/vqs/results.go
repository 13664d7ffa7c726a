package main

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"vqs/results"
)

func init() { subcommands = append(subcommands, newResultsCmd) }

func newResultsCmd() *cobra.Command {
	var storeDir string
	cmd := &cobra.Command{
		Use:   "results",
		Short: "List, show, tabulate and plot stored run records",
		Long: `results reads the run records that vqs commands store (one JSON file per run in the
store directory, per-iteration traces under traces/). Files in the store that are not readable
records (corrupt, foreign, an ID that does not match the file name) are reported on stderr, one
line each, and skipped; the rest of the listing continues. Files of writes in progress are
ignored. Energies are in lattice units.`,
		Example: `  vqs results list
  vqs results show 20260315-142233-a1b2c3d4
  vqs results table --format md
  vqs results plot --kind scaling --m2 -0.5 --lambda 3 --out scaling.png
  vqs results plot --kind trace --out trace.svg 20260315-142233-a1b2c3d4`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown results command %q (want list, show, table or plot)", args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().StringVar(&storeDir, "store", results.DefaultDir, "directory of the run store (created if missing)")
	// Reading commands never create a store: a mistyped path is an error, not an empty listing.
	open := func() (*results.Store, error) {
		if fi, err := os.Stat(storeDir); err != nil || !fi.IsDir() {
			return nil, usageError{fmt.Errorf("no results store at %s (--store names the directory that commands wrote with --store)", storeDir)}
		}
		return results.Open(storeDir)
	}
	cmd.AddCommand(newResultsListCmd(open), newResultsShowCmd(open), newResultsTableCmd(open), newResultsPlotCmd(open))
	return cmd
}

type resStoreOpener func() (*results.Store, error)

// selectRecords runs the store query and reports unreadable files on stderr, one line each.
func selectRecords(cmd *cobra.Command, s *results.Store, f results.Filter) ([]results.Record, error) {
	recs, probs, err := s.Select(f)
	for _, p := range probs {
		fmt.Fprintf(cmd.ErrOrStderr(), "vqs: warning: skipped %s\n", p.Error())
	}
	if err != nil {
		return nil, usageError{err}
	}
	return recs, nil
}

func newResultsListCmd(open resStoreOpener) *cobra.Command {
	var kinds []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "One line per stored run: id, kind, status, parameters, energy, start time",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := open()
			if err != nil {
				return err
			}
			recs, err := selectRecords(cmd, s, results.Filter{Kinds: kinds})
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), struct {
					Records []results.Record `json:"records"`
				}{recs})
			}
			rows := [][]string{{"id", "kind", "status", "L", "dim", "m2", "lambda", "energy", "started (UTC)"}}
			for _, r := range recs {
				energy := ""
				if e, ok := r.Estimates[results.EstEnergy]; ok {
					energy = results.FormatEstimate(e)
				}
				started := ""
				if !r.Started.IsZero() {
					started = r.Started.UTC().Format(time.DateTime)
				}
				rows = append(rows, []string{r.ID, r.Kind, r.Status, strconv.Itoa(r.Params.L), strconv.Itoa(r.Params.Dim),
					resFmtG(r.Params.M2), resFmtG(r.Params.Lambda), energy, started})
			}
			return results.WriteAligned(cmd.OutOrStdout(), rows)
		},
	}
	cmd.Flags().StringSliceVar(&kinds, "kind", nil, "only runs of these kinds (comma-separated: ground-state, exact, gaussian, pimc, scan, ...)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {\"records\": [...]} (the records as stored) instead of the table")
	return cmd
}

func newResultsShowCmd(open resStoreOpener) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "All stored fields of one run",
		Args:  resExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := open()
			if err != nil {
				return err
			}
			r, err := s.Get(args[0])
			if err != nil {
				return fmt.Errorf("record %s: %v", args[0], oneLine(err))
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(out, r)
			}
			rep := &report{w: out}
			rep.add("id", "%s", r.ID)
			rep.add("kind", "%s", r.Kind)
			if r.Status != "" {
				rep.add("status", "%s", r.Status)
			}
			rep.add("lattice", "L = %d, dim = %d, N = %d sites", r.Params.L, r.Params.Dim, r.Params.Sites())
			rep.add("m2", "%s", resFmtG(r.Params.M2))
			rep.add("lambda", "%s  (coefficient of phi^4/4!)", resFmtG(r.Params.Lambda))
			for _, k := range resSortedKeys(r.Params.Extra) {
				rep.add("  "+k, "%v", r.Params.Extra[k])
			}
			for _, k := range results.EstimateOrder(r.Estimates) {
				e := r.Estimates[k]
				note := ""
				switch {
				case e.Error == 0:
					note = "  (exact)"
				case e.Unreliable:
					note = "  UNRELIABLE (stuck or too short chains)"
				}
				if e.Tau > 0 {
					note += fmt.Sprintf("  tau_int %.3g", e.Tau)
				}
				rep.add(k, "%s%s", results.FormatEstimate(e), note)
			}
			for _, k := range resSortedKeys(r.Meta) {
				rep.add(k, "%v", fmtMeta(r.Meta[k]))
			}
			for _, k := range resSortedKeys(r.Curves) {
				rep.add("curve "+k, "%d points", len(r.Curves[k].Y))
			}
			if r.Trace != "" {
				pts, terr := s.ReadTrace(r)
				switch {
				case terr != nil && len(pts) == 0:
					rep.add("trace", "%s (unreadable: %s)", r.Trace, oneLine(terr))
				case terr != nil:
					rep.add("trace", "%s (%d iterations; %s)", r.Trace, len(pts), oneLine(terr))
				default:
					rep.add("trace", "%s (%d iterations)", r.Trace, len(pts))
				}
			}
			rep.add("seed", "%d", r.Seed)
			if r.Version != "" {
				rep.add("version", "%s", r.Version)
			}
			if r.Host != "" {
				rep.add("host", "%s", r.Host)
			}
			if !r.Started.IsZero() {
				rep.add("started", "%s", r.Started.UTC().Format(time.RFC3339))
			}
			if !r.Finished.IsZero() {
				rep.add("finished", "%s", r.Finished.UTC().Format(time.RFC3339))
			}
			rep.add("seconds", "%.1f", r.Seconds)
			if r.Notes != "" {
				rep.add("notes", "%s", r.Notes)
			}
			return rep.flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the record as stored (JSON) instead of the human-readable report")
	return cmd
}

func newResultsTableCmd(open resStoreOpener) *cobra.Command {
	var format string
	var kinds []string
	cmd := &cobra.Command{
		Use:   "table [ID...]",
		Short: "Table of runs (all, or the given IDs) as aligned text, CSV, Markdown or JSON",
		Long: `table prints one row per run: id, kind, status, L, dim, m2, lambda, every estimate present
(energy, energy_per_site, variance, gap, ... ; E/N is derived as energy/N when a run has no
energy_per_site), and the run time in seconds. text and md write value(error) with two digits of
error, e.g. 1118.4841(12), and exact values with 12 significant digits; csv writes separate
<name> and <name>_err columns at full precision (empty when unknown); json writes the records.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case results.FormatText, results.FormatCSV, results.FormatMarkdown, results.FormatJSON:
			default:
				return usageError{fmt.Errorf("--format %q: want text, csv, md or json", format)}
			}
			s, err := open()
			if err != nil {
				return err
			}
			recs, err := selectRecords(cmd, s, results.Filter{IDs: args, Kinds: kinds})
			if err != nil {
				return err
			}
			return results.WriteTable(cmd.OutOrStdout(), recs, format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text (aligned columns), csv, md (Markdown) or json")
	cmd.Flags().StringSliceVar(&kinds, "kind", nil, "only runs of these kinds (comma-separated: ground-state, exact, gaussian, pimc, scan, ...)")
	return cmd
}

type resPlotFlags struct {
	kind    string
	out     string
	runKind []string
	xPower  float64
	noFit   bool
	noRefs  bool
	logY    bool
	dim     int
	m2      float64
	lambda  float64
	title   string
}

func newResultsPlotCmd(open resStoreOpener) *cobra.Command {
	var pf resPlotFlags
	cmd := &cobra.Command{
		Use:   "plot --kind scaling|trace|correlator|flow --out FILE.png|FILE.svg [ID...]",
		Short: "Plot finite-size scaling, a VMC convergence trace, a correlator or an RG flow",
		Long: `plot draws one figure to --out (PNG or SVG, by extension).

  scaling     E0/N against 1/N (or 1/L^p with --x-power p) for the given runs, or for all runs of
              --run-kind in the store; they must share dim, m2 and lambda (narrow with --dim, --m2,
              --lambda). A weighted linear fit extrapolates to infinite volume; the fitted value is
              printed and shown in the legend. Exact and Gaussian runs in the store with the same
              parameters are drawn as reference points.
  trace       energy (with a one-sigma band) and Var(E_loc) against iteration for one run with a
              trace; exact and Gaussian energies of the same parameters in the store are drawn as
              reference lines.
  correlator  G(r) with errors of one run (curve "correlator"), with its exact curve
              ("correlator_exact") when stored.
  flow        the learned resCouplings against RG time of one run (curves "flow_<name>").`,
		Example: `  vqs results plot --kind scaling --m2 -0.5 --lambda 3 --x-power 3 --out scaling.png
  vqs results plot --kind trace --out trace.svg 20260315-142233-a1b2c3d4`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if pf.out == "" {
				return usageError{fmt.Errorf("--out FILE.png or FILE.svg is required")}
			}
			if ext := strings.ToLower(pf.out); !strings.HasSuffix(ext, ".png") && !strings.HasSuffix(ext, ".svg") {
				return usageError{fmt.Errorf("--out %q: the file name must end in .png or .svg", pf.out)}
			}
			if math.IsNaN(pf.xPower) || math.IsInf(pf.xPower, 0) || pf.xPower < 0 {
				return usageError{fmt.Errorf("--x-power %v: want a positive number, or 0 for 1/N", pf.xPower)}
			}
			switch pf.kind {
			case "scaling":
			case "trace", "correlator", "flow":
				if len(args) != 1 {
					return usageError{fmt.Errorf("plot --kind %s takes exactly one run ID, got %d", pf.kind, len(args))}
				}
			default:
				return usageError{fmt.Errorf("--kind %q: want scaling, trace, correlator or flow", pf.kind)}
			}
			s, err := open()
			if err != nil {
				return err
			}
			switch pf.kind {
			case "scaling":
				return resPlotScaling(cmd, s, args, &pf)
			case "trace":
				return resPlotTrace(cmd, s, args[0], &pf)
			case "correlator":
				return resPlotCorrelator(cmd, s, args[0], &pf)
			default:
				return resPlotFlow(cmd, s, args[0], &pf)
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&pf.kind, "kind", "", "what to plot: scaling, trace, correlator or flow (required)")
	f.StringVar(&pf.out, "out", "", "output file; the extension .png or .svg chooses the format (required)")
	f.StringSliceVar(&pf.runKind, "run-kind", []string{results.KindGroundState, results.KindScan, results.KindPIMC}, "scaling without IDs: use the runs of these kinds (comma-separated)")
	f.Float64Var(&pf.xPower, "x-power", 0, "scaling: abscissa 1/L^p; 0 means p = dim, i.e. 1/N (p = 3 is the massless 2+1D correction)")
	f.BoolVar(&pf.noFit, "no-fit", false, "scaling: draw the data without the linear infinite-volume fit")
	f.BoolVar(&pf.noRefs, "no-refs", false, "do not add exact and Gaussian reference values found in the store")
	f.BoolVar(&pf.logY, "log", false, "correlator: logarithmic G(r) axis (non-positive values are left out)")
	f.IntVar(&pf.dim, "dim", 0, "scaling without IDs: only runs with this number of spatial dimensions")
	f.Float64Var(&pf.m2, "m2", 0, "scaling without IDs: only runs with this bare mass squared")
	f.Float64Var(&pf.lambda, "lambda", 0, "scaling without IDs: only runs with this quartic coupling (coefficient of phi^4/4!)")
	f.StringVar(&pf.title, "title", "", "figure title (default: describes the runs)")
	return cmd
}

func resPlotScaling(cmd *cobra.Command, s *results.Store, ids []string, pf *resPlotFlags) error {
	f := results.Filter{IDs: ids}
	if len(ids) == 0 {
		f.Kinds = pf.runKind
		fl := cmd.Flags()
		if fl.Changed("dim") {
			f.Dim = pf.dim
		}
		if fl.Changed("m2") {
			f.M2 = &pf.m2
		}
		if fl.Changed("lambda") {
			f.Lambda = &pf.lambda
		}
	}
	set, err := s.ScalingData(f, !pf.noRefs)
	if err != nil {
		return usageError{err}
	}
	couplings := fmt.Sprintf("dim %d, m2 = %s, lambda = %s", set.Dim, resFmtG(set.M2), resFmtG(set.Lambda))
	sp := results.ScalingPlot{Title: pf.title, Dim: set.Dim, XPower: pf.xPower, Fit: !pf.noFit, Data: set.Data,
		ReferencePoints: set.References}
	if sp.Title == "" {
		sp.Title = "Finite-size scaling, " + couplings
	}
	if sp.Fit && len(set.Counts) < 2 {
		fmt.Fprintln(cmd.ErrOrStderr(), "vqs: warning: only one lattice size; no fit")
		sp.Fit = false
	}
	fit, err := results.PlotScaling(pf.out, sp)
	if err != nil {
		return err
	}
	rep := &report{w: cmd.OutOrStdout()}
	rep.add("figure", "%s", pf.out)
	rep.add("runs", "%d (%s)", len(set.Records), couplings)
	for _, L := range resSortedInts(set.Counts) {
		if n := set.Counts[L]; n > 1 {
			rep.add("repeats", "L = %d: %d runs, all drawn and fitted", L, n)
		}
	}
	if fit != nil {
		rep.add("E0/N (L -> inf)", "%s", results.FormatEstimate(results.Estimate{Value: fit.A, Error: fit.ErrA}))
		rep.add("slope", "%s", results.FormatEstimate(results.Estimate{Value: fit.B, Error: fit.ErrB}))
		if fit.DOF > 0 && fit.ErrA > 0 {
			rep.add("chi2/dof", "%.3g/%d", fit.Chi2, fit.DOF)
		}
	}
	return rep.flush()
}

func resRunTitle(r results.Record) string {
	return fmt.Sprintf("%s, L = %d, dim %d, m2 = %s, lambda = %s (%s)", r.Kind, r.Params.L, r.Params.Dim, resFmtG(r.Params.M2), resFmtG(r.Params.Lambda), r.ID)
}

func resPlotTrace(cmd *cobra.Command, s *results.Store, id string, pf *resPlotFlags) error {
	r, err := s.Get(id)
	if err != nil {
		return fmt.Errorf("record %s: %v", id, oneLine(err))
	}
	pts, terr := s.ReadTrace(r)
	if terr != nil {
		if len(pts) == 0 {
			return terr
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "vqs: warning: %s; plotting the %d complete iterations\n", oneLine(terr), len(pts))
	}
	tp := results.TracePlot{Title: pf.title, Points: pts}
	if tp.Title == "" {
		tp.Title = "VMC convergence: " + resRunTitle(r)
	}
	if !pf.noRefs {
		if tp.References, err = s.References(r.Params); err != nil {
			return err
		}
	}
	if err := results.PlotTrace(pf.out, tp); err != nil {
		return err
	}
	rep := &report{w: cmd.OutOrStdout()}
	rep.add("figure", "%s", pf.out)
	rep.add("iterations", "%d", len(pts))
	for _, ref := range tp.References {
		rep.add("reference", "%s %.12g", ref.Label, ref.Value)
	}
	return rep.flush()
}

func resPlotCorrelator(cmd *cobra.Command, s *results.Store, id string, pf *resPlotFlags) error {
	r, err := s.Get(id)
	if err != nil {
		return fmt.Errorf("record %s: %v", id, oneLine(err))
	}
	data, ok := r.Curves[results.CurveCorrelator]
	if !ok {
		return fmt.Errorf("record %s has no %q curve", id, results.CurveCorrelator)
	}
	cp := results.CorrelatorPlot{Title: pf.title, Data: data, LogY: pf.logY}
	if cp.Title == "" {
		cp.Title = "Two-point function: " + resRunTitle(r)
	}
	if data.Label == "" {
		cp.Data.Label = r.Kind
	}
	if exact, ok := r.Curves[results.CurveCorrelatorExact]; ok && !pf.noRefs {
		cp.Exact = &exact
	}
	if err := results.PlotCorrelator(pf.out, cp); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "figure  %s\n", pf.out)
	return nil
}

func resPlotFlow(cmd *cobra.Command, s *results.Store, id string, pf *resPlotFlags) error {
	r, err := s.Get(id)
	if err != nil {
		return fmt.Errorf("record %s: %v", id, oneLine(err))
	}
	var names []string
	for k := range r.Curves {
		if strings.HasPrefix(k, results.CurveFlowPrefix) {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("record %s has no flow curves (%s<name>)", id, results.CurveFlowPrefix)
	}
	// m2 before lambda, then the rest alphabetically.
	rank := func(k string) string {
		switch k {
		case results.CurveFlowPrefix + "m2":
			return "0"
		case results.CurveFlowPrefix + "lambda":
			return "1"
		}
		return "2" + k
	}
	sort.Slice(names, func(i, j int) bool { return rank(names[i]) < rank(names[j]) })
	fp := results.FlowPlot{Title: pf.title, LogT: true} // RG time grids are geometric
	if fp.Title == "" {
		fp.Title = "Learned RG flow: " + resRunTitle(r)
	}
	for _, k := range names {
		c := r.Curves[k]
		if c.Label == "" {
			c.Label = strings.TrimPrefix(k, results.CurveFlowPrefix)
		}
		fp.Couplings = append(fp.Couplings, c)
	}
	if err := results.PlotFlow(pf.out, fp); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "figure  %s\n", pf.out)
	return nil
}

// resExactArgs is cobra.ExactArgs with a usage error (exit status 2).
func resExactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s takes %d argument(s), got %d", cmd.CommandPath(), n, len(args))}
		}
		return nil
	}
}

func resFmtG(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func resSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func resSortedInts(m map[int]int) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

// fmtMeta prints a stored fact: numbers to 6 digits (they are measurements, not exact values).
func fmtMeta(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'g', 6, 64)
	}
	if v == nil {
		return "unknown"
	}
	return fmt.Sprint(v)
}
