package analysis

import (
	"context"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// LiftOptions describe a campaign-lift run.
type LiftOptions struct {
	// Exposure is the dimension that says who saw the campaign; Exposed
	// and Control are its two values. Empty: the one dimension whose
	// name says exposure, with its ordered values (control, exposed).
	Exposure string `json:"exposure"`
	Exposed  string `json:"exposed"`
	Control  string `json:"control"`
	// Conversion is a rate measure (share); Value, if set, a measure per
	// person (mean), such as GMV per person. Empty: the inventory's
	// first of each kind.
	Conversion string `json:"conversion"`
	Value      string `json:"value,omitempty"`
	// By, if set, breaks the lift down by this dimension's values.
	By string `json:"by,omitempty"`
	// Adjust, if set, compares like with like: within each of this
	// dimension's values, then weighted by the exposed people in each
	// (the effect on the exposed). Exposure is rarely at random; when it
	// favours people who convert more anyway, the plain comparison
	// overstates the effect.
	Adjust string `json:"adjust,omitempty"`
	// AdjustHolding, if set (DIM=VALUE of a multi-valued dimension),
	// splits each stratum further into the people who hold the value
	// and those who do not, such as those who prefer 美妆.
	AdjustHolding string              `json:"adjust_holding,omitempty"`
	Filters       map[string][]string `json:"where,omitempty"`
	Level         float64             `json:"level"` // of the confidence intervals; 0 means 0.95
}

// Arm is one side of a comparison: the exposed or the control group.
type Arm struct {
	People   int64        `json:"people"`
	Rate     float64      `json:"rate"`  // conversion rate, 0–1
	Value    float64      `json:"value"` // the value measure per person
	HasValue bool         `json:"has_value"`
	Withheld bool         `json:"withheld,omitempty"` // a number of this arm was withheld by the guard
	Reason   slice.Reason `json:"-"`
}

// LiftRow compares the arms in one segment ("" is everyone).
type LiftRow struct {
	Segment string `json:"segment"`
	Exposed Arm    `json:"exposed"`
	Control Arm    `json:"control"`
	// OK is false when an arm is withheld, or too small to compare:
	// then only the arms' own shown numbers are filled in.
	OK bool `json:"compared"`
	// Diff is the difference in conversion rate (exposed − control);
	// Lift the relative lift (exposed ÷ control − 1); each with its
	// confidence interval.
	Diff   float64 `json:"diff"`
	DiffLo float64 `json:"diff_lo"`
	DiffHi float64 `json:"diff_hi"`
	Lift   float64 `json:"lift"`
	LiftLo float64 `json:"lift_lo"`
	LiftHi float64 `json:"lift_hi"`
	// ValueDiff and ValueLift compare the value per person.
	ValueDiff float64 `json:"value_diff"`
	ValueLift float64 `json:"value_lift"`
	// Strata and Coverage, when adjusted: the strata compared, and the
	// share of the exposed people in them (strata with a withheld arm
	// are left out).
	Strata   int     `json:"strata,omitempty"`
	Coverage float64 `json:"coverage,omitempty"`
}

// Lift is a campaign-lift run's outcome.
type Lift struct {
	Options              LiftOptions // with the defaults filled in
	Exposure, By, Adjust inventory.Field
	Conversion, Value    inventory.MeasureDef
	K                    int
	Rows                 []LiftRow // everyone first, then By's values

	holdDim, holdValue string // AdjustHolding, parsed
}

// CampaignLift compares the exposed with the others: conversion rate and
// value per person, overall and by segment, with confidence intervals
// for the conversion. Every input is a slice through r.
//
// Intervals are Wald intervals on the log of the rate ratio (the lift)
// and on the difference, from the released rates and head counts; an
// adjusted lift is observed over expected conversions among the exposed
// (expected: each stratum's control rate), with the delta method's
// variance. The value per person has no interval: the guard releases
// means, not spreads.
func CampaignLift(ctx context.Context, r Runner, opt LiftOptions) (*Lift, error) {
	r = internal(r, "lift")
	inv := r.Inventory()
	out := &Lift{K: r.K()}
	if err := out.defaults(inv, &opt); err != nil {
		return nil, err
	}
	out.Options = opt
	z := distuv.UnitNormal.Quantile(1 - (1-opt.Level)/2)

	segments := []string{""}
	if opt.By != "" {
		res, err := r.Run(ctx, slice.Query{Dims: []string{opt.By}, Measure: out.Conversion.Name, Filters: opt.Filters})
		if err != nil {
			return nil, err
		}
		for _, row := range res.Rows {
			segments = append(segments, row.Keys[0])
		}
	}
	for _, seg := range segments {
		filters := map[string][]string{}
		for k, v := range opt.Filters {
			filters[k] = v
		}
		if seg != "" {
			filters[opt.By] = []string{seg}
		}
		filters[opt.Exposure] = []string{opt.Control, opt.Exposed}
		row, err := out.segment(ctx, r, filters, z)
		if err != nil {
			return nil, err
		}
		row.Segment = seg
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}

func (l *Lift) defaults(inv *inventory.Inventory, opt *LiftOptions) error {
	if opt.Level == 0 {
		opt.Level = 0.95
	}
	if opt.Level <= 0 || opt.Level >= 1 {
		return bad("confidence level %g is not between 0 and 1", opt.Level)
	}
	if opt.Exposure == "" {
		for _, d := range inv.Dimensions() {
			if d.Role == inventory.Dimension && strings.Contains(d.Name, "expos") {
				if opt.Exposure != "" {
					return bad("more than one dimension says exposure (%s, %s): name one", opt.Exposure, d.Name)
				}
				opt.Exposure = d.Name
			}
		}
		if opt.Exposure == "" {
			return bad("no dimension says who was exposed to the campaign: name one")
		}
	}
	var ok bool
	if l.Exposure, ok = inv.Field(opt.Exposure); !ok || l.Exposure.Role != inventory.Dimension {
		return bad("%q is not a single-valued dimension", opt.Exposure)
	}
	if opt.Exposed == "" || opt.Control == "" {
		if len(l.Exposure.Order) != 2 {
			return bad("%q does not list its two values in order (control, exposed): name them", opt.Exposure)
		}
		opt.Control, opt.Exposed = l.Exposure.Order[0], l.Exposure.Order[1]
	}
	if opt.Exposed == opt.Control {
		return bad("the exposed and control values are both %q", opt.Exposed)
	}
	pick := func(name string, kind inventory.Kind, what string) (inventory.MeasureDef, error) {
		if name == "" {
			for _, m := range inv.Measures {
				if m.Kind == kind {
					return m, nil
				}
			}
			return inventory.MeasureDef{}, nil
		}
		m, ok := inv.Measure(name)
		if !ok || m.Kind != kind {
			return inventory.MeasureDef{}, bad("%q is not a %s measure (%s)", name, what, kind)
		}
		return m, nil
	}
	var err error
	if l.Conversion, err = pick(opt.Conversion, inventory.Share, "conversion"); err != nil {
		return err
	}
	if l.Conversion.Name == "" {
		return bad("the inventory has no rate measure to compare")
	}
	opt.Conversion = l.Conversion.Name
	if l.Value, err = pick(opt.Value, inventory.Mean, "per-person"); err != nil {
		return err
	}
	opt.Value = l.Value.Name
	for _, d := range []struct {
		name string
		f    *inventory.Field
	}{{opt.By, &l.By}, {opt.Adjust, &l.Adjust}} {
		if d.name == "" {
			continue
		}
		f, ok := inv.Field(d.name)
		if !ok || f.Role != inventory.Dimension {
			return bad("%q is not a single-valued dimension to break down or adjust by", d.name)
		}
		if f.Name == opt.Exposure {
			return bad("%q is the exposure itself", d.name)
		}
		*d.f = f
	}
	if opt.AdjustHolding != "" {
		dim, v, ok := strings.Cut(opt.AdjustHolding, "=")
		f, known := inv.Field(dim)
		if !ok || v == "" || !known || f.Role != inventory.MultiDimension {
			return bad("adjusting by %q: want DIM=VALUE of a multi-valued dimension, such as categories=美妆", opt.AdjustHolding)
		}
		l.holdDim, l.holdValue = dim, v
	}
	if opt.By != "" && opt.By == opt.Adjust {
		return bad("breaking down and adjusting by the same dimension %q compares nothing", opt.By)
	}
	return nil
}

// stratum is one stratum's two arms.
type stratum struct{ exposed, control Arm }

// arms runs the measures by [Adjust,] Exposure under filters and returns
// the strata ("" when not adjusted).
func (l *Lift) arms(ctx context.Context, r Runner, filters, holding map[string][]string) (map[string]*stratum, error) {
	dims := []string{l.Exposure.Name}
	if l.Adjust.Name != "" {
		dims = []string{l.Adjust.Name, l.Exposure.Name}
	}
	strata := map[string]*stratum{}
	at := func(row slice.Row) *Arm {
		key := ""
		if len(row.Keys) == 2 {
			key = row.Keys[0]
		}
		s := strata[key]
		if s == nil {
			s = &stratum{}
			strata[key] = s
		}
		if row.Keys[len(row.Keys)-1] == l.Options.Exposed {
			return &s.exposed
		}
		return &s.control
	}
	conv, err := r.Run(ctx, slice.Query{Dims: dims, Measure: l.Conversion.Name, Filters: filters, Holding: holding})
	if err != nil {
		return nil, err
	}
	for _, row := range conv.Rows {
		a := at(row)
		a.People, a.Rate, a.Withheld, a.Reason = row.People, row.Value, row.Suppressed, row.Reason
	}
	if l.Value.Name != "" {
		val, err := r.Run(ctx, slice.Query{Dims: dims, Measure: l.Value.Name, Filters: filters, Holding: holding})
		if err != nil {
			return nil, err
		}
		for _, row := range val.Rows {
			a := at(row)
			if row.Suppressed {
				a.Withheld, a.Reason = true, row.Reason
				continue
			}
			a.Value, a.HasValue = row.Value, true
		}
	}
	return strata, nil
}

// split returns the strata split by holding: each stratum of the
// holders, and of the others — everyone less the holders, worked out
// from the two released results (so it says nothing they do not).
func (l *Lift) split(ctx context.Context, r Runner, filters map[string][]string) (map[string]*stratum, error) {
	all, err := l.arms(ctx, r, filters, nil)
	if err != nil || l.holdDim == "" {
		return all, err
	}
	h, err := l.arms(ctx, r, filters, map[string][]string{l.holdDim: {l.holdValue}})
	if err != nil {
		return nil, err
	}
	out := map[string]*stratum{}
	for key, s := range all {
		in := h[key]
		if in == nil {
			in = &stratum{}
		}
		out["+"+key] = in
		out["-"+key] = &stratum{exposed: without(s.exposed, in.exposed, l.K), control: without(s.control, in.control, l.K)}
	}
	return out, nil
}

// without is arm a less the people of b (who are among a's).
func without(a, b Arm, k int) Arm {
	if a.Withheld || b.Withheld {
		return Arm{Withheld: true, Reason: max(a.Reason, b.Reason)}
	}
	n := a.People - b.People
	if n < int64(k) {
		return Arm{Withheld: true, Reason: slice.FewPeople}
	}
	out := Arm{People: n, Rate: (a.Rate*float64(a.People) - b.Rate*float64(b.People)) / float64(n)}
	if a.HasValue && (b.HasValue || b.People == 0) {
		out.Value, out.HasValue = (a.Value*float64(a.People)-b.Value*float64(b.People))/float64(n), true
	}
	return out
}

func (l *Lift) segment(ctx context.Context, r Runner, filters map[string][]string, z float64) (LiftRow, error) {
	strata, err := l.split(ctx, r, filters)
	if err != nil {
		return LiftRow{}, err
	}
	var row LiftRow
	usable := func(s *stratum) bool {
		return s != nil && !s.exposed.Withheld && !s.control.Withheld && s.exposed.People > 0 && s.control.People > 0
	}
	if l.Adjust.Name == "" && l.holdDim == "" {
		s := strata[""]
		if s == nil {
			return row, nil
		}
		row.Exposed, row.Control = s.exposed, s.control
		if !usable(s) || s.control.Rate == 0 || s.exposed.Rate == 0 {
			return row, nil
		}
		p1, n1, p0, n0 := s.exposed.Rate, float64(s.exposed.People), s.control.Rate, float64(s.control.People)
		row.OK = true
		row.Diff = p1 - p0
		se := math.Sqrt(p1*(1-p1)/n1 + p0*(1-p0)/n0)
		row.DiffLo, row.DiffHi = row.Diff-z*se, row.Diff+z*se
		lr := math.Log(p1 / p0)
		se = math.Sqrt((1-p1)/(n1*p1) + (1-p0)/(n0*p0))
		row.Lift, row.LiftLo, row.LiftHi = p1/p0-1, math.Exp(lr-z*se)-1, math.Exp(lr+z*se)-1
		if s.exposed.HasValue && s.control.HasValue {
			row.ValueDiff = s.exposed.Value - s.control.Value
			if s.control.Value != 0 {
				row.ValueLift = s.exposed.Value/s.control.Value - 1
			}
		}
		return row, nil
	}

	// Adjusted: observed conversions among the exposed against those
	// expected at each stratum's control rate.
	keys := make([]string, 0, len(strata))
	for k := range strata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var o, e, varO, varE, n1All, n1Used, v1, v0 float64
	var n0Used float64
	valueOK := true
	for _, k := range keys {
		s := strata[k]
		if !s.exposed.Withheld {
			n1All += float64(s.exposed.People)
		}
		if !usable(s) {
			continue
		}
		row.Strata++
		p1, n1, p0, n0 := s.exposed.Rate, float64(s.exposed.People), s.control.Rate, float64(s.control.People)
		n1Used += n1
		n0Used += n0
		o += n1 * p1
		e += n1 * p0
		varO += n1 * p1 * (1 - p1)
		varE += n1 * n1 * p0 * (1 - p0) / n0
		if s.exposed.HasValue && s.control.HasValue {
			v1 += n1 * s.exposed.Value
			v0 += n1 * s.control.Value
		} else {
			valueOK = false
		}
	}
	if n1All > 0 {
		row.Coverage = n1Used / n1All
	}
	row.Exposed = Arm{People: int64(n1Used), HasValue: valueOK && n1Used > 0}
	row.Control = Arm{People: int64(n0Used), HasValue: valueOK && n1Used > 0}
	if n1Used == 0 || o == 0 || e == 0 {
		return row, nil
	}
	row.Exposed.Rate, row.Control.Rate = o/n1Used, e/n1Used // the control rate standardised to the exposed
	if row.Exposed.HasValue {
		row.Exposed.Value, row.Control.Value = v1/n1Used, v0/n1Used
		row.ValueDiff = row.Exposed.Value - row.Control.Value
		if v0 != 0 {
			row.ValueLift = v1/v0 - 1
		}
	}
	row.OK = true
	row.Diff = (o - e) / n1Used
	se := math.Sqrt(varO+varE) / n1Used
	row.DiffLo, row.DiffHi = row.Diff-z*se, row.Diff+z*se
	lr := math.Log(o / e)
	se = math.Sqrt(varO/(o*o) + varE/(e*e))
	row.Lift, row.LiftLo, row.LiftHi = o/e-1, math.Exp(lr-z*se)-1, math.Exp(lr+z*se)-1
	return row, nil
}
