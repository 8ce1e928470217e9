package guard

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// MaxProfiles is the most groups a ProfileQuery may return: enough for
// every combination of the dimensions a model uses on the largest data
// sets, small enough to keep a model's memory bounded.
const MaxProfiles = 2_000_000

// Profiles groups the people by their values of q's dimensions for a
// model fitted in the engine (see slice.ProfileQuery). It holds group
// sizes that may be below k: the caller must release nothing of them
// except through Run, or as numbers over the whole population. Under
// the cell key method (Perturb) every group's numbers are adjusted as a
// released table's are, so a model and all it prints are computed from
// perturbed numbers only.
func (e *Engine) Profiles(ctx context.Context, q slice.ProfileQuery) ([]slice.Profile, error) {
	if err := e.knowSegments(slice.Query{Dims: q.Dims, Filters: q.Filters}); err != nil {
		return nil, err
	}
	inv := e.Inventory()
	if len(q.Dims) == 0 {
		return nil, bad("profiles need at least one dimension")
	}
	if q.Folds < 0 || q.Folds > 100 {
		return nil, bad("folds must be between 0 and 100")
	}
	p := &plan{eng: e}
	var cols []string
	for i, name := range q.Dims {
		f, ok := inv.Field(name)
		switch {
		case !ok:
			return nil, bad("unknown dimension %q", name)
		case slices.Index(q.Dims, name) != i:
			return nil, bad("dimension %q given twice", name)
		case f.Role == inventory.Dimension:
			cols = append(cols, fmt.Sprintf("coalesce(%s, '') AS k%d", p.column(name), i))
		case f.Role == inventory.MultiDimension:
			if err := e.distinctLists(ctx); err != nil { // a list is a key
				return nil, err
			}
			cols = append(cols, fmt.Sprintf("coalesce(list_sort(t.%s), []) AS k%d", quote(name), i))
		default:
			return nil, bad("%q is a %s field, not a dimension a model can use", name, f.Role)
		}
	}
	w := "1"
	if wf, ok := inv.WeightField(); ok {
		w = "t." + quote(wf.Name)
	}
	target := "false"
	if q.Target != "" {
		if name, vals, ok := strings.Cut(q.Target, "="); ok {
			f, ok := inv.Field(name)
			if !ok || f.Role != inventory.Dimension {
				return nil, bad("target %q is not a single-valued dimension", name)
			}
			target = inFilter(p.column(name), strings.Split(vals, ","), p)
		} else {
			f, ok := inv.Field(q.Target)
			if !ok || f.Role != inventory.Measure || f.Type != "BOOLEAN" {
				return nil, bad("target %q is not a yes/no field", q.Target)
			}
			target = "coalesce(t." + quote(f.Name) + ", false)"
		}
	}
	fold := "0"
	if q.Folds > 0 {
		fold = fmt.Sprintf("(hash(t.rowid) %% %d)::INTEGER", q.Folds)
	}
	// filters are the WHERE clauses of q's filters, their parameters in p.
	filters := func(p *plan) ([]string, error) {
		names := make([]string, 0, len(q.Filters))
		for name := range q.Filters {
			names = append(names, name)
		}
		slices.Sort(names)
		var where []string
		for _, name := range names {
			f, ok := inv.Field(name)
			vals := q.Filters[name]
			switch {
			case !ok || len(vals) == 0:
				return nil, bad("unknown filter dimension %q, or no values", name)
			case f.Role == inventory.Dimension:
				where = append(where, inFilter(p.column(name), vals, p))
			case f.Role == inventory.MultiDimension:
				where = append(where, fmt.Sprintf("list_has_any(t.%s, [%s])", quote(name), p.params(vals)))
			default:
				return nil, bad("%q cannot filter a model's input", name)
			}
		}
		return where, nil
	}
	where, err := filters(p)
	if err != nil {
		return nil, err
	}
	if q.Sample > 0 && inv.Records > q.Sample {
		// The fraction is of the records the filters keep.
		n := inv.Records
		if len(where) > 0 {
			cp := &plan{eng: e}
			cw, err := filters(cp)
			if err != nil {
				return nil, err
			}
			if err := e.ensure(ctx, cp.derived); err != nil {
				return nil, err
			}
			sql := fmt.Sprintf("SELECT count(*) FROM %s AS t WHERE %s", quote(inv.Table), strings.Join(cw, " AND "))
			rows, err := e.db.QueryContext(ctx, sql, cp.args...)
			if err != nil {
				return nil, fmt.Errorf("profiles: %w", err)
			}
			for rows.Next() {
				err = rows.Scan(&n)
			}
			if err == nil {
				err = rows.Err()
			}
			rows.Close()
			if err != nil {
				return nil, fmt.Errorf("profiles: %w", err)
			}
		}
		if n > q.Sample {
			where = append(where, fmt.Sprintf("hash(t.rowid, 'sample') %% 1000000 < %d", max(1, q.Sample*1_000_000/n)))
		}
	}
	pert := e.pert.Load()
	keys := ""
	if pert != nil {
		// Under the cell key method a model is fitted on the perturbed
		// table of its dimensions, as the guard would release it: each
		// group's people, and those of them meeting the target, are
		// adjusted by their own keys (perturb.go).
		keys = fmt.Sprintf(", coalesce(sum(t.%[1]s), 0), coalesce(sum(CASE WHEN %[2]s THEN t.%[1]s ELSE 0 END), 0)", colKey, target)
	}
	sql := fmt.Sprintf("SELECT %s, %s AS fold, sum(%s)::BIGINT, sum(CASE WHEN %s THEN %s ELSE 0 END)::BIGINT%s FROM %s AS t",
		strings.Join(cols, ", "), fold, w, target, w, keys, quote(inv.Table))
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += fmt.Sprintf(" GROUP BY ALL LIMIT %d", MaxProfiles+1)
	if err := e.ensure(ctx, p.derived); err != nil {
		return nil, err
	}
	rows, err := e.db.QueryContext(ctx, sql, p.args...)
	if err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	defer rows.Close()
	var out []slice.Profile
	n := len(q.Dims)
	for rows.Next() {
		raw := make([]any, n)
		pr := slice.Profile{Values: make([][]string, n)}
		dest := make([]any, 0, n+3)
		for i := range raw {
			dest = append(dest, &raw[i])
		}
		dest = append(dest, &pr.Fold, &pr.People, &pr.Positive)
		var key, posKey float64
		if pert != nil {
			dest = append(dest, &key, &posKey)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("profiles: %w", err)
		}
		if pert != nil {
			pr.People = pert.count(pr.People, cellKey(key))
			pr.Positive = min(pert.count(pr.Positive, cellKey(posKey)), pr.People)
			if pr.People == 0 {
				continue // adjusted to nobody: not in the released table
			}
		}
		for i, v := range raw {
			switch x := v.(type) {
			case string:
				pr.Values[i] = []string{x}
			case []any:
				l := make([]string, 0, len(x))
				for _, s := range x {
					if s, ok := s.(string); ok && s != "" {
						l = append(l, s)
					}
				}
				pr.Values[i] = l
			}
		}
		out = append(out, pr)
		if len(out) > MaxProfiles {
			return nil, fmt.Errorf("%w: these dimensions make more than %d groups; choose fewer or coarser ones", slice.ErrQuery, MaxProfiles)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	return out, nil
}
