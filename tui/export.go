package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/persona-workbench/persona/engine/report"
	"github.com/persona-workbench/persona/engine/slice"
)

// exportKind is one thing the export dialog writes.
type exportKind struct {
	format string // the file's extension: csv, json, parquet, html or md
	report bool   // a report (Exports.Report), not the view's numbers
	views  bool   // the report of the saved views, not the brand report
}

// exportKinds are offered in this order; the last only when there are
// saved views.
var exportKinds = []exportKind{
	{format: "csv"}, {format: "json"}, {format: "parquet"},
	{format: "html", report: true}, {format: "md", report: true},
	{format: "html", report: true, views: true},
}

// formatNames name the formats as the dialog shows them.
var formatNames = map[string]string{"csv": "CSV", "json": "JSON", "parquet": "Parquet", "html": "HTML", "md": "Markdown"}

// exportReadyMsg brings what the dialog looks up on disk when it opens:
// a default file name that no file has yet, and the saved views' names.
type exportReadyMsg struct {
	seq   int
	stem  string
	views []string
}

// exportDoneMsg carries the file written, or why not.
type exportDoneMsg struct {
	seq     int
	written report.Written
	err     error
}

// exportScreen is the export dialog (E): the current view's numbers as
// CSV, JSON or Parquet, the brand marketing effect report as HTML or
// Markdown, or a report of the saved views, to a file the analyst names.
// Every file goes through Exports, which records it in the usage log.
type exportScreen struct {
	ctx   *shared
	out   Exports
	views Views
	now   func() time.Time

	// res is the result the slicer shows, kept up to date by the app:
	// what the numbers are written from.
	res    *slice.Result
	names  []string // the saved views, for their report
	cursor int      // into kinds()
	onName bool     // the file name has the focus
	input  nameInput
	edited bool   // the analyst has changed the name
	stem   string // the default name, without its extension
	// loading is set while the default name and the views are looked up.
	loading bool
	opened  int // ties the look-up to the opening

	running     bool
	cancel      context.CancelFunc
	seq         int // ties progress and the outcome to the run
	path        string
	done, total int
	written     *report.Written
	err         error

	width, height int
}

func newExportScreen(ctx *shared, out Exports, views Views, now func() time.Time) exportScreen {
	if now == nil {
		now = time.Now
	}
	return exportScreen{ctx: ctx, out: out, views: views, now: now}
}

// kinds are the choices offered now.
func (s exportScreen) kinds() []exportKind {
	if len(s.names) == 0 {
		return exportKinds[:len(exportKinds)-1]
	}
	return exportKinds
}

func (s exportScreen) kind() exportKind { return s.kinds()[s.cursor] }

// open readies the dialog over res: a fresh default name, the list in
// focus. A run under way is left alone, shown again.
func (s *exportScreen) open(res *slice.Result) tea.Cmd {
	s.res = res
	if s.running {
		return nil
	}
	s.written, s.err, s.edited = nil, nil, false
	s.onName = false
	return s.rename()
}

// rename sets the default name, from the clock, and looks up on disk
// one that no file has and the saved views, in a command.
func (s *exportScreen) rename() tea.Cmd {
	s.stem = defaultStem(s.ctx.title, s.now())
	s.setName()
	s.opened++
	s.loading = true
	seq, stem, store := s.opened, s.stem, s.views
	return func() tea.Msg {
		m := exportReadyMsg{seq: seq, stem: freeStem(stem)}
		if store != nil {
			if vs, err := store.List(); err == nil {
				for _, v := range vs {
					m.views = append(m.views, v.Name)
				}
			}
		}
		return m
	}
}

// setName puts the default name, with the chosen format's extension, in
// the input.
func (s *exportScreen) setName() {
	s.input.set(s.stem + "." + s.kind().format)
}

// capturing reports whether typed keys go into the file name.
func (s exportScreen) capturing() bool { return s.onName && !s.running }

// stop cancels the report under way, if any.
func (s *exportScreen) stop() {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
}

