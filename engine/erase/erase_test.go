package erase

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"

	"github.com/persona-workbench/persona/engine/keys"
	"github.com/persona-workbench/persona/engine/licence"
	"github.com/persona-workbench/persona/engine/usagelog"
	"github.com/persona-workbench/persona/sample"
)

// world is a workstation with one enrolled licence that was opened once
// (its package in an inbox folder) and exported once.
type world struct {
	ws      *keys.Workspace
	id      string
	lic     *licence.Licence
	licJSON []byte
	key     minisign.PrivateKey
	pkg     string
	export  string
	report  []byte // the usage report's JSON, with the log's records
	out     string
}

func setup(t *testing.T) *world {
	t.Helper()
	dir := t.TempDir()
	ws, err := keys.Open(filepath.Join(dir, "ws"), true)
	if err != nil {
		t.Fatal(err)
	}
	// Deletion forgets keys kept unlocked for the licence, by its id:
	// never this user's real keyring, where another package's tests may
	// keep keys for a licence of the same id.
	ws.Keyring = &dropKeyring{}
	now := time.Now()
	terms := sample.Terms(now.Add(-time.Hour))
	e, err := ws.Enrol(terms.ID, "王芳", "analyst", "", true)
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := ws.Unlock(terms.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{ws: ws, id: terms.ID, key: key, out: filepath.Join(dir, "cert.json")}
	w.lic, err = terms.Licence(now.Add(-time.Hour), []licence.Person{e.Person}, sample.Inventory(10, 1), licence.Payload{SHA256: strings.Repeat("a", 64), Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	w.licJSON, _ = w.lic.Marshal()
	ldir := ws.LicenceDir(w.id)
	os.WriteFile(filepath.Join(ldir, LicenceFile), w.licJSON, 0o600)
	os.MkdirAll(filepath.Join(dir, "inbox"), 0o755)
	w.pkg = filepath.Join(dir, "inbox", "brand.persona")
	os.WriteFile(w.pkg, []byte("the package"), 0o644)
	w.export = filepath.Join(dir, "view.csv")
	os.WriteFile(w.export, []byte("province,people\n"), 0o644)
	sum := sha256.Sum256([]byte("province,people\n"))
	lg, err := usagelog.Open(ldir, usagelog.Context{Person: e.Name})
	if err != nil {
		t.Fatal(err)
	}
	lg.Append(usagelog.KindOpen, map[string]any{"package": w.pkg})
	lg.Append(usagelog.KindQuery, map[string]any{"by": []string{"province"}})
	lg.Append(usagelog.KindExport, map[string]any{"path": w.export, "size": 16, "sha256": hex.EncodeToString(sum[:])})
	recs, _, _ := usagelog.Records(ldir)
	w.report, _ = json.Marshal(map[string]any{"records": recs})
	return w
}

func (w *world) options() Options {
	return Options{Workspace: w.ws, ID: w.id, Signing: w.key, Out: w.out, Tool: "test"}
}

func (w *world) check(t *testing.T, c *Certificate) {
	t.Helper()
	for _, p := range []string{w.pkg, w.export, filepath.Join(w.ws.LicenceDir(w.id), keys.IdentityFile), filepath.Join(w.ws.LicenceDir(w.id), keys.SigningKey)} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s is still there", p)
		}
	}
	results := map[string]string{}
	for _, it := range c.Items {
		results[it.What] = it.Result
	}
	if results["package"] != ResultDeleted || results["export"] != ResultDeleted || results["age identity"] != ResultErased {
		t.Errorf("items: %+v", c.Items)
	}
	data, _ := os.ReadFile(w.out)
	sig, _ := os.ReadFile(w.out + ".minisig")
	if _, err := Verify(data, sig, w.lic, nil, w.report); err != nil {
		t.Fatalf("certificate: %v", err)
	}
	if err := Deleted(w.ws, w.id); !errors.Is(err, ErrDeleted) || !strings.Contains(err.Error(), c.CertificateID) {
		t.Errorf("tombstone: %v", err)
	}
	e, _ := w.ws.Enrolment(w.id)
	v, _ := usagelog.Verifier(e.PublicKey)
	rep, err := usagelog.Verify(w.ws.LicenceDir(w.id), w.id, v, nil)
	if err != nil || !rep.OK() {
		t.Fatalf("usage log after deletion: %v %+v", err, rep)
	}
}

func TestDeleteAndCertify(t *testing.T) {
	w := setup(t)
	c, err := Delete(w.options())
	if err != nil {
		t.Fatal(err)
	}
	w.check(t, c)
	if c.MethodType != Method || !c.DeadlineMet || c.Licence.PackageSHA256 != w.lic.Payload.SHA256 || c.UsageLog.FinalCheckpoint == "" {
		t.Errorf("certificate: %+v", c)
	}
	var text bytes.Buffer
	Render(&text, c)
	for _, want := range []string{"数据删除确认书 / Data Deletion Certificate", c.CertificateID, "media-level sanitization not performed", w.pkg} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("rendering lacks %q", want)
		}
	}
}

