package ckm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"math"
	"strconv"
	"strings"
	"testing"
)

// tables are valid parameter sets covering the rules' interactions and the
// edges of the allowed ranges.
var tables = []struct {
	name string
	p    Params
}{
	{"default", DefaultParams()},
	{"d5", Params{D: 5, V: 8, Mult: 1}},
	{"js3", Params{D: 5, V: 8, JS: 3, Mult: 1}},
	{"js5 near lowest v", Params{D: 5, V: 6.01, JS: 5, Mult: 1}},
	{"pstay", Params{D: 5, V: 4, PStay: 0.5, Mult: 1}},
	{"pstay js", Params{D: 5, V: 5, JS: 3, PStay: 0.3, Mult: 1}},
	{"d1", Params{D: 1, V: 0.5, Mult: 1}},
	{"d5 highest v", Params{D: 5, V: 22.5, Mult: 1}},
	{"d50", Params{D: 50, V: 400, JS: 10, Mult: 1}},
}

func mustTable(t *testing.T, p Params) *Table {
	t.Helper()
	tb, err := NewTable(p)
	if err != nil {
		t.Fatalf("NewTable(%+v): %v", p, err)
	}
	return tb
}

func moments(adj []int, prob []float64) (sum, mean, variance float64) {
	for k, j := range adj {
		sum += prob[k]
		mean += prob[k] * float64(j)
		variance += prob[k] * float64(j*j)
	}
	return sum, mean, variance - mean*mean
}

func TestRows(t *testing.T) {
	for _, c := range tables {
		t.Run(c.name, func(t *testing.T) {
			tb, p := mustTable(t, c.p), c.p
			last := int64(len(tb.rows) - 1)
			for n := int64(0); n <= last+3; n++ {
				adj, prob := tb.Row(n)
				sum, mean, variance := moments(adj, prob)
				if math.Abs(sum-1) > 1e-12 || math.Abs(mean) > 1e-9 {
					t.Errorf("row %d: sum %v, mean %v", n, sum, mean)
				}
				if n >= last && math.Abs(variance-p.V) > 1e-6 {
					t.Errorf("stationary row %d: variance %v, want %v", n, variance, p.V)
				}
				if variance > p.V+1e-9 {
					t.Errorf("row %d: variance %v above %v", n, variance, p.V)
				}
				if n == 0 && (len(adj) != 1 || adj[0] != 0) {
					t.Errorf("row 0 = %v, want {0: 1}", adj)
				}
				for k, j := range adj {
					v := n + int64(j)
					switch {
					case k > 0 && j <= adj[k-1]:
						t.Errorf("row %d: adjustments not ascending: %v", n, adj)
					case prob[k] < dropBelow:
						t.Errorf("row %d: probability %v kept", n, prob[k])
					case j < -p.D || j > p.D:
						t.Errorf("row %d: adjustment %d beyond d", n, j)
					case v < 0:
						t.Errorf("row %d: adjustment %d makes it negative", n, j)
					case p.JS >= 2 && v >= 1 && v < int64(p.JS):
						t.Errorf("row %d: publishes %d, below js", n, v)
					case j == 0 && p.PStay > 0 && n > 0 && math.Abs(prob[k]-p.PStay) > 1e-9:
						t.Errorf("row %d: p_0 = %v, want pstay", n, prob[k])
					}
				}
			}
		})
	}
}

