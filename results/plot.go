package results

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"vqs/stats"
)

// Reference is a horizontal reference line, such as an exact or Gaussian-variational energy.
type Reference struct {
	Label string
	Value float64
	Err   float64 // standard error; 0 for exact values
}

// ScalingPoint is the energy per site measured on one lattice size.
type ScalingPoint struct {
	L        int
	EPerSite float64
	Err      float64 // standard error; 0 for exact values
}

// ScalingSeries is a labelled set of E/N values at several sizes, e.g. exact or Gaussian
// references drawn next to the data.
type ScalingSeries struct {
	Label  string
	Points []ScalingPoint
}

// ScalingPlot describes a finite-size scaling plot of E0/N against 1/N (or 1/L^p).
type ScalingPlot struct {
	Title string
	Dim   int // spatial dimension: N = L^Dim
	// XPower p sets the abscissa x = 1/L^p; 0 means p = Dim, i.e. x = 1/N. In 2+1D with a
	// massless spectrum the leading correction to E0/N goes like 1/L^3.
	XPower float64
	Data   ScalingSeries
	// Fit draws the weighted linear fit E/N = e_inf + b x over Data and shows the
	// extrapolation e_inf (x = 0) with its error in the legend. Data errors must be all
	// positive, or all zero (exact data: unweighted fit, extrapolation without error).
	Fit bool
	// ReferencePoints are further series drawn as open markers (exact, Gaussian, ...).
	ReferencePoints []ScalingSeries
	// ReferenceLines are horizontal lines, e.g. an infinite-volume value.
	ReferenceLines []Reference
}

// TracePlot describes the convergence plot of a VMC run: the energy with its error band and
// Var(E_loc) on a log scale against iteration.
type TracePlot struct {
	Title      string
	Points     []TracePoint
	References []Reference // drawn on the energy panel (and on the zoom where they fall in it)
	Final      *Reference  // the final measurement with frozen parameters, drawn on both
}

// CorrelatorPlot describes a plot of the two-point function G(r) = <phi_0 phi_r>.
type CorrelatorPlot struct {
	Title string
	Data  Curve  // X = r, Y = G(r), Err optional
	Exact *Curve // optional reference curve, drawn as a line
	LogY  bool   // logarithmic G axis (points with G <= 0 are then left out)
}

// FlowPlot describes the learned RG flow of couplings: one panel per coupling.
type FlowPlot struct {
	Title string
	// Couplings are the flows, each with Label the coupling's name (e.g. "m2", "lambda"),
	// X the RG time t and Y its value; Err optional.
	Couplings []Curve
	// LogT draws RG time on a logarithmic axis (points at t <= 0 are left out): RG time grids
	// are geometric, and the UV end is where the couplings run fastest.
	LogT bool
	// Bare holds the bare (t = 0) value of a coupling by label, drawn as a dotted line.
	Bare map[string]float64
	// UnusedBelow, when > 0, is the RG time below which the learned couplings are not used
	// (another score takes over there) and are noise: that range is shaded and labelled.
	UnusedBelow float64
	// Units gives the unit of a coupling by label for its axis ("" for a pure number);
	// couplings without an entry are in lattice units.
	Units map[string]string
}

// Figure sizes: wide enough for the legend beside the data at the DPI of PNG output.
const (
	figWidth  = 8 * vg.Inch
	figHeight = 5 * vg.Inch
	pngDPI    = 150
)

// PlotScaling draws a scaling plot to path (.png or .svg) and returns the fit when one was
// requested (nil otherwise). The first panel is zoomed on the data and its fit, so that the
// error bars of the data are visible; every point is labelled with its L (repeats at one L are
// all drawn, labelled "L (n)"). Reference series that fall outside that range (typically the
// Gaussian bound, far above a good variational energy) go to a second, overview panel with
// everything.
func PlotScaling(path string, s ScalingPlot) (fit *stats.LinearFit, err error) {
	defer recoverPlot(&err)
	if s.Dim <= 0 {
		return nil, fmt.Errorf("results: scaling plot needs the dimension, got %d", s.Dim)
	}
	if len(s.Data.Points) == 0 {
		return nil, errors.New("results: scaling plot without data")
	}
	var sf *ScalingFit
	if s.Fit {
		f, err := FitScaling(s.Data.Points, s.Dim, s.XPower)
		if err != nil {
			return nil, err
		}
		sf, fit = &f, &f.LinearFit
	}
	zoom, omitted, err := scalingPanel(s, sf, true)
	if err != nil {
		return nil, err
	}
	panels := []*panel{zoom}
	if omitted > 0 {
		all, _, err := scalingPanel(s, sf, false)
		if err != nil {
			return nil, err
		}
		all.Title.Text = "overview: every series"
		panels = append(panels, all)
	}
	return fit, savePlots(path, panels, figWidth, vg.Length(0.25+0.75*float64(len(panels)))*figHeight)
}

