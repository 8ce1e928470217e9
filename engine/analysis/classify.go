package analysis

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"unicode"

	"gonum.org/v1/gonum/mat"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// Tree depth: the default and the most allowed. A leaf of a deeper tree
// could need up to 2^depth guarded queries (one per subset of its
// negated conditions), and its rule would no longer read as a sentence.
const (
	DefaultTreeDepth = 4
	MaxTreeDepth     = 6
)

const (
	classifyFolds = 5 // fold 0 is the holdout, folds 1-4 train
	holdoutFold   = 0
	// A dimension with more values than this is left out of the default
	// features: its profiles multiply, and its levels get thin.
	maxFeatureLevels = 12
	// ridge is the L2 penalty on the logistic coefficients, in units of
	// log-likelihood: a standard normal prior on each log odds ratio. It
	// keeps a level that no one (or everyone) in it meets finite, and
	// is negligible against the evidence of a few hundred people.
	ridge = 1.0
)

// ClassifyOptions describe a classification run.
type ClassifyOptions struct {
	// Target is what the models predict: a yes/no field, such as
	// campaign_converted, or a single-valued dimension and some of its
	// values, "dim=v1,v2" (people whose value is one of them).
	Target string `json:"target"`
	// Features are the dimensions the models may use. Empty: every
	// single-valued dimension of at most 12 values (not the target's,
	// not province-level places, not derived segments) and every
	// multi-valued dimension.
	Features []string `json:"features"`
	// MaxDepth is the tree's greatest depth: 0 means 4, at most 6.
	MaxDepth int `json:"max_depth"`
	// MinLeaf is the fewest training people in a leaf: 0 means 1% of
	// them; never below the licence's k.
	MinLeaf int64               `json:"min_leaf"`
	Filters map[string][]string `json:"where,omitempty"` // the population, as in a slice
	// Progress, if set, is told how many of the leaves' guarded queries
	// are done.
	Progress func(done, total int) `json:"-"`
}

// Target is what a classification predicts.
type Target struct {
	Spec   string          `json:"spec"`             // as given: a field, or "dim=v1,v2"
	Field  inventory.Field `json:"field"`            // the yes/no field or the dimension
	Values []string        `json:"values,omitempty"` // the dimension's values that count as yes
	Label  inventory.Label `json:"label"`            // in words
}

// Condition is one part of a leaf's rule.
type Condition struct {
	Dim string `json:"dim"`
	// Multi is false for a single-valued dimension: the person's value
	// is one of Values (slice.Missing for a missing one). For a
	// multi-valued one, Values holds one value, which the person's list
	// holds, or with Not does not hold.
	Multi  bool     `json:"multi,omitempty"`
	Not    bool     `json:"not,omitempty"`
	Values []string `json:"values"`
}

// Leaf is one leaf of the tree: the people who meet every condition.
// Prediction, People and Rate are valid only when the leaf is not
// Withheld.
type Leaf struct {
	Conditions []Condition     `json:"conditions"` // none: everyone
	Rule       inventory.Label `json:"rule"`       // the conditions in words
	// Prediction is the share of the leaf's training people who meet
	// the target: what the tree predicts for the leaf.
	Prediction float64 `json:"prediction"`
	// People and Rate are released by the privacy guard, over all the
	// data (training and holdout): the leaf's people and the share of
	// them who meet the target.
	People   int64        `json:"people"`
	Rate     float64      `json:"rate"`
	Withheld bool         `json:"withheld,omitempty"`
	Reason   slice.Reason `json:"-"`
}

// Tree is the fitted decision tree.
type Tree struct {
	Leaves   []Leaf `json:"leaves"` // highest prediction first
	Depth    int    `json:"depth"`  // as grown, at most MaxDepth
	MaxDepth int    `json:"max_depth"`
	MinLeaf  int64  `json:"min_leaf"` // training people
}

// Coefficient is one term of the logistic model.
type Coefficient struct {
	Feature string `json:"feature"`
	Level   string `json:"level"`
	// Reference is, for a single-valued feature, the level Level is
	// compared with: the most common one, into which levels of fewer
	// than k training people are pooled. A multi-valued feature's
	// coefficient (Multi) compares holding Level with not holding it.
	Reference   string  `json:"reference,omitempty"`
	Multi       bool    `json:"multi,omitempty"`
	Coefficient float64 `json:"coefficient"` // on the log odds
	OddsRatio   float64 `json:"odds_ratio"`
}

// Logistic is the fitted logistic regression.
type Logistic struct {
	Intercept    float64       `json:"intercept"`
	Coefficients []Coefficient `json:"coefficients"` // largest effect (|coefficient|) first
	L2           float64       `json:"l2"`           // the penalty on the coefficients
}

// Metrics are a model's figures on the holdout, over all of it.
type Metrics struct {
	Accuracy float64 `json:"accuracy"` // predicting yes at a score of 0.5 or more
	AUC      float64 `json:"auc"`      // ties count half
}

// Importance is how much each model relies on a feature.
type Importance struct {
	Feature string `json:"feature"`
	// Tree is the feature's share of the tree's weighted Gini decrease
	// (the shares sum to 1, or all are 0 when the tree has no split).
	Tree float64 `json:"tree"`
	// Logistic is the holdout AUC lost, raw (0–1), when the feature's
	// terms are held at their training mean.
	Logistic float64 `json:"logistic"`
}

// Classification is a classification run's outcome.
type Classification struct {
	Options  ClassifyOptions   `json:"options"` // with the defaults filled in
	Target   Target            `json:"target"`
	K        int               `json:"k"`
	Features []inventory.Field `json:"features"` // the features the models used
	// People is the population, released by the guard; Train and Test
	// its people in the training folds and in the holdout.
	People int64 `json:"people"`
	Train  int64 `json:"train"`
	Test   int64 `json:"test"`
	// BaseRate is the share of the holdout who meet the target;
	// Majority the holdout accuracy of always predicting the training
	// majority answer.
	BaseRate        float64      `json:"base_rate"`
	Majority        float64      `json:"majority_accuracy"`
	Tree            Tree         `json:"tree"`
	TreeMetrics     Metrics      `json:"tree_metrics"`
	Logistic        Logistic     `json:"logistic"`
	LogisticMetrics Metrics      `json:"logistic_metrics"`
	Importance      []Importance `json:"importance"` // most important in the tree first
}

