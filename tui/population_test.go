package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// fakeType is a kind of person in the fake's synthetic population: their
// values of its dimensions, how many people are of this kind and how
// many of them converted.
type fakeType struct {
	values    map[string][]string
	people    int64
	converted int64
}

// fakePopulation is the fake's people, the same every time: ages lean
// to different categories, and conversion rises with exposure, 美妆 and
// age, so the models and the segments have something to find. 西藏 is
// a handful of people, whose cells the guard withholds.
func fakePopulation() []fakeType {
	ages := []string{"18-24", "25-29", "30-34"}
	ageW := []int64{3, 4, 4}
	provinces := []string{"广东", "江苏", "内蒙古", "西藏"}
	provW := []int64{10, 6, 2, 0}
	lists := [][]string{{}, {"服饰"}, {"美妆"}, {"服饰", "美妆"}}
	listW := [][]int64{{1, 2, 6, 3}, {2, 4, 3, 3}, {3, 6, 1, 2}} // by age
	exposures := []string{"未曝光", "已曝光"}
	expW := []int64{3, 2}
	var out []fakeType
	for ai, age := range ages {
		for pi, prov := range provinces {
			for ci, cats := range lists {
				for ei, exp := range exposures {
					people := 20 * ageW[ai] * provW[pi] * listW[ai][ci] * expW[ei]
					if provW[pi] == 0 {
						people = int64(1 + (ai+ci+ei)%3)
					}
					rate := 0.03 + 0.03*float64(ei) + 0.02*float64(ai)
					if slices.Contains(cats, "美妆") {
						rate += 0.05
					}
					out = append(out, fakeType{
						values: map[string][]string{"age_band": {age}, "province": {prov}, "categories": cats, "exposure": {exp}},
						people: people, converted: int64(float64(people)*rate + 0.5),
					})
				}
			}
		}
	}
	return out
}

// popView is the population as it stands, with the inventory and the
// segmentations derived so far: Derive replaces both rather than
// changing them, so a view can be read without a lock.
type popView struct {
	pop     []fakeType
	derived map[string]slice.Segmentation
	inv     *inventory.Inventory
	k       int64
}

func (f *fakeBackend) view() popView {
	f.mu.Lock()
	defer f.mu.Unlock()
	return popView{pop: f.pop, derived: f.derived, inv: f.inv, k: int64(f.K())}
}

// valuesOf are a kind's values of a dimension: one for a single-valued
// one, a list for a multi-valued one, the segment for a derived one.
func (f popView) valuesOf(p fakeType, dim string) []string {
	if def, ok := f.derived[dim]; ok {
		var vals [][]string
		for _, t := range def.Terms {
			vals = append(vals, p.values[t.Dim])
		}
		return []string{def.Values[def.Segment(vals)]}
	}
	return p.values[dim]
}

// holds reports whether a kind is in the population of filters and
// holding.
func (f popView) holds(p fakeType, filters, holding map[string][]string) bool {
	for dim, want := range filters {
		if !slices.ContainsFunc(f.valuesOf(p, dim), func(v string) bool { return slices.Contains(want, v) }) {
			return false
		}
	}
	for dim, want := range holding {
		for _, v := range want {
			if !slices.Contains(f.valuesOf(p, dim), v) {
				return false
			}
		}
	}
	return true
}

// fromPopulation reports whether a query is answered by counting the
// synthetic population rather than from canned rows: slices by or
// filtered by a derived segment dimension, and the slices a
// classification's leaves are counted with (one cell, or a target
// dimension with its total). The screens the canned rows draw stay as
// they were.
func (f *fakeBackend) fromPopulation(q slice.Query, inv *inventory.Inventory) bool {
	if f.population {
		return true
	}
	for _, d := range q.Dims {
		if strings.HasPrefix(d, slice.SegmentPrefix) {
			return true
		}
	}
	for d := range q.Filters {
		if strings.HasPrefix(d, slice.SegmentPrefix) {
			return true
		}
	}
	if len(q.Dims) == 1 && q.Totals {
		if fd, _ := inv.Field(q.Dims[0]); fd.Role == inventory.Dimension {
			return true
		}
	}
	return len(q.Dims) == 0 && (len(q.Filters) > 0 || len(q.Holding) > 0 || q.Measure == "conversion")
}

type fakeCell struct{ people, converted int64 }

func (c *fakeCell) add(p fakeType) { c.people += p.people; c.converted += p.converted }

