package guard

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

type regKind uint8

const (
	regCell      regKind = iota // released cells with this population
	regRemainder                // what a line's withheld cells hold together
	regLine                     // a line all of whose cells are released: their sum
	regProtected                // a line whose total would give a withheld cell away
)

// reg is a population whose size a release gives away, or (protected)
// must never be given away; with a field, the contributions to a sum of
// that field (see Entry).
type reg struct {
	pop       Pop
	field     string
	periods   []int
	people    int64 // the people, or with a field the contributors
	kind      regKind
	protected bool
	// strict regs may not match a known population at all (a line
	// total that must stay unknown): checked even when equal.
	strict bool
	cells  []*cell // regCell: the cells; the line's otherwise
	key    string  // entry().key(), set by registrations
}

func (r reg) entry() Entry {
	return Entry{Pop: r.pop, Field: r.field, Periods: r.periods, People: r.people, Protected: r.protected, cached: r.key}
}

// contributors returns c's contributors to field i of the measure.
func contributors(c *cell, i int) int64 {
	if i == 0 {
		return c.cx
	}
	return c.cy
}

// registrations lists what the tables, as they stand, give away.
func registrations(tables []*table) []reg {
	var regs []reg
	for _, t := range tables {
		seen := map[string]int{}
		add := func(r reg, c *cell) {
			key := r.entry().key()
			r.key = key
			if i, ok := seen[key]; ok {
				if c != nil {
					regs[i].cells = append(regs[i].cells, c)
				}
				return
			}
			seen[key] = len(regs)
			regs = append(regs, r)
		}
		for _, c := range t.cells {
			if c.withheld() || c.pop.Empty {
				continue
			}
			add(reg{pop: c.pop, people: c.people, kind: regCell, cells: []*cell{c}}, c)
			for i, f := range t.fields {
				add(reg{pop: c.pop, field: f, periods: t.cellPeriods(c), people: contributors(c, i), kind: regCell, cells: []*cell{c}}, c)
			}
		}
		for _, l := range t.lines {
			var w []*cell
			var wPeople, all int64
			wContrib, allContrib := make([]int64, len(t.fields)), make([]int64, len(t.fields))
			for _, c := range l.cells {
				all += c.people
				for i := range t.fields {
					allContrib[i] += contributors(c, i)
				}
				if c.withheld() {
					w = append(w, c)
					wPeople += c.people
					for i := range t.fields {
						wContrib[i] += contributors(c, i)
					}
				}
			}
			// Sums of people, and of contributions, are populations only
			// along a single-valued dimension other than time: cells of a
			// multi-valued dimension overlap, and those of the time
			// dimension share their people.
			additive := l.dim >= 0 && t.dims[l.dim].Role == inventory.Dimension
			if l.dim < 0 {
				additive = t.dims[0].Role == inventory.Dimension && t.dims[1].Role == inventory.Dimension
			}
			if !additive {
				continue
			}
			periods := t.periods
			if len(l.cells) > 0 {
				periods = t.cellPeriods(l.cells[0])
			}
			values := func(pop Pop, counts []int64, kind regKind) {
				for i, f := range t.fields {
					add(reg{pop: pop, field: f, periods: periods, people: counts[i], kind: kind, cells: l.cells}, nil)
				}
			}
			switch {
			case len(w) == 0:
				add(reg{pop: l.base, people: all, kind: regLine, cells: l.cells}, nil)
				values(l.base, allContrib, regLine)
			case len(w) < len(l.cells) && l.dim >= 0:
				keys := make([]string, len(w))
				for i, c := range w {
					keys[i] = c.keys[l.dim]
				}
				pop := l.base.and(cond{Dim: t.dims[l.dim].Name, Values: keys})
				add(reg{pop: pop, people: wPeople, kind: regRemainder, cells: l.cells}, nil)
				values(pop, wContrib, regRemainder)
			case len(w) < len(l.cells):
				// The whole table's withheld cells together: the grand
				// total less every released cell.
				pop := l.base
				for _, c := range w {
					pop.Or = append(pop.Or, []cond{{Dim: t.dims[0].Name, Values: []string{c.keys[0]}}, {Dim: t.dims[1].Name, Values: []string{c.keys[1]}}})
				}
				slices.SortFunc(pop.Or, func(a, b []cond) int { return slices.CompareFunc(a, b, condLess) })
				add(reg{pop: pop, people: wPeople, kind: regRemainder, cells: l.cells}, nil)
				values(pop, wContrib, regRemainder)
			}
		}
		for _, l := range t.unsafe {
			var all int64
			for _, c := range l.cells {
				all += c.people
			}
			r := reg{pop: l.base, people: all, kind: regProtected, protected: true, cells: l.cells}
			r.key = r.entry().key()
			regs = append(regs, r)
		}
	}
	return regs
}

