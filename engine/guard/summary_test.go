package guard_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/persona-workbench/persona/engine/dataset"
	"github.com/persona-workbench/persona/engine/guard"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/engine/store"
)

// summaryQueries are slices a summary answers, and some it does not (a
// multi-valued dimension, a held value, a sum over chosen months), in
// an order that makes later ones come within k of earlier ones, so the
// difference checks run too.
var summaryQueries = []slice.Query{
	{Dims: []string{"province", "age_band"}, Measure: "gmv", Filters: map[string][]string{"member_level": {"白银会员"}}},
	{Dims: []string{"province"}, Measure: "people", Totals: true},
	{Dims: []string{"province"}, Measure: "people", Filters: map[string][]string{"age_band": {"25-29", "30-34"}}},
	{Dims: []string{"age_band", "member_level"}, Measure: "aov", Totals: true},
	{Dims: []string{"month"}, Measure: "orders"},
	{Dims: []string{"month", "city_tier"}, Measure: "gmv_per_person", Filters: map[string][]string{"province": {"广东", "浙江"}, "month": {"2025-03", "2025-04", "2025-05"}}},
	{Dims: []string{"province"}, Measure: "conversion_rate", Filters: map[string][]string{"campaign_exposure": {"已曝光"}}},
	{Dims: []string{"province"}, Measure: "gmv", TopN: 5, Other: true},
	{Dims: []string{"gender", "device"}, Measure: "orders", Filters: map[string][]string{"province": {"西藏"}}},
	{Dims: []string{"member_level"}, Measure: "people", Filters: map[string][]string{"province": {"西藏"}}, Totals: true},
	{Dims: []string{"member_level"}, Measure: "gmv", Filters: map[string][]string{"province": {"西藏", "青海"}}},
	{Dims: []string{"province", "categories"}, Measure: "people"},
	{Dims: []string{"age_band"}, Measure: "people", Holding: map[string][]string{"categories": {"美妆"}}},
	{Dims: []string{"age_band"}, Measure: "gmv", Filters: map[string][]string{"month": {"2025-01", "2025-02"}}},
	{Dims: []string{"age_band"}, Measure: "gmv", Filters: map[string][]string{"province": {"西藏"}}},
	{Dims: []string{"month"}, Measure: "people", Filters: map[string][]string{"province": {"不存在"}}},
	{Dims: []string{"month"}, Measure: "orders", Filters: map[string][]string{"province": {"不存在"}}, Totals: true},
}

