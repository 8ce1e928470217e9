package pack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/persona-workbench/persona/engine/guard"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/engine/store"
)

// A package opened for some fields loads only those: the data set
// declares them, the measures made of them and nothing else, gives the
// same results on them as a full open, and refuses the rest as unknown.
func TestOpenSomeColumns(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	var asked *inventory.Inventory
	opt := f.openOptions()
	opt.Columns = func(inv *inventory.Inventory) ([]string, error) {
		asked = inv
		return []string{"province", "monthly_gmv", "no_such_field"}, nil
	}
	o, err := Open(ctx, f.pkg, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if asked == nil || len(asked.Fields) <= 3 {
		t.Fatalf("Columns was given %v, want the package's whole inventory", asked)
	}
	cols, err := o.Dataset.Store().Columns(ctx, o.Dataset.Inventory.Table)
	if err != nil {
		t.Fatal(err)
	}
	// The records' keys come with every load under the cell key method.
	if len(cols) != 3 || cols["province"] == "" || cols["monthly_gmv"] == "" || cols[guard.KeyColumn] != "DOUBLE" {
		t.Fatalf("loaded columns %v, want province, monthly_gmv and the record keys", cols)
	}
	var measures []string
	for _, m := range o.Dataset.Slices.Inventory().Measures {
		measures = append(measures, m.Name)
	}
	if !slices.Equal(measures, []string{"people", "gmv", "gmv_per_person"}) {
		t.Fatalf("measures %v, want those of the loaded fields", measures)
	}

	full, err := Open(ctx, f.pkg, f.openOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	for _, q := range []slice.Query{
		{Dims: []string{"province"}, Measure: "gmv"},
		{Dims: []string{"month"}, Measure: "gmv", Filters: map[string][]string{"province": {"广东", "浙江"}}},
		{Measure: "people"},
	} {
		a, err := o.Dataset.Slices.Run(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		b, err := full.Dataset.Slices.Run(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Rows) == 0 || len(a.Rows) != len(b.Rows) {
			t.Fatalf("%v: %d rows, %d from a full open", q.Dims, len(a.Rows), len(b.Rows))
		}
		for i := range a.Rows {
			ra, rb := a.Rows[i], b.Rows[i]
			if strings.Join(ra.Keys, "|") != strings.Join(rb.Keys, "|") || ra.People != rb.People || ra.Suppressed != rb.Suppressed || ra.Value != rb.Value {
				t.Fatalf("%v row %d: %+v, from a full open %+v", q.Dims, i, ra, rb)
			}
		}
	}
	for _, q := range []slice.Query{
		{Dims: []string{"age_band"}, Measure: "people"},
		{Dims: []string{"province"}, Measure: "orders"},
		{Dims: []string{"province"}, Filters: map[string][]string{"categories": {"美妆"}}},
	} {
		if _, err := o.Dataset.Slices.Run(ctx, q); !errors.Is(err, slice.ErrQuery) {
			t.Errorf("%+v on a data set without its fields: %v, want an unknown-name error", q, err)
		}
	}
}

// A total alone needs no field; a table needs a column, so the first is
// loaded.
func TestOpenNoColumns(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	opt := f.openOptions()
	opt.Columns = func(*inventory.Inventory) ([]string, error) { return []string{}, nil }
	o, err := Open(ctx, f.pkg, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	res, err := o.Dataset.Slices.Run(ctx, slice.Query{Measure: "people"})
	if err != nil {
		t.Fatal(err)
	}
	if d := int64(o.Licence.Privacy.Perturbation().D); len(res.Rows) != 1 || res.Rows[0].People < 3000-d || res.Rows[0].People > 3000+d {
		t.Fatalf("total %+v, want 3000 people within %d", res.Rows, d)
	}
	if got := o.Dataset.Inventory.Columns(); len(got) != 1 {
		t.Fatalf("loaded %v, want one column", got)
	}
}

// A history that names a field the data set did not load fails the
// check that needs it: nothing is released unchecked.
func TestSomeColumnsHistoryFailsClosed(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	opt := f.openOptions()
	opt.Columns = func(*inventory.Inventory) ([]string, error) { return []string{"province"}, nil }
	o, err := Open(ctx, f.exact, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	q := slice.Query{Measure: "people", Filters: map[string][]string{"province": {"广东"}}}
	probe, err := Open(ctx, f.exact, f.openOptions())
	if err != nil {
		t.Fatal(err)
	}
	res, err := probe.Dataset.Slices.Run(ctx, q)
	probe.Close()
	if err != nil || len(res.Rows) != 1 {
		t.Fatal(res, err)
	}
	// An earlier release, one person away from this one, of a
	// population described by a field that is not loaded.
	var e guard.Entry
	if err := json.Unmarshal(fmt.Appendf(nil, `{"pop":{"conds":[{"dim":"age_band","values":["25-34"]}]},"people":%d}`, res.Rows[0].People+1), &e); err != nil {
		t.Fatal(err)
	}
	path, key := filepath.Join(t.TempDir(), guard.HistoryFile), [32]byte{7}
	w, err := guard.OpenFile(path, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Lock(); err != nil {
		t.Fatal(err)
	}
	if err := w.Add([]guard.Entry{e}); err != nil {
		t.Fatal(err)
	}
	w.Unlock()
	w.Close()
	h, err := guard.OpenFile(path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if fields, err := guard.Fields(path, key); err != nil || !slices.Equal(fields, []string{"age_band"}) {
		t.Fatalf("the history names %v (%v), want age_band", fields, err)
	}
	o.Dataset.Slices.UseHistory(h)
	res, err = o.Dataset.Slices.Run(ctx, q)
	if err == nil {
		t.Fatalf("released %+v without checking it against a history on an unloaded field", res.Rows)
	}
	if !strings.Contains(err.Error(), "did not load") {
		t.Fatalf("error %q does not say a field was not loaded", err)
	}
}

// A part holding a column the inventory does not list is refused even
// by a load of some columns, which never reads that column.
func TestExtraColumnsRefused(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	inv, err := inventory.Load(filepath.Join(f.data, "inventory.json"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	part := filepath.Join(f.data, inv.Files[0])
	if err := extraColumns(ctx, db, part, inv); err != nil {
		t.Fatalf("a part with the inventory's columns: %v", err)
	}
	fewer := *inv
	fewer.Fields = slices.DeleteFunc(slices.Clone(inv.Fields), func(f inventory.Field) bool { return f.Name == "device" })
	err = extraColumns(ctx, db, part, &fewer)
	if !errors.Is(err, ErrPayload) || !strings.Contains(err.Error(), `"device"`) {
		t.Fatalf("a part with a column the inventory does not list: %v", err)
	}
}