// scalingPanel draws the data, the fit and the reference series; with zoom, the y range is the
// data's (with errors) and the fit's, and references outside it are left out. It returns how
// many reference points or lines it left out.
func scalingPanel(s ScalingPlot, f *ScalingFit, zoom bool) (p *panel, omitted int, err error) {
	pw := s.XPower
	if pw == 0 {
		pw = float64(s.Dim)
	}
	xOf := func(L int) float64 { return math.Pow(float64(L), -pw) }
	p = &panel{Plot: newPlot(s.Title)}
	if s.XPower == 0 {
		p.X.Label.Text = fmt.Sprintf("1/N = 1/L^%d  (N = number of sites)", s.Dim)
	} else {
		p.X.Label.Text = fmt.Sprintf("1/L^%g  (L = lattice side in sites)", pw)
	}
	p.Y.Label.Text = "E0 / N  (lattice units per site)"

	pts := append([]ScalingPoint(nil), s.Data.Points...)
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].L < pts[j].L })
	x := make([]float64, len(pts))
	y := make([]float64, len(pts))
	e := make([]float64, len(pts))
	count := map[int]int{}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, q := range pts {
		if q.L <= 0 {
			return nil, 0, fmt.Errorf("results: scaling plot: lattice size %d", q.L)
		}
		x[i], y[i], e[i] = xOf(q.L), q.EPerSite, q.Err
		count[q.L]++
		er := 0.0
		if finite(q.Err) {
			er = q.Err
		}
		lo, hi = math.Min(lo, q.EPerSite-er), math.Max(hi, q.EPerSite+er)
	}
	xmax := 0.0
	for _, v := range x {
		xmax = math.Max(xmax, v)
	}
	if f != nil {
		line := plotter.NewFunction(func(t float64) float64 { return f.A + f.B*t })
		line.XMin, line.XMax = 0, xmax
		line.Color = color.Gray{Y: 90}
		line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		line.Width = vg.Points(1.2)
		p.Add(line)
		// Functions do not widen the axes: keep the whole fit line, and the extrapolated
		// point with its error, in view.
		for _, v := range []float64{f.A - f.ErrA, f.A + f.ErrA, f.A + f.B*xmax} {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		for k := 0; k <= 10; k++ {
			t := xmax * float64(k) / 10
			p.note([]float64{t}, []float64{f.A + f.B*t})
		}
		label := fmt.Sprintf("linear fit, L -> inf: E0/N = %s", FormatEstimate(Estimate{Value: f.A, Error: f.ErrA}))
		if f.Exact {
			label += " (exact data, unweighted)"
		} else if f.DOF > 0 {
			label += fmt.Sprintf(", chi2/dof = %.2g/%d", f.Chi2, f.DOF)
		}
		ext, err := scatterWithErrors([]float64{0}, []float64{f.A}, []float64{f.ErrA}, color.Black, draw.BoxGlyph{})
		if err != nil {
			return nil, 0, err
		}
		p.Add(ext...)
		p.Legend.Add(label, line, ext[0].(plot.Thumbnailer))
	}
	label := s.Data.Label
	if label == "" {
		label = "data"
	}
	ps, err := scatterWithErrors(x, y, e, plotutil.Color(0), draw.CircleGlyph{})
	if err != nil {
		return nil, 0, err
	}
	p.Add(ps...)
	p.note(x, y)
	p.Legend.Add(label, ps[0].(plot.Thumbnailer))
	// Each point is labelled with its L (and the number of runs there when repeated).
	var lxy plotter.XYs
	var ltext []string
	for i, q := range pts {
		if i > 0 && pts[i-1].L == q.L {
			continue
		}
		t := fmt.Sprintf("L=%d", q.L)
		if n := count[q.L]; n > 1 {
			t += fmt.Sprintf(" (%d runs)", n)
		}
		lxy, ltext = append(lxy, plotter.XY{X: x[i], Y: y[i]}), append(ltext, t)
	}
	labels, err := plotter.NewLabels(plotter.XYLabels{XYs: lxy, Labels: ltext})
	if err != nil {
		return nil, 0, err
	}
	labels.Offset = vg.Point{X: vg.Points(6), Y: vg.Points(3)} // beside the point, clear of its error bar
	p.Add(labels)
	span := math.Max(hi-lo, 1e-9*math.Max(math.Abs(hi), 1))
	inZoom := func(v float64) bool { return v >= lo-0.15*span && v <= hi+0.15*span }
	for i, ref := range s.ReferencePoints {
		var rx, ry, re []float64
		for _, q := range ref.Points {
			switch {
			case q.L <= 0:
			case !zoom || inZoom(q.EPerSite):
				rx, ry, re = append(rx, xOf(q.L)), append(ry, q.EPerSite), append(re, q.Err)
			default:
				omitted++
			}
		}
		if len(rx) == 0 {
			continue
		}
		rp, err := scatterWithErrors(rx, ry, re, plotutil.Color(i+1), draw.TriangleGlyph{})
		if err != nil {
			return nil, 0, err
		}
		p.Add(rp...)
		p.note(rx, ry)
		p.Legend.Add(ref.Label, rp[0].(plot.Thumbnailer))
	}
	var lines []Reference
	for _, r := range s.ReferenceLines {
		if !zoom || inZoom(r.Value) {
			lines = append(lines, r)
		} else {
			omitted++
		}
	}
	addReferenceLines(p, lines, len(s.ReferencePoints)+1)
	p.X.Min = 0
	p.X.Max = math.Max(p.X.Max, 1.05*xmax)
	if zoom {
		p.Y.Min, p.Y.Max = math.Min(p.Y.Min, lo), math.Max(p.Y.Max, hi)
		if ext := p.Y.Max - p.Y.Min; ext > 3*span {
			// A reference line widened the range: the zoom keeps to the data.
			p.Y.Min, p.Y.Max = lo, hi
		}
	} else {
		p.Y.Min, p.Y.Max = math.Min(p.Y.Min, lo), math.Max(p.Y.Max, hi)
	}
	padY(p.Plot, 0.25) // room for the legend and the labels
	return p, omitted, nil
}

