package tui

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/persona-workbench/persona/engine/analysis"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// OnAnalysis, if set, hears of each analysis run, for the usage log:
// what was asked and what was found, or the error.
type OnAnalysis func(rec map[string]any)

// analysisMsg carries an analysis's outcome; seq ties it to the run.
type analysisMsg struct {
	seq      int
	rules    *analysis.Rules
	lift     *analysis.Lift
	segments *analysis.Segments
	classes  *analysis.Classification
	err      error
}

// anTab is one of the screen's tabs, in the order tab steps through.
type anTab int

const (
	tabRules anTab = iota
	tabLift
	tabSegments
	tabClassify
	anTabs // how many there are
)

// classTarget is a target the classify tab offers.
type classTarget struct {
	spec  string // as analysis.ClassifyOptions.Target takes it
	label inventory.Label
}

// maxSegments is the most segments n offers; 0 stands for auto.
const maxSegments = 8

// analysesScreen runs the analyses on the open data: association rules
// between the values of a multi-valued dimension (a ranked table and a
// lift heatmap), the campaign's lift by segment (an interval chart), a
// segmentation (whose segments become a dimension to slice by) and a
// classification (a tree and a logistic regression side by side).
// Every number comes from guarded slices, as everywhere else.
type analysesScreen struct {
	ctx     *shared
	backend Backend
	report  OnAnalysis

	tab     anTab
	multi   []inventory.Field
	single  []inventory.Field
	itemDim int // index into multi
	by      int // index into single, -1: everyone only
	adjust  int // index into single, -1: not adjusted
	segK    int // segments asked for, 0: chosen by the silhouette
	targets []classTarget
	target  int // index into targets
	running bool
	cancel  context.CancelFunc
	seq     int
	done    int
	total   int
	rules   *analysis.Rules
	result  *analysis.Lift
	segs    *analysis.Segments
	classes *analysis.Classification
	err     error
	top     int // first rule shown
	segTop  int // first segment shown
	clsTop  int // first line of the classification shown
	// sliceBy is the segment dimension enter asked to slice by, taken
	// by the app.
	sliceBy  string
	width    int
	height   int
	heat     heatmap
	heatView string
}

func newAnalysesScreen(ctx *shared, b Backend, report OnAnalysis) analysesScreen {
	s := analysesScreen{ctx: ctx, backend: b, report: report, by: -1, adjust: -1}
	if b == nil {
		return s
	}
	inv := b.Inventory()
	for _, d := range inv.Dimensions() {
		switch d.Role {
		case inventory.MultiDimension:
			s.multi = append(s.multi, d)
		case inventory.Dimension:
			s.single = append(s.single, d)
		}
	}
	s.targets = classTargets(inv)
	return s
}

// classTargets are the targets a classification can predict: each
// yes/no field, then, for each ordered single-valued dimension, its
// upper half of values (the frequent buyers, the higher levels).
func classTargets(inv *inventory.Inventory) []classTarget {
	var out []classTarget
	for _, f := range inv.Fields {
		if f.Role == inventory.Measure && f.Type == "BOOLEAN" {
			out = append(out, classTarget{spec: f.Name, label: f.Label})
		}
	}
	for _, f := range inv.Fields {
		if f.Role != inventory.Dimension || len(f.Order) < 2 || strings.HasPrefix(f.Name, slice.SegmentPrefix) {
			continue
		}
		upper := f.Order[len(f.Order)/2:]
		out = append(out, classTarget{spec: f.Name + "=" + strings.Join(upper, ","), label: inventory.Label{
			ZH: f.Label.In("zh") + "：" + strings.Join(upper, "、"),
			EN: f.Label.In("en") + ": " + strings.Join(upper, ", "),
		}})
	}
	return out
}

// busy reports whether keys other than esc should wait.
func (s analysesScreen) busy() bool { return s.running }

// shown reports whether the current tab has a result to show.
func (s analysesScreen) shown() bool {
	switch s.tab {
	case tabLift:
		return s.result != nil
	case tabSegments:
		return s.segs != nil
	case tabClassify:
		return s.classes != nil
	}
	return s.rules != nil
}

// take returns the dimension the analyst asked to slice by, once.
func (s *analysesScreen) take() (string, bool) {
	name := s.sliceBy
	s.sliceBy = ""
	return name, name != ""
}