// Classify predicts a yes/no target from the features with a decision
// tree and a logistic regression, and tests both on a holdout.
//
// Both models are fitted on grouped profiles (one Runner.Profiles call:
// folds 1-4 train, fold 0 is the holdout), which are never shown. What is
// shown is released by the guard — each leaf's people and rate are
// slices under the leaf's conditions — or describes the whole holdout (an
// accuracy, an AUC, a feature's importance) or a level held by at least k
// training people (a coefficient).
func Classify(ctx context.Context, r Runner, opt ClassifyOptions) (*Classification, error) {
	r = internal(r, "classify")
	inv := r.Inventory()
	k := r.K()
	tgt, err := classifyTarget(inv, opt.Target)
	if err != nil {
		return nil, err
	}
	feats, err := classifyFeatures(inv, opt.Features, tgt)
	if err != nil {
		return nil, err
	}
	switch {
	case opt.MaxDepth == 0:
		opt.MaxDepth = DefaultTreeDepth
	case opt.MaxDepth < 1 || opt.MaxDepth > MaxTreeDepth:
		return nil, bad("tree depth %d is not between 1 and %d", opt.MaxDepth, MaxTreeDepth)
	}
	if opt.MinLeaf < 0 {
		return nil, bad("minimum leaf size %d is negative", opt.MinLeaf)
	}
	rel, err := newReleaser(r, tgt, opt.Filters)
	if err != nil {
		return nil, err
	}

	// The population, through the guard: the root leaf's query.
	pop, err := rel.run(ctx, rel.query(nil, nil))
	if err != nil {
		return nil, err
	}
	switch {
	case !pop.counted:
		return nil, bad("the population is withheld by the privacy guard (%s): widen the filters", pop.reason.Text("en", k))
	case pop.people == 0:
		return nil, bad("no one is in the population: widen the filters")
	}
	if tgt.Field.Role == inventory.Dimension {
		for _, v := range tgt.Values {
			if !slices.Contains(pop.keys, v) {
				return nil, bad("target value %q of %s is not in the data under these filters; it has %s", v, tgt.Field.Name, strings.Join(pop.keys, ", "))
			}
		}
	}

	names := make([]string, len(feats))
	for i, f := range feats {
		names[i] = f.field.Name
	}
	profiles, err := r.Profiles(ctx, slice.ProfileQuery{Dims: names, Target: tgt.Spec, Filters: opt.Filters, Folds: classifyFolds, Sample: ModelSample})
	if err != nil {
		return nil, err
	}
	// Each single-valued feature's values over every record of the
	// population, not only the sampled ones: the leaves' conditions
	// must cover everyone, or the population less the leaves would be
	// the people holding a value the sample missed.
	domains := make([][]string, len(feats))
	for i, f := range feats {
		if f.multi {
			continue
		}
		all, err := r.Profiles(ctx, slice.ProfileQuery{Dims: []string{f.field.Name}, Filters: opt.Filters})
		if err != nil {
			return nil, err
		}
		for _, p := range all {
			v := slice.Missing
			if len(p.Values[0]) > 0 {
				v = p.Values[0][0]
			}
			domains[i] = append(domains[i], v)
		}
	}
	d := newDesign(feats, domains, profiles)
	d.dropWide()
	if len(d.feats) == 0 {
		return nil, bad("no feature is left to classify by: name some with at most %d values", maxFeatureLevels)
	}

	var trainPos, testPos float64
	var train, test int64
	for i := range d.people {
		if d.test[i] {
			test += int64(d.people[i])
			testPos += d.pos[i]
		} else {
			train += int64(d.people[i])
			trainPos += d.pos[i]
		}
	}
	kf := float64(k)
	if trainPos < kf || float64(train)-trainPos < kf || testPos < kf || float64(test)-testPos < kf {
		return nil, bad("fewer than %d people of the training part or of the holdout meet the target %s, or fewer than %d do not: too few to fit and test a model; widen the filters",
			k, tgt.Spec, k)
	}
	if opt.MinLeaf == 0 {
		opt.MinLeaf = train / 100
	}
	opt.MinLeaf = max(opt.MinLeaf, int64(k))

	opt.Features = nil
	for _, f := range d.feats {
		opt.Features = append(opt.Features, f.field.Name)
	}
	out := &Classification{Options: opt, Target: tgt, K: k, People: pop.people, Train: train, Test: test}
	for _, f := range d.feats {
		out.Features = append(out.Features, f.field)
	}
	out.BaseRate = testPos / float64(test)
	out.Majority = out.BaseRate
	if trainPos < float64(train)/2 {
		out.Majority = 1 - out.BaseRate
	}

	// The tree.
	g := &grower{d: d, minLeaf: float64(opt.MinLeaf), maxDepth: opt.MaxDepth, gain: make([]float64, len(d.feats))}
	trainRows := make([]int32, 0, len(d.people))
	testRows := make([]int32, 0, len(d.people)/4)
	for i := range d.people {
		if d.test[i] {
			testRows = append(testRows, int32(i))
		} else {
			trainRows = append(trainRows, int32(i))
		}
	}
	root, err := g.grow(ctx, trainRows, 0, d.fullDomain(), nil)
	if err != nil {
		return nil, err
	}
	scores := make([]float64, len(testRows))
	for i, row := range testRows {
		scores[i] = root.predict(d, row)
	}
	out.TreeMetrics = d.metrics(testRows, scores, 0.5)

	// The logistic regression.
	lg, err := fitLogistic(ctx, d, trainRows, k)
	if err != nil {
		return nil, err
	}
	for i, row := range testRows {
		scores[i] = lg.eta(d, row)
	}
	out.LogisticMetrics = d.metrics(testRows, scores, 0) // log odds
	out.Logistic = lg.report(d)
	drops := lg.importance(d, trainRows, testRows, out.LogisticMetrics.AUC)

	var total float64
	for _, v := range g.gain {
		total += v
	}
	for i, f := range d.feats {
		imp := Importance{Feature: f.field.Name, Logistic: drops[i]}
		if total > 0 {
			imp.Tree = g.gain[i] / total
		}
		out.Importance = append(out.Importance, imp)
	}
	slices.SortStableFunc(out.Importance, func(a, b Importance) int {
		if c := cmp.Compare(b.Tree, a.Tree); c != 0 {
			return c
		}
		return cmp.Compare(b.Logistic, a.Logistic)
	})

	// The leaves, through the guard.
	leaves := g.leaves
	slices.SortStableFunc(leaves, func(a, b *leafNode) int { return cmp.Compare(b.rate(), a.rate()) })
	out.Tree = Tree{Depth: g.depth, MaxDepth: opt.MaxDepth, MinLeaf: opt.MinLeaf}
	if err := covers(d, leaves); err != nil {
		return nil, err
	}
	if err := rel.release(ctx, d, leaves, opt.MinLeaf, opt.Progress); err != nil {
		return nil, err
	}
	for _, l := range leaves {
		out.Tree.Leaves = append(out.Tree.Leaves, l.leaf)
	}
	return out, nil
}

