package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/persona-workbench/persona/engine/keys"
	"github.com/persona-workbench/persona/engine/licence"
)

// licensed is one package made through the command line, as a licensor
// and two authorised people would: one enrolled with persona, one with
// keys made by the stock age-keygen and minisign.
type licensedFixture struct {
	dir         string
	passFile    string
	workspace   string // the persona-enrolled analyst's workspace
	providerKey string // the licensor's provider.key
	providerPub string
	data        string // the licensor's plaintext sample (with a canary value)
	enrolment   string // the analyst's enrolment JSON
	stockID     string // age identity made by age-keygen, a recipient too
	pkg         string
	id          string // licence id
	pristine    string // the workspace as set up, before any test
}

var lic licensedFixture

// canary is a device label planted in the data: it must never be found on
// disk outside the licensor's plaintext folder.
var canary = "CANARY-" + randomHex(8)

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func setupLicensed(dir string) error {
	for _, tool := range []string{"age", "age-keygen", "minisign"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed: `make test` installs it (apt-get install age minisign)", tool)
		}
	}
	l := &lic
	l.dir = dir
	l.passFile = filepath.Join(dir, "passphrase")
	l.workspace = filepath.Join(dir, "workspace")
	l.data = filepath.Join(dir, "licensor", "data")
	l.providerKey = filepath.Join(dir, "licensor", "keys", "provider.key")
	l.providerPub = filepath.Join(dir, "licensor", "keys", "provider.pub")
	l.pkg = filepath.Join(dir, "inbox", "brand.persona")
	if err := os.WriteFile(l.passFile, []byte("correct horse battery staple\n"), 0o600); err != nil {
		return err
	}
	run := func(stdin string, name string, args ...string) (string, error) {
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "PERSONA_HOME="+l.workspace, "PERSONA_PASSPHRASE_FILE="+l.passFile)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("%s %v: %v: %s", name, args, err, errb.String())
		}
		return out.String(), nil
	}
	if _, err := run("", bin, "keygen", "--out", filepath.Dir(l.providerKey)); err != nil {
		return err
	}
	if _, err := run("", bin, "sample", "--rows", "30000", "--seed", "7", "--out", l.data, "--quiet"); err != nil {
		return err
	}
	if err := plantCanary(filepath.Join(l.data, "personas-00000.parquet")); err != nil {
		return err
	}
	var terms struct {
		ID string `json:"licence_id"`
	}
	b, err := os.ReadFile(filepath.Join(l.data, "terms.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &terms); err != nil {
		return err
	}
	l.id = terms.ID
	enrolment, err := run("", bin, "enrol", "--licence", l.id, "--name", "王芳", "--role", "analyst")
	if err != nil {
		return err
	}
	l.enrolment = filepath.Join(dir, "wang.json")
	if err := os.WriteFile(l.enrolment, []byte(enrolment), 0o644); err != nil {
		return err
	}
	// The second person's keys come from the stock tools.
	l.stockID = filepath.Join(dir, "li", "age-identity.txt")
	os.MkdirAll(filepath.Dir(l.stockID), 0o700)
	if _, err := run("", "age-keygen", "-o", l.stockID); err != nil {
		return err
	}
	recipient, err := run("", "age-keygen", "-y", l.stockID)
	if err != nil {
		return err
	}
	liPub := filepath.Join(dir, "li", "minisign.pub")
	if _, err := run("", "minisign", "-G", "-W", "-p", liPub, "-s", filepath.Join(dir, "li", "minisign.key")); err != nil {
		return err
	}
	pub, err := os.ReadFile(liPub)
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(string(pub)), "\n")
	li, _ := json.Marshal(map[string]any{"format": "persona-enrolment", "version": 1, "licence_id": l.id,
		"name": "李雷", "role": "analyst", "recipient": strings.TrimSpace(recipient), "public_key": lines[len(lines)-1]})
	liPath := filepath.Join(dir, "li.json")
	if err := os.WriteFile(liPath, li, 0o644); err != nil {
		return err
	}
	os.MkdirAll(filepath.Dir(l.pkg), 0o755)
	if _, err := run("", bin, "pack", "--data", l.data, "--terms", filepath.Join(l.data, "terms.json"),
		"--enrolment", l.enrolment, "--enrolment", liPath, "--key", l.providerKey, "--out", l.pkg); err != nil {
		return err
	}
	if _, err := run("", bin, "trust", l.providerPub); err != nil {
		return err
	}
	// A copy of the workspace before any test used it, for tests that
	// delete or tamper: they must not touch the shared workspace's
	// records (deleting would remove every package they name).
	l.pristine = filepath.Join(dir, "workspace-pristine")
	if out, err := exec.Command("cp", "-a", l.workspace, l.pristine).CombinedOutput(); err != nil {
		return fmt.Errorf("cp: %v: %s", err, out)
	}
	return nil
}

