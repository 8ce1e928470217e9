package keys_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"aead.dev/minisign"
	"filippo.io/age"
	"filippo.io/age/armor"
	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/scrypt"

	"github.com/persona-workbench/persona/engine/keys"
	"github.com/persona-workbench/persona/engine/licence"
)

// Two tests here encrypt a minisign key with a passphrase, which costs
// minisign's fixed scrypt (1 GiB, several seconds): GenerateProvider and
// Enrol. They run in parallel, and decrypting those keys again is left to
// PERSONA_SLOW_TESTS=1; LoadSecretKey's encrypted path is tested on keys
// encrypted here at minisign's lowest cost (see cheapEncryptedKey).
const slowEnv = "PERSONA_SLOW_TESTS"

const licenceID = "DEMO-2026-0001"

// passphrase supplies p.
func passphrase(p string) keys.Passphrase { return func() (string, error) { return p, nil } }

// noPassphrase fails the test if a passphrase is asked for.
func noPassphrase(t *testing.T) keys.Passphrase {
	return func() (string, error) {
		t.Helper()
		t.Error("a passphrase was asked for")
		return "", errors.New("no passphrase here")
	}
}

// counted supplies p and counts how often it was asked for.
func counted(p string, n *int) keys.Passphrase {
	return func() (string, error) { *n++; return p, nil }
}

func perm(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func wantPerm(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	if got := perm(t, path); got != want {
		t.Errorf("%s has mode %04o, want %04o", filepath.Base(path), got, want)
	}
}

func chmod(t *testing.T, path string, m fs.FileMode) {
	t.Helper()
	if err := os.Chmod(path, m); err != nil {
		t.Fatal(err)
	}
}

func firstLine(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	return line
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeFile(t *testing.T, path string, data []byte, m fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, m); err != nil {
		t.Fatal(err)
	}
	chmod(t, path, m) // whatever the umask
}

// workspace opens a fresh workspace with a cheap age scrypt.
func workspace(t *testing.T) *keys.Workspace {
	t.Helper()
	ws, err := keys.Open(filepath.Join(t.TempDir(), "ws"), true)
	if err != nil {
		t.Fatal(err)
	}
	ws.ScryptWorkFactor = 10
	return ws
}

// signs checks that priv and pub are a pair.
func signs(t *testing.T, priv minisign.PrivateKey, pub minisign.PublicKey) {
	t.Helper()
	msg := []byte("persona")
	if !minisign.Verify(pub, msg, minisign.Sign(priv, msg)) {
		t.Errorf("the secret key %s does not match public key %s", licence.KeyID(priv.ID()), licence.KeyID(pub.ID()))
	}
}

// cheapEncryptedKey encodes priv as minisign.EncryptKey does, but with the
// lowest scrypt cost minisign reads (opslimit 2^15, memlimit 2^24, which
// minisign turns into N=2^10, r=8, p=1), so that tests can decrypt it
// quickly. Layout: "Ed" "Sc" "B2", salt, opslimit, memlimit, then
// (key id || secret key || BLAKE2b-256("Ed" || key id || secret key))
// XORed with the scrypt key stream.
func cheapEncryptedKey(t *testing.T, priv minisign.PrivateKey, pass string) []byte {
	t.Helper()
	text, err := priv.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := strings.Cut(string(text), "\n")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(body))
	if err != nil || len(raw) != 158 {
		t.Fatalf("unencrypted key: %d bytes, %v", len(raw), err)
	}
	plain := raw[54:126] // key id || Ed25519 secret key, in the clear

	var b [158]byte
	copy(b[0:], "EdScB2")
	salt := b[6:38]
	if _, err := rand.Read(salt); err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint64(b[38:], 1<<15)
	binary.LittleEndian.PutUint64(b[46:], 1<<24)
	sum := blake2b.Sum256(append([]byte("Ed"), plain...))
	ct := append(append([]byte{}, plain...), sum[:]...)
	stream, err := scrypt.Key([]byte(pass), salt, 1<<10, 8, 1, len(ct))
	if err != nil {
		t.Fatal(err)
	}
	for i := range ct {
		ct[i] ^= stream[i]
	}
	copy(b[54:], ct)
	out := "untrusted comment: minisign encrypted secret key\n" + base64.StdEncoding.EncodeToString(b[:]) + "\n"
	if !minisign.IsEncrypted([]byte(out)) {
		t.Fatal("cheapEncryptedKey made a key minisign does not see as encrypted")
	}
	return []byte(out)
}

func TestGenerateProviderDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "licensor")
	pub, err := keys.GenerateProvider(dir, "", true)
	if err != nil {
		t.Fatalf("GenerateProvider: %v", err)
	}
	keyPath, pubPath := filepath.Join(dir, keys.ProviderKey), filepath.Join(dir, keys.ProviderPub)
	wantPerm(t, dir, 0o700)
	wantPerm(t, keyPath, 0o600)
	wantPerm(t, pubPath, 0o644)
	if got := firstLine(t, keyPath); got != "untrusted comment: "+keys.DemoMarker {
		t.Errorf("provider.key starts %q, want the demo marker", got)
	}
	if minisign.IsEncrypted(readFile(t, keyPath)) {
		t.Error("demo provider.key is encrypted")
	}
	if got := firstLine(t, pubPath); !strings.Contains(got, licence.KeyID(pub.ID())) {
		t.Errorf("provider.pub starts %q, want its key id %s", got, licence.KeyID(pub.ID()))
	}
	loaded, err := keys.LoadPublicKey(pubPath)
	if err != nil || !loaded.Equal(pub) {
		t.Errorf("LoadPublicKey(provider.pub) = %s, %v; want the generated key", licence.KeyID(loaded.ID()), err)
	}
	// Stock minisign reads provider.pub.
	if k, err := minisign.PublicKeyFromFile(pubPath); err != nil || !k.Equal(pub) {
		t.Errorf("minisign.PublicKeyFromFile(provider.pub) = %v", err)
	}
	priv, err := keys.LoadSecretKey(keyPath, noPassphrase(t))
	if err != nil {
		t.Fatalf("LoadSecretKey(demo key): %v", err)
	}
	signs(t, priv, pub)
	if got, ok := priv.Public().(minisign.PublicKey); !ok || !got.Equal(pub) {
		t.Error("provider.key's public half is not provider.pub")
	}

	t.Run("refuses to overwrite", func(t *testing.T) {
		before := [][]byte{readFile(t, keyPath), readFile(t, pubPath)}
		for _, demo := range []bool{true, false} {
			if _, err := keys.GenerateProvider(dir, "passphrase", demo); !errors.Is(err, keys.ErrProviderKeyExist) {
				t.Errorf("GenerateProvider over existing keys (demo %v): %v, want ErrProviderKeyExist", demo, err)
			}
		}
		if !bytes.Equal(readFile(t, keyPath), before[0]) || !bytes.Equal(readFile(t, pubPath), before[1]) {
			t.Error("the existing keys were changed")
		}
	})
	for _, existing := range []string{keys.ProviderKey, keys.ProviderPub} {
		t.Run("refuses when only "+existing+" exists", func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, existing), []byte("keep me\n"), 0o600)
			if _, err := keys.GenerateProvider(dir, "", true); !errors.Is(err, keys.ErrProviderKeyExist) {
				t.Fatalf("GenerateProvider: %v, want ErrProviderKeyExist", err)
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 1 || string(readFile(t, filepath.Join(dir, existing))) != "keep me\n" {
				t.Errorf("the folder changed: %v", ents)
			}
		})
	}
	t.Run("two demo keys differ", func(t *testing.T) {
		other, err := keys.GenerateProvider(t.TempDir(), "", true)
		if err != nil {
			t.Fatal(err)
		}
		if other.Equal(pub) || other.ID() == pub.ID() {
			t.Error("two generated keys are the same")
		}
	})
}

func TestGenerateProviderNoPassphrase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "licensor")
	if _, err := keys.GenerateProvider(dir, "", false); !errors.Is(err, keys.ErrNoPassphrase) {
		t.Fatalf("GenerateProvider without a passphrase: %v, want ErrNoPassphrase", err)
	}
	if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("GenerateProvider created %s anyway", dir)
	}
}

// TestGenerateProviderPassphrase is one of the two 1 GiB scrypt tests.
func TestGenerateProviderPassphrase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const pass = "correct horse battery staple"
	pub, err := keys.GenerateProvider(dir, pass, false)
	if err != nil {
		t.Fatalf("GenerateProvider: %v", err)
	}
	keyPath, pubPath := filepath.Join(dir, keys.ProviderKey), filepath.Join(dir, keys.ProviderPub)
	wantPerm(t, keyPath, 0o600)
	wantPerm(t, pubPath, 0o644)
	data := readFile(t, keyPath)
	if !minisign.IsEncrypted(data) {
		t.Error("provider.key is not encrypted")
	}
	if bytes.Contains(data, []byte(keys.DemoMarker)) {
		t.Error("a protected provider.key carries the demo marker")
	}
	if got := firstLine(t, keyPath); got != "untrusted comment: minisign encrypted secret key" {
		t.Errorf("provider.key starts %q, want minisign's own comment", got)
	}
	if k, err := keys.LoadPublicKey(pubPath); err != nil || !k.Equal(pub) {
		t.Errorf("LoadPublicKey(provider.pub): %v", err)
	}
	t.Run("refused when others can read it, before asking", func(t *testing.T) {
		chmod(t, keyPath, 0o644)
		defer chmod(t, keyPath, 0o600)
		if _, err := keys.LoadSecretKey(keyPath, noPassphrase(t)); !errors.Is(err, keys.ErrExposed) {
			t.Errorf("LoadSecretKey(0644): %v, want ErrExposed", err)
		}
	})
	t.Run("decrypts with the right passphrase only", func(t *testing.T) {
		if os.Getenv(slowEnv) == "" {
			t.Skipf("two more 1 GiB scrypt runs; set %s=1", slowEnv)
		}
		priv, err := keys.LoadSecretKey(keyPath, passphrase(pass))
		if err != nil {
			t.Fatalf("LoadSecretKey with the right passphrase: %v", err)
		}
		signs(t, priv, pub)
		if _, err := keys.LoadSecretKey(keyPath, passphrase("wrong")); !errors.Is(err, keys.ErrWrongPassphrase) {
			t.Errorf("LoadSecretKey with a wrong passphrase: %v, want ErrWrongPassphrase", err)
		}
	})
}

