package guard_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/persona-workbench/persona/engine/dataset"
	"github.com/persona-workbench/persona/engine/guard"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/engine/store"
	"github.com/persona-workbench/persona/sample"
)

// The attack suite. Each attack tries to learn the exact size (or a
// value) of a group of fewer than k people from numbers the guard
// releases. Each is first run against an unguarded source that answers
// every question exactly, which shows the attack's arithmetic is right:
// there it recovers the secret. Against the guard it must fail: some
// number it needs is withheld. Every attack runs twice: within one
// session, and spread over two sessions that share the licence's release
// history file.

const attackK = 10

var (
	attackOnce sync.Once
	attackDS   *dataset.Dataset
	attackErr  error
)

func attackData(t *testing.T) *dataset.Dataset {
	attackOnce.Do(func() {
		attackDS, attackErr = openSample(20_000, dataset.Options{K: attackK, Store: store.Options{Threads: 2}})
	})
	if attackErr != nil {
		t.Fatal(attackErr)
	}
	return attackDS
}

// source answers an attacker's questions. cell returns the value of the
// row with keys in q's result (the head count for the people measure),
// 0 for a row that is not there (nobody), and false when it is withheld.
type source interface {
	cell(q slice.Query, keys ...string) (float64, bool)
	// margin returns the total of value key of dimension i, shown by
	// q with Totals (i = -1: the grand total).
	margin(q slice.Query, i int, key string) (float64, bool)
	other(q slice.Query) (float64, bool)
	// shown returns the rows q releases.
	shown(q slice.Query) []slice.Row
	// next ends the session and starts another on the same licence.
	next()
}

// guarded asks the guard, as the workbench does.
type guarded struct {
	t    *testing.T
	ds   *dataset.Dataset
	path string // the release history
	h    *guard.File
	e    *guard.Engine
	n    int // sessions started
}

func newGuarded(t *testing.T, ds *dataset.Dataset) *guarded {
	g := &guarded{t: t, ds: ds, path: filepath.Join(t.TempDir(), guard.HistoryFile)}
	g.next()
	return g
}

func (g *guarded) next() {
	if g.h != nil {
		g.h.Close()
	}
	h, err := guard.OpenFile(g.path, [32]byte{1})
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { h.Close() })
	cols, err := g.ds.Store().Columns(context.Background(), g.ds.Inventory.Table)
	if err != nil {
		g.t.Fatal(err)
	}
	e, err := guard.New(g.ds.Store(), g.ds.Inventory, cols, attackK)
	if err != nil {
		g.t.Fatal(err)
	}
	// Every second session slices from the summary where it can, as the
	// workbench does once it has built it.
	if g.n++; g.n%2 == 0 {
		if _, err := e.Summarise(context.Background(), 1); err != nil {
			g.t.Fatal(err)
		}
	}
	e.UseHistory(h)
	g.h, g.e = h, e
}

func (g *guarded) run(q slice.Query) *slice.Result {
	res, err := g.e.Run(context.Background(), q)
	if err != nil {
		g.t.Fatalf("%+v: %v", q, err)
	}
	return res
}

func value(r slice.Row, m string) (float64, bool) {
	if r.Suppressed {
		return 0, false
	}
	if m == "people" {
		return float64(r.People), true
	}
	return r.Value, true
}

func (g *guarded) cell(q slice.Query, keys ...string) (float64, bool) {
	for _, r := range g.run(q).Rows {
		if slices.Equal(r.Keys, keys) {
			return value(r, q.Measure)
		}
	}
	return 0, true
}

func (g *guarded) margin(q slice.Query, i int, key string) (float64, bool) {
	q.Totals = true
	res := g.run(q)
	if i < 0 {
		return value(*res.Total, q.Measure)
	}
	for _, r := range res.Margins[i] {
		if r.Keys[0] == key {
			return value(r, q.Measure)
		}
	}
	return 0, true
}

func (g *guarded) other(q slice.Query) (float64, bool) {
	q.Other = true
	res := g.run(q)
	if res.Other == nil {
		return 0, true
	}
	return value(*res.Other, q.Measure)
}

func (g *guarded) shown(q slice.Query) []slice.Row { return g.run(q).Rows }

