package pack

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"aead.dev/minisign"
	"filippo.io/age"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/persona-workbench/persona/engine/ckm"
	"github.com/persona-workbench/persona/engine/dataset"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/licence"
	"github.com/persona-workbench/persona/engine/pack/container"
	"github.com/persona-workbench/persona/engine/store"
)

// ErrContainer is wrapped by every error about a package's shape.
var ErrContainer = container.ErrContainer

// Errors checked with errors.Is.
var (
	ErrPayloadHash  = errors.New("payload does not match the licence")
	ErrNotRecipient = errors.New("identity is not a recipient of this package")
	ErrPayload      = errors.New("payload is damaged")
)

// MaxPart caps one decrypted Parquet part, which is held in memory while
// it loads.
const MaxPart = 8 << 30

// pathError is an error about the package's path, with a cause to test.
type pathError struct {
	msg string
	err error
}

func (e *pathError) Error() string { return e.msg }
func (e *pathError) Unwrap() error { return e.err }

// Package is a package whose licence, signature and payload hash have been
// checked; nothing has been decrypted yet.
type Package struct {
	Path      string
	Container *container.Container
	Licence   *licence.Licence
	SignedBy  minisign.PublicKey
}

// readFile reads the container of the package at path.
func readFile(path string) (*os.File, *container.Container, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, &pathError{path + " does not exist", err}
		}
		return nil, nil, err
	}
	if st.IsDir() {
		return nil, nil, &pathError{path + " is a folder, not a package", ErrContainer}
	}
	if st.Size() == 0 {
		return nil, nil, fmt.Errorf("%w: %s is empty", ErrContainer, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	c, err := container.Read(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, c, nil
}

// Verify checks a package without decrypting it: its shape, the licence's
// signature by one of the trusted keys, the payload against the licence's
// hash, and the licence's period against now.
func Verify(ctx context.Context, path string, trusted []minisign.PublicKey, now time.Time, progress Progress) (*Package, error) {
	f, c, err := readFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	l, key, err := licence.Verify(c.Licence, c.Signature, trusted)
	if err != nil {
		return nil, err
	}
	if err := checkPayload(ctx, f, c, l, progress); err != nil {
		return nil, err
	}
	if err := l.CheckClock(now); err != nil {
		return nil, err
	}
	return &Package{Path: path, Container: c, Licence: l, SignedBy: key}, nil
}

// checkPayload compares data.age with the licence's size and hash.
func checkPayload(ctx context.Context, f io.ReaderAt, c *container.Container, l *licence.Licence, progress Progress) error {
	if c.PayloadSize != l.Payload.Size {
		return fmt.Errorf("%w: data.age is %d bytes, the licence says %d", ErrPayloadHash, c.PayloadSize, l.Payload.Size)
	}
	h := sha256.New()
	pr := &progressReader{r: io.NewSectionReader(f, c.PayloadOffset, c.PayloadSize), ctx: ctx, step: func(n int64) {
		progress.report("verify", n, c.PayloadSize)
	}}
	if _, err := io.Copy(h, pr); err != nil {
		return fmt.Errorf("verify payload: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != l.Payload.SHA256 {
		return fmt.Errorf("%w: data.age was altered or swapped (sha256 %s…, the licence says %s…)", ErrPayloadHash, got[:12], l.Payload.SHA256[:12])
	}
	return nil
}

// Peek reads the licence a package carries without checking its
// signature, to tell which licence it claims to be (the usage log records
// failed opens under it).
func Peek(path string) (*licence.Licence, error) {
	f, c, err := readFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return licence.Parse(c.Licence)
}

// Info is what Inspect finds out without decrypting.
type Info struct {
	Licence *licence.Licence
	KeyID   string // the key that signed the licence
	// Trusted: the signature verifies against a trusted key. Without a
	// trusted key, the licence is shown as found, unverified.
	Trusted      bool
	SignatureErr error // why the signature does not hold, if it does not
	PayloadErr   error // why the payload does not match, if it does not
	ClockErr     error // why the licence cannot be used now, if it cannot
}

// Inspect reads a package's licence and checks what it can without
// decrypting. It fails only when the package cannot be read at all.
func Inspect(ctx context.Context, path string, trusted []minisign.PublicKey, now time.Time) (*Info, error) {
	f, c, err := readFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info := &Info{}
	if id, err := licence.SignatureKeyID(c.Signature); err == nil {
		info.KeyID = licence.KeyID(id)
	}
	l, _, err := licence.Verify(c.Licence, c.Signature, trusted)
	if err != nil {
		info.SignatureErr = err
		if l, err = licence.Parse(c.Licence); err != nil {
			if errors.Is(info.SignatureErr, licence.ErrBadSignature) {
				return nil, info.SignatureErr // altered: say so rather than how
			}
			return nil, err
		}
	} else {
		info.Trusted = true
	}
	info.Licence = l
	info.PayloadErr = checkPayload(ctx, f, c, l, nil)
	info.ClockErr = l.CheckClock(now)
	return info, nil
}

// OpenOptions configure Open.
type OpenOptions struct {
	Trusted []minisign.PublicKey
	// Identity returns the age identity enrolled for the licence; it is
	// called only once the licence, signature, payload and clock hold.
	Identity func(*licence.Licence) (*age.X25519Identity, error)
	Now      time.Time // zero means time.Now()
	Progress Progress
	Store    store.Options
	// Columns, if set, is called once the identity is unlocked, with the
	// package's inventory, and names the only fields to load (see
	// dataset.Options.Columns); the payload is still decrypted and
	// authenticated whole. Nil loads every field.
	Columns func(*inventory.Inventory) ([]string, error)
}

// Opened is an open package.
type Opened struct {
	*Package
	Person  licence.Person // the person who opened it
	Dataset *dataset.Dataset
}

// Close frees the data.
func (o *Opened) Close() error { return o.Dataset.Close() }

// Open verifies a package, decrypts it in memory and loads it.
func Open(ctx context.Context, path string, opt OpenOptions) (*Opened, error) {
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	p, err := Verify(ctx, path, opt.Trusted, now, opt.Progress)
	if err != nil {
		return nil, err
	}
	l := p.Licence
	if opt.Identity == nil {
		return nil, errors.New("no identity")
	}
	id, err := opt.Identity(l)
	if err != nil {
		return nil, err
	}
	person, ok := l.Person(id.Recipient().String())
	if !ok {
		return nil, fmt.Errorf("%w: your key for licence %s (%s…) is not among its %d recipients", ErrNotRecipient, l.ID, id.Recipient().String()[:16], len(l.Personnel))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c := p.Container
	if err := checkStanzas(io.NewSectionReader(f, c.PayloadOffset, c.PayloadSize), len(l.Personnel)); err != nil {
		return nil, err
	}
	cipher := &progressReader{r: io.NewSectionReader(f, c.PayloadOffset, c.PayloadSize), ctx: ctx, step: func(n int64) {
		opt.Progress.report("decrypt", n, c.PayloadSize)
	}}
	plain, err := age.Decrypt(bufio.NewReaderSize(cipher, 1<<20), id)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPayload, err)
	}
	tr := tar.NewReader(plain)
	inv, err := readInventory(tr, l.Inventory)
	if err != nil {
		return nil, err
	}
	var seed *uint64
	if l.Privacy.Effective() == licence.Perturb {
		if seed, err = readKeys(tr); err != nil {
			return nil, err
		}
	}
	var cols []string
	if opt.Columns != nil {
		if cols, err = opt.Columns(inv); err != nil {
			return nil, err
		}
	}
	ds, err := dataset.OpenWith(ctx, inv, dataset.Options{Store: opt.Store, K: l.Privacy.K, Columns: cols, Perturb: perturbation(l), KeySeed: seed}, func(db *store.DB) error {
		return loadParts(ctx, db, tr, plain, inv, opt.Progress)
	})
	if err != nil {
		return nil, err
	}
	return &Opened{Package: p, Person: person, Dataset: ds}, nil
}

// checkStanzas holds the age header to the licence: one X25519 stanza per
// authorised person and nothing else, so nobody outside the licence can
// decrypt the payload.
func checkStanzas(r io.Reader, people int) error {
	hdr, err := age.ExtractHeader(r)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPayload, err)
	}
	x25519 := 0
	for _, line := range strings.Split(string(hdr), "\n") {
		if rest, ok := strings.CutPrefix(line, "-> "); ok {
			if !strings.HasPrefix(rest, "X25519 ") {
				kind := "other"
				if f := strings.Fields(rest); len(f) > 0 {
					kind = f[0]
				}
				return fmt.Errorf("%w: it is also encrypted to a %q recipient the licence does not name", ErrPayload, kind)
			}
			x25519++
		}
	}
	if x25519 != people {
		return fmt.Errorf("%w: it is encrypted to %d recipients, the licence names %d people", ErrPayload, x25519, people)
	}
	return nil
}

