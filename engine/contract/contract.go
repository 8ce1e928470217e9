// Package contract checks persona data against the terms of its licence
// before it is packed: no direct identifiers or sensitive personal data,
// and places only at province level or above within mainland China.
//
// The licence covers de-identified, aggregated persona data for mainland
// China only. A licensor exporting data by hand can ship a column of phone
// numbers, a free-text note holding ID numbers or a city field by mistake;
// once encrypted and sent, that cannot be taken back. So pack screens every
// distinct text value first and refuses the data with a report of what it
// found, column by column.
//
// The detectors are pure functions of one value (Identifiers, CheckPlace,
// ValidUSCC); a Scanner runs them over the distinct values of many columns
// and sums up the findings. Reports never repeat a detected identifier in
// full: Mask hides most of it.
package contract

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Rule is one way a value breaks the contract.
type Rule string

// The rules, in the order they are reported.
const (
	// ResidentID is an 18-character PRC resident identity number
	// (GB 11643) with a valid check character and a plausible birth date.
	ResidentID Rule = "resident_id"
	// Mobile is a mainland mobile number, maybe after +86, 86 or 0086.
	Mobile Rule = "mobile"
	// BankCard is a run of 16 to 19 digits passing the Luhn check.
	BankCard Rule = "bank_card"
	// Email is an e-mail address anywhere in the value.
	Email Rule = "email"
	// URL is a web address anywhere in the value.
	URL Rule = "url"
	// OutsideMainland is a place in Hong Kong, Macao, Taiwan or abroad.
	OutsideMainland Rule = "outside_mainland"
	// BelowProvince is a place below province level: a city, district,
	// county, or a GB/T 2260 code not ending in 0000.
	BelowProvince Rule = "below_province"
	// NotAPlace is a value of a geographic column that is none of the
	// names or codes its kind accepts.
	NotAPlace Rule = "not_a_place"
)

// rules lists every rule in report order.
var rules = []Rule{ResidentID, Mobile, BankCard, Email, URL, OutsideMainland, BelowProvince, NotAPlace}

// Describe says what a rule found, as the predicate of a sentence whose
// subject is one value (plural false) or several: "looks like a mobile
// number", "are below province level". Finding.String uses it.
func (r Rule) Describe(plural bool) string {
	pick := func(one, many string) string {
		if plural {
			return many
		}
		return one
	}
	switch r {
	case ResidentID:
		return pick("looks like a resident ID number", "look like resident ID numbers")
	case Mobile:
		return pick("looks like a mobile number", "look like mobile numbers")
	case BankCard:
		return pick("looks like a bank card number", "look like bank card numbers")
	case Email:
		return pick("looks like an e-mail address", "look like e-mail addresses")
	case URL:
		return pick("looks like a URL", "look like URLs")
	case OutsideMainland:
		return pick("is outside mainland China", "are outside mainland China")
	case BelowProvince:
		return pick("is below province level", "are below province level")
	case NotAPlace:
		return pick("is not a known province-level place", "are not known province-level places")
	}
	return pick("breaks rule ", "break rule ") + string(r)
}

// maxStars caps the stars Mask writes, so that a long value does not
// become a long line of stars (and its length is not given away exactly).
const maxStars = 12

// Mask hides most of a value for reports. A value of 8 runes or more keeps
// its first 3 and last 2 runes and shows one star per hidden rune, at most
// 12 stars: Mask("110105199001011234") is "110************34" (13 hidden
// runes, 12 stars). A shorter value becomes one star per rune, and "" stays
// "". Kept runes that do not print (controls, invalid UTF-8) become '?', so
// that a report stays one line.
func Mask(s string) string {
	rs := []rune(s)
	if len(rs) < 8 {
		return strings.Repeat("*", len(rs))
	}
	printable := func(rs []rune) string {
		out := make([]rune, len(rs))
		for i, r := range rs {
			if r == utf8.RuneError || !unicode.IsPrint(r) {
				r = '?'
			}
			out[i] = r
		}
		return string(out)
	}
	return printable(rs[:3]) + strings.Repeat("*", min(len(rs)-5, maxStars)) + printable(rs[len(rs)-2:])
}

// Finding is one rule broken in one column.
type Finding struct {
	Column  string
	Rule    Rule
	Values  int    // distinct offending values
	Records int64  // records holding them
	Example string // masked for identifier rules, as found for place rules
}

// String renders the finding as one line of English, e.g.
// "column province: 1 value in 7 records is outside mainland China (e.g. 香港)".
func (f Finding) String() string {
	return fmt.Sprintf("column %s: %d %s in %d %s %s (e.g. %s)",
		f.Column, f.Values, plural(int64(f.Values), "value", "values"),
		f.Records, plural(f.Records, "record", "records"),
		f.Rule.Describe(f.Values != 1), f.Example)
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Scanner collects findings over the values of many columns. Feed it each
// distinct value of a column once, with the number of records holding it:
// it counts values, it does not deduplicate them (remembering every
// offending value of a large column would cost memory for nothing). The
// zero Scanner is not ready; use NewScanner. A Scanner is not safe for
// concurrent use.
type Scanner struct {
	found map[key]*tally
}

type key struct {
	column string
	rule   Rule
}

// tally is a finding in progress; exampleCount is the record count of the
// value its example came from.
type tally struct {
	Finding
	exampleCount int64
}

// NewScanner returns an empty scanner.
func NewScanner() *Scanner { return &Scanner{found: map[key]*tally{}} }

// add counts one offending value. The example is the value held by the
// most records, ties going to the smaller example, so that a report does
// not depend on the order the values came in.
func (s *Scanner) add(column string, r Rule, example string, count int64) {
	k := key{column, r}
	t := s.found[k]
	if t == nil {
		t = &tally{Finding: Finding{Column: column, Rule: r, Example: example}, exampleCount: count}
		s.found[k] = t
	} else if count > t.exampleCount || count == t.exampleCount && example < t.Example {
		t.Example, t.exampleCount = example, count
	}
	t.Values++
	t.Records += count
}

// Identifiers checks a text value of a column that holds count records.
func (s *Scanner) Identifiers(column, value string, count int64) {
	for _, r := range Identifiers(value) {
		s.add(column, r, Mask(value), count)
	}
}

// Place checks a value of a geographic column of kind g that holds count
// records.
func (s *Scanner) Place(column string, g Geo, value string, count int64) {
	if r := CheckPlace(g, value); r != "" {
		s.add(column, r, placeExample(value), count)
	}
}

// placeExample is how a place finding shows its value. Place names are not
// personal, so they are shown as found (trimmed) for the licensor to
// recognise. But a geographic column may hold anything (an address with a
// phone number, a whole note): a value that is long, does not print or
// holds an identifier is masked like one.
func placeExample(v string) string {
	v = strings.TrimSpace(v)
	if utf8.RuneCountInString(v) > 24 || len(Identifiers(v)) > 0 {
		return Mask(v)
	}
	for _, r := range v {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return Mask(v)
		}
	}
	return v
}

// Findings returns one Finding per column and rule broken, sorted by
// column, then by rule in the order the rules are declared (identifiers
// first, then places).
func (s *Scanner) Findings() []Finding {
	out := make([]Finding, 0, len(s.found))
	for _, t := range s.found {
		out = append(out, t.Finding)
	}
	slices.SortFunc(out, func(a, b Finding) int {
		if c := strings.Compare(a.Column, b.Column); c != 0 {
			return c
		}
		return slices.Index(rules, a.Rule) - slices.Index(rules, b.Rule)
	})
	return out
}
