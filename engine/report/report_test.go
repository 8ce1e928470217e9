package report_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/persona-workbench/persona/engine/analysis"
	"github.com/persona-workbench/persona/engine/dataset"
	"github.com/persona-workbench/persona/engine/guard"
	"github.com/persona-workbench/persona/engine/report"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/engine/store"
	"github.com/persona-workbench/persona/engine/views"
	"github.com/persona-workbench/persona/sample"
)

// The tests run on the demo sample at the size and k of the guard's
// attack suite (engine/guard): 20,000 records, k = 10, where many
// province × level groups are below k.
const (
	rows = 20_000
	k    = 10
)

var (
	once  sync.Once
	ds    *dataset.Dataset
	dsErr error
)

func data(t *testing.T) *dataset.Dataset {
	t.Helper()
	once.Do(func() {
		r, err := sample.NewReader(context.Background(), sample.Options{Rows: rows, Seed: sample.DefaultSeed})
		if err != nil {
			dsErr = err
			return
		}
		defer r.Release()
		ds, dsErr = dataset.OpenArrow(context.Background(), sample.Inventory(rows, sample.DefaultSeed), r, dataset.Options{K: k, Store: store.Options{Threads: 2}})
	})
	if dsErr != nil {
		t.Fatal(dsErr)
	}
	return ds
}

// fresh is a guard of its own, with a release history shared by the
// runs of one test.
func fresh(t *testing.T) *guard.Engine {
	t.Helper()
	d := data(t)
	cols, err := d.Store().Columns(context.Background(), d.Inventory.Table)
	if err != nil {
		t.Fatal(err)
	}
	g, err := guard.New(d.Store(), d.Inventory, cols, k)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

var mark = report.Watermark{Licence: "LIC-TEST-0001", Licensee: "示例品牌有限公司", Person: "王分析", Time: time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC), Tool: "persona test"}

