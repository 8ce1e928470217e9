package report

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/persona-workbench/persona/engine/analysis"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// BrandTitle is the brand marketing effect report's title.
var BrandTitle = label("品牌营销效果报告", "Brand marketing effect report")

// BrandSteps is how many steps Brand reports to its progress function.
const BrandSteps = 6

// Brand builds the brand marketing effect report over the population
// filters select (nil: everyone licensed): campaign reach, conversion
// lift overall and by segment, regional and age distribution, and
// category affinity. Each figure is a guarded slice or an analysis of
// guarded slices through r. A section whose dimension the data set does
// not have says so instead. progress, if set, is told how many of
// BrandSteps are done.
func Brand(ctx context.Context, r analysis.Runner, filters map[string][]string, progress func(done, total int)) ([]Section, error) {
	b := &brand{r: r, inv: r.Inventory(), k: r.K(), filters: filters}
	steps := []func(context.Context) (Section, error){b.reach, b.lift, b.segments, b.distribution("region", "province", "region"),
		b.distribution("age", "age_band"), b.categories}
	var out []Section
	for i, step := range steps {
		s, err := step(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		if progress != nil {
			progress(i+1, len(steps))
		}
	}
	return out, nil
}

type brand struct {
	r       analysis.Runner
	inv     *inventory.Inventory
	k       int
	filters map[string][]string
	plain   *analysis.Lift // the lift over everyone, run once for reach and lift
	lerr    error
}

// plainLift runs the campaign lift over the population once.
func (b *brand) plainLift(ctx context.Context) (*analysis.Lift, error) {
	if b.plain == nil && b.lerr == nil {
		b.plain, b.lerr = analysis.CampaignLift(ctx, b.r, analysis.LiftOptions{Filters: b.filters})
	}
	return b.plain, b.lerr
}

// conversion is the measure the report compares: the inventory's first
// rate.
func (b *brand) conversion() (inventory.MeasureDef, bool) {
	for _, m := range b.inv.Measures {
		if m.Kind == inventory.Share {
			return m, true
		}
	}
	return inventory.MeasureDef{}, false
}

func (b *brand) people() inventory.MeasureDef {
	for _, m := range b.inv.Measures {
		if m.Kind == inventory.Count {
			return m
		}
	}
	return inventory.MeasureDef{Name: "people", Label: label("人数", "People"), Kind: inventory.Count}
}

func missing(id string, title inventory.Label, what string) Section {
	return Section{ID: id, Title: title, Notes: []inventory.Label{label("本数据集没有"+what+"，本节从略。", "This data set has no "+what+"; the section is left out.")}}
}

// notRun says why an analysis could not run on this population.
func notRun(err error) inventory.Label {
	why := strings.TrimPrefix(err.Error(), analysis.ErrAnalysis.Error()+": ")
	return label("本节分析未能进行："+why+"。", "This analysis could not run: "+why+".")
}

func (b *brand) reach(ctx context.Context) (Section, error) {
	title := label("活动触达", "Campaign reach")
	l, err := b.plainLift(ctx)
	if errors.Is(err, analysis.ErrAnalysis) {
		return Section{ID: "reach", Title: title, Notes: []inventory.Label{notRun(err)}}, nil
	}
	if err != nil {
		return Section{}, err
	}
	res, err := b.r.Run(ctx, slice.Query{Dims: []string{l.Exposure.Name}, Measure: b.people().Name, Filters: b.filters, Totals: true})
	if err != nil {
		return Section{}, err
	}
	s := Section{ID: "reach", Title: title, Tables: []Table{SliceTable(res)}}
	s.Lead = label("按"+l.Exposure.Label.ZH+"统计的人数。", "People by "+l.Exposure.Label.EN+".")
	var exposed *slice.Row
	for i, row := range res.Rows {
		if row.Keys[0] == l.Options.Exposed {
			exposed = &res.Rows[i]
		}
	}
	if exposed != nil && !exposed.Suppressed && res.Total != nil && !res.Total.Suppressed && res.Total.People > 0 {
		share := float64(exposed.People) / float64(res.Total.People)
		whom := label("授权人群", "the licensed population")
		if len(b.filters) > 0 {
			whom = label("所选人群", "the population reported on")
		}
		s.Lead = label(fmt.Sprintf("活动触达 %s 人（%s），占%s的 %s。", count(exposed.People), l.Options.Exposed, whom.ZH, pct(share)),
			fmt.Sprintf("The campaign reached %s people (%s), %s of %s.", count(exposed.People), l.Options.Exposed, pct(share), whom.EN))
	}
	if c, ok := peopleChart(res, b.people()); ok {
		c.Kind = Bars
		s.Charts = append(s.Charts, c)
	}
	return s, nil
}

// liftTable writes a campaign-lift run as a table.
func liftTable(l *analysis.Lift, by inventory.Label) Table {
	o := l.Options
	cols := []inventory.Label{by, label(o.Exposed+" 人数", o.Exposed+" people"), label(o.Exposed+" "+l.Conversion.Label.ZH, o.Exposed+" "+l.Conversion.Label.EN),
		label(o.Control+" 人数", o.Control+" people"), label(o.Control+" "+l.Conversion.Label.ZH, o.Control+" "+l.Conversion.Label.EN),
		label("差值（百分点）", "Difference (pp)"), label("提升", "Lift")}
	if l.Value.Name != "" {
		cols = append(cols, label(o.Exposed+" "+l.Value.Label.ZH, o.Exposed+" "+l.Value.Label.EN), label(o.Control+" "+l.Value.Label.ZH, o.Control+" "+l.Value.Label.EN), label("差值", "Difference"))
	}
	t := Table{Columns: cols}
	for i := range cols {
		t.Numeric = append(t.Numeric, i > 0)
	}
	for _, x := range l.Rows {
		cells := l.Cells(x, "zh")
		if x.Segment == "" {
			cells[0] = "全部 · Everyone"
		} else {
			cells[0] = slice.KeyLabel(x.Segment)
		}
		// cells: segment, exposed people and rate, control people and
		// rate, difference, lift, then exposed value, control value,
		// their difference.
		held := make([]bool, len(cells))
		held[1], held[2], held[3], held[4] = x.Exposed.Withheld, x.Exposed.Withheld, x.Control.Withheld, x.Control.Withheld
		held[5], held[6] = !x.OK, !x.OK
		if len(cells) > 7 {
			held[7], held[8], held[9] = x.Exposed.Withheld, x.Control.Withheld, !x.OK
		}
		t.Rows = append(t.Rows, cells)
		t.Withheld = append(t.Withheld, x.Exposed.Withheld || x.Control.Withheld)
		t.Held = append(t.Held, held)
	}
	return t
}

func liftNotes(l *analysis.Lift) []inventory.Label {
	notes := []inventory.Label{label(
		fmt.Sprintf("提升 = %s组%s ÷ %s组 − 1，方括号内为 %.0f%% 置信区间。曝光并非随机分配：若活动偏向本就更易转化的人群，简单对比会高估效果（可用 persona analyse lift --adjust 分层调整）。", l.Options.Exposed, l.Conversion.Label.ZH, l.Options.Control, 100*l.Options.Level),
		fmt.Sprintf("Lift = the %s rate ÷ the %s rate − 1, with its %.0f%% confidence interval in brackets. Exposure is not random: when the campaign favours people who convert more anyway, the plain comparison overstates the effect (persona analyse lift --adjust compares like with like).", l.Options.Exposed, l.Options.Control, 100*l.Options.Level))}
	for _, x := range l.Rows {
		if !x.OK {
			notes = append(notes, label(fmt.Sprintf("标 × 的行未比较：某组被隐私保护隐藏，或转化人数少于 %d。", l.K),
				fmt.Sprintf("Rows marked × are not compared: an arm was withheld by the privacy guard, or fewer than %d people converted in it.", l.K)))
			break
		}
	}
	return notes
}

// liftChart draws the lifts that were compared, with their intervals.
func liftChart(l *analysis.Lift) (Chart, bool) {
	c := Chart{Kind: Bars, Title: label("转化提升", "Conversion lift"), Axis: label("提升", "Lift"), Percent: true}
	if len(l.Rows) > 5 {
		c.Kind = HBars
	}
	for _, x := range l.Rows {
		if !x.OK {
			continue
		}
		name := slice.KeyLabel(x.Segment)
		if x.Segment == "" {
			name = "全部 Everyone"
		}
		c.Labels = append(c.Labels, name)
		c.Values = append(c.Values, x.Lift)
		c.Low, c.High = append(c.Low, x.LiftLo), append(c.High, x.LiftHi)
	}
	return c, len(c.Values) > 0
}

func (b *brand) lift(ctx context.Context) (Section, error) {
	title := label("活动转化提升", "Conversion lift")
	l, err := b.plainLift(ctx)
	if errors.Is(err, analysis.ErrAnalysis) {
		return Section{ID: "lift", Title: title, Notes: []inventory.Label{notRun(err)}}, nil
	}
	if err != nil {
		return Section{}, err
	}
	s := Section{ID: "lift", Title: title, Tables: []Table{liftTable(l, label("人群", "Population"))}, Notes: liftNotes(l)}
	s.Lead = label(fmt.Sprintf("%s组与%s组的%s对比。", l.Options.Exposed, l.Options.Control, l.Conversion.Label.ZH),
		fmt.Sprintf("%s of the %s against the %s.", l.Conversion.Label.EN, l.Options.Exposed, l.Options.Control))
	if x := l.Rows[0]; x.OK {
		s.Lead = label(fmt.Sprintf("%s组%s %s，%s组 %s：提升 %s（%.0f%% 置信区间 %s 至 %s）。", l.Options.Exposed, l.Conversion.Label.ZH, l.Conversion.Format(x.Exposed.Rate),
			l.Options.Control, l.Conversion.Format(x.Control.Rate), signedPct(x.Lift), 100*l.Options.Level, pct(x.LiftLo), pct(x.LiftHi)),
			fmt.Sprintf("%s of the %s %s against %s of the %s: a lift of %s (%.0f%% interval %s to %s).", l.Conversion.Label.EN, l.Options.Exposed, l.Conversion.Format(x.Exposed.Rate),
				l.Conversion.Format(x.Control.Rate), l.Options.Control, signedPct(x.Lift), 100*l.Options.Level, pct(x.LiftLo), pct(x.LiftHi)))
	}
	return s, nil
}

func signedPct(v float64) string {
	if v >= 0 {
		return "+" + pct(v)
	}
	return pct(v)
}

// segments clusters the population (analysis.Segmentation, its defaults)
// and compares conversion by segment; without the dimensions a
// segmentation needs, by age band.
func (b *brand) segments(ctx context.Context) (Section, error) {
	title := label("分群转化提升", "Conversion lift by segment")
	s := Section{ID: "segments", Title: title}
	by := ""
	seg, err := analysis.Segmentation(ctx, b.r, analysis.SegmentOptions{Filters: b.filters})
	switch {
	case err == nil:
		by = seg.Field.Name
		s.Lead = label(fmt.Sprintf("按%s将人群分为 %d 群（轮廓系数 %.2f），再逐群对比转化。指数 = 群内占比 ÷ 总体占比 × 100。", dimList(seg.Dims, "zh"), seg.K, seg.Choice().Silhouette),
			fmt.Sprintf("People are grouped into %d segments by %s (silhouette %.2f), then conversion is compared within each. Index = the share in the segment ÷ the share overall × 100.", seg.K, dimList(seg.Dims, "en"), seg.Choice().Silhouette))
		s.Tables = append(s.Tables, segmentTable(seg))
	case errors.Is(err, analysis.ErrAnalysis):
		if _, ok := b.inv.Field("age_band"); !ok {
			return missing("segments", title, "可分群的维度 / dimensions to segment by"), nil
		}
		by = "age_band"
		s.Notes = append(s.Notes, label("无法分群（"+err.Error()+"），改按年龄段对比。", "No segmentation ("+err.Error()+"); compared by age band instead."))
	default:
		return Section{}, err
	}
	l, err := analysis.CampaignLift(ctx, b.r, analysis.LiftOptions{Filters: b.filters, By: by})
	if errors.Is(err, analysis.ErrAnalysis) {
		s.Notes = append(s.Notes, notRun(err))
		return s, nil
	}
	if err != nil {
		return Section{}, err
	}
	s.Tables = append(s.Tables, liftTable(l, l.By.Label))
	s.Notes = append(s.Notes, liftNotes(l)...)
	if c, ok := liftChart(l); ok {
		s.Charts = append(s.Charts, c)
	}
	return s, nil
}

func dimList(ds []inventory.Field, lang string) string {
	out := ""
	for i, d := range ds {
		if i > 0 {
			out += map[string]string{"zh": "、", "en": ", "}[lang]
		}
		out += d.Label.In(lang)
	}
	return out
}

// segmentTable lists the segments: people, share, and the traits each
// over- and under-indexes on.
func segmentTable(seg *analysis.Segments) Table {
	t := Table{Columns: []inventory.Label{label("分群", "Segment"), label("人数", "People"), label("占比", "Share"),
		label("高于总体（指数）", "Over-indexes (index)"), label("低于总体（指数）", "Under-indexes (index)")},
		Numeric: []bool{false, true, true, false, false}}
	for _, g := range seg.Segments {
		if g.Withheld {
			m := mark(slice.Row{Suppressed: true, Reason: g.Reason}, seg.MinK)
			t.Rows = append(t.Rows, []string{g.Name, m, m, "", ""})
			t.Withheld = append(t.Withheld, true)
			t.Held = append(t.Held, []bool{false, true, true, true, true})
			continue
		}
		t.Rows = append(t.Rows, []string{g.Name, count(g.People), pct(g.Share),
			analysis.TraitList(g.Over(4), analysis.TraitText), analysis.TraitList(g.Under(3), analysis.TraitText)})
		t.Withheld = append(t.Withheld, false)
		t.Held = append(t.Held, make([]bool, 5))
	}
	return t
}

// distribution is people and conversion by the first of dims the data
// set has.
func (b *brand) distribution(id string, dims ...string) func(context.Context) (Section, error) {
	return func(ctx context.Context) (Section, error) {
		title := map[string]inventory.Label{"region": label("地域分布", "Regional distribution"), "age": label("年龄分布", "Age distribution")}[id]
		var f inventory.Field
		for _, d := range dims {
			if g, ok := b.inv.Field(d); ok && g.Role == inventory.Dimension {
				f = g
				break
			}
		}
		if f.Name == "" {
			return missing(id, title, dims[0]+" 维度 / a "+dims[0]+" dimension"), nil
		}
		return b.byDim(ctx, id, title, f)
	}
}

// byDim is a section of people and conversion by one dimension's values.
func (b *brand) byDim(ctx context.Context, id string, title inventory.Label, f inventory.Field) (Section, error) {
	m, ok := b.conversion()
	if !ok {
		m = b.people()
	}
	res, err := b.r.Run(ctx, slice.Query{Dims: []string{f.Name}, Measure: m.Name, Filters: b.filters, Totals: true})
	if err != nil {
		return Section{}, err
	}
	s := Section{ID: id, Title: title, Tables: []Table{SliceTable(res)}, Lead: describe(b.inv, res)}
	if c, ok := peopleChart(res, b.people()); ok {
		s.Charts = append(s.Charts, c)
	}
	if c, ok := SliceChart(res); ok && m.Kind != inventory.Count {
		c.Title = label(m.Label.ZH+"（按"+f.Label.ZH+"）", m.Label.EN+" by "+f.Label.EN)
		s.Charts = append(s.Charts, c)
	}
	if res.Suppressed > 0 {
		s.Notes = append(s.Notes, withheldNote(res.Suppressed, res.K))
	}
	return s, nil
}

// peopleChart draws the head count of each released row of a
// one-dimension result.
func peopleChart(res *slice.Result, people inventory.MeasureDef) (Chart, bool) {
	c := Chart{Kind: Bars, Axis: people.Label, Title: label(people.Label.ZH+"（按"+res.Dims[0].Label.ZH+"）", people.Label.EN+" by "+res.Dims[0].Label.EN)}
	for _, row := range res.Rows {
		if row.Suppressed {
			continue
		}
		c.Labels = append(c.Labels, slice.KeyLabel(row.Keys[0]))
		if res.ShowsPeople() {
			c.Values = append(c.Values, float64(row.People))
		} else {
			c.Values = append(c.Values, row.Value)
		}
	}
	if len(c.Labels) > 8 || longest(c.Labels) > 6 {
		c.Kind = HBars
	}
	return c, len(c.Values) > 0
}

// categories is category affinity: people and conversion by category,
// and the strongest association rules between categories.
func (b *brand) categories(ctx context.Context) (Section, error) {
	title := label("品类偏好", "Category affinity")
	var f inventory.Field
	for _, d := range b.inv.Dimensions() {
		if d.Role == inventory.MultiDimension && (f.Name == "" || d.Name == "categories") {
			f = d
		}
	}
	if f.Name == "" {
		return missing("categories", title, "多值品类维度 / a multi-valued category dimension"), nil
	}
	s, err := b.byDim(ctx, "categories", title, f)
	if err != nil {
		return Section{}, err
	}
	s.Notes = append(s.Notes, label("一人可偏好多个品类，各品类人数之和大于总人数。", "A person may prefer several categories: the categories' people add up to more than the population."))
	rules, err := analysis.AssociationRules(ctx, b.r, analysis.RulesOptions{Dim: f.Name, Filters: b.filters})
	if errors.Is(err, analysis.ErrAnalysis) {
		s.Notes = append(s.Notes, notRun(err))
		return s, nil
	}
	if err != nil {
		return Section{}, err
	}
	t := Table{Caption: label("关联规则（提升度最高的 10 条）", "Association rules (the 10 with the highest lift)"),
		Columns: []inventory.Label{label("如果", "If"), label("那么", "Then"), label("人数", "People"), label("支持度", "Support"), label("置信度", "Confidence"), label("提升度", "Lift")},
		Numeric: []bool{false, false, true, true, true, true}}
	for i, x := range rules.Rules {
		if i == 10 {
			break
		}
		t.Rows = append(t.Rows, []string{slice.KeyLabel(x.If), slice.KeyLabel(x.Then), count(x.People), pct(x.Support), pct(x.Confidence), strconv.FormatFloat(x.Lift, 'f', 2, 64)})
		t.Withheld = append(t.Withheld, false)
		t.Held = append(t.Held, make([]bool, 6))
	}
	s.Tables = append(s.Tables, t)
	s.Notes = append(s.Notes, label(fmt.Sprintf("提升度 > 1：偏好前者的人更常偏好后者。%d 对品类中 %d 对被隐私保护隐藏，不列出。", rules.Pairs, rules.Withheld),
		fmt.Sprintf("Lift above 1: people who prefer the first category prefer the second more often than people in general. %d of %d pairs were withheld by the privacy guard and are not listed.", rules.Withheld, rules.Pairs)))
	return s, nil
}
