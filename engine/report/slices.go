package report

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/persona-workbench/persona/engine/analysis"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/engine/views"
)

// SliceTable is a guarded slice's result as a table: a column per
// dimension, the measure and, unless the measure is the head count, the
// people; then the totals, margins and other row the query asked for.
func SliceTable(res *slice.Result) Table {
	t := Table{Query: &res.Query}
	for _, d := range res.Dims {
		t.Columns = append(t.Columns, d.Label)
		t.Numeric = append(t.Numeric, false)
	}
	m := res.Measure.Label
	if res.Measure.Unit != "" {
		m.ZH += "（" + res.Measure.Unit + "）"
		m.EN += " (" + res.Measure.Unit + ")"
	}
	t.Columns = append(t.Columns, m)
	t.Numeric = append(t.Numeric, true)
	if res.ShowsPeople() {
		t.Columns = append(t.Columns, res.PeopleLabel)
		t.Numeric = append(t.Numeric, true)
	}
	add := func(row slice.Row, keys []string) {
		cells := append([]string(nil), keys...)
		if row.Suppressed {
			w := mark(row, res.K)
			cells = append(cells, w)
			if res.ShowsPeople() {
				cells = append(cells, w)
			}
		} else {
			cells = append(cells, res.Measure.Format(row.Value))
			if res.ShowsPeople() {
				cells = append(cells, count(row.People))
			}
		}
		held := make([]bool, len(cells))
		for j := len(keys); j < len(cells); j++ {
			held[j] = row.Suppressed
		}
		t.Rows = append(t.Rows, cells)
		t.Withheld = append(t.Withheld, row.Suppressed)
		t.Held = append(t.Held, held)
	}
	for _, row := range res.Rows {
		keys := make([]string, len(row.Keys))
		for i, k := range row.Keys {
			keys[i] = slice.KeyLabel(k)
		}
		add(row, keys)
	}
	for _, x := range res.Extras() {
		keys := make([]string, len(x.Row.Keys))
		for i, k := range x.Row.Keys {
			switch {
			case !x.Summed[i]:
				keys[i] = slice.KeyLabel(k)
			case x.Kind == "other":
				keys[i] = "其他 · Other"
			default:
				keys[i] = "合计 · Total"
			}
		}
		add(x.Row, keys)
	}
	return t
}

// SliceChart draws a guarded slice: a line over time, bars for one
// dimension (horizontal when there are many values), a heatmap for two.
// Withheld and undefined values are left out. ok is false when there is
// nothing to draw.
func SliceChart(res *slice.Result) (Chart, bool) {
	m := res.Measure
	c := Chart{Title: m.Label, Axis: m.Label, Percent: m.Percent}
	switch len(res.Dims) {
	case 1:
		c.Kind = Bars
		if res.Dims[0].Role == inventory.Time {
			c.Kind = Line
		}
		drawn := 0
		for _, row := range res.Rows {
			switch {
			case row.Defined():
				c.Labels = append(c.Labels, slice.KeyLabel(row.Keys[0]))
				c.Values = append(c.Values, row.Value)
				drawn++
			case c.Kind == Line: // a gap in the line, not a shorter axis
				c.Labels = append(c.Labels, slice.KeyLabel(row.Keys[0]))
				c.Values = append(c.Values, math.NaN())
			}
		}
		if c.Kind == Bars && (len(c.Labels) > 8 || longest(c.Labels) > 6) {
			c.Kind = HBars
		}
		return c, drawn > 0
	case 2:
		c.Kind = Heatmap
		ri, ci := map[string]int{}, map[string]int{}
		for _, row := range res.Rows {
			r, col := slice.KeyLabel(row.Keys[0]), slice.KeyLabel(row.Keys[1])
			if _, ok := ri[r]; !ok {
				ri[r] = len(c.Rows)
				c.Rows = append(c.Rows, r)
			}
			if _, ok := ci[col]; !ok {
				ci[col] = len(c.Labels)
				c.Labels = append(c.Labels, col)
			}
		}
		c.Grid = make([][]float64, len(c.Rows))
		for i := range c.Grid {
			c.Grid[i] = make([]float64, len(c.Labels))
			for j := range c.Grid[i] {
				c.Grid[i][j] = math.NaN()
			}
		}
		drawn := 0
		for _, row := range res.Rows {
			if row.Defined() {
				c.Grid[ri[slice.KeyLabel(row.Keys[0])]][ci[slice.KeyLabel(row.Keys[1])]] = row.Value
				drawn++
			}
		}
		c.Title = label(res.Dims[0].Label.ZH+" × "+res.Dims[1].Label.ZH+"："+m.Label.ZH, res.Dims[0].Label.EN+" × "+res.Dims[1].Label.EN+": "+m.Label.EN)
		return c, drawn > 0
	}
	return c, false
}

