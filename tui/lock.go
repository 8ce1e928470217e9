package tui

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Lock locks the screen after a time without a key press, for
// workstations that are left alone: nothing of the data shows until the
// analyst enters the licence's passphrase again.
type Lock struct {
	After time.Duration // without a key press; 0 never locks
	// Watermark names the licence, the licensee and the analyst; the
	// lock screen shows it.
	Watermark string
	// Unlock checks a passphrase; it runs in a command, and may take a
	// second (the key derivation is slow on purpose).
	Unlock func(passphrase string) error
	// OnLock and OnUnlock, if set, are called (in commands) for the
	// usage log; OnLock says what locked: "idle" or "key" (ctrl+l).
	OnLock   func(by string)
	OnUnlock func()
}

// idleTickMsg is the idle check's tick.
type idleTickMsg time.Time

// unlockedMsg answers an unlock attempt.
type unlockedMsg struct{ err error }

// lockScreen is what shows while the screen is locked: the watermark
// and the passphrase prompt, no data.
type lockScreen struct {
	ctx      *shared
	cfg      Lock
	locked   bool
	last     time.Time // the last key press
	typed    []rune
	checking bool
	failed   bool
	width    int
	height   int
}

func newLockScreen(ctx *shared, cfg *Lock) lockScreen {
	l := lockScreen{ctx: ctx, last: time.Now()}
	if cfg != nil {
		l.cfg = *cfg
	}
	return l
}

// canLock reports whether the screen can be locked at all: only with a
// way to unlock it, whether or not it locks when left alone.
func (l lockScreen) canLock() bool { return l.cfg.Unlock != nil }

// enabled reports whether the screen locks when left alone.
func (l lockScreen) enabled() bool { return l.cfg.After > 0 && l.cfg.Unlock != nil }

// tick schedules the next idle check: when the lock would fall due.
func (l lockScreen) tick() tea.Cmd {
	if !l.enabled() {
		return nil
	}
	wait := max(time.Until(l.last.Add(l.cfg.After)), 10*time.Millisecond)
	return tea.Tick(wait, func(t time.Time) tea.Msg { return idleTickMsg(t) })
}

// lock hides the screen now (the idle time ran out, or the analyst
// asked to).
func (l lockScreen) lock(by string) (lockScreen, tea.Cmd) {
	if !l.canLock() || l.locked {
		return l, nil
	}
	l.locked, l.typed, l.failed = true, nil, false
	if f := l.cfg.OnLock; f != nil {
		return l, func() tea.Msg { f(by); return nil }
	}
	return l, nil
}

// touch notes a key press.
func (l *lockScreen) touch() { l.last = time.Now() }

// Update handles the lock's messages; the App sends it every key while
// locked.
func (l lockScreen) Update(msg tea.Msg) (lockScreen, tea.Cmd) {
	switch msg := msg.(type) {
	case idleTickMsg:
		if !l.enabled() || l.locked {
			return l, nil
		}
		if time.Time(msg).Sub(l.last) < l.cfg.After {
			return l, l.tick()
		}
		return l.lock("idle")
	case unlockedMsg:
		l.checking = false
		if msg.err != nil {
			l.failed = true
			return l, nil
		}
		l.locked, l.failed = false, false
		l.touch()
		cmds := []tea.Cmd{l.tick()}
		if f := l.cfg.OnUnlock; f != nil {
			cmds = append(cmds, func() tea.Msg { f(); return nil })
		}
		return l, tea.Batch(cmds...)
	case tea.KeyMsg:
		if l.checking {
			return l, nil
		}
		switch msg.Type {
		case tea.KeyEnter:
			pass, unlock := string(l.typed), l.cfg.Unlock
			l.typed, l.checking, l.failed = nil, true, false
			return l, func() tea.Msg { return unlockedMsg{unlock(pass)} }
		case tea.KeyBackspace:
			if len(l.typed) > 0 {
				l.typed = l.typed[:len(l.typed)-1]
			}
		case tea.KeyEsc:
			l.typed = nil
		case tea.KeyRunes, tea.KeySpace:
			l.typed = append(l.typed, msg.Runes...)
		}
	}
	return l, nil
}

// SetSize sets the screen's size.
func (l *lockScreen) SetSize(w, h int) { l.width, l.height = w, h }

// View draws the lock screen: no data, the watermark, the prompt.
func (l lockScreen) View() string {
	st, t := l.ctx.st, l.ctx.t
	lines := []string{
		st.Title.Render(fit(" Persona Workbench │ "+t.lockTitle, l.width)),
		"",
		"  " + st.Header.Render(t.lockWatermark),
		"  " + fit(l.cfg.Watermark, l.width-2),
		"",
		"  " + t.lockPrompt,
		"  " + strings.Repeat("•", len(l.typed)) + "▏",
	}
	switch {
	case l.checking:
		lines = append(lines, "", "  "+st.Subtle.Render(t.lockChecking))
	case l.failed:
		lines = append(lines, "", "  "+st.Error.Render(t.lockWrong))
	}
	return block(lines, l.width, l.height)
}

// ShortHelp implements help.KeyMap: only quitting, besides typing.
func (l lockScreen) ShortHelp() []key.Binding { return []key.Binding{l.ctx.keys.ForceQuit} }

// FullHelp implements help.KeyMap.
func (l lockScreen) FullHelp() [][]key.Binding { return [][]key.Binding{l.ShortHelp()} }
