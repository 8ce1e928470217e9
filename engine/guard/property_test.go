package guard_test

// A property-based test of the privacy guard. Each run draws small random
// data sets (seeded, so every run is the same), asks each a random
// sequence of queries on one engine, so that the difference checks
// across results apply, then, as an attacker would, asks for the totals
// of the lines of the tables it saw. Everything is checked against what
// is computed here from the raw records, independently of the guard:
//
//  1. Differences: any two populations whose size the session gave away
//     (released rows; lines of cells along a single-valued dimension all
//     released, whose total is then known; and the remainder a line's
//     withheld cells leave, given its total) differ by 0 or k people or
//     more.
//  2. Margins: in a result over one or two single-valued dimensions,
//     asked for with its totals, no cell of fewer than k people can be
//     worked out from the released cells and the totals shown with them: neither by linear algebra nor,
//     for up to propMaxCells withheld cells, by exact integer bounds (what
//     the reasons tell: a small cell holds 1 to k-1 people, a cell
//     withheld for a difference any number, another withheld cell k or
//     more). Nor can the spend of a cell resting on few contributors be
//     solved for.
//  3. Sanity: released rows hold the true counts and values and obey
//     rules 1 and 2; withheld rows carry no numbers; the rows are every
//     non-empty combination of values under the filters.
//
// Data sets of odd seeds are sliced from the engine's summary of the
// records (guard.Engine.Summarise) wherever it can answer, so both ways
// of reading the data are held to the same properties.
//
// TestPropertyCounterexamples replays the smallest sessions found that
// break these properties.
//
// Set PERSONA_PROPERTY_SEED to run one data set only (the seed a failure
// prints), PERSONA_PROPERTY_DATASETS to change how many are run.

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"gonum.org/v1/gonum/mat"

	"github.com/persona-workbench/persona/engine/dataset"
	"github.com/persona-workbench/persona/engine/guard"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/engine/store"
)

const (
	propDatasets  = 100     // data sets in a default run
	propQueries   = 25      // queries per data set, all on one engine
	propBaseSeed  = 1000    // data set i uses seed propBaseSeed+i
	propMaxCells  = 8       // withheld cells up to which the exact interval test runs
	propBudget    = 200_000 // search nodes per exact interval test
	propMaxReport = 4       // failures shown in full per data set and kind
)

// propDimNames are the dimensions: a, b and c single-valued, tags
// multi-valued.
var propDimNames = []string{"a", "b", "c", "tags"}

func TestPropertyGuard(t *testing.T) {
	seeds := make([]uint64, 0, propDatasets)
	n := propDatasets
	if s := os.Getenv("PERSONA_PROPERTY_DATASETS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			t.Fatalf("PERSONA_PROPERTY_DATASETS=%q is not a positive number", s)
		}
	} else if testing.Short() {
		n = 8
	}
	for i := range n {
		seeds = append(seeds, uint64(propBaseSeed+i))
	}
	if s := os.Getenv("PERSONA_PROPERTY_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("PERSONA_PROPERTY_SEED=%q is not a number", s)
		}
		seeds = []uint64{seed}
	}
	propStats = propCounters{}
	t.Cleanup(func() {
		st := &propStats
		t.Logf("%d data sets, %d queries and %d probes (%d rows, %d withheld); %d populations released, %d pairs within k in size compared; "+
			"%d tables checked against their margins (%d with withheld cells): %d small cells, %d few-contributor values tested for being solvable, "+
			"%d small cells by exact intervals (%d searches gave up); %d withheld cells could be worked out only by combining "+
			"three or more results (not guarded: docs/PRIVACY.md)",
			len(seeds), st.queries.Load(), st.probes.Load(), st.rows.Load(), st.withheld.Load(), st.pops.Load(), st.pairs.Load(),
			st.tables.Load(), st.tablesWithheld.Load(), st.linear.Load(), st.linearValue.Load(), st.intervals.Load(), st.gaveUp.Load(),
			st.multiResult.Load())
	})
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			propRunSession(t, seed)
		})
	}
}

// propCounters tell how much a run checked.
type propCounters struct {
	queries, rows, withheld, pops, pairs        atomic.Int64
	tables, tablesWithheld, linear, linearValue atomic.Int64
	intervals, gaveUp, probes                   atomic.Int64
	multiResult                                 atomic.Int64
}

var propStats propCounters

// propRunSession generates a data set and a sequence of queries from
// seed, and checks them.
func propRunSession(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	d := propGenData(rng, seed)
	var qs []slice.Query
	for range propQueries {
		qs = append(qs, d.genQuery(rng, qs))
	}
	propCheckSession(t, d, qs, true)
}

// propCheckSession runs the queries in order on one engine over d, then,
// if probe is set, asks for the totals of the tabular results' lines
// (see probes), and checks every result and the whole session.
func propCheckSession(t *testing.T, d *propData, qs []slice.Query, probe bool) *propSession {
	e := propOpen(t, d)
	s := &propSession{t: t, d: d}
	for i, q := range qs {
		if len(q.Dims) > 0 {
			// The table comes with its totals: the property is that its
			// cells and the totals shown with them give no small cell
			// away.
			q.Totals = true
		}
		res, err := e.Run(context.Background(), q)
		if err != nil {
			// Every query drawn is valid: an error is a bug. The session
			// goes on without it.
			s.fail("query failed", "query #%d (%s): %v", i, propQueryString(q), err)
			s.results = append(s.results, &propResult{index: i, q: q, err: err})
			continue
		}
		s.add(q, res)
		propStats.queries.Add(1)
		propStats.rows.Add(int64(len(res.Rows)))
		propStats.withheld.Add(int64(res.Suppressed))
	}
	// The attacker then asks for the lines' totals.
	var probes []slice.Query
	if probe {
		s.settle()
		probes = s.probes()
	}
	for _, q := range probes {
		res, err := e.Run(context.Background(), q)
		if err != nil {
			s.fail("query failed", "probe (%s): %v", propQueryString(q), err)
			continue
		}
		s.add(q, res)
		s.results[len(s.results)-1].probe = true
		propStats.probes.Add(1)
	}
	s.settle()
	propStats.pops.Add(int64(len(s.pops)))
	s.checkDifferences()
	for _, r := range s.results {
		s.checkTable(r)
	}
	if s.failed && d.seed != 0 {
		t.Logf("to reproduce: PERSONA_PROPERTY_SEED=%d go test -tags duckdb_arrow ./engine/guard -run TestPropertyGuard -v", d.seed)
	}
	if s.failed {
		t.Log(s.sequence())
		t.Log(d.dump())
	}
	return s
}

