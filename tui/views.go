package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/persona-workbench/persona/engine/views"
)

// Views keeps the analyst's saved views of the open licence; the
// workspace's views.File is one.
type Views interface {
	List() ([]views.View, error)
	Save(views.View) error
	Remove(name string) error
}

type viewsListedMsg struct {
	vs  []views.View
	err error
}

type viewSavedMsg struct {
	name string
	err  error
}

// viewsScreen lists the saved views (V) and names the current one for
// saving (S).
type viewsScreen struct {
	ctx           *shared
	store         Views
	vs            []views.View
	cursor        int
	err           error
	naming        bool       // typing a name for the view to save
	current       views.View // what is being saved
	typed         []rune
	note          string      // the last save's outcome
	loading       bool        // a list or a save is under way
	chosen        *views.View // picked to open, taken by the app
	width, height int
}

func newViewsScreen(ctx *shared, store Views) viewsScreen {
	return viewsScreen{ctx: ctx, store: store}
}

func (s *viewsScreen) refresh() tea.Cmd {
	if s.store == nil {
		return nil
	}
	store := s.store
	s.loading = true
	return func() tea.Msg {
		vs, err := store.List()
		return viewsListedMsg{vs, err}
	}
}

// startSaving opens the name prompt for v.
func (s *viewsScreen) startSaving(v views.View) {
	s.naming, s.current, s.typed, s.err = true, v, nil, nil
}

// take returns the view the analyst picked, once.
func (s *viewsScreen) take() (views.View, bool) {
	if s.chosen == nil {
		return views.View{}, false
	}
	v := *s.chosen
	s.chosen = nil
	return v, true
}

// capturing reports whether keys are being typed into the name.
func (s viewsScreen) capturing() bool { return s.naming }

// Update handles the screen's messages.
func (s viewsScreen) Update(msg tea.Msg) (viewsScreen, tea.Cmd) {
	switch msg := msg.(type) {
	case viewsListedMsg:
		s.loading = false
		s.vs, s.err = msg.vs, msg.err
		s.cursor = min(s.cursor, max(0, len(s.vs)-1))
		return s, nil
	case viewSavedMsg:
		if msg.err != nil {
			s.loading = false
			s.err = msg.err
			return s, nil
		}
		s.note = fmt.Sprintf(s.ctx.t.viewSaved, msg.name)
		return s, s.refresh()
	case tea.KeyMsg:
		if s.naming {
			return s.name(msg)
		}
		k := s.ctx.keys
		switch {
		case key.Matches(msg, k.Up):
			s.cursor = max(0, s.cursor-1)
		case key.Matches(msg, k.Down):
			s.cursor = min(max(0, len(s.vs)-1), s.cursor+1)
		case key.Matches(msg, k.OpenView):
			if len(s.vs) > 0 {
				v := s.vs[s.cursor]
				s.chosen = &v
			}
		case key.Matches(msg, k.RemoveView):
			if len(s.vs) > 0 && s.store != nil {
				store, name := s.store, s.vs[s.cursor].Name
				s.loading = true
				return s, func() tea.Msg {
					if err := store.Remove(name); err != nil {
						return viewsListedMsg{err: err}
					}
					vs, err := store.List()
					return viewsListedMsg{vs, err}
				}
			}
		}
	}
	return s, nil
}

// name takes the keys of the name prompt: enter saves, esc gives up.
func (s viewsScreen) name(msg tea.KeyMsg) (viewsScreen, tea.Cmd) {
	switch msg.Type {
	case tea.KeyEsc:
		s.naming, s.typed = false, nil
	case tea.KeyBackspace:
		if len(s.typed) > 0 {
			s.typed = s.typed[:len(s.typed)-1]
		}
	case tea.KeyEnter:
		v := s.current
		v.Name = strings.TrimSpace(string(s.typed))
		if err := views.CheckName(v.Name); err != nil {
			s.err = err
			return s, nil
		}
		s.naming, s.typed, s.err, s.loading = false, nil, nil, true
		store := s.store
		return s, func() tea.Msg { return viewSavedMsg{v.Name, store.Save(v)} }
	case tea.KeyRunes, tea.KeySpace:
		if len(s.typed) < views.MaxName {
			s.typed = append(s.typed, msg.Runes...)
		}
	}
	return s, nil
}

// SetSize sets the screen's size.
func (s *viewsScreen) SetSize(w, h int) { s.width, s.height = w, h }

// View draws the list, or the name prompt.
func (s viewsScreen) View() string {
	st, t, lang := s.ctx.st, s.ctx.t, s.ctx.lang
	lines := []string{s.ctx.titleBar(st.Title, " Persona Workbench │ "+t.viewsTitle, s.width), ""}
	if s.naming {
		lines = append(lines, "  "+t.viewName, "  "+string(s.typed)+"▏", "",
			"  "+st.Subtle.Render(describe(s.current, lang)))
	} else {
		if len(s.vs) == 0 && s.err == nil {
			lines = append(lines, "  "+st.Subtle.Render(t.viewsNone))
		}
		for i, v := range s.vs {
			mark := "  "
			if i == s.cursor {
				mark = "▸ "
			}
			line := fit(mark+v.Name, 24) + "  " + st.Subtle.Render(describe(v, lang)) + "  " + st.Subtle.Render(v.Saved.In(chinaTime).Format("2006-01-02 15:04"))
			if i == s.cursor {
				line = st.Selected.Render(line)
			}
			lines = append(lines, fit(line, s.width))
		}
	}
	switch {
	case s.err != nil:
		lines = append(lines, "", "  "+st.Error.Render(firstLine(s.err.Error())))
	case s.note != "":
		lines = append(lines, "", "  "+s.note)
	}
	return block(lines, s.width, s.height)
}

// describe says what a view shows, in the inventory's names.
func describe(v views.View, lang string) string {
	var b strings.Builder
	b.WriteString(v.Measure)
	if len(v.Dims) > 0 {
		by := " by "
		if lang == "zh" {
			by = " 按 "
		}
		b.WriteString(by + strings.Join(v.Dims, " × "))
	}
	names := make([]string, 0, len(v.Filters))
	for name := range v.Filters {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		b.WriteString(" · " + name + "=" + strings.Join(v.Filters[name], ","))
	}
	return b.String()
}

// ShortHelp implements help.KeyMap.
func (s viewsScreen) ShortHelp() []key.Binding {
	k := s.ctx.keys
	if s.naming {
		return []key.Binding{k.Cancel}
	}
	return []key.Binding{k.Up, k.OpenView, k.RemoveView, k.Cancel, k.Quit}
}

// FullHelp implements help.KeyMap.
func (s viewsScreen) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }
