// A harness that renders a local HTML file in headless Chromium and reports
// what went wrong, for the tests of the self-contained offline HTML report.
//
// The report must render with no network at all, so the browser gets none,
// and any attempt to reach one is a problem, not a slow test. Networking is
// disabled three ways, each enough on its own for the common cases:
//   - --proxy-server=127.0.0.1:9 sends every http(s) and ws request to the
//     discard port, where nothing listens, and the proxy bypass list is
//     emptied of loopback, so not even localhost is reachable;
//   - --host-resolver-rules="MAP * ~NOTFOUND" makes every host name fail to
//     resolve, for whatever the proxy does not cover;
//   - once the tab is up, the DevTools network emulation puts it offline
//     (Network.emulateNetworkConditionsByRule, the successor of the deprecated
//     Network.emulateNetworkConditions, plus Network.overrideNetworkState).
//
// Background networking, extensions, the first-run UI and so on are off, and
// the profile is a fresh temporary directory for each render, which chromedp
// removes after the browser has exited. file: and data: URLs do not go through
// the network stack, so the report itself still loads; every request to
// anything else is reported.

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// renderTimeout bounds one render, from the start of the browser to the
// screenshot, so that a hung browser fails the test instead of hanging it.
const renderTimeout = 60 * time.Second

// renderHTML opens the HTML file at path in a new headless Chromium with no
// network, waits for it to load, and returns a PNG screenshot of the whole
// page, and one line for each problem: a failed request, a request for
// anything but a file: or data: URL, a console error or failed assertion, an
// uncaught exception, and a browser log entry of the level error.
//
// It skips the test when there is no chromium on PATH, unless the variable
// PERSONA_REQUIRE_CHROMIUM is set: then it fails it.
func renderHTML(t *testing.T, path string) (png []byte, problems []string) {
	t.Helper()
	exe, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("PERSONA_REQUIRE_CHROMIUM") != "" {
			t.Fatalf("PERSONA_REQUIRE_CHROMIUM is set, but: %v (apt-get install chromium)", err)
		}
		t.Skipf("no chromium (apt-get install chromium): %v", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatal(err)
	}
	page := (&url.URL{Scheme: "file", Path: abs}).String()

	ctx, cancelTimeout := context.WithTimeout(context.Background(), renderTimeout)
	output := new(syncBuffer)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.WindowSize(1280, 2000),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-pings", true),
		chromedp.ProxyServer("http://127.0.0.1:9"),
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		chromedp.CombinedOutput(output),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)

	var (
		mu   sync.Mutex
		seen []string
		urls = map[network.RequestID]string{}
	)
	report := func(format string, args ...any) {
		seen = append(seen, oneLine(fmt.Sprintf(format, args...)))
	}
	// The listener runs on the goroutine that reads the tab's messages, in
	// the order of arrival, so every event that came before the reply to the
	// screenshot is in seen when the screenshot returns.
	listen := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			u := ev.Request.URL
			urls[ev.RequestID] = u
			if !strings.HasPrefix(u, "file:") && !strings.HasPrefix(u, "data:") {
				report("request for %s (%s)", u, ev.Type)
			}
		case *network.EventLoadingFailed:
			u := urls[ev.RequestID]
			if u == "" {
				u = "request " + string(ev.RequestID)
			}
			why := ev.ErrorText
			if ev.BlockedReason != "" {
				why += ", blocked: " + string(ev.BlockedReason)
			}
			report("failed to load %s (%s): %s", u, ev.Type, why)
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				args := make([]string, len(ev.Args))
				for i, a := range ev.Args {
					args[i] = remoteText(a)
				}
				report("console.%s: %s", ev.Type, strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			if d == nil {
				report("uncaught exception")
				break
			}
			text := d.Text
			if d.Exception != nil {
				text += " " + remoteText(d.Exception)
			}
			report("uncaught exception at %s:%d:%d: %s", d.URL, d.LineNumber+1, d.ColumnNumber+1, text)
		case *log.EventEntryAdded:
			if e := ev.Entry; e != nil && e.Level == log.EntryLevelError {
				report("log %s error: %s %s", e.Source, e.Text, e.URL)
			}
		}
	}
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(listen))

	// Cleanups run last in, first out: close the browser gracefully, then
	// make sure that it is gone, then free the timeout.
	t.Cleanup(cancelTimeout)
	t.Cleanup(cancelAlloc) // waits for the browser process to exit
	t.Cleanup(cancelTab)
	t.Cleanup(func() {
		if err := chromedp.Cancel(tabCtx); err != nil && ctx.Err() == nil {
			t.Logf("close chromium: %v", err)
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("chromium output:\n%s", output)
		}
	})
	fail := func(format string, args ...any) {
		t.Helper()
		if ctx.Err() != nil {
			format += fmt.Sprintf(" (the render took longer than %v)", renderTimeout)
		}
		t.Fatalf(format, args...)
	}

	// Start the browser and the tab, then take the tab offline before it
	// loads anything. The log domain is enabled by chromedp already; enable
	// it again so that this does not depend on that.
	if err := chromedp.Do(tabCtx); err != nil {
		fail("start chromium: %v", err)
	}
	if _, err := chromedp.Call(tabCtx, log.Enable, cdp.Empty{}); err != nil {
		fail("enable the log domain: %v", err)
	}
	if _, err := chromedp.Call(tabCtx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{Offline: true}}, // no pattern: every request
	}); err != nil {
		fail("take the tab offline: %v", err)
	}
	if _, err := chromedp.Call(tabCtx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: true}); err != nil {
		fail("take the tab offline: %v", err)
	}

	if err := chromedp.Do(tabCtx, chromedp.Navigate(page)); err != nil {
		fail("load %s: %v", page, err)
	}
	png, err = chromedp.Run(tabCtx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		fail("screenshot of %s: %v", page, err)
	}

	mu.Lock()
	problems = append([]string(nil), seen...)
	mu.Unlock()
	return png, problems
}

