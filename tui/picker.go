package tui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// pickerValue is one value a filter can keep.
type pickerValue struct {
	Value string
	Note  string // e.g. a head count "1,234" or "withheld", shown subtle at the right; may be empty
}

// pickerTexts are the picker's words, kept in this file like the
// palette's.
type pickerTexts struct {
	filter, prompt, none, empty       string
	selected, hidden, noFilter        string
	toggle, apply, cancel, all, clear string
}

var pickerZH = pickerTexts{
	filter: "筛选", prompt: "输入以查找值", none: "没有匹配的值", empty: "没有可选的值",
	selected: "已选 %d 项", hidden: "（%d 项不在当前列表中）",
	noFilter: "未选择任何值：按 enter 将不按「%s」筛选",
	toggle:   "选择/取消", apply: "应用", cancel: "取消", all: "全选所列", clear: "清除所列",
}

var pickerEN = pickerTexts{
	filter: "Filter", prompt: "type to find a value", none: "no value matches", empty: "no values",
	selected: "%d selected", hidden: " (%d not in the list shown)",
	noFilter: "nothing selected: enter removes the filter on %s",
	toggle:   "toggle", apply: "apply", cancel: "cancel", all: "select shown", clear: "clear shown",
}

// picker chooses the values a filter keeps on one dimension: a search
// field over the dimension's values, each marked [x] or [ ]. The app
// opens it, routes every key to it while it is Active, and applies what
// it returns.
//
// Every typed letter goes to the search, so j/k move nothing here; the
// arrows (or ctrl+p/ctrl+n) do. Space toggles, so it cannot be typed;
// the matching is fuzzy, so a value with a space is still found.
type picker struct {
	st     styles
	t      pickerTexts
	title  string
	values []pickerValue
	chosen map[string]bool
	query  typedQuery
	shown  []listMatch // the values that match, best first
	cursor int         // index into shown
	offset int         // first shown row on screen
	noteW  int         // the widest note, so the notes line up
	active bool
	width  int
	height int
}

func newPicker(st styles, lang string) picker {
	t := pickerEN
	if lang == "zh" {
		t = pickerZH
	}
	return picker{st: st, t: t, width: 60, height: 16}
}

// Open shows the picker for the dimension labelled title (its label
// alone, e.g. "省份": the picker adds "筛选"), over values, with the
// values in selected already marked. A selected value missing from
// values is added at the end, so nothing is ever chosen out of sight.
func (p *picker) Open(title string, values []pickerValue, selected []string) {
	p.title = title
	p.values = make([]pickerValue, 0, len(values)+len(selected))
	seen := map[string]bool{}
	for _, v := range values {
		if !seen[v.Value] {
			seen[v.Value] = true
			p.values = append(p.values, v)
		}
	}
	p.chosen = map[string]bool{}
	for _, s := range selected {
		if !seen[s] {
			seen[s] = true
			p.values = append(p.values, pickerValue{Value: s})
		}
		p.chosen[s] = true
	}
	p.noteW = 0
	for _, v := range p.values {
		p.noteW = max(p.noteW, lipgloss.Width(v.Note))
	}
	p.query = nil
	p.active = true
	p.refilter()
}

// Active reports whether the picker is open and takes the keys.
func (p picker) Active() bool { return p.active }

// SetSize sets the most room the picker may take: View is exactly w cells
// wide and at most h lines high.
func (p *picker) SetSize(w, h int) {
	p.width, p.height = max(w, 20), max(h, 8)
	p.offset = scrollTo(p.offset, p.cursor, p.room())
}

// Update takes one key. done is true when the picker closed: applied
// says whether by enter, and then chosen holds the marked values in the
// order they were given to Open; an empty chosen means the analyst wants
// no filter on this dimension. esc closes with applied false and chosen
// nil: the filter stays as it was. A closed picker ignores keys.
func (p picker) Update(msg tea.KeyMsg) (next picker, chosen []string, done, applied bool) {
	if !p.active {
		return p, nil, false, false
	}
	switch msg.Type {
	case tea.KeyEsc:
		p.active = false
		return p, nil, true, false
	case tea.KeyEnter:
		p.active = false
		return p, p.selected(), true, true
	case tea.KeyUp, tea.KeyCtrlP, tea.KeyDown, tea.KeyCtrlN, tea.KeyPgUp, tea.KeyPgDown:
		p.cursor = moveCursor(msg.Type, p.cursor, len(p.shown), p.room())
	case tea.KeySpace:
		if len(p.shown) > 0 {
			v := p.values[p.shown[p.cursor].index].Value
			p.chosen = p.with(func(c map[string]bool) { c[v] = !c[v] })
		}
	case tea.KeyCtrlA, tea.KeyCtrlX:
		on := msg.Type == tea.KeyCtrlA
		p.chosen = p.with(func(c map[string]bool) {
			for _, m := range p.shown {
				c[p.values[m.index].Value] = on
			}
		})
	default:
		if q, changed := p.query.edit(msg, false); changed {
			p.query = q
			p.refilter()
		}
	}
	p.offset = scrollTo(p.offset, p.cursor, p.room())
	return p, nil, false, false
}

