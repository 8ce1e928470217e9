// Package guard is the privacy guard: the one way to ask the data a
// question. Every number the workbench shows, prints, exports or feeds
// into an analysis is a cell of a slice (package slice) that this package
// ran and then decided to release or withhold.
//
// Four rules hold every released number (docs/PRIVACY.md has the threat
// model and what the rules do not cover):
//
//  1. Minimum group size. A cell behind fewer than k people (k from the
//     licence) is withheld. People are counted distinctly: a person who
//     holds two values of a multi-valued dimension counts once in each of
//     their cells and once in any total.
//  2. Few contributors. A sum, mean, ratio or rate resting on fewer than k
//     people (the rest contribute zero, or a rate is within k people of 0%
//     or 100%) is withheld even when the cell is large.
//  3. Complementary suppression. A slice's totals are always assumed known
//     (another query can ask for them), so in every row, column and whole
//     slice the withheld cells must number two or more, hold k people or
//     more together, and leave each small cell more than one possible
//     size; across rows and columns no small cell may be solvable. Further
//     cells are withheld, smallest first, until that holds.
//  4. Differences. Every population whose size a result gives away — its
//     cells, the totals its cells add up to, and the remainder its
//     withheld cells leave — is compared with every population released
//     before for the licence, in this session and earlier ones (History).
//     Two populations that differ by more than 0 and fewer than k people
//     would reveal that small group by subtraction: the newer is withheld.
//
// The value of a cell that fails rule 1 or 2 never leaves DuckDB. Head
// counts, and the values of cells the other rules withhold, come as far
// as this package, which needs them to decide; a withheld cell leaves it
// with its reason only.
package guard

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// Querier runs SQL; *store.DB is one.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Engine runs slices over one table described by an inventory and
// releases only what the rules allow.
type Engine struct {
	db Querier
	k  int

	dmu  sync.RWMutex // guards inv and defs, which Derive extends
	inv  *inventory.Inventory
	defs map[string]slice.Segmentation // derived dimensions, by name

	matMu sync.Mutex
	made  map[string]bool // derived dimensions added to the table

	listMu        sync.Mutex
	listsDistinct bool // distinctLists has run

	id    uint64                  // names the engine's summary tables
	sumMu sync.Mutex              // one Summarise at a time
	summ  atomic.Pointer[summary] // set once Summarise is done

	// pert, when set, perturbs every released number (perturb.go); the
	// rules that compare results with the release history are off.
	pert   atomic.Pointer[perturbation]
	keyed  bool     // the data carries record keys (KeyColumn)
	quanta sync.Map // measure field → the step of its values (perturb.go)

	mu    sync.Mutex // one release at a time: check, then record
	hist  History
	known []Entry          // released and protected populations, by People
	keys  map[string]Entry // the same, by Pop.Key
	inter map[[2]string]int64
}

// New returns an engine over db's table inv.Table. columns, the table's
// column names and DuckDB types, are checked against the inventory. Its
// history is kept in memory until UseHistory gives it a lasting one.
func New(db Querier, inv *inventory.Inventory, columns map[string]string, k int) (*Engine, error) {
	if k < 2 {
		return nil, fmt.Errorf("minimum group size k must be at least 2, got %d", k)
	}
	if err := inv.Validate(); err != nil {
		return nil, err
	}
	for _, f := range inv.Fields {
		if f.Role == inventory.Time {
			continue
		}
		typ, ok := columns[f.Name]
		if !ok {
			return nil, fmt.Errorf("data does not match inventory: column %q is missing", f.Name)
		}
		if typ != f.Type {
			return nil, fmt.Errorf("data does not match inventory: column %q is %s, inventory says %s", f.Name, typ, f.Type)
		}
	}
	e := &Engine{db: db, inv: inv, k: k, defs: map[string]slice.Segmentation{}, made: map[string]bool{}, id: engines.Add(1)}
	_, e.keyed = columns[KeyColumn]
	e.UseHistory(&Memory{})
	return e, nil
}

// UseHistory makes h the record of released populations that results are
// checked against and added to, such as the licence's File. Call it
// before the first Run.
func (e *Engine) UseHistory(h History) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hist, e.known, e.keys, e.inter = h, nil, map[string]Entry{}, map[[2]string]int64{}
	// Read what it holds now, so that Inventory lists the segment
	// dimensions derived in earlier sessions. A history that cannot be
	// read fails the first Run, which reads it again.
	if fresh, err := h.Lock(); err == nil {
		e.learn(fresh)
		h.Unlock()
	}
}

// Inventory returns the engine's inventory.
// It lists the segment dimensions derived so far (Derive) after the
// data's own fields.
func (e *Engine) Inventory() *inventory.Inventory {
	e.dmu.RLock()
	defer e.dmu.RUnlock()
	return e.inv
}

// K returns the minimum group size.
func (e *Engine) K() int { return e.k }

