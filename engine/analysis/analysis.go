// Package analysis runs the workbench's analyses — association rules and
// campaign lift — on a licensed data set.
//
// An analysis never reads records: every number it starts from is a
// slice released by the privacy guard (engine/guard), so the guard's
// rules — k people, complementary suppression, difference checks against
// every earlier result of the licence — hold for analysis outputs too.
// What an analysis adds (confidence, lift, intervals) is computed from
// released numbers only; where one of them is withheld, what depends on
// it is withheld with the same reason.
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
