package usagelog

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/persona-workbench/persona/engine/analysis"
	"github.com/persona-workbench/persona/engine/guard"
	"github.com/persona-workbench/persona/engine/slice"
)

// Interval is the longest time between checkpoints while a package is
// open; a heartbeat record keeps an idle session's log growing, so a
// checkpoint always follows a new record.
const Interval = 15 * time.Minute

// Session logs one open package: an open record and a checkpoint at the
// start, a heartbeat and a checkpoint every Interval, a close record and a
// checkpoint at the end.
type Session struct {
	log    *Log
	id     string
	signer note.Signer
	stop   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
	// Err is the first error of the background heartbeat, if any.
	mu  sync.Mutex
	err error
}

// Start records the open and writes the first checkpoint.
func Start(l *Log, id string, s note.Signer, open any) (*Session, error) {
	return start(l, id, s, open, Interval)
}

func start(l *Log, id string, s note.Signer, open any, every time.Duration) (*Session, error) {
	ss := &Session{log: l, id: id, signer: s, stop: make(chan struct{})}
	if _, err := l.Append(KindOpen, open); err != nil {
		return nil, err
	}
	if _, err := l.Checkpoint(id, s); err != nil {
		return nil, err
	}
	ss.wg.Add(1)
	go ss.heartbeat(every)
	return ss, nil
}

func (s *Session) heartbeat(every time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.Record(KindHeartbeat, nil); err == nil {
				_, err = s.log.Checkpoint(s.id, s.signer)
				s.fail(err)
			}
		}
	}
}

func (s *Session) fail(err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// Record appends a record; it is durable when Record returns.
func (s *Session) Record(kind string, data any) error {
	_, err := s.log.Append(kind, data)
	s.fail(err)
	return err
}

// Close records the close and writes the last checkpoint.
func (s *Session) Close() error {
	var err error
	s.once.Do(func() {
		close(s.stop)
		s.wg.Wait()
		if err = s.Record(KindClose, nil); err == nil {
			_, err = s.log.Checkpoint(s.id, s.signer)
		}
	})
	return err
}

// QueryRecord is what the log keeps of a slice: its shape and the
// filter values the analyst chose, never the values it returned.
type QueryRecord struct {
	By       []string            `json:"by,omitempty"`
	Where    map[string][]string `json:"where,omitempty"`
	Holding  map[string][]string `json:"holding,omitempty"`
	Measure  string              `json:"measure"`
	Order    string              `json:"order,omitempty"`
	Top      int                 `json:"top,omitempty"`
	K        int                 `json:"k"`
	Totals   bool                `json:"totals,omitempty"`
	Other    bool                `json:"other,omitempty"`
	Rows     int                 `json:"rows"`
	Withheld int                 `json:"withheld"`
	// WithheldBy counts the withheld cells, margins included, by the
	// privacy guard's reason.
	WithheldBy map[string]int `json:"withheld_by,omitempty"`
	Error      string         `json:"error,omitempty"`
	// Analysis names the analysis that asked for the query on its own
	// behalf. Such a query's filter values are the analysis's, not the
	// analyst's, and may be values few people hold: only how many values
	// each dimension was filtered (or held) by is kept. The analysis's
	// own record has the options the analyst chose.
	Analysis      string         `json:"analysis,omitempty"`
	WhereValues   map[string]int `json:"where_values,omitempty"`
	HoldingValues map[string]int `json:"holding_values,omitempty"`
}

// counts is how many values each dimension lists.
func counts(m map[string][]string) map[string]int {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = len(v)
	}
	return out
}

// Slices is the privacy guard with every run recorded before its result
// is released: a result whose record could not be written is withheld.
type Slices struct {
	*guard.Engine
	Session *Session
	Source  string // "tui" or "cli"
	// Analysis, when set, names the analysis whose own queries these
	// are (see QueryRecord.Analysis).
	Analysis string
}

// Internal returns the Slices an analysis asks its own queries through:
// recorded under the analysis's name, without their filter values.
func (l Slices) Internal(name string) analysis.Runner {
	l.Analysis = name
	return l
}

// Run runs the slice and records it.
func (l Slices) Run(ctx context.Context, q slice.Query) (*slice.Result, error) {
	res, err := l.Engine.Run(ctx, q)
	if err != nil && ctx.Err() != nil {
		return res, err // cancelled: nothing was released
	}
	rec := QueryRecord{By: q.Dims, Where: q.Filters, Holding: q.Holding, Measure: q.Measure, Order: q.Order.String(), Top: q.TopN, K: l.Engine.K(),
		Totals: q.Totals, Other: q.Other}
	if len(rec.Where) == 0 {
		rec.Where = nil
	}
	if l.Analysis != "" {
		rec.Analysis, rec.WhereValues, rec.HoldingValues = l.Analysis, counts(rec.Where), counts(rec.Holding)
		rec.Where, rec.Holding = nil, nil
	}
	if err != nil {
		rec.Error = err.Error()
	} else {
		rec.Rows, rec.Withheld = len(res.Rows), res.Suppressed
		if by := res.WithheldBy(); len(by) > 0 {
			rec.WithheldBy = by
		}
	}
	if lerr := l.Session.Record(KindQuery, rec); lerr != nil {
		return nil, fmt.Errorf("the usage log could not record this query, so its result is withheld: %w", lerr)
	}
	return res, err
}
