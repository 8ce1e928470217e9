package contract

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// residentID completes 17 digits with their GB 11643 check character,
// computed independently of the package: weight 2^(17-i) mod 11 for the
// i-th digit (i from 1), check value (12 - sum mod 11) mod 11, 10 written X.
func residentID(first17 string) string {
	sum := 0
	for i, c := range first17 {
		w := 1
		for range 17 - i {
			w = w * 2 % 11
		}
		sum += int(c-'0') * w
	}
	v := (12 - sum%11) % 11
	if v == 10 {
		return first17 + "X"
	}
	return first17 + fmt.Sprint(v)
}

// luhn is an independent Luhn check: double every second digit from the
// right, sum the digits of the results.
func luhn(d string) bool {
	sum := 0
	for i := range len(d) {
		v := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			v = v*2/10 + v*2%10
		}
		sum += v
	}
	return sum%10 == 0
}

func TestResidentIDFixtures(t *testing.T) {
	// 11010519491231002X, the example of GB 11643:
	//   digits  1 1  0 1 0 5 1 9 4 9 1 2  3 1 0 0 2
	//   weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
	//   sum 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167, 167 mod 11 = 2,
	//   "10X98765432"[2] = X.
	if got := residentID("11010519491231002"); got != "11010519491231002X" {
		t.Fatalf("helper: %s", got)
	}
	if !isResidentID("11010519491231002X") {
		t.Error("11010519491231002X is valid")
	}
}

func TestIdentifiers(t *testing.T) {
	// An 18-digit resident ID that also passes Luhn: reported as an ID only.
	var idLuhn string
	for i := 0; idLuhn == "" && i < 1000; i++ {
		id := residentID(fmt.Sprintf("44030519900307%03d", i))
		if !strings.HasSuffix(id, "X") && luhn(id) {
			idLuhn = id
		}
	}
	if idLuhn == "" {
		t.Fatal("no fixture")
	}
	if luhn("6222021234567890128") != true || luhn("4111111111111112") != false {
		t.Fatal("Luhn fixtures")
	}

	none := []Rule(nil)
	cases := []struct {
		name string
		in   string
		want []Rule
	}{
		// Resident IDs.
		{"id GB 11643 example", "11010519491231002X", []Rule{ResidentID}},
		{"id lower-case x", "11010519491231002x", []Rule{ResidentID}},
		{"id built", residentID("44030519900307123"), []Rule{ResidentID}},
		{"id in text", "身份证" + residentID("32058319851111042") + "号", []Rule{ResidentID}},
		{"id with spaces", "110105 19491231 002X", []Rule{ResidentID}},
		{"id passing Luhn", idLuhn, []Rule{ResidentID}},
		{"id wrong check", "110105194912310021", none},
		{"id month 13", residentID("11010519491331002"), none},
		{"id 30 February", residentID("11010519490230002"), none},
		{"id day 0", residentID("11010519490100002"), none},
		{"id year 1899", residentID("11010518990101002"), none},
		{"id year 2101", residentID("11010521010101002"), none},
		{"id 17 digits", "11010519491231002", none},
		{"id X inside", "1101051949123100X2", none},
		// Mobiles.
		{"mobile", "13800138000", []Rule{Mobile}},
		{"mobile 19x", "19912345678", []Rule{Mobile}},
		{"mobile spaces", "138 0013 8000", []Rule{Mobile}},
		{"mobile +86 hyphens", "+86-138-0013-8000", []Rule{Mobile}},
		{"mobile +86 spaces", "+86 138 0013 8000", []Rule{Mobile}},
		{"mobile 86", "8613800138000", []Rule{Mobile}},
		{"mobile 0086", "008613800138000", []Rule{Mobile}},
		{"mobile (+86)", "(+86)13800138000", []Rule{Mobile}},
		{"mobile in text", "客户13800138000", []Rule{Mobile}},
		{"mobile full-width", "电话：１３８００１３８０００", []Rule{Mobile}},
		{"two mobiles joined", "13800138000-13900139000", []Rule{Mobile}},
		{"10 digits", "1380013800", none},
		{"12 digits", "138001380001", none},
		{"second digit 2", "12800138000", none},
		{"landline", "010-12345678", none},
		{"landline 11 digits", "02012345678", none},
		// Bank cards.
		{"card visa test", "4111111111111111", []Rule{BankCard}},
		{"card visa spaces", "4111 1111 1111 1111", []Rule{BankCard}},
		{"card unionpay 19", "6222021234567890128", []Rule{BankCard}},
		{"card unionpay hyphens", "6222-0212-3456-7890-128", []Rule{BankCard}},
		{"card in text", "卡号6222021234567890128", []Rule{BankCard}},
		{"card failing Luhn", "4111111111111112", none},
		{"card 19 failing Luhn", "6222021234567890123", none},
		{"card 15 digits", "411111111111116", none},
		{"card 20 digits", "41111111111111111113", none},
		// E-mail.
		{"email", "zhang.san@example.com", []Rule{Email}},
		{"email in text", "联系人：li_si+shop@qq.com.cn", []Rule{Email}},
		{"email host www", "x@www.example.com", []Rule{Email}},
		{"email full-width at", "wang＠163.com", []Rule{Email}},
		{"not email", "a@b", none},
		// URLs.
		{"https", "https://item.taobao.com/item.htm?id=1", []Rule{URL}},
		{"http", "http://x", []Rule{URL}},
		{"ftp", "ftp://files.example.org", []Rule{URL}},
		{"other scheme", "weixin://dl/chat", []Rule{URL}},
		{"www", "www.jd.com", []Rule{URL}},
		{"WWW upper", "WWW.JD.COM", []Rule{URL}},
		{"bare host with path", "item.jd.com/123.html", []Rule{URL}},
		{"bare host in text", "详情见item.taobao.com/x", []Rule{URL}},
		{"short link", "t.cn/A6abc", []Rule{URL}},
		{"bare host without path", "tmall.com", none},
		// Several at once, in rule order.
		{"all", "13800138000 zhang@example.com https://x.cn 11010519491231002X 4111111111111111",
			[]Rule{ResidentID, Mobile, BankCard, Email, URL}},
		// Persona labels stay clean.
		{"age band", "18-24", none},
		{"age open", "50+", none},
		{"month", "2025-01", none},
		{"date", "2025-01-01", none},
		{"date range", "2024-01-01 ~ 2024-12-31", none},
		{"province code", "440000", none},
		{"tier", "一线", none},
		{"category", "美妆", none},
		{"page type", "商品详情页", none},
		{"price band", "1000-1999元", none},
		{"price bands", "1000-1999, 2000-2999", none},
		{"tier T1", "T1", none},
		{"event", "双11", none},
		{"event 618", "618大促", none},
		{"device", "iPhone 15 Pro Max", none},
		{"decimal", "4.5", none},
		{"version", "v10.2.3", none},
		{"empty", "", none},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Identifiers(c.in); !slices.Equal(got, c.want) {
				t.Errorf("Identifiers(%q) = %v, want %v", c.in, got, c.want)
			}
		})
	}
}

