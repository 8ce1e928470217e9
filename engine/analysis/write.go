package analysis

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

func pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func words(lang string, zh, en string) string {
	if lang == "zh" {
		return zh
	}
	return en
}

// WriteTable writes the rules for people, the first top (0: all).
func (r *Rules) WriteTable(w io.Writer, lang string, top int) error {
	fmt.Fprintf(w, "%s%s · %s %s · k=%d · %s %s\n", words(lang, "关联规则：", "Association rules: "), r.Dim.Label.In(lang),
		words(lang, "人群", "population"), inventory.Group(strconv.FormatInt(r.People, 10)), r.K,
		words(lang, "最小支持人数", "minimum support"), inventory.Group(strconv.FormatInt(r.MinSupport, 10)))
	rows := [][]string{{words(lang, "如果", "if"), words(lang, "那么", "then"), words(lang, "人数", "people"),
		words(lang, "支持度", "support"), words(lang, "置信度", "confidence"), words(lang, "提升度", "lift")}}
	for i, x := range r.Rules {
		if top > 0 && i == top {
			break
		}
		rows = append(rows, []string{slice.KeyLabel(x.If), slice.KeyLabel(x.Then), inventory.Group(strconv.FormatInt(x.People, 10)),
			pct(x.Support), pct(x.Confidence), strconv.FormatFloat(x.Lift, 'f', 2, 64)})
	}
	if err := slice.WriteColumns(w, rows, func(i int) bool { return i >= 2 }); err != nil {
		return err
	}
	shown := len(r.Rules)
	if top > 0 {
		shown = min(shown, top)
	}
	_, err := fmt.Fprintf(w, words(lang, "显示 %d 条规则（共 %d 条）；%d 对中 %d 对被隐私保护隐藏\n", "%d of %d rules shown; %d of %d pairs withheld by the privacy guard\n"),
		shown, len(r.Rules), r.Withheld, r.Pairs)
	return err
}

