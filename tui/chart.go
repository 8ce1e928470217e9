package tui

import (
	"strings"

	"github.com/NimbleMarkets/ntcharts/barchart"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/persona-workbench/persona/engine/slice"
)

// barChart draws a slice as horizontal bars: one row per result row, the
// label on the left, the bar (ntcharts) in the middle, the value on the
// right. Labels and values are laid out here rather than on the ntcharts
// canvas because the canvas puts one rune in each cell, which misaligns
// Chinese labels (two cells wide); lipgloss measures them correctly.
//
// Withheld rows get no bar at all, only a visible marker: a missing bar
// must never read as zero.
type barChart struct {
	bars          barchart.Model
	width, height int
}

func newBarChart() barChart {
	return barChart{bars: barchart.New(1, 1, barchart.WithHorizontalBars(), barchart.WithNoAxis(), barchart.WithBarGap(0))}
}

// SetSize sets the chart's outer size.
func (c *barChart) SetSize(w, h int) {
	c.width, c.height = max(w, 10), max(h, 1)
}

// View renders rows[offset:offset+height] of res.
func (c *barChart) View(res *slice.Result, offset int, st styles, t texts) string {
	if res == nil || len(res.Rows) == 0 {
		return ""
	}
	end := min(len(res.Rows), offset+c.height)
	rows := res.Rows[offset:end]

	labels := make([]string, len(rows))
	values := make([]string, len(rows))
	labelW, valueW := 0, 0
	maxV := 0.0
	for _, r := range res.Rows {
		if !r.Suppressed {
			maxV = max(maxV, r.Value)
		}
	}
	for i, r := range rows {
		labels[i] = strings.Join(keysOrNone(r.Keys), " · ")
		if r.Suppressed {
			values[i] = slice.Withheld(res.K)
		} else {
			values[i] = res.Measure.Format(r.Value)
		}
		labelW = max(labelW, lipgloss.Width(labels[i]))
		valueW = max(valueW, lipgloss.Width(values[i]))
	}
	labelW = min(labelW, c.width/3)
	barW := max(1, c.width-labelW-valueW-2)

	data := make([]barchart.BarData, len(rows))
	for i, r := range rows {
		v := 0.0
		if !r.Suppressed && r.Value > 0 {
			v = r.Value
		}
		data[i] = barchart.BarData{Values: []barchart.BarValue{{Value: v, Style: st.Bar}}}
	}
	c.bars = barchart.New(barW, len(rows),
		barchart.WithHorizontalBars(), barchart.WithNoAxis(), barchart.WithBarGap(0),
		barchart.WithBarWidth(1), barchart.WithNoAutoBarWidth(),
		barchart.WithNoAutoMaxValue(), barchart.WithMaxValue(max(maxV, 1e-9)),
		barchart.WithDataSet(data))
	c.bars.Draw()
	barLines := strings.Split(c.bars.View(), "\n")

	var b strings.Builder
	for i, r := range rows {
		label := fit(labels[i], labelW)
		bar := ""
		if i < len(barLines) {
			bar = barLines[i]
		}
		value := strings.Repeat(" ", valueW-lipgloss.Width(values[i])) + values[i]
		if r.Suppressed {
			bar = st.Withheld.Render(fit("┄┄ "+t.withheld, barW))
			value = st.Withheld.Render(value)
		}
		b.WriteString(label + " " + bar + " " + value)
		if i < len(rows)-1 {
			b.WriteString("\n")
		}
	}
	return b.String()
}

func keysOrNone(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k
		if k == "" {
			out[i] = "∅"
		}
	}
	return out
}

// fit truncates or pads s to exactly w terminal cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(s, w, "…")
	return s + strings.Repeat(" ", max(0, w-lipgloss.Width(s)))
}
