package guard_test

import (
	"context"
	"errors"
	"testing"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// twoSegments puts women who prefer 美妆 in one segment and everyone
// else in the other: a rule simple enough to count in SQL.
var twoSegments = slice.Segmentation{
	Label:  inventory.Label{ZH: "测试细分", EN: "Test segments"},
	Values: []string{"S1", "S2"},
	Bias:   []float64{2, 0},
	Terms: []slice.SegmentTerm{
		{Dim: "gender", Weights: map[string][]float64{"女": {-1, 0}}},
		{Dim: "categories", Weights: map[string][]float64{"美妆": {-1.5, 0}}},
	},
}

func TestDerivedSegments(t *testing.T) {
	ctx := context.Background()
	ds := attackData(t)
	g := newGuarded(t, ds)
	f, err := g.e.Derive(twoSegments)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != twoSegments.Name() || f.Role != inventory.Dimension {
		t.Fatalf("derived field %+v", f)
	}
	if _, ok := g.e.Inventory().Field(f.Name); !ok {
		t.Fatal("the inventory does not list the segment dimension")
	}
	if _, ok := ds.Inventory.Field(f.Name); ok {
		t.Fatal("deriving changed the data set's own inventory")
	}
	var want int64
	if err := queryRow(ds.Store(), `SELECT count(*) FROM personas WHERE gender = '女' AND list_contains(categories, '美妆')`, &want); err != nil {
		t.Fatal(err)
	}
	res := g.run(slice.Query{Dims: []string{f.Name}, Measure: "people", Order: slice.Label})
	if len(res.Rows) != 2 || res.Rows[0].Keys[0] != "S1" || res.Rows[0].People != want {
		t.Fatalf("segments %+v, want S1 with %d people", res.Rows, want)
	}
	// Filtered and crossed like any dimension.
	res = g.run(slice.Query{Dims: []string{"age_band"}, Filters: map[string][]string{f.Name: {"S1"}}, Measure: "people"})
	var sum int64
	for _, r := range res.Rows {
		sum += r.People
	}
	if sum > want || sum < want*9/10 {
		t.Fatalf("S1 by age adds up to %d of %d", sum, want)
	}
	// A later session knows the segmentation from the release history.
	g.next()
	res = g.run(slice.Query{Dims: []string{f.Name}, Measure: "people", Order: slice.Label})
	if len(res.Rows) != 2 || res.Rows[0].People != want {
		t.Fatalf("after reopening: %+v", res.Rows)
	}
	if _, ok := g.e.Inventory().Field(f.Name); !ok {
		t.Fatal("after reopening the inventory does not list the segment dimension")
	}
	// The in-memory rule agrees with the engine's.
	profiles, err := g.e.Profiles(ctx, slice.ProfileQuery{Dims: []string{"gender", "categories"}})
	if err != nil {
		t.Fatal(err)
	}
	var inS1 int64
	for _, p := range profiles {
		if twoSegments.Segment(p.Values) == 0 {
			inS1 += p.People
		}
	}
	if inS1 != want {
		t.Fatalf("Segment puts %d people in S1, the engine %d", inS1, want)
	}
}

func TestDeriveRejects(t *testing.T) {
	g := newGuarded(t, attackData(t))
	for name, s := range map[string]slice.Segmentation{
		"one segment":   {Values: []string{"S1"}, Bias: []float64{0}, Terms: twoSegments.Terms},
		"unknown dim":   {Values: []string{"A", "B"}, Bias: []float64{0, 0}, Terms: []slice.SegmentTerm{{Dim: "nope"}}},
		"a measure":     {Values: []string{"A", "B"}, Bias: []float64{0, 0}, Terms: []slice.SegmentTerm{{Dim: "campaign_converted"}}},
		"short weights": {Values: []string{"A", "B"}, Bias: []float64{0, 0}, Terms: []slice.SegmentTerm{{Dim: "gender", Weights: map[string][]float64{"女": {1}}}}},
		"same names":    {Values: []string{"A", "A"}, Bias: []float64{0, 0}, Terms: twoSegments.Terms},
	} {
		if _, err := g.e.Derive(s); !errors.Is(err, slice.ErrQuery) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Segments of segments are refused.
	f, err := g.e.Derive(twoSegments)
	if err != nil {
		t.Fatal(err)
	}
	nested := slice.Segmentation{Values: []string{"A", "B"}, Bias: []float64{0, 0}, Terms: []slice.SegmentTerm{{Dim: f.Name}}}
	if _, err := g.e.Derive(nested); !errors.Is(err, slice.ErrQuery) {
		t.Errorf("a segmentation of segments: %v", err)
	}
}

func TestProfiles(t *testing.T) {
	ctx := context.Background()
	ds := attackData(t)
	g := newGuarded(t, ds)
	ps, err := g.e.Profiles(ctx, slice.ProfileQuery{Dims: []string{"member_level", "page_types"}, Target: "campaign_converted", Folds: 5})
	if err != nil {
		t.Fatal(err)
	}
	var people, pos, fold0 int64
	for _, p := range ps {
		people += p.People
		pos += p.Positive
		if p.Fold == 0 {
			fold0 += p.People
		}
		if p.Fold < 0 || p.Fold >= 5 || len(p.Values) != 2 || len(p.Values[0]) != 1 {
			t.Fatalf("profile %+v", p)
		}
	}
	var wantPos int64
	if err := queryRow(ds.Store(), `SELECT count(*) FILTER (WHERE campaign_converted) FROM personas`, &wantPos); err != nil {
		t.Fatal(err)
	}
	if people != ds.Inventory.Records || pos != wantPos {
		t.Fatalf("profiles hold %d people, %d converted; want %d, %d", people, pos, ds.Inventory.Records, wantPos)
	}
	if fold0 < people/6 || fold0 > people/4 {
		t.Fatalf("fold 0 holds %d of %d", fold0, people)
	}
	ps, err = g.e.Profiles(ctx, slice.ProfileQuery{Dims: []string{"gender"}, Target: "purchase_frequency=高频(12-35单/年),超高频(≥36单/年)"})
	if err != nil {
		t.Fatal(err)
	}
	pos = 0
	for _, p := range ps {
		pos += p.Positive
	}
	if err := queryRow(ds.Store(), `SELECT count(*) FILTER (WHERE purchase_frequency IN ('高频(12-35单/年)', '超高频(≥36单/年)')) FROM personas`, &wantPos); err != nil {
		t.Fatal(err)
	}
	if pos != wantPos {
		t.Fatalf("frequent buyers %d, want %d", pos, wantPos)
	}
	for _, q := range []slice.ProfileQuery{{}, {Dims: []string{"month"}}, {Dims: []string{"gender"}, Target: "gender"}, {Dims: []string{"gender"}, Target: "nope=1"}} {
		if _, err := g.e.Profiles(ctx, q); !errors.Is(err, slice.ErrQuery) {
			t.Errorf("%+v: %v", q, err)
		}
	}
}

// Segments defined to single out a small group do not reveal it: neither
// a segment that is the group, nor two segmentations that differ by it,
// in one session or across two.
func TestSegmentAttacks(t *testing.T) {
	ds := attackData(t)
	P, L, n := small(t, ds.Store(), "province", "member_level")
	t.Logf("secret group: %s × %s, %d people (k=%d)", P, L, n, attackK)
	people := func(res *slice.Result, key string) (int64, bool) {
		for _, r := range res.Rows {
			if r.Keys[0] == key {
				return r.People, !r.Suppressed
			}
		}
		return 0, true // nobody
	}

	// A segment that is exactly the group, against the known total.
	g := newGuarded(t, ds)
	total := g.run(slice.Query{Measure: "people"}).Rows[0].People
	isolate := slice.Segmentation{Label: inventory.Label{EN: "isolate"}, Values: []string{"rest", "group"}, Bias: []float64{0, 2},
		Terms: []slice.SegmentTerm{
			{Dim: "province", Weights: map[string][]float64{P: {0, -1}}},
			{Dim: "member_level", Weights: map[string][]float64{L: {0, -1.5}}},
		}}
	f, err := g.e.Derive(isolate)
	if err != nil {
		t.Fatal(err)
	}
	res := g.run(slice.Query{Dims: []string{f.Name}, Measure: "people"})
	if v, shown := people(res, "group"); shown && v > 0 {
		t.Errorf("the isolating segment shows %d people", v)
	}
	if v, shown := people(res, "rest"); shown && total-v == int64(n) {
		t.Errorf("total %d less the rest %d gives the group away", total, v)
	}

	// Two segmentations whose first segments differ by the group: the
	// province, and the province without the level.
	for _, sessions := range []int{1, 2} {
		g := newGuarded(t, ds)
		province := slice.Segmentation{Label: inventory.Label{EN: "province"}, Values: []string{"in", "out"}, Bias: []float64{0.5, 0},
			Terms: []slice.SegmentTerm{{Dim: "province", Weights: map[string][]float64{P: {-1, 0}}}}}
		without := slice.Segmentation{Label: inventory.Label{EN: "without"}, Values: []string{"in", "out"}, Bias: []float64{0.5, 0},
			Terms: []slice.SegmentTerm{
				{Dim: "province", Weights: map[string][]float64{P: {-1, 0}}},
				{Dim: "member_level", Weights: map[string][]float64{L: {5, 0}}},
			}}
		fa, err := g.e.Derive(province)
		if err != nil {
			t.Fatal(err)
		}
		a, aShown := people(g.run(slice.Query{Dims: []string{fa.Name}, Measure: "people"}), "in")
		if sessions == 2 {
			g.next()
		}
		fb, err := g.e.Derive(without)
		if err != nil {
			t.Fatal(err)
		}
		b, bShown := people(g.run(slice.Query{Dims: []string{fb.Name}, Measure: "people"}), "in")
		t.Logf("%d session(s): province %d (shown %v), without the level %d (shown %v)", sessions, a, aShown, b, bShown)
		if !aShown && !bShown {
			t.Errorf("%d session(s): both withheld; the test shows nothing", sessions)
		}
		if aShown && bShown && a-b == int64(n) {
			t.Errorf("%d session(s): %d − %d gives the group of %d away", sessions, a, b, n)
		}
	}
}
