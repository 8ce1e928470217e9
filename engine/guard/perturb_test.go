package guard_test

// Tests of the cell key method (perturb.go): consistency, accuracy and
// availability. The attacks on it are in perturb_attack_test.go.

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/persona-workbench/persona/engine/ckm"
	"github.com/persona-workbench/persona/engine/dataset"
	"github.com/persona-workbench/persona/engine/guard"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/engine/store"
)

// perturbedSample opens n sample records under the default perturbation
// with the given key seed.
func perturbedSample(t testing.TB, n int64, seed uint64) *dataset.Dataset {
	t.Helper()
	p := ckm.DefaultParams()
	ds, err := openSample(n, dataset.Options{K: attackK, Store: store.Options{Threads: 2}, Perturb: &p, KeySeed: &seed})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

var (
	pertOnce sync.Once
	pertDS   [2]*dataset.Dataset // two opens of one package: two workspaces
)

func perturbedPair(t *testing.T) [2]*dataset.Dataset {
	pertOnce.Do(func() {
		pertDS[0] = perturbedSample(t, 20_000, 42)
		pertDS[1] = perturbedSample(t, 20_000, 42)
	})
	if pertDS[0] == nil {
		t.Fatal("the perturbed sample did not open")
	}
	return pertDS
}

func mustRun(t *testing.T, e *guard.Engine, q slice.Query) *slice.Result {
	t.Helper()
	res, err := e.Run(context.Background(), q)
	if err != nil {
		t.Fatalf("%+v: %v", q, err)
	}
	return res
}

func rowOf(t *testing.T, rows []slice.Row, keys ...string) slice.Row {
	t.Helper()
	for _, r := range rows {
		if slices.Equal(r.Keys, keys) {
			return r
		}
	}
	t.Fatalf("no row %v", keys)
	return slice.Row{}
}

// One population asked for in five ways gets one number, in both
// workspaces, with and without the summary; and every measure's
// numbers are the same in the two workspaces.
func TestPerturbConsistency(t *testing.T) {
	pair := perturbedPair(t)
	e := pair[0].Slices
	if e.Method() != guard.MethodPerturb {
		t.Fatalf("method %s", e.Method())
	}
	// A second engine over the other open, reading the summary.
	other := pair[1].Slices
	if _, err := other.Summarise(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	const P = "广东"
	ways := map[string]func(*guard.Engine) slice.Row{
		"filter, no dimension": func(e *guard.Engine) slice.Row {
			return mustRun(t, e, slice.Query{Measure: "people", Filters: map[string][]string{"province": {P}}}).Rows[0]
		},
		"a cell of the breakdown": func(e *guard.Engine) slice.Row {
			return rowOf(t, mustRun(t, e, slice.Query{Dims: []string{"province"}, Measure: "people"}).Rows, P)
		},
		"a margin of a two-dimension slice": func(e *guard.Engine) slice.Row {
			res := mustRun(t, e, slice.Query{Dims: []string{"province", "age_band"}, Measure: "people", Totals: true})
			return rowOf(t, res.Margins[0], P)
		},
		"the total of a filtered breakdown": func(e *guard.Engine) slice.Row {
			return *mustRun(t, e, slice.Query{Dims: []string{"gender"}, Measure: "people", Filters: map[string][]string{"province": {P}}, Totals: true}).Total
		},
		"a filtered cell of the breakdown": func(e *guard.Engine) slice.Row {
			return rowOf(t, mustRun(t, e, slice.Query{Dims: []string{"province"}, Measure: "people", Filters: map[string][]string{"province": {P, "西藏"}}}).Rows, P)
		},
		"the province's code": func(e *guard.Engine) slice.Row {
			res := mustRun(t, e, slice.Query{Dims: []string{"province_code"}, Measure: "people", Filters: map[string][]string{"province": {P}}})
			return res.Rows[0]
		},
	}
	var want int64 = -1
	for name, way := range ways {
		for i, eng := range []*guard.Engine{e, other} {
			r := way(eng)
			if r.Suppressed {
				t.Fatalf("%s (workspace %d): withheld", name, i)
			}
			if want < 0 {
				want = r.People
			}
			if r.People != want {
				t.Errorf("%s (workspace %d): %d people, another way gave %d", name, i, r.People, want)
			}
		}
	}
	// Every measure, one and two dimensions, a series, a multi-valued
	// dimension: identical in both workspaces.
	inv := e.Inventory()
	for _, m := range inv.Measures {
		for _, dims := range [][]string{{"province"}, {"age_band", "member_level"}, {"categories"}, {"month"}, {"categories", "gender"}} {
			q := slice.Query{Dims: dims, Measure: m.Name, Totals: true}
			if _, _, err := e.SQL(q); err != nil {
				continue // a measure that does not vary by month
			}
			a, b := mustRun(t, e, q), mustRun(t, other, q)
			for _, r := range []*slice.Result{a, b} {
				for _, m := range r.Margins {
					slices.SortFunc(m, func(x, y slice.Row) int { return strings.Compare(x.Keys[0], y.Keys[0]) })
				}
			}
			if !reflect.DeepEqual(a.Rows, b.Rows) || !reflect.DeepEqual(a.Total, b.Total) || !reflect.DeepEqual(a.Margins, b.Margins) {
				t.Errorf("%s by %v differs between workspaces:\n%+v\n%+v", m.Name, dims, a.Rows, b.Rows)
			}
		}
	}
	// Another package's keys (another seed) give other adjustments.
	third := perturbedSample(t, 20_000, 43)
	defer third.Close()
	a := mustRun(t, e, slice.Query{Dims: []string{"province"}, Measure: "people"})
	b := mustRun(t, third.Slices, slice.Query{Dims: []string{"province"}, Measure: "people"})
	if reflect.DeepEqual(a.Rows, b.Rows) {
		t.Error("another key seed gave the same adjustments to every province")
	}
}

// truth counts the records by dims (a multi-valued one unnested) with
// SQL of its own, keyed as the guard keys its rows.
func truth(t *testing.T, ds *dataset.Dataset, dims []string) map[string]int64 {
	t.Helper()
	var sel, from []string
	from = append(from, ds.Inventory.Table+" AS t")
	for i, d := range dims {
		f, _ := ds.Inventory.Field(d)
		if f.Role == inventory.MultiDimension {
			from = append(from, fmt.Sprintf("unnest(list_distinct(t.%s)) AS u%d(v)", d, i))
			sel = append(sel, fmt.Sprintf("u%d.v", i))
		} else {
			sel = append(sel, "coalesce(t."+d+", '')")
		}
	}
	q := fmt.Sprintf("SELECT concat_ws('|', %s), count(*) FROM %s GROUP BY ALL", strings.Join(sel, ", "), strings.Join(from, ", "))
	rows, err := ds.Store().QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		out[k] = n
	}
	return out
}

// Every adjusted count is within ±D of the truth, the adjustments
// average about 0 with variance about V, and shares of groups of
// 1,000 people or more are within a percentage point.
func TestPerturbAccuracy(t *testing.T) {
	ds := perturbedSample(t, 200_000, 7)
	defer ds.Close()
	e := ds.Slices
	params, _, _ := e.Perturbation()
	d := int64(params.D)
	var errs []float64
	var maxShareErr float64
	shares := 0
	var dimSets [][]string
	var singles []string
	for _, f := range ds.Inventory.Fields {
		if f.Role == inventory.Dimension || f.Role == inventory.MultiDimension {
			singles = append(singles, f.Name)
		}
	}
	for i, a := range singles {
		dimSets = append(dimSets, []string{a})
		for _, b := range singles[i+1:] {
			dimSets = append(dimSets, []string{a, b})
		}
	}
	for _, dims := range dimSets {
		want := truth(t, ds, dims)
		res := mustRun(t, e, slice.Query{Dims: dims, Measure: "people", Totals: len(dims) == 2})
		for _, r := range res.Rows {
			n, ok := want[strings.Join(r.Keys, "|")]
			if !ok {
				t.Fatalf("%v %v: a row nobody is in", dims, r.Keys)
			}
			if r.Suppressed {
				if r.Reason != slice.FewPeople || n >= int64(attackK)+d {
					t.Fatalf("%v %v: %d people withheld (%s)", dims, r.Keys, n, r.Reason)
				}
				continue
			}
			if r.People < int64(attackK) || r.People-n > d || n-r.People > d {
				t.Fatalf("%v %v: released %d for %d people (d = %d, k = %d)", dims, r.Keys, r.People, n, d, attackK)
			}
			errs = append(errs, float64(r.People-n))
		}
		// 占比: a cell's share of its row, from released numbers only.
		if len(dims) == 2 {
			margin := map[string]int64{}
			for _, m := range res.Margins[0] {
				if !m.Suppressed {
					margin[m.Keys[0]] = m.People
				}
			}
			rowTrue := map[string]int64{}
			for k, n := range want {
				rowTrue[strings.SplitN(k, "|", 2)[0]] += n
			}
			f, _ := ds.Inventory.Field(dims[1])
			for _, r := range res.Rows {
				m, ok := margin[r.Keys[0]]
				if r.Suppressed || !ok || f.Role == inventory.MultiDimension {
					continue
				}
				// The true row total of a single-valued second dimension.
				n := rowTrue[r.Keys[0]]
				if n < 1000 {
					continue
				}
				shares++
				got := float64(r.People) / float64(m)
				exact := float64(want[strings.Join(r.Keys, "|")]) / float64(n)
				maxShareErr = max(maxShareErr, math.Abs(got-exact))
			}
		}
	}
	var mean, sq float64
	for _, x := range errs {
		mean += x
		sq += x * x
	}
	mean /= float64(len(errs))
	variance := sq/float64(len(errs)) - mean*mean
	t.Logf("%d released counts: mean adjustment %+.3f, variance %.2f (V = %g); %d shares of rows of 1,000+ people: largest error %.3f percentage points",
		len(errs), mean, variance, params.V, shares, 100*maxShareErr)
	if len(errs) < 1000 {
		t.Fatalf("only %d released counts", len(errs))
	}
	// The standard error of the mean of n adjustments is sqrt(V/n).
	if se := math.Sqrt(params.V / float64(len(errs))); math.Abs(mean) > 4*se {
		t.Errorf("mean adjustment %+.3f is more than 4 standard errors (%.3f) from 0", mean, se)
	}
	if variance > params.V*1.2 {
		t.Errorf("variance %.2f, want at most about V = %g", variance, params.V)
	}
	if shares < 50 || maxShareErr > 0.01 {
		t.Errorf("%d shares, largest error %.3f points, want within 1", shares, 100*maxShareErr)
	}
}

// In perturb mode, after any sequence of queries, the grand total and
// every one-dimension breakdown are released as they were before it:
// nothing is withheld but adjusted counts below k, and the same numbers
// come back.
func TestPerturbAlwaysAvailable(t *testing.T) {
	sets := 40
	if testing.Short() {
		sets = 10
	}
	ctx := context.Background()
	for seed := range uint64(sets) {
		rng := rand.New(rand.NewPCG(seed, 0xc311))
		d := propGenData(rng, seed)
		e := perturbedProp(t, d, seed)
		fixed := func() []*slice.Result {
			var out []*slice.Result
			for _, m := range []string{"people", "spend"} {
				out = append(out, mustRun(t, e, slice.Query{Measure: m}))
				for _, dim := range propDimNames {
					res := mustRun(t, e, slice.Query{Dims: []string{dim}, Measure: m, Totals: true})
					out = append(out, res)
				}
			}
			for _, r := range out {
				r.Elapsed = 0
			}
			return out
		}
		before := fixed()
		var prev []slice.Query
		for range 30 {
			q := d.genQuery(rng, prev)
			q.Totals = rng.IntN(2) == 0
			if _, err := e.Run(ctx, q); err != nil {
				t.Fatalf("seed %d: %s: %v", seed, propQueryString(q), err)
			}
			prev = append(prev, q)
		}
		after := fixed()
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("seed %d: the total and the breakdowns changed after %d queries", seed, len(prev))
		}
		for _, res := range after {
			rows := slices.Clone(res.Rows)
			if res.Total != nil {
				rows = append(rows, *res.Total)
			}
			for _, r := range rows {
				if r.Suppressed && r.Reason != slice.FewPeople && r.Reason != slice.FewContributors {
					t.Fatalf("seed %d: %v withheld for %s", seed, r.Keys, r.Reason)
				}
				if r.Suppressed && r.Reason == slice.FewPeople && len(r.Keys) == 0 && d.n >= d.k+ckm.DefaultParams().D {
					t.Fatalf("seed %d: the total of %d people withheld", seed, d.n)
				}
			}
		}
	}
}

// perturbedProp opens a property-test data set under the default
// perturbation, half of them sliced from the summary.
func perturbedProp(t *testing.T, d *propData, seed uint64) *guard.Engine {
	t.Helper()
	p := ckm.DefaultParams()
	if d.k <= p.D {
		d.k = p.D + 1 // the bound must be below k
	}
	e := propLoad(t, d, dataset.Options{K: d.k, Store: store.Options{Threads: 1}, Perturb: &p, KeySeed: &seed}).Slices
	if seed%2 == 1 {
		if _, err := e.Summarise(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
	}
	return e
}