// classifyTarget checks the target and describes it.
func classifyTarget(inv *inventory.Inventory, spec string) (Target, error) {
	spec = strings.TrimSpace(spec)
	var yesNo []string
	for _, f := range inv.Fields {
		if f.Role == inventory.Measure && f.Type == "BOOLEAN" {
			yesNo = append(yesNo, f.Name)
		}
	}
	hint := "a yes/no field (" + strings.Join(yesNo, ", ") + ") or DIM=VALUE,VALUE of a single-valued dimension"
	if spec == "" {
		return Target{}, bad("no target: name %s", hint)
	}
	if name, vals, ok := strings.Cut(spec, "="); ok {
		f, known := inv.Field(name)
		if !known || f.Role != inventory.Dimension {
			return Target{}, bad("target %q: %q is not a single-valued dimension; want %s", spec, name, hint)
		}
		var values []string
		for _, v := range strings.Split(vals, ",") {
			if v = strings.TrimSpace(v); v != "" && !slices.Contains(values, v) {
				values = append(values, v)
			}
		}
		if len(values) == 0 {
			return Target{}, bad("target %q lists no value of %s", spec, name)
		}
		if f.Ordinal() {
			for _, v := range values {
				if !slices.Contains(f.Order, v) {
					return Target{}, bad("target %q: %q is not a value of %s (%s)", spec, v, name, strings.Join(f.Order, ", "))
				}
			}
			if len(values) == len(f.Order) {
				return Target{}, bad("target %q holds every value of %s: everyone would meet it", spec, name)
			}
		}
		t := Target{Spec: name + "=" + strings.Join(values, ","), Field: f, Values: values}
		t.Label = inventory.Label{ZH: singleWords("zh", f, values, nil), EN: singleWords("en", f, values, nil)}
		return t, nil
	}
	f, known := inv.Field(spec)
	if !known || f.Role != inventory.Measure || f.Type != "BOOLEAN" {
		return Target{}, bad("target %q is not yes/no; want %s", spec, hint)
	}
	return Target{Spec: spec, Field: f, Label: f.Label}, nil
}

// feature is a dimension a model uses, with its values.
type feature struct {
	field  inventory.Field
	multi  bool
	auto   bool // chosen by default, not named
	values []string
	// all, for a single-valued feature: its values over every record of
	// the population (values holds them too).
	all []string
}

func classifyFeatures(inv *inventory.Inventory, names []string, tgt Target) ([]*feature, error) {
	var out []*feature
	if len(names) == 0 {
		for _, f := range inv.Fields {
			switch {
			case f.Role == inventory.MultiDimension:
			case f.Role != inventory.Dimension, f.Name == tgt.Field.Name,
				f.Geo == "province", f.Geo == "province_code",
				strings.HasPrefix(f.Name, slice.SegmentPrefix), len(f.Order) > maxFeatureLevels:
				continue
			}
			out = append(out, &feature{field: f, multi: f.Role == inventory.MultiDimension, auto: true})
		}
		if len(out) == 0 {
			return nil, bad("the inventory has no dimension to classify by")
		}
		return out, nil
	}
	var dims []string
	for _, f := range inv.Fields {
		if (f.Role == inventory.Dimension || f.Role == inventory.MultiDimension) && f.Name != tgt.Field.Name {
			dims = append(dims, f.Name)
		}
	}
	for _, name := range names {
		f, ok := inv.Field(name)
		switch {
		case ok && f.Name == tgt.Field.Name:
			return nil, bad("feature %q is the target's own dimension", name)
		case !ok || f.Role != inventory.Dimension && f.Role != inventory.MultiDimension:
			return nil, bad("feature %q is not a dimension; want some of %s", name, strings.Join(dims, ", "))
		case slices.ContainsFunc(out, func(x *feature) bool { return x.field.Name == name }):
			return nil, bad("feature %q is named twice", name)
		}
		out = append(out, &feature{field: f, multi: f.Role == inventory.MultiDimension})
	}
	return out, nil
}

// design holds the profiles as the models read them: one row per
// profile, columns per feature.
type design struct {
	feats       []*feature
	people, pos []float64
	test        []bool
	level       [][]int32  // single-valued feature i: each row's level
	words       []int      // multi-valued feature i: words of its bit set
	held        [][]uint64 // multi-valued feature i: row r's set at [r*words[i]:]
}