// WriteCSV writes the rules for other programs: inventory names, plain
// numbers (support and confidence 0–1).
func (r *Rules) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"if", "then", "people", "support", "confidence", "lift"})
	for _, x := range r.Rules {
		cw.Write([]string{x.If, x.Then, strconv.FormatInt(x.People, 10), num(x.Support), num(x.Confidence), num(x.Lift)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the run: the items, every rule, the counts.
func (r *Rules) WriteJSON(w io.Writer) error {
	type item struct {
		Value    string `json:"value"`
		People   *int64 `json:"people"`
		Withheld bool   `json:"withheld,omitempty"`
		Reason   string `json:"reason,omitempty"`
	}
	type rule struct {
		If         string  `json:"if"`
		Then       string  `json:"then"`
		People     int64   `json:"people"`
		Support    float64 `json:"support"`
		Confidence float64 `json:"confidence"`
		Lift       float64 `json:"lift"`
	}
	out := struct {
		Analysis   string `json:"analysis"`
		Dim        string `json:"dimension"`
		People     int64  `json:"people"`
		K          int    `json:"k"`
		MinSupport int64  `json:"min_support"`
		Pairs      int    `json:"pairs"`
		Withheld   int    `json:"pairs_withheld"`
		Items      []item `json:"items"`
		Rules      []rule `json:"rules"`
	}{Analysis: "rules", Dim: r.Dim.Name, People: r.People, K: r.K, MinSupport: r.MinSupport, Pairs: r.Pairs, Withheld: r.Withheld,
		Items: []item{}, Rules: []rule{}}
	for _, it := range r.Items {
		x := item{Value: it.Value, Withheld: it.Withheld}
		if it.Withheld {
			x.Reason = it.Reason.String()
		} else {
			n := it.People
			x.People = &n
		}
		out.Items = append(out.Items, x)
	}
	for _, x := range r.Rules {
		out.Rules = append(out.Rules, rule(x))
	}
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(out)
}

// Cells are a row's texts: segment, both arms' people and rates,
// difference and lift with intervals, both values and their difference.
func (l *Lift) Cells(x LiftRow, lang string) []string {
	seg := x.Segment
	if seg == "" {
		seg = words(lang, "全部", "everyone")
	}
	arm := func(a Arm) (string, string, string) {
		if a.Withheld {
			m := slice.Mark(slice.Row{Suppressed: true, Reason: a.Reason}, l.K, lang)
			return m, m, m
		}
		v := "–"
		if a.HasValue {
			v = l.Value.Format(a.Value)
		}
		return inventory.Group(strconv.FormatInt(a.People, 10)), l.Conversion.Format(a.Rate), v
	}
	n1, r1, v1 := arm(x.Exposed)
	n0, r0, v0 := arm(x.Control)
	diff, lift, vd := "×", "×", "×"
	if x.OK {
		pp := func(v float64) string { return strconv.FormatFloat(100*v, 'f', 2, 64) }
		diff = fmt.Sprintf("%spp [%s, %s]", signed(100*x.Diff), pp(x.DiffLo), pp(x.DiffHi))
		lift = fmt.Sprintf("%s [%s, %s]", signedPct(x.Lift), pct(x.LiftLo), pct(x.LiftHi))
		vd = "–"
		if x.Exposed.HasValue {
			vd = signedValue(l.Value, x.ValueDiff)
		}
	}
	out := []string{seg, n1, r1, n0, r0, diff, lift}
	if l.Value.Name != "" {
		out = append(out, v1, v0, vd)
	}
	return out
}

func signed(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if v >= 0 {
		s = "+" + s
	}
	return s
}

func signedPct(v float64) string {
	s := pct(v)
	if v >= 0 {
		s = "+" + s
	}
	return s
}

func signedValue(m inventory.MeasureDef, v float64) string {
	if v < 0 {
		return "−" + m.Format(-v)
	}
	return "+" + m.Format(v)
}

// WriteTable writes the comparison for people.
func (l *Lift) WriteTable(w io.Writer, lang string) error {
	o := l.Options
	title := fmt.Sprintf("%s%s %s %s · %s · %s", words(lang, "活动提升：", "Campaign lift: "), o.Exposed, words(lang, "对比", "against"), o.Control,
		l.Exposure.Label.In(lang), l.Conversion.Label.In(lang))
	if l.Adjust.Name != "" || o.AdjustHolding != "" {
		by := l.Adjust.Label.In(lang)
		if o.AdjustHolding != "" {
			if by != "" {
				by += " × "
			}
			by += o.AdjustHolding
		}
		title += fmt.Sprintf(" · %s%s", words(lang, "分层调整：", "adjusted within "), by)
	}
	fmt.Fprintf(w, "%s · k=%d · %s %.0f%%\n", title, l.K, words(lang, "置信水平", "confidence level"), 100*o.Level)
	seg := words(lang, "人群", "segment")
	if l.By.Name != "" {
		seg = l.By.Label.In(lang)
	}
	head := []string{seg, o.Exposed + words(lang, " 人数", " people"), o.Exposed, o.Control + words(lang, " 人数", " people"), o.Control,
		words(lang, "差值", "difference"), words(lang, "提升", "lift")}
	if l.Value.Name != "" {
		head = append(head, o.Exposed+" "+l.Value.Label.In(lang), o.Control+" "+l.Value.Label.In(lang), words(lang, "差值", "difference"))
	}
	rows := [][]string{head}
	for _, x := range l.Rows {
		rows = append(rows, l.Cells(x, lang))
	}
	return slice.WriteColumns(w, rows, func(i int) bool { return i > 0 })
}

// WriteCSV writes the comparison for other programs: plain numbers,
// rates 0–1, empty where withheld or not compared.
func (l *Lift) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"segment", "exposed_people", "exposed_rate", "control_people", "control_rate", "diff", "diff_lo", "diff_hi",
		"lift", "lift_lo", "lift_hi", "exposed_value", "control_value", "value_diff", "compared"})
	for _, x := range l.Rows {
		arm := func(a Arm) (string, string, string) {
			if a.Withheld {
				return "", "", ""
			}
			v := ""
			if a.HasValue {
				v = num(a.Value)
			}
			return strconv.FormatInt(a.People, 10), num(a.Rate), v
		}
		n1, r1, v1 := arm(x.Exposed)
		n0, r0, v0 := arm(x.Control)
		rec := []string{x.Segment, n1, r1, n0, r0, "", "", "", "", "", "", v1, v0, "", strconv.FormatBool(x.OK)}
		if x.OK {
			copy(rec[5:11], []string{num(x.Diff), num(x.DiffLo), num(x.DiffHi), num(x.Lift), num(x.LiftLo), num(x.LiftHi)})
			if x.Exposed.HasValue {
				rec[13] = num(x.ValueDiff)
			}
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the run with its options.
func (l *Lift) WriteJSON(w io.Writer) error {
	out := struct {
		Analysis string      `json:"analysis"`
		Options  LiftOptions `json:"options"`
		K        int         `json:"k"`
		Rows     []LiftRow   `json:"rows"`
	}{"lift", l.Options, l.K, l.Rows}
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(out)
}
