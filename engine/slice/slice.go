// Package slice describes the workbench's one kind of question and its
// answer: a measure broken down by up to two dimensions, under filters,
// sorted and cut to the top N (Query), and the cells that came back
// (Result), with their formatting for tables, CSV and JSON.
//
// Nothing here reads data. Queries run only through the privacy guard
// (package guard), which decides what of each answer may be shown: a
// withheld cell carries the reason it is withheld and neither its value
// nor its head count.
package slice

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/persona-workbench/persona/engine/inventory"
)

// DefaultK is the minimum group size when the licence does not set one.
const DefaultK = 10

// MaxDims is the most dimensions a slice can have.
const MaxDims = 2

// Order says how result rows are sorted.
type Order int

const (
	// Auto keeps ordinal and time dimensions in their natural order and
	// sorts nominal single-dimension slices by value, largest first.
	Auto Order = iota
	// ValueDesc sorts by value, largest first.
	ValueDesc
	// ValueAsc sorts by value, smallest first.
	ValueAsc
	// Label sorts by the dimensions' natural order, then by label.
	Label
)

var orderNames = []string{"auto", "value-desc", "value-asc", "label"}

func (o Order) String() string {
	if int(o) < len(orderNames) {
		return orderNames[o]
	}
	return "order(" + strconv.Itoa(int(o)) + ")"
}

// ParseOrder parses an Order's name.
func ParseOrder(s string) (Order, error) {
	if i := slices.Index(orderNames, s); i >= 0 {
		return Order(i), nil
	}
	return 0, fmt.Errorf("unknown sort %q: want one of %s", s, strings.Join(orderNames, ", "))
}

// Query describes a slice.
type Query struct {
	Dims    []string            // 0-2 dimension names
	Filters map[string][]string // dimension name → accepted values
	// Holding keeps, for a multi-valued dimension, only the people whose
	// list holds every one of these values, without restricting which
	// of its values are sliced: the categories that people who prefer
	// 美妆 also prefer. Association rules count co-occurrence this way.
	Holding map[string][]string
	Measure string // measure name
	Order   Order
	TopN    int // keep the N rows of largest value (0: all), in Order
	// Totals asks for the margins: the grand total and, with two
	// dimensions, the total of each value of each dimension.
	Totals bool
	// Other asks, with one dimension and a top-N, for a row that sums
	// up the rows the top-N leaves out.
	Other bool
}

// Fields lists the fields of inv that q reads: its dimensions, filters
// and held dimensions, and its measure's fields. Names inv does not
// declare (a derived segment dimension, a mistake) are left out.
func (q Query) Fields(inv *inventory.Inventory) []string {
	var out []string
	add := func(name string) {
		if _, ok := inv.Field(name); ok && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, d := range q.Dims {
		add(d)
	}
	for _, m := range []map[string][]string{q.Filters, q.Holding} {
		for name := range m {
			add(name)
		}
	}
	if m, ok := inv.Measure(q.Measure); ok {
		add(m.Field)
		add(m.Over)
	}
	return out
}

// ErrQuery is wrapped by every error in a query's description.
var ErrQuery = errors.New("invalid query")

// Missing is the key of a missing dimension value (NULL or empty). As a
// filter value it selects the missing values.
const Missing = ""

// Reason says why a number is withheld.
type Reason uint8

const (
	// Shown: the number is not withheld.
	Shown Reason = iota
	// FewPeople: the cell holds fewer than k people.
	FewPeople
	// FewContributors: the cell holds k people or more, but its value
	// rests on fewer than k of them (the others add nothing to a sum, or
	// a rate is within k people of 0% or 100%).
	FewContributors
	// Complementary: showing it would let a withheld cell be worked out
	// from totals, margins or the other cells.
	Complementary
	// Difference: its people differ from those of an earlier result, in
	// this session or an earlier one, by fewer than k people, so the two
	// together would reveal a smaller group.
	Difference
)

var reasonNames = []string{"shown", "few_people", "few_contributors", "complementary", "difference"}

// String is the reason's name in logs and JSON.
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}

