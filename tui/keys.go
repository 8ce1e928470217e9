package tui

import "github.com/charmbracelet/bubbles/key"

// keyMap declares every key binding once; help is generated from it.
type keyMap struct {
	Up, Down, Focus, FocusBack, Second key.Binding
	NextMeasure, PrevMeasure           key.Binding
	Filter, ClearFilter, Sort          key.Binding
	Top, Cancel, Help, Quit            key.Binding
	Acknowledge, UsageLog, Refresh     key.Binding
	Compliance, Delete, Chart          key.Binding
	ForceQuit                          key.Binding // the only way out of the lock screen
	Undo, Redo                         key.Binding
	SaveView, Views, OpenView          key.Binding
	RemoveView, Drill, Compare         key.Binding
	Palette, Pick, LockNow             key.Binding
	Analyses, AnDim, AnBy, AnAdjust    key.Binding
	AnK, AnSlice, AnTarget             key.Binding
	Export, ExFocus, ExWrite           key.Binding
}

func newKeyMap(t texts) keyMap {
	b := func(keys []string, help, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return keyMap{
		Up:          b([]string{"up", "k"}, "↑/k", t.keyUp),
		Down:        b([]string{"down", "j"}, "↓/j", t.keyDown),
		Focus:       b([]string{"tab"}, "tab", t.keyFocus),
		FocusBack:   b([]string{"shift+tab"}, "shift+tab", t.keyFocusBack),
		Second:      b([]string{"b"}, "b", t.keySecond),
		NextMeasure: b([]string{"m"}, "m", t.keyMeasure),
		PrevMeasure: b([]string{"M"}, "M", t.keyPrevMeasure),
		Filter:      b([]string{"f"}, "f", t.keyFilter),
		Drill:       b([]string{"enter"}, "enter", t.keyDrill),
		Compare:     b([]string{"c"}, "c", t.keyCompare),
		ClearFilter: b([]string{"x"}, "x", t.keyClear),
		Sort:        b([]string{"s"}, "s", t.keySort),
		Top:         b([]string{"t"}, "t", t.keyTop),
		Cancel:      b([]string{"esc"}, "esc", t.keyCancel),
		Help:        b([]string{"?"}, "?", t.keyHelp),
		Quit:        b([]string{"q", "ctrl+c"}, "q", t.keyQuit),
		Acknowledge: b([]string{"enter"}, "enter", t.keyAck),
		UsageLog:    b([]string{"L"}, "L", t.keyLog),
		Refresh:     b([]string{"r"}, "r", t.keyRefresh),
		Compliance:  b([]string{"C"}, "C", t.keyCompliance),
		Delete:      b([]string{"D"}, "D", t.keyDelete),
		Chart:       b([]string{"v"}, "v", t.keyChart),
		Palette:     b([]string{":"}, ":", t.keyPalette),
		Pick:        b([]string{"F"}, "F", t.keyPick),
		LockNow:     b([]string{"ctrl+l"}, "ctrl+l", t.keyLock),
		Analyses:    b([]string{"A"}, "A", t.keyAnalyses),
		AnDim:       b([]string{"d"}, "d", t.keyAnDim),
		AnBy:        b([]string{"b"}, "b", t.keyAnBy),
		AnAdjust:    b([]string{"a"}, "a", t.keyAnAdjust),
		AnK:         b([]string{"n"}, "n", t.keyAnK),
		AnSlice:     b([]string{"enter"}, "enter", t.keyAnSlice),
		AnTarget:    b([]string{"t"}, "t", t.keyAnTarget),
		ForceQuit:   b([]string{"ctrl+c"}, "ctrl+c", t.keyQuit),
		Undo:        b([]string{"u"}, "u", t.keyUndo),
		Redo:        b([]string{"ctrl+r", "U"}, "ctrl+r/U", t.keyRedo),
		SaveView:    b([]string{"S"}, "S", t.keySaveView),
		Views:       b([]string{"V"}, "V", t.keyViews),
		OpenView:    b([]string{"enter"}, "enter", t.keyOpenView),
		RemoveView:  b([]string{"x"}, "x", t.keyRemoveView),
		Export:      b([]string{"E"}, "E", t.keyExport),
		ExFocus:     b([]string{"tab", "shift+tab"}, "tab", t.keyExFocus),
		ExWrite:     b([]string{"enter"}, "enter", t.keyExWrite),
	}
}

// ShortHelp implements help.KeyMap.
func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Focus, k.NextMeasure, k.Drill, k.Help, k.Quit}
}

// FullHelp implements help.KeyMap.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Focus, k.FocusBack, k.Help, k.LockNow, k.Quit},
		{k.Second, k.Compare, k.NextMeasure, k.PrevMeasure, k.Sort, k.Top, k.Chart},
		{k.Drill, k.Filter, k.Pick, k.ClearFilter, k.Undo, k.Redo, k.Cancel},
		{k.Palette, k.SaveView, k.Views, k.Export, k.Analyses, k.UsageLog, k.Compliance},
	}
}
