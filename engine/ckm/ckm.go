// Package ckm implements the cell key method (CKM) of statistical
// disclosure control: the noise that self-service table builders of
// statistical offices add to every published count (ONS Cantabular, ABS
// TableBuilder, and Destatis' R packages ptable and cellKey of sdcTools).
//
// Every record carries a random key, and a cell's key combines the keys of
// its records (their sum modulo a power of two, computed in SQL
// elsewhere: engine/guard). The cell's
// adjustment is then a function of its original count and its key only,
// through a published perturbation table (p-table): row n of the table is
// the distribution of the adjustment of a count n, and a uniform draw
// derived from the key (Draw) picks one adjustment by inverse CDF (Adjust).
// This is what makes the method work where independent random noise does
// not: the same cell, asked for again in any table, any order or any
// session, gets the same answer, so repeating a query and averaging the
// answers learns nothing. Only different cells get independent noise, and
// the number of such cells an attacker must combine is what PairsFor
// quantifies.
//
// The rows are built as in ptable: for each original count the allowed
// adjustments are bounded (|j| <= D), never make a count negative, never
// turn a zero into a positive count, and optionally never publish a
// positive count below JS; among the distributions on them with mean 0
// (the noise is unbiased, so totals over many cells stay right) and
// variance V (every count is equally uncertain), the table takes the one of
// maximum entropy: it assumes nothing beyond the constraints, so the
// published table reveals nothing beyond the parameters. From some count on
// the constraints no longer change and neither does the row; that last,
// stationary row serves every larger count, as in SuperSTAR and
// Cantabular, and also scales the noise of magnitude tables (Magnitude).
package ckm

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
)

const (
	maxD    = 50
	maxMult = 10
	// capFrac caps the second moment a row is solved for at this fraction
	// of the way from the least to the largest one its support allows. At
	// the largest the only distribution left is the two-point one on the
	// extremes (zero entropy, and the solver's parameters diverge), so
	// "the largest feasible variance" has to stop short of it somewhere;
	// 0.9 keeps the small rows' noise nearly as wide as it can be.
	capFrac = 0.9
	// dropBelow: smaller probabilities are dropped (then the row is
	// renormalised); they would never be drawn in practice and only make
	// the published table longer.
	dropBelow = 1e-12
)

// Params are the licence's perturbation parameters.
type Params struct {
	// D is the largest adjustment: |adjustment| <= D.
	D int
	// V is the variance of the adjustment of every count from the
	// stationary row on; smaller counts get V or, where their constraints
	// cannot reach it, less (see NewTable).
	V float64
	// JS is the small-count rule: no positive count below JS is ever
	// published, every count either becomes 0 or at least JS (0 or 1: no
	// such rule). It is the js of ptable's documentation ("no positive
	// target frequencies below the threshold"); note that some ptable
	// versions block 1..js instead, which is JS = js+1 here.
	JS int
	// PStay is the probability that a count is published unchanged; 0
	// leaves it to maximum entropy. Rows whose own count is forbidden by
	// JS cannot stay and ignore it.
	PStay float64
	// Mult scales the noise of magnitude tables, as a multiple of the
	// cell's largest absolute contribution.
	Mult float64
}

// DefaultParams returns D = 6, V = 8, no small-count rule, no fixed
// probability of staying, Mult = 1.
//
// V is the smallest whole variance for which an optimal averaging attacker
// needs at least 100 independent pairs of cells to tell, with 90%
// accuracy, whether one person is in a cell or not (PairsFor(0.90)):
//
//	V      3   4   5   6   7   8   9  10
//	D = 5 40  53  65  75  83  86  84  78
//	D = 6 40  53  66  79  90 101 110 116
//
// With D = 5, the bound of ABS TableBuilder and ptable's examples, no V
// reaches 100: the pairs needed peak at 86 near V = 8 and then fall,
// because a variance large for its bound puts much mass on ±D, and a
// difference of 2D+1 between two cells gives the person away. D = 6 is the
// smallest bound that reaches 100, at V = 8 (101 pairs). Its standard
// deviation, 2.8, keeps counts useful.
func DefaultParams() Params {
	return Params{D: 6, V: 8, Mult: 1}
}