func TestAdjustEmpirical(t *testing.T) {
	const draws = 100000
	for _, c := range tables[:5] {
		for _, n := range []int64{0, 1, 2, 4, 1000} {
			t.Run(c.name+"/"+strconv.FormatInt(n, 10), func(t *testing.T) {
				tb := mustTable(t, c.p)
				adj, prob := tb.Row(n)
				_, _, want := moments(adj, prob)
				freq := map[int64]float64{}
				mean, sq := 0.0, 0.0
				for k := uint64(0); k < draws; k++ {
					a := tb.Adjust(n, Draw(k, n, "test"))
					if n+a < 0 {
						t.Fatalf("Adjust(%d) = %d", n, a)
					}
					freq[a]++
					mean += float64(a)
					sq += float64(a * a)
				}
				mean /= draws
				variance := sq/draws - mean*mean
				if math.Abs(mean) > 5*math.Sqrt(want/draws)+1e-12 {
					t.Errorf("mean %v", mean)
				}
				if math.Abs(variance-want) > 0.02*want+1e-12 {
					t.Errorf("variance %v, want %v", variance, want)
				}
				seen := 0.0
				for k, j := range adj {
					f := freq[int64(j)] / draws
					seen += freq[int64(j)]
					if math.Abs(f-prob[k]) > 5*math.Sqrt(prob[k]*(1-prob[k])/draws)+1e-4 {
						t.Errorf("adjustment %d: frequency %v, probability %v", j, f, prob[k])
					}
				}
				if seen != draws {
					t.Errorf("%v draws outside the row", draws-seen)
				}
			})
		}
	}
}

func TestAdjustIntervals(t *testing.T) {
	for _, c := range tables {
		t.Run(c.name, func(t *testing.T) {
			tb := mustTable(t, c.p)
			for n, r := range tb.rows {
				if a := tb.Adjust(int64(n), 0); a != int64(r.adj[0]) {
					t.Errorf("row %d: Adjust(0) = %d, want %d", n, a, r.adj[0])
				}
				if a := tb.Adjust(int64(n), math.MaxUint64); a != int64(r.adj[len(r.adj)-1]) {
					t.Errorf("row %d: Adjust(max) = %d", n, a)
				}
				for k, cut := range r.cut {
					lo, hi := tb.Adjust(int64(n), cut-1), tb.Adjust(int64(n), cut)
					if lo != int64(r.adj[k]) || hi != int64(r.adj[k+1]) {
						t.Errorf("row %d: around cut %d: %d, %d", n, k, lo, hi)
					}
					if got := float64(cut) / (1 << 64); math.Abs(got-r.upp[k]) > 1e-15 {
						t.Errorf("row %d: cut %d at %v, upper %v", n, k, got, r.upp[k])
					}
				}
			}
		})
	}
}

func TestDeterminism(t *testing.T) {
	tb := mustTable(t, DefaultParams())
	u := Draw(42, 17, "count")
	if a, b := tb.Adjust(17, u), tb.Adjust(17, u); a != b {
		t.Errorf("Adjust not deterministic: %d, %d", a, b)
	}
	cases := []struct {
		name string
		u    uint64
	}{
		{"purpose", Draw(42, 17, "contributors")},
		{"magnitude purpose", Draw(42, 17, "magnitude:income")},
		{"count", Draw(42, 18, "count")},
		{"key", Draw(43, 17, "count")},
		{"framing", Draw(42, 17, "count\x00")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.u == u {
				t.Errorf("draw %x equals the base draw", c.u)
			}
		})
	}
	t.Run("spec", func(t *testing.T) {
		msg := []byte("persona-ckm/v1count")
		msg = binary.LittleEndian.AppendUint64(msg, 42)
		msg = binary.LittleEndian.AppendUint64(msg, 17)
		sum := sha256.Sum256(msg)
		if want := binary.LittleEndian.Uint64(sum[:8]); u != want || Draw(42, 17, "count") != u {
			t.Errorf("Draw = %x, want %x", u, want)
		}
	})
}

func TestBadInput(t *testing.T) {
	tb := mustTable(t, DefaultParams())
	if a := tb.Adjust(-3, 12345); a != 0 {
		t.Errorf("Adjust(-3) = %d, want 0", a)
	}
	if adj, _ := tb.Row(-3); len(adj) != 1 || adj[0] != 0 {
		t.Errorf("Row(-3) = %v, want row 0", adj)
	}
	adj, prob := tb.Row(1 << 62)
	sAdj, sProb := tb.Row(int64(len(tb.rows) - 1))
	if len(adj) != len(sAdj) || prob[0] != sProb[0] {
		t.Errorf("large count does not use the stationary row")
	}
	adj[0], prob[0] = 99, 99 // Row returns copies: the table must not change
	if again, p := tb.Row(1 << 62); again[0] == 99 || p[0] == 99 {
		t.Errorf("Row exposes the table")
	}
}

func TestValidate(t *testing.T) {
	ok := DefaultParams()
	with := func(f func(*Params)) Params { p := ok; f(&p); return p }
	cases := []struct {
		name string
		p    Params
		want string // "" = valid
	}{
		{"default", ok, ""},
		{"d0", with(func(p *Params) { p.D = 0 }), "d is 0, must be 1..50"},
		{"d51", with(func(p *Params) { p.D = 51 }), "d is 51, must be 1..50"},
		{"js negative", with(func(p *Params) { p.JS = -1 }), "js is -1, must be 0..d (0..6)"},
		{"js above d", with(func(p *Params) { p.JS = 7 }), "js is 7, must be 0..d (0..6)"},
		{"pstay 1", with(func(p *Params) { p.PStay = 1 }), "pstay is 1, must be in [0, 1)"},
		{"pstay negative", with(func(p *Params) { p.PStay = -0.1 }), "pstay is -0.1, must be in [0, 1)"},
		{"pstay nan", with(func(p *Params) { p.PStay = math.NaN() }), "pstay is NaN"},
		{"mult 0", with(func(p *Params) { p.Mult = 0 }), "mult is 0, must be in (0, 10]"},
		{"mult 11", with(func(p *Params) { p.Mult = 11 }), "mult is 11, must be in (0, 10]"},
		{"v 0", with(func(p *Params) { p.V = 0 }), "v is 0, must be in (0, 32.4] for d=6"},
		{"v nan", with(func(p *Params) { p.V = math.NaN() }), "v is NaN"},
		{"v too large", Params{D: 5, V: 25, Mult: 1}, "v is 25, must be in (0, 22.5] for d=5"},
		{"v too small for js", Params{D: 5, V: 6, JS: 5, Mult: 1}, "v is 6, must be in (6, 22.5]"},
		{"v too small for pstay", Params{D: 5, V: 0.4, PStay: 0.5, Mult: 1}, "v is 0.4, must be in (0.5,"},
		{"nothing achievable", Params{D: 1, V: 0.5, PStay: 0.5, Mult: 1}, "no v is achievable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.p.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("Validate() = %v, want %q", err, c.want)
			case err != nil && (strings.Contains(err.Error(), "\n") || err.Error() != strings.ToLower(err.Error()[:1])+err.Error()[1:]):
				t.Errorf("error not one lower-case line: %q", err)
			}
			if tb, err2 := NewTable(c.p); (err2 != nil) != (err != nil) || (err2 != nil && tb != nil) {
				t.Errorf("NewTable disagrees with Validate: %v", err2)
			}
		})
	}
}