// plantCanary rewrites a Parquet part so that every 50th record's device
// is the canary: 600 people, enough to be shown.
func plantCanary(path string) error {
	f, err := file.OpenParquetFile(path, false)
	if err != nil {
		return err
	}
	fr, err := pqarrow.NewFileReader(f, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	tbl, err := fr.ReadTable(context.Background())
	f.Close()
	if err != nil {
		return err
	}
	defer tbl.Release()
	cols := make([]arrow.Column, tbl.NumCols())
	for i := range cols {
		col := tbl.Column(i)
		if col.Name() != "device" {
			cols[i] = *col
			col.Retain()
			continue
		}
		b := array.NewStringBuilder(memory.DefaultAllocator)
		row := 0
		for _, chunk := range col.Data().Chunks() {
			for j := 0; j < chunk.Len(); j++ {
				switch {
				case row%50 == 0:
					b.Append(canary)
				case chunk.IsNull(j):
					b.AppendNull()
				default:
					b.Append(chunk.ValueStr(j))
				}
				row++
			}
		}
		arr := b.NewArray()
		field := arrow.Field{Name: "device", Type: arrow.BinaryTypes.String, Nullable: true}
		chunked := arrow.NewChunked(field.Type, []arrow.Array{arr})
		cols[i] = *arrow.NewColumn(field, chunked)
		arr.Release()
	}
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = c.Field()
	}
	nt := array.NewTable(arrow.NewSchema(fields, nil), cols, tbl.NumRows())
	defer nt.Release()
	w, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	if err := pqarrow.WriteTable(nt, w, 1<<20, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps()); err != nil {
		w.Close()
		return err
	}
	return os.Rename(path+".tmp", path)
}

