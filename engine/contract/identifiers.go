package contract

import (
	"regexp"
	"strings"
)

var (
	// Runs of digits, allowing single spaces or hyphens between groups
	// (138 0013 8000, 6222-0212-…), and an X closing a resident ID.
	digitRun = regexp.MustCompile(`\d(?:[\d]|[ -]\d)*[Xx]?`)
	email    = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
	urlRe    = regexp.MustCompile(`(?i)(?:\b[a-z][a-z0-9+.-]*://\S+|\bwww\.[a-z0-9-]+\.\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|cn|net|org|io|hk|tw|mo)(?:\.cn)?/\S*)`)
)

// Identifiers reports which identifier rules a value breaks, in the order
// ResidentID, Mobile, BankCard, Email, URL; nil if none. Runs of digits
// inside text are checked too. A digit run that is a valid resident ID is
// reported as one, and also as a bank card if it happens to pass Luhn.
func Identifiers(v string) []Rule {
	var id, mobile, card bool
	for _, run := range digitRun.FindAllString(v, -1) {
		d := strings.NewReplacer(" ", "", "-", "").Replace(run)
		if IsResidentID(d) {
			id = true
		}
		if isMobileDigits(d) {
			mobile = true
		}
		if IsBankCard(d) {
			card = true
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
	if email.MatchString(v) {
		out = append(out, Email)
	}
	if urlRe.MatchString(v) && !email.MatchString(v) {
		out = append(out, URL)
	}
	return out
}

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// IsResidentID reports whether s is an 18-character PRC resident identity
// number (GB 11643): 17 digits, a plausible birth date, and a valid
// ISO 7064 MOD 11-2 check character.
func IsResidentID(s string) bool {
	if len(s) != 18 {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		sum += int(s[i]-'0') * idWeights[i]
	}
	check := "10X98765432"[sum%11]
	last := s[17]
	if last == 'x' {
		last = 'X'
	}
	if last != check {
		return false
	}
	return plausibleDate(s[6:14])
}

func plausibleDate(d string) bool {
	n := func(s string) int {
		v := 0
		for _, c := range s {
			v = v*10 + int(c-'0')
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

// isMobileDigits: a mainland mobile number, optionally after 86 or 0086.
func isMobileDigits(d string) bool {
	for _, p := range []string{"0086", "86"} {
		if len(d) == 11+len(p) && strings.HasPrefix(d, p) {
			d = d[len(p):]
			break
		}
	}
	return len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9' && allDigits(d)
}

// IsMobile reports whether s is a mainland mobile number: 11 digits
// starting 13-19, maybe after +86, 86 or 0086, maybe with spaces or
// hyphens between groups.
func IsMobile(s string) bool {
	s = strings.TrimPrefix(strings.TrimSpace(s), "+")
	return isMobileDigits(strings.NewReplacer(" ", "", "-", "").Replace(s))
}

// IsBankCard reports whether d is 16 to 19 digits passing the Luhn check.
func IsBankCard(d string) bool {
	if len(d) < 16 || len(d) > 19 || !allDigits(d) {
		return false
	}
	sum := 0
	for i := 0; i < len(d); i++ {
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

const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// USCCCheckChar returns the check character of a unified social credit
// code's first 17 characters (GB 32100-2015).
func USCCCheckChar(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(usccChars, first17[i])
		if v < 0 {
			return 0, false
		}
		sum += v * usccWeights[i]
	}
	c := 31 - sum%31
	if c == 31 {
		c = 0
	}
	return usccChars[c], true
}

// ValidUSCC reports whether s is a valid 18-character unified social
// credit code, upper case, with a valid check character.
func ValidUSCC(s string) bool {
	if len(s) != 18 {
		return false
	}
	c, ok := USCCCheckChar(s[:17])
	return ok && s[17] == c
}
