package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/table"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/engine/views"
)

// dimensionMsg tells of a dimension the data has gained, such as the
// segments of a segmentation: the slicer lists it from then on.
type dimensionMsg struct{ field inventory.Field }

// sliceResultMsg carries a slice back from the engine. seq ties it to the
// request, so a late answer to an older request is dropped.
type sliceResultMsg struct {
	seq int
	res *slice.Result
	err error
}

type focusArea int

const (
	focusDims focusArea = iota
	focusMeasures
	focusTable
	focusAreas // how many there are
)

// filter is one dimension's accepted values, in the order they were set.
type filter struct {
	dim    inventory.Field
	values []string
}

// slicer is the main screen: dimension list, measure, filters, a bar
// chart and a table of the current slice.
type slicer struct {
	ctx         *shared
	backend     Backend
	summarising bool // Config.Summarise is building
	dims        []inventory.Field
	measures    []inventory.MeasureDef

	cursor, second, measure int // cursor: the first dimension; second: -1 for none
	filters                 []filter
	order                   slice.Order
	top                     int
	focus                   focusArea

	table table.Model
	spin  spinner.Model // turns while a query runs
	chart barChart
	heat  heatmap
	// kind is the chart the analyst chose, shown whenever it fits the
	// result; chartView is the drawing.
	kind      chartKind
	chartView string
	// tableKeys are the dimension values of each table row, which drill
	// down and filter use.
	tableKeys [][]string

	// picker chooses a filter's values (F); picking is set while the
	// values are being fetched.
	picker  picker
	picking *inventory.Field
	pickDim inventory.Field // the dimension the open picker filters
	pickSeq int             // ties the values to their request

	res     *slice.Result
	err     error
	running bool
	seq     int
	cancel  context.CancelFunc

	first tea.Cmd // the first slice's command

	undo, redo []sliceState // slicing steps taken, and undone
	// parent is the state before the drill-down that led here (nil at
	// the top), and crumb the value drilled into: esc goes back up.
	parent *sliceState
	crumb  string

	width, height int
	leftW, rightW int
	chartH        int
	chartTop      int // first result row in the chart
}

func newSlicer(ctx *shared, b Backend) slicer {
	inv := b.Inventory()
	tbl := table.New(table.WithFocused(false))
	ts := table.DefaultStyles()
	ts.Header = ctx.st.Header.Padding(0, 1)
	ts.Cell = lipgloss.NewStyle().Padding(0, 1)
	ts.Selected = ctx.st.Selected
	tbl.SetStyles(ts)
	s := slicer{
		ctx: ctx, backend: b, dims: inv.Dimensions(), measures: inv.Measures,
		second: -1, table: tbl, chart: newBarChart(), spin: spinner.New(spinner.WithSpinner(spinner.MiniDot)),
		picker: newPicker(ctx.st, ctx.lang),
	}
	s.first = s.run()
	return s
}

// sliceState is what a slicing step changes: what u and ctrl+r restore.
type sliceState struct {
	cursor, second, measure int
	filters                 []filter
	order                   slice.Order
	top                     int
	kind                    chartKind
	parent                  *sliceState
	crumb                   string
}

func (s *slicer) state() sliceState {
	fs := make([]filter, len(s.filters))
	for i, f := range s.filters {
		fs[i] = filter{dim: f.dim, values: slices.Clone(f.values)}
	}
	return sliceState{cursor: s.cursor, second: s.second, measure: s.measure, filters: fs, order: s.order, top: s.top, kind: s.kind, parent: s.parent, crumb: s.crumb}
}

// restore puts a state back. The state's filters are copied, so editing
// them later leaves the history alone; the table follows the state's
// chart at once, even before (or without) its query's answer.
func (s *slicer) restore(st sliceState) {
	fs := make([]filter, len(st.filters))
	for i, f := range st.filters {
		fs[i] = filter{dim: f.dim, values: slices.Clone(f.values)}
	}
	s.cursor, s.second, s.measure, s.filters, s.order, s.top = st.cursor, st.second, st.measure, fs, st.order, st.top
	s.kind, s.parent, s.crumb = st.kind, st.parent, st.crumb
	s.refreshTable()
}

// crumbs are the values drilled into, outermost first.
func (s *slicer) crumbs() []string {
	var out []string
	for crumb, parent := s.crumb, s.parent; parent != nil; crumb, parent = parent.crumb, parent.parent {
		out = append(out, crumb)
	}
	slices.Reverse(out)
	return out
}

