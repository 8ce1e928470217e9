// Package sealed seals records one line at a time, for files in the
// workspace that hold what the analyst chose (filter values, head counts
// already shown): each line is the standard base64 of a random 24-byte
// nonce and the record sealed with XChaCha20-Poly1305 under a key derived
// from the licence's identity (keys.Derive). Nothing readable reaches the
// disk, no line can be altered or forged, and destroying the identity at
// deletion leaves every such file unreadable.
package sealed

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"

	"golang.org/x/crypto/chacha20poly1305"
)

// Lines seals and opens lines under one key and one purpose.
type Lines struct {
	aead cipher.AEAD
	ad   []byte
}

// New returns Lines for key; ad names the file's kind and version, so a
// line of one kind of file does not open as another's.
func New(key [32]byte, ad string) (*Lines, error) {
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return nil, err
	}
	return &Lines{aead: aead, ad: []byte(ad)}, nil
}

// Seal returns the line (without its newline) holding plain.
func (l *Lines) Seal(plain []byte) string {
	n := l.aead.NonceSize()
	nonce := make([]byte, n, n+len(plain)+l.aead.Overhead())
	rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(l.aead.Seal(nonce, nonce, plain, l.ad))
}

// ErrNotSealed is returned for a line that does not open: damaged, or
// sealed with another key or for another kind of file.
var ErrNotSealed = errors.New("not a line sealed with this licence's key")

// Open returns what a line holds.
func (l *Lines) Open(line []byte) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(string(line))
	n := l.aead.NonceSize()
	if err != nil || len(raw) < n {
		return nil, ErrNotSealed
	}
	plain, err := l.aead.Open(nil, raw[:n], raw[n:], l.ad)
	if err != nil {
		return nil, ErrNotSealed
	}
	return plain, nil
}
