package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Exports and reports: written with a watermark, recorded in the usage
// log with their size and hash, refused on bad input, and deleted with
// the licence, whose certificate lists each one.
func TestExportsAndReports(t *testing.T) {
	dir := t.TempDir()
	ws := filepath.Join(dir, "ws")
	copyDir(t, lic.pristine, ws)
	env := []string{"PERSONA_HOME=" + ws}
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	// The deletion at the end deletes the package opened: a copy.
	pkg := filepath.Join(dir, "brand.persona")
	copyDir(t, lic.pkg, pkg)
	file := func(name string) string { return filepath.Join(out, name) }

	var made []string
	for _, f := range []string{"slice.csv", "slice.json", "slice.parquet"} {
		r := personaEnv(t, env, "query", pkg, "--by", "province,member_level", "--measure", "gmv", "--out", file(f))
		if r.code != 0 || !strings.Contains(r.stdout, "wrote "+file(f)) {
			t.Fatalf("query --out %s: exit %d\n%s%s", f, r.code, r.stdout, r.stderr)
		}
		made = append(made, file(f))
	}
	if b, _ := os.ReadFile(file("slice.csv")); !strings.Contains(string(b), "# persona.licence: "+lic.id) || !strings.Contains(string(b), "\nprovince,member_level,gmv,people,withheld,reason,kind\n") {
		t.Errorf("CSV export:\n%.600s", b)
	}
	if b, _ := os.ReadFile(file("slice.parquet")); !strings.Contains(string(b), "persona.licence") || !strings.Contains(string(b), lic.id) {
		t.Error("the Parquet export has no watermark in its metadata")
	}
	// A view saved from the command line, then reported.
	if r := personaEnv(t, env, "query", pkg, "--by", "age_band", "--measure", "conversion_rate", "--save-view", "年龄转化"); r.code != 0 {
		t.Fatalf("--save-view: %s", r.stderr)
	}
	for _, c := range []struct{ args []string }{
		{[]string{"report", "--licence", lic.id, "--out", file("brand.html")}},
		{[]string{"report", "--licence", lic.id, "--where", "province=广东", "--out", file("guangdong.md")}},
		{[]string{"report", "--licence", lic.id, "--views", "年龄转化", "--out", file("views.html")}},
	} {
		r := personaEnv(t, env, c.args...)
		if r.code != 0 || !strings.Contains(r.stdout, "wrote ") {
			t.Fatalf("%v: exit %d\n%s%s", c.args, r.code, r.stdout, r.stderr)
		}
		made = append(made, c.args[len(c.args)-1])
	}
	page, _ := os.ReadFile(file("brand.html"))
	for _, want := range []string{"品牌营销效果报告", "Brand marketing effect report", "<svg", "活动触达", "Conversion lift by segment", "地域分布", "年龄分布", "品类偏好", lic.id, "Content-Security-Policy"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the brand report has no %q", want)
		}
	}
	for _, bad := range []string{"<script", "http://", "https://", "@import", "url("} {
		if strings.Contains(string(page), bad) {
			t.Errorf("the brand report holds %q: it must need nothing from outside", bad)
		}
	}
	if md, _ := os.ReadFile(file("guangdong.md")); !strings.Contains(string(md), "# 品牌营销效果报告 · Brand marketing effect report") || !strings.Contains(string(md), "广东") {
		t.Errorf("Markdown report:\n%.800s", md)
	}
	if v, _ := os.ReadFile(file("views.html")); !strings.Contains(string(v), "年龄转化") || !strings.Contains(string(v), "25-29") {
		t.Errorf("views report lacks the view")
	}

	// The HTML reports render offline in headless Chromium, with no
	// request and no console error, and show something.
	for _, f := range []string{"brand.html", "views.html"} {
		png, problems := renderHTML(t, file(f))
		for _, p := range problems {
			t.Errorf("%s in Chromium: %s", f, p)
		}
		checkNotBlank(t, png)
	}

	// Bad input: one line, non-zero, nothing written.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--licence", lic.id, "--out", file("brand.html")}, "already exists"},
		{[]string{"report", "--licence", lic.id, "--out", file("brand.pdf")}, "must end in .html, .md"},
		{[]string{"report", "--out", file("x.html")}, "--licence is required"},
		{[]string{"report", "--licence", lic.id, "--views", "没有这个", "--out", file("x.html")}, `no saved view is called "没有这个"`},
		{[]string{"report", "--licence", "LIC-NOPE", "--out", file("x.html")}, "LIC-NOPE"},
		{[]string{"query", pkg, "--by", "province", "--out", file("x.xlsx")}, "must end in .csv, .json, .parquet"},
		{[]string{"query", pkg, "--by", "province", "--out", file("slice.csv")}, "already exists"},
	} {
		r := personaEnv(t, env, c.args...)
		if r.code == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, want %q in:\n%s", c.args, r.code, c.want, r.stderr)
		}
	}
	if left, _ := filepath.Glob(file("x.*")); len(left) > 0 {
		t.Errorf("refused runs left %v", left)
	}
	if left, _ := filepath.Glob(file(".*part")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// Each file is in the usage log with its size and hash.
	r := personaEnv(t, env, "log", "show", "--licence", lic.id, "--kind", "export", "--json")
	if r.code != 0 {
		t.Fatalf("log show: %s", r.stderr)
	}
	for _, path := range made {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if !strings.Contains(r.stdout, hex.EncodeToString(sum[:])) || !strings.Contains(r.stdout, jsonString(path)) {
			t.Errorf("the usage log does not record %s with its hash", path)
		}
	}

	// Deleting the licence deletes them, and the certificate lists each.
	cert := filepath.Join(dir, "cert.json")
	if r := personaEnv(t, env, "delete", "--licence", lic.id, "--out", cert, "--yes"); r.code != 0 {
		t.Fatalf("delete: %s", r.stderr)
	}
	cb, _ := os.ReadFile(cert)
	for _, path := range made {
		if _, err := os.Stat(path); err == nil {
			t.Errorf("%s is still there after the deletion", path)
		}
		if !strings.Contains(string(cb), jsonString(path)) {
			t.Errorf("the certificate does not list %s", path)
		}
	}
}

// jsonString is s as it reads inside a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}
