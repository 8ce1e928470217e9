package keys

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// systemOrSkip returns the kernel keyring, or skips where the system
// forbids keyring calls (some container sandboxes do).
func systemOrSkip(t *testing.T, name string) Keyring {
	t.Helper()
	kr := SystemKeyring()
	err := kr.Put(name, []byte("probe"), time.Minute)
	if errors.Is(err, ErrNoKeyring) {
		t.Skipf("no kernel keyring here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kr.Drop(name) })
	if s := kr.Scope(); s != ScopeSession && s != ScopeUser {
		t.Errorf("Scope: %q", s)
	}
	return kr
}

func testKeyName(t *testing.T) string {
	return fmt.Sprintf("persona-test:%s:%d:%d", t.Name(), os.Getpid(), time.Now().UnixNano())
}

func TestSystemKeyring(t *testing.T) {
	name := testKeyName(t)
	kr := systemOrSkip(t, name)
	secret := bytes.Repeat([]byte("AGE-SECRET-KEY-1…"), 100) // more than one read buffer
	if err := kr.Put(name, secret, time.Hour); err != nil {
		t.Fatal(err)
	}
	got, err := kr.Get(name)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Get: %d bytes, %v", len(got), err)
	}

	// Only possessors may read it; the timeout is set; the process's own
	// keyring, where it was made, no longer holds it.
	ring, err := sessionKeyring()
	if err != nil {
		t.Fatal(err)
	}
	id, err := unix.KeyctlSearch(ring, "user", name, 0)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
	if err != nil {
		t.Fatal(err)
	}
	// "type;uid;gid;perm;description", perm in hex.
	f := strings.SplitN(desc, ";", 5)
	if len(f) != 5 || f[0] != "user" || f[4] != name {
		t.Fatalf("describe: %q", desc)
	}
	if p, err := strconv.ParseUint(f[3], 16, 32); err != nil || p != keyPerm {
		t.Errorf("permissions %s, want %08x (possessor all, owner view only)", f[3], keyPerm)
	}
	if !keyHasTimeout(t, id) {
		t.Error("the key has no timeout")
	}
	if _, err := unix.KeyctlSearch(unix.KEY_SPEC_PROCESS_KEYRING, "user", name, 0); err == nil {
		t.Error("the process keyring still holds the key")
	}

	// Put replaces.
	if err := kr.Put(name, []byte("second"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, err := kr.Get(name); err != nil || string(got) != "second" {
		t.Errorf("after a second Put: %q, %v", got, err)
	}

	// Drop takes every key named with the prefix, and nothing else.
	if err := kr.Put(name+":b", []byte("b"), time.Hour); err != nil {
		t.Fatal(err)
	}
	other := testKeyName(t)
	if err := kr.Put(other, []byte("c"), time.Hour); err != nil {
		t.Fatal(err)
	}
	defer kr.Drop(other)
	if n, err := kr.Drop(name); err != nil || n != 2 {
		t.Fatalf("Drop: %d, %v; want 2", n, err)
	}
	for _, n := range []string{name, name + ":b"} {
		if _, err := kr.Get(n); !errors.Is(err, ErrNotRemembered) {
			t.Errorf("Get %s after Drop: %v, want ErrNotRemembered", n, err)
		}
	}
	if got, err := kr.Get(other); err != nil || string(got) != "c" {
		t.Errorf("Drop took another key: %q, %v", got, err)
	}
	if n, err := kr.Drop(name); err != nil || n != 0 {
		t.Errorf("Drop of nothing: %d, %v", n, err)
	}
	if _, err := kr.Get(testKeyName(t)); !errors.Is(err, ErrNotRemembered) {
		t.Errorf("Get of a name never kept: %v, want ErrNotRemembered", err)
	}
	if err := kr.Put(name, secret, 0); err == nil {
		t.Error("Put with no time accepted")
	}
}

// keyHasTimeout reads the key's expiry from /proc/keys (its 4th column
// is "perm" for none).
func keyHasTimeout(t *testing.T, id int) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/keys")
	if err != nil {
		t.Skipf("no /proc/keys: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 {
			if n, err := strconv.ParseUint(f[0], 16, 32); err == nil && int(n) == id {
				return f[3] != "perm"
			}
		}
	}
	t.Fatalf("key %x is not in /proc/keys", id)
	return false
}

// The kernel destroys the key when its time is up.
func TestSystemKeyringExpires(t *testing.T) {
	name := testKeyName(t)
	kr := systemOrSkip(t, name)
	if err := kr.Put(name, []byte("secret"), time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := kr.Get(name)
		if errors.Is(err, ErrNotRemembered) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the key outlived its 1 s timeout by 10 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
