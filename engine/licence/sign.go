package licence

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"aead.dev/minisign"
)

// Signature errors, checked with errors.Is.
var (
	ErrBadSignature    = errors.New("licence signature does not verify")
	ErrLegacySignature = errors.New("licence signature is legacy (not prehashed)")
	ErrUnknownKey      = errors.New("licence is signed by a key that is not trusted")
)

// TrustedComment is the trusted comment a licence's signature must carry.
func TrustedComment(id, payloadSHA256 string) string {
	return fmt.Sprintf("%s licence_id=%s payload_sha256=%s", Format, id, payloadSHA256)
}

// Sign encodes the licence and signs it, prehashed, with the licensor's
// key. It returns licence.json and licence.json.minisig.
func Sign(l *Licence, key minisign.PrivateKey) (data, sig []byte, err error) {
	if err := l.Validate(); err != nil {
		return nil, nil, err
	}
	data, err = l.Marshal()
	if err != nil {
		return nil, nil, err
	}
	r := minisign.NewReader(bytes.NewReader(data))
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, nil, err
	}
	sig = r.SignWithComments(key, TrustedComment(l.ID, l.Payload.SHA256),
		"persona licence "+l.ID+" signed by "+KeyID(key.ID()))
	return data, sig, nil
}

// SignatureKeyID returns the id of the key that made sig.
func SignatureKeyID(sig []byte) (uint64, error) {
	var s minisign.Signature
	if err := s.UnmarshalText(sig); err != nil {
		return 0, fmt.Errorf("%w: licence.json.minisig is not a minisign signature", ErrBadSignature)
	}
	return s.KeyID, nil
}

// Verify checks licence.json against its signature and a set of trusted
// licensor keys, then parses it. The signature must be prehashed, by one of
// the trusted keys, and its trusted comment must match the licence. It
// returns the licence and the key that signed it.
func Verify(data, sig []byte, trusted []minisign.PublicKey) (*Licence, minisign.PublicKey, error) {
	var s minisign.Signature
	if err := s.UnmarshalText(sig); err != nil {
		return nil, minisign.PublicKey{}, fmt.Errorf("%w: licence.json.minisig is not a minisign signature", ErrBadSignature)
	}
	if s.Algorithm != minisign.HashEdDSA {
		return nil, minisign.PublicKey{}, fmt.Errorf("%w: re-sign it with a current minisign (prehashed, the default)", ErrLegacySignature)
	}
	var key minisign.PublicKey
	found := false
	for _, k := range trusted {
		if k.ID() == s.KeyID {
			key, found = k, true
			break
		}
	}
	if !found {
		return nil, key, fmt.Errorf("%w: key %s", ErrUnknownKey, KeyID(s.KeyID))
	}
	r := minisign.NewReader(bytes.NewReader(data))
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, key, err
	}
	if !r.Verify(key, sig) {
		return nil, key, fmt.Errorf("%w: licence.json or its signature was altered", ErrBadSignature)
	}
	l, err := Parse(data)
	if err != nil {
		return nil, key, err
	}
	if want := TrustedComment(l.ID, l.Payload.SHA256); s.TrustedComment != want {
		return nil, key, fmt.Errorf("%w: its trusted comment %q does not match the licence", ErrBadSignature, s.TrustedComment)
	}
	return l, key, nil
}
