package tui

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/NimbleMarkets/ntcharts/linechart"
	"github.com/charmbracelet/lipgloss"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// The slicer's further charts: columns, grouped and stacked bars, lines
// over time and sparklines. Each is a pure function of a result and a
// size that returns at most h lines, each exactly w cells wide.
//
// The same rules hold for all of them, as for the bar chart and the
// heatmap: a withheld number is marked (× or ╳, and the word where there
// is room), never drawn as a zero; a row without a value (a ratio over
// zero) reads "–"; a combination nobody has reads "·" or is left out;
// and nothing is told by colour alone, so every series has its own
// glyph and a legend names it.

// chartFills are the fills of the series of grouped and stacked bars,
// in the order series get them. Neighbours differ the most, so the first
// few series read apart even in a font that draws shades alike.
var chartFills = []string{"█", "▒", "░", "▚", "▓", "▞", "▄", "▀"}

// chartPoints mark the points of a line chart's series.
var chartPoints = []rune{'●', '■', '▲', '◆', '○', '□'}

// chartColours colour the series when colour is on, the accent first.
var chartColours = []lipgloss.AdaptiveColor{
	{Light: "#1f6feb", Dark: "#58a6ff"},
	{Light: "#bc4c00", Dark: "#f0883e"},
	{Light: "#1a7f37", Dark: "#3fb950"},
	{Light: "#8250df", Dark: "#bc8cff"},
	{Light: "#bf3989", Dark: "#f778ba"},
	{Light: "#1b7c83", Dark: "#39c5cf"},
	{Light: "#9a6700", Dark: "#d29922"},
	{Light: "#57606a", Dark: "#8b949e"},
}

const (
	chartHatch   = "╳" // the withheld part of a stacked bar
	chartMaxLine = 6   // the most series a line chart draws
)

// chartSeriesStyle is series i's style: the bar style in the series'
// colour, so it keeps the renderer and with it NO_COLOR.
func chartSeriesStyle(st styles, i int) lipgloss.Style {
	return st.Bar.Foreground(chartColours[i%len(chartColours)])
}

// chartWords are the few words of the charts that texts has no field for.
type chartWords struct{ others, seriesLeft string }

func chartWordsFor(lang string) chartWords {
	if lang == "zh" {
		return chartWords{others: "其他", seriesLeft: "另有 %d 个系列未显示"}
	}
	return chartWords{others: "others", seriesLeft: "+%d series not shown"}
}

// chartMore says how many rows of the result a chart had no room for.
func chartMore(n int, t texts) string { return fmt.Sprintf("+%d %s", n, t.rows) }

