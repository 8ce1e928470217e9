// Package pack makes and opens licensed persona packages (docs/FORMAT.md,
// "Licensed package").
//
// The licensor's side, Pack, checks the data against the contract —
// columns as declared, no direct identifiers, places only at province
// level or above in mainland China, no more people than the licence
// allows — then encrypts the data to the enrolled people's age keys and
// signs a licence that commits to the ciphertext's hash.
//
// The analyst's side, Open, checks everything it can before decrypting
// (container, signature, payload hash, clock, identity), then decrypts
// the payload as a stream and loads each Parquet part from memory into
// the sealed in-memory store. No decrypted byte is written to disk.
package pack

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"aead.dev/minisign"
	"filippo.io/age"

	"github.com/persona-workbench/persona/engine/dataset"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/licence"
	"github.com/persona-workbench/persona/engine/pack/container"
	"github.com/persona-workbench/persona/engine/store"
)

// InventoryEntry is the payload's first entry.
const InventoryEntry = "inventory.json"

// KeysEntry follows the inventory in the payload of a licence whose
// method is licence.Perturb: the seed of the records' keys (see
// dataset.Options.KeySeed). No data file can have its name, which
// starts with a dot.
const KeysEntry = ".record-keys"

// keysFile is KeysEntry's content.
type keysFile struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Seed    string `json:"seed"` // 16 lower-case hex digits
}

const keysFormat = "persona-record-keys"

// Progress hears about long steps: the stage ("check", "encrypt",
// "verify", "decrypt", "load"), and bytes or records done of a total (0 when
// unknown).
type Progress func(stage string, done, total int64)

func (p Progress) report(stage string, done, total int64) {
	if p != nil {
		p(stage, done, total)
	}
}

// Options configure Pack.
type Options struct {
	DataDir    string // inventory.json and the Parquet files it lists
	Terms      *licence.Terms
	Enrolments []*licence.Enrolment
	Key        minisign.PrivateKey // the licensor's signing key
	Out        string              // the package file to create
	Now        time.Time           // the issue time; zero means time.Now()
	Progress   Progress
	Store      store.Options
}

// ContractError lists every way the data breaks the contract.
type ContractError struct {
	Findings []string
}

func (e *ContractError) Error() string {
	if len(e.Findings) == 1 {
		return "data breaks the contract: " + e.Findings[0]
	}
	return fmt.Sprintf("data breaks the contract in %d ways: %s; …", len(e.Findings), e.Findings[0])
}

// Pack checks the data against the terms and writes a signed, encrypted
// package. Nothing is left at opt.Out unless the whole package was
// written.
func Pack(ctx context.Context, opt Options) (lic *licence.Licence, err error) {
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	t := opt.Terms
	if t == nil {
		return nil, errors.New("no terms")
	}
	if err := t.CheckIssue(now); err != nil {
		return nil, err
	}
	people, err := personnel(t, opt.Enrolments)
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(opt.Out); err == nil {
		return nil, fmt.Errorf("%s already exists: remove it or choose another --out", opt.Out)
	}
	inv, err := inventory.Load(filepath.Join(opt.DataDir, "inventory.json"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s holds no inventory.json: pack a folder written by `persona sample` or laid out the same way", opt.DataDir)
		}
		return nil, err
	}
	if len(inv.Files) == 0 {
		return nil, fmt.Errorf("the inventory in %s lists no data files", opt.DataDir)
	}
	if err := checkData(ctx, opt, inv); err != nil {
		return nil, err
	}
	recipients := make([]age.Recipient, len(people))
	for i, p := range people {
		if recipients[i], err = age.ParseX25519Recipient(p.Recipient); err != nil {
			return nil, err
		}
	}

	dir := filepath.Dir(opt.Out)
	payload, err := os.CreateTemp(dir, ".persona-payload-*")
	if err != nil {
		return nil, fmt.Errorf("write package: %w", err)
	}
	defer func() {
		payload.Close()
		os.Remove(payload.Name())
	}()
	var seed *uint64
	if t.LicencePrivacy().Method == licence.Perturb {
		// Every record's key derives from this random seed, which
		// travels only inside the encrypted payload.
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		s := binary.LittleEndian.Uint64(b[:])
		seed = &s
	}
	sum, size, err := encrypt(ctx, payload, opt, inv, recipients, seed)
	if err != nil {
		return nil, err
	}
	lic, err = t.Licence(now, people, inv, licence.Payload{SHA256: sum, Size: size})
	if err != nil {
		return nil, err
	}
	licJSON, sig, err := licence.Sign(lic, opt.Key)
	if err != nil {
		return nil, err
	}
	if _, err := payload.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	out, err := os.CreateTemp(dir, ".persona-package-*")
	if err != nil {
		return nil, fmt.Errorf("write package: %w", err)
	}
	defer func() {
		if out != nil {
			out.Close()
			os.Remove(out.Name())
		}
	}()
	if err := container.Write(out, licJSON, sig, payload, size, lic.Issued); err != nil {
		return nil, fmt.Errorf("write package: %w", err)
	}
	if err := out.Sync(); err != nil {
		return nil, fmt.Errorf("write package: %w", err)
	}
	if err := out.Close(); err != nil {
		return nil, fmt.Errorf("write package: %w", err)
	}
	if err := os.Chmod(out.Name(), 0o644); err != nil {
		return nil, err
	}
	// Link rather than rename, so an --out that appeared meanwhile is not
	// replaced; where the filesystem has no links (FAT on a USB stick),
	// rename after checking again.
	if err := os.Link(out.Name(), opt.Out); err != nil {
		if _, serr := os.Lstat(opt.Out); serr == nil {
			return nil, fmt.Errorf("%s already exists: remove it or choose another --out", opt.Out)
		}
		if err := os.Rename(out.Name(), opt.Out); err != nil {
			return nil, fmt.Errorf("write package: %w", err)
		}
	}
	os.Remove(out.Name())
	out = nil
	return lic, nil
}

