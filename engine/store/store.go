// Package store is the workbench's embedded DuckDB: in memory only and
// hardened for a locked-down workstation.
//
// A DB goes through two phases. While loading, data can be brought in from
// Arrow record streams (the way decrypted data arrives, never touching the
// disk) or Parquet files. Seal then turns off all external access and
// locks the configuration, so no later SQL can read or write a file,
// attach a database, install or load an extension, or change a setting.
// Extension auto-install and auto-load are off from the start, and the
// temporary directory is unset so DuckDB never spills data to disk.
//
// Queries are only accepted once the DB is sealed.
//
// Tables live in an attached in-memory database created with DuckDB's
// COMPRESS option ("data", the default catalog of every connection).
// Its tables stay uncompressed, and fastest to scan, until a checkpoint
// compresses them, about ten times smaller for persona data. Fit does
// that while a large data set loads, once the table would take more than
// a share of the memory limit uncompressed; a data set that would not
// fit even compressed is refused with ErrTooBig before memory runs out.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"

	"github.com/persona-workbench/persona/engine/inventory"
)

// ErrSealed is returned when loading into a sealed DB.
var ErrSealed = errors.New("store is sealed: no more data can be loaded")

// ErrNotSealed is returned when querying a DB that is still loading.
var ErrNotSealed = errors.New("store is not sealed: seal it before querying")

// ErrTooBig is returned by Fit when the data will not fit in memory.
var ErrTooBig = errors.New("the data does not fit in memory")

// Options tune the database.
type Options struct {
	// Threads caps DuckDB's worker threads; 0 keeps DuckDB's default (one
	// per core).
	Threads int
	// MemoryLimit caps DuckDB's memory, e.g. "4GB"; empty keeps DuckDB's
	// default (80% of RAM). There is no spill to disk: work that does not
	// fit fails instead.
	MemoryLimit string
	// Compress is when Fit compresses the table: "" (when it would not
	// fit otherwise), "always" or "never".
	Compress string
	// Columns, when set, are the only columns loaded, in this order: a
	// one-off query loads what it needs and skips the rest of each
	// file. Nil loads every column.
	Columns []string
	// Keys, when set, gives every record loaded a key (see Keys).
	Keys *Keys
}

// Keys describes the records' keys a load adds as a last column: the top
// Bits bits of DuckDB's hash of the record's position in the table
// (0-based, counting through the files or streams in the order loaded)
// and Seed, a whole number held as DOUBLE. The same data loaded in the
// same order with the same seed gets the same keys, in any workspace.
// Keys are written as the records are loaded, not updated afterwards:
// DuckDB scans a column it has updated in place about twice as slowly.
type Keys struct {
	Column string
	Seed   uint64
	Bits   int
}

// expr is the key of the record at position pos (SQL of a BIGINT).
func (k *Keys) expr(pos string) string {
	return fmt.Sprintf("(hash(%s, %d::UBIGINT) >> %d)::DOUBLE", pos, k.Seed, 64-k.Bits)
}

// DB is a hardened in-memory DuckDB.
type DB struct {
	connector *duckdb.Connector
	db        *sql.DB

	opt         Options
	compressing bool // Fit compressed the table, and does after each part

	mu     sync.Mutex
	sealed bool
	loaded int64 // records loaded so far: the next one's position
}

// startup settings, applied before anything is loaded.
var startup = []string{
	"SET GLOBAL autoinstall_known_extensions = false",
	"SET GLOBAL autoload_known_extensions = false",
	"SET GLOBAL allow_community_extensions = false",
	"SET GLOBAL allow_unsigned_extensions = false",
	"SET GLOBAL allow_persistent_secrets = false",
	"SET GLOBAL temp_directory = ''",
}

// seal settings, applied once the data is in.
var seal = []string{
	"SET GLOBAL enable_external_access = false",
	"SET GLOBAL lock_configuration = true",
}

// Open starts an empty in-memory database in its loading phase.
func Open(ctx context.Context, opt Options) (*DB, error) {
	c, err := duckdb.NewConnector("", func(e driver.ExecerContext) error { return useData(context.Background(), e) })
	if err != nil {
		return nil, fmt.Errorf("start duckdb: %w", err)
	}
	d := &DB{connector: c, db: sql.OpenDB(c), opt: opt}
	settings := append([]string(nil), startup...)
	if opt.Threads > 0 {
		settings = append(settings, fmt.Sprintf("SET GLOBAL threads = %d", opt.Threads))
	}
	if opt.MemoryLimit != "" {
		if !validSize(opt.MemoryLimit) {
			d.Close()
			return nil, fmt.Errorf("memory limit %q: want a size such as 512MB or 4GB", opt.MemoryLimit)
		}
		settings = append(settings, fmt.Sprintf("SET GLOBAL memory_limit = '%s'", opt.MemoryLimit))
	}
	for _, s := range settings {
		if _, err := d.db.ExecContext(ctx, s); err != nil {
			d.Close()
			return nil, fmt.Errorf("harden duckdb (%s): %w", s, err)
		}
	}
	return d, nil
}

