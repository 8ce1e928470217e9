package tui

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/persona-workbench/persona/engine/slice"
)

// comparison reads a two-dimension result as two segments — two values
// of the second dimension, such as campaign-exposed and not — side by
// side for each value of the first: both values, the difference and the
// lift (b against a).
type comparison struct {
	a, b    string // the segments: a is the baseline
	rows    []compareRow
	overall *compareRow // everyone, from the margins when they were shown
}

type compareRow struct {
	key    string
	va, vb *slice.Row // nil: nobody in that segment
}

// compareOf pairs the cells of res for segments a and b, keeping the
// order of the first dimension's values in res.
func compareOf(res *slice.Result, a, b string) comparison {
	c := comparison{a: a, b: b}
	at := map[string]int{}
	for i := range res.Rows {
		r := &res.Rows[i]
		if r.Keys[1] != a && r.Keys[1] != b {
			continue
		}
		j, ok := at[r.Keys[0]]
		if !ok {
			j = len(c.rows)
			at[r.Keys[0]] = j
			c.rows = append(c.rows, compareRow{key: r.Keys[0]})
		}
		if r.Keys[1] == a {
			c.rows[j].va = r
		} else {
			c.rows[j].vb = r
		}
	}
	var all compareRow
	for i := range res.Margins[1] {
		m := &res.Margins[1][i]
		switch m.Keys[0] {
		case a:
			all.va = m
		case b:
			all.vb = m
		}
	}
	if all.va != nil || all.vb != nil {
		c.overall = &all
	}
	return c
}

// usable reports whether r holds a value that may be shown.
func usable(r *slice.Row) bool { return r != nil && !r.Suppressed && r.Defined() }

// diff returns b − a and the lift b/a − 1; ok is false unless both are
// shown, and liftOK unless a is non-zero. Both come only from released
// values, so they say nothing the two values do not.
func (r compareRow) diff() (d, lift float64, ok, liftOK bool) {
	if !usable(r.va) || !usable(r.vb) {
		return 0, 0, false, false
	}
	d = r.vb.Value - r.va.Value
	if r.va.Value == 0 {
		return d, 0, true, false
	}
	return d, r.vb.Value/r.va.Value - 1, true, true
}

// cells are a row's texts: both values, the difference and the lift.
// A withheld value reads as its mark; the difference and lift of a pair
// with a withheld side read "×".
func (c comparison) cells(res *slice.Result, r compareRow, lang string) [4]string {
	val := func(v *slice.Row) string {
		switch {
		case v == nil:
			return "·"
		case v.Suppressed:
			return slice.Mark(*v, res.K, lang)
		case !v.Defined():
			return "–"
		}
		return res.Measure.Format(v.Value)
	}
	out := [4]string{val(r.va), val(r.vb), "×", "×"}
	if r.va == nil || r.vb == nil {
		out[2], out[3] = "·", "·"
	}
	sign := func(v float64) string {
		if v < 0 {
			return "−"
		}
		return "+"
	}
	if d, lift, ok, liftOK := r.diff(); ok {
		out[2] = sign(d) + res.Measure.Format(math.Abs(d))
		if res.Measure.Percent {
			// Rates differ by percentage points, not by a percentage.
			out[2] = sign(d) + strconv.FormatFloat(math.Abs(100*d), 'f', res.Measure.Decimals, 64) + "pp"
		}
		out[3] = "–"
		if liftOK {
			out[3] = fmt.Sprintf("%s%.1f%%", sign(lift), math.Abs(100*lift))
		}
	} else if usable(r.va) && usable(r.vb) {
		out[2], out[3] = "–", "–"
	}
	return out
}

