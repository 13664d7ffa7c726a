package results

import (
	"fmt"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// legendPanel returns a panel on [0,1]^2 with n legend entries and the given data points.
func legendPanel(n int, pts [][2]float64, logY bool) *panel {
	p := &panel{Plot: newPlot("legend")}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	if logY {
		p.Y.Min, p.Y.Max = 1, 10
		p.Y.Scale = plot.LogScale{}
	}
	for i := range n {
		p.Legend.Add(fmt.Sprintf("series %d", i))
	}
	for _, q := range pts {
		p.note([]float64{q[0]}, []float64{q[1]})
	}
	return p
}

func legendCanvas() draw.Canvas { return draw.New(vgimg.New(figWidth, figHeight)) }

func TestPlaceLegendTakesAFreeCorner(t *testing.T) {
	// Points in the top right and both bottom corners: the top left is free.
	p := legendPanel(3, [][2]float64{{0.95, 0.95}, {0.05, 0.05}, {0.95, 0.05}}, false)
	if widened := p.placeLegend(legendCanvas()); widened || !p.Legend.Top || !p.Legend.Left {
		t.Errorf("widened %v, legend top %v left %v; want the free top-left corner, no widening", widened, p.Legend.Top, p.Legend.Left)
	}
	if p.Y.Min != 0 || p.Y.Max != 1 {
		t.Errorf("y range changed to [%v, %v]", p.Y.Min, p.Y.Max)
	}
}

func TestPlaceLegendWidensUpwardsWhenNoCornerIsFree(t *testing.T) {
	corners := [][2]float64{{0.97, 0.97}, {0.03, 0.97}, {0.97, 0.03}, {0.03, 0.03}}
	for _, logY := range []bool{false, true} {
		pts := corners
		if logY {
			pts = [][2]float64{{0.97, 9.5}, {0.03, 9.5}, {0.97, 1.05}, {0.03, 1.05}}
		}
		p := legendPanel(8, pts, logY)
		lo, hi := p.Y.Min, p.Y.Max
		if !p.placeLegend(legendCanvas()) {
			t.Fatalf("log %v: every corner holds a point, but the range was not widened", logY)
		}
		if !p.Legend.Top || p.Y.Min != lo || !(p.Y.Max > hi) {
			t.Errorf("log %v: legend top %v, y range [%v, %v] from [%v, %v]; want the top, widened upwards", logY, p.Legend.Top, p.Y.Min, p.Y.Max, lo, hi)
		}
		// Placed again on the widened range, the legend covers nothing.
		if p.placeLegend(legendCanvas()) {
			t.Errorf("log %v: a second placement widened again (y max %v)", logY, p.Y.Max)
		}
	}
}

func TestPlaceLegendWithoutEntries(t *testing.T) {
	p := legendPanel(0, [][2]float64{{0.97, 0.97}, {0.03, 0.97}, {0.97, 0.03}, {0.03, 0.03}}, false)
	if p.placeLegend(legendCanvas()) || p.Y.Max != 1 {
		t.Errorf("an empty legend widened the range to %v", p.Y.Max)
	}
	if p.placeLegend(draw.Canvas{Rectangle: vg.Rectangle{}}) {
		t.Error("a zero-size canvas widened the range")
	}
}