// PlotTrace draws the convergence of a VMC run to path (.png or .svg): the energy per
// iteration with a one-sigma band; when the start of the run dominates that panel, a second
// panel zoomed on the last half of the run; and Var(E_loc) on a log scale when positive
// values exist. Reference lines go on the energy panels.
func PlotTrace(path string, t TracePlot) (err error) {
	defer recoverPlot(&err)
	if len(t.Points) == 0 {
		return errors.New("results: trace plot without points")
	}
	var finitePts []TracePoint
	for _, q := range t.Points {
		if finite(q.Energy) {
			finitePts = append(finitePts, q)
		}
	}
	if len(finitePts) == 0 {
		return errors.New("results: trace plot: no finite energies")
	}
	refs := t.References
	if t.Final != nil {
		refs = append([]Reference{*t.Final}, refs...)
	}
	full, err := energyPanel(t.Title, finitePts, refs)
	if err != nil {
		return err
	}
	panels := []*panel{full}
	tail := finitePts[len(finitePts)/2:]
	if len(tail) >= 2 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, q := range tail {
			lo, hi = math.Min(lo, q.Energy), math.Max(hi, q.Energy)
		}
		flo, fhi := full.Y.Min, full.Y.Max
		if (hi-lo) < 0.2*(fhi-flo) || hi-lo == 0 {
			// The zoom keeps only the lines that fall near the tail, or it would not zoom.
			var near []Reference
			span := math.Max(hi-lo, 1e-12*math.Abs(hi))
			for _, r := range refs {
				if r.Value > lo-0.5*span && r.Value < hi+0.5*span {
					near = append(near, r)
				}
			}
			zoom, err := energyPanel("", tail, near)
			if err != nil {
				return err
			}
			zoom.Y.Label.Text = "E, zoom  (lattice units)"
			panels = append(panels, zoom)
		}
	}
	var vx, vy []float64
	for _, q := range t.Points {
		if finite(q.Variance) && q.Variance > 0 {
			vx, vy = append(vx, float64(q.Iter)), append(vy, q.Variance)
		}
	}
	if len(vx) > 0 {
		pv := &panel{Plot: newPlot("")}
		pv.X.Label.Text = "iteration"
		pv.Y.Label.Text = "Var(E_loc)  (lattice units²)"
		pv.Y.Scale = plot.LogScale{}
		pv.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		vl, err := plotter.NewLine(xys(vx, vy))
		if err != nil {
			return err
		}
		vl.Color = plotutil.Color(2)
		vl.Width = vg.Points(1.2)
		pv.Add(vl)
		pv.note(vx, vy)
		pv.Legend.Add("Var(E_loc), 0 at an eigenstate", vl)
		padLogY(pv.Plot)
		// Same iteration axis as the energy panel.
		pv.X.Min, pv.X.Max = full.X.Min, full.X.Max
		panels = append(panels, pv)
	}
	return savePlots(path, panels, figWidth, vg.Length(0.25+0.6*float64(len(panels)))*figHeight)
}