// drawColumns draws a one-dimension result as vertical bars in the
// result's row order: each bar's value sits just above it, its label
// under it. The bars are written here, not with ntcharts' barchart:
// the value rides on top of each bar inside the plot, and a withheld or
// undefined row puts a mark where its bar would be, so the canvas would
// have to be overwritten cell by cell anyway.
//
// Bars are drawn in eighths of a cell (▁▂▃▄▅▆▇█) on one scale, the
// largest value of every row. When the values do not fit their columns
// all of them are shortened alike (12.3k, 4.5M). When the rows do not
// fit, the first ones are shown (or those up to the marked row) and the
// last line says how many are not. The row at index marked gets a ▲
// under its label.
func drawColumns(res *slice.Result, w, h, marked int, st styles, t texts) string {
	if w <= 0 || h <= 0 {
		return ""
	}
	if res == nil || len(res.Rows) == 0 {
		return fit(t.noRows, w)
	}
	n := len(res.Rows)
	labels := make([]string, n)
	full := make([]string, n)
	short := make([]string, n)
	labelW, fullW := 0, 0
	maxV := 0.0
	for i, r := range res.Rows {
		keys := make([]string, len(r.Keys))
		for j, k := range r.Keys {
			keys[j] = slice.KeyLabel(k)
		}
		labels[i] = strings.Join(keys, "·")
		full[i] = res.Cells(r)[len(res.Dims)]
		short[i] = full[i]
		if r.Defined() {
			short[i] = chartCompact(res.Measure, r.Value)
			maxV = max(maxV, r.Value)
		}
		labelW = max(labelW, lipgloss.Width(labels[i]))
		fullW = max(fullW, lipgloss.Width(full[i]))
	}

	// Columns are as wide as their labels and values want, within
	// bounds; they narrow to fit every row, down to five cells (a short
	// value, or a two-character Chinese label), and then rows are left
	// out.
	want := min(max(labelW, fullW, 3), 16)
	colW := max(min(want, 5), min(want, (w+1)/n-1))
	shown := max(1, min(n, (w+1)/(colW+1)))
	colW = min(colW, w)
	offset := 0
	if marked >= shown && marked < n {
		offset = marked - shown + 1
	}
	rows := res.Rows[offset : offset+shown]
	values := full[offset : offset+shown]
	for _, v := range values {
		if lipgloss.Width(v) > colW {
			values = short[offset : offset+shown]
			break
		}
	}
	barW := colW
	if colW >= 7 { // wide columns get some air between their bars
		barW = min(colW-2, 10)
	}

	// Lines: the plot, a baseline when there is room, the labels, and a
	// last line for the marker and the rows left out.
	plotH := max(1, h-2)
	baseline := h >= 8
	if baseline {
		plotH--
	}
	var lines []string
	for y := range plotH {
		up := plotH - 1 - y // cells above the bottom of the plot
		cells := make([]string, len(rows))
		for i, r := range rows {
			cells[i] = columnCell(r, values[i], up, plotH, maxV, colW, barW, st)
		}
		lines = append(lines, strings.Join(cells, " "))
	}
	if baseline {
		lines = append(lines, st.Subtle.Render(strings.Repeat("─", len(rows)*(colW+1)-1)))
	}
	cells := make([]string, len(rows))
	for i := range rows {
		cells[i] = chartCenter(labels[offset+i], colW)
		if offset+i == marked {
			cells[i] = st.Selected.Render(cells[i])
		}
	}
	lines = append(lines, strings.Join(cells, " "))

	var last []chartText
	markX := -1
	if marked >= offset && marked < offset+shown {
		markX = (marked-offset)*(colW+1) + (colW-1)/2
		last = append(last, chartText{markX, st.Selected.Render("▲")})
	}
	var notes []string
	if slices.ContainsFunc(rows, func(r slice.Row) bool { return r.Suppressed }) {
		notes = append(notes, st.Withheld.Render("×")+" "+t.withheld)
	}
	if hidden := n - shown; hidden > 0 {
		notes = append(notes, st.Subtle.Render(chartMore(hidden, t)))
	}
	if len(notes) > 0 {
		// At the right edge of the bars, or of the chart when wider.
		note := strings.Join(notes, "  ")
		x := min(w, max(len(rows)*(colW+1)-1, lipgloss.Width(note))) - lipgloss.Width(note)
		if markX >= x-1 { // the marker is where the note would go
			x = 0
		}
		last = append(last, chartText{max(0, x), note})
	}
	lines = append(lines, chartPlace(w, last))
	return plotLines(lines, w, h)
}

// columnCell is one column's cell up cells above the bottom of a plot
// plotH cells high: part of its bar, its value just above the bar, or,
// for a withheld row, × at the bottom under its withheld mark, and "–"
// at the bottom for a row without a value.
func columnCell(r slice.Row, value string, up, plotH int, maxV float64, colW, barW int, st styles) string {
	switch {
	case r.Suppressed:
		switch up {
		case 0:
			return st.Withheld.Render(chartCenter("×", colW))
		case 1:
			return st.Withheld.Render(chartCenter(value, colW))
		}
		return strings.Repeat(" ", colW)
	case !r.Defined():
		if up == 0 {
			return st.Subtle.Render(chartCenter("–", colW))
		}
		return strings.Repeat(" ", colW)
	}
	eighths := 0
	if r.Value > 0 && maxV > 0 {
		// The top cell is for the value of the largest bar; a value
		// too small to see still gets an eighth, so it is not taken
		// for zero.
		eighths = max(1, int(math.Round(r.Value/maxV*float64((plotH-1)*8))))
	}
	top := eighths / 8
	if eighths%8 > 0 {
		top++
	}
	pad := (colW - barW) / 2
	bar := func(glyph string) string {
		return strings.Repeat(" ", pad) + st.Bar.Render(strings.Repeat(glyph, barW)) + strings.Repeat(" ", colW-barW-pad)
	}
	switch {
	case up < eighths/8:
		return bar("█")
	case up < top:
		return bar(string(rune('▁' + eighths%8 - 1)))
	case up == top:
		return chartCenter(value, colW)
	}
	return strings.Repeat(" ", colW)
}

