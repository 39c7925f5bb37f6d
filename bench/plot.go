package main

import (
	"errors"
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The plot beside docs/benchmarks.md: steady RSS and steady CPU against the
// number of pods, both sides, from the complete sizes of the records.

var (
	kspColour = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	ksmColour = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
)

// plotPanel is one panel: a figure of each side against pods.
type plotPanel struct {
	title, unit string
	value       func(*sideRecord) float64
}

var plotPanels = []plotPanel{
	{"Steady RSS", "MB", func(s *sideRecord) float64 { return s.SteadyRSSMB }},
	{"Steady CPU", "CPU-s per minute", func(s *sideRecord) float64 { return s.SteadyCPUMin }},
}

// writePlot writes the PNG of the records' complete sizes to path.
func writePlot(path string, rs benchRecords) error {
	var sizes []sizeRecord
	for _, r := range rs.Sizes {
		if r.complete() {
			sizes = append(sizes, r)
		}
	}
	if len(sizes) == 0 {
		return errors.New("no size measured on both sides")
	}
	row := make([]*plot.Plot, len(plotPanels))
	for i, panel := range plotPanels {
		p, err := panel.plot(sizes)
		if err != nil {
			return err
		}
		row[i] = p
	}
	img := vgimg.New(vg.Points(840), vg.Points(340))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: len(row), PadX: vg.Points(24), PadTop: vg.Points(6), PadBottom: vg.Points(6),
		PadLeft: vg.Points(6), PadRight: vg.Points(12)}
	canvases := plot.Align([][]*plot.Plot{row}, tiles, dc)
	for i, p := range row {
		p.Draw(canvases[0][i])
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// plot draws one panel: a log axis of pods, with a tick at each size.
func (panel plotPanel) plot(sizes []sizeRecord) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = panel.title
	p.X.Label.Text = "pods"
	p.Y.Label.Text = panel.unit
	p.X.Scale = plot.LogScale{}
	var ticks []plot.Tick
	for _, r := range sizes {
		ticks = append(ticks, plot.Tick{Value: float64(r.N), Label: fmt.Sprint(r.N)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = float64(sizes[0].N)/1.5, float64(sizes[len(sizes)-1].N)*1.5
	top := 0.0
	for _, r := range sizes {
		top = max(top, panel.value(r.KSP), panel.value(r.KSM))
	}
	p.Y.Min, p.Y.Max = 0, top*1.15 // room for the legend
	p.Add(plotter.NewGrid())
	for _, side := range []struct {
		name   string
		colour color.Color
		dashes []vg.Length
		of     func(sizeRecord) *sideRecord
	}{
		{"kube-state-push", kspColour, nil, func(r sizeRecord) *sideRecord { return r.KSP }},
		{"KSM + Prometheus agent", ksmColour, []vg.Length{vg.Points(5), vg.Points(3)}, func(r sizeRecord) *sideRecord { return r.KSM }},
	} {
		xys := make(plotter.XYs, len(sizes))
		for i, r := range sizes {
			xys[i] = plotter.XY{X: float64(r.N), Y: panel.value(side.of(r))}
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		line.Color, line.Width, line.Dashes = side.colour, vg.Points(1.5), side.dashes
		points.Color, points.Shape = side.colour, draw.CircleGlyph{}
		p.Add(line, points)
		p.Legend.Add(side.name, line, points)
	}
	p.Legend.Top, p.Legend.Left = true, true
	return p, nil
}
