package contract

import (
	"regexp"
	"strings"
)

var (
	// digitRun finds runs of ASCII digits, where single spaces or hyphens
	// may separate groups (138 0013 8000, +86-138-…, 6222 0212 …) and an X
	// may close a resident ID. A leading + (of +86) is left out: the
	// country code is recognised by its digits.
	digitRun = regexp.MustCompile(`[0-9](?:[0-9]|[ -][0-9])*[Xx]?`)

	emailRe = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)

	// urlRe: any scheme://…; www.host.tld; or a bare host under a common
	// top-level domain followed by a path (item.jd.com/123.html). A bare
	// host without a path (tmall.com as a channel name) is not a URL: it
	// points nowhere in particular and names a platform, not a person.
	urlRe = regexp.MustCompile(`(?i)[a-z][a-z0-9+.-]*://\S` +
		`|\bwww\.[a-z0-9-]+(?:\.[a-z0-9-]+)+` +
		`|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|cn|net|org|edu|gov|info|biz|io|co|me|tv|cc|hk|mo|tw|xyz|top|app|shop|vip|site|online|store|club|ltd|wang)(?::[0-9]+)?/`)

	// wide folds full-width digits and signs, which Chinese input methods
	// produce, to ASCII so that "１３８００１３８０００" is caught too.
	wide = strings.NewReplacer(
		"０", "0", "１", "1", "２", "2", "３", "3", "４", "4",
		"５", "5", "６", "6", "７", "7", "８", "8", "９", "9",
		"Ｘ", "X", "ｘ", "x", "－", "-", "＋", "+", "　", " ", "＠", "@", "．", ".")

	separators = strings.NewReplacer(" ", "", "-", "")
)

// maxGroups bounds the digit groups of one run that are joined in every
// combination (quadratic in their number).
const maxGroups = 24

// Identifiers reports which identifier rules a value breaks, in the order
// ResidentID, Mobile, BankCard, Email, URL; none (nil) if it is clean.
//
// Digits are checked as whole runs (with their separators taken out) and,
// where separators split a run, group by group, so that both
// "客户13800138000" and "13800138000-13900139000" are caught. A run must be an
// identifier exactly: a mobile number is 11 digits (after 86 or 0086), not
// 10 or 12, which keeps labels such as "18-24", "2025-01", "440000" or
// "1000-1999元" clean. A run that is a valid resident ID is reported as
// ResidentID only, even if it also passes the Luhn check: one thing, one
// name (it is refused either way).
//
// A bank card is any 16-19 digit run passing Luhn, so about one long
// number in ten is reported as one; a category of such long numbers
// (order numbers, device IDs) is a per-record identifier anyway.
func Identifiers(v string) []Rule {
	v = wide.Replace(v)
	var id, mobile, card bool
	check := func(d string) {
		switch {
		case isResidentID(d):
			id = true
		case isMobile(d):
			mobile = true
		case isBankCard(d):
			card = true
		}
	}
	for _, run := range digitRun.FindAllString(v, -1) {
		found := id || mobile || card
		check(separators.Replace(run))
		if !found && (id || mobile || card) {
			continue // the whole run is one identifier
		}
		// A letter after the digits ("13800138000x…") is not a resident
		// ID's X unless 17 digits come before it: check the digits alone.
		bare := strings.TrimRight(run, "Xx")
		if bare != run && len(separators.Replace(bare)) != 17 {
			check(separators.Replace(bare))
		}
		// Separated groups may hold an identifier next to other numbers
		// ("2024-05-01 138-0013-8000"): check every run of consecutive
		// groups, with and without a closing X.
		for _, r := range []string{run, bare} {
			if !strings.ContainsAny(r, " -") {
				continue
			}
			groups := strings.FieldsFunc(r, func(r rune) bool { return r == ' ' || r == '-' })
			if len(groups) > maxGroups {
				groups = groups[:maxGroups]
			}
			for i := range groups {
				joined := ""
				for j := i; j < len(groups); j++ {
					joined += groups[j]
					check(joined)
				}
			}
		}
	}
	var out []Rule
	if id {
		out = append(out, ResidentID)
	}
	if mobile {
		out = append(out, Mobile)
	}
	if card {
		out = append(out, BankCard)
	}
	if emailRe.MatchString(v) {
		out = append(out, Email)
		// The host of an address (a@www.x.com) is not a URL of its own.
		v = emailRe.ReplaceAllString(v, " ")
	}
	if urlRe.MatchString(v) {
		out = append(out, URL)
	}
	return out
}