// protect withholds cells until nothing the tables give away differs
// from a known population, or from another one they give away, by fewer
// than k people. It returns what the tables then give away.
func (e *Engine) protect(ctx context.Context, tables []*table) ([]reg, error) {
	// Each round withholds or masks at least one more cell, so the loop
	// ends; the cap is a safeguard against a bug, failing closed.
	limit := 8
	for _, t := range tables {
		limit += 2 * len(t.cells)
	}
	for round := 0; ; round++ {
		if round > limit {
			return nil, fmt.Errorf("privacy guard: no safe release found after %d rounds; the result is withheld", round)
		}
		regs := registrations(tables)
		// A line whose withheld cells only its total would give away
		// must not have that total known already. If it has, its
		// cells' reasons are masked: they no longer tell which cell is
		// small.
		var exposed []reg
		for _, r := range regs {
			if r.kind == regProtected {
				x := r
				x.protected, x.strict = false, true
				exposed = append(exposed, x)
			}
		}
		known, err := e.differences(ctx, exposed, nil)
		if err != nil {
			return nil, err
		}
		masked := false
		for _, i := range known {
			masked = mask(exposed[i].cells) || masked
		}
		if masked {
			for _, t := range tables {
				t.unsafe = t.secondary()
			}
			continue
		}
		bad, err := e.differences(ctx, regs, nil)
		if err != nil {
			return nil, err
		}
		if len(bad) == 0 {
			return regs, nil
		}
		for _, i := range bad {
			withholdFor(regs[i])
		}
		for _, t := range tables {
			t.unsafe = t.secondary()
		}
	}
}

// mask gives every withheld cell of cells the reason Difference, which
// says nothing of a cell's size; it reports whether any changed.
func mask(cells []*cell) bool {
	changed := false
	for _, c := range cells {
		if c.withheld() && c.reason != slice.Difference {
			c.reason = slice.Difference
			changed = true
		}
	}
	return changed
}

// withholdFor withholds what gives r's population away.
func withholdFor(r reg) {
	switch r.kind {
	case regCell:
		for _, c := range r.cells {
			c.reason = slice.Difference
		}
	case regRemainder, regLine:
		// The line's sum or remainder changes, and secondary
		// suppression follows.
		if c := smallestShown(r.cells); c != nil {
			c.reason = slice.Difference
		}
	}
}

// differences returns the indexes of regs (other than protected ones)
// that come within k people of a known population, of an earlier reg, or
// of one in also (which are checked against, never returned). People are
// compared with people, and contributions with contributions to the same
// field.
func (e *Engine) differences(ctx context.Context, regs []reg, also []reg) ([]int, error) {
	k := int64(e.k)
	type pair struct {
		i     int
		other Entry
	}
	var pending []pair
	var bad []int
	flagged := map[int]bool{}
	flag := func(i int) {
		if !flagged[i] {
			flagged[i] = true
			bad = append(bad, i)
		}
	}
	// decide settles a pair from the conditions alone when it can.
	decide := func(i int, o Entry) {
		r := regs[i]
		if r.field != o.Field {
			return
		}
		strict := o.Protected || r.strict
		if r.field != "" && !slices.Equal(r.periods, o.Periods) {
			// The same people over other periods: only the data can
			// tell how many contribute differently.
			pending = append(pending, pair{i, o})
			return
		}
		var diff int64
		switch {
		case r.entry().key() == o.key():
			diff = 0
		case disjoint(r.pop, o.Pop):
			diff = r.people + o.People
		case within(r.pop, o.Pop):
			diff = o.People - r.people
		case within(o.Pop, r.pop):
			diff = r.people - o.People
		default:
			pending = append(pending, pair{i, o})
			return
		}
		if risky(diff, k, strict) {
			flag(i)
		}
	}
	var earlier []reg
	earlier = append(earlier, also...)
	for i, r := range regs {
		if r.protected || (r.people == 0 && !r.strict) {
			earlier = append(earlier, r)
			continue
		}
		for _, o := range e.near(r.people) {
			decide(i, o)
		}
		for _, o := range earlier {
			if abs(o.people-r.people) < k {
				decide(i, o.entry())
			}
		}
		earlier = append(earlier, r)
	}
	if len(pending) == 0 {
		return bad, nil
	}
	ps := make([][2]Entry, len(pending))
	for j, p := range pending {
		ps[j] = [2]Entry{regs[p.i].entry(), p.other}
	}
	diffs, err := e.counted(ctx, ps)
	if err != nil {
		return nil, err
	}
	for j, p := range pending {
		if risky(diffs[j], k, p.other.Protected || regs[p.i].strict) {
			flag(p.i)
		}
	}
	slices.Sort(bad)
	return bad, nil
}

