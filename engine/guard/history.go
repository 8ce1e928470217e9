package guard

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/persona-workbench/persona/engine/sealed"
	"github.com/persona-workbench/persona/engine/slice"
)

// key identifies what an entry counts.
func (e Entry) key() string {
	if e.cached != "" {
		return e.cached
	}
	if e.Field == "" {
		return e.Pop.Key()
	}
	return fmt.Sprintf("%s|%s|%v", e.Pop.Key(), e.Field, e.Periods)
}

// withKey returns e with its key worked out, for entries compared often.
func (e Entry) withKey() Entry {
	e.cached = e.key()
	return e
}

// ErrHistory is wrapped by errors reading or writing a release history:
// no result is released without it.
var ErrHistory = errors.New("release history")

// Entry is a population whose size has been released, or must never be.
type Entry struct {
	Pop Pop `json:"pop"`
	// Field, when set, makes this the contributions of one measure
	// field: the people of Pop whose Field, summed over Periods (all when
	// empty), is not zero; People counts them. A sum, mean, ratio or
	// rate gives away the total of these contributions.
	Field   string `json:"field,omitempty"`
	Periods []int  `json:"periods,omitempty"`
	People  int64  `json:"people"`
	// Protected entries were never released: their size would give away
	// a withheld cell, so no result may show exactly them either.
	Protected bool `json:"protected,omitempty"`
	// Def, when set, makes this entry the definition of a derived
	// dimension (Engine.Derive) rather than a population: later entries
	// and later sessions count its segments by it.
	Def *slice.Segmentation `json:"def,omitempty"`

	cached string // key(), once worked out
}

// History remembers the populations released for a licence, so that a
// result is checked against every earlier one, in this session and in
// earlier sessions.
type History interface {
	// Lock takes the history for one release and returns the entries
	// added since this History's last Lock, by this process or another.
	Lock() ([]Entry, error)
	// Add records entries; called between Lock and Unlock.
	Add([]Entry) error
	// Unlock ends the release.
	Unlock()
}

// Memory is a History held in memory, for one session only.
type Memory struct {
	mu      sync.Mutex
	entries []Entry
	seen    int
}

// Lock implements History.
func (m *Memory) Lock() ([]Entry, error) {
	m.mu.Lock()
	n := m.entries[m.seen:]
	m.seen = len(m.entries)
	return n, nil
}

// Add implements History.
func (m *Memory) Add(es []Entry) error {
	m.entries = append(m.entries, es...)
	m.seen = len(m.entries)
	return nil
}

// Unlock implements History.
func (m *Memory) Unlock() { m.mu.Unlock() }

// File is a History kept in a file beside the licence's usage log, one
// entry per line. Appends are flushed to disk before a result is
// released; an exclusive lock on the file makes each release atomic
// against other processes using the same licence (the workbench and a
// `persona query` at once).
//
// Entries name data values (the cells' keys) and head counts already
// shown, so each line is sealed with XChaCha20-Poly1305 under a key
// derived from the licence's identity (keys.Derive): nothing readable
// reaches the disk, no entry can be altered or forged, and destroying the
// identity at deletion leaves the file unreadable even before it is
// removed.
type File struct {
	mu    sync.Mutex
	f     *os.File
	lines *sealed.Lines
	off   int64 // bytes read so far
	path  string
}

// HistoryFile is the name of a licence's release history in its
// workspace folder, beside the usage log.
const HistoryFile = "released.jsonl"

// OpenFile opens, or creates, the history at path (0600), sealed with
// key.
func OpenFile(path string, key [32]byte) (*File, error) {
	lines, err := sealed.New(key, historyAD)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: open: %w", ErrHistory, err)
	}
	return &File{f: f, lines: lines, path: path}, nil
}

// Close closes the file.
func (h *File) Close() error { return h.f.Close() }