// ---------------------------------------------------------------------
// Data

// propData is a random data set: n records, one person each.
type propData struct {
	seed   uint64
	k      int
	n      int
	domain map[string][]string // each dimension's values
	single map[string][]string // a, b, c: each record's value
	tags   [][]string          // each record's tags: 0-3 distinct values
	spend  []float64           // often 0
}

// propGenData draws a data set with skewed value frequencies, so that
// small cells, and small cells after filtering, are common.
func propGenData(rng *rand.Rand, seed uint64) *propData {
	d := &propData{
		seed:   seed,
		k:      3 + rng.IntN(4),
		n:      30 + rng.IntN(371),
		domain: map[string][]string{},
		single: map[string][]string{},
	}
	sizes := map[string]int{"a": 3 + rng.IntN(3), "b": 2 + rng.IntN(3), "c": 2 + rng.IntN(2), "tags": 4}
	for _, name := range propDimNames {
		prefix := name
		if name == "tags" {
			prefix = "t"
		}
		for j := range sizes[name] {
			d.domain[name] = append(d.domain[name], prefix+strconv.Itoa(j+1))
		}
	}
	weights := func(n int) []float64 {
		w := make([]float64, n)
		for i := range w {
			x := rng.Float64()
			w[i] = 0.02 + x*x
		}
		return w
	}
	pick := func(w []float64) int {
		var sum float64
		for _, x := range w {
			sum += x
		}
		r := rng.Float64() * sum
		for i, x := range w {
			if r < x {
				return i
			}
			r -= x
		}
		return len(w) - 1
	}
	// a is drawn first; b and c follow their own frequencies, or, half
	// the time, frequencies that depend on a.
	wa := weights(len(d.domain["a"]))
	cond := map[string][][]float64{}
	for _, name := range []string{"b", "c"} {
		shared := weights(len(d.domain[name]))
		correlated := rng.IntN(2) == 0
		for range d.domain["a"] {
			if correlated {
				cond[name] = append(cond[name], weights(len(d.domain[name])))
			} else {
				cond[name] = append(cond[name], shared)
			}
		}
	}
	pTag := make([]float64, 4)
	for i := range pTag {
		pTag[i] = 0.05 + 0.55*rng.Float64()
	}
	pZero := 0.3 + 0.65*rng.Float64()
	for range d.n {
		a := pick(wa)
		d.single["a"] = append(d.single["a"], d.domain["a"][a])
		for _, name := range []string{"b", "c"} {
			d.single[name] = append(d.single[name], d.domain[name][pick(cond[name][a])])
		}
		var tags []string
		for i, p := range pTag {
			if rng.Float64() < p {
				tags = append(tags, d.domain["tags"][i])
			}
		}
		if len(tags) > 3 {
			i := rng.IntN(len(tags))
			tags = slices.Delete(tags, i, i+1)
		}
		d.tags = append(d.tags, tags)
		spend := 0.0
		if rng.Float64() >= pZero {
			spend = float64(1 + rng.IntN(100))
		}
		d.spend = append(d.spend, spend)
	}
	return d
}

// propGroup is n identical records, for a data set made by hand.
type propGroup struct {
	a, b, c string
	tags    []string
	spend   float64
	n       int
}

// propMakeData builds a data set by hand (seed 0).
func propMakeData(k int, groups ...propGroup) *propData {
	d := &propData{k: k, domain: map[string][]string{}, single: map[string][]string{}}
	for _, g := range groups {
		for range g.n {
			d.single["a"] = append(d.single["a"], g.a)
			d.single["b"] = append(d.single["b"], g.b)
			d.single["c"] = append(d.single["c"], g.c)
			d.tags = append(d.tags, g.tags)
			d.spend = append(d.spend, g.spend)
			d.n++
		}
	}
	for _, name := range propDimNames {
		var vals []string
		if name == "tags" {
			vals = slices.Concat(d.tags...)
		} else {
			vals = slices.Clone(d.single[name])
		}
		slices.Sort(vals)
		d.domain[name] = slices.Compact(vals)
	}
	return d
}

var propSchema = arrow.NewSchema([]arrow.Field{
	{Name: "a", Type: arrow.BinaryTypes.String},
	{Name: "b", Type: arrow.BinaryTypes.String},
	{Name: "c", Type: arrow.BinaryTypes.String},
	{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String)},
	{Name: "spend", Type: arrow.PrimitiveTypes.Float64},
}, nil)

// propInventory describes the data set: its dimensions, the measure
// field spend, and the measures people (count) and spend (sum).
func propInventory(n int) *inventory.Inventory {
	field := func(name string, role inventory.Role, typ string) inventory.Field {
		return inventory.Field{Name: name, Label: inventory.Label{ZH: name, EN: name}, Role: role, Type: typ}
	}
	return &inventory.Inventory{
		Version: inventory.Version,
		Dataset: inventory.Label{ZH: "性质测试", EN: "property test"},
		Table:   "personas",
		Records: int64(n),
		Fields: []inventory.Field{
			field("a", inventory.Dimension, "VARCHAR"),
			field("b", inventory.Dimension, "VARCHAR"),
			field("c", inventory.Dimension, "VARCHAR"),
			field("tags", inventory.MultiDimension, "VARCHAR[]"),
			field("spend", inventory.Measure, "DOUBLE"),
		},
		Measures: []inventory.MeasureDef{
			{Name: "people", Label: inventory.Label{ZH: "人数", EN: "People"}, Kind: inventory.Count},
			{Name: "spend", Label: inventory.Label{ZH: "消费", EN: "Spend"}, Kind: inventory.Sum, Field: "spend"},
		},
	}
}

