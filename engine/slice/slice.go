// Package slice answers the workbench's one kind of question: a measure
// broken down by up to two dimensions, under filters, sorted and cut to
// the top N. The query is described by names from the field inventory;
// every name is checked against it before it is quoted into SQL, and every
// value is bound as a parameter.
//
// Each result row carries the number of people behind it. A row behind
// fewer than k people is suppressed inside the database: neither its value
// nor its head count ever leaves DuckDB, and it is marked as withheld, never
// shown as zero. A person who holds several values of a multi-valued
// dimension counts once in each of those values' rows.
package slice

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/persona-workbench/persona/engine/inventory"
)

// DefaultK is the minimum group size when the licence does not set one.
const DefaultK = 10

// MaxDims is the most dimensions a slice can have.
const MaxDims = 2

// Order says how result rows are sorted.
type Order int

const (
	// Auto keeps ordinal and time dimensions in their natural order and
	// sorts nominal single-dimension slices by value, largest first.
	Auto Order = iota
	// ValueDesc sorts by value, largest first.
	ValueDesc
	// ValueAsc sorts by value, smallest first.
	ValueAsc
	// Label sorts by the dimensions' natural order, then by label.
	Label
)

var orderNames = []string{"auto", "value-desc", "value-asc", "label"}

func (o Order) String() string {
	if int(o) < len(orderNames) {
		return orderNames[o]
	}
	return "order(" + strconv.Itoa(int(o)) + ")"
}

// ParseOrder parses an Order's name.
func ParseOrder(s string) (Order, error) {
	if i := slices.Index(orderNames, s); i >= 0 {
		return Order(i), nil
	}
	return 0, fmt.Errorf("unknown sort %q: want one of %s", s, strings.Join(orderNames, ", "))
}

// Query describes a slice.
type Query struct {
	Dims    []string            // 0-2 dimension names
	Filters map[string][]string // dimension name → accepted values
	Measure string              // measure name
	Order   Order
	TopN    int // keep the N rows of largest value (0: all), in Order
}

// Missing is the key of a missing dimension value (NULL or empty). As a
// filter value it selects the missing values.
const Missing = ""

// Row is one cell of a slice.
type Row struct {
	Keys   []string // one per dimension; Missing for a missing value
	Value  float64  // valid only when !Suppressed; NaN when undefined (a ratio over zero)
	People int64    // valid only when !Suppressed
	// Suppressed rows are behind fewer than k people: neither value nor
	// head count left the database.
	Suppressed bool
}

// Defined reports whether the row has a finite value to show.
func (r Row) Defined() bool {
	return !r.Suppressed && !math.IsNaN(r.Value) && !math.IsInf(r.Value, 0)
}

// Result is a slice's answer.
type Result struct {
	Query      Query
	Dims       []inventory.Field
	Measure    inventory.MeasureDef
	Rows       []Row
	Suppressed int // rows withheld, of those in Rows
	K          int
	// PeopleLabel names the head-count column: the label of the
	// inventory's count measure.
	PeopleLabel inventory.Label
	Elapsed     time.Duration
}

// Querier runs SQL; *store.DB is one.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ErrQuery is wrapped by every error in a query's description.
var ErrQuery = errors.New("invalid query")

// Engine runs slices over one table described by an inventory.
type Engine struct {
	db  Querier
	inv *inventory.Inventory
	k   int
}

// New returns an engine over db's table inv.Table. columns, the table's
// column names and DuckDB types, are checked against the inventory.
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
	return &Engine{db: db, inv: inv, k: k}, nil
}

// Inventory returns the engine's inventory.
func (e *Engine) Inventory() *inventory.Inventory { return e.inv }

func (e *Engine) peopleLabel() inventory.Label {
	for _, m := range e.inv.Measures {
		if m.Kind == inventory.Count {
			return m.Label
		}
	}
	return inventory.Label{ZH: "人数", EN: "People"}
}

// K returns the minimum group size.
func (e *Engine) K() int { return e.k }

// plan is a query compiled to SQL.
type plan struct {
	sql  string
	args []any
	dims []inventory.Field
	m    inventory.MeasureDef
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
	if slices.Contains(vals, Missing) {
		cond = fmt.Sprintf("(%s OR %s IS NULL)", cond, expr)
	}
	return cond
}

func quote(name string) string { return `"` + name + `"` } // names are ValidIdent-checked

func bad(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrQuery, fmt.Sprintf(format, a...))
}