func TestWriteCSV(t *testing.T) {
	for _, c := range tables {
		t.Run(c.name, func(t *testing.T) {
			tb := mustTable(t, c.p)
			var buf bytes.Buffer
			if err := tb.WriteCSV(&buf); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(recs[0], ","); got != "cell_value,perturbation,probability,lower,upper" {
				t.Fatalf("header %q", got)
			}
			prev, upper, k := -1, 1.0, 0
			for _, rec := range recs[1:] {
				var f [5]float64
				for i, s := range rec {
					if f[i], err = strconv.ParseFloat(s, 64); err != nil {
						t.Fatalf("%q: %v", rec, err)
					}
				}
				if n := int(f[0]); n != prev { // a new row: the last one must have ended at 1
					if n != prev+1 || upper != 1 || f[3] != 0 {
						t.Fatalf("row %d starts at %v after %d ended at %v", n, f[3], prev, upper)
					}
					prev, k = n, 0
				} else if f[3] != upper {
					t.Errorf("row %d: gap or overlap at %v/%v", prev, upper, f[3])
				}
				adj, prob := tb.Row(int64(prev))
				if int(f[1]) != adj[k] || f[2] != prob[k] || math.Abs(f[4]-f[3]-f[2]) > 1e-12 {
					t.Errorf("row %d: %q, want %d with %v", prev, rec, adj[k], prob[k])
				}
				// A draw inside the interval must give this adjustment.
				if u := uint64((f[3] + f[4]) / 2 * (1 << 64)); tb.Adjust(int64(prev), u) != int64(f[1]) {
					t.Errorf("row %d: Adjust disagrees with [%v, %v)", prev, f[3], f[4])
				}
				upper, k = f[4], k+1
			}
			if prev != len(tb.rows)-1 || upper != 1 {
				t.Errorf("last row %d ends at %v", prev, upper)
			}
		})
	}
}

func TestMagnitude(t *testing.T) {
	const draws = 50000
	cases := []struct {
		name string
		p    Params
		top  float64
	}{
		{"default", DefaultParams(), 1000},
		{"negative top", DefaultParams(), -7.5},
		{"half", Params{D: 5, V: 8, Mult: 0.5, JS: 3}, 120},
		{"pstay", Params{D: 5, V: 4, PStay: 0.5, Mult: 2}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb := mustTable(t, c.p)
			for _, top := range []float64{0, math.NaN(), math.Inf(1)} {
				if m := tb.Magnitude(top, 99); m != 0 {
					t.Errorf("Magnitude(%v) = %v, want 0", top, m)
				}
			}
			bound := c.p.Mult * math.Abs(c.top)
			mean := 0.0
			for k := uint64(0); k < draws; k++ {
				m := tb.Magnitude(c.top, Draw(k, 5, "magnitude:x"))
				if math.Abs(m) > bound*(1+1e-12) {
					t.Fatalf("|%v| above %v", m, bound)
				}
				mean += m / draws
			}
			sd := bound * math.Sqrt(c.p.V) / float64(c.p.D)
			if math.Abs(mean) > 5*sd/math.Sqrt(draws) {
				t.Errorf("mean %v, sd of the mean %v", mean, sd/math.Sqrt(draws))
			}
		})
	}
}

func TestPairsFor(t *testing.T) {
	cases := []struct {
		name     string
		p        Params
		accuracy float64
		want     int
	}{
		// The default's justification (see DefaultParams).
		{"default", DefaultParams(), 0.90, 101},
		{"v7", Params{D: 6, V: 7, Mult: 1}, 0.90, 90},
		{"d5 v8", Params{D: 5, V: 8, Mult: 1}, 0.90, 86},
		{"d5 v10 uniform", Params{D: 5, V: 10, Mult: 1}, 0.90, 78},
		{"guess", DefaultParams(), 0.5, 0},
		{"nan", DefaultParams(), math.NaN(), 0},
		{"certainty", DefaultParams(), 1, MaxPairs + 1},
		{"beyond max pairs", Params{D: 5, V: 8, Mult: 1}, 0.999, MaxPairs + 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := mustTable(t, c.p).PairsFor(c.accuracy); got != c.want {
				t.Errorf("PairsFor(%v) = %d, want %d", c.accuracy, got, c.want)
			}
		})
	}
	t.Run("monotone", func(t *testing.T) {
		tb := mustTable(t, DefaultParams())
		if a, b := tb.PairsFor(0.6), tb.PairsFor(0.75); !(a >= 1 && a <= b && b <= 101) {
			t.Errorf("PairsFor(0.6) = %d, PairsFor(0.75) = %d", a, b)
		}
	})
}
