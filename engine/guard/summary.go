package guard

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// summary is a table of the records grouped by every single-valued
// dimension, with each group's head count and, for each measure field,
// its sum and its contributors (over all periods and per period). Every
// number the guard needs of a slice over single-valued dimensions is a
// sum over the groups, so such slices, and the difference checks
// between their populations, read the summary instead of the records:
// a few hundred thousand rows instead of tens of millions. Head counts
// and contributors are integers, added up exactly either way, so the
// guard decides the same; sums of decimal values may differ in the last
// bits, as they do between runs over the records.
//
// DuckDB has no materialised views or aggregate-aware rewriting, so the
// guard keeps this one table itself.
type summary struct {
	table string // quoted name of the summary table
	// multi holds, for each multi-valued dimension, the quoted name of
	// a summary grouped also by its values (column v), with each group's
	// head count and share of its people's values (column s: see
	// compile's shares), but no measure fields.
	multi  map[string]string
	dims   map[string]bool // the single-valued dimensions it groups by
	fields map[string]int  // measure field → its index in the column names
	groups int64
	rows   map[string]int64 // rows of each table kept, by multi-valued dimension ("": the first)
	keyed  bool             // it holds the cell key method's columns (perturb.go)
}

// summaryName names an engine's summary table, and with a multi-valued
// dimension its summary by that dimension's values; each engine has its
// own, so engines over one database never share or drop each other's.
// The colon cannot occur in an inventory name, so it never meets a field
// or a derived dimension.
func summaryName(table string, engine uint64, multi string) string {
	name := table + ":summary:" + strconv.FormatUint(engine, 10)
	if multi != "" {
		name += ":" + multi
	}
	return quote(name)
}

// engines numbers engines, for their summaries' names.
var engines atomic.Uint64

// The summary's own columns: a group's head count, its records, and in
// a summary by a multi-valued dimension the value and the people's
// shares. Like every summary column they hold a colon, which no
// inventory name does, so no dimension can take their names.
const (
	colN       = `":n"`
	colRecords = `":records"`
	colV       = `":v"`
	colS       = `":s"`
)

// sumCol and nzCol name a field's sum and contributors in the summary,
// over all periods (period 0) or one (1-based).
func sumCol(i, period int) string {
	return quote("m" + strconv.Itoa(i) + ":sum:" + strconv.Itoa(period))
}
func nzCol(i, period int) string { return quote("m" + strconv.Itoa(i) + ":nz:" + strconv.Itoa(period)) }

// SummaryRoom is the largest share of DuckDB's memory limit the tables
// may take for a summary to be built: it adds tables, and its build
// needs room to group.
const SummaryRoom = 0.4

// ErrNoRoom is returned by Summarise when memory is too short for it.
var ErrNoRoom = errors.New("no room in memory for a summary")

// room is what a Querier that can tell its memory (*store.DB) says.
type room interface {
	Room(context.Context) (used, limit int64, err error)
}

// SummaryLimit is the largest share of the records the summary's groups
// may number: above it, reading the summary would save little, and it is
// dropped.
const SummaryLimit = 0.125

// SummaryValuesLimit is the same for a table of head counts by a
// multi-valued dimension's values, as a share of the records' values:
// a slice over the records unnests every list, so reading such a table
// still pays at a larger share (at 1M sample records, the table by
// category holds 758,101 rows, and the province × category heatmap reads
// it in half the time the records take).
const SummaryValuesLimit = 1.0 / 3

