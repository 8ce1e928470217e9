package guard_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/persona-workbench/persona/engine/ckm"
	"github.com/persona-workbench/persona/engine/dataset"
	"github.com/persona-workbench/persona/engine/guard"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/engine/store"
	"github.com/persona-workbench/persona/sample"
)

// Attacks on the cell key method (the guard's "perturb" method,
// perturb.go), written by someone who did not write it.
//
// Threat model. The attacker is an analyst of the licence: they can run
// any slice through the guard (guard.Engine.Run), as often as they like,
// in any session or workspace, and they know everything published: the
// inventory (its record count too), the perturbation parameters and
// table (ckm.Table), and who is who in the real world up to the
// attributes the data holds, so they can name a person by a combination
// of attributes that is unique in the data. They do not hold the
// records' keys: an analyst who does holds the data, and is out of
// scope. The guard protects what leaves the workstation; it cannot make
// an attack impossible, only slow: no result may give away a small group
// or a person's value exactly more often than the noise allows by
// chance, and a deliberate averaging attack must need many tables.
//
// Each attack below is run twice. First against an unguarded source
// that answers every cell exactly from the data (paExact, written
// independently of the guard's SQL): there it must recover the secret
// exactly, which proves the attack's arithmetic (a test that passes
// because the attack is wrong proves nothing). Then against the
// perturbed engine, over many targets picked from the raw data with
// SQL: the share of targets whose secret comes out exactly must stay
// within what chance allows, and the attacker's error must not be
// always zero.
//
// Chance. A released cell holds 4 people or more (k = 10, D = 6), so its
// adjustment is drawn from a row of the table whose largest probability
// is at most 0.131 (the stationary row's P(0); paChance computes it from
// the table). An attack that adds one more cell with its own draw
// recovers the secret exactly only if that draw happens to cancel the
// others, which happens with probability at most 0.131 whatever the
// others are; for two stationary cells P(e1 = e2) = Σ p_j² = 0.096. So an
// attack is "at chance" when about 10-13% of targets come out exact. The
// assertion allows 35%: with 20 targets or more, chance exceeds it with
// probability below 0.003 (logged per class as a binomial tail), so a
// class over it is a leak, not bad luck. The same bound holds for a sum
// when its noise unit, top·Mult/D (top: the cell's largest
// contribution), is at least the resolution of the secret. For sums of
// small whole numbers it is not: when every buyer of a month ordered
// once, top = 1 and the unit is a sixth of an order, so a difference of
// two such sums is off by (j1 - j2)/6 and rounds to the truth whenever
// |j1 - j2| <= 2 (0.454 by the table). Classes 3d and 3e measure that.
//
// The classes (TestPerturbAttacks). Each asserts, over its targets,
// that the attack's arithmetic is right (exact source) and that the
// guard lets it recover the secret no more often than chance allows
// (paMeasure); a class whose numbers are mostly withheld would test
// withholding, not the noise, and fails too.
//
//  1. Roll-ups: a region's count less its other provinces' counts (the
//     province withheld); region less a province_code filter listing
//     the region's other codes. province and province_code, and a region
//     and the list of its provinces, select the same people and must give
//     the same numbers: asserted cell by cell (else two spellings would
//     be two draws to average).
//  2. A filter listing a withheld province with the two largest
//     released ones, less those two from the breakdown that withheld it.
//  3. Multi-valued and time: two categories (page types) each less their
//     union, from a breakdown and a filter (3a), and inside one table
//     with its total (3b); the orders of a month resting on few buyers,
//     from a filter listing that month with another, less the other
//     month's cell of the monthly series (3c); the same for occasional
//     buyers whose orders that month are one each (3d), and averaged
//     over 4 to 6 companion groups H', (H ∪ H') - H' (3e).
//  4. Three results: F, less F and the largest value of a dimension, less
//     F and all its other values but the small one (F a province and the
//     dimension another, or F a value and the dimension the province).
//  5. The record count against a filter that covers everyone but a few:
//     a filter listing all values of a multi-valued dimension but up to
//     three leaves out the people whose values all lie among those
//     three; against the exact record count the inventory publishes
//     (5a: one draw) and the released grand total (5b). The sample has
//     only 14 such groups of 1..k-1 people. And inside a province: the
//     total of a slice of the province against a filter listing all
//     values of a dimension but one (5c).
//  6. A second analyst, or a copied workspace: two engines opened apart
//     on the same data and key seed must give the same results byte for
//     byte (asking elsewhere gains no new draw; margins compared in key
//     order, as DuckDB returns them in no fixed order); an engine reading
//     the summary of the records must give the same head counts, rates
//     and decisions, and values to the last bits of a decimal sum.
//  7. Rates: the few converters of a group (conversion is at most 31% in
//     any group of the sample, so the minority is the converters: the
//     mirror of "the no's of a rate near 100%"), read as rate × head count
//     from the group's own rate (7a, mostly withheld by the few
//     contributors rule, by design), and from the rate of it with a large
//     group less that large group's rate (7b).
//  8. Sums: one person's exact GMV from two sums that differ by that
//     person, the cell's top contributor: over the year (8a), over a half
//     year (8b), and with the year spelled as all twelve months listed
//     for one and as no month filter for the other (8c). Two spellings of
//     one sum are the same people and the same values, so they must give
//     the same number, asserted; 8d uses them the way an attacker would
//     if they did not: their differences are whole multiples of
//     top·Mult/D, whose common unit gives the top contributor's value
//     (counted as recovered within 0.5%, as the guard rounds released
//     sums to a hundredth of that unit). The rounding step itself tells
//     the decade of a sum's top contribution: measured and logged.
//
// TestPerturbAttackAveraging attacks the method's known limit: noise is
// the same for the same people, so only different sets of people give
// new draws, and a question about one person needs many tables. See its
// comment.

// paK is the minimum group size of the attacked licence.
const paK = 10

// paMaxExact is the largest share of targets an attack may recover
// exactly: chance is at most paChance (0.131); see above.
const paMaxExact = 0.35

var (
	paOnce sync.Once
	paDS   [2]*dataset.Dataset // two opens of the same data and key seed
	paErr  error
)

// paData opens the 20,000-record sample twice under the default
// perturbation, with key seed 42 both times: two workspaces of one
// licence.
func paData(t *testing.T) (*dataset.Dataset, *dataset.Dataset) {
	t.Helper()
	paOnce.Do(func() {
		for i := range paDS {
			p := ckm.DefaultParams()
			seed := uint64(42)
			paDS[i], paErr = openSample(20_000, dataset.Options{K: paK, Store: store.Options{Threads: 2}, Perturb: &p, KeySeed: &seed})
			if paErr != nil {
				return
			}
		}
	})
	if paErr != nil {
		t.Fatal(paErr)
	}
	return paDS[0], paDS[1]
}

// paSQL runs a query on the raw data, for the truth.
func paSQL(t testing.TB, db *store.DB, q string, args ...any) [][]any {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func paStr(v any) string {
	s, _ := v.(string)
	return s
}

func paInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}

func paFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	}
	return math.NaN()
}