func TestLoadSecretKey(t *testing.T) {
	dir := t.TempDir()
	demoDir := filepath.Join(dir, "demo")
	pub, err := keys.GenerateProvider(demoDir, "", true)
	if err != nil {
		t.Fatal(err)
	}
	demoKey := filepath.Join(demoDir, keys.ProviderKey)
	demo := readFile(t, demoKey)

	_, priv, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	encrypted := cheapEncryptedKey(t, priv, "s3cret")
	// A public key file, given where a secret key is expected (one whose
	// random key id happens to read as minisign's "encrypted" mark would
	// be asked a passphrase for, so pick another).
	var pubText []byte
	for pubText == nil || minisign.IsEncrypted(pubText) {
		k, _, err := minisign.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pubText, _ = k.MarshalText()
	}

	file := func(name string, data []byte, m fs.FileMode) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, data, m)
		return p
	}
	link := filepath.Join(dir, "link.key")
	if err := os.Symlink(demoKey, link); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "folder.key")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	askErr := errors.New("no terminal")

	tests := []struct {
		name  string
		path  string
		pass  keys.Passphrase
		asks  int // times the passphrase is asked for
		want  error
		match minisign.PrivateKey
	}{
		{"demo key, no passphrase asked", demoKey, passphrase("ignored"), 0, nil, minisign.PrivateKey{}},
		{"encrypted key, right passphrase", file("enc.key", encrypted, 0o600), passphrase("s3cret"), 1, nil, priv},
		{"encrypted key, wrong passphrase", file("enc2.key", encrypted, 0o600), passphrase("S3cret"), 1, keys.ErrWrongPassphrase, minisign.PrivateKey{}},
		{"encrypted key, empty passphrase", file("enc3.key", encrypted, 0o600), passphrase(""), 1, keys.ErrWrongPassphrase, minisign.PrivateKey{}},
		{"encrypted key, passphrase unavailable", file("enc4.key", encrypted, 0o400), func() (string, error) { return "", askErr }, 1, askErr, minisign.PrivateKey{}},
		{"demo key readable by others", file("demo644.key", demo, 0o644), passphrase(""), 0, keys.ErrExposed, minisign.PrivateKey{}},
		{"encrypted key readable by the group", file("enc640.key", encrypted, 0o640), passphrase("s3cret"), 0, keys.ErrExposed, minisign.PrivateKey{}},
		{"key writable by others", file("demo602.key", demo, 0o602), passphrase(""), 0, keys.ErrExposed, minisign.PrivateKey{}},
		{"not a key", file("notes.txt", []byte("hello, world\n"), 0o600), passphrase(""), 0, keys.ErrNotAKey, minisign.PrivateKey{}},
		{"empty file", file("empty.key", nil, 0o600), passphrase(""), 0, keys.ErrNotAKey, minisign.PrivateKey{}},
		{"a public key", file("provider.pub.key", pubText, 0o600), passphrase(""), 0, keys.ErrNotAKey, minisign.PrivateKey{}},
		{"too large", file("large.key", append(append([]byte{}, demo...), bytes.Repeat([]byte("\n"), 64<<10)...), 0o600), passphrase(""), 0, keys.ErrNotAKey, minisign.PrivateKey{}},
		{"symbolic link", link, passphrase(""), 0, keys.ErrNotAKey, minisign.PrivateKey{}},
		{"folder", sub, passphrase(""), 0, keys.ErrNotAKey, minisign.PrivateKey{}},
		{"missing", filepath.Join(dir, "missing.key"), passphrase(""), 0, fs.ErrNotExist, minisign.PrivateKey{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asked := 0
			pass := func() (string, error) { asked++; return tt.pass() }
			k, err := keys.LoadSecretKey(tt.path, pass)
			if asked != tt.asks {
				t.Errorf("passphrase asked for %d times, want %d", asked, tt.asks)
			}
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("LoadSecretKey: %v, want %v", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadSecretKey: %v", err)
			}
			if tt.path == demoKey {
				signs(t, k, pub)
			} else if !k.Equal(tt.match) {
				t.Error("LoadSecretKey returned another key")
			}
		})
	}
	t.Run("errors name the file", func(t *testing.T) {
		p := file("named.key", demo, 0o644)
		_, err := keys.LoadSecretKey(p, passphrase(""))
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("error %v: want the path and the fix", err)
		}
	})
}

func TestLoadPublicKey(t *testing.T) {
	dir := t.TempDir()
	pub, _, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := pub.MarshalText()
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, data, 0o644)
		return p
	}
	tests := []struct {
		name string
		path string
		want error
	}{
		{"minisign .pub file", file("a.pub", text), nil},
		{"base64 line only", file("b.pub", []byte(licence.PublicKeyString(pub)+"\n")), nil},
		{"CRLF line ends", file("c.pub", bytes.ReplaceAll(append(append([]byte{}, text...), '\n'), []byte("\n"), []byte("\r\n"))), nil},
		{"not a key", file("d.pub", []byte("hello\n")), keys.ErrNotAKey},
		{"empty", file("e.pub", nil), keys.ErrNotAKey},
		{"too large", file("f.pub", append(bytes.Repeat([]byte("#"), 4096), text...)), keys.ErrNotAKey},
		{"missing", filepath.Join(dir, "missing.pub"), fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := keys.LoadPublicKey(tt.path)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("LoadPublicKey: %v, want %v", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadPublicKey: %v", err)
			}
			if !k.Equal(pub) {
				t.Error("LoadPublicKey returned another key")
			}
		})
	}
}

