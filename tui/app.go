// Package tui is Persona Workbench's terminal interface (Bubble Tea).
//
// The root model (App) only routes and lays out: it owns the shared
// context (size, styles, keys, language) and the active screen, handles
// global keys and window size, and hands every other message to the
// screen. Screens never run queries in Update: they return commands that
// call the engine and come back as typed messages.
package tui

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/persona-workbench/persona/engine/analysis"
	"github.com/persona-workbench/persona/engine/report"
	"github.com/persona-workbench/persona/engine/slice"
)

// Backend is what the interface needs from the engine: the privacy
// guard's slices and what the analyses fit models with; guard.Engine and
// the usage log's Slices are one.
type Backend interface {
	analysis.Runner
}

// Config sets up the interface.
type Config struct {
	Backend Backend
	Lang    string // "zh" or "en"
	// Title names what is open, e.g. the data set or the licence.
	Title string
	// Renderer decides colours; nil means the terminal's (which honours
	// NO_COLOR).
	Renderer *lipgloss.Renderer
	// Gate, when set, is the licence shown first: no data is queried or
	// shown until the analyst acknowledges it.
	Gate *Gate
	// OnAcknowledge, if set, is called (in a command) when the analyst
	// acknowledges the licence.
	OnAcknowledge func()
	// UsageLog, if set, reads the usage log for its screen (L).
	UsageLog UsageLog
	// Compliance, if set, backs the compliance screen (C).
	Compliance *Compliance
	// Lock, if set, locks the screen when it is left alone.
	Lock *Lock
	// Watermark, if set, is shown on the status bar: the licence, the
	// licensee and the analyst.
	Watermark string
	// Views, if set, keeps saved views (S saves, V lists).
	Views Views
	// OnAnalysis, if set, hears of each analysis run (A), for the usage
	// log.
	OnAnalysis OnAnalysis
	// Exports, if set, writes the current view's numbers and reports (E).
	Exports Exports
	// Now, if set, is the clock the export dialog's default file names
	// are stamped with; nil means time.Now.
	Now func() time.Time
	// Summarise, if set, builds what makes slices faster (the guard's
	// summary of the records), in a command started once the data may be
	// queried; the status bar says while it builds, and why it failed.
	Summarise func() (int64, error)
}

// summaryMsg says Config.Summarise is done.
type summaryMsg struct {
	groups int64
	err    error
}

// Exports writes what the analyst may hand on; each file is recorded in
// the usage log before it takes its name (engine/report.Publish).
type Exports interface {
	// Export writes a result shown on screen to path: CSV, JSON or
	// Parquet by its extension (report.ExportFormats), with the
	// watermark. It refuses a path that exists (report.ErrExists).
	Export(res *slice.Result, path string) (report.Written, error)
	// Report writes the brand marketing effect report (no names) or a
	// report of the named saved views to path: HTML or Markdown by its
	// extension (report.ReportFormats). progress, if set, is told how
	// many steps are done; ctx cancels the work.
	Report(ctx context.Context, names []string, path string, progress func(done, total int)) (report.Written, error)
}

// shared is the context every screen sees.
type shared struct {
	lang  string
	t     texts
	st    styles
	keys  keyMap
	title string
	// watermark names the licence, the licensee and the analyst on the
	// status bar, so a screenshot or a photo of the screen says whose it is.
	watermark string
	width     int
	height    int
}

// titleBar renders text in style across width, with the watermark on the
// right when it fits: every screen says whose data this is.
func (c *shared) titleBar(style lipgloss.Style, text string, width int) string {
	line := text
	if wm := c.watermark; wm != "" {
		if room := width - lipgloss.Width(text) - 3; room >= 8 {
			wm = fit(wm, min(room, lipgloss.Width(wm)))
			line += strings.Repeat(" ", width-lipgloss.Width(text)-lipgloss.Width(wm)-1) + wm + " "
		}
	}
	return style.Render(fit(line, width))
}

// overlay is a screen shown over the slicer: one at a time.
type overlay int

const (
	overNone overlay = iota
	overViews
	overLog
	overComp
	overAnalyses
	overExport
)

// toggle shows o over the slicer, or closes it if it is shown.
func (a *App) toggle(o overlay) {
	if a.over == o {
		a.over = overNone
	} else {
		a.over = o
	}
}

// App is the root model.
type App struct {
	ctx      *shared
	gate     *gate // the licence gate, until acknowledged
	onAck    func()
	usage    usageScreen
	comp     complianceScreen
	slicer   slicer
	lock     lockScreen
	views    viewsScreen
	palette  palette // the command palette (:), over every screen
	an       analysesScreen
	exp      exportScreen
	over     overlay // the screen shown over the slicer, if any
	help     help.Model
	fullHelp bool
	summary  func() (int64, error)
}

