// Package erase deletes a licence's data and derivatives from a
// workstation and certifies it: the signed data-deletion certificate
// (数据删除确认书) the licensee owes the licensor at the end of a licence
// (docs/FORMAT.md, "Deletion certificate").
//
// What a tool working on files can honestly do, and all this claims:
// cryptographic erase of its own keys — the licence's age identity, so no
// copy of the package anywhere can be opened here again — logical deletion
// of every package and export the usage log knows of, a check that they
// are gone and that no identity remains, and a certificate that lists
// each item with its result. It never claims media-level sanitization
// (NIST SP 800-88 Clear or Purge): wear levelling, snapshots, swap and
// backups are out of its reach.
//
// Deletion runs in steps recorded in a journal, so a deletion that is
// interrupted at any point completes when it is run again.
package erase

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"aead.dev/minisign"

	"github.com/persona-workbench/persona/engine/guard"
	"github.com/persona-workbench/persona/engine/keys"
	"github.com/persona-workbench/persona/engine/report"
	"github.com/persona-workbench/persona/engine/usagelog"
	"github.com/persona-workbench/persona/engine/views"
)

// File names in a licence's folder.
const (
	JournalFile   = "deletion.json"
	TombstoneFile = "deleted.json"
	LicenceFile   = "licence.json"
)

// Results of an item.
const (
	ResultDeleted   = "deleted"
	ResultErased    = "destroyed (cryptographic erase)"
	ResultNotFound  = "not found — deletion could not be verified"
	ResultMismatch  = "left in place: its content differs from what the log recorded"
	ResultRemaining = "still present"
)

// Item is one thing deletion dealt with.
type Item struct {
	What   string `json:"what"` // "age identity", "signing key", "package", "export"
	Path   string `json:"path"`
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Action string `json:"action"`
	Result string `json:"result"`
}

// journal is the progress of one deletion.
type journal struct {
	CertificateID string    `json:"certificate_id"`
	Started       time.Time `json:"started"`
	Items         []Item    `json:"items"`
	Done          []string  `json:"done"`
	Verification  string    `json:"verification,omitempty"`
	// Recorded holds every SHA-256 the usage log recorded for an export's
	// path: a file replaced by a later export is deleted if it holds any.
	Recorded   map[string][]string `json:"recorded_sha256,omitempty"`
	Checkpoint string              `json:"final_checkpoint,omitempty"`
}

func (j *journal) done(step string) bool { return slices.Contains(j.Done, step) }

// Tombstone marks a deleted licence; opening any copy of its package is
// refused with what it says.
type Tombstone struct {
	Licence       string    `json:"licence_id"`
	Deleted       time.Time `json:"deleted"`
	CertificateID string    `json:"certificate_id"`
}

// ErrDeleted says the licence was deleted on this workstation.
var ErrDeleted = errors.New("licence was deleted")

type deletedError struct{ msg string }

func (e deletedError) Error() string        { return e.msg }
func (e deletedError) Is(target error) bool { return target == ErrDeleted }

// Deleted reports whether the licence in ws was deleted, as an error
// saying when and by which certificate.
func Deleted(ws *keys.Workspace, id string) error {
	b, err := os.ReadFile(filepath.Join(ws.LicenceDir(id), TombstoneFile))
	if err != nil {
		return nil
	}
	var t Tombstone
	if json.Unmarshal(b, &t) != nil {
		return deletedError{fmt.Sprintf("licence %s was deleted on this workstation", id)}
	}
	return deletedError{fmt.Sprintf("licence %s was deleted on %s (certificate %s)", id, t.Deleted.Format(time.DateOnly), t.CertificateID)}
}

// KeepLicence saves a verified licence.json (it holds no persona data) in
// the licence's folder, so that deletion can certify against it even when
// no copy of the package is left.
func KeepLicence(ws *keys.Workspace, id string, data []byte) error {
	return writeAtomic(filepath.Join(ws.LicenceDir(id), LicenceFile), data, 0o600)
}

// Options configure Delete.
type Options struct {
	Workspace *keys.Workspace
	ID        string
	// Signing is the person's enrolment signing key, unlocked by the
	// caller; it signs the final checkpoint and the certificate, and its
	// file is destroyed last.
	Signing minisign.PrivateKey
	Out     string // the certificate file; Out+".minisig" is its signature
	Tool    string
	Now     func() time.Time
	// AfterStep, if set, runs after each step: tests stop there to play
	// an interrupted deletion.
	AfterStep func(step string) error
}

