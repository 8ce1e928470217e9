// Package keys manages the keys of a licence and the workspace that holds
// them.
//
// The licensor has one minisign key pair (provider.key, provider.pub) that
// signs licences. Each authorised person enrols once per licence: they get
// an age X25519 identity, to which the licensor encrypts the data, and a
// minisign key pair of their own, which signs what they hand back (usage
// checkpoints, the deletion certificate). Keys are per licence so that
// destroying them at the end erases the data cryptographically: no copy of
// the package can be opened with what is left.
//
// Secret keys are kept encrypted with the person's passphrase, in formats
// the stock tools read (age's scrypt-encrypted identity, minisign's own
// encrypted key), and in files only their owner can read. Like ssh, this
// package refuses keys that others can read.
package keys

import (
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"aead.dev/minisign"
	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/persona-workbench/persona/engine/licence"
)

// Errors checked with errors.Is.
var (
	ErrNotEnrolled      = errors.New("not enrolled for this licence")
	ErrWrongPassphrase  = errors.New("wrong passphrase")
	ErrExposed          = errors.New("key file is readable by others")
	ErrAlreadyEnrolled  = errors.New("already enrolled for this licence")
	ErrNoPassphrase     = errors.New("empty passphrase")
	ErrNotAKey          = errors.New("not a key file")
	ErrProviderKeyExist = errors.New("key files already exist")
)

// DemoMarker starts every unprotected key file, so nobody mistakes one for
// a real key.
const DemoMarker = "DEMO KEY - NOT PROTECTED - for `persona demo` only"

// Passphrase supplies a passphrase when one is needed.
type Passphrase func() (string, error)

// File names.
const (
	ProviderKey  = "provider.key"
	ProviderPub  = "provider.pub"
	IdentityFile = "identity.age"
	SigningKey   = "signing.key"
	SigningPub   = "signing.pub"
	EnrolFile    = "enrolment.json"
)

// GenerateProvider writes a licensor key pair into dir: provider.key,
// encrypted with pass (or, when pass is empty and demo is set, in the
// clear and marked as a demo key), and provider.pub.
func GenerateProvider(dir, pass string, demo bool) (minisign.PublicKey, error) {
	if pass == "" && !demo {
		return minisign.PublicKey{}, ErrNoPassphrase
	}
	keyPath, pubPath := filepath.Join(dir, ProviderKey), filepath.Join(dir, ProviderPub)
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return minisign.PublicKey{}, fmt.Errorf("%w: %s", ErrProviderKeyExist, p)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return minisign.PublicKey{}, err
	}
	pub, priv, err := minisign.GenerateKey(randReader)
	if err != nil {
		return pub, err
	}
	keyText, err := encodePrivate(priv, pass, demo)
	if err != nil {
		return pub, err
	}
	pubText := publicKeyFile(pub, "persona licensor public key "+licence.KeyID(pub.ID()))
	if err := writeFiles(map[string][]byte{keyPath: keyText, pubPath: pubText}, map[string]os.FileMode{pubPath: 0o644}); err != nil {
		return pub, err
	}
	return pub, nil
}

// encodePrivate encodes a minisign secret key, encrypted with pass, or in
// the clear with the demo marker as its untrusted comment.
func encodePrivate(priv minisign.PrivateKey, pass string, demo bool) ([]byte, error) {
	if pass == "" {
		if !demo {
			return nil, ErrNoPassphrase
		}
		b, err := priv.MarshalText()
		if err != nil {
			return nil, err
		}
		_, body, _ := bytes.Cut(b, []byte("\n"))
		return append([]byte("untrusted comment: "+DemoMarker+"\n"), append(body, '\n')...), nil
	}
	b, err := minisign.EncryptKey(pass, priv)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func publicKeyFile(pub minisign.PublicKey, comment string) []byte {
	return []byte("untrusted comment: " + comment + "\n" + licence.PublicKeyString(pub) + "\n")
}

// LoadSecretKey reads a minisign secret key file (the licensor's
// provider.key or a person's signing.key), asking for the passphrase only
// when the key is encrypted. It refuses a file that others can read.
func LoadSecretKey(path string, pass Passphrase) (minisign.PrivateKey, error) {
	data, err := readPrivate(path)
	if err != nil {
		return minisign.PrivateKey{}, err
	}
	if !minisign.IsEncrypted(data) {
		var k minisign.PrivateKey
		if err := k.UnmarshalText(bytes.TrimSpace(data)); err != nil {
			return k, fmt.Errorf("%w: %s is not a minisign secret key", ErrNotAKey, path)
		}
		return k, nil
	}
	p, err := pass()
	if err != nil {
		return minisign.PrivateKey{}, err
	}
	k, err := minisign.DecryptKey(p, bytes.TrimSpace(data))
	if err != nil {
		if strings.Contains(err.Error(), "decryption failed") {
			return k, fmt.Errorf("%w for %s", ErrWrongPassphrase, path)
		}
		return k, fmt.Errorf("%w: %s is not a minisign secret key", ErrNotAKey, path)
	}
	return k, nil
}

// LoadPublicKey reads a minisign public key file.
func LoadPublicKey(path string) (minisign.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return minisign.PublicKey{}, err
	}
	if len(data) > 4096 {
		return minisign.PublicKey{}, fmt.Errorf("%w: %s is too large for a public key", ErrNotAKey, path)
	}
	k, err := licence.ParsePublicKey(string(data))
	if err != nil {
		return k, fmt.Errorf("%w: %s is not a minisign public key", ErrNotAKey, path)
	}
	return k, nil
}

// readPrivate reads a small secret file after checking that only its owner
// can read it and that it is a regular file.
func readPrivate(path string) ([]byte, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrNotAKey, path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; run chmod 600 %s", ErrExposed, path, st.Mode().Perm(), path)
	}
	if st.Size() > 64<<10 {
		return nil, fmt.Errorf("%w: %s is too large for a key", ErrNotAKey, path)
	}
	return os.ReadFile(path)
}

// writeFiles writes each file in full, mode 0600 unless modes says
// otherwise, refusing to replace existing files; on any failure it removes
// what it wrote.
func writeFiles(files map[string][]byte, modes map[string]os.FileMode) (err error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var written []string
	defer func() {
		if err != nil {
			for _, n := range written {
				os.Remove(n)
			}
		}
	}()
	for _, n := range names {
		mode := os.FileMode(0o600)
		if m, ok := modes[n]; ok {
			mode = m
		}
		f, err := os.OpenFile(n, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if err != nil {
			return err
		}
		written = append(written, n)
		_, werr := f.Write(files[n])
		serr := f.Sync()
		if cerr := f.Close(); werr == nil {
			werr = errors.Join(serr, cerr)
		}
		if werr != nil {
			return werr
		}
	}
	return nil
}

// encryptIdentity encodes an age identity file: armored and encrypted with
// pass (age -d -i asks for it), or, for the demo, in the clear behind a
// comment that says so.
//
// The person's minisign signing key rides along as a comment line (age
// ignores comments), so that one passphrase prompt and one scrypt unlock
// both: the copy in signing.key, in minisign's format, costs a 1 GiB
// scrypt to open, too slow for every open of a package.
func encryptIdentity(id *age.X25519Identity, sign minisign.PrivateKey, pass string, workFactor int) ([]byte, error) {
	keyText, err := sign.MarshalText()
	if err != nil {
		return nil, err
	}
	_, keyB64, _ := bytes.Cut(keyText, []byte("\n"))
	plain := "# persona licence identity, recipient " + id.Recipient().String() + "\n" + id.String() + "\n" +
		signingPrefix + string(bytes.TrimSpace(keyB64)) + "\n"
	if pass == "" {
		return []byte("# " + DemoMarker + "\n" + plain), nil
	}
	r, err := age.NewScryptRecipient(pass)
	if err != nil {
		return nil, err
	}
	if workFactor > 0 {
		r.SetWorkFactor(workFactor)
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, plain); err != nil {
		return nil, err
	}
	if err := errors.Join(w.Close(), aw.Close()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// signingPrefix starts the comment line that holds the signing key.
const signingPrefix = "# persona-signing-key: "

// decryptIdentity reads an identity file written by encryptIdentity: the
// age identity and the signing key.
func decryptIdentity(path string, data []byte, pass Passphrase) (*age.X25519Identity, minisign.PrivateKey, error) {
	id, sign, _, err := decryptIdentityKeys(path, data, pass)
	return id, sign, err
}

// decryptIdentityKeys is decryptIdentity that also returns the file's
// plain text.
func decryptIdentityKeys(path string, data []byte, pass Passphrase) (*age.X25519Identity, minisign.PrivateKey, []byte, error) {
	id, plain, err := decryptIdentityText(path, data, pass)
	if err != nil {
		return nil, minisign.PrivateKey{}, nil, err
	}
	sign, err := signingKeyOf(path, plain)
	if err != nil {
		return nil, sign, nil, err
	}
	return id, sign, plain, nil
}

// signingKeyOf finds the signing key in the plain text of an identity
// file.
func signingKeyOf(path string, plain []byte) (minisign.PrivateKey, error) {
	var sign minisign.PrivateKey
	for _, line := range strings.Split(string(plain), "\n") {
		if b64, ok := strings.CutPrefix(line, signingPrefix); ok {
			if err := sign.UnmarshalText([]byte(b64)); err != nil {
				return sign, fmt.Errorf("%w: %s holds a damaged signing key", ErrNotAKey, path)
			}
			return sign, nil
		}
	}
	return sign, fmt.Errorf("%w: %s holds no signing key", ErrNotAKey, path)
}

func decryptIdentityText(path string, data []byte, pass Passphrase) (*age.X25519Identity, []byte, error) {
	if bytes.HasPrefix(data, []byte(armor.Header)) {
		p, err := pass()
		if err != nil {
			return nil, nil, err
		}
		if p == "" {
			return nil, nil, fmt.Errorf("%w for %s (it was empty)", ErrWrongPassphrase, path)
		}
		sid, err := age.NewScryptIdentity(p)
		if err != nil {
			return nil, nil, err
		}
		r, err := age.Decrypt(armor.NewReader(bytes.NewReader(data)), sid)
		if err != nil {
			var nomatch *age.NoIdentityMatchError
			if errors.As(err, &nomatch) || strings.Contains(err.Error(), "incorrect passphrase") {
				return nil, nil, fmt.Errorf("%w for %s", ErrWrongPassphrase, path)
			}
			return nil, nil, fmt.Errorf("%w: %s: %v", ErrNotAKey, path, err)
		}
		if data, err = io.ReadAll(io.LimitReader(r, 64<<10)); err != nil {
			return nil, nil, fmt.Errorf("%w for %s", ErrWrongPassphrase, path)
		}
	}
	id, err := parseIdentity(path, data)
	if err != nil {
		return nil, nil, err
	}
	return id, data, nil
}

// parseIdentity reads the one X25519 identity of an identity file's plain
// text.
func parseIdentity(path string, plain []byte) (*age.X25519Identity, error) {
	ids, err := age.ParseIdentities(bytes.NewReader(plain))
	if err != nil || len(ids) != 1 {
		return nil, fmt.Errorf("%w: %s does not hold one age identity", ErrNotAKey, path)
	}
	id, ok := ids[0].(*age.X25519Identity)
	if !ok {
		return nil, fmt.Errorf("%w: %s does not hold an X25519 identity", ErrNotAKey, path)
	}
	return id, nil
}

// privateDir checks that a folder exists, is a folder and is private.
func privateDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%w: folder %s has mode %04o; run chmod 700 %s", ErrExposed, dir, st.Mode().Perm(), dir)
	}
	return nil
}

// randReader is the source of key material.
var randReader = rand.Reader

// Derive returns a 32-byte key for one purpose (such as "release
// history"), derived with HKDF-SHA256 from the licence's age identity: it
// exists only while the identity does, and dies with it at deletion.
func Derive(id *age.X25519Identity, purpose string) [32]byte {
	var key [32]byte
	k, err := hkdf.Key(sha256.New, []byte(id.String()), nil, "persona "+purpose, len(key))
	if err != nil {
		panic(err) // only for a key length out of range
	}
	copy(key[:], k)
	return key
}
