// Package usagelog keeps a licence's usage log: an append-only record of
// everything done with the licensed data, that nobody — including the
// analyst who owns the workstation — can quietly edit, shorten or reorder
// (docs/FORMAT.md, "Usage log").
//
// Tamper evidence follows transparency logs. Every record is a JSON line
// that also carries the hash of the record before it, and the records are
// the leaves of a Merkle tree (golang.org/x/mod/sumdb/tlog). Checkpoints —
// the tree's size and root hash, signed as a note
// (golang.org/x/mod/sumdb/note) with the person's enrolment key — are
// written at open, at close and periodically while a package is open.
// Editing, deleting or reordering records breaks the chain or the tree;
// truncating the tail or restoring an older copy is caught against a
// checkpoint the licensor already holds. Record times never go back.
//
// Records hold no persona data beyond the dimension values an analyst
// chose as filters.
package usagelog

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"
	"golang.org/x/sys/unix"
)

// File names in a licence's folder.
const (
	LogFile        = "usage.log"
	CheckpointFile = "checkpoints"
)

// Record kinds.
const (
	KindEnrol       = "enrol"
	KindOpen        = "open"
	KindOpenRefused = "open_refused"
	KindAcknowledge = "acknowledge"
	KindQuery       = "query"
	KindAnalysis    = "analysis"
	KindExport      = "export"
	KindHeartbeat   = "heartbeat"
	KindLock        = "lock"
	KindUnlock      = "unlock"
	KindView        = "view" // a saved view kept or removed
	KindClose       = "close"
	KindDeletion    = "deletion"
	KindCertificate = "certificate"
	// KindTorn follows a record cut short by a crash: it names the torn
	// line by its hash, so the line is shown for what it is rather than
	// dropped or taken for tampering.
	KindTorn = "torn"
)

// ErrDeleted says the licence's data was deleted: the log takes no more
// records but the certificate.
var ErrDeleted = errors.New("the licence's data was deleted; the usage log is closed")

// ErrClockBack says the clock reads earlier than the log's last record.
var ErrClockBack = errors.New("clock is earlier than the usage log's last record")

// Record is one line of the log.
type Record struct {
	Seq    int64           `json:"seq"`
	Time   time.Time       `json:"time"`
	Mono   int64           `json:"mono_ns"` // CLOCK_BOOTTIME, nanoseconds
	Boot   string          `json:"boot_id"`
	User   string          `json:"os_user"`
	Host   string          `json:"host"`
	Person string          `json:"person"`
	Tool   string          `json:"tool"`
	Kind   string          `json:"kind"`
	Prev   string          `json:"prev"` // base64 of the previous record's leaf hash; "" for the first
	Data   json.RawMessage `json:"data,omitempty"`
}

// Context is who and where, stamped on every record.
type Context struct {
	Person string
	Tool   string
}

// Log is one licence's usage log, open for appending.
type Log struct {
	dir     string
	ctx     Context
	mu      sync.Mutex
	hashes  []tlog.Hash // stored hashes of the tree so far
	off     int64       // bytes of the file read or written so far
	torn    []byte      // a last line without its newline, cut short by a crash
	n       int64       // records
	last    tlog.Hash   // leaf hash of the last record
	lastT   time.Time
	deleted bool
	env     env
	now     func() time.Time
}

type env struct{ boot, user, host string }

func environment() env {
	e := env{user: "unknown", host: "unknown"}
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		e.boot = strings.TrimSpace(string(b))
	}
	if u, err := user.Current(); err == nil {
		e.user = u.Username
	}
	if h, err := os.Hostname(); err == nil {
		e.host = h
	}
	return e
}

func mono() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}

// Open reads the log in dir (a licence's folder) and readies it for
// appending. Open does not verify the log; Verify does. Several processes
// may hold the same log open (the workbench and a `persona query`): every
// append first takes an exclusive lock and catches up with records the
// others wrote, so the sequence and the chain stay whole.
func Open(dir string, ctx Context) (*Log, error) {
	l := &Log{dir: dir, ctx: ctx, env: environment(), now: time.Now}
	f, err := os.Open(filepath.Join(dir, LogFile))
	if errors.Is(err, os.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
		return nil, err
	}
	if err := l.catchUp(f); err != nil {
		return nil, err
	}
	return l, nil
}

// catchUp adds the records written since this Log last read or wrote the
// file. A line that does not parse is skipped, as Verify skips it (and
// reports it); a last line without its newline is a torn record, skipped.
func (l *Log) catchUp(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() <= l.off {
		return nil
	}
	buf := make([]byte, st.Size()-l.off)
	if _, err := f.ReadAt(buf, l.off); err != nil {
		return fmt.Errorf("usage log: %w", err)
	}
	l.torn = nil // anything after a torn line means another process closed it
	for len(buf) > 0 {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			l.torn = bytes.Clone(buf)
			l.off += int64(len(buf))
			break
		}
		line := buf[:i]
		buf = buf[i+1:]
		l.off += int64(i + 1)
		var r Record
		if strictRecord(line, &r) != nil {
			continue
		}
		l.add(line)
		if r.Time.After(l.lastT) {
			l.lastT = r.Time
		}
		if r.Kind == KindDeletion {
			l.deleted = true
		}
	}
	return nil
}