// newDesign reads the profiles; domains holds each single-valued
// feature's values over the whole population, which become its levels
// with those the profiles show.
func newDesign(feats []*feature, domains [][]string, profiles []slice.Profile) *design {
	n := len(profiles)
	d := &design{feats: feats, people: make([]float64, n), pos: make([]float64, n), test: make([]bool, n),
		level: make([][]int32, len(feats)), words: make([]int, len(feats)), held: make([][]uint64, len(feats))}
	// A value is numbered when first seen, then renumbered in the
	// feature's order. Every value of the population counts, in
	// training, in the holdout or left out of the sample, so that the
	// leaves' conditions cover the whole population: a level no training
	// row has goes right at every split (see predict).
	first := make([]map[string]int32, len(feats))
	names := make([][]string, len(feats))
	lists := make([][]int32, len(feats)) // multi-valued: the rows' values, each list ended by −1
	number := func(i int, v string) int32 {
		j, ok := first[i][v]
		if !ok {
			j = int32(len(names[i]))
			first[i][v] = j
			names[i] = append(names[i], v)
		}
		return j
	}
	for i, f := range feats {
		first[i] = map[string]int32{}
		if !f.multi {
			d.level[i] = make([]int32, n)
		}
		if i < len(domains) {
			f.all = domains[i]
			for _, v := range domains[i] {
				number(i, v)
			}
		}
	}
	for r, p := range profiles {
		d.people[r], d.pos[r], d.test[r] = float64(p.People), float64(p.Positive), p.Fold == holdoutFold
		for i, f := range feats {
			if f.multi {
				for _, v := range p.Values[i] {
					lists[i] = append(lists[i], number(i, v))
				}
				lists[i] = append(lists[i], -1)
				continue
			}
			v := slice.Missing
			if len(p.Values[i]) > 0 {
				v = p.Values[i][0]
			}
			d.level[i][r] = number(i, v)
		}
	}
	for i, f := range feats {
		rank := func(v string) int {
			if j := slices.Index(f.field.Order, v); j >= 0 {
				return j
			}
			if v == slice.Missing {
				return len(f.field.Order) + 1 // missing last
			}
			return len(f.field.Order)
		}
		f.values = slices.Clone(names[i])
		slices.SortFunc(f.values, func(a, b string) int {
			if c := cmp.Compare(rank(a), rank(b)); c != 0 {
				return c
			}
			return strings.Compare(a, b)
		})
		renumber := make([]int32, len(names[i]))
		for j, v := range f.values {
			renumber[first[i][v]] = int32(j)
		}
		if !f.multi {
			for r, j := range d.level[i] {
				d.level[i][r] = renumber[j]
			}
			continue
		}
		d.words[i] = (len(f.values) + 63) / 64
		d.held[i] = make([]uint64, n*d.words[i])
		r := 0
		for _, j := range lists[i] {
			if j < 0 {
				r++
				continue
			}
			j = renumber[j]
			d.held[i][r*d.words[i]+int(j/64)] |= 1 << (j % 64)
		}
	}
	return d
}

// dropWide leaves out default features with too many values to be of
// use (the inventory says how many only for ordinal dimensions).
func (d *design) dropWide() {
	keep := 0
	for i, f := range d.feats {
		if f.auto && !f.multi && len(f.values) > maxFeatureLevels {
			continue
		}
		d.feats[keep], d.level[keep], d.words[keep], d.held[keep] = f, d.level[i], d.words[i], d.held[i]
		keep++
	}
	d.feats, d.level, d.words, d.held = d.feats[:keep], d.level[:keep], d.words[:keep], d.held[:keep]
}

func (d *design) holds(i int, row int32, v int32) bool {
	return d.held[i][int(row)*d.words[i]+int(v/64)]&(1<<(v%64)) != 0
}

// fullDomain is every value of every single-valued feature.
func (d *design) fullDomain() [][]bool {
	out := make([][]bool, len(d.feats))
	for i, f := range d.feats {
		if !f.multi {
			out[i] = make([]bool, len(f.values))
			for j := range out[i] {
				out[i][j] = true
			}
		}
	}
	return out
}

// metrics scores the holdout rows: accuracy, saying yes at a score of
// thr or more, and the exact weighted AUC.
func (d *design) metrics(rows []int32, scores []float64, thr float64) Metrics {
	var right, all float64
	for i, r := range rows {
		all += d.people[r]
		if scores[i] >= thr {
			right += d.pos[r]
		} else {
			right += d.people[r] - d.pos[r]
		}
	}
	return Metrics{Accuracy: right / all, AUC: auc(d, rows, scores)}
}

