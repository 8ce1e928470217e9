package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// capturing reports whether some field is taking typed keys: a view's
// name, the picker, the compliance confirmation.
func (a App) capturing() bool {
	return a.over == overViews && a.views.capturing() ||
		a.over == overExport && a.exp.capturing() ||
		a.over == overComp && a.comp.capturing() ||
		a.over == overNone && a.slicer.capturing()
}

// bound are the palette's actions that a key also does, by ID.
func (a App) bound() []struct {
	id string
	b  key.Binding
} {
	k := a.ctx.keys
	type entry = struct {
		id string
		b  key.Binding
	}
	return []entry{
		{"drill", k.Drill}, {"back", k.Cancel}, {"filter-row", k.Filter}, {"pick-filter", k.Pick},
		{"clear-filters", k.ClearFilter}, {"second", k.Second}, {"compare", k.Compare},
		{"next-measure", k.NextMeasure}, {"previous-measure", k.PrevMeasure}, {"sort", k.Sort},
		{"top", k.Top}, {"chart", k.Chart}, {"undo", k.Undo}, {"redo", k.Redo},
		{"save-view", k.SaveView}, {"views", k.Views}, {"export", k.Export}, {"analyses", k.Analyses}, {"usage-log", k.UsageLog},
		{"compliance", k.Compliance}, {"next-pane", k.Focus}, {"help", k.Help}, {"lock", k.LockNow}, {"quit", k.Quit},
	}
}

// actions are everything the palette offers: what the keys do, each
// chart, slicing by each dimension and each measure.
func (a App) actions() []paletteAction {
	t, lang := a.ctx.t, a.ctx.lang
	var out []paletteAction
	for _, e := range a.bound() {
		h := e.b.Help()
		out = append(out, paletteAction{ID: e.id, Title: h.Desc, Keys: h.Key})
	}
	for _, k := range []chartKind{chartBars, chartColumns, chartLines, chartHeatmap, chartGrouped, chartStacked, chartPercent, chartCompare} {
		out = append(out, paletteAction{ID: "chart-" + string(k), Title: t.chartPrefix + k.label(t)})
	}
	for _, d := range a.slicer.dims {
		out = append(out, paletteAction{ID: "dim-" + d.Name, Title: t.sliceBy + d.Label.In(lang)})
	}
	for _, m := range a.slicer.measures {
		out = append(out, paletteAction{ID: "measure-" + m.Name, Title: t.measurePrefix + m.Label.In(lang)})
	}
	return out
}

// global are the palette's actions that belong to no one screen.
var global = map[string]bool{
	"save-view": true, "views": true, "export": true, "analyses": true, "usage-log": true, "compliance": true, "help": true, "lock": true, "quit": true,
}

// run does the palette's action id.
func (a App) run(id string) (tea.Model, tea.Cmd) {
	// Actions of the slicer act on the slicer: the screen over it closes
	// first, so a key that means something else there (x removes a
	// saved view) is not taken by it.
	if !global[id] {
		a.over = overNone
		a.layout()
	}
	for _, e := range a.bound() {
		if e.id == id {
			return a.Update(keyOf(e.b))
		}
	}
	var cmd tea.Cmd
	switch {
	case strings.HasPrefix(id, "chart-"):
		cmd = a.slicer.setKind(chartKind(strings.TrimPrefix(id, "chart-")))
	case strings.HasPrefix(id, "dim-"):
		cmd = a.slicer.sliceBy(strings.TrimPrefix(id, "dim-"))
	case strings.HasPrefix(id, "measure-"):
		cmd = a.slicer.setMeasure(strings.TrimPrefix(id, "measure-"))
	}
	return a, cmd
}