// energyPanel plots E against iteration with its one-sigma band and the reference lines.
func energyPanel(title string, pts []TracePoint, refs []Reference) (*panel, error) {
	p := &panel{Plot: newPlot(title)}
	p.X.Label.Text = "iteration"
	p.Y.Label.Text = "E  (lattice units)"
	var upper, lower, mid plotter.XYs
	for _, q := range pts {
		it := float64(q.Iter)
		mid = append(mid, plotter.XY{X: it, Y: q.Energy})
		err := q.EnergyErr
		if !finite(err) || err < 0 {
			err = 0
		}
		upper = append(upper, plotter.XY{X: it, Y: q.Energy + err})
		lower = append(lower, plotter.XY{X: it, Y: q.Energy - err})
	}
	band := append(plotter.XYs(nil), upper...)
	for i := len(lower) - 1; i >= 0; i-- {
		band = append(band, lower[i])
	}
	energyColor := plotutil.Color(0)
	poly, err := plotter.NewPolygon(band)
	if err != nil {
		return nil, err
	}
	poly.Color = withAlpha(energyColor, 70)
	poly.LineStyle.Width = 0
	line, err := plotter.NewLine(mid)
	if err != nil {
		return nil, err
	}
	line.Color = energyColor
	line.Width = vg.Points(1.2)
	p.Add(poly, line)
	p.pts = append(p.pts, upper...)
	p.pts = append(p.pts, lower...)
	p.Legend.Add("E (VMC) with 1-sigma band", line, poly)
	addReferenceLines(p, refs, 1)
	padY(p.Plot, 0.2)
	return p, nil
}

func xys(x, y []float64) plotter.XYs {
	out := make(plotter.XYs, len(x))
	for i := range x {
		out[i] = plotter.XY{X: x[i], Y: y[i]}
	}
	return out
}

// PlotCorrelator draws G(r) with error bars and an optional exact curve to path.
func PlotCorrelator(path string, c CorrelatorPlot) (err error) {
	defer recoverPlot(&err)
	if len(c.Data.X) == 0 || len(c.Data.X) != len(c.Data.Y) {
		return fmt.Errorf("results: correlator plot needs equal, non-zero numbers of r and G values, got %d and %d", len(c.Data.X), len(c.Data.Y))
	}
	if len(c.Data.Err) != 0 && len(c.Data.Err) != len(c.Data.Y) {
		return fmt.Errorf("results: correlator plot: %d errors for %d values", len(c.Data.Err), len(c.Data.Y))
	}
	p := &panel{Plot: newPlot(c.Title)}
	p.X.Label.Text = "distance r  (lattice spacings)"
	p.Y.Label.Text = "G(r) = <phi_0 phi_r>"
	keep := func(y float64) bool { return finite(y) && (!c.LogY || y > 0) }
	if c.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if c.Exact != nil && len(c.Exact.X) > 0 {
		var ex, ey []float64
		for i := range c.Exact.X {
			if i < len(c.Exact.Y) && keep(c.Exact.Y[i]) {
				ex, ey = append(ex, c.Exact.X[i]), append(ey, c.Exact.Y[i])
			}
		}
		if len(ex) > 0 {
			l, err := plotter.NewLine(xys(ex, ey))
			if err != nil {
				return err
			}
			l.Color = color.Gray{Y: 60}
			l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			l.Width = vg.Points(1.2)
			p.Add(l)
			p.note(ex, ey)
			label := c.Exact.Label
			if label == "" {
				label = "exact"
			}
			p.Legend.Add(label, l)
		}
	}
	var x, y, e []float64
	for i := range c.Data.X {
		if !keep(c.Data.Y[i]) {
			continue
		}
		x, y = append(x, c.Data.X[i]), append(y, c.Data.Y[i])
		if len(c.Data.Err) > 0 {
			e = append(e, c.Data.Err[i])
		} else {
			e = append(e, 0)
		}
	}
	if len(x) == 0 {
		return errors.New("results: correlator plot: no values to draw")
	}
	ps, err := scatterWithErrorsScale(x, y, e, plotutil.Color(0), draw.CircleGlyph{}, c.LogY)
	if err != nil {
		return err
	}
	p.Add(ps...)
	p.note(x, y)
	label := c.Data.Label
	if label == "" {
		label = "G(r)"
	}
	p.Legend.Add(label, ps[0].(plot.Thumbnailer))
	if c.LogY {
		padLogY(p.Plot)
	} else {
		padY(p.Plot, 0.1)
	}
	return savePlots(path, []*panel{p}, figWidth, figHeight)
}