// paHash orders targets deterministically without favouring any.
func paHash(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// paSource answers an attacker's questions: the row of q's result with
// the given keys (nil: the grand total of a query with Totals, or the
// only row of a query without dimensions), and whether it was released.
// A row that is not in the result is nobody: zero, released.
type paSource interface {
	row(q slice.Query, keys []string) (slice.Row, bool)
}

// paGuard asks the perturbed engine, caching results: the same query
// gets the same answer anyway (class 6 checks it).
type paGuard struct {
	t     testing.TB
	e     *guard.Engine
	mu    sync.Mutex
	cache map[string]*slice.Result
}

func paNewGuard(t testing.TB, e *guard.Engine) *paGuard {
	return &paGuard{t: t, e: e, cache: map[string]*slice.Result{}}
}

func paQueryKey(q slice.Query) string {
	return fmt.Sprintf("%q|%v|%v|%s|%d|%d|%t|%t", q.Dims, q.Filters, q.Holding, q.Measure, q.Order, q.TopN, q.Totals, q.Other)
}

func (g *paGuard) result(q slice.Query) *slice.Result {
	key := paQueryKey(q)
	g.mu.Lock()
	res, ok := g.cache[key]
	g.mu.Unlock()
	if ok {
		return res
	}
	res, err := g.e.Run(context.Background(), q)
	if err != nil {
		g.t.Fatalf("%+v: %v", q, err)
	}
	if res.Method != guard.MethodPerturb {
		g.t.Fatalf("%+v: method %q, want %q", q, res.Method, guard.MethodPerturb)
	}
	g.mu.Lock()
	g.cache[key] = res
	g.mu.Unlock()
	return res
}

func (g *paGuard) row(q slice.Query, keys []string) (slice.Row, bool) {
	return paPick(g.t, g.result(q), keys)
}

// paPick returns the row of res with the given keys (nil: the grand
// total, or the only row of a result without dimensions), and whether
// it was released; a row that is not there is nobody: zero, released.
func paPick(t testing.TB, res *slice.Result, keys []string) (slice.Row, bool) {
	q := res.Query
	if keys == nil {
		if len(q.Dims) > 0 {
			if res.Total == nil {
				t.Fatalf("%+v: no total", q)
			}
			return *res.Total, !res.Total.Suppressed
		}
		if len(res.Rows) == 0 {
			return slice.Row{}, true
		}
		return res.Rows[0], !res.Rows[0].Suppressed
	}
	for _, r := range res.Rows {
		if slices.Equal(r.Keys, keys) {
			return r, !r.Suppressed
		}
	}
	return slice.Row{Keys: keys}, true
}

// paExact answers every cell exactly from the raw data, with SQL of its
// own: an unguarded source.
type paExact struct {
	t   testing.TB
	db  *store.DB
	inv *inventory.Inventory
}

func (x paExact) row(q slice.Query, keys []string) (slice.Row, bool) {
	f := map[string][]string{}
	for k, v := range q.Filters {
		f[k] = v
	}
	if keys != nil {
		for i, d := range q.Dims {
			f[d] = []string{keys[i]}
		}
	}
	var where []string
	var args []any
	params := func(vals []string) string {
		ps := make([]string, len(vals))
		for i, v := range vals {
			args = append(args, v)
			ps[i] = "$" + strconv.Itoa(len(args))
		}
		return strings.Join(ps, ", ")
	}
	var months []string
	names := make([]string, 0, len(f))
	for name := range f {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fld, ok := x.inv.Field(name)
		if !ok {
			x.t.Fatalf("unknown field %q", name)
		}
		switch fld.Role {
		case inventory.Dimension:
			where = append(where, fmt.Sprintf("%s IN (%s)", name, params(f[name])))
		case inventory.MultiDimension:
			where = append(where, fmt.Sprintf("list_has_any(%s, [%s])", name, params(f[name])))
		case inventory.Time:
			for _, v := range f[name] {
				months = append(months, strconv.Itoa(slices.Index(fld.Order, v)+1))
			}
		}
	}
	expr := "0"
	switch q.Measure {
	case "people":
	case "orders", "gmv":
		col := map[string]string{"orders": "monthly_orders", "gmv": "monthly_gmv"}[q.Measure]
		if months != nil {
			expr = fmt.Sprintf("sum(list_sum(list_select(%s, [%s])))", col, strings.Join(months, ", "))
		} else {
			expr = fmt.Sprintf("sum(list_sum(%s))", col)
		}
	case "conversion_rate":
		expr = "count(*) FILTER (WHERE campaign_converted)"
	default:
		x.t.Fatalf("paExact does not know measure %q", q.Measure)
	}
	sql := fmt.Sprintf("SELECT count(*)::BIGINT, coalesce((%s)::DOUBLE, 0) FROM personas", expr)
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	res := paSQL(x.t, x.db, sql, args...)
	n, v := paInt(res[0][0]), paFloat(res[0][1])
	r := slice.Row{Keys: keys, People: n, Value: v}
	switch q.Measure {
	case "people":
		r.Value = float64(n)
	case "conversion_rate":
		r.Value = math.NaN()
		if n > 0 {
			r.Value = v / float64(n)
		}
	}
	return r, true
}

// What an attacker reads off a row.
func paPeople(r slice.Row) float64 { return float64(r.People) }
func paValue(r slice.Row) float64  { return r.Value }

// paYes is the number of people a rate counts as "yes": the rate times
// the head count it was divided by, both released.
func paYes(r slice.Row) float64 { return math.Round(r.Value * float64(r.People)) }

// paTerm is one released number of an attack, with its coefficient.
type paTerm struct {
	q    slice.Query
	keys []string
	coef float64
	read func(slice.Row) float64
}

// paAttack is one attack on one target: a linear combination of
// released numbers (plus a number known exactly), or eval.
type paAttack struct {
	target string
	secret float64
	tol    float64 // |estimate - secret| <= tol: recovered exactly
	known  float64
	terms  []paTerm
	eval   func(s paSource) (float64, bool)
}

func (a paAttack) run(s paSource) (float64, bool) {
	if a.eval != nil {
		return a.eval(s)
	}
	est, ok := a.known, true
	for _, tm := range a.terms {
		r, released := s.row(tm.q, tm.keys)
		if !released {
			ok = false
			continue
		}
		est += tm.coef * tm.read(r)
	}
	return est, ok
}

// paOutcome is what one class of attacks achieved.
type paOutcome struct {
	class                     string
	targets, released, exacts int
}

// paOpts tune a class's checks.
type paOpts struct {
	minTargets int
	// needReleased is the share of targets whose numbers must all be
	// released for the class to test the noise rather than withholding.
	needReleased float64
}

// paMeasure runs a class of attacks: each must recover its secret from
// the exact source, and may recover it from the guard no more often than
// chance.
func paMeasure(t *testing.T, class string, attacks []paAttack, exact, guarded paSource, chance float64, o paOpts) paOutcome {
	t.Helper()
	out := paOutcome{class: class, targets: len(attacks)}
	if len(attacks) < o.minTargets {
		t.Fatalf("only %d targets in the sample, want at least %d", len(attacks), o.minTargets)
	}
	var sumErr float64
	var wrong int
	var examples []string
	for _, a := range attacks {
		got, ok := a.run(exact)
		if !ok || math.Abs(got-a.secret) > a.tol {
			t.Fatalf("%s: without the guard the attack gives %v (ok %v), want the secret %v: the attack is wrong", a.target, got, ok, a.secret)
		}
		got, ok = a.run(guarded)
		if !ok {
			continue
		}
		out.released++
		e := math.Abs(got - a.secret)
		sumErr += e
		if e <= a.tol {
			out.exacts++
			if len(examples) < 3 {
				examples = append(examples, fmt.Sprintf("%s: secret %v", a.target, a.secret))
			}
		} else {
			wrong++
		}
	}
	n := len(attacks)
	meanErr := math.NaN()
	if out.released > 0 {
		meanErr = sumErr / float64(out.released)
	}
	limit := int(math.Floor(paMaxExact*float64(n))) + 1
	t.Logf("%d targets; every number released for %d; secret recovered exactly for %d (%.0f%% of targets, %.0f%% of released attacks; chance <= %.0f%%, P(>= %d exact by chance) = %.1g); mean |error| %.4g",
		n, out.released, out.exacts, 100*float64(out.exacts)/float64(n), 100*float64(out.exacts)/math.Max(1, float64(out.released)),
		100*chance, limit, paBinomTail(n, limit, chance), meanErr)
	if len(examples) > 0 {
		t.Logf("recovered exactly, e.g. %s", strings.Join(examples, "; "))
	}
	if float64(out.released) < o.needReleased*float64(n) {
		t.Errorf("only %d of %d attacks got every number released: the class tests withholding, not the noise", out.released, n)
	}
	leak := float64(out.exacts) > paMaxExact*float64(n) ||
		(out.released >= 10 && float64(out.exacts) > paMaxExact*float64(out.released)) ||
		(out.released > 0 && wrong == 0)
	if leak {
		t.Errorf("LEAK: %d of %d targets (%d released) recovered exactly: more than the %.0f%% chance may explain (chance <= %.0f%%); e.g. %s",
			out.exacts, n, out.released, 100*paMaxExact, 100*chance, strings.Join(examples, "; "))
	}
	return out
}

// paBinomTail is P(X >= c) for X ~ Binomial(n, p).
func paBinomTail(n, c int, p float64) float64 {
	if c <= 0 {
		return 1
	}
	if p <= 0 {
		return 0
	}
	s := 0.0
	for k := c; k <= n; k++ {
		lg := lgamma(float64(n+1)) - lgamma(float64(k+1)) - lgamma(float64(n-k+1))
		s += math.Exp(lg + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
	}
	return s
}

func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

// paChance is the largest probability of any one adjustment of a count
// of 4 or more people (the least a released cell can hold when k = 10 and
// D = 6), and of the stationary row that scales sums: the most likely
// way for a new draw to cancel an attack's other errors.
func paChance(tab *ckm.Table, p ckm.Params) float64 {
	best := 0.0
	for n := int64(paK - p.D); n <= int64(p.D+p.JS+2); n++ {
		_, prob := tab.Row(n)
		for _, q := range prob {
			best = math.Max(best, q)
		}
	}
	return best
}

// paDiff is the distribution of e1 - e2 for two independent draws from
// the stationary row: q[d+2D].
func paDiff(tab *ckm.Table, p ckm.Params) func(d int) float64 {
	adj, prob := tab.Row(1 << 30)
	q := make([]float64, 4*p.D+1)
	for a := range adj {
		for b := range adj {
			q[adj[a]-adj[b]+2*p.D] += prob[a] * prob[b]
		}
	}
	return func(d int) float64 {
		if d < -2*p.D || d > 2*p.D {
			return 0
		}
		return q[d+2*p.D]
	}
}

func paCopy(f map[string][]string, set ...any) map[string][]string {
	out := map[string][]string{}
	for k, v := range f {
		out[k] = v
	}
	for i := 0; i+1 < len(set); i += 2 {
		out[set[i].(string)] = set[i+1].([]string)
	}
	return out
}

func paCount(f map[string][]string) slice.Query {
	return slice.Query{Measure: "people", Filters: f}
}

func paWithout(all []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(all), func(v string) bool { return slices.Contains(drop, v) })
}

// paCell is a count of people by a single-valued dimension value d = v
// and a province.
type paCell struct {
	d, v, p, r string
	n, yes     int64
}

// paWorld is what the attacks pick their targets from: the raw data.
type paWorld struct {
	x          paExact
	provinces  []string
	regionOf   map[string]string
	codeOf     map[string]string
	inRegion   map[string][]string
	values     map[string][]string // each single- or multi-valued dimension's values
	cells      []paCell            // d = v × province, for the single-valued filter dimensions
	byFilter   map[[2]string][]paCell
	filterDims []string
}

func paLoadWorld(t *testing.T, ds *dataset.Dataset) *paWorld {
	db := ds.Store()
	w := &paWorld{x: paExact{t: t, db: db, inv: ds.Inventory}, regionOf: map[string]string{}, codeOf: map[string]string{},
		inRegion: map[string][]string{}, values: map[string][]string{}, byFilter: map[[2]string][]paCell{},
		filterDims: []string{"age_band", "gender", "city_tier", "member_level", "device", "purchase_frequency", "campaign_exposure"}}
	for _, r := range paSQL(t, db, `SELECT province, province_code, region FROM personas GROUP BY ALL ORDER BY 1`) {
		p := paStr(r[0])
		w.provinces = append(w.provinces, p)
		w.codeOf[p], w.regionOf[p] = paStr(r[1]), paStr(r[2])
		w.inRegion[paStr(r[2])] = append(w.inRegion[paStr(r[2])], p)
	}
	for _, d := range append(slices.Clone(w.filterDims), "province", "region") {
		for _, r := range paSQL(t, db, fmt.Sprintf(`SELECT DISTINCT %s FROM personas ORDER BY 1`, d)) {
			w.values[d] = append(w.values[d], paStr(r[0]))
		}
	}
	for _, d := range []string{"categories", "page_types"} {
		for _, r := range paSQL(t, db, fmt.Sprintf(`SELECT DISTINCT unnest(%s) FROM personas ORDER BY 1`, d)) {
			w.values[d] = append(w.values[d], paStr(r[0]))
		}
	}
	var parts []string
	for _, d := range w.filterDims {
		parts = append(parts, fmt.Sprintf(`SELECT '%[1]s' AS d, %[1]s AS v, province, region, count(*)::BIGINT AS n,
			count(*) FILTER (WHERE campaign_converted)::BIGINT AS y FROM personas GROUP BY ALL`, d))
	}
	for _, r := range paSQL(t, db, strings.Join(parts, " UNION ALL ")+" ORDER BY 1, 2, 3") {
		c := paCell{d: paStr(r[0]), v: paStr(r[1]), p: paStr(r[2]), r: paStr(r[3]), n: paInt(r[4]), yes: paInt(r[5])}
		w.cells = append(w.cells, c)
		w.byFilter[[2]string{c.d, c.v}] = append(w.byFilter[[2]string{c.d, c.v}], c)
	}
	return w
}

// n returns the head count of d = v in province p.
func (w *paWorld) n(d, v, p string) int64 {
	for _, c := range w.byFilter[[2]string{d, v}] {
		if c.p == p {
			return c.n
		}
	}
	return 0
}

// paTake orders candidates by hash and keeps the first max.
func paTake[T any](cands []T, key func(T) string, max int) []T {
	slices.SortStableFunc(cands, func(a, b T) int {
		ha, hb := paHash(key(a)), paHash(key(b))
		switch {
		case ha < hb:
			return -1
		case ha > hb:
			return 1
		}
		return 0
	})
	if len(cands) > max {
		cands = cands[:max]
	}
	return cands
}

// TestPerturbAttacks runs the eight classes of attack (see the comment
// at the top of the file).
func TestPerturbAttacks(t *testing.T) {
	ds, ds2 := paData(t)
	params, tab, ok := ds.Slices.Perturbation()
	if !ok {
		t.Fatal("the sample is not perturbed")
	}
	chance := paChance(tab, params)
	t.Logf("chance of an exact recovery per target: <= %.4f (largest probability of one adjustment); two stationary draws equal: %.4f",
		chance, paDiff(tab, params)(0))
	w := paLoadWorld(t, ds)
	x := w.x
	g := paNewGuard(t, ds.Slices)
	per := 40
	minT := 20
	if testing.Short() {
		per, minT = 15, 8
	}
	opts := paOpts{minTargets: minT, needReleased: 0.5}
	var outcomes []paOutcome
	measure := func(t *testing.T, class string, attacks []paAttack, o paOpts) {
		outcomes = append(outcomes, paMeasure(t, class, attacks, x, g, chance, o))
	}

	t.Run("1 roll-up", func(t *testing.T) {
		// Targets: a filter F (one value of one dimension) and a province
		// P with 1..k-1 people under F whose region's other provinces hold
		// 16 or more each (so their cells are released).
		var cands []paCell
		for _, c := range w.cells {
			if c.n < 1 || c.n >= paK {
				continue
			}
			ok := true
			for _, p := range w.inRegion[c.r] {
				if p != c.p && w.n(c.d, c.v, p) < 16 {
					ok = false
				}
			}
			if ok {
				cands = append(cands, c)
			}
		}
		targets := paTake(cands, func(c paCell) string { return c.d + c.v + c.p }, per)
		var rollup, codes []paAttack
		for _, c := range targets {
			f := map[string][]string{c.d: {c.v}}
			byRegion := slice.Query{Dims: []string{"region"}, Measure: "people", Filters: f}
			byProvince := slice.Query{Dims: []string{"province"}, Measure: "people", Filters: f}
			name := fmt.Sprintf("%s=%s, %s (%s)", c.d, c.v, c.p, c.r)
			a := paAttack{target: name, secret: float64(c.n), tol: 0.5,
				terms: []paTerm{{q: byRegion, keys: []string{c.r}, coef: 1, read: paPeople}}}
			var otherCodes []string
			for _, p := range w.inRegion[c.r] {
				if p != c.p {
					a.terms = append(a.terms, paTerm{q: byProvince, keys: []string{p}, coef: -1, read: paPeople})
					otherCodes = append(otherCodes, w.codeOf[p])
				}
			}
			rollup = append(rollup, a)
			codes = append(codes, paAttack{target: name, secret: float64(c.n), tol: 0.5, terms: []paTerm{
				{q: byRegion, keys: []string{c.r}, coef: 1, read: paPeople},
				{q: paCount(paCopy(f, "region", []string{c.r}, "province_code", otherCodes)), coef: -1, read: paPeople},
			}})
		}
		t.Run("region less its other provinces", func(t *testing.T) { measure(t, "1a region − other provinces", rollup, opts) })
		t.Run("region less a province_code filter", func(t *testing.T) { measure(t, "1b region − province_code list", codes, opts) })
		t.Run("same people, same numbers", func(t *testing.T) {
			// province ≡ province_code, and a region ≡ its provinces: the
			// same people must get the same numbers, or two spellings
			// would be two draws.
			checked := 0
			for _, c := range targets {
				f := map[string][]string{c.d: {c.v}}
				byProvince := g.result(slice.Query{Dims: []string{"province"}, Measure: "people", Filters: f})
				byCode := g.result(slice.Query{Dims: []string{"province_code"}, Measure: "people", Filters: f})
				for _, r := range byProvince.Rows {
					rc, _ := paPick(t, byCode, []string{w.codeOf[r.Keys[0]]})
					if rc.People != r.People || rc.Suppressed != r.Suppressed || rc.Reason != r.Reason || math.Float64bits(rc.Value) != math.Float64bits(r.Value) {
						t.Errorf("%v: province %s gives %+v, province_code %s gives %+v", f, r.Keys[0], r, w.codeOf[r.Keys[0]], rc)
					}
					checked++
				}
				reg, _ := g.row(slice.Query{Dims: []string{"region"}, Measure: "people", Filters: f}, []string{c.r})
				list, _ := g.row(paCount(paCopy(f, "province", w.inRegion[c.r])), nil)
				if reg.People != list.People || reg.Suppressed != list.Suppressed {
					t.Errorf("%v: region %s gives %+v, its provinces listed give %+v", f, c.r, reg, list)
				}
				checked++
			}
			t.Logf("%d pairs of cells over the same people compared: equal", checked)
		})
	})

	t.Run("2 withheld value listed with two large ones", func(t *testing.T) {
		var cands []paCell
		for _, c := range w.cells {
			if c.n >= 1 && c.n < paK {
				cands = append(cands, c)
			}
		}
		cands = paTake(cands, func(c paCell) string { return c.d + c.v + c.p }, 4*per)
		var attacks []paAttack
		for _, c := range cands {
			f := map[string][]string{c.d: {c.v}}
			byProvince := slice.Query{Dims: []string{"province"}, Measure: "people", Filters: f}
			if _, released := g.row(byProvince, []string{c.p}); released {
				continue // the breakdown shows it (noise took it to k): not this class
			}
			big := slices.Clone(w.byFilter[[2]string{c.d, c.v}])
			slices.SortFunc(big, func(a, b paCell) int { return int(b.n - a.n) })
			q1, q2 := big[0].p, big[1].p
			attacks = append(attacks, paAttack{target: fmt.Sprintf("%s=%s, %s (with %s, %s)", c.d, c.v, c.p, q1, q2), secret: float64(c.n), tol: 0.5,
				terms: []paTerm{
					{q: paCount(paCopy(f, "province", []string{c.p, q1, q2})), coef: 1, read: paPeople},
					{q: byProvince, keys: []string{q1}, coef: -1, read: paPeople},
					{q: byProvince, keys: []string{q2}, coef: -1, read: paPeople},
				}})
			if len(attacks) == per {
				break
			}
		}
		measure(t, "2 withheld + two large − the two", attacks, opts)
	})

	t.Run("3 multi-valued and months", func(t *testing.T) {
		// Two values A, B of a multi-valued dimension in a province P:
		// few people hold both, many hold each.
		type pair struct {
			dim, p, a, b string
			n            int64
		}
		var cands []pair
		for _, dim := range []string{"categories", "page_types"} {
			rows := paSQL(t, x.db, fmt.Sprintf(`WITH v AS (SELECT unnest($1::VARCHAR[]) AS a), ab AS (SELECT x.a AS a, y.a AS b FROM v AS x, v AS y WHERE x.a < y.a)
				SELECT province, a, b, count(*) FILTER (WHERE list_contains(%[1]s, a) AND list_contains(%[1]s, b))::BIGINT AS n
				FROM personas, ab GROUP BY ALL
				HAVING n BETWEEN 1 AND %[2]d AND count(*) FILTER (WHERE list_contains(%[1]s, a)) >= 16 AND count(*) FILTER (WHERE list_contains(%[1]s, b)) >= 16
				ORDER BY 1, 2, 3`, dim, paK-1), w.values[dim])
			for _, r := range rows {
				cands = append(cands, pair{dim, paStr(r[0]), paStr(r[1]), paStr(r[2]), paInt(r[3])})
			}
		}
		targets := paTake(cands, func(c pair) string { return c.dim + c.p + c.a + c.b }, per)
		var union, oneTable []paAttack
		for _, c := range targets {
			f := map[string][]string{"province": {c.p}}
			by := slice.Query{Dims: []string{c.dim}, Measure: "people", Filters: f}
			name := fmt.Sprintf("%s: %s and %s in %s", c.dim, c.a, c.b, c.p)
			union = append(union, paAttack{target: name, secret: float64(c.n), tol: 0.5, terms: []paTerm{
				{q: by, keys: []string{c.a}, coef: 1, read: paPeople},
				{q: by, keys: []string{c.b}, coef: 1, read: paPeople},
				{q: paCount(paCopy(f, c.dim, []string{c.a, c.b})), coef: -1, read: paPeople},
			}})
			q := slice.Query{Dims: []string{c.dim}, Measure: "people", Filters: paCopy(f, c.dim, []string{c.a, c.b}), Totals: true}
			oneTable = append(oneTable, paAttack{target: name, secret: float64(c.n), tol: 0.5, terms: []paTerm{
				{q: q, keys: []string{c.a}, coef: 1, read: paPeople},
				{q: q, keys: []string{c.b}, coef: 1, read: paPeople},
				{q: q, coef: -1, read: paPeople},
			}})
		}
		t.Run("each value less the filter listing both", func(t *testing.T) { measure(t, "3a A + B − (A,B filter)", union, opts) })
		t.Run("each value less the total of one table", func(t *testing.T) { measure(t, "3b A + B − total, one table", oneTable, opts) })

		// A month m in which few people of a province × member level
		// ordered (its cell of the monthly series is withheld), and a
		// month m2 in which many did.
		var parts []string
		for _, d := range w.filterDims {
			parts = append(parts, fmt.Sprintf(`SELECT '%[1]s' AS d, %[1]s AS v, province, i, count(*) AS people,
				count(*) FILTER (WHERE monthly_orders[i] <> 0) AS c, sum(monthly_orders[i])::DOUBLE AS o
				FROM personas, range(1, 13) AS t(i) GROUP BY ALL`, d))
		}
		rows := paSQL(t, x.db, fmt.Sprintf(`WITH m AS (%s)
			SELECT a.d, a.v, a.province, a.i::BIGINT, b.i::BIGINT, a.o FROM m AS a JOIN m AS b USING (d, v, province)
			WHERE a.c BETWEEN 1 AND %d AND a.people >= 16 AND b.c >= 16 AND b.i <> a.i
			QUALIFY row_number() OVER (PARTITION BY a.d, a.v, a.province, a.i ORDER BY b.c DESC, b.i) = 1
			ORDER BY 1, 2, 3, 4`, strings.Join(parts, " UNION ALL "), paK-1))
		type month struct {
			d, v, p string
			m, m2   int64
			orders  float64
		}
		var ms []month
		for _, r := range rows {
			ms = append(ms, month{paStr(r[0]), paStr(r[1]), paStr(r[2]), paInt(r[3]), paInt(r[4]), paFloat(r[5])})
		}
		ms = paTake(ms, func(c month) string { return c.d + c.v + c.p + strconv.Itoa(int(c.m)) }, per)
		var monthly []paAttack
		for _, c := range ms {
			f := map[string][]string{"province": {c.p}, c.d: {c.v}}
			m, m2 := sample.Months[c.m-1], sample.Months[c.m2-1]
			monthly = append(monthly, paAttack{target: fmt.Sprintf("orders of %s=%s in %s, %s", c.d, c.v, c.p, m), secret: c.orders, tol: 0.5, terms: []paTerm{
				{q: slice.Query{Measure: "orders", Filters: paCopy(f, "month", []string{m, m2})}, coef: 1, read: paValue},
				{q: slice.Query{Dims: []string{"month"}, Measure: "orders", Filters: f}, keys: []string{m2}, coef: -1, read: paValue},
			}})
		}
		t.Run("a list of months less the monthly series", func(t *testing.T) { measure(t, "3c orders {m, m2} − series m2", monthly, opts) })

		// The same among people who order at most a few times a year,
		// in months where nobody of them ordered twice, and nobody in
		// both months: the largest contribution, which scales the noise
		// of each cell, is one order, so the noise unit top·Mult/D is a
		// sixth of an order, and the difference is off by (j1 - j2)/6
		// orders: rounded to a whole order it is exact when |j1 - j2| <= 2.
		var low, lowAvg []paAttack
		for _, by := range [][2]string{{"province", "gender"}, {"province", "device"}, {"province", "city_tier"}, {"province", "age_band"},
			{"province", "member_level"}, {"province", "campaign_exposure"}, {"region", "age_band"}, {"region", "device"}, {"region", "city_tier"}} {
			rows = paSQL(t, x.db, fmt.Sprintf(`WITH p AS (SELECT %[1]s AS a, %[2]s AS b, monthly_orders AS o FROM personas WHERE purchase_frequency = $1),
				m AS (SELECT a, b, i, count(*) FILTER (WHERE o[i] <> 0) AS c, max(o[i]) AS top, sum(o[i])::DOUBLE AS s
					FROM p, range(1, 13) AS t(i) GROUP BY ALL),
				two AS (SELECT a, b, x.i AS i, y.j AS j, max(o[x.i] + o[y.j]) AS top FROM p, range(1, 13) AS x(i), range(1, 13) AS y(j)
					WHERE x.i <> y.j GROUP BY ALL)
				SELECT m1.a, m1.b, m1.i::BIGINT, list(m2.i::BIGINT ORDER BY m2.c DESC, m2.i), m1.s FROM m AS m1 JOIN m AS m2 USING (a, b)
					JOIN two ON two.a = m1.a AND two.b = m1.b AND two.i = m1.i AND two.j = m2.i
				WHERE m1.c BETWEEN 1 AND %[3]d AND m2.c >= 16 AND m1.top = 1 AND m2.top = 1 AND two.top = 1
				GROUP BY m1.a, m1.b, m1.i, m1.s ORDER BY 1, 2, 3`, by[0], by[1], paK-1), sample.FrequencyBands[0])
			for _, r := range rows {
				va, vb, m, o := paStr(r[0]), paStr(r[1]), sample.Months[paInt(r[2])-1], paFloat(r[4])
				others, _ := r[3].([]any)
				f := map[string][]string{by[0]: {va}, by[1]: {vb}, "purchase_frequency": {sample.FrequencyBands[0]}}
				series := slice.Query{Dims: []string{"month"}, Measure: "orders", Filters: f}
				pair := func(m2 string, coef float64) []paTerm {
					return []paTerm{
						{q: slice.Query{Measure: "orders", Filters: paCopy(f, "month", []string{m, m2})}, coef: coef, read: paValue},
						{q: series, keys: []string{m2}, coef: -coef, read: paValue},
					}
				}
				name := fmt.Sprintf("orders of low-frequency buyers, %s × %s, %s", va, vb, m)
				low = append(low, paAttack{target: name, secret: o, tol: 0.5, terms: pair(sample.Months[paInt(others[0])-1], 1)})
			}
			// Companion groups: the same value of b in other values of
			// a, whose buyers that month also ordered once each.
			rows = paSQL(t, x.db, fmt.Sprintf(`WITH p AS (SELECT %[1]s AS a, %[2]s AS b, monthly_orders AS o FROM personas WHERE purchase_frequency = $1),
				m AS (SELECT a, b, i, count(*) FILTER (WHERE o[i] <> 0) AS c, max(o[i]) AS top, sum(o[i])::DOUBLE AS s
					FROM p, range(1, 13) AS t(i) GROUP BY ALL)
				SELECT m1.a, m1.b, m1.i::BIGINT, list(m2.a ORDER BY m2.c DESC, m2.a), m1.s FROM m AS m1 JOIN m AS m2 USING (b, i)
				WHERE m1.c BETWEEN 1 AND %[3]d AND m1.top = 1 AND m2.a <> m1.a AND m2.c >= 16 AND m2.top = 1
				GROUP BY m1.a, m1.b, m1.i, m1.s HAVING count(*) >= 4 ORDER BY 1, 2, 3`, by[0], by[1], paK-1), sample.FrequencyBands[0])
			for _, r := range rows {
				va, vb, m, o := paStr(r[0]), paStr(r[1]), sample.Months[paInt(r[2])-1], paFloat(r[4])
				others, _ := r[3].([]any)
				others = others[:min(len(others), 6)]
				a := paAttack{target: fmt.Sprintf("orders of low-frequency buyers, %s × %s, %s, averaged over %d groups", va, vb, m, len(others)), secret: o, tol: 0.5}
				for _, other := range others {
					f := map[string][]string{by[1]: {vb}, "purchase_frequency": {sample.FrequencyBands[0]}, "month": {m}}
					c := 1 / float64(len(others))
					a.terms = append(a.terms,
						paTerm{q: slice.Query{Measure: "orders", Filters: paCopy(f, by[0], []string{va, paStr(other)})}, coef: c, read: paValue},
						paTerm{q: slice.Query{Measure: "orders", Filters: paCopy(f, by[0], []string{paStr(other)})}, coef: -c, read: paValue})
				}
				lowAvg = append(lowAvg, a)
			}
		}
		qd := paDiff(tab, params)
		expect := 0.0
		for d := -2; d <= 2; d++ {
			expect += qd(d)
		}
		t.Logf("low-frequency months: the table's P(|j1 - j2| <= 2) = %.3f is the exact rate this attack should reach", expect)
		low = paTake(low, func(a paAttack) string { return a.target }, per)
		t.Run("the same among buyers of a few orders a year", func(t *testing.T) {
			measure(t, "3d low-frequency orders {m, m2} − m2", low, opts)
		})
		// Each companion group H' gives another pair of cells, H ∪ H'
		// and H', with draws of their own: the mean of 4 to 6 such
		// differences has the noise of one divided by 2 or more.
		lowAvg = paTake(lowAvg, func(a paAttack) string { return a.target }, per)
		t.Run("the same averaged over several groups", func(t *testing.T) {
			measure(t, "3e low-frequency orders, mean of 4-6 pairs", lowAvg, opts)
		})
	})

	t.Run("4 three results", func(t *testing.T) {
		// A small cell F ∧ X = c: F all, less F ∧ X = the largest value,
		// less F ∧ X in every other value. F a province and X another
		// dimension, or F one value of a dimension and X the province.
		type three struct {
			f      map[string][]string
			x, c   string
			big    string
			rest   []string
			n      int64
			target string
		}
		var cands []three
		for _, c := range w.cells {
			if c.n < 1 || c.n >= paK {
				continue
			}
			// F = province, X = the dimension.
			if c.d != "gender" && c.d != "campaign_exposure" {
				big, bigN := "", int64(-1)
				for _, v := range w.values[c.d] {
					if n := w.n(c.d, v, c.p); n > bigN && v != c.v {
						big, bigN = v, n
					}
				}
				rest := paWithout(w.values[c.d], c.v, big)
				var restN int64
				for _, v := range rest {
					restN += w.n(c.d, v, c.p)
				}
				if bigN >= 16 && restN >= 16 {
					cands = append(cands, three{map[string][]string{"province": {c.p}}, c.d, c.v, big, rest, c.n, fmt.Sprintf("%s: %s=%s", c.p, c.d, c.v)})
				}
			}
			// F = the dimension's value, X = province.
			var big paCell
			for _, o := range w.byFilter[[2]string{c.d, c.v}] {
				if o.n > big.n {
					big = o
				}
			}
			cands = append(cands, three{map[string][]string{c.d: {c.v}}, "province", c.p, big.p, paWithout(w.provinces, c.p, big.p), c.n, fmt.Sprintf("%s=%s: %s", c.d, c.v, c.p)})
		}
		cands = paTake(cands, func(c three) string { return c.target + "4" }, per)
		var attacks []paAttack
		for _, c := range cands {
			attacks = append(attacks, paAttack{target: c.target, secret: float64(c.n), tol: 0.5, terms: []paTerm{
				{q: paCount(c.f), coef: 1, read: paPeople},
				{q: paCount(paCopy(c.f, c.x, []string{c.big})), coef: -1, read: paPeople},
				{q: paCount(paCopy(c.f, c.x, c.rest)), coef: -1, read: paPeople},
			}})
		}
		measure(t, "4 A − B − C", attacks, opts)
	})

	t.Run("5 record count against everyone but a few", func(t *testing.T) {
		// A filter listing all values of a multi-valued dimension but
		// those of S leaves out exactly the people whose values all lie
		// in S (or who hold none).
		type few struct {
			s map[string][]string // dimension → the values left out of its filter
			n int64
		}
		cats, pages := w.values["categories"], w.values["page_types"]
		mask := func(vals []any, all []string) uint32 {
			var m uint32
			for _, v := range vals {
				m |= 1 << slices.Index(all, paStr(v))
			}
			return m
		}
		type held struct {
			c, p uint32
			n    int64
		}
		var people []held
		for _, r := range paSQL(t, x.db, `SELECT categories, page_types, count(*)::BIGINT FROM personas GROUP BY ALL`) {
			c, _ := r[0].([]any)
			p, _ := r[1].([]any)
			people = append(people, held{mask(c, cats), mask(p, pages), paInt(r[2])})
		}
		// subsets lists the subsets of up to three of n values, and the
		// empty set (no filter on that dimension).
		subsets := func(n int) []uint32 {
			out := []uint32{0}
			for m := uint32(1); m < 1<<n; m++ {
				if bits := paPopcount(m); bits <= 3 {
					out = append(out, m)
				}
			}
			return out
		}
		names := func(m uint32, all []string) []string {
			var out []string
			for i, v := range all {
				if m&(1<<i) != 0 {
					out = append(out, v)
				}
			}
			return out
		}
		var cands []few
		for _, sc := range subsets(len(cats)) {
			for _, sp := range subsets(len(pages)) {
				if sc == 0 && sp == 0 {
					continue
				}
				var n int64
				for _, h := range people {
					if (sc != 0 && h.c&^sc == 0) || (sp != 0 && h.p&^sp == 0) {
						n += h.n
					}
				}
				if n >= 1 && n < paK {
					f := map[string][]string{}
					if sc != 0 {
						f["categories"] = names(sc, cats)
					}
					if sp != 0 {
						f["page_types"] = names(sp, pages)
					}
					cands = append(cands, few{f, n})
				}
			}
		}
		cands = paTake(cands, func(c few) string { return fmt.Sprint(c.s) }, per)
		records := float64(ds.Inventory.Records)
		var known, released []paAttack
		for _, c := range cands {
			name := fmt.Sprintf("people whose lists lie within %v", c.s)
			f := map[string][]string{}
			for dim, out := range c.s {
				f[dim] = paWithout(w.values[dim], out...)
			}
			rest := paCount(f)
			known = append(known, paAttack{target: name, secret: float64(c.n), tol: 0.5, known: records,
				terms: []paTerm{{q: rest, coef: -1, read: paPeople}}})
			released = append(released, paAttack{target: name, secret: float64(c.n), tol: 0.5,
				terms: []paTerm{{q: paCount(nil), coef: 1, read: paPeople}, {q: rest, coef: -1, read: paPeople}}})
		}
		t.Logf("the inventory publishes the exact record count: %d", ds.Inventory.Records)
		// The sample has only so many people whose lists are that short.
		short := paOpts{minTargets: min(minT, 10), needReleased: 0.5}
		t.Run("inventory record count", func(t *testing.T) { measure(t, "5a records − everyone but a few", known, short) })
		t.Run("released grand total", func(t *testing.T) { measure(t, "5b grand total − everyone but a few", released, short) })

		// The same inside a province: the total of a released slice of
		// the province against a filter listing every value of a
		// dimension but one that holds a few of its people.
		var local []paAttack
		for _, c := range paTake(slices.Clone(w.cells), func(c paCell) string { return c.d + c.v + c.p + "5" }, len(w.cells)) {
			if c.n < 1 || c.n >= paK {
				continue
			}
			f := map[string][]string{"province": {c.p}}
			local = append(local, paAttack{target: fmt.Sprintf("%s: %s=%s", c.p, c.d, c.v), secret: float64(c.n), tol: 0.5, terms: []paTerm{
				{q: slice.Query{Dims: []string{c.d}, Measure: "people", Filters: f, Totals: true}, coef: 1, read: paPeople},
				{q: paCount(paCopy(f, c.d, paWithout(w.values[c.d], c.v))), coef: -1, read: paPeople},
			}})
			if len(local) == per {
				break
			}
		}
		t.Run("a province's total", func(t *testing.T) { measure(t, "5c province total − all but a few", local, opts) })
	})

	t.Run("6 second analyst", func(t *testing.T) {
		// Two engines opened apart on the same data and key seed: a
		// second analyst of the licence, or a copied workspace. Asking
		// there again must give the same numbers, byte for byte.
		qs := []slice.Query{
			{Dims: []string{"province"}, Measure: "people", Totals: true},
			{Dims: []string{"province_code"}, Measure: "people"},
			{Dims: []string{"region", "age_band"}, Measure: "people", Totals: true},
			{Dims: []string{"province", "member_level"}, Measure: "gmv", Totals: true},
			{Dims: []string{"categories"}, Measure: "people", Filters: map[string][]string{"province": {"广东", "浙江"}}, Totals: true},
			{Dims: []string{"categories", "gender"}, Measure: "aov", Totals: true},
			{Dims: []string{"month"}, Measure: "orders", Filters: map[string][]string{"member_level": {"钻石会员"}}},
			{Dims: []string{"month", "city_tier"}, Measure: "gmv", Totals: true},
			{Dims: []string{"campaign_exposure"}, Measure: "conversion_rate", Totals: true},
			{Dims: []string{"province"}, Measure: "conversion_rate", Filters: map[string][]string{"campaign_exposure": {"已曝光"}}},
			{Dims: []string{"age_band", "device"}, Measure: "gmv_per_person", Totals: true},
			{Dims: []string{"province"}, Measure: "people", TopN: 5, Other: true, Order: slice.ValueDesc},
			{Dims: []string{"page_types"}, Measure: "gmv", Filters: map[string][]string{"month": {"2025-06", "2025-11"}}},
			{Measure: "gmv", Filters: map[string][]string{"month": sample.Months[:6]}},
			{Dims: []string{"purchase_frequency"}, Measure: "orders", Holding: map[string][]string{"categories": {"美妆"}}},
			{Dims: []string{"province", "page_types"}, Measure: "people", Totals: true},
		}
		measures := []string{"people", "gmv", "conversion_rate", "orders", "gmv_per_person", "aov"}
		for i, p := range w.provinces {
			qs = append(qs, slice.Query{Dims: []string{"age_band"}, Measure: measures[i%len(measures)], Filters: map[string][]string{"province": {p}}, Totals: true})
		}
		e2 := ds2.Slices
		cells, differ, perturbed, order := 0, 0, 0, 0
		for _, q := range qs {
			a, b := g.result(q), paRun(t, e2, q)
			if paMarginOrder(a) != paMarginOrder(b) {
				order++
			}
			fa, fb := paFingerprint(a), paFingerprint(b)
			cells += strings.Count(fa, "\n")
			if fa != fb {
				differ++
				t.Errorf("LEAK: %+v gives different numbers in a second workspace with the same key seed (a second draw):\n%s\nvs\n%s", q, fa, fb)
			}
			if q.Measure == "people" {
				for _, r := range a.Rows {
					if ex, _ := x.row(q, r.Keys); !r.Suppressed && float64(r.People) != ex.Value {
						perturbed++
					}
				}
			}
		}
		t.Logf("%d results (%d cells) compared across two workspaces: %d differ; %d released head counts differ from the truth (the comparison is of perturbed numbers)", len(qs), cells, differ, perturbed)
		if order > 0 {
			t.Logf("note: %d results list their margins in another order in the other workspace (DuckDB's output order; the numbers are the same, compared sorted)", order)
		}
		if perturbed == 0 {
			t.Error("no released head count differs from the truth: the engine does not perturb")
		}
		// The workbench builds the summary of the records in the
		// background: reading from it must not change a head count, a
		// rate, or (beyond the last bits of a decimal sum) a value.
		if _, err := e2.Summarise(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		sumDiffer := 0
		for _, q := range qs {
			a, b := g.result(q), paRun(t, e2, q)
			if msg := paSameNumbers(a, b); msg != "" {
				sumDiffer++
				t.Errorf("LEAK: %+v read from the summary gives other numbers than from the records: %s", q, msg)
			}
		}
		t.Logf("%d results compared between the records and the summary: %d differ", len(qs), sumDiffer)
		outcomes = append(outcomes, paOutcome{class: "6 second workspace (results that differ)", targets: len(qs), released: len(qs), exacts: differ + sumDiffer})
	})

	t.Run("7 rates", func(t *testing.T) {
		// A group of 20+ people (one value of a dimension in a province)
		// of whom 1..k-1 converted, and, under the same value, the
		// province with the most converters (20+ each way).
		var cands []paCell
		for _, c := range w.cells {
			if c.n >= 20 && c.yes >= 1 && c.yes < paK {
				cands = append(cands, c)
			}
		}
		cands = paTake(cands, func(c paCell) string { return c.d + c.v + c.p + "7" }, per)
		var direct, union []paAttack
		for _, c := range cands {
			var q paCell
			for _, o := range w.byFilter[[2]string{c.d, c.v}] {
				if o.p != c.p && o.yes >= 20 && o.n-o.yes >= 20 && o.yes > q.yes {
					q = o
				}
			}
			if q.p == "" {
				continue
			}
			f := map[string][]string{c.d: {c.v}}
			rate := func(f map[string][]string) slice.Query {
				return slice.Query{Measure: "conversion_rate", Filters: f}
			}
			name := fmt.Sprintf("converters among %s=%s in %s (%d people)", c.d, c.v, c.p, c.n)
			direct = append(direct, paAttack{target: name, secret: float64(c.yes), tol: 0.5, terms: []paTerm{
				{q: rate(paCopy(f, "province", []string{c.p})), coef: 1, read: paYes},
			}})
			union = append(union, paAttack{target: name + " with " + q.p, secret: float64(c.yes), tol: 0.5, terms: []paTerm{
				{q: rate(paCopy(f, "province", []string{c.p, q.p})), coef: 1, read: paYes},
				{q: slice.Query{Dims: []string{"province"}, Measure: "conversion_rate", Filters: f}, keys: []string{q.p}, coef: -1, read: paYes},
			}})
		}
		t.Run("the group's own rate", func(t *testing.T) {
			// Mostly withheld (few contributors), by design.
			measure(t, "7a own rate × people", direct, paOpts{minTargets: minT})
		})
		t.Run("a rate with a large group less the large group's", func(t *testing.T) {
			measure(t, "7b rate(G ∪ H) − rate(H)", union, opts)
		})
	})

	t.Run("8 sums", func(t *testing.T) {
		// Targets: a person unique in their province P by age band,
		// member level and device. Pads: the people of the same age
		// band, level and device in provinces whose largest value of the
		// sum is below the target's, so that the target is the top
		// contributor of "P and the pad" (the cell whose noise scales
		// with them).
		type who struct {
			p, a, l, d string
			year, half float64
		}
		var people []who
		for _, r := range paSQL(t, x.db, `SELECT province, age_band, member_level, device, list_sum(monthly_gmv)::DOUBLE, list_sum(monthly_gmv[1:6])::DOUBLE
			FROM personas QUALIFY count(*) OVER (PARTITION BY province, age_band, member_level, device) = 1 ORDER BY 1, 2, 3, 4`) {
			people = append(people, who{paStr(r[0]), paStr(r[1]), paStr(r[2]), paStr(r[3]), paFloat(r[4]), paFloat(r[5])})
		}
		type agg struct {
			cy, ch int64
			my, mh float64
		}
		groups := map[[4]string]agg{}
		for _, r := range paSQL(t, x.db, `SELECT age_band, member_level, device, province,
				count(*) FILTER (WHERE list_sum(monthly_gmv) <> 0)::BIGINT, max(abs(list_sum(monthly_gmv)))::DOUBLE,
				count(*) FILTER (WHERE list_sum(monthly_gmv[1:6]) <> 0)::BIGINT, max(abs(list_sum(monthly_gmv[1:6])))::DOUBLE
			FROM personas GROUP BY ALL`) {
			groups[[4]string{paStr(r[0]), paStr(r[1]), paStr(r[2]), paStr(r[3])}] = agg{paInt(r[4]), paInt(r[6]), paFloat(r[5]), paFloat(r[7])}
		}
		// pads returns the provinces where everyone of the target's
		// kind has a value below top, and their contributors.
		pads := func(c who, half bool) ([]string, int64) {
			var ps []string
			var n int64
			for _, p := range w.provinces {
				gr, ok := groups[[4]string{c.a, c.l, c.d, p}]
				if p == c.p || !ok {
					continue
				}
				cn, mx, top := gr.cy, gr.my, c.year
				if half {
					cn, mx, top = gr.ch, gr.mh, c.half
				}
				if cn > 0 && mx < top {
					ps = append(ps, p)
					n += cn
				}
			}
			return ps, n
		}
		filters := func(c who, provinces []string) map[string][]string {
			return map[string][]string{"province": provinces, "age_band": {c.a}, "member_level": {c.l}, "device": {c.d}}
		}
		gmv := func(f map[string][]string, months []string) slice.Query {
			q := slice.Query{Measure: "gmv", Filters: f}
			if months != nil {
				q.Filters = paCopy(f, "month", months)
			}
			return q
		}
		var cands []who
		for _, c := range people {
			if ps, n := pads(c, false); c.year > 0 && n >= 16 && len(ps) >= 8 {
				cands = append(cands, c)
			}
		}
		cands = paTake(cands, func(c who) string { return c.p + c.a + c.l + c.d }, per)
		var year, mixed, grid []paAttack
		for i, c := range cands {
			ps, _ := pads(c, false)
			with, without := filters(c, append([]string{c.p}, ps...)), filters(c, ps)
			name := fmt.Sprintf("GMV of the %s %s %s user in %s", c.a, c.l, c.d, c.p)
			year = append(year, paAttack{target: name, secret: c.year, tol: 0.005, terms: []paTerm{
				{q: gmv(with, nil), coef: 1, read: paValue},
				{q: gmv(without, nil), coef: -1, read: paValue},
			}})
			mixed = append(mixed, paAttack{target: name, secret: c.year, tol: 0.005, terms: []paTerm{
				{q: gmv(with, sample.Months), coef: 1, read: paValue},
				{q: gmv(without, nil), coef: -1, read: paValue},
			}})
			// Ten pads, each a distinct subset of the provinces with 16
			// contributors or more; the cell "P and the pad" is asked for
			// with no month filter and with all twelve months listed.
			rng := rand.New(rand.NewPCG(8, uint64(i)))
			var subsets [][]string
			seen := map[string]bool{}
			for try := 0; try < 2000 && len(subsets) < 10; try++ {
				var sub []string
				var n int64
				for _, p := range ps {
					if rng.Float64() < 0.7 {
						sub = append(sub, p)
						n += groups[[4]string{c.a, c.l, c.d, p}].cy
					}
				}
				if key := strings.Join(sub, ","); n >= 16 && !seen[key] {
					seen[key] = true
					subsets = append(subsets, sub)
				}
			}
			if len(subsets) < 3 {
				continue
			}
			grid = append(grid, paAttack{target: name, secret: c.year, tol: 0.005 * c.year, eval: func(s paSource) (float64, bool) {
				var deltas []float64
				for _, sub := range subsets {
					f := filters(c, append([]string{c.p}, sub...))
					a, ok1 := s.row(gmv(f, nil), nil)
					b, ok2 := s.row(gmv(f, sample.Months), nil)
					// Equal draws differ by the rounding of the
					// released sums at most, far below a unit.
					if d := a.Value - b.Value; ok1 && ok2 && math.Abs(d) > 1e-3*math.Abs(a.Value) {
						deltas = append(deltas, d)
					}
				}
				if u, ok := paUnit(deltas, 2*params.D, 0.1); ok {
					// The noise is Mult·top·j/D: the unit is top·Mult/D.
					return u * float64(params.D) / params.Mult, true
				}
				// The spellings agree: fall back to the difference.
				f := filters(c, append([]string{c.p}, subsets[0]...))
				a, ok1 := s.row(gmv(f, nil), nil)
				b, ok2 := s.row(gmv(filters(c, subsets[0]), nil), nil)
				return a.Value - b.Value, ok1 && ok2
			}})
		}
		var half []paAttack
		for _, c := range paTake(slices.Clone(people), func(c who) string { return c.p + c.a + c.l + c.d + "h" }, len(people)) {
			ps, n := pads(c, true)
			if c.half <= 0 || n < 16 || len(ps) < 8 {
				continue
			}
			with, without := filters(c, append([]string{c.p}, ps...)), filters(c, ps)
			half = append(half, paAttack{target: fmt.Sprintf("Jan-Jun GMV of the %s %s %s user in %s", c.a, c.l, c.d, c.p), secret: c.half, tol: 0.005, terms: []paTerm{
				{q: gmv(with, sample.Months[:6]), coef: 1, read: paValue},
				{q: gmv(without, sample.Months[:6]), coef: -1, read: paValue},
			}})
			if len(half) == per {
				break
			}
		}
		t.Run("year", func(t *testing.T) { measure(t, "8a year: with − without", year, opts) })
		t.Run("half year", func(t *testing.T) { measure(t, "8b Jan-Jun: with − without", half, opts) })
		t.Run("year as twelve months less year as no filter", func(t *testing.T) {
			measure(t, "8c 12 months listed − no month filter", mixed, opts)
		})
		t.Run("rounding step", func(t *testing.T) {
			// A released sum is rounded to a step of 10^floor(log10(
			// top·Mult/D/100)): its last non-zero digit tells the decade
			// of its largest contribution. For "P and the pad", whose top
			// contributor is the target, that is the target's value to
			// within a factor of ten. Reported, not asserted: a factor of
			// ten is a range, not a value.
			right := 0
			for _, c := range cands {
				ps, _ := pads(c, false)
				r, ok := g.row(gmv(filters(c, append([]string{c.p}, ps...)), nil), nil)
				if !ok {
					continue
				}
				step := paStep(r.Value)
				lo := 100 * step * float64(params.D) / params.Mult
				if c.year >= lo && c.year < 10*lo {
					right++
				}
			}
			t.Logf("the released sum's rounding step gives the target's GMV to within a factor of ten for %d of %d targets", right, len(cands))
		})
		t.Run("same sum spelled two ways", func(t *testing.T) {
			// The year as no month filter and as all twelve months listed
			// is the same sum of the same people's values: it must get
			// the same number. If it does not, the two differ by
			// Mult·top·(j1-j2)/D, and a few such differences have the
			// top contributor's value as their greatest common unit.
			differ := 0
			for _, c := range cands {
				ps, _ := pads(c, false)
				f := filters(c, append([]string{c.p}, ps...))
				a, _ := g.row(gmv(f, nil), nil)
				b, _ := g.row(gmv(f, sample.Months), nil)
				if a.Value != b.Value {
					if differ == 0 {
						t.Logf("e.g. GMV of %v: %.2f with no month filter, %.2f with the twelve months listed; its top contribution is %.2f", f, a.Value, b.Value, c.year)
					}
					differ++
				}
			}
			if differ > 0 {
				t.Errorf("LEAK: for %d of %d cells the year's GMV with no month filter differs from the same sum with all twelve months listed (the noise's purpose names the periods, \"sum:monthly_gmv:\" vs \"sum:monthly_gmv:1,...,12\"): two independent draws of one sum", differ, len(cands))
			}
			// Recovered "exactly" here means to within 0.5% of the value:
			// the guard rounds a released sum to a step of at most a
			// hundredth of the noise's unit, which blurs the unit by as
			// much, and the plain difference (8a) misses by the top
			// contribution itself, about 100%.
			measure(t, "8d top contributor (±0.5%) from two spellings", grid, opts)
		})
	})

	t.Logf("summary (chance <= %.0f%%, limit %.0f%%):", 100*chance, 100*paMaxExact)
	t.Logf("%-45s %8s %9s %7s %7s", "class", "targets", "released", "exact", "rate")
	for _, o := range outcomes {
		t.Logf("%-45s %8d %9d %7d %6.0f%%", o.class, o.targets, o.released, o.exacts, 100*float64(o.exacts)/math.Max(1, float64(o.targets)))
	}
}

func paPopcount(m uint32) int {
	n := 0
	for ; m != 0; m &= m - 1 {
		n++
	}
	return n
}

// paUnit returns the unit u of deltas that are whole multiples of it,
// between 1 and maxK times in absolute value, up to tol units each (the
// released sums are rounded): the unit of the noise when the deltas are
// differences of draws of one sum. It tries the largest unit first, so
// a common factor of every multiple would mislead it; with several
// deltas that is rare. False when there is no delta or no unit fits.
func paUnit(deltas []float64, maxK int, tol float64) (float64, bool) {
	var abs []float64
	for _, d := range deltas {
		abs = append(abs, math.Abs(d))
	}
	if len(abs) == 0 {
		return 0, false
	}
	base := slices.Min(abs)
	for m := 1; m <= maxK; m++ {
		u := base / float64(m)
		sumK, ok := 0.0, true
		for _, d := range abs {
			k := math.Round(d / u)
			if k < 1 || k > float64(maxK) || math.Abs(d/u-k) > tol {
				ok = false
				break
			}
			sumK += k
		}
		if ok {
			total := 0.0
			for _, d := range abs {
				total += d
			}
			return total / sumK, true
		}
	}
	return 0, false
}

// paStep returns the largest power of ten, from 10^6 down to 10^-3, of
// which v is a whole multiple.
func paStep(v float64) float64 {
	for e := 6; e >= -3; e-- {
		s := math.Pow(10, float64(e))
		if r := v / s; math.Abs(r-math.Round(r)) < 1e-6 {
			return s
		}
	}
	return 1e-3
}

func paRun(t testing.TB, e *guard.Engine, q slice.Query) *slice.Result {
	t.Helper()
	res, err := e.Run(context.Background(), q)
	if err != nil {
		t.Fatalf("%+v: %v", q, err)
	}
	return res
}

// paFingerprint is everything a result releases, bit for bit, but its
// timing.
func paFingerprint(res *slice.Result) string {
	var b strings.Builder
	row := func(tag string, r slice.Row) {
		fmt.Fprintf(&b, "%s %q people=%d withheld=%t reason=%s value=%016x\n", tag, r.Keys, r.People, r.Suppressed, r.Reason, math.Float64bits(r.Value))
	}
	for _, r := range res.Rows {
		row("row", r)
	}
	if res.Total != nil {
		row("total", *res.Total)
	}
	for i, m := range res.Margins {
		for _, r := range paSortedRows(m) {
			row("margin"+strconv.Itoa(i), r)
		}
	}
	if res.Other != nil {
		row("other", *res.Other)
	}
	fmt.Fprintf(&b, "suppressed=%d withheld=%s method=%s\n", res.Suppressed, res.Withheld, res.Method)
	return b.String()
}

// paSortedRows orders rows by their keys. Margins come in the order
// DuckDB returns their cells, which varies from run to run; the numbers
// must not.
func paSortedRows(rows []slice.Row) []slice.Row {
	out := slices.Clone(rows)
	slices.SortFunc(out, func(a, b slice.Row) int {
		return strings.Compare(strings.Join(a.Keys, "\x00"), strings.Join(b.Keys, "\x00"))
	})
	return out
}

// paMarginOrder is the order of a result's margins.
func paMarginOrder(res *slice.Result) string {
	var b strings.Builder
	for _, m := range res.Margins {
		for _, r := range m {
			fmt.Fprintf(&b, "%q", r.Keys)
		}
	}
	return b.String()
}

// paSameNumbers compares two results of one query: head counts and
// decisions exactly, values to the last bits of a decimal sum.
func paSameNumbers(a, b *slice.Result) string {
	var ra, rb []slice.Row
	collect := func(res *slice.Result) []slice.Row {
		out := slices.Clone(res.Rows)
		if res.Total != nil {
			out = append(out, *res.Total)
		}
		out = append(out, paSortedRows(res.Margins[0])...)
		out = append(out, paSortedRows(res.Margins[1])...)
		if res.Other != nil {
			out = append(out, *res.Other)
		}
		return out
	}
	ra, rb = collect(a), collect(b)
	if len(ra) != len(rb) {
		return fmt.Sprintf("%d cells vs %d", len(ra), len(rb))
	}
	for i := range ra {
		x, y := ra[i], rb[i]
		if !slices.Equal(x.Keys, y.Keys) || x.People != y.People || x.Suppressed != y.Suppressed || x.Reason != y.Reason {
			return fmt.Sprintf("%+v vs %+v", x, y)
		}
		if math.IsNaN(x.Value) && math.IsNaN(y.Value) {
			continue
		}
		if d := math.Abs(x.Value - y.Value); d > 1e-9*math.Max(1, math.Abs(x.Value)) {
			return fmt.Sprintf("%+v vs %+v", x, y)
		}
	}
	return ""
}

// TestPerturbAttackAveraging attacks the cell key method where it is
// known to give way: noise is the same for the same people, so asking
// again learns nothing, but different sets of people get independent
// draws, and many pairs of cells that each isolate the same person can
// be averaged. ckm.Table.PairsFor(0.9) says how many such pairs an
// optimal attacker needs for 90% accuracy when the noise of both cells
// of every pair is independent under either answer.
//
// The question: is a target person T, named by province P, age band A,
// member level L and device D (unique in the data), exposed to the
// campaign (campaign_exposure = 已曝光, the group G)? Half the targets
// are, half are not. Each pad V is a distinct set of other provinces
// (each holding an exposed A × L × D person, so distinct V are distinct
// people; the pad's 16 or more people keep both cells released). The
// pair is
//
//	with    = exposed A × L × D people in P and V  (T, if exposed, and the pad)
//	without = exposed A × L × D people in V        (the pad)
//
// which differ by T exactly when T is in G, and are the same people
// when T is not. (The test picks pads with the truth, to make every pad
// distinct and big enough for PairsFor's stationary row; the equality
// decision below needs none of that: one pad of all other provinces
// does.) Each cell is a table of its own (a slice without
// dimensions: one Run call), so n pads cost 2n tables. A second variant
// asks each side as a slice by gender with its total: each table then
// holds two cells with T (T's gender and the total), one pair per table.
//
// Decisions, from the differences d = with - without:
//   - ptable LR: the likelihood-ratio test of PairsFor's model, d = s +
//     e1 - e2 with e1, e2 independent draws from the published
//     stationary row: sum log q(d-1)/q(d), "in" when positive;
//   - mean: "in" when the mean difference exceeds 1/2;
//   - equality: the method's own consistency. When T is not in G the two
//     cells are the same people, so their numbers are equal, always;
//     when T is in G they are different people with independent draws,
//     equal only when e1 - e2 = -1 (probability q(-1), about 0.1). "in"
//     when any pair differs. This is the likelihood-ratio test of the
//     real model: a difference other than 0 is impossible when T is not
//     in G.
//
// And, to check PairsFor's model itself, a decoy variant the method's
// consistency cannot betray: the attacker knows another person R, in a
// province P_R, the only exposed A × L × D person there; the pair is
// "P and V" against "P_R and V", which are different people (T against
// R) either way: d = e1 - e2 if T is in G, -1 + e1 - e2 if not.
//
// Accuracy over the targets is measured against the number of distinct
// released tables used (Run calls), and the test fails if any decision
// reaches 90% with fewer than 100 tables. It is also compared with
// PairsFor. For comparison it logs the same question against the
// suppress method, whose difference check answers it by withholding.
func TestPerturbAttackAveraging(t *testing.T) {
	ds, _ := paData(t)
	params, tab, ok := ds.Slices.Perturbation()
	if !ok {
		t.Fatal("the sample is not perturbed")
	}
	q := paDiff(tab, params)
	x := paExact{t: t, db: ds.Store(), inv: ds.Inventory}
	const in = "已曝光"
	perSide, maxTables := 12, 200
	if testing.Short() {
		perSide, maxTables = 5, 50
	}
	pads := maxTables / 2

	// exposed[A L D][province]: exposed people of that kind there.
	exposed := map[[3]string]map[string]int64{}
	for _, r := range paSQL(t, x.db, `SELECT age_band, member_level, device, province, count(*)::BIGINT FROM personas
		WHERE campaign_exposure = '已曝光' GROUP BY ALL`) {
		k := [3]string{paStr(r[0]), paStr(r[1]), paStr(r[2])}
		if exposed[k] == nil {
			exposed[k] = map[string]int64{}
		}
		exposed[k][paStr(r[3])] = paInt(r[4])
	}
	type target struct {
		p, a, l, d, gender string
		in                 bool
		decoy, decoyGender string
		pads               [][]string
	}
	var cands []target
	for _, r := range paSQL(t, x.db, `SELECT province, age_band, member_level, device, gender, campaign_exposure FROM personas
		QUALIFY count(*) OVER (PARTITION BY province, age_band, member_level, device) = 1 ORDER BY 1, 2, 3, 4`) {
		cands = append(cands, target{p: paStr(r[0]), a: paStr(r[1]), l: paStr(r[2]), d: paStr(r[3]), gender: paStr(r[4]), in: paStr(r[5]) == in})
	}
	cands = paTake(cands, func(c target) string { return c.p + c.a + c.l + c.d + "avg" }, len(cands))
	var targets []target
	nIn, nOut := 0, 0
	for i, c := range cands {
		if (c.in && nIn == perSide) || (!c.in && nOut == perSide) {
			continue
		}
		kind := exposed[[3]string{c.a, c.l, c.d}]
		var provinces []string
		var base int64
		for p, n := range kind {
			if p != c.p {
				provinces = append(provinces, p)
				base += n
			}
		}
		slices.Sort(provinces)
		if base < 40 {
			continue
		}
		// The decoy: a province whose only exposed person of T's kind is R.
		for _, p := range provinces {
			if kind[p] == 1 {
				c.decoy = p
				break
			}
		}
		if c.decoy == "" {
			continue
		}
		r := paSQL(t, x.db, `SELECT gender FROM personas WHERE province = $1 AND age_band = $2 AND member_level = $3 AND device = $4 AND campaign_exposure = '已曝光'`,
			c.decoy, c.a, c.l, c.d)
		c.decoyGender = paStr(r[0][0])
		provinces = paWithout(provinces, c.decoy)
		rng := rand.New(rand.NewPCG(2026, uint64(i)))
		seen := map[string]bool{}
		for try := 0; try < 50*pads && len(c.pads) < pads; try++ {
			var v []string
			var n int64
			for _, p := range provinces {
				if rng.Float64() < 0.6 {
					v = append(v, p)
					n += kind[p]
				}
			}
			if key := strings.Join(v, ","); n >= 16 && !seen[key] {
				seen[key] = true
				c.pads = append(c.pads, v)
			}
		}
		if len(c.pads) < pads {
			continue
		}
		targets = append(targets, c)
		if c.in {
			nIn++
		} else {
			nOut++
		}
	}
	if nIn < perSide || nOut < perSide {
		t.Fatalf("found %d targets in G and %d out, want %d each", nIn, nOut, perSide)
	}

	// obs is what one pad gives the attacker.
	type obs struct {
		diffs   []int // with - without, each pair of released cells
		differs bool  // the two sides differ (a number, or one withheld)
		decoy   int   // with - decoy (totals)
		decoyOK bool
	}
	type result struct {
		flat, byGender []obs // the zero-dimension variant; the by-gender variant (first pads only)
	}
	const genderPads = 5
	results := make([]result, len(targets))
	e := ds.Slices
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	// attack asks the tables about one target; a query that fails ends
	// its questions (the failure is reported below).
	attack := func(c target) result {
		run := func(q slice.Query) *slice.Result {
			res, err := e.Run(context.Background(), q)
			if err != nil {
				mu.Lock()
				failures = append(failures, fmt.Sprintf("%+v: %v", q, err))
				mu.Unlock()
				return nil
			}
			return res
		}
		f := func(provinces []string) map[string][]string {
			return map[string][]string{"province": provinces, "age_band": {c.a}, "member_level": {c.l}, "device": {c.d}, "campaign_exposure": {in}}
		}
		var r result
		for k, v := range c.pads {
			with, without, decoy := run(paCount(f(append([]string{c.p}, v...)))), run(paCount(f(v))), run(paCount(f(append([]string{c.decoy}, v...))))
			if with == nil || without == nil || decoy == nil {
				return r
			}
			var o obs
			a, b, dc := with.Rows[0], without.Rows[0], decoy.Rows[0]
			o.differs = a.Suppressed != b.Suppressed || a.People != b.People
			if !a.Suppressed && !b.Suppressed {
				o.diffs = append(o.diffs, int(a.People-b.People))
			}
			if !a.Suppressed && !dc.Suppressed {
				o.decoy, o.decoyOK = int(a.People-dc.People), true
			}
			r.flat = append(r.flat, o)
			if k < genderPads {
				qw := slice.Query{Dims: []string{"gender"}, Measure: "people", Filters: f(append([]string{c.p}, v...)), Totals: true}
				qo := qw
				qo.Filters = f(v)
				rw, ro := run(qw), run(qo)
				if rw == nil || ro == nil {
					return r
				}
				var og obs
				for _, keys := range [][]string{nil, {c.gender}} {
					x, okx := paPick(t, rw, keys)
					y, oky := paPick(t, ro, keys)
					if okx != oky || x.People != y.People {
						og.differs = true
					}
					if okx && oky {
						og.diffs = append(og.diffs, int(x.People-y.People))
					}
				}
				r.byGender = append(r.byGender, og)
			}
		}
		return r
	}
	jobs := make(chan int)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = attack(targets[i])
			}
		}()
	}
	for i := range targets {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d queries failed, e.g. %s", len(failures), failures[0])
	}
	for _, want := range []bool{true, false} {
		for i, c := range targets {
			if c.in == want && len(results[i].flat) > 0 {
				t.Logf("e.g. the %s %s %s user in %s (exposed: %t): first pad %v, with − without = %v",
					c.a, c.l, c.d, c.p, c.in, c.pads[0], results[i].flat[0].diffs)
				break
			}
		}
	}

	llr := func(d int) float64 {
		pin, pout := q(d-1), q(d)
		switch {
		case pin == 0 && pout == 0:
			return 0
		case pout == 0:
			return math.Inf(1)
		case pin == 0:
			return math.Inf(-1)
		}
		return math.Log(pin / pout)
	}
	// score returns the share of targets decided right, a tie counting
	// half, when decide sees each target's first m pads.
	score := func(m int, pick func(result) []obs, decide func([]obs) float64) float64 {
		right := 0.0
		for i, c := range targets {
			os := pick(results[i])
			if len(os) > m {
				os = os[:m]
			}
			s := decide(os)
			switch {
			case s == 0:
				right += 0.5
			case (s > 0) == c.in:
				right++
			}
		}
		return right / float64(len(targets))
	}
	lr := func(os []obs) float64 {
		s := 0.0
		for _, o := range os {
			for _, d := range o.diffs {
				s += llr(d)
			}
		}
		return s
	}
	mean := func(os []obs) float64 {
		s, n := 0.0, 0
		for _, o := range os {
			for _, d := range o.diffs {
				s += float64(d)
				n++
			}
		}
		if n == 0 {
			return 0
		}
		return s/float64(n) - 0.5
	}
	equality := func(os []obs) float64 {
		for _, o := range os {
			if o.differs {
				return 1
			}
		}
		return -1
	}
	decoyLR := func(os []obs) float64 {
		s := 0.0
		for _, o := range os {
			if o.decoyOK {
				// in: d = e1 - e2; out: d = -1 + e1 - e2.
				s += llr(o.decoy + 1)
			}
		}
		return s
	}
	flat := func(r result) []obs { return r.flat }
	byGender := func(r result) []obs { return r.byGender }

	pairsFor := tab.PairsFor(0.9)
	t.Logf("targets: %d in G, %d not; P(e1-e2 = -1) = %.4f, so one pair of an exposed target looks like a non-exposed one with that probability", nIn, nOut, q(-1))
	var forAcc []string
	for _, a := range []float64{0.6, 0.7, 0.8, 0.9, 0.95} {
		forAcc = append(forAcc, fmt.Sprintf("%.2f→%d", a, tab.PairsFor(a)))
	}
	t.Logf("PairsFor (pairs an optimal attacker needs, independent noise under both answers): %s", strings.Join(forAcc, ", "))

	// model is the accuracy PairsFor's model predicts for n pairs
	// (Monte Carlo with a fixed seed: PairsFor itself gives only the
	// pairs for an accuracy).
	model := paModelAccuracy(tab, params, q)
	type hit struct {
		attack string
		tables int
		acc    float64
	}
	// The averaging attack proper (decoy LR: the two cells of a pair
	// are different people whatever the answer) must need 100 tables or
	// more. The others also read whether two cells are the same people
	// (equal numbers): a known limit of consistent noise, documented in
	// docs/PRIVACY.md ("Telling whether two descriptions reach the same
	// people"), logged here with its figures, not asserted away.
	var first, known *hit
	note := func(attack string, tables int, acc float64) {
		h := &first
		if attack != "decoy LR" {
			h = &known
		}
		if tables < 100 && acc >= 0.9 && (*h == nil || tables < (*h).tables || tables == (*h).tables && acc > (*h).acc) {
			*h = &hit{attack, tables, acc}
		}
	}
	t.Logf("tables accuracy (one cell per table: a pair costs two tables)")
	t.Logf("%6s %9s %9s %9s %9s %15s", "tables", "equality", "ptableLR", "mean", "decoyLR", "PairsFor model")
	for _, m := range []int{2, 4, 6, 10, 25, 50, 100, 150, 200} {
		if m > maxTables {
			break
		}
		eq, l, mn, dc := score(m/2, flat, equality), score(m/2, flat, lr), score(m/2, flat, mean), score(m/2, flat, decoyLR)
		t.Logf("%6d %9.3f %9.3f %9.3f %9.3f %15.3f", m, eq, l, mn, dc, model(m/2))
		note("equality", m, eq)
		note("ptable LR", m, l)
		note("mean", m, mn)
		note("decoy LR", m, dc)
	}
	t.Logf("tables accuracy (by gender with its total: two cells with T per table, one pair per table)")
	t.Logf("%6s %9s %9s %15s", "tables", "equality", "ptableLR", "PairsFor model")
	for _, m := range []int{2, 4, 6, 10} {
		if m/2 > genderPads {
			break
		}
		eq, l := score(m/2, byGender, equality), score(m/2, byGender, lr)
		t.Logf("%6d %9.3f %9.3f %15.3f", m, eq, l, model(m))
		note("equality, by gender", m, eq)
		note("ptable LR, by gender", m, l)
	}
	t.Logf("PairsFor(0.9) = %d pairs: %d tables at one cell per table, %d at one pair per table", pairsFor, 2*pairsFor, pairsFor)

	// The same question against the suppress method, for comparison: an
	// engine of its own per target (one analyst, one person), the first
	// pad only.
	cols, err := ds.Store().Columns(context.Background(), ds.Inventory.Table)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for _, c := range targets {
		se, err := guard.New(ds.Store(), ds.Inventory, cols, paK)
		if err != nil {
			t.Fatal(err)
		}
		f := func(provinces []string) map[string][]string {
			return map[string][]string{"province": provinces, "age_band": {c.a}, "member_level": {c.l}, "device": {c.d}, "campaign_exposure": {in}}
		}
		with := paRun(t, se, paCount(f(append([]string{c.p}, c.pads[0]...))))
		without := paRun(t, se, paCount(f(c.pads[0])))
		if with.Method != guard.MethodSuppress {
			t.Fatalf("comparison engine method %q", with.Method)
		}
		w, o := with.Rows[0], without.Rows[0]
		saysIn := w.Suppressed != o.Suppressed || w.People != o.People
		if saysIn == c.in {
			right++
		}
	}
	t.Logf("suppress method, same question, 2 tables (with, then without; in when they differ or one is withheld): accuracy %.3f", float64(right)/float64(len(targets)))

	if known != nil {
		t.Logf("KNOWN LIMIT: the %s attack reaches %.0f%% accuracy with %d tables. "+
			"The cell key method gives the same people the same numbers: when the target is not in G the two cells of a pair are the same people and always equal, "+
			"when the target is in G they are different people and equal only with probability q(-1) = %.3f. "+
			"It needs a target known to be the only one of its kind in a population (outside knowledge), and every query is in the usage log",
			known.attack, 100*known.acc, known.tables, q(-1))
	}
	if first != nil {
		t.Errorf("LEAK: the averaging attack (%s) reaches %.0f%% accuracy with %d tables (< 100; PairsFor(0.9) = %d pairs)",
			first.attack, 100*first.acc, first.tables, pairsFor)
	}
}