// start runs the current tab's analysis in a command; progress comes
// back through a channel the screen keeps reading.
func (s *analysesScreen) start() tea.Cmd {
	s.stop()
	s.seq++
	s.err, s.done, s.total = nil, 0, 0
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.running = cancel, true
	seq, b, report := s.seq, s.backend, s.report
	tell, progress := progressFeed(toAnalyses, seq)
	var run func() analysisMsg
	switch s.tab {
	case tabLift:
		opt := analysis.LiftOptions{}
		if s.by >= 0 {
			opt.By = s.single[s.by].Name
		}
		if s.adjust >= 0 {
			opt.Adjust = s.single[s.adjust].Name
		}
		run = func() analysisMsg {
			res, err := analysis.CampaignLift(ctx, b, opt)
			rec := map[string]any{"analysis": "lift", "options": opt, "source": "tui"}
			if err == nil {
				rec["options"], rec["rows"] = res.Options, len(res.Rows)
			}
			return finish(seq, report, rec, err, analysisMsg{seq: seq, lift: res, err: err})
		}
	case tabSegments:
		opt := analysis.SegmentOptions{K: s.segK, Progress: tell}
		run = func() analysisMsg {
			res, err := analysis.Segmentation(ctx, b, opt)
			rec := map[string]any{"analysis": "segments", "dims": opt.Dims, "k": opt.K, "source": "tui"}
			if err == nil {
				dims := make([]string, len(res.Dims))
				for i, d := range res.Dims {
					dims[i] = d.Name
				}
				rec["dims"], rec["dimension"], rec["segments"], rec["silhouette"] = dims, res.Field.Name, res.K, res.Choice().Silhouette
			}
			return finish(seq, report, rec, err, analysisMsg{seq: seq, segments: res, err: err})
		}
	case tabClassify:
		if len(s.targets) == 0 {
			s.stop()
			s.running, s.err = false, fmt.Errorf("%s", s.ctx.t.anNoTarget)
			return nil
		}
		opt := analysis.ClassifyOptions{Target: s.targets[s.target].spec, Progress: tell}
		run = func() analysisMsg {
			res, err := analysis.Classify(ctx, b, opt)
			rec := map[string]any{"analysis": "classify", "target": opt.Target, "source": "tui"}
			if err == nil {
				rec["leaves"], rec["tree_auc"], rec["logistic_auc"] = len(res.Tree.Leaves), res.TreeMetrics.AUC, res.LogisticMetrics.AUC
			}
			return finish(seq, report, rec, err, analysisMsg{seq: seq, classes: res, err: err})
		}
	default:
		if len(s.multi) == 0 {
			s.stop()
			s.running, s.err = false, fmt.Errorf("%s", s.ctx.t.anNoMulti)
			return nil
		}
		opt := analysis.RulesOptions{Dim: s.multi[s.itemDim].Name, Progress: tell}
		run = func() analysisMsg {
			res, err := analysis.AssociationRules(ctx, b, opt)
			rec := map[string]any{"analysis": "rules", "dim": opt.Dim, "source": "tui"}
			if err == nil {
				rec["rules"], rec["pairs"], rec["pairs_withheld"] = len(res.Rules), res.Pairs, res.Withheld
			}
			return finish(seq, report, rec, err, analysisMsg{seq: seq, rules: res, err: err})
		}
	}
	return tea.Batch(func() tea.Msg { m := run(); close(progress); return m }, waitProgress(progress))
}

// finish reports a run for the usage log.
func finish(seq int, report OnAnalysis, rec map[string]any, err error, m analysisMsg) analysisMsg {
	if err != nil {
		rec["error"] = err.Error()
	}
	if report != nil && !strings.Contains(fmt.Sprint(err), "context canceled") {
		report(rec)
	}
	return m
}

func (s *analysesScreen) stop() {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
}