// PlotFlow draws the flow of each coupling against RG time, one panel per coupling, to path.
func PlotFlow(path string, f FlowPlot) (err error) {
	defer recoverPlot(&err)
	if len(f.Couplings) == 0 {
		return errors.New("results: flow plot without couplings")
	}
	var panels []*panel
	for i, c := range f.Couplings {
		if len(c.X) == 0 || len(c.X) != len(c.Y) {
			return fmt.Errorf("results: flow plot: coupling %q has %d times and %d values", c.Label, len(c.X), len(c.Y))
		}
		title := ""
		if i == 0 {
			title = f.Title
		}
		p := &panel{Plot: newPlot(title)}
		p.X.Label.Text = "RG time t"
		name := c.Label
		if name == "" {
			name = fmt.Sprintf("coupling %d", i+1)
		}
		unit, ok := f.Units[name]
		switch {
		case !ok:
			p.Y.Label.Text = name + "(t)  (lattice units)"
		case unit == "":
			p.Y.Label.Text = name + "(t)  (dimensionless)"
		default:
			p.Y.Label.Text = name + "(t)  (" + unit + ")"
		}
		var lx, ly, ex, ey, ee []float64
		for j := range c.X {
			if !finite(c.Y[j]) || (f.LogT && !(c.X[j] > 0)) {
				continue
			}
			lx, ly = append(lx, c.X[j]), append(ly, c.Y[j])
			if j < len(c.Err) && finite(c.Err[j]) && c.Err[j] > 0 {
				ex, ey, ee = append(ex, c.X[j]), append(ey, c.Y[j]), append(ee, c.Err[j])
			}
		}
		if len(lx) == 0 {
			return fmt.Errorf("results: flow plot: coupling %q has no finite values", name)
		}
		l, err := plotter.NewLine(xys(lx, ly))
		if err != nil {
			return err
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.note(lx, ly)
		if len(ex) > 0 {
			eb, err := plotter.NewYErrorBars(errPoints{xys(ex, ey), symmetric(ee)})
			if err != nil {
				return err
			}
			eb.LineStyle.Color = plotutil.Color(i)
			eb.LineStyle.Width = vg.Points(1)
			eb.CapWidth = vg.Points(4)
			p.Add(eb)
			p.Legend.Add(name+" with errors", l)
		} else {
			p.Legend.Add(name, l)
		}
		if b, ok := f.Bare[name]; ok && finite(b) {
			addReferenceLines(p, []Reference{{Label: "bare " + name + " (t = 0)", Value: b}}, i+3)
		}
		padY(p.Plot, 0.2)
		panels = append(panels, p)
	}
	// Shared RG-time range across panels.
	lo, hi := panels[0].X.Min, panels[0].X.Max
	for _, p := range panels {
		lo, hi = math.Min(lo, p.X.Min), math.Max(hi, p.X.Max)
	}
	for _, p := range panels {
		p.X.Min, p.X.Max = lo, hi
		if f.LogT {
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		}
		if f.UnusedBelow > lo {
			t := math.Min(f.UnusedBelow, hi)
			box, err := plotter.NewPolygon(plotter.XYs{{X: lo, Y: p.Y.Min}, {X: t, Y: p.Y.Min}, {X: t, Y: p.Y.Max}, {X: lo, Y: p.Y.Max}})
			if err != nil {
				return err
			}
			box.Color = withAlpha(color.Gray{Y: 150}, 60)
			box.LineStyle.Width = 0
			p.Add(box)
			p.bands = append(p.bands, box)
			p.Legend.Add("t below the split: couplings unused (noise)", box)
		}
	}
	h := figHeight
	if len(panels) > 1 {
		h = vg.Length(float64(len(panels))) * 0.6 * figHeight
	}
	return savePlots(path, panels, figWidth, h)
}

// panel is a plot together with the data points it shows, which decide where its legend
// goes (gonum/plot does not expose the plotters it holds).
type panel struct {
	*plot.Plot
	pts    plotter.XYs // data points in data coordinates
	hlines []float64   // y values of horizontal reference lines
	// bands span the panel's y range (Y.Min to Y.Max when added) and follow it when
	// placeLegend widens it.
	bands []*plotter.Polygon
}

func (pn *panel) note(x, y []float64) {
	for i := range x {
		if finite(x[i]) && finite(y[i]) {
			pn.pts = append(pn.pts, plotter.XY{X: x[i], Y: y[i]})
		}
	}
}

// placeLegend puts the legend, drawn into the data area of canvas c, in the corner where it
// covers the fewest data points; when every corner would cover some, it takes the top corner
// that covers fewer and widens the y range upwards until the data clear it (the legend grows
// with the series, and on a crowded plot no corner is free). It reports whether it widened.
func (pn *panel) placeLegend(c draw.Canvas) bool {
	p := pn.Plot
	const margin = 4 // points between the legend and the corner
	const glyph = 5  // points: a marker's radius, kept clear of the legend
	da := p.DataCanvas(c)
	wD, hD := float64(da.Max.X-da.Min.X), float64(da.Max.Y-da.Min.Y)
	r := p.Legend.Rectangle(da)
	if !(wD > 0 && hD > 0) || r.Max.Y <= r.Min.Y {
		return false // no room, or no legend
	}
	wf := (float64(r.Max.X-r.Min.X) + margin + glyph) / wD
	hf := (float64(r.Max.Y-r.Min.Y) + margin + glyph) / hD
	norm := func(a *plot.Axis, v float64) float64 {
		if a.Max <= a.Min {
			return 0.5
		}
		return a.Norm(v)
	}
	pts := append(plotter.XYs(nil), pn.pts...)
	for _, y := range pn.hlines {
		for k := 0; k <= 20; k++ {
			pts = append(pts, plotter.XY{X: p.X.Min + (p.X.Max-p.X.Min)*float64(k)/20, Y: y})
		}
	}
	_, logX := p.X.Scale.(plot.LogScale)
	_, logY := p.Y.Scale.(plot.LogScale)
	// Corners in order of preference: top right, top left, bottom right, bottom left.
	var counts [4]int
	best := 0
	for corner := range 4 {
		top, left := corner < 2, corner%2 == 1
		for _, q := range pts {
			if (logX && !(q.X > 0)) || (logY && !(q.Y > 0)) {
				continue // off a log axis (Norm would panic)
			}
			nx, ny := norm(&p.X, q.X), norm(&p.Y, q.Y)
			if math.IsNaN(nx) || math.IsNaN(ny) {
				continue
			}
			inX := (left && nx < wf) || (!left && nx > 1-wf)
			inY := (top && ny > 1-hf) || (!top && ny < hf)
			if inX && inY {
				counts[corner]++
			}
		}
		if counts[corner] < counts[best] {
			best = corner
		}
	}
	widen := counts[best] > 0 && hf < 0.6 && p.Y.Max > p.Y.Min
	if widen {
		// Upwards, so that a quantity >= 0 keeps its axis at 0.
		best = 0
		if counts[1] < counts[0] {
			best = 1
		}
		// Map the old range onto the part of the height the legend leaves free.
		lo, hi := p.Y.Min, p.Y.Max
		if logY {
			lo, hi = math.Log(lo), math.Log(hi)
		}
		hi = lo + (hi-lo)/(1-hf)
		if logY {
			hi = math.Exp(hi)
		}
		for _, b := range pn.bands {
			for _, ring := range b.XYs {
				for i := range ring {
					if ring[i].Y == p.Y.Max {
						ring[i].Y = hi
					}
				}
			}
		}
		p.Y.Max = hi
	}
	top := best < 2
	p.Legend.Top, p.Legend.Left = top, best%2 == 1
	p.Legend.XOffs = vg.Points(-margin)
	if p.Legend.Left {
		p.Legend.XOffs = vg.Points(margin)
	}
	p.Legend.YOffs = vg.Points(-margin)
	if !top {
		p.Legend.YOffs = vg.Points(margin)
	}
	return widen
}

// niceTicks labels about six round values (steps 1, 2, 2.5 or 5 times a power of ten) with
// just the decimals the step needs, and puts unlabelled ticks between them.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || !finite(lo) || !finite(hi) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 6, 64)}}
	}
	raw := (hi - lo) / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step, minor := 10*mag, 2*mag
	for _, m := range []struct{ step, minor float64 }{{1, 0.2}, {2, 0.5}, {2.5, 0.5}, {5, 1}} {
		if m.step*mag >= raw {
			step, minor = m.step*mag, m.minor*mag
			break
		}
	}
	decimals := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	if r := step / math.Pow(10, -float64(decimals)); math.Abs(r-math.Round(r)) > 1e-6 {
		decimals++ // 2.5 x 10^k needs one more digit
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/minor-1e-9) * minor; v <= hi+1e-9*minor; v += minor {
		t := plot.Tick{Value: v}
		if k := v / step; math.Abs(k-math.Round(k)) < 1e-6 {
			t.Value = math.Round(k) * step
			t.Label = strconv.FormatFloat(t.Value, 'f', decimals, 64)
			if t.Label == "-"+strconv.FormatFloat(0, 'f', decimals, 64) {
				t.Label = t.Label[1:]
			}
		}
		ticks = append(ticks, t)
	}
	return ticks
}

