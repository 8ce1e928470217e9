package guard_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/persona-workbench/persona/engine/ckm"
	"github.com/persona-workbench/persona/engine/dataset"
	"github.com/persona-workbench/persona/engine/guard"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/engine/store"
	"github.com/persona-workbench/persona/sample"
)

var (
	pbenchOnce sync.Once
	pbenchDS   *dataset.Dataset
	pbenchErr  error
)

// perturbedBenchData loads the sample with record keys once, under the
// default perturbation, from Parquet files as a package's parts load
// (the keys written as the records load).
func perturbedBenchData(b *testing.B) *dataset.Dataset {
	pbenchOnce.Do(func() {
		rows := benchRows(b)
		start := time.Now()
		dir, err := os.MkdirTemp("", "persona-bench-")
		if err != nil {
			pbenchErr = err
			return
		}
		defer os.RemoveAll(dir)
		if pbenchErr = sample.WriteDir(context.Background(), dir, sample.Options{Rows: rows, Seed: sample.DefaultSeed}); pbenchErr != nil {
			return
		}
		p, seed := ckm.DefaultParams(), uint64(1)
		pbenchDS, pbenchErr = dataset.OpenDir(context.Background(), dir, dataset.Options{Perturb: &p, KeySeed: &seed})
		b.Logf("generated, wrote and loaded %d records with keys in %s", rows, time.Since(start).Round(time.Millisecond))
	})
	if pbenchErr != nil {
		b.Fatal(pbenchErr)
	}
	return pbenchDS
}

// BenchmarkGuardPerturbed is BenchmarkGuard under the cell key method:
// the guard over the records (as a one-off `persona query` runs it,
// with no summary) against the same hand-written SQL, alternately.
func BenchmarkGuardPerturbed(b *testing.B) {
	ds := perturbedBenchData(b)
	db := ds.Store()
	cases := guardCases()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			guarded, raw := alternate(b, ds.Slices, db, c.q, c.raw)
			reportRatio(b, "perturbed", guarded, "unguarded", raw)
		})
	}
}

// BenchmarkWorkbenchSlicesPerturbed is BenchmarkWorkbenchSlices under
// the cell key method: from the summary, recorded in the usage log.
func BenchmarkWorkbenchSlicesPerturbed(b *testing.B) {
	ds := perturbedBenchData(b)
	db := ds.Store()
	start := time.Now()
	if _, err := ds.Slices.Summarise(context.Background(), 0); err != nil {
		b.Fatal(err)
	}
	built := time.Since(start)
	logged := loggedSlices(b, ds, ds.Slices)
	cases := workbenchCases()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			guarded, raw := alternate(b, logged, db, c.q, c.raw)
			reportRatio(b, "workbench", guarded, "raw", raw)
			b.ReportMetric(float64(p95(guarded).Microseconds())/1000, "workbench-p95-ms")
			b.ReportMetric(built.Seconds(), "summary-s")
		})
	}
}

// BenchmarkHistory measures a slice in a fresh workspace and after 1,000
// earlier releases of mixed slices, side by side, under each method: in
// the session that made them, and as a new command that opens the
// history (new-command). The suppressing guard checks each result
// against every earlier one, the perturbing one keeps no history.
func BenchmarkHistory(b *testing.B) {
	ds := perturbedBenchData(b)
	ctx := context.Background()
	cols, err := ds.Store().Columns(ctx, ds.Inventory.Table)
	if err != nil {
		b.Fatal(err)
	}
	earlier := 1000
	if s := os.Getenv("PERSONA_BENCH_HISTORY"); s != "" {
		if earlier, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	dims := []string{"age_band", "gender", "city_tier", "member_level", "device", "purchase_frequency", "campaign_exposure", "region"}
	measures := []string{"people", "gmv", "conversion_rate", "orders"}
	rng := rand.New(rand.NewPCG(1, 2))
	history := func(i int) slice.Query {
		q := slice.Query{Dims: []string{dims[rng.IntN(len(dims))]}, Measure: measures[rng.IntN(len(measures))], Filters: map[string][]string{}}
		if rng.IntN(2) == 0 {
			q.Dims = append(q.Dims, "province")
		}
		if rng.IntN(2) == 0 {
			q.Filters["member_level"] = []string{[]string{"普通会员", "白银会员", "黄金会员", "钻石会员"}[rng.IntN(4)]}
		}
		return q
	}
	// Each probe is a query not asked before (a province and a member
	// level each time), as an analyst's next question is; the fresh
	// workspace is made anew for each.
	provinces := []string{"广东", "江苏", "山东", "浙江", "河南", "四川", "河北", "湖南", "湖北", "安徽", "福建", "江西", "广西", "辽宁", "上海", "陕西"}
	levels := []string{"普通会员", "白银会员", "黄金会员", "铂金会员", "钻石会员"}
	probe := func(i int) slice.Query {
		return slice.Query{Dims: []string{"age_band"}, Measure: "people", Filters: map[string][]string{
			"province": {provinces[i%len(provinces)]}, "member_level": {levels[(i/len(provinces))%len(levels)]}}}
	}
	for _, method := range []string{guard.MethodPerturb, guard.MethodSuppress} {
		b.Run(method, func(b *testing.B) {
			// engine opens the history at path (a new one when ""), as a
			// new command does: it reads every entry before its first
			// result.
			engine := func(path string) *guard.Engine {
				e, err := guard.New(ds.Store(), ds.Inventory, cols, 10)
				if err != nil {
					b.Fatal(err)
				}
				if method == guard.MethodPerturb {
					if err := e.Perturb(ckm.DefaultParams()); err != nil {
						b.Fatal(err)
					}
				}
				if path == "" {
					path = b.TempDir() + "/" + guard.HistoryFile
				}
				h, err := guard.OpenFile(path, [32]byte{3})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { h.Close() })
				e.UseHistory(h)
				return e
			}
			usedPath := b.TempDir() + "/" + guard.HistoryFile
			used := engine(usedPath)
			start := time.Now()
			for i := range earlier {
				if _, err := used.Run(ctx, history(i)); err != nil {
					b.Fatal(err)
				}
			}
			b.Logf("%s: %d earlier releases in %s", method, earlier, time.Since(start).Round(time.Millisecond))
			// Each side is timed from opening its history to its result:
			// a fresh workspace's, the session's that made the releases
			// (already open), and a new command's on that history, which
			// reads it whole.
			var tf, tu, tn []time.Duration
			i := 0
			for b.Loop() {
				run := func(open func() *guard.Engine, into *[]time.Duration) {
					t0 := time.Now()
					if _, err := open().Run(ctx, probe(i)); err != nil {
						b.Fatal(err)
					}
					*into = append(*into, time.Since(t0))
				}
				fresh := func() *guard.Engine { return engine("") }
				session := func() *guard.Engine { return used }
				reopened := func() *guard.Engine { return engine(usedPath) }
				if i%2 == 0 {
					run(fresh, &tf)
					run(session, &tu)
					run(reopened, &tn)
				} else {
					run(reopened, &tn)
					run(session, &tu)
					run(fresh, &tf)
				}
				i++
			}
			reportRatio(b, "after-history", tu, "fresh", tf)
			b.ReportMetric(float64(median(tn).Microseconds())/1000, "new-command-ms")
			b.ReportMetric(float64(median(tn))/float64(median(tf)), "new-command-ratio")
		})
	}
}