func validSize(s string) bool {
	s = strings.ToUpper(strings.TrimSpace(s))
	for _, unit := range []string{"KB", "MB", "GB", "TB", "KIB", "MIB", "GIB", "TIB"} {
		if n, ok := strings.CutSuffix(s, unit); ok {
			n = strings.TrimSpace(n)
			return n != "" && strings.Trim(n, "0123456789") == ""
		}
	}
	return false
}

// selected is the select list of a load: the chosen columns, or *.
func (d *DB) selected() (string, error) {
	if d.opt.Columns == nil {
		return "*", nil
	}
	if len(d.opt.Columns) == 0 {
		return "", errors.New("load: no columns chosen")
	}
	q := make([]string, len(d.opt.Columns))
	for i, c := range d.opt.Columns {
		if !inventory.ValidIdent(c) {
			return "", fmt.Errorf("load: column name %q is not a lower-case identifier", c)
		}
		q[i] = strconv.Quote(c)
	}
	return strings.Join(q, ", "), nil
}

func (d *DB) loading() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sealed {
		return ErrSealed
	}
	return nil
}

// catalog is the attached in-memory database that holds the tables.
const catalog = "data"

// useData makes the compressible in-memory database every connection's
// default catalog.
func useData(ctx context.Context, e driver.ExecerContext) error {
	for _, q := range []string{`ATTACH IF NOT EXISTS ':memory:' AS ` + catalog + ` (COMPRESS)`, `USE ` + catalog} {
		if _, err := e.ExecContext(ctx, q, nil); err != nil {
			return fmt.Errorf("start duckdb (%s): %w", q, err)
		}
	}
	return nil
}

// fitShare is the share of the memory limit an uncompressed table may
// take before Fit compresses it: the rest is for queries, which need
// room to group and sort, and for the workbench.
const fitShare = 0.4

// tooBigShare is the share of the memory limit beyond which Fit refuses
// a data set that is compressed already.
const tooBigShare = 0.75

// Fit keeps a loading table within memory: told that done of total parts
// are loaded, it projects the table's final size from its size now and,
// if that is above fitShare of the memory limit, compresses what is
// loaded (and does again after each later part). If even the compressed
// projection is above tooBigShare of the limit, it returns ErrTooBig,
// saying how much would be needed.
func (d *DB) Fit(ctx context.Context, done, total int) error {
	if err := d.loading(); err != nil {
		return err
	}
	if d.opt.Compress == "never" || done < 1 || total < 1 {
		return nil
	}
	limit, err := d.memoryLimit(ctx)
	if err != nil {
		return err
	}
	used, err := d.tableMemory(ctx)
	if err != nil {
		return err
	}
	project := func(b int64) int64 { return b / int64(done) * int64(total) }
	if !d.compressing && d.opt.Compress != "always" && float64(project(used)) <= fitShare*float64(limit) {
		return nil
	}
	d.compressing = true
	if _, err := d.db.ExecContext(ctx, `CHECKPOINT `+catalog); err != nil {
		return fmt.Errorf("compress the data in memory: %w", err)
	}
	if used, err = d.tableMemory(ctx); err != nil {
		return err
	}
	if need := project(used); float64(need) > tooBigShare*float64(limit) {
		return fmt.Errorf("%w: about %s once loaded and compressed, and DuckDB may use %s here; use a workstation with more memory, or raise --memory-limit",
			ErrTooBig, bytesText(need), bytesText(limit))
	}
	return nil
}

// outOfMemory says DuckDB's out-of-memory error as ErrTooBig.
func outOfMemory(err error) error {
	if msg := err.Error(); strings.Contains(msg, "Out of Memory") {
		first, _, _ := strings.Cut(msg, "\n") // DuckDB's advice that follows is about settings the workbench owns
		return fmt.Errorf("%w (%s); use a workstation with more memory, or raise --memory-limit", ErrTooBig, strings.TrimSpace(first))
	}
	return err
}