func newPlot(title string) *plot.Plot {
	p := plot.New()
	p.X.Tick.Marker = niceTicks{}
	p.Y.Tick.Marker = niceTicks{}
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.X.Label.TextStyle.Font.Size = vg.Points(12)
	p.Y.Label.TextStyle.Font.Size = vg.Points(12)
	p.X.Tick.Label.Font.Size = vg.Points(10)
	p.Y.Tick.Label.Font.Size = vg.Points(10)
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p
}

// errPoints gives plotter.YErrorBars its XYer and YErrorer.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// scatterWithErrors returns the markers and, where any error is positive, error bars.
// The first returned plotter is the scatter (a Thumbnailer for the legend).
func scatterWithErrors(x, y, e []float64, c color.Color, shape draw.GlyphDrawer) ([]plot.Plotter, error) {
	return scatterWithErrorsScale(x, y, e, c, shape, false)
}

// scatterWithErrorsScale is scatterWithErrors; on a log axis, error bars that would reach zero
// or below are cut at a tenth of the value (and a log axis cannot show them anyway).
func scatterWithErrorsScale(x, y, e []float64, c color.Color, shape draw.GlyphDrawer, logY bool) ([]plot.Plotter, error) {
	xy := make(plotter.XYs, len(x))
	errs := make(plotter.YErrors, len(x))
	anyErr := false
	for i := range x {
		xy[i] = plotter.XY{X: x[i], Y: y[i]}
		v := 0.0
		if i < len(e) && finite(e[i]) && e[i] > 0 {
			v = e[i]
			anyErr = true
		}
		errs[i].Low, errs[i].High = v, v
		if logY && y[i]-v <= 0.1*y[i] {
			errs[i].Low = 0.9 * y[i]
		}
	}

	sc, err := plotter.NewScatter(xy)
	if err != nil {
		return nil, err
	}
	sc.GlyphStyle.Color = c
	sc.GlyphStyle.Radius = vg.Points(3.5)
	sc.GlyphStyle.Shape = shape
	out := []plot.Plotter{sc}
	if anyErr {
		eb, err := plotter.NewYErrorBars(errPoints{xy, errs})
		if err != nil {
			return nil, err
		}
		eb.LineStyle.Color = c
		eb.LineStyle.Width = vg.Points(1.2)
		eb.CapWidth = vg.Points(6)
		out = append(out, eb)
	}
	return out, nil
}

