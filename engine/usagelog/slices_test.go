package usagelog

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/persona-workbench/persona/engine/analysis"
	"github.com/persona-workbench/persona/engine/dataset"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/sample"
)

// The log keeps the filter values the analyst chose, and of the queries
// an analysis asks on its own behalf only how many values each
// dimension had: those values may be held by few people.
func TestInternalQueriesKeepNoValues(t *testing.T) {
	ctx := context.Background()
	r, err := sample.NewReader(ctx, sample.Options{Rows: 5000, Seed: sample.DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	ds, err := dataset.OpenArrow(ctx, sample.Inventory(5000, sample.DefaultSeed), r, dataset.Options{K: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	dir := t.TempDir()
	k := newKeys(t)
	l, err := Open(dir, Context{Person: "王芳"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := start(l, testID, k.signer, map[string]string{"package": "x"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	logged := Slices{Engine: ds.Slices, Session: s, Source: "test"}
	q := slice.Query{Dims: []string{"age_band"}, Measure: "people", Filters: map[string][]string{"province": {"西藏", "青海"}}, Holding: map[string][]string{"categories": {"美妆"}}}
	if _, err := logged.Run(ctx, q); err != nil {
		t.Fatal(err)
	}
	var runner analysis.Runner = logged
	if _, err := runner.(analysis.Internal).Internal("classify").Run(ctx, q); err != nil {
		t.Fatal(err)
	}
	recs, _, err := Records(dir)
	if err != nil {
		t.Fatal(err)
	}
	var queries []QueryRecord
	for _, rec := range recs {
		if rec.Kind == KindQuery {
			var qr QueryRecord
			if err := json.Unmarshal(rec.Data, &qr); err != nil {
				t.Fatal(err)
			}
			queries = append(queries, qr)
		}
	}
	if len(queries) != 2 {
		t.Fatalf("%d query records, want 2", len(queries))
	}
	if a := queries[0]; len(a.Where["province"]) != 2 || len(a.Holding["categories"]) != 1 || a.Analysis != "" {
		t.Errorf("the analyst's query is recorded as %+v", a)
	}
	if b := queries[1]; b.Where != nil || b.Holding != nil || b.Analysis != "classify" || b.WhereValues["province"] != 2 || b.HoldingValues["categories"] != 1 {
		t.Errorf("the analysis's own query is recorded as %+v", b)
	}
}