// Update handles runs, progress and keys.
func (s analysesScreen) Update(msg tea.Msg) (analysesScreen, tea.Cmd) {
	switch msg := msg.(type) {
	case progressMsg:
		if msg.seq != s.seq || !s.running {
			return s, nil
		}
		s.done, s.total = msg.done, msg.total
		return s, waitProgress(msg.next)
	case analysisMsg:
		if msg.segments != nil && msg.err == nil {
			// The segments are a dimension now, for the lift's
			// breakdown too, even from a run no longer shown.
			s.addDim(msg.segments.Field)
		}
		if msg.seq != s.seq {
			return s, nil
		}
		s.running = false
		s.stop()
		s.err = msg.err
		if msg.err == nil {
			if msg.rules != nil {
				s.rules, s.top = msg.rules, 0
			}
			if msg.lift != nil {
				s.result = msg.lift
			}
			if msg.segments != nil {
				s.segs, s.segTop = msg.segments, 0
			}
			if msg.classes != nil {
				s.classes, s.clsTop = msg.classes, 0
			}
		}
		s.redraw()
		return s, nil
	case tea.KeyMsg:
		return s.key(msg)
	}
	return s, nil
}

func (s analysesScreen) key(msg tea.KeyMsg) (analysesScreen, tea.Cmd) {
	k := s.ctx.keys
	switch {
	case key.Matches(msg, k.Cancel):
		if s.running {
			s.stop()
			s.seq++
			s.running, s.err = false, fmt.Errorf("%s", s.ctx.t.cancelled)
		}
		return s, nil
	case key.Matches(msg, k.Focus), key.Matches(msg, k.FocusBack):
		// Another tab gives up the run under way, if any: only one
		// runs at a time.
		if s.running {
			s.stop()
			s.seq++
			s.running = false
		}
		step := anTab(1)
		if key.Matches(msg, k.FocusBack) {
			step = anTabs - 1
		}
		s.tab = (s.tab + step) % anTabs
		s.err = nil
		if !s.shown() {
			return s, s.start()
		}
		s.redraw()
		return s, nil
	case key.Matches(msg, k.Refresh):
		return s, s.start()
	}
	// The keys that change what is asked start it again, even while a
	// run is under way; the others wait for it.
	switch s.tab {
	case tabRules:
		if key.Matches(msg, k.AnDim) && len(s.multi) > 1 {
			s.itemDim = (s.itemDim + 1) % len(s.multi)
			return s, s.start()
		}
	case tabLift:
		switch {
		case key.Matches(msg, k.AnBy):
			s.by = cycleDim(s.by, len(s.single), s.adjust)
			return s, s.start()
		case key.Matches(msg, k.AnAdjust):
			s.adjust = cycleDim(s.adjust, len(s.single), s.by)
			return s, s.start()
		}
	case tabSegments:
		if key.Matches(msg, k.AnK) {
			// auto, 2, 3, … maxSegments, auto
			s.segK = max(2, s.segK+1)
			if s.segK > maxSegments {
				s.segK = 0
			}
			return s, s.start()
		}
	case tabClassify:
		if key.Matches(msg, k.AnTarget) && len(s.targets) > 1 {
			s.target = (s.target + 1) % len(s.targets)
			return s, s.start()
		}
	}
	if s.running {
		return s, nil
	}
	down := key.Matches(msg, k.Down)
	switch {
	case s.tab == tabSegments && key.Matches(msg, k.AnSlice) && s.segs != nil:
		s.sliceBy = s.segs.Field.Name
	case !down && !key.Matches(msg, k.Up):
	case s.tab == tabRules && s.rules != nil:
		s.top = scroll(s.top, down, len(s.rules.Rules))
	case s.tab == tabSegments && s.segs != nil:
		s.segTop = scroll(s.segTop, down, len(s.segs.Segments))
	case s.tab == tabClassify && s.classes != nil:
		s.clsTop = scroll(s.clsTop, down, len(s.classLines())-s.classRoom()+1)
	}
	return s, nil
}

// scroll moves the first of n things shown one up or down.
func scroll(top int, down bool, n int) int {
	if down {
		return min(top+1, max(0, n-1))
	}
	return max(0, top-1)
}

// addDim adds a derived dimension to those the lift can be broken down
// by.
func (s *analysesScreen) addDim(f inventory.Field) {
	if !slices.ContainsFunc(s.single, func(d inventory.Field) bool { return d.Name == f.Name }) {
		s.single = append(s.single, f)
	}
}

