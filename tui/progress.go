package tui

import tea "github.com/charmbracelet/bubbletea"

// progressTo names the screen a progress report is for.
type progressTo int

const (
	toAnalyses progressTo = iota
	toExport
)

// progressMsg says how far a command's long work is, and waits for the
// next report.
type progressMsg struct {
	to          progressTo
	seq         int
	done, total int
	next        <-chan progressMsg
}

// progressFeed returns the function long work reports its steps through,
// from its command, and the channel the screen reads them from
// (waitProgress); the work closes the channel when it ends. A report the
// screen is too far behind to take is skipped.
func progressFeed(to progressTo, seq int) (func(done, total int), chan progressMsg) {
	ch := make(chan progressMsg, 64)
	return func(done, total int) {
		select {
		case ch <- progressMsg{to: to, seq: seq, done: done, total: total, next: ch}:
		default:
		}
	}, ch
}

// waitProgress reads the next progress report, if any.
func waitProgress(ch <-chan progressMsg) tea.Cmd {
	return func() tea.Msg {
		if m, ok := <-ch; ok {
			return m
		}
		return nil
	}
}