// paModelAccuracy returns the accuracy of the likelihood-ratio test of
// PairsFor's model with n pairs, d = s + e1 - e2 for independent
// stationary draws, estimated by simulation with a fixed seed.
func paModelAccuracy(tab *ckm.Table, p ckm.Params, q func(int) float64) func(n int) float64 {
	adj, prob := tab.Row(1 << 30)
	cum := make([]float64, len(prob))
	c := 0.0
	for i, pr := range prob {
		c += pr
		cum[i] = c
	}
	rng := rand.New(rand.NewPCG(7, 7))
	draw := func() int {
		u := rng.Float64()
		for i, c := range cum {
			if u < c {
				return adj[i]
			}
		}
		return adj[len(adj)-1]
	}
	llr := func(d int) float64 {
		pin, pout := q(d-1), q(d)
		switch {
		case pout == 0:
			return math.Inf(1)
		case pin == 0:
			return math.Inf(-1)
		}
		return math.Log(pin / pout)
	}
	const trials = 4000
	cache := map[int]float64{}
	return func(n int) float64 {
		if a, ok := cache[n]; ok {
			return a
		}
		right := 0.0
		for tr := range trials {
			in := tr%2 == 0
			sum := 0.0
			for range n {
				d := draw() - draw()
				if in {
					d++
				}
				sum += llr(d)
			}
			switch {
			case sum == 0:
				right += 0.5
			case (sum > 0) == in:
				right++
			}
		}
		cache[n] = right / trials
		return cache[n]
	}
}