// with returns a changed copy of the marks: the picker is passed by
// value, and a shared map would change earlier copies too.
func (p picker) with(change func(map[string]bool)) map[string]bool {
	c := make(map[string]bool, len(p.chosen))
	for v, on := range p.chosen {
		if on {
			c[v] = true
		}
	}
	change(c)
	return c
}

// selected lists the marked values in the order given to Open.
func (p picker) selected() []string {
	var out []string
	for _, v := range p.values {
		if p.chosen[v.Value] {
			out = append(out, v.Value)
		}
	}
	return out
}

func (p *picker) refilter() {
	texts := make([]string, len(p.values))
	for i, v := range p.values {
		texts[i] = v.Value
	}
	p.shown = fuzzyRank(p.query.pattern(), texts, nil)
	p.cursor, p.offset = 0, 0
}

// room is how many rows of the list fit, sized to all the values so the
// box does not jump while typing.
func (p picker) room() int {
	return max(1, min(p.height-6-len(p.hints()), len(p.values)))
}

// hints are the lines that tell which keys work here, the most needed
// first. The arrows are left out for room: the palette names them, and
// the ▸ shows what they move.
func (p picker) hints() []string {
	return keyHints(p.width-4,
		[]string{"space " + p.t.toggle, "enter " + p.t.apply, "esc " + p.t.cancel},
		[]string{"ctrl+a " + p.t.all, "ctrl+x " + p.t.clear})
}

// View draws the picker as a box: the search field, the values with
// their marks and notes, how many are selected (or that enter means no
// filter), and the keys that work here.
func (p picker) View() string {
	cw := p.width - 4
	title := p.t.filter + " · " + p.title
	lines := boxHead(p.st, title, p.cursor, len(p.shown), p.width, p.query, p.t.prompt)
	room := p.room()
	offset := scrollTo(p.offset, p.cursor, room)
	rows := make([]string, 0, room)
	if len(p.shown) == 0 {
		rows = append(rows, noMatch(p.st, p.t.none, p.t.empty, len(p.values) > 0))
	}
	for i := offset; i < min(len(p.shown), offset+room); i++ {
		m := p.shown[i]
		v := p.values[m.index]
		mark, base := "  ", lipgloss.NewStyle()
		if i == p.cursor {
			mark, base = "▸ ", p.st.Selected
		}
		box := "[ ] "
		if p.chosen[v.Value] {
			box = "[x] "
		}
		valueW := cw - 6
		if p.noteW > 0 {
			valueW = max(1, cw-6-min(p.noteW, cw/3)-2)
		}
		row := base.Render(mark+box) + fit(highlight(v.Value, m.matched, base, p.st.Focused.Underline(true)), valueW)
		if p.noteW > 0 {
			noteW := cw - 6 - valueW - 2
			note := fit(v.Note, min(noteW, lipgloss.Width(v.Note)))
			row += "  " + strings.Repeat(" ", noteW-lipgloss.Width(note)) + p.st.Subtle.Render(note)
		}
		rows = append(rows, row)
	}
	for len(rows) < room {
		rows = append(rows, "")
	}
	for _, r := range rows {
		lines = append(lines, boxRow(p.st, r, p.width))
	}

	n := len(p.selected())
	status := fmt.Sprintf(p.t.noFilter, p.title)
	if n > 0 {
		status = fmt.Sprintf(p.t.selected, n)
		inList := 0
		for _, m := range p.shown {
			if p.chosen[p.values[m.index].Value] {
				inList++
			}
		}
		if hidden := n - inList; hidden > 0 {
			status += fmt.Sprintf(p.t.hidden, hidden)
		}
	}
	lines = append(lines, boxRule(p.st, p.width), boxRow(p.st, status, p.width))
	for _, h := range p.hints() {
		lines = append(lines, boxRow(p.st, p.st.Subtle.Render(h), p.width))
	}
	lines = append(lines, boxBottom(p.st, p.width))
	return strings.Join(lines[:min(len(lines), p.height)], "\n")
}