// Update handles the look-up, the run's progress and outcome, and keys.
func (s exportScreen) Update(msg tea.Msg) (exportScreen, tea.Cmd) {
	switch msg := msg.(type) {
	case exportReadyMsg:
		if msg.seq != s.opened {
			return s, nil
		}
		s.loading = false
		s.names = msg.views
		s.cursor = min(s.cursor, len(s.kinds())-1)
		if !s.edited {
			s.stem = msg.stem
			s.setName()
		}
		return s, nil
	case progressMsg:
		if msg.seq != s.seq || !s.running {
			return s, nil
		}
		s.done, s.total = msg.done, msg.total
		return s, waitProgress(msg.next)
	case exportDoneMsg:
		if msg.seq != s.seq {
			return s, nil
		}
		cancelled := !s.running
		s.running = false
		s.stop()
		switch {
		case msg.err == nil:
			// Written, even if esc came too late to stop it: say so. The
			// next file gets a new default name.
			w := msg.written
			s.written, s.err, s.edited = &w, nil, false
			s.onName = false
			return s, s.rename()
		case cancelled:
			// Esc has said so already.
		case errors.Is(msg.err, report.ErrExists):
			s.err = fmt.Errorf(s.ctx.t.exExists, s.path)
			s.onName = true
		default:
			s.err = msg.err
		}
		return s, nil
	case tea.KeyMsg:
		return s.key(msg)
	}
	return s, nil
}

func (s exportScreen) key(msg tea.KeyMsg) (exportScreen, tea.Cmd) {
	k := s.ctx.keys
	if s.running {
		// Only esc, and only a report, which has a context to cancel.
		if key.Matches(msg, k.Cancel) && s.cancel != nil {
			s.stop()
			s.running = false
			s.err = errors.New(s.ctx.t.exCancelled)
		}
		return s, nil
	}
	// In the name, j and k are letters: only the arrows choose.
	arrows := !s.onName || msg.Type == tea.KeyUp || msg.Type == tea.KeyDown
	switch {
	case key.Matches(msg, k.ExFocus):
		s.onName = !s.onName
		return s, nil
	case key.Matches(msg, k.ExWrite):
		cmd := s.write()
		return s, cmd
	case arrows && (key.Matches(msg, k.Up) || key.Matches(msg, k.Down)):
		step := 1
		if key.Matches(msg, k.Up) {
			step = -1
		}
		s.cursor = min(max(0, s.cursor+step), len(s.kinds())-1)
		if !s.edited {
			s.setName()
		}
		return s, nil
	}
	if !s.onName {
		return s, nil
	}
	before := s.input.value()
	s.input.update(msg)
	if s.input.value() != before {
		s.edited = true
	}
	return s, nil
}