// Text explains the reason to a person, in "zh" or "en".
func (r Reason) Text(lang string, k int) string {
	zh := lang == "zh"
	switch r {
	case FewPeople:
		if zh {
			return fmt.Sprintf("已隐藏：不足 %d 人", k)
		}
		return fmt.Sprintf("withheld: fewer than %d people", k)
	case FewContributors:
		if zh {
			return fmt.Sprintf("已隐藏：该数值仅由不足 %d 人构成", k)
		}
		return fmt.Sprintf("withheld: the value rests on fewer than %d people", k)
	case Complementary:
		if zh {
			return "已隐藏：否则可由合计推算出被隐藏的格子"
		}
		return "withheld: would let a hidden cell be worked out from the totals"
	case Difference:
		if zh {
			return "已隐藏：与先前结果相减会暴露更小的人群"
		}
		return "withheld: would reveal a smaller group by difference"
	}
	return ""
}

// Protection says in one line which disclosure control a licence's
// numbers pass: method "perturb" (adjusted by at most bound people) or
// "suppress" (exact), with the minimum group size k; in "zh" or "en".
// Footers, exports, reports and the licence gate all say it the same
// way.
func Protection(method string, k, bound int, lang string) string {
	zh := lang == "zh"
	switch method {
	case "perturb":
		if zh {
			return fmt.Sprintf("扰动保护（单元键法）：每个数值含一致的随机调整（人数 ±%d 以内），同一人群每次结果相同；调整后不足 %d 人的格子隐藏", bound, k)
		}
		return fmt.Sprintf("perturbed (cell key method): every number carries a consistent random adjustment (head counts within ±%d), the same for the same people every time; cells below %d people after adjustment are withheld", bound, k)
	case "suppress":
		if zh {
			return fmt.Sprintf("抑制保护：数值精确；不足 %d 人或可由其他结果推算出的格子隐藏", k)
		}
		return fmt.Sprintf("suppressed: exact numbers; cells behind fewer than %d people, or that other results would give away, are withheld", k)
	}
	return ""
}

// ProtectionShort is Protection in a few words, for a status line.
func ProtectionShort(method string, k, bound int, lang string) string {
	zh := lang == "zh"
	switch method {
	case "perturb":
		if zh {
			return fmt.Sprintf("扰动保护（单元键法，±%d），k = %d", bound, k)
		}
		return fmt.Sprintf("perturbed (cell key method, ±%d), k = %d", bound, k)
	case "suppress":
		if zh {
			return fmt.Sprintf("抑制保护（数值精确），k = %d", k)
		}
		return fmt.Sprintf("suppressed (exact numbers), k = %d", k)
	}
	return fmt.Sprintf("k = %d", k)
}

// ReasonText explains a withheld cell of this result, as Reason.Text
// does; under "perturb" the sizes it speaks of are after adjustment (a
// cell withheld as fewer than k people may hold up to k+D-1).
func (r *Result) ReasonText(reason Reason, lang string) string {
	if r.Method != "perturb" {
		return reason.Text(lang, r.K)
	}
	zh := lang == "zh"
	switch reason {
	case FewPeople:
		if zh {
			return fmt.Sprintf("已隐藏：调整后不足 %d 人", r.K)
		}
		return fmt.Sprintf("withheld: fewer than %d people after adjustment", r.K)
	case FewContributors:
		if zh {
			return fmt.Sprintf("已隐藏：该数值调整后仅由不足 %d 人构成", r.K)
		}
		return fmt.Sprintf("withheld: the value rests on fewer than %d people after adjustment", r.K)
	}
	return reason.Text(lang, r.K)
}

// Protection is the result's Protection line.
func (r *Result) Protection(lang string) string { return Protection(r.Method, r.K, r.Bound, lang) }

// Row is one cell of a slice.
type Row struct {
	Keys   []string // one per dimension; Missing for a missing value
	Value  float64  // valid only when !Suppressed; NaN when undefined (a ratio over zero)
	People int64    // valid only when !Suppressed
	// Suppressed rows are withheld by the privacy guard for Reason:
	// neither value nor head count is released.
	Suppressed bool
	Reason     Reason
}

// Defined reports whether the row has a finite value to show.
func (r Row) Defined() bool {
	return !r.Suppressed && !math.IsNaN(r.Value) && !math.IsInf(r.Value, 0)
}

