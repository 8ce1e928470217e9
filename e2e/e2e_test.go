// Package e2e tests the real persona binary from the outside: the command
// line with its exit codes and messages, and the terminal UI running in
// tmux, driven with send-keys and read with capture-pane.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "persona-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "persona")
	build := exec.Command("go", "build", "-tags", "duckdb_arrow", "-o", bin, "../cmd/persona")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build persona:", err)
		os.Exit(1)
	}
	if err := setupLicensed(dir); err != nil {
		fmt.Fprintln(os.Stderr, "set up a licensed package:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type run struct {
	stdout, stderr string
	code           int
}

func persona(t *testing.T, args ...string) run {
	t.Helper()
	return personaEnv(t, nil, args...)
}

// personaEnv runs persona in the shared workspace, with the shared
// passphrase, plus env.
func personaEnv(t *testing.T, env []string, args ...string) run {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "PERSONA_HOME="+lic.workspace, "PERSONA_PASSPHRASE_FILE="+lic.passFile)
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return run{out.String(), errb.String(), code}
}

func TestCLI(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring of stdout
		stderr string // substring of stderr
	}{
		{"slice", []string{"query", lic.pkg, "--by", "province", "--measure", "gmv", "--top", "3"}, 0, "广东", "3 rows"},
		{"two dimensions in one flag", []string{"query", lic.pkg, "--by", "age_band,gender", "--format", "csv"}, 0, "age_band,gender,people", ""},
		{"help lists names", []string{"query", lic.pkg, "--by", "help"}, 0, "purchase_frequency", ""},
		{"totals", []string{"query", lic.pkg, "--by", "age_band", "--totals", "--lang", "en"}, 0, "Total", ""},
		{"other row", []string{"query", lic.pkg, "--by", "province", "--top", "5", "--other", "--lang", "zh"}, 0, "其他", ""},
		{"other row needs a top-N", []string{"query", lic.pkg, "--by", "province", "--other"}, 1, "", "--other needs one --by dimension and --top N"},
		{"no other row on a multi-valued dimension", []string{"query", lic.pkg, "--by", "categories", "--top", "3", "--other"}, 1, "", "single-valued"},
		{"unknown dimension", []string{"query", lic.pkg, "--by", "salary"}, 1, "", `persona: invalid query: unknown dimension "salary"`},
		{"unknown measure", []string{"query", lic.pkg, "--measure", "salary"}, 1, "", "unknown measure"},
		{"three dimensions", []string{"query", lic.pkg, "--by", "gender,province,region"}, 1, "", "at most 2"},
		{"bad format", []string{"query", lic.pkg, "--format", "xml"}, 1, "", `unknown format "xml"`},
		{"bad filter", []string{"query", lic.pkg, "--where", "province"}, 1, "", "is not DIM=VALUE"},
		{"bad sort", []string{"query", lic.pkg, "--sort", "random"}, 1, "", "unknown sort"},
		{"no package", []string{"query"}, 1, "", "accepts 1 arg"},
		{"sample without out", []string{"sample"}, 1, "", "no output folder given"},
		{"sample zero rows", []string{"sample", "--rows", "0", "--out", t.TempDir()}, 1, "", "--rows must be between 1 and"},
		{"time filter on a measure without series", []string{"query", lic.pkg, "--by", "province", "--where", "month=2025-03"}, 1, "", "remove the month filter"},
		{"bad language", []string{"query", lic.pkg, "--lang", "fr"}, 1, "", `unknown language "fr"`},
		{"unknown flag", []string{"query", lic.pkg, "--nope"}, 1, "", "unknown flag"},
		{"open without a terminal", []string{"open", lic.pkg}, 1, "", "open needs a terminal"},
		{"demo without a terminal", []string{"demo", "--rows", "1000"}, 1, "", "demo needs a terminal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := persona(t, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, r.stdout)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, r.stderr)
			}
			if tt.code != 0 {
				if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine") {
					t.Errorf("error path panicked:\n%s", r.stderr)
				}
				if lines := strings.Count(strings.TrimSpace(r.stderr), "\n") + 1; lines > 2 {
					t.Errorf("error takes %d lines, want a line and a hint:\n%s", lines, r.stderr)
				}
			}
		})
	}
}

