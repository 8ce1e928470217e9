package analysis_test

import (
	"context"
	"errors"
	"testing"

	"github.com/persona-workbench/persona/engine/analysis"
	"github.com/persona-workbench/persona/engine/ckm"
	"github.com/persona-workbench/persona/engine/dataset"
	"github.com/persona-workbench/persona/engine/guard"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/sample"
)

// Under the cell key method no analysis of the whole population is
// refused for privacy, whatever was asked before, and the models are
// fitted on perturbed numbers only: every group a model reads holds its
// adjusted count, never more than D away from the truth.
func TestPerturbedAnalyses(t *testing.T) {
	ctx := context.Background()
	const rows = 50_000
	r, err := sample.NewReader(ctx, sample.Options{Rows: rows, Seed: sample.DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	p, seed := ckm.DefaultParams(), uint64(9)
	d, err := dataset.OpenArrow(ctx, sample.Inventory(rows, sample.DefaultSeed), r, dataset.Options{K: 10, Perturb: &p, KeySeed: &seed})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	g := d.Slices
	// What made the suppressing guard refuse the whole population for
	// good: a measure with a single contributor, a tiny group next to
	// the total, a drill-down and back.
	for _, q := range []slice.Query{
		{Measure: "people"},
		{Measure: "people", Filters: map[string][]string{"province": {"西藏"}}},
		{Dims: []string{"province"}, Measure: "people", Filters: map[string][]string{"age_band": {"50+"}}},
		{Dims: []string{"province", "member_level"}, Measure: "gmv", Totals: true},
		{Measure: "people", Filters: map[string][]string{"province": {"广东", "西藏"}}},
	} {
		if _, err := g.Run(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	refused := func(name string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s of the whole population: %v", name, err)
		}
	}
	seg, err := analysis.Segmentation(ctx, g, analysis.SegmentOptions{K: 3})
	refused("segmentation", err)
	if len(seg.Segments) != 3 {
		t.Errorf("%d segments, want 3", len(seg.Segments))
	}
	rules, err := analysis.AssociationRules(ctx, g, analysis.RulesOptions{Dim: "categories"})
	refused("association rules", err)
	if len(rules.Rules) == 0 {
		t.Error("no association rules")
	}
	c, err := analysis.Classify(ctx, g, analysis.ClassifyOptions{Target: "campaign_converted"})
	refused("classification", err)
	if c.Train+c.Test == 0 {
		t.Error("nobody to train on")
	}
	lift, err := analysis.CampaignLift(ctx, g, analysis.LiftOptions{})
	refused("campaign lift", err)
	if len(lift.Rows) == 0 || !lift.Rows[0].OK {
		t.Errorf("the overall lift is not compared: %+v", lift.Rows)
	}

	// The groups a model reads are a perturbed table.
	profiles, err := g.Profiles(ctx, slice.ProfileQuery{Dims: []string{"gender", "age_band", "member_level"}, Target: "campaign_converted"})
	if err != nil {
		t.Fatal(err)
	}
	exact, err := exactProfiles(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, pr := range profiles {
		key := pr.Values[0][0] + "|" + pr.Values[1][0] + "|" + pr.Values[2][0]
		n, ok := exact[key]
		if !ok {
			t.Fatalf("a group nobody is in: %s", key)
		}
		if diff := pr.People - n; diff > int64(p.D) || -diff > int64(p.D) {
			t.Fatalf("group %s: %d people, truly %d", key, pr.People, n)
		}
		if pr.People != n {
			moved++
		}
		if pr.Positive > pr.People || pr.Positive < 0 {
			t.Fatalf("group %s: %d of %d meet the target", key, pr.Positive, pr.People)
		}
	}
	if moved < len(profiles)/3 {
		t.Errorf("only %d of %d groups adjusted", moved, len(profiles))
	}
}

func exactProfiles(ctx context.Context, d *dataset.Dataset) (map[string]int64, error) {
	rows, err := d.Store().QueryContext(ctx, "SELECT concat_ws('|', gender, age_band, member_level), count(*) FROM personas GROUP BY ALL")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, errors.Join(rows.Err(), guardMethod(d))
}

func guardMethod(d *dataset.Dataset) error {
	if d.Slices.Method() != guard.MethodPerturb {
		return errors.New("not perturbed")
	}
	return nil
}
