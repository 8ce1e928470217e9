package guard

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/persona-workbench/persona/engine/ckm"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// KeyColumn names the records' key column, which a data set opened
// under the cell key method carries (dataset.Options.KeySeed). Its colon
// cannot occur in an inventory name, so no field can take it, and no
// query can name it: keys never leave the engine.
const KeyColumn = ":key"

var colKey = quote(KeyColumn)

// The summary's columns for the cell key method: a group's key (colKey,
// the sum of its records' keys), and for each measure field the key of
// its contributors and its largest absolute contribution, over all
// periods (0) or one (1-based).
func nzKeyCol(i, period int) string {
	return quote("m" + strconv.Itoa(i) + ":nzkey:" + strconv.Itoa(period))
}
func topCol(i, period int) string {
	return quote("m" + strconv.Itoa(i) + ":top:" + strconv.Itoa(period))
}

// perturbation is the cell key method in force: its parameters and
// perturbation table.
type perturbation struct {
	params ckm.Params
	table  *ckm.Table
}

// The methods an engine can apply (licence.Perturb, licence.Suppress).
const (
	MethodPerturb  = "perturb"
	MethodSuppress = "suppress"
)

// Perturb makes the engine release every number adjusted by the cell key
// method with these parameters, instead of checking results against the
// release history: consistent noise, the same for the same people
// however they are asked for, by whoever asks. The data must carry
// record keys (KeyColumn). Call it before the first Run.
func (e *Engine) Perturb(p ckm.Params) error {
	if !e.keyed {
		return fmt.Errorf("the data has no record keys, which perturbation needs")
	}
	t, err := ckm.NewTable(p)
	if err != nil {
		return err
	}
	if p.D >= e.k {
		return fmt.Errorf("perturbation bound d = %d must be below k = %d", p.D, e.k)
	}
	e.pert.Store(&perturbation{params: p, table: t})
	return nil
}

// Method returns the disclosure control in force: MethodPerturb or
// MethodSuppress.
func (e *Engine) Method() string {
	if e.pert.Load() != nil {
		return MethodPerturb
	}
	return MethodSuppress
}

// Perturbation returns the parameters and table of the cell key method
// in force, or false under MethodSuppress.
func (e *Engine) Perturbation() (ckm.Params, *ckm.Table, bool) {
	if p := e.pert.Load(); p != nil {
		return p.params, p.table, true
	}
	return ckm.Params{}, nil, false
}

// cellKeys is what the cell key method needs of a cell, besides its
// head count: the sums of its records' keys (see cellKey), its
// contributors' keys for each measure field, and each field's largest
// absolute contribution and exact sum. None of it leaves the guard.
type cellKeys struct {
	all, x, y  float64 // sums of record keys (see cellKey)
	topX, topY sql.NullFloat64
	sumX, sumY sql.NullFloat64
}

// KeyBits is the width of a record's key: keys are whole numbers below
// 2^KeyBits, held as DOUBLE, and a cell's key is their sum modulo
// 2^KeyBits. Sums of such keys stay exact in a double for up to 2^33
// records.
const KeyBits = 20

// cellKey is the cell key of a sum of record keys.
func cellKey(sum float64) uint64 {
	return uint64(math.Mod(sum, 1<<KeyBits))
}

// count adjusts the head count n of a set of people whose key is key:
// the same people always get the same adjustment.
func (p *perturbation) count(n int64, key uint64) int64 {
	if n <= 0 {
		return 0
	}
	return n + p.table.Adjust(n, ckm.Draw(key, n, "count"))
}

// magnitude adjusts the sum of a field over a set of contributors (key
// key, count contributors) whose largest contribution is top, of values
// that are multiples of quantum (1 for whole numbers; 0: no known step).
// The draw is made from the contributors and the exact sum, not from how
// the query was written: the same people with the same sum (the year,
// or every month but one in which nobody bought) get the same number;
// another sum over them (the year against half of it) another draw.
func (p *perturbation) magnitude(field string, sum float64, top sql.NullFloat64, contributors int64, key uint64, quantum float64) float64 {
	if !top.Valid || top.Float64 == 0 {
		return sum
	}
	// The noise moves in steps of top/D. Below the values' own quantum
	// (a sum of ones has top 1: steps of a sixth), rounding a difference
	// of two sums would give back the exact count behind it: the steps
	// are at least one quantum.
	scale := max(math.Abs(top.Float64), quantum*float64(p.params.D)/p.params.Mult)
	noise := p.table.Magnitude(scale, ckm.Draw(key, contributors, "sum:"+field+":"+canonical(sum, quantum)))
	if quantum > 0 {
		// A whole number of quanta, so a sum of quanta stays one and is
		// never left on the edge of a rounding step.
		noise = math.Round(noise/quantum) * quantum
	}
	v := sum + noise
	// DuckDB adds up decimal values in no fixed order, so an exact sum
	// may differ in its last bits from one run, or one workspace, to the
	// next. Rounded to its quantum (a sum of quanta plus a whole number
	// of quanta lies on the quantum's grid, far from a rounding edge),
	// or without one to 9 significant digits (an edge is then hit only
	// by chance), the released sum is the same every time. Rounding a
	// sum on the grid to a coarser step would meet ties (…5) as often as
	// one time in ten, and its last bits would decide them.
	return settle(v, quantum)
}

// settle rounds v to a multiple of quantum, or to 9 significant digits
// when quantum is 0.
func settle(v, quantum float64) float64 {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	if quantum > 0 {
		return math.Round(v/quantum) * quantum
	}
	step := math.Pow(10, math.Floor(math.Log10(math.Abs(v)))-8)
	return math.Round(v/step) * step
}

