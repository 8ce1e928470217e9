package tui

import (
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// The charts' test data: hand-built results in the shapes the guard
// returns, sorted as slice.Sort would sort them.
var (
	chartProvince = inventory.Field{Name: "province", Label: inventory.Label{ZH: "省份", EN: "Province"}, Role: inventory.Dimension}
	chartCategory = inventory.Field{Name: "category", Label: inventory.Label{ZH: "品类", EN: "Category"}, Role: inventory.Dimension}
	chartAge      = inventory.Field{Name: "age_band", Label: inventory.Label{ZH: "年龄段", EN: "Age band"}, Role: inventory.Dimension,
		Order: []string{"18-24", "25-29", "30-34", "35-39", "40-49", "50+"}}
	chartMonth = inventory.Field{Name: "month", Label: inventory.Label{ZH: "月份", EN: "Month"}, Role: inventory.Time,
		Order: []string{"2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06",
			"2025-07", "2025-08", "2025-09", "2025-10", "2025-11", "2025-12"}}
	chartPeople = inventory.MeasureDef{Name: "people", Label: inventory.Label{ZH: "人数", EN: "People"}, Kind: inventory.Count, Unit: "人"}
	chartAOV    = inventory.MeasureDef{Name: "aov", Label: inventory.Label{ZH: "客单价", EN: "Order value"}, Kind: inventory.Ratio,
		Field: "gmv", Over: "orders", Unit: "元", Decimals: 1}
)

func chartStyles() styles { return newStyles(lipgloss.NewRenderer(nil)) }

// provinceAOV: one nominal dimension, largest first; 青海 has no orders
// (no value), 西藏 is withheld.
func provinceAOV() *slice.Result {
	return &slice.Result{
		Dims: []inventory.Field{chartProvince}, Measure: chartAOV, K: 10, Suppressed: 1,
		Rows: []slice.Row{
			{Keys: []string{"上海"}, Value: 1954.1, People: 30211},
			{Keys: []string{"浙江"}, Value: 1312.9, People: 41876},
			{Keys: []string{"广东"}, Value: 1286.4, People: 88012},
			{Keys: []string{"四川"}, Value: 798.7, People: 25310},
			{Keys: []string{"新疆维吾尔自治区"}, Value: 650.2, People: 3120},
			{Keys: []string{"青海"}, Value: math.NaN(), People: 12},
			{Keys: []string{"西藏"}, Suppressed: true, Reason: slice.FewPeople},
		},
	}
}

// ageCounts: one ordinal dimension in its order; 50+ is withheld.
func ageCounts() *slice.Result {
	return &slice.Result{
		Dims: []inventory.Field{chartAge}, Measure: chartPeople, K: 10, Suppressed: 1,
		Rows: []slice.Row{
			{Keys: []string{"18-24"}, Value: 32086, People: 32086},
			{Keys: []string{"25-29"}, Value: 39984, People: 39984},
			{Keys: []string{"30-34"}, Value: 41989, People: 41989},
			{Keys: []string{"35-39"}, Value: 20544, People: 20544},
			{Keys: []string{"40-49"}, Value: 8120, People: 8120},
			{Keys: []string{"50+"}, Suppressed: true, Reason: slice.FewPeople},
		},
	}
}

// provinceCategory: two dimensions with margins. 浙江·美妆 is withheld
// (so 浙江's margin holds more than its released cells), 西藏·服饰 too,
// nobody in 西藏 buys 数码, and 西藏's margin is withheld.
func provinceCategory() *slice.Result {
	return &slice.Result{
		Dims: []inventory.Field{chartProvince, chartCategory}, Measure: chartPeople, K: 10, Suppressed: 2,
		Query: slice.Query{Totals: true},
		Rows: []slice.Row{
			{Keys: []string{"广东", "服饰"}, Value: 4210, People: 4210},
			{Keys: []string{"广东", "美妆"}, Value: 5120, People: 5120},
			{Keys: []string{"广东", "数码"}, Value: 1980, People: 1980},
			{Keys: []string{"浙江", "服饰"}, Value: 2950, People: 2950},
			{Keys: []string{"浙江", "美妆"}, Suppressed: true, Reason: slice.Complementary},
			{Keys: []string{"浙江", "数码"}, Value: 1230, People: 1230},
			{Keys: []string{"西藏", "服饰"}, Suppressed: true, Reason: slice.FewPeople},
			{Keys: []string{"西藏", "美妆"}, Value: 12, People: 12},
		},
		Margins: [slice.MaxDims][]slice.Row{{
			{Keys: []string{"广东"}, Value: 11310, People: 11310},
			{Keys: []string{"浙江"}, Value: 5000, People: 5000},
			{Keys: []string{"西藏"}, Suppressed: true, Reason: slice.Complementary},
		}},
	}
}

var chartMonthly = map[string][]float64{
	"美妆": {3120, 2980, 3350, 3610, 3890, 4420, 4010, 3770, 3990, 4510, 5230, 4870},
	"服饰": {4210, 3650, 3820, 4100, 4380, 4150, 3920, 3880, 4470, 4690, 5480, 5120},
	"数码": {1210, 0, 1190, 1240, 1320, 1280, 1350, 1410, 0, 1380, 1820, 1650},
}

// categoryMonth: the time dimension second. 数码 is withheld in 2025-02
// and nobody bought it in 2025-09.
func categoryMonth() *slice.Result {
	res := &slice.Result{Dims: []inventory.Field{chartCategory, chartMonth}, Measure: chartPeople, K: 10, Suppressed: 1}
	for _, c := range []string{"服饰", "美妆", "数码"} {
		for i, m := range chartMonth.Order {
			switch {
			case c == "数码" && m == "2025-02":
				res.Rows = append(res.Rows, slice.Row{Keys: []string{c, m}, Suppressed: true, Reason: slice.FewPeople})
			case c == "数码" && m == "2025-09":
			default:
				v := chartMonthly[c][i]
				res.Rows = append(res.Rows, slice.Row{Keys: []string{c, m}, Value: v, People: int64(v)})
			}
		}
	}
	return res
}

// checkChart checks what every chart promises: at most h lines, each
// exactly w cells wide.
func checkChart(t *testing.T, out string, w, h int) []string {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) > h {
		t.Errorf("%d lines, want at most %d:\n%s", len(lines), h, out)
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw != w {
			t.Errorf("line %d is %d cells wide, want %d: %q", i, lw, w, l)
		}
	}
	return lines
}