// savedView describes the current slice as a view to save.
func (s *slicer) savedView() views.View {
	q := s.query()
	return views.View{Dims: q.Dims, Filters: q.Filters, Measure: q.Measure, Order: q.Order.String(), Top: q.TopN, Chart: string(s.shownKind())}
}

// apply shows a saved view, as a slicing step (undo goes back); a view
// naming something this data does not have is refused.
func (s *slicer) apply(v views.View) tea.Cmd {
	st := sliceState{second: -1, top: v.Top, kind: chartKind(v.Chart)}
	stale := func(name string) tea.Cmd {
		s.err = fmt.Errorf(s.ctx.t.viewStale, v.Name, name)
		return nil
	}
	for i, name := range v.Dims {
		j := slices.IndexFunc(s.dims, func(d inventory.Field) bool { return d.Name == name })
		if j < 0 || i > 1 {
			return stale(name)
		}
		if i == 0 {
			st.cursor = j
		} else {
			st.second = j
		}
	}
	st.measure = slices.IndexFunc(s.measures, func(m inventory.MeasureDef) bool { return m.Name == v.Measure })
	if st.measure < 0 {
		return stale(v.Measure)
	}
	names := make([]string, 0, len(v.Filters))
	for name := range v.Filters {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		f, ok := s.backend.Inventory().Field(name)
		if !ok {
			return stale(name)
		}
		st.filters = append(st.filters, filter{dim: f, values: slices.Clone(v.Filters[name])})
	}
	order, err := slice.ParseOrder(v.Order)
	if v.Order != "" && err != nil {
		return stale(v.Order)
	}
	st.order = order
	s.step()
	s.restore(st)
	return s.run()
}

// step records the state before a slicing step, for undo; a new step
// forgets what was undone.
func (s *slicer) step() {
	const most = 100
	s.undo = append(s.undo, s.state())
	if len(s.undo) > most {
		s.undo = s.undo[1:]
	}
	s.redo = nil
}

// Init returns the command of the first slice, started by newSlicer so
// the model already expects its answer.
func (s slicer) Init() tea.Cmd { return s.first }

func (s *slicer) query() slice.Query {
	q := slice.Query{Measure: s.measures[s.measure].Name, Order: s.order, TopN: s.top}
	if len(s.dims) > 0 {
		q.Dims = append(q.Dims, s.dims[s.cursor].Name)
		if s.second >= 0 && s.second != s.cursor {
			q.Dims = append(q.Dims, s.dims[s.second].Name)
			// The charts that show margins ask for them, so they pass
			// the guard with the cells.
			q.Totals = s.kind.needsTotals()
		}
	}
	if len(s.filters) > 0 {
		q.Filters = map[string][]string{}
		for _, f := range s.filters {
			q.Filters[f.dim.Name] = f.values
		}
	}
	return q
}

// say shows a short message on the status bar, as errors show, until
// the next result.
func (s *slicer) say(msg string) { s.err = errors.New(msg) }

// stop cancels the query in flight, if any.
func (s *slicer) stop() {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
}

// run starts the current query in a command; the previous one is
// cancelled.
func (s *slicer) run() tea.Cmd {
	s.stop()
	s.seq++
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.running = true
	seq, q, b := s.seq, s.query(), s.backend
	return tea.Batch(func() tea.Msg {
		res, err := b.Run(ctx, q)
		return sliceResultMsg{seq: seq, res: res, err: err}
	}, s.spin.Tick)
}

// Update handles the screen's messages.
func (s slicer) Update(msg tea.Msg) (slicer, tea.Cmd) {
	switch msg := msg.(type) {
	case sliceResultMsg:
		if msg.seq != s.seq {
			return s, nil
		}
		s.running = false
		s.stop() // release the finished query's context
		if msg.err != nil {
			// Nothing stale stays on screen under the new selection.
			s.err = msg.err
			s.res = nil
			s.table.SetRows(nil)
			return s, nil
		}
		s.err = nil
		s.res = msg.res
		s.refreshTable()
		return s, nil
	case pickerValuesMsg:
		return s.pickerValues(msg), nil
	case dimensionMsg:
		if !slices.ContainsFunc(s.dims, func(d inventory.Field) bool { return d.Name == msg.field.Name }) {
			s.dims = append(s.dims, msg.field)
		}
		return s, nil
	case tea.KeyMsg:
		if s.picker.Active() {
			return s.pick(msg)
		}
		if s.picking != nil {
			// The values are on their way: keys are meant for the
			// picker, so none acts on the slice; esc gives up.
			if key.Matches(msg, s.ctx.keys.Cancel) {
				s.picking = nil
				s.pickSeq++
			}
			return s, nil
		}
		return s.key(msg)
	case spinner.TickMsg:
		if !s.running {
			return s, nil // the spinner stops with the query
		}
		var cmd tea.Cmd
		s.spin, cmd = s.spin.Update(msg)
		return s, cmd
	}
	return s, nil
}