// Summarise builds the summary table (see summary) and, once it is
// complete, makes the engine slice from it where it can. It reads every
// record once; the workbench runs it in the background after opening,
// and slices run over the records until it is done. It returns the
// number of groups, or 0 when they are more than maxShare of the
// records (0: SummaryLimit, and SummaryValuesLimit for the tables by a
// multi-valued dimension's values), too many for a summary to pay, or
// there is no single-valued dimension.
func (e *Engine) Summarise(ctx context.Context, maxShare float64) (int64, error) {
	valuesShare := maxShare
	if maxShare <= 0 {
		maxShare, valuesShare = SummaryLimit, SummaryValuesLimit
	}
	// One build at a time. It reads the table while derived dimensions
	// may be added to it (ensure): DuckDB gives each its own snapshot,
	// and the summary reads only the data's own columns.
	e.sumMu.Lock()
	defer e.sumMu.Unlock()
	if s := e.summ.Load(); s != nil {
		return s.groups, nil
	}
	if err := e.roomFor(ctx, "the data"); err != nil {
		return 0, err
	}
	inv := e.Inventory()
	s := &summary{table: summaryName(inv.Table, e.id, ""), multi: map[string]string{}, dims: map[string]bool{}, fields: map[string]int{}, rows: map[string]int64{}, keyed: e.pert.Load() != nil}
	var keys, aggs, multi []string
	// Integer sums are kept as BIGINT: DuckDB adds up a HUGEINT column
	// (what sum() of integers returns) tens of times slower. A group
	// whose sum does not fit fails the build, and slices keep reading
	// the records.
	big := func(sum string) string { return "(" + sum + ")::BIGINT" }
	people, w := "count(*)", "1"
	if wf, ok := inv.WeightField(); ok {
		people, w = big("sum(t."+quote(wf.Name)+")"), "t."+quote(wf.Name)
	}
	nonzero := func(x string) string {
		if w == "1" {
			return "count(*) FILTER (WHERE " + x + " <> 0)"
		}
		return big("sum(" + w + ") FILTER (WHERE " + x + " <> 0)")
	}
	// Under the cell key method each group keeps its records' keys
	// combined, and each field its contributors' keys and largest
	// contribution, which combine across groups the same way (sum, max).
	keyed := e.pert.Load() != nil
	perField := func(i, p int, x string, boolean bool) []string {
		if !keyed {
			return nil
		}
		if boolean {
			return []string{"sum(CASE WHEN " + x + " THEN t." + colKey + " ELSE 0 END) AS " + nzKeyCol(i, p), "1 AS " + topCol(i, p)}
		}
		return []string{"sum(CASE WHEN " + x + " <> 0 THEN t." + colKey + " ELSE 0 END) AS " + nzKeyCol(i, p), "max(abs(" + x + ")) AS " + topCol(i, p)}
	}
	if keyed {
		aggs = append(aggs, "sum(t."+colKey+") AS "+colKey)
	}
	for _, f := range inv.Fields {
		switch {
		case f.Role == inventory.Dimension && !strings.HasPrefix(f.Name, slice.SegmentPrefix):
			s.dims[f.Name] = true
			keys = append(keys, "t."+quote(f.Name))
		case f.Role == inventory.MultiDimension:
			multi = append(multi, f.Name)
		case f.Role == inventory.Measure:
			i := len(s.fields)
			s.fields[f.Name] = i
			col := "t." + quote(f.Name)
			total := big
			if strings.HasPrefix(f.Type, "DOUBLE") {
				total = func(sum string) string { return sum }
			}
			switch {
			case f.Type == "BOOLEAN":
				// A share's sum and contributors are both the people
				// for whom it holds.
				yes := big("sum(CASE WHEN " + col + " THEN " + w + " ELSE 0 END)")
				aggs = append(aggs, yes+" AS "+sumCol(i, 0), yes+" AS "+nzCol(i, 0))
				aggs = append(aggs, perField(i, 0, col, true)...)
			case f.Series == "":
				aggs = append(aggs, total("sum("+col+")")+" AS "+sumCol(i, 0), nonzero(col)+" AS "+nzCol(i, 0))
				aggs = append(aggs, perField(i, 0, col, false)...)
			default:
				whole := "list_sum(" + col + ")"
				aggs = append(aggs, total("sum("+whole+")")+" AS "+sumCol(i, 0), nonzero(whole)+" AS "+nzCol(i, 0))
				aggs = append(aggs, perField(i, 0, whole, false)...)
				t, _ := inv.Field(f.Series)
				for p := 1; p <= len(t.Order); p++ {
					x := fmt.Sprintf("%s[%d]", col, p)
					aggs = append(aggs, total("sum("+x+")")+" AS "+sumCol(i, p), nonzero(x)+" AS "+nzCol(i, p))
					aggs = append(aggs, perField(i, p, x, false)...)
				}
			}
		}
	}
	if len(keys) == 0 {
		return 0, nil
	}
	if len(multi) > 0 {
		if err := e.distinctLists(ctx); err != nil {
			return 0, fmt.Errorf("summarise: %w", err)
		}
	}
	src := quote(inv.Table)
	builds := []struct{ table, sql string }{{s.table, fmt.Sprintf(
		"CREATE OR REPLACE TABLE %s AS SELECT %s, %s AS %s, %s FROM %s AS t GROUP BY ALL",
		s.table, strings.Join(keys, ", "), people, colN, strings.Join(append([]string{"count(*) AS " + colRecords}, aggs...), ", "), src)}}
	for _, m := range multi {
		// A record appears once per value, as when a slice unnests the
		// list; s adds up each appearance's share of its person.
		table := summaryName(inv.Table, e.id, m)
		share := fmt.Sprintf("sum(%s::DOUBLE / len(t.%s)) AS %s", w, quote(m), colS)
		if keyed {
			share += ", sum(t." + colKey + ") AS " + colKey
		}
		// Head counts only: a measure's sums per value would cost the
		// build more than they save.
		builds = append(builds, struct{ table, sql string }{table, fmt.Sprintf(
			"CREATE OR REPLACE TABLE %s AS SELECT %s, u.v AS %s, %s AS %s, %s, count(*) AS %s FROM %s AS t, unnest(t.%s) AS u(v) GROUP BY ALL",
			table, strings.Join(keys, ", "), colV, people, colN, share, colRecords, src, quote(m))})
	}
	done := false
	defer func() { // a summary cut short frees what it built
		if !done {
			for _, b := range builds {
				e.exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+b.table)
			}
		}
	}()
	for j, b := range builds {
		if err := e.exec(ctx, b.sql); err != nil {
			return 0, fmt.Errorf("summarise: %w", err)
		}
		var groups, records int64
		row, err := e.db.QueryContext(ctx, "SELECT count(*), coalesce(sum("+colRecords+"), 0) FROM "+b.table)
		if err == nil {
			if row.Next() {
				err = row.Scan(&groups, &records)
			}
			if err == nil {
				err = row.Err()
			}
			row.Close()
		}
		if err != nil {
			return 0, fmt.Errorf("summarise: %w", err)
		}
		limit := maxShare
		if j > 0 {
			limit = valuesShare
		}
		if float64(groups) > limit*float64(records) {
			if err := e.exec(ctx, "DROP TABLE "+b.table); err != nil {
				return 0, err
			}
			if j == 0 {
				return 0, nil // no summary pays without the first
			}
			continue
		}
		if j == 0 {
			s.groups, s.rows[""] = groups, groups
		} else {
			s.multi[multi[j-1]], s.rows[multi[j-1]] = b.table, groups
		}
	}
	// The summary itself must leave the room it asked for.
	if err := e.roomFor(ctx, "with the summary, the tables"); err != nil {
		return 0, err
	}
	done = true
	e.summ.Store(s)
	return s.groups, nil
}

