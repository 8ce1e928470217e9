package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/persona-workbench/persona/engine/store"
	"github.com/persona-workbench/persona/sample"
)

// Fit compresses a table that would not fit uncompressed; the answers
// are the same, the table much smaller. Data that would not fit even so
// is refused with ErrTooBig, before memory runs out.
func TestFit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := sample.WriteDir(ctx, dir, sample.Options{Rows: 20_000, Seed: sample.DefaultSeed}); err != nil {
		t.Fatal(err)
	}
	part, _ := filepath.Glob(filepath.Join(dir, "*.parquet"))
	if len(part) != 1 {
		t.Fatalf("%d parts", len(part))
	}
	files := []string{part[0], part[0], part[0]} // three parts, as a package has
	queries := []string{
		`SELECT count(*) FROM personas`,
		`SELECT count(*) FROM personas, unnest(categories) AS u(c) WHERE c = '美妆'`,
		`SELECT sum(list_sum(monthly_orders))::BIGINT FROM personas WHERE province = '广东'`,
	}
	answers := map[string][]int64{}
	size := map[string]int64{}
	for _, mode := range []string{"never", "always"} {
		db, err := store.Open(ctx, store.Options{Compress: mode, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.LoadParquet(ctx, "personas", files, nil); err != nil {
			t.Fatal(err)
		}
		if db.Compressed() != (mode == "always") {
			t.Errorf("%s: compressed %v", mode, db.Compressed())
		}
		size[mode] = count(t, db, `SELECT sum(memory_usage_bytes)::BIGINT FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'`)
		if err := db.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		for _, q := range queries {
			answers[mode] = append(answers[mode], count(t, db, q))
		}
		db.Close()
	}
	for i, q := range queries {
		if answers["never"][i] != answers["always"][i] {
			t.Errorf("%s: %d uncompressed, %d compressed", q, answers["never"][i], answers["always"][i])
		}
	}
	if size["always"]*3 > size["never"] {
		t.Errorf("compressed %d bytes, uncompressed %d: less than a third saved", size["always"], size["never"])
	}
	t.Logf("table: %d KB uncompressed, %d KB compressed", size["never"]>>10, size["always"]>>10)

	// Without a mode, Fit compresses only when the table would take more
	// than its share of the memory limit; beyond what fits compressed,
	// it refuses.
	for _, c := range []struct {
		limit      string
		compressed bool
		tooBig     bool
	}{{"4GB", false, false}, {"48MB", true, false}, {"2MB", true, true}} {
		db, err := store.Open(ctx, store.Options{MemoryLimit: c.limit, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		err = db.LoadParquet(ctx, "personas", files, nil)
		if c.tooBig != errors.Is(err, store.ErrTooBig) || !c.tooBig && err != nil {
			t.Errorf("limit %s: %v", c.limit, err)
		}
		if !c.tooBig && db.Compressed() != c.compressed {
			t.Errorf("limit %s: compressed %v", c.limit, db.Compressed())
		}
		if err != nil {
			t.Logf("limit %s: %v", c.limit, err)
		}
		db.Close()
	}
}