// Room reports the memory DuckDB's tables take and its memory limit, in
// bytes, for work that adds tables (the guard's summary) to decide
// whether there is room.
func (d *DB) Room(ctx context.Context) (used, limit int64, err error) {
	if used, err = d.tableMemory(ctx); err != nil {
		return 0, 0, err
	}
	limit, err = d.memoryLimit(ctx)
	return used, limit, err
}

// Compressed reports whether Fit compressed the data.
func (d *DB) Compressed() bool { return d.compressing }

// tableMemory is the memory DuckDB's tables take.
func (d *DB) tableMemory(ctx context.Context) (int64, error) {
	var b sql.NullInt64
	if err := d.db.QueryRowContext(ctx, `SELECT sum(memory_usage_bytes)::BIGINT FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'`).Scan(&b); err != nil {
		return 0, fmt.Errorf("measure the data in memory: %w", err)
	}
	return b.Int64, nil
}

// memoryLimit is DuckDB's memory limit in bytes.
func (d *DB) memoryLimit(ctx context.Context) (int64, error) {
	var s string
	if err := d.db.QueryRowContext(ctx, `SELECT current_setting('memory_limit')`).Scan(&s); err != nil {
		return 0, fmt.Errorf("read the memory limit: %w", err)
	}
	n, ok := parseSize(s)
	if !ok {
		return 0, fmt.Errorf("read the memory limit: %q is not a size", s)
	}
	return n, nil
}

// parseSize reads a size as DuckDB writes it, e.g. "18.6 GiB" or "4.0 GB".
func parseSize(s string) (int64, bool) {
	num, unit, _ := strings.Cut(strings.TrimSpace(s), " ")
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, false
	}
	mult := map[string]float64{"bytes": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}[strings.TrimSpace(unit)]
	if mult == 0 {
		return 0, false
	}
	return int64(v * mult), true
}

func bytesText(b int64) string { return strconv.FormatFloat(float64(b)/(1<<30), 'f', 1, 64) + " GiB" }

// LoadArrow creates table from an Arrow record stream. Nothing is written
// to disk. The reader is consumed but not released.
func (d *DB) LoadArrow(ctx context.Context, table string, r array.RecordReader) error {
	return d.loadArrow(ctx, `CREATE TABLE %q AS SELECT %s FROM %q`, table, r)
}

// AppendArrow adds the records of an Arrow stream to a table made by
// LoadArrow; columns are matched by position.
func (d *DB) AppendArrow(ctx context.Context, table string, r array.RecordReader) error {
	return d.loadArrow(ctx, `INSERT INTO %q SELECT %s FROM %q`, table, r)
}

func (d *DB) loadArrow(ctx context.Context, stmt, table string, r array.RecordReader) error {
	if err := d.loading(); err != nil {
		return err
	}
	if !inventory.ValidIdent(table) {
		return fmt.Errorf("load: table name %q is not a lower-case identifier", table)
	}
	cols, err := d.selected()
	if err != nil {
		return err
	}
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("load %s: %w", table, err)
	}
	defer conn.Close()
	view := "arrow_in_" + table
	var release func()
	err = conn.Raw(func(dc any) error {
		a, err := duckdb.NewArrowFromConn(dc.(*duckdb.Conn))
		if err != nil {
			return err
		}
		release, err = a.RegisterView(r, view)
		return err
	})
	if err != nil {
		return fmt.Errorf("load %s: %w", table, err)
	}
	defer release()
	if k := d.opt.Keys; k != nil {
		// A stream has no row numbers: the key is written from the
		// record's position once it is in (an update, slower to scan
		// afterwards; packages load from Parquet).
		cols += ", NULL::DOUBLE AS " + strconv.Quote(k.Column)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(stmt, table, cols, view)); err != nil {
		return fmt.Errorf("load %s: %w", table, err)
	}
	if k := d.opt.Keys; k != nil {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`UPDATE %q SET %q = %s WHERE %[2]q IS NULL`, table, k.Column, k.expr("rowid"))); err != nil {
			return fmt.Errorf("load %s: record keys: %w", table, outOfMemory(err))
		}
		if err := d.count(ctx, table); err != nil {
			return err
		}
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`DROP VIEW IF EXISTS %q`, view)); err != nil {
		return fmt.Errorf("load %s: %w", table, err)
	}
	return nil
}