func (s slicer) key(msg tea.KeyMsg) (slicer, tea.Cmd) {
	k := s.ctx.keys
	switch {
	case key.Matches(msg, k.Focus), key.Matches(msg, k.FocusBack):
		step := focusArea(1)
		if key.Matches(msg, k.FocusBack) {
			step = focusAreas - 1
		}
		s.focus = (s.focus + step) % focusAreas
		if s.focus == focusTable {
			s.table.Focus()
		} else {
			s.table.Blur()
		}
		s.markRow()
		return s, nil
	case key.Matches(msg, k.Up), key.Matches(msg, k.Down):
		step := 1
		if key.Matches(msg, k.Up) {
			step = -1
		}
		if s.focus == focusTable {
			if step < 0 {
				s.table.MoveUp(1)
			} else {
				s.table.MoveDown(1)
			}
			s.markRow()
			return s, nil
		}
		if s.focus == focusMeasures {
			before := s.state()
			n := len(s.measures)
			s.measure = (s.measure + step + n) % n
			s.fitMeasure(step)
			if s.measure == before.measure {
				return s, nil
			}
			s.undo, s.redo = append(s.undo, before), nil
			return s, s.run()
		}
		next := s.cursor + step
		if next < 0 || next >= len(s.dims) {
			return s, nil
		}
		s.step()
		s.cursor = next
		s.fitMeasure(1)
		return s, s.run()
	case key.Matches(msg, k.Second):
		// Pin the highlighted dimension as the second one: it stays while
		// the cursor picks the first.
		s.step()
		if s.second == s.cursor {
			s.second = -1
		} else {
			s.second = s.cursor
		}
		s.fitMeasure(1)
		return s, s.run()
	case key.Matches(msg, k.NextMeasure), key.Matches(msg, k.PrevMeasure):
		step := 1
		if key.Matches(msg, k.PrevMeasure) {
			step = -1
		}
		s.step()
		n := len(s.measures)
		s.measure = (s.measure + step + n) % n
		s.fitMeasure(step)
		return s, s.run()
	case key.Matches(msg, k.Filter):
		// Only on a row the analyst sees, never on a result still coming.
		keys := s.rowKeys()
		if s.focus != focusTable || s.running || keys == nil {
			return s, nil
		}
		s.step()
		for i, k := range keys {
			s.setFilter(s.res.Dims[i], k)
		}
		s.fitMeasure(1)
		return s, s.run()
	case key.Matches(msg, k.Drill):
		return s.drill()
	case key.Matches(msg, k.Pick):
		return s.openPicker()
	case key.Matches(msg, k.ClearFilter):
		if len(s.filters) == 0 {
			return s, nil
		}
		s.step()
		s.filters = nil
		return s, s.run()
	case key.Matches(msg, k.Sort):
		s.step()
		s.order = (s.order + 1) % 4
		return s, s.run()
	case key.Matches(msg, k.Undo), key.Matches(msg, k.Redo):
		from, to := &s.undo, &s.redo
		if key.Matches(msg, k.Redo) {
			from, to = &s.redo, &s.undo
		}
		if len(*from) == 0 {
			return s, nil
		}
		*to = append(*to, s.state())
		s.restore((*from)[len(*from)-1])
		*from = (*from)[:len(*from)-1]
		return s, s.run()
	case key.Matches(msg, k.Chart):
		kinds := s.kinds()
		if len(kinds) < 2 {
			return s, nil
		}
		before := s.state()
		s.kind = nextKind(kinds, s.shownKind())
		s.undo, s.redo = append(s.undo, before), nil
		if s.kind.needsTotals() && !s.res.Query.Totals {
			return s, s.run()
		}
		s.refreshTable()
		return s, nil
	case key.Matches(msg, k.Compare):
		// Compare the segments of the highlighted dimension: it becomes
		// the second dimension, and the cursor picks the first.
		s.step()
		if s.second == s.cursor && s.kind == chartCompare {
			s.second, s.kind = -1, ""
		} else {
			s.second, s.kind = s.cursor, chartCompare
		}
		s.fitMeasure(1)
		return s, s.run()
	case key.Matches(msg, k.Top):
		s.step()
		if s.top == 0 {
			s.top = 10
		} else {
			s.top = 0
		}
		return s, s.run()
	case key.Matches(msg, k.Cancel):
		if s.running {
			s.stop()
			s.seq++ // the cancelled query's answer is now stale
			s.running = false
			s.err = errors.New(s.ctx.t.cancelled)
			return s, nil
		}
		if s.parent != nil {
			// Back up one drill, as a step u can undo.
			back := *s.parent
			s.step()
			s.restore(back)
			return s, s.run()
		}
		return s, nil
	}
	return s, nil
}

