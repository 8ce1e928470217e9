package contract

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// These tests complement identifiers_test.go, regions_test.go and
// contract_test.go: the predicates one by one, exhaustive properties of
// the check characters, a matrix of places against every kind of column,
// and the scanner's independence from the order of its input.

// withIDCheck completes 17 digits with their GB 11643 check character,
// computed as the standard states it: weights W_i = 2^(i-1) mod 11 for
// position i counted from the right (the check character being i = 1),
// check value (12 - sum mod 11) mod 11, 10 written X.
func withIDCheck(first17 string) string {
	sum := 0
	for j := range 17 {
		i := 18 - j // position from the right
		w := 1
		for range i - 1 {
			w = 2 * w % 11
		}
		sum += int(first17[j]-'0') * w
	}
	v := (12 - sum%11) % 11
	if v == 10 {
		return first17 + "X"
	}
	return first17 + string(rune('0'+v))
}

// withLuhn completes digits with their Luhn check digit.
func withLuhn(d string) string {
	for c := '0'; c <= '9'; c++ {
		s := d + string(c)
		sum := 0
		for i := range len(s) {
			v := int(s[len(s)-1-i] - '0')
			if i%2 == 1 {
				v *= 2
				if v > 9 {
					v -= 9
				}
			}
			sum += v
		}
		if sum%10 == 0 {
			return s
		}
	}
	panic("unreachable")
}