// write checks the name and starts writing in a command: the view's
// numbers at once, a report with its progress coming back through a
// channel and a context esc cancels.
func (s *exportScreen) write() tea.Cmd {
	t := s.ctx.t
	s.written, s.err = nil, nil
	kind := s.kind()
	name := strings.TrimSpace(s.input.value())
	if name == "" {
		s.err = errors.New(t.exNoName)
		s.onName = true
		return nil
	}
	if filepath.Ext(name) == "" {
		name += "." + kind.format
		s.input.set(name)
	}
	allowed := report.ExportFormats
	if kind.report {
		allowed = report.ReportFormats
	}
	if _, err := report.FormatOf(name, allowed); err != nil {
		s.err = fmt.Errorf(t.exFormat, "."+strings.Join(allowed, ", ."))
		s.onName = true
		return nil
	}
	if !kind.report && s.res == nil {
		s.err = errors.New(t.exNoResult)
		return nil
	}
	s.seq++
	s.running, s.path, s.done, s.total = true, name, 0, 0
	seq, out := s.seq, s.out
	if !kind.report {
		res := s.res
		return func() tea.Msg {
			path, err := outPath(name)
			if err != nil {
				return exportDoneMsg{seq: seq, err: err}
			}
			w, err := out.Export(res, path)
			return exportDoneMsg{seq: seq, written: w, err: err}
		}
	}
	var names []string
	if kind.views {
		names = slices.Clone(s.names)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	tell, progress := progressFeed(toExport, seq)
	return tea.Batch(func() tea.Msg {
		defer close(progress)
		path, err := outPath(name)
		if err != nil {
			return exportDoneMsg{seq: seq, err: err}
		}
		w, err := out.Report(ctx, names, path, tell)
		return exportDoneMsg{seq: seq, written: w, err: err}
	}, waitProgress(progress))
}

// outPath is the file to write for the name typed: ~ is the home
// folder. A file already there is refused before any work.
func outPath(name string) (string, error) {
	if rest, ok := strings.CutPrefix(name, "~"+string(filepath.Separator)); ok {
		if home, err := os.UserHomeDir(); err == nil {
			name = filepath.Join(home, rest)
		}
	}
	if _, err := os.Lstat(name); err == nil {
		return "", fmt.Errorf("%s: %w", name, report.ErrExists)
	}
	return name, nil
}

// defaultStem is persona-<slug>-<yyyymmdd-hhmmss>: the slug is made of
// the title's first part (the licence, when one is open), or the title.
func defaultStem(title string, now time.Time) string {
	first, _, _ := strings.Cut(title, " · ")
	slug := slugOf(first)
	if slug == "" {
		slug = slugOf(title)
	}
	parts := []string{"persona"}
	if slug != "" {
		parts = append(parts, slug)
	}
	return strings.Join(append(parts, now.Format("20060102-150405")), "-")
}

// slugOf keeps s's ASCII letters and digits, lower case, with a dash
// for each run of anything else.
func slugOf(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	out := b.String()
	if len(out) > 40 {
		out = strings.TrimRight(out[:40], "-")
	}
	return out
}

// freeStem is stem, or stem-2, stem-3 …: the first that no file has in
// any format the dialog writes, so changing the format keeps it free.
func freeStem(stem string) string {
	formats := append(slices.Clone(report.ExportFormats), report.ReportFormats...)
	for i := 1; i < 100; i++ {
		cand := stem
		if i > 1 {
			cand = fmt.Sprintf("%s-%d", stem, i)
		}
		if !slices.ContainsFunc(formats, func(f string) bool {
			_, err := os.Lstat(cand + "." + f)
			return err == nil
		}) {
			return cand
		}
	}
	return stem
}

// SetSize sets the dialog's size.
func (s *exportScreen) SetSize(w, h int) {
	s.width, s.height = w, h
}

// label names a choice.
func (s exportScreen) label(k exportKind) string {
	t := s.ctx.t
	switch {
	case k.views:
		return fmt.Sprintf(t.exViews, len(s.names)) + " · " + formatNames[k.format]
	case k.report:
		return t.exBrand + " · " + formatNames[k.format]
	}
	return t.exNumbers + " · " + formatNames[k.format]
}

// about says what the chosen kind writes from.
func (s exportScreen) about() string {
	st, t, lang := s.ctx.st, s.ctx.t, s.ctx.lang
	k := s.kind()
	switch {
	case k.views:
		return st.Subtle.Render(strings.Join(s.names, " · "))
	case k.report:
		return ""
	case s.res == nil:
		return st.Withheld.Render(t.exNoResult)
	}
	res := s.res
	title := res.Measure.Label.In(lang)
	if len(res.Dims) > 0 {
		names := make([]string, len(res.Dims))
		for i, d := range res.Dims {
			names[i] = d.Label.In(lang)
		}
		title += " " + t.by + " " + strings.Join(names, " × ")
	}
	if len(res.Query.Filters) > 0 {
		fs := make([]string, 0, len(res.Query.Filters))
		for name, vals := range res.Query.Filters {
			label := name
			if f, ok := s.fieldLabel(name); ok {
				label = f
			}
			fs = append(fs, label+"="+strings.Join(vals, ","))
		}
		slices.Sort(fs)
		title += " · " + strings.Join(fs, " · ")
	}
	return st.Subtle.Render(fmt.Sprintf("%s%s · %s %d", t.exShown, title, t.rows, len(res.Rows)))
}

// fieldLabel is a filtered dimension's label, when the result has it.
func (s exportScreen) fieldLabel(name string) (string, bool) {
	for _, d := range s.res.Dims {
		if d.Name == name {
			return d.Label.In(s.ctx.lang), true
		}
	}
	return "", false
}

// View draws the choices, the file name and the run's progress or
// outcome.
func (s exportScreen) View() string {
	st, t := s.ctx.st, s.ctx.t
	lines := []string{s.ctx.titleBar(st.Title, " Persona Workbench │ "+t.exTitle, s.width), ""}
	head := func(text string, focused bool) string {
		if focused {
			return "  " + st.Focused.Render(text)
		}
		return "  " + st.Header.Render(text)
	}
	lines = append(lines, head(t.exWhat, !s.onName))
	listW := min(s.width-4, 60)
	for i, k := range s.kinds() {
		mark := "  "
		if i == s.cursor {
			mark = "▸ "
		}
		line := fit(mark+s.label(k), listW)
		switch {
		case i == s.cursor && !s.onName:
			line = st.Cursor.Render(line)
		case i == s.cursor:
			line = st.Selected.Render(line)
		}
		lines = append(lines, "  "+line)
	}
	lines = append(lines, "", "  "+s.about(), "", head(t.exName, s.onName), "  "+st.Subtle.Render("› ")+s.input.view(max(10, s.width-6), s.onName, st.Focused), "")
	switch {
	case s.running:
		if s.total > 0 {
			w := min(40, s.width/3)
			n := min(w, w*s.done/s.total)
			bar := st.Bar.Render(strings.Repeat("█", n)) + st.Subtle.Render(strings.Repeat("░", w-n))
			lines = append(lines, "  "+bar+"  "+fmt.Sprintf(t.exProgress, s.done, s.total))
		} else {
			lines = append(lines, "  "+t.exWriting)
		}
	case s.err != nil:
		lines = append(lines, "  "+st.Error.Render(fit(firstLine(s.err.Error()), s.width-2)))
	case s.written != nil:
		w := s.written
		lines = append(lines, "  ✓ "+t.exWritten)
		for _, l := range strings.Split(ansi.Hardwrap(w.Path, max(10, s.width-4), false), "\n") {
			lines = append(lines, "    "+l)
		}
		lines = append(lines, "    "+st.Subtle.Render(fmt.Sprintf(t.exSize, byteSize(w.Size), w.SHA256[:min(12, len(w.SHA256))])))
	}
	return block(lines, s.width, s.height)
}

// byteSize says how big a file is.
func byteSize(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// ShortHelp implements help.KeyMap.
func (s exportScreen) ShortHelp() []key.Binding {
	k := s.ctx.keys
	switch {
	case s.running:
		return []key.Binding{k.Cancel}
	case s.onName:
		return []key.Binding{k.ExFocus, k.ExWrite, k.Cancel}
	}
	return []key.Binding{k.Down, k.ExFocus, k.ExWrite, k.Cancel, k.Quit}
}

// FullHelp implements help.KeyMap.
func (s exportScreen) FullHelp() [][]key.Binding {
	k := s.ctx.keys
	if s.running {
		return [][]key.Binding{s.ShortHelp()}
	}
	return [][]key.Binding{s.ShortHelp(), {k.Up, k.Down}}
}

// nameInput is a one-line text field with the keys of a shell's line
// editor: arrows, home and end, backspace and delete, ctrl+a, ctrl+e,
// ctrl+u, ctrl+k and ctrl+w.
type nameInput struct {
	runes []rune
	pos   int // the cursor, in runes
}

const maxName = 1024

func (in *nameInput) set(s string) { in.runes, in.pos = []rune(s), len([]rune(s)) }

func (in nameInput) value() string { return string(in.runes) }

func (in *nameInput) update(msg tea.KeyMsg) {
	switch msg.Type {
	case tea.KeyRunes, tea.KeySpace:
		if msg.Alt {
			return
		}
		add := msg.Runes
		if msg.Type == tea.KeySpace {
			add = []rune{' '}
		}
		add = slices.DeleteFunc(slices.Clone(add), unicode.IsControl)
		add = add[:min(len(add), maxName-len(in.runes))]
		in.runes = slices.Insert(in.runes, in.pos, add...)
		in.pos += len(add)
	case tea.KeyBackspace, tea.KeyCtrlH:
		if in.pos > 0 {
			in.runes = slices.Delete(in.runes, in.pos-1, in.pos)
			in.pos--
		}
	case tea.KeyDelete, tea.KeyCtrlD:
		if in.pos < len(in.runes) {
			in.runes = slices.Delete(in.runes, in.pos, in.pos+1)
		}
	case tea.KeyLeft, tea.KeyCtrlB:
		in.pos = max(0, in.pos-1)
	case tea.KeyRight, tea.KeyCtrlF:
		in.pos = min(len(in.runes), in.pos+1)
	case tea.KeyHome, tea.KeyCtrlA:
		in.pos = 0
	case tea.KeyEnd, tea.KeyCtrlE:
		in.pos = len(in.runes)
	case tea.KeyCtrlU:
		in.runes, in.pos = slices.Clone(in.runes[in.pos:]), 0
	case tea.KeyCtrlK:
		in.runes = in.runes[:in.pos]
	case tea.KeyCtrlW:
		// Back over spaces, then over the word, to the last / or space.
		i := in.pos
		for i > 0 && in.runes[i-1] == ' ' {
			i--
		}
		for i > 0 && in.runes[i-1] != ' ' && in.runes[i-1] != filepath.Separator {
			i--
		}
		if i == in.pos && i > 0 {
			i-- // a separator alone
		}
		in.runes = slices.Delete(in.runes, i, in.pos)
		in.pos = i
	}
}

// view draws the text in w cells, scrolled so the cursor shows; the
// cursor, when focused, is a bar between the runes (in style), which
// reads without colour too.
func (in nameInput) view(w int, focused bool, style lipgloss.Style) string {
	if !focused {
		return ansi.Truncate(string(in.runes), w, "…")
	}
	start := 0
	for start < in.pos && lipgloss.Width(string(in.runes[start:in.pos]))+1 > w {
		start++
	}
	before := string(in.runes[start:in.pos])
	rest := ansi.Truncate(string(in.runes[in.pos:]), max(0, w-lipgloss.Width(before)-1), "…")
	return before + style.Render("▏") + rest
}
