package usagelog

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Problem is one thing verification found wrong, naming the record
// (sequence number, 0 when none applies) or the checkpoint.
type Problem struct {
	Record int64
	Msg    string
}

func (p Problem) String() string { return p.Msg }

// Report is the outcome of Verify.
type Report struct {
	Records     int64
	Checkpoints int
	// Torn says the last record was cut short (a crash while writing):
	// shown, not counted as tampering.
	Torn bool
	// Repaired counts lines cut short by a crash that later records name
	// (a "torn" record with the line's hash): shown, not tampering.
	Repaired int
	Problems []Problem
	// Latest is the newest valid checkpoint, if any.
	Latest *Checkpoint
}

// OK reports whether the log verified.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Verify checks the log in dir: every record's form, sequence, chain and
// time; no records after a deletion but the certificate and checkpoints;
// every checkpoint's signature (by v) and root; and, if held is not nil,
// consistency with a checkpoint the licensor holds.
func Verify(dir, id string, v note.Verifier, held []byte) (*Report, error) {
	recs, err := readRecords(filepath.Join(dir, LogFile))
	if err != nil {
		return nil, err
	}
	rep := &Report{Torn: recs.torn}
	bad := func(seq int64, format string, a ...any) {
		rep.Problems = append(rep.Problems, Problem{Record: seq, Msg: fmt.Sprintf(format, a...)})
	}
	var hashes []tlog.Hash
	var n int64
	var prevHash tlog.Hash
	var prevTime time.Time
	var deletedAt, lastSeq int64
	present := map[int64]int{} // sequence number → line index
	for i, ln := range recs.lines {
		if ln.rec != nil {
			present[ln.rec.Seq] = i
		}
	}
	for i, ln := range recs.lines {
		if ln.err == errTorn && i == len(recs.lines)-1 {
			break // reported as Torn
		}
		if ln.rec == nil {
			if i+1 < len(recs.lines) && namesTorn(recs.lines[i+1].rec, ln.raw) {
				rep.Repaired++
				continue
			}
			bad(n+1, "line %d is not a record (%v): the log was edited or damaged", ln.no, ln.err)
			continue
		}
		r := ln.rec
		want := lastSeq + 1
		switch {
		case r.Seq > want:
			later := true
			for s := want; s < r.Seq; s++ {
				if j, ok := present[s]; !ok || j < i {
					later = false
				}
			}
			if later {
				bad(r.Seq, "record %d comes before record %d: records were reordered", r.Seq, want)
			} else {
				bad(r.Seq, "records %d to %d are missing before record %d: deleted from the log", want, r.Seq-1, r.Seq)
			}
		case r.Seq < want:
			bad(r.Seq, "record %d appears after record %d: records were reordered or repeated", r.Seq, lastSeq)
		}
		lastSeq = max(lastSeq, r.Seq)
		if n > 0 && r.Prev != base64.StdEncoding.EncodeToString(prevHash[:]) && r.Seq == want {
			bad(r.Seq-1, "record %d was edited: record %d does not chain to it", r.Seq-1, r.Seq)
		}
		if n == 0 && r.Prev != "" {
			bad(r.Seq, "record %d chains to a record before it, but it is the first: the start of the log is missing", r.Seq)
		}
		if r.Time.Before(prevTime) {
			bad(r.Seq, "record %d (%s) is earlier than the record before it (%s): the clock was moved back", r.Seq, r.Time.Format(time.RFC3339), prevTime.Format(time.RFC3339))
		}
		if deletedAt > 0 && r.Kind != KindCertificate {
			bad(r.Seq, "record %d (%s) comes after the deletion recorded in record %d", r.Seq, r.Kind, deletedAt)
		}
		if r.Kind == KindDeletion && deletedAt == 0 {
			deletedAt = r.Seq
		}
		h, err := tlog.StoredHashes(n, ln.raw, hashReader(hashes))
		if err != nil {
			return nil, err
		}
		hashes = append(hashes, h...)
		prevHash, prevTime = tlog.RecordHash(ln.raw), r.Time
		n++
	}
	rep.Records = n

	notes, _, err := readCheckpoints(dir)
	if err != nil {
		return nil, err
	}
	roots := map[int64]tlog.Hash{}
	matched := map[int64]bool{} // sizes of checkpoints that match the log
	check := func(what string, msg []byte) *Checkpoint {
		c, err := ParseCheckpoint(msg, v)
		if err != nil {
			bad(0, "%s: %v", what, err)
			return nil
		}
		if c.Licence != id {
			bad(0, "%s is for licence %s, not %s", what, c.Licence, id)
			return nil
		}
		if other, ok := roots[c.Size]; ok && other != c.Root {
			bad(c.Size, "%s and an earlier checkpoint both cover %d records with different roots: the log was forked", what, c.Size)
		}
		roots[c.Size] = c.Root
		if c.Size > n {
			bad(n+1, "%s covers %d records, the log holds %d: records %d to %d were cut off, or an older copy of the log was restored", what, c.Size, n, n+1, c.Size)
			return c
		}
		root, err := tlog.TreeHash(c.Size, hashReader(hashes))
		if err != nil {
			bad(0, "%s: %v", what, err)
			return c
		}
		if root != c.Root {
			// The records that differ lie after the largest checkpoint
			// that still matches.
			var lo int64
			for size := range matched {
				if size < c.Size && size > lo {
					lo = size
				}
			}
			if lo+1 == c.Size {
				bad(c.Size, "record %d was edited or replaced: it differs from %s", c.Size, what)
			} else {
				bad(c.Size, "a record among %d to %d was edited, removed or replaced: they differ from %s", lo+1, c.Size, what)
			}
			return c
		}
		matched[c.Size] = true
		return c
	}
	for i, msg := range notes {
		what := fmt.Sprintf("checkpoint %d", i+1)
		if msg == nil {
			bad(0, "%s is damaged", what)
			continue
		}
		if c := check(what, msg); c != nil {
			rep.Checkpoints++
			if rep.Latest == nil || c.Size >= rep.Latest.Size {
				rep.Latest = c
			}
		}
	}
	if held != nil {
		check("the licensor's checkpoint", append(bytes.TrimSpace(held), '\n'))
	}
	return rep, nil
}

// namesTorn reports whether r is the "torn" record naming line.
func namesTorn(r *Record, line []byte) bool {
	if r == nil || r.Kind != KindTorn {
		return false
	}
	var d struct {
		SHA256 string `json:"line_sha256"`
	}
	sum := sha256.Sum256(line)
	return json.Unmarshal(r.Data, &d) == nil && d.SHA256 == hex.EncodeToString(sum[:])
}