// Lock implements History.
func (h *File) Lock() ([]Entry, error) {
	h.mu.Lock()
	if err := syscall.Flock(int(h.f.Fd()), syscall.LOCK_EX); err != nil {
		h.mu.Unlock()
		return nil, fmt.Errorf("%w: lock: %w", ErrHistory, err)
	}
	es, err := h.catchUp()
	if err != nil {
		h.Unlock()
		return nil, err
	}
	return es, nil
}

// catchUp reads the complete lines added since the last read. A last
// line without its newline is a write cut short by a crash: it released
// nothing (results are released only after the line is on disk), so it
// is cut off.
func (h *File) catchUp() ([]Entry, error) {
	st, err := h.f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: read: %w", ErrHistory, err)
	}
	if st.Size() < h.off {
		return nil, fmt.Errorf("%w %s shrank: it was changed outside the workbench", ErrHistory, h.path)
	}
	buf := make([]byte, st.Size()-h.off)
	if _, err := h.f.ReadAt(buf, h.off); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: read: %w", ErrHistory, err)
	}
	end := bytes.LastIndexByte(buf, '\n') + 1
	if end < len(buf) {
		if err := h.f.Truncate(h.off + int64(end)); err != nil {
			return nil, fmt.Errorf("%w: repair: %w", ErrHistory, err)
		}
	}
	var es []Entry
	sc := bufio.NewScanner(bytes.NewReader(buf[:end]))
	sc.Buffer(nil, 1<<24)
	line := 0
	for sc.Scan() {
		line++
		var e Entry
		plain, err := h.lines.Open(sc.Bytes())
		if err == nil {
			dec := json.NewDecoder(bytes.NewReader(plain))
			dec.DisallowUnknownFields()
			err = dec.Decode(&e)
		}
		if err != nil || e.People < 0 {
			return nil, fmt.Errorf("%w %s: entry %d is damaged or sealed with another key: it was changed outside the workbench", ErrHistory, h.path, line)
		}
		es = append(es, e)
	}
	h.off += int64(end)
	return es, nil
}

// Add implements History.
func (h *File) Add(es []Entry) error {
	if len(es) == 0 {
		return nil
	}
	var b bytes.Buffer
	for _, e := range es {
		plain, err := json.Marshal(e)
		if err != nil {
			return err
		}
		b.WriteString(h.lines.Seal(plain))
		b.WriteByte('\n')
	}
	if _, err := h.f.WriteAt(b.Bytes(), h.off); err != nil {
		return fmt.Errorf("%w: write: %w", ErrHistory, err)
	}
	if err := h.f.Sync(); err != nil {
		return fmt.Errorf("%w: write: %w", ErrHistory, err)
	}
	h.off += int64(b.Len())
	return nil
}

const historyAD = "persona release history v1"

// Unlock implements History.
func (h *File) Unlock() {
	syscall.Flock(int(h.f.Fd()), syscall.LOCK_UN)
	h.mu.Unlock()
}

// Fields lists the data fields the history at path refers to: the
// dimensions of its populations, the measure fields of its
// contributions, and the dimensions its segment definitions score. A
// data set loaded with only some columns (dataset.Options.Columns) must
// hold these for every later result to be checked against the history;
// should the history name another field by the time a result is
// checked, the check fails and nothing is released. It reads with a
// File of its own, so the engine's File still reads every entry.
func Fields(path string, key [32]byte) ([]string, error) {
	h, err := OpenFile(path, key)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	es, err := h.Lock()
	if err != nil {
		return nil, err
	}
	defer h.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, e := range es {
		e.fields(func(name string) {
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		})
	}
	return out, nil
}

// fields calls add with each field name e refers to (see Fields).
func (e Entry) fields(add func(string)) {
	if e.Def != nil {
		for _, t := range e.Def.Terms {
			add(t.Dim)
		}
		return
	}
	for _, c := range e.Pop.Conds {
		add(c.Dim)
	}
	for _, cs := range e.Pop.Or {
		for _, c := range cs {
			add(c.Dim)
		}
	}
	if e.Field != "" {
		add(e.Field)
	}
}
