package guard

import (
	"context"
	"fmt"
	"strings"

	"github.com/persona-workbench/persona/engine/inventory"
)

// distinctLists removes repeated values from the data's multi-valued
// columns, once, before the first work that needs them distinct: a
// slice that unnests a list or divides by its length, profiles keyed by
// lists, a segment scored over a list's values, the summary. A person
// then counts once per value. Filters (list_has_any, list_contains) do
// not care, so opening the data, and slices without a list, skip it: at
// 10M records it is about 5 s, most of what opening adds to DuckDB's own
// load. Only rows with repeats are rewritten; unnesting list_distinct(…)
// in every query instead is many times slower in DuckDB.
func (e *Engine) distinctLists(ctx context.Context) error {
	e.listMu.Lock()
	defer e.listMu.Unlock()
	if e.listsDistinct {
		return nil
	}
	inv := e.Inventory()
	var set, where []string
	for _, f := range inv.Fields {
		if f.Role == inventory.MultiDimension {
			c := quote(f.Name)
			set = append(set, fmt.Sprintf(`%[1]s = list_distinct(%[1]s)`, c))
			where = append(where, fmt.Sprintf(`list_unique(%[1]s) != len(%[1]s)`, c))
		}
	}
	if len(set) > 0 {
		q := fmt.Sprintf(`UPDATE %s SET %s WHERE %s`, quote(inv.Table), strings.Join(set, ", "), strings.Join(where, " OR "))
		if err := e.exec(ctx, q); err != nil {
			return fmt.Errorf("make list values distinct: %w", err)
		}
	}
	e.listsDistinct = true
	return nil
}

// listsIn reports whether any of fields is multi-valued.
func listsIn(fields []inventory.Field) bool {
	for _, f := range fields {
		if f.Role == inventory.MultiDimension {
			return true
		}
	}
	return false
}
