package contract

import (
	"slices"
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"abc", "***"},
		{"1234567", "*******"},
		{"12345678", "123***78"},
		{"13800138000", "138******00"},
		// 18 runes: 13 hidden, capped at 12 stars.
		{"110105199001011234", "110************34"},
		{"深圳市南山区科技园", "深圳市****技园"},
		{"zhang.san@example.com", "zha************om"},
		{strings.Repeat("x", 100), "xxx************xx"},
		{"a\nb12345678\x00", "a?b*******8?"},
		{"\xff\xfe12345678", "??1*****78"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			if got := Mask(c.in); got != c.want {
				t.Errorf("Mask(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	for _, r := range rules {
		for _, plural := range []bool{false, true} {
			if d := r.Describe(plural); strings.Contains(d, "rule") {
				t.Errorf("%s has no description", r)
			}
		}
	}
	if d := Rule("x").Describe(false); d != "breaks rule x" {
		t.Errorf("unknown rule: %q", d)
	}
	// The report of a column declared geographic by mistake says what it
	// expected; the end-to-end tests look for this.
	if !strings.Contains(NotAPlace.Describe(true), "province-level") {
		t.Error(NotAPlace.Describe(true))
	}
}

func TestFindingString(t *testing.T) {
	cases := []struct {
		name string
		f    Finding
		want string
	}{
		{"plural", Finding{"note", ResidentID, 3, 120, "110************34"},
			"column note: 3 values in 120 records look like resident ID numbers (e.g. 110************34)"},
		{"one value", Finding{"phone", Mobile, 1, 7, "138******00"},
			"column phone: 1 value in 7 records looks like a mobile number (e.g. 138******00)"},
		{"one record", Finding{"mail", Email, 1, 1, "zha************om"},
			"column mail: 1 value in 1 record looks like an e-mail address (e.g. zha************om)"},
		{"below", Finding{"province", BelowProvince, 2, 40, "深圳市"},
			"column province: 2 values in 40 records are below province level (e.g. 深圳市)"},
		{"outside", Finding{"province", OutsideMainland, 1, 7, "香港"},
			"column province: 1 value in 7 records is outside mainland China (e.g. 香港)"},
		{"not a place", Finding{"device", NotAPlace, 4, 1000, "iPhone"},
			"column device: 4 values in 1000 records are not known province-level places (e.g. iPhone)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.f.String(); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestScanner(t *testing.T) {
	s := NewScanner()
	if got := s.Findings(); len(got) != 0 {
		t.Fatalf("empty scanner: %v", got)
	}
	type value struct {
		v string
		n int64
	}
	feed := map[string][]value{
		"note": {
			{"13800138000", 5},
			{"客户13900139000", 9},
			{"11010519491231002X", 2},
			{"正常备注", 100},
			{"联系 zhang@example.com 或 13700137000", 1},
		},
		"age": {{"18-24", 50}, {"50+", 10}},
		"city": {
			{"广东", 30},
			{"深圳市", 10},
			{"南山区", 10},
			{"香港", 3},
			{"", 4},
			{"广东省深圳市南山区科技园路1号 13800138000", 1},
			{"Mars", 1},
		},
	}
	// Feed columns and values in an order unrelated to the result's.
	for _, col := range []string{"note", "city", "age"} {
		for _, v := range feed[col] {
			s.Identifiers(col, v.v, v.n)
			if col == "city" {
				s.Place(col, Province, v.v, v.n)
			}
		}
	}
	want := []Finding{
		{"city", Mobile, 1, 1, "广东省************00"},
		{"city", OutsideMainland, 1, 3, "香港"},
		// 深圳市 and 南山区 tie on records: the smaller example wins.
		{"city", BelowProvince, 3, 21, "南山区"},
		{"city", NotAPlace, 1, 1, "Mars"},
		{"note", ResidentID, 1, 2, "110************2X"},
		// The example is the value held by the most records.
		{"note", Mobile, 3, 15, "客户1********00"},
		{"note", Email, 1, 1, "联系 ************00"},
	}
	if got := s.Findings(); !slices.Equal(got, want) {
		t.Errorf("got\n%v\nwant\n%v", got, want)
	}
}

func TestPlaceExample(t *testing.T) {
	cases := []struct{ in, want string }{
		{" 深圳市 ", "深圳市"},
		{"Hong Kong", "Hong Kong"},
		{"440300", "440300"},
		{"南山区 13800138000", "南山区**********00"},
		{strings.Repeat("区", 30), "区区区************区区"},
		{"bad\x00place", "bad****ce"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			if got := placeExample(c.in); got != c.want {
				t.Errorf("placeExample(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func FuzzIdentifiers(f *testing.F) {
	for _, s := range []string{
		"", "18-24", "11010519491231002X", "+86-138-0013-8000", "6222 0212 3456 7890 128",
		"a@b.cn https://x", "１３８００１３８０００", "深圳市", "\xff\xfe", "1 2-3 4-",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := Identifiers(v)
		if again := Identifiers(v); !slices.Equal(got, again) {
			t.Fatalf("unstable: %v then %v", got, again)
		}
		// In rule order, without repeats.
		last := -1
		for _, r := range got {
			i := slices.Index(rules, r)
			if i <= last || i > slices.Index(rules, URL) {
				t.Fatalf("Identifiers(%q) = %v: out of order", v, got)
			}
			last = i
		}
		if m := Mask(v); strings.ContainsAny(m, "\n\r") {
			t.Fatalf("Mask(%q) = %q: not one line", v, m)
		}
		for _, g := range []Geo{Province, ProvinceCode, Region} {
			switch CheckPlace(g, v) {
			case "", OutsideMainland, BelowProvince, NotAPlace:
			default:
				t.Fatalf("CheckPlace(%s, %q): unknown rule", g, v)
			}
		}
	})
}
