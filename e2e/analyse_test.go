package e2e

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// persona analyse runs on a licensed package: rules and lift in each
// format, a one-line error for bad input, and every run in the usage log.
func TestAnalyse(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "ws")
	copyDir(t, lic.pristine, ws)
	env := []string{"PERSONA_HOME=" + ws}

	r := personaEnv(t, env, "analyse", "rules", lic.pkg, "--dim", "categories", "--top", "5", "--lang", "en")
	if r.code != 0 || !strings.Contains(r.stdout, "Association rules: Preferred categories") || !strings.Contains(r.stdout, "5 of ") {
		t.Fatalf("rules table (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = personaEnv(t, env, "analyse", "rules", lic.pkg, "--format", "json")
	var rules struct {
		People int64
		K      int
		Rules  []struct {
			People int64
			Lift   float64
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rules); err != nil || len(rules.Rules) == 0 || rules.K != 10 {
		t.Fatalf("rules JSON: %v\n%s", err, r.stdout)
	}
	for _, x := range rules.Rules {
		if x.People < int64(rules.K) {
			t.Errorf("a rule rests on %d people", x.People)
		}
	}

	r = personaEnv(t, env, "analyse", "lift", lic.pkg, "--by", "age_band", "--adjust", "member_level", "--lang", "zh")
	if r.code != 0 || !strings.Contains(r.stdout, "活动提升：已曝光 对比 未曝光") || !strings.Contains(r.stdout, "全部") || !strings.Contains(r.stdout, "18-24") {
		t.Fatalf("lift table (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = personaEnv(t, env, "analyse", "lift", lic.pkg, "--format", "csv")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); r.code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "segment,exposed_people") {
		t.Fatalf("lift CSV (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = personaEnv(t, env, "analyse", "segments", lic.pkg, "--k", "4", "--lang", "en")
	if r.code != 0 || !strings.Contains(r.stdout, "Segmentation: 4 segments") || !strings.Contains(r.stdout, "over-indexes (index)") {
		t.Fatalf("segments table (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}
	seg := regexp.MustCompile(`segment_[0-9a-f]+`).FindString(r.stdout)
	// In a later session the segments are a dimension like any other.
	r = personaEnv(t, env, "query", lic.pkg, "--by", "help")
	if !strings.Contains(r.stdout, seg) {
		t.Fatalf("--by help does not list %s:\n%s%s", seg, r.stdout, r.stderr)
	}
	// Campaign lift by segment.
	r = personaEnv(t, env, "analyse", "lift", lic.pkg, "--by", seg, "--format", "csv")
	if r.code != 0 || !strings.Contains(r.stdout, "\nS1,") || !strings.Contains(r.stdout, "\nS4,") {
		t.Fatalf("lift by %s (exit %d):\n%s%s", seg, r.code, r.stdout, r.stderr)
	}
	r = personaEnv(t, env, "query", lic.pkg, "--by", seg+",age_band", "--format", "csv")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); r.code != 0 || len(lines) < 4*6 || !strings.Contains(r.stdout, "S1,18-24") {
		t.Fatalf("query by %s (exit %d):\n%s%s", seg, r.code, r.stdout, r.stderr)
	}

	r = personaEnv(t, env, "analyse", "classify", lic.pkg, "--target", "purchase_frequency=高频(12-35单/年),超高频(≥36单/年)", "--depth", "3", "--lang", "zh")
	if r.code != 0 || !strings.Contains(r.stdout, "会员等级") || !strings.Contains(r.stdout, "AUC") {
		t.Fatalf("classify table (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"classify", lic.pkg}, "--target is missing"},
		{[]string{"classify", lic.pkg, "--target", "gender"}, `"gender"`},
		{[]string{"segments", lic.pkg, "--dims", "monthly_gmv"}, `"monthly_gmv" is a measure field`},
		{[]string{"segments", lic.pkg, "--k", "1"}, "1 segments: choose between 2 and 20"},
		{[]string{"rules", lic.pkg, "--dim", "province"}, `"province" is not a multi-valued dimension`},
		{[]string{"rules", lic.pkg, "--min-confidence", "2"}, "minimum confidence 2 is not between 0 and 1"},
		{[]string{"rules", lic.pkg, "--format", "xml"}, `unknown format "xml"`},
		{[]string{"lift", lic.pkg, "--by", "nothing"}, `"nothing" is not a single-valued dimension`},
		{[]string{"lift", lic.pkg, "--adjust-holding", "categories"}, "want DIM=VALUE of a multi-valued dimension"},
		{[]string{"lift", lic.pkg, "--where", "province"}, `--where "province" is not DIM=VALUE`},
	} {
		r := personaEnv(t, env, append([]string{"analyse"}, c.args...)...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code == 0 || !strings.Contains(lines[0], c.want) || len(lines) > 2 || r.stdout != "" {
			t.Errorf("analyse %v: exit %d, stderr:\n%s\nwant one line with %q (and a hint)", c.args, r.code, r.stderr, c.want)
		}
	}

	show := personaEnv(t, env, "log", "show", "--licence", lic.id, "--kind", "analysis", "--json")
	for _, want := range []string{`"analysis": "segments"`, `"silhouette"`, `"analysis": "classify"`, `"tree_auc"`, `"analysis": "rules"`, `"analysis": "lift"`, `"pairs_withheld"`, `"adjust": "member_level"`} {
		if !strings.Contains(show.stdout, want) {
			t.Errorf("usage log lacks %s:\n%s", want, show.stdout)
		}
	}
}

// The workbench's analyses screen runs its analyses on the package and
// records them in the usage log; the segments it finds are a dimension
// the slicer slices by.
func TestAnalysesInTmux(t *testing.T) {
	tm, ws := workbench(t, "--lock-after 0")
	tm.run("send-keys", "A")
	rules := tm.waitFor(`if +then +people +support +confidence +lift`)
	if !strings.Contains(rules, "lift heatmap") || !strings.Contains(rules, "Preferred categories") {
		t.Errorf("rules screen:\n%s", rules)
	}
	tm.run("send-keys", "Tab")
	tm.waitFor(`已曝光 against 未曝光 · Conversion rate`)
	tm.run("send-keys", "b")
	lift := tm.waitFor(`by Age band`)
	if !strings.Contains(lift, "everyone") || !strings.Contains(lift, "●") {
		t.Errorf("lift screen:\n%s", lift)
	}
	tm.run("send-keys", "Tab")
	segs := tm.waitFor(`↑ over-indexes · ↓ under-indexes`)
	if !regexp.MustCompile(`Segments \(\d\) · `).MatchString(segs) || !strings.Contains(segs, "silhouette") || !strings.Contains(segs, "S1") {
		t.Errorf("segments screen:\n%s", segs)
	}
	tm.run("send-keys", "Enter")
	tm.waitFor(`People by Segments \(\d\)`)
	tm.run("send-keys", "q")
	tm.waitExit()
	r := personaEnv(t, []string{"PERSONA_HOME=" + ws}, "log", "show", "--licence", lic.id, "--kind", "analysis", "--json")
	for _, want := range []string{`"analysis": "rules"`, `"analysis": "lift"`, `"analysis": "segments"`, `"silhouette"`, `"source": "tui"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("usage log lacks %s:\n%s", want, r.stdout)
		}
	}
}