func TestIsResidentID(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"GB 11643 example", "11010519491231002X", true},
		{"lower-case x", "11010519491231002x", true},
		{"computed, Shenzhen 1990", withIDCheck("44030519900101123"), true},
		{"computed, Shanghai 2001", withIDCheck("31011520010915456"), true},
		{"computed, check digit 0-9", withIDCheck("32058319851111042"), true},
		{"born 1900-01-01", withIDCheck("11010519000101002"), true},
		{"born 2100-12-31", withIDCheck("11010521001231002"), true},
		{"29 February of a leap year", withIDCheck("11010520000229002"), true},
		{"wrong check digit", "110105194912310021", false},
		{"X where a digit belongs", "11010519491231002" + "Y", false},
		{"impossible date 19991332", withIDCheck("11010519991332002"), false},
		{"month 00", withIDCheck("11010519990001002"), false},
		{"day 00", withIDCheck("11010519990100002"), false},
		{"31 April", withIDCheck("11010519990431002"), false},
		{"30 February", withIDCheck("11010519990230002"), false},
		{"born 1899", withIDCheck("11010518991231002"), false},
		{"born 2101", withIDCheck("11010521010101002"), false},
		{"17 characters", "11010519491231002", false},
		{"19 characters", "11010519491231002X0", false},
		{"letter inside", "1101051949123100A2", false},
		{"separators are taken out before", "110105 19491231 002X", false},
		{"15-digit first-generation ID", "110105491231002", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isResidentID(tt.in); got != tt.want {
				t.Errorf("isResidentID(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// Exactly one of the eleven check characters completes a number.
func TestResidentIDCheckCharacterIsUnique(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		first17 := fmt.Sprintf("%06d%04d%02d%02d%03d", r.IntN(1000000), 1900+r.IntN(200), 1+r.IntN(12), 1+r.IntN(28), r.IntN(1000))
		valid := 0
		for _, c := range "0123456789X" {
			if isResidentID(first17 + string(c)) {
				valid++
				if want := withIDCheck(first17); first17+string(c) != want {
					t.Errorf("%s%c accepted, the check character is %c", first17, c, want[17])
				}
			}
		}
		if valid != 1 {
			t.Errorf("%s: %d check characters accepted, want 1", first17, valid)
		}
	}
}

// The birth date is checked against the calendar, 29 February in any year.
func TestResidentIDBirthDates(t *testing.T) {
	days := [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	for _, year := range []int{2023, 2024} {
		for month := 0; month <= 13; month++ {
			for day := 0; day <= 32; day++ {
				date := fmt.Sprintf("%04d%02d%02d", year, month, day)
				want := month >= 1 && month <= 12 && day >= 1 && day <= days[month]
				if got := isResidentID(withIDCheck("440305" + date + "123")); got != want {
					t.Errorf("birth date %s: accepted %v, want %v", date, got, want)
				}
			}
		}
	}
}

func TestIsMobile(t *testing.T) {
	tests := []struct {
		digits string
		want   bool
	}{
		{"13800138000", true},
		{"14700000000", true},
		{"15912345678", true},
		{"16612345678", true},
		{"17012345678", true},
		{"18612345678", true},
		{"19912345678", true},
		{"8613800138000", true},
		{"008613800138000", true},
		{"12800138000", false},      // 12x is no mobile prefix
		{"10086000000", false},      // nor 10x
		{"23800138000", false},      // not starting 1
		{"1380013800", false},       // 10 digits
		{"138001380001", false},     // 12 digits
		{"01012345678", false},      // Beijing landline
		{"8612800138000", false},    // 86, then no mobile
		{"0008613800138000", false}, // one zero too many
		{"8513800138000", false},    // another country code
		{"138 0013 8000", false},    // separators are taken out before
		{"1380013800X", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.digits, func(t *testing.T) {
			if got := isMobile(tt.digits); got != tt.want {
				t.Errorf("isMobile(%q) = %v, want %v", tt.digits, got, tt.want)
			}
		})
	}
}

func TestIsBankCard(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"Visa test number", "4111111111111111", true},
		{"Visa test number, wrong check", "4111111111111112", false},
		{"Mastercard test number", "5555555555554444", true},
		{"UnionPay 19 digits", withLuhn("622202123456789012"), true},
		{"UnionPay 17 digits", withLuhn("6212345678901234"), true},
		{"18 digits", withLuhn("62123456789012345"), true},
		{"15 digits passing Luhn", "378282246310005", false}, // Amex test number: too short here
		{"20 digits passing Luhn", withLuhn("6222021234567890123"), false},
		{"all zeros", "0000000000000000", true}, // Luhn only: a run of zeros passes
		{"spaces", "4111 1111 1111 1111", false},
		{"letter", "411111111111111a", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isBankCard(tt.in); got != tt.want {
				t.Errorf("isBankCard(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	// Exactly one check digit completes any prefix.
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		n := 15 + r.IntN(4)
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		ok := 0
		for c := '0'; c <= '9'; c++ {
			if isBankCard(b.String() + string(c)) {
				ok++
			}
		}
		if ok != 1 || !isBankCard(withLuhn(b.String())) {
			t.Errorf("%s: %d check digits accepted, want 1", b.String(), ok)
		}
	}
}

func TestIdentifiersCases(t *testing.T) {
	none := []Rule(nil)
	tests := []struct {
		name string
		in   string
		want []Rule
	}{
		{"mobile 0086 with hyphen", "0086-13800138000", []Rule{Mobile}},
		{"mobile +86 grouped", "+86 138 0013 8000", []Rule{Mobile}},
		{"mobile 86 grouped", "86 138-0013-8000", []Rule{Mobile}},
		{"mobile after a number", "No.1 13800138000", []Rule{Mobile}},
		{"mobile after a date", "2024-05-01 13800138000", []Rule{Mobile}},
		{"two mobiles", "13800138000 13900139000", []Rule{Mobile}},
		{"mobile in brackets", "电话(13800138000)", []Rule{Mobile}},
		{"10 digits", "1380013800", none},
		{"landline", "010-12345678", none},
		{"landline with area code and extension", "0755-8888-8888-123", none},
		{"not a mobile prefix", "12800138000", none},
		{"ID after a number", "1 11010519491231002X", []Rule{ResidentID}},
		{"ID then mobile", "11010519491231002X13800138000", []Rule{ResidentID, Mobile}},
		{"ID full-width", "１１０１０５１９４９１２３１００２Ｘ", []Rule{ResidentID}},
		{"ID with a wrong check", "110105194912310021", none},
		{"ID with an impossible date", withIDCheck("11010519991332002"), none},
		{"card 16", "4111111111111111", []Rule{BankCard}},
		{"card failing Luhn", "4111111111111112", none},
		{"card 19", withLuhn("622202123456789012"), []Rule{BankCard}},
		{"card 19 grouped by 4", "6222 0212 3456 7890 128", []Rule{BankCard}},
		{"email", "wang.fang@example.com.cn", []Rule{Email}},
		{"email upper case", "WANG@EXAMPLE.CN", []Rule{Email}},
		{"email and mobile", "王芳 13800138000 wang@example.com", []Rule{Mobile, Email}},
		{"email and URL", "wang@example.com, https://example.com/x", []Rule{Email, URL}},
		{"https URL", "https://shop.example.com/item?id=123", []Rule{URL}},
		{"www", "www.example.com", []Rule{URL}},
		{"bare host with path", "item.jd.com/123.html", []Rule{URL}},
		{"host with port and path", "shop.example.cn:8080/a", []Rule{URL}},
		{"product page type", "商品详情页", none},
		{"search page type", "搜索结果页", none},
		{"bare platform name", "jd.com", none},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Identifiers(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("Identifiers(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// personaLabels are values a clean persona data set holds: bands, months,
// codes, tiers, categories, levels.
var personaLabels = []string{
	"18-24", "25-29", "30-34", "35-39", "40-49", "50+", "女", "男",
	"2025-01", "2025-12", "2025-01-01", "2024Q4", "440000", "110000",
	"一线", "新一线", "二线", "五线", "T1", "T2",
	"美妆", "母婴", "3C数码", "家用电器", "食品生鲜", "运动户外",
	"普通会员", "白银会员", "黄金会员", "铂金会员", "钻石会员", "88VIP",
	"1000-1999元", "0-99元", "10000元以上", "低频(≤3单/年)", "中频(4-11单/年)", "超高频(≥36单/年)",
	"安卓手机", "苹果手机", "电脑", "平板", "iPhone 15", "小程序", "App",
	"商品详情页", "搜索结果页", "店铺首页", "直播间", "购物车",
	"是", "否", "已曝光", "未曝光", "双11", "618大促", "3.8节",
	"华东", "广东", "广东省", "Guangdong",
}

func TestCleanLabels(t *testing.T) {
	s := NewScanner()
	for _, v := range personaLabels {
		t.Run(v, func(t *testing.T) {
			if got := Identifiers(v); got != nil {
				t.Errorf("Identifiers(%q) = %v, want none", v, got)
			}
		})
		s.Identifiers("label", v, 10)
	}
	if f := s.Findings(); len(f) != 0 {
		t.Errorf("scanner found %v in clean labels", f)
	}
}

// CheckPlace of each value in each kind of column.
func TestCheckPlaceMatrix(t *testing.T) {
	const ok = Rule("")
	tests := []struct {
		value                      string
		province, code, regionRule Rule
	}{
		{"广东", ok, NotAPlace, ok},
		{"广东省", ok, NotAPlace, ok},
		{"Guangdong", ok, NotAPlace, ok},
		{"guangdong province", ok, NotAPlace, ok},
		{"内蒙古自治区", ok, NotAPlace, ok},
		{"北京市", ok, NotAPlace, ok},
		{"深圳市", BelowProvince, BelowProvince, BelowProvince},
		{"南山区", BelowProvince, BelowProvince, BelowProvince},
		{"深圳", BelowProvince, BelowProvince, BelowProvince},
		{"Shenzhen City", BelowProvince, BelowProvince, BelowProvince},
		{"香港", OutsideMainland, OutsideMainland, OutsideMainland},
		{"台湾省", OutsideMainland, OutsideMainland, OutsideMainland},
		{"Hong Kong", OutsideMainland, OutsideMainland, OutsideMainland},
		{"HONG KONG", OutsideMainland, OutsideMainland, OutsideMainland},
		{"澳门特别行政区", OutsideMainland, OutsideMainland, OutsideMainland},
		{"Mars", NotAPlace, NotAPlace, NotAPlace},
		{"", ok, ok, ok},
		{" \t", ok, ok, ok},
		{"440000", NotAPlace, ok, NotAPlace},
		{"440300", BelowProvince, BelowProvince, BelowProvince},
		{"810000", OutsideMainland, OutsideMainland, OutsideMainland},
		{"710100", OutsideMainland, OutsideMainland, OutsideMainland},
		{"999999", NotAPlace, NotAPlace, NotAPlace},
		{"华东", NotAPlace, NotAPlace, ok},
		{"全国", NotAPlace, NotAPlace, ok},
		{"Mainland China", NotAPlace, NotAPlace, ok},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			g    Geo
			want Rule
		}{{Province, tt.province}, {ProvinceCode, tt.code}, {Region, tt.regionRule}} {
			t.Run(string(c.g)+"/"+tt.value, func(t *testing.T) {
				if got := CheckPlace(c.g, tt.value); got != c.want {
					t.Errorf("CheckPlace(%s, %q) = %q, want %q", c.g, tt.value, got, c.want)
				}
			})
		}
	}
}

func TestUSCCCodes(t *testing.T) {
	build := func(first17 string) string {
		c, ok := USCCCheckChar(first17)
		if !ok {
			t.Fatalf("USCCCheckChar(%q) not ok", first17)
		}
		return first17 + string(c)
	}
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"sample licensor", "91330100MA27XK8L2W", true},
		{"sample licensee", "91310000MA1FL5KX3X", true},
		{"built, company", build("91440300MA5FXXXX1"), true},
		{"built, public institution", build("12100000400000624"), true},
		{"built, all zeros", build("00000000000000000"), true},
		{"sample licensee, wrong check", "91310000MA1FL5KX3Y", false},
		{"sample licensor, lower case", "91330100ma27xk8l2w", false},
		{"lower-case check character", "91310000MA1FL5KX3x", false},
		{"letter I", "91330100IA27XK8L2W", false},
		{"letter O", "91330100OA27XK8L2W", false},
		{"letter Z", "91330100ZA27XK8L2W", false},
		{"letter S", "91330100SA27XK8L2W", false},
		{"letter V", "91330100VA27XK8L2W", false},
		{"space", "91330100 A27XK8L2W", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidUSCC(tt.in); got != tt.want {
				t.Errorf("ValidUSCC(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	// The five letters left out of the code are refused in every position,
	// and exactly one of the 31 characters checks any first 17.
	base := "91310000MA1FL5KX3"
	for i := range 17 {
		for _, c := range "IOZSVa-" {
			bad := base[:i] + string(c) + base[i+1:]
			if ch, ok := USCCCheckChar(bad); ok {
				t.Errorf("USCCCheckChar(%q) = %c, true", bad, ch)
			}
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	const set = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	for range 200 {
		var b strings.Builder
		for range 17 {
			b.WriteByte(set[r.IntN(len(set))])
		}
		n := 0
		for i := range len(set) {
			if ValidUSCC(b.String() + set[i:i+1]) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d check characters accepted, want 1", b.String(), n)
		}
	}
}

func TestMaskExact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"王芳", "**"},
		{"1380013", "*******"},
		{"11010519491231002X", "110************2X"},
		{"+86 138 0013 8000", "+86************00"},
		{"6222021234567890128", "622************28"},
		{"wang@example.cn", "wan**********cn"},
		{"内蒙古自治区阿拉善盟", "内蒙古*****善盟"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Mask(tt.in); got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// scanned is one value fed to a scanner.
type scanned struct {
	column string
	geo    Geo // "" for identifiers
	value  string
	count  int64
}

func scan(values []scanned) []Finding {
	s := NewScanner()
	for _, v := range values {
		if v.geo == "" {
			s.Identifiers(v.column, v.value, v.count)
		} else {
			s.Place(v.column, v.geo, v.value, v.count)
		}
	}
	return s.Findings()
}

func TestScannerOrder(t *testing.T) {
	values := []scanned{
		{"note", "", "13800138000", 4},
		{"note", "", "13900139000", 4},
		{"note", "", "11010519491231002X", 3},
		{"note", "", "4111111111111111", 2},
		{"note", "", "6222 0212 3456 7890 128", 2},
		{"note", "", "正常", 50},
		{"contact", "", "a@example.com", 1},
		{"contact", "", "b@example.com", 1},
		{"province", Province, "广东", 100},
		{"province", Province, "香港", 5},
		{"province", Province, "深圳市", 7},
		{"province", Province, "440300", 7},
		{"code", ProvinceCode, "440000", 90},
		{"code", ProvinceCode, "810000", 2},
		{"code", ProvinceCode, "999999", 1},
		{"region", Region, "华东", 60},
		{"region", Region, "全国", 60},
		{"region", Region, "Mars", 1},
	}
	want := []Finding{
		{"code", OutsideMainland, 1, 2, "810000"},
		{"code", NotAPlace, 1, 1, "999999"},
		{"contact", Email, 2, 2, "a@e********om"},
		// ResidentID before BankCard, the order the rules are declared in.
		{"note", ResidentID, 1, 3, "110************2X"},
		{"note", Mobile, 2, 8, "138******00"},
		{"note", BankCard, 2, 4, "411***********11"},
		// OutsideMainland before BelowProvince.
		{"province", OutsideMainland, 1, 5, "香港"},
		{"province", BelowProvince, 2, 14, "440300"},
		{"region", NotAPlace, 1, 1, "Mars"},
	}
	if got := scan(values); !slices.Equal(got, want) {
		t.Fatalf("Findings:\n got %v\nwant %v", got, want)
	}
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 50 {
		shuffled := slices.Clone(values)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := scan(shuffled); !slices.Equal(got, want) {
			t.Fatalf("shuffle %d: Findings depend on the order of the values:\n got %v\nwant %v", i, got, want)
		}
	}
}

func TestScannerMasksIdentifiersOnly(t *testing.T) {
	s := NewScanner()
	s.Identifiers("phone", "13800138000", 1)
	s.Place("city", Province, "深圳市", 1)
	s.Place("city2", Province, "广东省深圳市南山区粤海街道科技园路1号腾讯滨海大厦A座", 1)
	for _, f := range s.Findings() {
		switch f.Column {
		case "phone":
			if strings.Contains(f.Example, "13800138000") || f.Example != Mask("13800138000") {
				t.Errorf("phone example %q is not masked", f.Example)
			}
		case "city":
			if f.Example != "深圳市" {
				t.Errorf("place example %q, want it as found", f.Example)
			}
		case "city2":
			if f.Rule != BelowProvince || f.Example != "广东省************A座" {
				t.Errorf("a long place value: %s %q, want it below province and masked", f.Rule, f.Example)
			}
		}
	}
	if n := len(s.Findings()); n != 3 {
		t.Errorf("%d findings, want 3", n)
	}
}

func TestFindingStringForms(t *testing.T) {
	tests := []struct {
		f    Finding
		want string
	}{
		{Finding{"phone", Mobile, 1, 1, "138******00"}, "column phone: 1 value in 1 record looks like a mobile number (e.g. 138******00)"},
		{Finding{"phone", Mobile, 2, 2, "138******00"}, "column phone: 2 values in 2 records look like mobile numbers (e.g. 138******00)"},
		{Finding{"card", BankCard, 3, 9, "622************28"}, "column card: 3 values in 9 records look like bank card numbers (e.g. 622************28)"},
		{Finding{"site", URL, 1, 3, "htt**********om"}, "column site: 1 value in 3 records looks like a URL (e.g. htt**********om)"},
		{Finding{"site", URL, 4, 4, "htt**********om"}, "column site: 4 values in 4 records look like URLs (e.g. htt**********om)"},
		{Finding{"mail", Email, 2, 5, "a@*********om"}, "column mail: 2 values in 5 records look like e-mail addresses (e.g. a@*********om)"},
		{Finding{"region", NotAPlace, 1, 1, "Mars"}, "column region: 1 value in 1 record is not a known province-level place (e.g. Mars)"},
		{Finding{"province", OutsideMainland, 3, 3, "香港"}, "column province: 3 values in 3 records are outside mainland China (e.g. 香港)"},
		{Finding{"province", BelowProvince, 1, 2, "深圳"}, "column province: 1 value in 2 records is below province level (e.g. 深圳)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.f.String(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// FuzzIdentifiersInText checks that an identifier standing as a word of
// its own, with spaces around it, is found whatever text surrounds it, and
// that Identifiers is deterministic.
func FuzzIdentifiersInText(f *testing.F) {
	for _, s := range [][2]string{
		{"", ""}, {"客户", "先生"}, {"No.1", "ext 2"}, {"2024-05-01", "2024-05-02"},
		{"+86", "x"}, {"a@b", "@c.cn"}, {"１２", "３４"}, {"http", "://"}, {"-", "-"}, {"\xff", "\x00"},
	} {
		f.Add(s[0], s[1])
	}
	words := []struct {
		word string
		rule Rule
	}{
		{"13800138000", Mobile},
		{"11010519491231002X", ResidentID},
		{"6222021234567890128", BankCard},
		{"zhang.san@example.com", Email},
		{"https://example.com/p?id=1", URL},
	}
	f.Fuzz(func(t *testing.T, before, after string) {
		for _, w := range words {
			v := before + " " + w.word + " " + after
			got := Identifiers(v)
			if !slices.Contains(got, w.rule) {
				t.Fatalf("Identifiers(%q) = %v: %s not found", v, got, w.rule)
			}
			if again := Identifiers(v); !slices.Equal(got, again) {
				t.Fatalf("Identifiers(%q) unstable: %v then %v", v, got, again)
			}
		}
	})
}