// auc is the probability that a random person meeting the target scores
// above a random one who does not, ties counting half: the profiles in
// score order, each tie group's positives beating the negatives below it.
func auc(d *design, rows []int32, scores []float64) float64 {
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
	var below, sum, pos, neg float64
	for i := 0; i < len(idx); {
		var p, n float64
		j := i
		for ; j < len(idx) && scores[idx[j]] == scores[idx[i]]; j++ {
			r := rows[idx[j]]
			p += d.pos[r]
			n += d.people[r] - d.pos[r]
		}
		sum += p * (below + n/2)
		below += n
		pos += p
		neg += n
		i = j
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return sum / (pos * neg)
}

// The tree is CART with Gini impurity, written here: gonum has no
// decision trees. Splits are binary: a single-valued feature's levels,
// ordered by the node's training rate, are cut into a low and a high set
// (for a yes/no target the best of all two-set partitions is among
// those cuts); a multi-valued feature splits the holders of one value
// from the others.

type treeNode struct {
	feat  int    // the split's feature; -1 for a leaf
	left  []bool // single-valued: the levels that go left
	value int32  // multi-valued: the holders go left
	kids  [2]*treeNode
	leaf  *leafNode
}

type leafNode struct {
	w, p   float64  // training people, of whom meet the target
	pos    int64    // released: the leaf's people who meet the target
	domain [][]bool // single-valued feature i: the levels left on the path
	path   []step
	leaf   Leaf
}

func (l *leafNode) rate() float64 { return l.p / l.w }

// step is a condition on the path to a leaf: a single-valued feature (its
// levels are the leaf's domain; the step only places it in the rule), or
// holding a value of a multi-valued one or not.
type step struct {
	feat  int
	multi bool
	value int32
	holds bool
}

type grower struct {
	d        *design
	minLeaf  float64
	maxDepth int
	depth    int
	gain     []float64 // each feature's weighted Gini decrease
	leaves   []*leafNode
}

// impurity is the weighted Gini impurity of w people of whom p meet the
// target: w·2q(1−q), q = p/w.
func impurity(w, p float64) float64 {
	if w <= 0 {
		return 0
	}
	return 2 * p * (w - p) / w
}

type split struct {
	feat  int
	gain  float64
	left  []bool
	value int32
}

func (g *grower) grow(ctx context.Context, rows []int32, depth int, domain [][]bool, path []step) (*treeNode, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d := g.d
	var w, p float64
	for _, r := range rows {
		w += d.people[r]
		p += d.pos[r]
	}
	best := split{feat: -1}
	if depth < g.maxDepth && w >= 2*g.minLeaf {
		best = g.best(rows, w, p)
	}
	if best.feat < 0 {
		g.depth = max(g.depth, depth)
		l := &leafNode{w: w, p: p, domain: domain, path: path}
		g.leaves = append(g.leaves, l)
		return &treeNode{feat: -1, leaf: l}, nil
	}
	g.gain[best.feat] += best.gain
	n := &treeNode{feat: best.feat, left: best.left, value: best.value}
	var parts [2][]int32
	for _, r := range rows {
		side := 1
		if n.goesLeft(d, r) {
			side = 0
		}
		parts[side] = append(parts[side], r)
	}
	f := d.feats[best.feat]
	for side := range 2 {
		sub, subPath := domain, slices.Clip(path)
		if f.multi {
			subPath = append(subPath, step{feat: best.feat, multi: true, value: best.value, holds: side == 0})
		} else {
			sub = slices.Clone(domain)
			set := make([]bool, len(f.values))
			for j := range set {
				set[j] = domain[best.feat][j] && best.left[j] == (side == 0)
			}
			sub[best.feat] = set
			if !slices.ContainsFunc(path, func(s step) bool { return s.feat == best.feat }) {
				subPath = append(subPath, step{feat: best.feat})
			}
		}
		kid, err := g.grow(ctx, parts[side], depth+1, sub, subPath)
		if err != nil {
			return nil, err
		}
		n.kids[side] = kid
	}
	return n, nil
}

// best finds the split of most impurity decrease that leaves at least
// minLeaf training people on each side.
func (g *grower) best(rows []int32, w, p float64) split {
	d := g.d
	parent := impurity(w, p)
	best := split{feat: -1}
	consider := func(s split, wl, pl float64) {
		if wl < g.minLeaf || w-wl < g.minLeaf {
			return
		}
		s.gain = parent - impurity(wl, pl) - impurity(w-wl, p-pl)
		if s.gain > best.gain+1e-9*parent {
			best = s
		}
	}
	for i, f := range d.feats {
		lw, lp := make([]float64, len(f.values)), make([]float64, len(f.values))
		if f.multi {
			words := d.words[i]
			for _, r := range rows {
				for j, x := range d.held[i][int(r)*words : int(r+1)*words] {
					for x != 0 {
						v := j*64 + bits.TrailingZeros64(x)
						x &= x - 1
						lw[v] += d.people[r]
						lp[v] += d.pos[r]
					}
				}
			}
			for v := range f.values {
				consider(split{feat: i, value: int32(v)}, lw[v], lp[v])
			}
			continue
		}
		for _, r := range rows {
			lw[d.level[i][r]] += d.people[r]
			lp[d.level[i][r]] += d.pos[r]
		}
		var order []int
		for v := range f.values {
			if lw[v] > 0 {
				order = append(order, v)
			}
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(lp[a]/lw[a], lp[b]/lw[b]) })
		var wl, pl float64
		for cut := 0; cut < len(order)-1; cut++ {
			wl += lw[order[cut]]
			pl += lp[order[cut]]
			if wl < g.minLeaf {
				continue
			}
			left := make([]bool, len(f.values))
			for _, v := range order[:cut+1] {
				left[v] = true
			}
			consider(split{feat: i, left: left}, wl, pl)
		}
	}
	return best
}

func (n *treeNode) goesLeft(d *design, r int32) bool {
	if d.feats[n.feat].multi {
		return d.holds(n.feat, r, n.value)
	}
	return n.left[d.level[n.feat][r]]
}

// predict is the training rate of the leaf row r falls in. A level the
// node's training people do not have goes right, as the leaves'
// conditions say.
func (n *treeNode) predict(d *design, r int32) float64 {
	for n.feat >= 0 {
		if n.goesLeft(d, r) {
			n = n.kids[0]
		} else {
			n = n.kids[1]
		}
	}
	return n.leaf.rate()
}

// logit is the fitted logistic model: a column per level kept.
type logit struct {
	col  [][]int32 // feature i, level or value j: its column, 0 for none (the reference, or pooled into it)
	ref  []int32   // single-valued feature i: the reference level
	beta []float64 // beta[0] is the intercept
}

func (lg *logit) active(d *design, r int32, buf []int32) []int32 {
	buf = buf[:0]
	for i, f := range d.feats {
		if f.multi {
			words := d.words[i]
			for j, x := range d.held[i][int(r)*words : int(r+1)*words] {
				for x != 0 {
					v := j*64 + bits.TrailingZeros64(x)
					x &= x - 1
					if c := lg.col[i][v]; c > 0 {
						buf = append(buf, c)
					}
				}
			}
		} else if c := lg.col[i][d.level[i][r]]; c > 0 {
			buf = append(buf, c)
		}
	}
	return buf
}

// eta is row r's log odds.
func (lg *logit) eta(d *design, r int32) float64 {
	var buf [64]int32
	e := lg.beta[0]
	for _, c := range lg.active(d, r, buf[:0]) {
		e += lg.beta[c]
	}
	return e
}

