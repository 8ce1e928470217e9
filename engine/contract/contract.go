// Package contract checks persona data against the terms of its licence
// before it is packed: no direct identifiers or sensitive personal data,
// and places only at province level or above within mainland China.
//
// The licence covers de-identified, aggregated persona data for mainland
// China only. A licensor exporting data by hand can ship a column of phone
// numbers or a city field by mistake; once encrypted and sent, that cannot
// be taken back. So pack screens every text value first and refuses with a
// report. Reports never repeat a detected identifier in full: Mask hides
// most of it.
package contract

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Rule is one way a value breaks the contract.
type Rule string

// Rules.
const (
	ResidentID      Rule = "resident_id"
	Mobile          Rule = "mobile"
	BankCard        Rule = "bank_card"
	Email           Rule = "email"
	URL             Rule = "url"
	OutsideMainland Rule = "outside_mainland"
	BelowProvince   Rule = "below_province"
	NotAPlace       Rule = "not_a_place"
)

// Describe says what a rule found, for reports.
func (r Rule) Describe(plural bool) string {
	verb := func(one, many string) string {
		if plural {
			return many
		}
		return one
	}
	switch r {
	case ResidentID:
		return verb("looks like a resident ID number", "look like resident ID numbers")
	case Mobile:
		return verb("looks like a mobile number", "look like mobile numbers")
	case BankCard:
		return verb("looks like a bank card number", "look like bank card numbers")
	case Email:
		return verb("looks like an e-mail address", "look like e-mail addresses")
	case URL:
		return verb("looks like a URL", "look like URLs")
	case OutsideMainland:
		return verb("is outside mainland China", "are outside mainland China")
	case BelowProvince:
		return verb("is below province level", "are below province level")
	case NotAPlace:
		return verb("is not a known province-level place", "are not known province-level places")
	}
	return string(r)
}

// Mask hides most of a value: values of 8 runes or more keep their first
// 3 and last 2 runes, with one star per hidden rune up to 12; shorter
// values become all stars.
func Mask(s string) string {
	rs := []rune(s)
	if len(rs) < 8 {
		return strings.Repeat("*", len(rs))
	}
	return string(rs[:3]) + strings.Repeat("*", min(len(rs)-5, 12)) + string(rs[len(rs)-2:])
}

// Finding is one rule broken in one column.
type Finding struct {
	Column  string
	Rule    Rule
	Values  int    // distinct offending values
	Records int64  // records holding them
	Example string // masked for identifiers, as found for places
}

func (f Finding) String() string {
	noun := "value"
	if f.Values != 1 {
		noun = "values"
	}
	rec := "record"
	if f.Records != 1 {
		rec = "records"
	}
	return fmt.Sprintf("column %s: %d %s in %d %s %s (e.g. %s)", f.Column, f.Values, noun, f.Records, rec, f.Rule.Describe(f.Values != 1), f.Example)
}

// Scanner collects findings over the values of many columns.
type Scanner struct {
	found map[[2]string]*Finding
}

// NewScanner returns an empty scanner.
func NewScanner() *Scanner { return &Scanner{found: map[[2]string]*Finding{}} }

func (s *Scanner) add(column string, r Rule, example string, count int64) {
	k := [2]string{column, string(r)}
	f := s.found[k]
	if f == nil {
		f = &Finding{Column: column, Rule: r, Example: example}
		s.found[k] = f
	}
	f.Values++
	f.Records += count
}

// Identifiers checks a text value of a column that holds count records.
func (s *Scanner) Identifiers(column, value string, count int64) {
	for _, r := range Identifiers(value) {
		s.add(column, r, Mask(value), count)
	}
}

// Place checks a value of a geographic column.
func (s *Scanner) Place(column string, g Geo, value string, count int64) {
	if r := CheckPlace(g, value); r != "" {
		if !utf8.ValidString(value) || len(value) > 40 {
			value = Mask(value)
		}
		s.add(column, r, value, count)
	}
}

// Findings returns the findings by column, then rule.
func (s *Scanner) Findings() []Finding {
	out := make([]Finding, 0, len(s.found))
	for _, f := range s.found {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Column != out[j].Column {
			return out[i].Column < out[j].Column
		}
		return out[i].Rule < out[j].Rule
	})
	return out
}