// setKind shows the chart k, as a step; a chart that does not fit the
// slice is kept for when one does.
func (s *slicer) setKind(k chartKind) tea.Cmd {
	if k == s.kind {
		return nil
	}
	s.step()
	s.kind = k
	if s.res != nil && k.needsTotals() && !s.res.Query.Totals && len(s.res.Dims) == 2 {
		return s.run()
	}
	s.refreshTable()
	return nil
}

// sliceBy makes the named dimension the first one, as a step.
func (s *slicer) sliceBy(name string) tea.Cmd {
	i := slices.IndexFunc(s.dims, func(d inventory.Field) bool { return d.Name == name })
	if i < 0 || i == s.cursor {
		return nil
	}
	s.step()
	s.cursor = i
	s.fitMeasure(1)
	return s.run()
}

// setMeasure shows the named measure, as a step.
func (s *slicer) setMeasure(name string) tea.Cmd {
	i := slices.IndexFunc(s.measures, func(m inventory.MeasureDef) bool { return m.Name == name })
	if i < 0 || i == s.measure {
		return nil
	}
	s.step()
	s.measure = i
	return s.run()
}

// drill filters to the highlighted row's first value and moves the
// first dimension on to the next one worth slicing by; the second
// dimension stays. Esc comes back.
func (s slicer) drill() (slicer, tea.Cmd) {
	keys := s.rowKeys()
	if s.running || len(keys) == 0 {
		return s, nil
	}
	from := s.res.Dims[0]
	before := s.state()
	s.step()
	s.parent, s.crumb = &before, slice.KeyLabel(keys[0])
	s.setFilter(from, keys[0])
	if next := s.nextDim(from); next >= 0 {
		s.cursor = next
	}
	s.fitMeasure(1)
	s.focus = focusTable
	s.table.Focus()
	s.table.SetCursor(0)
	return s, s.run()
}

// rowKeys are the dimension values of the table's current row; nil
// when there is none.
func (s *slicer) rowKeys() []string {
	if s.res == nil || len(s.tableKeys) == 0 {
		return nil
	}
	return s.tableKeys[min(max(0, s.table.Cursor()), len(s.tableKeys)-1)]
}

// nextDim is the dimension after from in the shelf that is neither the
// second one nor filtered, nor another way of naming a place when from
// is one (province to province code says nothing new); -1 if none.
func (s *slicer) nextDim(from inventory.Field) int {
	at := slices.IndexFunc(s.dims, func(d inventory.Field) bool { return d.Name == from.Name })
	for i := 1; i < len(s.dims); i++ {
		j := (at + i) % len(s.dims)
		d := s.dims[j]
		switch {
		case j == s.second, from.Geo != "" && d.Geo != "":
			continue
		case slices.ContainsFunc(s.filters, func(f filter) bool { return f.dim.Name == d.Name }):
			continue
		}
		return j
	}
	return -1
}

// fits reports whether measure i can be shown with the current
// dimensions and filters: with a time dimension or time filter, only
// measures with a series of that time field, or a head count by period.
func (s *slicer) fits(i int) bool {
	inv := s.backend.Inventory()
	m := s.measures[i]
	series := inv.Series(m)
	q := s.query()
	for _, d := range q.Dims {
		if f, _ := inv.Field(d); f.Role == inventory.Time && series != d && m.Kind != inventory.Count {
			return false
		}
	}
	for name := range q.Filters {
		if f, _ := inv.Field(name); f.Role == inventory.Time && series != name &&
			(m.Kind != inventory.Count || !slices.Contains(q.Dims, name)) {
			return false
		}
	}
	return true
}

