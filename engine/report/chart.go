package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The charts' colours: one accent, grey for the axes' text.
var (
	accent = color.RGBA{R: 0x2b, G: 0x6c, B: 0xb0, A: 0xff}
	blank  = color.RGBA{R: 0xee, G: 0xee, B: 0xee, A: 0xff}
)

// SVG draws the chart as an SVG element to put inline in HTML: no XML
// prolog, scaled to its container by its viewBox.
func (c Chart) SVG() (string, error) {
	p := plot.New()
	p.Title.Text = both(c.Title)
	p.Title.TextStyle.Font.Size = vg.Points(12)
	scale := 1.0
	axis := both(c.Axis)
	if c.Percent {
		scale, axis = 100, axis+" (%)"
	}
	vals := make(plotter.Values, len(c.Values))
	for i, v := range c.Values {
		vals[i] = v * scale
	}
	w, h := vg.Points(640), vg.Points(320)
	switch c.Kind {
	case Bars, HBars:
		labels := slices.Clone(c.Labels)
		bars, err := plotter.NewBarChart(vals, vg.Points(math.Min(36, 420/float64(max(1, len(vals))))))
		if err != nil {
			return "", fmt.Errorf("chart %s: %w", c.Title.EN, err)
		}
		bars.Color, bars.LineStyle.Width = accent, 0
		if c.Kind == HBars {
			// Set before Add, which takes the data's range: the first
			// value at the top.
			slices.Reverse(labels)
			slices.Reverse(bars.Values)
			bars.Horizontal, bars.Width = true, vg.Points(12)
			c.Values, c.Low, c.High = reversed(c.Values), reversed(c.Low), reversed(c.High)
		}
		p.Add(bars)
		if c.Kind == HBars {
			p.NominalY(labels...)
			p.X.Label.Text = axis
			h = vg.Points(math.Max(200, 60+18*float64(len(labels))))
		} else {
			p.NominalX(labels...)
			p.Y.Label.Text = axis
		}
		if len(c.Low) == len(c.Values) && len(c.High) == len(c.Values) {
			if err := errorBars(p, c, scale); err != nil {
				return "", err
			}
		}
	case Line:
		// A withheld period (NaN) stays on the axis and breaks the line.
		var run plotter.XYs
		flush := func() error {
			if len(run) == 0 {
				return nil
			}
			l, s, err := plotter.NewLinePoints(run)
			if err != nil {
				return fmt.Errorf("chart %s: %w", c.Title.EN, err)
			}
			l.Color, s.Color = accent, accent
			p.Add(l, s)
			run = nil
			return nil
		}
		for i, v := range vals {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				if err := flush(); err != nil {
					return "", err
				}
				continue
			}
			run = append(run, plotter.XY{X: float64(i), Y: v})
		}
		if err := flush(); err != nil {
			return "", err
		}
		p.NominalX(c.Labels...)
		p.Y.Label.Text = axis
	case Heatmap:
		// The first row at the top: plotter.HeatMap puts row 0 at the
		// bottom.
		rows := slices.Clone(c.Rows)
		slices.Reverse(rows)
		z := slices.Clone(c.Grid)
		slices.Reverse(z)
		grid := heatGrid{z, scale}
		lo, hi := grid.span()
		pal := moreland.SmoothBlueRed()
		pal.SetMin(lo)
		pal.SetMax(math.Max(hi, lo+1e-9))
		hm := plotter.NewHeatMap(grid, pal.Palette(64))
		// The heatmap's own range, not the palette's, places colours;
		// one released value alone would otherwise divide by zero and
		// be drawn as blank as a withheld cell.
		hm.Min, hm.Max = lo, math.Max(hi, lo+1e-9)
		hm.NaN = blank
		p.Add(hm)
		p.NominalX(c.Labels...)
		p.NominalY(rows...)
		p.X.Tick.Label.Rotation = math.Pi / 4
		p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
		p.Title.Text += fmt.Sprintf("  [%s – %s]", trim(lo), trim(hi))
		h = vg.Points(math.Max(240, 90+16*float64(len(c.Rows))))
	default:
		return "", fmt.Errorf("chart %s: unknown kind %q", c.Title.EN, c.Kind)
	}
	sans(p)
	canvas := vgsvg.New(w, h)
	p.Draw(draw.New(canvas))
	var b bytes.Buffer
	if _, err := canvas.WriteTo(&b); err != nil {
		return "", err
	}
	out := b.String()
	i := strings.Index(out, "<svg")
	if i < 0 {
		return "", fmt.Errorf("chart %s: no <svg> element drawn", c.Title.EN)
	}
	// role and label for screen readers; the title is text already. The
	// namespace declarations are XML's: HTML needs none.
	out = strings.NewReplacer("\n\txmlns=\"http://www.w3.org/2000/svg\"", "", "\n\txmlns:xlink=\"http://www.w3.org/1999/xlink\"", "").Replace(out[i+len("<svg"):])
	return `<svg role="img" aria-label="` + escapeAttr(both(c.Title)) + `"` + out, nil
}

