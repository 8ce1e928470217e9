package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/sahilm/fuzzy"
)

// paletteAction is one command the palette offers.
type paletteAction struct {
	ID    string // what the app runs; matched too, so English IDs find Chinese titles
	Title string // in the interface language
	Keys  string // the key(s) that do it, for display; may be empty
}

// paletteTexts are the palette's words. They live here rather than in
// i18n.go so the palette stays one self-contained file.
type paletteTexts struct {
	title, prompt, none, empty string
	move, run, close           string
}

var paletteZH = paletteTexts{
	title: "命令", prompt: "输入以查找命令", none: "没有匹配的命令", empty: "没有可用的命令",
	move: "移动", run: "执行", close: "关闭",
}

var paletteEN = paletteTexts{
	title: "Commands", prompt: "type to find a command", none: "no command matches", empty: "no commands",
	move: "move", run: "run", close: "close",
}

// maxQuery caps what can be typed into a palette or picker search: longer
// queries match nothing useful and would only push the prompt off screen.
const maxQuery = 40

// palette is the command palette: a search field over a list of actions.
// The app opens it, routes every key to it while it is Active, and runs
// the ID it returns.
type palette struct {
	st      styles
	t       paletteTexts
	actions []paletteAction
	query   typedQuery
	shown   []listMatch // the actions that match, best first
	cursor  int         // index into shown
	offset  int         // first shown row on screen
	active  bool
	width   int
	height  int
}

func newPalette(st styles, lang string) palette {
	t := paletteEN
	if lang == "zh" {
		t = paletteZH
	}
	return palette{st: st, t: t, width: 60, height: 16}
}

// Open shows the palette over actions, with an empty query.
func (p *palette) Open(actions []paletteAction) {
	p.actions = slices.Clone(actions)
	p.query = nil
	p.active = true
	p.refilter()
}

// Active reports whether the palette is open and takes the keys.
func (p palette) Active() bool { return p.active }

// SetSize sets the most room the palette may take: View is exactly w
// cells wide and at most h lines high.
func (p *palette) SetSize(w, h int) {
	p.width, p.height = max(w, 20), max(h, 6)
	p.offset = scrollTo(p.offset, p.cursor, p.room())
}

// Update takes one key. It returns the ID of the chosen action (or "")
// and whether the palette closed: enter chooses the highlighted action
// and closes, esc closes without a choice. A closed palette ignores keys.
func (p palette) Update(msg tea.KeyMsg) (palette, string, bool) {
	if !p.active {
		return p, "", false
	}
	switch msg.Type {
	case tea.KeyEsc:
		p.active = false
		return p, "", true
	case tea.KeyEnter:
		if len(p.shown) == 0 {
			return p, "", false // nothing to run: stay open so the query can be fixed
		}
		p.active = false
		return p, p.actions[p.shown[p.cursor].index].ID, true
	case tea.KeyUp, tea.KeyCtrlP, tea.KeyDown, tea.KeyCtrlN, tea.KeyPgUp, tea.KeyPgDown:
		p.cursor = moveCursor(msg.Type, p.cursor, len(p.shown), p.room())
	default:
		if q, changed := p.query.edit(msg, true); changed {
			p.query = q
			p.refilter()
		}
	}
	p.offset = scrollTo(p.offset, p.cursor, p.room())
	return p, "", false
}

// refilter matches the query against every action's title and ID and
// puts the highlight back on the best match.
func (p *palette) refilter() {
	titles := make([]string, len(p.actions))
	ids := make([]string, len(p.actions))
	for i, a := range p.actions {
		titles[i], ids[i] = a.Title, a.ID
	}
	p.shown = fuzzyRank(p.query.pattern(), titles, ids)
	p.cursor, p.offset = 0, 0
}

// room is how many rows of the list fit. It is sized to all the actions,
// not to those that match, so the box does not jump while typing.
func (p palette) room() int {
	return max(1, min(p.height-5-len(p.hints()), len(p.actions)))
}

// hints are the lines that tell which keys work here.
func (p palette) hints() []string {
	return keyHints(p.width-4, []string{"↑/↓ " + p.t.move, "enter " + p.t.run, "esc " + p.t.close})
}

// moveCursor moves a list box's cursor over n rows for key k: a row
// with ↑/↓ (ctrl+p/ctrl+n), a page of room rows with pgup/pgdn.
func moveCursor(k tea.KeyType, cursor, n, room int) int {
	step := 1
	switch k {
	case tea.KeyUp, tea.KeyCtrlP:
		step = -1
	case tea.KeyPgUp:
		step = -room
	case tea.KeyPgDown:
		step = room
	}
	return min(max(0, n-1), max(0, cursor+step))
}