// UsageReport is the "what" of a usage-report export record: it holds no
// persona data, and the licensor needs it, so deletion leaves it.
const UsageReport = "usage report"

// Steps of a deletion, in order.
var Steps = []string{"plan", "erase", "delete", "verify", "log", "certify", "destroy-key"}

// NeedsKey reports whether the deletion of a licence still needs the
// signing key: false once its certificate is written (a resumed deletion
// then only destroys the key).
func NeedsKey(ws *keys.Workspace, id string) bool {
	j, err := loadJournal(ws.LicenceDir(id))
	return err != nil || j == nil || !j.done("certify")
}

// Delete runs (or resumes) the deletion of a licence and writes its
// certificate.
func Delete(opt Options) (*Certificate, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	dir := opt.Workspace.LicenceDir(opt.ID)
	e, err := opt.Workspace.Enrolment(opt.ID)
	if err != nil {
		return nil, err
	}
	j, err := loadJournal(dir)
	if err != nil {
		return nil, err
	}
	if j == nil {
		j = &journal{Started: opt.Now().UTC().Truncate(time.Second)}
		j.CertificateID = fmt.Sprintf("DEL-%s-%s", opt.ID, j.Started.Format("20060102T150405Z"))
	}
	lg, err := usagelog.Open(dir, usagelog.Context{Person: e.Name, Tool: opt.Tool})
	if err != nil {
		return nil, err
	}
	step := func(name string, fn func() error) error {
		if j.done(name) {
			return nil
		}
		if err := fn(); err != nil {
			return fmt.Errorf("delete %s (%s): %w", opt.ID, name, err)
		}
		j.Done = append(j.Done, name)
		if err := saveJSON(filepath.Join(dir, JournalFile), j); err != nil {
			return err
		}
		if opt.AfterStep != nil {
			return opt.AfterStep(name)
		}
		return nil
	}
	var cert *Certificate
	for _, s := range []struct {
		name string
		fn   func() error
	}{
		{"plan", func() error { return plan(dir, j) }},
		{"erase", func() error {
			// Keys kept unlocked (persona unlock) go first.
			if _, err := opt.Workspace.Forget(opt.ID); err != nil {
				return err
			}
			return eraseIdentity(dir, j)
		}},
		{"delete", func() error {
			return deleteFiles(j, func() error { return saveJSON(filepath.Join(dir, JournalFile), j) })
		}},
		{"verify", func() error {
			j.Verification = verify(dir, j)
			return saveJSON(filepath.Join(dir, TombstoneFile), Tombstone{Licence: opt.ID, Deleted: j.Started, CertificateID: j.CertificateID})
		}},
		{"log", func() error {
			if _, err := lg.Append(usagelog.KindDeletion, map[string]any{"certificate_id": j.CertificateID, "items": len(j.Items)}); err != nil && !errors.Is(err, usagelog.ErrDeleted) {
				return err
			}
			signer, err := usagelog.Signer(opt.Signing)
			if err != nil {
				return err
			}
			c, err := lg.Checkpoint(opt.ID, signer)
			if err != nil {
				return err
			}
			j.Checkpoint = string(c.Note)
			return nil
		}},
		{"certify", func() error {
			var err error
			cert, err = certify(dir, opt, e, j, lg)
			return err
		}},
		{"destroy-key", func() error {
			// Last, the signing key: nothing can sign for this licence
			// any more.
			if err := os.Remove(filepath.Join(dir, keys.SigningKey)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			return syncDir(dir)
		}},
	} {
		if err := step(s.name, s.fn); err != nil {
			return nil, err
		}
	}
	if cert == nil { // certified by an earlier run
		return ReadCertificate(opt.Out)
	}
	return cert, nil
}

// plan lists what is to be deleted: the identity, and every package and
// export the usage log recorded, with their size and hash as found now.
func plan(dir string, j *journal) error {
	j.Items = []Item{{What: "age identity", Path: filepath.Join(dir, keys.IdentityFile), Action: "destroy the licence's decryption key (cryptographic erase)"}}
	// The privacy guard's release history holds head counts already
	// shown, and saved views the filter values the analyst chose: both
	// derive from the data and go with it.
	for _, f := range []struct{ what, name string }{{"release history", guard.HistoryFile}, {"saved views", views.FileName}} {
		path := filepath.Join(dir, f.name)
		if !fileExists(path) {
			continue
		}
		it := Item{What: f.what, Path: path, Action: "delete the file"}
		if st, err := os.Stat(path); err == nil {
			it.Size = st.Size()
			it.SHA256, _ = fileSHA256(path)
		}
		j.Items = append(j.Items, it)
	}
	recs, _, err := usagelog.Records(dir)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, r := range recs {
		var d struct {
			Package string `json:"package"`
			Path    string `json:"path"`
			SHA256  string `json:"sha256"`
			What    string `json:"what"`
		}
		json.Unmarshal(r.Data, &d)
		add := func(what, path, sum string) {
			if path == "" || seen[path] {
				return
			}
			seen[path] = true
			it := Item{What: what, Path: path, SHA256: sum, Action: "delete the file"}
			if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
				it.Size = st.Size()
				if it.SHA256 == "" {
					it.SHA256, _ = fileSHA256(path)
				}
			}
			j.Items = append(j.Items, it)
		}
		switch r.Kind {
		case usagelog.KindOpen, usagelog.KindOpenRefused:
			add("package", d.Package, "")
		case usagelog.KindExport:
			if d.What == UsageReport || d.Path == "" { // the usage report is for the licensor, not a derivative
				continue
			}
			if j.Recorded == nil {
				j.Recorded = map[string][]string{}
			}
			if d.SHA256 != "" {
				j.Recorded[d.Path] = append(j.Recorded[d.Path], d.SHA256)
			}
			add("export", d.Path, d.SHA256)
			// What a write cut short may have left beside it
			// (report.Publish writes a temporary file first).
			for _, part := range report.PartFiles(d.Path) {
				add("export", part, "")
			}
		}
	}
	return nil
}