// fitLogistic fits the model on the training rows by Newton's method
// (iteratively reweighted least squares) on the penalised binomial
// log-likelihood, each profile weighted by its people. A single-valued
// feature is coded against its most common level, with its levels of
// fewer than k training people pooled into that one; a value of a
// multi-valued feature becomes an indicator when both its holders and
// the others number at least k. So no coefficient describes fewer than k
// people.
func fitLogistic(ctx context.Context, d *design, rows []int32, k int) (*logit, error) {
	lg := &logit{col: make([][]int32, len(d.feats)), ref: make([]int32, len(d.feats))}
	var total, yes float64
	for _, r := range rows {
		total += d.people[r]
		yes += d.pos[r]
	}
	cols := int32(0)
	for i, f := range d.feats {
		w := make([]float64, len(f.values))
		for _, r := range rows {
			if f.multi {
				for v := range f.values {
					if d.holds(i, r, int32(v)) {
						w[v] += d.people[r]
					}
				}
			} else {
				w[d.level[i][r]] += d.people[r]
			}
		}
		lg.col[i] = make([]int32, len(f.values))
		if !f.multi {
			lg.ref[i] = int32(slices.Index(w, slices.Max(w)))
		}
		for v := range f.values {
			keep := w[v] >= float64(k)
			if f.multi {
				keep = keep && total-w[v] >= float64(k)
			} else if int32(v) == lg.ref[i] {
				keep = false
			}
			if keep {
				cols++
				lg.col[i][v] = cols
			}
		}
	}
	p := int(cols) + 1
	beta := make([]float64, p)
	beta[0] = math.Log(yes / (total - yes))

	penalised := func(b []float64) float64 {
		var ll float64
		var buf [64]int32
		for _, r := range rows {
			e := b[0]
			for _, c := range lg.active(d, r, buf[:0]) {
				e += b[c]
			}
			ll += d.pos[r]*e - d.people[r]*softplus(e)
		}
		for _, x := range b[1:] {
			ll -= ridge / 2 * x * x
		}
		return ll
	}
	h := make([]float64, p*p)
	grad := make([]float64, p)
	ll := penalised(beta)
	buf := make([]int32, 0, 64)
	for iter := 0; iter < 50; iter++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		clear(h)
		clear(grad)
		for j := 1; j < p; j++ {
			h[j*p+j] = ridge
			grad[j] = -ridge * beta[j]
		}
		for _, r := range rows {
			buf = append(lg.active(d, r, buf[:0]), 0)
			e := beta[0]
			for _, c := range buf[:len(buf)-1] {
				e += beta[c]
			}
			mu := sigmoid(e)
			wt := d.people[r] * mu * (1 - mu)
			res := d.pos[r] - d.people[r]*mu
			for a, ca := range buf {
				grad[ca] += res
				for _, cb := range buf[a:] {
					lo, hi := min(ca, cb), max(ca, cb)
					h[int(lo)*p+int(hi)] += wt
				}
			}
		}
		var chol mat.Cholesky
		if !chol.Factorize(mat.NewSymDense(p, h)) {
			return nil, fmt.Errorf("logistic regression: the information matrix is not positive definite")
		}
		var dx mat.VecDense
		if err := chol.SolveVecTo(&dx, mat.NewVecDense(p, grad)); err != nil {
			return nil, fmt.Errorf("logistic regression: %w", err)
		}
		// Newton's step, halved until the penalised likelihood does not
		// fall (it is concave, so this rarely halves at all).
		next := make([]float64, p)
		var moved float64
		for t := 1.0; t > 1e-4; t /= 2 {
			moved = 0
			for j := range next {
				next[j] = beta[j] + t*dx.AtVec(j)
				moved = max(moved, math.Abs(t*dx.AtVec(j)))
			}
			if nll := penalised(next); nll >= ll-1e-9*math.Abs(ll) {
				ll = nll
				break
			}
		}
		beta = next
		if moved < 1e-8 {
			break
		}
	}
	lg.beta = beta
	return lg, nil
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// softplus is log(1 + e^x), without overflow.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

func (lg *logit) report(d *design) Logistic {
	out := Logistic{Intercept: lg.beta[0], L2: ridge, Coefficients: []Coefficient{}}
	for i, f := range d.feats {
		for v, c := range lg.col[i] {
			if c == 0 {
				continue
			}
			x := Coefficient{Feature: f.field.Name, Level: f.values[v], Multi: f.multi, Coefficient: lg.beta[c], OddsRatio: math.Exp(lg.beta[c])}
			if !f.multi {
				x.Reference = f.values[lg.ref[i]]
			}
			out.Coefficients = append(out.Coefficients, x)
		}
	}
	slices.SortStableFunc(out.Coefficients, func(a, b Coefficient) int {
		return cmp.Compare(math.Abs(b.Coefficient), math.Abs(a.Coefficient))
	})
	return out
}

// importance is, per feature, the holdout AUC lost when the feature's
// part of the log odds is replaced by its training mean.
func (lg *logit) importance(d *design, train, test []int32, full float64) []float64 {
	part := func(i int, r int32) float64 {
		var s float64
		if d.feats[i].multi {
			for v, c := range lg.col[i] {
				if c > 0 && d.holds(i, r, int32(v)) {
					s += lg.beta[c]
				}
			}
		} else if c := lg.col[i][d.level[i][r]]; c > 0 {
			s = lg.beta[c]
		}
		return s
	}
	eta := make([]float64, len(test))
	for j, r := range test {
		eta[j] = lg.eta(d, r)
	}
	out := make([]float64, len(d.feats))
	scores := make([]float64, len(test))
	for i := range d.feats {
		var sum, w float64
		for _, r := range train {
			sum += d.people[r] * part(i, r)
			w += d.people[r]
		}
		mean := sum / w
		for j, r := range test {
			scores[j] = eta[j] - part(i, r) + mean
		}
		out[i] = full - auc(d, test, scores)
	}
	return out
}

// releaser counts the leaves through the guard.
type releaser struct {
	r       Runner
	tgt     Target
	measure string // the yes/no field's rate, or the head count
	filters map[string][]string
	done    map[string]term
}

// term is what one guarded slice gives: the people and those meeting the
// target, or why they are withheld.
type term struct {
	people, pos int64
	counted     bool // people is released (pos may still be withheld)
	withheld    bool
	// reason withholds the term's own people or rate; part a part of
	// them (one of the target's values).
	reason, part slice.Reason
	keys         []string // a dimension target: the values in the result
}

func newReleaser(r Runner, tgt Target, filters map[string][]string) (*releaser, error) {
	rel := &releaser{r: r, tgt: tgt, filters: filters, done: map[string]term{}}
	inv := r.Inventory()
	if tgt.Field.Role == inventory.Dimension {
		m, err := countMeasure(inv)
		if err != nil {
			return nil, err
		}
		rel.measure = m.Name
		return rel, nil
	}
	for _, m := range inv.Measures {
		if m.Kind == inventory.Share && m.Field == tgt.Field.Name {
			rel.measure = m.Name
			return rel, nil
		}
	}
	return nil, bad("the inventory has no rate measure of %s, which the tree's leaves are released with", tgt.Field.Name)
}

