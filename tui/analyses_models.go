package tui

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/persona-workbench/persona/engine/analysis"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// The analyses tabs of the two analyses that fit a model: segments and
// classification.

func percent(x float64) string { return strconv.FormatFloat(100*x, 'f', 1, 64) + "%" }

func people(n int64) string { return inventory.Group(strconv.FormatInt(n, 10)) }

// segmentLines draw a segmentation: how the number of segments was
// chosen, then two lines per segment — its size, measures and typical
// values of each multi-valued dimension, then the traits it over- and
// under-indexes on.
func (s analysesScreen) segmentLines() []string {
	st, t, lang := s.ctx.st, s.ctx.t, s.ctx.lang
	g := s.segs
	dims := make([]string, len(g.Dims))
	for i, d := range g.Dims {
		dims[i] = d.Label.In(lang)
	}
	sep := ", "
	if lang == "zh" {
		sep = "、"
	}
	count := t.anAuto
	if s.segK > 0 {
		count = strconv.Itoa(s.segK)
	}
	out := []string{
		fit(fmt.Sprintf(" %s · %s · %s %s · k=%d", g.Field.Label.In(lang), strings.Join(dims, sep), t.anPeople, people(g.People), g.MinK), s.width),
		st.Subtle.Render(fit(" "+fmt.Sprintf(t.anSegNote, count), s.width)),
	}
	out = append(out, s.silhouetteLines()...)
	out = append(out, "")

	head := []string{"", t.anPeople, t.anShare}
	for _, m := range g.Measures {
		head = append(head, m.Label.In(lang))
	}
	for _, d := range g.Dims {
		if d.Role == inventory.MultiDimension {
			head = append(head, t.anTopOf+d.Label.In(lang))
		}
	}
	rows := [][]string{head}
	for _, seg := range g.Segments {
		row := g.Cells(seg, lang)
		rows = append(rows, append(row, make([]string, len(head)-len(row))...))
	}
	var b strings.Builder
	slice.WriteColumns(&b, rows, func(i int) bool { return i > 0 && i < 3+len(g.Measures) })
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	out = append(out, st.Header.Render(fit(" "+lines[0], s.width)))
	room := s.height - len(out) - 3 // the title, the tabs and the legend
	indent := strings.Repeat(" ", 3+lipgloss.Width(g.Segments[0].Name))
	for i := min(s.segTop, len(g.Segments)-1); i < len(g.Segments) && room >= 2; i++ {
		seg := g.Segments[i]
		traits := indent + "↑ " + analysis.TraitList(seg.Over(4), analysis.TraitText) + "   ↓ " + analysis.TraitList(seg.Under(3), analysis.TraitText)
		line := " " + lines[i+1]
		if seg.Withheld {
			line = st.Withheld.Render(fit(line, s.width))
			traits = st.Withheld.Render(fit(indent+seg.Reason.Text(lang, g.MinK), s.width))
		}
		out = append(out, line, traits)
		room -= 2
	}
	return append(out, st.Subtle.Render(fit(" "+t.anOverUnder, s.width)))
}

// silhouetteLines show the silhouette of each number of segments tried,
// the chosen one marked: a bar a line on a tall screen, a row of small
// bars otherwise.
func (s analysesScreen) silhouetteLines() []string {
	st, t := s.ctx.st, s.ctx.t
	g := s.segs
	if len(g.Choices) < 2 {
		return []string{fit(fmt.Sprintf(" %s %.3f", t.anSilhouette, g.Choice().Silhouette), s.width)}
	}
	lo, hi := 0.0, 0.0
	for _, c := range g.Choices {
		lo, hi = math.Min(lo, c.Silhouette), math.Max(hi, c.Silhouette)
	}
	share := func(v float64) float64 {
		if hi == lo {
			return 0
		}
		return (v - lo) / (hi - lo)
	}
	if s.height >= 36 {
		out := []string{st.Header.Render(fit(" "+t.anSilhouette, s.width))}
		w := max(10, min(40, s.width-30))
		for _, c := range g.Choices {
			n := int(math.Round(share(c.Silhouette) * float64(w)))
			line := fmt.Sprintf("  %2d %s%s %.3f", c.K, st.Bar.Render(strings.Repeat("█", n)), strings.Repeat(" ", w-n), c.Silhouette)
			if c.K == g.K {
				line = st.Focused.Render(line + " ← " + t.anChosen)
			}
			out = append(out, fit(line, s.width))
		}
		return out
	}
	// Each number's bar and silhouette; when they do not all fit, the
	// others' numbers go and only the chosen one's stays.
	blocks := []rune("▁▂▃▄▅▆▇█")
	line := func(short bool) string {
		parts := []string{" " + t.anSilhouette}
		for _, c := range g.Choices {
			glyph := blocks[int(math.Round(share(c.Silhouette)*float64(len(blocks)-1)))]
			switch {
			case c.K == g.K:
				parts = append(parts, st.Focused.Render(fmt.Sprintf("[%d %c %.2f]", c.K, glyph, c.Silhouette)))
			case short:
				parts = append(parts, fmt.Sprintf("%d %c", c.K, glyph))
			default:
				parts = append(parts, fmt.Sprintf(" %d %c %.2f ", c.K, glyph, c.Silhouette))
			}
		}
		return strings.Join(parts, " ")
	}
	l := line(false)
	if lipgloss.Width(l) > s.width {
		l = line(true)
	}
	return []string{fit(l, s.width)}
}