// Result is a slice's answer.
type Result struct {
	Query      Query
	Dims       []inventory.Field
	Measure    inventory.MeasureDef
	Rows       []Row
	Suppressed int // rows withheld, of those in Rows
	K          int
	// Total is the grand total (Query.Totals); its Keys are empty.
	Total *Row
	// Margins holds, for two dimensions and Query.Totals, the total of
	// each value of dimension i in Margins[i], keyed by that value alone.
	Margins [MaxDims][]Row
	// Other sums up the rows a top-N left out (Query.Other); its Keys
	// are empty.
	Other *Row
	// Withheld, when not Shown, withholds the whole result: every row is
	// withheld for this reason.
	Withheld Reason
	// PeopleLabel names the head-count column: the label of the
	// inventory's count measure.
	PeopleLabel inventory.Label
	// Method is the disclosure control the numbers passed: "perturb"
	// (each adjusted by the cell key method) or "suppress" (exact); Bound
	// is the largest adjustment of a head count under "perturb".
	Method  string
	Bound   int
	Elapsed time.Duration
}

// Printable replaces control characters, which could drive the terminal
// (escape sequences in a data value), with U+FFFD.
func Printable(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return unicode.ReplacementChar
		}
		return r
	}, s)
}

// rank orders a dimension's values: by their position in an ordinal
// order, otherwise by label in Chinese collation (pinyin, so 安徽 comes
// before 北京), which also orders Latin text as expected; missing values
// last.
func rank(col *collate.Collator, f inventory.Field, a, b string) int {
	if a == b {
		return 0
	}
	if a == "" {
		return 1
	}
	if b == "" {
		return -1
	}
	if f.Ordinal() {
		ia, ib := slices.Index(f.Order, a), slices.Index(f.Order, b)
		if ia < 0 {
			ia = len(f.Order)
		}
		if ib < 0 {
			ib = len(f.Order)
		}
		if c := cmp.Compare(ia, ib); c != 0 {
			return c
		}
	}
	if c := col.CompareString(a, b); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func valueClass(r Row) int {
	switch {
	case r.Suppressed:
		return 2
	case !r.Defined():
		return 1
	}
	return 0
}

// WithheldBy counts the withheld cells of the result, rows and
// margins, by reason name.
func (r *Result) WithheldBy() map[string]int {
	n := map[string]int{}
	add := func(rows ...Row) {
		for _, row := range rows {
			if row.Suppressed {
				n[row.Reason.String()]++
			}
		}
	}
	add(r.Rows...)
	add(r.Margins[0]...)
	add(r.Margins[1]...)
	for _, p := range []*Row{r.Total, r.Other} {
		if p != nil {
			add(*p)
		}
	}
	return n
}

// Sort orders the rows; with a top-N it first keeps the N largest
// values, then orders those. The guard calls it; the order is part of
// what is released.
func Sort(res *Result) {
	col := collate.New(language.Chinese)
	byLabel := func(a, b Row) int {
		for i, f := range res.Dims {
			if c := rank(col, f, a.Keys[i], b.Keys[i]); c != 0 {
				return c
			}
		}
		return 0
	}
	byValue := func(desc bool) func(a, b Row) int {
		return func(a, b Row) int {
			// Rows without a value go last: undefined, then withheld.
			if c := cmp.Compare(valueClass(a), valueClass(b)); c != 0 {
				return c
			}
			if a.Defined() {
				c := cmp.Compare(a.Value, b.Value)
				if desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return byLabel(a, b)
		}
	}
	if n := res.Query.TopN; n > 0 && len(res.Rows) > n {
		slices.SortStableFunc(res.Rows, byValue(true))
		res.Rows = res.Rows[:n]
	}
	order := res.Query.Order
	if order == Auto {
		order = Label
		switch {
		case len(res.Dims) == 1 && !res.Dims[0].Ordinal():
			order = ValueDesc
		case len(res.Dims) == 2 && !res.Dims[0].Ordinal():
			// Groups of a nominal first dimension, largest first (by the
			// people shown in them); within a group, the second
			// dimension's natural order.
			size := map[string]int64{}
			for _, r := range res.Rows {
				size[r.Keys[0]] += r.People // 0 for withheld rows
			}
			slices.SortStableFunc(res.Rows, func(a, b Row) int {
				if c := cmp.Compare(size[b.Keys[0]], size[a.Keys[0]]); c != 0 {
					return c
				}
				return byLabel(a, b)
			})
			return
		}
	}
	switch order {
	case ValueDesc:
		slices.SortStableFunc(res.Rows, byValue(true))
	case ValueAsc:
		slices.SortStableFunc(res.Rows, byValue(false))
	default:
		slices.SortStableFunc(res.Rows, byLabel)
	}
}