// query is the slice of the people with these single-valued values,
// holding these values of multi-valued dimensions.
func (rel *releaser) query(single, holding map[string][]string) slice.Query {
	filters := make(map[string][]string, len(rel.filters)+len(single))
	for k, v := range rel.filters {
		filters[k] = v
	}
	for k, v := range single {
		filters[k] = v
	}
	q := slice.Query{Measure: rel.measure, Filters: filters}
	if len(holding) > 0 {
		q.Holding = holding
	}
	if rel.tgt.Field.Role == inventory.Dimension {
		q.Dims, q.Totals = []string{rel.tgt.Field.Name}, true
	}
	return q
}

func queryKey(q slice.Query) string { return fmt.Sprint(q.Filters, q.Holding) } // fmt sorts map keys

func (rel *releaser) run(ctx context.Context, q slice.Query) (term, error) {
	key := queryKey(q)
	if t, ok := rel.done[key]; ok {
		return t, nil
	}
	res, err := rel.r.Run(ctx, q)
	if err != nil {
		return term{}, err
	}
	var t term
	withhold := func(r slice.Reason) { t.withheld, t.reason = true, max(t.reason, r) }
	if res.Withheld != slice.Shown {
		withhold(res.Withheld)
	}
	if rel.tgt.Field.Role == inventory.Dimension {
		t.counted = res.Total == nil && len(res.Rows) == 0 // no one
		if res.Total != nil {
			if res.Total.Suppressed {
				withhold(res.Total.Reason)
			} else {
				t.people, t.counted = res.Total.People, true
			}
		}
		for _, row := range res.Rows {
			t.keys = append(t.keys, row.Keys[0])
			if !slices.Contains(rel.tgt.Values, row.Keys[0]) {
				continue
			}
			if row.Suppressed {
				t.withheld, t.part = true, max(t.part, row.Reason)
			}
			t.pos += row.People
		}
	} else if len(res.Rows) > 0 {
		row := res.Rows[0]
		if row.Suppressed {
			withhold(row.Reason)
		} else {
			t.people, t.counted = row.People, true
			if row.People > 0 {
				t.pos = int64(math.Round(row.Value * float64(row.People)))
			}
		}
	} else {
		t.counted = true // no one
	}
	if t.withheld {
		t.pos = 0
	}
	rel.done[key] = t
	return t, nil
}

// leafQueries are the terms of a leaf by inclusion–exclusion: "does not
// hold u" cannot be asked for, so the leaf is Σ over the subsets S of its
// negated values of (−1)^|S| × (its other conditions and holding S).
func (rel *releaser) leafQueries(d *design, l *leafNode) ([]slice.Query, []int64) {
	single := map[string][]string{}
	holding := map[string][]string{}
	var negs []step
	for _, s := range l.path {
		f := d.feats[s.feat]
		switch {
		case !s.multi:
			single[f.field.Name] = domainValues(f, l.domain[s.feat])
		case s.holds:
			holding[f.field.Name] = append(holding[f.field.Name], f.values[s.value])
		default:
			negs = append(negs, s)
		}
	}
	var qs []slice.Query
	var signs []int64
	for mask := 0; mask < 1<<len(negs); mask++ {
		h := make(map[string][]string, len(holding)+len(negs))
		for k, v := range holding {
			h[k] = slices.Clone(v)
		}
		for j, s := range negs {
			if mask&(1<<j) != 0 {
				name := d.feats[s.feat].field.Name
				h[name] = append(h[name], d.feats[s.feat].values[s.value])
			}
		}
		for k := range h {
			slices.Sort(h[k])
		}
		qs = append(qs, rel.query(single, h))
		signs = append(signs, int64(1-2*(bits.OnesCount(uint(mask))%2)))
	}
	return qs, signs
}

// covers checks that the leaves' conditions together take in every
// person of the population: each single-valued feature's levels hold
// all its values in the population, and the leaves, which are disjoint,
// fill the whole space of levels and held values. Otherwise the
// population less the leaves would be a group no leaf shows.
func covers(d *design, leaves []*leafNode) error {
	for _, f := range d.feats {
		for _, v := range f.all {
			if !slices.Contains(f.values, v) {
				return fmt.Errorf("classify: value %q of %s is in no leaf", v, f.field.Name)
			}
		}
	}
	// Each leaf's share of the space: of each single-valued feature, the
	// share of its levels it keeps; of each held or not held value, a half.
	var sum float64
	for _, l := range leaves {
		share := 1.0
		for i, f := range d.feats {
			if !f.multi {
				share *= float64(len(domainValues(f, l.domain[i]))) / float64(len(f.values))
			}
		}
		for _, s := range l.path {
			if s.multi {
				share /= 2
			}
		}
		sum += share
	}
	if math.Abs(sum-1) > 1e-9 {
		return fmt.Errorf("classify: the leaves cover %.6f of the population's values, not all of them", sum)
	}
	return nil
}