// No cell behind fewer than k people shows a value, in any format.
func TestWithheldCellsCarryNoValue(t *testing.T) {
	r := persona(t, "query", lic.pkg, "--by", "province,member_level", "--measure", "gmv", "--format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var res struct {
		K        int
		Withheld int
		Rows     []struct {
			Keys     map[string]string
			Value    *float64
			People   *int64
			Withheld bool
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.K != 10 || res.Withheld == 0 {
		t.Fatalf("k=%d withheld=%d: the sample should have small cells (西藏 × 钻石会员)", res.K, res.Withheld)
	}
	for _, row := range res.Rows {
		switch {
		case row.Withheld && (row.Value != nil || row.People != nil):
			t.Errorf("withheld row %v carries a value", row.Keys)
		case !row.Withheld && (row.People == nil || *row.People < int64(res.K)):
			t.Errorf("row %v is shown with fewer than k people", row.Keys)
		}
	}
	csv := persona(t, "query", lic.pkg, "--by", "province,member_level", "--format", "csv")
	if !strings.Contains(csv.stdout, "province,member_level,people,withheld,reason,kind\n") || !strings.Contains(csv.stdout, "西藏,钻石会员,,true") {
		t.Errorf("CSV does not mark the withheld 西藏 × 钻石会员 cell:\n%s", csv.stdout)
	}
}

// A sample is written with its example terms, and never over another.
func TestSampleWrites(t *testing.T) {
	dir := t.TempDir()
	r := persona(t, "sample", "--rows", "3000", "--seed", "7", "--out", dir, "--quiet")
	if r.code != 0 {
		t.Fatalf("sample: exit %d: %s", r.code, r.stderr)
	}
	for _, f := range []string{"inventory.json", "personas-00000.parquet", "terms.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	again := persona(t, "sample", "--rows", "100", "--out", dir, "--quiet")
	if again.code != 1 || !strings.Contains(again.stderr, "already holds a sample") {
		t.Errorf("writing a sample over another: exit %d, %s", again.code, again.stderr)
	}
}

// tmux drives the TUI in a private tmux server.
type tmux struct {
	t      *testing.T
	socket string
	pid    int // the program in the pane
}

func newTmux(t *testing.T, w, h int, env, command string) *tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed: `make test` installs it (apt-get install tmux)")
	}
	tm := &tmux{t: t, socket: fmt.Sprintf("persona-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())}
	tm.run("-f", "/dev/null", "new-session", "-d", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h),
		"env "+env+" TERM=xterm-256color "+command)
	pid, _ := strconv.Atoi(strings.TrimSpace(tm.run("display-message", "-p", "#{pane_pid}")))
	tm.pid = pid
	// Cleanups run last-registered first, so this one runs before the
	// test's temporary folders are removed: it waits until the program
	// has finished writing to them.
	t.Cleanup(func() {
		exec.Command("tmux", "-L", tm.socket, "kill-server").Run()
		for deadline := time.Now().Add(20 * time.Second); pid > 0 && time.Now().Before(deadline); {
			if !running(pid) {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	return tm
}

// waitExit waits until the program in the pane has exited.
func (tm *tmux) waitExit() {
	tm.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if !running(tm.pid) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tm.t.Fatal("the program did not exit")
}

// running reports whether process pid is alive (a zombie has finished).
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := bytes.Cut(stat, []byte(") "))
	return len(rest) > 0 && rest[0] != 'Z'
}

func (tm *tmux) run(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", tm.socket}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (tm *tmux) capture(escapes bool) string {
	args := []string{"capture-pane", "-p"}
	if escapes {
		args = append(args, "-e")
	}
	return tm.run(args...)
}

// waitFor polls the screen until re matches, and returns the screen.
func (tm *tmux) waitFor(re string) string {
	tm.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(60 * time.Second)
	var screen string
	for time.Now().Before(deadline) {
		screen = tm.capture(false)
		if rx.MatchString(screen) {
			return screen
		}
		time.Sleep(100 * time.Millisecond)
	}
	tm.t.Fatalf("screen never matched %q:\n%s", re, screen)
	return ""
}

func TestDemoInTmux(t *testing.T) {
	done := filepath.Join(t.TempDir(), "exit")
	tm := newTmux(t, 80, 24, "LANG=zh_CN.UTF-8", fmt.Sprintf("sh -c '%s demo --rows 50000; echo $? > %s; sleep 30'", bin, done))

	gate := tm.waitFor(`按 Enter 确认`)
	for _, want := range []string{"数据许可", "用途", "示例品牌有限公司", "k = 10", "演示分析师"} {
		if !strings.Contains(gate, want) {
			t.Errorf("licence gate lacks %q:\n%s", want, gate)
		}
	}
	if strings.Contains(gate, "广东") || strings.Contains(gate, "18-24") {
		t.Errorf("data shown before the licence was acknowledged:\n%s", gate)
	}
	tm.run("send-keys", "Enter")
	first := tm.waitFor(`行 6 · 已隐藏 0`)
	for _, want := range []string{"人数 按 年龄段", "18-24", "50+", "█", "Persona Workbench"} {
		if !strings.Contains(first, want) {
			t.Errorf("first screen lacks %q:\n%s", want, first)
		}
	}
	// Chinese labels line up: the separator is in the same column on
	// every body line.
	col := -1
	for _, l := range strings.Split(first, "\n")[1:20] {
		i := strings.Index(l, "│")
		if i < 0 {
			continue
		}
		w := displayWidth(l[:i])
		if col >= 0 && w != col {
			t.Errorf("separator at column %d, want %d: %q", w, col, l)
		}
		col = w
	}

	tm.run("send-keys", "j")
	second := tm.waitFor(`人数 按 性别`)
	if second == first || !strings.Contains(second, "女") {
		t.Errorf("changing the dimension did not change the chart:\n%s", second)
	}
	tm.run("send-keys", "j")
	tm.waitFor(`人数 按 省份`)
	tm.run("send-keys", "m")
	tm.waitFor(`订单数 按 省份`)

	tm.run("send-keys", "q")
	waitExit(t, done)
}

// waitExit waits for the demo to write its exit status to done after q,
// and checks that it is 0.
func waitExit(t *testing.T, done string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(done); err == nil {
			if got := strings.TrimSpace(string(b)); got != "0" {
				t.Fatalf("persona demo exited with %s after q", got)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("persona demo did not exit after q")
}

func TestDemoHonoursNoColor(t *testing.T) {
	tm := newTmux(t, 80, 24, "LANG=C.UTF-8 NO_COLOR=1", bin+" demo --rows 20000")
	tm.waitFor(`Press Enter to acknowledge`)
	colour := regexp.MustCompile(`\x1b\[[0-9;]*(3[0-9]|4[0-9]|9[0-7])[;m]`)
	if m := colour.FindString(tm.capture(true)); m != "" {
		t.Errorf("NO_COLOR licence gate has colour escape %q", m)
	}
	tm.run("send-keys", "Enter")
	tm.waitFor(`rows 6`)
	if m := colour.FindString(tm.capture(true)); m != "" {
		t.Errorf("NO_COLOR screen has colour escape %q", m)
	}
	tm.run("send-keys", "q")
}

// displayWidth counts terminal cells: CJK characters take two.
func displayWidth(s string) int {
	w := 0
	for _, r := range s {
		switch {
		case r >= 0x1100 && (r <= 0x115f || (r >= 0x2e80 && r <= 0xa4cf) || (r >= 0xac00 && r <= 0xd7a3) ||
			(r >= 0xf900 && r <= 0xfaff) || (r >= 0xfe30 && r <= 0xfe4f) || (r >= 0xff00 && r <= 0xff60) || (r >= 0xffe0 && r <= 0xffe6)):
			w += 2
		default:
			w++
		}
	}
	return w
}

// The licensor cannot pack a data folder whose inventory lies about the
// data, or tries to reach other files or the terminal: a one-line error.
func TestTamperedInventory(t *testing.T) {
	base := t.TempDir()
	if r := persona(t, "sample", "--rows", "2000", "--out", base, "--quiet"); r.code != 0 {
		t.Fatalf("sample: %s", r.stderr)
	}
	orig, err := os.ReadFile(filepath.Join(base, "inventory.json"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(base, "personas-00000.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, from, to, want string
	}{
		{"record count", `"records": 2000`, `"records": 1999`, "2000 records, inventory says 1999"},
		{"file listed twice", `"personas-00000.parquet"`, `"personas-00000.parquet", "personas-00000.parquet"`, "listed twice"},
		{"wildcard file", `"personas-00000.parquet"`, `"*.parquet"`, "must be a plain file name"},
		{"path outside", `"personas-00000.parquet"`, `"../personas-00000.parquet"`, "must be a plain file name"},
		{"short series", `"2025-11",
        "2025-12"`, `"2025-11"`, "do not hold one value for each of the 11 periods"},
		{"escape in label", `"Age band"`, `"Age\u001b]0;pwned\u0007band"`, "control character"},
		{"wrong type", `"name": "age_band",
      "label": {
        "zh": "年龄段",
        "en": "Age band"
      },
      "role": "dimension",
      "type": "VARCHAR"`, `"name": "age_band",
      "label": {
        "zh": "年龄段",
        "en": "Age band"
      },
      "role": "multi_dimension",
      "type": "VARCHAR[]"`, `column "age_band" is VARCHAR, inventory says VARCHAR[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(string(orig), tt.from) {
				t.Fatalf("inventory.json lacks %q; update the test", tt.from)
			}
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "inventory.json"), []byte(strings.Replace(string(orig), tt.from, tt.to, 1)), 0o644)
			os.WriteFile(filepath.Join(dir, "personas-00000.parquet"), data, 0o644)
			r := persona(t, "pack", "--data", dir, "--terms", filepath.Join(lic.data, "terms.json"), "--enrolment", lic.enrolment,
				"--key", lic.providerKey, "--out", filepath.Join(t.TempDir(), "x.persona"))
			if r.code != 1 || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit 1 mentioning %q", r.code, r.stderr, tt.want)
			}
			if strings.Contains(r.stderr, "\x1b") {
				t.Errorf("error message carries an escape sequence: %q", r.stderr)
			}
		})
	}
}