func TestUSCC(t *testing.T) {
	// A code whose weighted sum is a multiple of 31 has check value 31,
	// written 0: find one to cover that branch.
	var zero string
	for _, c := range usccChars {
		first17 := "9135010000000000" + string(c)
		if ch, ok := USCCCheckChar(first17); ok && ch == '0' {
			zero = first17 + "0"
		}
	}
	if zero == "" {
		t.Fatal("no fixture with check 0")
	}
	built := func(first17 string) string {
		c, ok := USCCCheckChar(first17)
		if !ok {
			t.Fatalf("USCCCheckChar(%q) not ok", first17)
		}
		return first17 + string(c)
	}
	cases := []struct {
		name string
		in   string
		want bool
	}{
		// 91350100M000100Y43: a code in the real format whose check
		// character is right (the weighted sum is 1640, 1640 mod 31 = 28,
		// 31 - 28 = 3).
		{"real format", "91350100M000100Y43", true},
		{"sample licensor", "91330100MA27XK8L2W", true},
		{"built", built("12100000MB0123456"), true},
		{"check 0", zero, true},
		{"wrong check", "91350100M000100Y44", false},
		{"lower case", "91350100m000100y43", false},
		{"letter I", "91350100I000100Y43", false},
		{"letter O", "9135010OM000100Y43", false},
		{"17 chars", "91350100M000100Y4", false},
		{"19 chars", "91350100M000100Y433", false},
		{"empty", "", false},
		{"full-width", "９1350100M000100Y43", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ValidUSCC(c.in); got != c.want {
				t.Errorf("ValidUSCC(%q) = %v, want %v", c.in, got, c.want)
			}
		})
	}
	for _, bad := range []string{"", "91350100M000100Y", "91350100M000100Y43", "91350100m000100Y4", "91350100Z000100Y4"} {
		if c, ok := USCCCheckChar(bad); ok {
			t.Errorf("USCCCheckChar(%q) = %q, true; want false", bad, c)
		}
	}
	if c, ok := USCCCheckChar("91350100M000100Y4"); !ok || c != '3' {
		t.Errorf("USCCCheckChar = %q, %v; want '3', true", c, ok)
	}
}