// release fills in each leaf: its rule, and its people and rate through
// the guard. A leaf's numbers are sums and differences of released ones,
// so they say nothing the released slices do not; a withheld term
// withholds the leaf, with its reason. The leaves partition the
// population, whose people and rate are released, so they are one line
// with a known total: withheld leaves are suppressed complementarily
// (see complement).
func (rel *releaser) release(ctx context.Context, d *design, leaves []*leafNode, minLeaf int64, progress func(done, total int)) error {
	k := int64(rel.r.K())
	var pending []slice.Query
	seen := map[string]bool{}
	for _, l := range leaves {
		qs, _ := rel.leafQueries(d, l)
		for _, q := range qs {
			key := queryKey(q)
			if _, ok := rel.done[key]; !ok && !seen[key] {
				seen[key] = true
				pending = append(pending, q)
			}
		}
	}
	for i, q := range pending {
		if progress != nil {
			progress(i, len(pending))
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := rel.run(ctx, q); err != nil {
			return err
		}
	}
	if progress != nil {
		progress(len(pending), len(pending))
	}
	for _, l := range leaves {
		l.leaf = Leaf{Conditions: []Condition{}}
		var zh, en []string
		for _, s := range l.path {
			f := d.feats[s.feat]
			c := Condition{Dim: f.field.Name, Multi: s.multi, Not: s.multi && !s.holds}
			if s.multi {
				c.Values = []string{f.values[s.value]}
				zh, en = append(zh, multiWords("zh", f.field, c.Values[0], c.Not)), append(en, multiWords("en", f.field, c.Values[0], c.Not))
			} else {
				c.Values = domainValues(f, l.domain[s.feat])
				zh, en = append(zh, singleWords("zh", f.field, c.Values, f.values)), append(en, singleWords("en", f.field, c.Values, f.values))
			}
			l.leaf.Conditions = append(l.leaf.Conditions, c)
		}
		l.leaf.Rule = inventory.Label{ZH: strings.Join(zh, "，且 "), EN: strings.Join(en, ", and ")}
		if len(l.path) == 0 {
			l.leaf.Rule = inventory.Label{ZH: "全部", EN: "everyone"}
		}

		qs, signs := rel.leafQueries(d, l)
		var people, pos int64
		var reason slice.Reason
		withheld := false
		for j, q := range qs {
			t := rel.done[queryKey(q)]
			if t.withheld {
				own := t.reason
				if len(qs) > 1 && own != slice.Shown {
					own = partReason(own) // the leaf is not this term
				}
				if t.part != slice.Shown {
					own = max(own, partReason(t.part))
				}
				withheld, reason = true, max(reason, own)
			}
			people += signs[j] * t.people
			pos += signs[j] * t.pos
		}
		// A leaf of differences is held to the guard's rules for a
		// cell (a leaf of one slice already is).
		if c := min(pos, people-pos); !withheld && (people < k || c > 0 && c < k) {
			withheld, reason = true, slice.FewContributors
			if people < k {
				reason = slice.FewPeople
			}
		}
		if withheld {
			l.leaf.Withheld, l.leaf.Reason = true, reason
			continue
		}
		l.leaf.Prediction, l.leaf.People, l.leaf.Rate = l.rate(), people, float64(pos)/float64(people)
		l.pos = pos
	}
	pop, err := rel.run(ctx, rel.query(nil, nil))
	if err != nil {
		return err
	}
	complement(leaves, pop, k, minLeaf)
	return nil
}

// complement applies the guard's complementary suppression to the
// leaves as one line whose total, the population, is released: if any
// leaf is withheld, the withheld ones — the population less the shown
// ones — must be at least two, hold at least k people, more than the
// fewest they could (minLeaf each, which the tree shows), and at least
// k who meet the target and k who do not. Until they do, the shown leaf
// of fewest people is withheld too. Without the population's people,
// every leaf is withheld; without its positives, only its people are
// checked (the withheld leaves' positives cannot be worked out).
func complement(leaves []*leafNode, pop term, k, minLeaf int64) {
	hide := func(l *leafNode, r slice.Reason) {
		l.leaf = Leaf{Conditions: l.leaf.Conditions, Rule: l.leaf.Rule, Withheld: true, Reason: r}
		l.pos = 0
	}
	if !pop.counted {
		for _, l := range leaves {
			if !l.leaf.Withheld {
				hide(l, slice.Complementary)
			}
		}
		return
	}
	for {
		n := 0
		people, pos := pop.people, pop.pos
		var smallest *leafNode
		for _, l := range leaves {
			if l.leaf.Withheld {
				n++
				continue
			}
			people -= l.leaf.People
			pos -= l.pos
			if smallest == nil || l.leaf.People < smallest.leaf.People {
				smallest = l
			}
		}
		safe := people >= k && people > int64(n)*minLeaf
		if !pop.withheld {
			safe = safe && pos >= k && people-pos >= k
		}
		if n == 0 || n >= 2 && safe || smallest == nil {
			return
		}
		hide(smallest, slice.Complementary)
	}
}

// partReason is why a leaf is withheld when a slice it is worked out
// from is withheld for r, other than the leaf's own: a leaf holds k
// people or more, so it is not few people; showing it would let the
// withheld part be worked out, unless that part would itself reveal a
// smaller group by difference.
func partReason(r slice.Reason) slice.Reason {
	if r == slice.Difference {
		return r
	}
	return slice.Complementary
}

// domainValues lists the levels set in a domain, in the feature's order.
func domainValues(f *feature, set []bool) []string {
	var out []string
	for j, ok := range set {
		if ok {
			out = append(out, f.values[j])
		}
	}
	return out
}

// lowerFirst lowers an English label's first letter inside a sentence,
// unless the word is an acronym.
func lowerFirst(s string) string {
	r := []rune(s)
	if len(r) > 1 && unicode.IsUpper(r[0]) && !unicode.IsUpper(r[1]) {
		r[0] = unicode.ToLower(r[0])
	}
	return string(r)
}

// singleWords says that f's value is one of values; given the domain
// (all values), by the values it is not when those are fewer.
func singleWords(lang string, f inventory.Field, values, domain []string) string {
	shown := func(vs []string) []string {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = slice.KeyLabel(v)
		}
		return out
	}
	in := shown(values)
	var out []string
	for _, v := range domain {
		if !slices.Contains(values, v) {
			out = append(out, slice.KeyLabel(v))
		}
	}
	not := domain != nil && len(out) > 0 && len(out) < len(in)
	if lang == "zh" {
		if not {
			return f.Label.In("zh") + "不为 " + strings.Join(out, "/")
		}
		return f.Label.In("zh") + "为 " + strings.Join(in, "/")
	}
	label := lowerFirst(f.Label.In("en"))
	if !not {
		return label + " is " + orList(in)
	}
	switch len(out) {
	case 1:
		return label + " is not " + out[0]
	case 2:
		return label + " is neither " + out[0] + " nor " + out[1]
	}
	return label + " is none of " + strings.Join(out, ", ")
}

func orList(vs []string) string {
	if len(vs) == 1 {
		return vs[0]
	}
	return strings.Join(vs[:len(vs)-1], ", ") + " or " + vs[len(vs)-1]
}

// multiWords says that f's list holds value, or does not.
func multiWords(lang string, f inventory.Field, value string, not bool) string {
	if lang == "zh" {
		if not {
			return f.Label.In("zh") + " 不含 " + value
		}
		return f.Label.In("zh") + " 含 " + value
	}
	if not {
		return value + " is not among " + lowerFirst(f.Label.In("en"))
	}
	return value + " is among " + lowerFirst(f.Label.In("en"))
}
