package analysis_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/persona-workbench/persona/engine/analysis"
	"github.com/persona-workbench/persona/engine/slice"
)

func trait(s analysis.Segment, dim, value string) analysis.Trait {
	for _, t := range s.Traits {
		if t.Dim == dim && t.Value == value {
			return t
		}
	}
	return analysis.Trait{Dim: dim, Value: value}
}

// The generator ties categories to gender (美妆 ~7.6× likelier for women,
// 数码 ~3× and 汽车用品 ~4× for men): a segmentation finds a women's
// segment over-indexing on 美妆 and a men's one on 数码 and 汽车用品,
// whatever number of segments the silhouette picks.
func TestSegmentsRecoverPlanted(t *testing.T) {
	res, err := analysis.Segmentation(context.Background(), fresh(t), analysis.SegmentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Choices) != 7 || res.K < 2 || res.K > 8 {
		t.Fatalf("choices %+v, chose %d", res.Choices, res.K)
	}
	for _, c := range res.Choices {
		if c.Silhouette > res.Choice().Silhouette {
			t.Errorf("k=%d has a better silhouette (%.3f) than the chosen k=%d (%.3f)", c.K, c.Silhouette, res.K, res.Choice().Silhouette)
		}
	}
	women, men := false, false
	for _, s := range res.Segments {
		if trait(s, "gender", "女").Share >= 0.9 && trait(s, "categories", "美妆").Index >= 140 {
			women = true
		}
		if trait(s, "gender", "男").Share >= 0.9 && trait(s, "categories", "数码").Index >= 140 && trait(s, "categories", "汽车用品").Index >= 140 {
			men = true
		}
	}
	if !women || !men {
		t.Errorf("no women's 美妆 segment (%v) or men's 数码/汽车用品 segment (%v): %+v", women, men, res.Segments)
	}
}

// Segment sizes and traits equal counts made another way: the records
// grouped in SQL directly, each group put in its segment by the
// definition's rule in Go.
func TestSegmentsMatchSQL(t *testing.T) {
	ctx := context.Background()
	g := fresh(t)
	res, err := analysis.Segmentation(ctx, g, analysis.SegmentOptions{K: 4, Dims: []string{"gender", "member_level", "categories"}})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := demo(t).Store().QueryContext(ctx, `SELECT gender, member_level, list_sort(categories), count(*) FROM personas GROUP BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	size := map[string]int64{}
	women := map[string]int64{}
	for rows.Next() {
		var g, l string
		var cats []any
		var n int64
		if err := rows.Scan(&g, &l, &cats, &n); err != nil {
			t.Fatal(err)
		}
		list := make([]string, len(cats))
		for i, c := range cats {
			list[i] = c.(string)
		}
		s := res.Def.Values[res.Def.Segment([][]string{{g}, {l}, list})]
		size[s] += n
		if g == "女" {
			women[s] += n
		}
	}
	var total int64
	for _, s := range res.Segments {
		total += size[s.Name]
		if s.Withheld || s.People != size[s.Name] {
			t.Errorf("%s: %d people, SQL %d", s.Name, s.People, size[s.Name])
			continue
		}
		if got, want := trait(s, "gender", "女").Share, float64(women[s.Name])/float64(size[s.Name]); math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: women %.6f, SQL %.6f", s.Name, got, want)
		}
	}
	if total != res.People {
		t.Errorf("segments add up to %d, population %d", total, res.People)
	}
	// The segments are a dimension now.
	q, err := g.Run(ctx, slice.Query{Dims: []string{res.Field.Name, "age_band"}, Measure: "people"})
	if err != nil || len(q.Rows) < 4*6-2 {
		t.Fatalf("slice by segment: %v, %d rows", err, len(q.Rows))
	}
}

// In a small province no profile shown rests on fewer than k people.
func TestSegmentsSmallPopulation(t *testing.T) {
	k := int64(demo(t).Slices.K())
	res, err := analysis.Segmentation(context.Background(), fresh(t), analysis.SegmentOptions{K: 4, Dims: []string{"gender", "age_band", "categories"}, Filters: map[string][]string{"province": {"西藏"}}})
	if err != nil {
		t.Fatal(err)
	}
	withheld := 0
	for _, s := range res.Segments {
		for _, tr := range s.Traits {
			if tr.Withheld {
				withheld++
			}
		}
		if s.Withheld {
			for _, tr := range s.Traits {
				if !tr.Withheld && tr.Share != 0 {
					t.Errorf("%s is withheld but shows %s=%s", s.Name, tr.Dim, tr.Value)
				}
			}
			continue
		}
		if s.People < k {
			t.Errorf("%s shows %d people", s.Name, s.People)
		}
		for _, tr := range s.Traits {
			if n := math.Round(tr.Share * float64(s.People)); !tr.Withheld && n > 0 && n < float64(k) {
				t.Errorf("%s: %s=%s rests on %.0f people", s.Name, tr.Dim, tr.Value, n)
			}
		}
	}
	if withheld == 0 {
		t.Errorf("four segments of 西藏's ~150 people, no trait withheld: %+v", res.Segments)
	}
}

func TestSegmentsRejects(t *testing.T) {
	for _, opt := range []analysis.SegmentOptions{
		{Dims: []string{"nope"}}, {Dims: []string{"gmv"}}, {Dims: []string{"month"}}, {Dims: []string{"gender", "gender"}},
		{K: 1}, {K: 50}, {MinK: 5, MaxK: 3},
	} {
		_, err := analysis.Segmentation(context.Background(), demo(t).Slices, opt)
		if !errors.Is(err, analysis.ErrAnalysis) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: %v", opt, err)
		}
	}
}

// A segmentation's definition (in the release history and the usage log)
// holds its centres rounded to steps of 2k people: the size of a
// segment × value cell the guard withholds cannot be read from it.
func TestSegmentDefinitionHidesWithheldTraits(t *testing.T) {
	ctx := context.Background()
	g := fresh(t)
	filters := map[string][]string{"member_level": {"钻石会员"}}
	dims := []string{"gender", "age_band", "province"}
	res, err := analysis.Segmentation(ctx, g, analysis.SegmentOptions{K: 3, Dims: dims, Filters: filters})
	if err != nil {
		t.Fatal(err)
	}
	// The truth, from the records.
	ps, err := g.Profiles(ctx, slice.ProfileQuery{Dims: dims, Filters: filters})
	if err != nil {
		t.Fatal(err)
	}
	truth := map[[2]string]int64{}
	for _, p := range ps {
		s := res.Def.Values[res.Def.Segment(p.Values)]
		truth[[2]string{s, p.Values[2][0]}] += p.People
	}
	var prov slice.SegmentTerm
	for _, tm := range res.Def.Terms {
		if tm.Dim == "province" {
			prov = tm
		}
	}
	found := 0
	for i, s := range res.Segments {
		if s.Withheld {
			continue
		}
		for _, tr := range s.Traits {
			if tr.Dim != "province" || !tr.Withheld {
				continue
			}
			w := prov.Weights[tr.Value][i]
			n := int64(math.Round(-w * float64(s.People)))
			if n == truth[[2]string{s.Name, tr.Value}] && n > 0 && n < int64(g.K()) {
				found++
			}
		}
	}
	if found > 0 {
		t.Errorf("%d withheld segment × province cells (< k people) are worked out exactly from the logged definition", found)
	}
}