// boxHead is the top of a list box with a search: the title with the
// highlighted row's place among the matches, the search field, a rule.
func boxHead(st styles, title string, cursor, matches, width int, q typedQuery, prompt string) []string {
	return []string{
		boxTop(st, title, fmt.Sprintf("%d/%d", min(cursor+1, matches), matches), width),
		boxRow(st, q.view(st, prompt, width-4), width),
		boxRule(st, width),
	}
}

// noMatch is the row a list box shows when nothing matches: none, or
// empty when there was nothing to match (any is false).
func noMatch(st styles, none, empty string, any bool) string {
	if !any {
		none = empty
	}
	return "  " + st.Subtle.Render(none)
}

// View draws the palette as a box: the search field, the list with each
// action's keys at the right, and the keys that work here.
func (p palette) View() string {
	cw := p.width - 4 // inside the border and its padding
	lines := boxHead(p.st, p.t.title, p.cursor, len(p.shown), p.width, p.query, p.t.prompt)
	room := p.room()
	offset := scrollTo(p.offset, p.cursor, room)
	rows := make([]string, 0, room)
	if len(p.shown) == 0 {
		rows = append(rows, noMatch(p.st, p.t.none, p.t.empty, len(p.actions) > 0))
	}
	for i := offset; i < min(len(p.shown), offset+room); i++ {
		m := p.shown[i]
		a := p.actions[m.index]
		keysW := lipgloss.Width(a.Keys)
		titleW := cw - 2
		if keysW > 0 {
			titleW = max(1, cw-2-keysW-2)
		}
		mark, base := "  ", lipgloss.NewStyle()
		if i == p.cursor {
			mark, base = "▸ ", p.st.Selected
		}
		title := fit(highlight(a.Title, m.matched, base, p.st.Focused.Underline(true)), titleW)
		row := base.Render(mark) + title
		if keysW > 0 {
			row += "  " + p.st.Subtle.Render(ansi.Truncate(a.Keys, cw-2-titleW-2, "…"))
		}
		rows = append(rows, row)
	}
	for len(rows) < room {
		rows = append(rows, "")
	}
	for _, r := range rows {
		lines = append(lines, boxRow(p.st, r, p.width))
	}
	lines = append(lines, boxRule(p.st, p.width))
	for _, h := range p.hints() {
		lines = append(lines, boxRow(p.st, p.st.Subtle.Render(h), p.width))
	}
	lines = append(lines, boxBottom(p.st, p.width))
	return strings.Join(lines[:min(len(lines), p.height)], "\n")
}

// typedQuery is text typed into a search field, a rune at a time, the way
// the views screen takes a name (bubbles' textinput would bring in a
// clipboard dependency).
type typedQuery []rune

// edit applies one key to the query: printable runes are added (up to
// maxQuery), backspace takes the last rune off (a Chinese character is
// one rune), ctrl+u empties it. spaces says whether space is text; in the
// picker it toggles instead. It reports whether the query changed.
func (q typedQuery) edit(msg tea.KeyMsg, spaces bool) (typedQuery, bool) {
	switch msg.Type {
	case tea.KeyBackspace:
		if len(q) == 0 {
			return q, false
		}
		return q[:len(q)-1], true
	case tea.KeyCtrlU:
		return nil, len(q) > 0
	case tea.KeySpace:
		if !spaces || len(q) >= maxQuery {
			return q, false
		}
		return append(slices.Clone(q), ' '), true
	case tea.KeyRunes:
		if msg.Alt { // alt+letter is a key, not text
			return q, false
		}
		out := slices.Clone(q)
		for _, r := range msg.Runes {
			// A paste may bring newlines and tabs: they are not text here.
			if len(out) < maxQuery && unicode.IsPrint(r) && (spaces || r != ' ') {
				out = append(out, r)
			}
		}
		return out, len(out) != len(q)
	}
	return q, false
}

// pattern is the query as matched: spaces are dropped, since fuzzy
// matching skips characters anyway and "heat map" should still find
// "Heatmap".
func (q typedQuery) pattern() string {
	return strings.ReplaceAll(string(q), " ", "")
}

// view draws the search field in w cells: a prompt mark, the query with a
// cursor after it, or the hint while nothing is typed. A query wider than
// the field shows its end, where the typing is.
func (q typedQuery) view(st styles, hint string, w int) string {
	if len(q) == 0 {
		return "› ▏" + st.Subtle.Render(hint)
	}
	s := string(q)
	if over := lipgloss.Width(s) + 3 - w; over > 0 {
		s = ansi.TruncateLeft(s, over+1, "…")
	}
	return "› " + s + "▏"
}

