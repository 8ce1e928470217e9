package tui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

func TestMain(m *testing.M) {
	// Goldens must not depend on the terminal running the tests.
	lipgloss.SetColorProfile(termenv.Ascii)
	lipgloss.SetHasDarkBackground(true)
	os.Exit(m.Run())
}

// fakeBackend answers from canned rows, so the UI tests need no database.
// It records every query it is asked. The analyses that fit a model read
// profiles of a small synthetic population (population_test.go), and
// slices by the segments they derive are counted from it.
type fakeBackend struct {
	inv     *inventory.Inventory
	mu      sync.Mutex
	queries []slice.Query
	rows    map[string][]slice.Row // each dimension's rows; canned if nil
	pop     []fakeType
	derived map[string]slice.Segmentation
	// population answers every slice from the population, not only
	// those fromPopulation picks.
	population bool
}

func newFake() *fakeBackend {
	l := func(zh, en string) inventory.Label { return inventory.Label{ZH: zh, EN: en} }
	return &fakeBackend{pop: fakePopulation(), derived: map[string]slice.Segmentation{}, inv: &inventory.Inventory{
		Version: inventory.Version, Table: "personas", Dataset: l("测试数据", "Test data"),
		Fields: []inventory.Field{
			{Name: "age_band", Label: l("年龄段", "Age band"), Role: inventory.Dimension, Type: "VARCHAR", Order: []string{"18-24", "25-29", "30-34"}},
			{Name: "province", Label: l("省份", "Province"), Role: inventory.Dimension, Type: "VARCHAR"},
			{Name: "categories", Label: l("偏好品类", "Categories"), Role: inventory.MultiDimension, Type: "VARCHAR[]"},
			{Name: "month", Label: l("月份", "Month"), Role: inventory.Time, Type: "VARCHAR", Order: []string{"2025-01", "2025-02"}},
			{Name: "exposure", Label: l("活动曝光", "Exposure"), Role: inventory.Dimension, Type: "VARCHAR", Order: []string{"未曝光", "已曝光"}},
			{Name: "gmv", Label: l("成交额", "GMV"), Role: inventory.Measure, Type: "DOUBLE"},
			{Name: "monthly_orders", Label: l("订单数", "Orders"), Role: inventory.Measure, Type: "INTEGER[]", Series: "month"},
			{Name: "converted", Label: l("转化", "Converted"), Role: inventory.Measure, Type: "BOOLEAN"},
		},
		Measures: []inventory.MeasureDef{
			{Name: "people", Label: l("人数", "People"), Kind: inventory.Count, Unit: "人"},
			{Name: "gmv", Label: l("成交额", "GMV"), Kind: inventory.Sum, Field: "gmv", Unit: "元"},
			{Name: "orders", Label: l("订单数", "Orders"), Kind: inventory.Sum, Field: "monthly_orders", Unit: "单"},
			{Name: "conversion", Label: l("转化率", "Conversion"), Kind: inventory.Share, Field: "converted", Decimals: 1, Percent: true},
		},
	}}
}

var canned = map[string][]slice.Row{
	"age_band":   {{Keys: []string{"18-24"}, Value: 32086, People: 32086}, {Keys: []string{"25-29"}, Value: 39984, People: 39984}, {Keys: []string{"30-34"}, Value: 41989, People: 41989}},
	"province":   {{Keys: []string{"广东"}, Value: 27455, People: 27455}, {Keys: []string{"江苏"}, Value: 16069, People: 16069}, {Keys: []string{"内蒙古"}, Value: 2512, People: 2512}, {Keys: []string{"西藏"}, Suppressed: true, Reason: slice.FewPeople}},
	"categories": {{Keys: []string{"服饰"}, Value: 90000, People: 90000}, {Keys: []string{"美妆"}, Value: 60000, People: 60000}},
	"month":      {{Keys: []string{"2025-01"}, Value: 200000, People: 200000}, {Keys: []string{"2025-02"}, Value: 200000, People: 200000}},
	"exposure":   {{Keys: []string{"未曝光"}, Value: 120000, People: 120000}, {Keys: []string{"已曝光"}, Value: 80000, People: 80000}},
}