func readInventory(tr *tar.Reader, want *inventory.Inventory) (*inventory.Inventory, error) {
	h, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPayload, err)
	}
	if h.Name != InventoryEntry || h.Typeflag != tar.TypeReg || h.Size > licence.MaxSize {
		return nil, fmt.Errorf("%w: it starts with %q, not %s", ErrPayload, h.Name, InventoryEntry)
	}
	inv, err := inventory.Read(io.LimitReader(tr, licence.MaxSize))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPayload, err)
	}
	a, _ := json.Marshal(inv)
	b, _ := json.Marshal(want)
	if !bytes.Equal(a, b) {
		return nil, fmt.Errorf("%w: its inventory differs from the licence's", ErrPayload)
	}
	return inv, nil
}

// readKeys reads the seed of the records' keys, which a package under
// licence.Perturb carries after its inventory.
func readKeys(tr *tar.Reader) (*uint64, error) {
	h, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPayload, err)
	}
	if h.Name != KeysEntry || h.Typeflag != tar.TypeReg || h.Size > 4096 {
		return nil, fmt.Errorf("%w: the licence's method is %s, but the payload holds no record keys (%q where %s belongs)", ErrPayload, licence.Perturb, oneLine(h.Name), KeysEntry)
	}
	var k keysFile
	dec := json.NewDecoder(io.LimitReader(tr, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&k); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrPayload, KeysEntry, err)
	}
	seed, err := strconv.ParseUint(k.Seed, 16, 64)
	if k.Format != keysFormat || k.Version != 1 || len(k.Seed) != 16 || err != nil {
		return nil, fmt.Errorf("%w: %s is not a %s version 1 seed", ErrPayload, KeysEntry, keysFormat)
	}
	return &seed, nil
}

