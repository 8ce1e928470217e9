package guard

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// plan is a query compiled to SQL.
type plan struct {
	sql  string
	args []any
	dims []inventory.Field
	m    inventory.MeasureDef
	base Pop // the people the filters select
	// fields are the measure fields whose values the result adds up
	// (none for a head count); periods, the periods they are summed over
	// (nil: all, or not a series); timeDim, the time dimension's
	// position, whose cells each cover one period (-1: none).
	fields  []string
	periods []int
	timeDim int
	eng     *Engine  // for the SQL of derived dimensions
	derived []string // the derived dimensions the plan uses
	// perturbed: the SQL also returns what the cell key method needs
	// (see perturb.go).
	perturbed bool
}

// column is the SQL of a single-valued dimension's value in a record. A
// derived dimension is a column too, added to the table the first time
// a plan that uses it runs (Engine.ensure).
func (p *plan) column(name string) string {
	if p.eng != nil {
		if _, ok := p.eng.segmentation(name); ok {
			if !slices.Contains(p.derived, name) {
				p.derived = append(p.derived, name)
			}
			return "t." + quote(name) + "::VARCHAR"
		}
	}
	return "t." + quote(name)
}

func (p *plan) param(v any) string {
	p.args = append(p.args, v)
	return "$" + strconv.Itoa(len(p.args))
}

func (p *plan) params(vs []string) string {
	ps := make([]string, len(vs))
	for i, v := range vs {
		ps[i] = p.param(v)
	}
	return strings.Join(ps, ", ")
}

// inFilter keeps rows whose expr is one of vals; the missing value ""
// matches NULL as well as the empty string.
func inFilter(expr string, vals []string, p *plan) string {
	cond := fmt.Sprintf("%s IN (%s)", expr, p.params(vals))
	if slices.Contains(vals, slice.Missing) {
		cond = fmt.Sprintf("(%s OR %s IS NULL)", cond, expr)
	}
	return cond
}

func quote(name string) string { return `"` + name + `"` } // names are ValidIdent-checked

func bad(format string, a ...any) error {
	return fmt.Errorf("%w: %s", slice.ErrQuery, fmt.Sprintf(format, a...))
}