func longest(ls []string) int {
	n := 0
	for _, l := range ls {
		n = max(n, len([]rune(l)))
	}
	return n
}

// ViewQuery is the slice a saved view asks for.
func ViewQuery(v views.View) slice.Query {
	order, err := slice.ParseOrder(v.Order)
	if err != nil {
		order = slice.Auto
	}
	return slice.Query{Dims: v.Dims, Filters: v.Filters, Measure: v.Measure, Order: order, TopN: v.Top}
}

// Views runs each saved view through r and makes it a section: its
// filters in words, its table and its chart. progress, if set, is told
// how many views are done.
func Views(ctx context.Context, r analysis.Runner, vs []views.View, progress func(done, total int)) ([]Section, error) {
	var out []Section
	for i, v := range vs {
		res, err := r.Run(ctx, ViewQuery(v))
		if err != nil {
			return nil, fmt.Errorf("view %q: %w", v.Name, err)
		}
		s := Section{ID: fmt.Sprintf("view-%d", i+1), Title: label(v.Name, v.Name), Tables: []Table{SliceTable(res)}}
		s.Lead = describe(r.Inventory(), res)
		if c, ok := SliceChart(res); ok {
			s.Charts = append(s.Charts, c)
		}
		if res.Suppressed > 0 {
			s.Notes = append(s.Notes, withheldNote(res.Suppressed, res.K))
		}
		out = append(out, s)
		if progress != nil {
			progress(i+1, len(vs))
		}
	}
	return out, nil
}

// describe says what a slice shows: the measure, by what, among whom.
func describe(inv *inventory.Inventory, res *slice.Result) inventory.Label {
	var zh, en []string
	for _, d := range res.Dims {
		zh, en = append(zh, d.Label.ZH), append(en, d.Label.EN)
	}
	l := label(res.Measure.Label.ZH, res.Measure.Label.EN)
	if len(zh) > 0 {
		l.ZH += "，按" + strings.Join(zh, "、")
		l.EN += " by " + strings.Join(en, " and ")
	}
	var fz, fe []string
	for _, name := range slices.Sorted(maps.Keys(res.Query.Filters)) {
		f, ok := inv.Field(name)
		lab := label(name, name)
		if ok {
			lab = f.Label
		}
		vals := strings.Join(res.Query.Filters[name], "、")
		fz, fe = append(fz, lab.ZH+"="+vals), append(fe, lab.EN+" = "+vals)
	}
	if len(fz) > 0 {
		l.ZH += "；范围：" + strings.Join(fz, "；")
		l.EN += "; among " + strings.Join(fe, "; ")
	}
	l.ZH += "。"
	l.EN += "."
	return l
}

func withheldNote(n, k int) inventory.Label {
	return label(fmt.Sprintf("隐私保护隐藏了 %d 行：少于 %d 人，或可由其他数字推算出少于 %d 人的群体。", n, k, k),
		fmt.Sprintf("The privacy guard withheld %d rows: fewer than %d people, or numbers from which a group of fewer than %d could be worked out.", n, k, k))
}