// BenchmarkManyValues slices a filtered population by a multi-valued
// dimension of 2,000+ distinct values (real licensors' tag lists have
// thousands), under the cell key method, against the same SQL.
func BenchmarkManyValues(b *testing.B) {
	rows := benchRows(b)
	ds := manyValues(b, rows)
	defer ds.Close()
	db := ds.Store()
	regions := []string{"r1", "r2", "r3", "r4"}
	q := func(i int) slice.Query {
		return slice.Query{Dims: []string{"tags"}, Measure: "people", Filters: map[string][]string{"region": {regions[i%len(regions)]}}}
	}
	raw := func(i int) string {
		return `SELECT v, count(*) FROM things, unnest(tags) AS u(v) WHERE region = '` + regions[i%len(regions)] + `' GROUP BY v`
	}
	guarded, rawT := alternate(b, ds.Slices, db, q, raw)
	reportRatio(b, "perturbed", guarded, "unguarded", rawT)
	res, err := ds.Slices.Run(context.Background(), q(0))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(res.Rows)), "values")
}

// manyValues makes n records with a region (4 values) and a list of 1-6
// of 2,500 tags, skewed, under the default perturbation.
func manyValues(b *testing.B, n int64) *dataset.Dataset {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "region", Type: arrow.BinaryTypes.String},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String)},
	}, nil)
	inv := &inventory.Inventory{
		Version: inventory.Version, Dataset: inventory.Label{ZH: "标签", EN: "tags"}, Table: "things", Records: n,
		Fields: []inventory.Field{
			{Name: "region", Label: inventory.Label{ZH: "地区", EN: "Region"}, Role: inventory.Dimension, Type: "VARCHAR"},
			{Name: "tags", Label: inventory.Label{ZH: "标签", EN: "Tags"}, Role: inventory.MultiDimension, Type: "VARCHAR[]"},
		},
		Measures: []inventory.MeasureDef{{Name: "people", Label: inventory.Label{ZH: "人数", EN: "People"}, Kind: inventory.Count}},
	}
	bld := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer bld.Release()
	rng := rand.New(rand.NewPCG(5, 6))
	lb := bld.Field(1).(*array.ListBuilder)
	vb := lb.ValueBuilder().(*array.StringBuilder)
	for range n {
		bld.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("r%d", 1+rng.IntN(4)))
		lb.Append(true)
		seen := map[int]bool{}
		for range 1 + rng.IntN(6) {
			t := int(2500 * rng.Float64() * rng.Float64()) // skewed: low numbers common
			if !seen[t] {
				seen[t] = true
				vb.Append("t" + strconv.Itoa(t))
			}
		}
	}
	rec := bld.NewRecordBatch()
	defer rec.Release()
	rr, err := array.NewRecordReader(schema, []arrow.RecordBatch{rec})
	if err != nil {
		b.Fatal(err)
	}
	defer rr.Release()
	p, seed := ckm.DefaultParams(), uint64(3)
	ds, err := dataset.OpenArrow(context.Background(), inv, rr, dataset.Options{Perturb: &p, KeySeed: &seed, Store: store.Options{}})
	if err != nil {
		b.Fatal(err)
	}
	return ds
}