// addReferenceLines draws horizontal dashed lines spanning the plot, with the value in the
// legend; colours continue the palette from colorOffset.
func addReferenceLines(p *panel, refs []Reference, colorOffset int) {
	for i, r := range refs {
		if !finite(r.Value) {
			continue
		}
		v := r.Value
		l := plotter.NewFunction(func(float64) float64 { return v })
		l.Color = plotutil.Color(colorOffset + i)
		l.Width = vg.Points(1.2)
		l.Dashes = []vg.Length{vg.Points(2), vg.Points(3)}
		p.Add(l)
		// Keep the line in view even when it lies outside the data.
		p.Y.Min, p.Y.Max = math.Min(p.Y.Min, v), math.Max(p.Y.Max, v)
		p.hlines = append(p.hlines, v)
		if r.Err > 0 && finite(r.Err) {
			p.Legend.Add(fmt.Sprintf("%s: %s", r.Label, FormatEstimate(Estimate{Value: v, Error: r.Err})), l)
		} else {
			p.Legend.Add(fmt.Sprintf("%s: %.10g", r.Label, v), l)
		}
	}
}

// padY widens the y range by frac of its span on both sides, so that the legend finds an
// empty corner and no point sits on the frame.
func padY(p *plot.Plot, frac float64) {
	span := p.Y.Max - p.Y.Min
	if span <= 0 {
		span = math.Max(math.Abs(p.Y.Max), 1) * 1e-3
	}
	p.Y.Min -= frac * span
	p.Y.Max += frac * span
}

