package tui

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/persona-workbench/persona/engine/analysis"
	"github.com/persona-workbench/persona/engine/erase"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/engine/usagelog"
	"github.com/persona-workbench/persona/engine/views"
)

// Every chart and every screen, at 80×24 and 160×48, in both languages.
// The keys reach each one the way an analyst would.
func TestEveryScreen(t *testing.T) {
	screens := []struct {
		name string
		keys []string
	}{
		{"bars", []string{"j"}},
		{"columns", []string{"j", "v"}},
		{"lines", []string{"j", "j", "j"}},
		{"lines_series", []string{"j", "j", "b", "j"}},
		{"heatmap", []string{"b", "j"}},
		{"grouped", []string{"b", "j", "v"}},
		{"stacked", []string{"b", "j", "v", "v"}},
		{"percent", []string{"b", "j", "v", "v", "v"}},
		{"compare", []string{"j", "j", "j", "j", "c", "k", "k", "k"}},
		{"drill", []string{"j", "tab", "tab", "enter"}},
		{"measures", []string{"tab"}},
		{"help", []string{"?"}},
		{"picker", []string{"j", "F", "space"}},
		{"palette", []string{":"}},
		{"views", []string{"V"}},
		{"view_name", []string{"S", "省份"}},
		{"usage_log", []string{"L"}},
		{"compliance", []string{"C"}},
		{"analyses_rules", []string{"A"}},
		{"analyses_lift", []string{"A", "tab", "b"}},
		{"analyses_segments", []string{"A", "tab", "tab"}},
		{"analyses_classify", []string{"A", "shift+tab"}},
		{"export", []string{"E"}},
		{"export_report", []string{"E", "j", "j", "j", "tab"}},
	}
	for _, sc := range screens {
		for _, lang := range []string{"zh", "en"} {
			for _, size := range [][2]int{{80, 24}, {160, 48}} {
				name := fmt.Sprintf("%s_%s_%dx%d", sc.name, lang, size[0], size[1])
				t.Run(name, func(t *testing.T) {
					view := driveWith(t, screenConfig(), lang, size[0], size[1], sc.keys...)
					checkSize(t, view, size[0], size[1])
					golden.RequireEqual(t, []byte(view))
				})
			}
		}
	}
	for _, lang := range []string{"zh", "en"} {
		for _, size := range [][2]int{{80, 24}, {160, 48}} {
			t.Run(fmt.Sprintf("gate_%s_%dx%d", lang, size[0], size[1]), func(t *testing.T) {
				app := New(Config{Backend: newFake(), Lang: lang, Title: "t", Watermark: testWatermark,
					Gate: &Gate{Licence: testLicence(), Person: "王芳", Now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}})
				m, _ := app.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				view := m.View()
				checkSize(t, view, size[0], size[1])
				golden.RequireEqual(t, []byte(view))
			})
		}
	}
}

// screenConfig has every screen's backing: saved views, a usage log and
// the compliance screen's licences.
func screenConfig() Config {
	base := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	recs := []usagelog.Record{
		{Seq: 1, Time: base, Kind: usagelog.KindEnrol, Data: json.RawMessage(`{"name":"王芳"}`)},
		{Seq: 2, Time: base.Add(time.Hour), Kind: usagelog.KindOpen, Data: json.RawMessage(`{"package":"/data/brand.persona"}`)},
		{Seq: 3, Time: base.Add(time.Hour + time.Minute), Kind: usagelog.KindQuery, Data: json.RawMessage(`{"by":["province"],"k":10,"rows":31,"withheld":2}`)},
	}
	return Config{
		Backend: newFake(),
		Exports: &fakeExports{},
		Now:     testClock,
		Views: &memViews{vs: []views.View{
			{Name: "618 复盘", Dims: []string{"province", "categories"}, Measure: "people", Chart: "heatmap", Saved: base},
		}},
		UsageLog: func() ([]usagelog.Record, *usagelog.Report, error) {
			return recs, &usagelog.Report{Records: 3, Checkpoints: 2}, nil
		},
		Compliance: &Compliance{
			Licence: "LIC-2026-0001",
			Status: func() ([]erase.LicenceStatus, error) {
				l := testLicence()
				return []erase.LicenceStatus{{ID: l.ID, State: "active", LogOK: true, Licence: l, DaysLeft: 158, DeleteBy: l.DeleteBy(), DaysToErase: 173, Derivatives: 2}}, nil
			},
			Delete: func() (string, error) { return "", nil },
		},
	}
}