// drawGrouped draws a two-dimension result as grouped horizontal bars:
// a group for each value of the first dimension, in the order the result
// first shows them, with a line for each value of the second dimension
// (its series). Series are told apart by their fill, named in the legend
// on the last line, and by their label when the chart is wide enough.
// A withheld cell reads "× withheld" and its mark in place of a bar, a
// cell without a value "–", and a combination nobody has "·".
//
// Only whole groups are shown (the first one in part if even it does
// not fit); the legend says how many groups are left out. At most
// len(chartFills) series are drawn; the legend says how many more there
// are.
func drawGrouped(res *slice.Result, w, h int, st styles, t texts, lang string) string {
	if w <= 0 || h <= 0 {
		return ""
	}
	if res == nil || len(res.Rows) == 0 {
		return fit(t.noRows, w)
	}
	g := newChartGrid(res, lang)
	series := g.series[:min(len(g.series), len(chartFills))]
	maxV := 0.0
	for _, r := range res.Rows {
		if r.Defined() {
			maxV = max(maxV, r.Value)
		}
	}

	room := h - 1 // the legend takes the last line
	perGroup := len(series)
	shown := min(len(g.groups), max(1, room/perGroup))
	gap := len(g.groups)*(perGroup+1)-1 <= room // room for a blank line between groups

	groupW, seriesW := 0, 0
	for _, k := range g.groups[:shown] {
		groupW = max(groupW, lipgloss.Width(slice.KeyLabel(k)))
	}
	for _, k := range series {
		seriesW = max(seriesW, lipgloss.Width(g.label(k)))
	}
	groupW = min(groupW, w/4)
	seriesW = min(seriesW, w/6)
	if w < 60 { // narrow: the fills and the legend name the series
		seriesW = 0
	}

	type cell struct {
		row   slice.Row
		ok    bool
		value string
	}
	cells := make([][]cell, shown)
	valueW := 0
	for i, gk := range g.groups[:shown] {
		cells[i] = make([]cell, len(series))
		for j, sk := range series {
			r, ok := g.cells[[2]string{gk, sk}]
			c := cell{row: r, ok: ok}
			switch {
			case !ok:
				c.value = "·"
			case r.Suppressed:
				// There is room to say why.
				c.value = "× " + t.withheld
				if why := res.ReasonText(r.Reason, lang); why != "" {
					c.value = "× " + why
				}
			case !r.Defined():
				c.value = "–"
			default:
				c.value = res.Cells(r)[len(res.Dims)]
				valueW = max(valueW, lipgloss.Width(c.value))
			}
			cells[i][j] = c
		}
	}
	labelW := groupW + 1
	if seriesW > 0 {
		labelW += seriesW + 1
	}
	barMax := max(1, w-labelW-valueW-1)

	var lines []string
	sawWithheld, sawNobody := false, false
	for i, gk := range g.groups[:shown] {
		if i > 0 && gap {
			lines = append(lines, "")
		}
		for j, sk := range series {
			label := strings.Repeat(" ", groupW)
			if j == 0 {
				label = fit(slice.KeyLabel(gk), groupW)
			}
			label += " "
			if seriesW > 0 {
				label += st.Subtle.Render(fit(g.label(sk), seriesW)) + " "
			}
			c := cells[i][j]
			var body string
			switch {
			case !c.ok:
				sawNobody = true
				body = st.Subtle.Render(c.value)
			case c.row.Suppressed:
				sawWithheld = true
				body = st.Withheld.Render(c.value)
			case !c.row.Defined():
				body = st.Subtle.Render(c.value)
			default:
				n := 0
				if c.row.Value > 0 && maxV > 0 {
					n = max(1, int(math.Round(c.row.Value/maxV*float64(barMax))))
				}
				body = chartSeriesStyle(st, j).Render(strings.Repeat(chartFills[j], n)) + " " + c.value
			}
			lines = append(lines, label+body)
		}
	}
	lines = lines[:min(len(lines), room)]

	var legend []string
	for j, sk := range series {
		legend = append(legend, chartSeriesStyle(st, j).Render(chartFills[j])+" "+g.label(sk))
	}
	if sawWithheld {
		legend = append(legend, st.Withheld.Render("×")+" "+t.withheld)
	}
	if sawNobody {
		legend = append(legend, st.Subtle.Render("·")+" "+t.nobody)
	}
	var notes []string
	if left := len(g.series) - len(series); left > 0 {
		notes = append(notes, fmt.Sprintf(chartWordsFor(lang).seriesLeft, left))
	}
	if left := len(g.groups) - shown; left > 0 {
		notes = append(notes, chartMore(left, t))
	}
	lines = append(lines, chartLegend(legend, notes, w, st))
	return plotLines(lines, w, h)
}