// perturbation is the licence's perturbation, or nil under
// licence.Suppress.
func perturbation(l *licence.Licence) *ckm.Params {
	if l.Privacy.Effective() != licence.Perturb {
		return nil
	}
	p := l.Privacy.Perturbation()
	return &p
}

// loadParts reads each Parquet part from the decrypted stream into memory
// and loads it, reading the next part while the store loads this one.
// Parts go into anonymous memory files that DuckDB reads with its own
// Parquet reader; where those do not exist, they are decoded in Go.
func loadParts(ctx context.Context, db *store.DB, tr *tar.Reader, plain io.Reader, inv *inventory.Inventory, progress Progress) error {
	type part struct {
		path    string // a memory file, or
		data    []byte // the bytes
		release func()
		err     error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	parts := make(chan part, 1)
	go func() {
		defer close(parts)
		send := func(p part) bool {
			select {
			case parts <- p:
				return p.err == nil
			case <-ctx.Done():
				if p.release != nil {
					p.release()
				}
				return false
			}
		}
		for _, name := range inv.Files {
			size, err := partHeader(tr, name)
			if err != nil {
				send(part{err: err})
				return
			}
			path, release, err := memFile(tr, size)
			p := part{path: path, release: release, err: err}
			if errors.Is(err, errNoMemFile) {
				p.data, p.err = readAll(tr, name, size)
			}
			if !send(p) {
				return
			}
		}
		// The payload holds nothing else, and its last chunk authenticates.
		if _, err := tr.Next(); err != io.EOF {
			send(part{err: fmt.Errorf("%w: it holds more than the inventory lists", ErrPayload)})
			return
		}
		if _, err := io.Copy(io.Discard, plain); err != nil {
			send(part{err: fmt.Errorf("%w: %v", ErrPayload, err)})
		}
	}()
	defer func() { // free what was decrypted but not loaded
		for p := range parts {
			if p.release != nil {
				p.release()
			}
		}
	}()
	i := 0
	for p := range parts {
		if p.err != nil {
			return p.err
		}
		var err, extra error
		if p.path != "" {
			// A load of some columns must still refuse a part that holds
			// a column the inventory does not list, as a whole load does.
			extra = extraColumns(ctx, db, p.path, inv)
		}
		switch {
		case extra != nil:
		case p.path != "" && i == 0:
			err = db.LoadParquet(ctx, inv.Table, []string{p.path}, nil)
		case p.path != "":
			err = db.AppendParquet(ctx, inv.Table, p.path)
		default:
			err = loadPart(ctx, db, inv.Table, p.data, i == 0)
		}
		if p.release != nil {
			p.release()
		}
		if extra != nil {
			return fmt.Errorf("load %s: %w", inv.Files[i], extra)
		}
		if err != nil {
			if u := errors.Unwrap(err); u != nil && p.path != "" {
				err = u // the memory file's path says nothing
			}
			return fmt.Errorf("load %s: %w", inv.Files[i], err)
		}
		i++
		if err := db.Fit(ctx, i, len(inv.Files)); err != nil {
			return err
		}
		progress.report("load", int64(i), int64(len(inv.Files)))
	}
	if i != len(inv.Files) {
		return ctx.Err()
	}
	return nil
}

// extraColumns refuses a Parquet part with a column inv does not list.
func extraColumns(ctx context.Context, db *store.DB, path string, inv *inventory.Inventory) error {
	cols, err := db.FileColumns(ctx, path)
	if err != nil {
		return fmt.Errorf("%w: not Parquet", ErrPayload) // the error names the memory file
	}
	for _, c := range cols {
		if f, ok := inv.Field(c); !ok || f.Role == inventory.Time {
			return fmt.Errorf("%w: it holds a column %q the inventory does not list", ErrPayload, oneLine(c))
		}
	}
	return nil
}

// oneLine keeps a name read from the data to one short line.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return s
}