// propOpen loads the data set the way the product does and returns a
// fresh engine over it.
func propOpen(t *testing.T, d *propData) *guard.Engine {
	t.Helper()
	ctx := context.Background()
	ds := propLoad(t, d, dataset.Options{K: d.k, Store: store.Options{Threads: 1}})
	db := ds.Store()
	inv := ds.Inventory
	cols, err := db.Columns(ctx, inv.Table)
	if err != nil {
		t.Fatal(err)
	}
	e, err := guard.New(db, inv, cols, d.k)
	if err != nil {
		t.Fatal(err)
	}
	// Data sets of odd seeds are sliced from the summary where it can
	// answer, kept however many groups it has.
	if d.seed%2 == 1 {
		if _, err := e.Summarise(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// propLoad loads the data set the way the product does.
func propLoad(t *testing.T, d *propData, opt dataset.Options) *dataset.Dataset {
	t.Helper()
	ctx := context.Background()
	inv := propInventory(d.n)
	if err := inv.Validate(); err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, propSchema)
	defer b.Release()
	for i, name := range []string{"a", "b", "c"} {
		b.Field(i).(*array.StringBuilder).AppendValues(d.single[name], nil)
	}
	lb := b.Field(3).(*array.ListBuilder)
	vb := lb.ValueBuilder().(*array.StringBuilder)
	for _, tags := range d.tags {
		lb.Append(true)
		vb.AppendValues(tags, nil)
	}
	b.Field(4).(*array.Float64Builder).AppendValues(d.spend, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	rr, err := array.NewRecordReader(propSchema, []arrow.RecordBatch{rec})
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	ds, err := dataset.OpenArrow(ctx, inv, rr, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	return ds
}

// dump lists the data set, one record a line, for a failure report.
func (d *propData) dump() string {
	var b strings.Builder
	fmt.Fprintf(&b, "data set (seed %d): k=%d, %d records\n", d.seed, d.k, d.n)
	for i := range d.n {
		fmt.Fprintf(&b, "  r%d: a=%s b=%s c=%s tags=[%s] spend=%g\n", i,
			d.single["a"][i], d.single["b"][i], d.single["c"][i], strings.Join(d.tags[i], " "), d.spend[i])
	}
	return b.String()
}

// ---------------------------------------------------------------------
// Queries

// genQuery draws a query: 0 to 2 dimensions, filters on random subsets
// of values, people or spend. Three times in five it starts from an
// earlier query and rolls it up, drills it down, asks for one of its
// lines or nudges a filter: the way an analyst, or an attacker, asks
// about nearby groups.
func (d *propData) genQuery(rng *rand.Rand, prev []slice.Query) slice.Query {
	q := slice.Query{Measure: "people", Filters: map[string][]string{}}
	if rng.IntN(2) == 0 {
		q.Measure = "spend"
	}
	if len(prev) > 0 && rng.Float64() < 0.6 {
		base := prev[rng.IntN(len(prev))]
		q.Dims = slices.Clone(base.Dims)
		for name, vals := range base.Filters {
			q.Filters[name] = slices.Clone(vals)
		}
		switch rng.IntN(4) {
		case 0: // roll up: drop a dimension
			if len(q.Dims) > 0 {
				i := rng.IntN(len(q.Dims))
				q.Dims = slices.Delete(q.Dims, i, i+1)
			}
		case 1: // drill down: add a dimension
			if len(q.Dims) < 2 {
				var free []string
				for _, name := range propDimNames {
					if !slices.Contains(q.Dims, name) {
						free = append(free, name)
					}
				}
				q.Dims = append(q.Dims, free[rng.IntN(len(free))])
			}
		case 2: // one line of the earlier slice: fix one of its dimensions
			if len(q.Dims) > 0 {
				i := rng.IntN(len(q.Dims))
				name := q.Dims[i]
				vals := d.domain[name]
				if f, ok := q.Filters[name]; ok {
					vals = f
				}
				q.Filters[name] = []string{vals[rng.IntN(len(vals))]}
				q.Dims = slices.Delete(q.Dims, i, i+1)
			}
		case 3: // nudge a filter: one value more or one fewer
			name := propDimNames[rng.IntN(len(propDimNames))]
			v := d.domain[name][rng.IntN(len(d.domain[name]))]
			cur := q.Filters[name]
			if i := slices.Index(cur, v); i >= 0 {
				cur = slices.Delete(cur, i, i+1)
			} else {
				cur = append(cur, v)
				slices.Sort(cur)
			}
			if len(cur) == 0 {
				delete(q.Filters, name)
			} else {
				q.Filters[name] = cur
			}
		}
		return q
	}
	perm := rng.Perm(len(propDimNames))
	for _, i := range perm[:rng.IntN(3)] {
		q.Dims = append(q.Dims, propDimNames[i])
	}
	for _, name := range propDimNames {
		if rng.Float64() < 0.2 {
			var vals []string
			for _, v := range d.domain[name] {
				if rng.IntN(2) == 0 {
					vals = append(vals, v)
				}
			}
			if len(vals) == 0 {
				vals = []string{d.domain[name][rng.IntN(len(d.domain[name]))]}
			}
			q.Filters[name] = vals
		}
	}
	return q
}

func propQueryString(q slice.Query) string {
	var b strings.Builder
	b.WriteString(q.Measure)
	if len(q.Dims) > 0 {
		b.WriteString(" by " + strings.Join(q.Dims, "×"))
	}
	var names []string
	for name := range q.Filters {
		names = append(names, name)
	}
	slices.Sort(names)
	for i, name := range names {
		if i == 0 {
			b.WriteString(" where ")
		} else {
			b.WriteString(" and ")
		}
		op := "in"
		if name == "tags" {
			op = "has any of"
		}
		fmt.Fprintf(&b, "%s %s {%s}", name, op, strings.Join(q.Filters[name], ","))
	}
	return b.String()
}

// ---------------------------------------------------------------------
// Sets of records

// propSet is a set of record indexes.
type propSet []uint64

func newPropSet(n int) propSet   { return make(propSet, (n+63)/64) }
func (s propSet) add(i int)      { s[i/64] |= 1 << (i % 64) }
func (s propSet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }
func (s propSet) clone() propSet { return slices.Clone(s) }
func (s propSet) key() string    { return fmt.Sprint([]uint64(s)) }
func (s propSet) union(o propSet) {
	for i := range s {
		s[i] |= o[i]
	}
}
func (s propSet) members() (m []int) {
	for i := range len(s) * 64 {
		if s.has(i) {
			m = append(m, i)
		}
	}
	return m
}

func (s propSet) size() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// diff is |s Δ o|: the people in one of the two only.
func (s propSet) diff(o propSet) int {
	n := 0
	for i := range s {
		n += bits.OnesCount64(s[i] ^ o[i])
	}
	return n
}

func (s propSet) minus(o propSet) propSet {
	out := s.clone()
	for i := range out {
		out[i] &^= o[i]
	}
	return out
}

// ---------------------------------------------------------------------
// Expected cells, from the raw records

// propCell is a cell as computed here.
type propCell struct {
	set     propSet
	people  int
	contrib int // people with a non-zero spend
	spend   float64
}

// match reports whether record i meets every filter: a single-valued
// dimension's value is in the set, a tags list holds one of the set.
func (d *propData) match(filters map[string][]string, i int) bool {
	for name, vals := range filters {
		if name == "tags" {
			if !slices.ContainsFunc(d.tags[i], func(v string) bool { return slices.Contains(vals, v) }) {
				return false
			}
		} else if !slices.Contains(vals, d.single[name][i]) {
			return false
		}
	}
	return true
}

// expect computes a query's cells by their keys joined with "|": every
// non-empty combination of dimension values under the filters (and the
// one total of a query without dimensions, empty or not).
func (d *propData) expect(q slice.Query) map[string]*propCell {
	cells := map[string]*propCell{}
	get := func(key string) *propCell {
		c, ok := cells[key]
		if !ok {
			c = &propCell{set: newPropSet(d.n)}
			cells[key] = c
		}
		return c
	}
	if len(q.Dims) == 0 {
		get("")
	}
	for i := range d.n {
		if !d.match(q.Filters, i) {
			continue
		}
		combos := [][]string{nil}
		for _, name := range q.Dims {
			var vals []string
			if name == "tags" {
				for _, v := range d.tags[i] {
					// A filter on the sliced multi-valued dimension keeps
					// only its values' cells.
					if f, ok := q.Filters["tags"]; !ok || slices.Contains(f, v) {
						vals = append(vals, v)
					}
				}
			} else {
				vals = []string{d.single[name][i]}
			}
			var next [][]string
			for _, c := range combos {
				for _, v := range vals {
					next = append(next, append(slices.Clone(c), v))
				}
			}
			combos = next
		}
		for _, keys := range combos {
			c := get(strings.Join(keys, "|"))
			c.set.add(i)
			c.people++
			c.spend += d.spend[i]
			if d.spend[i] != 0 {
				c.contrib++
			}
		}
	}
	return cells
}

// ---------------------------------------------------------------------
// A session: the results so far and what they gave away

// propResult is a result with each row's expected cell.
type propResult struct {
	index int
	q     slice.Query
	rows  []slice.Row
	cells []*propCell // cells[i] is rows[i]'s
	err   error       // the query failed: no rows
	probe bool        // asked for a line's total after the sequence
	// shownTotals holds the lines (by desc) whose totals the result
	// released with its cells: tabular queries ask for their totals.
	shownTotals map[string]bool
}

func (r *propResult) rowString(i int) string {
	row := r.rows[i]
	keys := make([]string, len(row.Keys))
	for j, k := range row.Keys {
		keys[j] = r.q.Dims[j] + "=" + k
	}
	s := strings.Join(keys, ",")
	if s == "" {
		s = "total"
	}
	return s
}

// propPop is a population whose size a result gave away.
type propPop struct {
	set   propSet
	size  int
	query int
	what  string
	total propSet // a remainder: its line's people, whose total it needs
	spend bool    // released by a spend result: its spend is known too
}

type propSession struct {
	t       *testing.T
	d       *propData
	results []*propResult
	pops    []propPop
	// released holds the populations whose size the session gave away
	// (rows, lines released whole, and remainders of lines whose total
	// it gave away); spent, those whose spend it gave away.
	released, spent map[string]bool
	failed          bool
	reports         map[string]int // failures by kind, to show only the first few
}

func (s *propSession) fail(kind, format string, args ...any) {
	s.t.Helper()
	s.failed = true
	if s.reports == nil {
		s.reports = map[string]int{}
	}
	s.reports[kind]++
	switch n := s.reports[kind]; {
	case n <= propMaxReport:
		s.t.Errorf("seed %d, k=%d: %s: %s", s.d.seed, s.d.k, kind, fmt.Sprintf(format, args...))
	case n == propMaxReport+1:
		s.t.Errorf("seed %d: further %s failures not shown", s.d.seed, kind)
	}
}

// add checks a result against the raw records (sanity) and records the
// populations it gives away.
func (s *propSession) add(q slice.Query, res *slice.Result) {
	d, k := s.d, s.d.k
	r := &propResult{index: len(s.results), q: q, rows: res.Rows, shownTotals: map[string]bool{}}
	s.results = append(s.results, r)
	released := func(row *slice.Row) bool { return row != nil && !row.Suppressed }
	for _, l := range propLines(r) {
		switch {
		case l.dim == "":
			r.shownTotals[l.desc] = released(res.Total)
		default:
			i := slices.Index(q.Dims, l.dim)
			for _, m := range res.Margins[i] {
				if m.Keys[0] == l.key && released(&m) {
					r.shownTotals[l.desc] = true
				}
			}
		}
	}
	want := d.expect(q)
	where := fmt.Sprintf("query #%d (%s)", r.index, propQueryString(q))
	seen := map[string]bool{}
	for i, row := range res.Rows {
		key := strings.Join(row.Keys, "|")
		c, ok := want[key]
		if !ok || seen[key] {
			s.t.Fatalf("seed %d, %s: unexpected or repeated row %q (rows %+v)", d.seed, where, key, res.Rows)
		}
		seen[key] = true
		r.cells = append(r.cells, c)
		rs := r.rowString(i)
		if row.Suppressed {
			if row.People != 0 || row.Value != 0 {
				s.fail("withheld row carries numbers", "%s row %s: people %d, value %v", where, rs, row.People, row.Value)
			}
			if row.Reason == slice.Shown {
				s.fail("withheld row without reason", "%s row %s", where, rs)
			}
			if row.Reason == slice.FewPeople && c.people >= k {
				s.fail("wrong reason", "%s row %s: few people, but %d people", where, rs, c.people)
			}
			if row.Reason == slice.FewContributors && (q.Measure != "spend" || c.contrib == 0 || c.contrib >= k) {
				s.fail("wrong reason", "%s row %s: few contributors, but %d people of %d contribute", where, rs, c.contrib, c.people)
			}
			continue
		}
		// Rules 1 and 2, and the numbers themselves.
		if row.People != int64(c.people) {
			s.fail("wrong count", "%s row %s: %d people, the data holds %d", where, rs, row.People, c.people)
		}
		if c.people < k {
			s.fail("rule 1", "%s row %s released with %d people", where, rs, c.people)
		}
		wantValue := float64(c.people)
		if q.Measure == "spend" {
			wantValue = c.spend
			if c.contrib > 0 && c.contrib < k {
				s.fail("rule 2", "%s row %s released resting on %d people", where, rs, c.contrib)
			}
		}
		if math.Abs(row.Value-wantValue) > 1e-6*math.Max(1, math.Abs(wantValue)) {
			s.fail("wrong value", "%s row %s: value %v, the data gives %v", where, rs, row.Value, wantValue)
		}
		s.release(r, propPop{set: c.set, size: c.people, query: r.index, what: "row " + rs})
	}
	if len(seen) != len(want) {
		var missing []string
		for key := range want {
			if !seen[key] {
				missing = append(missing, key)
			}
		}
		slices.Sort(missing)
		s.t.Fatalf("seed %d, %s: rows %q missing from the result", d.seed, where, missing)
	}
	// A line all of whose cells are released gives its total away; one
	// with released and withheld cells, given its total (which another
	// query can ask for), gives away the remainder its withheld cells
	// hold together.
	for _, l := range propLines(r) {
		if !l.additive {
			continue
		}
		all, held := newPropSet(d.n), newPropSet(d.n)
		withheld := 0
		for _, i := range l.rows {
			all.union(r.cells[i].set)
			if r.rows[i].Suppressed {
				held.union(r.cells[i].set)
				withheld++
			}
		}
		switch {
		case withheld == 0:
			s.release(r, propPop{set: all, size: all.size(), query: r.index, what: l.desc + " (all cells released)"})
		case withheld < len(l.rows):
			s.release(r, propPop{set: held, size: held.size(), query: r.index, what: "remainder of " + l.desc, total: all})
		}
	}
}

// release records a population r gave away. Rows and lines released
// whole are facts the session published; a remainder's size is one only
// when its line's total is (see settle).
func (s *propSession) release(r *propResult, p propPop) {
	p.spend = r.q.Measure == "spend"
	s.pops = append(s.pops, p)
	if s.released == nil {
		s.released, s.spent = map[string]bool{}, map[string]bool{}
	}
	if p.total == nil {
		s.released[p.set.key()] = true
		if p.spend {
			s.spent[p.set.key()] = true
		}
	}
}

// settle adds to the facts the remainders of lines whose totals the
// session released.
func (s *propSession) settle() {
	for _, p := range s.pops {
		if p.total == nil || !s.released[p.total.key()] {
			continue
		}
		s.released[p.set.key()] = true
		if p.spend && s.spent[p.total.key()] {
			s.spent[p.set.key()] = true
		}
	}
}

// propLine is a line of a result: cells whose total is a population of
// its own when additive (the cells run along a single-valued dimension).
type propLine struct {
	desc     string
	rows     []int
	additive bool
	dim, key string // a row or column: the dimension held to one value; "" for a whole
}

// propLines lists a result's lines: the whole of a one-dimensional
// result; each row, each column and the whole of a two-dimensional one.
func propLines(r *propResult) []propLine {
	dims := r.q.Dims
	all := make([]int, len(r.rows))
	for i := range all {
		all[i] = i
	}
	switch len(dims) {
	case 1:
		return []propLine{{desc: "the whole slice", rows: all, additive: dims[0] != "tags"}}
	case 2:
		var lines []propLine
		for along := range 2 {
			fixed := 1 - along
			groups := map[string][]int{}
			for i, row := range r.rows {
				groups[row.Keys[fixed]] = append(groups[row.Keys[fixed]], i)
			}
			var keys []string
			for key := range groups {
				keys = append(keys, key)
			}
			slices.Sort(keys)
			for _, key := range keys {
				lines = append(lines, propLine{
					desc:     fmt.Sprintf("the line %s=%s (along %s)", dims[fixed], key, dims[along]),
					rows:     groups[key],
					additive: dims[along] != "tags",
					dim:      dims[fixed],
					key:      key,
				})
			}
		}
		return append(lines, propLine{desc: "the whole table", rows: all, additive: dims[0] != "tags" && dims[1] != "tags"})
	}
	return nil
}

// sequence describes the session's queries and results for a failure
// report.
func (s *propSession) sequence() string {
	var b strings.Builder
	b.WriteString("queries, in order (true count, released or withheld):\n")
	for _, r := range s.results {
		fmt.Fprintf(&b, "  #%d %s:", r.index, propQueryString(r.q))
		if r.probe {
			b.WriteString(" (probe)")
		}
		if r.err != nil {
			fmt.Fprintf(&b, " error: %v", r.err)
		}
		for i, row := range r.rows {
			state := "shown"
			if row.Suppressed {
				state = row.Reason.String()
			}
			fmt.Fprintf(&b, " [%s: %d %s]", r.rowString(i), r.cells[i].people, state)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// ---------------------------------------------------------------------
// Assertion 1: differences

// checkDifferences asserts that no two populations the session gave
// away differ by more than 0 and fewer than k people.
func (s *propSession) checkDifferences() {
	k := s.d.k
	for i, a := range s.pops {
		for _, b := range s.pops[:i] {
			if a.size-b.size >= k || b.size-a.size >= k {
				continue // |A Δ B| >= ||A| - |B||
			}
			propStats.pairs.Add(1)
			x := a.set.diff(b.set)
			if x == 0 || x >= k {
				continue
			}
			how := "sizes the session released"
			for _, p := range []propPop{a, b} {
				if p.total != nil && !s.released[p.total.key()] {
					how = "a remainder's size given a total rule 3 assumes known"
				}
			}
			s.fail("difference ("+how+")", "%d people tell these two apart:\n"+
				"    A: query #%d (%s), %s: %d people\n"+
				"    B: query #%d (%s), %s: %d people\n"+
				"    only in A: %v; only in B: %v",
				x,
				b.query, propQueryString(s.results[b.query].q), b.what, b.size,
				a.query, propQueryString(s.results[a.query].q), a.what, a.size,
				propRecords(b.set.minus(a.set)), propRecords(a.set.minus(b.set)))
		}
	}
}

func propRecords(s propSet) []string {
	var out []string
	for _, i := range s.members() {
		out = append(out, "r"+strconv.Itoa(i))
	}
	return out
}

// ---------------------------------------------------------------------
// Assertion 2: one table against its margins

// propEq is a linear equation over withheld cells: the cells (indexes
// into the withheld list) add up to rhs.
type propEq struct {
	line  string
	cells []int
	rhs   int
}

// tabular reports whether r is checked against its margins: one or two
// single-valued dimensions.
func (r *propResult) tabular() bool {
	return r.err == nil && len(r.q.Dims) > 0 && !slices.Contains(r.q.Dims, "tags")
}

// probes lists the queries an attacker asks, after the sequence, for
// the totals of the lines of tabular results that the session has not
// released (and that hold k people or more, as any released total
// must). What they release counts as known in checkTable.
func (s *propSession) probes() []slice.Query {
	var qs []slice.Query
	asked := map[string]bool{}
	for _, r := range s.results {
		if !r.tabular() {
			continue
		}
		for _, l := range propLines(r) {
			set := newPropSet(s.d.n)
			for _, i := range l.rows {
				set.union(r.cells[i].set)
			}
			key := set.key()
			if set.size() < s.d.k || s.released[key] || asked[key] {
				continue
			}
			asked[key] = true
			q := slice.Query{Measure: r.q.Measure, Filters: map[string][]string{}}
			for name, vals := range r.q.Filters {
				q.Filters[name] = vals
			}
			if l.dim != "" {
				q.Filters[l.dim] = []string{l.key}
			}
			qs = append(qs, q)
		}
	}
	return qs
}

// propFinding is a withheld cell an attacker can work out.
type propFinding struct {
	kind string
	cell int // index into the result's rows
	msg  string
}

// checkTable asserts that, for a result over one or two single-valued
// dimensions, no cell withheld for being small can be worked out from the
// released cells and the lines' totals, and no cell withheld for resting
// on few contributors has its value worked out so.
//
// The property is about one table: every tabular query asks for its
// totals (the grand total and each row's and column's), and a line's
// total counts as known when the result shows it. A total the guard
// withholds is one it would withhold in any slice of that dimension
// alone, which is how the guard reasons about totals that are not shown.
//
// Totals the session released can add more equations: a cell worked out
// from several other results together (a total less three separately
// queried lines) is beyond the pairwise difference check, a limit
// docs/PRIVACY.md states; such cases are counted, not failed.
func (s *propSession) checkTable(r *propResult) {
	if !r.tabular() {
		return
	}
	propStats.tables.Add(1)
	var withheld []int
	for i, row := range r.rows {
		if row.Suppressed {
			withheld = append(withheld, i)
		}
	}
	if len(withheld) == 0 {
		return
	}
	propStats.tablesWithheld.Add(1)
	assumed, knownA := s.analyse(r, withheld, false)
	if done, _ := s.analyse(r, withheld, true); len(done) > len(assumed) {
		propStats.multiResult.Add(int64(len(done) - len(assumed)))
	}
	for _, f := range assumed {
		how := "with the table's own totals"
		var b strings.Builder
		fmt.Fprintf(&b, "query #%d (%s): %s", r.index, propQueryString(r.q), f.msg)
		b.WriteString("\n    cells (true people/contributors):")
		for i, row := range r.rows {
			state := "shown"
			if row.Suppressed {
				state = row.Reason.String()
			}
			fmt.Fprintf(&b, "\n      %s: %d/%d %s", r.rowString(i), r.cells[i].people, r.cells[i].contrib, state)
		}
		fmt.Fprintf(&b, "\n    totals known: %s", strings.Join(knownA, "; "))
		s.fail(f.kind+" ("+how+")", "%s", b.String())
	}
}

// analyse works out what the released cells, the reasons and the known
// totals give away of r's withheld cells. The known totals are those the
// result shows with its cells; with session set, also those the session
// released. It also returns the totals it used.
func (s *propSession) analyse(r *propResult, withheld []int, session bool) ([]propFinding, []string) {
	d, k := s.d, s.d.k
	col := map[int]int{}
	for j, i := range withheld {
		col[i] = j
	}
	var peopleEqs, valueEqs []propEq
	var known []string
	for _, l := range propLines(r) {
		total, contrib, rhs := newPropSet(d.n), 0, 0
		var cells []int
		for _, i := range l.rows {
			c := r.cells[i]
			total.union(c.set)
			contrib += c.contrib
			if r.rows[i].Suppressed {
				cells = append(cells, col[i])
				rhs += c.people
			}
		}
		n, key := total.size(), total.key()
		if n < k || len(cells) == 0 {
			continue
		}
		eq := propEq{line: l.desc, cells: cells, rhs: rhs}
		if r.shownTotals[l.desc] || session && s.released[key] {
			peopleEqs = append(peopleEqs, eq)
			how := "assumed"
			if s.released[key] {
				how = "released"
			}
			known = append(known, fmt.Sprintf("%s = %d (%s)", l.desc, n, how))
		}
		if r.q.Measure == "spend" && (contrib == 0 || contrib >= k) && (r.shownTotals[l.desc] || session && s.spent[key]) {
			valueEqs = append(valueEqs, eq)
		}
	}
	var found []propFinding
	// Linear algebra: a cell is determined when the unit vector on it
	// lies in the span of the equations.
	// Cells are judged by their true sizes: a small cell's reason may be
	// masked (shown as a difference) when its line's total is known.
	for j, i := range withheld {
		c := r.cells[i]
		switch {
		case c.people < k:
			if !session {
				propStats.linear.Add(1)
			}
			if propDetermined(peopleEqs, len(withheld), j) {
				found = append(found, propFinding{"small cell solvable", i,
					fmt.Sprintf("the size of %s (%d people) follows from the totals", r.rowString(i), c.people)})
			}
		case c.contrib > 0 && c.contrib < k:
			if !session {
				propStats.linearValue.Add(1)
			}
			if propDetermined(valueEqs, len(withheld), j) {
				found = append(found, propFinding{"few-contributor value solvable", i,
					fmt.Sprintf("the spend of %s (resting on %d people) follows from the totals", r.rowString(i), c.contrib)})
			}
		}
	}
	// Exact integer intervals: what the reasons tell (a cell withheld for
	// being small holds 1 to k-1 people; one withheld for a difference,
	// any number; any other withheld cell was large enough to show: k or
	// more) and the totals must leave each small cell two possible sizes
	// at least.
	if len(withheld) > propMaxCells {
		return found, known
	}
	lo, hi := make([]int, len(withheld)), make([]int, len(withheld))
	for j, i := range withheld {
		switch r.rows[i].Reason {
		case slice.FewPeople:
			lo[j], hi[j] = 1, k-1
		case slice.Difference:
			lo[j], hi[j] = 1, d.n
		default:
			lo[j], hi[j] = k, d.n
		}
		if p := r.cells[i].people; p < lo[j] || p > hi[j] {
			found = append(found, propFinding{"reason contradicts size", i,
				fmt.Sprintf("%s is withheld for %s but holds %d people", r.rowString(i), r.rows[i].Reason, p)})
			return found, known
		}
	}
	for j, i := range withheld {
		if r.cells[i].people >= k {
			continue
		}
		if !session {
			propStats.intervals.Add(1)
		}
		var possible []int
		gaveUp := false
		for v := 1; v < k && len(possible) < 2; v++ {
			l, h := slices.Clone(lo), slices.Clone(hi)
			l[j], h[j] = v, v
			budget := propBudget
			ok, exhausted := propFeasible(l, h, peopleEqs, &budget)
			if exhausted {
				propStats.gaveUp.Add(1)
				s.t.Logf("seed %d, query #%d: interval search for %s gave up", d.seed, r.index, r.rowString(i))
				gaveUp = true
				break
			}
			if ok {
				possible = append(possible, v)
			}
		}
		switch {
		case gaveUp || len(possible) >= 2:
		case len(possible) == 0 || possible[0] != r.cells[i].people:
			// The true sizes always satisfy the equations.
			found = append(found, propFinding{"test bug", i,
				fmt.Sprintf("the true size of %s, %d, was found infeasible", r.rowString(i), r.cells[i].people)})
		default:
			found = append(found, propFinding{"small cell pinned", i,
				fmt.Sprintf("%s can only hold %d people, given the reasons and the totals", r.rowString(i), possible[0])})
		}
	}
	return found, known
}

// propDetermined reports whether cell j of n unknowns is fixed by eqs:
// appending the unit vector e_j to the equations' matrix does not raise
// its rank.
func propDetermined(eqs []propEq, n, j int) bool {
	a := make([][]float64, 0, len(eqs)+1)
	for _, eq := range eqs {
		row := make([]float64, n)
		for _, c := range eq.cells {
			row[c] = 1
		}
		a = append(a, row)
	}
	before := propRank(a, n)
	unit := make([]float64, n)
	unit[j] = 1
	return propRank(append(a, unit), n) == before
}

func propRank(rows [][]float64, n int) int {
	if len(rows) == 0 {
		return 0
	}
	data := make([]float64, 0, len(rows)*n)
	for _, r := range rows {
		data = append(data, r...)
	}
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(len(rows), n, data), mat.SVDNone) {
		panic("SVD failed")
	}
	return svd.Rank(1e-9)
}

// propFeasible reports whether integers x with lo <= x <= hi satisfy
// every equation, searching depth first with the bounds each equation
// puts on its cells. budget caps the search; exhausted reports that it
// ran out.
func propFeasible(lo, hi []int, eqs []propEq, budget *int) (ok, exhausted bool) {
	// Tighten the bounds until nothing changes.
	for changed := true; changed; {
		changed = false
		for _, eq := range eqs {
			sumLo, sumHi := 0, 0
			for _, c := range eq.cells {
				sumLo += lo[c]
				sumHi += hi[c]
			}
			if eq.rhs < sumLo || eq.rhs > sumHi {
				return false, false
			}
			for _, c := range eq.cells {
				l := max(lo[c], eq.rhs-(sumHi-hi[c]))
				h := min(hi[c], eq.rhs-(sumLo-lo[c]))
				if l > h {
					return false, false
				}
				if l != lo[c] || h != hi[c] {
					sumLo += l - lo[c]
					sumHi += h - hi[c]
					lo[c], hi[c] = l, h
					changed = true
				}
			}
		}
	}
	// Branch on the open cell with the fewest values left; cells in no
	// equation take any value of theirs.
	best := -1
	for _, eq := range eqs {
		for _, c := range eq.cells {
			if lo[c] < hi[c] && (best < 0 || hi[c]-lo[c] < hi[best]-lo[best]) {
				best = c
			}
		}
	}
	if best < 0 {
		return true, false // every equation's cells fixed, and their sums hold
	}
	for v := lo[best]; v <= hi[best]; v++ {
		if *budget--; *budget < 0 {
			return false, true
		}
		l, h := slices.Clone(lo), slices.Clone(hi)
		l[best], h[best] = v, v
		ok, exhausted := propFeasible(l, h, eqs, budget)
		if ok || exhausted {
			return ok, exhausted
		}
	}
	return false, false
}

// TestPropertyCounterexamples replays, on data sets made by hand, the smallest
// sessions found to break the properties TestPropertyGuard checks.
func TestPropertyCounterexamples(t *testing.T) {
	people := func(dims []string, filters map[string][]string) slice.Query {
		return slice.Query{Dims: dims, Measure: "people", Filters: filters}
	}
	tests := []struct {
		name string
		data *propData
		qs   []slice.Query
	}{
		{
			// Rule 4 compares the remainder of each row and column with
			// every other population, not that of the whole table. c×a
			// withholds column a1 (1 and 2 people, few) and, to cover it,
			// column a2; columns a3 and a4 are shown. With the grand total
			// (39) and a2 alone (10), a1 = 39 - 12 - 14 - 10 = 3 < k.
			"remainder of a two-dimensional table",
			propMakeData(4,
				propGroup{a: "a1", b: "b1", c: "c1", n: 1}, propGroup{a: "a1", b: "b1", c: "c2", n: 2},
				propGroup{a: "a2", b: "b1", c: "c1", n: 5}, propGroup{a: "a2", b: "b1", c: "c2", n: 5},
				propGroup{a: "a3", b: "b1", c: "c1", n: 6}, propGroup{a: "a3", b: "b1", c: "c2", n: 6},
				propGroup{a: "a4", b: "b1", c: "c1", n: 7}, propGroup{a: "a4", b: "b1", c: "c2", n: 7}),
			[]slice.Query{
				people([]string{"c", "a"}, nil),
				people(nil, map[string][]string{"a": {"a2"}}),
				people(nil, nil),
			},
		},
		{
			// Rule 3 checks bounds line by line, and across lines only
			// linearly. c×a is withheld whole (a1: 1 and 1, few; a2: 5
			// and 5; a3: 3 and 3). The whole total (18) less column a2
			// (10) leaves 8 for a1 and a3, whose cells hold k=3 or more:
			// a1's cells hold 1 each.
			"bounds across lines",
			propMakeData(3,
				propGroup{a: "a1", b: "b1", c: "c1", n: 1}, propGroup{a: "a1", b: "b1", c: "c2", n: 1},
				propGroup{a: "a2", b: "b1", c: "c1", n: 5}, propGroup{a: "a2", b: "b1", c: "c2", n: 5},
				propGroup{a: "a3", b: "b1", c: "c1", n: 3}, propGroup{a: "a3", b: "b1", c: "c2", n: 3}),
			[]slice.Query{
				people([]string{"c", "a"}, nil),
				people(nil, map[string][]string{"a": {"a2"}}),
				people(nil, nil),
			},
		},
		{
			// Rule 4 compares populations two by two. a×c withholds all:
			// row a4 (1 and 1) is too small to make safe, so its total is
			// protected; but columns c1 (5) and c2 (5) and row a1 (8) are
			// each released, and c1 + c2 - a1 = 2 pins both a4 cells to 1.
			"three totals make a protected one",
			propMakeData(3,
				propGroup{a: "a1", b: "b1", c: "c1", n: 4}, propGroup{a: "a1", b: "b1", c: "c2", n: 4},
				propGroup{a: "a4", b: "b1", c: "c1", n: 1}, propGroup{a: "a4", b: "b1", c: "c2", n: 1}),
			[]slice.Query{
				people([]string{"a", "c"}, nil),
				people(nil, map[string][]string{"c": {"c1"}}),
				people(nil, map[string][]string{"c": {"c2"}}),
				people(nil, map[string][]string{"a": {"a1"}}),
			},
		},
		{
			// The total (4) is released first; then a1 (few people) and a2
			// (complementary, so at least k=3) are withheld: a1 = 1.
			"total released before its line",
			propMakeData(3,
				propGroup{a: "a1", b: "b1", c: "c1", n: 1},
				propGroup{a: "a2", b: "b1", c: "c1", n: 3}),
			[]slice.Query{
				people(nil, nil),
				people([]string{"a"}, nil),
			},
		},
		{
			// Not a leak: a sum without dimensions whose filters nobody
			// meets fails, its contributors' count being a sum over no
			// rows, NULL (count(*) is 0).
			"sum over nobody",
			propMakeData(3, propGroup{a: "a1", b: "b1", c: "c1", spend: 1, n: 5}),
			[]slice.Query{
				{Measure: "spend", Filters: map[string][]string{"a": {"a2"}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			propCheckSession(t, tt.data, tt.qs, false) // the queries are the whole attack
		})
	}
}

// TestNoLockOut: a row whose whole total is below k is never taken as a
// known total, so a slice with such a row does not spread withholding
// to every cell and protect the grand total already shown: the licence
// keeps its own totals.
func TestNoLockOut(t *testing.T) {
	g := func(a, b string, n int) propGroup { return propGroup{a: a, b: b, c: "x", n: n} }
	d := propMakeData(10,
		g("Rp", "b1", 5),
		g("U", "b1", 100), g("U", "b2", 100),
		g("V", "b1", 200), g("V", "b2", 200),
		g("W", "b1", 50), g("W", "b2", 60), g("W", "b3", 300),
		g("X", "b2", 300),
		g("Y", "b3", 350),
	)
	e := propOpen(t, d)
	run := func(q slice.Query) *slice.Result {
		res, err := e.Run(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	run(slice.Query{Measure: "people"})
	res := run(slice.Query{Dims: []string{"a", "b"}, Measure: "people"})
	shown := 0
	for _, r := range res.Rows {
		if !r.Suppressed {
			shown++
		}
	}
	if shown < len(res.Rows)/2 {
		t.Errorf("a×b: %d of %d cells shown; one small row should cost a few cells, not the table", shown, len(res.Rows))
	}
	for _, q := range []slice.Query{{Measure: "people"}, {Dims: []string{"b"}, Measure: "people"}, {Dims: []string{"c"}, Measure: "people"}} {
		for _, r := range run(q).Rows {
			if r.Suppressed {
				t.Errorf("%v by %v: %v withheld (%v) after the a×b slice", q.Measure, q.Dims, r.Keys, r.Reason)
			}
		}
	}
}
