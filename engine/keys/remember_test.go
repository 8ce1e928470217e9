package keys

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"aead.dev/minisign"
	"filippo.io/age"
)

const rememberID = "DEMO-2026-0001"

// memKeyring is a Keyring in a map; it records the ttl each key got.
type memKeyring struct {
	mu   sync.Mutex
	keys map[string][]byte
	ttl  map[string]time.Duration
	err  error // every call fails with it, when set
}

func newMemKeyring() *memKeyring {
	return &memKeyring{keys: map[string][]byte{}, ttl: map[string]time.Duration{}}
}

func (k *memKeyring) Put(name string, secret []byte, ttl time.Duration) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil {
		return k.err
	}
	k.keys[name], k.ttl[name] = bytes.Clone(secret), ttl
	return nil
}

func (k *memKeyring) Get(name string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil {
		return nil, k.err
	}
	v, ok := k.keys[name]
	if !ok {
		return nil, ErrNotRemembered
	}
	return bytes.Clone(v), nil
}

func (k *memKeyring) Drop(prefix string) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil {
		return 0, k.err
	}
	n := 0
	for name := range k.keys {
		if strings.HasPrefix(name, prefix) {
			delete(k.keys, name)
			n++
		}
	}
	return n, nil
}

func (k *memKeyring) Scope() string { return ScopeSession }

// protectedWorkspace holds a licence identity encrypted with pass (at a
// cheap scrypt cost), written as Enrol writes it; pass "" writes demo
// keys.
func protectedWorkspace(t *testing.T, pass string) (*Workspace, *age.X25519Identity, minisign.PrivateKey) {
	t.Helper()
	ws, err := Open(filepath.Join(t.TempDir(), "ws"), true)
	if err != nil {
		t.Fatal(err)
	}
	ws.Keyring = newMemKeyring()
	ident, sign := writeIdentity(t, ws, pass)
	return ws, ident, sign
}

func writeIdentity(t *testing.T, ws *Workspace, pass string) (*age.X25519Identity, minisign.PrivateKey) {
	t.Helper()
	ident, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	_, sign, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	text, err := encryptIdentity(ident, sign, pass, 10)
	if err != nil {
		t.Fatal(err)
	}
	dir := ws.LicenceDir(rememberID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, IdentityFile), text, 0o600); err != nil {
		t.Fatal(err)
	}
	return ident, sign
}

// asked counts the passphrase prompts and answers p.
func asked(p string, n *int) Passphrase { return func() (string, error) { *n++; return p, nil } }

func sameKeys(t *testing.T, gotID *age.X25519Identity, gotSign minisign.PrivateKey, wantID *age.X25519Identity, wantSign minisign.PrivateKey) {
	t.Helper()
	if gotID == nil || gotID.String() != wantID.String() {
		t.Error("a different age identity")
	}
	if !gotSign.Equal(wantSign) {
		t.Error("a different signing key")
	}
}

