package guard

import (
	"cmp"
	"database/sql"
	"errors"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/convex/lp"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// cell is one cell of a slice as the guard sees it. people and contrib
// never leave the guard unless the cell is released.
type cell struct {
	keys    []string
	people  int64
	contrib int64 // people the value rests on (see compile)
	cx, cy  int64 // people with a non-zero value of each measure field
	// share[i], for a multi-valued dimension i, is the cell's people
	// counted 1/(values held) each: summed along the dimension, the
	// line's people once each.
	share  []float64
	value  sql.NullFloat64
	reason slice.Reason // what is shown
	small  bool         // withheld by the first two rules: what the rest protects
	pop    Pop
	ck     *cellKeys // what the cell key method needs (perturb.go)
}

func (c *cell) withheld() bool { return c.reason != slice.Shown }

// sensitive cells are the ones the rules protect: too small, or with a
// value resting on too few people. Their reason may be masked.
func (c *cell) sensitive() bool { return c.small }

// line is a set of cells whose total is known, or can be had from
// another query: a whole one-dimensional slice, or a row, a column or the
// whole of a two-dimensional one. Lines along a multi-valued dimension do
// not add up (a person counts in several cells), but are treated as if
// they did: that withholds more, never less.
type line struct {
	cells []*cell
	dim   int // the dimension the line runs along; -1 for a 2-D table's grand line
	base  Pop // the people of the whole line
	// known: the total could be had. A total below k is withheld
	// wherever it would be shown; a row or column total of a
	// two-dimension slice counts as known only if the slice of that
	// dimension alone would release it (after its own complementary
	// suppression), since that is where it would come from.
	known bool
	// distinct, for a line along a multi-valued dimension, counts its
	// people once each (0: not counted).
	distinct int64
}

// table is a slice's cells with the lines they add up along.
type table struct {
	dims  []inventory.Field
	cells []*cell
	lines []line
	k     int64
	// unsafe lines could not be made safe: their totals are protected.
	unsafe []line
	base   Pop // the people the filters select
	// What the values add up (see plan).
	fields  []string
	periods []int
	timeDim int
}

// cellPeriods returns the periods c's value is summed over.
func (t *table) cellPeriods(c *cell) []int {
	if t.timeDim < 0 {
		return t.periods
	}
	return []int{slices.Index(t.dims[t.timeDim].Order, c.keys[t.timeDim]) + 1}
}

func newTable(dims []inventory.Field, cells []*cell, base Pop, k int) *table {
	t := &table{dims: dims, cells: cells, k: int64(k), timeDim: -1, base: base}
	for _, c := range cells {
		c.pop = base
		for i, d := range dims {
			switch d.Role {
			case inventory.Dimension:
				c.pop = c.pop.and(cond{Dim: d.Name, Values: []string{c.keys[i]}})
			case inventory.MultiDimension:
				c.pop = c.pop.and(cond{Dim: d.Name, Multi: true, Values: []string{c.keys[i]}})
			}
		}
	}
	switch len(dims) {
	case 1:
		t.lines = []line{{cells: cells, dim: 0, base: base}}
	case 2:
		for along := range 2 {
			fixed := 1 - along
			groups := map[string][]*cell{}
			var order []string
			for _, c := range cells {
				key := c.keys[fixed]
				if _, ok := groups[key]; !ok {
					order = append(order, key)
				}
				groups[key] = append(groups[key], c)
			}
			for _, key := range order {
				lb := base
				switch d := dims[fixed]; d.Role {
				case inventory.Dimension:
					lb = lb.and(cond{Dim: d.Name, Values: []string{key}})
				case inventory.MultiDimension:
					lb = lb.and(cond{Dim: d.Name, Multi: true, Values: []string{key}})
				}
				t.lines = append(t.lines, line{cells: groups[key], dim: along, base: lb})
			}
		}
		t.lines = append(t.lines, line{cells: cells, dim: -1, base: base})
	}
	t.markKnown()
	for i, l := range t.lines {
		if l.dim >= 0 && dims[l.dim].Role == inventory.MultiDimension {
			var n float64
			for _, c := range l.cells {
				n += c.share[l.dim]
			}
			t.lines[i].distinct = int64(math.Round(n))
		}
	}
	return t
}

// primary withholds the cells behind fewer than k people, and those
// whose value rests on fewer than k of them.
func (t *table) primary() {
	for _, c := range t.cells {
		switch {
		case c.people < t.k:
			c.reason, c.small = slice.FewPeople, true
		case c.contrib > 0 && c.contrib < t.k:
			c.reason, c.small = slice.FewContributors, true
		}
	}
}

// smaller orders cells for secondary suppression: the least information
// lost first (fewest people, then fewest contributors), ties by key so
// the choice is the same every time.
func smaller(a, b *cell) int {
	if c := cmp.Compare(a.people, b.people); c != 0 {
		return c
	}
	if c := cmp.Compare(a.contrib, b.contrib); c != 0 {
		return c
	}
	return strings.Compare(strings.Join(a.keys, "\x00"), strings.Join(b.keys, "\x00"))
}

// smallestShown returns the smallest released cell of cells, or nil.
func smallestShown(cells []*cell) *cell {
	var best *cell
	for _, c := range cells {
		if !c.withheld() && (best == nil || smaller(c, best) < 0) {
			best = c
		}
	}
	return best
}

// safe reports whether the withheld cells of l stay hidden when l's
// total is known:
//   - a lone withheld cell is its total less the others: at least two;
//   - their sum is a group of its own, and must reach k people, with a
//     value resting on no fewer than k of them;
//   - knowing what the reasons tell of each withheld cell's size (see
//     bounds), the sum must leave each small cell more than one possible
//     size;
//   - along a multi-valued dimension with every cell shown, the sum less
//     the line's people must not be 1 to k-1 (a handful holding two
//     values).
func (t *table) safe(l line) bool {
	if !t.knowable(l) {
		return true
	}
	if l.distinct > 0 && !slices.ContainsFunc(l.cells, (*cell).withheld) {
		// All shown: the sum less the people counts the values held
		// beyond a first, which must not come from a handful of people.
		var sum int64
		for _, c := range l.cells {
			sum += c.people
		}
		if extra := sum - l.distinct; extra > 0 && extra < t.k {
			return false
		}
	}
	var w []*cell
	sensitive := false
	for _, c := range l.cells {
		if c.withheld() {
			w = append(w, c)
			sensitive = sensitive || c.sensitive()
		}
	}
	if !sensitive {
		return true
	}
	if len(w) < 2 {
		return false
	}
	var people, contrib int64
	for _, c := range w {
		people += c.people
		contrib += c.contrib
	}
	if people < t.k || (contrib > 0 && contrib < t.k) {
		return false
	}
	lo, hi := t.bounds(w)
	for i, c := range w {
		if c.people >= t.k {
			continue // its size is no secret
		}
		// The range the sum leaves for c, given the others' bounds
		// (summed apart: a bound may be infinite).
		var othersLo, othersHi float64
		for j := range w {
			if j != i {
				othersLo += lo[j]
				othersHi += hi[j]
			}
		}
		least := math.Max(lo[i], float64(people)-othersHi)
		most := math.Min(hi[i], float64(people)-othersLo)
		if most-least < 1 {
			return false
		}
	}
	return true
}

// knowable reports whether l's total could be known (see line.known).
func (t *table) knowable(l line) bool { return l.known }

// markKnown works out which lines' totals could be known.
func (t *table) markKnown() {
	sum := func(cs []*cell) int64 {
		var n int64
		for _, c := range cs {
			n += c.people
		}
		return n
	}
	grand := sum(t.cells)
	if len(t.dims) < 2 {
		for i := range t.lines {
			t.lines[i].known = grand >= t.k
		}
		return
	}
	// The row (or column) totals as the one-dimension slice would give
	// them: each a cell of a line whose total is the grand total.
	for along := range 2 {
		if t.dims[along].Role != inventory.Dimension {
			// Cells along a multi-valued or the time dimension do not
			// add up to the line's total, so the one-dimension slice's
			// figures differ from these sums: any such total of k
			// people or more is taken as known.
			for i, l := range t.lines {
				if l.dim == along {
					t.lines[i].known = sum(l.cells) >= t.k
				}
			}
			continue
		}
		var idx []int
		var margins []*cell
		for i, l := range t.lines {
			if l.dim == along {
				idx = append(idx, i)
				margins = append(margins, &cell{people: sum(l.cells), contrib: sum(l.cells)})
			}
		}
		m := &table{k: t.k, cells: margins, lines: []line{{cells: margins, dim: 0, known: grand >= t.k}}}
		m.primary()
		m.secondary()
		for j, i := range idx {
			t.lines[i].known = !margins[j].withheld()
		}
	}
	for i, l := range t.lines {
		if l.dim < 0 {
			t.lines[i].known = grand >= t.k
		}
	}
}

// bounds returns what the shown reasons tell of each withheld cell's
// size: a small cell holds 1 to k-1 people; one withheld by the
// complementary or few-contributor rule, k or more; one withheld for a
// difference (or masked) at least 1.
func (t *table) bounds(w []*cell) (lo, hi []float64) {
	lo, hi = make([]float64, len(w)), make([]float64, len(w))
	for i, c := range w {
		switch c.reason {
		case slice.FewPeople:
			lo[i], hi[i] = 1, float64(t.k-1)
		case slice.Difference:
			lo[i], hi[i] = 1, math.Inf(1)
		default:
			lo[i], hi[i] = float64(t.k), math.Inf(1)
		}
	}
	return lo, hi
}

// secondary withholds further cells, smallest first, until every line is
// safe and no sensitive cell can be solved for from the lines' totals
// together. It returns the lines it could not make safe: those with no
// released cell left to withhold.
func (t *table) secondary() (unsafe []line) {
	for {
		changed := false
		unsafe = unsafe[:0]
		for _, l := range t.lines {
			if t.safe(l) {
				continue
			}
			if c := smallestShown(l.cells); c != nil {
				c.reason = slice.Complementary
				changed = true
			} else {
				unsafe = append(unsafe, l)
			}
		}
		if changed {
			continue
		}
		if len(t.dims) < 2 {
			return unsafe
		}
		// Rows and columns together can pin a cell that neither pins
		// alone: by their equations, or by the equations and what the
		// reasons tell of each cell's size.
		pinned := t.determined()
		if len(pinned) == 0 {
			pinned = t.boundPinned()
		}
		if len(pinned) == 0 {
			return unsafe
		}
		fixed := false
		for _, c := range pinned {
			var candidates []*cell
			for _, l := range t.lines {
				if slices.Contains(l.cells, c) {
					candidates = append(candidates, l.cells...)
				}
			}
			if s := smallestShown(candidates); s != nil {
				s.reason = slice.Complementary
				fixed = true
				break
			}
		}
		if fixed {
			continue
		}
		// Nothing left to withhold around them: hide what the reasons
		// tell instead, and if that does not free them either, their
		// lines' totals are protected as unsafe lines.
		var through []line
		for _, l := range t.lines {
			if slices.ContainsFunc(l.cells, func(c *cell) bool { return slices.Contains(pinned, c) }) {
				through = append(through, l)
			}
		}
		masked := false
		for _, l := range through {
			masked = mask(l.cells) || masked
		}
		if !masked {
			return append(unsafe, through...)
		}
	}
}

// boundPinned returns the withheld cells of fewer than k people whose
// size the lines' totals and the other cells' bounds leave at a single
// value, found by linear programming (gonum's simplex) over a
// two-dimension slice's withheld cells.
func (t *table) boundPinned() []*cell {
	if len(t.dims) < 2 {
		return nil // one line: safe() is exact
	}
	// The unknowns: withheld cells in at least one line whose total
	// could be known (a cell in none is bounded by its reason alone).
	inLine := map[*cell]bool{}
	for _, l := range t.lines {
		if t.knowable(l) {
			for _, c := range l.cells {
				inLine[c] = true
			}
		}
	}
	var w []*cell
	col := map[*cell]int{}
	small := false
	for _, c := range t.cells {
		if c.withheld() && inLine[c] {
			col[c] = len(w)
			w = append(w, c)
			small = small || c.people < t.k
		}
	}
	if !small || len(w) > maxLP {
		return nil
	}
	lo, hi := t.bounds(w)
	// Rows: the lines' equations (independent ones), then y_i + s_i =
	// hi_i - lo_i for each bounded cell, over y (x - lo) and slacks s.
	var eqs [][]float64
	var rhs []float64
	for _, l := range t.lines {
		if !t.knowable(l) {
			continue
		}
		r := make([]float64, len(w))
		var sum float64
		any := false
		for _, c := range l.cells {
			if j, ok := col[c]; ok {
				r[j] = 1
				sum += float64(c.people) - lo[j]
				any = true
			}
		}
		if any {
			eqs = append(eqs, r)
			rhs = append(rhs, sum)
		}
	}
	keep := independent(eqs)
	var bounded []int
	for i := range w {
		if !math.IsInf(hi[i], 1) {
			bounded = append(bounded, i)
		}
	}
	n := len(w) + len(bounded)
	a := mat.NewDense(len(keep)+len(bounded), n, nil)
	b := make([]float64, 0, len(keep)+len(bounded))
	for r, i := range keep {
		for j, v := range eqs[i] {
			a.Set(r, j, v)
		}
		b = append(b, rhs[i])
	}
	for s, i := range bounded {
		r := len(keep) + s
		a.Set(r, i, 1)
		a.Set(r, len(w)+s, 1)
		b = append(b, hi[i]-lo[i])
	}
	var found []*cell
	for i, c := range w {
		if c.people >= t.k {
			continue
		}
		least, okLeast, failed1 := optimum(a, b, i, 1)
		most, okMost, failed2 := optimum(a, b, i, -1)
		if failed1 || failed2 || okLeast && okMost && -most-least < 1 {
			found = append(found, c)
		}
	}
	return found
}

// maxLP bounds the withheld cells the linear programs take on; beyond
// it the row and column checks alone apply.
const maxLP = 150

// optimum minimises sign*y_i subject to a·y = b, y ≥ 0. ok is false when
// the minimum is unbounded (the cell can be as large as it likes);
// failed reports that the solver failed, which the caller counts as a
// pinned cell: cautious, never the other way.
func optimum(a *mat.Dense, b []float64, i int, sign float64) (v float64, ok, failed bool) {
	_, n := a.Dims()
	c := make([]float64, n)
	c[i] = sign
	defer func() {
		if recover() != nil {
			v, ok, failed = 0, false, true
		}
	}()
	opt, _, err := lp.Simplex(c, a, b, 1e-9, nil)
	switch {
	case errors.Is(err, lp.ErrUnbounded):
		return 0, false, false
	case err != nil:
		return 0, false, true
	}
	return opt, true, false
}

// independent returns the indexes of a maximal set of linearly
// independent rows, by Gaussian elimination.
func independent(rows [][]float64) []int {
	const eps = 1e-9
	var basis [][]float64
	var pivots []int
	var keep []int
	for i, r := range rows {
		v := slices.Clone(r)
		for k, bv := range basis {
			if f := v[pivots[k]]; math.Abs(f) > eps {
				for x := range v {
					v[x] -= f * bv[x]
				}
			}
		}
		p := slices.IndexFunc(v, func(x float64) bool { return math.Abs(x) > eps })
		if p < 0 {
			continue
		}
		pv := v[p]
		for x := range v {
			v[x] /= pv
		}
		basis, pivots, keep = append(basis, v), append(pivots, p), append(keep, i)
	}
	return keep
}

// determined returns the sensitive withheld cells whose size follows
// from the lines' totals alone. It row-reduces the lines' equations
// over the withheld cells: a cell is determined when its pivot row has
// no other unknown in it.
//
// Written by hand: the matrices are small 0/1 ones (one row per line,
// one column per withheld cell), and gonum offers a rank but not the
// reduced row echelon form this test needs.
func (t *table) determined() []*cell {
	var w []*cell
	col := map[*cell]int{}
	for _, c := range t.cells {
		if c.withheld() {
			col[c] = len(w)
			w = append(w, c)
		}
	}
	if len(w) == 0 {
		return nil
	}
	var found []*cell
	var rows [][]float64
	for _, l := range t.lines {
		if !t.knowable(l) {
			continue
		}
		r := make([]float64, len(w))
		any := false
		for _, c := range l.cells {
			if j, ok := col[c]; ok {
				r[j] = 1
				any = true
			}
		}
		if any {
			rows = append(rows, r)
		}
	}
	const eps = 1e-9
	pivotRow := map[int]int{}
	r := 0
	for j := 0; j < len(w) && r < len(rows); j++ {
		p := -1
		for i := r; i < len(rows); i++ {
			if math.Abs(rows[i][j]) > eps && (p < 0 || math.Abs(rows[i][j]) > math.Abs(rows[p][j])) {
				p = i
			}
		}
		if p < 0 {
			continue
		}
		rows[r], rows[p] = rows[p], rows[r]
		pv := rows[r][j]
		for x := range rows[r] {
			rows[r][x] /= pv
		}
		for i := range rows {
			if i != r && math.Abs(rows[i][j]) > eps {
				f := rows[i][j]
				for x := range rows[i] {
					rows[i][x] -= f * rows[r][x]
				}
			}
		}
		pivotRow[j] = r
		r++
	}
	for j, c := range w {
		i, ok := pivotRow[j]
		if !ok || !c.sensitive() {
			continue
		}
		alone := true
		for x, v := range rows[i] {
			if x != j && math.Abs(v) > eps {
				alone = false
				break
			}
		}
		if alone {
			found = append(found, c)
		}
	}
	return found
}
