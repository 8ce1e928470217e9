package guard_test

import (
	"context"
	"crypto/rand"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"aead.dev/minisign"

	"github.com/persona-workbench/persona/engine/dataset"
	"github.com/persona-workbench/persona/engine/guard"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/engine/usagelog"
	"github.com/persona-workbench/persona/sample"
)

// benchRows is the sample size for benchmarks: PERSONA_BENCH_ROWS, or 10M.
func benchRows(b *testing.B) int64 {
	if s := os.Getenv("PERSONA_BENCH_ROWS"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			b.Fatalf("PERSONA_BENCH_ROWS=%q is not a positive number", s)
		}
		return n
	}
	return 10_000_000
}

var (
	benchOnce sync.Once
	benchDS   *dataset.Dataset
	benchErr  error
)

// benchData loads the synthetic sample once for all benchmarks.
func benchData(b *testing.B) *dataset.Dataset {
	benchOnce.Do(func() {
		rows := benchRows(b)
		start := time.Now()
		benchDS, benchErr = openSample(rows, dataset.Options{})
		b.Logf("generated and loaded %d records in %s", rows, time.Since(start).Round(time.Millisecond))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDS
}

// openSample generates the synthetic sample's first rows records and
// opens them, without touching the disk.
func openSample(rows int64, opt dataset.Options) (*dataset.Dataset, error) {
	r, err := sample.NewReader(context.Background(), sample.Options{Rows: rows, Seed: sample.DefaultSeed})
	if err != nil {
		return nil, err
	}
	defer r.Release()
	return dataset.OpenArrow(context.Background(), sample.Inventory(rows, sample.DefaultSeed), r, opt)
}

// reportRatio reports the medians of a and base and their ratio a/base.
func reportRatio(b *testing.B, aName string, a []time.Duration, baseName string, base []time.Duration) {
	ma, mb := median(a), median(base)
	b.ReportMetric(float64(ma.Microseconds())/1000, aName+"-ms")
	b.ReportMetric(float64(mb.Microseconds())/1000, baseName+"-ms")
	b.ReportMetric(float64(ma)/float64(mb), "ratio")
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkSliceVsRawSQL runs a slice through the engine and the
// equivalent hand-written DuckDB SQL alternately in the same run, and
// reports both medians and their ratio (engine / raw).
func BenchmarkSliceVsRawSQL(b *testing.B) {
	ds := benchData(b)
	cases := []struct {
		name string
		q    slice.Query
		raw  string
	}{
		{"province×age_band/gmv",
			slice.Query{Dims: []string{"province", "age_band"}, Measure: "gmv"},
			`SELECT province, age_band, count(*) AS people, sum(list_sum(monthly_gmv)) AS gmv
			 FROM personas GROUP BY province, age_band`},
		{"categories×gender/aov",
			slice.Query{Dims: []string{"categories", "gender"}, Measure: "aov"},
			`SELECT c, gender, count(*) AS people, sum(list_sum(monthly_gmv)) / sum(list_sum(monthly_orders)) AS aov
			 FROM personas, unnest(categories) AS u(c) GROUP BY c, gender`},
		{"month×city_tier/orders filtered",
			slice.Query{Dims: []string{"month", "city_tier"}, Measure: "orders", Filters: map[string][]string{"province": {"广东", "浙江"}}},
			`SELECT i, city_tier, count(*) AS people, sum(monthly_orders[i]) AS orders
			 FROM personas, range(1, 13) AS t(i) WHERE province IN ('广东', '浙江') GROUP BY i, city_tier`},
	}
	db := ds.Store()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			var eng, raw []time.Duration
			for b.Loop() {
				t0 := time.Now()
				res, err := ds.Slices.Run(ctx, c.q)
				if err != nil || len(res.Rows) == 0 {
					b.Fatal(err, "no rows")
				}
				t1 := time.Now()
				n, err := scanAll(db, ctx, c.raw)
				if err != nil || n == 0 {
					b.Fatal(err, "no rows")
				}
				t2 := time.Now()
				eng, raw = append(eng, t1.Sub(t0)), append(raw, t2.Sub(t1))
			}
			reportRatio(b, "engine", eng, "raw", raw)
		})
	}
}

