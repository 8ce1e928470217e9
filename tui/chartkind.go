package tui

import (
	"slices"

	"github.com/persona-workbench/persona/engine/inventory"
)

// chartKind names a way to draw a slice; saved views keep it.
type chartKind string

const (
	chartBars    chartKind = "bars"    // horizontal bars
	chartColumns chartKind = "columns" // vertical bars
	chartLines   chartKind = "lines"   // a time series, a line per series
	chartHeatmap chartKind = "heatmap" // two dimensions as a shaded grid
	chartGrouped chartKind = "grouped" // two dimensions as grouped bars
	chartStacked chartKind = "stacked" // two dimensions as stacked bars
	chartPercent chartKind = "percent" // stacked, each bar 100% of its margin
	chartCompare chartKind = "compare" // two segments side by side, with the lift
)

// needsTotals reports whether the chart shows margins, which the query
// must then ask for.
func (k chartKind) needsTotals() bool { return k == chartCompare || k == chartPercent }

// label is the chart's name in the interface's language.
func (k chartKind) label(t texts) string {
	switch k {
	case chartColumns:
		return t.chartColumns
	case chartLines:
		return t.chartLines
	case chartHeatmap:
		return t.chartHeatmap
	case chartGrouped:
		return t.chartGrouped
	case chartStacked:
		return t.chartStacked
	case chartPercent:
		return t.chartPercent
	case chartCompare:
		return t.chartCompare
	}
	return t.chartBars
}

// kinds lists the charts that fit the current result, its default
// first: a line for a time series, a heatmap for two dimensions (or the
// comparison when the second has been pinned for it), bars otherwise.
func (s *slicer) kinds() []chartKind {
	if s.res == nil {
		return nil
	}
	timed := slices.ContainsFunc(s.res.Dims, func(d inventory.Field) bool { return d.Role == inventory.Time })
	var out []chartKind
	switch len(s.res.Dims) {
	case 1:
		out = []chartKind{chartBars, chartColumns}
		if timed {
			out = append([]chartKind{chartLines}, out...)
		}
	case 2:
		out = []chartKind{chartHeatmap, chartGrouped, chartStacked, chartPercent}
		if timed {
			out = append([]chartKind{chartLines}, out...)
		}
		if _, _, ok := s.segments(); ok {
			out = append(out, chartCompare)
		}
		if s.kind == chartCompare && slices.Contains(out, chartCompare) {
			out = append([]chartKind{chartCompare}, slices.DeleteFunc(out, func(k chartKind) bool { return k == chartCompare })...)
		}
		out = append(out, chartBars)
	default:
		out = []chartKind{chartBars}
	}
	return out
}

// cycle is the order v steps through the charts in.
var cycle = []chartKind{chartLines, chartHeatmap, chartGrouped, chartStacked, chartPercent, chartCompare, chartBars, chartColumns}

// nextKind is the chart after k, in the fixed order of cycle, among
// those that fit.
func nextKind(fit []chartKind, k chartKind) chartKind {
	at := slices.Index(cycle, k)
	for i := 1; i <= len(cycle); i++ {
		if next := cycle[(at+i)%len(cycle)]; slices.Contains(fit, next) {
			return next
		}
	}
	return k
}

// shownKind is the chart drawn: the chosen one if it fits the result,
// else the result's default.
func (s *slicer) shownKind() chartKind {
	kinds := s.kinds()
	if len(kinds) == 0 {
		return chartBars
	}
	if slices.Contains(kinds, s.kind) {
		return s.kind
	}
	return kinds[0]
}

// segments are the two values a comparison sets side by side; see
// segmentsOf.
func (s *slicer) segments() (a, b string, ok bool) {
	if s.res == nil || len(s.res.Dims) != 2 || len(s.res.Rows) == 0 {
		return "", "", false
	}
	var kept []string
	for _, f := range s.filters {
		if f.dim.Name == s.res.Dims[1].Name {
			kept = f.values
		}
	}
	return segmentsOf(s.res, kept)
}