// New builds the interface.
func New(cfg Config) App {
	r := cfg.Renderer
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	lang := cfg.Lang
	if lang != "zh" {
		lang = "en"
	}
	t := textsFor(lang)
	ctx := &shared{lang: lang, t: t, st: newStyles(r), keys: newKeyMap(t), title: cfg.Title, watermark: cfg.Watermark}
	h := help.New()
	h.Styles.ShortKey = ctx.st.Header
	h.Styles.FullKey = ctx.st.Header
	h.Styles.ShortDesc = ctx.st.Subtle
	h.Styles.FullDesc = ctx.st.Subtle
	a := App{ctx: ctx, slicer: newSlicer(ctx, cfg.Backend), help: h, onAck: cfg.OnAcknowledge, usage: newUsageScreen(ctx, cfg.UsageLog),
		comp: newComplianceScreen(ctx, cfg.Compliance), lock: newLockScreen(ctx, cfg.Lock), views: newViewsScreen(ctx, cfg.Views),
		palette: newPalette(ctx.st, lang), an: newAnalysesScreen(ctx, cfg.Backend, cfg.OnAnalysis),
		exp: newExportScreen(ctx, cfg.Exports, cfg.Views, cfg.Now), summary: cfg.Summarise}
	a.slicer.summarising = cfg.Summarise != nil
	if cfg.Gate != nil {
		g := newGate(ctx, *cfg.Gate)
		a.gate = &g
	}
	return a
}

// Init runs the first slice, or waits for the licence to be acknowledged.
func (a App) Init() tea.Cmd {
	if a.gate != nil {
		return a.lock.tick()
	}
	return tea.Batch(a.slicer.Init(), a.lock.tick(), a.summarise())
}

// summarise runs Config.Summarise in a command.
func (a App) summarise() tea.Cmd {
	if a.summary == nil {
		return nil
	}
	f := a.summary
	return func() tea.Msg {
		n, err := f()
		return summaryMsg{n, err}
	}
}