// scanAll reads every row and column, as the engine does.
func scanAll(db guard.Querier, ctx context.Context, q string) (int, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// loggedSlices is eng, a guard over ds, with every slice recorded in a
// usage log of its own, as the workbench records them; closed when b
// ends.
func loggedSlices(b *testing.B, ds *dataset.Dataset, eng *guard.Engine) usagelog.Slices {
	_, priv, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	signer, err := usagelog.Signer(priv)
	if err != nil {
		b.Fatal(err)
	}
	lg, err := usagelog.Open(b.TempDir(), usagelog.Context{Person: "bench", Tool: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	session, err := usagelog.Start(lg, "BENCH-1", signer, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { session.Close() })
	return usagelog.Slices{Engine: eng, Session: session, Source: "bench"}
}

// BenchmarkSliceWithUsageLog runs the same slices with and without the
// usage log (a record synced to disk before each result is released),
// alternately in the same run, and reports both medians and their ratio.
func BenchmarkSliceWithUsageLog(b *testing.B) {
	ds := benchData(b)
	logged := loggedSlices(b, ds, ds.Slices)
	for _, c := range []struct {
		name string
		q    slice.Query
	}{
		{"province×age_band/gmv", slice.Query{Dims: []string{"province", "age_band"}, Measure: "gmv"}},
		{"gender/people", slice.Query{Dims: []string{"gender"}, Measure: "people", Filters: map[string][]string{"province": {"广东"}}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			var plain, withLog []time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, err := ds.Slices.Run(ctx, c.q); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := logged.Run(ctx, c.q); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				plain, withLog = append(plain, t1.Sub(t0)), append(withLog, t2.Sub(t1))
			}
			reportRatio(b, "logged", withLog, "plain", plain)
		})
	}
}

// BenchmarkGuard measures what the privacy guard costs on two-dimension
// slices: each iteration runs the guarded slice and the equivalent
// unguarded SQL (the same cells, no rules), in alternating order, and
// reports both medians and their ratio (guarded / unguarded). The rotating case
// changes its filter every iteration, so each result is checked against
// a history of earlier, different ones.
func BenchmarkGuard(b *testing.B) {
	ds := benchData(b)
	db := ds.Store()
	cases := guardCases()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			guarded, raw := alternate(b, ds.Slices, db, c.q, c.raw)
			reportRatio(b, "guarded", guarded, "unguarded", raw)
		})
	}
}

// benchCase is a slice and the hand-written SQL that gives the same
// cells, for iteration i.
type benchCase struct {
	name string
	q    func(i int) slice.Query
	raw  func(i int) string
}

// guardCases are the two-dimension slices the guard's cost is measured
// on, against the unguarded query.
func guardCases() []benchCase {
	provinces := []string{"广东", "江苏", "山东", "浙江", "河南", "四川", "河北", "湖南", "湖北", "安徽", "福建", "江西", "广西", "辽宁", "上海", "陕西"}
	return []benchCase{
		{"province×age_band/gmv",
			func(int) slice.Query {
				return slice.Query{Dims: []string{"province", "age_band"}, Measure: "gmv"}
			},
			func(int) string {
				return `SELECT province, age_band, count(*) AS people, sum(list_sum(monthly_gmv)) AS gmv
				 FROM personas GROUP BY province, age_band`
			}},
		{"province×categories/people",
			func(int) slice.Query {
				return slice.Query{Dims: []string{"province", "categories"}, Measure: "people"}
			},
			func(int) string {
				return `SELECT province, c, count(*) AS people FROM personas, unnest(categories) AS u(c) GROUP BY province, c`
			}},
		{"age_band×city_tier/people, rotating province filter",
			func(i int) slice.Query {
				return slice.Query{Dims: []string{"age_band", "city_tier"}, Measure: "people",
					Filters: map[string][]string{"province": {provinces[i%len(provinces)]}}}
			},
			func(i int) string {
				return `SELECT age_band, city_tier, count(*) AS people FROM personas WHERE province = '` + provinces[i%len(provinces)] + `' GROUP BY age_band, city_tier`
			}},
	}
}

