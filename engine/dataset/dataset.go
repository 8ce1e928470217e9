// Package dataset opens a persona data set for analysis: it loads the
// records into a hardened store, seals it, checks the data against its
// field inventory and hands back the privacy guard, the one way to ask
// it questions. It is the one place that
// wires store, inventory and slice together, so the command line and the
// terminal UI open data the same way.
package dataset

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/persona-workbench/persona/engine/ckm"
	"github.com/persona-workbench/persona/engine/guard"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/engine/store"
)

// Options configure opening.
type Options struct {
	Store store.Options
	K     int // minimum group size; 0 means slice.DefaultK
	// Columns, when set, names the only fields to load (with the weight,
	// always): the data set then declares just those fields and the
	// measures made of them, and anything else is an unknown name to
	// it. Nil loads everything.
	Columns []string
	// Perturb, when set, makes the guard release every number adjusted
	// by the cell key method with these parameters (guard.Engine.Perturb);
	// it needs KeySeed. Nil: exact numbers, checked against the release
	// history.
	Perturb *ckm.Params
	// KeySeed, when set, gives every record a key derived from it and
	// the record's position (store.Keys), in guard.KeyColumn.
	KeySeed *uint64
	// Progress, if set, hears about long steps: the step's name ("load",
	// "check") and, for loading files, how many of how many are done.
	Progress func(step string, done, total int)
}

func (o Options) progress(step string, done, total int) {
	if o.Progress != nil {
		o.Progress(step, done, total)
	}
}

// Dataset is an open, sealed data set.
type Dataset struct {
	Inventory *inventory.Inventory
	Slices    *guard.Engine
	db        *store.DB
}

// Store returns the sealed database, for benchmarks that compare the
// engine with hand-written SQL.
func (d *Dataset) Store() *store.DB { return d.db }

// Close frees the data.
func (d *Dataset) Close() error { return d.db.Close() }

// OpenDir opens a folder holding inventory.json and the Parquet files it
// lists.
func OpenDir(ctx context.Context, dir string, opt Options) (*Dataset, error) {
	inv, err := inventory.Load(filepath.Join(dir, "inventory.json"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s holds no inventory.json: is it a folder written by `persona sample`?", dir)
		}
		return nil, err
	}
	if len(inv.Files) == 0 {
		return nil, fmt.Errorf("inventory in %s lists no data files", dir)
	}
	paths := make([]string, len(inv.Files))
	for i, f := range inv.Files {
		paths[i] = filepath.Join(dir, f)
	}
	return open(ctx, inv, opt, func(db *store.DB) error {
		return db.LoadParquet(ctx, inv.Table, paths, func(done int) { opt.progress("load", done, len(paths)) })
	})
}

// OpenArrow opens records streamed as Arrow record batches; nothing is
// written to disk.
func OpenArrow(ctx context.Context, inv *inventory.Inventory, r array.RecordReader, opt Options) (*Dataset, error) {
	return open(ctx, inv, opt, func(db *store.DB) error { return db.LoadArrow(ctx, inv.Table, r) })
}

// OpenWith opens a data set that load brings into the store's table
// inv.Table (with store.LoadArrow, then store.AppendArrow), such as
// decrypted package parts; the checks are those of every other way in.
func OpenWith(ctx context.Context, inv *inventory.Inventory, opt Options, load func(*store.DB) error) (*Dataset, error) {
	return open(ctx, inv, opt, load)
}

