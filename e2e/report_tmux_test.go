package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// exportInTmux opens the workbench, writes through the export dialog
// (E) the choice down steps from the first to a file named name in a
// temporary folder, quits, and returns the file, its contents and the
// usage log's export records.
func exportInTmux(t *testing.T, down int, ext, name string) (path string, body []byte, log string) {
	t.Helper()
	tm, ws := workbench(t, "--lock-after 0")
	tm.run("send-keys", "E")
	tm.waitFor(`What to write`)
	for range down {
		tm.run("send-keys", "j")
	}
	// The default name follows the choice: in the current folder, named
	// after the licence, with the format's extension.
	tm.waitFor(`› persona-` + regexp.QuoteMeta(strings.ToLower(lic.id)) + `-\d{8}-\d{6}\.` + ext)
	path = filepath.Join(t.TempDir(), name)
	tm.run("send-keys", "Tab")
	tm.run("send-keys", "C-u")
	tm.run("send-keys", "-l", path)
	tm.waitFor(regexp.QuoteMeta(name))
	tm.run("send-keys", "Enter")
	done := tm.waitFor(`written and recorded in the usage log`)
	tm.run("send-keys", "q")
	tm.waitExit()

	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the dialog said written, but: %v\n%s", err, done)
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	if !strings.Contains(done, "sha256 "+hash[:12]+"…") {
		t.Errorf("the screen does not show the file's hash %s:\n%s", hash[:12], done)
	}
	r := personaEnv(t, []string{"PERSONA_HOME=" + ws}, "log", "show", "--licence", lic.id, "--kind", "export", "--json")
	if r.code != 0 {
		t.Fatalf("log show: %s", r.stderr)
	}
	for _, want := range []string{jsonString(path), hash, `"source": "tui"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the usage log's exports lack %s:\n%s", want, r.stdout)
		}
	}
	return path, body, r.stdout
}

// E, the view's numbers as CSV: written with the watermark, recorded in
// the usage log.
func TestExportInTmux(t *testing.T) {
	_, body, log := exportInTmux(t, 0, "csv", "view.csv")
	if !strings.HasPrefix(string(body), "# persona export") || !strings.Contains(string(body), "# persona.licence: "+lic.id) {
		t.Errorf("the CSV has no watermark:\n%.600s", body)
	}
	if !strings.Contains(log, `"what": "export"`) || !strings.Contains(log, `"format": "csv"`) {
		t.Errorf("the usage log does not say what was exported:\n%s", log)
	}
}

// E, the brand marketing effect report as HTML: built from guarded
// slices (it takes a few seconds), written, recorded in the usage log.
func TestReportInTmux(t *testing.T) {
	_, body, log := exportInTmux(t, 3, "html", "brand.html")
	for _, want := range []string{"<html", "品牌营销效果报告", "Brand marketing effect report", lic.id, "<svg"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the report has no %q", want)
		}
	}
	if !strings.Contains(log, `"what": "report"`) || !strings.Contains(log, `"format": "html"`) {
		t.Errorf("the usage log does not say a report was written:\n%s", log)
	}
}
