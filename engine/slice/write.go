package slice

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/mattn/go-runewidth"

	"github.com/persona-workbench/persona/engine/inventory"
)

// Withheld is how a suppressed cell reads wherever a result is written.
func Withheld(k int) string { return fmt.Sprintf("<%d", k) }

// Header returns the column titles of a result in the given language.
func (r *Result) Header(lang string) []string {
	var h []string
	for _, d := range r.Dims {
		h = append(h, d.Label.In(lang))
	}
	m := r.Measure.Label.In(lang)
	if r.Measure.Unit != "" {
		m += " (" + r.Measure.Unit + ")"
	}
	h = append(h, m)
	if r.ShowsPeople() {
		h = append(h, r.PeopleLabel.In(lang))
	}
	return h
}

// KeyLabel is how a dimension value reads: Missing shows as ∅.
func KeyLabel(k string) string {
	if k == Missing {
		return "∅"
	}
	return k
}

// ShowsPeople reports whether the result has a column for the number of
// people besides its measure, which it has unless the measure is that
// number.
func (r *Result) ShowsPeople() bool { return r.Measure.Kind != inventory.Count }

// Cells returns a row's cells as text in English; see CellsIn.
func (r *Result) Cells(row Row) []string { return r.CellsIn(row, "en") }

// CellsIn returns a row's cells as text: keys, then the measure and the
// number of people, or the withheld mark for both: <k for a cell of too
// few people, "withheld" for the other reasons.
func (r *Result) CellsIn(row Row, lang string) []string {
	cells := make([]string, len(row.Keys))
	for i, k := range row.Keys {
		cells[i] = KeyLabel(k)
	}
	value, people := Mark(row, r.K, lang), Mark(row, r.K, lang)
	if !row.Suppressed {
		value, people = r.Measure.Format(row.Value), inventory.Group(strconv.FormatInt(row.People, 10))
	}
	cells = append(cells, value)
	if r.ShowsPeople() {
		cells = append(cells, people)
	}
	return cells
}

// Mark is how a withheld cell's numbers read: <k when it holds fewer
// than k people, otherwise a word; the reason says more.
func Mark(row Row, k int, lang string) string {
	switch {
	case row.Reason == FewPeople:
		return Withheld(k)
	case lang == "zh":
		return "隐藏"
	}
	return "hidden"
}

// Extra is a row besides the cells: a total, a margin or the "other" row.
type Extra struct {
	Kind   string // "total", "margin" or "other"
	Row    Row    // Keys has one entry per dimension; summed ones are Missing
	Summed []bool // which dimensions the row sums over
}

// Extras returns the result's totals, margins and other row, in the
// order they are written: margins of the first dimension, of the second,
// the other row, the grand total.
func (r *Result) Extras() []Extra {
	var out []Extra
	n := len(r.Dims)
	for i, ms := range r.Margins {
		for _, m := range ms {
			keys, summed := make([]string, n), make([]bool, n)
			for j := range n {
				summed[j] = j != i
			}
			keys[i] = m.Keys[0]
			row := m
			row.Keys = keys
			out = append(out, Extra{Kind: "margin", Row: row, Summed: summed})
		}
	}
	all := func() []bool {
		s := make([]bool, n)
		for j := range s {
			s[j] = true
		}
		return s
	}
	if r.Other != nil {
		row := *r.Other
		row.Keys = make([]string, n)
		out = append(out, Extra{Kind: "other", Row: row, Summed: all()})
	}
	if r.Total != nil {
		row := *r.Total
		row.Keys = make([]string, n)
		out = append(out, Extra{Kind: "total", Row: row, Summed: all()})
	}
	return out
}

func extraLabel(kind, lang string) string {
	switch {
	case kind == "other" && lang == "zh":
		return "其他"
	case kind == "other":
		return "Other"
	case lang == "zh":
		return "合计"
	}
	return "Total"
}

// WriteTable writes the result as an aligned text table; Chinese labels
// count as two columns wide. Withheld rows say why in a last column.
func (r *Result) WriteTable(w io.Writer, lang string) error {
	rows := [][]string{r.Header(lang)}
	var notes []string
	note := func(row Row) {
		n := ""
		if row.Suppressed {
			n = r.ReasonText(row.Reason, lang)
		}
		notes = append(notes, n)
	}
	note(Row{})
	for _, row := range r.Rows {
		rows = append(rows, r.CellsIn(row, lang))
		note(row)
	}
	for _, x := range r.Extras() {
		cells := r.CellsIn(x.Row, lang)
		for i, s := range x.Summed {
			if s {
				cells[i] = extraLabel(x.Kind, lang)
			}
		}
		rows = append(rows, cells)
		note(x.Row)
	}
	if slices.ContainsFunc(notes, func(n string) bool { return n != "" }) {
		for i := range rows {
			rows[i] = append(rows[i], notes[i])
		}
	}
	numeric := len(r.Dims) // columns from here on are right-aligned, but for the note
	notesAt := len(r.Header(lang))
	return WriteColumns(w, rows, func(i int) bool { return i >= numeric && i < notesAt })
}