// fitMeasure moves the measure, in direction step, to the nearest one that
// fits; if none does, it stays and the engine explains why.
func (s *slicer) fitMeasure(step int) {
	n := len(s.measures)
	for i, j := 0, s.measure; i < n; i, j = i+1, (j+step+n)%n {
		if s.fits(j) {
			s.measure = j
			return
		}
	}
}

func (s *slicer) setFilter(d inventory.Field, value string) {
	for i := range s.filters {
		if s.filters[i].dim.Name == d.Name {
			s.filters[i].values = []string{value}
			return
		}
	}
	s.filters = append(s.filters, filter{dim: d, values: []string{value}})
}

// SetSize lays the screen out in w×h cells.
func (s *slicer) SetSize(w, h int) {
	s.width, s.height = w, h
	s.leftW = min(max(w/4, 18), 26)
	s.rightW = max(10, w-s.leftW-1)
	body := max(4, h-2) // header and status lines
	// Right pane: chart title, chart, a blank line, table (with its header).
	s.chartH = max(2, (body-2)/2)
	s.chart.SetSize(s.rightW, s.chartH)
	s.heat.SetSize(s.rightW, s.chartH)
	s.table.SetWidth(s.rightW)
	s.picker.SetSize(s.rightW, body)
	s.table.SetHeight(max(2, body-s.chartH-2))
	s.refreshTable()
}

// refreshTable rebuilds the table's columns and rows from the result.
func (s *slicer) refreshTable() {
	if s.res == nil {
		return
	}
	header, nDims, cells, keys := s.tableCells()
	s.tableKeys = keys
	for _, c := range cells {
		if nDims > 0 {
			c[0] = "  " + c[0] // room for the row marker
		}
	}
	// Number columns are as wide as their widest cell; dimensions share
	// the rest. Every column also takes 2 cells of padding.
	widths := make([]int, len(header))
	numTotal := 0
	for j := nDims; j < len(header); j++ {
		widths[j] = lipgloss.Width(header[j])
		for _, c := range cells {
			widths[j] = max(widths[j], lipgloss.Width(c[j]))
		}
		numTotal += widths[j] + 2
	}
	for j := range nDims {
		widths[j] = max(4, (s.rightW-numTotal)/nDims-2)
	}
	// A pivot drops the columns that do not fit, keeping the first
	// dimension wide enough to read.
	for len(header) > nDims+1 && numTotal+nDims*12 > s.rightW {
		last := len(header) - 1
		numTotal -= widths[last] + 2
		header, widths = header[:last], widths[:last]
		for i := range cells {
			cells[i] = cells[i][:last]
		}
		for j := range nDims {
			widths[j] = max(4, (s.rightW-numTotal)/nDims-2)
		}
	}
	cols := make([]table.Column, len(header))
	for j, h := range header {
		if j >= nDims {
			h = strings.Repeat(" ", max(0, widths[j]-lipgloss.Width(h))) + h
		}
		cols[j] = table.Column{Title: h, Width: widths[j]}
	}
	rows := make([]table.Row, len(cells))
	for i, c := range cells {
		for j := nDims; j < len(c); j++ {
			c[j] = strings.Repeat(" ", max(0, widths[j]-lipgloss.Width(c[j]))) + c[j]
		}
		rows[i] = c
	}
	cur := s.table.Cursor()
	s.table.SetRows(nil) // columns first, so rows never outnumber them; resets the cursor
	s.table.SetColumns(cols)
	s.table.SetRows(rows)
	s.table.SetCursor(min(max(0, cur), max(0, len(rows)-1)))
	s.markRow()
}