// Validate says what is wrong with p, if anything, and the allowed range.
func (p Params) Validate() error {
	switch {
	case p.D < 1 || p.D > maxD:
		return fmt.Errorf("ckm: d is %d, must be 1..%d", p.D, maxD)
	case p.JS < 0 || p.JS > p.D:
		return fmt.Errorf("ckm: js is %d, must be 0..d (0..%d)", p.JS, p.D)
	case !(p.PStay >= 0 && p.PStay < 1):
		return fmt.Errorf("ckm: pstay is %g, must be in [0, 1)", p.PStay)
	case !(p.Mult > 0 && p.Mult <= maxMult):
		return fmt.Errorf("ckm: mult is %g, must be in (0, %d]", p.Mult, maxMult)
	}
	lo, hi := p.vRange()
	if !(lo < hi) {
		return fmt.Errorf("ckm: no v is achievable with d=%d, js=%d, pstay=%g; lower js or pstay", p.D, p.JS, p.PStay)
	}
	if !(p.V > lo && p.V <= hi) {
		return fmt.Errorf("ckm: v is %g, must be in (%.6g, %.6g] for d=%d, js=%d, pstay=%g", p.V, lo, hi, p.D, p.JS, p.PStay)
	}
	return nil
}

// plan is what row i (i >= 1) is solved for: the adjustments whose
// probabilities maximum entropy decides (all allowed ones, or all but 0
// when the row keeps p_0 = PStay), the mass they share, and the open
// interval (lo, hi) of second moments a zero-mean distribution on them can
// have.
type plan struct {
	free   []int
	mass   float64
	stay   bool
	lo, hi float64
}

// plan derives row i's plan; i must be >= 1. Parameters are valid, so the
// support always holds -i or a step to JS below 0 and +D above it.
func (p Params) plan(i int) plan {
	pl := plan{mass: 1}
	for j := -p.D; j <= p.D; j++ {
		v := i + j
		if v < 0 || (p.JS >= 2 && v >= 1 && v < p.JS) {
			continue
		}
		if j == 0 && p.PStay > 0 {
			pl.stay, pl.mass = true, 1-p.PStay
			continue
		}
		pl.free = append(pl.free, j)
	}
	neg, pos, zero := -p.D-1, p.D+1, false
	for _, j := range pl.free {
		switch {
		case j < 0:
			neg = j // the last negative is the closest to 0
		case j > 0 && pos > p.D:
			pos = j
		case j == 0:
			zero = true
		}
	}
	// Mean 0 forces E[(j-neg)(j-pos)] >= 0 and E[(j-min)(j-max)] <= 0,
	// hence these bounds; each is reached only by a two-point law.
	if !zero {
		pl.lo = float64(-neg * pos)
	}
	pl.hi = float64(-pl.free[0] * pl.free[len(pl.free)-1])
	return pl
}

// target is the second moment row i's free part is solved for: the one V
// asks for, capped (see capFrac) where the row cannot reach it.
func (pl plan) target(v float64) float64 {
	return math.Min(v/pl.mass, pl.lo+capFrac*(pl.hi-pl.lo))
}

// width is the first count whose row is the stationary one: from there on
// no adjustment in [-D, D] is forbidden.
func (p Params) width() int {
	if p.JS >= 2 {
		return p.D + p.JS
	}
	return p.D
}

// vRange is the interval (lo, hi] of V for which every row can be built
// with variance at most V and the stationary row with variance exactly V.
func (p Params) vRange() (lo, hi float64) {
	w := p.width()
	for i := 1; i <= w; i++ {
		pl := p.plan(i)
		if pl.hi <= pl.lo {
			return 0, 0
		}
		lo = math.Max(lo, pl.mass*pl.lo)
	}
	pl := p.plan(w)
	return lo, pl.mass * (pl.lo + capFrac*(pl.hi-pl.lo))
}

// row is one row of the table.
type row struct {
	adj  []int     // ascending
	prob []float64 // > 0, summing to 1
	upp  []float64 // upp[k]: upper end of adj[k]'s interval of u/2^64; the last is 1
	cut  []uint64  // cut[k] = ceil(upp[k]*2^64) for all but the last
}

// Table is a perturbation table. It is immutable and safe for concurrent
// use.
type Table struct {
	p    Params
	rows []row // rows[i] for original count i; the last serves all larger counts
}

// NewTable builds the table for p. Row 0 is {0: 1}: zeros stay zeros, as
// an empty cell has no records and so no key of its own (the sum of
// nothing is 0), and noise there would invent people. Row i >= 1 is the
// maximum-entropy distribution on its allowed adjustments with mean 0 and
// variance V. Where that variance cannot be reached with mean 0 (small
// counts, which cannot go down by more than themselves, and counts the JS
// rule sends to 0 or JS), the row's second moment is capped at 90% of the
// way from the least to the largest its adjustments allow, so those rows
// have variance below V but mean 0 still. With PStay > 0, p_0 = PStay in
// every row where 0 is allowed, and the rest of the mass goes by maximum
// entropy with the same constraints.
func NewTable(p Params) (*Table, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	w := p.width()
	t := &Table{p: p, rows: make([]row, w+1)}
	t.rows[0] = newRow([]int{0}, []float64{1})
	for i := 1; i <= w; i++ {
		pl := p.plan(i)
		q, err := maxEnt(pl.free, pl.target(p.V))
		if err != nil {
			return nil, fmt.Errorf("ckm: row %d: %w", i, err)
		}
		var adj []int
		var prob []float64
		for k, j := range pl.free {
			if pl.stay && j > 0 { // 0 goes between the negatives and the positives
				adj, prob = append(adj, 0), append(prob, p.PStay)
				pl.stay = false
			}
			adj, prob = append(adj, j), append(prob, pl.mass*q[k])
		}
		t.rows[i] = newRow(adj, prob)
	}
	return t, nil
}

// newRow drops negligible probabilities, renormalises and fixes the draw
// intervals once, so that Adjust and WriteCSV agree exactly.
func newRow(adj []int, prob []float64) row {
	var r row
	sum := 0.0
	for k, pr := range prob {
		if pr >= dropBelow {
			r.adj, r.prob = append(r.adj, adj[k]), append(r.prob, pr)
			sum += pr
		}
	}
	cum := 0.0
	for k := range r.prob {
		r.prob[k] /= sum
		cum += r.prob[k]
		if k == len(r.prob)-1 {
			cum = 1
		}
		r.upp = append(r.upp, cum)
		if k < len(r.prob)-1 {
			c := math.Ceil(cum * (1 << 64))
			if c >= 1<<64 {
				r.cut = append(r.cut, math.MaxUint64)
			} else {
				r.cut = append(r.cut, uint64(c))
			}
		}
	}
	return r
}

// maxEnt returns the maximum-entropy distribution on xs (ascending) with
// mean 0 and second moment t, which has the form q_j ∝ exp(a j + b j²).
// (a, b) minimise the convex dual log Z(a, b) - b t, whose gradient is the
// moment error and whose Hessian the covariance of (j, j²), so Newton's
// method converges fast near the optimum. Far from it a full step can
// overshoot (the parameters grow large when t is near a bound) into a
// near point mass where the Hessian vanishes, so each step is halved until
// the dual decreases enough (Armijo), which makes it converge from any
// start.
func maxEnt(xs []int, t float64) ([]float64, error) {
	q := make([]float64, len(xs))
	eval := func(a, b float64) (dual, m1, m2, m3, m4 float64) {
		mx := math.Inf(-1)
		for k, x := range xs {
			f := float64(x)
			q[k] = a*f + b*f*f
			mx = math.Max(mx, q[k])
		}
		s := 0.0
		for k := range q {
			q[k] = math.Exp(q[k] - mx)
			s += q[k]
		}
		for k, x := range xs {
			q[k] /= s
			f := float64(x)
			m1 += q[k] * f
			m2 += q[k] * f * f
			m3 += q[k] * f * f * f
			m4 += q[k] * f * f * f * f
		}
		return mx + math.Log(s) - b*t, m1, m2, m3, m4
	}
	a, b := 0.0, 0.0
	dual, m1, m2, m3, m4 := eval(a, b)
	for it := 0; it < 500; it++ {
		g1, g2 := m1, m2-t
		if math.Abs(g1) < 1e-14 && math.Abs(g2) < 1e-13*math.Max(1, t) {
			return q, nil
		}
		c11, c12, c22 := m2-m1*m1, m3-m1*m2, m4-m2*m2
		det := c11*c22 - c12*c12
		d1, d2 := -g1, -g2 // steepest descent if the Hessian is unusable
		if det > 0 && !math.IsInf(det, 0) {
			d1, d2 = -(c22*g1-c12*g2)/det, -(c11*g2-c12*g1)/det
		}
		// slope is minus the squared Newton decrement, the decrease of the
		// dual a full step promises. Once it is below what float64 can see
		// in the dual, Armijo's test is noise and the full step is taken:
		// that close, Newton's steps are exact to rounding.
		slope := g1*d1 + g2*d2
		tiny := -slope < 1e-13*math.Max(1, math.Abs(dual))
		moved := false
		for s := 1.0; s > 1e-30; s /= 2 {
			nd, n1, n2, n3, n4 := eval(a+s*d1, b+s*d2)
			if nd <= dual+1e-4*s*slope || (tiny && s == 1) {
				a, b = a+s*d1, b+s*d2
				dual, m1, m2, m3, m4 = nd, n1, n2, n3, n4
				moved = true
				break
			}
		}
		if !moved {
			break
		}
	}
	dual, m1, m2, _, _ = eval(a, b) // leave q at (a, b)
	if math.Abs(m1) < 1e-11 && math.Abs(m2-t) < 1e-9*math.Max(1, t) {
		return q, nil
	}
	return nil, fmt.Errorf("maximum entropy did not converge (mean %g, second moment %g for %g)", m1, m2, t)
}