// WriteColumns writes rows as a text table for people: columns two
// spaces apart, as wide as their widest cell in terminal cells (CJK
// counts two), right-aligned where right says so, the last column not
// padded.
func WriteColumns(w io.Writer, rows [][]string, right func(col int) bool) error {
	var widths []int
	for _, row := range rows {
		for i, c := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], runewidth.StringWidth(c))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		for i, c := range row {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-runewidth.StringWidth(c))
			if right(i) {
				b.WriteString(pad + c)
			} else if i < len(row)-1 {
				b.WriteString(c + pad)
			} else {
				b.WriteString(c)
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteCSV writes the result as CSV for other programs: a header of
// inventory names (dimensions, the measure, people unless the measure is
// the head count, withheld, reason, kind), then plain numbers without
// grouping or units. A withheld row has empty value and people,
// withheld=true and the reason's name; an undefined value is empty. kind
// is "cell", or "margin", "other" or "total" for the extra rows, whose
// summed dimensions are empty.
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.WriteAll(r.CSVRecords())
	return cw.Error()
}

// CSVRecords are the records WriteCSV writes, header first.
func (r *Result) CSVRecords() [][]string {
	var out [][]string
	var header []string
	for _, d := range r.Dims {
		header = append(header, d.Name)
	}
	header = append(header, r.Measure.Name)
	if r.ShowsPeople() {
		header = append(header, "people")
	}
	out = append(out, append(header, "withheld", "reason", "kind"))
	write := func(row Row, kind string) {
		rec := append([]string(nil), row.Keys...)
		value, people, reason := "", "", ""
		if row.Defined() {
			value = strconv.FormatFloat(row.Value, 'f', -1, 64)
		}
		if row.Suppressed {
			reason = row.Reason.String()
		} else {
			people = strconv.FormatInt(row.People, 10)
		}
		rec = append(rec, value)
		if r.ShowsPeople() {
			rec = append(rec, people)
		}
		out = append(out, append(rec, strconv.FormatBool(row.Suppressed), reason, kind))
	}
	for _, row := range r.Rows {
		write(row, "cell")
	}
	for _, x := range r.Extras() {
		write(x.Row, x.Kind)
	}
	return out
}

// WriteJSON writes the result as JSON. Withheld rows carry
// "withheld": true and no value or people; rows whose value is undefined
// (a ratio over zero) carry people but no value.
func (r *Result) WriteJSON(w io.Writer) error {
	type jsonRow struct {
		Keys     map[string]string `json:"keys"`
		Value    *float64          `json:"value,omitempty"`
		People   *int64            `json:"people,omitempty"`
		Withheld bool              `json:"withheld,omitempty"`
		Reason   string            `json:"reason,omitempty"`
		Kind     string            `json:"kind,omitempty"` // margin, other or total; cells have none
	}
	out := struct {
		Dimensions []string  `json:"dimensions"`
		Measure    string    `json:"measure"`
		K          int       `json:"k"`
		Method     string    `json:"method,omitempty"`
		Bound      int       `json:"bound,omitempty"`
		Withheld   int       `json:"withheld"`
		Rows       []jsonRow `json:"rows"`
		Extras     []jsonRow `json:"extras,omitempty"`
	}{Measure: r.Measure.Name, K: r.K, Method: r.Method, Bound: r.Bound, Withheld: r.Suppressed, Dimensions: []string{}, Rows: []jsonRow{}}
	for _, d := range r.Dims {
		out.Dimensions = append(out.Dimensions, d.Name)
	}
	type kinded struct {
		row    Row
		kind   string
		summed []bool
	}
	var all []kinded
	for _, row := range r.Rows {
		all = append(all, kinded{row: row})
	}
	for _, x := range r.Extras() {
		all = append(all, kinded{x.Row, x.Kind, x.Summed})
	}
	for _, k := range all {
		row := k.row
		jr := jsonRow{Keys: map[string]string{}, Withheld: row.Suppressed, Kind: k.kind}
		if row.Suppressed {
			jr.Reason = row.Reason.String()
		}
		for i, d := range r.Dims {
			if k.summed == nil || !k.summed[i] {
				jr.Keys[d.Name] = row.Keys[i]
			}
		}
		if !row.Suppressed {
			p := row.People
			jr.People = &p
		}
		if row.Defined() {
			v := row.Value
			jr.Value = &v
		}
		if k.kind == "" {
			out.Rows = append(out.Rows, jr)
		} else {
			out.Extras = append(out.Extras, jr)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