// Slices read from the summary equal slices read from the records: the
// same cells, head counts, withheld cells and reasons, and the same
// values (to rounding), each engine checking against its own history.
func TestSummaryEqualsRecords(t *testing.T) {
	ds := attackData(t)
	ctx := context.Background()
	cols, err := ds.Store().Columns(ctx, ds.Inventory.Table)
	if err != nil {
		t.Fatal(err)
	}
	newEngine := func() *guard.Engine {
		e, err := guard.New(ds.Store(), ds.Inventory, cols, attackK)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	records, summed := newEngine(), newEngine()
	groups, err := summed.Summarise(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if groups == 0 || !summed.Summarised() || records.Summarised() {
		t.Fatalf("summary of %d groups (summarised: %v)", groups, summed.Summarised())
	}
	rows := summed.SummaryRows()
	t.Logf("%d records in %d groups; rows %v", ds.Inventory.Records, groups, rows)
	if rows["categories"] == 0 || rows["page_types"] == 0 {
		t.Fatalf("no summary by a multi-valued dimension: %v", rows)
	}
	used := 0
	for _, q := range summaryQueries {
		sql, _, err := summed.SQL(q)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(sql, ":summary") {
			used++
		}
		compareResults(t, q, run(t, records, q), run(t, summed, q))
	}
	if used < 10 {
		t.Fatalf("only %d of %d queries read the summary", used, len(summaryQueries))
	}
}

// The same holds with a weight field, where a record stands for several
// people.
func TestSummaryWeighted(t *testing.T) {
	db, inv := fixture(t)
	inv.Fields = append(inv.Fields, inventory.Field{Name: "w", Label: inventory.Label{ZH: "权重", EN: "weight"}, Role: inventory.Weight, Type: "INTEGER"})
	ctx := context.Background()
	for _, k := range []int{2, 3} {
		records, summed := engine(t, db, inv, k), engine(t, db, inv, k)
		if n, err := summed.Summarise(ctx, 1); err != nil || n == 0 {
			t.Fatalf("summary: %d groups, %v", n, err)
		}
		for _, q := range []slice.Query{
			{Dims: []string{"province"}, Measure: "people"},
			{Dims: []string{"age_band"}, Measure: "conversion_rate"},
			{Dims: []string{"province"}, Measure: "conversion_rate"},
			{Dims: []string{"age_band", "province"}, Measure: "people", Totals: true},
		} {
			compareResults(t, q, run(t, records, q), run(t, summed, q))
		}
	}
}

// A data set whose groups are almost as many as its records keeps no
// summary.
func TestSummaryDroppedWhenItWouldNotPay(t *testing.T) {
	db, inv := fixture(t)
	e := engine(t, db, inv, 3)
	n, err := e.Summarise(context.Background(), 0)
	if err != nil || n != 0 || e.Summarised() {
		t.Fatalf("a summary of %d groups kept for %d records (%v)", n, inv.Records, err)
	}
}

func run(t *testing.T, e *guard.Engine, q slice.Query) *slice.Result {
	t.Helper()
	res, err := e.Run(context.Background(), q)
	if err != nil {
		t.Fatalf("%+v: %v", q, err)
	}
	return res
}

func compareResults(t *testing.T, q slice.Query, a, b *slice.Result) {
	t.Helper()
	rows := func(what string, a, b []slice.Row) {
		t.Helper()
		if len(a) != len(b) {
			t.Fatalf("%+v %s: %d rows from the records, %d from the summary", q, what, len(a), len(b))
		}
		for i := range a {
			ra, rb := a[i], b[i]
			same := strings.Join(ra.Keys, "|") == strings.Join(rb.Keys, "|") && ra.People == rb.People &&
				ra.Suppressed == rb.Suppressed && ra.Reason == rb.Reason
			if same && ra.Defined() != rb.Defined() {
				same = false
			}
			if same && ra.Defined() && math.Abs(ra.Value-rb.Value) > 1e-9*math.Max(1, math.Abs(ra.Value)) {
				same = false
			}
			if !same {
				t.Fatalf("%+v %s row %d: records %+v, summary %+v", q, what, i, ra, rb)
			}
		}
	}
	rows("rows", a.Rows, b.Rows)
	one := func(r *slice.Row) []slice.Row {
		if r == nil {
			return nil
		}
		return []slice.Row{*r}
	}
	rows("total", one(a.Total), one(b.Total))
	rows("other", one(a.Other), one(b.Other))
	byKeys := func(rs []slice.Row) []slice.Row {
		rs = slices.Clone(rs)
		slices.SortFunc(rs, func(x, y slice.Row) int { return strings.Compare(strings.Join(x.Keys, "|"), strings.Join(y.Keys, "|")) })
		return rs
	}
	for i := range a.Margins { // in no particular order
		rows("margin", byKeys(a.Margins[i]), byKeys(b.Margins[i]))
	}
}

// tight is a store that reports its tables fill most of its memory:
// from the start, or once the summary is built (after calls reports).
type tight struct {
	*store.DB
	after int
	calls *int
}

func (t tight) Room(context.Context) (used, limit int64, err error) {
	*t.calls++
	if *t.calls > t.after {
		return 600 << 20, 1000 << 20, nil
	}
	return 100 << 20, 1000 << 20, nil
}

// When the tables already take much of DuckDB's memory, no summary is
// built; the real store reports its memory.
func TestSummaryNeedsRoom(t *testing.T) {
	ds := attackData(t)
	ctx := context.Background()
	cols, err := ds.Store().Columns(ctx, ds.Inventory.Table)
	if err != nil {
		t.Fatal(err)
	}
	tables := func() int64 {
		var n int64
		if err := queryRow(ds.Store(), `SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '%:summary:%'`, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := tables()
	for _, after := range []int{0, 1} { // full before, or once built
		var calls int
		e, err := guard.New(tight{ds.Store(), after, &calls}, ds.Inventory, cols, attackK)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := e.Summarise(ctx, 1); !errors.Is(err, guard.ErrNoRoom) || e.Summarised() || calls != after+1 {
			t.Fatalf("full after %d checks: built a summary of %d groups in too little memory (%d checks): %v", after, n, calls, err)
		}
		if left := tables() - before; left != 0 {
			t.Fatalf("%d summary tables left behind", left)
		}
	}
	used, limit, err := ds.Store().Room(ctx)
	if err != nil || used <= 0 || limit <= used {
		t.Fatalf("the store reports %d bytes used of %d (%v)", used, limit, err)
	}
}

// Dimensions may take any name the summary's own columns could have
// had: v, n, s, records.
func TestSummaryNamesDoNotClash(t *testing.T) {
	ctx := context.Background()
	names := []string{"v", "n", "s", "records"}
	var fields []arrow.Field
	for _, n := range names {
		fields = append(fields, arrow.Field{Name: n, Type: arrow.BinaryTypes.String})
	}
	fields = append(fields, arrow.Field{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String)})
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	const rows = 600
	for i := range rows {
		for j := range names {
			b.Field(j).(*array.StringBuilder).Append(fmt.Sprintf("%c%d", 'A'+j, (i*(j+3))%(j+2)))
		}
		lb := b.Field(len(names)).(*array.ListBuilder)
		lb.Append(true)
		vb := lb.ValueBuilder().(*array.StringBuilder)
		for k := range i % 3 {
			vb.Append(fmt.Sprintf("t%d", (i+k)%4))
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	rr, err := array.NewRecordReader(schema, []arrow.RecordBatch{rec})
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	inv := &inventory.Inventory{Version: inventory.Version, Dataset: inventory.Label{EN: "names"}, Table: "personas", Records: rows,
		Measures: []inventory.MeasureDef{{Name: "people", Label: inventory.Label{EN: "People"}, Kind: inventory.Count}}}
	for _, n := range names {
		inv.Fields = append(inv.Fields, inventory.Field{Name: n, Label: inventory.Label{EN: n}, Role: inventory.Dimension, Type: "VARCHAR"})
	}
	inv.Fields = append(inv.Fields, inventory.Field{Name: "tags", Label: inventory.Label{EN: "tags"}, Role: inventory.MultiDimension, Type: "VARCHAR[]"})
	ds, err := dataset.OpenArrow(ctx, inv, rr, dataset.Options{K: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	cols, err := ds.Store().Columns(ctx, inv.Table)
	if err != nil {
		t.Fatal(err)
	}
	records, err := guard.New(ds.Store(), inv, cols, 3)
	if err != nil {
		t.Fatal(err)
	}
	summed, err := guard.New(ds.Store(), inv, cols, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := summed.Summarise(ctx, 1); err != nil || summed.SummaryRows()["tags"] == 0 {
		t.Fatalf("summary %v: %v", summed.SummaryRows(), err)
	}
	for _, q := range []slice.Query{
		{Dims: []string{"tags"}, Measure: "people"},
		{Dims: []string{"v", "tags"}, Measure: "people"},
		{Dims: []string{"n", "s"}, Measure: "people", Totals: true},
		{Dims: []string{"records"}, Measure: "people", Filters: map[string][]string{"v": {"A0"}}},
	} {
		if sql, _, _ := summed.SQL(q); !strings.Contains(sql, ":summary") {
			t.Fatalf("%+v does not read the summary", q)
		}
		compareResults(t, q, run(t, records, q), run(t, summed, q))
	}
}

// The summary is built while the analyst works: slices, and a segment
// dimension added to the table meanwhile, run undisturbed and agree
// with the records.
func TestSummaryBuiltWhileSlicing(t *testing.T) {
	ctx := context.Background()
	ds, err := openSample(200_000, dataset.Options{K: attackK})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	cols, err := ds.Store().Columns(ctx, ds.Inventory.Table)
	if err != nil {
		t.Fatal(err)
	}
	e, err := guard.New(ds.Store(), ds.Inventory, cols, attackK)
	if err != nil {
		t.Fatal(err)
	}
	built := make(chan error, 1)
	go func() {
		_, err := e.Summarise(ctx, 1)
		built <- err
	}()
	f, err := e.Derive(twoSegments)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	if err := queryRow(ds.Store(), `SELECT count(*) FROM personas WHERE gender = '女' AND list_contains(categories, '美妆')`, &want); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		res := run(t, e, slice.Query{Dims: []string{f.Name}, Measure: "people", Order: slice.Label})
		if len(res.Rows) != 2 || res.Rows[0].People != want {
			t.Fatalf("segments %+v, want S1 with %d people", res.Rows, want)
		}
		run(t, e, slice.Query{Dims: []string{"province"}, Measure: "gmv"})
		select {
		case err := <-built:
			if err != nil {
				t.Fatal(err)
			}
			if !e.Summarised() {
				t.Fatal("no summary")
			}
			t.Logf("%d rounds of slices while the summary was built", i+1)
			return
		default:
		}
	}
}