// tableCells are the table's header, how many of its columns are
// dimension values, its cells and each row's dimension values: a row per
// result row, or for a comparison a row per first-dimension value with
// both segments, the difference and the lift.
func (s *slicer) tableCells() (header []string, nDims int, cells, keys [][]string) {
	res, lang, t := s.res, s.ctx.lang, s.ctx.t
	if s.shownKind() == chartCompare {
		a, b, _ := s.segments()
		c := compareOf(res, a, b)
		header = []string{res.Dims[0].Label.In(lang), slice.KeyLabel(a), slice.KeyLabel(b), t.diff, t.lift}
		for _, r := range c.rows {
			tx := c.cells(res, r, lang)
			cells = append(cells, []string{slice.KeyLabel(r.key), tx[0], tx[1], tx[2], tx[3]})
			keys = append(keys, []string{r.key})
		}
		return header, 1, cells, keys
	}
	if len(res.Dims) == 2 && s.shownKind() != chartBars {
		return s.pivotCells()
	}
	header, nDims = res.Header(lang), len(res.Dims)
	for _, r := range res.Rows {
		c := res.CellsIn(r, "en")
		if r.Suppressed {
			c[nDims] = res.ReasonText(r.Reason, lang)
			if res.ShowsPeople() {
				c[nDims+1] = ""
			}
		}
		cells = append(cells, c)
		keys = append(keys, r.Keys)
	}
	return header, nDims, cells, keys
}

// pivotCells lay a two-dimension result out as a pivot: a row per
// value of the first dimension, its trend across the second as a
// sparkline, then a column per value of the second (as many as the table
// has room for).
func (s *slicer) pivotCells() (header []string, nDims int, cells, keys [][]string) {
	res, lang := s.res, s.ctx.lang
	cols := chartOrder(res, 1)
	at := map[[2]string]slice.Row{}
	for _, r := range res.Rows {
		at[[2]string{r.Keys[0], r.Keys[1]}] = r
	}
	header = []string{res.Dims[0].Label.In(lang), s.ctx.t.trend}
	for _, c := range cols {
		header = append(header, slice.KeyLabel(c))
	}
	trendW := min(len(cols), 24)
	for _, k := range heatRows(res) {
		vals := make([]float64, len(cols))
		ok := make([]bool, len(cols))
		withheld := make([]bool, len(cols))
		row := []string{slice.KeyLabel(k), ""}
		for j, c := range cols {
			r, has := at[[2]string{k, c}]
			switch {
			case !has:
				row = append(row, "·")
			case r.Suppressed:
				withheld[j] = true
				row = append(row, slice.Mark(r, res.K, lang))
			case !r.Defined():
				row = append(row, "–")
			default:
				vals[j], ok[j] = r.Value, true
				row = append(row, res.Measure.Format(r.Value))
			}
		}
		row[1] = sparkline(vals, ok, withheld, trendW)
		cells = append(cells, row)
		keys = append(keys, []string{k})
	}
	return header, 1, cells, keys
}

// markRow puts a text marker on the table's current row, which the
// selected style alone would not show under NO_COLOR.
func (s *slicer) markRow() {
	rows := s.table.Rows()
	if len(rows) == 0 || s.res == nil || len(s.res.Dims) == 0 {
		s.drawChart()
		return
	}
	cur := s.table.Cursor()
	for i, r := range rows {
		mark := "  "
		if i == cur && s.focus == focusTable {
			mark = "▸ "
		}
		base, ok := strings.CutPrefix(r[0], "▸ ")
		if !ok {
			base = strings.TrimPrefix(r[0], "  ")
		}
		r[0] = mark + base
	}
	s.table.SetRows(rows)
	s.drawChart()
}

// drawChart redraws the chart's window of rows, which follows the
// table's cursor.
func (s *slicer) drawChart() {
	if s.res == nil || len(s.res.Rows) == 0 {
		s.chartView = ""
		return
	}
	// The window scrolls only when the cursor leaves it, as the table's does.
	cur, n := max(0, s.table.Cursor()), len(s.res.Rows)
	switch {
	case cur < s.chartTop:
		s.chartTop = cur
	case cur >= s.chartTop+s.chartH:
		s.chartTop = cur - s.chartH + 1
	}
	s.chartTop = max(0, min(s.chartTop, n-s.chartH))
	marked := -1
	if s.focus == focusTable {
		marked = cur
	}
	st, t, lang := s.ctx.st, s.ctx.t, s.ctx.lang
	switch s.shownKind() {
	case chartHeatmap:
		// The grid has a row per first-dimension value: it follows the
		// cursor's value.
		row := s.rowKeys()
		if row == nil {
			row = s.res.Rows[0].Keys
		}
		at := slices.Index(heatRows(s.res), row[0])
		room := s.chartH - 2
		top := max(0, at-room+1)
		mark := ""
		if marked >= 0 {
			mark = row[0]
		}
		s.heat.Set(s.res, top, mark, st, t)
		s.chartView = s.heat.View()
	case chartCompare:
		a, b, _ := s.segments()
		// Each value takes two lines, under the legend and everyone.
		room := max(1, (s.chartH-2)/2)
		top := max(0, cur-room+1)
		s.chartView = drawCompare(compareOf(s.res, a, b), s.res, s.rightW, s.chartH, top, marked, st, t, lang)
	case chartColumns:
		s.chartView = drawColumns(s.res, s.rightW, s.chartH, marked, st, t)
	case chartLines:
		s.chartView = drawLines(s.res, s.rightW, s.chartH, st, t, lang)
	case chartGrouped:
		s.chartView = drawGrouped(s.res, s.rightW, s.chartH, st, t, lang)
	case chartStacked, chartPercent:
		s.chartView = drawStacked(s.res, s.rightW, s.chartH, s.shownKind() == chartPercent, st, t, lang)
	default:
		s.chart.Set(s.res, s.chartTop, marked, st, t)
		s.chartView = s.chart.View()
	}
}

