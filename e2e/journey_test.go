package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An analyst's journey on the demo, from the keyboard: open and
// acknowledge the licence, a province × category heatmap, drill into
// 浙江, compare campaign-exposed against not, save the view, undo, reopen
// the view, lock and unlock, quit.
func TestAnalystJourneyInTmux(t *testing.T) {
	done := filepath.Join(t.TempDir(), "exit")
	tm := newTmux(t, 120, 36, "LANG=zh_CN.UTF-8", fmt.Sprintf("sh -c '%s demo --rows 50000 --lock-after 0; echo $? > %s; sleep 30'", bin, done))
	keys := func(ks ...string) { tm.run(append([]string{"send-keys"}, ks...)...) }
	typed := func(s string) { tm.run("send-keys", "-l", s) }

	tm.waitFor(`按 Enter 确认`)
	keys("Enter")
	tm.waitFor(`人数 按 年龄段`)

	// Province × category: slice by categories from the palette, pin it
	// as the second dimension, then slice by province.
	keys(":")
	tm.waitFor(`输入以查找命令`)
	typed("dim-categories")
	keys("Enter")
	tm.waitFor(`人数 按 偏好品类`)
	keys("b")
	keys(":")
	typed("dim-province")
	keys("Enter")
	heat := tm.waitFor(`人数 按 省份 × 偏好品类 · 热力图`)
	for _, want := range []string{"▸1 省份", " 2 偏好品类", "趋势", "× 已隐藏"} {
		if !strings.Contains(heat, want) {
			t.Errorf("heatmap screen lacks %q:\n%s", want, heat)
		}
	}

	// Drill into 浙江: to the table, down to its row, enter.
	keys("Tab", "Tab")
	for i := 0; ; i++ {
		if strings.Contains(tm.capture(false), "▸ 浙江") {
			break
		}
		if i == 40 {
			t.Fatalf("no row for 浙江 in the table:\n%s", tm.capture(false))
		}
		keys("j")
		time.Sleep(50 * time.Millisecond)
	}
	keys("Enter")
	drilled := tm.waitFor(`人数 按 城市等级 × 偏好品类 · 热力图 ‹ 浙江 \(esc\)`)
	if !strings.Contains(drilled, "省份=浙江") {
		t.Errorf("the drill did not filter to 浙江:\n%s", drilled)
	}

	// Compare the exposed with the others, by category, within 浙江.
	keys(":")
	typed("dim-campaign")
	keys("Enter")
	tm.waitFor(`人数 按 活动曝光`)
	keys("Tab") // back to the dimensions from the table
	keys("c")
	keys(":")
	typed("dim-categories")
	keys("Enter")
	cmp := tm.waitFor(`人数 按 偏好品类 × 活动曝光 · 对比`)
	for _, want := range []string{"░ 未曝光", "█ 已曝光", "提升 = 已曝光 ÷ 未曝光 − 1", "全部: 未曝光", "差值", "省份=浙江"} {
		if !strings.Contains(cmp, want) {
			t.Errorf("comparison lacks %q:\n%s", want, cmp)
		}
	}

	// Save it, undo a step, and open it again.
	keys("S")
	tm.waitFor(`视图名称`)
	typed("浙江曝光对比")
	keys("Enter")
	tm.waitFor(`已保存视图「浙江曝光对比」`)
	keys("V")
	tm.waitFor(`人数 按 偏好品类 × 活动曝光 · 对比`)
	keys("u")
	tm.waitFor(`人数 按 活动曝光`)
	keys("V")
	tm.waitFor(`浙江曝光对比`)
	keys("Enter")
	back := tm.waitFor(`人数 按 偏好品类 × 活动曝光 · 对比`)
	if !strings.Contains(back, "省份=浙江") {
		t.Errorf("the reopened view lost its filter:\n%s", back)
	}

	// Lock: no data; unlock (the demo's keys take any passphrase).
	keys("C-l")
	locked := tm.waitFor(`屏幕已锁定`)
	for _, data := range []string{"浙江", "未曝光", "提升"} {
		if strings.Contains(locked, data) {
			t.Errorf("the locked screen shows %q:\n%s", data, locked)
		}
	}
	typed("demo")
	keys("Enter")
	tm.waitFor(`人数 按 偏好品类 × 活动曝光 · 对比`)

	keys("q")
	waitExit(t, done)
}