func (f *fakeBackend) Inventory() *inventory.Inventory {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inv
}

func (f *fakeBackend) K() int { return 10 }

func (f *fakeBackend) Profiles(ctx context.Context, q slice.ProfileQuery) ([]slice.Profile, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return f.view().profiles(q)
}

// Derive adds the segmentation's dimension to a copy of the inventory,
// as the engine does.
func (f *fakeBackend) Derive(s slice.Segmentation) (inventory.Field, error) {
	if err := s.Check(f.Inventory()); err != nil {
		return inventory.Field{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := s.Name()
	if _, ok := f.derived[name]; !ok {
		derived := maps.Clone(f.derived)
		derived[name] = s
		f.derived = derived
		inv := *f.inv
		inv.Fields = append(slices.Clip(inv.Fields), inventory.Field{Name: name, Label: s.Label, Role: inventory.Dimension, Type: "VARCHAR", Order: s.Values})
		f.inv = &inv
	}
	fd, _ := f.inv.Field(name)
	return fd, nil
}

func (f *fakeBackend) Run(ctx context.Context, q slice.Query) (*slice.Result, error) {
	f.mu.Lock()
	f.queries = append(f.queries, q)
	f.mu.Unlock()
	if q.Measure == "orders" && slices.Contains(q.Dims, "categories") {
		return nil, errors.New("orders by categories failed")
	}
	res := &slice.Result{Query: q, K: 10, Elapsed: 1200 * time.Microsecond}
	inv := f.Inventory()
	res.Measure, _ = inv.Measure(q.Measure)
	for _, d := range q.Dims {
		fd, _ := inv.Field(d)
		res.Dims = append(res.Dims, fd)
	}
	if f.fromPopulation(q, inv) {
		f.view().countPopulation(q, res)
		return res, nil
	}
	scale := 1.0
	if q.Measure == "gmv" {
		scale = 123.5
	}
	switch len(q.Dims) {
	case 0:
		res.Rows = []slice.Row{{Value: 200000 * scale, People: 200000}}
	case 1:
		for _, r := range f.data()[q.Dims[0]] {
			r.Value *= scale
			res.Rows = append(res.Rows, r)
		}
	case 2:
		for _, a := range f.data()[q.Dims[0]] {
			for _, b := range f.data()[q.Dims[1]] {
				r := slice.Row{Keys: []string{a.Keys[0], b.Keys[0]}, Suppressed: a.Suppressed || b.Suppressed}
				if r.Suppressed {
					r.Reason = slice.FewPeople
				} else {
					r.People = a.People * b.People / 300000
					r.Value = float64(r.People) * scale
				}
				res.Rows = append(res.Rows, r)
			}
		}
	}
	if q.Measure == "conversion" {
		// A rate: 8% among the exposed, 6% among the others.
		for i := range res.Rows {
			if !res.Rows[i].Suppressed {
				res.Rows[i].Value = 0.06
				if slices.Contains(res.Rows[i].Keys, "已曝光") {
					res.Rows[i].Value = 0.08
				}
			}
		}
	}
	if len(q.Dims) == 0 {
		return res, nil
	}
	for i, d := range q.Dims {
		if vals, ok := q.Filters[d]; ok {
			res.Rows = slices.DeleteFunc(res.Rows, func(r slice.Row) bool { return !slices.Contains(vals, r.Keys[i]) })
		}
	}
	if q.Totals {
		// The grand total: the people of the shown cells.
		total := slice.Row{}
		for _, r := range res.Rows {
			total.People += r.People
			total.Value += r.Value
		}
		res.Total = &total
	}
	if q.Totals && len(q.Dims) == 2 {
		// Each dimension's margins: the sums of the shown cells; a row
		// with a withheld cell has its margin withheld.
		for d := range 2 {
			for _, r := range res.Rows {
				at := slices.IndexFunc(res.Margins[d], func(m slice.Row) bool { return m.Keys[0] == r.Keys[d] })
				if at < 0 {
					res.Margins[d] = append(res.Margins[d], slice.Row{Keys: []string{r.Keys[d]}})
					at = len(res.Margins[d]) - 1
				}
				m := &res.Margins[d][at]
				m.Value += r.Value
				m.People += r.People
				if r.Suppressed && d == 0 {
					m.Suppressed, m.Reason, m.Value, m.People = true, slice.Complementary, 0, 0
				}
			}
		}
	}
	for _, r := range res.Rows {
		if r.Suppressed {
			res.Suppressed++
		}
	}
	return res, nil
}

func (f *fakeBackend) data() map[string][]slice.Row {
	if f.rows != nil {
		return f.rows
	}
	return canned
}

func (f *fakeBackend) last() slice.Query {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queries[len(f.queries)-1]
}

// probe wraps the app to tell the test when it has handled an input and
// has no query running, so tests wait for the app instead of sleeping.
type probe struct {
	App
	inputs *atomic.Int64
	busy   *atomic.Bool
}

func (p probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := p.App.Update(msg)
	p.App = m.(App)
	p.busy.Store(p.App.slicer.running || p.App.views.loading || p.App.slicer.picking != nil || p.App.usage.loading || p.App.comp.loading || p.App.an.running ||
		p.App.exp.running || p.App.exp.loading)
	switch msg.(type) {
	case tea.KeyMsg, tea.WindowSizeMsg, tea.MouseMsg:
		p.inputs.Add(1)
	}
	return p, cmd
}

// drive runs the app at w×h, types keys (waiting after each until the app
// has handled it and its query, if any, has answered), and returns the
// final screen.
func drive(t *testing.T, b *fakeBackend, lang string, w, h int, keys ...string) string {
	t.Helper()
	return driveWith(t, Config{Backend: b}, lang, w, h, keys...)
}

// driveWith is drive with more of the configuration set.
func driveWith(t testing.TB, cfg Config, lang string, w, h int, keys ...string) string {
	t.Helper()
	return driveModel(t, cfg, lang, w, h, keys...).View()
}

// driveModel is driveWith returning the app as it was at the end.
func driveModel(t testing.TB, cfg Config, lang string, w, h int, keys ...string) probe {
	t.Helper()
	b := cfg.Backend.(*fakeBackend)
	cfg.Lang, cfg.Title, cfg.Watermark = lang, b.inv.Dataset.In(lang), testWatermark
	p := probe{App: New(cfg), inputs: new(atomic.Int64), busy: new(atomic.Bool)}
	tm := teatest.NewTestModel(t, p, teatest.WithInitialTermSize(w, h))
	status := regexp.MustCompile(`(行|rows) \d+|too small`)
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return status.Match(out) }, teatest.WithDuration(5*time.Second))
	for _, k := range keys {
		before := p.inputs.Load()
		switch k {
		case "tab":
			tm.Send(tea.KeyMsg{Type: tea.KeyTab})
		case "esc":
			tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
		case "shift+tab":
			tm.Send(tea.KeyMsg{Type: tea.KeyShiftTab})
		case "space":
			tm.Send(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
		case "down":
			tm.Send(tea.KeyMsg{Type: tea.KeyDown})
		case "up":
			tm.Send(tea.KeyMsg{Type: tea.KeyUp})
		case "backspace":
			tm.Send(tea.KeyMsg{Type: tea.KeyBackspace})
		case "ctrl+u":
			tm.Send(tea.KeyMsg{Type: tea.KeyCtrlU})
		case "enter":
			tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
		case "resize":
			tm.Send(tea.WindowSizeMsg{Width: 100, Height: 30})
		case "wheel-up", "wheel-down":
			// over the middle of the right pane
			b := tea.MouseButtonWheelDown
			if k == "wheel-up" {
				b = tea.MouseButtonWheelUp
			}
			tm.Send(tea.MouseMsg{X: w - 5, Y: h / 2, Button: b, Action: tea.MouseActionPress})
		default:
			var x, y int
			if n, _ := fmt.Sscanf(k, "click %d %d", &x, &y); n == 2 {
				tm.Send(tea.MouseMsg{X: x, Y: y, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
				break
			}
			tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
		}
		deadline := time.Now().Add(5 * time.Second)
		for p.inputs.Load() == before || p.busy.Load() {
			if time.Now().After(deadline) {
				t.Fatalf("the app did not settle after key %q", k)
			}
			time.Sleep(time.Millisecond)
		}
	}
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	return tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(probe)
}

func checkSize(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) > h {
		t.Errorf("view has %d lines, terminal has %d", len(lines), h)
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw > w {
			t.Errorf("line %d is %d cells wide, terminal is %d: %q", i, lw, w, l)
		}
	}
}

func TestScreens(t *testing.T) {
	tests := []struct {
		name string
		lang string
		w, h int
		keys []string
	}{
		{"start_zh_80x24", "zh", 80, 24, nil},
		{"province_withheld_zh_80x24", "zh", 80, 24, []string{"j"}},
		{"two_dims_zh_80x24", "zh", 80, 24, []string{"b", "j"}},
		{"heatmap_en_160x48", "en", 160, 48, []string{"b", "j"}},
		{"heatmap_cursor_zh_160x48", "zh", 160, 48, []string{"b", "j", "tab", "tab", "j", "j", "j", "j"}},
		{"two_dims_bars_en_80x24", "en", 80, 24, []string{"b", "j", "v"}},
		{"measure_en_100x30", "en", 100, 30, []string{"j", "m"}},
		{"filter_en_80x24", "en", 80, 24, []string{"j", "tab", "tab", "j", "f"}},
		{"drill_zh_80x24", "zh", 80, 24, []string{"j", "tab", "tab", "j", "enter"}},
		{"picker_zh_80x24", "zh", 80, 24, []string{"j", "F", "space", "down"}},
		{"palette_zh_80x24", "zh", 80, 24, []string{":"}},
		{"palette_en_160x48", "en", 160, 48, []string{":", "chart"}},
		{"picker_en_160x48", "en", 160, 48, []string{"j", "F", "江"}},
		{"compare_zh_80x24", "zh", 80, 24, []string{"j", "j", "j", "j", "c", "k", "k", "k"}},
		{"compare_en_160x48", "en", 160, 48, []string{"j", "j", "j", "j", "c", "k", "k", "k", "tab", "tab"}},
		{"measure_list_zh_80x24", "zh", 80, 24, []string{"j", "j", "j", "tab"}},
		{"help_zh_80x24", "zh", 80, 24, []string{"?"}},
		{"small_60x16", "en", 60, 16, []string{"j"}},
		{"too_small_50x10", "en", 50, 10, nil},
		{"resized_to_100x30", "zh", 80, 24, []string{"j", "resize"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view := drive(t, newFake(), tt.lang, tt.w, tt.h, tt.keys...)
			w, h := tt.w, tt.h
			if slices.Contains(tt.keys, "resize") {
				w, h = 100, 30
			}
			checkSize(t, view, w, h)
			golden.RequireEqual(t, []byte(view))
		})
	}
}

// A withheld cell shows the withheld marker and no number, in the chart
// and in the table.
func TestWithheldNeverShowsANumber(t *testing.T) {
	view := drive(t, newFake(), "zh", 80, 24, "j")
	var lines []string
	for _, l := range strings.Split(view, "\n") {
		if strings.Contains(l, "西藏") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("西藏 appears on %d lines, want 2 (chart and table):\n%s", len(lines), view)
	}
	for _, l := range lines {
		right := l[strings.Index(l, "西藏"):]
		if !strings.Contains(right, "已隐藏") && !strings.Contains(right, "<10") {
			t.Errorf("withheld row is not marked: %q", l)
		}
		if regexp.MustCompile(`\b0\b|\d{2},\d{3}`).MatchString(strings.ReplaceAll(right, "<10", "")) {
			t.Errorf("withheld row shows a number: %q", l)
		}
	}
}

// Enter drills into the highlighted value and moves on to the next
// dimension; esc comes back, and u undoes the way back.
func TestDrillDown(t *testing.T) {
	b := newFake()
	drive(t, b, "en", 80, 24, "j", "tab", "tab", "j", "enter")
	if q := b.last(); !slices.Equal(q.Dims, []string{"categories"}) || !slices.Equal(q.Filters["province"], []string{"江苏"}) {
		t.Errorf("drill into 江苏: dims %v filters %v, want [categories] province=江苏", q.Dims, q.Filters)
	}
	b = newFake()
	drive(t, b, "en", 80, 24, "j", "tab", "tab", "enter", "enter", "esc")
	if q := b.last(); !slices.Equal(q.Dims, []string{"categories"}) || len(q.Filters) != 1 {
		t.Errorf("two drills, one back: dims %v filters %v, want [categories] with one filter", q.Dims, q.Filters)
	}
	b = newFake()
	drive(t, b, "en", 80, 24, "j", "tab", "tab", "enter", "esc", "u")
	if q := b.last(); len(q.Filters) != 1 {
		t.Errorf("undoing the way back: filters %v, want the drill's", q.Filters)
	}
	b = newFake()
	drive(t, b, "en", 80, 24, "j", "tab", "tab", "enter", "esc")
	if q := b.last(); !slices.Equal(q.Dims, []string{"province"}) || len(q.Filters) != 0 {
		t.Errorf("back: dims %v filters %v, want [province] and none", q.Dims, q.Filters)
	}
}

// A click on a dimension slices by it, a click on a bar highlights its
// row (enter drills into it), and the wheel moves through the table.
func TestMouse(t *testing.T) {
	b := newFake()
	// At 80×24 the dimensions start on line 2, the chart on line 2 of
	// the right pane (x ≥ 21).
	drive(t, b, "en", 80, 24, "click 5 3", "click 40 3", "enter")
	if q := b.last(); !slices.Equal(q.Dims, []string{"categories"}) || !slices.Equal(q.Filters["province"], []string{"江苏"}) {
		t.Errorf("click province, click 江苏's bar, enter: dims %v filters %v", q.Dims, q.Filters)
	}
	b = newFake()
	drive(t, b, "en", 80, 24, "click 5 3", "wheel-down", "wheel-down", "wheel-up", "enter")
	if q := b.last(); !slices.Equal(q.Filters["province"], []string{"江苏"}) {
		t.Errorf("wheel to 江苏 and enter: filters %v", q.Filters)
	}
	b = newFake()
	drive(t, b, "en", 80, 24, "click 5 3", "click 40 15", "enter")
	if q := b.last(); !slices.Equal(q.Filters["province"], []string{"内蒙古"}) {
		t.Errorf("click the table's third row and enter: filters %v", q.Filters)
	}
	b = newFake()
	drive(t, b, "en", 80, 24, "click 5 3", "click 40 19", "enter")
	if q := b.last(); !slices.Equal(q.Filters["province"], []string{"广东"}) {
		t.Errorf("a click under the last row moves nothing: filters %v", q.Filters)
	}
}

// F opens the picker on the highlighted dimension's values (fetched
// through the guard); space marks, typing searches, enter applies, and
// applying none removes the filter.
func TestFilterPicker(t *testing.T) {
	b := newFake()
	drive(t, b, "en", 80, 24, "j", "F", "space", "down", "down", "space", "enter")
	if q := b.last(); !slices.Equal(q.Filters["province"], []string{"广东", "内蒙古"}) {
		t.Errorf("picked 广东 and 内蒙古: filters %v", q.Filters)
	}
	b = newFake()
	drive(t, b, "en", 80, 24, "j", "F", "江", "space", "enter", "F", "江", "space", "enter")
	if q := b.last(); len(q.Filters) != 0 {
		t.Errorf("picking 江苏, then unpicking it: filters %v, want none", q.Filters)
	}
	b = newFake()
	view := drive(t, b, "en", 80, 24, "j", "F", "q", "space", "esc")
	if q := b.last(); len(q.Filters) != 0 || strings.Contains(view, "[ ]") {
		t.Errorf("q is typed into the search and esc gives up: filters %v\n%s", q.Filters, view)
	}
}

// : opens the palette; typing finds an action and enter does it: what
// a key does, a chart, a measure, a dimension.
func TestPaletteRunsActions(t *testing.T) {
	b := newFake()
	drive(t, b, "en", 80, 24, "b", "j", ":", "100%", "enter")
	if q := b.last(); !q.Totals || !slices.Equal(q.Dims, []string{"province", "age_band"}) {
		t.Errorf("100%% stacked asks for the margins: %+v", q)
	}
	b = newFake()
	drive(t, b, "zh", 80, 24, ":", "成交额", "enter", ":", "province", "enter")
	if q := b.last(); q.Measure != "gmv" || !slices.Equal(q.Dims, []string{"province"}) {
		t.Errorf("measure and dimension from the palette: %+v", q)
	}
	b = newFake()
	drive(t, b, "en", 80, 24, "j", ":", "undo", "enter")
	if q := b.last(); !slices.Equal(q.Dims, []string{"age_band"}) {
		t.Errorf("undo from the palette: %+v", q)
	}
	view := drive(t, newFake(), "en", 80, 24, ":", "q")
	if !strings.Contains(view, "Commands") || !strings.Contains(view, "LIC-2026-001") {
		t.Errorf("q is typed into the palette, whose screen has the watermark:\n%s", view)
	}
}

func TestKeysDriveQueries(t *testing.T) {
	b := newFake()
	drive(t, b, "en", 80, 24, "j", "b", "k", "m")
	q := b.last()
	if !slices.Equal(q.Dims, []string{"age_band", "province"}) || q.Measure != "gmv" {
		t.Errorf("after j b k m: dims %v measure %s, want [age_band province] gmv", q.Dims, q.Measure)
	}
	b = newFake()
	drive(t, b, "en", 80, 24, "j", "tab", "tab", "f")
	if q := b.last(); !slices.Equal(q.Filters["province"], []string{"广东"}) {
		t.Errorf("filter: got %v, want province=广东", q.Filters)
	}
	b = newFake()
	drive(t, b, "en", 80, 24, "j", "tab", "tab", "f", "x")
	if q := b.last(); len(q.Filters) != 0 {
		t.Errorf("clear filters: got %v", q.Filters)
	}
	b = newFake()
	drive(t, b, "en", 80, 24, "tab", "j")
	if q := b.last(); q.Measure != "gmv" {
		t.Errorf("down in the measure list: measure %s, want gmv", q.Measure)
	}
	b = newFake()
	drive(t, b, "en", 80, 24, "j", "f")
	if q := b.last(); len(q.Filters) != 0 {
		t.Errorf("f outside the table filtered: %v", q.Filters)
	}
	b = newFake()
	drive(t, b, "en", 80, 24, "jj") // two keys in one read
	if q := b.last(); !slices.Equal(q.Dims, []string{"categories"}) {
		t.Errorf("keys typed together: dims %v, want [categories]", q.Dims)
	}
	b = newFake()
	drive(t, b, "en", 80, 24, "s", "t")
	if q := b.last(); q.Order != slice.ValueDesc || q.TopN != 10 {
		t.Errorf("sort and top: got order %v top %d", q.Order, q.TopN)
	}
}

func TestNoColorHasNoEscapes(t *testing.T) {
	view := drive(t, newFake(), "en", 80, 24)
	if bytes.Contains([]byte(view), []byte("\x1b[")) {
		t.Error("ASCII profile view contains colour escapes")
	}
}

// slowBackend answers nothing until its query is cancelled.
type slowBackend struct {
	*fakeBackend
	cancelled chan struct{}
}

func (s *slowBackend) Run(ctx context.Context, q slice.Query) (*slice.Result, error) {
	if q.Measure == "gmv" { // the measure the test switches to
		<-ctx.Done()
		close(s.cancelled)
		return nil, ctx.Err()
	}
	return s.fakeBackend.Run(ctx, q)
}

func TestEscCancelsQuery(t *testing.T) {
	b := &slowBackend{fakeBackend: newFake(), cancelled: make(chan struct{})}
	app := New(Config{Backend: b, Lang: "en", Title: "t"})
	tm := teatest.NewTestModel(t, app, teatest.WithInitialTermSize(80, 24))
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return bytes.Contains(out, []byte("rows 3")) }, teatest.WithDuration(5*time.Second))
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("m")})
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return bytes.Contains(out, []byte("querying")) }, teatest.WithDuration(5*time.Second))
	tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	select {
	case <-b.cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("esc did not cancel the running query")
	}
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return bytes.Contains(out, []byte("cancelled")) }, teatest.WithDuration(5*time.Second))
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// Cycling measures with the time dimension skips measures that do not
// vary by period.
func TestMeasuresFitTimeDimension(t *testing.T) {
	b := newFake()
	drive(t, b, "en", 80, 24, "j", "j", "j", "m")
	if q := b.last(); !slices.Equal(q.Dims, []string{"month"}) || q.Measure != "orders" {
		t.Errorf("m on the month dimension: dims %v measure %s, want month and orders (gmv has no series)", q.Dims, q.Measure)
	}
	drive(t, b, "en", 80, 24, "m", "j", "j", "j")
	if q := b.last(); q.Measure != "orders" && q.Measure != "people" {
		t.Errorf("moving onto month with gmv: measure %s, want one that varies by month", q.Measure)
	}
}

