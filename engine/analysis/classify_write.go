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

// topCoefficients is how many logistic coefficients a table shows.
const topCoefficients = 10

func (c *Classification) label(name, lang string) string {
	for _, f := range c.Features {
		if f.Name == name {
			return f.Label.In(lang)
		}
	}
	return name
}

func peopleText(n int64) string { return inventory.Group(strconv.FormatInt(n, 10)) }

// WriteTable writes the run for people: the target and population, both
// models' holdout figures side by side, the features' importance, the
// tree's leaves as rules and the largest logistic coefficients.
func (c *Classification) WriteTable(w io.Writer, lang string) error {
	fmt.Fprintf(w, "%s%s · %s %s · k=%d · %s\n", words(lang, "分类：", "Classification: "), c.Target.Label.In(lang),
		words(lang, "人群", "population"), peopleText(c.People), c.K,
		fmt.Sprintf(words(lang, "留出集 %s 人（%d 折之 1）", "holdout %s people (1 fold of %d)"), peopleText(c.Test), classifyFolds))
	fmt.Fprintln(w)
	f3 := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	rows := [][]string{
		{words(lang, "留出集", "holdout"), words(lang, "决策树", "tree"), words(lang, "逻辑回归", "logistic")},
		{"AUC", f3(c.TreeMetrics.AUC), f3(c.LogisticMetrics.AUC)},
		{words(lang, "准确率（阈值 0.5）", "accuracy (at 0.5)"), pct(c.TreeMetrics.Accuracy), pct(c.LogisticMetrics.Accuracy)},
		{words(lang, "多数类准确率", "majority class"), pct(c.Majority), pct(c.Majority)},
	}
	if err := slice.WriteColumns(w, rows, func(i int) bool { return i > 0 }); err != nil {
		return err
	}
	fmt.Fprintf(w, words(lang, "留出集中符合目标的比例 %s\n\n", "base rate in the holdout %s\n\n"), pct(c.BaseRate))

	rows = [][]string{{words(lang, "特征", "feature"), words(lang, "决策树（基尼下降占比）", "tree (share of Gini decrease)"),
		words(lang, "逻辑回归（留出集 AUC 损失）", "logistic (holdout AUC lost)")}}
	for _, x := range c.Importance {
		rows = append(rows, []string{c.label(x.Feature, lang), pct(x.Tree), strconv.FormatFloat(x.Logistic, 'f', 4, 64)})
	}
	if err := slice.WriteColumns(w, rows, func(i int) bool { return i > 0 }); err != nil {
		return err
	}
	fmt.Fprintln(w)

	t := c.Tree
	fmt.Fprintf(w, words(lang, "决策树：深度 %d，每个叶子至少 %s 名训练集用户，%d 个叶子\n", "Tree: depth %d, at least %s training people per leaf, %d leaves\n"),
		t.Depth, peopleText(t.MinLeaf), len(t.Leaves))
	rows = [][]string{{words(lang, "人数", "people"), words(lang, "比例", "rate"), words(lang, "预测", "prediction"), words(lang, "规则", "rule")}}
	for _, l := range t.Leaves {
		if l.Withheld {
			m := slice.Mark(slice.Row{Suppressed: true, Reason: l.Reason}, c.K, lang)
			rows = append(rows, []string{m, "–", "–", l.Rule.In(lang) + words(lang, "（", " (") + l.Reason.Text(lang, c.K) + words(lang, "）", ")")})
			continue
		}
		rows = append(rows, []string{peopleText(l.People), pct(l.Rate), pct(l.Prediction), l.Rule.In(lang)})
	}
	if err := slice.WriteColumns(w, rows, func(i int) bool { return i < 3 }); err != nil {
		return err
	}
	fmt.Fprintln(w)

	lg := c.Logistic
	shown := min(len(lg.Coefficients), topCoefficients)
	fmt.Fprintf(w, words(lang, "逻辑回归：%d 个系数中最大的 %d 个，截距 %s\n", "Logistic regression: the largest %[2]d of %[1]d coefficients, intercept %[3]s\n"),
		len(lg.Coefficients), shown, f3(lg.Intercept))
	rows = [][]string{{words(lang, "特征", "feature"), words(lang, "水平", "level"), words(lang, "对照", "against"),
		words(lang, "系数", "coefficient"), words(lang, "优势比", "odds ratio")}}
	for _, x := range lg.Coefficients[:shown] {
		ref := slice.KeyLabel(x.Reference)
		if x.Multi {
			ref = words(lang, "不含", "not held")
		}
		rows = append(rows, []string{c.label(x.Feature, lang), slice.KeyLabel(x.Level), ref, f3(x.Coefficient), strconv.FormatFloat(x.OddsRatio, 'f', 2, 64)})
	}
	return slice.WriteColumns(w, rows, func(i int) bool { return i > 2 })
}

