package tui

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/persona-workbench/persona/engine/erase"
	"github.com/persona-workbench/persona/engine/licence"
	"github.com/persona-workbench/persona/engine/usagelog"
)

func testLicence() *licence.Licence {
	cst := time.FixedZone("CST", 8*3600)
	return &licence.Licence{
		ID: "LIC-2026-0001", Purpose: "品牌营销活动效果分析 / campaign effect analysis",
		Licensor: licence.Party{Name: "示例电商平台"}, Licensee: licence.Party{Name: "示例品牌"},
		NotBefore: time.Date(2026, 11, 1, 0, 0, 0, 0, cst), NotAfter: time.Date(2027, 5, 1, 0, 0, 0, 0, cst),
		Region: licence.Region, MaxPersonnel: 2, Privacy: licence.Privacy{K: 10}, DeletionDays: 15,
		Personnel: []licence.Person{{Name: "王芳", Role: "analyst"}, {Name: "李雷", Role: "analyst"}},
	}
}

// No query runs, and no data is shown, until the licence is
// acknowledged; then the slicer starts.
func TestGateComesFirst(t *testing.T) {
	b := newFake()
	acked := make(chan struct{}, 1)
	app := New(Config{Backend: b, Lang: "zh", Title: "t",
		Gate:          &Gate{Licence: testLicence(), Person: "王芳", Now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)},
		OnAcknowledge: func() { acked <- struct{}{} },
	})
	tm := teatest.NewTestModel(t, app, teatest.WithInitialTermSize(80, 24))
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return strings.Contains(string(out), "按 Enter") }, teatest.WithDuration(5*time.Second))
	time.Sleep(50 * time.Millisecond)
	b.mu.Lock()
	n := len(b.queries)
	b.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d queries ran before the licence was acknowledged", n)
	}
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return regexp.MustCompile(`行 \d+`).Match(out) }, teatest.WithDuration(5*time.Second))
	select {
	case <-acked:
	case <-time.After(5 * time.Second):
		t.Fatal("the acknowledgement was not reported")
	}
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

func TestGateScreen(t *testing.T) {
	app := New(Config{Backend: newFake(), Lang: "zh", Title: "t",
		Gate: &Gate{Licence: testLicence(), Person: "王芳", Now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}})
	m, _ := app.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	view := m.View()
	checkSize(t, view, 80, 24)
	for _, want := range []string{"LIC-2026-0001", "品牌营销活动效果分析", "示例品牌", "剩余 158 天", "k = 10", "王芳 (analyst), 李雷 (analyst)  (2/2)", "2026-11-01 – 2027-04-30", "2027-05-15"} {
		if !strings.Contains(view, want) {
			t.Errorf("gate lacks %q:\n%s", want, view)
		}
	}
	golden.RequireEqual(t, []byte(view))
}

func TestUsageLogScreen(t *testing.T) {
	base := time.Date(2026, 11, 23, 9, 0, 0, 0, time.Local)
	recs := []usagelog.Record{
		{Seq: 1, Time: base, Kind: usagelog.KindEnrol, Data: json.RawMessage(`{"name":"王芳"}`)},
		{Seq: 2, Time: base.Add(time.Hour), Kind: usagelog.KindOpen, Data: json.RawMessage(`{"package":"/data/brand.persona"}`)},
		{Seq: 3, Time: base.Add(time.Hour + time.Minute), Kind: usagelog.KindQuery, Data: json.RawMessage(`{"by":["province"],"k":10,"rows":31,"withheld":2}`)},
	}
	load := func() ([]usagelog.Record, *usagelog.Report, error) {
		return recs, &usagelog.Report{Records: 3, Checkpoints: 2}, nil
	}
	app := New(Config{Backend: newFake(), Lang: "en", Title: "t", UsageLog: load})
	tm := teatest.NewTestModel(t, app, teatest.WithInitialTermSize(80, 24))
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return regexp.MustCompile(`rows \d+`).Match(out) }, teatest.WithDuration(5*time.Second))
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("L")})
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return strings.Contains(string(out), "verified: 3 records, 2 checkpoints") }, teatest.WithDuration(5*time.Second))
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	view := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).View()
	checkSize(t, view, 80, 24)
	for _, want := range []string{"Usage log", `{"by":["province"],"k":10,"rows":31`, "query", "enrol"} {
		if !strings.Contains(view, want) {
			t.Errorf("usage log screen lacks %q:\n%s", want, view)
		}
	}
}

// The compliance screen lists the licences and deletes the open one only
// after its id is typed; afterwards only quitting is possible.
func TestComplianceDeletes(t *testing.T) {
	deleted := make(chan struct{}, 1)
	c := &Compliance{
		Licence: "LIC-2026-0001",
		Status: func() ([]erase.LicenceStatus, error) {
			return []erase.LicenceStatus{{ID: "LIC-2026-0001", State: "active", LogOK: true, Licence: testLicence(), DaysLeft: 158, DeleteBy: testLicence().DeleteBy(), DaysToErase: 173, Derivatives: 2}}, nil
		},
		Delete: func() (string, error) { deleted <- struct{}{}; return "/tmp/cert.json", nil },
	}
	b := newFake()
	app := New(Config{Backend: b, Lang: "en", Title: "t", Compliance: c})
	tm := teatest.NewTestModel(t, app, teatest.WithInitialTermSize(100, 30))
	waitFor := func(s string) {
		teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return strings.Contains(string(out), s) }, teatest.WithDuration(5*time.Second))
	}
	typeText := func(s string) {
		for _, r := range s {
			tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		}
	}
	waitFor("rows 3")
	typeText("C")
	waitFor("LIC-2026-0001")
	typeText("D")
	waitFor("Type the licence id")
	typeText("LIC-2026-000q")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFor("nothing was deleted")
	select {
	case <-deleted:
		t.Fatal("deleted after a wrong id")
	default:
	}
	typeText("D")
	typeText("LIC-2026-0001")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFor("certificate: /tmp/cert.json")
	select {
	case <-deleted:
	case <-time.After(5 * time.Second):
		t.Fatal("not deleted")
	}
	before := len(b.queries)
	typeText("j")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if len(b.queries) != before {
		t.Error("a query ran after the data was deleted")
	}
}
