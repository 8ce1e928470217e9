package ckm

import "math"

// MaxPairs is the largest number of pairs PairsFor considers.
const MaxPairs = 400

// gridSteps is the number of grid steps in the largest finite
// log-likelihood ratio of one pair. Rounding to this grid changes the
// accuracies PairsFor finds by about 1e-6 (checked against a grid 32 times
// finer, and against Monte Carlo with the exact ratios), far below the
// accuracy one more pair adds near 100 pairs (about 1e-3).
const gridSteps = 512

// PairsFor returns how many independent pairs of cells an optimal attacker
// needs to tell, with the given accuracy, whether one person is in a cell
// or not: the smallest m in 1..MaxPairs, or MaxPairs+1 when m = MaxPairs is
// not enough (accuracy >= 1 is never reached). Accuracies <= 0.5 need no
// pairs (a guess) and return 0.
//
// The attack: each pair is two cells whose true counts differ by s, the
// same for every pair, s = 1 if the person is in and 0 if not (as when
// the same differencing query is asked of m disjoint populations), and
// the attacker sees d = s + e1 - e2, the adjustments e1, e2 independent
// draws from the stationary row. With equal priors the best test
// (Neyman-Pearson) sums the log-likelihood ratios of the m differences
// and says "in" when the sum is positive (a tie is a coin flip); a
// difference only one hypothesis allows settles it. The accuracy is
// computed exactly up to rounding each pair's log-likelihood ratio to a
// fine grid (gridSteps), which turns the sum's distribution into a
// convolution on that grid; the rounded test can only be worse than the
// optimal one, and only negligibly. Nothing is simulated, so the result
// is deterministic.
func (t *Table) PairsFor(accuracy float64) int {
	if !(accuracy > 0.5) {
		return 0
	}
	if !(accuracy < 1) {
		return MaxPairs + 1
	}
	// q[d+2D] = P(e1-e2 = d).
	st := &t.rows[len(t.rows)-1]
	d2 := 2 * t.p.D
	q := make([]float64, 2*d2+1)
	for a, pa := range st.prob {
		for b, pb := range st.prob {
			q[st.adj[a]-st.adj[b]+d2] += pa * pb
		}
	}
	at := func(d int) float64 {
		if d < -d2 || d > d2 {
			return 0
		}
		return q[d+d2]
	}
	// Each observable difference x moves the sum by its log-likelihood
	// ratio log(P(x|in)/P(x|out)), in grid steps, or settles the question
	// when only one hypothesis allows it.
	type obs struct {
		x   int
		llr float64
	}
	var xs []obs
	top := 0.0
	for x := -d2; x <= d2+1; x++ {
		if at(x) > 0 && at(x-1) > 0 {
			l := math.Log(at(x-1) / at(x))
			xs = append(xs, obs{x, l})
			top = math.Max(top, math.Abs(l))
		}
	}
	if len(xs) == 0 {
		return 1 // every difference settles it
	}
	h := top / gridSteps
	if h == 0 {
		h = 1 // no pair tells anything; only settling differences count
	}
	out, in := walk{w: []float64{1}}, walk{w: []float64{1}}
	for x := -d2; x <= d2+1; x++ {
		if at(x-1) == 0 {
			out.settle += at(x) // x is impossible when in
		}
		if at(x) == 0 {
			in.settle += at(x - 1)
		}
	}
	for _, o := range xs {
		k := int(math.Round(o.llr / h))
		out.moves = append(out.moves, move{k, at(o.x)})
		in.moves = append(in.moves, move{k, at(o.x - 1)})
	}
	for m := 1; m <= MaxPairs; m++ {
		out.step()
		in.step()
		if (out.correct(-1)+in.correct(1))/2 >= accuracy {
			return m
		}
	}
	return MaxPairs + 1
}

// move is one pair's step of the log-likelihood-ratio sum, in grid units,
// and its probability.
type move struct {
	k int
	p float64
}

// walk is the distribution of the grid log-likelihood-ratio sum under one
// hypothesis: w[i] is the probability of sum off+i with nothing settled
// yet, settled the probability that some difference has settled it
// (rightly: under the true hypothesis only it can be settled). Each pair
// moves the sum by one of moves, or settles it with probability settle.
type walk struct {
	moves   []move
	settle  float64
	off     int
	w       []float64
	settled float64
}

// step adds one pair.
func (s *walk) step() {
	kmin, kmax := s.moves[0].k, s.moves[0].k
	for _, mv := range s.moves {
		kmin, kmax = min(kmin, mv.k), max(kmax, mv.k)
	}
	nw := make([]float64, len(s.w)+kmax-kmin)
	live := 0.0
	for i, m := range s.w {
		if m == 0 {
			continue
		}
		live += m
		for _, mv := range s.moves {
			nw[i+mv.k-kmin] += m * mv.p
		}
	}
	s.settled += live * s.settle
	// Trim tails too small to matter; they cost time, not accuracy.
	lo, hi := 0, len(nw)
	for lo < hi && nw[lo] < 1e-18 {
		lo++
	}
	for hi > lo && nw[hi-1] < 1e-18 {
		hi--
	}
	s.w, s.off = nw[lo:hi], s.off+kmin+lo
}

// correct is the probability that the test decides for the side sign (-1:
// out, the sum is negative; +1: in, positive), ties counting half.
func (s *walk) correct(sign int) float64 {
	c := s.settled
	for i, m := range s.w {
		if v := (s.off + i) * sign; v > 0 {
			c += m
		} else if v == 0 {
			c += m / 2
		}
	}
	return c
}
