package report

import (
	"bufio"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

//go:embed report.html.tmpl
var htmlTemplate string

// CSP forbids the report any request: styles are inline, charts are
// inline SVG, and nothing else is needed.
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"both": both,
	"zh":   func(l inventory.Label) string { return l.In("zh") },
	"en":   func(l inventory.Label) string { return l.In("en") },
	"same": func(l inventory.Label) bool { return l.ZH == "" || l.EN == "" || l.ZH == l.EN },
	"day":  func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"stamp": func(t time.Time) string {
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"add1": func(i int) int { return i + 1 },
}).Parse(htmlTemplate))

// htmlSection is a section with its charts drawn.
type htmlSection struct {
	Section
	SVGs []template.HTML
}

// WriteHTML writes the report as one self-contained HTML page.
func (r *Report) WriteHTML(w io.Writer) error {
	secs := make([]htmlSection, len(r.Sections))
	for i, s := range r.Sections {
		secs[i].Section = s
		for _, c := range s.Charts {
			svg, err := c.SVG()
			if err != nil {
				return err
			}
			secs[i].SVGs = append(secs[i].SVGs, template.HTML(svg)) // drawn by gonum/plot from released numbers and escaped labels
		}
	}
	bw := bufio.NewWriter(w)
	err := page.Execute(bw, struct {
		*Report
		Secs []htmlSection
		CSP  string
		Mark string
	}{r, secs, CSP, r.Watermark.Line()})
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return bw.Flush()
}

// WriteMarkdown writes the report as Markdown: the same sections and
// tables, without the charts.
func (r *Report) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	p("# %s\n\n", md(both(r.Title)))
	p("> %s · %s\n>\n> %s\n\n", md(r.Dataset.In("zh")), md(r.Dataset.In("en")), md(r.Watermark.Line()))
	for i, s := range r.Sections {
		p("## %d. %s\n\n", i+1, md(both(s.Title)))
		if s.Lead.ZH != "" || s.Lead.EN != "" {
			p("%s\n\n", md(s.Lead.In("zh")))
			if s.Lead.EN != "" && s.Lead.EN != s.Lead.ZH {
				p("%s\n\n", md(s.Lead.In("en")))
			}
		}
		for _, t := range s.Tables {
			if t.Caption.ZH != "" {
				p("**%s**\n\n", md(both(t.Caption)))
			}
			cells := make([]string, len(t.Columns))
			align := make([]string, len(t.Columns))
			for j, c := range t.Columns {
				cells[j] = md(both(c))
				align[j] = "---"
				if j < len(t.Numeric) && t.Numeric[j] {
					align[j] = "---:"
				}
			}
			p("| %s |\n|%s|\n", strings.Join(cells, " | "), strings.Join(align, "|"))
			for _, row := range t.Rows {
				out := make([]string, len(row))
				for j, c := range row {
					out[j] = md(c)
				}
				p("| %s |\n", strings.Join(out, " | "))
			}
			p("\n")
		}
		for _, n := range s.Notes {
			p("- %s", md(n.In("zh")))
			if n.EN != "" && n.EN != n.ZH {
				p("<br>%s", md(n.In("en")))
			}
			p("\n")
		}
		if len(s.Notes) > 0 {
			p("\n")
		}
	}
	t := r.Terms
	p("---\n\n### 许可条款 · Licence terms\n\n")
	p("| | |\n|---|---|\n")
	for _, row := range r.termRows() {
		p("| %s | %s |\n", md(both(row.Label)), md(row.Value))
	}
	if t.Method != "" {
		p("\n%s\n", md(t.Protection("zh")+" · "+t.Protection("en")))
	} else {
		p("\n%s\n", md(fmt.Sprintf("k = %d：少于 %d 人的数字一律不显示。 · Figures resting on fewer than %d people are never shown.", t.K, t.K, t.K)))
	}
	return bw.Flush()
}

// TermRow is one line of the licence terms in a report's footer.
type TermRow struct {
	Label inventory.Label
	Value string
}

func (r *Report) termRows() []TermRow {
	t := r.Terms
	return []TermRow{
		{label("许可编号", "Licence"), r.Watermark.Licence},
		{label("许可方", "Licensor"), t.Licensor},
		{label("被许可方", "Licensee"), t.Licensee},
		{label("用途", "Purpose"), t.Purpose},
		{label("期限", "Period"), t.NotBefore.UTC().Format("2006-01-02") + " – " + t.NotAfter.UTC().Format("2006-01-02")},
		{label("地域", "Region"), t.Region},
		{label("授权人数上限", "Authorised people"), fmt.Sprint(t.MaxPersonnel)},
		{label("隐私门槛 k", "Privacy threshold k"), fmt.Sprint(t.K)},
		{label("保护方法", "Disclosure control"), slice.ProtectionShort(t.Method, t.K, t.Bound, "zh") + " · " + slice.ProtectionShort(t.Method, t.K, t.Bound, "en")},
		{label("删除截止", "Delete by"), t.DeleteBy.UTC().Format("2006-01-02")},
		{label("制作", "Made"), r.Watermark.Person + " · " + r.Watermark.Time.UTC().Format(time.RFC3339) + " · " + r.Watermark.Tool},
	}
}

// TermRows are the licence terms as the footer lists them.
func (r *Report) TermRows() []TermRow { return r.termRows() }

// md escapes text for a Markdown table cell or paragraph: the characters
// that would start markup, and line breaks.
func md(s string) string {
	return strings.NewReplacer(`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "<", `\<`, ">", `\>`, "[", `\[`, "]", `\]`, "#", `\#`, "\n", " ", "\r", " ").Replace(s)
}