// risky: two populations that differ by more than 0 and fewer than k
// people give that small group away; a protected one may not be matched
// at all.
func risky(diff, k int64, protected bool) bool {
	if protected {
		return diff < k
	}
	return diff > 0 && diff < k
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// counted returns, for each pair, how many people differ between them:
// for populations, those in one but not the other; for contributions,
// those whose contribution differs. It counts in one scan, remembering
// the answers: the data never changes while open.
func (e *Engine) counted(ctx context.Context, pairs [][2]Entry) ([]int64, error) {
	out := make([]int64, len(pairs))
	var todo []int
	for i, p := range pairs {
		if n, ok := e.inter[pairKey(p)]; ok {
			out[i] = n
		} else {
			todo = append(todo, i)
		}
	}
	count := "count(*)"
	inv := e.Inventory()
	// A data set loaded with some columns holds those its history named
	// when it was opened; one added since cannot be counted here.
	var missing string
	for _, i := range todo {
		for _, en := range pairs[i] {
			en.fields(func(name string) {
				if _, ok := inv.Field(name); !ok && missing == "" && !strings.HasPrefix(name, slice.SegmentPrefix) {
					missing = name
				}
			})
		}
	}
	if missing != "" {
		return nil, fmt.Errorf("check differences: the release history now refers to %q, which this query did not load; run it again", missing)
	}
	if w, ok := inv.WeightField(); ok {
		count = "sum(t." + quote(w.Name) + ")"
	}
	// Pairs the summary covers are counted from it: a population's
	// people, or contributors to one field over the same periods, in one
	// of the two and not the other.
	var fromSummary, fromRecords []int
	sum := e.summ.Load()
	for _, i := range todo {
		a, o := pairs[i][0], pairs[i][1]
		if sum != nil && sum.coversEntry(a) && sum.coversEntry(o) && a.Field == o.Field && slices.Equal(a.Periods, o.Periods) {
			fromSummary = append(fromSummary, i)
		} else {
			fromRecords = append(fromRecords, i)
		}
	}
	if len(fromSummary) > 0 {
		contributors := func(en Entry) string {
			if en.Field == "" {
				return "sum(t." + colN + ")"
			}
			return "sum(" + sum.contributors(en.Field, en.Periods) + ")"
		}
		if err := e.countPairs(ctx, pairs, fromSummary, sum.table, "", contributors, out); err != nil {
			return nil, err
		}
	}
	if err := e.countPairs(ctx, pairs, fromRecords, quote(inv.Table), count, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}

// countPairs counts the pairs todo of pairs in table, in batches of
// aggregates over one scan each, into out and the engine's cache. With
// summed, table is the summary and summed(a) adds up what differs in a
// row of it; otherwise count counts the records that differ.
func (e *Engine) countPairs(ctx context.Context, pairs [][2]Entry, todo []int, table, count string, summed func(Entry) string, out []int64) error {
	const batch = 256 // aggregates per scan
	for len(todo) > 0 {
		n := min(batch, len(todo))
		pl := &plan{eng: e}
		var b strings.Builder
		b.WriteString("SELECT ")
		for j, i := range todo[:n] {
			if j > 0 {
				b.WriteString(", ")
			}
			a, o := pairs[i][0], pairs[i][1]
			var differ, what string
			switch {
			case summed != nil || a.Field == "":
				// In one population and not the other.
				differ = fmt.Sprintf("coalesce(%s, false) <> coalesce(%s, false)", a.Pop.sql(pl), o.Pop.sql(pl))
				what = count
				if summed != nil {
					what = summed(a)
				}
			default:
				differ = fmt.Sprintf("coalesce(CASE WHEN %s THEN %s END, 0) <> coalesce(CASE WHEN %s THEN %s END, 0)",
					a.Pop.sql(pl), e.contribution(a.Field, a.Periods, pl), o.Pop.sql(pl), e.contribution(o.Field, o.Periods, pl))
				what = count
			}
			fmt.Fprintf(&b, "coalesce(%s FILTER (WHERE %s), 0)::BIGINT", what, differ)
		}
		fmt.Fprintf(&b, " FROM %s AS t", table)
		if err := e.ensure(ctx, pl.derived); err != nil {
			return err
		}
		rows, err := e.db.QueryContext(ctx, b.String(), pl.args...)
		if err != nil {
			return fmt.Errorf("check differences: %w", err)
		}
		vals := make([]int64, n)
		dest := make([]any, n)
		for j := range vals {
			dest[j] = &vals[j]
		}
		if rows.Next() {
			err = rows.Scan(dest...)
		}
		if err == nil {
			err = rows.Err()
		}
		rows.Close()
		if err != nil {
			return fmt.Errorf("check differences: %w", err)
		}
		for j, i := range todo[:n] {
			out[i] = vals[j]
			e.inter[pairKey(pairs[i])] = vals[j]
		}
		todo = todo[n:]
	}
	return nil
}

// contribution is a record's contribution to a sum of field over
// periods, as a number.
func (e *Engine) contribution(field string, periods []int, pl *plan) string {
	f, _ := e.Inventory().Field(field)
	col := "t." + quote(f.Name)
	switch {
	case f.Type == "BOOLEAN":
		return "CASE WHEN " + col + " THEN 1 ELSE 0 END"
	case f.Series == "":
		return col
	case len(periods) == 0:
		return "list_sum(" + col + ")"
	}
	ps := make([]string, len(periods))
	for j, i := range periods {
		ps[j] = pl.param(i)
	}
	return fmt.Sprintf("list_sum(list_select(%s, [%s]))", col, strings.Join(ps, ", "))
}

func pairKey(p [2]Entry) [2]string {
	a, b := p[0].key(), p[1].key()
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// other computes the row that sums up the released rows a top-N left
// out, and withholds it if it is too small or comes within k people of a
// known population or of one this release gives away.
func (e *Engine) other(ctx context.Context, q slice.Query, p *plan, main *table, all, shown []slice.Row, regs []reg) (*cell, []reg, error) {
	var cut []string
	for _, r := range all {
		if r.Suppressed {
			continue
		}
		if !slices.ContainsFunc(shown, func(s slice.Row) bool { return s.Keys[0] == r.Keys[0] }) {
			cut = append(cut, r.Keys[0])
		}
	}
	if len(cut) == 0 {
		return nil, nil, nil
	}
	d := p.dims[0]
	oq := slice.Query{Measure: q.Measure, Filters: map[string][]string{}, Holding: q.Holding}
	for name, vals := range q.Filters {
		oq.Filters[name] = vals
	}
	oq.Filters[d.Name] = cut
	op, err := e.compile(oq)
	if err != nil {
		return nil, nil, fmt.Errorf("other row: %w", err)
	}
	t, err := e.table(ctx, op)
	if err != nil {
		return nil, nil, err
	}
	if len(t.cells) != 1 {
		return nil, nil, nil
	}
	c := t.cells[0]
	if c.withheld() || e.pert.Load() != nil {
		return c, nil, nil
	}
	r := registrations([]*table{t})
	bad, err := e.differences(ctx, r, regs)
	if err != nil {
		return nil, nil, err
	}
	if len(bad) > 0 {
		c.reason = slice.Difference
		return c, nil, nil
	}
	return c, r, nil
}
