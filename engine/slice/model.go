package slice

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/persona-workbench/persona/engine/inventory"
)

// Segmentation defines a derived dimension from the data's own
// dimensions: every person is in the segment whose score is lowest, the
// score of segment s being Bias[s] plus, for each term, the weight of the
// person's value (a multi-valued term adds the weights of every value the
// person's list holds). A nearest-centroid rule over one-hot encoded
// dimensions — k-means — takes exactly this form.
//
// A segmentation is described by names, values and numbers only, never
// by records, so it can be kept in the release history and used to count
// its segments again in a later session.
type Segmentation struct {
	Label  inventory.Label `json:"label"`
	Values []string        `json:"values"` // the segments' names, in order
	Bias   []float64       `json:"bias"`   // one per segment
	Terms  []SegmentTerm   `json:"terms"`
}

// SegmentTerm is one dimension's part of a segment's score.
type SegmentTerm struct {
	Dim string `json:"dim"`
	// Weights maps a value to its weight in each segment, in the order
	// of Segmentation.Values; a value not listed (or missing) adds 0.
	Weights map[string][]float64 `json:"weights"`
}

// SegmentPrefix starts the name of every derived segment dimension; the
// inventory reserves it.
const SegmentPrefix = inventory.ReservedPrefix

// Name is the derived dimension's name: SegmentPrefix and a digest of the
// definition (64 bits), so the same segmentation always has the same
// name.
func (s Segmentation) Name() string {
	b, _ := json.Marshal(s) // maps marshal with sorted keys
	sum := sha256.Sum256(b)
	return SegmentPrefix + hex.EncodeToString(sum[:])[:16]
}

// Check reports what is wrong with the definition, if anything.
func (s Segmentation) Check(inv *inventory.Inventory) error {
	n := len(s.Values)
	switch {
	case n < 2:
		return fmt.Errorf("%w: a segmentation needs at least 2 segments, has %d", ErrQuery, n)
	case n > 64:
		return fmt.Errorf("%w: a segmentation has at most 64 segments, has %d", ErrQuery, n)
	case len(s.Bias) != n:
		return fmt.Errorf("%w: segmentation has %d biases for %d segments", ErrQuery, len(s.Bias), n)
	case len(s.Terms) == 0:
		return fmt.Errorf("%w: segmentation uses no dimension", ErrQuery)
	}
	seen := map[string]bool{}
	for _, v := range s.Values {
		if v == "" || seen[v] {
			return fmt.Errorf("%w: segment names must be distinct and not empty", ErrQuery)
		}
		seen[v] = true
	}
	if slices.ContainsFunc(s.Bias, bad) {
		return fmt.Errorf("%w: segmentation bias is not a finite number", ErrQuery)
	}
	dims := map[string]bool{}
	for _, t := range s.Terms {
		f, ok := inv.Field(t.Dim)
		if !ok || f.Role != inventory.Dimension && f.Role != inventory.MultiDimension || strings.HasPrefix(t.Dim, SegmentPrefix) {
			// Segments of segments would need their terms worked out
			// first, in every session: only the data's own dimensions.
			return fmt.Errorf("%w: segmentation term %q is not a dimension of the data", ErrQuery, t.Dim)
		}
		if dims[t.Dim] {
			return fmt.Errorf("%w: segmentation uses %q twice", ErrQuery, t.Dim)
		}
		dims[t.Dim] = true
		for v, ws := range t.Weights {
			if len(ws) != n || slices.ContainsFunc(ws, bad) {
				return fmt.Errorf("%w: segmentation weights of %s %q: want %d finite numbers", ErrQuery, t.Dim, v, n)
			}
		}
	}
	return nil
}

func bad(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }

// Segment returns the segment (index into Values) of a person with the
// given values: one list per term, in term order (a single value for a
// single-valued dimension). It is the rule the engine counts by, for
// tests and for assigning people in memory.
func (s Segmentation) Segment(values [][]string) int {
	best, bestScore := 0, math.Inf(1)
	for i := range s.Values {
		score := s.Bias[i]
		for j, t := range s.Terms {
			for _, v := range values[j] {
				if ws, ok := t.Weights[v]; ok {
					score += ws[i]
				}
			}
		}
		if score < bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// ProfileQuery asks for the input of a model fitted in the engine: the
// people grouped by their values of some dimensions (and, with Folds, by
// a fold each record is put in by a hash of its position), with how many
// of each group meet a target.
//
// Profiles are never shown, printed, exported or logged: they stay in
// the analysis that asked for them, which releases only what passes the
// guard (a model's groups are counted again through a slice) or numbers
// over the whole population (see docs/PRIVACY.md).
type ProfileQuery struct {
	Dims []string
	// Target, when set, is what Profile.Positive counts: a boolean
	// measure field's name, or a dimension and some of its values as
	// "dim=v1,v2".
	Target  string
	Filters map[string][]string
	Folds   int // 0: no folds
	// Sample, when above 0, fits the model on about this many records,
	// drawn by a hash of their position (the same ones every time),
	// when the filters keep more.
	Sample int64
}

// Profile is one group of a ProfileQuery's answer.
type Profile struct {
	// Values holds, for each dimension, the person's value (one element;
	// "" when missing) or, for a multi-valued dimension, their list.
	Values   [][]string
	People   int64
	Positive int64
	Fold     int
}
