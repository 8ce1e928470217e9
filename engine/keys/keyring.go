package keys

import (
	"errors"
	"time"
)

// A Keyring keeps unlocked keys in memory for a while, so that the
// commands of one working session ask for the passphrase, and pay for its
// scrypt, once (see Workspace.Remember). The system's is the kernel
// keyring of the login session (keyring_linux.go); tests use their own.
type Keyring interface {
	// Put keeps secret under name for ttl, replacing what name held.
	Put(name string, secret []byte, ttl time.Duration) error
	// Get returns what name holds, or ErrNotRemembered.
	Get(name string) ([]byte, error)
	// Drop forgets at once every key whose name starts with prefix and
	// says how many there were.
	Drop(prefix string) (int, error)
	// Scope says which processes can use what is kept: ScopeSession,
	// ScopeUser, or "" when nothing can be kept.
	Scope() string
}

// Keyring scopes.
const (
	// ScopeSession: the processes of one login session.
	ScopeSession = "session"
	// ScopeUser: every process of the user, in any login; a login
	// without a session keyring of its own (no pam_keyinit) shares the
	// user's.
	ScopeUser = "user"
)

// Errors of a Keyring, checked with errors.Is.
var (
	ErrNoKeyring     = errors.New("this system keeps no unlocked keys: the kernel keyring is not available")
	ErrNotRemembered = errors.New("no unlocked key kept")
)

// SystemKeyring is the kernel keyring of the login session; where there
// is none, every call fails with ErrNoKeyring.
func SystemKeyring() Keyring { return systemKeyring{} }
