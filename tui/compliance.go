package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/persona-workbench/persona/engine/erase"
)

// Compliance is what the compliance screen needs: every licence's status,
// and the deletion of the open licence.
type Compliance struct {
	Licence string // the open licence, the one Delete deletes
	Status  func() ([]erase.LicenceStatus, error)
	// Delete closes the open data, deletes the licence and writes its
	// certificate; it returns the certificate's path.
	Delete func() (string, error)
}

type statusMsg struct {
	st  []erase.LicenceStatus
	err error
}

type deletedMsg struct {
	cert string
	err  error
}

// complianceScreen lists the licences on this workstation and offers the
// open licence's deletion behind typing its id.
type complianceScreen struct {
	loading       bool // the licences' states are being read
	ctx           *shared
	c             *Compliance
	st            []erase.LicenceStatus
	err           error
	typed         []rune // the licence id being typed to confirm
	confirming    bool
	deleting      bool
	done          string // the certificate, once deleted
	width, height int
}

func newComplianceScreen(ctx *shared, c *Compliance) complianceScreen {
	return complianceScreen{ctx: ctx, c: c}
}

func (s *complianceScreen) refresh() tea.Cmd {
	if s.c == nil || s.c.Status == nil {
		return nil
	}
	load := s.c.Status
	s.loading = true
	return func() tea.Msg {
		st, err := load()
		return statusMsg{st, err}
	}
}

// SetSize sets the area the screen draws in.
func (s *complianceScreen) SetSize(w, h int) { s.width, s.height = w, h }

// capturing reports whether the screen takes every key (typing the id).
func (s complianceScreen) capturing() bool { return s.confirming || s.deleting || s.done != "" }

// Update handles the status, the confirmation and the deletion's result.
func (s complianceScreen) Update(msg tea.Msg) (complianceScreen, tea.Cmd) {
	switch msg := msg.(type) {
	case statusMsg:
		s.st, s.err, s.loading = msg.st, msg.err, false
	case deletedMsg:
		s.deleting = false
		if msg.err != nil {
			s.err = msg.err
			return s, nil
		}
		s.done = msg.cert
		return s, s.refresh()
	case tea.KeyMsg:
		switch {
		case s.done != "" || s.deleting:
			return s, nil
		case s.confirming && key.Matches(msg, s.ctx.keys.Cancel):
			s.confirming = false
			return s, nil
		case s.confirming && msg.Type == tea.KeyEnter:
			if strings.TrimSpace(string(s.typed)) != s.c.Licence {
				s.err = fmt.Errorf(s.ctx.t.compNoMatch, s.c.Licence)
				s.confirming, s.typed = false, nil
				return s, nil
			}
			s.confirming, s.deleting, s.err = false, true, nil
			del := s.c.Delete
			return s, func() tea.Msg {
				cert, err := del()
				return deletedMsg{cert, err}
			}
		case s.confirming && msg.Type == tea.KeyBackspace:
			if len(s.typed) > 0 {
				s.typed = s.typed[:len(s.typed)-1]
			}
			return s, nil
		case s.confirming && msg.Type == tea.KeyRunes && len(s.typed) < 64:
			s.typed = append(s.typed, msg.Runes...)
			return s, nil
		case s.confirming:
			return s, nil
		case key.Matches(msg, s.ctx.keys.Refresh):
			return s, s.refresh()
		case key.Matches(msg, s.ctx.keys.Delete) && s.c != nil && s.c.Delete != nil:
			s.confirming, s.typed, s.err = true, nil, nil
			return s, nil
		}
	}
	return s, nil
}

// View draws the licences, then the deletion prompt or its outcome.
func (s complianceScreen) View() string {
	t, st := s.ctx.t, s.ctx.st
	w := max(s.width, 20)
	lines := []string{s.ctx.titleBar(st.Header, t.compTitle, w), ""}
	lines = append(lines, st.Subtle.Render(fit(t.compHeader, w)))
	for _, l := range s.st {
		by, left, toDel := "—", "—", "—"
		if l.Licence != nil {
			by = l.DeleteBy.In(chinaTime).Add(-time.Nanosecond).Format("2006-01-02")
			left, toDel = fmt.Sprint(l.DaysLeft), fmt.Sprint(l.DaysToErase)
		}
		health := t.compLogOK
		if !l.LogOK {
			health = t.compLogBad
		}
		lines = append(lines, ansi.Truncate(fmt.Sprintf("%-18s %-18s %6s  %-10s %6s  %4d  %s", l.ID, l.State, left, by, toDel, l.Derivatives, health), w, "…"))
	}
	lines = append(lines, "")
	switch {
	case s.done != "":
		lines = append(lines, strings.Split(st.Header.Width(w).Render(fmt.Sprintf(t.compDone, s.c.Licence, s.done)), "\n")...)
	case s.deleting:
		lines = append(lines, t.compDeleting)
	case s.confirming:
		lines = append(lines, strings.Split(lipgloss.NewStyle().Width(w).Render(fmt.Sprintf(t.compConfirm, s.c.Licence)), "\n")...)
		lines = append(lines, "> "+string(s.typed)+"█")
	}
	if s.err != nil {
		lines = append(lines, st.Error.Render(fit(s.err.Error(), w)))
	}
	out := strings.Join(lines, "\n")
	if n := len(lines); n < s.height {
		out += strings.Repeat("\n", s.height-n)
	}
	return out
}

// ShortHelp implements help.KeyMap.
func (s complianceScreen) ShortHelp() []key.Binding {
	if s.confirming {
		return []key.Binding{s.ctx.keys.Cancel}
	}
	if s.done != "" {
		return []key.Binding{s.ctx.keys.Quit}
	}
	return []key.Binding{s.ctx.keys.Delete, s.ctx.keys.Refresh, s.ctx.keys.Compliance, s.ctx.keys.Quit}
}

// FullHelp implements help.KeyMap.
func (s complianceScreen) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }
