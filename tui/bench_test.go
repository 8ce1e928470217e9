package tui

import (
	"context"
	"fmt"
	"testing"

	"github.com/persona-workbench/persona/engine/slice"
)

var benchProvinces = []string{"广东", "江苏", "浙江", "山东", "河南", "四川", "湖北", "湖南", "河北", "福建",
	"上海", "北京", "安徽", "辽宁", "陕西", "江西", "重庆", "广西", "云南", "山西",
	"黑龙江", "吉林", "贵州", "天津", "新疆", "内蒙古", "甘肃", "海南", "宁夏", "青海", "西藏"}

var benchCategories = []string{"服饰", "美妆", "食品", "数码", "家居", "母婴", "运动户外", "个护", "家电", "图书", "宠物", "汽车用品", "珠宝", "医药"}

// benchBackend answers like the demo's data: 31 provinces, 14
// categories, 12 months, the last province withheld.
func benchBackend() *fakeBackend {
	b := newFake()
	rows := func(keys []string) []slice.Row {
		out := make([]slice.Row, len(keys))
		for i, k := range keys {
			n := int64(90000 / (i + 2))
			out[i] = slice.Row{Keys: []string{k}, Value: float64(n), People: n}
		}
		return out
	}
	months := make([]string, 12)
	for i := range months {
		months[i] = fmt.Sprintf("2025-%02d", i+1)
	}
	b.inv.Fields[3].Order = months
	p := rows(benchProvinces)
	p[len(p)-1] = slice.Row{Keys: []string{"西藏"}, Suppressed: true, Reason: slice.FewPeople}
	b.rows = map[string][]slice.Row{
		"age_band": rows([]string{"18-24", "25-29", "30-34"}), "province": p,
		"categories": rows(benchCategories), "month": rows(months), "exposure": rows([]string{"未曝光", "已曝光"}),
	}
	return b
}

// BenchmarkView measures View() of each screen at 200×60: what every
// frame costs once the screen is set up.
func BenchmarkView(b *testing.B) {
	screens := []struct {
		name string
		keys []string
	}{
		{"bars", []string{"j"}},
		{"columns", []string{"j", "v"}},
		{"lines", []string{"j", "j", "j"}},
		{"heatmap", []string{"j", "j", "b", "k"}},
		{"grouped", []string{"j", "j", "b", "k", "v"}},
		{"stacked", []string{"j", "j", "b", "k", "v", "v"}},
		{"compare", []string{"j", "j", "j", "j", "c", "k", "k"}},
		{"picker", []string{"j", "F"}},
		{"palette", []string{":"}},
		{"help", []string{"?"}},
		{"views", []string{"V"}},
		{"usage_log", []string{"L"}},
		{"compliance", []string{"C"}},
		{"analyses_rules", []string{"A"}},
		{"analyses_lift", []string{"A", "tab"}},
		{"export", []string{"E"}},
	}
	for _, sc := range screens {
		cfg := screenConfig()
		cfg.Backend = benchBackend()
		m := driveModel(b, cfg, "zh", 200, 60, sc.keys...)
		b.Run(sc.name, func(b *testing.B) {
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}

// BenchmarkNewSlice measures what a slice's answer costs the screen
// before the query time: taking the result (table, chart) and drawing
// the frame, for a province × category heatmap at 200×60.
func BenchmarkNewSlice(b *testing.B) {
	be := benchBackend()
	m := driveModel(b, Config{Backend: be}, "zh", 200, 60, "j", "j", "b", "k")
	a := m.App
	res, err := be.Run(context.Background(), a.slicer.query())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		next, _ := a.Update(sliceResultMsg{seq: a.slicer.seq, res: res})
		_ = next.View()
	}
}