// After a failed query nothing of the previous result stays on screen
// under the new title.
func TestFailedQueryClearsScreen(t *testing.T) {
	view := drive(t, newFake(), "en", 80, 24, "j", "j", "m", "m")
	if strings.Contains(view, "服饰") || strings.Contains(view, "90,000") {
		t.Errorf("old rows still shown after a failed query:\n%s", view)
	}
	if !strings.Contains(view, "orders by categories failed") {
		t.Errorf("error not shown:\n%s", view)
	}
}

// A result that arrives before the terminal's size is drawn once the size
// is known, without a panic.
func TestResultBeforeSize(t *testing.T) {
	app := New(Config{Backend: newFake(), Lang: "en", Title: "t"})
	var m tea.Model = app
	// Init batches the query with the spinner's tick: deliver the answer.
	var deliver func(cmd tea.Cmd)
	deliver = func(cmd tea.Cmd) {
		if cmd == nil {
			return
		}
		switch msg := cmd().(type) {
		case tea.BatchMsg:
			for _, c := range msg {
				deliver(c)
			}
		case sliceResultMsg:
			m, _ = m.Update(msg)
		}
	}
	deliver(app.Init())
	m, _ = m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if view := m.View(); !strings.Contains(view, "32,086") {
		t.Errorf("result not drawn after sizing:\n%s", view)
	}
}