// roomFor returns ErrNoRoom when DuckDB's tables (what) take more than
// SummaryRoom of its memory limit, for a Querier that can tell.
func (e *Engine) roomFor(ctx context.Context, what string) error {
	r, ok := e.db.(room)
	if !ok {
		return nil
	}
	used, limit, err := r.Room(ctx)
	if err != nil {
		return fmt.Errorf("summarise: %w", err)
	}
	if limit > 0 && float64(used) > SummaryRoom*float64(limit) {
		return fmt.Errorf("%w: %s take %d MB of DuckDB's %d MB", ErrNoRoom, what, used>>20, limit>>20)
	}
	return nil
}

// exec runs a statement that returns no rows.
func (e *Engine) exec(ctx context.Context, stmt string) error {
	rows, err := e.db.QueryContext(ctx, stmt)
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	err = rows.Err()
	rows.Close()
	return err
}

// Summarised reports whether slices read the summary where they can.
func (e *Engine) Summarised() bool { return e.summ.Load() != nil }

// SummaryRows returns the rows of each summary table kept: "" for the
// summary by the single-valued dimensions, and each multi-valued
// dimension's name for the summary by its values; nil before Summarise.
func (e *Engine) SummaryRows() map[string]int64 {
	if s := e.summ.Load(); s != nil {
		return maps.Clone(s.rows)
	}
	return nil
}

