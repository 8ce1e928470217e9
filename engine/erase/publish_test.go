package erase

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/persona-workbench/persona/engine/report"
	"github.com/persona-workbench/persona/engine/usagelog"
)

// publish writes body to path with report.Publish, recording it in the
// licence's usage log as cmd/persona's opened.publish does.
func (w *world) publish(t *testing.T, path, body string, overwrite bool) {
	t.Helper()
	e, _ := w.ws.Enrolment(w.id)
	lg, err := usagelog.Open(w.ws.LicenceDir(w.id), usagelog.Context{Person: e.Name})
	if err != nil {
		t.Fatal(err)
	}
	_, err = report.Publish(path, overwrite, func(out io.Writer) error { _, err := io.WriteString(out, body); return err },
		func(x report.Written) error {
			_, err := lg.Append(usagelog.KindExport, map[string]any{"what": "export", "format": "csv", "path": x.Path, "size": x.Size, "sha256": x.SHA256})
			return err
		})
	if err != nil {
		t.Fatal(err)
	}
}

// An export replaced with --force is recorded twice under one path; the
// deletion deletes whichever of the recorded files is there.
func TestReplacedExportIsDeleted(t *testing.T) {
	w := setup(t)
	path := filepath.Join(filepath.Dir(w.out), "gmv.csv")
	w.publish(t, path, "province,gmv\n广东,1000\n", false)
	w.publish(t, path, "province,gmv\n广东,2000\n", true)
	c, err := Delete(w.options())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err == nil {
		for _, it := range c.Items {
			if it.Path == path {
				t.Logf("certificate item: %+v; verification: %s", it, c.Verification)
			}
		}
		t.Errorf("the replaced export %s is still there after the licence was deleted", path)
	}
}

// A process that dies before its export is recorded leaves nothing of
// it on disk: the file is written only after the record.
func TestCrashBeforeRecordLeavesNothing(t *testing.T) {
	dir := os.Getenv("PERSONA_TEST_PUBLISH_DIR")
	if dir != "" { // the child: dies in the record callback
		report.Publish(filepath.Join(dir, "slice.csv"), false, func(out io.Writer) error {
			_, err := io.WriteString(out, "province,gmv\n广东,1000\n")
			return err
		}, func(report.Written) error { os.Exit(3); return nil })
		return
	}
	dir = t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashBeforeRecordLeavesNothing$")
	cmd.Env = append(os.Environ(), "PERSONA_TEST_PUBLISH_DIR="+dir)
	cmd.Run()
	left, _ := filepath.Glob(filepath.Join(dir, ".*.part"))
	for _, p := range left {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), "广东,1000") {
			t.Errorf("%s holds the export after a crash, and no usage-log record names it", p)
		}
	}
}

// One that dies after the record, before the temporary file takes its
// name, leaves that file beside the recorded path: the deletion finds
// it, deletes it and lists it.
func TestDeletionRemovesPartFiles(t *testing.T) {
	w := setup(t)
	path := filepath.Join(filepath.Dir(w.out), "slice.csv")
	w.publish(t, path, "province,gmv\n广东,1000\n", false)
	part := report.PartFile(path, "0123456789ab")
	if err := os.WriteFile(part, []byte("province,gmv\n广东,2000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Delete(w.options())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, part} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s is still there", p)
		}
		listed := false
		for _, it := range c.Items {
			listed = listed || it.Path == p && it.Result == ResultDeleted
		}
		if !listed {
			t.Errorf("the certificate does not list %s as deleted", p)
		}
	}
}