// quantum returns the step of a measure field's values, worked out from
// the data once: 1 when every value is a whole number, 0.01 when every
// value is a whole number of hundredths, else 0 (no step). The noise of
// a sum moves in whole steps, so that rounding a difference of two sums
// to the data's own step cannot take it off; a step read from the type
// alone would miss whole numbers stored as DOUBLE.
func (e *Engine) quantum(ctx context.Context, field string) (float64, error) {
	if field == "" {
		return 0, nil
	}
	if q, ok := e.quanta.Load(field); ok {
		return q.(float64), nil
	}
	f, ok := e.Inventory().Field(field)
	if !ok {
		return 0, fmt.Errorf("unknown field %q", field)
	}
	q := 0.0
	switch t := strings.TrimSuffix(f.Type, "[]"); {
	case t == "BOOLEAN":
	case strings.Contains(t, "INT"):
		q = 1
	default:
		v := "t." + quote(f.Name)
		from := quote(e.Inventory().Table) + " AS t"
		if strings.HasSuffix(f.Type, "[]") {
			from += ", unnest(t." + quote(f.Name) + ") AS u(v)"
			v = "u.v"
		}
		rows, err := e.db.QueryContext(ctx, fmt.Sprintf("SELECT count(*) FILTER (WHERE %[1]s <> round(%[1]s)), count(*) FILTER (WHERE abs(%[1]s * 100 - round(%[1]s * 100)) > 1e-6) FROM %[2]s", v, from))
		if err != nil {
			return 0, fmt.Errorf("the step of %s: %w", f.Name, err)
		}
		var frac, cents int64
		for rows.Next() {
			err = rows.Scan(&frac, &cents)
		}
		if err == nil {
			err = rows.Err()
		}
		rows.Close()
		if err != nil {
			return 0, fmt.Errorf("the step of %s: %w", f.Name, err)
		}
		switch {
		case frac == 0:
			q = 1
		case cents == 0:
			q = 0.01
		}
	}
	e.quanta.Store(field, q)
	return q, nil
}

// canonical writes an exact sum the same way whatever order DuckDB added
// it up in: in quanta, or to 9 significant digits.
func canonical(sum, quantum float64) string {
	if quantum > 0 {
		return strconv.FormatFloat(math.Round(sum/quantum), 'f', 0, 64)
	}
	return strconv.FormatFloat(sum, 'g', 9, 64)
}

// perturb adjusts every cell of t, then withholds what the adjusted
// numbers do not allow: a head count below k, and a value resting on
// fewer than k people (both as adjusted). An adjusted count below k is
// never shown, so a count is never shown as its true size below k.
//
// quanta are the steps of the measure's field and over field (see
// Engine.quantum). An adjusted count of contributors of 0 makes a sum
// of 0: the cell is released as if nobody had contributed, as a count
// adjusted to 0 would be, so nothing decided on exact numbers shows.
func (t *table) perturb(p *perturbation, pl *plan, quanta [2]float64) {
	m := pl.m
	qx, qy := quanta[0], quanta[1]
	for _, c := range t.cells {
		ck := c.ck
		all, kx, ky := cellKey(ck.all), cellKey(ck.x), cellKey(ck.y)
		people := p.count(c.people, all)
		var contrib int64
		value := sql.NullFloat64{}
		switch m.Kind {
		case inventory.Count:
			value = sql.NullFloat64{Float64: float64(people), Valid: true}
		case inventory.Sum, inventory.Mean:
			contrib = p.count(c.cx, kx)
			x := 0.0
			if contrib > 0 && ck.sumX.Valid {
				x = p.magnitude(m.Field, ck.sumX.Float64, ck.topX, c.cx, kx, qx)
			}
			if m.Kind == inventory.Mean {
				x /= float64(people)
			}
			value = sql.NullFloat64{Float64: x, Valid: contrib == 0 || ck.sumX.Valid}
		case inventory.Ratio:
			cx, cy := p.count(c.cx, kx), p.count(c.cy, ky)
			contrib = min(cx, cy)
			x, y := 0.0, 0.0
			if cx > 0 && ck.sumX.Valid {
				x = p.magnitude(m.Field, ck.sumX.Float64, ck.topX, c.cx, kx, qx)
			}
			if cy > 0 && ck.sumY.Valid {
				y = p.magnitude(m.Over, ck.sumY.Float64, ck.topY, c.cy, ky, qy)
			}
			value = sql.NullFloat64{Valid: true, Float64: math.NaN()} // a ratio over zero has no value
			if y != 0 {
				value.Float64 = x / y
			}
		case inventory.Share:
			// The people for whom it holds are a set of people like any
			// other: adjusted as a head count, so a rate is a ratio of
			// two adjusted counts.
			yes := min(p.count(c.cx, kx), people)
			contrib = min(yes, people-yes)
			if people > 0 {
				value = sql.NullFloat64{Float64: float64(yes) / float64(people), Valid: true}
			}
		}
		c.people, c.contrib, c.value = people, contrib, value
		switch {
		case people < t.k:
			c.reason, c.small = slice.FewPeople, true
		case contrib > 0 && contrib < t.k:
			c.reason, c.small = slice.FewContributors, true
		}
		if c.withheld() {
			c.value = sql.NullFloat64{}
		}
		// Nothing else of the exact numbers is kept.
		c.cx, c.cy, c.ck = 0, 0, nil
	}
}
