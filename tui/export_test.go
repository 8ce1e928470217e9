package tui

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/persona-workbench/persona/engine/report"
	"github.com/persona-workbench/persona/engine/slice"
)

// exportCall is a call the fake Exports had.
type exportCall struct {
	report bool
	names  []string
	path   string
	rows   int // the result's, for an export
}

// fakeExports writes nothing: it records its calls and answers as told.
type fakeExports struct {
	mu    sync.Mutex
	calls []exportCall
	// exists makes every call fail as a file already there would.
	exists bool
	// steps, if set, is how many steps a report reports: it reports
	// half, waits for release, then the rest. block makes it wait for
	// its context instead, and tell cancelled when it has.
	steps     int
	release   chan struct{}
	block     bool
	cancelled chan struct{}
}

func (f *fakeExports) record(c exportCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
}

func (f *fakeExports) got() []exportCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// written is what the fake says it wrote: a fixed folder, so screens
// do not depend on where the tests run.
func written(path string, size int64) report.Written {
	return report.Written{Path: "/home/analyst/exports/" + filepath.Base(path), Size: size, SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
}

func (f *fakeExports) Export(res *slice.Result, path string) (report.Written, error) {
	f.record(exportCall{path: path, rows: len(res.Rows)})
	if f.exists {
		return report.Written{}, report.ErrExists
	}
	return written(path, 812), nil
}

func (f *fakeExports) Report(ctx context.Context, names []string, path string, progress func(done, total int)) (report.Written, error) {
	f.record(exportCall{report: true, names: names, path: path})
	if f.exists {
		return report.Written{}, report.ErrExists
	}
	if f.block {
		progress(1, report.BrandSteps)
		<-ctx.Done()
		close(f.cancelled)
		return report.Written{}, ctx.Err()
	}
	if f.steps > 0 {
		progress(f.steps/2, f.steps)
		<-f.release
		progress(f.steps, f.steps)
	}
	return written(path, 48_213), nil
}

// testClock is the time the goldens' default file names carry.
func testClock() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) }

// exportApp runs the app at 100×30 with exports, and waits for the
// first slice.
func exportApp(t *testing.T, cfg Config) *teatest.TestModel {
	t.Helper()
	cfg.Backend, cfg.Lang, cfg.Title, cfg.Now = newFake(), "en", "LIC-2026-001 · Test data", testClock
	tm := teatest.NewTestModel(t, New(cfg), teatest.WithInitialTermSize(100, 30))
	waitScreen(t, tm, "rows 3")
	return tm
}