func (e *Engine) peopleLabel() inventory.Label {
	for _, m := range e.Inventory().Measures {
		if m.Kind == inventory.Count {
			return m.Label
		}
	}
	return inventory.Label{ZH: "人数", EN: "People"}
}

// SQL returns the SQL and arguments a query's cells are fetched with, for
// tests, benchmarks and debugging. It holds no data.
func (e *Engine) SQL(q slice.Query) (string, []any, error) {
	p, err := e.compile(q)
	if err != nil {
		return "", nil, err
	}
	return p.sql, p.args, nil
}

// Run answers a query with what the rules allow. Cancelling ctx
// interrupts DuckDB; nothing is released or recorded then.
func (e *Engine) Run(ctx context.Context, q slice.Query) (*slice.Result, error) {
	start := time.Now()
	p, err := e.compile(q)
	if err != nil {
		return nil, err
	}
	if q.Other && (len(p.dims) != 1 || q.TopN == 0 || p.dims[0].Role != inventory.Dimension) {
		// A multi-valued dimension's "other" row would count people in
		// several of the left-out values once, and the difference from
		// their sum would tell how many hold several.
		return nil, fmt.Errorf("%w: an \"other\" row needs a top-N and one single-valued dimension (not time, not multi-valued)", slice.ErrQuery)
	}
	main, err := e.table(ctx, p)
	if err != nil {
		return nil, err
	}
	tables := []*table{main}
	var total *table
	var margins [slice.MaxDims]*table
	if q.Totals {
		if total, err = e.margin(ctx, q, nil); err != nil {
			return nil, err
		}
		tables = append(tables, total)
		if len(q.Dims) == 2 {
			for i := range 2 {
				if margins[i], err = e.margin(ctx, q, []string{q.Dims[i]}); err != nil {
					return nil, err
				}
				tables = append(tables, margins[i])
			}
		}
	}

	pert := e.pert.Load()
	var regs []reg
	if pert == nil {
		e.mu.Lock()
		defer e.mu.Unlock()
		fresh, err := e.hist.Lock()
		if err != nil {
			return nil, err
		}
		defer e.hist.Unlock()
		e.learn(fresh)
		if regs, err = e.protect(ctx, tables); err != nil {
			return nil, err
		}
	}

	res := &slice.Result{Query: q, Dims: p.dims, Measure: p.m, K: e.k, PeopleLabel: e.peopleLabel(), Method: MethodSuppress}
	if pert != nil {
		res.Method, res.Bound = MethodPerturb, pert.params.D
	}
	for _, c := range main.cells {
		res.Rows = append(res.Rows, c.row())
	}
	all := slices.Clone(res.Rows)
	slice.Sort(res)
	if total != nil && len(total.cells) > 0 {
		r := total.cells[0].row()
		res.Total = &r
	}
	for i, m := range margins {
		if m != nil {
			for _, c := range m.cells {
				res.Margins[i] = append(res.Margins[i], c.row())
			}
			// In the dimension's own order, not DuckDB's, so that the
			// same result is written the same way every time.
			mr := &slice.Result{Dims: p.dims[i : i+1], Rows: res.Margins[i], Query: slice.Query{Order: slice.Label}}
			slice.Sort(mr)
		}
	}
	if q.Other {
		other, oregs, err := e.other(ctx, q, p, main, all, res.Rows, regs)
		if err != nil {
			return nil, err
		}
		if other != nil {
			r := other.row()
			res.Other = &r
		}
		regs = append(regs, oregs...)
	}
	if pert == nil {
		if err := e.commit(regs); err != nil {
			return nil, fmt.Errorf("the release could not be recorded, so the result is withheld: %w", err)
		}
	}
	for _, r := range res.Rows {
		if r.Suppressed {
			res.Suppressed++
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// row is what a cell releases.
func (c *cell) row() slice.Row {
	keys := make([]string, len(c.keys))
	for i, k := range c.keys {
		keys[i] = slice.Printable(k)
	}
	r := slice.Row{Keys: keys, Suppressed: c.withheld(), Reason: c.reason}
	if !r.Suppressed {
		r.People = c.people
		r.Value = math.NaN() // a ratio over zero has no value
		if c.value.Valid {
			r.Value = c.value.Float64
		}
	}
	return r
}

// table runs a compiled slice and applies the per-table rules.
func (e *Engine) table(ctx context.Context, p *plan) (*table, error) {
	cells, err := e.fetch(ctx, p)
	if err != nil {
		return nil, err
	}
	if pert := e.pert.Load(); p.perturbed && pert != nil {
		// Consistent noise replaces the rules that need a history:
		// no complementary suppression, no difference checks.
		t := &table{dims: p.dims, cells: cells, k: int64(e.k), timeDim: -1} // no lines: nothing is checked across cells
		var quanta [2]float64
		for i, f := range []string{p.m.Field, p.m.Over} {
			if quanta[i], err = e.quantum(ctx, f); err != nil {
				return nil, err
			}
		}
		t.perturb(pert, p, quanta)
		return t, nil
	}
	t := newTable(p.dims, cells, p.base, e.k)
	t.fields, t.periods, t.timeDim = p.fields, p.periods, p.timeDim
	t.primary()
	t.unsafe = t.secondary()
	return t, nil
}

// margin runs the slice of q over only the dimensions dims: its total,
// or its margin along one dimension.
func (e *Engine) margin(ctx context.Context, q slice.Query, dims []string) (*table, error) {
	m := slice.Query{Dims: dims, Measure: q.Measure, Filters: map[string][]string{}, Holding: q.Holding}
	for name, vals := range q.Filters {
		inv := e.Inventory()
		f, _ := inv.Field(name)
		if f.Role == inventory.Time && !slices.Contains(dims, name) && inv.Series(mustMeasure(inv, q.Measure)) != name {
			// Head counts do not vary by period: the filter selected
			// rows of the time dimension, which the total sums over.
			continue
		}
		m.Filters[name] = vals
	}
	p, err := e.compile(m)
	if err != nil {
		return nil, fmt.Errorf("totals: %w", err)
	}
	return e.table(ctx, p)
}

func mustMeasure(inv *inventory.Inventory, name string) inventory.MeasureDef {
	m, _ := inv.Measure(name)
	return m
}

// fetch runs the cells' SQL.
func (e *Engine) fetch(ctx context.Context, p *plan) ([]*cell, error) {
	if listsIn(p.dims) {
		if err := e.distinctLists(ctx); err != nil {
			return nil, err
		}
	}
	if err := e.ensure(ctx, p.derived); err != nil {
		return nil, err
	}
	rows, err := e.db.QueryContext(ctx, p.sql, p.args...)
	if err != nil {
		return nil, fmt.Errorf("run slice: %w", err)
	}
	defer rows.Close()
	n := len(p.dims)
	var cells []*cell
	for rows.Next() {
		raw := make([]any, n)
		c := &cell{keys: make([]string, n)}
		dest := make([]any, 0, n+5)
		for i := range raw {
			dest = append(dest, &raw[i])
		}
		c.share = make([]float64, n)
		for i, d := range p.dims {
			if d.Role == inventory.MultiDimension {
				dest = append(dest, &c.share[i])
			}
		}
		dest = append(dest, &c.people, &c.contrib, &c.cx, &c.cy, &c.value)
		if p.perturbed {
			c.ck = &cellKeys{}
			dest = append(dest, &c.ck.all, &c.ck.x, &c.ck.y, &c.ck.topX, &c.ck.topY, &c.ck.sumX, &c.ck.sumY)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read slice: %w", err)
		}
		for i, v := range raw {
			c.keys[i] = keyString(p.dims[i], v)
		}
		cells = append(cells, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read slice: %w", err)
	}
	return cells, nil
}

// learn adds entries to the engine's index of the history.
func (e *Engine) learn(es []Entry) {
	for _, en := range es {
		if en.Def != nil {
			e.define(*en.Def)
			continue
		}
		en = en.withKey()
		key := en.key()
		if old, ok := e.keys[key]; ok && (old.Protected || !en.Protected) {
			continue
		}
		e.keys[key] = en
		i, _ := slices.BinarySearchFunc(e.known, en.People, func(a Entry, n int64) int { return cmp.Compare(a.People, n) })
		e.known = slices.Insert(e.known, i, en)
	}
}

// near returns the known entries within k people of n.
func (e *Engine) near(n int64) []Entry {
	k := int64(e.k)
	lo, _ := slices.BinarySearchFunc(e.known, n-k+1, func(a Entry, n int64) int { return cmp.Compare(a.People, n) })
	hi, _ := slices.BinarySearchFunc(e.known, n+k, func(a Entry, n int64) int { return cmp.Compare(a.People, n) })
	return e.known[lo:hi]
}

// commit records the populations a release gives away.
func (e *Engine) commit(regs []reg) error {
	var add []Entry
	seen := map[string]bool{}
	for _, r := range regs {
		en := r.entry()
		key := en.key()
		if old, ok := e.keys[key]; (ok && (old.Protected || !en.Protected)) || seen[key] {
			continue
		}
		seen[key] = true
		add = append(add, en)
	}
	if err := e.hist.Add(add); err != nil {
		return err
	}
	e.learn(add)
	return nil
}

func keyString(f inventory.Field, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x // made printable when released (cell.row)
	case int64:
		if f.Role == inventory.Time && x >= 1 && int(x) <= len(f.Order) {
			return f.Order[x-1]
		}
		return strconv.FormatInt(x, 10)
	default:
		return fmt.Sprint(x)
	}
}