// listMatch is one entry that matches a query: its index in the given
// list and the byte offsets of the matched characters in its text.
type listMatch struct {
	index   int
	score   int
	matched []int
}

// fuzzyRank matches pattern against texts (and, if given, against alts,
// the same length as texts, whose match is not highlighted since alts
// are not shown). An empty pattern keeps every entry in the given order;
// otherwise the matches come best first, ties in the given order.
func fuzzyRank(pattern string, texts, alts []string) []listMatch {
	if pattern == "" {
		out := make([]listMatch, len(texts))
		for i := range texts {
			out[i] = listMatch{index: i}
		}
		return out
	}
	byIndex := map[int]*listMatch{}
	for _, m := range fuzzy.FindNoSort(pattern, texts) {
		byIndex[m.Index] = &listMatch{index: m.Index, score: startScore(m), matched: m.MatchedIndexes}
	}
	if alts != nil {
		for _, m := range fuzzy.FindNoSort(pattern, alts) {
			if lm, ok := byIndex[m.Index]; !ok {
				byIndex[m.Index] = &listMatch{index: m.Index, score: startScore(m)}
			} else {
				lm.score = max(lm.score, startScore(m))
			}
		}
	}
	out := make([]listMatch, 0, len(byIndex))
	for _, m := range byIndex {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b listMatch) int {
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.index, b.index))
	})
	return out
}

// startScore is the matcher's score, raised when the match begins at the
// very start of the text. The matcher rates a letter after a space above
// a first letter, so "hm" would rank "Change measure" over "Heatmap";
// but what is typed first is nearly always how the name begins.
func startScore(m fuzzy.Match) int {
	if len(m.MatchedIndexes) > 0 && m.MatchedIndexes[0] == 0 {
		return m.Score + 15
	}
	return m.Score
}

// highlight renders s in base, with the runes at the byte offsets in
// matched in hi. Runs are rendered together so the output stays short.
func highlight(s string, matched []int, base, hi lipgloss.Style) string {
	if len(matched) == 0 {
		return base.Render(s)
	}
	var b strings.Builder
	run, runHi := "", false
	flush := func() {
		if run == "" {
			return
		}
		if runHi {
			b.WriteString(hi.Render(run))
		} else {
			b.WriteString(base.Render(run))
		}
		run = ""
	}
	for i, r := range s {
		isHi := slices.Contains(matched, i)
		if isHi != runHi {
			flush()
			runHi = isHi
		}
		run += string(r)
	}
	flush()
	return b.String()
}

// scrollTo returns the first row to show so that cursor is on screen,
// moving offset as little as possible.
func scrollTo(offset, cursor, room int) int {
	if cursor < offset {
		return cursor
	}
	if cursor >= offset+room {
		return cursor - room + 1
	}
	return max(0, offset)
}

// keyHints lays out groups of key hints in lines of at most w cells,
// hints joined by " · ". A group that does not fit on the current line
// starts a new one, so hints that belong together stay together; a group
// wider than a line breaks between hints, never inside one.
func keyHints(w int, groups ...[]string) []string {
	var lines []string
	line := ""
	for _, g := range groups {
		joined := strings.Join(g, " · ")
		if line != "" && lipgloss.Width(line+" · "+joined) <= w {
			line += " · " + joined
			continue
		}
		if line != "" {
			lines = append(lines, line)
			line = ""
		}
		for _, h := range g {
			switch {
			case line == "":
				line = h
			case lipgloss.Width(line+" · "+h) <= w:
				line += " · " + h
			default:
				lines = append(lines, line)
				line = h
			}
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// boxTop is the box's top border with title at the left and info at the
// right, e.g. "╭─ 命令 ──────── 3/27 ─╮".
func boxTop(st styles, title, info string, w int) string {
	infoW := lipgloss.Width(info)
	title = fit(title, min(lipgloss.Width(title), max(1, w-infoW-10)))
	fill := max(0, w-lipgloss.Width(title)-infoW-8)
	return st.Pane.Render("╭─ ") + st.Title.Render(title) + st.Pane.Render(" "+strings.Repeat("─", fill)+" ") +
		st.Subtle.Render(info) + st.Pane.Render(" ─╮")
}

// boxRow is one line inside the box: s, cut or padded to the inside width.
func boxRow(st styles, s string, w int) string {
	return st.Pane.Render("│") + " " + fit(s, w-4) + " " + st.Pane.Render("│")
}

// boxRule divides the box's parts.
func boxRule(st styles, w int) string {
	return st.Pane.Render("├" + strings.Repeat("─", w-2) + "┤")
}

func boxBottom(st styles, w int) string {
	return st.Pane.Render("╰" + strings.Repeat("─", w-2) + "╯")
}