// drawStacked draws a two-dimension result as one horizontal stacked bar
// for each value of the first dimension, in the order the result first
// shows them, with a segment for each value of the second (its series),
// told apart by fill and named in the legend on the last line.
//
// With percent, each bar is the whole of its row's margin (from
// res.Margins[0]); a row whose margin is missing or withheld is withheld
// as a whole. Otherwise the bars share one scale, the largest row. Either
// way, what the margin holds beyond the released cells is the withheld
// part, hatched ╳ at the end of the bar; without a margin, a row with
// withheld cells ends in a short hatch of unknown length, and its total
// reads "≥" the released sum. The value at the right is the row's total.
//
// Stacking adds the cells up, so it suits counts and sums. More series
// than fills are summed into one segment, "others".
func drawStacked(res *slice.Result, w, h int, percent bool, st styles, t texts, lang string) string {
	if w <= 0 || h <= 0 {
		return ""
	}
	if res == nil || len(res.Rows) == 0 {
		return fit(t.noRows, w)
	}
	g := newChartGrid(res, lang)
	words := chartWordsFor(lang)
	nFills := len(g.series)
	merged := nFills > len(chartFills)
	if merged {
		nFills = len(chartFills) - 1 // the last fill sums up the rest
	}
	margins := map[string]slice.Row{}
	for _, m := range res.Margins[0] {
		if len(m.Keys) > 0 {
			margins[m.Keys[0]] = m
		}
	}

	// Each bar: its segments, the withheld part (known, or only known
	// to be there), and its total.
	type bar struct {
		segs     []float64 // by fill
		released float64
		hatch    float64 // the withheld part, when the margin tells it
		unknown  bool    // some cells withheld, how much is not known
		whole    bool    // the whole bar is withheld
		total    string
		scale    float64
	}
	bars := make([]bar, len(g.groups))
	largest, unknownAny := 0.0, false
	for i, gk := range g.groups {
		b := bar{segs: make([]float64, min(len(g.series), len(chartFills)))}
		withheld, released, undefined := false, 0, false
		for j, sk := range g.series {
			r, ok := g.cells[[2]string{gk, sk}]
			switch {
			case !ok:
			case r.Suppressed:
				withheld = true
			case !r.Defined():
				undefined = true
			case r.Value > 0:
				b.segs[min(j, nFills)] += r.Value
				b.released += r.Value
				released++
			}
		}
		m, hasM := margins[gk]
		known := hasM && m.Defined()
		switch {
		case known:
			b.hatch = max(0, m.Value-b.released)
			b.total = res.Measure.Format(m.Value)
			b.scale = max(m.Value, b.released)
		case percent:
			b.whole = true
			b.total = "–"
			if hasM && m.Suppressed {
				b.total = slice.Mark(m, res.K, lang)
			}
		case withheld && released == 0:
			b.whole = true
			b.total = ""
		case undefined && released == 0:
			b.total = "–"
		default:
			b.unknown = withheld
			b.total = res.Measure.Format(b.released)
			if withheld {
				b.total = "≥" + b.total
			}
			b.scale = b.released
		}
		if withheld && known && b.hatch == 0 {
			b.hatch = -1 // withheld cells worth nothing: still hatched, one cell
		}
		unknownAny = unknownAny || b.unknown
		largest = max(largest, b.scale)
		bars[i] = b
	}

	room := h - 1
	shown := min(len(g.groups), max(1, room))
	labelW, valueW := 0, 0
	for i, gk := range g.groups[:shown] {
		labelW = max(labelW, lipgloss.Width(slice.KeyLabel(gk)))
		valueW = max(valueW, lipgloss.Width(bars[i].total))
	}
	labelW = min(labelW, w/4)
	barW := max(1, w-labelW-valueW-2)
	unknownW := 0
	if unknownAny && !percent {
		unknownW = min(2, barW-1)
	}

	var lines []string
	sawHatch := false
	for i, gk := range g.groups[:shown] {
		b := bars[i]
		var body string
		if b.whole {
			sawHatch = true
			body = st.Withheld.Render(fit(strings.Repeat(chartHatch, 2)+" "+t.withheld, barW))
		} else {
			scale, width := largest, barW-unknownW
			if percent {
				scale, width = b.scale, barW
			}
			var segs []chartSeg
			for j, v := range b.segs {
				segs = append(segs, chartSeg{v, chartFills[j], chartSeriesStyle(st, j)})
			}
			if b.hatch != 0 {
				sawHatch = true
				segs = append(segs, chartSeg{b.hatch, chartHatch, st.Withheld})
			}
			body = chartStack(segs, scale, width)
			if b.unknown {
				sawHatch = true
				body += st.Withheld.Render(strings.Repeat(chartHatch, unknownW))
			}
			body = fit(body, barW)
		}
		value := strings.Repeat(" ", valueW-lipgloss.Width(b.total)) + b.total
		lines = append(lines, fit(slice.KeyLabel(gk), labelW)+" "+body+" "+value)
	}

	var legend []string
	for j := range min(len(g.series), len(chartFills)) {
		name := g.label(g.series[j])
		if merged && j == nFills {
			name = fmt.Sprintf("%s %d", words.others, len(g.series)-nFills)
		}
		legend = append(legend, chartSeriesStyle(st, j).Render(chartFills[j])+" "+name)
	}
	if sawHatch {
		legend = append(legend, st.Withheld.Render(chartHatch)+" "+t.withheld)
	}
	var notes []string
	if left := len(g.groups) - shown; left > 0 {
		notes = append(notes, chartMore(left, t))
	}
	lines = append(lines, chartLegend(legend, notes, w, st))
	return plotLines(lines, w, h)
}

