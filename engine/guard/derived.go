package guard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// Derive makes a segmentation a dimension of the data: from now on it
// can be sliced and filtered by like any single-valued dimension, under
// the same rules, and it is listed by Inventory. Its definition is kept
// in the release history, so that later results, in this session and
// later ones, are checked against populations defined by it. Deriving
// the same segmentation again returns the same field.
func (e *Engine) Derive(s slice.Segmentation) (inventory.Field, error) {
	if err := s.Check(e.Inventory()); err != nil {
		return inventory.Field{}, err
	}
	name := s.Name()
	if old, ok := e.segmentation(name); ok && !sameSegmentation(old, s) {
		return inventory.Field{}, fmt.Errorf("%w: segmentation %s is already defined otherwise", slice.ErrQuery, name)
	}
	if _, ok := e.segmentation(name); !ok {
		e.mu.Lock()
		defer e.mu.Unlock()
		fresh, err := e.hist.Lock()
		if err != nil {
			return inventory.Field{}, err
		}
		defer e.hist.Unlock()
		e.learn(fresh)
		if _, ok := e.segmentation(name); !ok {
			def := s
			if err := e.hist.Add([]Entry{{Def: &def}}); err != nil {
				return inventory.Field{}, fmt.Errorf("the segmentation could not be recorded in the release history: %w", err)
			}
			e.define(s)
		}
	}
	f, _ := e.Inventory().Field(name)
	return f, nil
}

func sameSegmentation(a, b slice.Segmentation) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// define adds a segmentation's dimension (once).
func (e *Engine) define(s slice.Segmentation) {
	name := s.Name()
	e.dmu.Lock()
	defer e.dmu.Unlock()
	if _, ok := e.defs[name]; ok {
		return
	}
	e.defs[name] = s
	inv := *e.inv
	inv.Fields = append(slices.Clip(inv.Fields), inventory.Field{
		Name: name, Label: s.Label, Role: inventory.Dimension, Type: "VARCHAR", Order: s.Values,
		Description: inventory.Label{ZH: "由细分分析得出的分群", EN: "segments found by a segmentation"},
	})
	e.inv = &inv
}

func (e *Engine) segmentation(name string) (slice.Segmentation, bool) {
	if !strings.HasPrefix(name, slice.SegmentPrefix) {
		return slice.Segmentation{}, false
	}
	e.dmu.RLock()
	defer e.dmu.RUnlock()
	s, ok := e.defs[name]
	return s, ok
}