// exact answers every question from the data, without a guard: what an
// attacker would get from a system that only hides small cells.
type exact struct {
	t   *testing.T
	db  *store.DB
	inv *inventory.Inventory
}

func (x exact) next() {}

// sum evaluates the measure over the records meeting filters, written
// independently of the guard's SQL.
func (x exact) sum(measure string, filters map[string][]string) float64 {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	months := ""
	for name, vals := range filters {
		f, _ := x.inv.Field(name)
		var ps []string
		for _, v := range vals {
			if f.Role == inventory.Time {
				ps = append(ps, strconv.Itoa(slices.Index(f.Order, v)+1))
			} else {
				ps = append(ps, arg(v))
			}
		}
		switch f.Role {
		case inventory.Dimension:
			where = append(where, fmt.Sprintf("%s IN (%s)", name, strings.Join(ps, ",")))
		case inventory.MultiDimension:
			where = append(where, fmt.Sprintf("list_has_any(%s, [%s])", name, strings.Join(ps, ",")))
		case inventory.Time:
			months = strings.Join(ps, ",")
		}
	}
	expr := "count(*)"
	if measure == "orders" {
		expr = "sum(list_sum(monthly_orders))"
		if months != "" {
			expr = "sum(list_sum(list_select(monthly_orders, [" + months + "])))"
		}
	}
	q := "SELECT coalesce(" + expr + ", 0)::DOUBLE FROM " + x.inv.Table
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	var v float64
	rows, err := x.db.QueryContext(context.Background(), q, args...)
	if err != nil {
		x.t.Fatal(err)
	}
	defer rows.Close()
	rows.Next()
	if err := rows.Scan(&v); err != nil {
		x.t.Fatal(err)
	}
	return v
}

func with(filters map[string][]string, dims []string, keys []string) map[string][]string {
	out := map[string][]string{}
	for k, v := range filters {
		out[k] = v
	}
	for i, d := range dims {
		out[d] = []string{keys[i]}
	}
	return out
}

func (x exact) cell(q slice.Query, keys ...string) (float64, bool) {
	return x.sum(q.Measure, with(q.Filters, q.Dims, keys)), true
}

func (x exact) margin(q slice.Query, i int, key string) (float64, bool) {
	if i < 0 {
		return x.sum(q.Measure, q.Filters), true
	}
	return x.sum(q.Measure, with(q.Filters, q.Dims[i:i+1], []string{key})), true
}

// shown returns the rows of one dimension a top-N keeps, by value.
func (x exact) shown(q slice.Query) []slice.Row {
	vals := x.values(q.Dims[0], q.Filters)
	var rows []slice.Row
	for _, v := range vals {
		n := x.sum(q.Measure, with(q.Filters, q.Dims, []string{v}))
		rows = append(rows, slice.Row{Keys: []string{v}, Value: n, People: int64(n)})
	}
	slices.SortStableFunc(rows, func(a, b slice.Row) int { return -cmpFloat(a.Value, b.Value) })
	if q.TopN > 0 && len(rows) > q.TopN {
		rows = rows[:q.TopN]
	}
	return rows
}

