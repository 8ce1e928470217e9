package keys

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// systemKeyring keeps keys as "user" keys in the session keyring (the
// login session's, or the user's session keyring when the process has
// none), readable only by processes that possess that keyring, and given
// a timeout on which the kernel destroys them. The kernel never writes
// key payloads to disk or swap.
//
// Hand-written on golang.org/x/sys/unix: no maintained Go library wraps
// the keyctl calls needed here.
type systemKeyring struct{}

// keyPerm: everything to processes that possess the key (through the
// session keyring); its owner elsewhere may only see that it exists. The
// bits are <linux/keyctl.h>'s, which x/sys/unix lacks.
const keyPerm = 0x3f000000 | 0x00010000 // KEY_POS_ALL | KEY_USR_VIEW

// Put makes the key in the process's own keyring, which dies with the
// process, gives it its permissions and timeout there, and only then
// links it into the session keyring: a process killed half-way never
// leaves a key without a timeout. (Writing the secret into a key made
// beforehand would not do: updating a user key's payload clears its
// timeout.)
func (systemKeyring) Put(name string, secret []byte, ttl time.Duration) error {
	secs := math.Ceil(ttl.Seconds())
	if secs < 1 || secs > math.MaxInt32 {
		return fmt.Errorf("keyring: a key must be kept for 1 s to %d s, not %s", math.MaxInt32, ttl)
	}
	ring, err := sessionKeyring()
	if err != nil {
		return err
	}
	if _, err := dropPrefix(ring, name); err != nil {
		return err
	}
	id, err := unix.AddKey("user", name, secret, unix.KEY_SPEC_PROCESS_KEYRING)
	if err != nil {
		return keyringErr(err)
	}
	defer unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_PROCESS_KEYRING, 0, 0)
	if err := unix.KeyctlSetperm(id, keyPerm); err != nil {
		return errors.Join(keyringErr(err), drop(id))
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, id, int(secs), 0, 0); err != nil {
		return errors.Join(keyringErr(err), drop(id))
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_LINK, id, ring, 0, 0); err != nil {
		return errors.Join(keyringErr(err), drop(id))
	}
	return nil
}

func (systemKeyring) Get(name string) ([]byte, error) {
	ring, err := sessionKeyring()
	if err != nil {
		return nil, err
	}
	id, err := unix.KeyctlSearch(ring, "user", name, 0)
	if err != nil {
		return nil, keyringErr(err)
	}
	buf := make([]byte, 1024)
	for {
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
		if err != nil {
			clear(buf)
			return nil, keyringErr(err)
		}
		if n <= len(buf) {
			return buf[:n], nil
		}
		clear(buf)
		buf = make([]byte, n)
	}
}

func (systemKeyring) Drop(prefix string) (int, error) {
	ring, err := sessionKeyring()
	if err != nil {
		return 0, err
	}
	return dropPrefix(ring, prefix)
}

func (systemKeyring) Scope() string {
	ring, err := sessionKeyring()
	if err != nil {
		return ""
	}
	if user, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_SESSION_KEYRING, false); err == nil && user == ring {
		return ScopeUser
	}
	return ScopeSession
}

// sessionKeyring is the id of the session keyring: the login session's,
// or, for a process started without one (no pam_keyinit: a container, a
// bare ssh or tmux server), the user's session keyring, which the kernel
// then makes its session keyring. Adding a key to the special
// KEY_SPEC_SESSION_KEYRING instead would, in that case, create a new
// session keyring that dies with the process, and the key with it.
//
// A session keyring that belongs to another user (after su, where no
// pam_keyinit gave the new user one of their own) is refused: the other
// user's processes possess it.
func sessionKeyring() (int, error) {
	ring, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
	if err != nil {
		return 0, keyringErr(err)
	}
	uid, _, err := describe(ring)
	if err != nil {
		return 0, keyringErr(err)
	}
	if uid != os.Geteuid() {
		return 0, fmt.Errorf("%w (this login's session keyring belongs to user %d)", ErrNoKeyring, uid)
	}
	return ring, nil
}

// describe reads a key's owner and description.
func describe(id int) (uid int, desc string, err error) {
	s, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
	if err != nil {
		return 0, "", err
	}
	// "type;uid;gid;perm;description"
	f := strings.SplitN(s, ";", 5)
	if len(f) != 5 {
		return 0, "", fmt.Errorf("keyring: cannot read %q", s)
	}
	if uid, err = strconv.Atoi(f[1]); err != nil {
		return 0, "", fmt.Errorf("keyring: cannot read %q", s)
	}
	if f[0] != "user" {
		return uid, "", nil
	}
	return uid, f[4], nil
}

// dropPrefix destroys every user key in ring whose description starts
// with prefix.
func dropPrefix(ring int, prefix string) (int, error) {
	var ids []byte
	for size := 256; ; {
		buf := make([]byte, size)
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, ring, buf, 0)
		if err != nil {
			return 0, keyringErr(err)
		}
		if n <= len(buf) {
			ids = buf[:n]
			break
		}
		size = n
	}
	dropped := 0
	for len(ids) >= 4 {
		id := int(int32(binary.NativeEndian.Uint32(ids)))
		ids = ids[4:]
		if _, desc, err := describe(id); err != nil || !strings.HasPrefix(desc, prefix) {
			continue // gone meanwhile, not ours to see, or another key
		}
		if err := drop(id); err != nil {
			return dropped, err
		}
		dropped++
	}
	return dropped, nil
}

// drop destroys a key: invalidated (gone at once), else revoked.
func drop(id int) error {
	if _, err := unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0); err != nil {
		if _, err := unix.KeyctlInt(unix.KEYCTL_REVOKE, id, 0, 0, 0); err != nil {
			return keyringErr(err)
		}
	}
	return nil
}

// keyringErr sorts keyctl's errors: no such key (or an expired, revoked
// one) is ErrNotRemembered; no keyring calls at all (an old kernel, or a
// sandbox that forbids them) is ErrNoKeyring.
func keyringErr(err error) error {
	switch {
	case errors.Is(err, unix.ENOKEY), errors.Is(err, unix.EKEYEXPIRED), errors.Is(err, unix.EKEYREVOKED):
		return ErrNotRemembered
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM):
		return fmt.Errorf("%w (%v)", ErrNoKeyring, err)
	}
	return fmt.Errorf("keyring: %w", err)
}
