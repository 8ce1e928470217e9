package usagelog

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"aead.dev/minisign"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/persona-workbench/persona/engine/licence"
)

const testID = "LIC-TEST-1"

type keyPair struct {
	signer   note.Signer
	verifier note.Verifier
}

func newKeys(t testing.TB) keyPair {
	t.Helper()
	pub, priv, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Signer(priv)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verifier(licence.PublicKeyString(pub))
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{s, v}
}

// build writes a log of n query records with checkpoints after the
// records listed in at.
func build(t testing.TB, dir string, k keyPair, n int, at ...int) *Log {
	t.Helper()
	l, err := Open(dir, Context{Person: "王芳", Tool: "test"})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	i := 0
	l.now = func() time.Time { i++; return base.Add(time.Duration(i) * time.Minute) }
	for r := 1; r <= n; r++ {
		if _, err := l.Append(KindQuery, map[string]any{"by": []string{"province"}, "n": r}); err != nil {
			t.Fatal(err)
		}
		for _, a := range at {
			if a == r {
				if _, err := l.Checkpoint(testID, k.signer); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return l
}

func lines(t testing.TB, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, LogFile))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func write(t testing.TB, dir, name string, ls []string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(ls, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// rechain recomputes every prev hash, as someone rewriting the log would.
func rechain(t testing.TB, ls []string) []string {
	t.Helper()
	out := make([]string, len(ls))
	prev := ""
	for i, s := range ls {
		var r Record
		if err := json.Unmarshal([]byte(s), &r); err != nil {
			t.Fatal(err)
		}
		r.Prev = prev
		b, _ := json.Marshal(r)
		out[i] = string(b)
		h := tlog.RecordHash(b)
		prev = base64.StdEncoding.EncodeToString(h[:])
	}
	return out
}

func TestVerifyCleanLog(t *testing.T) {
	dir := t.TempDir()
	k := newKeys(t)
	build(t, dir, k, 6, 3, 6)
	rep, err := Verify(dir, testID, k.verifier, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Records != 6 || rep.Checkpoints != 2 || rep.Latest.Size != 6 || rep.Torn {
		t.Fatalf("clean log: %+v", rep)
	}
}

func TestVerifyDetects(t *testing.T) {
	k := newKeys(t)
	other := newKeys(t)
	cases := []struct {
		name   string
		tamper func(t *testing.T, dir string) []byte // returns a held checkpoint, if any
		want   string
		record int64
	}{
		{"edited record", func(t *testing.T, dir string) []byte {
			ls := lines(t, dir)
			ls[2] = strings.Replace(ls[2], `"n":3`, `"n":33`, 1)
			write(t, dir, LogFile, ls)
			return nil
		}, "record 3 was edited", 3},
		{"deleted record in the middle", func(t *testing.T, dir string) []byte {
			ls := lines(t, dir)
			write(t, dir, LogFile, append(ls[:2:2], ls[3:]...))
			return nil
		}, "records 3 to 3 are missing before record 4", 4},
		{"reordered records", func(t *testing.T, dir string) []byte {
			ls := lines(t, dir)
			ls[2], ls[3] = ls[3], ls[2]
			write(t, dir, LogFile, ls)
			return nil
		}, "record 4 comes before record 3: records were reordered", 4},
		{"tail truncated behind the licensor's checkpoint", func(t *testing.T, dir string) []byte {
			held, _ := Latest(dir) // size 6
			ls := lines(t, dir)
			write(t, dir, LogFile, ls[:4])
			os.Remove(filepath.Join(dir, CheckpointFile))
			return held
		}, "covers 6 records, the log holds 4", 5},
		{"replaced by an older backup", func(t *testing.T, dir string) []byte {
			held, _ := Latest(dir) // size 6
			os.RemoveAll(dir)
			os.MkdirAll(dir, 0o700)
			build(t, dir, k, 3, 3)
			return held
		}, "covers 6 records, the log holds 3", 4},
		{"clock moved back", func(t *testing.T, dir string) []byte {
			ls := lines(t, dir)
			var r Record
			json.Unmarshal([]byte(ls[3]), &r)
			r.Time = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
			b, _ := json.Marshal(r)
			ls[3] = string(b)
			write(t, dir, LogFile, rechain(t, ls))
			os.Remove(filepath.Join(dir, CheckpointFile))
			return nil
		}, "record 4 (2026-11-23T08:00:00Z) is earlier than the record before it", 4},
		{"checkpoint signed by another key", func(t *testing.T, dir string) []byte {
			l, _ := Open(dir, Context{})
			if _, err := l.Checkpoint(testID, other.signer); err != nil {
				t.Fatal(err)
			}
			return nil
		}, "not by the enrolled key", 0},
		{"two checkpoints of one size with different roots", func(t *testing.T, dir string) []byte {
			fork := t.TempDir()
			build(t, fork, k, 6, 6)
			b, _ := os.ReadFile(filepath.Join(fork, CheckpointFile))
			f, _ := os.OpenFile(filepath.Join(dir, CheckpointFile), os.O_APPEND|os.O_WRONLY, 0)
			f.Write(b)
			f.Close()
			return nil
		}, "both cover 6 records with different roots", 6},
		{"records after a deletion", func(t *testing.T, dir string) []byte {
			l, _ := Open(dir, Context{})
			l.Append(KindDeletion, nil)
			l.Append(KindCertificate, nil)
			// persona refuses to write more; someone else appends a query.
			ls := lines(t, dir)
			var r Record
			json.Unmarshal([]byte(ls[len(ls)-1]), &r)
			r.Seq, r.Kind = r.Seq+1, KindQuery
			b, _ := json.Marshal(r)
			write(t, dir, LogFile, rechain(t, append(ls, string(b))))
			os.Remove(filepath.Join(dir, CheckpointFile))
			return nil
		}, "record 9 (query) comes after the deletion recorded in record 7", 9},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			build(t, dir, k, 6, 3, 6)
			held := c.tamper(t, dir)
			rep, err := Verify(dir, testID, k.verifier, held)
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			found := false
			for _, p := range rep.Problems {
				msgs = append(msgs, fmt.Sprintf("[%d] %s", p.Record, p.Msg))
				if strings.Contains(p.Msg, c.want) && (c.record == 0 || p.Record == c.record) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no problem saying %q (record %d); got:\n%s", c.want, c.record, strings.Join(msgs, "\n"))
			}
		})
	}
}

func TestTornTailIsNotTampering(t *testing.T) {
	dir := t.TempDir()
	k := newKeys(t)
	build(t, dir, k, 4, 4)
	f, _ := os.OpenFile(filepath.Join(dir, LogFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":5,"time":"2026-11-23T09:`)
	f.Close()
	rep, err := Verify(dir, testID, k.verifier, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Torn || !rep.OK() || rep.Records != 4 {
		t.Fatalf("torn tail: %+v", rep)
	}
	// Appending after a torn tail closes it and names it in a "torn"
	// record: it stays visible, and the log still verifies.
	l, _ := Open(dir, Context{})
	if _, err := l.Append(KindOpen, nil); err != nil {
		t.Fatal(err)
	}
	rep, _ = Verify(dir, testID, k.verifier, nil)
	if !rep.OK() || rep.Repaired != 1 || rep.Torn || rep.Records != 6 {
		t.Fatalf("after a torn line: %+v", rep)
	}
	recs, _, _ := Records(dir)
	if recs[4].Kind != KindTorn || recs[5].Kind != KindOpen {
		t.Errorf("records after the torn line: %s, %s", recs[4].Kind, recs[5].Kind)
	}
	// An unparsable line that no torn record names is still a problem.
	ls := lines(t, dir)
	ls[5] = strings.Replace(ls[5], "line_sha256", "line_sha257", 1)
	write(t, dir, LogFile, ls)
	rep, _ = Verify(dir, testID, k.verifier, nil)
	if rep.OK() || !strings.Contains(rep.Problems[0].Msg, "line 5 is not a record") {
		t.Fatalf("an unnamed damaged line: %+v", rep.Problems)
	}
}

// A checkpoint cut short by a crash is not tampering either: verify
// leaves it out, and the next checkpoint removes it. A damaged line
// between whole ones is still reported.
func TestTornCheckpointIsNotTampering(t *testing.T) {
	dir := t.TempDir()
	k := newKeys(t)
	l := build(t, dir, k, 4, 2, 4)
	path := filepath.Join(dir, CheckpointFile)
	whole, _ := os.ReadFile(path)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"note":"persona-usage ` + testID + `\n4\n`)
	f.Close()
	rep, err := Verify(dir, testID, k.verifier, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Checkpoints != 2 {
		t.Fatalf("torn checkpoint: %+v", rep)
	}
	if _, err := l.Checkpoint(testID, k.signer); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.HasPrefix(after, whole) || bytes.Count(after, []byte("\n")) != bytes.Count(whole, []byte("\n"))+1 {
		t.Errorf("the torn line was not replaced by the next checkpoint:\n%s", after)
	}
	if rep, _ = Verify(dir, testID, k.verifier, nil); !rep.OK() || rep.Checkpoints != 3 {
		t.Fatalf("after the next checkpoint: %+v", rep)
	}
	// A line damaged in the middle is named.
	ls := strings.Split(strings.TrimSuffix(string(after), "\n"), "\n")
	ls[1] = ls[1][:len(ls[1])/2]
	write(t, dir, CheckpointFile, ls)
	if rep, _ = Verify(dir, testID, k.verifier, nil); rep.OK() || !strings.Contains(rep.Problems[0].Msg, "checkpoint 2 is damaged") {
		t.Fatalf("a damaged checkpoint: %+v", rep.Problems)
	}
}

func TestTimesNeverDecrease(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(dir, Context{})
	base := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return base }
	l.Append(KindOpen, nil)
	l.now = func() time.Time { return base.Add(-time.Hour) }
	if err := l.CheckClock(base.Add(-time.Hour)); err == nil {
		t.Error("a clock an hour back passed CheckClock")
	}
	r, _ := l.Append(KindOpenRefused, map[string]string{"reason": "clock"})
	if !r.Time.Equal(base) {
		t.Errorf("record time %s went back from %s", r.Time, base)
	}
}

// The crash test: a child process appends and checkpoints without pause
// and is killed at a random moment; the log must verify after each kill.
func TestCrashes(t *testing.T) {
	if os.Getenv("PERSONA_CRASH_CHILD") != "" {
		return
	}
	dir := t.TempDir()
	pub, priv, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyText, _ := priv.MarshalText()
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, keyText, 0o600)
	v, err := Verifier(licence.PublicKeyString(pub))
	if err != nil {
		t.Fatal(err)
	}
	iterations := 200
	if testing.Short() {
		iterations = 20
	}
	for i := 0; i < iterations; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), "PERSONA_CRASH_CHILD="+dir, "PERSONA_CRASH_KEY="+keyFile)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		before := fileSize(filepath.Join(dir, LogFile))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until the child writes, then kill it a random moment later.
		for deadline := time.Now().Add(10 * time.Second); fileSize(filepath.Join(dir, LogFile)) == before && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		d, _ := rand.Int(rand.Reader, big.NewInt(20_000))
		time.Sleep(time.Duration(d.Int64()) * time.Microsecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		rep, err := Verify(dir, testID, v, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() {
			t.Fatalf("after kill %d: %v\n%s", i+1, rep.Problems, out.String())
		}
	}
	rep, _ := Verify(dir, testID, v, nil)
	if rep.Records < int64(iterations) || rep.Checkpoints == 0 {
		t.Errorf("after %d kills the log holds %d records and %d checkpoints: the child hardly wrote", iterations, rep.Records, rep.Checkpoints)
	}
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

// TestCrashChild is the child of TestCrashes: it appends and checkpoints
// until it is killed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("PERSONA_CRASH_CHILD")
	if dir == "" {
		t.Skip("run by TestCrashes")
	}
	keyText, err := os.ReadFile(os.Getenv("PERSONA_CRASH_KEY"))
	if err != nil {
		t.Fatal(err)
	}
	var priv minisign.PrivateKey
	if err := priv.UnmarshalText(keyText); err != nil {
		t.Fatal(err)
	}
	s, err := Signer(priv)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Open(dir, Context{Person: "crash"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if _, err := l.Append(KindQuery, map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if _, err := l.Checkpoint(testID, s); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// An open session writes a heartbeat and a checkpoint every interval,
// even when idle, and a close record and checkpoint at the end.
func TestSessionHeartbeats(t *testing.T) {
	dir := t.TempDir()
	k := newKeys(t)
	l, err := Open(dir, Context{Person: "王芳"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := start(l, testID, k.signer, map[string]string{"package": "x"}, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(110 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	recs, _, _ := Records(dir)
	kinds := map[string]int{}
	for _, r := range recs {
		kinds[r.Kind]++
	}
	rep, err := Verify(dir, testID, k.verifier, nil)
	if err != nil {
		t.Fatal(err)
	}
	if kinds[KindOpen] != 1 || kinds[KindHeartbeat] < 2 || kinds[KindClose] != 1 || !rep.OK() || rep.Checkpoints != kinds[KindHeartbeat]+2 || rep.Latest.Size != int64(len(recs)) {
		t.Fatalf("records %v, report %+v", kinds, rep)
	}
}

// Verify reads a file anyone may have edited: it must never panic, and
// whatever it counts must be consistent.
func FuzzVerify(f *testing.F) {
	dir := f.TempDir()
	k := newKeys(f)
	build(f, dir, k, 3, 3)
	b, _ := os.ReadFile(filepath.Join(dir, LogFile))
	c, _ := os.ReadFile(filepath.Join(dir, CheckpointFile))
	f.Add(b, c)
	f.Add([]byte("{}\n{\"seq\":1}\n"), []byte("{\"note\":\"x\"}\n"))
	f.Fuzz(func(t *testing.T, log, checkpoints []byte) {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, LogFile), log, 0o600)
		os.WriteFile(filepath.Join(d, CheckpointFile), checkpoints, 0o600)
		rep, err := Verify(d, testID, k.verifier, checkpoints)
		if err != nil {
			return
		}
		if rep.Records < 0 || (rep.OK() && rep.Latest != nil && rep.Latest.Size > rep.Records) {
			t.Fatalf("inconsistent report %+v", rep)
		}
	})
}

// Two processes (the workbench and a `persona query`) appending to one
// log keep its sequence and chain whole.
func TestTwoWriters(t *testing.T) {
	dir := t.TempDir()
	k := newKeys(t)
	a, _ := Open(dir, Context{Person: "a"})
	b, _ := Open(dir, Context{Person: "b"})
	for i := 0; i < 5; i++ {
		if _, err := a.Append(KindQuery, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Append(KindQuery, nil); err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			a.Checkpoint(testID, k.signer)
		}
	}
	if _, err := b.Checkpoint(testID, k.signer); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(dir, testID, k.verifier, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Records != 10 || rep.Latest.Size != 10 {
		t.Fatalf("two writers: %+v", rep)
	}
}

func TestNothingAfterDeletion(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(dir, Context{})
	l.Append(KindQuery, nil)
	l.Append(KindDeletion, nil)
	if _, err := l.Append(KindCertificate, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(KindOpen, nil); !errors.Is(err, ErrDeleted) {
		t.Fatalf("open after deletion: %v", err)
	}
	other, _ := Open(dir, Context{})
	if _, err := other.Append(KindQuery, nil); !errors.Is(err, ErrDeleted) {
		t.Fatalf("query after deletion, from another process: %v", err)
	}
}