// On a 16-colour terminal every colour comes out as one of the 16 (no
// 256-colour or true-colour escapes), and the screens still fit.
func TestSixteenColours(t *testing.T) {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI)
	r.SetHasDarkBackground(true)
	wide := regexp.MustCompile(`\x1b\[[0-9;]*[34]8;[25];`)
	coloured := regexp.MustCompile(`\x1b\[[0-9;]*(3[0-7]|9[0-7])m`)
	for _, keys := range [][]string{{"j"}, {"b", "j"}, {"b", "j", "v", "v"}, {"j", "j", "j"}, {":"}, {"j", "F"}} {
		cfg := screenConfig()
		cfg.Renderer = r
		view := driveWith(t, cfg, "zh", 80, 24, keys...)
		if m := wide.FindString(view); m != "" {
			t.Errorf("keys %v: a colour beyond 16: %q", keys, m)
		}
		if !coloured.MatchString(view) {
			t.Errorf("keys %v: no colour at all on a 16-colour terminal", keys)
		}
		checkSize(t, view, 80, 24)
	}
}

// A two-dimension slice that nobody is in draws an empty screen, and
// does not crash.
func TestEmptyTwoDimensionSlice(t *testing.T) {
	b := newFake()
	b.rows = map[string][]slice.Row{"age_band": canned["age_band"]}
	view := drive(t, b, "en", 80, 24, "b", "j")
	if !strings.Contains(view, "no data matches") {
		t.Errorf("empty slice:\n%s", view)
	}
}

// Going back up a drill and then editing a filter leaves the history
// alone: undoing to before it and back up again asks for real filters.
func TestBackThenEditKeepsHistory(t *testing.T) {
	b := newFake()
	drive(t, b, "en", 80, 24, "tab", "tab", "f", "shift+tab", "shift+tab", "j", "tab", "tab", "enter", "esc",
		"shift+tab", "shift+tab", "k", "F", "space", "enter", "u", "u", "u", "esc")
	for _, q := range b.queries {
		for name := range q.Filters {
			if name == "" {
				t.Fatalf("a query filters on no dimension: %+v", q)
			}
		}
	}
}

// v reaches every chart that fits, bars included, from the comparison.
func TestChartCycleReachesBars(t *testing.T) {
	view := drive(t, newFake(), "en", 80, 24, "j", "j", "j", "j", "c", "k", "k", "k", "v")
	if !strings.Contains(view, "People by Province × Exposure · bars") {
		t.Errorf("after the comparison, v shows bars:\n%s", view)
	}
}

// A slicer action from the palette acts on the slicer, not on the list
// shown over it; clicks do nothing while the palette is open.
func TestPaletteActsOnTheSlicer(t *testing.T) {
	cfg := screenConfig()
	driveWith(t, cfg, "en", 80, 24, "V", ":", "clear", "enter")
	if vs, _ := cfg.Views.List(); len(vs) != 1 {
		t.Errorf("clear filters from the palette removed a saved view: %v", vs)
	}
	b := newFake()
	drive(t, b, "en", 80, 24, ":", "click 5 4")
	if q := b.last(); !slices.Equal(q.Dims, []string{"age_band"}) {
		t.Errorf("a click behind the palette sliced by %v", q.Dims)
	}
}

// The largest terminal the workbench is made for: every screen fits.
func TestLargestTerminal(t *testing.T) {
	for _, keys := range [][]string{{"j"}, {"j", "v"}, {"b", "j"}, {"b", "j", "v"}, {"j", "j", "j"}, {"j", "j", "j", "j", "c", "k"}, {"j", "F"}, {":"}, {"?"}, {"V"}, {"L"}, {"C"}} {
		view := driveWith(t, screenConfig(), "zh", 300, 100, keys...)
		checkSize(t, view, 300, 100)
		if !strings.Contains(view, testWatermark) {
			t.Errorf("keys %v: no watermark at 300×100", keys)
		}
	}
}

