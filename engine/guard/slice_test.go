package guard_test

import (
	"context"
	"errors"
	"math"
	"os"
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

var fixtureSchema = arrow.NewSchema([]arrow.Field{
	{Name: "age_band", Type: arrow.BinaryTypes.String},
	{Name: "province", Type: arrow.BinaryTypes.String},
	{Name: "categories", Type: arrow.ListOf(arrow.BinaryTypes.String)},
	{Name: "monthly_orders", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32)},
	{Name: "monthly_gmv", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64)},
	{Name: "converted", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "exposure", Type: arrow.BinaryTypes.String},
	{Name: "w", Type: arrow.PrimitiveTypes.Int32},
}, nil)

// fixture loads testdata/personas.json (ten hand-made personas) into a
// sealed store and returns its inventory.
func fixture(t testing.TB) (*store.DB, *inventory.Inventory) {
	t.Helper()
	ctx := context.Background()
	f, err := os.Open("testdata/personas.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, fixtureSchema, f)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	rr, err := array.NewRecordReader(fixtureSchema, []arrow.RecordBatch{rec})
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	inv, err := inventory.Load("testdata/inventory.json")
	if err != nil {
		t.Fatal(err)
	}
	// Open the way the product does; the guard makes list values
	// distinct before it needs them (persona 6 lists 美妆 twice).
	// The data carries w, which only TestSliceWeight declares (as the
	// weight); open it declared as a plain measure field.
	withW := *inv
	withW.Fields = append(slices.Clone(inv.Fields), inventory.Field{Name: "w", Label: inventory.Label{EN: "w"}, Role: inventory.Measure, Type: "INTEGER"})
	ds, err := dataset.OpenArrow(ctx, &withW, rr, dataset.Options{K: 3, Store: store.Options{Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	return ds.Store(), inv
}

func engine(t testing.TB, db *store.DB, inv *inventory.Inventory, k int) *guard.Engine {
	t.Helper()
	cols, err := db.Columns(context.Background(), inv.Table)
	if err != nil {
		t.Fatal(err)
	}
	e, err := guard.New(db, inv, cols, k)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// cell is an expected row: keys joined by "|", then value and people, or
// withheld.
type cell struct {
	keys     string
	value    float64
	people   int64
	withheld bool
}

func hidden(keys string) cell { return cell{keys: keys, withheld: true} }

// The expected values below are worked out by hand from testdata/personas.json.
func TestSliceFixture(t *testing.T) {
	db, inv := fixture(t)
	tests := []struct {
		name string
		q    slice.Query
		want []cell
		k    int // 3 unless set
	}{
		{"total people", slice.Query{Measure: "people"},
			[]cell{{"", 10, 10, false}}, 3},
		{"total gmv", slice.Query{Measure: "gmv"},
			[]cell{{"", 2490, 10, false}}, 3},
		{"average order value", slice.Query{Measure: "aov"},
			[]cell{{"", 2490.0 / 18, 10, false}}, 3},
		{"gmv per person", slice.Query{Measure: "gmv_per_person"},
			[]cell{{"", 249, 10, false}}, 3},
		{"ordinal keeps its order", slice.Query{Dims: []string{"age_band"}, Measure: "people"},
			[]cell{{"18-24", 5, 5, false}, {"25-29", 5, 5, false}}, 3},
		// 西藏 alone would be the total less 广东: both are withheld.
		{"small province withheld, and its complement", slice.Query{Dims: []string{"province"}, Measure: "gmv"},
			[]cell{hidden("广东"), hidden("西藏")}, 3},
		// Label order is pinyin: 服饰 (fu), 美妆 (mei), 数码 (shu).
		{"multi-valued counts a person once per value", slice.Query{Dims: []string{"categories"}, Measure: "people", Order: slice.Label},
			[]cell{{"服饰", 5, 5, false}, {"美妆", 5, 5, false}, {"数码", 3, 3, false}}, 3},
		{"multi-valued sum", slice.Query{Dims: []string{"categories"}, Measure: "orders"},
			[]cell{{"美妆", 10, 5, false}, {"数码", 7, 3, false}, {"服饰", 6, 5, false}}, 3},
		{"time dimension", slice.Query{Dims: []string{"month"}, Measure: "orders"},
			[]cell{{"2025-01", 10, 10, false}, {"2025-02", 8, 10, false}}, 3},
		{"time filter without time dimension", slice.Query{Dims: []string{"age_band"}, Measure: "orders",
			Filters: map[string][]string{"month": {"2025-02"}}},
			[]cell{{"18-24", 4, 5, false}, {"25-29", 4, 5, false}}, 2},
		// At k=3, 25-29's February orders come from 2 people only.
		{"sum resting on few people", slice.Query{Dims: []string{"age_band"}, Measure: "orders",
			Filters: map[string][]string{"month": {"2025-02"}}},
			[]cell{hidden("18-24"), hidden("25-29")}, 3},
		{"time filter with time dimension", slice.Query{Dims: []string{"month"}, Measure: "orders",
			Filters: map[string][]string{"month": {"2025-01"}}},
			[]cell{{"2025-01", 10, 10, false}}, 3},
		{"multi-valued by time", slice.Query{Dims: []string{"categories", "month"}, Measure: "orders",
			Filters: map[string][]string{"categories": {"美妆"}}},
			[]cell{{"美妆|2025-01", 6, 5, false}, {"美妆|2025-02", 4, 5, false}}, 3},
		// 1 of 5 and 3 of 5 converted: each rate is within k of 0% or 100%.
		{"rate within k of 0% or 100%", slice.Query{Dims: []string{"exposure"}, Measure: "conversion_rate"},
			[]cell{hidden("未曝光"), hidden("已曝光")}, 3},
		// 25-29|西藏 is the 25-29 row less 25-29|广东, which is the 广东
		// column less 18-24|广东: all three are withheld.
		{"two dimensions", slice.Query{Dims: []string{"age_band", "province"}, Measure: "people"},
			[]cell{hidden("18-24|广东"), hidden("25-29|广东"), hidden("25-29|西藏")}, 3},
		{"two dimensions, k=2", slice.Query{Dims: []string{"age_band", "province"}, Measure: "people"},
			[]cell{{"18-24|广东", 5, 5, false}, {"25-29|广东", 3, 3, false}, {"25-29|西藏", 2, 2, false}}, 2},
		{"nominal first dimension: largest group first", slice.Query{Dims: []string{"province", "age_band"}, Measure: "people"},
			[]cell{{"广东|18-24", 5, 5, false}, {"广东|25-29", 3, 3, false}, {"西藏|25-29", 2, 2, false}}, 2},
		{"filter on a multi-valued dimension", slice.Query{Dims: []string{"age_band"}, Measure: "people",
			Filters: map[string][]string{"categories": {"数码"}}},
			[]cell{hidden("18-24"), hidden("25-29")}, 3},
		{"filter then slice multi-valued", slice.Query{Dims: []string{"categories"}, Measure: "people", Order: slice.Label,
			Filters: map[string][]string{"province": {"广东"}}},
			[]cell{hidden("服饰"), {"美妆", 4, 4, false}, hidden("数码")}, 3},
		// 7 people hold 美妆 or 数码: with both counts shown, 5 + 3 - 7
		// would say that one person holds both.
		{"filter on the sliced multi-valued dimension", slice.Query{Dims: []string{"categories"}, Measure: "people",
			Filters: map[string][]string{"categories": {"美妆", "数码"}}},
			[]cell{{"美妆", 5, 5, false}, hidden("数码")}, 3},
		{"value ascending", slice.Query{Dims: []string{"categories"}, Measure: "orders", Order: slice.ValueAsc},
			[]cell{{"服饰", 6, 5, false}, {"数码", 7, 3, false}, {"美妆", 10, 5, false}}, 3},
		{"top-N", slice.Query{Dims: []string{"categories"}, Measure: "orders", TopN: 1},
			[]cell{{"美妆", 10, 5, false}}, 3},
		{"value that matches nothing", slice.Query{Dims: []string{"age_band"}, Measure: "people",
			Filters: map[string][]string{"province": {"'; DROP TABLE personas; --"}}},
			nil, 3},
		{"whole total below k is withheld", slice.Query{Measure: "gmv",
			Filters: map[string][]string{"province": {"西藏"}}},
			[]cell{hidden("")}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A fresh engine each time: this test is about one result,
			// not the differences between them.
			k := tt.k
			if k == 0 {
				k = 3
			}
			e := engine(t, db, inv, k)
			res, err := e.Run(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			check(t, res, tt.want)
		})
	}
}

func check(t *testing.T, res *slice.Result, want []cell) {
	t.Helper()
	if len(res.Rows) != len(want) {
		t.Fatalf("got %d rows %+v, want %d %+v", len(res.Rows), res.Rows, len(want), want)
	}
	withheld := 0
	for i, r := range res.Rows {
		w := want[i]
		if got := strings.Join(r.Keys, "|"); got != w.keys {
			t.Errorf("row %d: keys %q, want %q", i, got, w.keys)
		}
		if r.Suppressed != w.withheld {
			t.Errorf("row %d (%s): suppressed %v, want %v", i, w.keys, r.Suppressed, w.withheld)
			continue
		}
		if r.Suppressed {
			withheld++
			if r.Value != 0 || r.People != 0 {
				t.Errorf("row %d (%s): withheld row carries value %v, people %d", i, w.keys, r.Value, r.People)
			}
			continue
		}
		if math.Abs(r.Value-w.value) > 1e-9 || r.People != w.people {
			t.Errorf("row %d (%s): value %v people %d, want %v and %d", i, w.keys, r.Value, r.People, w.value, w.people)
		}
	}
	if res.Suppressed != withheld {
		t.Errorf("result counts %d withheld rows, want %d", res.Suppressed, withheld)
	}
}

// With a weight field, a record stands for that many people: 西藏's two
// records stand for 6 people and reach k.
func TestSliceWeight(t *testing.T) {
	db, inv := fixture(t)
	inv.Fields = append(inv.Fields, inventory.Field{Name: "w", Label: inventory.Label{ZH: "权重", EN: "weight"}, Role: inventory.Weight, Type: "INTEGER"})
	res, err := engine(t, db, inv, 3).Run(context.Background(), slice.Query{Dims: []string{"province"}, Measure: "people"})
	if err != nil {
		t.Fatal(err)
	}
	check(t, res, []cell{{"广东", 8, 8, false}, {"西藏", 6, 6, false}})
	res, err = engine(t, db, inv, 2).Run(context.Background(), slice.Query{Dims: []string{"age_band"}, Measure: "conversion_rate"})
	if err != nil {
		t.Fatal(err)
	}
	// 18-24: 2 of 5 converted; 25-29: the record of 5 and one other of
	// 9 people.
	check(t, res, []cell{{"18-24", 2.0 / 5, 5, false}, {"25-29", 6.0 / 9, 9, false}})
	// 西藏: 5 of 6 converted, within k=2 of 100%.
	res, err = engine(t, db, inv, 2).Run(context.Background(), slice.Query{Dims: []string{"province"}, Measure: "conversion_rate"})
	if err != nil {
		t.Fatal(err)
	}
	check(t, res, []cell{hidden("广东"), hidden("西藏")})
	if r := res.Rows[1]; r.Reason != slice.FewContributors {
		t.Errorf("西藏 withheld for %v, want few contributors", r.Reason)
	}
}

func TestSliceRejects(t *testing.T) {
	db, inv := fixture(t)
	e := engine(t, db, inv, 3)
	tests := []struct {
		name string
		q    slice.Query
		msg  string
	}{
		{"unknown measure", slice.Query{Measure: "salary"}, `unknown measure "salary"`},
		{"unknown dimension", slice.Query{Dims: []string{`province" --`}, Measure: "people"}, "unknown dimension"},
		{"measure field as dimension", slice.Query{Dims: []string{"converted"}, Measure: "people"}, "not a dimension"},
		{"three dimensions", slice.Query{Dims: []string{"age_band", "province", "month"}, Measure: "people"}, "at most 2"},
		{"same dimension twice", slice.Query{Dims: []string{"province", "province"}, Measure: "people"}, "given twice"},
		{"non-series measure by time", slice.Query{Dims: []string{"month"}, Measure: "conversion_rate"}, "does not vary by month"},
		{"unknown period", slice.Query{Measure: "orders", Filters: map[string][]string{"month": {"2031-01"}}}, "not a period"},
		{"empty filter", slice.Query{Measure: "people", Filters: map[string][]string{"province": {}}}, "lists no values"},
		{"unknown filter", slice.Query{Measure: "people", Filters: map[string][]string{"salary": {"1"}}}, "unknown filter"},
		{"negative top-N", slice.Query{Measure: "people", TopN: -1}, "top-N"},
		{"time filter on a measure without series", slice.Query{Dims: []string{"age_band"}, Measure: "conversion_rate",
			Filters: map[string][]string{"month": {"2025-01"}}}, "remove the month filter"},
		{"time filter on people without time dimension", slice.Query{Measure: "people",
			Filters: map[string][]string{"month": {"2025-01"}}}, "remove the month filter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Run(context.Background(), tt.q)
			if !errors.Is(err, slice.ErrQuery) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v, want an ErrQuery mentioning %q", err, tt.msg)
			}
		})
	}
}

func TestNewChecksData(t *testing.T) {
	db, inv := fixture(t)
	cols, err := db.Columns(context.Background(), inv.Table)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := guard.New(db, inv, cols, 1); err == nil {
		t.Error("k=1 accepted")
	}
	inv.Fields[1].Type = "VARCHAR[]"
	inv.Fields[1].Role = inventory.MultiDimension
	if _, err := guard.New(db, inv, cols, 3); err == nil || !strings.Contains(err.Error(), `column "province" is VARCHAR`) {
		t.Errorf("type mismatch: got %v", err)
	}
	delete(cols, "province")
	if _, err := guard.New(db, inv, cols, 3); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing column: got %v", err)
	}
}

func TestRunCancelled(t *testing.T) {
	db, inv := fixture(t)
	e := engine(t, db, inv, 3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Run(ctx, slice.Query{Measure: "people"}); err == nil {
		t.Fatal("cancelled query succeeded")
	}
}

// A ratio over zero has no value: it is not shown as 0, it sorts after
// the defined rows, and JSON leaves the value out.
func TestUndefinedRatio(t *testing.T) {
	db, inv := fixture(t)
	e := engine(t, db, inv, 2)
	// 25-29 服饰 buyers (personas 7 and 9) ordered nothing in 2025-01.
	res, err := e.Run(context.Background(), slice.Query{Dims: []string{"age_band"}, Measure: "aov",
		Filters: map[string][]string{"categories": {"服饰"}, "month": {"2025-01"}}, Order: slice.ValueDesc})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(res.Rows, func(r slice.Row) bool { return strings.Join(r.Keys, "|") == "25-29" })
	if i < 0 {
		t.Fatalf("no row 25-29 in %+v", res.Rows)
	}
	last := res.Rows[i]
	if last.Defined() || last.Suppressed || last.People != 2 {
		t.Fatalf("row %+v, want 25-29 undefined with 2 people", last)
	}
	for _, r := range res.Rows[i+1:] {
		if !r.Suppressed {
			t.Errorf("row %+v sorts after an undefined one", r)
		}
	}
	if got := res.Cells(last); got[1] != "–" {
		t.Errorf("undefined value reads %q, want –", got[2])
	}
	var b strings.Builder
	if err := res.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"age_band": "25-29"`) || strings.Contains(b.String(), "NaN") {
		t.Errorf("JSON: %s", b.String())
	}
	b.Reset()
	if err := res.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "age_band,aov,people,withheld,reason,kind\n") || !strings.Contains(b.String(), "\n25-29,,2,false,,cell\n") {
		t.Errorf("CSV:\n%s", b.String())
	}
}

// With a top-N, the N largest values are kept, then shown in the
// requested order (age bands in their natural order).
func TestTopNKeepsLargest(t *testing.T) {
	db, inv := fixture(t)
	e := engine(t, db, inv, 3)
	res, err := e.Run(context.Background(), slice.Query{Dims: []string{"age_band"}, Measure: "gmv", TopN: 1})
	if err != nil {
		t.Fatal(err)
	}
	// 18-24: 100+250+80+400+100 = 930; 25-29: 900+200+0+60+400 = 1560.
	check(t, res, []cell{{"25-29", 1560, 5, false}})
}

func TestMissingValueFilter(t *testing.T) {
	db, inv := fixture(t)
	e := engine(t, db, inv, 3)
	sql, args, err := e.SQL(slice.Query{Dims: []string{"province"}, Measure: "people",
		Filters: map[string][]string{"province": {slice.Missing, "广东"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sql, `t."province" IS NULL`) || !strings.Contains(sql, `nullif(t."province", '')`) {
		t.Errorf("missing value not handled: %s %v", sql, args)
	}
	res, err := e.Run(context.Background(), slice.Query{Dims: []string{"province"}, Measure: "people",
		Filters: map[string][]string{"province": {slice.Missing, "广东"}}})
	if err != nil {
		t.Fatal(err)
	}
	check(t, res, []cell{{"广东", 8, 8, false}})
}

// Opening leaves repeated list values alone; each kind of work that
// needs them distinct makes them so first: a slice by a multi-valued
// dimension, profiles keyed by one, a segment scored over one, the
// summary. Slices without a list leave them.
func TestListsMadeDistinctBeforeUse(t *testing.T) {
	ctx := context.Background()
	repeats := func(db *store.DB) int64 {
		var n int64
		if err := queryRow(db, `SELECT count(*) FROM personas WHERE list_unique(categories) != len(categories)`, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct {
		name string
		work func(*guard.Engine) error
	}{
		{"slice", func(e *guard.Engine) error {
			res, err := e.Run(ctx, slice.Query{Dims: []string{"categories"}, Measure: "people"})
			if err == nil && len(res.Rows) == 0 {
				err = errors.New("no rows")
			}
			return err
		}},
		{"profiles", func(e *guard.Engine) error {
			_, err := e.Profiles(ctx, slice.ProfileQuery{Dims: []string{"categories"}, Target: "converted"})
			return err
		}},
		{"segment", func(e *guard.Engine) error {
			f, err := e.Derive(slice.Segmentation{Label: inventory.Label{EN: "s"}, Values: []string{"A", "B"}, Bias: []float64{0, 1},
				Terms: []slice.SegmentTerm{{Dim: "categories", Weights: map[string][]float64{"美妆": {2, 0}}}}})
			if err == nil {
				_, err = e.Run(ctx, slice.Query{Dims: []string{f.Name}, Measure: "people"})
			}
			return err
		}},
		{"summary", func(e *guard.Engine) error {
			_, err := e.Summarise(ctx, 1)
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, inv := fixture(t)
			e := engine(t, db, inv, 2)
			if _, err := e.Run(ctx, slice.Query{Dims: []string{"province"}, Measure: "people"}); err != nil {
				t.Fatal(err)
			}
			if repeats(db) != 1 {
				t.Fatal("opening, or a slice without a list, changed the lists")
			}
			if err := c.work(e); err != nil {
				t.Fatal(err)
			}
			if n := repeats(db); n != 0 {
				t.Fatalf("%d lists still repeat a value", n)
			}
		})
	}
}
