package usagelog

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"aead.dev/minisign"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/persona-workbench/persona/engine/licence"
)

// Checkpoint is a signed statement of the log's size and root hash.
type Checkpoint struct {
	Licence string
	Size    int64
	Root    tlog.Hash
	Time    time.Time
	Note    []byte // the signed note, as written and sent to the licensor
}

// origin is a checkpoint's first line.
func origin(id string) string { return "persona-usage " + id }

// body is a checkpoint's text before its signature.
func body(id string, size int64, root tlog.Hash, t time.Time) string {
	return fmt.Sprintf("%s\n%d\n%s\ntime %s\n", origin(id), size, base64.StdEncoding.EncodeToString(root[:]), t.UTC().Format(time.RFC3339))
}

// signerName names a person's key in notes: minisign key ids are what the
// licensor already knows from the enrolment.
func signerName(keyID uint64) string { return "persona-" + licence.KeyID(keyID) }

// Signer signs checkpoints with a person's minisign (Ed25519) key.
func Signer(k minisign.PrivateKey) (note.Signer, error) {
	text, err := k.MarshalText()
	if err != nil {
		return nil, err
	}
	// The unencrypted minisign secret key holds the key id and the
	// Ed25519 private key at bytes 54-126; minisign's API signs only in
	// its own format, so the note signer is built from the raw key.
	_, b64, _ := bytes.Cut(text, []byte("\n"))
	raw, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(b64)))
	if err != nil || len(raw) != 158 {
		return nil, errors.New("usage log: cannot read the signing key")
	}
	priv := ed25519.PrivateKey(raw[62:126])
	name := signerName(k.ID())
	vkey, err := note.NewEd25519VerifierKey(name, priv.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	hash := strings.Split(vkey, "+")[1]
	skey := "PRIVATE+KEY+" + name + "+" + hash + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, priv.Seed()...))
	return note.NewSigner(skey)
}

// Verifier checks checkpoints against a person's minisign public key
// (from their enrolment).
func Verifier(publicKey string) (note.Verifier, error) {
	k, err := licence.ParsePublicKey(publicKey)
	if err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(licence.PublicKeyString(k))
	if err != nil || len(raw) != 42 {
		return nil, errors.New("usage log: cannot read the public key")
	}
	vkey, err := note.NewEd25519VerifierKey(signerName(binary.LittleEndian.Uint64(raw[2:10])), ed25519.PublicKey(raw[10:42]))
	if err != nil {
		return nil, err
	}
	return note.NewVerifier(vkey)
}

// Checkpoint signs the log's current size and root hash and appends the
// checkpoint to the licence's checkpoint file (synced).
func (l *Log) Checkpoint(id string, s note.Signer) (*Checkpoint, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var c *Checkpoint
	// Hold the log's lock, so the checkpoint covers every record written
	// so far, by any process.
	err := l.locked(LogFile, func(f *os.File) error {
		if err := l.catchUp(f); err != nil {
			return err
		}
		root, err := tlog.TreeHash(l.n, hashReader(l.hashes))
		if err != nil {
			return err
		}
		now := l.now().UTC()
		if now.Before(l.lastT) {
			now = l.lastT
		}
		signed, err := note.Sign(&note.Note{Text: body(id, l.n, root, now)}, s)
		if err != nil {
			return err
		}
		line, _ := json.Marshal(struct {
			Note string `json:"note"`
		}{string(signed)})
		if err := l.locked(CheckpointFile, func(cf *os.File) error {
			if err := dropTornTail(cf); err != nil {
				return err
			}
			_, err := writeLine(cf, line)
			return err
		}); err != nil {
			return err
		}
		c = &Checkpoint{Licence: id, Size: l.n, Root: root, Time: now, Note: signed}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("usage log checkpoint: %w", err)
	}
	return c, nil
}

// ParseCheckpoint reads a signed checkpoint and checks its signature.
func ParseCheckpoint(msg []byte, v note.Verifier) (*Checkpoint, error) {
	if v == nil {
		return nil, errors.New("no key to check the checkpoint with")
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		var unknown *note.UnknownVerifierError
		var unverified *note.UnverifiedNoteError
		switch {
		case errors.As(err, &unknown):
			return nil, fmt.Errorf("checkpoint is signed by %s, not by the enrolled key %s", unknown.Name, v.Name())
		case errors.As(err, &unverified) && len(unverified.Note.UnverifiedSigs) > 0:
			return nil, fmt.Errorf("checkpoint is signed by %s, not by the enrolled key %s", unverified.Note.UnverifiedSigs[0].Name, v.Name())
		}
		return nil, fmt.Errorf("checkpoint signature does not verify: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 5 || lines[4] != "" || !strings.HasPrefix(lines[0], "persona-usage ") || !strings.HasPrefix(lines[3], "time ") {
		return nil, errors.New("checkpoint is not a persona usage checkpoint")
	}
	c := &Checkpoint{Licence: strings.TrimPrefix(lines[0], "persona-usage "), Note: msg}
	if c.Size, err = strconv.ParseInt(lines[1], 10, 64); err != nil || c.Size < 0 {
		return nil, errors.New("checkpoint size is not a number")
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return nil, errors.New("checkpoint root is not a hash")
	}
	copy(c.Root[:], root)
	if c.Time, err = time.Parse(time.RFC3339, strings.TrimPrefix(lines[3], "time ")); err != nil {
		return nil, errors.New("checkpoint time is not a time")
	}
	return c, nil
}

// readCheckpoints returns the signed notes in the checkpoint file, in
// order (nil for a line that is not one), and whether it ends in a torn
// line: a checkpoint cut short by a crash while it was written, which is
// left out (the next checkpoint removes it).
func readCheckpoints(dir string) ([][]byte, bool, error) {
	data, err := os.ReadFile(filepath.Join(dir, CheckpointFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	lines := bytes.Split(data, []byte("\n"))
	last := lines[len(lines)-1] // "" when the file ends in a newline
	lines = lines[:len(lines)-1]
	var notes [][]byte
	parse := func(line []byte) []byte {
		var v struct {
			Note string `json:"note"`
		}
		if err := json.Unmarshal(line, &v); err != nil {
			return nil // verify reports where
		}
		return []byte(v.Note)
	}
	for _, line := range lines {
		notes = append(notes, parse(line))
	}
	torn := false
	if len(last) > 0 {
		if n := parse(last); n != nil {
			notes = append(notes, n) // whole, all but its newline
		} else {
			torn = true
		}
	}
	return notes, torn, nil
}

// dropTornTail removes from the locked checkpoint file a last line cut
// short by a crash, so that the next checkpoint does not leave it
// between two whole ones.
func dropTornTail(f *os.File) error {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	const window = 64 << 10 // far longer than a checkpoint's line
	off := max(0, st.Size()-window)
	tail := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(tail, off); err != nil {
		return err
	}
	if tail[len(tail)-1] == '\n' {
		return nil
	}
	i := bytes.LastIndexByte(tail, '\n')
	if i < 0 && off > 0 {
		return nil // not a checkpoint's line: left for verify to report
	}
	return f.Truncate(off + int64(i) + 1)
}

// Latest returns the latest checkpoint's signed note.
func Latest(dir string) ([]byte, error) {
	notes, _, err := readCheckpoints(dir)
	if err != nil {
		return nil, err
	}
	for i := len(notes) - 1; i >= 0; i-- {
		if notes[i] != nil {
			return notes[i], nil
		}
	}
	return nil, errors.New("the usage log has no checkpoint yet: open the package once")
}
