package contract

import (
	"slices"
	"testing"
)

// Identifiers next to letters or other numbers are still found, and the
// labels around them stay clean.
func TestIdentifiersInContext(t *testing.T) {
	cases := []struct {
		v    string
		want []Rule
	}{
		{"13800138000x", []Rule{Mobile}},
		{"手机13800138000X先生", []Rule{Mobile}},
		{"13800138000xiaowang", []Rule{Mobile}},
		{"6222021234567890128x", []Rule{BankCard}},
		{"客户 1 138 0013 8000", []Rule{Mobile}},
		{"2024-05-01 138-0013-8000", []Rule{Mobile}},
		{"138 0013 8000 139 0013 9000", []Rule{Mobile}},
		{"18-24", nil},
		{"1000-1999元", nil},
	}
	for _, c := range cases {
		t.Run(c.v, func(t *testing.T) {
			if got := Identifiers(c.v); !slices.Equal(got, c.want) {
				t.Errorf("Identifiers(%q) = %v, want %v", c.v, got, c.want)
			}
		})
	}
}