// chartSeg is a segment of a stacked bar.
type chartSeg struct {
	v     float64
	fill  string
	style lipgloss.Style
}

// chartStack draws segments on a scale that maps scale to width cells.
// The ends of the segments are rounded, not their lengths, so a bar is
// as long as its rounded total; a segment that rounds to nothing gets a
// cell all the same (taken from the longest), so no part is lost.
// A segment of a negative value is one cell whatever the scale.
func chartStack(segs []chartSeg, scale float64, width int) string {
	if scale <= 0 {
		scale = 1
	}
	cells := make([]int, len(segs))
	sum, end := 0.0, 0
	for i, s := range segs {
		if s.v < 0 {
			cells[i] = 1
			continue
		}
		sum += s.v
		e := int(math.Round(sum / scale * float64(width)))
		cells[i], end = e-end, e
	}
	for i, s := range segs {
		if cells[i] == 0 && s.v > 0 {
			cells[i] = 1
			if j := chartLongest(cells); cells[j] > 1 {
				cells[j]--
			}
		}
	}
	var b strings.Builder
	for i, s := range segs {
		if cells[i] > 0 {
			b.WriteString(s.style.Render(strings.Repeat(s.fill, cells[i])))
		}
	}
	return b.String()
}

func chartLongest(cells []int) int {
	j := 0
	for i, c := range cells {
		if c > cells[j] {
			j = i
		}
	}
	return j
}

