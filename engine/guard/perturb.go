package guard

import (
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

// magnitude adjusts a sum resting on contributors people (key key)
// whose largest contribution is top, of values that are multiples of
// quantum (1 for whole numbers). purpose tells apart sums of other
// fields or periods over the same people, whose noise must not repeat.
func (p *perturbation) magnitude(sum float64, top sql.NullFloat64, contributors int64, key uint64, purpose string, quantum float64) float64 {
	if !top.Valid || top.Float64 == 0 {
		return sum
	}
	// The noise moves in steps of top/D. Below the values' own quantum
	// (a sum of ones has top 1: steps of a sixth), rounding a difference
	// of two sums would give back the exact count behind it: the steps
	// are at least one quantum.
	scale := max(math.Abs(top.Float64), quantum*float64(p.params.D)/p.params.Mult)
	// The noise is a whole number of quanta, so a sum of quanta stays
	// one and is never left on the edge of a rounding step.
	noise := math.Round(p.table.Magnitude(scale, ckm.Draw(key, contributors, purpose))/quantum) * quantum
	v := sum + noise
	// DuckDB adds up decimal values in no fixed order, so an exact sum
	// may differ in its last bits from one run, or one workspace, to the
	// next. Rounded to 9 significant digits (and to the quantum), the
	// released sum is the same every time but when it lies within those
	// last bits of a step's edge. The step depends on the released value
	// only, so it tells nothing of the contributions.
	if v != 0 && !math.IsInf(v, 0) && !math.IsNaN(v) {
		step := math.Max(math.Pow(10, math.Floor(math.Log10(math.Abs(v)))-8), quantum)
		v = math.Round(v/step) * step
	}
	return v
}

// quantum is the smallest step of a measure field's values: 1 for whole
// numbers, a hundredth otherwise.
func quantum(inv *inventory.Inventory, field string) float64 {
	f, _ := inv.Field(field)
	t := strings.TrimSuffix(f.Type, "[]")
	for _, whole := range []string{"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"} {
		if t == whole {
			return 1
		}
	}
	return 0.01
}

// perturb adjusts every cell of t, then withholds what the adjusted
// numbers do not allow: a head count below k, and a value resting on
// fewer than k people (both as adjusted). An adjusted count below k is
// never shown, so a count is never shown as its true size below k.
func (t *table) perturb(p *perturbation, pl *plan) {
	m := pl.m
	inv := pl.eng.Inventory()
	qx, qy := quantum(inv, m.Field), quantum(inv, m.Over)
	periods := func(c *cell) string {
		ps := t.cellPeriods(c)
		if f, ok := inv.Field(m.Field); ok && f.Series != "" {
			if s, ok := inv.Field(f.Series); ok && len(ps) == len(s.Order) {
				ps = nil // every period listed is the sum of them all
			}
		}
		s := make([]string, len(ps))
		for i, x := range ps {
			s[i] = strconv.Itoa(x)
		}
		return strings.Join(s, ",")
	}
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
			if ck.sumX.Valid {
				s := p.magnitude(ck.sumX.Float64, ck.topX, c.cx, kx, "sum:"+m.Field+":"+periods(c), qx)
				if m.Kind == inventory.Mean {
					s /= float64(people)
				}
				value = sql.NullFloat64{Float64: s, Valid: true}
			}
		case inventory.Ratio:
			cx, cy := p.count(c.cx, kx), p.count(c.cy, ky)
			contrib = min(cx, cy)
			if ck.sumX.Valid && ck.sumY.Valid {
				x := p.magnitude(ck.sumX.Float64, ck.topX, c.cx, kx, "sum:"+m.Field+":"+periods(c), qx)
				y := p.magnitude(ck.sumY.Float64, ck.topY, c.cy, ky, "sum:"+m.Over+":"+periods(c), qy)
				value = sql.NullFloat64{Valid: true, Float64: math.NaN()}
				if y != 0 {
					value.Float64 = x / y
				}
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
