package tui

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/persona-workbench/persona/engine/views"
)

// memViews keeps views in memory.
type memViews struct {
	mu sync.Mutex
	vs []views.View
}

func (m *memViews) List() ([]views.View, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]views.View(nil), m.vs...), nil
}

func (m *memViews) Save(v views.View) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v.Name == "boom" {
		return errors.New("save view: disk full")
	}
	v.Saved = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	m.vs = append([]views.View{v}, m.vs...)
	return nil
}

func (m *memViews) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, v := range m.vs {
		if v.Name == name {
			m.vs = append(m.vs[:i], m.vs[i+1:]...)
		}
	}
	return nil
}

// S names and saves the current slice; V lists the saved views and enter
// brings one back, as a step that u undoes.
func TestSavedViews(t *testing.T) {
	store := &memViews{}
	b := newFake()
	// Province × age band with the second pinned, saved as 省份视图; back
	// to the first dimension; open the view again.
	driveWith(t, Config{Backend: b, Views: store}, "zh", 80, 24, "b", "j", "S", "省份视图", "enter", "esc", "k", "V", "enter")
	if len(store.vs) != 1 || store.vs[0].Name != "省份视图" || strings.Join(store.vs[0].Dims, ",") != "province,age_band" || store.vs[0].Chart != "heatmap" {
		t.Fatalf("saved %+v", store.vs)
	}
	if q := b.last(); strings.Join(q.Dims, ",") != "province,age_band" {
		t.Errorf("opened view ran %v, want province × age_band", q.Dims)
	}
	// A comparison comes back as a comparison, with its margins.
	store, b = &memViews{}, newFake()
	driveWith(t, Config{Backend: b, Views: store}, "en", 80, 24, "j", "j", "j", "j", "c", "k", "k", "k", "S", "exposed", "enter", "V", "c", "V", "enter")
	if q := b.last(); !q.Totals || store.vs[0].Chart != "compare" || strings.Join(q.Dims, ",") != "province,exposure" {
		t.Errorf("reopened comparison ran %+v, saved %+v", q, store.vs)
	}
	// A save that fails says why and keeps nothing.
	view := driveWith(t, Config{Backend: newFake(), Views: store}, "en", 80, 24, "S", "boom", "enter")
	if !strings.Contains(view, "disk full") {
		t.Errorf("failed save not reported:\n%s", view)
	}
	// An empty name is refused.
	view = driveWith(t, Config{Backend: newFake(), Views: store}, "en", 80, 24, "S", "enter")
	if !strings.Contains(view, "a view needs a name") {
		t.Errorf("empty name accepted:\n%s", view)
	}
}

func TestViewsScreens(t *testing.T) {
	for _, tt := range []struct {
		name string
		lang string
		w, h int
		keys []string
	}{
		{"views_list_zh_80x24", "zh", 80, 24, []string{"V"}},
		{"views_list_en_160x48", "en", 160, 48, []string{"V"}},
		{"views_name_en_80x24", "en", 80, 24, []string{"j", "S", "Top provinces"}},
		{"views_empty_zh_80x24", "zh", 80, 24, []string{"V"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := &memViews{}
			if !strings.Contains(tt.name, "empty") {
				store.vs = []views.View{
					{Name: "618 复盘", Dims: []string{"province", "categories"}, Measure: "people", Saved: time.Date(2026, 6, 20, 9, 30, 0, 0, time.UTC)},
					{Name: "浙江 · 城市等级", Dims: []string{"city_tier"}, Filters: map[string][]string{"province": {"浙江"}}, Measure: "gmv", Saved: time.Date(2026, 6, 19, 9, 30, 0, 0, time.UTC)},
				}
			}
			view := driveWith(t, Config{Backend: newFake(), Views: store}, tt.lang, tt.w, tt.h, tt.keys...)
			checkSize(t, view, tt.w, tt.h)
			golden.RequireEqual(t, []byte(view))
		})
	}
}