// segmentsOf picks the two segments to compare: the second dimension's
// values kept by its filter if it keeps two, else its first two values
// in their natural order, else the first two in the result.
func segmentsOf(res *slice.Result, filtered []string) (a, b string, ok bool) {
	if len(filtered) == 2 {
		return filtered[0], filtered[1], true
	}
	var seen []string
	for _, r := range res.Rows {
		if !slices.Contains(seen, r.Keys[1]) {
			seen = append(seen, r.Keys[1])
		}
	}
	if order := res.Dims[1].Order; len(order) >= 2 {
		var in []string
		for _, v := range order {
			if slices.Contains(seen, v) {
				in = append(in, v)
			}
		}
		seen = in
	}
	if len(seen) < 2 {
		return "", "", false
	}
	return seen[0], seen[1], true
}

// drawCompare draws the comparison as pairs of bars, a (light) over b
// (full), on one scale, each pair followed by the difference and lift;
// withheld values get a marker, never a bar. The row at marked (if
// shown) gets a marker.
func drawCompare(c comparison, res *slice.Result, w, h, offset, marked int, st styles, t texts, lang string) string {
	w, h = max(w, 20), max(h, 2)
	a, b := slice.KeyLabel(c.a), slice.KeyLabel(c.b)
	legend := fit(fmt.Sprintf("░ %s   █ %s   "+t.compareLegend, a, b), w)
	lines := []string{st.Subtle.Render(legend)}
	if c.overall != nil && h > 2 {
		// Everyone, from the margins: text only, since its values would
		// dwarf every bar on a shared scale.
		tx := c.cells(res, *c.overall, lang)
		lines = append(lines, fit(fmt.Sprintf("  %s: %s %s · %s %s · %s %s", t.everyone,
			slice.KeyLabel(c.a), tx[0], slice.KeyLabel(c.b), tx[1], tx[2], tx[3]), w))
	}
	maxV := 0.0 // one scale for every window
	for _, r := range c.rows {
		for _, v := range []*slice.Row{r.va, r.vb} {
			if usable(v) {
				maxV = max(maxV, v.Value)
			}
		}
	}
	rows := c.rows[min(max(0, offset), len(c.rows)):]
	marked -= offset
	labelW := 4
	texts := make([][4]string, len(rows))
	valW, diffW := 1, 1
	for i, r := range rows {
		labelW = max(labelW, lipgloss.Width(slice.KeyLabel(r.key)))
		texts[i] = c.cells(res, r, lang)
		valW = max(valW, lipgloss.Width(texts[i][0]), lipgloss.Width(texts[i][1]))
		diffW = max(diffW, lipgloss.Width(texts[i][2])+1+lipgloss.Width(texts[i][3]))
	}
	labelW = min(labelW, w/4) + 3 // the marker before, a space after
	barW := max(1, w-labelW-valW-diffW-3)
	bar := func(v *slice.Row, glyph string) string {
		switch {
		case v == nil:
			return fit("·", barW)
		case v.Suppressed:
			return st.Withheld.Render(fit("┄┄ "+t.withheld, barW))
		case !v.Defined() || maxV <= 0:
			return strings.Repeat(" ", barW)
		}
		n := int(math.Round(v.Value / maxV * float64(barW)))
		if v.Value > 0 {
			n = max(n, 1) // a value above zero never reads as none
		}
		return st.Bar.Render(strings.Repeat(glyph, n)) + strings.Repeat(" ", barW-n)
	}
	pad := func(s string, n int) string { return strings.Repeat(" ", max(0, n-lipgloss.Width(s))) + s }
	for i := 0; i < len(rows) && len(lines)+2 <= h; i++ {
		r, tx := rows[i], texts[i]
		mark := "  "
		if i == marked {
			mark = "▸ "
		}
		lines = append(lines,
			fit(mark+slice.KeyLabel(r.key), labelW)+bar(r.va, "░")+" "+pad(tx[0], valW),
			strings.Repeat(" ", labelW)+bar(r.vb, "█")+" "+pad(tx[1], valW)+" "+pad(tx[2]+" "+tx[3], diffW))
	}
	for i := range lines {
		lines[i] = fit(lines[i], w)
	}
	return strings.Join(lines, "\n")
}