// cycleDim steps a dimension choice through none and each index but
// skip.
func cycleDim(at, n, skip int) int {
	for i := 0; i <= n; i++ {
		at++
		if at >= n {
			return -1
		}
		if at != skip {
			return at
		}
	}
	return -1
}

// SetSize sets the area the screen draws in.
func (s *analysesScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.redraw()
}

// redraw draws the lift heatmap of the rules, which changes only with
// the result or the size.
func (s *analysesScreen) redraw() {
	s.heatView = ""
	r := s.rules
	if r == nil || len(r.Lifts) == 0 || s.width < 60 {
		return
	}
	// The heatmap is drawn from a two-dimension result whose cells are
	// the pairs' lifts: if (rows) by then (columns).
	res := &slice.Result{
		Dims:    []inventory.Field{r.Dim, r.Dim},
		Measure: inventory.MeasureDef{Name: "lift", Kind: inventory.Ratio, Decimals: 2},
		K:       r.K,
	}
	for _, a := range r.Items {
		for _, b := range r.Items {
			if a.Value == b.Value {
				continue
			}
			if l, ok := r.Lifts[[2]string{a.Value, b.Value}]; ok {
				res.Rows = append(res.Rows, slice.Row{Keys: []string{a.Value, b.Value}, Value: l, People: int64(r.K)})
			} else if !a.Withheld && a.People >= r.MinSupport {
				res.Rows = append(res.Rows, slice.Row{Keys: []string{a.Value, b.Value}, Suppressed: true, Reason: slice.FewPeople})
			}
		}
	}
	h := max(4, s.height/2-2)
	s.heat.SetSize(s.width, h)
	s.heat.Set(res, 0, "", s.ctx.st, s.ctx.t)
	s.heatView = s.heat.View()
}

// View draws the current tab.
func (s analysesScreen) View() string {
	st, t := s.ctx.st, s.ctx.t
	tabs := []string{t.anRules, t.anLift, t.anSegments, t.anClassify}
	for i := range tabs {
		if anTab(i) == s.tab {
			tabs[i] = st.Focused.Render("[" + tabs[i] + "]")
		} else {
			tabs[i] = st.Subtle.Render(" " + tabs[i] + " ")
		}
	}
	lines := []string{s.ctx.titleBar(st.Title, " Persona Workbench │ "+t.anTitle, s.width), " " + strings.Join(tabs, "  ")}
	switch {
	case s.running:
		p := t.loading
		if s.total > 0 {
			p = fmt.Sprintf(t.anProgress, s.done, s.total)
		}
		if s.tab == tabClassify && len(s.targets) > 0 {
			// t may have moved on: say what this run predicts.
			p = t.anTarget + s.targets[s.target].label.In(s.ctx.lang) + " · " + p
		}
		lines = append(lines, "", fit(" "+p, s.width))
	case s.err != nil:
		lines = append(lines, "", st.Error.Render(fit(" "+firstLine(s.err.Error()), s.width)))
	case s.tab == tabLift && s.result != nil:
		lines = append(lines, s.liftLines()...)
	case s.tab == tabRules && s.rules != nil:
		lines = append(lines, s.ruleLines()...)
	case s.tab == tabSegments && s.segs != nil:
		lines = append(lines, s.segmentLines()...)
	case s.tab == tabClassify && s.classes != nil:
		lines = append(lines, s.classView()...)
	}
	return block(lines, s.width, s.height)
}

func (s analysesScreen) ruleLines() []string {
	st, t, lang := s.ctx.st, s.ctx.t, s.ctx.lang
	r := s.rules
	out := []string{fit(fmt.Sprintf(" %s · %s %s · k=%d · %s", r.Dim.Label.In(lang), t.anPeople, inventory.Group(strconv.FormatInt(r.People, 10)), r.K,
		fmt.Sprintf(t.anWithheld, r.Withheld, r.Pairs)), s.width), ""}
	if s.heatView != "" {
		out = append(out, st.Header.Render(" "+t.anHeat))
		out = append(out, strings.Split(s.heatView, "\n")...)
		out = append(out, "")
	}
	rows := [][]string{{t.anIf, t.anThen, t.anPeople, t.anSupport, t.anConfidence, t.anLiftCol}}
	room := max(1, s.height-len(out)-2)
	for _, x := range r.Rules[min(s.top, len(r.Rules)):] {
		if len(rows) > room {
			break
		}
		rows = append(rows, []string{slice.KeyLabel(x.If), slice.KeyLabel(x.Then), inventory.Group(strconv.FormatInt(x.People, 10)),
			fmt.Sprintf("%.1f%%", 100*x.Support), fmt.Sprintf("%.1f%%", 100*x.Confidence), fmt.Sprintf("%.2f", x.Lift)})
	}
	var b strings.Builder
	slice.WriteColumns(&b, rows, func(i int) bool { return i >= 2 })
	for i, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		if i == 0 {
			l = st.Header.Render(l)
		}
		out = append(out, " "+l)
	}
	return out
}

