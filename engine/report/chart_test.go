package report_test

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/persona-workbench/persona/engine/report"
)

// rects returns the filled rectangles an SVG draws: x, y, width, height.
func rects(svg string) [][4]float64 {
	re := regexp.MustCompile(`d="M([-\d.]+),([-\d.]+)L([-\d.]+),([-\d.]+)L([-\d.]+),([-\d.]+)L([-\d.]+),([-\d.]+)Z"`)
	var out [][4]float64
	for _, m := range re.FindAllStringSubmatch(svg, -1) {
		var v [8]float64
		for i := range v {
			v[i], _ = strconv.ParseFloat(m[i+1], 64)
		}
		x0, x1 := math.Min(v[0], v[4]), math.Max(v[0], v[4])
		y0, y1 := math.Min(v[1], v[5]), math.Max(v[1], v[5])
		out = append(out, [4]float64{x0, y0, x1 - x0, y1 - y0})
	}
	return out
}

// Each bar of a chart is drawn, in its own place, as long as its value.
func TestChartsDrawEveryBar(t *testing.T) {
	for _, kind := range []report.ChartKind{report.Bars, report.HBars} {
		t.Run(string(kind), func(t *testing.T) {
			c := report.Chart{Kind: kind, Title: report.BrandTitle}
			n := 6
			if kind == report.HBars {
				n = 30
			}
			for i := range n {
				c.Labels = append(c.Labels, fmt.Sprintf("省份%d", i))
				c.Values = append(c.Values, float64(100*(i+1)))
			}
			svg, err := c.SVG()
			if err != nil {
				t.Fatal(err)
			}
			var bars [][4]float64
			for _, r := range rects(svg) {
				if r[2] < 600 && r[3] < 600 && r[2] > 0 && r[3] > 0 { // not the background
					bars = append(bars, r)
				}
			}
			if len(bars) != n {
				t.Fatalf("%d bars drawn, want %d", len(bars), n)
			}
			// The longest bar is the largest value, n times the first.
			length := func(r [4]float64) float64 {
				if kind == report.HBars {
					return r[2]
				}
				return r[3]
			}
			lo, hi := math.Inf(1), 0.0
			for _, b := range bars {
				lo, hi = math.Min(lo, length(b)), math.Max(hi, length(b))
			}
			if math.Abs(hi/lo-float64(n)) > 0.05*float64(n) {
				t.Errorf("bars from %.1f to %.1f long: want a ratio of %d", lo, hi, n)
			}
			if !strings.Contains(svg, "省份0") || !strings.Contains(svg, fmt.Sprintf("省份%d", n-1)) {
				t.Error("labels missing")
			}
		})
	}
}
