//go:build !linux

package keys

import "time"

// systemKeyring: only Linux's kernel keyring is supported.
type systemKeyring struct{}

func (systemKeyring) Put(string, []byte, time.Duration) error { return ErrNoKeyring }
func (systemKeyring) Get(string) ([]byte, error)              { return nil, ErrNoKeyring }
func (systemKeyring) Drop(string) (int, error)                { return 0, ErrNoKeyring }
func (systemKeyring) Scope() string                           { return "" }