// remoteText is what the console shows for a value: a string as it is,
// anything else as its JSON or its description.
func remoteText(o *runtime.RemoteObject) string {
	switch {
	case o == nil:
		return ""
	case o.Type == runtime.RemoteObjectTypeString && len(o.Value) > 0:
		var s string
		if err := json.Unmarshal(o.Value, &s); err == nil {
			return s
		}
		return string(o.Value)
	case o.Description != "":
		return o.Description
	case o.UnserializableValue != "":
		return string(o.UnserializableValue)
	case len(o.Value) > 0:
		return string(o.Value)
	}
	return string(o.Type)
}

// oneLine folds s to one line, so that one problem is one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// syncBuffer is a bytes.Buffer that the browser's output goroutine and the
// test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// checkNotBlank fails the test when the screenshot png looks blank, and then
// keeps it in a temporary directory and logs where.
func checkNotBlank(t *testing.T, png []byte) {
	t.Helper()
	if isBlank, why := blank(png); isBlank {
		file := filepath.Join(t.TempDir(), "screenshot.png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Errorf("keep the screenshot: %v", err)
		} else {
			t.Logf("screenshot: %s", file)
		}
		t.Fatalf("the page renders blank: %s", why)
	}
}

// blank reports whether a PNG image looks blank, and why: when fewer than 1%
// of its pixels differ from the most common colour, the background, or when
// it has fewer than 4 colours. An image that does not decode is blank too.
func blank(data []byte) (isBlank bool, why string) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return true, "not a PNG: " + err.Error()
	}
	r := img.Bounds()
	total := r.Dx() * r.Dy()
	if total == 0 {
		return true, "no pixels"
	}
	counts := map[color.RGBA]int{}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			counts[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	var background color.RGBA
	most := 0
	for c, n := range counts {
		if n > most {
			background, most = c, n
		}
	}
	differ := total - most
	switch {
	case differ*100 < total:
		return true, fmt.Sprintf("%d of %d pixels (%.2f%%) differ from the background %v", differ, total, 100*float64(differ)/float64(total), background)
	case len(counts) < 4:
		return true, fmt.Sprintf("only %d colours", len(counts))
	}
	return false, ""
}

