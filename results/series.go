package results

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// SeriesPlot describes a plot of several data series against one variable, each drawn as
// points with error bars joined by a thin line: an observable against the coupling for several
// lattice sizes, or a data collapse.
type SeriesPlot struct {
	Title          string
	XLabel, YLabel string // with units
	Series         []Curve
	// VLines are vertical lines (e.g. the critical coupling), with Err drawn as a shaded band.
	VLines []Reference
	// Unjoined draws points only (a collapse, where the series interleave).
	Unjoined bool
	// LogX and LogY draw logarithmic axes (a power law, such as tau_int against L, is then a
	// straight line); points that are not positive on such an axis are left out.
	LogX, LogY bool
	// XTicks, when set, are the labelled x ticks (the lattice sizes on a log axis, where the
	// decade ticks would label none of them).
	XTicks []float64
}

// extraColors follow the soft palette with hues it lacks (no second red): black, teal, olive,
// navy, grey, gold and dark magenta.
var extraColors = []color.Color{
	color.RGBA{40, 40, 40, 255}, color.RGBA{0, 128, 128, 255}, color.RGBA{128, 128, 0, 255},
	color.RGBA{0, 0, 128, 255}, color.RGBA{140, 140, 140, 255}, color.RGBA{200, 160, 0, 255},
	color.RGBA{139, 0, 139, 255},
}

// seriesColor gives the first 14 series distinct colours: the soft palette, then extraColors.
func seriesColor(i int) color.Color {
	soft := plotutil.SoftColors
	k := i % (len(soft) + len(extraColors))
	if k < len(soft) {
		return soft[k]
	}
	return extraColors[k-len(soft)]
}

// PlotSeries draws s to path (.png or .svg).
func PlotSeries(path string, s SeriesPlot) (err error) {
	defer recoverPlot(&err)
	if len(s.Series) == 0 {
		return errors.New("results: series plot without data")
	}
	p := &panel{Plot: newPlot(s.Title)}
	p.X.Label.Text, p.Y.Label.Text = s.XLabel, s.YLabel
	shapes := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.PyramidGlyph{}, draw.CrossGlyph{}}
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i, c := range s.Series {
		if len(c.X) != len(c.Y) || (len(c.Err) != 0 && len(c.Err) != len(c.Y)) {
			return fmt.Errorf("results: series %q has %d x, %d y and %d errors", c.Label, len(c.X), len(c.Y), len(c.Err))
		}
		var x, y, e, up, down []float64 // up, down: the ends of the error bars as drawn
		for j := range c.X {
			if !finite(c.X[j]) || !finite(c.Y[j]) || (s.LogX && c.X[j] <= 0) || (s.LogY && c.Y[j] <= 0) {
				continue
			}
			er := 0.0
			if j < len(c.Err) && finite(c.Err[j]) {
				er = c.Err[j]
			}
			x, y, e = append(x, c.X[j]), append(y, c.Y[j]), append(e, er)
			xlo, xhi = math.Min(xlo, c.X[j]), math.Max(xhi, c.X[j])
			lo := c.Y[j] - er
			if s.LogY && lo <= 0.1*c.Y[j] {
				lo = 0.1 * c.Y[j] // where scatterWithErrorsScale cuts the bar
			}
			ylo, yhi = math.Min(ylo, lo), math.Max(yhi, c.Y[j]+er)
			up, down = append(up, c.Y[j]+er), append(down, lo)
		}
		if len(x) == 0 {
			continue
		}
		col := seriesColor(i)
		ps, err := scatterWithErrorsScale(x, y, e, col, shapes[i%len(shapes)], s.LogY)
		if err != nil {
			return err
		}
		p.Add(ps...)
		p.note(x, y)
		// The ends of the error bars must stay clear of the legend too.
		p.note(x, up)
		p.note(x, down)
		thumbs := []plot.Thumbnailer{ps[0].(plot.Thumbnailer)}
		if !s.Unjoined && len(x) > 1 {
			l, err := plotter.NewLine(xys(x, y))
			if err != nil {
				return err
			}
			l.Color, l.Width = col, vg.Points(0.8)
			p.Add(l)
			thumbs = append(thumbs, l)
		}
		p.Legend.Add(c.Label, thumbs...)
	}
	if math.IsInf(xlo, 1) {
		if s.LogX || s.LogY {
			return errors.New("results: series plot: no finite point that is positive on its log axes")
		}
		return errors.New("results: series plot: no finite points")
	}
	// Each line its own dash pattern, so that the legend tells them apart.
	dashes := [][]vg.Length{{vg.Points(5), vg.Points(3), vg.Points(1), vg.Points(3)}, {vg.Points(1.5), vg.Points(2)}, {vg.Points(8), vg.Points(3)}}
	for i, v := range s.VLines {
		if !finite(v.Value) || (s.LogX && v.Value <= 0) {
			continue
		}
		col := color.Gray{Y: 40}
		if v.Err > 0 && finite(v.Err) {
			band, err := plotter.NewPolygon(plotter.XYs{{X: v.Value - v.Err, Y: ylo}, {X: v.Value + v.Err, Y: ylo},
				{X: v.Value + v.Err, Y: yhi}, {X: v.Value - v.Err, Y: yhi}})
			if err != nil {
				return err
			}
			band.Color = withAlpha(color.Gray{Y: 120}, 50)
			band.LineStyle.Width = 0
			p.Add(band)
		}
		l, err := plotter.NewLine(plotter.XYs{{X: v.Value, Y: ylo}, {X: v.Value, Y: yhi}})
		if err != nil {
			return err
		}
		l.Color, l.Width = col, vg.Points(1.2)
		l.Dashes = dashes[i%len(dashes)]
		p.Add(l)
		label := fmt.Sprintf("%s = %.6g", v.Label, v.Value)
		if v.Err > 0 {
			label = fmt.Sprintf("%s = %s", v.Label, FormatEstimate(Estimate{Value: v.Value, Error: v.Err}))
		}
		p.Legend.Add(label, l)
		xlo, xhi = math.Min(xlo, v.Value-v.Err), math.Max(xhi, v.Value+v.Err)
	}
	if s.LogX {
		p.X.Min, p.X.Max = xlo/1.2, xhi*1.2
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	} else {
		span := xhi - xlo
		if span <= 0 {
			span = math.Max(math.Abs(xhi), 1) * 0.1
		}
		p.X.Min, p.X.Max = xlo-0.05*span, xhi+0.05*span
	}
	if len(s.XTicks) > 0 {
		var ticks []plot.Tick
		for _, x := range s.XTicks {
			ticks = append(ticks, plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'g', 6, 64)})
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
	}
	if s.LogY {
		p.Y.Min, p.Y.Max = ylo, yhi
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		padLogY(p.Plot)
		if p.Y.Max < 10*p.Y.Min {
			// Within a decade the power-of-ten ticks would label nothing.
			p.Y.Tick.Marker = niceTicks{}
		}
	} else {
		p.Y.Min, p.Y.Max = math.Min(p.Y.Min, ylo), math.Max(p.Y.Max, yhi)
		padY(p.Plot, 0.25)
	}
	return savePlots(path, []*panel{p}, figWidth, figHeight)
}