// View draws the screen.
func (s slicer) View() string {
	st := s.ctx.st
	k := s.backend.K()
	method := ""
	if s.res != nil {
		// Which disclosure control the numbers on screen passed.
		switch {
		case s.res.Method == "perturb" && s.ctx.lang == "zh":
			method = fmt.Sprintf(" · 扰动 ±%d", s.res.Bound)
		case s.res.Method == "perturb":
			method = fmt.Sprintf(" · perturbed ±%d", s.res.Bound)
		case s.res.Method == "suppress" && s.ctx.lang == "zh":
			method = " · 精确"
		case s.res.Method == "suppress":
			method = " · exact"
		}
	}
	header := st.Title.Render(fit(fmt.Sprintf(" Persona Workbench │ %s │ k=%d%s", s.ctx.title, k, method), s.width))
	body := max(4, s.height-2)

	left := s.leftPane(body)
	right := s.rightPane(body)
	sep := st.Pane.Render(strings.TrimSuffix(strings.Repeat("│\n", body), "\n"))
	middle := lipgloss.JoinHorizontal(lipgloss.Top, left, sep, right)
	return header + "\n" + middle + "\n" + s.status()
}

// dimWindow is the part of the dimension list the left pane of height
// h shows: from first, room lines.
func (s slicer) dimWindow(h int) (first, room int) {
	measureLines := 1
	if s.focus == focusMeasures {
		measureLines = len(s.measures)
	}
	room = max(1, h-5-measureLines-max(1, len(s.filters)))
	if s.cursor >= room {
		first = s.cursor - room + 1
	}
	return first, room
}

func (s slicer) leftPane(h int) string {
	st, t := s.ctx.st, s.ctx.t
	lang := s.ctx.lang
	var lines []string
	title := st.Header
	if s.focus == focusDims {
		title = st.Focused
	}
	lines = append(lines, title.Render(t.dimensions))
	// The measure section lists every measure while it has the focus, and
	// only the current one otherwise. The dimension list takes the rest
	// and scrolls to keep the cursor in view.
	first, room := s.dimWindow(h)
	for i := first; i < len(s.dims) && i < first+room; i++ {
		// Marks are text, not only style, so they show under NO_COLOR.
		cur, mark := " ", "  "
		if i == s.cursor && s.focus == focusDims {
			cur = "▸"
		}
		switch {
		case i == s.second && i != s.cursor:
			mark = "2 "
		case i == s.second:
			mark = "1²"
		case i == s.cursor:
			mark = "1 "
		}
		line := fit(cur+mark+s.dims[i].Label.In(lang), s.leftW)
		if i == s.cursor && s.focus == focusDims {
			line = st.Cursor.Render(line)
		} else if i == s.cursor || i == s.second {
			line = st.Selected.Render(line)
		}
		lines = append(lines, line)
	}
	title = st.Header
	if s.focus == focusMeasures {
		title = st.Focused
	}
	lines = append(lines, "", title.Render(t.measure))
	if s.focus == focusMeasures {
		for i, m := range s.measures {
			switch {
			case i == s.measure:
				lines = append(lines, st.Cursor.Render(fit("▸ "+m.Label.In(lang), s.leftW)))
			case !s.fits(i):
				lines = append(lines, st.Subtle.Render(fit("✕ "+m.Label.In(lang), s.leftW)))
			default:
				lines = append(lines, fit("  "+m.Label.In(lang), s.leftW))
			}
		}
	} else {
		lines = append(lines, fit("‹ "+s.measures[s.measure].Label.In(lang)+" ›", s.leftW))
	}
	lines = append(lines, "", st.Header.Render(t.filters))
	if len(s.filters) == 0 {
		lines = append(lines, st.Subtle.Render(t.none))
	}
	for _, f := range s.filters {
		lines = append(lines, fit(f.dim.Label.In(lang)+"="+strings.Join(f.values, ","), s.leftW))
	}
	return block(lines, s.leftW, h)
}