func eraseIdentity(dir string, j *journal) error {
	path := filepath.Join(dir, keys.IdentityFile)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	j.Items[0].Result = ResultErased
	return nil
}

// deleteFiles deletes each file item, saving the journal after each, so
// that a deletion killed in the middle knows what it already removed.
func deleteFiles(j *journal, save func() error) error {
	for i := range j.Items {
		it := &j.Items[i]
		if it.What == "age identity" {
			continue
		}
		st, err := os.Stat(it.Path)
		if errors.Is(err, os.ErrNotExist) {
			if it.Result != ResultDeleted { // gone before we came
				it.Result = ResultNotFound
			}
			continue
		}
		if err != nil {
			return err
		}
		if !st.Mode().IsRegular() {
			it.Result = ResultMismatch
			continue
		}
		if it.What == "export" && it.SHA256 != "" {
			sum, _ := fileSHA256(it.Path)
			if sum != it.SHA256 && !slices.Contains(j.Recorded[it.Path], sum) {
				it.Result = ResultMismatch // someone's other file now has its name
				continue
			}
			it.SHA256 = sum // what was deleted: the last of the exports written there
		}
		it.Result = ResultDeleted // saved first: a kill after the removal must not read as "not found"
		if err := save(); err != nil {
			return err
		}
		if err := os.Remove(it.Path); err != nil {
			it.Result = ""
			return errors.Join(err, save())
		}
		syncDir(filepath.Dir(it.Path))
	}
	return nil
}

// verify checks that the files are gone and no identity is left.
func verify(dir string, j *journal) string {
	var remaining []string
	for _, it := range j.Items {
		if _, err := os.Lstat(it.Path); err == nil && it.Result != ResultMismatch {
			remaining = append(remaining, it.Path)
		}
	}
	ids, _ := filepath.Glob(filepath.Join(dir, "*.age"))
	switch {
	case len(remaining) > 0:
		return fmt.Sprintf("FAILED: still present: %v", remaining)
	case len(ids) > 0:
		return fmt.Sprintf("FAILED: identity files remain: %v", ids)
	}
	return "every deleted file is absent; no age identity for the licence remains in the workspace, so no copy of the package can be decrypted on this workstation"
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func loadJournal(dir string) (*journal, error) {
	b, err := os.ReadFile(filepath.Join(dir, JournalFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var j journal
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("deletion journal %s is damaged: %w", filepath.Join(dir, JournalFile), err)
	}
	return &j, nil
}

// saveJSON writes v to path atomically and durably.
func saveJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(path, append(b, '\n'), 0o600)
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
