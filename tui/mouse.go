package tui

import (
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// mouse handles clicks and the wheel on the main screen. The screen is
// laid out by View: a header line, then the left pane (its title, then
// the dimensions) and the right pane (the chart's title, the chart, a
// blank line, the table's header and rows), then the status line.
//
// The wheel moves through what is under the pointer: the dimensions on
// the left, the table's rows on the right. A click on a dimension slices
// by it; a click on a bar, or on a table row, highlights that row (enter
// then drills into it).
func (s slicer) mouse(msg tea.MouseMsg) (slicer, tea.Cmd) {
	if msg.Action != tea.MouseActionPress {
		return s, nil
	}
	left := msg.X < s.leftW
	k := s.ctx.keys
	switch msg.Button {
	case tea.MouseButtonWheelUp, tea.MouseButtonWheelDown:
		dir := k.Down
		if msg.Button == tea.MouseButtonWheelUp {
			dir = k.Up
		}
		switch {
		case left && s.focus == focusTable:
			s = s.focusOn(focusDims)
		case !left && s.focus != focusTable:
			s = s.focusOn(focusTable)
		}
		return s.key(keyOf(dir))
	case tea.MouseButtonLeft:
	default:
		return s, nil
	}
	y := msg.Y - 1 // lines of the body
	if left {
		first, room := s.dimWindow(max(4, s.height-2))
		i := first + y - 1
		if y < 1 || y > room || i >= len(s.dims) {
			return s, nil
		}
		s = s.focusOn(focusDims)
		if i == s.cursor {
			return s, nil
		}
		s.step()
		s.cursor = i
		s.fitMeasure(1)
		return s, s.run()
	}
	if s.res == nil || len(s.tableKeys) == 0 {
		return s, nil
	}
	if row, ok := s.chartRow(y - 1); ok {
		s = s.focusOn(focusTable)
		s.table.SetCursor(row)
		s.markRow()
		return s, nil
	}
	if line := y - s.chartH - 2; line >= 1 {
		// A table row: the table scrolls on its own, so find the
		// highlighted row's line and move by the difference.
		s = s.focusOn(focusTable)
		lines := strings.Split(s.table.View(), "\n")
		at := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "▸ ") })
		if at < 0 || line >= len(lines) || strings.TrimSpace(lines[line]) == "" {
			return s, nil
		}
		if d := line - at; d < 0 {
			s.table.MoveUp(-d)
		} else {
			s.table.MoveDown(d)
		}
		s.markRow()
	}
	return s, nil
}

// chartRow maps a line of the chart to the table row it draws, for the
// charts that draw a row per line (bars) or per two lines (comparison).
func (s *slicer) chartRow(line int) (int, bool) {
	if line < 0 || line >= s.chartH {
		return 0, false
	}
	cur := max(0, s.table.Cursor())
	switch s.shownKind() {
	case chartBars:
		if r := s.chartTop + line; r < len(s.tableKeys) {
			return r, true
		}
	case chartCompare:
		a, b, _ := s.segments()
		head := 1 // the legend
		if compareOf(s.res, a, b).overall != nil {
			head++
		}
		room := max(1, (s.chartH-2)/2)
		top := max(0, cur-room+1)
		if line >= head {
			if r := top + (line-head)/2; r < len(s.tableKeys) {
				return r, true
			}
		}
	case chartHeatmap:
		// A row of the grid is a value of the first dimension: its
		// first cell in the table.
		keys := heatRows(s.res)
		at := slices.Index(keys, s.tableKeys[min(cur, len(s.tableKeys)-1)][0])
		top := max(0, at-(s.chartH-2)+1)
		if i := top + line - 1; line >= 1 && line-1 < s.chartH-2 && i < len(keys) {
			for r, k := range s.tableKeys {
				if k[0] == keys[i] {
					return r, true
				}
			}
		}
	}
	return 0, false
}

// focusOn moves the focus to area a.
func (s slicer) focusOn(a focusArea) slicer {
	s.focus = a
	if a == focusTable {
		s.table.Focus()
	} else {
		s.table.Blur()
	}
	s.markRow()
	return s
}

// keyTypes are the named keys the key map uses.
var keyTypes = map[string]tea.KeyType{
	"up": tea.KeyUp, "down": tea.KeyDown, "enter": tea.KeyEnter, "esc": tea.KeyEsc,
	"tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab, "ctrl+r": tea.KeyCtrlR, "ctrl+l": tea.KeyCtrlL,
}

// keyOf is the key press that b's first key names.
func keyOf(b interface{ Keys() []string }) tea.KeyMsg {
	k := b.Keys()[0]
	if t, ok := keyTypes[k]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}