// other sums up the rows a top-N leaves out, as a system that only hides
// small cells would: leaving out the small ones.
func (x exact) other(q slice.Query) (float64, bool) {
	shown := x.shown(q)
	var sum float64
	for _, v := range x.values(q.Dims[0], q.Filters) {
		if slices.ContainsFunc(shown, func(r slice.Row) bool { return r.Keys[0] == v }) {
			continue
		}
		if n := x.sum(q.Measure, with(q.Filters, q.Dims, []string{v})); n >= attackK {
			sum += n
		}
	}
	return sum, true
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// values lists the values of a single-valued dimension present under
// filters.
func (x exact) values(dim string, filters map[string][]string) []string {
	var out []string
	f, _ := x.inv.Field(dim)
	if f.Ordinal() {
		return f.Order
	}
	rows, err := x.db.QueryContext(context.Background(), "SELECT DISTINCT "+dim+" FROM "+x.inv.Table+" ORDER BY 1")
	if err != nil {
		x.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		rows.Scan(&v)
		out = append(out, v)
	}
	return out
}

// small finds a cell of dimensions a × b behind 1 to k-1 people, the
// largest such, whose row and column are otherwise big enough for the
// attacks to have something to subtract from.
func small(t *testing.T, db *store.DB, a, b string) (string, string, int) {
	q := fmt.Sprintf(`WITH c AS (SELECT %[1]s AS a, %[2]s AS b, count(*) AS n FROM personas GROUP BY ALL),
		r AS (SELECT a, sum(n) AS rn FROM c GROUP BY a), l AS (SELECT b, sum(n) AS ln FROM c GROUP BY b)
		SELECT c.a, c.b, c.n FROM c JOIN r USING (a) JOIN l USING (b)
		WHERE c.n BETWEEN 1 AND %[3]d AND rn >= 3 * %[3]d AND ln >= 3 * %[3]d
		ORDER BY c.n DESC, c.a, c.b LIMIT 1`, a, b, attackK-1)
	var va, vb string
	var n int
	if err := queryRow(db, q, &va, &vb, &n); err != nil {
		t.Fatalf("no small %s × %s cell in the sample: %v", a, b, err)
	}
	return va, vb, n
}

func queryRow(db *store.DB, q string, dest ...any) error {
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	return rows.Scan(dest...)
}

func except(all []string, v string) []string {
	return slices.DeleteFunc(slices.Clone(all), func(x string) bool { return x == v })
}

// attack is one way to learn a small group's value.
type attack struct {
	name string
	// secret is the value sought, from the unguarded source.
	secret func(s source) float64
	// run is the attack: ok is false when a number it needs is withheld.
	run func(s source) (float64, bool)
}

func TestAttacks(t *testing.T) {
	ds := attackData(t)
	db, inv := ds.Store(), ds.Inventory
	x := exact{t: t, db: db, inv: inv}
	provinces := x.values("province", nil)
	levels := inv.Fields[slices.IndexFunc(inv.Fields, func(f inventory.Field) bool { return f.Name == "member_level" })].Order

	// P × L: a province and member level with fewer than k people.
	P, L, n := small(t, db, "province", "member_level")
	t.Logf("secret group: %s × %s, %d people (k=%d)", P, L, n, attackK)
	byPL := slice.Query{Dims: []string{"province", "member_level"}, Measure: "people"}
	secretPL := func(s source) float64 { v, _ := s.cell(byPL, P, L); return v }
	// PA × A: a province and age band with fewer than k people.
	PA, A, _ := small(t, db, "province", "age_band")
	// Another province with people at level L.
	P2 := ""
	for _, p := range provinces {
		if p != P && x.sum("people", map[string][]string{"province": {p}, "member_level": {L}}) >= 3*attackK {
			P2 = p
			break
		}
	}
	// A filter F (one value of one dimension) under which exactly one
	// province, tiny, has fewer than k people: the top-N attacks cut it
	// off together with two large ones.
	var fDim, fVal, tiny string
	if err := queryRow(db, fmt.Sprintf(`WITH c AS (
			SELECT 'age_band' AS d, age_band AS v, province, count(*) AS n FROM personas GROUP BY ALL
			UNION ALL SELECT 'device', device, province, count(*) FROM personas GROUP BY ALL
			UNION ALL SELECT 'city_tier', city_tier, province, count(*) FROM personas GROUP BY ALL
			UNION ALL SELECT 'member_level', member_level, province, count(*) FROM personas GROUP BY ALL)
		SELECT d, v, arg_min(province, n) FROM c GROUP BY d, v
		HAVING count(*) FILTER (WHERE n < %[1]d) = 1 AND count(*) >= 5 ORDER BY min(n) DESC, 1, 2 LIMIT 1`, attackK), &fDim, &fVal, &tiny); err != nil {
		t.Fatalf("no filter with exactly one small province: %v", err)
	}
	fFilter := map[string][]string{fDim: {fVal}}
	var present []string // provinces under F, largest first
	for _, r := range x.shown(slice.Query{Dims: []string{"province"}, Measure: "people", Filters: fFilter}) {
		if r.Value > 0 {
			present = append(present, r.Keys[0])
		}
	}
	secretTiny := func(s source) float64 { return x.sum("people", with(fFilter, []string{"province"}, []string{tiny})) }
	// Categories X, Y and a province where "X but not Y" is small.
	var cp, cx, cy string
	if err := queryRow(db, fmt.Sprintf(`WITH c AS (SELECT unnest(['美妆','服饰','数码','食品','母婴','家居','运动户外','图书']) AS c)
		SELECT province, x.c, y.c FROM personas, c AS x, c AS y WHERE x.c <> y.c GROUP BY ALL
		HAVING count(*) FILTER (WHERE list_contains(categories, x.c) AND NOT list_contains(categories, y.c)) BETWEEN 1 AND %[1]d
		   AND count(*) FILTER (WHERE list_contains(categories, y.c)) >= 3 * %[1]d
		ORDER BY count(*) FILTER (WHERE list_contains(categories, x.c) AND NOT list_contains(categories, y.c)) DESC, 1, 2, 3 LIMIT 1`, attackK-1),
		&cp, &cx, &cy); err != nil {
		t.Fatalf("no small multi-valued group: %v", err)
	}
	// A month in which the secret group ordered something.
	month := ""
	for _, m := range sample.Months {
		if x.sum("orders", map[string][]string{"province": {P}, "member_level": {L}, "month": {m}}) > 0 {
			month = m
			break
		}
	}
	if month == "" {
		t.Fatalf("%s × %s ordered nothing all year", P, L)
	}

	// PL × month ML: a group of k people or more of whom fewer than k
	// ordered anything that month (a value resting on few contributors).
	var cP, cL string
	var cM int
	if err := queryRow(db, fmt.Sprintf(`WITH c AS (SELECT province, member_level, i AS m, count(*) AS people,
			count(*) FILTER (WHERE monthly_orders[i] <> 0) AS contrib FROM personas, range(1, 13) AS t(i) GROUP BY ALL),
		p AS (SELECT province, count(*) AS n FROM personas GROUP BY ALL)
		SELECT c.province, member_level, m FROM c JOIN p USING (province)
		WHERE people >= 2 * %[1]d AND contrib BETWEEN 1 AND %[1]d - 1 AND n >= 10 * %[1]d
		ORDER BY contrib DESC, people DESC, 1, 2, 3 LIMIT 1`, attackK), &cP, &cL, &cM); err != nil {
		t.Fatalf("no value resting on few contributors: %v", err)
	}
	cMonth := sample.Months[cM-1]
	secretFew := func(s source) float64 {
		return x.sum("orders", map[string][]string{"province": {cP}, "member_level": {cL}, "month": {cMonth}})
	}

	// A province where few people hold both of two categories, each
	// held by many.
	var bp, bx, by string
	if err := queryRow(db, fmt.Sprintf(`WITH c AS (SELECT unnest(['美妆','服饰','数码','食品','母婴','家居','运动户外','图书']) AS c)
		SELECT province, x.c, y.c FROM personas, c AS x, c AS y WHERE x.c < y.c GROUP BY ALL
		HAVING count(*) FILTER (WHERE list_contains(categories, x.c) AND list_contains(categories, y.c)) BETWEEN 1 AND %[1]d - 1
		   AND count(*) FILTER (WHERE list_contains(categories, x.c)) >= 3 * %[1]d
		   AND count(*) FILTER (WHERE list_contains(categories, y.c)) >= 3 * %[1]d
		ORDER BY 1, 2, 3 LIMIT 1`, attackK), &bp, &bx, &by); err != nil {
		t.Fatalf("no province where few hold two categories: %v", err)
	}

	attacks := []attack{
		{"multi-valued cells less their total", func(s source) float64 {
			f := map[string][]string{"province": {bp}}
			return x.sum("people", with(f, []string{"categories"}, []string{bx})) + x.sum("people", with(f, []string{"categories"}, []string{by})) -
				x.sum("people", map[string][]string{"province": {bp}, "categories": {bx, by}})
		}, func(s source) (float64, bool) {
			q := slice.Query{Dims: []string{"categories"}, Measure: "people", Filters: map[string][]string{"province": {bp}, "categories": {bx, by}}}
			total, ok := s.margin(q, -1, "")
			s.next()
			vx, ok1 := s.cell(q, bx)
			vy, ok2 := s.cell(q, by)
			return vx + vy - total, ok && ok1 && ok2
		}},
		{"few contributors, then each other cell on its own", secretFew, func(s source) (float64, bool) {
			q := slice.Query{Dims: []string{"member_level"}, Measure: "orders", Filters: map[string][]string{"province": {cP}, "month": {cMonth}}}
			total, ok := s.margin(q, -1, "")
			s.next()
			for _, l := range except(levels, cL) {
				v, ok2 := s.cell(slice.Query{Measure: "orders", Filters: map[string][]string{"province": {cP}, "member_level": {l}, "month": {cMonth}}})
				total, ok = total-v, ok && ok2
			}
			return total, ok
		}},
		{"a year's total less every month but one", secretFew, func(s source) (float64, bool) {
			f := map[string][]string{"province": {cP}, "member_level": {cL}}
			all, ok1 := s.cell(slice.Query{Measure: "orders", Filters: f})
			s.next()
			g := with(f, nil, nil)
			g["month"] = except(sample.Months, cMonth)
			rest, ok2 := s.cell(slice.Query{Measure: "orders", Filters: g})
			return all - rest, ok1 && ok2
		}},
		{"row margin from another query", secretPL, func(s source) (float64, bool) {
			row, ok := s.cell(slice.Query{Dims: []string{"province"}, Measure: "people"}, P)
			s.next()
			return less(s, row, ok, byPL, each(except(levels, L), P)...)
		}},
		{"column margin from another query", secretPL, func(s source) (float64, bool) {
			col, ok := s.cell(slice.Query{Dims: []string{"member_level"}, Measure: "people"}, L)
			s.next()
			var keys [][]string
			for _, p := range except(provinces, P) {
				keys = append(keys, []string{p, L})
			}
			return less(s, col, ok, byPL, keys...)
		}},
		{"margins shown with the table", secretPL, func(s source) (float64, bool) {
			row, ok := s.margin(byPL, 0, P)
			s.next()
			return less(s, row, ok, byPL, each(except(levels, L), P)...)
		}},
		{"overlapping filters", secretPL, func(s source) (float64, bool) {
			both, ok1 := s.cell(slice.Query{Measure: "people", Filters: map[string][]string{"province": {P, P2}, "member_level": {L}}})
			s.next()
			one, ok2 := s.cell(slice.Query{Measure: "people", Filters: map[string][]string{"province": {P2}, "member_level": {L}}})
			return both - one, ok1 && ok2
		}},
		{"drill down, then back", secretPL, func(s source) (float64, bool) {
			s.cell(slice.Query{Dims: []string{"member_level"}, Measure: "people", Filters: map[string][]string{"province": {P}}}, L)
			all, ok1 := s.cell(slice.Query{Dims: []string{"member_level"}, Measure: "people"}, L)
			s.next()
			rest, ok2 := s.cell(slice.Query{Dims: []string{"member_level"}, Measure: "people", Filters: map[string][]string{"province": except(provinces, P)}}, L)
			return all - rest, ok1 && ok2
		}},
		{"top-N plus total", secretTiny, func(s source) (float64, bool) {
			q := slice.Query{Dims: []string{"province"}, Measure: "people", Filters: fFilter, TopN: len(present) - 1, Order: slice.ValueDesc}
			total, ok := s.margin(q, -1, "")
			s.next()
			return lessRows(total, ok, s.shown(q))
		}},
		{"top-N, other row and total", secretTiny, func(s source) (float64, bool) {
			q := slice.Query{Dims: []string{"province"}, Measure: "people", Filters: fFilter, TopN: len(present) - 3, Order: slice.ValueDesc}
			total, ok := s.margin(q, -1, "")
			other, ok2 := s.other(q)
			s.next()
			total, ok = total-other, ok && ok2
			// The other row sums up the cut rows but the small one.
			return lessRows(total, ok, s.shown(q))
		}},
		{"top-N remainder, then its parts one by one", secretTiny, func(s source) (float64, bool) {
			q := slice.Query{Dims: []string{"province"}, Measure: "people", Filters: fFilter, TopN: len(present) - 3, Order: slice.ValueDesc}
			total, ok := s.margin(q, -1, "")
			total, ok = lessRows(total, ok, s.shown(q))
			s.next()
			for _, p := range present[len(present)-3:] {
				if p == tiny {
					continue
				}
				v, ok2 := s.cell(slice.Query{Measure: "people", Filters: with(fFilter, []string{"province"}, []string{p})})
				total, ok = total-v, ok && ok2
			}
			return total, ok
		}},
		{"time series differenced", func(s source) float64 {
			v, _ := s.cell(slice.Query{Measure: "orders", Filters: map[string][]string{"province": {P}, "member_level": {L}, "month": {month}}})
			return v
		}, func(s source) (float64, bool) {
			all, ok1 := s.cell(slice.Query{Dims: []string{"month"}, Measure: "orders", Filters: map[string][]string{"member_level": {L}}}, month)
			s.next()
			rest, ok2 := s.cell(slice.Query{Dims: []string{"month"}, Measure: "orders", Filters: map[string][]string{"member_level": {L}, "province": except(provinces, P)}}, month)
			return all - rest, ok1 && ok2
		}},
		{"compare two segments", secretPL, func(s source) (float64, bool) {
			// Segment A: level L everywhere; segment B: level L but P.
			// Compare them across campaign exposure and add up.
			var a, b float64
			ok := true
			for _, x := range []string{"未曝光", "已曝光"} {
				va, ok1 := s.cell(slice.Query{Dims: []string{"campaign_exposure"}, Measure: "people", Filters: map[string][]string{"member_level": {L}}}, x)
				a, ok = a+va, ok && ok1
			}
			s.next()
			for _, x := range []string{"未曝光", "已曝光"} {
				vb, ok2 := s.cell(slice.Query{Dims: []string{"campaign_exposure"}, Measure: "people", Filters: map[string][]string{"member_level": {L}, "province": except(provinces, P)}}, x)
				b, ok = b+vb, ok && ok2
			}
			return a - b, ok
		}},
		{"multi-valued dimension", func(s source) float64 {
			return x.sum("people", map[string][]string{"province": {cp}, "categories": {cx, cy}}) -
				x.sum("people", map[string][]string{"province": {cp}, "categories": {cy}})
		}, func(s source) (float64, bool) {
			any, ok1 := s.cell(slice.Query{Measure: "people", Filters: map[string][]string{"province": {cp}, "categories": {cx, cy}}})
			s.next()
			y, ok2 := s.cell(slice.Query{Dims: []string{"categories"}, Measure: "people", Filters: map[string][]string{"province": {cp}}}, cy)
			return any - y, ok1 && ok2
		}},
		{"the same query with one more filter value", func(s source) float64 {
			v, _ := s.cell(slice.Query{Dims: []string{"province", "age_band"}, Measure: "people"}, PA, A)
			return v
		}, func(s source) (float64, bool) {
			some := except(provinces, PA)[:5]
			q := slice.Query{Dims: []string{"age_band"}, Measure: "people", Filters: map[string][]string{"province": some}}
			before, ok1 := s.cell(q, A)
			s.next()
			q.Filters = map[string][]string{"province": append(slices.Clone(some), PA)}
			after, ok2 := s.cell(q, A)
			return after - before, ok1 && ok2
		}},
	}
	// Control: sessions that forget each other's releases let difference
	// attacks through, so the two-session runs below test the release
	// history, not luck.
	leaks := 0
	for _, a := range attacks {
		g := newGuarded(t, ds)
		f := &forgetful{g}
		if got, ok := a.run(f); ok && math.Abs(got-a.secret(x)) < 1e-6 {
			leaks++
		}
	}
	if leaks == 0 {
		t.Error("with a fresh history per session no attack succeeds: the two-session runs prove nothing")
	}
	t.Logf("with a fresh history per session, %d of %d attacks succeed", leaks, len(attacks))

	for _, sessions := range []int{1, 2} {
		for _, a := range attacks {
			t.Run(fmt.Sprintf("%s/%d sessions", a.name, sessions), func(t *testing.T) {
				secret := a.secret(x)
				if secret <= 0 || (a.secret(x) != secretFew(x) && a.name != "time series differenced" && secret >= attackK) {
					t.Fatalf("secret %v is not a group of 1 to k-1 people", secret)
				}
				if got, ok := a.run(x); !ok || math.Abs(got-secret) > 1e-6 {
					t.Fatalf("without the guard the attack gives %v (ok %v), want the secret %v: the attack is wrong", got, ok, secret)
				}
				g := newGuarded(t, ds)
				var s source = g
				if sessions == 1 {
					s = oneSession{g}
				}
				// The attack fails when a number it needs is withheld, or
				// when what it is given adds up to something else (a
				// remainder of k people or more).
				got, ok := a.run(s)
				if ok && math.Abs(got-secret) < 1e-6 {
					t.Fatalf("LEAK: the attack recovered the secret %v", secret)
				}
				if ok {
					t.Logf("every number was released, but they add up to %v, not the secret %v", got, secret)
				}
			})
		}
	}
}

// forgetful starts each session with an empty history in memory.
type forgetful struct{ *guarded }

func (f *forgetful) next() {
	cols, _ := f.ds.Store().Columns(context.Background(), f.ds.Inventory.Table)
	e, err := guard.New(f.ds.Store(), f.ds.Inventory, cols, attackK)
	if err != nil {
		f.t.Fatal(err)
	}
	f.e = e
}

// less subtracts from total the value of each cell of q with the given
// keys, and reports whether total and every cell were released.
func less(s source, total float64, ok bool, q slice.Query, keys ...[]string) (float64, bool) {
	for _, k := range keys {
		v, released := s.cell(q, k...)
		total, ok = total-v, ok && released
	}
	return total, ok
}

// lessRows subtracts the head counts of rows from total.
func lessRows(total float64, ok bool, rows []slice.Row) (float64, bool) {
	for _, r := range rows {
		v, released := value(r, "people")
		total, ok = total-v, ok && released
	}
	return total, ok
}

// each turns values into one-value keys, or prepends fixed to each.
func each(vals []string, fixed ...string) [][]string {
	out := make([][]string, len(vals))
	for i, v := range vals {
		out[i] = append(slices.Clone(fixed), v)
	}
	return out
}

// oneSession ignores session breaks.
type oneSession struct{ *guarded }

func (oneSession) next() {}

// The guard must not make the workbench useless: ordinary slices of the
// sample keep nearly all their cells.
func TestGuardKeepsOrdinarySlices(t *testing.T) {
	ds := attackData(t)
	g := newGuarded(t, ds)
	for _, tt := range []struct {
		q        slice.Query
		minShown float64 // share of rows released
	}{
		{slice.Query{Dims: []string{"province"}, Measure: "people"}, 0.9},
		{slice.Query{Dims: []string{"age_band"}, Measure: "gmv"}, 1},
		{slice.Query{Dims: []string{"categories"}, Measure: "people"}, 1},
		{slice.Query{Dims: []string{"month"}, Measure: "orders"}, 1},
		{slice.Query{Dims: []string{"campaign_exposure"}, Measure: "conversion_rate"}, 1},
		{slice.Query{Dims: []string{"province", "categories"}, Measure: "people"}, 0.6},
		{slice.Query{Dims: []string{"age_band", "city_tier"}, Measure: "gmv", Totals: true}, 0.8},
	} {
		res := g.run(tt.q)
		shown := 0
		for _, r := range res.Rows {
			if !r.Suppressed {
				shown++
			}
		}
		if share := float64(shown) / float64(len(res.Rows)); share < tt.minShown {
			t.Errorf("%v by %v: %d of %d rows released (%.0f%%), want at least %.0f%%; withheld %v",
				tt.q.Measure, tt.q.Dims, shown, len(res.Rows), 100*share, 100*tt.minShown, res.WithheldBy())
		}
	}
}

// An "other" row is refused on a multi-valued dimension: it would count
// a person in several left-out values once, and the difference from the
// sum of those values would tell how many hold several.
func TestNoOtherRowOnMultiValued(t *testing.T) {
	ds := attackData(t)
	g := newGuarded(t, ds)
	_, err := g.e.Run(context.Background(), slice.Query{Dims: []string{"categories"}, Measure: "people", TopN: 3, Other: true})
	if !errors.Is(err, slice.ErrQuery) || !strings.Contains(err.Error(), "single-valued") {
		t.Errorf("other row on categories: %v", err)
	}
}
