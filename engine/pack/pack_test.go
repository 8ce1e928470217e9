package pack

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"aead.dev/minisign"
	"filippo.io/age"

	"github.com/persona-workbench/persona/engine/dataset"
	"github.com/persona-workbench/persona/engine/guard"
	"github.com/persona-workbench/persona/engine/keys"
	"github.com/persona-workbench/persona/engine/licence"
	"github.com/persona-workbench/persona/engine/pack/container"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/sample"
)

// fixture is a small sample packed for one analyst, shared by the tests.
type fixture struct {
	data     string // the plaintext sample (licensor side)
	pkg      string // the package, under the default method (licence.Perturb)
	exact    string // a package of the same data under licence.Suppress
	other    string // another package of the same licence, other data
	terms    *licence.Terms
	provider minisign.PrivateKey
	pub      minisign.PublicKey
	ws       *keys.Workspace
	enrol    *licence.Enrolment
	// exactEnrol is the enrolment for exact's licence.
	exactEnrol *licence.Enrolment
	now        time.Time
}

var (
	fixOnce sync.Once
	fix     fixture
	fixErr  error
	fixDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixDir != "" {
		os.RemoveAll(fixDir)
	}
	os.Exit(code)
}

func setup(t *testing.T) *fixture {
	t.Helper()
	fixOnce.Do(func() {
		fixDir, fixErr = os.MkdirTemp("", "persona-pack-test-")
		if fixErr != nil {
			return
		}
		fixErr = build(&fix, fixDir)
	})
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return &fix
}

func build(f *fixture, dir string) error {
	ctx := context.Background()
	f.now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var err error
	if f.pub, f.provider, err = minisign.GenerateKey(rand.Reader); err != nil {
		return err
	}
	f.terms = sample.Terms(f.now)
	if f.ws, err = keys.Open(filepath.Join(dir, "ws"), true); err != nil {
		return err
	}
	if f.enrol, err = f.ws.Enrol(f.terms.ID, "王芳", "analyst", "", true); err != nil {
		return err
	}
	f.data = filepath.Join(dir, "data")
	if err := sample.WriteDir(ctx, f.data, sample.Options{Rows: 3000, Seed: 7}); err != nil {
		return err
	}
	f.pkg = filepath.Join(dir, "a.persona")
	if _, err := Pack(ctx, f.options(f.data, f.pkg)); err != nil {
		return err
	}
	f.exact = filepath.Join(dir, "exact.persona")
	exact := *f.terms
	exact.ID += "-exact"
	exact.Privacy = &licence.TermsPrivacy{Method: licence.Suppress}
	eopt := f.options(f.data, f.exact)
	eopt.Terms = &exact
	if f.exactEnrol, err = f.ws.Enrol(exact.ID, "王芳", "analyst", "", true); err != nil {
		return err
	}
	eopt.Enrolments = []*licence.Enrolment{f.exactEnrol}
	if _, err := Pack(ctx, eopt); err != nil {
		return err
	}
	other := filepath.Join(dir, "data-other")
	if err := sample.WriteDir(ctx, other, sample.Options{Rows: 3000, Seed: 8}); err != nil {
		return err
	}
	f.other = filepath.Join(dir, "b.persona")
	_, err = Pack(ctx, f.options(other, f.other))
	return err
}

func (f *fixture) options(data, out string) Options {
	return Options{DataDir: data, Terms: f.terms, Enrolments: []*licence.Enrolment{f.enrol}, Key: f.provider, Out: out, Now: f.now}
}

func (f *fixture) openOptions() OpenOptions {
	return OpenOptions{
		Trusted:  []minisign.PublicKey{f.pub},
		Identity: func(l *licence.Licence) (*age.X25519Identity, error) { return f.ws.Identity(l.ID, nil) },
		Now:      f.now.Add(time.Hour),
	}
}