// countPopulation answers q by counting the population, withholding
// every cell of fewer than k people, as the guard would.
func (f popView) countPopulation(q slice.Query, res *slice.Result) {
	k := f.k
	row := func(keys []string, c fakeCell) slice.Row {
		if c.people < k {
			return slice.Row{Keys: keys, Suppressed: true, Reason: slice.FewPeople}
		}
		r := slice.Row{Keys: keys, People: c.people, Value: float64(c.people)}
		switch q.Measure {
		case "gmv":
			r.Value *= 123.5
		case "orders":
			r.Value *= 2
		case "conversion":
			r.Value = float64(c.converted) / float64(c.people)
		}
		return r
	}
	var total fakeCell
	cells := map[string]*fakeCell{}
	margins := [2]map[string]*fakeCell{{}, {}}
	var keys [][]string
	for _, p := range f.pop {
		if !f.holds(p, q.Filters, q.Holding) {
			continue
		}
		total.add(p)
		combos := [][]string{{}}
		for d, dim := range q.Dims {
			var next [][]string
			for _, c := range combos {
				for _, v := range f.valuesOf(p, dim) {
					next = append(next, append(slices.Clone(c), v))
				}
			}
			combos = next
			for _, v := range f.valuesOf(p, dim) {
				if margins[d][v] == nil {
					margins[d][v] = &fakeCell{}
				}
				margins[d][v].add(p)
			}
		}
		for _, c := range combos {
			id := strings.Join(c, "\x00")
			if cells[id] == nil {
				cells[id] = &fakeCell{}
				keys = append(keys, c)
			}
			cells[id].add(p)
		}
	}
	if len(q.Dims) == 0 {
		res.Rows = []slice.Row{row(nil, total)}
		return
	}
	inv := f.inv
	rank := func(d int, v string) (int, string) {
		fd, _ := inv.Field(q.Dims[d])
		if i := slices.Index(fd.Order, v); i >= 0 {
			return i, ""
		}
		return len(fd.Order), v
	}
	byOrder := func(d int, a, b string) int {
		ia, sa := rank(d, a)
		ib, sb := rank(d, b)
		return cmp.Or(cmp.Compare(ia, ib), strings.Compare(sa, sb))
	}
	slices.SortFunc(keys, func(a, b []string) int {
		for d := range a {
			if c := byOrder(d, a[d], b[d]); c != 0 {
				return c
			}
		}
		return 0
	})
	for _, c := range keys {
		r := row(c, *cells[strings.Join(c, "\x00")])
		res.Rows = append(res.Rows, r)
		if r.Suppressed {
			res.Suppressed++
		}
	}
	if !q.Totals {
		return
	}
	t := row(nil, total)
	res.Total = &t
	if len(q.Dims) < 2 {
		return
	}
	for d := range 2 {
		var vs []string
		for v := range margins[d] {
			vs = append(vs, v)
		}
		slices.SortFunc(vs, func(a, b string) int { return byOrder(d, a, b) })
		for _, v := range vs {
			res.Margins[d] = append(res.Margins[d], row([]string{v}, *margins[d][v]))
		}
	}
}

// profiles groups the population as slice.ProfileQuery asks.
func (f popView) profiles(q slice.ProfileQuery) ([]slice.Profile, error) {
	inv := f.inv
	for _, d := range q.Dims {
		if fd, ok := inv.Field(d); !ok || fd.Role != inventory.Dimension && fd.Role != inventory.MultiDimension {
			return nil, fmt.Errorf("the fake backend has no dimension %q", d)
		}
	}
	positive := func(p fakeType) int64 { return 0 }
	switch name, vals, ok := strings.Cut(q.Target, "="); {
	case ok:
		want := strings.Split(vals, ",")
		positive = func(p fakeType) int64 {
			if slices.ContainsFunc(f.valuesOf(p, name), func(v string) bool { return slices.Contains(want, v) }) {
				return p.people
			}
			return 0
		}
	case q.Target == "converted":
		positive = func(p fakeType) int64 { return p.converted }
	case q.Target != "":
		return nil, fmt.Errorf("the fake backend has no target %q", q.Target)
	}
	folds := max(1, q.Folds)
	var out []slice.Profile
	index := map[string]int{}
	for _, p := range f.pop {
		if !f.holds(p, q.Filters, nil) {
			continue
		}
		var values [][]string
		for _, d := range q.Dims {
			vs := f.valuesOf(p, d)
			if len(vs) == 0 {
				if fd, _ := inv.Field(d); fd.Role == inventory.Dimension {
					vs = []string{""}
				}
			}
			values = append(values, vs)
		}
		pos := positive(p)
		for fold := range folds {
			// Each fold gets its share, the remainders to the first.
			n := p.people / int64(folds)
			if int64(fold) < p.people%int64(folds) {
				n++
			}
			y := pos / int64(folds)
			if int64(fold) < pos%int64(folds) {
				y++
			}
			if n == 0 {
				continue
			}
			id := fmt.Sprint(values, fold)
			i, ok := index[id]
			if !ok {
				i = len(out)
				index[id] = i
				out = append(out, slice.Profile{Values: values, Fold: fold})
			}
			out[i].People += n
			out[i].Positive += min(y, n)
		}
	}
	return out, nil
}