// padLogY widens a logarithmic y range by a factor 1.3 on both sides.
func padLogY(p *plot.Plot) {
	p.Y.Min /= 1.3
	p.Y.Max *= 1.3
}

func withAlpha(c color.Color, a uint8) color.Color {
	// For an opaque colour the premultiplied components of RGBA are the plain ones.
	r, g, b, _ := c.RGBA()
	return color.NRGBA64{R: uint16(r), G: uint16(g), B: uint16(b), A: uint16(a) * 0x101}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// savePlots draws the plots stacked vertically and writes PNG or SVG according to the file
// extension; it writes a temp file and renames it, so an existing figure is only replaced
// by a complete one.
func savePlots(path string, panels []*panel, w, h vg.Length) error {
	plots := make([]*plot.Plot, len(panels))
	for i, pn := range panels {
		plots[i] = pn.Plot
	}
	var cw vg.CanvasWriterTo
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		cw = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(pngDPI))}
	case ".svg":
		cw = vgsvg.New(w, h)
	default:
		return fmt.Errorf("results: plot file %q: extension must be .png or .svg", path)
	}
	dc := draw.New(cw)
	layout := func() []draw.Canvas {
		if len(plots) == 1 {
			return []draw.Canvas{dc}
		}
		grid := make([][]*plot.Plot, len(plots))
		for i, p := range plots {
			grid[i] = []*plot.Plot{p}
		}
		tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadY: vg.Points(10), PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
		aligned := plot.Align(grid, tiles, dc)
		canvases := make([]draw.Canvas, len(plots))
		for i := range plots {
			canvases[i] = aligned[i][0]
		}
		return canvases
	}
	canvases := layout()
	widened := false
	for i := range plots {
		widened = panels[i].placeLegend(canvases[i]) || widened
	}
	if widened {
		canvases = layout() // the new ranges may have changed the tick labels' widths
	}
	for i, p := range plots {
		// gonum/plot places the legend in the canvas less the axes, which after Align can
		// reach well above the data; draw it into the data area instead.
		legend := p.Legend
		p.Legend = plot.NewLegend()
		p.Draw(canvases[i])
		p.Legend = legend
		p.Legend.Draw(p.DataCanvas(canvases[i]))
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-plot-*"+filepath.Ext(path))
	if err != nil {
		return fmt.Errorf("results: write plot: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := cw.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("results: write plot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("results: write plot %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("results: write plot %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("results: write plot %s: %w", path, err)
	}
	return nil
}

func symmetric(e []float64) plotter.YErrors {
	out := make(plotter.YErrors, len(e))
	for i, v := range e {
		out[i].Low, out[i].High = v, v
	}
	return out
}

// recoverPlot turns a panic inside gonum/plot (it panics on, e.g., non-positive values on a
// log axis) into an error, so that no panic crosses the package boundary.
func recoverPlot(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("results: plotting failed: %v", r)
	}
}