// cellAt returns the cell at which s starts in line, or -1.
func cellAt(line, s string) int {
	i := strings.Index(line, s)
	if i < 0 {
		return -1
	}
	return lipgloss.Width(line[:i])
}

// cells returns the cells [from, to) of a plain line.
func cells(line string, from, to int) string {
	var b strings.Builder
	x := 0
	for _, r := range line {
		rw := lipgloss.Width(string(r))
		if x >= from && x+rw <= to {
			b.WriteRune(r)
		}
		x += rw
	}
	return b.String()
}

func lineWith(lines []string, s string) string {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

const barGlyphs = "▁▂▃▄▅▆▇█▒░▚▓▞▀"

// chartSizes are the sizes of the goldens.
var chartSizes = []struct {
	lang string
	w, h int
}{{"zh", 80, 12}, {"en", 80, 12}, {"zh", 160, 24}, {"en", 160, 24}}

func TestDrawColumns(t *testing.T) {
	st := chartStyles()
	for _, sz := range chartSizes {
		t.Run(fmt.Sprintf("chart_columns_%s_%dx%d", sz.lang, sz.w, sz.h), func(t *testing.T) {
			out := drawColumns(provinceAOV(), sz.w, sz.h, 2, st, textsFor(sz.lang))
			checkChart(t, out, sz.w, sz.h)
			golden.RequireEqual(t, []byte(out))
		})
	}

	lines := checkChart(t, drawColumns(provinceAOV(), 80, 12, 2, st, textsZH), 80, 12)
	labels := lines[len(lines)-2]
	// 西藏's column: × and its mark, and not a single bar glyph.
	x := cellAt(labels, "西藏")
	if x < 0 {
		t.Fatalf("no 西藏 in the labels: %q", labels)
	}
	column := ""
	for _, l := range lines[:len(lines)-3] {
		column += cells(l, x-3, x+7)
	}
	if !strings.Contains(column, "×") || !strings.Contains(column, "<10") {
		t.Errorf("西藏's column has no × or <10: %q", column)
	}
	if strings.ContainsAny(column, barGlyphs) {
		t.Errorf("西藏's column has a bar: %q", column)
	}
	// 青海 has no value: "–", no bar.
	x = cellAt(labels, "青海")
	column = ""
	for _, l := range lines[:len(lines)-3] {
		column += cells(l, x-3, x+7)
	}
	if !strings.Contains(column, "–") || strings.ContainsAny(column, barGlyphs) {
		t.Errorf("青海's column: want – and no bar: %q", column)
	}
	// The marker sits under 广东, the row marked.
	if m, g := cellAt(lines[len(lines)-1], "▲"), cellAt(labels, "广东"); m < g || m > g+4 {
		t.Errorf("▲ at %d, 广东 at %d:\n%s\n%s", m, g, labels, lines[len(lines)-1])
	}
	// The rows keep the result's order.
	if a, b := cellAt(labels, "上海"), cellAt(labels, "浙江"); a > b {
		t.Errorf("上海 after 浙江: %q", labels)
	}
	if !strings.Contains(lines[0], "1,954.1") {
		t.Errorf("the largest value is not on the top line: %q", lines[0])
	}
}

// An ordinal dimension keeps its order, and rows that do not fit are
// counted on the last line; the marked row stays in view.
func TestDrawColumnsOrderAndMore(t *testing.T) {
	st := chartStyles()
	lines := checkChart(t, drawColumns(ageCounts(), 80, 10, -1, st, textsEN), 80, 10)
	labels := lines[len(lines)-2]
	last := -1
	for _, k := range chartAge.Order {
		x := cellAt(labels, k)
		if x <= last {
			t.Errorf("%s out of order in %q", k, labels)
		}
		last = x
	}
	if strings.Contains(lines[len(lines)-1], "▲") {
		t.Errorf("marker without a marked row: %q", lines[len(lines)-1])
	}

	lines = checkChart(t, drawColumns(provinceAOV(), 40, 6, 6, st, textsEN), 40, 6)
	if !strings.Contains(lines[len(lines)-1], "+1 rows") {
		t.Errorf("want +1 rows on the last line:\n%s", strings.Join(lines, "\n"))
	}
	if !strings.Contains(lines[len(lines)-2], "西藏") || !strings.Contains(lines[len(lines)-1], "▲") {
		t.Errorf("the marked row 西藏 is not in view:\n%s", strings.Join(lines, "\n"))
	}
	// Narrow columns shorten every value alike.
	if !strings.Contains(strings.Join(lines, "\n"), "1.3k") {
		t.Errorf("want shortened values at 40 cells:\n%s", strings.Join(lines, "\n"))
	}
}

func TestDrawGrouped(t *testing.T) {
	st := chartStyles()
	for _, sz := range chartSizes {
		t.Run(fmt.Sprintf("chart_grouped_%s_%dx%d", sz.lang, sz.w, sz.h), func(t *testing.T) {
			out := drawGrouped(provinceCategory(), sz.w, sz.h, st, textsFor(sz.lang), sz.lang)
			checkChart(t, out, sz.w, sz.h)
			golden.RequireEqual(t, []byte(out))
		})
	}

	lines := checkChart(t, drawGrouped(provinceCategory(), 80, 12, st, textsZH, "zh"), 80, 12)
	legend := lines[len(lines)-1]
	// Series by total, largest first: 服饰, 美妆, 数码; each its own fill.
	for i, k := range []string{"服饰", "美妆", "数码"} {
		if !strings.Contains(legend, chartFills[i]+" "+k) {
			t.Errorf("legend lacks %s %s: %q", chartFills[i], k, legend)
		}
	}
	if !strings.Contains(legend, "× 已隐藏") || !strings.Contains(legend, "· 无人") {
		t.Errorf("legend lacks the marks: %q", legend)
	}
	// Groups keep the result's order, and each has one line per series.
	if !strings.HasPrefix(lines[0], "广东") || !strings.HasPrefix(lines[4], "浙江") || !strings.HasPrefix(lines[8], "西藏") {
		t.Errorf("groups out of order:\n%s", strings.Join(lines, "\n"))
	}
	for _, i := range []int{5, 8} { // 浙江·美妆, 西藏·服饰
		if !strings.Contains(lines[i], "× 已隐藏") || strings.ContainsAny(lines[i], barGlyphs) {
			t.Errorf("withheld line %d: want × 已隐藏 and no bar: %q", i, lines[i])
		}
	}
	if l := lines[10]; !strings.Contains(l, "数码 ·") || strings.ContainsAny(l, barGlyphs) {
		t.Errorf("西藏·数码 (nobody): want ·: %q", l)
	}
}

func TestDrawStacked(t *testing.T) {
	st := chartStyles()
	for _, percent := range []bool{false, true} {
		mode := "abs"
		if percent {
			mode = "pct"
		}
		for _, sz := range chartSizes {
			t.Run(fmt.Sprintf("chart_stacked_%s_%s_%dx%d", mode, sz.lang, sz.w, sz.h), func(t *testing.T) {
				out := drawStacked(provinceCategory(), sz.w, sz.h, percent, st, textsFor(sz.lang), sz.lang)
				checkChart(t, out, sz.w, sz.h)
				golden.RequireEqual(t, []byte(out))
			})
		}
	}

	// Percent: a bar is the whole of its margin; 浙江's withheld part is
	// hatched; 西藏, whose margin is withheld, is withheld as a whole.
	lines := checkChart(t, drawStacked(provinceCategory(), 80, 12, true, st, textsZH, "zh"), 80, 12)
	gd, zj, xz := lineWith(lines, "广东"), lineWith(lines, "浙江"), lineWith(lines, "西藏")
	if !strings.Contains(zj, chartHatch) {
		t.Errorf("浙江 has no hatched part: %q", zj)
	}
	if strings.Count(gd, "█")+strings.Count(gd, "▒")+strings.Count(gd, "░") !=
		strings.Count(zj, "█")+strings.Count(zj, "▒")+strings.Count(zj, "░")+strings.Count(zj, chartHatch) {
		t.Errorf("percent bars differ in length:\n%s\n%s", gd, zj)
	}
	if !strings.Contains(xz, chartHatch) || !strings.Contains(xz, "已隐藏") || strings.ContainsAny(xz, barGlyphs) {
		t.Errorf("西藏 is not withheld as a whole: %q", xz)
	}
	legend := lines[len(lines)-1]
	if !strings.Contains(legend, "█ 服饰") || !strings.Contains(legend, chartHatch+" 已隐藏") {
		t.Errorf("legend: %q", legend)
	}

	// Absolute: 西藏's margin is withheld, so its withheld part is of
	// unknown size: a short hatch, and its total is a lower bound.
	lines = checkChart(t, drawStacked(provinceCategory(), 80, 12, false, st, textsEN, "en"), 80, 12)
	xz = lineWith(lines, "西藏")
	if !strings.Contains(xz, chartHatch) || !strings.Contains(xz, "≥12") {
		t.Errorf("西藏: want a hatch and ≥12: %q", xz)
	}
	if !strings.Contains(lineWith(lines, "广东"), "11,310") {
		t.Errorf("广东's total is not its margin: %q", lineWith(lines, "广东"))
	}

	// Without margins, percent bars cannot be drawn: all withheld.
	res := provinceCategory()
	res.Margins = [slice.MaxDims][]slice.Row{}
	for _, l := range strings.Split(drawStacked(res, 60, 8, true, st, textsEN, "en"), "\n")[:3] {
		if !strings.Contains(l, "withheld") || strings.ContainsAny(l, barGlyphs) {
			t.Errorf("without a margin: %q", l)
		}
	}
}

func TestDrawLines(t *testing.T) {
	st := chartStyles()
	for _, sz := range chartSizes {
		t.Run(fmt.Sprintf("chart_lines_%s_%dx%d", sz.lang, sz.w, sz.h), func(t *testing.T) {
			out := drawLines(categoryMonth(), sz.w, sz.h, st, textsFor(sz.lang), sz.lang)
			checkChart(t, out, sz.w, sz.h)
			golden.RequireEqual(t, []byte(out))
		})
	}

	lines := checkChart(t, drawLines(categoryMonth(), 80, 12, st, textsZH, "zh"), 80, 12)
	axis, labels, legend := lines[len(lines)-3], lines[len(lines)-2], lines[len(lines)-1]
	// The months in their order, first and last labelled.
	if a, b, c := cellAt(labels, "2025-01"), cellAt(labels, "2025-05"), cellAt(labels, "2025-12"); a < 0 || c < 0 || a >= c || b >= 0 && (b < a || b > c) {
		t.Errorf("month labels out of order: %q", labels)
	}
	// One × on the axis, under 2025-02.
	if strings.Count(axis, "×") != 1 {
		t.Fatalf("want one × on the axis: %q", axis)
	}
	plotW := 80 - cellAt(axis, "└") - 1
	if x, want := cellAt(axis, "×")-cellAt(axis, "└")-1, int(math.Round(float64(plotW-1)/11)); x != want {
		t.Errorf("× at %d, want %d (2025-02): %q", x, want, axis)
	}
	for i, k := range []string{"服饰", "美妆", "数码"} { // largest first
		if !strings.Contains(legend, string(chartPoints[i])+" "+k) {
			t.Errorf("legend lacks %c %s: %q", chartPoints[i], k, legend)
		}
	}
	if !strings.Contains(legend, "× 已隐藏") {
		t.Errorf("legend lacks × 已隐藏: %q", legend)
	}
	// 数码 is drawn only where it has values: 11 points less the
	// withheld and the missing month.
	plot := strings.Join(lines[:len(lines)-3], "\n")
	if n := strings.Count(plot, string(chartPoints[2])); n < 8 || n > 10 {
		t.Errorf("数码 has %d points, want 10 (some may hide under others):\n%s", n, plot)
	}
	if !strings.Contains(lines[0], "5,480") {
		t.Errorf("the top tick is not the largest value: %q", lines[0])
	}
}

// The time dimension may come first; one dimension is one series named
// by the measure; series past six are counted, not drawn.
func TestDrawLinesShapes(t *testing.T) {
	st := chartStyles()
	one := &slice.Result{Dims: []inventory.Field{chartMonth}, Measure: chartPeople, K: 10}
	for i, m := range chartMonth.Order {
		r := slice.Row{Keys: []string{m}, Value: chartMonthly["美妆"][i]}
		if m == "2025-06" {
			r = slice.Row{Keys: []string{m}, Suppressed: true, Reason: slice.FewPeople}
		}
		one.Rows = append(one.Rows, r)
	}
	lines := checkChart(t, drawLines(one, 60, 10, st, textsEN, "en"), 60, 10)
	if !strings.Contains(lines[len(lines)-1], "● People") || strings.Count(lines[len(lines)-3], "×") != 1 {
		t.Errorf("one series:\n%s", strings.Join(lines, "\n"))
	}

	first := categoryMonth()
	first.Dims[0], first.Dims[1] = first.Dims[1], first.Dims[0]
	for i := range first.Rows {
		k := first.Rows[i].Keys
		first.Rows[i].Keys = []string{k[1], k[0]}
	}
	lines = checkChart(t, drawLines(first, 80, 12, st, textsZH, "zh"), 80, 12)
	if got, want := strings.Join(lines, "\n"), drawLines(categoryMonth(), 80, 12, st, textsZH, "zh"); got != want {
		t.Errorf("time first draws differently:\n%s\n\nwant:\n%s", got, want)
	}

	many := &slice.Result{Dims: []inventory.Field{chartMonth, chartCategory}, Measure: chartPeople, K: 10}
	for _, m := range chartMonth.Order {
		for c := range 8 {
			many.Rows = append(many.Rows, slice.Row{Keys: []string{m, fmt.Sprintf("c%d", c)}, Value: float64(100 * (8 - c))})
		}
	}
	lines = checkChart(t, drawLines(many, 120, 12, st, textsEN, "en"), 120, 12)
	if l := lines[len(lines)-1]; !strings.Contains(l, "+2 series not shown") || !strings.Contains(l, "□ c5") || strings.Contains(l, "c6") {
		t.Errorf("legend of eight series: %q", l)
	}
}

func TestSparkline(t *testing.T) {
	vals := []float64{10, 20, 30, 0, 40, 50, 60, 70, 80}
	ok := []bool{true, true, true, false, true, true, true, true, true}
	withheld := []bool{false, false, false, false, true, false, false, false, false}
	tests := []struct {
		w    int
		want string
	}{
		{12, "▁▂▃ ×▅▆▇█   "},
		{9, "▁▂▃ ×▅▆▇█"},
		{4, "▁▃▆█"}, // the last four values, scaled among themselves
		{0, ""},
	}
	var all []string
	for _, tt := range tests {
		got := sparkline(vals, ok, withheld, tt.w)
		if got != tt.want {
			t.Errorf("w=%d: got %q, want %q", tt.w, got, tt.want)
		}
		if lipgloss.Width(got) != tt.w {
			t.Errorf("w=%d: %d cells", tt.w, lipgloss.Width(got))
		}
		all = append(all, fmt.Sprintf("%2d |%s|", tt.w, got))
	}
	if got := sparkline([]float64{5, 5, 5}, []bool{true, true, true}, nil, 3); got != "▄▄▄" {
		t.Errorf("flat: %q", got)
	}
	if got := sparkline([]float64{5, 7}, []bool{true}, nil, 3); got != "▄  " {
		t.Errorf("short ok: %q", got)
	}
	if got := sparkline([]float64{math.NaN(), 1, 2}, []bool{true, true, true}, []bool{false, false, true}, 3); got != " ▄×" {
		t.Errorf("NaN and withheld: %q", got)
	}
	// The months of the line chart's series, as a table would show them.
	res := categoryMonth()
	for _, c := range []string{"服饰", "美妆", "数码"} {
		var v []float64
		var okv, wh []bool
		for _, r := range res.Rows {
			if r.Keys[0] == c {
				v = append(v, r.Value)
				okv = append(okv, r.Defined())
				wh = append(wh, r.Suppressed)
			}
		}
		all = append(all, fmt.Sprintf("%s |%s|", c, sparkline(v, okv, wh, 12)))
	}
	t.Run("chart_sparkline", func(t *testing.T) {
		golden.RequireEqual(t, []byte(strings.Join(all, "\n")))
	})
}

// No chart panics, or breaks its size, however small or large it is.
func TestChartSizes(t *testing.T) {
	st := chartStyles()
	empty := &slice.Result{Dims: []inventory.Field{chartProvince, chartCategory}, Measure: chartPeople}
	draw := map[string]func(w, h int) string{
		"columns":   func(w, h int) string { return drawColumns(provinceAOV(), w, h, 6, st, textsZH) },
		"columns2":  func(w, h int) string { return drawColumns(ageCounts(), w, h, 0, st, textsEN) },
		"grouped":   func(w, h int) string { return drawGrouped(provinceCategory(), w, h, st, textsZH, "zh") },
		"stacked":   func(w, h int) string { return drawStacked(provinceCategory(), w, h, false, st, textsZH, "zh") },
		"stacked%":  func(w, h int) string { return drawStacked(provinceCategory(), w, h, true, st, textsEN, "en") },
		"lines":     func(w, h int) string { return drawLines(categoryMonth(), w, h, st, textsZH, "zh") },
		"empty":     func(w, h int) string { return drawGrouped(empty, w, h, st, textsEN, "en") },
		"emptyLine": func(w, h int) string { return drawLines(empty, w, h, st, textsEN, "en") },
	}
	sizes := [][2]int{{40, 4}, {200, 60}, {41, 5}, {60, 8}, {10, 4}, {3, 2}, {1, 1}}
	for name, f := range draw {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s_%dx%d", name, sz[0], sz[1]), func(t *testing.T) {
				out := f(sz[0], sz[1])
				checkChart(t, out, sz[0], sz[1])
				if sz == [2]int{40, 4} && name != "empty" && name != "emptyLine" && !strings.ContainsAny(out, barGlyphs+"●") {
					t.Errorf("nothing drawn at 40×4:\n%s", out)
				}
			})
		}
	}
}

// With colour on, the charts still fit their size exactly (the escape
// sequences take no cells) and still mark by glyph, not colour alone.
func TestChartsInColour(t *testing.T) {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	st := newStyles(r)
	for name, out := range map[string]string{
		"columns": drawColumns(provinceAOV(), 80, 12, 2, st, textsZH),
		"grouped": drawGrouped(provinceCategory(), 80, 12, st, textsZH, "zh"),
		"stacked": drawStacked(provinceCategory(), 80, 12, true, st, textsZH, "zh"),
		"lines":   drawLines(categoryMonth(), 80, 12, st, textsZH, "zh"),
	} {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(out, "\x1b[") {
				t.Errorf("no colour")
			}
			checkChart(t, out, 80, 12)
			if !strings.ContainsAny(out, "×╳") {
				t.Errorf("no withheld mark")
			}
		})
	}
}