// Update routes messages.
func (a App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case summaryMsg:
		a.slicer.summarising = false
		if msg.err != nil && !errors.Is(msg.err, context.Canceled) {
			a.slicer.say(a.ctx.t.summaryFailed + ": " + msg.err.Error())
		}
		return a, nil
	case tea.WindowSizeMsg:
		a.ctx.width, a.ctx.height = msg.Width, msg.Height
		a.help.Width = msg.Width
		a.layout()
		return a, nil
	case tea.KeyMsg:
		// Keys typed faster than the terminal is read arrive as one
		// message with several runes; handle them one by one.
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
			var cmds []tea.Cmd
			var m tea.Model = a
			for _, r := range msg.Runes {
				var cmd tea.Cmd
				m, cmd = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt})
				cmds = append(cmds, cmd)
			}
			return m, tea.Sequence(cmds...)
		}
		// ctrl+c quits from anywhere, even while a name or a
		// passphrase is being typed.
		if key.Matches(msg, a.ctx.keys.ForceQuit) {
			a.slicer.stop()
			a.exp.stop()
			return a, tea.Quit
		}
		if a.lock.locked {
			// Every other key is the passphrase's.
			var cmd tea.Cmd
			a.lock, cmd = a.lock.Update(msg)
			return a, cmd
		}
		a.lock.touch()
		if key.Matches(msg, a.ctx.keys.LockNow) && a.lock.canLock() {
			a.palette, _, _ = a.palette.Update(tea.KeyMsg{Type: tea.KeyEsc})
			var cmd tea.Cmd
			a.lock, cmd = a.lock.lock("key")
			return a, cmd
		}
		if a.palette.Active() {
			var id string
			a.palette, id, _ = a.palette.Update(msg)
			if id != "" {
				return a.run(id)
			}
			return a, nil
		}
		if a.gate == nil && a.comp.done == "" && !a.capturing() && key.Matches(msg, a.ctx.keys.Palette) {
			a.palette.Open(a.actions())
			a.palette.SetSize(a.ctx.width, a.ctx.height-2)
			return a, nil
		}
		if a.over == overViews && a.views.capturing() {
			var cmd tea.Cmd
			a.views, cmd = a.views.Update(msg)
			return a, cmd
		}
		if a.over == overExport && a.exp.capturing() {
			// The file name takes every key but esc, which closes.
			if key.Matches(msg, a.ctx.keys.Cancel) {
				a.over = overNone
				a.layout()
				return a, nil
			}
			var cmd tea.Cmd
			a.exp, cmd = a.exp.Update(msg)
			return a, cmd
		}
		if a.over == overNone && a.gate == nil && a.slicer.capturing() {
			var cmd tea.Cmd
			a.slicer, cmd = a.slicer.Update(msg)
			return a, cmd
		}
		if a.over == overComp && a.comp.capturing() && a.comp.done == "" {
			var cmd tea.Cmd
			a.comp, cmd = a.comp.Update(msg)
			a.layout()
			return a, cmd
		}
		switch {
		case key.Matches(msg, a.ctx.keys.Quit):
			a.slicer.stop()
			a.exp.stop()
			return a, tea.Quit
		case a.comp.done != "":
			return a, nil // the data is gone: only quitting is left
		case a.gate == nil && a.comp.c != nil && (key.Matches(msg, a.ctx.keys.Compliance) || a.over == overComp && key.Matches(msg, a.ctx.keys.Cancel)):
			a.toggle(overComp)
			a.layout()
			if a.over == overComp {
				return a, a.comp.refresh()
			}
			return a, nil
		case a.gate == nil && a.comp.done == "" && a.views.store != nil && key.Matches(msg, a.ctx.keys.SaveView):
			a.views.startSaving(a.slicer.savedView())
			a.over = overViews
			a.layout()
			return a, nil
		case a.gate == nil && a.views.store != nil && (key.Matches(msg, a.ctx.keys.Views) || a.over == overViews && key.Matches(msg, a.ctx.keys.Cancel)):
			a.toggle(overViews)
			a.layout()
			if a.over == overViews {
				return a, a.views.refresh()
			}
			return a, nil
		case a.gate == nil && a.an.backend != nil && (key.Matches(msg, a.ctx.keys.Analyses) || a.over == overAnalyses && !a.an.busy() && key.Matches(msg, a.ctx.keys.Cancel)):
			a.toggle(overAnalyses)
			a.layout()
			if a.over == overAnalyses && !a.an.shown() && !a.an.running {
				return a, a.an.start()
			}
			return a, nil
		case a.gate == nil && a.exp.out == nil && key.Matches(msg, a.ctx.keys.Export):
			a.slicer.say(a.ctx.t.exNone)
			return a, nil
		case a.gate == nil && a.exp.out != nil && !(a.over == overExport && a.exp.running) &&
			(key.Matches(msg, a.ctx.keys.Export) || a.over == overExport && key.Matches(msg, a.ctx.keys.Cancel)):
			// While a report is written, esc is the dialog's: it cancels.
			a.toggle(overExport)
			a.layout()
			if a.over == overExport {
				return a, a.exp.open(a.slicer.res)
			}
			return a, nil
		case key.Matches(msg, a.ctx.keys.Help):
			a.fullHelp = !a.fullHelp
			a.help.ShowAll = a.fullHelp
			a.layout()
			return a, nil
		case a.gate == nil && (key.Matches(msg, a.ctx.keys.UsageLog) || a.over == overLog && key.Matches(msg, a.ctx.keys.Cancel)):
			a.toggle(overLog)
			a.layout()
			if a.over == overLog {
				return a, a.usage.refresh()
			}
			return a, nil
		}
	case tea.MouseMsg:
		if a.lock.locked || a.gate != nil || a.comp.done != "" || a.palette.Active() || a.capturing() ||
			a.ctx.width < 60 || a.ctx.height < 16 {
			return a, nil // nothing under the pointer takes clicks
		}
		a.lock.touch()
		switch {
		case a.over == overViews:
			if !a.views.capturing() && (msg.Button == tea.MouseButtonWheelUp || msg.Button == tea.MouseButtonWheelDown) && msg.Action == tea.MouseActionPress {
				dir := a.ctx.keys.Down
				if msg.Button == tea.MouseButtonWheelUp {
					dir = a.ctx.keys.Up
				}
				a.views, _ = a.views.Update(keyOf(dir))
			}
			return a, nil
		case a.over != overNone:
			return a, nil
		}
		var cmd tea.Cmd
		a.slicer, cmd = a.slicer.mouse(msg)
		return a, cmd
	case analysisMsg:
		if msg.segments != nil && msg.err == nil {
			// The engine has made the segments a dimension: the slicer
			// offers it from now on.
			a.slicer, _ = a.slicer.Update(dimensionMsg{field: msg.segments.Field})
		}
		var cmd tea.Cmd
		a.an, cmd = a.an.Update(msg)
		return a, cmd
	case progressMsg:
		var cmd tea.Cmd
		if msg.to == toExport {
			a.exp, cmd = a.exp.Update(msg)
		} else {
			a.an, cmd = a.an.Update(msg)
		}
		return a, cmd
	case exportReadyMsg, exportDoneMsg:
		var cmd tea.Cmd
		a.exp, cmd = a.exp.Update(msg)
		return a, cmd
	case usageLogMsg:
		var cmd tea.Cmd
		a.usage, cmd = a.usage.Update(msg)
		return a, cmd
	case viewsListedMsg, viewSavedMsg:
		var cmd tea.Cmd
		a.views, cmd = a.views.Update(msg)
		return a, cmd
	case idleTickMsg, unlockedMsg:
		var cmd tea.Cmd
		a.lock, cmd = a.lock.Update(msg)
		return a, cmd
	case statusMsg, deletedMsg:
		var cmd tea.Cmd
		a.comp, cmd = a.comp.Update(msg)
		a.layout()
		return a, cmd
	}
	var cmd tea.Cmd
	if a.gate != nil {
		if _, ok := msg.(ackMsg); ok {
			a.gate = nil
			a.layout()
			cmds := []tea.Cmd{a.slicer.Init(), a.summarise()}
			if a.onAck != nil {
				ack := a.onAck
				cmds = append(cmds, func() tea.Msg { ack(); return nil })
			}
			return a, tea.Batch(cmds...)
		}
		g, cmd := a.gate.Update(msg)
		a.gate = &g
		return a, cmd
	}
	if _, key := msg.(tea.KeyMsg); key && a.over != overNone {
		// Keys go to the screen shown over the slicer.
		switch a.over {
		case overLog:
			a.usage, cmd = a.usage.Update(msg)
		case overComp:
			a.comp, cmd = a.comp.Update(msg)
			a.layout()
		case overAnalyses:
			a.an, cmd = a.an.Update(msg)
			if name, ok := a.an.take(); ok {
				// Back to the slicer, sliced by the segments.
				a.over = overNone
				a.layout()
				return a, tea.Batch(cmd, a.slicer.sliceBy(name))
			}
		case overExport:
			a.exp, cmd = a.exp.Update(msg)
		case overViews:
			a.views, cmd = a.views.Update(msg)
			if v, ok := a.views.take(); ok {
				// Opened in the same step, so the query is under way
				// before the next key.
				a.over = overNone
				a.layout()
				return a, a.slicer.apply(v)
			}
		}
		return a, cmd
	}
	a.slicer, cmd = a.slicer.Update(msg)
	a.exp.res = a.slicer.res // what an export writes is what is shown
	return a, cmd
}