func build(t *testing.T, g analysis.Runner, filters map[string][]string, vs []views.View) *report.Report {
	t.Helper()
	r := &report.Report{Title: report.BrandTitle, Watermark: mark, K: k, Terms: report.Terms{Licensee: mark.Licensee, K: k, Purpose: "测量品牌活动效果"}}
	var err error
	if vs == nil {
		r.Sections, err = report.Brand(context.Background(), g, filters, nil)
	} else {
		r.Sections, err = report.Views(context.Background(), g, vs, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// write writes the report in both formats and returns the files' text.
func write(t *testing.T, r *report.Report) (htmlText, mdText string) {
	t.Helper()
	var h, m bytes.Buffer
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteMarkdown(&m); err != nil {
		t.Fatal(err)
	}
	return h.String(), m.String()
}

var (
	trRe   = regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`)
	tdRe   = regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)
	tagRe  = regexp.MustCompile(`<[^>]+>`)
	svgRe  = regexp.MustCompile(`(?s)<svg.*?</svg>`)
	textRe = regexp.MustCompile(`(?s)<text[^>]*>(.*?)</text>`)
)

// htmlRows returns the cells of every body row of every table in a
// page, as text.
func htmlRows(page string) [][]string {
	var out [][]string
	for _, tr := range trRe.FindAllStringSubmatch(page, -1) {
		var cells []string
		for _, td := range tdRe.FindAllStringSubmatch(tr[1], -1) {
			cells = append(cells, html.UnescapeString(tagRe.ReplaceAllString(td[1], "")))
		}
		if len(cells) > 0 {
			out = append(out, cells)
		}
	}
	return out
}

// mdRows returns the cells of every table row in Markdown, unescaped.
func mdRows(doc string) [][]string {
	var out [][]string
	unesc := regexp.MustCompile(`\\(.)`)
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		line = strings.TrimSuffix(strings.TrimPrefix(line, "| "), " |")
		parts := regexp.MustCompile(`([^\\])\s\|\s`).ReplaceAllString(line, "$1\x00")
		var cells []string
		for _, c := range strings.Split(parts, "\x00") {
			cells = append(cells, unesc.ReplaceAllString(c, "$1"))
		}
		out = append(out, cells)
	}
	return out
}

// contains reports whether rows holds row.
func contains(rows [][]string, row []string) bool {
	for _, r := range rows {
		if strings.Join(r, "\x00") == strings.Join(row, "\x00") {
			return true
		}
	}
	return false
}

// number parses a written number: thousands separators, a percent sign.
func number(s string) (float64, bool) {
	s = strings.ReplaceAll(s, ",", "")
	scale := 1.0
	if strings.HasSuffix(s, "%") {
		s, scale = strings.TrimSuffix(s, "%"), 0.01
	}
	v, err := strconv.ParseFloat(s, 64)
	return v * scale, err == nil
}

// TestReportNumbersEqualEngine: every table in the brand report and in
// a report of saved views is in both files as the model holds it, and
// each table that shows a slice shows the numbers the engine releases
// for that slice when asked again.
func TestReportNumbersEqualEngine(t *testing.T) {
	g := fresh(t)
	vs := []views.View{
		{Name: "省份 GMV", Dims: []string{"province"}, Measure: "gmv", Order: "value-desc"},
		{Name: "年龄 × 性别", Dims: []string{"age_band", "gender"}, Measure: "conversion_rate"},
		{Name: "月度订单", Dims: []string{"month"}, Measure: "orders", Filters: map[string][]string{"categories": {"美妆"}}},
	}
	for _, c := range []struct {
		name string
		vs   []views.View
	}{{"brand", nil}, {"views", vs}} {
		t.Run(c.name, func(t *testing.T) {
			r := build(t, g, nil, c.vs)
			page, doc := write(t, r)
			hr, mr := htmlRows(page), mdRows(doc)
			tables, sliced := 0, 0
			for _, s := range r.Sections {
				for _, tb := range s.Tables {
					tables++
					for _, row := range tb.Rows {
						if !contains(hr, row) {
							t.Errorf("%s: row %q is not in the HTML", s.ID, row)
						}
						if !contains(mr, row) {
							t.Errorf("%s: row %q is not in the Markdown", s.ID, row)
						}
					}
					if tb.Query == nil {
						continue
					}
					sliced++
					res, err := g.Run(context.Background(), *tb.Query)
					if err != nil {
						t.Fatal(err)
					}
					for i, row := range res.Rows {
						cells := tb.Rows[i]
						for j, key := range row.Keys {
							if cells[j] != slice.KeyLabel(key) {
								t.Fatalf("%s row %d: key %q, the engine has %q", s.ID, i, cells[j], key)
							}
						}
						if row.Suppressed != tb.Withheld[i] {
							t.Fatalf("%s row %q: withheld %v, the engine says %v", s.ID, cells, tb.Withheld[i], row.Suppressed)
						}
						if row.Suppressed {
							continue
						}
						v, ok := number(cells[len(row.Keys)])
						tol := 0.5 * math.Pow(10, -float64(res.Measure.Decimals))
						if res.Measure.Percent {
							tol /= 100
						}
						if !ok && row.Defined() || ok && math.Abs(v-row.Value) > tol+1e-12 {
							t.Errorf("%s row %q: value %q, the engine releases %v", s.ID, cells, cells[len(row.Keys)], row.Value)
						}
						if res.ShowsPeople() {
							if p, _ := number(cells[len(row.Keys)+1]); int64(p) != row.People {
								t.Errorf("%s row %q: people %q, the engine releases %d", s.ID, cells, cells[len(row.Keys)+1], row.People)
							}
						}
					}
				}
			}
			if tables < 3 || sliced < 2 {
				t.Fatalf("%d tables, %d of slices: the report is missing sections", tables, sliced)
			}
		})
	}
}

// TestBrandLiftEqualsAnalysis: the report's lift table shows what the
// campaign-lift analysis finds.
func TestBrandLiftEqualsAnalysis(t *testing.T) {
	g := fresh(t)
	r := build(t, g, nil, nil)
	l, err := analysis.CampaignLift(context.Background(), g, analysis.LiftOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Sections {
		if s.ID != "lift" {
			continue
		}
		got := s.Tables[0].Rows[0]
		want := l.Cells(l.Rows[0], "zh")
		if strings.Join(got[1:], "|") != strings.Join(want[1:], "|") {
			t.Fatalf("lift row %q, the analysis finds %q", got, want)
		}
		return
	}
	t.Fatal("no lift section")
}

// smallGroup finds a province and member level with 1..k-1 people, as
// the attack suite's secret group.
func smallGroup(t *testing.T) (string, string, int64) {
	t.Helper()
	var p, l string
	var n int64
	rs, err := data(t).Store().QueryContext(context.Background(), fmt.Sprintf(`SELECT province, member_level, count(*) AS n FROM personas
		GROUP BY ALL HAVING count(*) BETWEEN 2 AND %d ORDER BY n DESC, 1, 2 LIMIT 1`, k-1))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if !rs.Next() {
		t.Fatal("no group of fewer than k people")
	}
	if err := rs.Scan(&p, &l, &n); err != nil {
		t.Fatal(err)
	}
	return p, l, n
}

// TestNoWithheldValueInFiles scans every export and report over slices
// that hold groups of fewer than k people: each row the guard withholds
// is written with the guard's mark and no number, in every format, and
// no chart draws it.
func TestNoWithheldValueInFiles(t *testing.T) {
	g := fresh(t)
	P, L, n := smallGroup(t)
	t.Logf("secret group %s × %s: %d people (k=%d)", P, L, n, k)
	tiny := map[string][]string{"province": {P}}
	vs := []views.View{
		{Name: "省份 × 会员", Dims: []string{"province", "member_level"}, Measure: "people"},
		{Name: "小省会员", Dims: []string{"member_level"}, Measure: "gmv", Filters: tiny},
		{Name: "小省品类", Dims: []string{"categories"}, Measure: "conversion_rate", Filters: tiny},
		{Name: "小省月份", Dims: []string{"month", "member_level"}, Measure: "orders", Filters: tiny},
	}
	reports := map[string]*report.Report{"views": build(t, g, nil, vs), "brand in " + P: build(t, g, tiny, nil)}
	withheld := 0
	for name, r := range reports {
		page, doc := write(t, r)
		hr, mr := htmlRows(page), mdRows(doc)
		for _, s := range r.Sections {
			// The text drawn by this section's charts.
			var svgText strings.Builder
			start := strings.Index(page, `<section id="`+s.ID+`">`)
			end := start + strings.Index(page[start:], "</section>")
			for _, svg := range svgRe.FindAllString(page[start:end], -1) {
				for _, m := range textRe.FindAllStringSubmatch(svg, -1) {
					svgText.WriteString(html.UnescapeString(m[1]) + "\n")
				}
			}
			for _, tb := range s.Tables {
				for i, row := range tb.Rows {
					if !tb.Withheld[i] {
						continue
					}
					withheld++
					for j, c := range row {
						if tb.Held[i][j] && c != "" && !strings.HasPrefix(c, "<") && !strings.Contains(c, "hidden") && c != "×" {
							t.Errorf("%s/%s: withheld cell %d of row %q has a number", name, s.ID, j, row)
						}
					}
					if !contains(hr, row) || !contains(mr, row) {
						t.Errorf("%s/%s: withheld row %q is not written as withheld", name, s.ID, row)
					}
				}
				// A one-dimension slice's chart draws released rows only.
				if tb.Query != nil && len(tb.Query.Dims) == 1 {
					for i, row := range tb.Rows {
						if tb.Withheld[i] && !strings.Contains(row[0], "·") && !released(tb, row[0]) && strings.Contains(svgText.String(), row[0]+"\n") {
							t.Errorf("%s/%s: the chart draws withheld %q", name, s.ID, row[0])
						}
					}
				}
			}
		}
	}
	if withheld < 5 {
		t.Fatalf("only %d withheld rows: the fixtures do not test suppression", withheld)
	}

	// Exports of the slice that holds the secret group.
	res, err := g.Run(context.Background(), slice.Query{Dims: []string{"member_level"}, Measure: "gmv", Filters: tiny, Totals: true})
	if err != nil {
		t.Fatal(err)
	}
	secret := -1
	for i, row := range res.Rows {
		if row.Keys[0] == L {
			secret = i
		}
	}
	if secret < 0 || !res.Rows[secret].Suppressed {
		t.Fatalf("%s × %s is not withheld: %+v", P, L, res.Rows)
	}
	for _, format := range report.ExportFormats {
		var b bytes.Buffer
		if err := report.WriteExport(&b, res, mark, format); err != nil {
			t.Fatal(err)
		}
		got := readExport(t, b.Bytes(), format)
		for _, row := range got {
			if row["member_level"] == L && row["kind"] == "cell" {
				if row["gmv"] != "" || row["people"] != "" || row["withheld"] != "true" {
					t.Errorf("%s export: withheld %s × %s reads %v", format, P, L, row)
				}
			}
		}
	}
}

func released(tb report.Table, key string) bool {
	for i, row := range tb.Rows {
		if row[0] == key && !tb.Withheld[i] {
			return true
		}
	}
	return false
}

// readExport reads an export back as rows of column → text, and checks
// the watermark is in it.
func readExport(t *testing.T, data []byte, format string) []map[string]string {
	t.Helper()
	var out []map[string]string
	switch format {
	case "csv":
		var body []string
		marked := false
		for _, line := range strings.SplitAfter(string(data), "\n") {
			if strings.HasPrefix(line, "#") {
				marked = marked || strings.Contains(line, "persona.licence: "+mark.Licence)
				continue
			}
			body = append(body, line)
		}
		if !marked {
			t.Errorf("CSV export has no watermark")
		}
		recs, err := csv.NewReader(strings.NewReader(strings.Join(body, ""))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs[1:] {
			m := map[string]string{}
			for i, h := range recs[0] {
				m[h] = r[i]
			}
			out = append(out, m)
		}
	case "json":
		var doc struct {
			Watermark report.Watermark `json:"watermark"`
			Result    struct {
				Rows []struct {
					Keys     map[string]string `json:"keys"`
					Value    *float64          `json:"value"`
					People   *int64            `json:"people"`
					Withheld bool              `json:"withheld"`
				} `json:"rows"`
			} `json:"result"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Watermark.Licence != mark.Licence || doc.Watermark.Person != mark.Person {
			t.Errorf("JSON watermark %+v", doc.Watermark)
		}
		for _, r := range doc.Result.Rows {
			m := map[string]string{"kind": "cell", "withheld": strconv.FormatBool(r.Withheld), "gmv": "", "people": ""}
			for k, v := range r.Keys {
				m[k] = v
			}
			if r.Value != nil {
				m["gmv"] = strconv.FormatFloat(*r.Value, 'f', -1, 64)
			}
			if r.People != nil {
				m["people"] = strconv.FormatInt(*r.People, 10)
			}
			out = append(out, m)
		}
	case "parquet":
		pf, err := file.NewParquetReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if v := pf.MetaData().KeyValueMetadata().FindValue("persona.licence"); v == nil || *v != mark.Licence {
			t.Errorf("Parquet metadata has no watermark")
		}
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := fr.ReadTable(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer tbl.Release()
		n := int(tbl.NumRows())
		out = make([]map[string]string, n)
		for i := range out {
			out[i] = map[string]string{}
		}
		for c := 0; c < int(tbl.NumCols()); c++ {
			col := tbl.Column(c)
			i := 0
			for _, chunk := range col.Data().Chunks() {
				for j := 0; j < chunk.Len(); j++ {
					v := ""
					if chunk.IsValid(j) {
						v = chunk.ValueStr(j)
					}
					out[i][col.Name()] = v
					i++
				}
			}
		}
	}
	return out
}

// TestExportsEqualResult: each export reads back as the result: every
// row, its keys, value, people and withheld flag.
func TestExportsEqualResult(t *testing.T) {
	g := fresh(t)
	res, err := g.Run(context.Background(), slice.Query{Dims: []string{"age_band", "gender"}, Measure: "gmv", Totals: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range report.ExportFormats {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := report.WriteExport(&b, res, mark, format); err != nil {
				t.Fatal(err)
			}
			got := readExport(t, b.Bytes(), format)
			if len(got) < len(res.Rows) {
				t.Fatalf("%d rows read back, the result has %d", len(got), len(res.Rows))
			}
			for i, row := range res.Rows {
				r := got[i]
				if r["age_band"] != row.Keys[0] || r["gender"] != row.Keys[1] {
					t.Fatalf("row %d: keys %v, want %v", i, r, row.Keys)
				}
				if row.Suppressed {
					if r["gmv"] != "" || r["withheld"] != "true" {
						t.Errorf("row %d withheld but reads %v", i, r)
					}
					continue
				}
				v, _ := strconv.ParseFloat(r["gmv"], 64)
				p, _ := strconv.ParseInt(r["people"], 10, 64)
				if v != row.Value || p != row.People {
					t.Errorf("row %d: %v, the engine releases %v and %d", i, r, row.Value, row.People)
				}
			}
		})
	}
}

// TestPublish: a file is written whole, recorded before it takes its
// name, never half-written, and an existing one is kept unless asked.
func TestPublish(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	var recorded report.Written
	w, err := report.Publish(path, false, func(w io.Writer) error { _, err := io.WriteString(w, "a,b\n"); return err },
		func(x report.Written) error {
			if _, err := os.Stat(path); err == nil {
				t.Error("the file took its name before it was recorded")
			}
			recorded = x
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if w != recorded || w.Size != 4 || w.SHA256 != fmt.Sprintf("%x", sha256.Sum256([]byte("a,b\n"))) {
		t.Fatalf("written %+v, recorded %+v", w, recorded)
	}
	if _, err := report.Publish(path, false, func(io.Writer) error { return nil }, nil); !errors.Is(err, report.ErrExists) {
		t.Fatalf("overwrote without asking: %v", err)
	}
	for name, c := range map[string]struct {
		write  func(io.Writer) error
		record func(report.Written) error
	}{
		"write fails":  {func(w io.Writer) error { io.WriteString(w, "half"); return errors.New("boom") }, nil},
		"record fails": {func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err }, func(report.Written) error { return errors.New("log full") }},
	} {
		p := filepath.Join(dir, name+".csv")
		if _, err := report.Publish(p, false, c.write, c.record); err == nil {
			t.Errorf("%s: no error", name)
		}
		left, _ := filepath.Glob(filepath.Join(dir, "*"+name+"*"))
		if len(left) > 0 {
			t.Errorf("%s: left %v behind", name, left)
		}
	}
}
