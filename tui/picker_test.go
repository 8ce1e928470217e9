package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
)

// provinces are a province dimension's values with their head counts;
// 西藏's is withheld.
func provinces(lang string) []pickerValue {
	withheld := "withheld"
	if lang == "zh" {
		withheld = "已隐藏"
	}
	return []pickerValue{
		{"广东", "27,455"}, {"江苏", "16,069"}, {"浙江", "15,872"}, {"山东", "14,310"},
		{"河南", "12,904"}, {"四川", "11,377"}, {"湖北", "9,856"}, {"内蒙古", "2,512"},
		{"黑龙江", "2,233"}, {"西藏", withheld},
	}
}

var ageBands = []pickerValue{{"18-24", "32,086"}, {"25-29", "39,984"}, {"30-34", "41,989"}, {"35-39", "30,112"}, {"40+", "28,540"}}

// pickerResult is what a picker's last key returned.
type pickerResult struct {
	chosen        []string
	done, applied bool
}

func openPicker(lang string, w, h int, title string, values []pickerValue, selected []string, keys ...string) (picker, pickerResult) {
	p := newPicker(newStyles(lipgloss.NewRenderer(nil)), lang)
	p.SetSize(w, h)
	p.Open(title, values, selected)
	var r pickerResult
	for _, k := range keyMsgs(keys...) {
		p, r.chosen, r.done, r.applied = p.Update(k)
	}
	return p, r
}

func TestPickerToggles(t *testing.T) {
	// space marks the highlighted value and marks it again off; the
	// marks show as [x] and [ ], not by colour.
	p, r := openPicker("en", 80, 24, "Age band", ageBands, nil, "space", "down", "space", "down", "space", "space")
	if r.done || !p.Active() {
		t.Fatalf("closed before enter: %+v", r)
	}
	view := p.View()
	for _, want := range []string{"[x] 18-24", "[x] 25-29", "▸ [ ] 30-34", "2 selected"} {
		if !strings.Contains(view, want) {
			t.Errorf("want %q in\n%s", want, view)
		}
	}
	// enter applies, in the given order whatever order they were marked in.
	p, r = openPicker("en", 80, 24, "Age band", ageBands, nil, "down", "down", "space", "up", "up", "space", "enter")
	if !r.done || !r.applied || p.Active() || strings.Join(r.chosen, ",") != "18-24,30-34" {
		t.Errorf("enter: %+v active %v", r, p.Active())
	}
	// Values selected before open are marked; a selected value the list
	// lacks is added, so it can be seen and taken off.
	p, r = openPicker("zh", 80, 24, "省份", provinces("zh"), []string{"海南", "浙江"}, "enter")
	if !r.applied || strings.Join(r.chosen, ",") != "浙江,海南" {
		t.Errorf("kept %+v", r)
	}
	if !strings.Contains(p.View(), "[x] 海南") {
		t.Errorf("海南 not shown:\n%s", p.View())
	}
}

// ctrl+a marks only the values the search shows; ctrl+x clears them.
func TestPickerSelectsShown(t *testing.T) {
	p, r := openPicker("en", 80, 24, "Age band", ageBands, []string{"40+"}, "3", "ctrl+a")
	if got := p.selected(); strings.Join(got, ",") != "30-34,35-39,40+" {
		t.Errorf("3 then ctrl+a selects %v", got)
	}
	if view := p.View(); !strings.Contains(view, "3 selected (1 not in the list shown)") || !strings.Contains(view, "› 3▏") {
		t.Errorf("status after ctrl+a:\n%s", view)
	}
	// Clearing the search shows every value again, the marks kept; enter
	// returns them in the given order.
	_, r = openPicker("en", 80, 24, "Age band", ageBands, []string{"40+"}, "3", "ctrl+a", "backspace", "space", "enter")
	if !r.applied || strings.Join(r.chosen, ",") != "18-24,30-34,35-39,40+" {
		t.Errorf("after clearing the search: %+v", r)
	}
	// ctrl+x unmarks the shown values only.
	p, _ = openPicker("en", 80, 24, "Age band", ageBands, []string{"18-24", "30-34", "35-39"}, "3", "ctrl+x")
	if got := p.selected(); strings.Join(got, ",") != "18-24" {
		t.Errorf("3 then ctrl+x leaves %v", got)
	}
	// The search is fuzzy, on the typed runes, Chinese included; letters
	// are search, never commands.
	p, _ = openPicker("zh", 80, 24, "省份", provinces("zh"), nil, "江")
	var shown []string
	for _, m := range p.shown {
		shown = append(shown, p.values[m.index].Value)
	}
	if !slices.Equal(shown, []string{"江苏", "浙江", "黑龙江"}) {
		t.Errorf("江 shows %v", shown)
	}
	p, r = openPicker("en", 80, 24, "Age band", ageBands, nil, "jk", "down")
	if string(p.query) != "jk" || r.done || len(p.shown) != 0 || !strings.Contains(p.View(), "no value matches") {
		t.Errorf("j and k: query %q, %d shown", string(p.query), len(p.shown))
	}
	// space is never typed into the search.
	if p, _ = openPicker("en", 80, 24, "Age band", ageBands, nil, "2", "space"); string(p.query) != "2" {
		t.Errorf("space typed: %q", string(p.query))
	}
}