// WriteCSV writes the tree's leaves for other programs: the rule in
// words (English and Chinese), plain numbers (rates 0–1), empty where
// withheld, with the reason.
func (c *Classification) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"rule", "rule_zh", "people", "rate", "prediction", "reason"})
	for _, l := range c.Tree.Leaves {
		if l.Withheld {
			cw.Write([]string{l.Rule.EN, l.Rule.ZH, "", "", "", l.Reason.String()})
			continue
		}
		cw.Write([]string{l.Rule.EN, l.Rule.ZH, strconv.FormatInt(l.People, 10), num(l.Rate), num(l.Prediction), ""})
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the whole run: options, target, both models with
// their holdout figures, the importance of each feature.
func (c *Classification) WriteJSON(w io.Writer) error {
	type leaf struct {
		Conditions []Condition     `json:"conditions"`
		Rule       inventory.Label `json:"rule"`
		People     *int64          `json:"people"`
		Rate       *float64        `json:"rate"`
		Prediction *float64        `json:"prediction"`
		Withheld   bool            `json:"withheld,omitempty"`
		Reason     string          `json:"reason,omitempty"`
	}
	type tree struct {
		Depth    int     `json:"depth"`
		MaxDepth int     `json:"max_depth"`
		MinLeaf  int64   `json:"min_leaf"`
		Metrics  Metrics `json:"metrics"`
		Leaves   []leaf  `json:"leaves"`
	}
	type logistic struct {
		Logistic
		Metrics Metrics `json:"metrics"`
	}
	out := struct {
		Analysis   string          `json:"analysis"`
		Options    ClassifyOptions `json:"options"`
		Target     string          `json:"target"`
		Label      inventory.Label `json:"target_label"`
		K          int             `json:"k"`
		People     int64           `json:"people"`
		Train      int64           `json:"train"`
		Test       int64           `json:"test"`
		BaseRate   float64         `json:"base_rate"`
		Majority   float64         `json:"majority_accuracy"`
		Features   []string        `json:"features"`
		Tree       tree            `json:"tree"`
		Logistic   logistic        `json:"logistic"`
		Importance []Importance    `json:"importance"`
	}{Analysis: "classify", Options: c.Options, Target: c.Target.Spec, Label: c.Target.Label, K: c.K, People: c.People,
		Train: c.Train, Test: c.Test, BaseRate: c.BaseRate, Majority: c.Majority, Features: []string{},
		Tree:     tree{Depth: c.Tree.Depth, MaxDepth: c.Tree.MaxDepth, MinLeaf: c.Tree.MinLeaf, Metrics: c.TreeMetrics, Leaves: []leaf{}},
		Logistic: logistic{c.Logistic, c.LogisticMetrics}, Importance: c.Importance}
	for _, f := range c.Features {
		out.Features = append(out.Features, f.Name)
	}
	for _, l := range c.Tree.Leaves {
		x := leaf{Conditions: l.Conditions, Rule: l.Rule, Withheld: l.Withheld}
		if l.Withheld {
			x.Reason = l.Reason.String()
		} else {
			n, r, p := l.People, l.Rate, l.Prediction
			x.People, x.Rate, x.Prediction = &n, &r, &p
		}
		out.Tree.Leaves = append(out.Tree.Leaves, x)
	}
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(out)
}