// rowFor returns the row of original count n; negative n get row 0.
func (t *Table) rowFor(n int64) *row {
	if n <= 0 {
		return &t.rows[0]
	}
	if n >= int64(len(t.rows)) {
		return &t.rows[len(t.rows)-1]
	}
	return &t.rows[n]
}

// Row returns the distribution of the adjustment of original count n:
// adjustments in ascending order and their probabilities. Counts beyond
// the last row built use the last (stationary) row, as SuperSTAR and
// Cantabular do; negative counts, which cannot occur, get row 0.
func (t *Table) Row(n int64) (adj []int, prob []float64) {
	r := t.rowFor(n)
	return append([]int(nil), r.adj...), append([]float64(nil), r.prob...)
}

// Adjust returns the adjustment of original count n for the uniform 64-bit
// draw u (see Draw): the adjustment whose interval [lower, upper) in
// WriteCSV's table holds u/2^64. n+Adjust(n, u) >= 0 for every n >= 0;
// negative n, which cannot occur, get 0.
func (t *Table) Adjust(n int64, u uint64) int64 {
	r := t.rowFor(n)
	for k, c := range r.cut {
		if u < c {
			return int64(r.adj[k])
		}
	}
	return int64(r.adj[len(r.adj)-1])
}

// Magnitude returns the noise to add to a magnitude (a sum) whose largest
// absolute contribution is top: Mult·|top|·j/D, j drawn with u from the
// stationary row. Scaling by the largest contribution hides exactly the
// contributor who would otherwise be most exposed, and |noise| <=
// Mult·|top|. It is zero when top is zero or not finite.
func (t *Table) Magnitude(top float64, u uint64) float64 {
	if top == 0 || math.IsNaN(top) || math.IsInf(top, 0) {
		return 0
	}
	j := t.Adjust(int64(len(t.rows)-1), u)
	return t.p.Mult * math.Abs(top) * float64(j) / float64(t.p.D)
}

// WriteCSV writes the table in the layout of cellKey's ptable, the one a
// licence publishes: a header, then cell_value,perturbation,probability,
// lower,upper for each row and each adjustment of nonzero probability,
// where [lower, upper) is the adjustment's interval of u/2^64 (Adjust). The
// last cell_value stands for itself and every larger count.
func (t *Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	if err := cw.Write([]string{"cell_value", "perturbation", "probability", "lower", "upper"}); err != nil {
		return err
	}
	for i, r := range t.rows {
		lower := 0.0
		for k, j := range r.adj {
			rec := []string{strconv.Itoa(i), strconv.Itoa(j), f(r.prob[k]), f(lower), f(r.upp[k])}
			if err := cw.Write(rec); err != nil {
				return err
			}
			lower = r.upp[k]
		}
	}
	cw.Flush()
	return cw.Error()
}

// drawPrefix separates Draw's hashes from any other use of the keys. As it
// has a fixed length and key and n come last with fixed lengths, the
// hashed message determines the purpose: no two inputs collide by framing.
const drawPrefix = "persona-ckm/v1"

// Draw derives the uniform 64-bit draw of a cell for one purpose ("count",
// "contributors", "magnitude:<field>", ...) from its cell key and original
// count: the first 8 bytes, little-endian, of SHA-256 over drawPrefix, the
// purpose, the key and n (both 8 bytes little-endian). Separate purposes
// give independent draws for the same cell. Hashing n as well makes two
// cells that differ by one record get unrelated draws, although their keys
// differ by that record's key, a fixed offset.
func Draw(key uint64, n int64, purpose string) uint64 {
	h := sha256.New()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], key)
	binary.LittleEndian.PutUint64(b[8:], uint64(n))
	h.Write([]byte(drawPrefix))
	h.Write([]byte(purpose))
	h.Write(b[:])
	var sum [sha256.Size]byte
	return binary.LittleEndian.Uint64(h.Sum(sum[:0])[:8])
}
