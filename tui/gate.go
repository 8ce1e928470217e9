package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/persona-workbench/persona/engine/licence"
	"github.com/persona-workbench/persona/engine/slice"
)

// Gate is the licence an analyst must acknowledge before any data is
// shown.
type Gate struct {
	Licence *licence.Licence
	Person  string    // who opened it
	Now     time.Time // for the days left
}

// ackMsg says the analyst acknowledged the licence.
type ackMsg struct{}

// gate is the licence screen: the terms, then an acknowledgement.
type gate struct {
	ctx           *shared
	g             Gate
	width, height int
}

func newGate(ctx *shared, g Gate) gate { return gate{ctx: ctx, g: g} }

// SetSize sets the area the screen draws in.
func (s *gate) SetSize(w, h int) { s.width, s.height = w, h }

// Update handles the acknowledgement key.
func (s gate) Update(msg tea.Msg) (gate, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && key.Matches(k, s.ctx.keys.Acknowledge) {
		return s, func() tea.Msg { return ackMsg{} }
	}
	return s, nil
}

// View draws the terms.
func (s gate) View() string {
	t, st, l := s.ctx.t, s.ctx.st, s.g.Licence
	// Dates are those of the contract: mainland China, China Standard
	// Time; the period and the deadline are shown as their last whole day.
	day := func(x time.Time) string { return x.In(chinaTime).Format("2006-01-02") }
	lastDay := func(x time.Time) string { return day(x.Add(-time.Nanosecond)) }
	var people []string
	for _, p := range l.Personnel {
		people = append(people, fmt.Sprintf("%s (%s)", p.Name, p.Role))
	}
	rows := [][2]string{
		{t.gateLicence, l.ID},
		{t.gatePurpose, l.Purpose},
		{t.gateLicensee, l.Licensee.Name},
		{t.gateLicensor, l.Licensor.Name},
		{t.gatePeriod, fmt.Sprintf("%s – %s %s  ·  %s", day(l.NotBefore), lastDay(l.NotAfter), t.gateTZ, fmt.Sprintf(t.gateDaysLeft, l.DaysLeft(s.g.Now)))},
		{t.gateRegion, regionName(l.Region, s.ctx.lang)},
		{t.gateK, slice.ProtectionShort(l.Privacy.Effective(), l.Privacy.K, l.Privacy.Bound(), s.ctx.lang)},
		{t.gatePeople, fmt.Sprintf("%s  (%d/%d)", strings.Join(people, ", "), len(l.Personnel), l.MaxPersonnel)},
		{t.gateDeletion, fmt.Sprintf(t.gateDeletionText, l.DeletionDays, lastDay(l.DeleteBy()))},
		{t.gateYou, s.g.Person},
	}
	labelW := 0
	for _, r := range rows {
		labelW = max(labelW, lipgloss.Width(r[0]))
	}
	inner := max(s.width-4, 20)
	var b strings.Builder
	b.WriteString(st.Header.Render(t.gateTitle) + "\n\n")
	for _, r := range rows {
		label := r[0] + strings.Repeat(" ", labelW-lipgloss.Width(r[0]))
		b.WriteString(ansi.Truncate(st.Subtle.Render(label)+"  "+r[1], inner, "…") + "\n")
	}
	b.WriteString("\n" + lipgloss.NewStyle().Width(inner).Render(t.gateTerms) + "\n\n")
	b.WriteString(st.Header.Render(ansi.Truncate(t.gateAck, inner, "…")))
	box := lipgloss.NewStyle().Padding(1, 2).Width(s.width).Height(max(s.height, 1)).MaxHeight(max(s.height, 1))
	return box.Render(b.String())
}

// chinaTime is China Standard Time, the contract's clock.
var chinaTime = time.FixedZone("CST", 8*3600)

func regionName(r, lang string) string {
	if r == licence.Region {
		if lang == "zh" {
			return "中国大陆"
		}
		return "Mainland China"
	}
	return r
}

// ShortHelp implements help.KeyMap.
func (s gate) ShortHelp() []key.Binding {
	return []key.Binding{s.ctx.keys.Acknowledge, s.ctx.keys.Quit}
}

// FullHelp implements help.KeyMap.
func (s gate) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }
