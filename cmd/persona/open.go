package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"aead.dev/minisign"
	"filippo.io/age"
	"github.com/mattn/go-isatty"

	"github.com/spf13/pflag"

	"github.com/persona-workbench/persona/engine/erase"
	"github.com/persona-workbench/persona/engine/guard"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/keys"
	"github.com/persona-workbench/persona/engine/licence"
	"github.com/persona-workbench/persona/engine/pack"
	"github.com/persona-workbench/persona/engine/store"
	"github.com/persona-workbench/persona/engine/usagelog"
	"github.com/persona-workbench/persona/engine/views"
)

// source is a package to open on the analyst's side: verified, decrypted
// in memory and loaded, never read from a plaintext file.
type source struct {
	path        string
	providerKey string
	workspace   string
	threads     int
	memoryLimit string
	// ws, when set, is used instead of resolving --workspace (the demo's
	// throwaway workspace).
	ws *keys.Workspace
	// fields, when set, names the fields a one-off command reads: only
	// those, and the ones the licence's release history refers to, are
	// loaded. Nil loads everything.
	fields func(*inventory.Inventory) []string
}

func (s *source) flags(fs *pflag.FlagSet) {
	fs.StringVar(&s.providerKey, "provider-key", "", "the licensor's provider.pub (besides keys trusted with `persona trust`)")
	workspaceFlag(fs, &s.workspace)
	fs.IntVar(&s.threads, "threads", 0, "DuckDB worker threads (default: one per core)")
	fs.StringVar(&s.memoryLimit, "memory-limit", "", "DuckDB memory cap such as 4GB (default: 80% of RAM)")
}

// opened is an open package and its usage-log session.
type opened struct {
	*pack.Opened
	session *usagelog.Session
	history *guard.File
	views   *views.File // the analyst's saved views, sealed like the history
	logDir  string
	ws      *keys.Workspace
	signing minisign.PrivateKey // kept in memory only, for the TUI's deletion
	once    sync.Once
	err     error
}

// Close records the close, writes the last checkpoint and frees the data.
func (o *opened) Close() error {
	o.once.Do(func() { o.err = errors.Join(o.session.Close(), o.history.Close(), o.Opened.Close()) })
	return o.err
}

// deleteLicence closes the data, then deletes the licence and writes its
// certificate into the current folder; for the TUI's compliance screen.
func (o *opened) deleteLicence() (string, error) {
	if err := o.Close(); err != nil {
		return "", err
	}
	id := o.Licence.ID
	out, err := filepath.Abs("deletion-certificate-" + id + ".json")
	if err != nil {
		return "", err
	}
	if _, err := os.Lstat(out); err == nil {
		out = strings.TrimSuffix(out, ".json") + time.Now().UTC().Format("-20060102T150405Z") + ".json"
	}
	if _, err := erase.Delete(erase.Options{Workspace: o.ws, ID: id, Signing: o.signing, Out: out, Tool: "persona " + version}); err != nil {
		return "", err
	}
	return out, nil
}

// readLog reads and verifies the licence's usage log, for the TUI.
func (o *opened) readLog() ([]usagelog.Record, *usagelog.Report, error) {
	v, err := usagelog.Verifier(o.Person.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	recs, _, err := usagelog.Records(o.logDir)
	if err != nil {
		return nil, nil, err
	}
	rep, err := usagelog.Verify(o.logDir, o.Licence.ID, v, nil)
	return recs, rep, err
}

// slices is the slice engine whose every run is recorded in the log.
func (o *opened) slices(source string) usagelog.Slices {
	return usagelog.Slices{Engine: o.Dataset.Slices, Session: o.session, Source: source}
}

func (s *source) open(ctx context.Context) (*opened, error) {
	ws := s.ws
	if ws == nil {
		var err error
		if ws, err = openWorkspace(s.workspace, false); err != nil {
			return nil, err
		}
	}
	trusted, err := trustedKeys(ws, s.providerKey)
	if err != nil {
		return nil, err
	}
	path, err := filepath.Abs(s.path)
	if err != nil {
		return nil, err
	}
	// Every attempt is recorded in the log of the licence the package
	// claims to be, if this workspace is enrolled for it.
	var lg *usagelog.Log
	claimed, peekErr := pack.Peek(path)
	if peekErr == nil {
		// A deleted licence is refused before anything else; the log,
		// closed by the deletion, records nothing more.
		if err := erase.Deleted(ws, claimed.ID); err != nil {
			return nil, withHint(err, "its data may no longer be used on this workstation")
		}
		if lg, err = openLog(ws, claimed.ID); err != nil {
			return nil, err
		}
	}
	refuse := func(err error) (*opened, error) {
		if lg != nil {
			if _, lerr := lg.Append(usagelog.KindOpenRefused, map[string]string{"package": path, "reason": oneLine(err.Error())}); lerr != nil {
				err = errors.Join(err, lerr)
			}
		}
		return nil, packageHint(err)
	}
	if lg != nil {
		if err := lg.CheckClock(time.Now()); err != nil {
			return refuse(withHint(err, "set this computer's clock to the correct time"))
		}
	}
	p := newProgress()
	defer p.done()
	var (
		signing    minisign.PrivateKey
		ident      *age.X25519Identity
		licID      string
		remembered bool // the keys came from persona unlock's keyring
	)
	o, err := pack.Open(ctx, path, pack.OpenOptions{
		Trusted: trusted,
		Identity: func(l *licence.Licence) (*age.X25519Identity, error) {
			p.pause()
			defer p.resume()
			id, key, kept, err := ws.UnlockRemembered(l.ID, passphrase("passphrase for licence "+l.ID, false))
			signing, ident, licID, remembered = key, id, l.ID, kept
			return id, err
		},
		Store:   store.Options{Threads: s.threads, MemoryLimit: s.memoryLimit},
		Columns: s.columns(ws, &ident, &licID),
		Progress: func(stage string, done, total int64) {
			switch stage {
			case "verify":
				p.show(bar("verifying", done, total))
			case "decrypt":
				p.show(bar("decrypting", done, total))
			case "load":
				p.show(fmt.Sprintf("loading: part %d of %d", done, total))
			}
		},
	})
	if err != nil {
		return refuse(err)
	}
	if lg == nil { // only if the package changed since it was peeked at
		if lg, err = openLog(ws, o.Licence.ID); err != nil || lg == nil {
			o.Close()
			return nil, fmt.Errorf("usage log of %s: %w", o.Licence.ID, err)
		}
	}
	signer, err := usagelog.Signer(signing)
	if err != nil {
		o.Close()
		return nil, err
	}
	// Keep the verified licence beside the keys: deletion certifies
	// against it even when no copy of the package is left.
	if err := erase.KeepLicence(ws, o.Licence.ID, o.Container.Licence); err != nil {
		o.Close()
		return nil, err
	}
	// Every result is checked against all the licence's earlier ones.
	history, err := guard.OpenFile(filepath.Join(ws.LicenceDir(o.Licence.ID), guard.HistoryFile), keys.Derive(ident, "release history"))
	if err != nil {
		o.Close()
		return nil, withHint(err, "check the workspace's disk space and permissions")
	}
	o.Dataset.Slices.UseHistory(history)
	start := map[string]any{
		"package": path, "payload_sha256": o.Licence.Payload.SHA256, "signed_by": licence.KeyID(o.SignedBy.ID()), "records": o.Dataset.Inventory.Records,
	}
	if remembered {
		start["keys"] = "unlocked earlier (persona unlock)"
	}
	session, err := usagelog.Start(lg, o.Licence.ID, signer, start)
	if err != nil {
		history.Close()
		o.Close()
		return nil, withHint(fmt.Errorf("the usage log cannot be written, so the package stays closed: %w", err), "check the workspace's disk space and permissions")
	}
	saved, err := views.Open(filepath.Join(ws.LicenceDir(o.Licence.ID), views.FileName), keys.Derive(ident, "saved views"))
	if err != nil {
		session.Close()
		history.Close()
		o.Close()
		return nil, err
	}
	return &opened{Opened: o, session: session, history: history, views: saved, logDir: ws.LicenceDir(o.Licence.ID), ws: ws, signing: signing}, nil
}

// columns is pack.OpenOptions.Columns for s: nil without s.fields; else
// the fields s.fields names and those the release history of licence
// *licID refers to, read with the identity *ident once it is unlocked.
func (s *source) columns(ws *keys.Workspace, ident **age.X25519Identity, licID *string) func(*inventory.Inventory) ([]string, error) {
	if s.fields == nil {
		return nil
	}
	return func(inv *inventory.Inventory) ([]string, error) {
		if *ident == nil {
			return nil, nil // load everything
		}
		hist, err := guard.Fields(filepath.Join(ws.LicenceDir(*licID), guard.HistoryFile), keys.Derive(*ident, "release history"))
		if err != nil {
			return nil, withHint(err, "check the workspace's disk space and permissions")
		}
		// Never nil: a total that reads no field still loads only one.
		return append(append([]string{}, s.fields(inv)...), hist...), nil
	}
}

// openLog opens the usage log of a licence this workspace is enrolled
// for; nil if it is not enrolled.
func openLog(ws *keys.Workspace, id string) (*usagelog.Log, error) {
	e, err := ws.Enrolment(id)
	if err != nil {
		return nil, nil
	}
	lg, err := usagelog.Open(ws.LicenceDir(id), usagelog.Context{Person: e.Name, Tool: "persona " + version})
	if err != nil {
		return nil, fmt.Errorf("usage log of %s: %w", id, err)
	}
	return lg, nil
}

// lang picks the interface language: --lang, else the locale.
func lang(flag string) (string, error) {
	switch flag {
	case "zh", "zh-CN", "en":
		return flag[:2], nil
	case "":
	default:
		return "", withHint(fmt.Errorf("unknown language %q", flag), "use --lang zh or --lang en")
	}
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if l := os.Getenv(v); l != "" {
			if strings.HasPrefix(l, "zh") {
				return "zh", nil
			}
			return "en", nil
		}
	}
	return "en", nil
}

// progress shows one line of progress on stderr, rewritten in place, when
// stderr is a terminal; elsewhere it stays silent.
type progress struct {
	on     bool
	mu     sync.Mutex
	start  time.Time // nothing is shown for work that ends within a moment
	last   time.Time
	shown  bool
	paused bool
}

// pause clears the line and holds it back, while a prompt uses the
// terminal.
func (p *progress) pause() {
	p.done()
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
}

func (p *progress) resume() {
	p.mu.Lock()
	p.paused = false
	p.mu.Unlock()
}

func newProgress() *progress {
	return &progress{on: isatty.IsTerminal(os.Stderr.Fd()), start: time.Now()}
}

func (p *progress) show(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.on || p.paused || time.Since(p.start) < 300*time.Millisecond || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.shown = true
	fmt.Fprintf(os.Stderr, "\r\x1b[K%s", line)
}

// done clears the line.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(os.Stderr, "\r\x1b[K")
		p.shown = false
	}
}