// workbenchCases are the slices an analyst waits for in the workbench,
// against the hand-written SQL of the same cells.
func workbenchCases() []benchCase {
	levels := []string{"普通会员", "白银会员", "黄金会员", "钻石会员"}
	return []benchCase{
		{"province×age_band/gmv, a member level each time",
			func(i int) slice.Query {
				return slice.Query{Dims: []string{"province", "age_band"}, Measure: "gmv", Filters: map[string][]string{"member_level": {levels[i%len(levels)]}}}
			},
			func(i int) string {
				return `SELECT province, age_band, count(*) AS people, sum(list_sum(monthly_gmv)) AS gmv
				 FROM personas WHERE member_level = '` + levels[i%len(levels)] + `' GROUP BY province, age_band`
			}},
		{"heatmap province×categories/people",
			func(int) slice.Query {
				return slice.Query{Dims: []string{"province", "categories"}, Measure: "people"}
			},
			func(int) string {
				return `SELECT province, c, count(*) AS people FROM personas, unnest(categories) AS u(c) GROUP BY province, c`
			}},
		{"time series month/orders",
			func(int) slice.Query {
				return slice.Query{Dims: []string{"month"}, Measure: "orders"}
			},
			func(int) string {
				return `SELECT i, count(*) AS people, sum(monthly_orders[i]) AS orders FROM personas, range(1, 13) AS t(i) GROUP BY i`
			}},
	}
}

// alternate runs, in each iteration i of b's loop, the slice q(i)
// through run and the SQL raw(i) on db, and times each; which goes first
// alternates, so neither always finds the other's work in the caches.
func alternate(b *testing.B, run interface {
	Run(context.Context, slice.Query) (*slice.Result, error)
}, db guard.Querier, q func(int) slice.Query, raw func(int) string) (ran, rawTimes []time.Duration) {
	ctx := context.Background()
	i := 0
	for b.Loop() {
		g := func() {
			t0 := time.Now()
			res, err := run.Run(ctx, q(i))
			if err != nil || len(res.Rows) == 0 {
				b.Fatal(err, "no rows")
			}
			ran = append(ran, time.Since(t0))
		}
		r := func() {
			t0 := time.Now()
			if n, err := scanAll(db, ctx, raw(i)); err != nil || n == 0 {
				b.Fatal(err, "no rows")
			}
			rawTimes = append(rawTimes, time.Since(t0))
		}
		if i%2 == 0 {
			g()
			r()
		} else {
			r()
			g()
		}
		i++
	}
	return ran, rawTimes
}

// p95 is the 95th percentile (nearest rank).
func p95(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*95+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}

// BenchmarkWorkbenchSlices measures the slices an analyst waits for in
// the workbench — a two-dimension breakdown, the province × category
// heatmap and the 12-month time series — as the workbench runs them:
// through the privacy guard, from its summary of the records where the
// summary can answer (built first, as the workbench builds it in the
// background after opening; its build time is reported), and recorded
// in the usage log (a record synced to disk before each result). Each iteration also runs the
// equivalent hand-written DuckDB SQL, in alternating order; both sides'
// medians and 95th percentiles and the ratio of the medians are
// reported. The breakdown's filter changes every iteration, so no two
// results are alike and each is checked against a growing history.
func BenchmarkWorkbenchSlices(b *testing.B) {
	ds := benchData(b)
	db := ds.Store()
	eng, built, groups := summarised(b, ds)
	logged := loggedSlices(b, ds, eng)
	cases := workbenchCases()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			guarded, raw := alternate(b, logged, db, c.q, c.raw)
			reportRatio(b, "workbench", guarded, "raw", raw)
			b.ReportMetric(float64(p95(guarded).Microseconds())/1000, "workbench-p95-ms")
			b.ReportMetric(float64(p95(raw).Microseconds())/1000, "raw-p95-ms")
			b.ReportMetric(built.Seconds(), "summary-s")
			b.ReportMetric(float64(groups), "summary-groups")
		})
	}
}

var (
	summaryOnce   sync.Once
	summaryEngine *guard.Engine
	summaryTime   time.Duration
	summaryGroups int64
)

// summarised is a fresh guard over ds with its summary built (once per
// run), how long building took, and how many groups it has.
func summarised(b *testing.B, ds *dataset.Dataset) (*guard.Engine, time.Duration, int64) {
	summaryOnce.Do(func() {
		ctx := context.Background()
		cols, err := ds.Store().Columns(ctx, ds.Inventory.Table)
		if err != nil {
			b.Fatal(err)
		}
		e, err := guard.New(ds.Store(), ds.Inventory, cols, ds.Slices.K())
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		n, err := e.Summarise(ctx, 0)
		if err != nil {
			b.Fatal(err)
		}
		summaryEngine, summaryTime, summaryGroups = e, time.Since(start), n
		b.Logf("summary of %d records built in %s: rows %v", ds.Inventory.Records, summaryTime.Round(time.Millisecond), e.SummaryRows())
	})
	return summaryEngine, summaryTime, summaryGroups
}
