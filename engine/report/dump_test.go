package report_test

import (
	"os"
	"testing"
)

func TestDump(t *testing.T) {
	dir := os.Getenv("REPORT_DUMP")
	if dir == "" {
		t.Skip()
	}
	r := build(t, fresh(t), nil, nil)
	f, _ := os.Create(dir + "/brand.html")
	r.WriteHTML(f)
	f.Close()
	f, _ = os.Create(dir + "/brand.md")
	r.WriteMarkdown(f)
	f.Close()
}
