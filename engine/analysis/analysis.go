// Package analysis runs the workbench's analyses — segmentation,
// association rules, classification and campaign lift — on a licensed
// data set.
//
// An analysis never reads records. Association rules and campaign lift
// start from slices released by the privacy guard (engine/guard), so the
// guard's rules — k people, complementary suppression, difference checks
// against every earlier result of the licence — hold for their outputs;
// what they add (confidence, lift, intervals) is computed from released
// numbers only, and where one of them is withheld, what depends on it is
// withheld with the same reason.
//
// Segmentation and classification fit a model, which needs the joint
// distribution of several dimensions: they read grouped profiles
// (Runner.Profiles), which stay inside the analysis. What they show is
// either released by the guard again — a segment's size and traits are a
// slice by the segment dimension, a tree leaf's people and rate are a
// slice under the leaf's conditions — or a number over the whole
// population or a holdout (a silhouette, an accuracy, an AUC, a
// coefficient of a level held by at least k people).
package analysis

import (
	"context"
	"errors"
	"fmt"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/slice"
)

// Runner runs a slice through the privacy guard: guard.Engine, or the
// usage log's Slices, which records each one.
type Runner interface {
	Run(ctx context.Context, q slice.Query) (*slice.Result, error)
	Inventory() *inventory.Inventory
	K() int
	// Profiles groups people for a model fitted here; what it returns
	// is never released as it is (see slice.ProfileQuery).
	Profiles(ctx context.Context, q slice.ProfileQuery) ([]slice.Profile, error)
	// Derive makes a segmentation a dimension to slice by.
	Derive(s slice.Segmentation) (inventory.Field, error)
}

// Internal is a Runner that records the queries an analysis asks on its
// own behalf apart from the analyst's (usagelog.Slices): their filter
// values are the analysis's choice, and may be values few people hold,
// so the usage log keeps only the analyst's.
type Internal interface {
	Internal(analysis string) Runner
}

// internal is the Runner an analysis asks its own queries through.
func internal(r Runner, name string) Runner {
	if i, ok := r.(Internal); ok {
		return i.Internal(name)
	}
	return r
}

// ErrAnalysis is wrapped by every error in an analysis's description.
var ErrAnalysis = errors.New("invalid analysis")

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrAnalysis, fmt.Sprintf(format, args...))
}

// countMeasure is the inventory's head count.
func countMeasure(inv *inventory.Inventory) (inventory.MeasureDef, error) {
	for _, m := range inv.Measures {
		if m.Kind == inventory.Count {
			return m, nil
		}
	}
	return inventory.MeasureDef{}, bad("the inventory has no head-count measure")
}