// A deletion interrupted after any step completes when run again.
func TestInterruptedDeletionCompletes(t *testing.T) {
	for _, stop := range Steps {
		t.Run("after "+stop, func(t *testing.T) {
			w := setup(t)
			opt := w.options()
			crash := errors.New("killed")
			opt.AfterStep = func(step string) error {
				if step == stop {
					return crash
				}
				return nil
			}
			if _, err := Delete(opt); !errors.Is(err, crash) {
				t.Fatalf("first run: %v", err)
			}
			c, err := Delete(w.options())
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			w.check(t, c)
		})
	}
}

// A recorded file that is gone before deletion is listed as not
// verified, never left out.
func TestMissingDerivativeIsListed(t *testing.T) {
	w := setup(t)
	os.Remove(w.export)
	c, err := Delete(w.options())
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range c.Items {
		if it.Path == w.export && it.Result != ResultNotFound {
			t.Errorf("missing export: %+v", it)
		}
	}
}

func TestCertificateTampering(t *testing.T) {
	w := setup(t)
	c, err := Delete(w.options())
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(w.out)
	sig, _ := os.ReadFile(w.out + ".minisig")
	resign := func(change func(*Certificate)) ([]byte, []byte) {
		cc := *c
		change(&cc)
		d, s, err := Sign(&cc, w.key)
		if err != nil {
			t.Fatal(err)
		}
		return d, s
	}
	_, stranger, _ := minisign.GenerateKey(rand.Reader)
	otherLic := *w.lic
	otherLic.ID = "OTHER-2026"
	earlyData, earlySig := resign(func(c *Certificate) { c.Date = c.UsageLog.First.Add(-time.Hour) })
	dropData, dropSig := resign(func(c *Certificate) { c.Items = c.Items[:2] })
	strangerData, strangerSig, _ := Sign(c, stranger)
	cases := []struct {
		name      string
		data, sig []byte
		lic       *licence.Licence
		want      string
	}{
		{"a changed byte", bytes.Replace(data, []byte(`"deleted"`), []byte(`"deletes"`), 1), sig, w.lic, "altered"},
		{"a wrong key", strangerData, strangerSig, w.lic, "does not name"},
		{"another licence's certificate replayed", data, sig, &otherLic, "not OTHER-2026"},
		{"dated before the log's last record", earlyData, earlySig, w.lic, "before the usage log's last record"},
		{"a recorded derivative missing", dropData, dropSig, w.lic, "missing from the certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(tc.data, tc.sig, tc.lic, nil, w.report)
			if !errors.Is(err, ErrCertificate) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// A deletion killed between noting a file as deleted and removing it, or
// between removing it and noting it, still ends with the file deleted
// and listed as deleted.
func TestKilledInTheMiddleOfDeleting(t *testing.T) {
	w := setup(t)
	dir := w.ws.LicenceDir(w.id)
	opt := w.options()
	stop := errors.New("killed")
	opt.AfterStep = func(step string) error {
		if step == "erase" {
			return stop
		}
		return nil
	}
	if _, err := Delete(opt); !errors.Is(err, stop) {
		t.Fatal(err)
	}
	// As if killed after the journal noted the package deleted but
	// before it was removed, and after the export was removed but
	// before the journal noted it.
	j, _ := loadJournal(dir)
	for i := range j.Items {
		if j.Items[i].What == "package" {
			j.Items[i].Result = ResultDeleted
		}
	}
	j.Done = append(j.Done, "delete")
	j.Done = j.Done[:len(j.Done)-1] // the delete step itself did not finish
	saveJSON(filepath.Join(dir, JournalFile), j)
	os.Remove(w.export)
	c, err := Delete(w.options())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(w.pkg); err == nil {
		t.Error("the package survived")
	}
	for _, it := range c.Items {
		if it.What == "package" && it.Result != ResultDeleted {
			t.Errorf("package: %+v", it)
		}
	}
	if !strings.Contains(c.Verification.Result, "every deleted file is absent") {
		t.Errorf("verification: %s", c.Verification.Result)
	}
}

func TestCountersignature(t *testing.T) {
	w := setup(t)
	other, err := keys.Open(filepath.Join(t.TempDir(), "li"), true)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := other.Enrol(w.id, "李雷", "analyst", "", true)
	if err != nil {
		t.Fatal(err)
	}
	_, kb, _ := other.Unlock(w.id, nil)
	w.lic.Personnel = append(w.lic.Personnel, eb.Person)
	if _, err := Delete(w.options()); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(w.out)
	cs, err := Countersign(data, kb, eb.Person)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := VerifyCountersignature(data, cs, w.lic); err != nil || p.Name != "李雷" {
		t.Fatalf("countersignature: %v %v", p, err)
	}
	own, _ := w.ws.Enrolment(w.id)
	if _, err := Countersign(data, w.key, own.Person); err == nil {
		t.Error("the performer countersigned their own certificate")
	}
	_, stranger, _ := minisign.GenerateKey(rand.Reader)
	r := minisign.NewReader(bytes.NewReader(data))
	io.Copy(io.Discard, r)
	if _, err := VerifyCountersignature(data, r.SignWithComments(stranger, "x", "y"), w.lic); !errors.Is(err, ErrCertificate) {
		t.Errorf("a stranger's countersignature: %v", err)
	}
	if _, err := VerifyCountersignature(bytes.Replace(data, []byte("王芳"), []byte("张三"), 1), cs, w.lic); err == nil {
		t.Error("a countersignature verified over a changed certificate")
	}
}

// dropKeyring records what deletion asks the keyring to forget.
type dropKeyring struct {
	dropped []string
	err     error
}

func (d *dropKeyring) Put(string, []byte, time.Duration) error { return nil }
func (d *dropKeyring) Get(string) ([]byte, error)              { return nil, keys.ErrNotRemembered }
func (d *dropKeyring) Scope() string                           { return keys.ScopeSession }
func (d *dropKeyring) Drop(prefix string) (int, error) {
	d.dropped = append(d.dropped, prefix)
	return 1, d.err
}

// Keys kept unlocked (persona unlock) are forgotten before the identity
// is destroyed; if they cannot be, nothing is destroyed.
func TestDeleteForgetsUnlockedKeys(t *testing.T) {
	w := setup(t)
	kr := &dropKeyring{err: errors.New("keyring: permission denied")}
	w.ws.Keyring = kr
	if _, err := Delete(w.options()); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("Delete with a keyring that cannot forget: %v", err)
	}
	if _, err := os.Stat(filepath.Join(w.ws.LicenceDir(w.id), keys.IdentityFile)); err != nil {
		t.Errorf("the identity was destroyed while its unlocked copy stayed: %v", err)
	}
	kr.err = nil
	c, err := Delete(w.options())
	if err != nil {
		t.Fatal(err)
	}
	w.check(t, c)
	if len(kr.dropped) != 2 || kr.dropped[1] != "persona:"+w.id+":" {
		t.Errorf("dropped %q, want the licence's keys", kr.dropped)
	}
}