// classHead is the classification's heading: what is predicted, in
// which population, and what t does.
func (s analysesScreen) classHead() []string {
	st, t, lang := s.ctx.st, s.ctx.t, s.ctx.lang
	c := s.classes
	return []string{
		fit(fmt.Sprintf(" %s%s · %s %s · %s %s · k=%d", t.anTarget, c.Target.Label.In(lang), t.anPeople, people(c.People), t.anHoldout, people(c.Test), c.K), s.width),
		st.Subtle.Render(fit(" "+t.anTargetHelp, s.width)),
	}
}

// classRoom is how many lines of the classification's body show.
func (s analysesScreen) classRoom() int { return max(1, s.height-2-len(s.classHead())) }

// classView draws the classification: the heading, then as much of the
// body as fits from the line scrolled to.
func (s analysesScreen) classView() []string {
	body := s.classLines()
	top := min(s.clsTop, max(0, len(body)-s.classRoom()))
	return append(s.classHead(), body[top:]...)
}

// classLines are the classification's body: both models' holdout
// figures side by side, the features' importance as bars, and the
// tree's leaves as rules.
func (s analysesScreen) classLines() []string {
	st, t, lang := s.ctx.st, s.ctx.t, s.ctx.lang
	c := s.classes
	f3 := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	rows := [][]string{
		{t.anHoldout, t.anTree, t.anLogistic},
		{"AUC", f3(c.TreeMetrics.AUC), f3(c.LogisticMetrics.AUC)},
		{t.anAccuracy, percent(c.TreeMetrics.Accuracy), percent(c.LogisticMetrics.Accuracy)},
		{t.anMajority, percent(c.Majority), percent(c.Majority)},
	}
	var b strings.Builder
	slice.WriteColumns(&b, rows, func(i int) bool { return i > 0 })
	out := []string{""}
	for i, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		if i == 0 {
			l = st.Header.Render(l)
		}
		out = append(out, " "+l)
	}
	out = append(out, fit(" "+t.anBaseRate+" "+percent(c.BaseRate), s.width), "")

	// Importance: the tree's share of its Gini decrease, and the AUC
	// the regression loses without the feature, scaled to the largest.
	label := func(name string) string {
		for _, f := range c.Features {
			if f.Name == name {
				return f.Label.In(lang)
			}
		}
		return name
	}
	labelW := 6
	most := 0.0
	for _, x := range c.Importance {
		labelW = max(labelW, lipgloss.Width(label(x.Feature)))
		most = math.Max(most, x.Logistic)
	}
	labelW = min(labelW, max(12, s.width/5))
	barW := max(4, min(30, (s.width-labelW-2-7-9-4)/2))
	bar := func(share float64) string {
		n := int(math.Round(math.Max(0, math.Min(1, share)) * float64(barW)))
		return st.Bar.Render(strings.Repeat("█", n)) + strings.Repeat(" ", barW-n)
	}
	out = append(out, st.Header.Render(fit(" "+t.anImportance, s.width)),
		st.Subtle.Render(" "+fit("", labelW)+" "+fit(t.anTreeImp, barW+7)+"  "+t.anLogImp))
	for _, x := range c.Importance {
		logistic := 0.0
		if most > 0 {
			logistic = x.Logistic / most
		}
		out = append(out, " "+fit(label(x.Feature), labelW)+" "+bar(x.Tree)+fmt.Sprintf(" %6s", percent(x.Tree))+"  "+
			bar(logistic)+" "+strconv.FormatFloat(x.Logistic, 'f', 4, 64))
	}
	out = append(out, "")

	tr := c.Tree
	out = append(out, st.Header.Render(fit(" "+fmt.Sprintf(t.anLeaves, tr.Depth, len(tr.Leaves)), s.width)))
	// People and rate in columns; the rule after them, wrapped.
	rows = [][]string{{t.anPeople, t.anRate}}
	rules := []string{t.anRule}
	for _, l := range tr.Leaves {
		if l.Withheld {
			why := " (" + l.Reason.Text(lang, c.K) + ")"
			if lang == "zh" {
				why = "（" + l.Reason.Text(lang, c.K) + "）"
			}
			rows = append(rows, []string{slice.Mark(slice.Row{Suppressed: true, Reason: l.Reason}, c.K, lang), "–"})
			rules = append(rules, l.Rule.In(lang)+why)
			continue
		}
		rows = append(rows, []string{people(l.People), percent(l.Rate)})
		rules = append(rules, l.Rule.In(lang))
	}
	b.Reset()
	slice.WriteColumns(&b, rows, func(int) bool { return true })
	for i, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		lead := " " + l + "  "
		indent := strings.Repeat(" ", lipgloss.Width(lead))
		style := lipgloss.NewStyle()
		switch {
		case i == 0:
			style = st.Header
		case tr.Leaves[i-1].Withheld:
			style = st.Withheld
		}
		for j, part := range strings.Split(ansi.Wrap(rules[i], max(10, s.width-lipgloss.Width(lead)), ""), "\n") {
			if j == 0 {
				out = append(out, style.Render(lead+part))
			} else {
				out = append(out, style.Render(indent+part))
			}
		}
	}
	return out
}
