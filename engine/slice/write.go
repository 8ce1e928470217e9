package slice

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
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

// Cells returns a row's cells as text: keys, then the measure and the
// number of people, or the withheld marker for both.
func (r *Result) Cells(row Row) []string {
	cells := make([]string, len(row.Keys))
	for i, k := range row.Keys {
		cells[i] = KeyLabel(k)
	}
	value, people := Withheld(r.K), Withheld(r.K)
	if !row.Suppressed {
		value, people = r.Measure.Format(row.Value), inventory.Group(strconv.FormatInt(row.People, 10))
	}
	cells = append(cells, value)
	if r.ShowsPeople() {
		cells = append(cells, people)
	}
	return cells
}

// WriteTable writes the result as an aligned text table; Chinese labels
// count as two columns wide.
func (r *Result) WriteTable(w io.Writer, lang string) error {
	rows := [][]string{r.Header(lang)}
	for _, row := range r.Rows {
		rows = append(rows, r.Cells(row))
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], runewidth.StringWidth(c))
		}
	}
	numeric := len(r.Dims) // columns from here on are right-aligned
	var b strings.Builder
	for _, row := range rows {
		for i, c := range row {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-runewidth.StringWidth(c))
			if i >= numeric {
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
// the head count, withheld), then plain numbers without grouping or
// units. A withheld row has empty value and people and withheld=true; an
// undefined value is empty.
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	var header []string
	for _, d := range r.Dims {
		header = append(header, d.Name)
	}
	header = append(header, r.Measure.Name)
	if r.ShowsPeople() {
		header = append(header, "people")
	}
	cw.Write(append(header, "withheld"))
	for _, row := range r.Rows {
		rec := append([]string(nil), row.Keys...)
		value, people := "", ""
		if row.Defined() {
			value = strconv.FormatFloat(row.Value, 'f', -1, 64)
		}
		if !row.Suppressed {
			people = strconv.FormatInt(row.People, 10)
		}
		rec = append(rec, value)
		if r.ShowsPeople() {
			rec = append(rec, people)
		}
		cw.Write(append(rec, strconv.FormatBool(row.Suppressed)))
	}
	cw.Flush()
	return cw.Error()
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
	}
	out := struct {
		Dimensions []string  `json:"dimensions"`
		Measure    string    `json:"measure"`
		K          int       `json:"k"`
		Withheld   int       `json:"withheld"`
		Rows       []jsonRow `json:"rows"`
	}{Measure: r.Measure.Name, K: r.K, Withheld: r.Suppressed, Dimensions: []string{}, Rows: []jsonRow{}}
	for _, d := range r.Dims {
		out.Dimensions = append(out.Dimensions, d.Name)
	}
	for _, row := range r.Rows {
		jr := jsonRow{Keys: map[string]string{}, Withheld: row.Suppressed}
		for i, d := range r.Dims {
			jr.Keys[d.Name] = row.Keys[i]
		}
		if !row.Suppressed {
			p := row.People
			jr.People = &p
		}
		if row.Defined() {
			v := row.Value
			jr.Value = &v
		}
		out.Rows = append(out.Rows, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
