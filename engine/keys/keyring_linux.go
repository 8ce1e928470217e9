package keys

import (
	"errors"
	"fmt"
	"math"
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
// the four keyctl calls needed here.
type systemKeyring struct{}

// keyPerm: everything to processes that possess
// the key (through the session keyring); its owner elsewhere may only see
// that it exists. The bits are <linux/keyctl.h>'s, which x/sys/unix lacks.
const keyPerm = 0x3f000000 | 0x00010000 // KEY_POS_ALL | KEY_USR_VIEW

func (systemKeyring) Put(name string, secret []byte, ttl time.Duration) error {
	secs := math.Ceil(ttl.Seconds())
	if secs < 1 || secs > math.MaxInt32 {
		return fmt.Errorf("keyring: a key must be kept for 1 s to %d s, not %s", math.MaxInt32, ttl)
	}
	ring, err := sessionKeyring()
	if err != nil {
		return err
	}
	id, err := unix.AddKey("user", name, secret, ring)
	if err != nil {
		return keyringErr(err)
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_SETPERM, id, keyPerm, 0, 0); err == nil {
		_, err = unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, id, int(secs), 0, 0)
		if err == nil {
			return nil
		}
	}
	// Never leave a key that outlives its timeout or is readable by more.
	drop(id)
	return fmt.Errorf("keyring: %w", err)
}

func (systemKeyring) Get(name string) ([]byte, error) {
	id, err := search(name)
	if err != nil {
		return nil, keyringErr(err)
	}
	buf := make([]byte, 1024)
	for {
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
		if err != nil {
			return nil, keyringErr(err)
		}
		if n <= len(buf) {
			return buf[:n], nil
		}
		clear(buf)
		buf = make([]byte, n)
	}
}

func (systemKeyring) Drop(name string) error {
	id, err := search(name)
	if err != nil {
		if err = keyringErr(err); errors.Is(err, ErrNotRemembered) {
			return nil
		}
		return err
	}
	return drop(id)
}

// sessionKeyring is the id of the session keyring: the login session's,
// or, for a process started without one (no pam_keyinit: a container, a
// bare ssh or tmux server), the user's session keyring, which the kernel
// then makes its session keyring. Adding a key to the special
// KEY_SPEC_SESSION_KEYRING instead would, in that case, create a new
// session keyring that dies with the process, and the key with it.
func sessionKeyring() (int, error) {
	id, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
	if err != nil {
		return 0, keyringErr(err)
	}
	return id, nil
}

func search(name string) (int, error) {
	ring, err := sessionKeyring()
	if err != nil {
		return 0, err
	}
	id, err := unix.KeyctlSearch(ring, "user", name, 0)
	if err != nil {
		return 0, keyringErr(err)
	}
	return id, nil
}

// drop destroys a key: invalidated (gone at once), else revoked.
func drop(id int) error {
	if _, err := unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0); err != nil {
		if _, err := unix.KeyctlInt(unix.KEYCTL_REVOKE, id, 0, 0, 0); err != nil {
			return fmt.Errorf("keyring: %w", err)
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
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return fmt.Errorf("%w (%v)", ErrNoKeyring, err)
	}
	return fmt.Errorf("keyring: %w", err)
}
