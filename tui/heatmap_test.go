package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// A withheld cell reads ×, a combination nobody has ·, and the bands
// are told apart by glyph alone (no colour here): none of them can pass
// for another or for zero.
func TestHeatmapMarks(t *testing.T) {
	res := &slice.Result{
		Dims: []inventory.Field{
			{Name: "province", Label: inventory.Label{ZH: "省份", EN: "Province"}, Role: inventory.Dimension},
			{Name: "age_band", Label: inventory.Label{ZH: "年龄段", EN: "Age band"}, Role: inventory.Dimension, Order: []string{"18-24", "25-29"}},
		},
		Measure: inventory.MeasureDef{Name: "people", Kind: inventory.Count},
		K:       10,
		Rows: []slice.Row{
			{Keys: []string{"广东", "25-29"}, Value: 400, People: 400},
			{Keys: []string{"广东", "18-24"}, Value: 100, People: 100},
			{Keys: []string{"西藏", "18-24"}, Suppressed: true, Reason: slice.FewPeople},
		},
	}
	var h heatmap
	h.SetSize(40, 6)
	h.Set(res, 0, "西藏", newStyles(lipgloss.NewRenderer(nil)), textsEN)
	lines := strings.Split(h.View(), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d lines:\n%s", len(lines), h.View())
	}
	if !strings.Contains(lines[0], "18-24") || strings.Index(lines[0], "18-24") > strings.Index(lines[0], "25-29") {
		t.Errorf("columns not in the age bands' order: %q", lines[0])
	}
	if !strings.Contains(lines[1], "░") || !strings.Contains(lines[1], "█") {
		t.Errorf("广东's cells are not the lowest and highest bands: %q", lines[1])
	}
	if !strings.HasPrefix(lines[2], "▸ 西藏") || !strings.Contains(lines[2], "×") || !strings.Contains(lines[2], "·") {
		t.Errorf("西藏: want the marker, × for the withheld cell and · for the empty one: %q", lines[2])
	}
	if strings.ContainsAny(lines[2], "░▒▓█") {
		t.Errorf("西藏's row shows a shade: %q", lines[2])
	}
	if !strings.Contains(lines[3], "withheld") || !strings.Contains(lines[3], "≤400") {
		t.Errorf("legend: %q", lines[3])
	}
}