// drawLines draws a time series: the result's time dimension (its Role
// is inventory.Time, first or second) across, in the order of its
// field's Order, and the measure up. A one-dimension result is one
// series; with two, each value of the other dimension is a series, at
// most chartMaxLine of them (the largest, or the first in an ordinal
// dimension's order; the legend says how many are left out). Series are
// told apart by the rune marking each of their points, named in the
// legend on the last line.
//
// The plot is drawn with ntcharts' linechart: braille lines between
// points, and each point's rune on top. The axes and their labels are
// laid out here, as in the bar chart, so period labels in Chinese stay
// aligned. A withheld point is not drawn: its series' line breaks there
// and the x axis has a × under the period. A point without a value (or
// that nobody has) breaks the line too.
func drawLines(res *slice.Result, w, h int, st styles, t texts, lang string) string {
	if w <= 0 || h <= 0 {
		return ""
	}
	if res == nil || len(res.Rows) == 0 || len(res.Dims) == 0 {
		return fit(t.noRows, w)
	}
	ti := slices.IndexFunc(res.Dims, func(f inventory.Field) bool { return f.Role == inventory.Time })
	if ti < 0 {
		ti = 0 // no time dimension: the first one stands in for it
	}
	periods := chartPeriods(res, ti)
	at := make(map[string]int, len(periods))
	for i, p := range periods {
		at[p] = i
	}

	type series struct {
		label string
		rows  []*slice.Row // by period; nil where nobody is
	}
	var all []series
	if len(res.Dims) == 1 {
		s := series{label: res.Measure.Label.In(lang), rows: make([]*slice.Row, len(periods))}
		for i := range res.Rows {
			s.rows[at[res.Rows[i].Keys[0]]] = &res.Rows[i]
		}
		all = append(all, s)
	} else {
		oi := 1 - ti
		keys := chartOrder(res, oi)
		index := map[string]int{}
		for i, k := range keys {
			index[k] = i
			all = append(all, series{label: slice.KeyLabel(k), rows: make([]*slice.Row, len(periods))})
		}
		for i := range res.Rows {
			r := &res.Rows[i]
			all[index[r.Keys[oi]]].rows[at[r.Keys[ti]]] = r
		}
	}
	shown := all[:min(len(all), chartMaxLine)]

	lo, hi, seen := 0.0, 0.0, false
	withheldAt := make([]bool, len(periods))
	for _, s := range shown {
		for p, r := range s.rows {
			switch {
			case r == nil:
			case r.Suppressed:
				withheldAt[p] = true
			case r.Defined():
				if !seen || r.Value < lo {
					lo = r.Value
				}
				if !seen || r.Value > hi {
					hi = r.Value
				}
				seen = true
			}
		}
	}
	if hi <= lo { // a flat line sits in the middle
		pad := max(math.Abs(lo)*0.1, 1)
		lo, hi = lo-pad, hi+pad
	}

	// Lines: the plot, the x axis, its labels, the legend.
	plotH := max(1, h-3)
	ticks := map[int]float64{0: hi}
	if plotH > 1 {
		ticks[plotH-1] = lo
	}
	if plotH >= 5 {
		ticks[(plotH-1)/2] = hi - (hi-lo)*float64((plotH-1)/2)/float64(plotH-1)
	}
	tickText := map[int]string{}
	yW := 0
	for y, v := range ticks {
		s := res.Measure.Format(v)
		if lipgloss.Width(s) > 8 {
			s = chartCompact(res.Measure, v)
		}
		if !seen {
			s = ""
		}
		tickText[y] = s
		yW = max(yW, lipgloss.Width(s))
	}
	yW = min(yW, w/3)
	plotW := max(1, w-yW-1)

	lc := linechart.New(plotW, plotH, 0, float64(max(1, len(periods)-1)), lo, hi, linechart.WithXYSteps(0, 0))
	point := func(p int, r *slice.Row) canvas.Float64Point {
		return canvas.Float64Point{X: float64(p), Y: r.Value}
	}
	for i, s := range shown {
		for p := 1; p < len(s.rows); p++ {
			a, b := s.rows[p-1], s.rows[p]
			if a != nil && b != nil && a.Defined() && b.Defined() {
				lc.DrawBrailleLineWithStyle(point(p-1, a), point(p, b), chartSeriesStyle(st, i))
			}
		}
	}
	for i, s := range shown { // the points go on top of every line
		for p, r := range s.rows {
			if r != nil && r.Defined() {
				lc.DrawRuneWithStyle(point(p, r), chartPoints[i], chartSeriesStyle(st, i))
			}
		}
	}
	var lines []string
	for y, row := range strings.Split(lc.View(), "\n")[:plotH] {
		axis := "│"
		label := strings.Repeat(" ", yW)
		if s, ok := tickText[y]; ok {
			axis = "┤"
			label = strings.Repeat(" ", max(0, yW-lipgloss.Width(s))) + fit(s, min(yW, lipgloss.Width(s)))
		}
		lines = append(lines, label+st.Subtle.Render(axis)+row)
	}

	// The x axis: a tick under each labelled period, × under each
	// withheld one.
	xOf := func(p int) int {
		if len(periods) < 2 {
			return 0
		}
		return int(math.Round(float64(p) * float64(plotW-1) / float64(len(periods)-1)))
	}
	labelled, labelRow := chartXLabels(periods, xOf, plotW)
	axis := make([]string, plotW)
	for x := range axis {
		axis[x] = st.Subtle.Render("─")
	}
	for _, p := range labelled {
		axis[xOf(p)] = st.Subtle.Render("┬")
	}
	sawWithheld := false
	for p, wh := range withheldAt {
		if wh {
			axis[xOf(p)] = st.Withheld.Render("×")
			sawWithheld = true
		}
	}
	lines = append(lines,
		strings.Repeat(" ", yW)+st.Subtle.Render("└")+strings.Join(axis, ""),
		strings.Repeat(" ", yW+1)+labelRow)

	var legend []string
	for i, s := range shown {
		legend = append(legend, chartSeriesStyle(st, i).Render(string(chartPoints[i]))+" "+s.label)
	}
	if sawWithheld {
		legend = append(legend, st.Withheld.Render("×")+" "+t.withheld)
	}
	var notes []string
	if left := len(all) - len(shown); left > 0 {
		notes = append(notes, fmt.Sprintf(chartWordsFor(lang).seriesLeft, left))
	}
	lines = append(lines, chartLegend(legend, notes, w, st))
	return plotLines(lines, w, h)
}

