package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/spf13/pflag"

	"github.com/persona-workbench/persona/engine/dataset"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/engine/store"
	"github.com/persona-workbench/persona/sample"
)

// source says where a command's data comes from: a folder written by
// `persona sample`, or a sample generated in memory.
type source struct {
	dir         string
	rows        int64
	seed        uint64
	k           int
	threads     int
	memoryLimit string
}

func (s *source) flags(fs *pflag.FlagSet) {
	fs.StringVar(&s.dir, "data", "", "folder written by `persona sample` (default: a sample generated in memory)")
	fs.Int64Var(&s.rows, "rows", sample.DefaultRows, "records of the in-memory sample (without --data)")
	fs.Uint64Var(&s.seed, "seed", sample.DefaultSeed, "seed of the in-memory sample (without --data)")
	fs.IntVar(&s.k, "k", slice.DefaultK, "minimum group size: cells behind fewer people are withheld")
	fs.IntVar(&s.threads, "threads", 0, "DuckDB worker threads (default: one per core)")
	fs.StringVar(&s.memoryLimit, "memory-limit", "", "DuckDB memory cap such as 4GB (default: 80% of RAM)")
}

// describe says what open will load, for a progress line.
func (s *source) describe() string {
	if s.dir != "" {
		return "loading " + s.dir
	}
	return fmt.Sprintf("generating %d synthetic records in memory (seed %d)", s.rows, s.seed)
}

func (s *source) open(ctx context.Context) (*dataset.Dataset, error) {
	if s.k < 2 {
		return nil, withHint(fmt.Errorf("--k must be at least 2, got %d", s.k), "the default is 10")
	}
	p := newProgress()
	defer p.done()
	opt := dataset.Options{K: s.k, Store: store.Options{Threads: s.threads, MemoryLimit: s.memoryLimit}}
	opt.Progress = func(step string, done, total int) {
		if step == "load" {
			p.show(fmt.Sprintf("loading: file %d of %d", done, total))
		} else {
			p.show("checking the data against its inventory…")
		}
	}
	if s.dir != "" {
		if st, err := os.Stat(s.dir); err != nil || !st.IsDir() {
			return nil, withHint(fmt.Errorf("--data %s is not a folder", s.dir), "generate one with `persona sample --out DIR`")
		}
		return dataset.OpenDir(ctx, s.dir, opt)
	}
	if s.rows < 1 || s.rows > sample.MaxRows {
		return nil, withHint(fmt.Errorf("--rows must be between 1 and %d, got %d", sample.MaxRows, s.rows), "the demo uses 200000")
	}
	r, err := sample.NewReader(ctx, sample.Options{Rows: s.rows, Seed: s.seed, Progress: func(done int64) {
		p.show(fmt.Sprintf("generating: %d of %d records (%.0f%%)", done, s.rows, 100*float64(done)/float64(s.rows)))
	}})
	if err != nil {
		return nil, err
	}
	defer r.Release()
	return dataset.OpenArrow(ctx, sample.Inventory(s.rows, s.seed), r, opt)
}

// lang picks the interface language: --lang, else the locale.
func lang(flag string) (string, error) {
	switch flag {
	case "zh", "zh-CN", "en":
		return flag[:2], nil
	case "":
	default:
		return "", withHint(fmt.Errorf("unknown language %q", flag), "use --lang zh or --lang en")
	}
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if l := os.Getenv(v); l != "" {
			if strings.HasPrefix(l, "zh") {
				return "zh", nil
			}
			return "en", nil
		}
	}
	return "en", nil
}

// progress shows one line of progress on stderr, rewritten in place, when
// stderr is a terminal; elsewhere it stays silent.
type progress struct {
	on    bool
	mu    sync.Mutex
	last  time.Time
	shown bool
}

func newProgress() *progress {
	return &progress{on: isatty.IsTerminal(os.Stderr.Fd())}
}

func (p *progress) show(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.on || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.shown = true
	fmt.Fprintf(os.Stderr, "\r\x1b[K%s", line)
}

// done clears the line.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(os.Stderr, "\r\x1b[K")
	}
}