func TestOpen(t *testing.T) {
	root := t.TempDir()
	t.Run("creates a private folder", func(t *testing.T) {
		dir := filepath.Join(root, "a", "b", "ws")
		ws, err := keys.Open(dir, true)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if ws.Dir != dir {
			t.Errorf("Dir = %q, want %q", ws.Dir, dir)
		}
		wantPerm(t, dir, 0o700)
		wantPerm(t, filepath.Join(root, "a"), 0o700)
		// Opening it again, with or without create, works.
		for _, create := range []bool{true, false} {
			if _, err := keys.Open(dir, create); err != nil {
				t.Errorf("Open again (create %v): %v", create, err)
			}
		}
	})
	tests := []struct {
		name   string
		mode   fs.FileMode
		create bool
		want   error
	}{
		{"0755 folder", 0o755, false, keys.ErrExposed},
		{"0755 folder with create", 0o755, true, keys.ErrExposed},
		{"0750 folder", 0o750, false, keys.ErrExposed},
		{"0701 folder", 0o701, false, keys.ErrExposed},
		{"0700 folder", 0o700, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ws")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			chmod(t, dir, tt.mode)
			ws, err := keys.Open(dir, tt.create)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("Open: %v, want %v", err, tt.want)
			}
			if err != nil && (ws != nil || !strings.Contains(err.Error(), "chmod 700")) {
				t.Errorf("Open: %v, %v: want no workspace and the fix", ws, err)
			}
			if got := perm(t, dir); got != tt.mode {
				t.Errorf("Open changed the folder's mode to %04o", got)
			}
		})
	}
	t.Run("missing folder without create", func(t *testing.T) {
		dir := filepath.Join(root, "missing")
		if _, err := keys.Open(dir, false); err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("Open: %v, want 'does not exist'", err)
		}
		if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Error("Open created the folder")
		}
	})
	t.Run("a file", func(t *testing.T) {
		p := filepath.Join(root, "file")
		writeFile(t, p, nil, 0o600)
		if _, err := keys.Open(p, false); err == nil || !strings.Contains(err.Error(), "not a folder") {
			t.Errorf("Open(file): %v, want 'not a folder'", err)
		}
	})
}

// enrolledFiles are the files Enrol writes into a licence's folder.
var enrolledFiles = []string{keys.IdentityFile, keys.SigningKey, keys.SigningPub, keys.EnrolFile}

// checkEnrolment checks what Enrol wrote for e.
func checkEnrolment(t *testing.T, ws *keys.Workspace, e *licence.Enrolment, name, role string) {
	t.Helper()
	if e.Format != licence.EnrolmentFormat || e.Version != licence.Version || e.ID != licenceID || e.Name != name || e.Role != role {
		t.Errorf("enrolment %+v", e)
	}
	dir := ws.LicenceDir(licenceID)
	if dir != filepath.Join(ws.Dir, "licences", licenceID) {
		t.Errorf("LicenceDir = %s", dir)
	}
	wantPerm(t, filepath.Join(ws.Dir, "licences"), 0o700)
	wantPerm(t, dir, 0o700)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != len(enrolledFiles) {
		t.Errorf("licence folder holds %d entries, want %v", len(ents), enrolledFiles)
	}
	for _, f := range enrolledFiles {
		wantPerm(t, filepath.Join(dir, f), 0o600)
	}
	// enrolment.json is the enrolment, and it parses.
	parsed, err := licence.ParseEnrolment(readFile(t, filepath.Join(dir, keys.EnrolFile)))
	if err != nil {
		t.Fatalf("ParseEnrolment(enrolment.json): %v", err)
	}
	if *parsed != *e {
		t.Errorf("enrolment.json holds %+v, want %+v", parsed, e)
	}
	if got, err := ws.Enrolment(licenceID); err != nil || *got != *e {
		t.Errorf("Workspace.Enrolment = %+v, %v", got, err)
	}
	// signing.pub is the enrolled public key.
	pub, err := keys.LoadPublicKey(filepath.Join(dir, keys.SigningPub))
	if err != nil {
		t.Fatal(err)
	}
	if want, err := licence.ParsePublicKey(e.PublicKey); err != nil || !pub.Equal(want) {
		t.Errorf("signing.pub is not the enrolled public key (%v)", err)
	}
	if line := firstLine(t, filepath.Join(dir, keys.SigningPub)); !strings.Contains(line, name) || !strings.Contains(line, licenceID) {
		t.Errorf("signing.pub's comment %q does not name the person and licence", line)
	}
}

