package pack

import (
	"bufio"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"
	"filippo.io/age"

	"github.com/persona-workbench/persona/engine/keys"
	"github.com/persona-workbench/persona/engine/licence"
	"github.com/persona-workbench/persona/engine/store"
	"github.com/persona-workbench/persona/sample"
)

// BenchmarkOpenVsRawLoad opens a package of PERSONA_BENCH_ROWS records
// (default 10M) — verify, decrypt in memory, load, check — side by side
// with DuckDB loading the same plaintext Parquet files itself, and
// reports the medians, their ratio and each one's peak resident memory.
func BenchmarkOpenVsRawLoad(b *testing.B) {
	rows := int64(10_000_000)
	if s := os.Getenv("PERSONA_BENCH_ROWS"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			b.Fatalf("PERSONA_BENCH_ROWS=%q is not a positive number", s)
		}
		rows = n
	}
	ctx := context.Background()
	dir := b.TempDir()
	data := filepath.Join(dir, "data")
	start := time.Now()
	if err := sample.WriteDir(ctx, data, sample.Options{Rows: rows, Seed: sample.DefaultSeed}); err != nil {
		b.Fatal(err)
	}
	pub, priv, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	ws, err := keys.Open(filepath.Join(dir, "ws"), true)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	terms := sample.Terms(now)
	e, err := ws.Enrol(terms.ID, "bench", "analyst", "", true)
	if err != nil {
		b.Fatal(err)
	}
	pkg := filepath.Join(dir, "bench.persona")
	if _, err := Pack(ctx, Options{DataDir: data, Terms: terms, Enrolments: []*licence.Enrolment{e}, Key: priv, Out: pkg, Now: now}); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(pkg)
	b.Logf("%d records: sample and pack in %s, package %d MB", rows, time.Since(start).Round(time.Second), st.Size()>>20)
	inv := sample.Inventory(rows, sample.DefaultSeed)
	paths := make([]string, len(inv.Files))
	for i, f := range inv.Files {
		paths[i] = filepath.Join(data, f)
	}

	raw := func() error {
		db, err := store.Open(ctx, store.Options{})
		if err != nil {
			return err
		}
		defer db.Close()
		return db.LoadParquet(ctx, inv.Table, paths, nil)
	}
	open := func() error {
		o, err := Open(ctx, pkg, OpenOptions{
			Trusted:  []minisign.PublicKey{pub},
			Identity: func(l *licence.Licence) (*age.X25519Identity, error) { return ws.Identity(l.ID, nil) },
		})
		if err != nil {
			return err
		}
		return o.Close()
	}
	var rawT, openT []time.Duration
	var rawMem, openMem []int64
	for i := 0; i < max(b.N, 3); i++ {
		for _, m := range []struct {
			run func() error
			t   *[]time.Duration
			mem *[]int64
		}{{raw, &rawT, &rawMem}, {open, &openT, &openMem}} {
			resetPeak()
			t0 := time.Now()
			if err := m.run(); err != nil {
				b.Fatal(err)
			}
			*m.t = append(*m.t, time.Since(t0))
			*m.mem = append(*m.mem, peakRSS())
		}
	}
	r, o := median(rawT), median(openT)
	b.ReportMetric(float64(o)/float64(r), "open/raw")
	b.ReportMetric(o.Seconds(), "open-s")
	b.ReportMetric(r.Seconds(), "raw-s")
	b.Logf("raw DuckDB load median %s (peak RSS %d MB); persona open median %s (peak RSS %d MB); ratio %.2f",
		r.Round(time.Millisecond), slices.Max(rawMem)>>20, o.Round(time.Millisecond), slices.Max(openMem)>>20, float64(o)/float64(r))
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// resetPeak resets the process's peak resident set size (Linux).
func resetPeak() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is the peak resident set size since the last reset, in bytes.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