// compile checks q against the inventory and builds its SQL.
func (e *Engine) compile(q slice.Query) (*plan, error) {
	if err := e.knowSegments(q); err != nil {
		return nil, err
	}
	inv := e.Inventory()
	if len(q.Dims) > slice.MaxDims {
		return nil, bad("%d dimensions, at most %d", len(q.Dims), slice.MaxDims)
	}
	if q.TopN < 0 {
		return nil, bad("top-N must not be negative")
	}
	m, ok := inv.Measure(q.Measure)
	if !ok {
		return nil, bad("unknown measure %q", q.Measure)
	}
	p := &plan{m: m, timeDim: -1, eng: e}
	series := inv.Series(m)
	// sum, when set, is the summary the cells are added up from.
	sum, sumTable := e.summ.Load(), ""
	if sum != nil && e.pert.Load() != nil && !sum.keyed {
		sum = nil // built before the cell key method was in force
	}
	if sum != nil {
		if multi, ok := sum.answers(q, inv); !ok {
			sum = nil
		} else if sumTable = sum.table; multi != "" {
			sumTable = sum.multi[multi]
		}
	}

	// where filters the rows the unnested lists and periods make; base
	// filters the records themselves, in a subquery under them: DuckDB
	// does not push a record's filter below a lateral unnest, and
	// filtering after it made a filtered multi-valued slice 25 times
	// slower than an unfiltered one.
	var from, keys, where, base []string
	from = append(from, "") // the records, once base is known
	timeVar := ""           // SQL expression of the period index when time is a dimension
	for i, name := range q.Dims {
		f, ok := inv.Field(name)
		if !ok {
			return nil, bad("unknown dimension %q", name)
		}
		if slices.ContainsFunc(p.dims, func(d inventory.Field) bool { return d.Name == name }) {
			return nil, bad("dimension %q given twice", name)
		}
		switch f.Role {
		case inventory.Dimension:
			// An empty string and NULL are both a missing value: one group.
			keys = append(keys, "nullif("+p.column(f.Name)+", '')")
		case inventory.MultiDimension:
			if sum != nil { // the summary by this dimension's values
				keys = append(keys, "t."+colV)
				break
			}
			alias := fmt.Sprintf("d%d", i)
			// Lists hold distinct values (fetch makes sure: distinctLists), so a
			// person counts once per value.
			from = append(from, fmt.Sprintf("unnest(t.%s) AS %s(v)", quote(f.Name), alias))
			keys = append(keys, alias+".v")
		case inventory.Time:
			if m.Kind != inventory.Count && series != f.Name {
				return nil, bad("measure %q does not vary by %s; remove that dimension or pick a measure with a %s series", m.Name, f.Name, f.Name)
			}
			from = append(from, fmt.Sprintf("range(1, %d) AS tm(i)", len(f.Order)+1))
			timeVar = "tm.i"
			p.timeDim = i
			keys = append(keys, "tm.i")
		default:
			return nil, bad("%q is a %s field, not a dimension", name, f.Role)
		}
		p.dims = append(p.dims, f)
	}

	var periods []int                 // selected period indexes (1-based) when time is filtered
	multiFilter := map[int][]string{} // a sliced multi-valued dimension's filter values
	filterNames := make([]string, 0, len(q.Filters))
	for name := range q.Filters {
		filterNames = append(filterNames, name)
	}
	slices.Sort(filterNames) // stable SQL text for a given query
	for _, name := range filterNames {
		vals := q.Filters[name]
		f, ok := inv.Field(name)
		if !ok {
			return nil, bad("unknown filter dimension %q", name)
		}
		if len(vals) == 0 {
			return nil, bad("filter on %q lists no values", name)
		}
		dimPos := slices.IndexFunc(p.dims, func(d inventory.Field) bool { return d.Name == name })
		switch f.Role {
		case inventory.Dimension:
			base = append(base, inFilter(p.column(name), vals, p))
			p.base = p.base.and(cond{Dim: name, Values: vals})
		case inventory.MultiDimension:
			p.base = p.base.and(cond{Dim: name, Multi: true, Values: vals})
			if dimPos >= 0 {
				multiFilter[dimPos] = vals
				where = append(where, inFilter(fmt.Sprintf("d%d.v", dimPos), vals, p))
			} else {
				base = append(base, fmt.Sprintf("list_has_any(t.%s, [%s])", quote(name), p.params(vals)))
			}
		case inventory.Time:
			if series != f.Name && (m.Kind != inventory.Count || timeVar == "") {
				return nil, bad("measure %q does not vary by %s; remove the %s filter or pick a measure with a %s series", m.Name, f.Name, f.Name, f.Name)
			}
			for _, v := range vals {
				i := slices.Index(f.Order, v)
				if i < 0 {
					return nil, bad("%s %q is not a period of this data (%s … %s)", name, v, f.Order[0], f.Order[len(f.Order)-1])
				}
				periods = append(periods, i+1)
			}
			slices.Sort(periods)
			periods = slices.Compact(periods)
			if timeVar != "" {
				ps := make([]string, len(periods))
				for j, i := range periods {
					ps[j] = p.param(i)
				}
				where = append(where, fmt.Sprintf("%s IN (%s)", timeVar, strings.Join(ps, ", ")))
				periods = nil // applied as a row filter
			}
		default:
			return nil, bad("%q is a %s field and cannot be filtered", name, f.Role)
		}
	}

	holdNames := make([]string, 0, len(q.Holding))
	for name := range q.Holding {
		holdNames = append(holdNames, name)
	}
	slices.Sort(holdNames)
	for _, name := range holdNames {
		vals := q.Holding[name]
		f, ok := inv.Field(name)
		switch {
		case !ok:
			return nil, bad("unknown dimension %q to hold", name)
		case f.Role != inventory.MultiDimension:
			return nil, bad("%q is not a multi-valued dimension: filter it instead", name)
		case len(vals) == 0:
			return nil, bad("holding %q lists no values", name)
		}
		// Each value is a condition of its own: the people hold them all.
		for _, v := range vals {
			p.base = p.base.and(cond{Dim: name, Multi: true, Values: []string{v}})
		}
		for _, v := range vals {
			base = append(base, fmt.Sprintf("list_contains(t.%s, %s)", quote(name), p.param(v)))
		}
	}

	// Each record's inputs are computed once, in a projection under the
	// aggregate, however many aggregates use them.
	var cols []string
	for i, k := range keys {
		cols = append(cols, fmt.Sprintf("%s AS k%d", k, i))
	}
	people, w := "count(*)", "1"
	if wf, ok := inv.WeightField(); ok && sum == nil {
		cols = append(cols, "t."+quote(wf.Name)+" AS w")
		people, w = "sum(w)", "w"
	}
	if sum != nil {
		cols = append(cols, "t."+colN+" AS w")
		people, w = "sum(w)", "w"
	}
	pert := e.pert.Load()
	if pert != nil {
		// The records' keys, or in the summary each group's keys
		// summed: a cell's key is their sum (modulo 2^KeyBits), so it
		// is the same however the cell's people are reached.
		p.perturbed = true
		cols = append(cols, "t."+colKey+" AS rk")
	}
	// summed is a summary column per period, or the column of all.
	summed := func(name string, col func(i, period int) string) string {
		i := sum.fields[name]
		f, _ := inv.Field(name)
		if timeVar == "" || f.Series == "" {
			return "t." + col(i, 0)
		}
		t, _ := inv.Field(f.Series)
		ps := make([]string, len(t.Order))
		for j := range ps {
			ps[j] = "t." + col(i, j+1)
		}
		return "list_value(" + strings.Join(ps, ", ") + ")[" + timeVar + "]"
	}
	input := func(name string) string {
		f, _ := inv.Field(name)
		col := "t." + quote(f.Name)
		switch {
		case sum != nil:
			return summed(name, sumCol)
		case f.Series == "":
			return col
		case timeVar != "":
			return col + "[" + timeVar + "]"
		case periods != nil:
			ps := make([]string, len(periods))
			for j, i := range periods {
				ps[j] = p.param(i)
			}
			return fmt.Sprintf("list_sum(list_select(%s, [%s]))", col, strings.Join(ps, ", "))
		default:
			return "list_sum(" + col + ")"
		}
	}
	if inv.Series(m) != "" && timeVar == "" {
		p.periods = periods
	}
	cx, cy := "0", "0" // each field's contributors, for the difference checks
	if m.Field != "" {
		cols = append(cols, input(m.Field)+" AS x")
		p.fields = append(p.fields, m.Field)
		if sum != nil {
			cols = append(cols, summed(m.Field, nzCol)+" AS xnz")
			if pert != nil {
				cols = append(cols, summed(m.Field, nzKeyCol)+" AS xk", summed(m.Field, topCol)+" AS xt")
			}
		}
	}
	if m.Over != "" {
		cols = append(cols, input(m.Over)+" AS y")
		p.fields = append(p.fields, m.Over)
		if sum != nil {
			cols = append(cols, summed(m.Over, nzCol)+" AS ynz")
			if pert != nil {
				cols = append(cols, summed(m.Over, nzKeyCol)+" AS yk", summed(m.Over, topCol)+" AS yt")
			}
		}
	}
	// nonzero counts the people whose input is not zero: the people a
	// sum, mean or ratio rests on.
	nonzero := func(col string) string {
		if sum != nil {
			return "sum(" + col + "nz)"
		}
		if w == "1" {
			return "count(*) FILTER (WHERE " + col + " <> 0)"
		}
		return "sum(" + w + ") FILTER (WHERE " + col + " <> 0)"
	}
	var value, contrib string
	switch m.Kind {
	case inventory.Count:
		value, contrib = people, people
	case inventory.Sum:
		value, contrib, cx = "sum(x)", nonzero("x"), nonzero("x")
	case inventory.Mean:
		value, contrib, cx = "sum(x)::DOUBLE / "+people, nonzero("x"), nonzero("x")
	case inventory.Ratio:
		value = "sum(x)::DOUBLE / nullif(sum(y), 0)"
		cx, cy = nonzero("x"), nonzero("y")
		contrib = "least(" + cx + ", " + cy + ")"
	case inventory.Share:
		yes := "sum(CASE WHEN x THEN " + w + " ELSE 0 END)"
		if sum != nil {
			yes = "sum(x)" // the summary's people for whom it holds
		}
		value, cx = yes+"::DOUBLE / "+people, yes
		// A rate within k people of 0% or 100% tells about those few.
		contrib = "least(" + yes + ", " + people + " - " + yes + ")"
	}
	// What the cell key method needs of a cell (see perturb.go): its
	// key, and for each measure field the key of its contributors, its
	// largest contribution and its exact sum.
	perturbCols := ""
	if pert != nil {
		ckx, cky, tx, ty, sx, sy := "0", "0", "0", "0", "0", "0"
		keyOf := func(col, summaryCol string) string {
			switch {
			case sum != nil:
				return "sum(" + summaryCol + ")"
			case m.Kind == inventory.Share:
				return "sum(CASE WHEN " + col + " THEN rk ELSE 0 END)"
			}
			return "sum(CASE WHEN " + col + " <> 0 THEN rk ELSE 0 END)"
		}
		top := func(col, summaryCol string) string {
			if sum != nil {
				return "max(" + summaryCol + ")::DOUBLE"
			}
			return "max(abs(" + col + "))::DOUBLE"
		}
		switch m.Kind {
		case inventory.Sum, inventory.Mean:
			ckx, tx, sx = keyOf("x", "xk"), top("x", "xt"), "sum(x)::DOUBLE"
		case inventory.Ratio:
			ckx, tx, sx = keyOf("x", "xk"), top("x", "xt"), "sum(x)::DOUBLE"
			cky, ty, sy = keyOf("y", "yk"), top("y", "yt"), "sum(y)::DOUBLE"
		case inventory.Share:
			ckx = keyOf("x", "xk")
		}
		// Keys are whole numbers below 2^20 held as DOUBLE: DuckDB adds
		// doubles several times faster than it combines integers, and
		// their sums stay exact (below 2^53) for any data that fits in
		// memory. A cell's key is the sum modulo 2^20.
		perturbCols = fmt.Sprintf(", coalesce(sum(rk), 0) AS ck, coalesce(%s, 0) AS ckx, coalesce(%s, 0) AS cky, coalesce(%s, 0) AS tx, coalesce(%s, 0) AS ty, coalesce(%s, 0) AS sx, coalesce(%s, 0) AS sy",
			ckx, cky, tx, ty, sx, sy)
		value = "NULL" // worked out from the above (perturb.go)
	}
	// A record shows up once per value of a sliced multi-valued
	// dimension; weighing each appearance 1/(its values) makes the sum
	// over a line's cells the line's people, counted once each, with no
	// extra scan (see table.distinct).
	var shares []string
	for i, d := range p.dims {
		if d.Role != inventory.MultiDimension {
			continue
		}
		if sum != nil {
			cols = append(cols, fmt.Sprintf("t.%s AS f%d", colS, i))
			shares = append(shares, fmt.Sprintf("sum(f%d) AS s%d", i, i))
			continue
		}
		n := "len(t." + quote(d.Name) + ")"
		if vals, ok := multiFilter[i]; ok {
			n = "len(list_intersect(t." + quote(d.Name) + ", [" + p.params(vals) + "]))"
		}
		cols = append(cols, fmt.Sprintf("%s::DOUBLE / %s AS f%d", w, n, i))
		shares = append(shares, fmt.Sprintf("sum(f%d) AS s%d", i, i))
	}
	if len(cols) == 0 {
		cols = []string{"1 AS one"} // a total of the count measure needs no column
	}

	src := quote(inv.Table)
	if sum != nil {
		src = sumTable
	}
	from[0] = src + " AS t"
	switch {
	case sum != nil && timeVar != "":
		// The summary's groups are added up over the sliced dimension
		// first: a series then multiplies a few rows by its periods, not
		// every group.
		from[0] = sum.grouped(sumTable, p.dims, p.fields, inv, base)
	case len(base) > 0 && len(from) > 1:
		from[0] = fmt.Sprintf("(SELECT * FROM %s AS t WHERE %s) AS t", src, strings.Join(base, " AND "))
	case len(base) > 0:
		where = append(base, where...) // no unnest: a plain filter is pushed down
	}
	var records strings.Builder
	fmt.Fprintf(&records, "SELECT %s FROM %s", strings.Join(cols, ", "), strings.Join(from, ", "))
	if len(where) > 0 {
		records.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	var inner strings.Builder
	inner.WriteString("SELECT ")
	for i := range keys {
		fmt.Fprintf(&inner, "k%d, ", i)
	}
	for _, sh := range shares {
		inner.WriteString(sh + ", ")
	}
	fmt.Fprintf(&inner, "coalesce(%s, 0)::BIGINT AS people, coalesce(%s, 0)::BIGINT AS contrib, coalesce(%s, 0)::BIGINT AS cx, coalesce(%s, 0)::BIGINT AS cy, (%s)::DOUBLE AS value%s FROM (%s)",
		people, contrib, cx, cy, value, perturbCols, records.String())
	if len(keys) > 0 {
		inner.WriteString(" GROUP BY ALL")
	}
	var outer strings.Builder
	outer.WriteString("SELECT ")
	for i := range keys {
		fmt.Fprintf(&outer, "k%d, ", i)
	}
	for i, d := range p.dims {
		if d.Role == inventory.MultiDimension {
			fmt.Fprintf(&outer, "s%d, ", i)
		}
	}
	// The value of a cell too small, or resting on too few people, never
	// leaves DuckDB; head counts do, for the guard to work out which
	// further cells to withhold, and go no further than the guard.
	if pert == nil {
		k := p.param(e.k)
		fmt.Fprintf(&outer, "people, contrib, cx, cy, CASE WHEN people >= %[1]s AND (contrib = 0 OR contrib >= %[1]s) THEN value END FROM (%s)", k, inner.String())
	} else {
		// Perturbed, a cell may reach k with up to D people fewer; the
		// sums of cells that cannot never leave DuckDB.
		low := p.param(e.k - pert.params.D)
		may := fmt.Sprintf("people >= %[1]s AND (contrib = 0 OR contrib >= %[1]s)", low)
		fmt.Fprintf(&outer, "people, contrib, cx, cy, NULL::DOUBLE, ck, ckx, cky, CASE WHEN %[1]s THEN tx END, CASE WHEN %[1]s THEN ty END, CASE WHEN %[1]s THEN sx END, CASE WHEN %[1]s THEN sy END FROM (%[2]s)", may, inner.String())
	}
	p.sql = outer.String()
	return p, nil
}