// While a query runs, the status bar turns a spinner beside "querying…".
func TestSpinnerWhileQuerying(t *testing.T) {
	app := New(Config{Backend: newFake(), Lang: "en", Title: "t"})
	app.slicer.SetSize(80, 24)
	app.slicer.running = true
	status := app.slicer.status()
	if !strings.Contains(status, "querying…") || !strings.ContainsAny(status, strings.Join(spinner.MiniDot.Frames, "")) {
		t.Errorf("status while querying: %q", status)
	}
	// Ticks keep it turning only while the query runs.
	s, cmd := app.slicer.Update(spinner.TickMsg{ID: app.slicer.spin.ID()})
	if cmd == nil {
		t.Error("spinner stopped while the query runs")
	}
	s.running = false
	if _, cmd := s.Update(spinner.TickMsg{ID: s.spin.ID()}); cmd != nil {
		t.Error("spinner turns with no query running")
	}
}

// u undoes a slicing step and ctrl+r (or U) redoes it; a new step after
// an undo forgets what was undone.
func TestUndoRedo(t *testing.T) {
	b := newFake()
	drive(t, b, "en", 80, 24, "j", "m", "u")
	if q := b.last(); q.Measure != "people" || q.Dims[0] != "province" {
		t.Errorf("after j m u: %v by %v, want people by province", q.Measure, q.Dims)
	}
	b = newFake()
	drive(t, b, "en", 80, 24, "j", "m", "u", "u", "U")
	if q := b.last(); q.Measure != "people" || q.Dims[0] != "province" {
		t.Errorf("after j m u u U: %v by %v, want people by province", q.Measure, q.Dims)
	}
	b = newFake()
	drive(t, b, "en", 80, 24, "j", "u", "s", "U")
	if q := b.last(); q.Dims[0] != "age_band" || q.Order != slice.ValueDesc {
		t.Errorf("redo after a new step: %v sorted %v, want age_band sorted value-desc (nothing to redo)", q.Dims, q.Order)
	}
}

