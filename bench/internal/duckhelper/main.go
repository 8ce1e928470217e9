// Command duckhelper is the whole-process benchmarks' own use of DuckDB,
// kept out of the test binary so that `go test ./...` need not link it.
// The benchmarks build it once per run and exec it:
//
//	duckhelper csv DATA_DIR OUT.csv
//
// writes the records of a `persona sample` folder (the Parquet parts its
// inventory.json lists) to one CSV file with a header, every value as
// text: lists in DuckDB's text form, e.g. [美妆, 服饰].
//
//	duckhelper mem DATA_DIR
//
// loads the same parts into a table of a fresh in-memory DuckDB with
// default settings (CREATE TABLE t AS SELECT * FROM read_parquet([...]))
// and prints, as one JSON object, the memory DuckDB reports for it
// afterwards: the sum of duckdb_memory()'s memory_usage_bytes, each tag's
// share, and pragma database_size's memory_usage.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/persona-workbench/persona/engine/inventory"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "duckhelper:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: duckhelper csv DATA_DIR OUT.csv | duckhelper mem DATA_DIR")
	}
	inv, err := inventory.Load(filepath.Join(args[1], "inventory.json"))
	if err != nil {
		return err
	}
	parts := make([]string, len(inv.Files))
	for i, f := range inv.Files {
		parts[i] = quote(filepath.Join(args[1], f))
	}
	src := "read_parquet([" + strings.Join(parts, ", ") + "])"
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	// One connection: the statements below must see the same session.
	db.SetMaxOpenConns(1)
	switch {
	case args[0] == "csv" && len(args) == 3:
		_, err := db.ExecContext(ctx, fmt.Sprintf("COPY (SELECT * FROM %s) TO %s (FORMAT csv, HEADER)", src, quote(args[2])))
		return err
	case args[0] == "mem" && len(args) == 2:
		return mem(ctx, db, inv.Table, src)
	}
	return fmt.Errorf("unknown command %q", strings.Join(args, " "))
}

// Memory is what `duckhelper mem` prints.
type Memory struct {
	Records int64 `json:"records"`
	// Bytes is sum(memory_usage_bytes) of duckdb_memory() once loaded.
	Bytes int64 `json:"duckdb_memory_bytes"`
	// Tags is each non-zero tag's memory_usage_bytes.
	Tags map[string]int64 `json:"tags"`
	// DatabaseSize is pragma database_size's memory_usage, as DuckDB
	// prints it (e.g. "1.2 GiB").
	DatabaseSize string `json:"database_size_memory_usage"`
}

func mem(ctx context.Context, db *sql.DB, table, src string) error {
	if _, err := db.ExecContext(ctx, fmt.Sprintf("CREATE TABLE %q AS SELECT * FROM %s", table, src)); err != nil {
		return err
	}
	var m Memory
	if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %q", table)).Scan(&m.Records); err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, "SELECT tag, memory_usage_bytes FROM duckdb_memory()")
	if err != nil {
		return err
	}
	m.Tags = map[string]int64{}
	for rows.Next() {
		var tag string
		var n int64
		if err := rows.Scan(&tag, &n); err != nil {
			rows.Close()
			return err
		}
		m.Bytes += n
		if n != 0 {
			m.Tags[tag] = n
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	if err := db.QueryRowContext(ctx, "SELECT memory_usage FROM pragma_database_size()").Scan(&m.DatabaseSize); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(m)
}

// quote is s as an SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