func TestEnrolDemo(t *testing.T) {
	ws := workspace(t)
	e, err := ws.Enrol(licenceID, "王芳", "analyst", "", true)
	if err != nil {
		t.Fatalf("Enrol: %v", err)
	}
	checkEnrolment(t, ws, e, "王芳", "analyst")
	dir := ws.LicenceDir(licenceID)
	for _, f := range []string{keys.IdentityFile, keys.SigningKey} {
		if line := firstLine(t, filepath.Join(dir, f)); !strings.Contains(line, keys.DemoMarker) {
			t.Errorf("demo %s starts %q, want the demo marker", f, line)
		}
	}
	id, err := ws.Identity(licenceID, noPassphrase(t))
	if err != nil {
		t.Fatalf("Identity: %v", err)
	}
	if id.Recipient().String() != e.Recipient {
		t.Errorf("identity's recipient %s, enrolled %s", id.Recipient(), e.Recipient)
	}
	// Stock age reads the demo identity file as it is.
	ids, err := age.ParseIdentities(bytes.NewReader(readFile(t, filepath.Join(dir, keys.IdentityFile))))
	if err != nil || len(ids) != 1 {
		t.Fatalf("age.ParseIdentities(identity.age) = %v, %v", ids, err)
	}
	// And what is encrypted to the enrolled recipient opens with it.
	rcpt, err := age.ParseX25519Recipient(e.Recipient)
	if err != nil {
		t.Fatal(err)
	}
	var ct bytes.Buffer
	w, _ := age.Encrypt(&ct, rcpt)
	io.WriteString(w, "payload")
	w.Close()
	r, err := age.Decrypt(&ct, id)
	if err != nil {
		t.Fatalf("decrypt to the enrolled recipient: %v", err)
	}
	if got, _ := io.ReadAll(r); string(got) != "payload" {
		t.Errorf("decrypted %q", got)
	}
	sk, err := ws.SigningKey(licenceID, noPassphrase(t))
	if err != nil {
		t.Fatalf("SigningKey: %v", err)
	}
	pub, _ := licence.ParsePublicKey(e.PublicKey)
	signs(t, sk, pub)

	t.Run("twice", func(t *testing.T) {
		before := readFile(t, filepath.Join(dir, keys.IdentityFile))
		for _, demo := range []bool{true, false} {
			if _, err := ws.Enrol(licenceID, "李雷", "analyst", "passphrase", demo); !errors.Is(err, keys.ErrAlreadyEnrolled) {
				t.Errorf("Enrol again (demo %v): %v, want ErrAlreadyEnrolled", demo, err)
			}
		}
		if !bytes.Equal(readFile(t, filepath.Join(dir, keys.IdentityFile)), before) {
			t.Error("enrolling again changed identity.age")
		}
	})
	t.Run("another licence", func(t *testing.T) {
		e2, err := ws.Enrol("DEMO-2026-0002", "王芳", "analyst", "", true)
		if err != nil {
			t.Fatal(err)
		}
		if e2.Recipient == e.Recipient || e2.PublicKey == e.PublicKey {
			t.Error("keys are shared between licences")
		}
	})
}

func TestEnrolRefuses(t *testing.T) {
	tests := []struct {
		name, id, person, role, pass string
		demo                         bool
		want                         error
		msg                          string
	}{
		{"no passphrase", licenceID, "王芳", "analyst", "", false, keys.ErrNoPassphrase, ""},
		{"licence id with a path", "../x", "王芳", "analyst", "", true, nil, "licence id"},
		{"empty licence id", "", "王芳", "analyst", "", true, nil, "licence id"},
		{"empty name", licenceID, "", "analyst", "", true, licence.ErrInvalid, "name"},
		{"name with a newline", licenceID, "王芳\nuntrusted comment: x", "analyst", "", true, licence.ErrInvalid, "name"},
		{"empty role", licenceID, "王芳", " ", "", true, licence.ErrInvalid, "role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := workspace(t)
			e, err := ws.Enrol(tt.id, tt.person, tt.role, tt.pass, tt.demo)
			if err == nil {
				t.Fatalf("Enrol accepted it: %+v", e)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Enrol: %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
			// Nothing was written, anywhere.
			ents, _ := os.ReadDir(ws.Dir)
			if len(ents) != 0 {
				t.Errorf("the workspace holds %d entries", len(ents))
			}
			if ents, _ := os.ReadDir(filepath.Dir(ws.Dir)); len(ents) != 1 {
				t.Errorf("the workspace's parent holds %d entries", len(ents))
			}
		})
	}
}