// writePage writes html to a file in a temporary directory and returns its
// path.
func writePage(t *testing.T, html string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "page.html")
	if err := os.WriteFile(path, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// goodPage is shaped like the offline report: inline CSS, an inline SVG
// chart with labels in Chinese and English, no script, and a strict
// Content-Security-Policy that allows only inline styles and data: images.
const goodPage = `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>品牌营销效果报告 Brand marketing effect report</title>
<style>
body { font-family: sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { background: #1f4e79; color: #fff; padding: 16px; }
.note { color: #555; }
</style>
</head>
<body>
<h1>品牌营销效果报告 · Brand marketing effect report</h1>
<p class="note">细分人群的品牌认知提升 — uplift in brand awareness by segment</p>
<svg xmlns="http://www.w3.org/2000/svg" width="800" height="420" viewBox="0 0 800 420" role="img" aria-label="uplift by segment">
  <rect x="0" y="0" width="800" height="420" fill="#f4f6f9"/>
  <rect x="60" y="120" width="120" height="260" fill="#2e75b6"/>
  <rect x="240" y="60" width="120" height="320" fill="#c55a11"/>
  <rect x="420" y="200" width="120" height="180" fill="#548235"/>
  <rect x="600" y="160" width="120" height="220" fill="#7030a0"/>
  <text x="120" y="405" text-anchor="middle" font-size="16">一线城市</text>
  <text x="300" y="405" text-anchor="middle" font-size="16">Tier 2</text>
  <text x="480" y="405" text-anchor="middle" font-size="16">学生 Students</text>
  <text x="660" y="405" text-anchor="middle" font-size="16">家庭 Families</text>
  <text x="400" y="30" text-anchor="middle" font-size="20">认知提升 Awareness uplift (%)</text>
</svg>
</body>
</html>
`

func TestChromiumHarness(t *testing.T) {
	png, problems := renderHTML(t, writePage(t, goodPage))
	for _, p := range problems {
		t.Errorf("problem: %s", p)
	}
	checkNotBlank(t, png)
}

func TestChromiumHarnessFindsProblems(t *testing.T) {
	page := func(body string) string {
		return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>t</title></head><body>\n" +
			"<h1 style=\"background:#1f4e79;color:#fff;padding:40px\">A heading that is not blank</h1>\n" +
			body + "\n</body></html>\n"
	}
	for _, tc := range []struct {
		name, html string
		problem    string // a problem must contain it; "" for no problem at all
		blank      bool   // the screenshot must look blank
	}{
		{name: "remote image", html: page(`<img src="http://example.com/x.png" alt="x">`), problem: "http://example.com/x.png"},
		{name: "console error", html: page(`<script>console.error("boom")</script>`), problem: "boom"},
		{name: "uncaught exception", html: page(`<script>throw new Error("x")</script>`), problem: "Error: x"},
		{name: "inline style against the CSP", html: `<!DOCTYPE html><html><head><meta charset="utf-8">` +
			`<meta http-equiv="Content-Security-Policy" content="default-src 'none'">` +
			`<style>h1 { color: red }</style></head><body><h1>styled</h1>` +
			`<svg width="600" height="200"><rect width="600" height="200" fill="#1f4e79"/></svg></body></html>`, problem: "Content Security Policy"},
		{name: "blank page", html: `<!DOCTYPE html><html><head><meta charset="utf-8"><title>blank</title></head>` +
			`<body style="background:#fff"></body></html>`, blank: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			png, problems := renderHTML(t, writePage(t, tc.html))
			if tc.problem == "" && len(problems) > 0 {
				t.Errorf("problems: %q", problems)
			}
			if tc.problem != "" && !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.problem) }) {
				t.Errorf("no problem mentions %q; problems: %q", tc.problem, problems)
			}
			// Test the predicate behind checkNotBlank, which would stop the test.
			if isBlank, why := blank(png); isBlank != tc.blank {
				t.Errorf("blank = %v, want %v (%s)", isBlank, tc.blank, why)
			}
		})
	}
}

// TestChromiumBlankPredicate checks blank on made-up images, with no browser.
func TestChromiumBlankPredicate(t *testing.T) {
	encode := func(w, h int, paint func(x, y int) color.RGBA) []byte {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				img.SetRGBA(x, y, paint(x, y))
			}
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	white := color.RGBA{255, 255, 255, 255}
	for _, tc := range []struct {
		name  string
		png   []byte
		blank bool
	}{
		{"not a PNG", []byte("<html>"), true},
		{"all white", encode(320, 500, func(x, y int) color.RGBA { return white }), true},
		{"a speck", encode(320, 500, func(x, y int) color.RGBA {
			if x < 10 && y < 10 {
				return color.RGBA{0, 0, 0, 255}
			}
			return white
		}), true},
		{"two colours", encode(320, 500, func(x, y int) color.RGBA {
			if x < 160 {
				return color.RGBA{200, 0, 0, 255}
			}
			return white
		}), true},
		{"a gradient", encode(320, 500, func(x, y int) color.RGBA {
			if y < 100 {
				return color.RGBA{uint8(x % 256), 80, 160, 255}
			}
			return white
		}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if isBlank, why := blank(tc.png); isBlank != tc.blank {
				t.Errorf("blank = %v, want %v (%s)", isBlank, tc.blank, why)
			}
		})
	}
}
