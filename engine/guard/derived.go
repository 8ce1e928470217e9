package guard

import (
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

// segmentSQL is the expression of a record's segment: the name of the
// segment with the lowest score (the first of equal ones). Values go in
// as parameters; weights are numbers, written out exactly.
func segmentSQL(s slice.Segmentation, p *plan) string {
	num := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	scores := make([]string, len(s.Values))
	for i := range s.Values {
		parts := []string{num(s.Bias[i])}
		for _, t := range s.Terms {
			vals := make([]string, 0, len(t.Weights))
			for v := range t.Weights {
				vals = append(vals, v)
			}
			slices.Sort(vals)
			var c strings.Builder
			for _, v := range vals {
				if w := t.Weights[v][i]; w != 0 {
					fmt.Fprintf(&c, " WHEN %s THEN %s", p.param(v), num(w))
				}
			}
			if c.Len() == 0 {
				continue
			}
			f, _ := p.eng.Inventory().Field(t.Dim)
			if f.Role == inventory.MultiDimension {
				parts = append(parts, fmt.Sprintf("coalesce(list_sum(list_transform(t.%s, lambda x: CASE x%s ELSE 0 END)), 0)", quote(t.Dim), c.String()))
			} else {
				parts = append(parts, fmt.Sprintf("CASE t.%s%s ELSE 0 END", quote(t.Dim), c.String()))
			}
		}
		scores[i] = "(" + strings.Join(parts, " + ") + ")::DOUBLE"
	}
	return fmt.Sprintf("list_transform([[%s]], lambda l: [%s][list_position(l, list_min(l))])[1]",
		strings.Join(scores, ", "), p.params(s.Values))
}