func TestIdentityRefuses(t *testing.T) {
	ws := workspace(t)
	if _, err := ws.Enrol(licenceID, "王芳", "analyst", "", true); err != nil {
		t.Fatal(err)
	}
	dir := ws.LicenceDir(licenceID)
	idPath := filepath.Join(dir, keys.IdentityFile)
	idData := readFile(t, idPath)

	tests := []struct {
		name  string
		id    string
		setup func(t *testing.T) (undo func())
		want  error
	}{
		{"unknown licence", "DEMO-2026-9999", nil, keys.ErrNotEnrolled},
		{"invalid licence id", "../" + licenceID, nil, nil},
		{"identity.age readable by others", licenceID, func(t *testing.T) func() {
			chmod(t, idPath, 0o644)
			return func() { chmod(t, idPath, 0o600) }
		}, keys.ErrExposed},
		{"identity.age readable by the group", licenceID, func(t *testing.T) func() {
			chmod(t, idPath, 0o640)
			return func() { chmod(t, idPath, 0o600) }
		}, keys.ErrExposed},
		{"licence folder readable by others", licenceID, func(t *testing.T) func() {
			chmod(t, dir, 0o755)
			return func() { chmod(t, dir, 0o700) }
		}, keys.ErrExposed},
		{"identity.age missing", licenceID, func(t *testing.T) func() {
			os.Remove(idPath)
			return func() { writeFile(t, idPath, idData, 0o600) }
		}, keys.ErrNotEnrolled},
		{"identity.age is a link", licenceID, func(t *testing.T) func() {
			other := filepath.Join(t.TempDir(), "id.age")
			writeFile(t, other, idData, 0o600)
			os.Remove(idPath)
			if err := os.Symlink(other, idPath); err != nil {
				t.Fatal(err)
			}
			return func() { os.Remove(idPath); writeFile(t, idPath, idData, 0o600) }
		}, keys.ErrNotAKey},
		{"identity.age holds no identity", licenceID, func(t *testing.T) func() {
			writeFile(t, idPath, []byte("# nothing here\n"), 0o600)
			return func() { writeFile(t, idPath, idData, 0o600) }
		}, keys.ErrNotAKey},
		{"identity.age holds two identities", licenceID, func(t *testing.T) func() {
			writeFile(t, idPath, append(append([]byte{}, idData...), idData...), 0o600)
			return func() { writeFile(t, idPath, idData, 0o600) }
		}, keys.ErrNotAKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				defer tt.setup(t)()
			}
			id, err := ws.Identity(tt.id, noPassphrase(t))
			if err == nil {
				t.Fatalf("Identity accepted it: %v", id.Recipient())
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Identity: %v, want %v", err, tt.want)
			}
		})
	}
	// After all that, the identity still opens.
	if _, err := ws.Identity(licenceID, noPassphrase(t)); err != nil {
		t.Errorf("Identity after the refusals: %v", err)
	}
	if _, err := ws.Enrolment("DEMO-2026-9999"); !errors.Is(err, keys.ErrNotEnrolled) {
		t.Errorf("Enrolment(unknown): %v, want ErrNotEnrolled", err)
	}
	if _, err := ws.Enrolment("../x"); err == nil {
		t.Error("Enrolment(../x) accepted")
	}
}

var ageHeaderScrypt = regexp.MustCompile(`(?m)^-> scrypt \S+ (\d+)$`)

