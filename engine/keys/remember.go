package keys

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"aead.dev/minisign"
	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/persona-workbench/persona/engine/licence"
)

// Remembered keys.
//
// Each command that opens a package unlocks the licence's identity:
// a passphrase, then age's scrypt (about a second and 256 MiB). An
// analyst running one command after another pays that every time.
// Remember unlocks once and keeps the identity file's plain text in a
// Keyring — the kernel keyring of the login session — for a while; until
// then UnlockRemembered takes it from there without asking. As with
// ssh-agent, any program the person runs in that session can use the
// keys meanwhile; the kernel keeps them off disk and destroys them when
// the time is up, and Forget does at once.

// How long Remember may keep keys.
const (
	DefaultRemember = 15 * time.Minute
	MinRemember     = time.Minute
	MaxRemember     = 12 * time.Hour
)

// Errors of Remember, checked with errors.Is.
var (
	// ErrUnprotected: the keys have no passphrase (demo keys), so there
	// is nothing to unlock.
	ErrUnprotected = errors.New("not protected by a passphrase")
	// ErrRememberTime: keys are kept from MinRemember to MaxRemember.
	ErrRememberTime = fmt.Errorf("keys can be kept unlocked for %s to %s", MinRemember, MaxRemember)
)

func (w *Workspace) keyring() Keyring {
	if w.Keyring != nil {
		return w.Keyring
	}
	return SystemKeyring()
}

// rememberedName names a licence's keys in the keyring: by licence and a
// hash of the workspace folder (its real path, whatever link led to it),
// so that two workspaces never share them.
func (w *Workspace) rememberedName(id string) string {
	dir, err := filepath.EvalSymlinks(w.Dir)
	if err != nil {
		dir = w.Dir
	}
	h := sha256.Sum256([]byte(dir + "\x00" + id))
	return rememberedPrefix(id) + hex.EncodeToString(h[:8])
}

// rememberedPrefix starts the names of licence id's keys, in any
// workspace.
func rememberedPrefix(id string) string { return "persona:" + id + ":" }

// What the keyring holds: the hash of the identity file the keys came
// from, a newline, then the file's plain text. A file enrolled again since
// then no longer matches, and its old keys are not used.
func rememberedValue(file, plain []byte) []byte {
	h := sha256.Sum256(file)
	return append([]byte(hex.EncodeToString(h[:])+"\n"), plain...)
}

// Remember unlocks licence id's keys with pass, as Unlock does, and keeps
// them unlocked in the keyring for ttl (MinRemember to MaxRemember),
// replacing what it kept before. Demo keys fail with ErrUnprotected.
func (w *Workspace) Remember(id string, pass Passphrase, ttl time.Duration) (*age.X25519Identity, minisign.PrivateKey, error) {
	if ttl < MinRemember || ttl > MaxRemember {
		return nil, minisign.PrivateKey{}, fmt.Errorf("%w, not %s", ErrRememberTime, ttl)
	}
	path, data, err := w.identityFile(id)
	if err != nil {
		return nil, minisign.PrivateKey{}, err
	}
	if !bytes.HasPrefix(data, []byte(armor.Header)) {
		return nil, minisign.PrivateKey{}, fmt.Errorf("the keys of licence %s are %w (demo keys): they need no unlocking", id, ErrUnprotected)
	}
	// A system that keeps nothing says so before the passphrase is asked.
	old, err := w.keyring().Get(w.rememberedName(id))
	clear(old)
	if errors.Is(err, ErrNoKeyring) {
		return nil, minisign.PrivateKey{}, err
	}
	ident, sign, plain, err := decryptIdentityKeys(path, data, pass)
	if err != nil {
		return nil, sign, err
	}
	value := rememberedValue(data, plain)
	defer clear(value)
	defer clear(plain)
	if err := w.keyring().Put(w.rememberedName(id), value, ttl); err != nil {
		return nil, minisign.PrivateKey{}, err
	}
	return ident, sign, nil
}

// UnlockRemembered returns licence id's keys as Unlock does, but from the
// keyring, without asking for the passphrase, while Remember's keys are
// kept there (remembered is then true). Keys kept for an identity file
// that has changed since are forgotten; a system with no keyring asks.
func (w *Workspace) UnlockRemembered(id string, pass Passphrase) (ident *age.X25519Identity, sign minisign.PrivateKey, remembered bool, err error) {
	path, data, err := w.identityFile(id)
	if err != nil {
		return nil, sign, false, err
	}
	if bytes.HasPrefix(data, []byte(armor.Header)) {
		name := w.rememberedName(id)
		if value, err := w.keyring().Get(name); err == nil {
			ident, sign, err := fromRemembered(path, data, value)
			clear(value)
			if err == nil {
				return ident, sign, true, nil
			}
			w.keyring().Drop(name) // kept for another file, or damaged: forgotten
		}
	}
	ident, sign, err = decryptIdentity(path, data, pass)
	return ident, sign, false, err
}

func fromRemembered(path string, file, value []byte) (*age.X25519Identity, minisign.PrivateKey, error) {
	want := rememberedValue(file, nil)
	if len(value) < len(want) || subtle.ConstantTimeCompare(value[:len(want)], want) != 1 {
		return nil, minisign.PrivateKey{}, ErrNotRemembered
	}
	plain := value[len(want):]
	ident, err := parseIdentity(path, plain)
	if err != nil {
		return nil, minisign.PrivateKey{}, err
	}
	sign, err := signingKeyOf(path, plain)
	return ident, sign, err
}

// Forget drops licence id's keys from the keyring at once — those
// Remember kept for this workspace and for any other — and says how many
// it dropped; none where this system keeps none.
func (w *Workspace) Forget(id string) (int, error) {
	if !licence.ValidID(id) {
		return 0, fmt.Errorf("licence id %q is not a licence id", id)
	}
	n, err := w.keyring().Drop(rememberedPrefix(id))
	if errors.Is(err, ErrNoKeyring) {
		return 0, nil
	}
	return n, err
}

// Unlocked says whether the keyring holds this workspace's keys for
// licence id, kept by Remember for its identity file as it is now: the
// keys UnlockRemembered would use.
func (w *Workspace) Unlocked(id string) bool {
	path, data, err := w.identityFile(id)
	if err != nil {
		return false
	}
	value, err := w.keyring().Get(w.rememberedName(id))
	defer clear(value)
	if err != nil {
		return false
	}
	_, _, err = fromRemembered(path, data, value)
	return err == nil
}

// KeyringScope says which processes can use the keys Remember keeps:
// ScopeSession, ScopeUser, or "" where nothing can be kept.
func (w *Workspace) KeyringScope() string { return w.keyring().Scope() }

// Licences lists the ids of the licences this workspace holds keys or
// records for, sorted.
func (w *Workspace) Licences() ([]string, error) {
	ents, err := os.ReadDir(w.LicenceDir(""))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && licence.ValidID(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}
