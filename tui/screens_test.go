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

	"github.com/persona-workbench/persona/engine/erase"
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
