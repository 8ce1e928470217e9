package keys

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"aead.dev/minisign"
	"filippo.io/age"

	"github.com/persona-workbench/persona/engine/licence"
)

// Workspace is the folder holding a person's licence keys and trusted
// licensor keys (docs/FORMAT.md, "Keys and the workspace").
type Workspace struct {
	Dir string
	// ScryptWorkFactor, when set, overrides age's scrypt work factor for
	// identities enrolled from now on (tests lower it to stay fast).
	ScryptWorkFactor int
	// Keyring keeps keys unlocked between commands (Remember); nil is the
	// system's, the kernel keyring of the login session.
	Keyring Keyring
}

// ResolveDir picks the workspace folder: the flag, else $PERSONA_HOME,
// else $XDG_DATA_HOME/persona, else ~/.local/share/persona.
func ResolveDir(flag string) (string, error) {
	if flag != "" {
		return filepath.Abs(flag)
	}
	if d := os.Getenv("PERSONA_HOME"); d != "" {
		return filepath.Abs(d)
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "persona"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no workspace: set PERSONA_HOME or pass --workspace (%w)", err)
	}
	return filepath.Join(home, ".local", "share", "persona"), nil
}

// Open opens the workspace in dir, creating it (mode 0700) when create is
// set and it does not exist. A workspace that others can read is refused.
func Open(dir string, create bool) (*Workspace, error) {
	if create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create workspace: %w", err)
		}
	}
	if err := privateDir(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("workspace %s does not exist", dir)
		}
		return nil, fmt.Errorf("workspace: %w", err)
	}
	return &Workspace{Dir: dir}, nil
}

// LicenceDir is the folder of one licence's keys.
func (w *Workspace) LicenceDir(id string) string {
	return filepath.Join(w.Dir, "licences", id)
}

// Enrol creates the keys of one person for one licence and returns the
// enrolment to send to the licensor. The secret keys are encrypted with
// pass; an empty pass is accepted only for demo keys, which are written in
// the clear and marked as such.
func (w *Workspace) Enrol(id, name, role, pass string, demo bool) (*licence.Enrolment, error) {
	if !licence.ValidID(id) {
		return nil, fmt.Errorf("licence id %q: want 1-64 letters, digits, '.', '_' or '-'", id)
	}
	if pass == "" && !demo {
		return nil, ErrNoPassphrase
	}
	dir := w.LicenceDir(id)
	if _, err := os.Lstat(dir); err == nil {
		return nil, fmt.Errorf("%w %s: its keys are in %s", ErrAlreadyEnrolled, id, dir)
	}
	ident, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, err
	}
	pub, priv, err := minisign.GenerateKey(randReader)
	if err != nil {
		return nil, err
	}
	e := &licence.Enrolment{Format: licence.EnrolmentFormat, Version: licence.Version, ID: id, Person: licence.Person{
		Name: name, Role: role, Recipient: ident.Recipient().String(), PublicKey: licence.PublicKeyString(pub),
	}}
	enc, err := e.Marshal()
	if err != nil {
		return nil, err
	}
	if _, err := licence.ParseEnrolment(enc); err != nil { // name and role checks
		return nil, err
	}
	identText, err := encryptIdentity(ident, priv, pass, w.ScryptWorkFactor)
	if err != nil {
		return nil, err
	}
	keyText, err := encodePrivate(priv, pass, demo)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return nil, err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	err = writeFiles(map[string][]byte{
		filepath.Join(dir, IdentityFile): identText,
		filepath.Join(dir, SigningKey):   keyText,
		filepath.Join(dir, SigningPub):   publicKeyFile(pub, "persona signing key of "+name+" for licence "+id),
		filepath.Join(dir, EnrolFile):    enc,
	}, nil)
	if err != nil {
		os.Remove(dir)
		return nil, err
	}
	return e, nil
}

// Enrolment returns this workspace's enrolment for a licence.
func (w *Workspace) Enrolment(id string) (*licence.Enrolment, error) {
	if !licence.ValidID(id) {
		return nil, fmt.Errorf("licence id %q is not a licence id", id)
	}
	data, err := os.ReadFile(filepath.Join(w.LicenceDir(id), EnrolFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w %s in workspace %s", ErrNotEnrolled, id, w.Dir)
	}
	if err != nil {
		return nil, err
	}
	return licence.ParseEnrolment(data)
}

// Identity returns the age identity enrolled for a licence, asking for the
// passphrase if it is protected. Key files and their folder must be
// private to their owner.
func (w *Workspace) Identity(id string, pass Passphrase) (*age.X25519Identity, error) {
	path, data, err := w.identityFile(id)
	if err != nil {
		return nil, err
	}
	ident, _, err := decryptIdentity(path, data, pass)
	return ident, err
}

// Unlock returns the age identity and the signing key enrolled for a
// licence, asking for the passphrase once if they are protected.
func (w *Workspace) Unlock(id string, pass Passphrase) (*age.X25519Identity, minisign.PrivateKey, error) {
	path, data, err := w.identityFile(id)
	if err != nil {
		return nil, minisign.PrivateKey{}, err
	}
	return decryptIdentity(path, data, pass)
}

// identityFile reads a licence's identity file after checking that it and
// its folder are private.
func (w *Workspace) identityFile(id string) (string, []byte, error) {
	if !licence.ValidID(id) {
		return "", nil, fmt.Errorf("licence id %q is not a licence id", id)
	}
	dir := w.LicenceDir(id)
	if err := privateDir(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil, fmt.Errorf("%w %s in workspace %s", ErrNotEnrolled, id, w.Dir)
		}
		return "", nil, err
	}
	path := filepath.Join(dir, IdentityFile)
	data, err := readPrivate(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil, fmt.Errorf("%w %s: %s is missing", ErrNotEnrolled, id, path)
		}
		return "", nil, err
	}
	return path, data, nil
}

// SigningKey returns the person's minisign key for a licence.
func (w *Workspace) SigningKey(id string, pass Passphrase) (minisign.PrivateKey, error) {
	if !licence.ValidID(id) {
		return minisign.PrivateKey{}, fmt.Errorf("licence id %q is not a licence id", id)
	}
	if err := privateDir(w.LicenceDir(id)); err != nil {
		return minisign.PrivateKey{}, err
	}
	return LoadSecretKey(filepath.Join(w.LicenceDir(id), SigningKey), pass)
}

// Trust adds a licensor public key to the workspace's trusted keys.
func (w *Workspace) Trust(pubPath string) (minisign.PublicKey, error) {
	k, err := LoadPublicKey(pubPath)
	if err != nil {
		return k, err
	}
	dir := filepath.Join(w.Dir, "trusted")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return k, err
	}
	dst := filepath.Join(dir, licence.KeyID(k.ID())+".pub")
	if old, err := LoadPublicKey(dst); err == nil {
		if old.Equal(k) {
			return k, nil
		}
		return k, fmt.Errorf("a different key with id %s is already trusted (%s)", licence.KeyID(k.ID()), dst)
	}
	return k, writeFiles(map[string][]byte{dst: publicKeyFile(k, "trusted licensor key "+licence.KeyID(k.ID()))}, nil)
}

// Trusted returns the licensor keys trusted in this workspace.
func (w *Workspace) Trusted() ([]minisign.PublicKey, error) {
	dir := filepath.Join(w.Dir, "trusted")
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var keys []minisign.PublicKey
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".pub") || !e.Type().IsRegular() {
			continue
		}
		k, err := LoadPublicKey(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ID() < keys[j].ID() })
	return keys, nil
}