func open(ctx context.Context, inv *inventory.Inventory, opt Options, load func(*store.DB) error) (*Dataset, error) {
	if err := inv.Validate(); err != nil {
		return nil, err
	}
	if opt.Columns != nil {
		only, err := inv.Only(opt.Columns)
		if err == nil && len(only.Columns()) == 0 {
			// A table needs a column: a total alone loads the first.
			only, err = inv.Only(inv.Columns()[:1])
		}
		if err == nil { // else (no measure left, say) load everything
			inv = only
			opt.Store.Columns = inv.Columns()
		}
	}
	k := opt.K
	if k == 0 {
		k = slice.DefaultK
	}
	if opt.Perturb != nil && opt.KeySeed == nil {
		return nil, errors.New("perturbation needs record keys: no key seed given")
	}
	if opt.KeySeed != nil {
		opt.Store.Keys = &store.Keys{Column: guard.KeyColumn, Seed: *opt.KeySeed, Bits: guard.KeyBits}
	}
	db, err := store.Open(ctx, opt.Store)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Dataset, error) {
		db.Close()
		return nil, err
	}
	if err := load(db); err != nil {
		return fail(err)
	}
	cols, err := db.Columns(ctx, inv.Table)
	if err != nil {
		return fail(err)
	}
	eng, err := guard.New(db, inv, cols, k) // checks columns and types
	if err != nil {
		return fail(err)
	}
	if err := noExtraColumns(inv, cols, opt.KeySeed != nil); err != nil {
		return fail(err)
	}
	if opt.Perturb != nil {
		if err := eng.Perturb(*opt.Perturb); err != nil {
			return fail(err)
		}
	}
	opt.progress("check", 0, 0)
	// Repeated values in lists are removed by the guard before the first
	// work that needs them distinct (guard.Engine.distinctLists).
	if err := db.Seal(ctx); err != nil {
		return fail(err)
	}
	if err := checkData(ctx, db, inv); err != nil {
		return fail(err)
	}
	return &Dataset{Inventory: inv, Slices: eng, db: db}, nil
}

// checkData holds the data to what its inventory promises: the record
// count, weights of at least one person, and one value per period in
// every series.
func checkData(ctx context.Context, db *store.DB, inv *inventory.Inventory) error {
	// One scan computes every count. Names passed inventory.Validate:
	// lower-case identifiers, safe to quote.
	exprs := []string{"count(*)"}
	var what []string
	w, weighted := inv.WeightField()
	if weighted {
		exprs = append(exprs, fmt.Sprintf(`count(*) FILTER (WHERE %[1]q IS NULL OR %[1]q < 1)`, w.Name))
		what = append(what, fmt.Sprintf("have a weight %s below 1 or none", w.Name))
	}
	for _, f := range inv.Fields {
		if f.Series == "" {
			continue
		}
		t, _ := inv.Field(f.Series)
		exprs = append(exprs, fmt.Sprintf(`count(*) FILTER (WHERE len(%q) IS DISTINCT FROM %d)`, f.Name, len(t.Order)))
		what = append(what, fmt.Sprintf("of %s do not hold one value for each of the %d periods of %s", f.Name, len(t.Order), t.Name))
	}
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT %s FROM %q`, strings.Join(exprs, ", "), inv.Table))
	if err != nil {
		return fmt.Errorf("check data: %w", err)
	}
	defer rows.Close()
	counts := make([]int64, len(exprs))
	ptrs := make([]any, len(exprs))
	for i := range counts {
		ptrs[i] = &counts[i]
	}
	if rows.Next() {
		err = rows.Scan(ptrs...)
	}
	if err = errors.Join(err, rows.Err()); err != nil {
		return fmt.Errorf("check data: %w", err)
	}
	if inv.Records > 0 && counts[0] != inv.Records {
		return fmt.Errorf("data does not match inventory: %d records, inventory says %d", counts[0], inv.Records)
	}
	for i, n := range counts[1:] {
		if n > 0 {
			return fmt.Errorf("data does not match inventory: %d records %s", n, what[i])
		}
	}
	return nil
}

// noExtraColumns refuses columns the inventory does not declare: data
// nobody listed must not travel, or be opened, unnoticed.
func noExtraColumns(inv *inventory.Inventory, cols map[string]string, keyed bool) error {
	var extra []string
	for c := range cols {
		if _, ok := inv.Field(c); !ok && (c != guard.KeyColumn || !keyed) {
			extra = append(extra, c)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	return fmt.Errorf("data does not match inventory: column %s is not in the inventory (declare it or drop it)", strings.Join(extra, ", "))
}
