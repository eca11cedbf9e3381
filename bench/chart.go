//go:build linux

package main

import (
	"flag"
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

var flagChart = flag.String("chart", "bench/results.svg", "where to draw the medians as ratios to websocketd and to the ceiling (SVG; empty: no chart)")

// writeChart draws every figure that wsgate and another server both have
// as the ratio of wsgate's median to websocketd's and to the ceiling's,
// one row a figure, on a logarithmic axis with 1 (level) marked: the table
// in one picture. Whether more is better is in each row's label.
func (r *report) writeChart(path string) error {
	type row struct {
		label  string
		vsWsd  float64
		vsCeil float64
	}
	var rows []row
	for _, d := range figureDefs {
		if d.format == "" {
			continue
		}
		g := r.med(wsgate, d.key)
		if !(g > 0) {
			continue
		}
		ratio := func(server string) float64 {
			if v := r.med(server, d.key); v > 0 {
				return g / v
			}
			return math.NaN()
		}
		rw := row{label: strings.TrimSpace(d.label) + better(d.key), vsWsd: ratio(websocketd), vsCeil: ratio(ceiling)}
		if !math.IsNaN(rw.vsWsd) || !math.IsNaN(rw.vsCeil) {
			rows = append(rows, rw)
		}
	}
	if len(rows) == 0 {
		return fmt.Errorf("no figure to draw")
	}
	p := plot.New()
	p.Title.Text = "wsgate's medians as a ratio to websocketd's and to the ceiling's"
	p.X.Label.Text = "wsgate / other (log scale; 1 = level)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	var ticks []plot.Tick
	var wsd, ceil plotter.XYs
	lo, hi := 1.0, 1.0
	for i, rw := range rows {
		y := float64(len(rows) - i)
		ticks = append(ticks, plot.Tick{Value: y, Label: rw.label})
		for _, pt := range []struct {
			v   float64
			dst *plotter.XYs
		}{{rw.vsWsd, &wsd}, {rw.vsCeil, &ceil}} {
			if !math.IsNaN(pt.v) {
				*pt.dst = append(*pt.dst, plotter.XY{X: pt.v, Y: y})
				lo, hi = math.Min(lo, pt.v), math.Max(hi, pt.v)
			}
		}
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min, p.Y.Max = 0, float64(len(rows)+1)
	p.X.Min, p.X.Max = lo/1.5, hi*1.5
	level, err := plotter.NewLine(plotter.XYs{{X: 1, Y: 0}, {X: 1, Y: float64(len(rows) + 1)}})
	if err != nil {
		return err
	}
	level.Color = color.Gray{Y: 128}
	level.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
	p.Add(level, plotter.NewGrid())
	for _, s := range []struct {
		name  string
		xys   plotter.XYs
		color color.Color
		shape draw.GlyphDrawer
	}{
		{"vs websocketd", wsd, color.RGBA{R: 200, G: 40, B: 40, A: 255}, draw.CircleGlyph{}},
		{"vs ceiling (wsio, no child)", ceil, color.RGBA{R: 40, G: 80, B: 200, A: 255}, draw.TriangleGlyph{}},
	} {
		if len(s.xys) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(s.xys)
		if err != nil {
			return err
		}
		sc.GlyphStyle.Color, sc.GlyphStyle.Shape, sc.GlyphStyle.Radius = s.color, s.shape, vg.Points(3.5)
		p.Add(sc)
		p.Legend.Add(s.name, sc)
	}
	p.Legend.Top = true
	return p.Save(10*vg.Inch, vg.Length(len(rows)+4)*0.28*vg.Inch, path)
}

// better says in a row's label which way is better for wsgate.
func better(key string) string {
	for _, more := range []string{"msgs_s", "conns_s", "held", "bin_"} {
		if strings.Contains(key, more) && !strings.Contains(key, "cpu") {
			return " (higher is better)"
		}
	}
	return " (lower is better)"
}
