package guard

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/persona-workbench/persona/engine/slice"
)

// cond restricts one dimension: its value is one of Values, or, for a
// multi-valued dimension, its list holds at least one of Values.
type cond struct {
	Dim    string   `json:"dim"`
	Multi  bool     `json:"multi,omitempty"`
	Values []string `json:"values"` // sorted, distinct
}

// Pop is a population: the people who meet every condition. The time
// dimension never restricts it, since every person has a value in every
// period. A Pop is described by the same names and values as the query
// it comes from, never by data.
type Pop struct {
	Conds []cond `json:"conds"` // sorted by Dim, then Multi, then Values
	// Or, when set, restricts further: the people also meet every
	// condition of at least one of its members (the withheld cells of a
	// two-dimension slice, together).
	Or [][]cond `json:"or,omitempty"`
	// Empty is set when two conditions on one dimension exclude each
	// other: nobody can meet both.
	Empty bool `json:"empty,omitempty"`
}

func normal(vs []string) []string {
	vs = slices.Clone(vs)
	slices.Sort(vs)
	return slices.Compact(vs)
}

func condLess(a, b cond) int {
	if c := strings.Compare(a.Dim, b.Dim); c != 0 {
		return c
	}
	if a.Multi != b.Multi {
		if a.Multi {
			return 1
		}
		return -1
	}
	return slices.Compare(a.Values, b.Values)
}

// and returns p restricted further by c.
func (p Pop) and(c cond) Pop {
	c.Values = normal(c.Values)
	out := Pop{Empty: p.Empty}
	for _, d := range p.Conds {
		switch {
		case d.Dim != c.Dim || d.Multi != c.Multi:
		case !c.Multi:
			// One value among both sets: the intersection.
			var both []string
			for _, v := range c.Values {
				if slices.Contains(d.Values, v) {
					both = append(both, v)
				}
			}
			c.Values = both
			if len(both) == 0 {
				out.Empty = true
			}
			continue
		case subsetOf(d.Values, c.Values):
			// Holding one of d's values implies holding one of c's.
			c.Values = d.Values
			continue
		case subsetOf(c.Values, d.Values):
			continue // c implies d: drop d
		}
		out.Conds = append(out.Conds, d)
	}
	out.Conds = append(out.Conds, c)
	slices.SortFunc(out.Conds, condLess)
	return out
}

func subsetOf(a, b []string) bool {
	for _, v := range a {
		if !slices.Contains(b, v) {
			return false
		}
	}
	return true
}

// Key is the population's canonical text: two Pops with the same Key
// select the same people.
func (p Pop) Key() string {
	b, _ := json.Marshal(p) // cannot fail: strings and bools
	return string(b)
}

// disjoint reports whether nobody can be in both a and b, as far as their
// conditions show: one single-valued dimension held to value sets that do
// not meet.
func disjoint(a, b Pop) bool {
	if a.Empty || b.Empty {
		return true
	}
	// An Or only narrows a population: if the conditions outside it
	// exclude each other, so do the populations.
	for _, c := range a.Conds {
		if c.Multi {
			continue
		}
		for _, d := range b.Conds {
			if d.Dim == c.Dim && !d.Multi && !slices.ContainsFunc(c.Values, func(v string) bool { return slices.Contains(d.Values, v) }) {
				return true
			}
		}
	}
	return false
}

// within reports whether everyone in a is in b, as far as their
// conditions show: each of b's conditions is implied by one of a's.
func within(a, b Pop) bool {
	if a.Empty {
		return true
	}
	if len(b.Or) > 0 {
		return false // not worked out: counted instead
	}
	for _, d := range b.Conds {
		if !slices.ContainsFunc(a.Conds, func(c cond) bool {
			return c.Dim == d.Dim && c.Multi == d.Multi && subsetOf(c.Values, d.Values)
		}) {
			return false
		}
	}
	return true
}

// sql returns the condition selecting the population's records.
func (p Pop) sql(pl *plan) string {
	if p.Empty {
		return "false"
	}
	parts := condsSQL(p.Conds, pl)
	if len(p.Or) > 0 {
		alts := make([]string, len(p.Or))
		for i, cs := range p.Or {
			alts[i] = "(" + strings.Join(condsSQL(cs, pl), " AND ") + ")"
		}
		parts = append(parts, "("+strings.Join(alts, " OR ")+")")
	}
	if len(parts) == 0 {
		return "true"
	}
	return "(" + strings.Join(parts, " AND ") + ")"
}

func condsSQL(cs []cond, pl *plan) []string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		col := pl.column(c.Dim)
		if c.Multi {
			parts[i] = fmt.Sprintf("list_has_any(%s, [%s])", col, pl.params(c.Values))
		} else {
			parts[i] = inFilter(col, c.Values, pl)
		}
	}
	return parts
}

// String describes the population for error messages and tests.
func (p Pop) String() string {
	if p.Empty {
		return "nobody"
	}
	if len(p.Conds) == 0 && len(p.Or) == 0 {
		return "everyone"
	}
	parts := make([]string, len(p.Conds))
	for i, c := range p.Conds {
		vs := make([]string, len(c.Values))
		for j, v := range c.Values {
			vs[j] = slice.KeyLabel(v)
		}
		op := "in"
		if c.Multi {
			op = "has any of"
		}
		parts[i] = fmt.Sprintf("%s %s {%s}", c.Dim, op, strings.Join(vs, ","))
	}
	if len(p.Or) > 0 {
		parts = append(parts, fmt.Sprintf("one of %d cells", len(p.Or)))
	}
	return strings.Join(parts, " and ")
}
