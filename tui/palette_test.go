package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"
)

// keyMsgs turns names into the keys a terminal sends: "up", "enter",
// "ctrl+a" and the like are named keys, "space" is the space bar, and
// anything else is typed a rune at a time, as the app hands them on.
func keyMsgs(keys ...string) []tea.KeyMsg {
	named := map[string]tea.KeyType{
		"up": tea.KeyUp, "down": tea.KeyDown, "enter": tea.KeyEnter, "esc": tea.KeyEsc,
		"backspace": tea.KeyBackspace, "space": tea.KeySpace, "pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown,
		"ctrl+a": tea.KeyCtrlA, "ctrl+x": tea.KeyCtrlX, "ctrl+u": tea.KeyCtrlU,
		"ctrl+p": tea.KeyCtrlP, "ctrl+n": tea.KeyCtrlN,
	}
	var out []tea.KeyMsg
	for _, k := range keys {
		if t, ok := named[k]; ok {
			msg := tea.KeyMsg{Type: t}
			if t == tea.KeySpace {
				msg.Runes = []rune{' '}
			}
			out = append(out, msg)
			continue
		}
		for _, r := range k {
			out = append(out, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		}
	}
	return out
}

// checkBox fails unless every line of view is exactly w cells and there
// are at most h lines.
func checkBox(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) > h {
		t.Errorf("%d lines, room for %d", len(lines), h)
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw != w {
			t.Errorf("line %d is %d cells wide, want %d: %q", i, lw, w, l)
		}
	}
}

// testActions are what the app offers, in either language.
func testActions(lang string) []paletteAction {
	a := func(id, zh, en, keys string) paletteAction {
		if lang == "zh" {
			return paletteAction{ID: id, Title: zh, Keys: keys}
		}
		return paletteAction{ID: id, Title: en, Keys: keys}
	}
	return []paletteAction{
		a("pane.next", "下一面板", "Next pane", "tab"),
		a("dim.second", "固定为第二维度", "Pin as second dimension", "b"),
		a("measure.next", "切换指标", "Change measure", "m/M"),
		a("filter.row", "筛选到此行", "Filter to this row", "f/enter"),
		a("filter.pick", "选择筛选值…", "Choose filter values…", ""),
		a("filter.clear", "清除筛选", "Clear filters", "x"),
		a("sort", "排序", "Sort", "s"),
		a("top", "前10", "Top 10", "t"),
		a("chart.heatmap", "热力图/条形图", "Heatmap / bars", "v"),
		a("undo", "撤销", "Undo", "u"),
		a("redo", "重做", "Redo", "ctrl+r/U"),
		a("view.save", "保存视图", "Save view", "S"),
		a("view.list", "已存视图", "Saved views", "V"),
		a("log", "使用日志", "Usage log", "L"),
		a("compliance", "合规", "Compliance", "C"),
		a("help", "帮助", "Help", "?"),
		a("quit", "退出", "Quit", "q"),
	}
}

func openPalette(lang string, w, h int, keys ...string) (palette, string, bool) {
	p := newPalette(newStyles(lipgloss.NewRenderer(nil)), lang)
	p.SetSize(w, h)
	p.Open(testActions(lang))
	var id string
	var closed bool
	for _, k := range keyMsgs(keys...) {
		p, id, closed = p.Update(k)
	}
	return p, id, closed
}

// shownIDs are the IDs the palette lists, in order.
func shownIDs(p palette) []string {
	var ids []string
	for _, m := range p.shown {
		ids = append(ids, p.actions[m.index].ID)
	}
	return ids
}

// The best match comes first, whether the query is a scatter of letters,
// a word of the English title, Chinese, or the ID behind a Chinese title.
func TestPaletteFuzzyOrder(t *testing.T) {
	for _, tt := range []struct {
		lang, query, first string
	}{
		{"en", "hm", "chart.heatmap"},
		{"en", "heat", "chart.heatmap"},
		{"en", "HEAT", "chart.heatmap"},
		{"en", "heat map", "chart.heatmap"},
		{"en", "clr", "filter.clear"},
		{"zh", "热", "chart.heatmap"},
		{"zh", "热力", "chart.heatmap"},
		{"zh", "heat", "chart.heatmap"},
		{"zh", "视图", "view.save"},
	} {
		p, _, _ := openPalette(tt.lang, 80, 24, tt.query)
		ids := shownIDs(p)
		if len(ids) == 0 || ids[0] != tt.first {
			t.Errorf("%s %q lists %v, want %s first", tt.lang, tt.query, ids, tt.first)
		}
		if !strings.Contains(p.View(), "▸ ") {
			t.Errorf("%s %q: no highlighted row:\n%s", tt.lang, tt.query, p.View())
		}
	}
	// Both saved-view actions match 视图, in the given order.
	p, _, _ := openPalette("zh", 80, 24, "视图")
	if ids := shownIDs(p); strings.Join(ids, ",") != "view.save,view.list" {
		t.Errorf("视图 lists %v", ids)
	}
	// An empty query lists everything as given.
	p, _, _ = openPalette("en", 80, 24)
	if ids := shownIDs(p); len(ids) != 17 || ids[0] != "pane.next" || ids[16] != "quit" {
		t.Errorf("empty query lists %v", ids)
	}
}

// The matched characters are set apart by more than colour: with colour
// off, they are still bold and underlined.
func TestPaletteHighlightsMatches(t *testing.T) {
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.TrueColor)
	p := newPalette(newStyles(r), "en")
	p.SetSize(80, 24)
	p.Open(testActions("en"))
	for _, k := range keyMsgs("heat") {
		p, _, _ = p.Update(k)
	}
	hi := p.st.Focused.Underline(true)
	if !hi.GetBold() || !hi.GetUnderline() {
		t.Errorf("the match style is not bold and underlined")
	}
	if view := p.View(); !strings.Contains(view, hi.Render("Heat")+p.st.Selected.Render("map / bars")) {
		t.Errorf("Heat of Heatmap is not highlighted: %q", view)
	}
}