// idWeights are the GB 11643 weights, 2^(17-i) mod 11.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// isResidentID reports whether s is an 18-character PRC resident identity
// number (GB 11643): 17 digits, whose positions 7-14 are a plausible birth
// date (YYYYMMDD, 1900-2100), and an ISO 7064 MOD 11-2 check character
// (0-9 or X, x accepted). With the date, an 18-digit number that is not
// an ID passes less than once in ten thousand, not once in eleven.
func isResidentID(s string) bool {
	if len(s) != 18 || !allDigits(s[:17]) {
		return false
	}
	sum := 0
	for i := range 17 {
		sum += int(s[i]-'0') * idWeights[i]
	}
	last := s[17]
	if last == 'x' {
		last = 'X'
	}
	return last == "10X98765432"[sum%11] && plausibleDate(s[6:14])
}

// plausibleDate reports whether d (8 digits) is a date YYYYMMDD between
// 1900 and 2100. 29 February is accepted in any year: the ID's check
// character already rules out most accidents.
func plausibleDate(d string) bool {
	n := func(s string) int {
		v := 0
		for i := 0; i < len(s); i++ {
			v = v*10 + int(s[i]-'0')
		}
		return v
	}
	y, m, day := n(d[:4]), n(d[4:6]), n(d[6:8])
	if y < 1900 || y > 2100 || m < 1 || m > 12 || day < 1 {
		return false
	}
	days := [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	return day <= days[m]
}

// isMobile reports whether the digits d are a mainland mobile number,
// 1[3-9] and 9 more digits, maybe after the country code 86 or 0086.
func isMobile(d string) bool {
	for _, cc := range []string{"0086", "86"} {
		if len(d) == 11+len(cc) && strings.HasPrefix(d, cc) {
			d = d[len(cc):]
			break
		}
	}
	return len(d) == 11 && allDigits(d) && d[0] == '1' && d[1] >= '3'
}

// isBankCard reports whether d is 16 to 19 digits passing the Luhn check.
func isBankCard(d string) bool {
	if len(d) < 16 || len(d) > 19 || !allDigits(d) {
		return false
	}
	sum := 0
	for i := range len(d) {
		v := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// usccChars is the GB 32100-2015 character set: digits and upper-case
// letters without I, O, Z, S and V, which are easily confused. A
// character's value is its index.
const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are 3^i mod 31.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// USCCCheckChar returns the check character of a unified social credit
// code (统一社会信用代码, GB 32100-2015) from its first 17 characters;
// ok is false when first17 is not 17 characters of the code's set (upper
// case only).
func USCCCheckChar(first17 string) (check byte, ok bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := range 17 {
		v := strings.IndexByte(usccChars, first17[i])
		if v < 0 {
			return 0, false
		}
		sum += v * usccWeights[i]
	}
	return usccChars[(31-sum%31)%31], true
}

// ValidUSCC reports whether s is a valid unified social credit code: 18
// characters of the code's set with a valid check character. Only upper
// case is accepted, as the standard writes it: a caller that accepts
// lower case input upper-cases it first, so that the code is stored and
// compared in one form.
func ValidUSCC(s string) bool {
	if len(s) != 18 {
		return false
	}
	c, ok := USCCCheckChar(s[:17])
	return ok && s[17] == c
}
