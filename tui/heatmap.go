package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/persona-workbench/persona/engine/slice"
)

// heatShades are the glyphs of the heatmap's four value bands, lowest
// first.
var heatShades = []string{"░", "▒", "▓", "█"}

// heatmap draws a two-dimension slice as a grid: the first dimension's
// values down the side, the second's across the top, each cell shaded by
// its value's band, and a legend of the bands below.
//
// Written here rather than with ntcharts' heatmap, which encodes a value
// only as a background colour: that disappears under NO_COLOR and on
// 16-colour terminals, and leaves no way to mark a withheld cell. Here
// every band has its own glyph (coloured when colour is on), a withheld
// cell reads ×, never a shade or a blank, and a combination nobody has
// reads ·.
type heatmap struct {
	width, height int
	view          string
}

// SetSize sets the heatmap's outer size; call Set afterwards to redraw.
func (h *heatmap) SetSize(w, ht int) {
	h.width, h.height = max(w, 10), max(ht, 3)
}

// Set draws res from its row of first-dimension values top, with the row
// of the value marked (if any) marked.
func (h *heatmap) Set(res *slice.Result, top int, marked string, st styles, t texts) {
	h.view = ""
	if res == nil || len(res.Dims) != 2 || len(res.Rows) == 0 {
		return
	}
	// Rows keep the result's order (natural order, or the largest groups
	// first); columns, the second dimension's natural order, or the
	// largest totals first.
	rowKeys := heatRows(res)
	var colKeys []string
	cells := map[[2]string]slice.Row{}
	colTotal := map[string]float64{}
	lo, hi := 0.0, 0.0
	first := true
	for _, r := range res.Rows {
		if !slices.Contains(colKeys, r.Keys[1]) {
			colKeys = append(colKeys, r.Keys[1])
		}
		cells[[2]string{r.Keys[0], r.Keys[1]}] = r
		if r.Defined() {
			colTotal[r.Keys[1]] += r.Value
			if first || r.Value < lo {
				lo = r.Value
			}
			if first || r.Value > hi {
				hi = r.Value
			}
			first = false
		}
	}
	if d := res.Dims[1]; d.Ordinal() {
		slices.SortStableFunc(colKeys, func(a, b string) int {
			return cmp.Compare(orderIndex(d.Order, a), orderIndex(d.Order, b))
		})
	} else {
		slices.SortStableFunc(colKeys, func(a, b string) int { return cmp.Compare(colTotal[b], colTotal[a]) })
	}

	labelW := 0
	for _, k := range rowKeys {
		labelW = max(labelW, lipgloss.Width(slice.KeyLabel(k)))
	}
	labelW = min(labelW, h.width/3) + 3 // the row marker, and a gap
	colW := 2
	for _, k := range colKeys {
		colW = max(colW, lipgloss.Width(slice.KeyLabel(k)))
	}
	avail := h.width - labelW
	colW = max(2, min(colW, avail/len(colKeys)-1))
	shown := max(1, min(len(colKeys), avail/(colW+1)))
	more := len(colKeys) - shown
	if more > 0 { // room for the "+N" that says columns are cut
		shown = max(1, min(shown, (avail-4)/(colW+1)))
		more = len(colKeys) - shown
	}

	var b strings.Builder
	b.WriteString(strings.Repeat(" ", labelW))
	for _, k := range colKeys[:shown] {
		b.WriteString(fit(slice.KeyLabel(k), colW) + " ")
	}
	if more > 0 {
		b.WriteString(st.Subtle.Render(fmt.Sprintf("+%d", more)))
	}
	rowsRoom := h.height - 2 // the header and the legend
	top = min(max(0, top), max(0, len(rowKeys)-rowsRoom))
	for _, rk := range rowKeys[top:min(len(rowKeys), top+rowsRoom)] {
		mark := "  "
		if rk == marked {
			mark = "▸ "
		}
		b.WriteString("\n" + fit(mark+slice.KeyLabel(rk), labelW))
		for _, ck := range colKeys[:shown] {
			r, ok := cells[[2]string{rk, ck}]
			var cell string
			switch {
			case !ok:
				cell = st.Subtle.Render(fit("·", colW))
			case r.Suppressed:
				cell = st.Withheld.Render(fit("×", colW))
			case !r.Defined():
				cell = st.Subtle.Render(fit("–", colW))
			default:
				band := heatBand(r.Value, lo, hi)
				cell = st.Heat[band].Render(strings.Repeat(heatShades[band], colW))
			}
			b.WriteString(cell + " ")
		}
	}
	b.WriteString("\n" + h.legend(res, lo, hi, st, t))
	h.view = b.String()
}

// heatRows returns the heatmap's rows: the first dimension's values, in
// the order the result first shows them.
func heatRows(res *slice.Result) []string {
	var keys []string
	for _, r := range res.Rows {
		if !slices.Contains(keys, r.Keys[0]) {
			keys = append(keys, r.Keys[0])
		}
	}
	return keys
}

// legend names each band's range, and the marks.
func (h *heatmap) legend(res *slice.Result, lo, hi float64, st styles, t texts) string {
	parts := make([]string, 0, len(heatShades)+2)
	step := (hi - lo) / float64(len(heatShades))
	for i, g := range heatShades {
		upper := lo + step*float64(i+1)
		if i == len(heatShades)-1 {
			upper = hi
		}
		parts = append(parts, st.Heat[i].Render(g)+"≤"+res.Measure.Format(upper))
	}
	parts = append(parts, st.Withheld.Render("×")+" "+t.withheld, st.Subtle.Render("·")+" "+t.nobody)
	return fit(strings.Join(parts, "  "), h.width)
}

// heatBand returns v's band between lo and hi.
func heatBand(v, lo, hi float64) int {
	if hi <= lo {
		return len(heatShades) - 1
	}
	band := int(float64(len(heatShades)) * (v - lo) / (hi - lo))
	return min(max(band, 0), len(heatShades)-1)
}

func orderIndex(order []string, v string) int {
	if i := slices.Index(order, v); i >= 0 {
		return i
	}
	return len(order)
}

// View returns the drawing.
func (h heatmap) View() string { return h.view }