// TestEnrolPassphrase is the second of the two 1 GiB scrypt tests (the
// signing key); the identity uses age's scrypt at work factor 10.
func TestEnrolPassphrase(t *testing.T) {
	t.Parallel()
	ws := workspace(t)
	const pass = "tr0ub4dor&3"
	e, err := ws.Enrol(licenceID, "王芳", "analyst", pass, false)
	if err != nil {
		t.Fatalf("Enrol: %v", err)
	}
	checkEnrolment(t, ws, e, "王芳", "analyst")
	dir := ws.LicenceDir(licenceID)
	idPath := filepath.Join(dir, keys.IdentityFile)
	idData := readFile(t, idPath)
	for _, f := range enrolledFiles {
		if bytes.Contains(readFile(t, filepath.Join(dir, f)), []byte(keys.DemoMarker)) {
			t.Errorf("protected %s carries the demo marker", f)
		}
	}
	if !bytes.HasPrefix(idData, []byte(armor.Header+"\n")) {
		t.Errorf("identity.age is not armored: starts %q", firstLine(t, idPath))
	}
	if bytes.Contains(idData, []byte("AGE-SECRET-KEY")) {
		t.Error("identity.age holds the secret key in the clear")
	}
	key := readFile(t, filepath.Join(dir, keys.SigningKey))
	if !minisign.IsEncrypted(key) {
		t.Error("signing.key is not encrypted")
	}

	t.Run("stock age decrypts identity.age", func(t *testing.T) {
		// The scrypt stanza carries the workspace's work factor.
		raw, err := io.ReadAll(armor.NewReader(bytes.NewReader(idData)))
		if err != nil {
			t.Fatalf("armor: %v", err)
		}
		header, _, _ := bytes.Cut(raw, []byte("\n---"))
		if !bytes.HasPrefix(header, []byte("age-encryption.org/v1\n")) {
			t.Errorf("not an age file: %q", header)
		}
		if m := ageHeaderScrypt.FindAllSubmatch(header, -1); len(m) != 1 || string(m[0][1]) != "10" {
			t.Errorf("scrypt stanzas %q, want one with work factor 10", m)
		}
		sid, err := age.NewScryptIdentity(pass)
		if err != nil {
			t.Fatal(err)
		}
		r, err := age.Decrypt(armor.NewReader(bytes.NewReader(idData)), sid)
		if err != nil {
			t.Fatalf("age -d: %v", err)
		}
		plain, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		var secret string
		sc := bufio.NewScanner(bytes.NewReader(plain))
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "AGE-SECRET-KEY-1") {
				secret = sc.Text()
			}
		}
		if secret == "" {
			t.Fatalf("no AGE-SECRET-KEY line in %q", plain)
		}
		id, err := age.ParseX25519Identity(secret)
		if err != nil {
			t.Fatal(err)
		}
		if id.Recipient().String() != e.Recipient {
			t.Errorf("identity.age holds recipient %s, enrolled %s", id.Recipient(), e.Recipient)
		}
		wrong, _ := age.NewScryptIdentity(pass + "!")
		if _, err := age.Decrypt(armor.NewReader(bytes.NewReader(idData)), wrong); err == nil {
			t.Error("age decrypted identity.age with a wrong passphrase")
		}
	})
	t.Run("Identity with the right passphrase", func(t *testing.T) {
		n := 0
		id, err := ws.Identity(licenceID, counted(pass, &n))
		if err != nil {
			t.Fatalf("Identity: %v", err)
		}
		if id.Recipient().String() != e.Recipient {
			t.Errorf("Identity's recipient %s, enrolled %s", id.Recipient(), e.Recipient)
		}
		if n != 1 {
			t.Errorf("passphrase asked %d times, want once", n)
		}
	})
	t.Run("Identity with a wrong passphrase", func(t *testing.T) {
		for _, p := range []string{"Tr0ub4dor&3", pass + " ", "x"} {
			if _, err := ws.Identity(licenceID, passphrase(p)); !errors.Is(err, keys.ErrWrongPassphrase) {
				t.Errorf("Identity with passphrase %q: %v, want ErrWrongPassphrase", p, err)
			}
		}
		// An empty one is refused too (by age, before any scrypt).
		if _, err := ws.Identity(licenceID, passphrase("")); err == nil {
			t.Error("Identity with an empty passphrase succeeded")
		}
	})
	t.Run("Identity when the passphrase cannot be read", func(t *testing.T) {
		stop := errors.New("interrupted")
		if _, err := ws.Identity(licenceID, func() (string, error) { return "", stop }); !errors.Is(err, stop) {
			t.Errorf("Identity: %v, want the passphrase error", err)
		}
	})
	t.Run("Identity refuses before asking", func(t *testing.T) {
		for _, c := range []struct {
			path string
			mode fs.FileMode
		}{{idPath, 0o644}, {dir, 0o755}} {
			orig := perm(t, c.path)
			chmod(t, c.path, c.mode)
			_, err := ws.Identity(licenceID, noPassphrase(t))
			chmod(t, c.path, orig)
			if !errors.Is(err, keys.ErrExposed) {
				t.Errorf("Identity with %s at %04o: %v, want ErrExposed", filepath.Base(c.path), c.mode, err)
			}
		}
	})
	t.Run("SigningKey decrypts with the right passphrase only", func(t *testing.T) {
		if os.Getenv(slowEnv) == "" {
			t.Skipf("two more 1 GiB scrypt runs; set %s=1", slowEnv)
		}
		sk, err := ws.SigningKey(licenceID, passphrase(pass))
		if err != nil {
			t.Fatalf("SigningKey: %v", err)
		}
		pub, _ := licence.ParsePublicKey(e.PublicKey)
		signs(t, sk, pub)
		if _, err := ws.SigningKey(licenceID, passphrase("wrong")); !errors.Is(err, keys.ErrWrongPassphrase) {
			t.Errorf("SigningKey with a wrong passphrase: %v, want ErrWrongPassphrase", err)
		}
	})
}

// pubFile writes k as a minisign .pub file.
func pubFile(t *testing.T, dir, name string, k minisign.PublicKey) string {
	t.Helper()
	text, _ := k.MarshalText()
	p := filepath.Join(dir, name)
	writeFile(t, p, append(text, '\n'), 0o644)
	return p
}