// liftLines draw each segment's lift as an interval on one axis: the
// interval as ─, the estimate as ●, zero as │; then the numbers.
func (s analysesScreen) liftLines() []string {
	st, t, lang := s.ctx.st, s.ctx.t, s.ctx.lang
	l := s.result
	o := l.Options
	head := fmt.Sprintf(" %s %s %s · %s", o.Exposed, t.anAgainst, o.Control, l.Conversion.Label.In(lang))
	if l.By.Name != "" {
		head += " · " + t.by + " " + l.By.Label.In(lang)
	}
	if l.Adjust.Name != "" {
		head += " · " + t.anAdjusted + " " + l.Adjust.Label.In(lang)
	}
	out := []string{fit(head, s.width), ""}
	lo, hi := 0.0, 0.0
	for _, r := range l.Rows {
		if r.OK {
			lo, hi = math.Min(lo, r.LiftLo), math.Max(hi, r.LiftHi)
		}
	}
	labelW := 8
	for _, r := range l.Rows {
		labelW = max(labelW, lipgloss.Width(s.segment(r.Segment)))
	}
	labelW = min(labelW, s.width/4)
	numW := 30
	axisW := max(10, s.width-labelW-numW-4)
	pos := func(v float64) int {
		if hi == lo {
			return 0
		}
		return min(axisW-1, max(0, int(math.Round((v-lo)/(hi-lo)*float64(axisW-1)))))
	}
	for _, r := range l.Rows {
		if len(out) >= s.height-2 {
			break
		}
		axis := []rune(strings.Repeat(" ", axisW))
		axis[pos(0)] = '│'
		text := st.Withheld.Render("× " + t.withheld)
		if r.OK {
			for i := pos(r.LiftLo); i <= pos(r.LiftHi); i++ {
				axis[i] = '─'
			}
			axis[pos(r.Lift)] = '●'
			text = fmt.Sprintf("%+.1f%% [%.1f, %.1f]", 100*r.Lift, 100*r.LiftLo, 100*r.LiftHi)
		}
		out = append(out, " "+fit(s.segment(r.Segment), labelW)+" "+st.Bar.Render(string(axis))+"  "+text)
	}
	out = append(out, st.Subtle.Render(fit(fmt.Sprintf(" %s %.1f%% … %.1f%% · │ 0 · ● %s · ─ %s", t.anAxis, 100*lo, 100*hi, t.anLiftCol, t.anInterval), s.width)))
	return out
}

func (s analysesScreen) segment(seg string) string {
	if seg == "" {
		return s.ctx.t.everyone
	}
	return slice.KeyLabel(seg)
}

// ShortHelp implements help.KeyMap.
func (s analysesScreen) ShortHelp() []key.Binding {
	k := s.ctx.keys
	switch s.tab {
	case tabLift:
		return []key.Binding{k.Focus, k.AnBy, k.AnAdjust, k.Refresh, k.Cancel, k.Quit}
	case tabSegments:
		return []key.Binding{k.Focus, k.AnK, k.AnSlice, k.Down, k.Refresh, k.Cancel, k.Quit}
	case tabClassify:
		return []key.Binding{k.Focus, k.AnTarget, k.Down, k.Refresh, k.Cancel, k.Quit}
	}
	return []key.Binding{k.Focus, k.AnDim, k.Down, k.Refresh, k.Cancel, k.Quit}
}

// FullHelp implements help.KeyMap.
func (s analysesScreen) FullHelp() [][]key.Binding {
	k := s.ctx.keys
	return [][]key.Binding{s.ShortHelp(), {k.FocusBack, k.Up, k.Down}}
}
