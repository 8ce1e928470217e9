package sample

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"golang.org/x/sync/errgroup"
)

// PartRows is the number of records per Parquet file. The Parquet writer
// is single-threaded, so parts are written in parallel, one per core.
const PartRows = 1 << 20

// WriteDir generates the sample into dir: personas-NNNNN.parquet parts and
// inventory.json. Files are written under temporary names and renamed
// into place only when all are complete, so a failed or cancelled run
// leaves nothing half-written.
func WriteDir(ctx context.Context, dir string, opt Options) (err error) {
	if opt.Rows <= 0 || opt.Rows > MaxRows {
		return fmt.Errorf("rows must be between 1 and %d, got %d", MaxRows, opt.Rows)
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create output folder: %w", err)
		}
		defer func() {
			if err != nil {
				os.Remove(dir) // only if still empty
			}
		}()
	}
	// Never mix a new sample with an old one's parts.
	if old, _ := filepath.Glob(filepath.Join(dir, TableName+"-*.parquet")); len(old) > 0 {
		return fmt.Errorf("%s already holds a sample (%s): choose an empty folder or delete it first", dir, filepath.Base(old[0]))
	}
	if _, err := os.Stat(filepath.Join(dir, "inventory.json")); err == nil {
		return fmt.Errorf("%s already holds an inventory.json: choose an empty folder or delete it first", dir)
	}
	inv := Inventory(opt.Rows, opt.Seed)
	tmp := func(name string) string { return filepath.Join(dir, "."+name+".tmp") }
	written := []string{}
	defer func() {
		if err != nil {
			for _, name := range written {
				os.Remove(tmp(name))
			}
		}
	}()

	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	var (
		progress sync.Mutex
		done     int64
	)
	for i, name := range inv.Files {
		written = append(written, name)
		part := Options{First: int64(i) * PartRows, Seed: opt.Seed, Workers: 1}
		part.Rows = min(PartRows, opt.Rows-part.First)
		if opt.Progress != nil {
			var last int64 // this part's records reported so far
			part.Progress = func(n int64) {
				progress.Lock()
				defer progress.Unlock()
				done += n - last
				last = n
				opt.Progress(done)
			}
		}
		g.Go(func() error { return writeParquet(gctx, tmp(name), part) })
	}
	if err := g.Wait(); err != nil {
		return err
	}

	written = append(written, "inventory.json")
	f, err := os.OpenFile(tmp("inventory.json"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	if err := inv.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("write inventory: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	for _, name := range written {
		if err := os.Rename(tmp(name), filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// partNames names the Parquet parts of a sample of n records.
func partNames(n int64) []string {
	var out []string
	for i := int64(0); i*PartRows < n; i++ {
		out = append(out, fmt.Sprintf("%s-%05d.parquet", TableName, i))
	}
	return out
}

func writeParquet(ctx context.Context, path string, opt Options) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write parquet: %w", err)
	}
	defer f.Close()
	r, err := NewReader(ctx, opt)
	if err != nil {
		return err
	}
	defer r.Release()
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(1),
		parquet.WithDictionaryDefault(true),
		parquet.WithMaxRowGroupLength(PartRows),
	)
	w, err := pqarrow.NewFileWriter(Schema, f, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return fmt.Errorf("write parquet: %w", err)
	}
	for r.Next() {
		if err := w.WriteBuffered(r.RecordBatch()); err != nil {
			w.Close()
			return fmt.Errorf("write parquet: %w", err)
		}
	}
	if err := r.Err(); err != nil {
		w.Close()
		return fmt.Errorf("generate: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("write parquet: %w", err)
	}
	return nil
}
