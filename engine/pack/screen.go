package pack

import (
	"context"
	"errors"
	"fmt"

	"github.com/persona-workbench/persona/engine/contract"
	"github.com/persona-workbench/persona/engine/dataset"
	"github.com/persona-workbench/persona/engine/inventory"
)

// screen runs the contract's checks over every text value of the data:
// no direct identifiers anywhere, places only at province level or above
// in mainland China, and no dimension so fine that it singles people out.
// It returns one line per finding; values in them are masked.
func screen(ctx context.Context, ds *dataset.Dataset) ([]string, error) {
	inv := ds.Inventory
	var records int64
	if err := queryRows(ctx, ds, fmt.Sprintf(`SELECT count(*) FROM %q`, inv.Table), func(scan func(...any) error) error {
		return scan(&records)
	}); err != nil {
		return nil, err
	}
	sc := contract.NewScanner()
	var findings []string
	for _, f := range inv.Fields {
		var q string
		switch f.Role {
		case inventory.Dimension:
			q = fmt.Sprintf(`SELECT %q, count(*) FROM %q WHERE %[1]q IS NOT NULL GROUP BY 1`, f.Name, inv.Table)
		case inventory.MultiDimension:
			q = fmt.Sprintf(`SELECT v, count(*) FROM (SELECT unnest(%q) AS v FROM %q) WHERE v IS NOT NULL GROUP BY 1`, f.Name, inv.Table)
		default:
			continue
		}
		distinct := int64(0)
		err := queryRows(ctx, ds, q, func(scan func(...any) error) error {
			var v string
			var n int64
			if err := scan(&v, &n); err != nil {
				return err
			}
			distinct++
			sc.Identifiers(f.Name, v, n)
			if f.Geo != "" {
				sc.Place(f.Name, contract.Geo(f.Geo), v, n)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		// A category held by about one record each is an identifier in
		// disguise, whatever its values look like.
		if distinct > 1000 && distinct*2 > records {
			findings = append(findings, fmt.Sprintf("column %s: %d distinct values in %d records: a per-person identifier, not a category", f.Name, distinct, records))
		}
	}
	for _, f := range sc.Findings() {
		findings = append(findings, f.String())
	}
	return findings, nil
}

func queryRows(ctx context.Context, ds *dataset.Dataset, q string, row func(scan func(...any) error) error) error {
	rows, err := ds.Store().QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("screen data: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return fmt.Errorf("screen data: %w", err)
		}
	}
	return errors.Join(rows.Err(), rows.Close())
}
