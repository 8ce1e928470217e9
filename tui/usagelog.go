package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/persona-workbench/persona/engine/usagelog"
)

// UsageLog reads the licence's usage log and verifies it.
type UsageLog func() ([]usagelog.Record, *usagelog.Report, error)

// usageLogMsg carries the log back from a read.
type usageLogMsg struct {
	recs []usagelog.Record
	rep  *usagelog.Report
	err  error
}

// usageScreen lists the latest records of the usage log and whether the
// log verifies.
type usageScreen struct {
	ctx           *shared
	load          UsageLog
	recs          []usagelog.Record
	rep           *usagelog.Report
	err           error
	loading       bool
	width, height int
}

func newUsageScreen(ctx *shared, load UsageLog) usageScreen {
	return usageScreen{ctx: ctx, load: load}
}

// refresh reads the log in a command.
func (s *usageScreen) refresh() tea.Cmd {
	if s.load == nil {
		return nil
	}
	s.loading = true
	load := s.load
	return func() tea.Msg {
		recs, rep, err := load()
		return usageLogMsg{recs, rep, err}
	}
}

// SetSize sets the area the screen draws in.
func (s *usageScreen) SetSize(w, h int) { s.width, s.height = w, h }

// Update handles the log arriving and the refresh key.
func (s usageScreen) Update(msg tea.Msg) (usageScreen, tea.Cmd) {
	switch msg := msg.(type) {
	case usageLogMsg:
		s.loading = false
		s.recs, s.rep, s.err = msg.recs, msg.rep, msg.err
	case tea.KeyMsg:
		if key.Matches(msg, s.ctx.keys.Refresh) {
			return s, s.refresh()
		}
	}
	return s, nil
}

// View draws the state line and as many of the latest records as fit.
func (s usageScreen) View() string {
	t, st := s.ctx.t, s.ctx.st
	var b strings.Builder
	b.WriteString(s.ctx.titleBar(st.Header, t.logTitle, s.width) + "\n")
	switch {
	case s.load == nil:
		b.WriteString(t.logNone + "\n")
	case s.loading && s.rep == nil:
		b.WriteString(t.loading + "\n")
	case s.err != nil:
		b.WriteString(st.Error.Render(fit(s.err.Error(), s.width)) + "\n")
	case s.rep != nil && s.rep.OK():
		state := fmt.Sprintf(t.logOK, s.rep.Records, s.rep.Checkpoints)
		if s.rep.Torn {
			state += " · " + t.logTorn
		}
		b.WriteString(st.Subtle.Render(fit(state, s.width)) + "\n")
	case s.rep != nil:
		b.WriteString(st.Error.Render(fit(fmt.Sprintf(t.logBad, len(s.rep.Problems), s.rep.Problems[0].Msg), s.width)) + "\n")
	}
	rows := max(s.height-3, 1)
	recs := s.recs
	if len(recs) > rows {
		recs = recs[len(recs)-rows:]
	}
	for _, r := range recs {
		line := fmt.Sprintf("%5d  %s  %-12s %s", r.Seq, r.Time.In(time.Local).Format("01-02 15:04:05"), r.Kind, r.Details(0))
		b.WriteString(ansi.Truncate(line, max(s.width, 10), "…") + "\n")
	}
	out := strings.TrimSuffix(b.String(), "\n")
	if n := strings.Count(out, "\n") + 1; n < s.height {
		out += strings.Repeat("\n", s.height-n) // keep the footer in place
	}
	return out
}

// ShortHelp implements help.KeyMap.
func (s usageScreen) ShortHelp() []key.Binding {
	return []key.Binding{s.ctx.keys.Refresh, s.ctx.keys.UsageLog, s.ctx.keys.Quit}
}

// FullHelp implements help.KeyMap.
func (s usageScreen) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }
