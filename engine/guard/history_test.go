package guard

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/persona-workbench/persona/engine/slice"
)

var testKey = [32]byte{1, 2, 3}

func pop(conds ...cond) Pop {
	var p Pop
	for _, c := range conds {
		p = p.and(c)
	}
	return p
}

func TestPopAlgebra(t *testing.T) {
	gd := cond{Dim: "province", Values: []string{"广东"}}
	gdzj := cond{Dim: "province", Values: []string{"浙江", "广东"}}
	xz := cond{Dim: "province", Values: []string{"西藏"}}
	mz := cond{Dim: "categories", Multi: true, Values: []string{"美妆"}}
	mzfs := cond{Dim: "categories", Multi: true, Values: []string{"美妆", "服饰"}}
	young := cond{Dim: "age_band", Values: []string{"18-24"}}

	if got := pop(gdzj, gd).Key(); got != pop(gd).Key() {
		t.Errorf("province in {广东,浙江} and 广东 = %s, want 广东", got)
	}
	if !pop(gd, xz).Empty {
		t.Error("广东 and 西藏 is not empty")
	}
	if got := pop(mzfs, mz).Key(); got != pop(mz).Key() {
		t.Errorf("has any of {美妆,服饰} and has 美妆 = %s, want has 美妆", got)
	}
	if pop(young, gd).Key() != pop(gd, young).Key() {
		t.Error("the key depends on the order conditions were added")
	}
	for _, tt := range []struct {
		a, b             Pop
		disjoint, within bool
	}{
		{pop(gd), pop(xz), true, false},
		{pop(gd, young), pop(gdzj), false, true},
		{pop(gdzj), pop(gd, young), false, false},
		{pop(mz), pop(mzfs), false, true},
		{pop(mzfs), pop(mz), false, false},
		{pop(mz, gd), pop(mz, xz), true, false},
		{pop(mz), pop(young), false, false},
		{pop(gd), Pop{}, false, true},
	} {
		if got := disjoint(tt.a, tt.b); got != tt.disjoint {
			t.Errorf("disjoint(%s, %s) = %v", tt.a, tt.b, got)
		}
		if got := within(tt.a, tt.b); got != tt.within {
			t.Errorf("within(%s, %s) = %v", tt.a, tt.b, got)
		}
	}
}

func TestFileHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), HistoryFile)
	a, err := OpenFile(path, testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenFile(path, testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	e1 := Entry{Pop: pop(cond{Dim: "province", Values: []string{"广东"}}), People: 120}
	e2 := Entry{Pop: pop(cond{Dim: "province", Values: []string{"西藏"}}), People: 7, Protected: true}

	if es, err := a.Lock(); err != nil || len(es) != 0 {
		t.Fatalf("new history: %v %v", es, err)
	}
	if err := a.Add([]Entry{e1}); err != nil {
		t.Fatal(err)
	}
	a.Unlock()
	// Another process sees it on its next release; the writer does not
	// read its own entries back.
	if es, err := b.Lock(); err != nil || len(es) != 1 || es[0].Pop.Key() != e1.Pop.Key() || es[0].People != 120 {
		t.Fatalf("second handle read %+v %v", es, err)
	}
	if err := b.Add([]Entry{e2}); err != nil {
		t.Fatal(err)
	}
	b.Unlock()
	if es, err := a.Lock(); err != nil || len(es) != 1 || !es[0].Protected {
		t.Fatalf("first handle read %+v %v", es, err)
	}
	a.Unlock()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("history is %v, want 0600", st.Mode().Perm())
	}

	// A line cut short by a crash released nothing: it is cut off.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("bm90IGEgd2hvbGUgbGlu")
	f.Close()
	c, _ := OpenFile(path, testKey)
	defer c.Close()
	if es, err := c.Lock(); err != nil || len(es) != 2 {
		t.Fatalf("after a torn line: %d entries, %v", len(es), err)
	}
	c.Unlock()
	if data, _ := os.ReadFile(path); !strings.HasSuffix(string(data), "\n") {
		t.Error("torn line left in place")
	}
	// Nothing readable is on disk, and another key reads nothing.
	if data, _ := os.ReadFile(path); strings.Contains(string(data), "广东") || strings.Contains(string(data), "province") {
		t.Errorf("history holds plain text:\n%s", data)
	}
	other, _ := OpenFile(path, [32]byte{9})
	defer other.Close()
	if _, err := other.Lock(); err == nil || !strings.Contains(err.Error(), "another key") {
		t.Errorf("history read with another key: %v", err)
	}

	// A damaged line is refused, and says so.
	data, _ := os.ReadFile(path)
	data[10] ^= 1 // one bit of the first entry
	os.WriteFile(path, data, 0o600)
	d, _ := OpenFile(path, testKey)
	defer d.Close()
	if _, err := d.Lock(); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("damaged history: %v", err)
	}
	// A history that shrank under an open handle was changed outside.
	os.WriteFile(path, nil, 0o600)
	if _, err := a.Lock(); err == nil || !strings.Contains(err.Error(), "shrank") {
		t.Errorf("shrunk history: %v", err)
	}
}

