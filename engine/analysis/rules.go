package analysis

import (
	"cmp"
	"context"
	"slices"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// RulesOptions describe an association-rule run.
type RulesOptions struct {
	Dim string // a multi-valued dimension: its values are the items
	// MinSupport is the fewest people a rule's pair may rest on; it is
	// never below the licence's k.
	MinSupport    int64
	MinConfidence float64             // 0–1
	Filters       map[string][]string // the population, as in a slice
	// Progress, if set, is told how many of the items' queries are done.
	Progress func(done, total int)
}

// Item is one value of the dimension and the people who hold it.
type Item struct {
	Value    string
	People   int64
	Withheld bool
	Reason   slice.Reason
}

// Rule says that people who hold If also hold Then, more often than
// people in general do when Lift is above 1.
type Rule struct {
	If, Then   string
	People     int64   // who hold both
	Support    float64 // People over the population
	Confidence float64 // People over those who hold If
	Lift       float64 // Confidence over the share who hold Then
}

// Rules is an association-rule run's outcome.
type Rules struct {
	Dim        inventory.Field
	People     int64 // the population
	K          int
	MinSupport int64
	Items      []Item // every value, most held first
	Rules      []Rule // highest lift first
	// Pairs counts the pairs looked at, and Withheld those whose count
	// the privacy guard withheld (their rules are not shown).
	Pairs, Withheld int
	// Lifts holds every shown pair's lift, for a heatmap: If then Then.
	Lifts map[[2]string]float64
}

// AssociationRules finds the rules between the values of a multi-valued
// dimension. Every count is a slice through r: the items' people (with
// the total), then, for each item held by at least MinSupport people,
// the other items among the people who hold it (slice.Query.Holding).
// Support, confidence and lift are ratios of those released counts.
func AssociationRules(ctx context.Context, r Runner, opt RulesOptions) (*Rules, error) {
	r = internal(r, "rules")
	inv := r.Inventory()
	d, ok := inv.Field(opt.Dim)
	if !ok || d.Role != inventory.MultiDimension {
		return nil, bad("%q is not a multi-valued dimension; rules need one, such as the preferred categories", opt.Dim)
	}
	if opt.MinConfidence < 0 || opt.MinConfidence > 1 {
		return nil, bad("minimum confidence %g is not between 0 and 1", opt.MinConfidence)
	}
	people, err := countMeasure(inv)
	if err != nil {
		return nil, err
	}
	out := &Rules{Dim: d, K: r.K(), MinSupport: max(opt.MinSupport, int64(r.K())), Lifts: map[[2]string]float64{}}
	base, err := r.Run(ctx, slice.Query{Dims: []string{d.Name}, Measure: people.Name, Filters: opt.Filters, Totals: true})
	if err != nil {
		return nil, err
	}
	if base.Total == nil || base.Total.Suppressed || base.Total.People == 0 {
		return nil, bad("the population is withheld by the privacy guard: widen the filters")
	}
	out.People = base.Total.People
	held := map[string]int64{}
	for _, row := range base.Rows {
		out.Items = append(out.Items, Item{Value: row.Keys[0], People: row.People, Withheld: row.Suppressed, Reason: row.Reason})
		if !row.Suppressed {
			held[row.Keys[0]] = row.People
		}
	}
	slices.SortStableFunc(out.Items, func(a, b Item) int { return cmp.Compare(b.People, a.People) })

	var antecedents []Item
	for _, it := range out.Items {
		if !it.Withheld && it.People >= out.MinSupport {
			antecedents = append(antecedents, it)
		}
	}
	for i, a := range antecedents {
		if opt.Progress != nil {
			opt.Progress(i, len(antecedents))
		}
		res, err := r.Run(ctx, slice.Query{Dims: []string{d.Name}, Measure: people.Name, Filters: opt.Filters,
			Holding: map[string][]string{d.Name: {a.Value}}})
		if err != nil {
			return nil, err
		}
		for _, row := range res.Rows {
			b := row.Keys[0]
			if b == a.Value {
				continue
			}
			out.Pairs++
			if row.Suppressed {
				out.Withheld++
				continue
			}
			nb, ok := held[b]
			if !ok || nb == 0 || row.People < out.MinSupport {
				continue
			}
			conf := float64(row.People) / float64(a.People)
			lift := conf / (float64(nb) / float64(out.People))
			out.Lifts[[2]string{a.Value, b}] = lift
			if conf < opt.MinConfidence {
				continue
			}
			out.Rules = append(out.Rules, Rule{If: a.Value, Then: b, People: row.People,
				Support: float64(row.People) / float64(out.People), Confidence: conf, Lift: lift})
		}
	}
	if opt.Progress != nil {
		opt.Progress(len(antecedents), len(antecedents))
	}
	slices.SortStableFunc(out.Rules, func(x, y Rule) int {
		if c := cmp.Compare(y.Lift, x.Lift); c != 0 {
			return c
		}
		return cmp.Compare(y.People, x.People)
	})
	return out, nil
}
