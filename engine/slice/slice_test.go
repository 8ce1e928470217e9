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

// Under perturbation the sizes a withheld cell's reason speaks of are
// after adjustment; the method's line says which control applies.
func TestReasonTextByMethod(t *testing.T) {
	tests := []struct {
		method, lang string
		reason       slice.Reason
		want         string
	}{
		{"suppress", "en", slice.FewPeople, "withheld: fewer than 10 people"},
		{"perturb", "en", slice.FewPeople, "withheld: fewer than 10 people after adjustment"},
		{"perturb", "zh", slice.FewContributors, "已隐藏：该数值调整后仅由不足 10 人构成"},
		{"perturb", "en", slice.Complementary, "withheld: would let a hidden cell be worked out from the totals"},
	}
	for _, tt := range tests {
		t.Run(tt.method+"/"+tt.lang+"/"+tt.reason.String(), func(t *testing.T) {
			r := &slice.Result{K: 10, Method: tt.method, Bound: 6}
			if got := r.ReasonText(tt.reason, tt.lang); got != tt.want {
				t.Errorf("ReasonText = %q, want %q", got, tt.want)
			}
			if r.Protection(tt.lang) == "" || slice.ProtectionShort(tt.method, 10, 6, tt.lang) == "" {
				t.Error("no protection line")
			}
		})
	}
}
