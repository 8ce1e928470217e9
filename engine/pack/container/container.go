// Package container reads and writes the outer layer of a persona
// package: a tar of licence.json, licence.json.minisig and data.age, in
// that order and nothing else (docs/FORMAT.md). It decrypts and verifies
// nothing; it only finds the parts, strictly, without trusting sizes or
// names. It is its own package so that its fuzz target runs without the
// database the rest of pack links.
package container

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/persona-workbench/persona/engine/licence"
)

// Entry names of a package, in order.
const (
	LicenceEntry   = "licence.json"
	SignatureEntry = "licence.json.minisig"
	PayloadEntry   = "data.age"
	maxSignature   = 4 << 10
	// maxTrailer bounds the zero blocks after the last entry (tar pads to
	// its record size, 10 KiB for GNU tar).
	maxTrailer = 64 << 10
)

// ErrContainer is wrapped by every error about a package's shape.
var ErrContainer = errors.New("not a persona package")

// Container is a package's outer layer, read without decrypting anything.
type Container struct {
	Licence   []byte // licence.json
	Signature []byte // licence.json.minisig
	// The payload is the byte range [PayloadOffset, PayloadOffset+PayloadSize)
	// of the package file.
	PayloadOffset int64
	PayloadSize   int64
}

func containerErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrContainer, fmt.Sprintf(format, a...))
}

// Read parses the tar container from r, a package of size bytes:
// exactly licence.json, licence.json.minisig and data.age, regular files,
// in that order, and nothing after them.
func Read(r io.ReaderAt, size int64) (*Container, error) {
	sr := io.NewSectionReader(r, 0, size)
	tr := tar.NewReader(sr)
	next := func(name string, limit int64) (*tar.Header, error) {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, containerErr("it ends before %s (truncated?)", name)
		}
		if err != nil {
			return nil, containerErr("reading its tar headers: %v (truncated or damaged?)", err)
		}
		if h.Name != name {
			return nil, containerErr("found entry %q where %s belongs", h.Name, name)
		}
		if h.Typeflag != tar.TypeReg {
			return nil, containerErr("%s is not a regular file", name)
		}
		if h.Size <= 0 || (limit > 0 && h.Size > limit) {
			return nil, containerErr("%s has size %d (allowed: 1 to %d bytes)", name, h.Size, limit)
		}
		return h, nil
	}
	read := func(name string, limit int64) ([]byte, error) {
		h, err := next(name, limit)
		if err != nil {
			return nil, err
		}
		b := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, b); err != nil {
			return nil, containerErr("%s is cut short (truncated?)", name)
		}
		return b, nil
	}
	c := &Container{}
	var err error
	if c.Licence, err = read(LicenceEntry, licence.MaxSize); err != nil {
		return nil, err
	}
	if c.Signature, err = read(SignatureEntry, maxSignature); err != nil {
		return nil, err
	}
	h, err := next(PayloadEntry, 0)
	if err != nil {
		return nil, err
	}
	pos, err := sr.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	c.PayloadOffset, c.PayloadSize = pos, h.Size
	if pos+h.Size > size {
		return nil, containerErr("%s is cut short: %d of %d bytes (truncated?)", PayloadEntry, size-pos, h.Size)
	}
	if _, err := tr.Next(); err != io.EOF {
		if err == nil {
			return nil, containerErr("it holds entries after %s", PayloadEntry)
		}
		return nil, containerErr("its end is damaged: %v", err)
	}
	// archive/tar accepts an archive without its end blocks; a package
	// must have them, and nothing but zeros after its payload.
	end := c.PayloadOffset + (c.PayloadSize+511)/512*512
	if size-end < 1024 || size-end > maxTrailer {
		return nil, containerErr("it does not end as a tar archive does (truncated?)")
	}
	tail := make([]byte, size-end)
	if _, err := r.ReadAt(tail, end); err != nil {
		return nil, containerErr("reading its end: %v", err)
	}
	for _, b := range tail {
		if b != 0 {
			return nil, containerErr("it holds data after its last entry")
		}
	}
	return c, nil
}

// Write writes the tar container: licence, signature, then
// payloadSize bytes of payload. Headers carry no owner and the given
// modification time, so a package says nothing about the machine that
// made it.
func Write(w io.Writer, lic, sig []byte, payload io.Reader, payloadSize int64, mtime time.Time) error {
	tw := tar.NewWriter(w)
	hdr := func(name string, size int64) *tar.Header {
		return &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: mtime.UTC().Truncate(time.Second), Format: tar.FormatUSTAR}
	}
	for _, e := range []struct {
		name string
		data []byte
	}{{LicenceEntry, lic}, {SignatureEntry, sig}} {
		if err := tw.WriteHeader(hdr(e.name, int64(len(e.data)))); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(hdr(PayloadEntry, payloadSize)); err != nil {
		return err
	}
	if n, err := io.Copy(tw, payload); err != nil {
		return err
	} else if n != payloadSize {
		return fmt.Errorf("payload is %d bytes, expected %d", n, payloadSize)
	}
	return tw.Close()
}
