package analysis

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// Over returns a segment's traits that over-index most (index ≥ 120,
// held by at least 5% of it), strongest first, at most n.
func (s Segment) Over(n int) []Trait {
	return pickTraits(s.Traits, n, func(t Trait) bool { return t.Index >= 120 && t.Share >= 0.05 },
		func(a, b Trait) int { return cmp.Compare(b.Index, a.Index) })
}

// Under returns a segment's traits that under-index most (index ≤ 80),
// weakest first, at most n.
func (s Segment) Under(n int) []Trait {
	return pickTraits(s.Traits, n, func(t Trait) bool { return t.Index <= 80 },
		func(a, b Trait) int { return cmp.Compare(a.Index, b.Index) })
}

// Top returns the values of dimension dim held by most of the segment,
// at most n: its typical categories, for a multi-valued dimension.
func (s Segment) Top(dim string, n int) []Trait {
	return pickTraits(s.Traits, n, func(t Trait) bool { return t.Dim == dim && t.Share > 0 },
		func(a, b Trait) int { return cmp.Compare(b.Share, a.Share) })
}

func pickTraits(ts []Trait, n int, keep func(Trait) bool, order func(a, b Trait) int) []Trait {
	var out []Trait
	for _, t := range ts {
		if !t.Withheld && !math.IsNaN(t.Index) && keep(t) {
			out = append(out, t)
		}
	}
	slices.SortStableFunc(out, order)
	return out[:min(n, len(out))]
}

// TraitText is a trait as "value index", e.g. "美妆 162".
func TraitText(t Trait) string {
	return slice.KeyLabel(t.Value) + " " + strconv.FormatFloat(t.Index, 'f', 0, 64)
}

// TraitList joins traits written by f with " · ", or is "–" for none.
func TraitList(ts []Trait, f func(Trait) string) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = f(t)
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, " · ")
}