// waitScreen waits until the output shows every one of want.
func waitScreen(t *testing.T, tm *teatest.TestModel, want ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool {
		for _, w := range want {
			if !bytes.Contains(out, []byte(w)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
}

// typeKeys sends keys as keyMsgs names them, and tab.
func typeKeys(tm *teatest.TestModel, keys ...string) {
	for _, k := range keys {
		if k == "tab" {
			tm.Send(tea.KeyMsg{Type: tea.KeyTab})
			continue
		}
		for _, m := range keyMsgs(k) {
			tm.Send(m)
		}
	}
}

// E, then the brand report: enter writes it through Exports.Report,
// whose progress shows, and the path, size and hash show once written.
func TestExportReport(t *testing.T) {
	ex := &fakeExports{steps: report.BrandSteps, release: make(chan struct{})}
	tm := exportApp(t, Config{Exports: ex, Views: &memViews{}})
	typeKeys(tm, "E")
	waitScreen(t, tm, "What to write", "persona-lic-2026-001-20261123-090000.csv")
	typeKeys(tm, "j", "j", "j")
	waitScreen(t, tm, "persona-lic-2026-001-20261123-090000.html")
	typeKeys(tm, "enter")
	waitScreen(t, tm, "writing the report… 3 of 6")
	close(ex.release)
	waitScreen(t, tm, "written and recorded in the usage log", "/home/analyst/exports/persona-lic-2026-001-20261123-090000.html", "size 47.1 KiB · sha256 0123456789ab…")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	calls := ex.got()
	if len(calls) != 1 || !calls[0].report || calls[0].names != nil || calls[0].path != "persona-lic-2026-001-20261123-090000.html" {
		t.Errorf("calls: %+v", calls)
	}
}

// The current view's numbers go to Export, from the result on screen;
// a name typed without an extension takes the chosen format's.
func TestExportView(t *testing.T) {
	ex := &fakeExports{}
	tm := exportApp(t, Config{Exports: ex})
	typeKeys(tm, "E")
	waitScreen(t, tm, "this view: People by Age band · rows 3")
	typeKeys(tm, "down", "tab", "ctrl+u", "numbers", "enter")
	waitScreen(t, tm, "/home/analyst/exports/numbers.json", "size 812 B")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if calls := ex.got(); len(calls) != 1 || calls[0].report || calls[0].path != "numbers.json" || calls[0].rows != 3 {
		t.Errorf("calls: %+v", calls)
	}
}

// A file already there: the dialog says so and stays open, with the
// name to change in focus; another name is written.
func TestExportExists(t *testing.T) {
	ex := &fakeExports{exists: true}
	tm := exportApp(t, Config{Exports: ex})
	typeKeys(tm, "E", "j", "j", "j", "j", "enter")
	waitScreen(t, tm, "persona-lic-2026-001-20261123-090000.md exists: choose another name")
	ex.mu.Lock()
	ex.exists = false
	ex.mu.Unlock()
	// The name has the focus: typing changes it.
	typeKeys(tm, "backspace", "backspace", "backspace", "-2.md", "enter")
	waitScreen(t, tm, "/home/analyst/exports/persona-lic-2026-001-20261123-090000-2.md")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(App)
	if final.over != overExport {
		t.Error("the dialog closed")
	}
	calls := ex.got()
	if len(calls) != 2 || calls[1].path != "persona-lic-2026-001-20261123-090000-2.md" {
		t.Errorf("calls: %+v", calls)
	}
}

// Esc while a report is written cancels its context, and says so; esc
// again closes the dialog.
func TestExportCancel(t *testing.T) {
	ex := &fakeExports{block: true, cancelled: make(chan struct{})}
	tm := exportApp(t, Config{Exports: ex})
	typeKeys(tm, "E", "down", "down", "down", "enter")
	waitScreen(t, tm, "writing the report… 1 of 6")
	tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	select {
	case <-ex.cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("esc did not cancel the report")
	}
	waitScreen(t, tm, "the report was cancelled")
	tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	waitScreen(t, tm, "People by Age band")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(App)
	if final.over != overNone || final.exp.running {
		t.Errorf("after esc, esc: over %d, running %v", final.over, final.exp.running)
	}
}

// The saved views' report is offered when there are saved views, and
// asks for all of them by name; the extension follows the choice until
// the name is edited.
func TestExportViewsReport(t *testing.T) {
	ex := &fakeExports{}
	cfg := screenConfig()
	cfg.Exports = ex
	p := driveModel(t, cfg, "en", 100, 30, "E", "down", "down", "down", "down", "down")
	view := p.View()
	for _, want := range []string{"Report of the saved views (1) · HTML", "618 复盘", "persona-test-data-20261123-090000.html"} {
		if !strings.Contains(view, want) {
			t.Errorf("dialog lacks %q:\n%s", want, view)
		}
	}
	p = driveModel(t, cfg, "en", 100, 30, "E", "down", "down", "down", "down", "down", "enter")
	if calls := ex.got(); len(calls) != 1 || !slices.Equal(calls[0].names, []string{"618 复盘"}) {
		t.Errorf("calls: %+v", calls)
	}
	// Edited, the name keeps its extension when the choice moves.
	view = driveWith(t, cfg, "en", 100, 30, "E", "tab", "backspace", "backspace", "backspace", "txt", "up", "down")
	if !strings.Contains(view, "persona-test-data-20261123-090000.txt") {
		t.Errorf("edited name changed:\n%s", view)
	}
	// And a name the format does not allow is refused before any call.
	view = driveWith(t, cfg, "en", 100, 30, "E", "tab", "backspace", "backspace", "backspace", "txt", "enter")
	if !strings.Contains(view, "the file name must end in .csv, .json, .parquet") || len(ex.got()) != 1 {
		t.Errorf("a .txt export:\n%s", view)
	}
}

// Without Exports, E says exports are not available; with no result
// shown, the view's numbers cannot be exported.
func TestExportNotAvailable(t *testing.T) {
	view := drive(t, newFake(), "en", 80, 24, "E")
	if !strings.Contains(view, "exports are not available here") {
		t.Errorf("E without exports:\n%s", view)
	}
	app := New(Config{Backend: newFake(), Lang: "zh", Title: "t", Exports: &fakeExports{}, Now: testClock})
	m, _ := app.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("E")})
	m, cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if cmd != nil {
		t.Error("enter with no result started a write")
	}
	if view := m.View(); !strings.Contains(view, "还没有显示结果") {
		t.Errorf("no result:\n%s", view)
	}
}

func TestDefaultStem(t *testing.T) {
	for _, tt := range []struct{ title, want string }{
		{"LIC-2026-001 · 品牌画像", "persona-lic-2026-001-20261123-090000"},
		{"Brand personas (demo)", "persona-brand-personas-demo-20261123-090000"},
		{"测试数据", "persona-20261123-090000"},
		{"", "persona-20261123-090000"},
	} {
		if got := defaultStem(tt.title, testClock()); got != tt.want {
			t.Errorf("defaultStem(%q) = %q, want %q", tt.title, got, tt.want)
		}
	}
	if !regexp.MustCompile(`^persona-\d{8}-\d{6}$`).MatchString(defaultStem("", time.Now())) {
		t.Error("the clock's default stem")
	}
}

// The name field edits as a shell line does.
func TestNameInput(t *testing.T) {
	var in nameInput
	in.set("report.html")
	for _, k := range keyMsgs("ctrl+a", "x", "-") {
		in.update(k)
	}
	in.update(tea.KeyMsg{Type: tea.KeyRight})
	in.update(tea.KeyMsg{Type: tea.KeyDelete})
	if in.value() != "x-rport.html" {
		t.Errorf("value %q", in.value())
	}
	in.set("/tmp/out/report.html")
	in.update(tea.KeyMsg{Type: tea.KeyCtrlW})
	if in.value() != "/tmp/out/" {
		t.Errorf("ctrl+w: %q", in.value())
	}
	in.update(tea.KeyMsg{Type: tea.KeyCtrlU})
	if in.value() != "" {
		t.Errorf("ctrl+u: %q", in.value())
	}
	in.set(strings.Repeat("长", 50))
	if w := lipgloss.Width(in.view(20, true, newStyles(lipgloss.DefaultRenderer()).Focused)); w > 20 {
		t.Errorf("view is %d cells wide, room for 20", w)
	}
}