// compile checks q against the inventory and builds its SQL.
func (e *Engine) compile(q Query) (*plan, error) {
	inv := e.inv
	if len(q.Dims) > MaxDims {
		return nil, bad("%d dimensions, at most %d", len(q.Dims), MaxDims)
	}
	if q.TopN < 0 {
		return nil, bad("top-N must not be negative")
	}
	m, ok := inv.Measure(q.Measure)
	if !ok {
		return nil, bad("unknown measure %q", q.Measure)
	}
	p := &plan{m: m}
	series := inv.Series(m)

	var from, keys, where []string
	from = append(from, quote(inv.Table)+" AS t")
	timeVar := "" // SQL expression of the period index when time is a dimension
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
			keys = append(keys, "nullif(t."+quote(f.Name)+", '')")
		case inventory.MultiDimension:
			alias := fmt.Sprintf("d%d", i)
			// Lists hold distinct values (dataset.Open makes sure), so a
			// person counts once per value.
			from = append(from, fmt.Sprintf("unnest(t.%s) AS %s(v)", quote(f.Name), alias))
			keys = append(keys, alias+".v")
		case inventory.Time:
			if m.Kind != inventory.Count && series != f.Name {
				return nil, bad("measure %q does not vary by %s; remove that dimension or pick a measure with a %s series", m.Name, f.Name, f.Name)
			}
			from = append(from, fmt.Sprintf("range(1, %d) AS tm(i)", len(f.Order)+1))
			timeVar = "tm.i"
			keys = append(keys, "tm.i")
		default:
			return nil, bad("%q is a %s field, not a dimension", name, f.Role)
		}
		p.dims = append(p.dims, f)
	}

	var periods []int // selected period indexes (1-based) when time is filtered
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
			where = append(where, inFilter("t."+quote(name), vals, p))
		case inventory.MultiDimension:
			if dimPos >= 0 {
				where = append(where, inFilter(fmt.Sprintf("d%d.v", dimPos), vals, p))
			} else {
				where = append(where, fmt.Sprintf("list_has_any(t.%s, [%s])", quote(name), p.params(vals)))
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

	people := "count(*)"
	if w, ok := inv.WeightField(); ok {
		people = "sum(t." + quote(w.Name) + ")"
	}
	input := func(name string) string {
		f, _ := inv.Field(name)
		col := "t." + quote(f.Name)
		switch {
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
	var value string
	switch m.Kind {
	case inventory.Count:
		value = people
	case inventory.Sum:
		value = "sum(" + input(m.Field) + ")"
	case inventory.Mean:
		value = "sum(" + input(m.Field) + ")::DOUBLE / " + people
	case inventory.Ratio:
		value = "sum(" + input(m.Field) + ")::DOUBLE / nullif(sum(" + input(m.Over) + "), 0)"
	case inventory.Share:
		w := "1"
		if wf, ok := inv.WeightField(); ok {
			w = "t." + quote(wf.Name)
		}
		value = "sum(CASE WHEN " + input(m.Field) + " THEN " + w + " ELSE 0 END)::DOUBLE / " + people
	}

	var inner strings.Builder
	inner.WriteString("SELECT ")
	for i, k := range keys {
		fmt.Fprintf(&inner, "%s AS k%d, ", k, i)
	}
	fmt.Fprintf(&inner, "%s AS people, (%s)::DOUBLE AS value FROM %s", people, value, strings.Join(from, ", "))
	if len(where) > 0 {
		inner.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	if len(keys) > 0 {
		inner.WriteString(" GROUP BY ALL")
	}
	k := p.param(e.k)
	var outer strings.Builder
	outer.WriteString("SELECT ")
	for i := range keys {
		fmt.Fprintf(&outer, "k%d, ", i)
	}
	// Suppression happens here, inside DuckDB: a cell behind fewer than k
	// people returns neither its value nor its head count.
	fmt.Fprintf(&outer, "CASE WHEN people >= %[1]s THEN people END, CASE WHEN people >= %[1]s THEN value END FROM (%s)", k, inner.String())
	p.sql = outer.String()
	return p, nil
}

// SQL returns the SQL and arguments a query compiles to, for tests,
// benchmarks and debugging. It holds no data.
func (e *Engine) SQL(q Query) (string, []any, error) {
	p, err := e.compile(q)
	if err != nil {
		return "", nil, err
	}
	return p.sql, p.args, nil
}

// Run answers a query. Cancelling ctx interrupts DuckDB.
func (e *Engine) Run(ctx context.Context, q Query) (*Result, error) {
	start := time.Now()
	p, err := e.compile(q)
	if err != nil {
		return nil, err
	}
	rows, err := e.db.QueryContext(ctx, p.sql, p.args...)
	if err != nil {
		return nil, fmt.Errorf("run slice: %w", err)
	}
	defer rows.Close()
	res := &Result{Query: q, Dims: p.dims, Measure: p.m, K: e.k, PeopleLabel: e.peopleLabel()}
	n := len(p.dims)
	for rows.Next() {
		var (
			raw    = make([]any, n)
			people sql.NullInt64
			value  sql.NullFloat64
		)
		dest := make([]any, 0, n+2)
		for i := range raw {
			dest = append(dest, &raw[i])
		}
		dest = append(dest, &people, &value)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read slice: %w", err)
		}
		r := Row{Keys: make([]string, n)}
		for i, v := range raw {
			r.Keys[i] = keyString(p.dims[i], v)
		}
		if !people.Valid {
			r.Suppressed = true
		} else {
			r.People = people.Int64
			r.Value = math.NaN() // NULL: a ratio over zero has no value
			if value.Valid {
				r.Value = value.Float64
			}
		}
		res.Rows = append(res.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read slice: %w", err)
	}
	sortRows(res)
	res.Suppressed = 0
	for _, r := range res.Rows {
		if r.Suppressed {
			res.Suppressed++
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func keyString(f inventory.Field, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return Printable(x)
	case int64:
		if f.Role == inventory.Time && x >= 1 && int(x) <= len(f.Order) {
			return f.Order[x-1]
		}
		return strconv.FormatInt(x, 10)
	default:
		return Printable(fmt.Sprint(x))
	}
}

// Printable replaces control characters, which could drive the terminal
// (escape sequences in a data value), with U+FFFD.
func Printable(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return unicode.ReplacementChar
		}
		return r
	}, s)
}

// rank orders a dimension's values: by their position in an ordinal
// order, otherwise by label in Chinese collation (pinyin, so 安徽 comes
// before 北京), which also orders Latin text as expected; missing values
// last.
func rank(col *collate.Collator, f inventory.Field, a, b string) int {
	if a == b {
		return 0
	}
	if a == "" {
		return 1
	}
	if b == "" {
		return -1
	}
	if f.Ordinal() {
		ia, ib := slices.Index(f.Order, a), slices.Index(f.Order, b)
		if ia < 0 {
			ia = len(f.Order)
		}
		if ib < 0 {
			ib = len(f.Order)
		}
		if c := cmp.Compare(ia, ib); c != 0 {
			return c
		}
	}
	if c := col.CompareString(a, b); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func valueClass(r Row) int {
	switch {
	case r.Suppressed:
		return 2
	case !r.Defined():
		return 1
	}
	return 0
}

// sortRows orders the rows; with a top-N it first keeps the N largest
// values, then orders those.
func sortRows(res *Result) {
	col := collate.New(language.Chinese)
	byLabel := func(a, b Row) int {
		for i, f := range res.Dims {
			if c := rank(col, f, a.Keys[i], b.Keys[i]); c != 0 {
				return c
			}
		}
		return 0
	}
	byValue := func(desc bool) func(a, b Row) int {
		return func(a, b Row) int {
			// Rows without a value go last: undefined, then withheld.
			if c := cmp.Compare(valueClass(a), valueClass(b)); c != 0 {
				return c
			}
			if a.Defined() {
				c := cmp.Compare(a.Value, b.Value)
				if desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return byLabel(a, b)
		}
	}
	if n := res.Query.TopN; n > 0 && len(res.Rows) > n {
		slices.SortStableFunc(res.Rows, byValue(true))
		res.Rows = res.Rows[:n]
	}
	order := res.Query.Order
	if order == Auto {
		order = Label
		switch {
		case len(res.Dims) == 1 && !res.Dims[0].Ordinal():
			order = ValueDesc
		case len(res.Dims) == 2 && !res.Dims[0].Ordinal():
			// Groups of a nominal first dimension, largest first (by the
			// people shown in them); within a group, the second
			// dimension's natural order.
			size := map[string]int64{}
			for _, r := range res.Rows {
				size[r.Keys[0]] += r.People // 0 for withheld rows
			}
			slices.SortStableFunc(res.Rows, func(a, b Row) int {
				if c := cmp.Compare(size[b.Keys[0]], size[a.Keys[0]]); c != 0 {
					return c
				}
				return byLabel(a, b)
			})
			return
		}
	}
	switch order {
	case ValueDesc:
		slices.SortStableFunc(res.Rows, byValue(true))
	case ValueAsc:
		slices.SortStableFunc(res.Rows, byValue(false))
	default:
		slices.SortStableFunc(res.Rows, byLabel)
	}
}