func (s slicer) rightPane(h int) string {
	if s.picker.Active() {
		return block(strings.Split(s.picker.View(), "\n"), s.rightW, h)
	}
	st, t := s.ctx.st, s.ctx.t
	lang := s.ctx.lang
	var lines []string
	var title strings.Builder
	// The title describes what is drawn: the result, not the selection
	// whose answer may still be coming.
	switch {
	case s.res != nil:
		title.WriteString(s.res.Measure.Label.In(lang))
		if len(s.res.Dims) > 0 {
			names := make([]string, len(s.res.Dims))
			for i, d := range s.res.Dims {
				names[i] = d.Label.In(lang)
			}
			title.WriteString(" " + t.by + " " + strings.Join(names, " × "))
		}
	default:
		title.WriteString(s.measures[s.measure].Label.In(lang))
	}
	if kinds := s.kinds(); len(kinds) > 1 {
		// Which chart this is, when v has others.
		title.WriteString(st.Subtle.Render(" · " + s.shownKind().label(t)))
	}
	if crumbs := s.crumbs(); len(crumbs) > 0 {
		// Where the drill-downs led, and the way back.
		title.WriteString(st.Subtle.Render(" ‹ " + strings.Join(crumbs, " › ") + " (esc)"))
	}
	lines = append(lines, st.Header.Render(fit(title.String(), s.rightW)))
	switch {
	case s.res == nil && s.err != nil:
		lines = append(lines, st.Error.Render(fit(firstLine(s.err.Error()), s.rightW)))
	case s.res == nil && s.running:
		lines = append(lines, st.Subtle.Render(t.loading))
	case s.res != nil && len(s.res.Rows) == 0:
		lines = append(lines, st.Subtle.Render(t.noRows))
	case s.res != nil:
		lines = append(lines, strings.Split(s.chartView, "\n")...)
		for len(lines) < s.chartH+1 {
			lines = append(lines, "")
		}
		lines = append(lines, "")
		lines = append(lines, strings.Split(s.table.View(), "\n")...)
	}
	return block(lines, s.rightW, h)
}

func (s slicer) status() string {
	st, t := s.ctx.st, s.ctx.t
	var parts []string
	switch {
	case s.err != nil:
		return st.Error.Render(fit(" "+firstLine(s.err.Error()), s.width))
	case s.running:
		parts = append(parts, s.spin.View()+" "+t.loading)
	case s.res != nil:
		parts = append(parts,
			fmt.Sprintf("%s %d", t.rows, len(s.res.Rows)),
			fmt.Sprintf("%s %d", t.withheld, s.res.Suppressed),
			fmt.Sprintf("%s %s", t.query, s.res.Elapsed.Round(100*time.Microsecond)))
	}
	orders := []string{t.orderAuto, t.orderValueDesc, t.orderValueAsc, t.orderLabel}
	parts = append(parts, orders[s.order])
	if s.top > 0 {
		parts = append(parts, fmt.Sprintf("%s %d", t.top, s.top))
	}
	if s.summarising {
		parts = append(parts, t.summarising)
	}
	return s.ctx.titleBar(st.Status, " "+strings.Join(parts, " · "), s.width)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// block pads or cuts lines to exactly w×h cells.
func block(lines []string, w, h int) string {
	out := make([]string, h)
	for i := range out {
		if i < len(lines) {
			out[i] = fit(lines[i], w)
		} else {
			out[i] = strings.Repeat(" ", w)
		}
	}
	return strings.Join(out, "\n")
}

// ShortHelp implements help.KeyMap.
func (s slicer) ShortHelp() []key.Binding { return s.ctx.keys.ShortHelp() }

// FullHelp implements help.KeyMap.
func (s slicer) FullHelp() [][]key.Binding { return s.ctx.keys.FullHelp() }
