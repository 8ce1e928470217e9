package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

func compareResult() *slice.Result {
	return &slice.Result{
		Dims: []inventory.Field{
			{Name: "province", Label: inventory.Label{ZH: "省份", EN: "Province"}, Role: inventory.Dimension},
			{Name: "exposure", Label: inventory.Label{ZH: "活动曝光", EN: "Exposure"}, Role: inventory.Dimension, Order: []string{"未曝光", "已曝光"}},
		},
		Measure: inventory.MeasureDef{Name: "rate", Kind: inventory.Share, Decimals: 1, Percent: true},
		K:       10,
		Rows: []slice.Row{
			{Keys: []string{"浙江", "已曝光"}, Value: 0.06, People: 400},
			{Keys: []string{"浙江", "未曝光"}, Value: 0.04, People: 900},
			{Keys: []string{"西藏", "未曝光"}, Value: 0.02, People: 50},
			{Keys: []string{"西藏", "已曝光"}, Suppressed: true, Reason: slice.FewPeople},
			{Keys: []string{"青海", "未曝光"}, Value: 0.03, People: 30},
		},
		Margins: [slice.MaxDims][]slice.Row{nil, {
			{Keys: []string{"已曝光"}, Value: 0.05, People: 410},
			{Keys: []string{"未曝光"}, Value: 0.04, People: 980},
		}},
	}
}

// The comparison pairs the segments in their natural order, computes
// the difference and the lift from shown values only, and marks a pair
// with a withheld side or a missing one.
func TestCompare(t *testing.T) {
	res := compareResult()
	a, b, ok := segmentsOf(res, nil)
	if !ok || a != "未曝光" || b != "已曝光" {
		t.Fatalf("segments %q %q %v, want 未曝光 then 已曝光", a, b, ok)
	}
	if a, b, _ := segmentsOf(res, []string{"已曝光", "未曝光"}); a != "已曝光" || b != "未曝光" {
		t.Errorf("a filter of two values sets the segments: got %q %q", a, b)
	}
	c := compareOf(res, a, b)
	if len(c.rows) != 3 || c.rows[0].key != "浙江" || c.overall == nil {
		t.Fatalf("rows %+v overall %v", c.rows, c.overall)
	}
	want := map[string][4]string{
		"浙江": {"4.0%", "6.0%", "+2.0pp", "+50.0%"},
		"西藏": {"2.0%", "<10", "×", "×"},
		"青海": {"3.0%", "·", "·", "·"},
	}
	for _, r := range c.rows {
		if got := c.cells(res, r, "en"); got != want[r.key] {
			t.Errorf("%s: got %q, want %q", r.key, got, want[r.key])
		}
	}
	if got := c.cells(res, *c.overall, "en"); got != [4]string{"4.0%", "5.0%", "+1.0pp", "+25.0%"} {
		t.Errorf("everyone: %q", got)
	}
	out := drawCompare(c, res, 60, 10, 0, 1, newStyles(lipgloss.NewRenderer(nil)), textsEN, "en")
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if lipgloss.Width(l) != 60 {
			t.Errorf("line %d is %d wide: %q", i, lipgloss.Width(l), l)
		}
	}
	if len(lines) > 10 || !strings.Contains(out, "▸ 西藏") || !strings.Contains(lines[5], "withheld") || strings.Contains(lines[5], "█") {
		t.Errorf("西藏 should be marked, its exposed side withheld with no bar:\n%s", out)
	}
}
