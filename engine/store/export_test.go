package store

import (
	"context"
	"database/sql"
)

// ExecForTest runs a statement regardless of the seal, so tests can try
// what an attacker's SQL would.
func (d *DB) ExecForTest(ctx context.Context, q string) error {
	_, err := d.db.ExecContext(ctx, q)
	return err
}

// QueryRowForTest runs a one-row query regardless of the seal.
func (d *DB) QueryRowForTest(ctx context.Context, q string) *sql.Row {
	return d.db.QueryRowContext(ctx, q)
}