func TestRemember(t *testing.T) {
	const pass = "correct horse"
	ws, ident, sign := protectedWorkspace(t, pass)
	kr := ws.Keyring.(*memKeyring)
	n := 0

	// Before Remember, every unlock asks.
	id, key, remembered, err := ws.UnlockRemembered(rememberID, asked(pass, &n))
	if err != nil || remembered || n != 1 {
		t.Fatalf("UnlockRemembered before Remember: remembered %v, %d prompts, %v", remembered, n, err)
	}
	sameKeys(t, id, key, ident, sign)

	id, key, err = ws.Remember(rememberID, asked(pass, &n), 30*time.Minute)
	if err != nil || n != 2 {
		t.Fatalf("Remember: %d prompts, %v", n, err)
	}
	sameKeys(t, id, key, ident, sign)
	if len(kr.keys) != 1 {
		t.Fatalf("the keyring holds %d keys, want 1", len(kr.keys))
	}
	for name, v := range kr.keys {
		if !strings.HasPrefix(name, "persona:"+rememberID+":") {
			t.Errorf("kept as %q, want persona:%s:…", name, rememberID)
		}
		if kr.ttl[name] != 30*time.Minute {
			t.Errorf("kept for %s, want 30m", kr.ttl[name])
		}
		if !bytes.Contains(v, []byte(ident.String())) {
			t.Error("the keyring does not hold the identity")
		}
	}

	if !ws.Unlocked(rememberID) || ws.Unlocked("OTHER-2026-0001") {
		t.Error("Unlocked: wrong after Remember")
	}
	// Now no prompt, the same keys.
	for range 3 {
		id, key, remembered, err = ws.UnlockRemembered(rememberID, asked(pass, &n))
		if err != nil || !remembered || n != 2 {
			t.Fatalf("UnlockRemembered: remembered %v, %d prompts, %v", remembered, n, err)
		}
		sameKeys(t, id, key, ident, sign)
	}

	// Forget: asked again.
	kr.keys["persona:OTHER-2026-0001:0011223344556677"] = []byte("another licence's")
	if n, err := ws.Forget(rememberID); err != nil || n != 1 {
		t.Fatalf("Forget: %d keys, %v; want 1", n, err)
	}
	if len(kr.keys) != 1 || ws.Unlocked(rememberID) {
		t.Errorf("Forget left %d keys in the keyring, want only the other licence's", len(kr.keys))
	}
	if _, _, remembered, err = ws.UnlockRemembered(rememberID, asked(pass, &n)); err != nil || remembered || n != 3 {
		t.Errorf("after Forget: remembered %v, %d prompts, %v", remembered, n, err)
	}
	if n, err := ws.Forget(rememberID); err != nil || n != 0 {
		t.Errorf("Forget with nothing kept: %d, %v", n, err)
	}
	if _, err := ws.Forget("../x"); err == nil {
		t.Error("Forget of a bad licence id: no error")
	}
}

func TestRememberRefuses(t *testing.T) {
	const pass = "correct horse"
	ws, _, _ := protectedWorkspace(t, pass)
	kr := ws.Keyring.(*memKeyring)
	for _, ttl := range []time.Duration{0, 59 * time.Second, 13 * time.Hour, -time.Minute} {
		n := 0
		if _, _, err := ws.Remember(rememberID, asked(pass, &n), ttl); !errors.Is(err, ErrRememberTime) || strings.Contains(err.Error(), "\n") || n != 0 {
			t.Errorf("Remember for %s: %v after %d prompts, want a one-line refusal before asking", ttl, err, n)
		}
	}
	if _, _, err := ws.Remember(rememberID, asked("wrong", new(int)), time.Hour); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("wrong passphrase: %v, want ErrWrongPassphrase", err)
	}
	if _, _, err := ws.Remember("OTHER-2026-0001", asked(pass, new(int)), time.Hour); !errors.Is(err, ErrNotEnrolled) {
		t.Errorf("another licence: %v, want ErrNotEnrolled", err)
	}
	if _, _, err := ws.Remember("../x", asked(pass, new(int)), time.Hour); err == nil {
		t.Error("a bad licence id was accepted")
	}
	if len(kr.keys) != 0 {
		t.Errorf("refusals kept %d keys", len(kr.keys))
	}

	demo, _, _ := protectedWorkspace(t, "")
	if _, _, err := demo.Remember(rememberID, asked("", new(int)), time.Hour); !errors.Is(err, ErrUnprotected) {
		t.Errorf("demo keys: %v, want ErrUnprotected", err)
	}
}