func TestPaletteKeys(t *testing.T) {
	// enter runs the highlighted action and closes.
	p, id, closed := openPalette("en", 80, 24, "down", "down", "enter")
	if id != "measure.next" || !closed || p.Active() {
		t.Errorf("enter on the third action: id %q closed %v active %v", id, closed, p.Active())
	}
	_, id, closed = openPalette("zh", 80, 24, "热", "enter")
	if id != "chart.heatmap" || !closed {
		t.Errorf("热 enter: %q %v", id, closed)
	}
	// ctrl+n and ctrl+p move too; up stops at the top.
	_, id, _ = openPalette("en", 80, 24, "ctrl+n", "ctrl+n", "ctrl+p", "up", "up", "ctrl+n", "enter")
	if id != "dim.second" {
		t.Errorf("ctrl+n/ctrl+p: %q", id)
	}
	// esc closes without a choice, even with a query typed.
	p, id, closed = openPalette("en", 80, 24, "heat", "esc")
	if id != "" || !closed || p.Active() {
		t.Errorf("esc: id %q closed %v active %v", id, closed, p.Active())
	}
	// A closed palette takes no more keys.
	if _, id, closed = p.Update(keyMsgs("enter")[0]); id != "" || closed {
		t.Errorf("closed palette answered enter: %q %v", id, closed)
	}
	// enter with nothing matching does nothing.
	p, id, closed = openPalette("en", 80, 24, "zzz", "enter")
	if id != "" || closed || !p.Active() || !strings.Contains(p.View(), "no command matches") {
		t.Errorf("enter on no match: %q %v\n%s", id, closed, p.View())
	}
	// backspace takes off a whole Chinese character; the rest still matches.
	p, _, _ = openPalette("zh", 80, 24, "热力x", "backspace")
	if string(p.query) != "热力" || shownIDs(p)[0] != "chart.heatmap" {
		t.Errorf("after backspace: %q %v", string(p.query), shownIDs(p))
	}
	p, _, _ = openPalette("zh", 80, 24, "热力", "backspace", "backspace", "backspace")
	if len(p.query) != 0 || len(p.shown) != 17 {
		t.Errorf("emptied query: %q lists %d", string(p.query), len(p.shown))
	}
	// The query is capped.
	p, _, _ = openPalette("zh", 80, 24, strings.Repeat("热", 60))
	if len(p.query) != maxQuery {
		t.Errorf("typed %d runes, want the cap %d", len(p.query), maxQuery)
	}
	checkBox(t, p.View(), 80, 24)
}

// A list longer than the box scrolls with the highlight, and the counter
// says where it is.
func TestPaletteScrolls(t *testing.T) {
	var actions []paletteAction
	for i := range 40 {
		actions = append(actions, paletteAction{ID: fmt.Sprintf("a%02d", i), Title: fmt.Sprintf("Action %02d", i), Keys: "x"})
	}
	p := newPalette(newStyles(lipgloss.NewRenderer(nil)), "en")
	p.SetSize(60, 16)
	p.Open(actions)
	for range 25 {
		p, _, _ = p.Update(keyMsgs("down")[0])
	}
	view := p.View()
	checkBox(t, view, 60, 16)
	if !strings.Contains(view, "▸ Action 25") || strings.Contains(view, "Action 00") || !strings.Contains(view, "26/40") {
		t.Errorf("scrolled to 25:\n%s", view)
	}
	p, _, _ = p.Update(keyMsgs("pgup")[0])
	p, _, _ = p.Update(keyMsgs("pgup")[0])
	p, _, _ = p.Update(keyMsgs("pgup")[0])
	if view := p.View(); !strings.Contains(view, "▸ Action 00") || !strings.Contains(view, "1/40") {
		t.Errorf("back at the top:\n%s", view)
	}
	if _, id, _ := p.Update(keyMsgs("enter")[0]); id != "a00" {
		t.Errorf("enter at the top: %q", id)
	}
}

func TestPaletteSizes(t *testing.T) {
	for _, size := range [][2]int{{60, 16}, {80, 24}, {160, 48}, {300, 100}} {
		w, h := size[0], size[1]
		for _, lang := range []string{"zh", "en"} {
			for _, keys := range [][]string{nil, {"热"}, {"e"}, {"zzz"}, {strings.Repeat("宽", 40)}, {"pgdown", "pgdown"}} {
				p, _, _ := openPalette(lang, w, h, keys...)
				checkBox(t, p.View(), w, h)
			}
		}
	}
	// A title far too long for the box is cut, not wrapped.
	p := newPalette(newStyles(lipgloss.NewRenderer(nil)), "zh")
	p.SetSize(60, 16)
	p.Open([]paletteAction{{ID: "long", Title: strings.Repeat("很长的命令名称", 20), Keys: strings.Repeat("ctrl+", 20)}})
	checkBox(t, p.View(), 60, 16)
}

func TestPaletteGolden(t *testing.T) {
	for _, tt := range []struct {
		name, lang string
		keys       []string
	}{
		{"palette_zh_80x24", "zh", []string{"down", "down"}},
		{"palette_en_80x24", "en", []string{"down", "down"}},
		{"palette_query_zh_80x24", "zh", []string{"筛选"}},
		{"palette_query_en_80x24", "en", []string{"heat"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, _, _ := openPalette(tt.lang, 80, 24, tt.keys...)
			view := p.View()
			checkBox(t, view, 80, 24)
			golden.RequireEqual(t, []byte(view))
		})
	}
}
