package tui

import (
	"bytes"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
)

const testWatermark = "LIC-2026-001 · 某品牌有限公司 · 王芳"

// lockProbe tells the test whether a passphrase is being checked.
type lockProbe struct {
	App
	checking *atomic.Bool
}

func (p lockProbe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := p.App.Update(msg)
	p.App = m.(App)
	p.checking.Store(p.App.lock.checking)
	return p, cmd
}

// lockedApp runs the app with a lock that falls due after a moment and
// takes the passphrase "secret", and waits until it locks.
func lockedApp(t *testing.T, lang string, w, h int) (*teatest.TestModel, *atomic.Int64, *atomic.Bool) {
	t.Helper()
	events := new(atomic.Int64)
	lock := &Lock{
		After:     200 * time.Millisecond,
		Watermark: testWatermark,
		Unlock: func(p string) error {
			events.Add(10_000) // an attempt
			if p != "secret" {
				return errors.New("wrong passphrase")
			}
			return nil
		},
		OnLock:   func(string) { events.Add(1) },
		OnUnlock: func() { events.Add(100) },
	}
	b := newFake()
	checking := new(atomic.Bool)
	app := lockProbe{App: New(Config{Backend: b, Lang: lang, Title: b.inv.Dataset.In(lang), Lock: lock}), checking: checking}
	tm := teatest.NewTestModel(t, app, teatest.WithInitialTermSize(w, h))
	title := map[string]string{"zh": "屏幕已锁定", "en": "screen locked"}[lang]
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return bytes.Contains(out, []byte(title)) },
		teatest.WithDuration(5*time.Second))
	return tm, events, checking
}

func typeText(tm *teatest.TestModel, s string) {
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)})
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
}

// Left alone, the workbench locks: the data disappears, the watermark
// shows, a wrong passphrase is refused, the right one brings the data
// back, and the lock and the unlock are reported for the usage log.
func TestIdleLock(t *testing.T) {
	tm, events, checking := lockedApp(t, "en", 80, 24)
	// settle waits until attempt n has been checked and answered.
	settle := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for events.Load() < n*10_000 || checking.Load() {
			if time.Now().After(deadline) {
				t.Fatalf("attempt %d was not answered", n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	typeText(tm, "wrong")
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return bytes.Contains(out, []byte("wrong passphrase")) },
		teatest.WithDuration(5*time.Second))
	settle(1)
	// q is part of a passphrase while locked, not quitting.
	typeText(tm, "secretq")
	settle(2)
	typeText(tm, "secret")
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return bytes.Contains(out, []byte("18-24")) },
		teatest.WithDuration(5*time.Second))
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(lockProbe).App
	if final.lock.locked {
		t.Error("still locked after the right passphrase")
	}
	if got := events.Load() % 10_000; got < 101 {
		t.Errorf("lock and unlock reported %d (want a lock, 1, and an unlock, 100)", got)
	}
	if got := events.Load() / 10_000; got != 3 {
		t.Errorf("%d passphrases checked, want 3", got)
	}
}

// While locked, no data is on screen: only the watermark and the prompt.
func TestLockScreens(t *testing.T) {
	for _, tt := range []struct {
		name string
		lang string
		w, h int
	}{
		{"lock_zh_80x24", "zh", 80, 24},
		{"lock_en_80x24", "en", 80, 24},
		{"lock_zh_160x48", "zh", 160, 48},
		{"lock_en_160x48", "en", 160, 48},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tm, _, _ := lockedApp(t, tt.lang, tt.w, tt.h)
			tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
			view := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(lockProbe).View()
			for _, data := range []string{"18-24", "32,086", "广东", "年龄段", "Age band"} {
				if strings.Contains(view, data) {
					t.Errorf("locked screen shows %q:\n%s", data, view)
				}
			}
			if !strings.Contains(view, testWatermark) {
				t.Errorf("no watermark:\n%s", view)
			}
			checkSize(t, view, tt.w, tt.h)
			golden.RequireEqual(t, []byte(view))
		})
	}
}

// ctrl+l locks at once, from the palette too.
func TestLockNow(t *testing.T) {
	for _, keys := range [][]tea.KeyMsg{
		{{Type: tea.KeyCtrlL}},
		{{Type: tea.KeyRunes, Runes: []rune(":")}, {Type: tea.KeyRunes, Runes: []rune("lock")}, {Type: tea.KeyEnter}},
	} {
		locked := new(atomic.Bool)
		b := newFake()
		app := New(Config{Backend: b, Lang: "en", Title: "t", Lock: &Lock{After: time.Hour, Unlock: func(string) error { return nil }, OnLock: func(by string) { locked.Store(by == "key") }}})
		tm := teatest.NewTestModel(t, app, teatest.WithInitialTermSize(80, 24))
		teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return bytes.Contains(out, []byte("rows 3")) }, teatest.WithDuration(5*time.Second))
		for _, k := range keys {
			tm.Send(k)
		}
		teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return bytes.Contains(out, []byte("screen locked")) }, teatest.WithDuration(5*time.Second))
		for deadline := time.Now().Add(5 * time.Second); !locked.Load() && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond) // reported in a command of its own
		}
		tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
		tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
		if !locked.Load() {
			t.Errorf("keys %v: the lock was not reported", keys)
		}
	}
}