func TestPickerCancels(t *testing.T) {
	p, r := openPicker("zh", 80, 24, "省份", provinces("zh"), []string{"广东"}, "space", "down", "space", "esc")
	if !r.done || r.applied || r.chosen != nil || p.Active() {
		t.Errorf("esc: %+v active %v", r, p.Active())
	}
	// Opening again starts from what the app passes, not from the
	// abandoned marks.
	p.Open("省份", provinces("zh"), []string{"广东"})
	if got := p.selected(); strings.Join(got, ",") != "广东" {
		t.Errorf("reopened with %v", got)
	}
	// Applying with nothing marked means no filter, and says so first.
	p, _ = openPicker("zh", 80, 24, "省份", provinces("zh"), []string{"广东"}, "space")
	if !strings.Contains(p.View(), "未选择任何值：按 enter 将不按「省份」筛选") {
		t.Errorf("no word about no filter:\n%s", p.View())
	}
	_, r = openPicker("zh", 80, 24, "省份", provinces("zh"), []string{"广东"}, "space", "enter")
	if !r.done || !r.applied || len(r.chosen) != 0 {
		t.Errorf("enter with nothing marked: %+v", r)
	}
}

func TestPickerScrolls(t *testing.T) {
	var values []pickerValue
	for i := range 60 {
		values = append(values, pickerValue{Value: fmt.Sprintf("value %02d", i), Note: fmt.Sprint(i * 100)})
	}
	p, _ := openPicker("en", 60, 16, "Thing", values, nil, slices.Repeat([]string{"down"}, 19)...)
	p, _, _, _ = p.Update(keyMsgs("space")[0])
	view := p.View()
	checkBox(t, view, 60, 16)
	if !strings.Contains(view, "▸ [x] value 19") || strings.Contains(view, "value 00") || !strings.Contains(view, "20/60") {
		t.Errorf("scrolled:\n%s", view)
	}
}

func TestPickerSizes(t *testing.T) {
	long := append(provinces("zh"), pickerValue{strings.Repeat("很长的值", 30), strings.Repeat("9", 90)})
	for _, size := range [][2]int{{60, 16}, {80, 24}, {160, 48}, {300, 100}} {
		w, h := size[0], size[1]
		for _, lang := range []string{"zh", "en"} {
			for _, keys := range [][]string{nil, {"江", "ctrl+a"}, {"zzz"}, {strings.Repeat("宽", 40)}, {"pgdown", "space"}} {
				p, _ := openPicker(lang, w, h, "省份", long, []string{"西藏"}, keys...)
				checkBox(t, p.View(), w, h)
			}
		}
		p, _ := openPicker("en", w, h, "Nothing", nil, nil)
		checkBox(t, p.View(), w, h)
	}
}

func TestPickerGolden(t *testing.T) {
	for _, tt := range []struct {
		name, lang string
		selected   []string
		keys       []string
	}{
		{"picker_zh_80x24", "zh", []string{"广东", "浙江"}, []string{"down", "down", "down"}},
		{"picker_en_80x24", "en", nil, nil},
		{"picker_query_zh_80x24", "zh", []string{"广东"}, []string{"江", "down", "space"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			title := "Province"
			if tt.lang == "zh" {
				title = "省份"
			}
			p, _ := openPicker(tt.lang, 80, 24, title, provinces(tt.lang), tt.selected, tt.keys...)
			view := p.View()
			checkBox(t, view, 80, 24)
			golden.RequireEqual(t, []byte(view))
		})
	}
}