// A third party checks a package with stock tools only: tar, minisign,
// age.
func TestStockToolsCheckAPackage(t *testing.T) {
	dir := t.TempDir()
	sh := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	list := sh("tar", "-tf", lic.pkg)
	if list != "licence.json\nlicence.json.minisig\ndata.age\n" {
		t.Fatalf("tar -tf lists:\n%s", list)
	}
	sh("tar", "-xf", lic.pkg)
	sh("minisign", "-V", "-H", "-m", "licence.json", "-p", lic.providerPub)
	var l struct {
		ID      string `json:"licence_id"`
		Payload struct {
			SHA256 string `json:"sha256"`
		} `json:"payload"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "licence.json"))
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	comment := strings.TrimSpace(sh("minisign", "-V", "-H", "-Q", "-m", "licence.json", "-p", lic.providerPub))
	if want := "persona-licence licence_id=" + l.ID + " payload_sha256=" + l.Payload.SHA256; comment != want {
		t.Errorf("trusted comment %q, want %q", comment, want)
	}
	if sum := strings.Fields(sh("sha256sum", "data.age"))[0]; sum != l.Payload.SHA256 {
		t.Errorf("sha256sum data.age = %s, the licence says %s", sum, l.Payload.SHA256)
	}
	sh("age", "-d", "-i", lic.stockID, "-o", "payload.tar", "data.age")
	// Under the default method, the seed of the records' keys follows the
	// inventory.
	if inner := sh("tar", "-tf", "payload.tar"); inner != "inventory.json\n.record-keys\npersonas-00000.parquet\n" {
		t.Errorf("payload lists:\n%s", inner)
	}
	// A stranger's identity decrypts nothing.
	sh("age-keygen", "-o", "stranger.txt")
	cmd := exec.Command("age", "-d", "-i", "stranger.txt", "-o", "nothing.tar", "data.age")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("a stranger decrypted the payload: %s", out)
	}
}

// Decrypted bytes never touch the disk: after opening and slicing a
// package whose data holds a canary, the canary is nowhere in the
// workspace, the temporary folder or the package's folder.
func TestNothingDecryptedOnDisk(t *testing.T) {
	tmp := t.TempDir()
	r := personaEnv(t, []string{"TMPDIR=" + tmp}, "query", lic.pkg, "--by", "device", "--format", "csv")
	if r.code != 0 {
		t.Fatalf("query: %s", r.stderr)
	}
	// Counts are perturbed by at most a few people (the default method).
	if !regexp.MustCompile(regexp.QuoteMeta(canary) + `,(59[4-9]|60[0-6]),false`).MatchString(r.stdout) {
		t.Fatalf("the canary's 600 people are not in the slice:\n%s", r.stdout)
	}
	for _, dir := range []string{lic.workspace, tmp, filepath.Dir(lic.pkg)} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if bytes.Contains(b, []byte(canary)) {
				t.Errorf("%s holds decrypted data (the canary)", path)
			}
			return nil
		})
	}
	entries, _ := os.ReadDir(tmp)
	if len(entries) > 0 {
		t.Errorf("query left files in TMPDIR: %v", entries)
	}
}

// writePackage assembles a package from its parts.
func writePackage(t *testing.T, licJSON, sig, payload []byte) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range []struct {
		name string
		data []byte
	}{{"licence.json", licJSON}, {"licence.json.minisig", sig}, {"data.age", payload}} {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.name, Size: int64(len(e.data)), Mode: 0o644, Format: tar.FormatUSTAR})
		tw.Write(e.data)
	}
	tw.Close()
	p := filepath.Join(t.TempDir(), "x.persona")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func packageParts(t *testing.T, path string) (licJSON, sig, payload []byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var parts [3][]byte
	for i := range parts {
		if _, err := tr.Next(); err != nil {
			t.Fatal(err)
		}
		parts[i], _ = io.ReadAll(tr)
	}
	return parts[0], parts[1], parts[2]
}

// Every bad input gets one line saying what is wrong, a hint, exit 1, no
// panic.
func TestBadPackagesCLI(t *testing.T) {
	licJSON, sig, payload := packageParts(t, lic.pkg)
	whole, _ := os.ReadFile(lic.pkg)
	file := func(b []byte) string {
		p := filepath.Join(t.TempDir(), "x.persona")
		os.WriteFile(p, b, 0o644)
		return p
	}
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 1
		return c
	}
	provider, err := keys.LoadSecretKey(lic.providerKey, func() (string, error) { return "correct horse battery staple", nil })
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := licence.Parse(licJSON)
	if err != nil {
		t.Fatal(err)
	}
	// resign re-issues the licence with changed terms.
	resign := func(change func(*licence.Licence)) string {
		l := *parsed
		change(&l)
		data, s, err := licence.Sign(&l, provider)
		if err != nil {
			t.Fatal(err)
		}
		return writePackage(t, data, s, payload)
	}
	legacy := minisign.SignWithComments(provider, licJSON, licence.TrustedComment(parsed.ID, parsed.Payload.SHA256), "legacy")
	_, stranger, _ := minisign.GenerateKey(rand.Reader)
	_, strangerSig, _ := licence.Sign(parsed, stranger)
	_, _, otherPayload := packageParts(t, otherPackage(t))
	day := 24 * time.Hour
	now := time.Now()
	wrongPass := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrongPass, []byte("not the passphrase\n"), 0o600)
	emptyWS := t.TempDir()
	os.Chmod(emptyWS, 0o700)

	cases := []struct {
		name string
		pkg  string
		env  []string
		want string
	}{
		{"missing file", filepath.Join(t.TempDir(), "none.persona"), nil, "does not exist"},
		{"a directory", t.TempDir(), nil, "is a folder, not a package"},
		{"zero bytes", file(nil), nil, "is empty"},
		{"truncated tar", file(whole[:len(whole)/3]), nil, "truncated"},
		{"flipped byte in the licence", writePackage(t, flip(licJSON, 40), sig, payload), nil, "licence signature does not verify"},
		{"flipped byte in the signature", writePackage(t, licJSON, flip(sig, len(sig)-30), payload), nil, "licence signature does not verify"},
		{"flipped byte in the payload", writePackage(t, licJSON, sig, flip(payload, len(payload)-100)), nil, "payload does not match the licence"},
		{"payload from another package", writePackage(t, licJSON, sig, otherPayload), nil, "payload does not match the licence"},
		{"signature by an unknown key", writePackage(t, licJSON, strangerSig, payload), nil, "not trusted"},
		{"licensor key not trusted here", lic.pkg, []string{"PERSONA_HOME=" + emptyWS}, "not trusted"},
		{"legacy signature", writePackage(t, licJSON, legacy, payload), nil, "legacy"},
		{"expired licence", resign(func(l *licence.Licence) {
			l.Issued, l.NotBefore, l.NotAfter = now.Add(-100*day), now.Add(-100*day), now.Add(-day)
		}), nil, "licence has expired"},
		{"not yet valid", resign(func(l *licence.Licence) {
			l.NotBefore, l.NotAfter = now.Add(10*day), now.Add(100*day)
		}), nil, "not valid yet"},
		{"clock set back", resign(func(l *licence.Licence) {
			l.Issued, l.NotBefore = now.Add(day), now.Add(-day)
		}), nil, "clock is set back"},
		{"identity not a recipient", resign(func(l *licence.Licence) { l.Personnel = l.Personnel[1:] }), nil, "not among its 1 recipients"},
		{"not enrolled for the licence", resign(func(l *licence.Licence) { l.ID = "OTHER-2026" }), nil, "not enrolled for this licence"},
		{"wrong passphrase", lic.pkg, []string{"PERSONA_PASSPHRASE_FILE=" + wrongPass}, "wrong passphrase"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, cmd := range [][]string{{"query", c.pkg, "--by", "province"}, {"inspect", c.pkg}} {
				if cmd[0] == "inspect" && (strings.Contains(c.want, "passphrase") || strings.Contains(c.want, "recipient") || strings.Contains(c.want, "enrolled") || strings.Contains(c.want, "licence has") || strings.Contains(c.want, "valid yet") || strings.Contains(c.want, "clock")) {
					continue // inspect decrypts nothing and shows the period as it finds it
				}
				r := personaEnv(t, c.env, cmd...)
				if r.code != 1 {
					t.Fatalf("%s: exit %d, want 1\nstdout: %s\nstderr: %s", cmd[0], r.code, r.stdout, r.stderr)
				}
				lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
				if cmd[0] == "query" && (len(lines) != 2 || !strings.HasPrefix(lines[1], "hint: ")) {
					t.Errorf("%s: want one error line and a hint:\n%s", cmd[0], r.stderr)
				}
				if !strings.Contains(r.stderr, c.want) {
					t.Errorf("%s: stderr lacks %q:\n%s", cmd[0], c.want, r.stderr)
				}
				if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, canary) {
					t.Errorf("%s: stderr shows a panic or data:\n%s", cmd[0], r.stderr)
				}
			}
		})
	}
}

// otherPackage packs another sample for the same people and licence.
func otherPackage(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if r := persona(t, "sample", "--rows", "2000", "--seed", "9", "--out", data, "--quiet"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	out := filepath.Join(dir, "other.persona")
	if r := persona(t, "pack", "--data", data, "--terms", filepath.Join(lic.data, "terms.json"), "--enrolment", lic.enrolment,
		"--key", lic.providerKey, "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	return out
}

// The licensor's pack refuses data and people the contract does not allow,
// and writes nothing.
func TestPackRefusesCLI(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.persona")
	terms := filepath.Join(lic.data, "terms.json")
	other := filepath.Join(dir, "other.json")
	b, _ := os.ReadFile(lic.enrolment)
	os.WriteFile(other, bytes.Replace(b, []byte(lic.id), []byte("OTHER-2026"), 1), 0o644)
	// Data with a mobile number and a city.
	bad := filepath.Join(dir, "bad")
	if r := persona(t, "sample", "--rows", "2000", "--out", bad, "--quiet"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	inv, _ := os.ReadFile(filepath.Join(bad, "inventory.json"))
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"more people than allowed", []string{"--enrolment", lic.enrolment, "--enrolment", lic.enrolment, "--enrolment", lic.enrolment}, "allows at most 2"},
		{"enrolment for another licence", []string{"--enrolment", other}, "is for licence OTHER-2026"},
		{"enrolment that is not JSON", []string{"--enrolment", terms}, "invalid licence: enrolment"},
		{"wrong passphrase", []string{"--enrolment", lic.enrolment, "PASS=wrong"}, "wrong passphrase"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var env []string
			args := []string{"pack", "--data", lic.data, "--terms", terms, "--key", lic.providerKey, "--out", out}
			for _, a := range c.args {
				if a == "PASS=wrong" {
					p := filepath.Join(t.TempDir(), "p")
					os.WriteFile(p, []byte("wrong\n"), 0o600)
					env = append(env, "PERSONA_PASSPHRASE_FILE="+p)
					continue
				}
				args = append(args, a)
			}
			r := personaEnv(t, env, args...)
			if r.code != 1 || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and %q", r.code, r.stderr, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
	t.Run("identifiers and cities in the data", func(t *testing.T) {
		// Declare device as the province field's geo and relabel: device
		// values are not places; the report names the column.
		changed := strings.Replace(string(inv), `"name": "device",`, `"geo": "province", "name": "device",`, 1)
		if changed == string(inv) {
			t.Fatal("inventory layout changed; update the test")
		}
		os.WriteFile(filepath.Join(bad, "inventory.json"), []byte(changed), 0o644)
		r := persona(t, "pack", "--data", bad, "--terms", terms, "--enrolment", lic.enrolment, "--key", lic.providerKey, "--out", out)
		if r.code != 1 || !strings.Contains(r.stderr, "column device") || !strings.Contains(r.stderr, "province-level") {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s was written", out)
		}
	})
}

// persona open shows the licence gate, then the data once acknowledged.
func TestOpenInTmux(t *testing.T) {
	env := fmt.Sprintf("LANG=C.UTF-8 PERSONA_HOME=%s PERSONA_PASSPHRASE_FILE=%s", lic.workspace, lic.passFile)
	tm := newTmux(t, 100, 30, env, bin+" open "+lic.pkg)
	gate := tm.waitFor(`Press Enter to acknowledge`)
	for _, want := range []string{lic.id, "王芳", "李雷", "示例品牌有限公司", "k = 10", "days left", "Mainland China"} {
		if !strings.Contains(gate, want) {
			t.Errorf("licence gate lacks %q:\n%s", want, gate)
		}
	}
	if strings.Contains(gate, "广东") {
		t.Errorf("data shown before the licence was acknowledged:\n%s", gate)
	}
	tm.run("send-keys", "Enter")
	tm.waitFor(`rows 6`)
	tm.run("send-keys", "q")
}

// workbench opens the fixture's package in tmux (100×30, English) on a
// copy of the workspace, with flags, and acknowledges the licence.
func workbench(t *testing.T, flags string) (*tmux, string) {
	t.Helper()
	ws := filepath.Join(t.TempDir(), "ws")
	copyDir(t, lic.pristine, ws)
	env := fmt.Sprintf("LANG=C.UTF-8 PERSONA_HOME=%s PERSONA_PASSPHRASE_FILE=%s", ws, lic.passFile)
	tm := newTmux(t, 100, 30, env, bin+" open --lang en "+flags+" "+lic.pkg)
	tm.waitFor(`Press Enter to acknowledge`)
	tm.run("send-keys", "Enter")
	tm.waitFor(`rows 6`)
	return tm, ws
}

// Left alone, the workbench locks: no data on screen, the watermark
// shows, a wrong passphrase is refused and the licence's passphrase
// unlocks; the lock and both attempts are in the usage log.
func TestIdleLockInTmux(t *testing.T) {
	tm, ws := workbench(t, "--lock-after 2s")
	locked := tm.waitFor(`screen locked`)
	for _, data := range []string{"18-24", "rows 6", "广东"} {
		if strings.Contains(locked, data) {
			t.Errorf("the locked screen shows %q:\n%s", data, locked)
		}
	}
	if !regexp.MustCompile(regexp.QuoteMeta(lic.id) + ` · 示例品牌有限公司\S* · 王芳`).MatchString(locked) {
		t.Errorf("no watermark on the lock screen:\n%s", locked)
	}
	tm.run("send-keys", "-l", "not it")
	tm.run("send-keys", "Enter")
	tm.waitFor(`wrong passphrase`)
	tm.run("send-keys", "-l", "correct horse battery staple")
	tm.run("send-keys", "Enter")
	tm.waitFor(`rows 6`)
	tm.run("send-keys", "q")
	r := personaEnv(t, []string{"PERSONA_HOME=" + ws}, "log", "show", "--licence", lic.id, "--json")
	for _, want := range []string{`"kind": "lock"`, `"by": "idle"`, `"ok": false`, `"ok": true`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("usage log lacks %s:\n%s", want, r.stdout)
		}
	}
}

// A saved view is kept sealed in the workspace, and opens again.
func TestSavedViewsInTmux(t *testing.T) {
	tm, ws := workbench(t, "--lock-after 0")
	tm.run("send-keys", "j", "j")
	tm.waitFor(`People by Province`)
	tm.run("send-keys", "S")
	tm.waitFor(`Name of the view`)
	tm.run("send-keys", "-l", "全国省份")
	tm.run("send-keys", "Enter")
	tm.waitFor(`saved the view "全国省份"`)
	// V closes the list (a lone Escape followed by a key would read as
	// alt+key), k goes back to another dimension, V opens the list again.
	tm.run("send-keys", "V")
	tm.waitFor(`rows 31`)
	tm.run("send-keys", "k")
	tm.waitFor(`People by Gender`)
	tm.run("send-keys", "V")
	tm.waitFor(`全国省份 +people by province`)
	tm.run("send-keys", "Enter")
	tm.waitFor(`People by Province`)
	tm.run("send-keys", "C-c")
	r := personaEnv(t, []string{"PERSONA_HOME=" + ws}, "log", "show", "--licence", lic.id, "--json")
	for _, want := range []string{`"kind": "view"`, `"op": "save"`, `"name": "全国省份"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("usage log lacks %s:\n%s", want, r.stdout)
		}
	}
	saved, err := os.ReadFile(filepath.Join(ws, "licences", lic.id, "views.jsonl"))
	if err != nil || len(saved) == 0 || bytes.Contains(saved, []byte("全国省份")) || bytes.Contains(saved, []byte("province")) {
		t.Errorf("saved views file: %v, readable: %q", err, saved)
	}
}