// FuzzHistoryFile feeds arbitrary bytes to the history reader: it either
// reads entries that were sealed with its key or refuses, never panics.
func FuzzHistoryFile(f *testing.F) {
	dir := f.TempDir()
	seed := filepath.Join(dir, "seed")
	h, err := OpenFile(seed, testKey)
	if err != nil {
		f.Fatal(err)
	}
	h.Lock()
	h.Add([]Entry{{Pop: pop(cond{Dim: "province", Values: []string{"广东"}}), People: 12}})
	h.Unlock()
	h.Close()
	good, _ := os.ReadFile(seed)
	f.Add(good)
	f.Add([]byte("not base64\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), HistoryFile)
		os.WriteFile(path, data, 0o600)
		h, err := OpenFile(path, testKey)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		es, err := h.Lock()
		if err == nil {
			h.Unlock()
			for _, e := range es {
				if e.People < 0 {
					t.Fatalf("negative people accepted: %+v", e)
				}
			}
		}
	})
}

// Fields names every field a history's entries refer to, and reading
// them leaves the history whole for the engine's own File.
func TestHistoryFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), HistoryFile)
	h, err := OpenFile(path, testKey)
	if err != nil {
		t.Fatal(err)
	}
	gd := cond{Dim: "province", Values: []string{"广东"}}
	mz := cond{Dim: "categories", Multi: true, Values: []string{"美妆"}}
	seg := cond{Dim: "segment_1a2b", Values: []string{"A"}}
	young := cond{Dim: "age_band", Values: []string{"18-24"}}
	entries := []Entry{
		{Pop: pop(gd), People: 40},
		{Pop: Pop{Conds: []cond{seg}, Or: [][]cond{{mz}}}, Field: "monthly_gmv", People: 12},
		{Def: &slice.Segmentation{Values: []string{"A"}, Bias: []float64{0}, Terms: []slice.SegmentTerm{{Dim: "device"}}}},
		{Pop: pop(young, gd), People: 20},
	}
	if _, err := h.Lock(); err != nil {
		t.Fatal(err)
	}
	if err := h.Add(entries); err != nil {
		t.Fatal(err)
	}
	h.Unlock()
	h.Close()

	got, err := Fields(path, testKey)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	want := []string{"age_band", "categories", "device", "monthly_gmv", "province", "segment_1a2b"}
	if !slices.Equal(got, want) {
		t.Fatalf("Fields = %v, want %v", got, want)
	}
	if _, err := Fields(path, [32]byte{9}); err == nil {
		t.Fatal("Fields read a history with the wrong key")
	}
	again, err := OpenFile(path, testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	es, err := again.Lock()
	again.Unlock()
	if err != nil || len(es) != len(entries) {
		t.Fatalf("after Fields, a File reads %d entries (%v), want %d", len(es), err, len(entries))
	}
}