// chartPeriods returns the values of the result's dimension ti in the
// order of the field's Order, from the first one the result has to the
// last (periods between them that it lacks stay, as gaps); values not in
// the Order follow, in the order the result shows them.
func chartPeriods(res *slice.Result, ti int) []string {
	order := res.Dims[ti].Order
	first, last := len(order), -1
	var extra []string
	for _, r := range res.Rows {
		k := r.Keys[ti]
		if i := slices.Index(order, k); i >= 0 {
			first, last = min(first, i), max(last, i)
		} else if !slices.Contains(extra, k) {
			extra = append(extra, k)
		}
	}
	var out []string
	if last >= 0 {
		out = append(out, order[first:last+1]...)
	}
	return append(out, extra...)
}

// chartXLabels chooses which periods to label under a plot plotW cells
// wide and lays out their labels: the first and the last always, and
// evenly spaced ones between as room allows. It returns the periods
// labelled and the line of labels.
func chartXLabels(periods []string, xOf func(int) int, plotW int) ([]int, string) {
	n := len(periods)
	labelW := 1
	for _, p := range periods {
		labelW = max(labelW, lipgloss.Width(slice.KeyLabel(p)))
	}
	if n == 1 {
		return []int{0}, fit(slice.KeyLabel(periods[0]), plotW)
	}
	count := max(2, min(n, (plotW+2)/(labelW+2)))
	step := max(1, int(math.Ceil(float64(n-1)/float64(count-1))))
	var want []int
	for p := 0; p < n-1; p += step {
		want = append(want, p)
	}
	want = append(want, n-1)

	// The last label is right-aligned and placed first, so it is never
	// the one crowded out.
	lastS := slice.KeyLabel(periods[n-1])
	lastX := max(0, plotW-lipgloss.Width(lastS))
	var items []chartText
	var labelled []int
	end := 0
	for _, p := range want[:len(want)-1] {
		s := slice.KeyLabel(periods[p])
		sw := lipgloss.Width(s)
		x := min(max(0, xOf(p)-sw/2), plotW-sw)
		if p == 0 {
			x = 0
		}
		if x < end || x+sw > lastX-1 {
			continue
		}
		items = append(items, chartText{x, s})
		labelled = append(labelled, p)
		end = x + sw + 2
	}
	if lastX >= end || len(items) == 0 {
		items = append(items, chartText{lastX, lastS})
		labelled = append(labelled, n-1)
	}
	return labelled, chartPlace(plotW, items)
}

// sparkline draws values on one line w cells wide: ▁ to █ from the
// smallest defined value to the largest, × for a withheld value and a
// space for one without a value (ok false). With more values than cells
// it shows the last w; with fewer, it pads with spaces. A flat series
// reads ▄ throughout.
//
// Written here rather than with ntcharts' sparkline, which scales from
// zero rather than from the smallest value, turns negative values into
// zero, and has no way to mark a withheld value or leave a gap: every
// value it is given becomes a column.
func sparkline(vals []float64, ok []bool, withheld []bool, w int) string {
	if w <= 0 {
		return ""
	}
	start := max(0, len(vals)-w)
	has := func(i int) bool {
		return i < len(ok) && ok[i] && !math.IsNaN(vals[i]) && !math.IsInf(vals[i], 0) &&
			(i >= len(withheld) || !withheld[i])
	}
	lo, hi, seen := 0.0, 0.0, false
	for i := start; i < len(vals); i++ {
		if has(i) {
			if !seen || vals[i] < lo {
				lo = vals[i]
			}
			if !seen || vals[i] > hi {
				hi = vals[i]
			}
			seen = true
		}
	}
	var b strings.Builder
	for i := start; i < len(vals); i++ {
		switch {
		case i < len(withheld) && withheld[i]:
			b.WriteString("×")
		case !has(i):
			b.WriteByte(' ')
		case hi == lo:
			b.WriteRune('▄')
		default:
			b.WriteRune(rune('▁' + int(math.Round((vals[i]-lo)/(hi-lo)*7))))
		}
	}
	b.WriteString(strings.Repeat(" ", w-(len(vals)-start)))
	return b.String()
}

// chartGrid is a two-dimension result arranged for bars: the first
// dimension's values (groups) in the order the result first shows them,
// the second's (series) in chartOrder, and the cells by both values.
type chartGrid struct {
	groups, series []string
	cells          map[[2]string]slice.Row
	one            string // a one-dimension result's only series: the measure
}

