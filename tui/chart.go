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
// must never read as zero. Rows without a value (a ratio over zero) read
// "–".
//
// The ntcharts model is held by value and redrawn only when the data, the
// visible window or the size changes; View just returns the drawing.
type barChart struct {
	bars          barchart.Model
	width, height int
	view          string
}

func newBarChart() barChart {
	return barChart{bars: barchart.New(1, 1,
		barchart.WithHorizontalBars(), barchart.WithNoAxis(), barchart.WithBarGap(0),
		barchart.WithBarWidth(1), barchart.WithNoAutoBarWidth(), barchart.WithNoAutoMaxValue())}
}

// SetSize sets the chart's outer size; call Set afterwards to redraw.
func (c *barChart) SetSize(w, h int) {
	c.width, c.height = max(w, 10), max(h, 1)
}

// Set draws rows[offset:offset+height] of res; the row at index marked
// (if shown) gets a marker.
func (c *barChart) Set(res *slice.Result, offset, marked int, st styles, t texts) {
	c.view = ""
	if res == nil || len(res.Rows) == 0 {
		return
	}
	offset = min(max(0, offset), len(res.Rows)-1)
	rows := res.Rows[offset:min(len(res.Rows), offset+c.height)]
	if len(rows) == 0 { // not sized yet: the result came before the window size
		return
	}

	maxV := 0.0
	for _, r := range res.Rows { // one scale for every window
		if r.Defined() {
			maxV = max(maxV, r.Value)
		}
	}
	// Labels are one column per dimension. When they are too wide, the
	// widest column gives way a cell at a time, so both keys of a
	// two-dimension chart stay readable.
	nKeys := len(rows[0].Keys)
	keyW := make([]int, nKeys)
	values := make([]string, len(rows))
	valueW := 0
	for i, r := range rows {
		for j, k := range r.Keys {
			keyW[j] = max(keyW[j], lipgloss.Width(slice.KeyLabel(k)))
		}
		values[i] = res.Cells(r)[nKeys]
		valueW = max(valueW, lipgloss.Width(values[i]))
	}
	sepW := 3 * max(0, nKeys-1) // " · "
	labelW := sepW
	for _, w := range keyW {
		labelW += w
	}
	limit := c.width * 2 / 5
	if nKeys > 1 {
		limit = c.width / 2
	}
	for labelW > limit {
		widest := 0
		for j := range keyW {
			if keyW[j] > keyW[widest] {
				widest = j
			}
		}
		if keyW[widest] <= 4 {
			break
		}
		keyW[widest]--
		labelW--
	}
	labels := make([]string, len(rows))
	for i, r := range rows {
		parts := make([]string, len(r.Keys))
		for j, k := range r.Keys {
			parts[j] = fit(slice.KeyLabel(k), keyW[j])
		}
		mark := "  "
		if offset+i == marked {
			mark = "▸ "
		}
		labels[i] = mark + strings.Join(parts, " · ")
	}
	labelW += 2
	barW := max(1, c.width-labelW-valueW-2)

	data := make([]barchart.BarData, len(rows))
	for i, r := range rows {
		v := 0.0
		if r.Defined() {
			v = r.Value
		}
		data[i] = barchart.BarData{Values: []barchart.BarValue{{Value: v, Style: st.Bar}}}
	}
	c.bars.Clear()
	c.bars.Resize(barW, len(rows))
	c.bars.SetMax(max(maxV, 1e-9))
	c.bars.PushAll(data)
	c.bars.Draw()
	barLines := strings.Split(c.bars.View(), "\n")

	var b strings.Builder
	for i, r := range rows {
		bar := ""
		if i < len(barLines) {
			bar = barLines[i]
		}
		value := strings.Repeat(" ", valueW-lipgloss.Width(values[i])) + values[i]
		if r.Suppressed {
			bar = st.Withheld.Render(fit("┄┄ "+t.withheld, barW))
			value = st.Withheld.Render(value)
		}
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(fit(labels[i], labelW) + " " + bar + " " + value)
	}
	c.view = b.String()
}

// View returns the drawing.
func (c barChart) View() string { return c.view }

// fit truncates or pads s to exactly w terminal cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(s, w, "…")
	return s + strings.Repeat(" ", max(0, w-lipgloss.Width(s)))
}