// A runs the association rules on the open data, tab the campaign lift;
// each run is reported for the usage log, and esc closes the screen.
func TestAnalysesScreen(t *testing.T) {
	var mu sync.Mutex
	var recs []map[string]any
	cfg := screenConfig()
	cfg.OnAnalysis = func(rec map[string]any) { mu.Lock(); recs = append(recs, rec); mu.Unlock() }
	view := driveWith(t, cfg, "en", 100, 30, "A")
	for _, want := range []string{"Association rules", "if", "then", "lift", "服饰"} {
		if !strings.Contains(view, want) {
			t.Errorf("rules screen lacks %q:\n%s", want, view)
		}
	}
	view = driveWith(t, cfg, "en", 100, 30, "A", "tab", "b")
	for _, want := range []string{"已曝光 against 未曝光", "everyone", "+33.3%", "18-24", "●"} {
		if !strings.Contains(view, want) {
			t.Errorf("lift screen lacks %q:\n%s", want, view)
		}
	}
	view = driveWith(t, cfg, "en", 100, 30, "A", "esc")
	if !strings.Contains(view, "People by Age band") {
		t.Errorf("esc did not close the analyses:\n%s", view)
	}
	mu.Lock()
	defer mu.Unlock()
	kinds := map[any]int{}
	for _, r := range recs {
		kinds[r["analysis"]]++
	}
	if kinds["rules"] != 3 || kinds["lift"] != 2 {
		t.Errorf("reported runs: %v", kinds)
	}
}

// A segmentation's segments become a dimension: the slicer and the
// palette offer it, enter on the segments tab slices by it, and the run
// is reported for the usage log.
func TestSegmentsBecomeADimension(t *testing.T) {
	var mu sync.Mutex
	var recs []map[string]any
	cfg := screenConfig()
	cfg.OnAnalysis = func(rec map[string]any) { mu.Lock(); recs = append(recs, rec); mu.Unlock() }
	p := driveModel(t, cfg, "en", 100, 30, "A", "tab", "tab")
	view := p.View()
	for _, want := range []string{"[Segments]", "Segments (8) · Age band, Categories", "silhouette", "[8 █", "S1", "top Categories", "↑ 30-34 275"} {
		if !strings.Contains(view, want) {
			t.Errorf("segments tab lacks %q:\n%s", want, view)
		}
	}
	b := cfg.Backend.(*fakeBackend)
	seg := slices.IndexFunc(b.Inventory().Fields, func(f inventory.Field) bool { return strings.HasPrefix(f.Name, slice.SegmentPrefix) })
	if seg < 0 {
		t.Fatal("the segmentation derived no dimension")
	}
	field := b.Inventory().Fields[seg]
	if !slices.ContainsFunc(p.App.slicer.dims, func(d inventory.Field) bool { return d.Name == field.Name }) {
		t.Errorf("the slicer does not offer %s: %v", field.Name, p.App.slicer.dims)
	}
	if !slices.ContainsFunc(p.App.actions(), func(a paletteAction) bool { return a.ID == "dim-"+field.Name }) {
		t.Errorf("the palette does not offer slicing by %s", field.Name)
	}
	mu.Lock()
	rec := recs[len(recs)-1]
	mu.Unlock()
	if rec["analysis"] != "segments" || rec["source"] != "tui" || rec["dimension"] != field.Name || rec["segments"] != 8 ||
		rec["silhouette"] == nil || !slices.Equal(rec["dims"].([]string), []string{"age_band", "categories"}) {
		t.Errorf("reported run: %v", rec)
	}

	// enter: back to the slicer, sliced by the segments.
	b = newFake()
	cfg.Backend = b
	view = driveWith(t, cfg, "en", 100, 30, "A", "tab", "tab", "enter")
	if q := b.last(); len(q.Dims) != 1 || q.Dims[0] != field.Name {
		t.Errorf("enter sliced by %v, want %s", q.Dims, field.Name)
	}
	for _, want := range []string{"People by Segments (8)", "S1", "57,607"} {
		if !strings.Contains(view, want) {
			t.Errorf("sliced by the segments, the slicer lacks %q:\n%s", want, view)
		}
	}

	// n asks for a number of segments: 2 the first time.
	b = newFake()
	cfg.Backend = b
	view = driveWith(t, cfg, "en", 100, 30, "A", "tab", "tab", "n")
	if !strings.Contains(view, "Segments (2)") || !strings.Contains(view, "segments: 2") {
		t.Errorf("n: not 2 segments:\n%s", view)
	}
	mu.Lock()
	rec = recs[len(recs)-1]
	mu.Unlock()
	if rec["k"] != 2 || rec["segments"] != 2 {
		t.Errorf("n: reported %v", rec)
	}
}