// personnel checks the enrolments against the terms.
func personnel(t *licence.Terms, enrolments []*licence.Enrolment) ([]licence.Person, error) {
	if len(enrolments) == 0 {
		return nil, errors.New("no enrolments: pass each authorised person's enrolment with --enrolment")
	}
	if len(enrolments) > t.MaxPersonnel {
		return nil, fmt.Errorf("%d enrolments, but licence %s allows at most %d people (max_personnel)", len(enrolments), t.ID, t.MaxPersonnel)
	}
	seen := map[string]string{}
	people := make([]licence.Person, 0, len(enrolments))
	for _, e := range enrolments {
		if e.ID != t.ID {
			return nil, fmt.Errorf("the enrolment of %s is for licence %s, not %s: ask them to enrol for %s", e.Name, e.ID, t.ID, t.ID)
		}
		for _, k := range []string{e.Recipient, e.PublicKey} {
			if other, dup := seen[k]; dup {
				return nil, fmt.Errorf("the enrolments of %s and %s share a key: each person enrols separately", other, e.Name)
			}
			seen[k] = e.Name
		}
		people = append(people, e.Person)
	}
	return people, nil
}

// encrypt writes data.age to w: a tar of inventory.json and the Parquet
// files, encrypted to the recipients. It returns the ciphertext's SHA-256
// and size.
func encrypt(ctx context.Context, w io.Writer, opt Options, inv *inventory.Inventory, recipients []age.Recipient, seed *uint64) (string, int64, error) {
	var total int64
	sizes := make([]int64, len(inv.Files))
	for i, f := range inv.Files {
		st, err := os.Stat(filepath.Join(opt.DataDir, f))
		if err != nil {
			return "", 0, err
		}
		sizes[i] = st.Size()
		total += st.Size()
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, h)}
	aw, err := age.Encrypt(cw, recipients...)
	if err != nil {
		return "", 0, err
	}
	tw := tar.NewWriter(aw)
	invJSON, err := json.MarshalIndent(inv, "", "  ")
	if err != nil {
		return "", 0, err
	}
	mtime := time.Unix(0, 0)
	if err := writeEntry(tw, InventoryEntry, bytes.NewReader(invJSON), int64(len(invJSON)), mtime); err != nil {
		return "", 0, err
	}
	if seed != nil {
		keys, err := json.Marshal(keysFile{Format: keysFormat, Version: 1, Seed: fmt.Sprintf("%016x", *seed)})
		if err != nil {
			return "", 0, err
		}
		if err := writeEntry(tw, KeysEntry, bytes.NewReader(keys), int64(len(keys)), mtime); err != nil {
			return "", 0, err
		}
	}
	var done int64
	for i, name := range inv.Files {
		f, err := os.Open(filepath.Join(opt.DataDir, name))
		if err != nil {
			return "", 0, err
		}
		pr := &progressReader{r: f, ctx: ctx, step: func(n int64) {
			opt.Progress.report("encrypt", done+n, total)
		}}
		err = writeEntry(tw, name, pr, sizes[i], mtime)
		f.Close()
		if err != nil {
			return "", 0, fmt.Errorf("encrypt %s: %w", name, err)
		}
		done += sizes[i]
	}
	if err := tw.Close(); err != nil {
		return "", 0, err
	}
	if err := aw.Close(); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), cw.n, nil
}

func writeEntry(tw *tar.Writer, name string, r io.Reader, size int64, mtime time.Time) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o600, ModTime: mtime, Format: tar.FormatUSTAR}); err != nil {
		return err
	}
	n, err := io.Copy(tw, r)
	if err == nil && n != size {
		err = fmt.Errorf("%s changed while it was packed", name)
	}
	return err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// progressReader reports bytes read and stops when ctx is cancelled.
type progressReader struct {
	r    io.Reader
	ctx  context.Context
	n    int64
	step func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.step != nil {
		p.step(p.n)
	}
	return n, err
}

// checkData loads the data into a throwaway store — which checks columns,
// types, record count and series against the inventory — and screens it
// for what the contract forbids.
func checkData(ctx context.Context, opt Options, inv *inventory.Inventory) error {
	dopt := dataset.Options{Store: opt.Store, K: opt.Terms.K, Progress: func(step string, done, total int) {
		opt.Progress.report("check", int64(done), int64(total))
	}}
	ds, err := dataset.OpenDir(ctx, opt.DataDir, dopt)
	if err != nil {
		return err
	}
	defer ds.Close()
	findings, err := screen(ctx, ds)
	if err != nil {
		return err
	}
	if len(findings) > 0 {
		return &ContractError{Findings: findings}
	}
	return nil
}