// sans sets every text of the plot in a sans-serif face; browsers fall
// back to a CJK font for Chinese labels.
func sans(p *plot.Plot) {
	for _, st := range []*text.Style{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle, &p.X.Tick.Label, &p.Y.Tick.Label} {
		st.Font.Variant = "Sans"
	}
}

func reversed(v []float64) []float64 {
	out := slices.Clone(v)
	slices.Reverse(out)
	return out
}

func trim(v float64) string { return strings.TrimSuffix(fmt.Sprintf("%.4g", v), ".") }

func escapeAttr(s string) string {
	return strings.NewReplacer(`&`, "&amp;", `"`, "&quot;", `<`, "&lt;", `>`, "&gt;").Replace(s)
}

// errorBars draws an interval around each bar.
func errorBars(p *plot.Plot, c Chart, scale float64) error {
	pts := make(plotter.XYs, len(c.Values))
	errs := make([]struct{ lo, hi float64 }, len(c.Values))
	for i, v := range c.Values {
		pts[i] = plotter.XY{X: float64(i), Y: v * scale}
		errs[i].lo, errs[i].hi = (v-c.Low[i])*scale, (c.High[i]-v)*scale
	}
	if c.Kind == HBars {
		xe := make(plotter.XErrors, len(pts))
		for i := range pts {
			pts[i].X, pts[i].Y = pts[i].Y, pts[i].X
			xe[i].Low, xe[i].High = errs[i].lo, errs[i].hi
		}
		eb, err := plotter.NewXErrorBars(struct {
			plotter.XYs
			plotter.XErrors
		}{pts, xe})
		if err != nil {
			return err
		}
		p.Add(eb)
		return nil
	}
	ye := make(plotter.YErrors, len(pts))
	for i := range pts {
		ye[i].Low, ye[i].High = errs[i].lo, errs[i].hi
	}
	eb, err := plotter.NewYErrorBars(struct {
		plotter.XYs
		plotter.YErrors
	}{pts, ye})
	if err != nil {
		return err
	}
	p.Add(eb)
	return nil
}

// heatGrid is a heatmap's grid for plotter.HeatMap: column c, row r.
type heatGrid struct {
	z     [][]float64
	scale float64
}

func (g heatGrid) Dims() (int, int) {
	if len(g.z) == 0 {
		return 0, 0
	}
	return len(g.z[0]), len(g.z)
}
func (g heatGrid) Z(c, r int) float64 { return g.z[r][c] * g.scale }
func (g heatGrid) X(c int) float64    { return float64(c) }
func (g heatGrid) Y(r int) float64    { return float64(r) }

func (g heatGrid) span() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, row := range g.z {
		for _, v := range row {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v*g.scale), math.Max(hi, v*g.scale)
			}
		}
	}
	if math.IsInf(lo, 1) {
		return 0, 1
	}
	return lo, hi
}