// covers reports whether the summary holds every population the
// conditions describe: all on single-valued dimensions it groups by.
func (s *summary) covers(cs []cond) bool {
	for _, c := range cs {
		if c.Multi || !s.dims[c.Dim] {
			return false
		}
	}
	return true
}

// coversEntry reports whether a difference check of en can read the
// summary: its population covered, and its contributions, if any, those
// of a field over all periods or over one.
func (s *summary) coversEntry(en Entry) bool {
	if en.Def != nil || !s.covers(en.Pop.Conds) {
		return false
	}
	for _, cs := range en.Pop.Or {
		if !s.covers(cs) {
			return false
		}
	}
	if en.Field == "" {
		return true
	}
	_, ok := s.fields[en.Field]
	return ok && len(en.Periods) <= 1
}

// contributors is the summary column of field's contributors over
// periods (none: all; else exactly one).
func (s *summary) contributors(field string, periods []int) string {
	p := 0
	if len(periods) == 1 {
		p = periods[0]
	}
	return "t." + nzCol(s.fields[field], p)
}

// answers reports whether q can be answered from s, and from which of
// its tables: multi is the multi-valued dimension sliced, if any. Its
// dimensions must be single-valued dimensions s groups by, or one
// multi-valued one unfiltered (for a head count), or the time dimension
// sliced (not
// filtered alone: a sum over chosen periods has contributors no
// per-period count gives); its filters on single-valued dimensions or
// the sliced time; nothing held.
func (s *summary) answers(q slice.Query, inv *inventory.Inventory) (multi string, ok bool) {
	if len(q.Holding) > 0 {
		return "", false
	}
	timeSliced := false
	for _, name := range q.Dims {
		f, ok := inv.Field(name)
		switch {
		case !ok:
			return "", false
		case f.Role == inventory.Time:
			timeSliced = true
		case f.Role == inventory.MultiDimension:
			if _, ok := s.multi[name]; !ok || multi != "" {
				return "", false
			}
			multi = name
		case !s.dims[name]:
			return "", false
		}
	}
	for name := range q.Filters {
		f, ok := inv.Field(name)
		switch {
		case !ok:
			return "", false
		case f.Role == inventory.Time:
			if !timeSliced {
				return "", false
			}
		case !s.dims[name]:
			return "", false
		}
	}
	m, ok := inv.Measure(q.Measure)
	if !ok {
		return "", false
	}
	for _, f := range []string{m.Field, m.Over} {
		if _, ok := s.fields[f]; f != "" && (!ok || multi != "") {
			return "", false
		}
	}
	return multi, true
}

// grouped is the summary table added up by the dimensions among dims
// (a multi-valued one by its values), under the conditions where, with the head count and the given
// fields' per-period sums and contributors under their summary names:
// a source with the summary's columns for a series, whose rows are the
// series' lines.
func (s *summary) grouped(table string, dims []inventory.Field, fields []string, inv *inventory.Inventory, where []string) string {
	var sel []string
	for _, d := range dims {
		switch d.Role {
		case inventory.Dimension:
			sel = append(sel, "t."+quote(d.Name))
		case inventory.MultiDimension:
			sel = append(sel, "t."+colV, "sum(t."+colS+") AS "+colS)
		}
	}
	sel = append(sel, "sum(t."+colN+") AS "+colN)
	if s.keyed {
		sel = append(sel, "sum(t."+colKey+") AS "+colKey)
	}
	for _, name := range fields {
		i := s.fields[name]
		f, _ := inv.Field(name)
		periods := 0
		if t, ok := inv.Field(f.Series); ok {
			periods = len(t.Order)
		}
		for p := 0; p <= periods; p++ {
			sel = append(sel, "sum(t."+sumCol(i, p)+") AS "+sumCol(i, p), "sum(t."+nzCol(i, p)+") AS "+nzCol(i, p))
			if s.keyed {
				sel = append(sel, "sum(t."+nzKeyCol(i, p)+") AS "+nzKeyCol(i, p), "max(t."+topCol(i, p)+") AS "+topCol(i, p))
			}
		}
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + table + " AS t"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	// With no dimension but time, GROUP BY ALL still makes a row when
	// nothing matches; the records would make none.
	return "(" + q + " GROUP BY ALL HAVING count(*) > 0) AS t"
}