// add puts a record's bytes into the tree.
func (l *Log) add(raw []byte) {
	h, err := tlog.StoredHashes(l.n, raw, hashReader(l.hashes))
	if err != nil {
		panic(err) // only on an inconsistent in-memory tree: a bug
	}
	l.hashes = append(l.hashes, h...)
	l.last = tlog.RecordHash(raw)
	l.n++
}

type hashReader []tlog.Hash

func (h hashReader) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(h)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = h[x]
	}
	return out, nil
}

// Size is the number of records.
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// LastTime is the time of the latest record (zero for an empty log).
func (l *Log) LastTime() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastT
}

// CheckClock refuses a clock earlier than the last record.
func (l *Log) CheckClock(now time.Time) error {
	if t := l.LastTime(); now.Before(t) {
		return fmt.Errorf("%w: it reads %s, the last record is from %s", ErrClockBack, now.Format(time.RFC3339), t.Format(time.RFC3339))
	}
	return nil
}

// Append writes a record and makes it durable (fsync) before it returns.
// The record's time is now, or the last record's time if the clock reads
// earlier (record times never decrease); data is encoded as JSON.
func (l *Log) Append(kind string, data any) (*Record, error) {
	var raw json.RawMessage
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return nil, fmt.Errorf("usage log: %w", err)
		}
		raw = b
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var r *Record
	err := l.locked(LogFile, func(f *os.File) error {
		if err := l.catchUp(f); err != nil {
			return err
		}
		if l.deleted && kind != KindCertificate {
			return ErrDeleted
		}
		if l.torn != nil {
			sum := sha256.Sum256(l.torn)
			data, _ := json.Marshal(map[string]any{"line_sha256": hex.EncodeToString(sum[:]), "bytes": len(l.torn)})
			if _, err := l.write(f, KindTorn, data); err != nil {
				return err
			}
			l.torn = nil
		}
		var err error
		r, err = l.write(f, kind, raw)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("usage log: %w", err)
	}
	return r, nil
}

// write appends one record to the locked log file.
func (l *Log) write(f *os.File, kind string, raw json.RawMessage) (*Record, error) {
	now := l.now().UTC()
	if now.Before(l.lastT) {
		now = l.lastT
	}
	r := &Record{Seq: l.n + 1, Time: now, Mono: mono(), Boot: l.env.boot, User: l.env.user, Host: l.env.host,
		Person: l.ctx.Person, Tool: l.ctx.Tool, Kind: kind, Data: raw}
	if l.n > 0 {
		r.Prev = base64.StdEncoding.EncodeToString(l.last[:])
	}
	line, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	n, err := writeLine(f, line)
	if err != nil {
		return nil, err
	}
	l.off += n
	l.add(line)
	l.lastT = now
	l.deleted = l.deleted || kind == KindDeletion
	return r, nil
}

// locked runs fn with the named file of the log open for appending and
// exclusively locked.
func (l *Log) locked(name string, fn func(*os.File) error) error {
	f, err := os.OpenFile(filepath.Join(l.dir, name), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	return fn(f)
}

// writeLine appends one line to a locked file and syncs it; if the file
// does not end in a newline (a torn record), the line starts on a fresh
// one. It returns the bytes written.
func writeLine(f *os.File, line []byte) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 0, len(line)+2)
	if st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err != nil {
			return 0, err
		}
		if last[0] != '\n' {
			buf = append(buf, '\n')
		}
	}
	buf = append(append(buf, line...), '\n')
	if _, err := f.Write(buf); err != nil {
		return 0, err
	}
	return int64(len(buf)), f.Sync()
}

// Details is the record's data on one line, without control characters,
// cut to n runes (0: whole), for tables and screens.
func (r Record) Details(n int) string {
	if len(r.Data) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if json.Compact(&buf, r.Data) != nil {
		return "?"
	}
	s := strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f {
			return ' '
		}
		return c
	}, buf.String())
	if rs := []rune(s); n > 0 && len(rs) > n {
		s = string(rs[:n-1]) + "…"
	}
	return s
}

// Records reads every complete record of the log in dir, in file order,
// skipping lines that do not parse (Verify reports those), and says
// whether the last line is torn.
func Records(dir string) ([]Record, bool, error) {
	recs, err := readRecords(filepath.Join(dir, LogFile))
	if err != nil {
		return nil, false, err
	}
	out := make([]Record, 0, len(recs.lines))
	for _, l := range recs.lines {
		if l.rec != nil {
			out = append(out, *l.rec)
		}
	}
	return out, recs.torn, nil
}

// line is one line of the file: its bytes and, when it parses, the record.
type line struct {
	no  int // 1-based line number
	raw []byte
	rec *Record
	err error
}

type records struct {
	lines []line
	torn  bool // the last line has no newline
}

func readRecords(path string) (*records, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return &records{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := &records{}
	br := bufio.NewReaderSize(f, 1<<16)
	for no := 1; ; no++ {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			complete := b[len(b)-1] == '\n'
			b = bytes.TrimSuffix(b, []byte("\n"))
			ln := line{no: no, raw: b}
			var r Record
			if perr := strictRecord(b, &r); perr != nil {
				ln.err = perr
			} else {
				ln.rec = &r
			}
			if !complete {
				out.torn = true
				ln.rec, ln.err = nil, errTorn
			}
			out.lines = append(out.lines, ln)
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

var errTorn = errors.New("torn: cut short")

func strictRecord(b []byte, r *Record) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(r); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the record")
	}
	return nil
}