func (a *App) layout() {
	helpH := lipgloss.Height(a.helpView())
	if a.gate != nil {
		a.gate.SetSize(a.ctx.width, a.ctx.height-helpH)
	}
	a.slicer.SetSize(a.ctx.width, a.ctx.height-helpH)
	a.usage.SetSize(a.ctx.width, a.ctx.height-helpH)
	a.comp.SetSize(a.ctx.width, a.ctx.height-helpH)
	a.lock.SetSize(a.ctx.width, a.ctx.height-helpH)
	a.views.SetSize(a.ctx.width, a.ctx.height-helpH)
	a.an.SetSize(a.ctx.width, a.ctx.height-helpH)
	a.exp.SetSize(a.ctx.width, a.ctx.height-helpH)
}

// screen is the active screen.
func (a App) screen() interface {
	View() string
	help.KeyMap
} {
	if a.lock.locked {
		return a.lock // before anything: no data shows while locked
	}
	if a.gate != nil {
		return *a.gate
	}
	if a.comp.done != "" {
		return a.comp // the data is gone
	}
	switch a.over {
	case overComp:
		return a.comp
	case overLog:
		return a.usage
	case overViews:
		return a.views
	case overAnalyses:
		return a.an
	case overExport:
		return a.exp
	}
	return a.slicer
}

// View draws the screen and the help footer.
func (a App) View() string {
	if a.ctx.width == 0 {
		return ""
	}
	if a.ctx.width < 60 || a.ctx.height < 16 {
		return a.ctx.st.Error.Render(fit(a.ctx.t.tooSmall, a.ctx.width))
	}
	if a.palette.Active() && !a.lock.locked {
		// The palette over a blank screen, under the title bar with the
		// watermark.
		title := a.ctx.titleBar(a.ctx.st.Title, " Persona Workbench │ "+a.ctx.t.keyPalette, a.ctx.width)
		return title + "\n" + lipgloss.Place(a.ctx.width, a.ctx.height-1, lipgloss.Center, lipgloss.Top, a.palette.View())
	}
	return a.screen().View() + "\n" + a.helpView()
}

// helpView is the help generated from the active screen's key map, cut to
// the width: bubbles/help can overrun it by an item when its ellipsis
// does not fit.
func (a App) helpView() string {
	lines := strings.Split(a.help.View(a.screen()), "\n")
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, a.ctx.width, "…")
	}
	return strings.Join(lines, "\n")
}