func TestRoundTrip(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	o, err := Open(ctx, f.pkg, f.openOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o.Person.Name != "王芳" || o.Licence.ID != f.terms.ID || o.Dataset.Slices.K() != f.terms.K {
		t.Fatalf("opened as %q, licence %s, k %d", o.Person.Name, o.Licence.ID, o.Dataset.Slices.K())
	}
	if o.Dataset.Slices.Method() != guard.MethodPerturb {
		t.Fatalf("opened under %s, want %s (the terms' default)", o.Dataset.Slices.Method(), guard.MethodPerturb)
	}
	// The same package opened again: the same record keys, so the same
	// numbers.
	again, err := Open(ctx, f.pkg, f.openOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	exact, err := Open(ctx, f.exact, f.openOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer exact.Close()
	if exact.Dataset.Slices.Method() != guard.MethodSuppress {
		t.Fatalf("opened under %s, want %s", exact.Dataset.Slices.Method(), guard.MethodSuppress)
	}
	plain, err := dataset.OpenDir(ctx, f.data, dataset.Options{K: f.terms.K})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	d := int64(o.Licence.Privacy.Perturbation().D)
	for _, q := range []slice.Query{
		{Dims: []string{"province"}, Measure: "gmv"},
		{Dims: []string{"age_band", "categories"}, Measure: "conversion_rate"},
		{Dims: []string{"month"}, Measure: "orders"},
	} {
		run := func(ds *dataset.Dataset) *slice.Result {
			res, err := ds.Slices.Run(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		p, a, x, b := run(o.Dataset), run(again.Dataset), run(exact.Dataset), run(plain)
		if len(x.Rows) == 0 || len(x.Rows) != len(b.Rows) {
			t.Fatalf("%v: %d rows from the package, %d from the plaintext", q.Dims, len(x.Rows), len(b.Rows))
		}
		for i := range x.Rows {
			rx, rb := x.Rows[i], b.Rows[i]
			if strings.Join(rx.Keys, "|") != strings.Join(rb.Keys, "|") || rx.People != rb.People || rx.Suppressed != rb.Suppressed || (rx.Defined() && rx.Value != rb.Value) {
				t.Fatalf("%v row %d: package %+v, plaintext %+v", q.Dims, i, rx, rb)
			}
		}
		if !reflect.DeepEqual(p.Rows, a.Rows) {
			t.Fatalf("%v: two opens of one package differ:\n%+v\n%+v", q.Dims, p.Rows, a.Rows)
		}
		truth := map[string]int64{}
		for _, r := range b.Rows {
			if !r.Suppressed {
				truth[strings.Join(r.Keys, "|")] = r.People
			}
		}
		for _, r := range p.Rows {
			n, ok := truth[strings.Join(r.Keys, "|")]
			if ok && !r.Suppressed && (r.People-n > d || n-r.People > d) {
				t.Fatalf("%v: perturbed %+v, truth %d people (d = %d)", q.Dims, r, n, d)
			}
		}
	}
}

// entries returns a package's three entries.
func entries(t *testing.T, path string) (lic, sig, payload []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(b))
	var out [3][]byte
	for i := range out {
		if _, err := tr.Next(); err != nil {
			t.Fatal(err)
		}
		if out[i], err = io.ReadAll(tr); err != nil {
			t.Fatal(err)
		}
	}
	return out[0], out[1], out[2]
}

// repack writes a package from its parts.
func repack(t *testing.T, lic, sig, payload []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.persona")
	var buf bytes.Buffer
	if err := container.Write(&buf, lic, sig, bytes.NewReader(payload), int64(len(payload)), time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeBytes(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.persona")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

func TestBadPackages(t *testing.T) {
	f := setup(t)
	lic, sig, payload := entries(t, f.pkg)
	_, _, otherPayload := entries(t, f.other)
	whole, err := os.ReadFile(f.pkg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := licence.Parse(lic)
	if err != nil {
		t.Fatal(err)
	}

	// A licence signed the legacy way, and one signed by a stranger.
	legacy := minisign.SignWithComments(f.provider, lic, licence.TrustedComment(l.ID, l.Payload.SHA256), "legacy")
	_, strangerKey, _ := minisign.GenerateKey(rand.Reader)
	_, strangerSig, err := licence.Sign(l, strangerKey)
	if err != nil {
		t.Fatal(err)
	}
	// A licence correctly signed, but whose trusted comment names another payload.
	r := minisign.NewReader(bytes.NewReader(lic))
	io.Copy(io.Discard, r)
	wrongComment := r.SignWithComments(f.provider, licence.TrustedComment(l.ID, strings.Repeat("0", 64)), "")
	// A payload encrypted to someone else, under a correctly signed licence.
	stranger, _ := age.GenerateX25519Identity()

	type tc struct {
		name   string
		path   string
		opt    func(*OpenOptions)
		target error  // errors.Is target, or nil
		msg    string // substring of the message
	}
	cases := []tc{
		{name: "missing file", path: filepath.Join(t.TempDir(), "nope.persona"), msg: "does not exist"},
		{name: "a directory", path: t.TempDir(), msg: "is a folder"},
		{name: "zero bytes", path: writeBytes(t, nil), target: ErrContainer, msg: "is empty"},
		{name: "not a tar", path: writeBytes(t, []byte("hello, this is not a package\n")), target: ErrContainer},
		{name: "truncated in the licence", path: writeBytes(t, whole[:700]), target: ErrContainer},
		{name: "truncated in the payload", path: writeBytes(t, whole[:len(whole)/2]), target: ErrContainer, msg: "truncated"},
		{name: "truncated end blocks", path: writeBytes(t, whole[:len(whole)-1024]), target: ErrContainer},
		{name: "flipped byte in the licence", path: repack(t, flip(lic, len(lic)/2), sig, payload), target: licence.ErrBadSignature},
		{name: "flipped byte in the signature", path: repack(t, lic, flip(sig, bytes.Index(sig, []byte("\n"))+20), payload), target: licence.ErrBadSignature},
		{name: "flipped byte in the payload", path: repack(t, lic, sig, flip(payload, len(payload)/2)), target: ErrPayloadHash},
		{name: "payload swapped from another package", path: repack(t, lic, sig, otherPayload), target: ErrPayloadHash},
		{name: "signature by an unknown key", path: repack(t, lic, strangerSig, payload), target: licence.ErrUnknownKey},
		{name: "legacy signature", path: repack(t, lic, legacy, payload), target: licence.ErrLegacySignature},
		{name: "trusted comment mismatch", path: repack(t, lic, wrongComment, payload), target: licence.ErrBadSignature, msg: "trusted comment"},
		{name: "no trusted key", path: f.pkg, opt: func(o *OpenOptions) { o.Trusted = nil }, target: licence.ErrUnknownKey},
		{name: "expired", path: f.pkg, opt: func(o *OpenOptions) { o.Now = l.NotAfter.Add(time.Second) }, target: licence.ErrExpired},
		{name: "not yet valid", path: future(t, f), target: licence.ErrNotYetValid},
		{name: "clock set back", path: f.pkg, opt: func(o *OpenOptions) { o.Now = l.Issued.Add(-time.Hour) }, target: licence.ErrClockBack},
		{name: "identity not a recipient", path: f.pkg, opt: func(o *OpenOptions) {
			o.Identity = func(*licence.Licence) (*age.X25519Identity, error) { return stranger, nil }
		}, target: ErrNotRecipient},
		{name: "not enrolled", path: f.pkg, opt: func(o *OpenOptions) {
			o.Identity = func(l *licence.Licence) (*age.X25519Identity, error) { return f.ws.Identity("OTHER-1", nil) }
		}, target: keys.ErrNotEnrolled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opt := f.openOptions()
			if c.opt != nil {
				c.opt(&opt)
			}
			o, err := Open(context.Background(), c.path, opt)
			if err == nil {
				o.Close()
				t.Fatal("opened")
			}
			if c.target != nil && !errors.Is(err, c.target) {
				t.Errorf("error %q is not %v", err, c.target)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not say %q", err, c.msg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

// future packs the fixture's data under terms that start in 30 days.
func future(t *testing.T, f *fixture) string {
	t.Helper()
	terms := *f.terms
	start := f.now.AddDate(0, 0, 30)
	terms.NotBefore, terms.NotAfter = start.Format(time.DateOnly), start.AddDate(0, 0, 90).Format(time.DateOnly)
	opt := f.options(f.data, filepath.Join(t.TempDir(), "future.persona"))
	opt.Terms = &terms
	if _, err := Pack(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	return opt.Out
}

func TestPackRefuses(t *testing.T) {
	f := setup(t)
	other := *f.enrol
	other.ID = "OTHER-2026"
	second, err := f.ws.Enrol(f.terms.ID+"-x", "李雷", "analyst", "", true)
	if err != nil {
		t.Fatal(err)
	}
	second.ID = f.terms.ID
	third, err := f.ws.Enrol(f.terms.ID+"-y", "韩梅梅", "analyst", "", true)
	if err != nil {
		t.Fatal(err)
	}
	third.ID = f.terms.ID
	expired := *f.terms
	expired.NotBefore, expired.NotAfter = "2020-01-01", "2020-06-30"
	cases := []struct {
		name string
		opt  func(*Options)
		msg  string
	}{
		{"more personnel than allowed", func(o *Options) { o.Enrolments = []*licence.Enrolment{f.enrol, second, third} }, "allows at most 2"},
		{"enrolment for another licence", func(o *Options) { o.Enrolments = []*licence.Enrolment{&other} }, "is for licence OTHER-2026"},
		{"the same person twice", func(o *Options) { o.Enrolments = []*licence.Enrolment{f.enrol, f.enrol} }, "share a key"},
		{"no enrolments", func(o *Options) { o.Enrolments = nil }, "no enrolments"},
		{"period already over", func(o *Options) { o.Terms = &expired }, "period ended"},
		{"output exists", func(o *Options) { o.Out = f.pkg }, "already exists"},
		{"no data folder", func(o *Options) { o.DataDir = t.TempDir() }, "holds no inventory.json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "p.persona")
			opt := f.options(f.data, out)
			c.opt(&opt)
			_, err := Pack(context.Background(), opt)
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want one saying %q", err, c.msg)
			}
			if opt.Out == out {
				if _, err := os.Stat(out); err == nil {
					t.Errorf("%s was written", out)
				}
			}
			left, _ := filepath.Glob(filepath.Join(filepath.Dir(opt.Out), ".persona-*"))
			if len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

// The payload's age header must name exactly the licence's people as
// X25519 recipients; odd headers are refused, never a panic.
func TestCheckStanzas(t *testing.T) {
	mac := "--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
	x := "-> X25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
	cases := []struct {
		name   string
		header string
		people int
		ok     bool
	}{
		{"one for one", "age-encryption.org/v1\n" + x + mac, 1, true},
		{"one for two", "age-encryption.org/v1\n" + x + mac, 2, false},
		{"a passphrase too", "age-encryption.org/v1\n" + x + "-> scrypt AAAAAAAAAAAAAAAAAAAAAA 18\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n" + mac, 1, false},
		{"empty stanza", "age-encryption.org/v1\n-> \n\n" + mac, 1, false},
		{"not age", "hello\n", 1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkStanzas(strings.NewReader(c.header+"payload"), c.people)
			if (err == nil) != c.ok {
				t.Fatalf("checkStanzas: %v, want ok=%v", err, c.ok)
			}
		})
	}
}