// Keys kept for an identity file that has since changed, or damaged in
// the keyring, are never used: the passphrase is asked for and they are
// forgotten.
func TestRememberedStale(t *testing.T) {
	const pass = "correct horse"
	for _, c := range []struct {
		name   string
		change func(t *testing.T, ws *Workspace, kr *memKeyring, name string)
	}{
		{"enrolled again", func(t *testing.T, ws *Workspace, _ *memKeyring, _ string) { writeIdentity(t, ws, pass) }},
		{"damaged", func(t *testing.T, _ *Workspace, kr *memKeyring, name string) {
			v := kr.keys[name]
			kr.keys[name] = append(v[:65:65], "AGE-SECRET-KEY-1NOTAKEY\n"...)
		}},
		{"truncated", func(t *testing.T, _ *Workspace, kr *memKeyring, name string) { kr.keys[name] = kr.keys[name][:10] }},
	} {
		t.Run(c.name, func(t *testing.T) {
			ws, _, _ := protectedWorkspace(t, pass)
			kr := ws.Keyring.(*memKeyring)
			if _, _, err := ws.Remember(rememberID, asked(pass, new(int)), time.Hour); err != nil {
				t.Fatal(err)
			}
			c.change(t, ws, kr, ws.rememberedName(rememberID))
			if ws.Unlocked(rememberID) {
				t.Error("Unlocked: true for keys that will not be used")
			}
			n := 0
			_, _, remembered, err := ws.UnlockRemembered(rememberID, asked(pass, &n))
			if err != nil || remembered || n != 1 {
				t.Errorf("remembered %v, %d prompts, %v; want the passphrase asked for", remembered, n, err)
			}
			if len(kr.keys) != 0 {
				t.Error("the stale keys were not forgotten")
			}
		})
	}
}

// A workspace reached through a link is the same workspace: its keys are
// found, and forgotten, whichever way it is named.
func TestRememberedThroughALink(t *testing.T) {
	const pass = "correct horse"
	ws, _, _ := protectedWorkspace(t, pass)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(ws.Dir, link); err != nil {
		t.Fatal(err)
	}
	linked := &Workspace{Dir: link, Keyring: ws.Keyring}
	if _, _, err := linked.Remember(rememberID, asked(pass, new(int)), time.Hour); err != nil {
		t.Fatal(err)
	}
	n := 0
	if _, _, remembered, err := ws.UnlockRemembered(rememberID, asked(pass, &n)); err != nil || !remembered || n != 0 {
		t.Errorf("through the real path: remembered %v, %d prompts, %v", remembered, n, err)
	}
}

func TestRememberedPerWorkspace(t *testing.T) {
	const pass = "correct horse"
	a, _, _ := protectedWorkspace(t, pass)
	b, _, _ := protectedWorkspace(t, pass)
	b.Keyring = a.Keyring // one login session
	if a.rememberedName(rememberID) == b.rememberedName(rememberID) {
		t.Fatal("two workspaces name their keys alike")
	}
	if _, _, err := a.Remember(rememberID, asked(pass, new(int)), time.Hour); err != nil {
		t.Fatal(err)
	}
	n := 0
	if _, _, remembered, err := b.UnlockRemembered(rememberID, asked(pass, &n)); err != nil || remembered || n != 1 {
		t.Errorf("the other workspace: remembered %v, %d prompts, %v", remembered, n, err)
	}
}

func TestNoKeyring(t *testing.T) {
	const pass = "correct horse"
	ws, ident, sign := protectedWorkspace(t, pass)
	ws.Keyring.(*memKeyring).err = ErrNoKeyring
	n := 0
	if _, _, err := ws.Remember(rememberID, asked(pass, &n), time.Hour); !errors.Is(err, ErrNoKeyring) || n != 0 {
		t.Errorf("Remember: %v after %d prompts, want ErrNoKeyring before asking", err, n)
	}
	id, key, remembered, err := ws.UnlockRemembered(rememberID, asked(pass, &n))
	if err != nil || remembered || n != 1 {
		t.Errorf("UnlockRemembered: remembered %v, %d prompts, %v", remembered, n, err)
	}
	sameKeys(t, id, key, ident, sign)
	if n, err := ws.Forget(rememberID); err != nil || n != 0 {
		t.Errorf("Forget: %d, %v, want nothing where nothing can be kept", n, err)
	}
}

func TestLicences(t *testing.T) {
	ws, _, _ := protectedWorkspace(t, "x")
	for _, d := range []string{"OTHER-2026-0002", "not a licence"} {
		if err := os.MkdirAll(ws.LicenceDir(d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := ws.Licences()
	if err != nil || strings.Join(ids, ",") != rememberID+",OTHER-2026-0002" {
		t.Errorf("Licences: %q, %v", ids, err)
	}
	empty, err := Open(filepath.Join(t.TempDir(), "ws"), true)
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := empty.Licences(); err != nil || len(ids) != 0 {
		t.Errorf("an empty workspace: %q, %v", ids, err)
	}
}
