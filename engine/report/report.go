// Package report writes what a licensee may hand on: exports of a view's
// released numbers (CSV, JSON, Parquet) and reports of saved views and
// analyses (a self-contained HTML file and a Markdown version), among
// them the brand marketing effect report (品牌营销效果报告).
//
// Every number in an export or a report is one the privacy guard
// released: tables and charts are built from slice results and analysis
// outcomes that went through an analysis.Runner, and a withheld cell is
// written as the guard's mark, never drawn in a chart. Each file carries a
// watermark — the licence, the licensee, the person who made it and when
// — and is written whole or not at all (Publish): the caller records its
// path, size and SHA-256 in the licence's usage log before the file takes
// its name, so that the deletion at the end of the licence finds it.
//
// The HTML report needs nothing from outside the file: no scripts, no
// fonts or style sheets fetched, charts as inline SVG drawn by gonum's
// plot package; a Content-Security-Policy forbids any request.
package report

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/licence"
	"github.com/persona-workbench/persona/engine/slice"
)

// Watermark says whose a file is: it is written into every export's
// header or metadata and on every report.
type Watermark struct {
	Licence  string    `json:"licence"`
	Licensee string    `json:"licensee"`
	Person   string    `json:"person"`
	Time     time.Time `json:"time"`
	Tool     string    `json:"tool"`
}

// Line is the watermark as one line of text.
func (w Watermark) Line() string {
	return fmt.Sprintf("licence %s · licensee %s · made by %s · %s · %s", w.Licence, w.Licensee, w.Person, w.Time.UTC().Format(time.RFC3339), w.Tool)
}

// Terms are the licence terms a report's footer restates.
type Terms struct {
	Licensor, Licensee string
	Purpose            string
	NotBefore          time.Time
	NotAfter           time.Time
	DeleteBy           time.Time
	Region             string
	MaxPersonnel       int
	K                  int
	// Method is the disclosure control the numbers passed (slice.Result's
	// Method) and Bound its largest adjustment of a head count.
	Method string
	Bound  int
}

// Protection says which disclosure control the report's numbers
// passed, in "zh" or "en" (slice.Protection).
func (t Terms) Protection(lang string) string {
	return slice.Protection(t.Method, t.K, t.Bound, lang)
}

// TermsOf returns a licence's terms for a report's footer.
func TermsOf(l *licence.Licence) Terms {
	return Terms{Licensor: l.Licensor.Name, Licensee: l.Licensee.Name, Purpose: l.Purpose, NotBefore: l.NotBefore,
		NotAfter: l.NotAfter, DeleteBy: l.DeleteBy(), Region: l.Region, MaxPersonnel: l.MaxPersonnel, K: l.Privacy.K,
		Method: l.Privacy.Effective(), Bound: l.Privacy.Bound()}
}

// Report is a report's content: sections of tables and charts, each
// number released by the privacy guard.
type Report struct {
	Title     inventory.Label
	Dataset   inventory.Label
	Watermark Watermark
	Terms     Terms
	K         int
	Sections  []Section
}

// Section is one part of a report.
type Section struct {
	ID     string // an anchor: letters, digits and dashes
	Title  inventory.Label
	Lead   inventory.Label // what the section shows, in a sentence
	Tables []Table
	Charts []Chart
	Notes  []inventory.Label
}

// Table is a table of released numbers as they are written.
type Table struct {
	Caption inventory.Label
	Columns []inventory.Label
	// Numeric[i] says column i holds numbers (right-aligned).
	Numeric []bool
	Rows    [][]string
	// Withheld[i] says the guard withheld some of row i's numbers, and
	// Held[i][j] which: a held cell shows the guard's mark, or × for a
	// figure not worked out because an input was withheld.
	Withheld []bool
	Held     [][]bool
	// Query is the guarded slice the table shows, when it shows one.
	Query *slice.Query
}

// Chart is a chart of released numbers. Values that were withheld are
// not in it: a bar chart leaves the label out, a heatmap leaves the cell
// blank.
type Chart struct {
	Title inventory.Label
	Kind  ChartKind
	// Labels are the categories (bars), the points of a line, or a
	// heatmap's columns.
	Labels []string
	// Values are the bar heights or line points, one per label.
	Values []float64
	// Rows and Grid, for a heatmap: Grid[r][c] is row r's value in
	// column c, NaN when withheld.
	Rows []string
	Grid [][]float64
	// Low and High, if set, are an interval around each value (error
	// bars), such as a lift's confidence interval.
	Low, High []float64
	Axis      inventory.Label // what the values are
	Percent   bool            // values are shares, drawn as percentages
}

// ChartKind is how a chart is drawn.
type ChartKind string

const (
	Bars    ChartKind = "bars"    // vertical bars
	HBars   ChartKind = "hbars"   // horizontal bars, for many or long labels
	Line    ChartKind = "line"    // a time series
	Heatmap ChartKind = "heatmap" // two dimensions
)

// both is a label in both languages: "中文 · English".
func both(l inventory.Label) string {
	switch {
	case l.ZH == "" || l.EN == "" || l.ZH == l.EN:
		return l.In("zh")
	}
	return l.ZH + " · " + l.EN
}

func label(zh, en string) inventory.Label { return inventory.Label{ZH: zh, EN: en} }

// mark is how a withheld row's numbers read in a report: <k for too few
// people, 隐藏 · hidden for the guard's other reasons.
func mark(row slice.Row, k int) string {
	if row.Reason == slice.FewPeople {
		return slice.Withheld(k)
	}
	return "隐藏 · hidden"
}

// count writes a head count with thousands separators.
func count(n int64) string { return inventory.Group(strconv.FormatInt(n, 10)) }

// pct writes a share, 0–1, as a percentage with one decimal.
func pct(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(100*v, 'f', 1, 64) + "%"
}