func TestTrust(t *testing.T) {
	ws := workspace(t)
	src := t.TempDir()
	if got, err := ws.Trusted(); err != nil || len(got) != 0 {
		t.Fatalf("Trusted in a new workspace = %v, %v", got, err)
	}
	a, _, _ := minisign.GenerateKey(rand.Reader)
	b, _, _ := minisign.GenerateKey(rand.Reader)

	k, err := ws.Trust(pubFile(t, src, "a.pub", a))
	if err != nil {
		t.Fatalf("Trust: %v", err)
	}
	if !k.Equal(a) {
		t.Error("Trust returned another key")
	}
	trustedDir := filepath.Join(ws.Dir, "trusted")
	stored := filepath.Join(trustedDir, licence.KeyID(a.ID())+".pub")
	wantPerm(t, trustedDir, 0o700)
	wantPerm(t, stored, 0o600)
	if got, err := keys.LoadPublicKey(stored); err != nil || !got.Equal(a) {
		t.Errorf("stored key: %v", err)
	}

	t.Run("the same key again", func(t *testing.T) {
		before := readFile(t, stored)
		line := filepath.Join(src, "a-line.pub")
		writeFile(t, line, []byte(licence.PublicKeyString(a)+"\n"), 0o644)
		for _, p := range []string{filepath.Join(src, "a.pub"), line} {
			if k, err := ws.Trust(p); err != nil || !k.Equal(a) {
				t.Errorf("Trust(%s) again: %v", filepath.Base(p), err)
			}
		}
		if !bytes.Equal(readFile(t, stored), before) {
			t.Error("trusting the same key again rewrote it")
		}
	})
	t.Run("another key", func(t *testing.T) {
		if _, err := ws.Trust(pubFile(t, src, "b.pub", b)); err != nil {
			t.Fatalf("Trust(b): %v", err)
		}
		got, err := ws.Trusted()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("Trusted = %d keys, want 2", len(got))
		}
		if got[0].ID() > got[1].ID() {
			t.Error("Trusted is not sorted by key id")
		}
		if !(got[0].Equal(a) && got[1].Equal(b) || got[0].Equal(b) && got[1].Equal(a)) {
			t.Error("Trusted does not return the trusted keys")
		}
	})
	t.Run("a different key with the same id", func(t *testing.T) {
		// Craft a key with a's id and b's key bytes.
		rawA, _ := base64.StdEncoding.DecodeString(licence.PublicKeyString(a))
		rawB, _ := base64.StdEncoding.DecodeString(licence.PublicKeyString(b))
		copy(rawA[10:], rawB[10:])
		fake := filepath.Join(src, "fake.pub")
		writeFile(t, fake, []byte("untrusted comment: not a's\n"+base64.StdEncoding.EncodeToString(rawA)+"\n"), 0o644)
		if k, err := keys.LoadPublicKey(fake); err != nil || k.ID() != a.ID() || k.Equal(a) {
			t.Fatalf("crafted key: %v", err)
		}
		before := readFile(t, stored)
		_, err := ws.Trust(fake)
		if err == nil || !strings.Contains(err.Error(), "different key") {
			t.Fatalf("Trust(same id, other key): %v, want a refusal", err)
		}
		if !bytes.Equal(readFile(t, stored), before) {
			t.Error("the trusted key was replaced")
		}
	})
	t.Run("not a key", func(t *testing.T) {
		p := filepath.Join(src, "junk.pub")
		writeFile(t, p, []byte("junk\n"), 0o644)
		if _, err := ws.Trust(p); !errors.Is(err, keys.ErrNotAKey) {
			t.Errorf("Trust(junk): %v, want ErrNotAKey", err)
		}
		if _, err := ws.Trust(filepath.Join(src, "missing.pub")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Trust(missing): %v, want ErrNotExist", err)
		}
	})
	t.Run("Trusted skips what is not a .pub file", func(t *testing.T) {
		writeFile(t, filepath.Join(trustedDir, "README"), []byte("notes\n"), 0o600)
		if err := os.Mkdir(filepath.Join(trustedDir, "old.pub"), 0o700); err != nil {
			t.Fatal(err)
		}
		if got, err := ws.Trusted(); err != nil || len(got) != 2 {
			t.Errorf("Trusted = %d keys, %v; want 2", len(got), err)
		}
	})
	t.Run("Trusted refuses a broken .pub file", func(t *testing.T) {
		writeFile(t, filepath.Join(trustedDir, "broken.pub"), []byte("broken\n"), 0o600)
		if _, err := ws.Trusted(); !errors.Is(err, keys.ErrNotAKey) {
			t.Errorf("Trusted: %v, want ErrNotAKey", err)
		}
	})
}

func TestResolveDir(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	tests := []struct {
		name                     string
		flag, persona, xdg, home string
		want                     string
	}{
		{"flag first", "/flag/ws", "/persona", "/xdg", home, "/flag/ws"},
		{"relative flag is made absolute", "ws", "/persona", "/xdg", home, filepath.Join(cwd, "ws")},
		{"flag is cleaned", "/flag/../ws/", "", "", home, "/ws"},
		{"PERSONA_HOME", "", "/persona", "/xdg", home, "/persona"},
		{"relative PERSONA_HOME", "", "p", "/xdg", home, filepath.Join(cwd, "p")},
		{"XDG_DATA_HOME", "", "", "/xdg", home, "/xdg/persona"},
		{"relative XDG_DATA_HOME is ignored", "", "", "xdg", home, filepath.Join(home, ".local", "share", "persona")},
		{"home", "", "", "", home, filepath.Join(home, ".local", "share", "persona")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PERSONA_HOME", tt.persona)
			t.Setenv("XDG_DATA_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			got, err := keys.ResolveDir(tt.flag)
			if err != nil {
				t.Fatalf("ResolveDir: %v", err)
			}
			if got != tt.want {
				t.Errorf("ResolveDir(%q) = %q, want %q", tt.flag, got, tt.want)
			}
		})
	}
	t.Run("no home", func(t *testing.T) {
		t.Setenv("PERSONA_HOME", "")
		t.Setenv("XDG_DATA_HOME", "")
		t.Setenv("HOME", "")
		if got, err := keys.ResolveDir(""); err == nil || !strings.Contains(err.Error(), "PERSONA_HOME") {
			t.Errorf("ResolveDir without a home = %q, %v; want an error naming PERSONA_HOME", got, err)
		}
		if got, err := keys.ResolveDir("/flag"); err != nil || got != "/flag" {
			t.Errorf("ResolveDir(flag) without a home = %q, %v", got, err)
		}
	})
}
