package inventory

import (
	"math"
	"strconv"
	"strings"
)

// Format renders a value of the measure with its decimals, thousands
// separators and, for percentages, a % sign. The unit is not added.
func (m MeasureDef) Format(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	if m.Percent {
		return strconv.FormatFloat(v*100, 'f', m.Decimals, 64) + "%"
	}
	return Group(strconv.FormatFloat(v, 'f', m.Decimals, 64))
}

// Group inserts thousands separators into a formatted decimal number.
func Group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return sign + b.String()
}