// The classify tab predicts the first target, t moves on to the next;
// both models' figures, the importance and the leaves show, and each run
// is reported.
func TestClassifyTab(t *testing.T) {
	var mu sync.Mutex
	var recs []map[string]any
	cfg := screenConfig()
	cfg.OnAnalysis = func(rec map[string]any) { mu.Lock(); recs = append(recs, rec); mu.Unlock() }
	view := driveWith(t, cfg, "en", 160, 48, "A", "shift+tab")
	for _, want := range []string{"[Classification]", "target: Converted", "AUC", "majority class", "base rate in the holdout",
		"feature importance", "Categories", "the tree's leaves as rules", "美妆 is among categories, and exposure is 已曝光"} {
		if !strings.Contains(view, want) {
			t.Errorf("classify tab lacks %q:\n%s", want, view)
		}
	}
	cfg.Backend = newFake()
	view = driveWith(t, cfg, "en", 160, 48, "A", "shift+tab", "t")
	if !strings.Contains(view, "target: age band is 25-29 or 30-34") {
		t.Errorf("t: not the next target:\n%s", view)
	}
	mu.Lock()
	defer mu.Unlock()
	var targets []any
	for _, r := range recs {
		if r["analysis"] == "classify" {
			targets = append(targets, r["target"])
			if r["source"] != "tui" || r["leaves"].(int) == 0 || r["tree_auc"] == nil || r["logistic_auc"] == nil {
				t.Errorf("reported run: %v", r)
			}
		}
	}
	if !slices.Equal(targets, []any{"converted", "converted", "age_band=25-29,30-34"}) {
		t.Errorf("reported targets: %v", targets)
	}
}

// Down scrolls the classification; a screen of 80×24 shows the leaves
// that did not fit.
func TestClassifyScrolls(t *testing.T) {
	first := driveWith(t, screenConfig(), "en", 80, 24, "A", "shift+tab")
	keys := []string{"A", "shift+tab"}
	for range 40 {
		keys = append(keys, "down")
	}
	scrolled := driveWith(t, screenConfig(), "en", 80, 24, keys...)
	if strings.Contains(first, "9,723") || !strings.Contains(scrolled, "9,723") || strings.Contains(scrolled, "majority class") {
		t.Errorf("scrolling to the last leaf:\n%s\n%s", first, scrolled)
	}
	checkSize(t, scrolled, 80, 24)
}

// A segment or a leaf the guard withholds shows its mark and why, never
// a number.
func TestWithheldSegmentsAndLeaves(t *testing.T) {
	app := New(Config{Backend: newFake(), Lang: "en", Title: "t"})
	s := app.an
	s.SetSize(100, 30)
	f := inventory.Field{Name: "segment_0123456789", Label: inventory.Label{ZH: "细分（2 群）", EN: "Segments (2)"}, Role: inventory.Dimension}
	cats, _ := newFake().Inventory().Field("categories")
	s.tab = tabSegments
	s.segs = &analysis.Segments{Field: f, Dims: []inventory.Field{cats}, K: 2, MinK: 10, People: 5000,
		Choices: []analysis.KChoice{{K: 2, Silhouette: 0.4}, {K: 3, Silhouette: 0.2}},
		Segments: []analysis.Segment{
			{Name: "S1", People: 4995, Share: 0.999, Traits: []analysis.Trait{{Dim: "categories", Value: "美妆", Share: 0.5, Index: 100}}},
			{Name: "S2", Withheld: true, Reason: slice.FewPeople},
		}}
	s.classes = &analysis.Classification{Target: analysis.Target{Label: inventory.Label{EN: "Converted"}}, K: 10, People: 5000, Test: 1000,
		Tree: analysis.Tree{Depth: 1, Leaves: []analysis.Leaf{
			{Rule: inventory.Label{EN: "美妆 is among categories"}, People: 4000, Rate: 0.1},
			{Rule: inventory.Label{EN: "美妆 is not among categories"}, Withheld: true, Reason: slice.Complementary},
		}}}
	for _, tab := range []anTab{tabSegments, tabClassify} {
		s.tab = tab
		view := s.View()
		var marked []string
		for _, l := range strings.Split(view, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "S2") || strings.Contains(l, "is not among") {
				marked = append(marked, l)
			}
		}
		if len(marked) != 1 {
			t.Fatalf("tab %d: the withheld row shows on %d lines:\n%s", tab, len(marked), view)
		}
		l := marked[0]
		if !strings.Contains(l, "<10") && !strings.Contains(l, "hidden") || regexp.MustCompile(`\d[,.]\d`).MatchString(strings.ReplaceAll(l, "<10", "")) {
			t.Errorf("tab %d: withheld row %q", tab, l)
		}
		if !strings.Contains(view, "withheld") {
			t.Errorf("tab %d: no reason given:\n%s", tab, view)
		}
	}
}
