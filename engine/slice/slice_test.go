package slice_test

import (
	"testing"

	"github.com/persona-workbench/persona/engine/slice"
)

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"广东":                  "广东",
		"a\x1b]0;pwned\x07b":  "a\uFFFD]0;pwned\uFFFDb",
		"tab\there\u0085next": "tab\uFFFDhere\uFFFDnext",
	} {
		if got := slice.Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}