// WriteTable writes the segmentation for people: how the number of
// segments was chosen, then a row per segment with its size, measures,
// typical values of each multi-valued dimension and the traits it over-
// and under-indexes on (index: 100 is the population's share).
func (s *Segments) WriteTable(w io.Writer, lang string) error {
	dims := make([]string, len(s.Dims))
	for i, d := range s.Dims {
		dims[i] = d.Label.In(lang)
	}
	fmt.Fprintf(w, "%s%d %s · %s · %s %s · k=%d\n", words(lang, "细分：", "Segmentation: "), s.K, words(lang, "群", "segments"),
		strings.Join(dims, words(lang, "、", ", ")), words(lang, "人群", "population"), inventory.Group(strconv.FormatInt(s.People, 10)), s.MinK)
	fmt.Fprintf(w, words(lang, "分群已成为可切片的维度：%s（%s）\n", "The segments are now a dimension to slice by: %s (%s)\n"), s.Field.Label.In(lang), s.Field.Name)
	if len(s.Choices) > 1 {
		rows := [][]string{{words(lang, "群数", "segments"), words(lang, "轮廓系数", "silhouette"), words(lang, "组内平方距离", "inertia"), ""}}
		for _, c := range s.Choices {
			mark := ""
			if c.K == s.K {
				mark = words(lang, "← 选用", "← chosen")
			}
			rows = append(rows, []string{strconv.Itoa(c.K), strconv.FormatFloat(c.Silhouette, 'f', 3, 64), strconv.FormatFloat(c.Inertia, 'f', 3, 64), mark})
		}
		if err := slice.WriteColumns(w, rows, func(i int) bool { return i == 1 || i == 2 }); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	head := []string{words(lang, "分群", "segment"), words(lang, "人数", "people"), words(lang, "占比", "share")}
	for _, m := range s.Measures {
		head = append(head, m.Label.In(lang))
	}
	for _, d := range s.Dims {
		if d.Role == inventory.MultiDimension {
			head = append(head, words(lang, "常见", "top ")+d.Label.In(lang))
		}
	}
	head = append(head, words(lang, "高于总体（指数）", "over-indexes (index)"), words(lang, "低于总体", "under-indexes"))
	rows := [][]string{head}
	for _, g := range s.Segments {
		row := s.Cells(g, lang)
		if g.Withheld {
			rows = append(rows, append(row, make([]string, len(head)-len(row))...))
			continue
		}
		row = append(row, TraitList(g.Over(4), TraitText), TraitList(g.Under(3), TraitText))
		rows = append(rows, row)
	}
	return slice.WriteColumns(w, rows, func(i int) bool { return i > 0 && i < 3+len(s.Measures) })
}

// Cells are a segment's first table cells for people: its name, people
// and share, each of Measures, and the values most held of each
// multi-valued dimension with their shares. A withheld segment has its
// name and the guard's mark only.
func (s *Segments) Cells(g Segment, lang string) []string {
	if g.Withheld {
		m := slice.Mark(slice.Row{Suppressed: true, Reason: g.Reason}, s.MinK, lang)
		return []string{g.Name, m, m}
	}
	row := []string{g.Name, inventory.Group(strconv.FormatInt(g.People, 10)), pct(g.Share)}
	for i, m := range s.Measures {
		v := "×"
		if i < len(g.Measures) && !math.IsNaN(g.Measures[i]) {
			v = m.Format(g.Measures[i])
		}
		row = append(row, v)
	}
	for _, d := range s.Dims {
		if d.Role == inventory.MultiDimension {
			row = append(row, TraitList(g.Top(d.Name, 3), func(t Trait) string { return slice.KeyLabel(t.Value) + " " + pct(t.Share) }))
		}
	}
	return row
}

// WriteCSV writes every trait of every segment for other programs: a row
// per segment and value, shares 0–1, empty where withheld.
func (s *Segments) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"segment", "people", "dimension", "value", "share", "index"})
	for _, g := range s.Segments {
		n := ""
		if !g.Withheld {
			n = strconv.FormatInt(g.People, 10)
		}
		for _, t := range g.Traits {
			share, index := "", ""
			if !t.Withheld {
				share = num(t.Share)
				if !math.IsNaN(t.Index) {
					index = num(t.Index)
				}
			}
			cw.Write([]string{g.Name, n, t.Dim, t.Value, share, index})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the run: the choice of the number of segments and
// each segment's profile; withheld numbers are null.
func (s *Segments) WriteJSON(w io.Writer) error {
	opt := func(v float64, ok bool) *float64 {
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	type trait struct {
		Dim      string   `json:"dimension"`
		Value    string   `json:"value"`
		Share    *float64 `json:"share"`
		Index    *float64 `json:"index"`
		Withheld string   `json:"withheld,omitempty"`
	}
	type segment struct {
		Name     string              `json:"name"`
		People   *int64              `json:"people"`
		Share    *float64            `json:"share"`
		Withheld string              `json:"withheld,omitempty"`
		Measures map[string]*float64 `json:"measures"`
		Traits   []trait             `json:"traits"`
	}
	dims := make([]string, len(s.Dims))
	for i, d := range s.Dims {
		dims[i] = d.Name
	}
	out := struct {
		Analysis  string    `json:"analysis"`
		Dimension string    `json:"dimension"`
		Dims      []string  `json:"dimensions"`
		People    int64     `json:"people"`
		K         int       `json:"k"`
		Segments  int       `json:"segments"`
		Choices   []KChoice `json:"choices"`
		Profiles  []segment `json:"profiles"`
	}{Analysis: "segments", Dimension: s.Field.Name, Dims: dims, People: s.People, K: s.MinK, Segments: s.K, Choices: s.Choices}
	for _, g := range s.Segments {
		x := segment{Name: g.Name, Measures: map[string]*float64{}, Traits: []trait{}}
		if g.Withheld {
			x.Withheld = g.Reason.String()
		} else {
			n := g.People
			x.People, x.Share = &n, opt(g.Share, true)
		}
		for i, m := range s.Measures {
			x.Measures[m.Name] = opt(g.Measures[i], i < len(g.Measures))
		}
		for _, t := range g.Traits {
			y := trait{Dim: t.Dim, Value: t.Value, Share: opt(t.Share, !t.Withheld), Index: opt(t.Index, !t.Withheld)}
			if t.Withheld {
				y.Withheld = t.Reason.String()
			}
			x.Traits = append(x.Traits, y)
		}
		out.Profiles = append(out.Profiles, x)
	}
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(out)
}