// The summary of the records builds in a command once the data may be
// queried: after the licence gate, never before. The status bar says
// while it builds, and why it failed; a cancelled build says nothing.
func TestSummaryStatus(t *testing.T) {
	started := make(chan struct{}, 1)
	summarise := func() (int64, error) { started <- struct{}{}; return 42, nil }
	app := New(Config{Backend: newFake(), Lang: "en", Title: "t", Summarise: summarise, Gate: &Gate{Licence: testLicence(), Person: "王芳", Now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}})
	app.slicer.SetSize(120, 24)
	if !strings.Contains(app.slicer.status(), "summarising the records for faster slices…") {
		t.Errorf("status while the summary builds: %q", app.slicer.status())
	}
	// Behind the gate, Init starts nothing of the data's.
	runAll(app.Init())
	select {
	case <-started:
		t.Fatal("the summary was built before the licence was acknowledged")
	default:
	}
	m, cmd := app.Update(ackMsg{})
	msgs := runAll(cmd)
	select {
	case <-started:
	default:
		t.Fatal("acknowledging the licence did not start the summary")
	}
	var done summaryMsg
	for _, msg := range msgs {
		if s, ok := msg.(summaryMsg); ok {
			done = s
		}
	}
	if done.groups != 42 {
		t.Fatalf("summary message %+v", done)
	}
	m, _ = m.Update(done)
	a := m.(App)
	if st := a.slicer.status(); strings.Contains(st, "summarising") || strings.Contains(st, "no summary") {
		t.Errorf("status once built: %q", st)
	}

	for _, c := range []struct {
		err  error
		want string
	}{
		{errors.New("the summary would leave too little memory"), "no summary of the records; slices read every record: the summary would leave too little memory"},
		{context.Canceled, ""},
	} {
		b := New(Config{Backend: newFake(), Lang: "en", Title: "t", Summarise: summarise})
		b.slicer.SetSize(200, 24)
		m, _ := b.Update(summaryMsg{err: c.err})
		st := m.(App).slicer.status()
		if strings.Contains(st, "summarising") || (c.want != "" && !strings.Contains(st, c.want)) || (c.want == "" && strings.Contains(st, "no summary")) {
			t.Errorf("after %v: status %q", c.err, st)
		}
	}
	if st := New(Config{Backend: newFake(), Lang: "zh", Title: "t"}).slicer.status(); strings.Contains(st, "汇总") {
		t.Errorf("no Summarise, yet the status says it builds: %q", st)
	}
}

// runAll runs a command and the commands it batches, and returns their
// messages; ticks that would wait are left alone.
func runAll(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(200 * time.Millisecond):
		return nil // a tick
	}
	if batch, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range batch {
			out = append(out, runAll(c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}
