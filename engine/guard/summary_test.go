package guard_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

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

// tight is a store that reports its tables fill most of its memory.
type tight struct{ *store.DB }

func (tight) Room(context.Context) (used, limit int64, err error) { return 600 << 20, 1000 << 20, nil }

// When the tables already take much of DuckDB's memory, no summary is
// built; the real store reports its memory.
func TestSummaryNeedsRoom(t *testing.T) {
	ds := attackData(t)
	ctx := context.Background()
	cols, err := ds.Store().Columns(ctx, ds.Inventory.Table)
	if err != nil {
		t.Fatal(err)
	}
	e, err := guard.New(tight{ds.Store()}, ds.Inventory, cols, attackK)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.Summarise(ctx, 1); !errors.Is(err, guard.ErrNoRoom) || e.Summarised() {
		t.Fatalf("built a summary of %d groups in too little memory: %v", n, err)
	}
	used, limit, err := ds.Store().Room(ctx)
	if err != nil || used <= 0 || limit <= used {
		t.Fatalf("the store reports %d bytes used of %d (%v)", used, limit, err)
	}
}