// errNoMemFile says anonymous memory files are not available here.
var errNoMemFile = errors.New("no memory files")

// partHeader reads the tar header of the next part, which must be name.
func partHeader(tr *tar.Reader, name string) (int64, error) {
	h, err := tr.Next()
	if err != nil {
		return 0, fmt.Errorf("%w: %s is missing (%v)", ErrPayload, name, err)
	}
	if h.Name != name || h.Typeflag != tar.TypeReg {
		return 0, fmt.Errorf("%w: found %q where %s belongs", ErrPayload, h.Name, name)
	}
	if h.Size <= 0 || h.Size > MaxPart {
		return 0, fmt.Errorf("%w: %s has size %d", ErrPayload, name, h.Size)
	}
	return h.Size, nil
}

func readAll(r io.Reader, name string, size int64) ([]byte, error) {
	data := make([]byte, size)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrPayload, name, err)
	}
	return data, nil
}

// loadPart loads one Parquet file held in memory.
func loadPart(ctx context.Context, db *store.DB, table string, data []byte, first bool) error {
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: not Parquet: %v", ErrPayload, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{Parallel: true, BatchSize: 1 << 16}, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return err
	}
	defer rr.Release()
	if first {
		return db.LoadArrow(ctx, table, rr)
	}
	return db.AppendArrow(ctx, table, rr)
}