func newChartGrid(res *slice.Result, lang string) chartGrid {
	g := chartGrid{cells: map[[2]string]slice.Row{}}
	for _, r := range res.Rows {
		if len(r.Keys) == 0 {
			continue
		}
		if !slices.Contains(g.groups, r.Keys[0]) {
			g.groups = append(g.groups, r.Keys[0])
		}
		second := ""
		if len(r.Keys) > 1 {
			second = r.Keys[1]
		}
		g.cells[[2]string{r.Keys[0], second}] = r
	}
	if len(res.Dims) > 1 {
		g.series = chartOrder(res, 1)
	} else {
		g.series, g.one = []string{""}, res.Measure.Label.In(lang)
	}
	return g
}

// label is how a series reads.
func (g chartGrid) label(k string) string {
	if g.one != "" {
		return g.one
	}
	return slice.KeyLabel(k)
}

// chartOrder returns the values of dimension d, as the heatmap orders
// its columns: an ordinal dimension's in its order, others with the
// largest total first.
func chartOrder(res *slice.Result, d int) []string {
	var keys []string
	total := map[string]float64{}
	for _, r := range res.Rows {
		k := r.Keys[d]
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
		if r.Defined() {
			total[k] += r.Value
		}
	}
	if f := res.Dims[d]; f.Ordinal() {
		slices.SortStableFunc(keys, func(a, b string) int {
			return cmp.Compare(orderIndex(f.Order, a), orderIndex(f.Order, b))
		})
	} else {
		slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(total[b], total[a]) })
	}
	return keys
}

// chartLegend lays out a legend's items on one line w cells wide, with
// its notes (what the chart leaves out) at the end: the items give way
// (cut with …) before the notes do.
func chartLegend(items, notes []string, w int, st styles) string {
	note := ""
	if len(notes) > 0 {
		note = st.Subtle.Render(strings.Join(notes, "  "))
	}
	body := strings.Join(items, "  ")
	if note == "" {
		return fit(body, w)
	}
	room := w - lipgloss.Width(note) - 2
	if room < min(lipgloss.Width(body), 10) {
		return fit(note, w)
	}
	body = fit(body, min(room, lipgloss.Width(body)))
	return fit(body+"  "+note, w)
}

// chartText is a text at a cell of a line.
type chartText struct {
	x int
	s string
}

// chartPlace lays out texts, in order of their cells, on a line w cells
// wide; one that would overlap the one before it, or run past the end,
// is left out.
func chartPlace(w int, texts []chartText) string {
	slices.SortStableFunc(texts, func(a, b chartText) int { return cmp.Compare(a.x, b.x) })
	var b strings.Builder
	at := 0
	for _, t := range texts {
		sw := lipgloss.Width(t.s)
		if t.x < at || t.x+sw > w {
			continue
		}
		b.WriteString(strings.Repeat(" ", t.x-at) + t.s)
		at = t.x + sw
	}
	return b.String() + strings.Repeat(" ", w-at)
}

// chartCenter centres s in w cells, cutting it with … when it is wider.
func chartCenter(s string, w int) string {
	sw := lipgloss.Width(s)
	if sw >= w {
		return fit(s, w)
	}
	left := (w - sw) / 2
	return strings.Repeat(" ", left) + s + strings.Repeat(" ", w-sw-left)
}

// plotLines makes lines the chart: at most h of them, each w cells.
func plotLines(lines []string, w, h int) string {
	lines = lines[:min(len(lines), h)]
	for i, l := range lines {
		lines[i] = fit(l, w)
	}
	return strings.Join(lines, "\n")
}

// chartCompact writes v in at most about five cells: 987, 12.3k, 4.5M,
// 1.2B; a percentage without decimals. Every language reads it alike,
// so a chart's values stay comparable.
func chartCompact(m inventory.MeasureDef, v float64) string {
	if m.Percent {
		return strconv.FormatFloat(v*100, 'f', 0, 64) + "%"
	}
	a := math.Abs(v)
	for _, u := range []struct {
		div    float64
		suffix string
	}{{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "k"}} {
		if a >= u.div*0.9995 {
			x := v / u.div
			if math.Abs(x) < 9.95 {
				return strconv.FormatFloat(x, 'f', 1, 64) + u.suffix
			}
			return strconv.FormatFloat(x, 'f', 0, 64) + u.suffix
		}
	}
	if a < 9.95 && m.Decimals > 0 && v != math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}