// knowSegments reads the definitions a query names that this engine has
// not met yet: segmentations derived in an earlier session, or by
// another process, are in the release history.
func (e *Engine) knowSegments(q slice.Query) error {
	unknown := func(name string) bool {
		_, ok := e.segmentation(name)
		return strings.HasPrefix(name, slice.SegmentPrefix) && !ok
	}
	need := slices.ContainsFunc(q.Dims, unknown)
	for name := range q.Filters {
		need = need || unknown(name)
	}
	if !need {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	fresh, err := e.hist.Lock()
	if err != nil {
		return err
	}
	defer e.hist.Unlock()
	e.learn(fresh)
	return nil
}

// ensure adds the derived dimensions names to the table, those not
// added yet: a column of the segments' names, worked out once, so that a
// slice by segment costs what a slice by any dimension does. The data's
// own columns are never changed.
func (e *Engine) ensure(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return nil
	}
	if err := e.distinctLists(ctx); err != nil { // a segment may score a list's values
		return err
	}
	e.matMu.Lock()
	defer e.matMu.Unlock()
	table := quote(e.Inventory().Table)
	for _, name := range names {
		if e.made[name] {
			continue
		}
		s, ok := e.segmentation(name)
		if !ok {
			return fmt.Errorf("the release history names segment dimension %s, whose definition is missing", name)
		}
		labels := make([]string, len(s.Values))
		for i, v := range s.Values {
			labels[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		}
		p := &plan{eng: e}
		src := segmentSource(p, table, []string{name})
		for _, stmt := range []struct {
			sql  string
			args []any
		}{
			{fmt.Sprintf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s ENUM(%s)", table, quote(name), strings.Join(labels, ", ")), nil},
			{fmt.Sprintf("UPDATE %s AS t SET %s = s.__v0 FROM %s AS s WHERE t.rowid = s.rowid", table, quote(name), src), p.args},
		} {
			rows, err := e.db.QueryContext(ctx, stmt.sql, stmt.args...)
			if err == nil {
				for rows.Next() { // the statement runs as its result is read
				}
				err = rows.Err()
				rows.Close()
			}
			if err != nil {
				return fmt.Errorf("work out segments of %s: %w", name, err)
			}
		}
		e.made[name] = true
	}
	return nil
}

// segmentSource is the records of table with the segment of each
// derived dimension names[j] as column __v{j}, and rowid. A segment is worked out in three projections, each
// a few cheap vector operations per record: each term's value as a
// number (a multi-valued term's list as a bit mask), each segment's
// score, then the first segment of lowest score. Values go in as
// parameters; weights are numbers, written out exactly.
func segmentSource(p *plan, table string, names []string) string {
	// Exponent form: DuckDB reads a plain decimal literal as a DECIMAL,
	// whose arithmetic is many times slower than a DOUBLE's.
	num := func(x float64) string { return strconv.FormatFloat(x, 'e', -1, 64) }
	var codes, scores, picks []string
	for j, name := range names {
		s, _ := p.eng.segmentation(name)
		terms := make([]string, len(s.Values)) // each segment's score
		for i := range terms {
			terms[i] = num(s.Bias[i])
		}
		for d, t := range s.Terms {
			vals := make([]string, 0, len(t.Weights))
			for v, ws := range t.Weights {
				if slices.ContainsFunc(ws, func(w float64) bool { return w != 0 }) {
					vals = append(vals, v)
				}
			}
			if len(vals) == 0 {
				continue
			}
			slices.Sort(vals)
			code := fmt.Sprintf("__c%d_%d", j, d)
			f, _ := p.eng.Inventory().Field(t.Dim)
			multi := f.Role == inventory.MultiDimension
			var c strings.Builder
			for b, v := range vals {
				n := int64(b)
				if multi {
					n = 1 << (b % 62)
				}
				fmt.Fprintf(&c, " WHEN %s THEN %d", p.param(v), n)
			}
			if multi && len(vals) > 62 {
				// More values than bits: one mask per 62 values.
				for lo := 0; lo < len(vals); lo += 62 {
					part := vals[lo:min(lo+62, len(vals))]
					var pc strings.Builder
					for b, v := range part {
						fmt.Fprintf(&pc, " WHEN %s THEN %d", p.param(v), int64(1)<<b)
					}
					pcode := fmt.Sprintf("%s_%d", code, lo)
					codes = append(codes, fmt.Sprintf("coalesce(list_sum(list_transform(t.%s, lambda x: CASE x%s ELSE 0 END)), 0)::BIGINT AS %s", quote(t.Dim), pc.String(), pcode))
					for i := range terms {
						for b, v := range part {
							if w := t.Weights[v][i]; w != 0 {
								terms[i] += fmt.Sprintf(" + ((%s >> %d) & 1) * %s", pcode, b, num(w))
							}
						}
					}
				}
				continue
			}
			if multi {
				codes = append(codes, fmt.Sprintf("coalesce(list_sum(list_transform(t.%s, lambda x: CASE x%s ELSE 0 END)), 0)::BIGINT AS %s", quote(t.Dim), c.String(), code))
			} else {
				codes = append(codes, fmt.Sprintf("CASE t.%s%s ELSE -1 END AS %s", quote(t.Dim), c.String(), code))
			}
			for i := range terms {
				if multi {
					for b, v := range vals {
						if w := t.Weights[v][i]; w != 0 {
							terms[i] += fmt.Sprintf(" + ((%s >> %d) & 1) * %s", code, b, num(w))
						}
					}
					continue
				}
				var cw strings.Builder
				for b, v := range vals {
					if w := t.Weights[v][i]; w != 0 {
						fmt.Fprintf(&cw, " WHEN %d THEN %s", b, num(w))
					}
				}
				if cw.Len() > 0 {
					terms[i] += fmt.Sprintf(" + CASE %s%s ELSE 0 END", code, cw.String())
				}
			}
		}
		score := func(i int) string { return fmt.Sprintf("__s%d_%d", j, i) }
		for i, t := range terms {
			scores = append(scores, fmt.Sprintf("(%s)::DOUBLE AS %s", t, score(i)))
		}
		var pick strings.Builder
		pick.WriteString("CASE")
		for i := range s.Values {
			var conds []string
			for o := range s.Values {
				switch {
				case o < i:
					conds = append(conds, score(i)+" < "+score(o))
				case o > i:
					conds = append(conds, score(i)+" <= "+score(o))
				}
			}
			fmt.Fprintf(&pick, " WHEN %s THEN %s", strings.Join(conds, " AND "), p.param(s.Values[i]))
		}
		fmt.Fprintf(&pick, " END AS __v%d", j)
		picks = append(picks, pick.String())
	}
	src := fmt.Sprintf("(SELECT *, rowid AS rowid%s FROM %s AS t)", prefixed(codes), table)
	src = fmt.Sprintf("(SELECT *%s FROM %s AS t)", prefixed(scores), src)
	return fmt.Sprintf("(SELECT *%s FROM %s AS t)", prefixed(picks), src)
}

func prefixed(cols []string) string {
	if len(cols) == 0 {
		return ""
	}
	return ", " + strings.Join(cols, ", ")
}