// LoadParquet creates table from Parquet files, read in the order given,
// one file at a time; progress, if not nil, is called after each file
// with the number of files loaded.
func (d *DB) LoadParquet(ctx context.Context, table string, paths []string, progress func(done int)) error {
	if err := d.loading(); err != nil {
		return err
	}
	if !inventory.ValidIdent(table) {
		return fmt.Errorf("load: table name %q is not a lower-case identifier", table)
	}
	if len(paths) == 0 {
		return fmt.Errorf("load %s: no files given", table)
	}
	cols, err := d.selected()
	if err != nil {
		return err
	}
	for i, p := range paths {
		stmt := `CREATE TABLE %q AS SELECT %s FROM %s`
		if i > 0 {
			stmt = `INSERT INTO %q SELECT %s FROM %s`
		}
		sel, from := d.keyed(cols, p)
		q := fmt.Sprintf(stmt, table, sel, from)
		if _, err := d.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("load %s: %w", p, outOfMemory(err))
		}
		if err := d.count(ctx, table); err != nil {
			return err
		}
		if err := d.Fit(ctx, i+1, len(paths)); err != nil {
			return err
		}
		if progress != nil {
			progress(i + 1)
		}
	}
	return nil
}

// FileColumns lists the columns of a Parquet file, read from its
// metadata, for a load of some columns to check what it leaves out.
func (d *DB) FileColumns(ctx context.Context, path string) ([]string, error) {
	if err := d.loading(); err != nil {
		return nil, err
	}
	rows, err := d.db.QueryContext(ctx, fmt.Sprintf(`SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet('%s'))`, strings.ReplaceAll(path, "'", "''")))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// AppendParquet adds the records of a Parquet file to a table made by
// LoadParquet or LoadArrow.
func (d *DB) AppendParquet(ctx context.Context, table, path string) error {
	if err := d.loading(); err != nil {
		return err
	}
	if !inventory.ValidIdent(table) {
		return fmt.Errorf("load: table name %q is not a lower-case identifier", table)
	}
	cols, err := d.selected()
	if err != nil {
		return err
	}
	sel, from := d.keyed(cols, path)
	q := fmt.Sprintf(`INSERT INTO %q SELECT %s FROM %s`, table, sel, from)
	if _, err := d.db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("load %s: %w", path, outOfMemory(err))
	}
	return d.count(ctx, table)
}

// keyed is the select list and source of a Parquet load: with keys, the
// key of each record from its row number in the file.
func (d *DB) keyed(cols, path string) (sel, from string) {
	from = fmt.Sprintf("read_parquet('%s')", strings.ReplaceAll(path, "'", "''"))
	k := d.opt.Keys
	if k == nil {
		return cols, from
	}
	if cols == "*" {
		cols = "* EXCLUDE (file_row_number)"
	}
	from = fmt.Sprintf("read_parquet('%s', file_row_number = true)", strings.ReplaceAll(path, "'", "''"))
	return fmt.Sprintf("%s, %s AS %q", cols, k.expr(fmt.Sprintf("(%d + file_row_number)::BIGINT", d.loaded)), k.Column), from
}

// count notes how many records table holds: where the next load's
// positions start.
func (d *DB) count(ctx context.Context, table string) error {
	if d.opt.Keys == nil {
		return nil
	}
	row := d.db.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM %q`, table))
	if err := row.Scan(&d.loaded); err != nil {
		return fmt.Errorf("load %s: %w", table, err)
	}
	return nil
}

// Seal ends the loading phase: external access off, configuration locked.
// It cannot be undone.
func (d *DB) Seal(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sealed {
		return nil
	}
	for _, s := range seal {
		if _, err := d.db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("seal duckdb (%s): %w", s, err)
		}
	}
	d.sealed = true
	return nil
}

// QueryContext runs a query on the sealed database.
func (d *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	d.mu.Lock()
	sealed := d.sealed
	d.mu.Unlock()
	if !sealed {
		return nil, ErrNotSealed
	}
	return d.db.QueryContext(ctx, query, args...)
}

// Columns returns the column names and DuckDB types of a loaded table.
func (d *DB) Columns(ctx context.Context, table string) (map[string]string, error) {
	rows, err := d.db.QueryContext(ctx,
		`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?`, table)
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", table, err)
	}
	defer rows.Close()
	cols := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, fmt.Errorf("describe %s: %w", table, err)
		}
		cols[name] = typ
	}
	return cols, rows.Err()
}

// Close frees the database and all data in it.
func (d *DB) Close() error {
	return errors.Join(d.db.Close(), d.connector.Close())
}