// copyDir copies a folder tree, keeping modes.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
}

// The usage log records what the analyst did, verifies, and catches an
// edit and a clock set back; checkpoints and the report check out with
// stock minisign.
func TestUsageLog(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "ws")
	copyDir(t, lic.pristine, ws)
	old := filepath.Join(t.TempDir(), "old") // a backup, before what follows
	copyDir(t, ws, old)
	env := []string{"PERSONA_HOME=" + ws}
	if r := personaEnv(t, env, "query", lic.pkg, "--by", "province", "--where", "categories=美妆", "--measure", "gmv"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	show := personaEnv(t, env, "log", "show", "--licence", lic.id, "--kind", "query", "--json")
	var recs []struct {
		Kind string
		Data struct {
			By    []string
			Where map[string][]string
			K     int
			Rows  int
		}
	}
	if err := json.Unmarshal([]byte(show.stdout), &recs); err != nil || len(recs) == 0 {
		t.Fatalf("log show --json: %v\n%s%s", err, show.stdout, show.stderr)
	}
	last := recs[len(recs)-1].Data
	if last.By[0] != "province" || last.Where["categories"][0] != "美妆" || last.K != 10 || last.Rows == 0 {
		t.Errorf("last query record: %+v", last)
	}
	if strings.Contains(show.stdout, "广东") {
		t.Errorf("the log holds a result value:\n%s", show.stdout)
	}
	if r := personaEnv(t, env, "log", "verify", "--licence", lic.id, "--package", lic.pkg); r.code != 0 || !strings.Contains(r.stdout, "verifies") {
		t.Fatalf("log verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	held := filepath.Join(t.TempDir(), "checkpoint.txt")
	cp := personaEnv(t, env, "log", "checkpoint", "--licence", lic.id)
	if cp.code != 0 || !strings.HasPrefix(cp.stdout, "persona-usage "+lic.id+"\n") || len(cp.stdout) > 600 {
		t.Fatalf("log checkpoint: %q %s", cp.stdout, cp.stderr)
	}
	os.WriteFile(held, []byte(cp.stdout), 0o644)

	report := filepath.Join(t.TempDir(), "usage.json")
	if r := personaEnv(t, env, "log", "export", "--licence", lic.id, "--out", report); r.code != 0 {
		t.Fatalf("log export: %s", r.stderr)
	}
	pub := filepath.Join(ws, "licences", lic.id, "signing.pub")
	if out, err := exec.Command("minisign", "-V", "-H", "-p", pub, "-m", report).CombinedOutput(); err != nil {
		t.Errorf("minisign does not verify the usage report: %v\n%s", err, out)
	}

	// An older copy of the log, restored, is caught against the
	// licensor's checkpoint.
	os.RemoveAll(filepath.Join(ws, "licences", lic.id, "usage.log"))
	os.RemoveAll(filepath.Join(ws, "licences", lic.id, "checkpoints"))
	copyDir(t, filepath.Join(old, "licences", lic.id, "usage.log"), filepath.Join(ws, "licences", lic.id, "usage.log"))
	copyDir(t, filepath.Join(old, "licences", lic.id, "checkpoints"), filepath.Join(ws, "licences", lic.id, "checkpoints"))
	r := personaEnv(t, env, "log", "verify", "--licence", lic.id, "--checkpoint", held)
	if r.code != 1 || !strings.Contains(r.stdout, "the licensor's checkpoint covers") {
		t.Errorf("restored backup: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// An edited record is named.
	logPath := filepath.Join(ws, "licences", lic.id, "usage.log")
	b, _ := os.ReadFile(logPath)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	lines[0] = strings.Replace(lines[0], `"kind":"enrol"`, `"kind":"enrol" `, 1)
	os.WriteFile(logPath, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	r = personaEnv(t, env, "log", "verify", "--licence", lic.id)
	if r.code != 1 || !strings.Contains(r.stdout, "record 1 was edited") {
		t.Errorf("edited record: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A clock behind the last record: refused, and the refusal recorded.
	future := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339Nano)
	rec, _ := json.Marshal(map[string]any{"seq": len(lines) + 1, "time": future, "mono_ns": 0, "boot_id": "", "os_user": "x", "host": "x",
		"person": "王芳", "tool": "test", "kind": "heartbeat", "prev": ""})
	f, _ := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(append(rec, '\n'))
	f.Close()
	r = personaEnv(t, env, "query", lic.pkg, "--by", "province")
	if r.code != 1 || !strings.Contains(r.stderr, "clock is earlier than the usage log's last record") {
		t.Fatalf("clock behind the log: exit %d\n%s", r.code, r.stderr)
	}
	refused := personaEnv(t, env, "log", "show", "--licence", lic.id, "--kind", "open_refused", "--json")
	if !strings.Contains(refused.stdout, "clock is earlier") {
		t.Errorf("the refusal is not in the log:\n%s", refused.stdout)
	}
}

// A replaced enrolment key is caught: the checkpoints no longer verify
// with it, and it is not the key the licence lists.
func TestReplacedEnrolmentKey(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "ws")
	copyDir(t, lic.pristine, ws)
	path := filepath.Join(ws, "licences", lic.id, "enrolment.json")
	var e map[string]any
	b, _ := os.ReadFile(path)
	json.Unmarshal(b, &e)
	pub, _, _ := minisign.GenerateKey(rand.Reader)
	e["public_key"] = licence.PublicKeyString(pub)
	b, _ = json.Marshal(e)
	os.WriteFile(path, b, 0o600)
	r := personaEnv(t, []string{"PERSONA_HOME=" + ws}, "log", "verify", "--licence", lic.id, "--package", lic.pkg)
	if r.code != 1 || !strings.Contains(r.stdout, "enrolment.json was replaced") || !strings.Contains(r.stdout, "not by the enrolled key") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// The whole life of a licence: packed, enrolled, opened, sliced, its
// usage reported, deleted and certified; afterwards a copy of the package
// kept outside the workspace cannot be opened, and the licensor verifies
// the certificate with persona and with stock minisign.
func TestLifecycle(t *testing.T) {
	dir := t.TempDir()
	ws := filepath.Join(dir, "ws")
	copyDir(t, lic.pristine, ws)
	env := []string{"PERSONA_HOME=" + ws}
	inbox := filepath.Join(dir, "inbox")
	os.MkdirAll(inbox, 0o755)
	pkg := filepath.Join(inbox, "brand.persona")
	copyDir(t, lic.pkg, pkg)
	kept := filepath.Join(dir, "usb-stick-copy.persona")
	copyDir(t, lic.pkg, kept)

	if r := personaEnv(t, env, "query", pkg, "--by", "province"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	report := filepath.Join(dir, "usage.json")
	if r := personaEnv(t, env, "log", "export", "--licence", lic.id, "--out", report); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := personaEnv(t, env, "status"); r.code != 0 || !strings.Contains(r.stdout, lic.id+"  active") || !strings.Contains(r.stdout, "ok, ") {
		t.Errorf("status before deletion: %s %s", r.stdout, r.stderr)
	}
	cert := filepath.Join(dir, "cert.json")
	r := personaEnv(t, env, "delete", "--licence", lic.id, "--out", cert)
	if r.code != 1 || !strings.Contains(r.stderr, "not confirmed") {
		t.Fatalf("delete without confirmation: exit %d %s", r.code, r.stderr)
	}
	// Keys kept unlocked go with the deletion.
	unlocked := personaEnv(t, env, "unlock", "--for", "10m").code == 0
	if r := personaEnv(t, env, "delete", "--licence", lic.id, "--out", cert, "--yes"); r.code != 0 {
		t.Fatalf("delete: %s", r.stderr)
	}
	if r := personaEnv(t, env, "lock"); unlocked && (r.code != 0 || !strings.Contains(r.stdout, "no keys were unlocked")) {
		t.Errorf("keys kept unlocked outlived the deletion: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(pkg); err == nil {
		t.Error("the opened package is still there")
	}
	// The privacy guard's release history goes with the data, and the
	// certificate lists it.
	history := filepath.Join(ws, "licences", lic.id, "released.jsonl")
	if _, err := os.Stat(history); err == nil {
		t.Error("the release history is still there")
	}
	if cb, _ := os.ReadFile(cert); !strings.Contains(string(cb), history) {
		t.Errorf("the certificate does not list the release history %s", history)
	}
	if _, err := os.Stat(report); err != nil {
		t.Error("the usage report, meant for the licensor, was deleted")
	}
	if r := personaEnv(t, env, "status", "--json"); !strings.Contains(r.stdout, `"state": "deleted"`) {
		t.Errorf("status after deletion: %s %s", r.stdout, r.stderr)
	}
	r = personaEnv(t, env, "query", kept, "--by", "province")
	if r.code != 1 || !strings.Contains(r.stderr, "licence "+lic.id+" was deleted on") {
		t.Fatalf("opening a kept copy: exit %d %s", r.code, r.stderr)
	}
	if r := personaEnv(t, env, "unlock", "--licence", lic.id); r.code != 1 || !strings.Contains(r.stderr, "was deleted on") {
		t.Errorf("unlocking a deleted licence: exit %d %s", r.code, r.stderr)
	}
	if r := personaEnv(t, env, "unlock"); r.code != 1 || !strings.Contains(r.stderr, "holds no licence") {
		t.Errorf("unlock with only a deleted licence: exit %d %s", r.code, r.stderr)
	}
	// The licensor's side.
	licJSON := filepath.Join(dir, "licence.json")
	l, _, _ := packageParts(t, lic.pkg)
	os.WriteFile(licJSON, l, 0o644)
	if r := personaEnv(t, env, "cert", "verify", cert, "--licence", licJSON, "--usage-report", report); r.code != 0 || !strings.Contains(r.stdout, "verifies") {
		t.Fatalf("cert verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var e struct {
		PublicKey string `json:"public_key"`
	}
	b, _ := os.ReadFile(lic.enrolment)
	json.Unmarshal(b, &e)
	if out, err := exec.Command("minisign", "-V", "-H", "-m", cert, "-P", e.PublicKey).CombinedOutput(); err != nil {
		t.Errorf("stock minisign: %v\n%s", err, out)
	}
	if r := personaEnv(t, env, "cert", "show", cert); r.code != 0 || !strings.Contains(r.stdout, "数据删除确认书") {
		t.Errorf("cert show: %s %s", r.stdout, r.stderr)
	}
	if r := personaEnv(t, env, "log", "verify", "--licence", lic.id); r.code != 0 {
		t.Errorf("usage log after deletion: %s %s", r.stdout, r.stderr)
	}
	// A changed certificate is refused.
	cb, _ := os.ReadFile(cert)
	os.WriteFile(cert, bytes.Replace(cb, []byte("王芳"), []byte("李雷"), 1), 0o644)
	if r := personaEnv(t, env, "cert", "verify", cert, "--licence", licJSON); r.code != 1 || !strings.Contains(r.stderr, "altered") {
		t.Errorf("changed certificate: exit %d %s", r.code, r.stderr)
	}
}

// A compliance officer deletes the open licence from the workbench: the
// certificate is written, and the package can no longer be opened.
func TestDeleteFromTheWorkbench(t *testing.T) {
	dir := t.TempDir()
	ws := filepath.Join(dir, "ws")
	copyDir(t, lic.pristine, ws)
	pkg := filepath.Join(dir, "brand.persona")
	copyDir(t, lic.pkg, pkg)
	env := fmt.Sprintf("LANG=C.UTF-8 PERSONA_HOME=%s PERSONA_PASSPHRASE_FILE=%s", ws, lic.passFile)
	tm := newTmux(t, 100, 30, env, fmt.Sprintf("sh -c 'cd %s && %s open %s; sleep 30'", dir, bin, pkg))
	tm.waitFor(`Press Enter to acknowledge`)
	tm.run("send-keys", "Enter")
	tm.waitFor(`rows 6`)
	tm.run("send-keys", "C")
	tm.waitFor(`Compliance · every licence`)
	tm.run("send-keys", "D")
	tm.waitFor(`Type the licence id`)
	tm.run("send-keys", "-l", lic.id)
	tm.run("send-keys", "Enter")
	screen := tm.waitFor(`Press q to`)
	if !strings.Contains(screen, "deleted; certificate:") {
		t.Errorf("after deletion:\n%s", screen)
	}
	tm.run("send-keys", "q")
	cert := filepath.Join(dir, "deletion-certificate-"+lic.id+".json")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(cert + ".minisig"); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(cert); err != nil {
		t.Fatalf("no certificate: %v", err)
	}
	if _, err := os.Stat(pkg); err == nil {
		t.Error("the package is still there")
	}
	if r := personaEnv(t, []string{"PERSONA_HOME=" + ws}, "log", "verify", "--licence", lic.id); r.code != 0 {
		t.Errorf("usage log after deletion from the workbench: %s %s", r.stdout, r.stderr)
	}
}

// `persona delete` killed at random moments leaves a state from which the
// next run completes and certifies.
func TestDeleteKilledAndResumed(t *testing.T) {
	base := filepath.Join(t.TempDir(), "base")
	copyDir(t, lic.pristine, base)
	pkg := filepath.Join(t.TempDir(), "brand.persona")
	copyDir(t, lic.pkg, pkg)
	if r := personaEnv(t, []string{"PERSONA_HOME=" + base}, "query", pkg, "--by", "gender"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	licJSON := filepath.Join(t.TempDir(), "licence.json")
	l, _, _ := packageParts(t, lic.pkg)
	os.WriteFile(licJSON, l, 0o644)
	// Unlocking the key takes most of a deletion's second; the steps come
	// after it, so the kills spread over its end.
	resumed := 0
	defer func() { t.Logf("%d of 10 kills interrupted a deletion in its steps", resumed) }()
	for i := 0; i < 10; i++ {
		wait := time.Duration(600+i*100) * time.Millisecond
		dir := t.TempDir()
		ws := filepath.Join(dir, "ws")
		copyDir(t, base, ws)
		copyDir(t, lic.pkg, pkg) // the recorded package, back in place
		cert := filepath.Join(dir, "cert.json")
		cmd := exec.Command(bin, "delete", "--licence", lic.id, "--out", cert, "--yes")
		cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "PERSONA_HOME="+ws, "PERSONA_PASSPHRASE_FILE="+lic.passFile)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(wait)
		cmd.Process.Kill()
		cmd.Wait()
		r := personaEnv(t, []string{"PERSONA_HOME=" + ws}, "delete", "--licence", lic.id, "--out", cert, "--yes")
		if r.code != 0 {
			t.Fatalf("kill after %d ms: the second run failed: %s", wait.Milliseconds(), r.stderr)
		}
		if strings.Contains(r.stderr, "resuming an interrupted deletion") {
			resumed++
		}
		if r := personaEnv(t, nil, "cert", "verify", cert, "--licence", licJSON); r.code != 0 {
			t.Fatalf("kill after %d ms: %s%s", wait.Milliseconds(), r.stdout, r.stderr)
		}
		if _, err := os.Stat(pkg); err == nil {
			t.Errorf("kill after %d ms: the package survived", wait.Milliseconds())
		}
		if r := personaEnv(t, []string{"PERSONA_HOME=" + ws}, "log", "verify", "--licence", lic.id); r.code != 0 {
			t.Errorf("kill after %d ms: usage log: %s", wait.Milliseconds(), r.stdout)
		}
	}
}

// persona unlock keeps the keys unlocked: commands then need no
// passphrase, until persona lock. Each step is in the usage log.
func TestUnlockAndLock(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "ws") // its own: other tests count on the passphrase being asked
	copyDir(t, lic.pristine, ws)
	env := []string{"PERSONA_HOME=" + ws}
	noPass := append(env, "PERSONA_PASSPHRASE_FILE="+filepath.Join(t.TempDir(), "none"))

	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrong, []byte("not it\n"), 0o600)
	if r := personaEnv(t, append(env, "PERSONA_PASSPHRASE_FILE="+wrong), "unlock"); r.code != 1 || !strings.Contains(r.stderr, "wrong passphrase") {
		t.Fatalf("unlock with a wrong passphrase: exit %d\n%s", r.code, r.stderr)
	}
	for _, bad := range []string{"0s", "30s", "13h"} {
		if r := personaEnv(t, env, "unlock", "--for", bad); r.code != 1 || !strings.Contains(r.stderr, "1m0s to 12h0m0s") {
			t.Errorf("unlock --for %s: exit %d\n%s", bad, r.code, r.stderr)
		}
	}
	r := personaEnv(t, env, "unlock", "--licence", lic.id, "--for", "10m")
	if r.code != 0 && strings.Contains(r.stderr, "kernel keyring is not available") {
		t.Skipf("no kernel keyring here: %s", r.stderr)
	}
	if r.code != 0 || !strings.Contains(r.stdout, "keys of licence "+lic.id+" unlocked until") {
		t.Fatalf("unlock: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	t.Cleanup(func() { personaEnv(t, env, "lock") })

	if r := personaEnv(t, env, "status"); r.code != 0 || !strings.Contains(r.stdout, "unlocked (persona unlock)") {
		t.Errorf("status while unlocked: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// No passphrase needed now: a query, a checkpoint.
	if r := personaEnv(t, noPass, "query", lic.pkg, "--by", "province", "--format", "csv"); r.code != 0 || !strings.HasPrefix(r.stdout, "province,people") {
		t.Fatalf("query while unlocked: exit %d\n%s", r.code, r.stderr)
	}
	if r := personaEnv(t, noPass, "log", "checkpoint", "--licence", lic.id); r.code != 0 {
		t.Fatalf("log checkpoint while unlocked: exit %d\n%s", r.code, r.stderr)
	}
	// Another workspace with the same licence still asks.
	other := filepath.Join(t.TempDir(), "ws")
	copyDir(t, lic.pristine, other)
	if r := personaEnv(t, []string{"PERSONA_HOME=" + other, noPass[1]}, "query", lic.pkg, "--by", "province"); r.code != 1 || !strings.Contains(r.stderr, "PERSONA_PASSPHRASE_FILE") {
		t.Errorf("another workspace opened without a passphrase: exit %d\n%s", r.code, r.stderr)
	}

	if r := personaEnv(t, env, "lock"); r.code != 0 || !strings.Contains(r.stdout, "keys of licence "+lic.id+" locked") {
		t.Fatalf("lock: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := personaEnv(t, env, "lock", "--licence", lic.id); r.code != 0 || !strings.Contains(r.stdout, "no keys were unlocked") {
		t.Errorf("lock again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := personaEnv(t, noPass, "query", lic.pkg, "--by", "province"); r.code != 1 || !strings.Contains(r.stderr, "PERSONA_PASSPHRASE_FILE") {
		t.Errorf("query after lock opened without a passphrase: exit %d\n%s", r.code, r.stderr)
	}
	if r := personaEnv(t, env, "status"); r.code != 0 || strings.Contains(r.stdout, "unlocked (persona unlock)") || !strings.Contains(r.stdout, "locked") {
		t.Errorf("status after lock: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	show := personaEnv(t, env, "log", "show", "--licence", lic.id, "--json")
	var recs []struct {
		Kind string
		Data map[string]any
	}
	if err := json.Unmarshal([]byte(show.stdout), &recs); err != nil {
		t.Fatalf("log show: %v\n%s", err, show.stderr)
	}
	var kinds []string
	for _, rec := range recs {
		switch rec.Kind {
		case "unlock", "lock":
			kinds = append(kinds, fmt.Sprintf("%s %v", rec.Kind, rec.Data["ok"]))
		case "open":
			kinds = append(kinds, fmt.Sprintf("open %v", rec.Data["keys"] != nil))
		}
	}
	if got := strings.Join(kinds, ", "); got != "unlock false, unlock true, open true, lock <nil>" {
		t.Errorf("usage log: %s, want a failed and a good unlock, an open with kept keys, a lock", got)
	}
	if r := personaEnv(t, env, "log", "verify", "--licence", lic.id); r.code != 0 {
		t.Errorf("log verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
