package main

import (
	"io"
	"strings"

	"github.com/mattn/go-runewidth"
)

// table collects rows and writes them aligned, counting Chinese as two
// columns wide (text/tabwriter counts every rune as one).
type table struct {
	rows [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], runewidth.StringWidth(c))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		for i, c := range r {
			if i < len(r)-1 {
				c += strings.Repeat(" ", widths[i]-runewidth.StringWidth(c)+2)
			}
			b.WriteString(c)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
