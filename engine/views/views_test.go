package views

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestViews(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	f, err := Open(path, [32]byte{7})
	if err != nil {
		t.Fatal(err)
	}
	if vs, err := f.List(); err != nil || len(vs) != 0 {
		t.Fatalf("no file: %v %v", vs, err)
	}
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	heat := View{Name: "省份×品类", Dims: []string{"province", "categories"}, Measure: "people", Saved: t0}
	zj := View{Name: "浙江", Dims: []string{"city_tier"}, Filters: map[string][]string{"province": {"浙江"}}, Measure: "gmv", Top: 10, Saved: t0.Add(time.Minute)}
	for _, v := range []View{heat, zj} {
		if err := f.Save(v); err != nil {
			t.Fatal(err)
		}
	}
	vs, err := f.List()
	if err != nil || len(vs) != 2 || vs[0].Name != "浙江" || vs[1].Name != "省份×品类" || vs[0].Filters["province"][0] != "浙江" {
		t.Fatalf("listed %+v %v", vs, err)
	}
	// A save under the same name replaces; a removal frees the name.
	zj.Measure, zj.Saved = "people", t0.Add(2*time.Minute)
	f.Save(zj)
	f.Remove("省份×品类")
	if vs, _ = f.List(); len(vs) != 1 || vs[0].Measure != "people" {
		t.Fatalf("after replace and remove: %+v", vs)
	}
	// Nothing readable on disk; another key reads nothing.
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "浙江") || strings.Contains(string(data), "province") {
		t.Errorf("views file holds plain text:\n%s", data)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("views file is %v, want 0600", st.Mode().Perm())
	}
	other, _ := Open(path, [32]byte{8})
	if _, err := other.List(); err == nil || !strings.Contains(err.Error(), "damaged or not this licence's") {
		t.Errorf("read with another key: %v", err)
	}
}

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"618 复盘":                true,
		"":                      false,
		"   ":                   false,
		"a\x1b[31m":             false,
		strings.Repeat("长", 40): true,
		strings.Repeat("长", 41): false,
	} {
		if err := CheckName(name); (err == nil) != ok {
			t.Errorf("CheckName(%q) = %v", name, err)
		}
	}
	f, _ := Open(filepath.Join(t.TempDir(), FileName), [32]byte{})
	if err := f.Save(View{Name: ""}); err == nil {
		t.Error("a view without a name was saved")
	}
}
