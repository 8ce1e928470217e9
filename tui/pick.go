package tui

import (
	"context"
	"slices"
	"strconv"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// pickerValuesMsg carries a dimension's values, with their head counts,
// for the filter picker.
type pickerValuesMsg struct {
	seq int
	dim inventory.Field
	res *slice.Result
	err error
}

// capturing reports whether keys are being typed into the slicer's
// picker, so the app's own keys (q, S, V…) must not act on them.
func (s slicer) capturing() bool { return s.picker.Active() || s.picking != nil }

// openPicker fetches the highlighted dimension's values — through the
// guard, as a count by that dimension, so the picker shows only what a
// slice would — and opens the picker on them.
func (s slicer) openPicker() (slicer, tea.Cmd) {
	if s.focus != focusDims || len(s.dims) == 0 || s.picking != nil {
		return s, nil
	}
	d := s.dims[s.cursor]
	s.picking = &d
	s.pickSeq++
	q := slice.Query{Dims: []string{d.Name}, Measure: s.countMeasure()}
	b, seq := s.backend, s.pickSeq
	return s, func() tea.Msg {
		res, err := b.Run(context.Background(), q)
		return pickerValuesMsg{seq: seq, dim: d, res: res, err: err}
	}
}

// countMeasure is the measure that counts people, or the first one.
func (s *slicer) countMeasure() string {
	for _, m := range s.measures {
		if m.Kind == inventory.Count {
			return m.Name
		}
	}
	return s.measures[0].Name
}

func (s slicer) pickerValues(msg pickerValuesMsg) slicer {
	if msg.seq != s.pickSeq || s.picking == nil {
		return s // given up with esc
	}
	s.picking = nil
	if msg.err != nil {
		s.err = msg.err
		return s
	}
	var values []pickerValue
	for _, r := range msg.res.Rows {
		note := ""
		switch {
		case r.Suppressed:
			note = slice.Mark(r, msg.res.K, s.ctx.lang)
		case msg.res.Measure.Kind == inventory.Count:
			note = inventory.Group(strconv.FormatInt(r.People, 10))
		}
		values = append(values, pickerValue{Value: r.Keys[0], Note: note})
	}
	if o := msg.dim.Order; len(o) > 0 {
		// An ordinal dimension's values keep their order.
		slices.SortStableFunc(values, func(a, b pickerValue) int {
			return rank(o, a.Value) - rank(o, b.Value)
		})
	}
	var selected []string
	for _, f := range s.filters {
		if f.dim.Name == msg.dim.Name {
			selected = f.values
		}
	}
	s.picker.Open(msg.dim.Label.In(s.ctx.lang), values, selected)
	s.pickDim = msg.dim
	return s
}

// rank is v's place in order, values not in it last.
func rank(order []string, v string) int {
	if i := slices.Index(order, v); i >= 0 {
		return i
	}
	return len(order)
}

// pick passes a key to the picker; when it applies, the chosen values
// become the dimension's filter (none: no filter on it), as a step.
func (s slicer) pick(msg tea.KeyMsg) (slicer, tea.Cmd) {
	var chosen []string
	var done, applied bool
	s.picker, chosen, done, applied = s.picker.Update(msg)
	if !done || !applied {
		return s, nil
	}
	d := s.pickDim
	at := slices.IndexFunc(s.filters, func(f filter) bool { return f.dim.Name == d.Name })
	var now []string
	if at >= 0 {
		now = s.filters[at].values
	}
	if slices.Equal(now, chosen) {
		return s, nil
	}
	s.step()
	switch {
	case len(chosen) == 0:
		s.filters = slices.Delete(s.filters, at, at+1)
	case at >= 0:
		s.filters[at].values = chosen
	default:
		s.filters = append(s.filters, filter{dim: d, values: chosen})
	}
	s.fitMeasure(1)
	return s, s.run()
}
