// Package bench holds whole-process benchmarks: the built `persona`
// binary, run as an analyst runs it, against other programs doing the
// same job. The test binary itself links no DuckDB: it builds `persona`
// and a small DuckDB helper (internal/duckhelper) once per run and execs
// them, so `go test ./...` stays cheap and, without -bench, runs only
// the parsers' unit tests.
//
//	BENCH_ROWS=1000000,10000000 go test -tags duckdb_arrow -run '^$' \
//	    -bench 'FrequencyTable|QueryMemory' -benchtime 1x -timeout 0 ./bench/
//
// BENCH_ROWS (default 1000000) lists the sizes, each a sub-benchmark;
// BENCH_ROUNDS (default 3) the rounds of each measurement. Every figure
// is a median of rounds run alternately in the same run; nothing is a
// timed assertion.
package bench

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runDir holds everything a run makes: the binaries, the samples and
// packages, the CSV files. TestMain removes it.
var runDir string

func TestMain(m *testing.M) {
	var err error
	runDir, err = os.MkdirTemp("", "persona-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		os.RemoveAll(runDir)
		os.Exit(1)
	}()
	code := m.Run()
	os.RemoveAll(runDir)
	os.Exit(code)
}

// tools are the binaries a run builds, once.
var tools struct {
	once    sync.Once
	persona string
	helper  string
	err     error
}

func buildTools(b *testing.B) (persona, helper string) {
	b.Helper()
	tools.once.Do(func() {
		root, err := filepath.Abs("..")
		if err == nil {
			_, err = os.Stat(filepath.Join(root, "go.mod"))
		}
		if err != nil {
			tools.err = fmt.Errorf("module root: %w", err)
			return
		}
		start := time.Now()
		tools.persona = filepath.Join(runDir, "bin", "persona")
		tools.helper = filepath.Join(runDir, "bin", "duckhelper")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, t := range [][2]string{{tools.persona, "./cmd/persona"}, {tools.helper, "./bench/internal/duckhelper"}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command("go", "build", "-tags", "duckdb_arrow", "-o", t[0], t[1])
				cmd.Dir = root
				if out, err := cmd.CombinedOutput(); err != nil {
					errs[i] = fmt.Errorf("go build %s: %v\n%s", t[1], err, out)
				}
			}()
		}
		wg.Wait()
		tools.err = errors.Join(errs...)
		if tools.err == nil {
			b.Logf("built persona and duckhelper in %s", time.Since(start).Round(time.Second))
		}
	})
	if tools.err != nil {
		b.Fatal(tools.err)
	}
	return tools.persona, tools.helper
}

// benchRows are the sizes from BENCH_ROWS.
func benchRows(b *testing.B) []int64 {
	s := os.Getenv("BENCH_ROWS")
	if s == "" {
		return []int64{1_000_000}
	}
	var rows []int64
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil || n < 1 {
			b.Fatalf("BENCH_ROWS=%q: %q is not a positive number", s, f)
		}
		rows = append(rows, n)
	}
	return rows
}

func benchRounds(b *testing.B) int {
	s := os.Getenv("BENCH_ROUNDS")
	if s == "" {
		return 3
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		b.Fatalf("BENCH_ROUNDS=%q is not a positive number", s)
	}
	return n
}

// fixture is one size's sample and the licensed package made from it
// through the command line, in a workspace of its own.
type fixture struct {
	rows    int64
	persona string
	helper  string
	dir     string
	data    string // the licensor's plaintext sample
	pkg     string
	env     []string // PERSONA_HOME and PERSONA_PASSPHRASE_FILE set
}

var fixtures struct {
	sync.Mutex
	m map[int64]*fixture
}

// licensed returns the package of rows records, making it the first time
// (both benchmarks of a run share it): keygen, sample, enrol, pack for
// the enrolled analyst, trust the licensor's key, as e2e's setupLicensed
// does, so that `persona query` runs unattended.
func licensed(b *testing.B, rows int64) *fixture {
	b.Helper()
	persona, helper := buildTools(b)
	fixtures.Lock()
	defer fixtures.Unlock()
	if f := fixtures.m[rows]; f != nil {
		return f
	}
	dir := filepath.Join(runDir, fmt.Sprintf("rows-%d", rows))
	f := &fixture{rows: rows, persona: persona, helper: helper, dir: dir,
		data: filepath.Join(dir, "licensor", "data"), pkg: filepath.Join(dir, "inbox", "bench.persona")}
	pass := filepath.Join(dir, "passphrase")
	if err := os.MkdirAll(filepath.Dir(f.pkg), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(pass, []byte("correct horse battery staple\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	f.env = append(os.Environ(), "LANG=C.UTF-8", "PERSONA_HOME="+filepath.Join(dir, "workspace"), "PERSONA_PASSPHRASE_FILE="+pass)
	keyDir := filepath.Join(dir, "licensor", "keys")
	f.cli(b, "keygen", "--out", keyDir)
	start := time.Now()
	f.cli(b, "sample", "--rows", strconv.FormatInt(rows, 10), "--out", f.data, "--quiet")
	sampled := time.Since(start)
	var terms struct {
		ID string `json:"licence_id"`
	}
	t, err := os.ReadFile(filepath.Join(f.data, "terms.json"))
	if err == nil {
		err = json.Unmarshal(t, &terms)
	}
	if err != nil {
		b.Fatal(err)
	}
	enrolment := filepath.Join(dir, "analyst.json")
	if err := os.WriteFile(enrolment, f.cli(b, "enrol", "--licence", terms.ID, "--name", "bench", "--role", "analyst"), 0o644); err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	f.cli(b, "pack", "--data", f.data, "--terms", filepath.Join(f.data, "terms.json"),
		"--enrolment", enrolment, "--key", filepath.Join(keyDir, "provider.key"), "--out", f.pkg)
	packed := time.Since(start)
	f.cli(b, "trust", filepath.Join(keyDir, "provider.pub"))
	st, err := os.Stat(f.pkg)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d records: persona sample %s, persona pack %s, package %d MB",
		rows, sampled.Round(100*time.Millisecond), packed.Round(100*time.Millisecond), st.Size()>>20)
	if fixtures.m == nil {
		fixtures.m = map[int64]*fixture{}
	}
	fixtures.m[rows] = f
	return f
}

// unlock runs `persona unlock` for the fixture's licence and returns the
// `persona lock` to run when done: the other benchmarks measure opening
// with the passphrase.
func (f *fixture) unlock(b *testing.B) (lock func()) {
	b.Helper()
	f.cli(b, "unlock", "--for", "12h")
	return func() { f.cli(b, "lock") }
}

// cli runs persona with the fixture's workspace and returns its stdout.
func (f *fixture) cli(b *testing.B, args ...string) []byte {
	b.Helper()
	cmd := exec.Command(f.persona, args...)
	cmd.Env = f.env
	cmd.Dir = f.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		b.Fatalf("persona %s: %v\n%s", strings.Join(args, " "), err, errb.Bytes())
	}
	return out.Bytes()
}

// measured is one whole-process run.
type measured struct {
	wall time.Duration
	rss  int64 // peak resident set size, bytes
}

// timed runs cmd to completion, stdout to the file out (or nowhere), and
// measures it: wall time from start to exit, the child's peak RSS.
func timed(cmd *exec.Cmd, out string) (measured, error) {
	var errb bytes.Buffer
	cmd.Stderr = &errb
	cmd.SysProcAttr = childAttr()
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return measured{}, err
		}
		defer f.Close()
		cmd.Stdout = f
	}
	start := time.Now()
	err := cmd.Run()
	m := measured{wall: time.Since(start)}
	if err != nil {
		return m, fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, errb.Bytes())
	}
	m.rss = maxRSS(cmd.ProcessState)
	return m, nil
}

// freqScript is the VisiData command log that makes the frequency table:
// open the CSV named by the replay's csv=PATH argument, then freq-col
// (Shift+F) on the province column. `vd -b` replays it with no interface
// and -o saves the sheet it ends on, the frequency table.
const freqScript = `#!vd -p
{"sheet": "", "col": "", "row": "", "longname": "open-file", "input": "$csv", "keystrokes": "o", "comment": null}
{"sheet": "", "col": "province", "row": "", "longname": "freq-col", "input": "", "keystrokes": "Shift+F", "comment": null}
`

// vdCommand is VisiData's whole job: read csvPath, count records by
// province, write the table to out as CSV. -N: no ~/.visidatarc nor
// plugins.
func vdCommand(script, csvPath, out string) *exec.Cmd {
	return exec.Command("vd", "-N", "-b", "-p", script, "csv="+csvPath, "-o", out)
}

// BenchmarkFrequencyTable times, end to end, one frequency table of the
// province column: VisiData in batch mode reading the records as CSV and
// writing the table to a file, against `persona query PKG --by province
// --format csv` on the encrypted package (open, verify, decrypt in
// memory, load into DuckDB, guard, usage log, print), twice: with the
// licence's keys unlocked beforehand by `persona unlock`, as through an
// analyst's sitting, and in a copy of the workspace where each run asks
// for the passphrase and derives the key from it (age's scrypt). Rounds
// rotate which runs first. The tables are checked: the counts must be
// equal, province by province, and sum to the number of records.
func BenchmarkFrequencyTable(b *testing.B) {
	if _, err := exec.LookPath("vd"); err != nil {
		b.Fatal("VisiData is not installed: apt-get install visidata")
	}
	for _, rows := range benchRows(b) {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			f := licensed(b, rows)
			rounds := benchRounds(b)
			csvPath := filepath.Join(f.dir, "personas.csv")
			defer os.Remove(csvPath)
			start := time.Now()
			if _, err := timed(exec.Command(f.helper, "csv", f.data, csvPath), ""); err != nil {
				b.Fatal(err)
			}
			st, err := os.Stat(csvPath)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%d records written as CSV (%d MB) in %s", rows, st.Size()>>20, time.Since(start).Round(100*time.Millisecond))
			script := filepath.Join(f.dir, "freq.vdj")
			if err := os.WriteFile(script, []byte(freqScript), 0o644); err != nil {
				b.Fatal(err)
			}
			vdOut := filepath.Join(f.dir, "visidata-freq.csv")
			pOut := filepath.Join(f.dir, "persona-freq.csv")
			defer os.Remove(vdOut)
			defer os.Remove(pOut)

			visidata := func() (measured, error) {
				os.Remove(vdOut)
				cmd := vdCommand(script, csvPath, vdOut)
				cmd.Dir = f.dir
				cmd.Env = append(os.Environ(), "HOME="+f.dir) // nothing of VisiData's in the real home
				m, err := timed(cmd, "")
				if err != nil {
					return m, err
				}
				return m, checkFreq(vdOut, parseVisiDataFreq, rows)
			}
			query := func(env []string) func() (measured, error) {
				return func() (measured, error) {
					cmd := exec.Command(f.persona, "query", f.pkg, "--by", "province", "--format", "csv")
					cmd.Env, cmd.Dir = env, f.dir
					m, err := timed(cmd, pOut)
					if err != nil {
						return m, err
					}
					return m, checkFreq(pOut, parsePersonaFreq, rows)
				}
			}
			// The cold runs use a copy of the workspace: keys unlocked
			// for one workspace are never used for another's.
			cold := filepath.Join(f.dir, "workspace-cold")
			os.RemoveAll(cold)
			if out, err := exec.Command("cp", "-a", filepath.Join(f.dir, "workspace"), cold).CombinedOutput(); err != nil {
				b.Fatalf("cp: %v: %s", err, out)
			}
			defer os.RemoveAll(cold)
			coldEnv := append(slices.Clone(f.env), "PERSONA_HOME="+cold)
			defer f.unlock(b)()
			var vdRuns, pRuns, coldRuns []measured
			for i := range rounds {
				order := []func(){
					func() { vdRuns = append(vdRuns, must(b, visidata)) },
					func() { pRuns = append(pRuns, must(b, query(f.env))) },
					func() { coldRuns = append(coldRuns, must(b, query(coldEnv))) },
				}
				for range i % len(order) {
					order = append(order[1:], order[0])
				}
				for _, run := range order {
					run()
				}
			}
			// The same counts, province by province.
			vdTable, err := readFreq(vdOut, parseVisiDataFreq)
			if err != nil {
				b.Fatal(err)
			}
			pTable, err := readFreq(pOut, parsePersonaFreq)
			if err != nil {
				b.Fatal(err)
			}
			if !equalCounts(vdTable, pTable) {
				b.Fatalf("VisiData and persona disagree:\nVisiData %v\npersona  %v", vdTable, pTable)
			}

			vd, p, c := median(vdRuns, wallOf), median(pRuns, wallOf), median(coldRuns, wallOf)
			ratio, coldRatio := vd.Seconds()/p.Seconds(), vd.Seconds()/c.Seconds()
			b.ReportMetric(vd.Seconds(), "visidata-s")
			b.ReportMetric(p.Seconds(), "persona-s")
			b.ReportMetric(c.Seconds(), "persona-passphrase-s")
			b.ReportMetric(ratio, "visidata/persona")
			b.ReportMetric(coldRatio, "visidata/persona-passphrase")
			b.Logf("%d records, frequency table of province (%d values), median of %d: VisiData %s (peak RSS %d MB); persona query with keys unlocked %s (peak RSS %d MB), VisiData/persona %.1f (target ≥ 30); asking the passphrase %s (peak RSS %d MB), VisiData/persona %.1f",
				rows, len(pTable), rounds, vd.Round(10*time.Millisecond), median(vdRuns, rssOf)>>20,
				p.Round(10*time.Millisecond), median(pRuns, rssOf)>>20, ratio,
				c.Round(10*time.Millisecond), median(coldRuns, rssOf)>>20, coldRatio)
		})
	}
}

// memory is duckhelper mem's report.
type memory struct {
	Records      int64            `json:"records"`
	Bytes        int64            `json:"duckdb_memory_bytes"`
	Tags         map[string]int64 `json:"tags"`
	DatabaseSize string           `json:"database_size_memory_usage"`
}

// BenchmarkQueryMemory measures the peak resident memory of the whole
// `persona query PKG --by help` process — which loads every field, the
// whole data set as the workbench holds it (a query of some fields loads
// only those) — against the memory DuckDB
// itself reports for the same records loaded into an in-memory table
// (duckhelper mem: CREATE TABLE … AS SELECT * FROM read_parquet([...]),
// then sum(memory_usage_bytes) of duckdb_memory()), and that loader's own
// peak. Target: persona's peak ≤ 1.5 × DuckDB's table memory + 200 MB,
// i.e. the reported ratio ≤ 1. Rounds alternate which runs first.
func BenchmarkQueryMemory(b *testing.B) {
	for _, rows := range benchRows(b) {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			f := licensed(b, rows)
			rounds := benchRounds(b)
			var last memory
			query := func() (measured, error) {
				cmd := exec.Command(f.persona, "query", f.pkg, "--by", "help")
				cmd.Env, cmd.Dir = f.env, f.dir
				return timed(cmd, "")
			}
			var duck []int64
			raw := func() (measured, error) {
				out := filepath.Join(f.dir, "duckmem.json")
				defer os.Remove(out)
				cmd := exec.Command(f.helper, "mem", f.data)
				cmd.Dir = f.dir
				m, err := timed(cmd, out)
				if err != nil {
					return m, err
				}
				j, err := os.ReadFile(out)
				if err != nil {
					return m, err
				}
				last = memory{}
				if err := json.Unmarshal(j, &last); err != nil {
					return m, fmt.Errorf("duckhelper mem: %v: %s", err, j)
				}
				if last.Records != rows || last.Bytes <= 0 {
					return m, fmt.Errorf("duckhelper mem loaded %d records, reports %d bytes: %s", last.Records, last.Bytes, j)
				}
				duck = append(duck, last.Bytes)
				return m, nil
			}
			var pRuns, rawRuns []measured
			for i := range rounds {
				order := []func(){
					func() { pRuns = append(pRuns, must(b, query)) },
					func() { rawRuns = append(rawRuns, must(b, raw)) },
				}
				if i%2 == 1 {
					slices.Reverse(order)
				}
				for _, run := range order {
					run()
				}
			}
			const mb = 1 << 20
			peak := float64(median(pRuns, rssOf)) / mb
			table := float64(medianInt(duck)) / mb
			rawPeak := float64(median(rawRuns, rssOf)) / mb
			ratio := peak / (1.5*table + 200)
			b.ReportMetric(peak, "persona-peak-MB")
			b.ReportMetric(table, "duckdb-table-MB")
			b.ReportMetric(rawPeak, "raw-peak-MB")
			b.ReportMetric(ratio, "peak/target")
			b.Logf("%d records, median of %d: persona query --by help (every field loaded) peak RSS %.0f MB (in %s); DuckDB reports %.0f MB for the loaded table (%s; database_size %s), its loader's peak RSS %.0f MB (in %s); target 1.5×%.0f+200 = %.0f MB, ratio %.2f (target ≤ 1)",
				rows, rounds, peak, median(pRuns, wallOf).Round(10*time.Millisecond), table, tags(last.Tags), last.DatabaseSize,
				rawPeak, median(rawRuns, wallOf).Round(10*time.Millisecond), table, 1.5*table+200, ratio)
		})
	}
}

func must(b *testing.B, run func() (measured, error)) measured {
	b.Helper()
	m, err := run()
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func wallOf(m measured) time.Duration { return m.wall }
func rssOf(m measured) int64          { return m.rss }

func median[T int64 | time.Duration](ms []measured, of func(measured) T) T {
	s := make([]T, len(ms))
	for i, m := range ms {
		s[i] = of(m)
	}
	slices.Sort(s)
	return s[len(s)/2]
}

func medianInt(v []int64) int64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// tags lists duckdb_memory()'s non-zero tags, largest first, in MB.
func tags(t map[string]int64) string {
	names := make([]string, 0, len(t))
	for n := range t {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(t[b], t[a]) })
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %.1f MB", n, float64(t[n])/(1<<20)))
	}
	return strings.Join(parts, ", ")
}

// A frequency table: count by value.
type freq map[string]int64

func readFreq(path string, parse func(io.Reader) (freq, error)) (freq, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return t, nil
}

// checkFreq reads a frequency table and checks that it counts every one
// of rows records.
func checkFreq(path string, parse func(io.Reader) (freq, error), rows int64) error {
	t, err := readFreq(path, parse)
	if err != nil {
		return err
	}
	if len(t) == 0 {
		return fmt.Errorf("%s: no rows", filepath.Base(path))
	}
	var sum int64
	for _, n := range t {
		sum += n
	}
	if sum != rows {
		return fmt.Errorf("%s: counts sum to %d, not %d records", filepath.Base(path), sum, rows)
	}
	return nil
}

// parseVisiDataFreq reads the frequency table VisiData saves as CSV:
// province,count,percent,histogram.
func parseVisiDataFreq(r io.Reader) (freq, error) {
	recs, err := readCSV(r)
	if err != nil {
		return nil, err
	}
	if len(recs[0]) < 2 || recs[0][0] != "province" || recs[0][1] != "count" {
		return nil, fmt.Errorf("header %q is not province,count,…", recs[0])
	}
	t := freq{}
	for _, rec := range recs[1:] {
		n, err := strconv.ParseInt(rec[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("count of %q: %w", rec[0], err)
		}
		if _, dup := t[rec[0]]; dup {
			return nil, fmt.Errorf("%q twice", rec[0])
		}
		t[rec[0]] = n
	}
	return t, nil
}

// parsePersonaFreq reads `persona query --by province --format csv`:
// province,people,withheld,reason,kind. A withheld cell is an error: the
// table would not count every record.
func parsePersonaFreq(r io.Reader) (freq, error) {
	recs, err := readCSV(r)
	if err != nil {
		return nil, err
	}
	h := recs[0]
	withheld, kind := slices.Index(h, "withheld"), slices.Index(h, "kind")
	if len(h) < 2 || h[0] != "province" || h[1] != "people" || withheld < 0 || kind < 0 {
		return nil, fmt.Errorf("header %q is not province,people,…,withheld,…,kind", h)
	}
	t := freq{}
	for _, rec := range recs[1:] {
		if rec[kind] != "cell" {
			continue
		}
		if rec[withheld] != "false" {
			return nil, fmt.Errorf("%q is withheld", rec[0])
		}
		n, err := strconv.ParseInt(rec[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("people of %q: %w", rec[0], err)
		}
		if _, dup := t[rec[0]]; dup {
			return nil, fmt.Errorf("%q twice", rec[0])
		}
		t[rec[0]] = n
	}
	return t, nil
}

func readCSV(r io.Reader) ([][]string, error) {
	cr := csv.NewReader(r)
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, errors.New("empty")
	}
	return recs, nil
}

func equalCounts(a, b freq) bool {
	if len(a) != len(b) {
		return false
	}
	for k, n := range a {
		if m, ok := b[k]; !ok || m != n {
			return false
		}
	}
	return true
}

// BenchmarkScale opens a package whole, as the workbench holds it
// (`persona query --by help` loads every field), then as `persona query`
// does for a slice — a province breakdown, the province × category
// heatmap, the 12-month series, each loading only its fields — timing
// each whole process and its peak memory, at each size of BENCH_ROWS
// (`make bench BENCH_SCALE=100M` runs it at 100M). Then, with a memory
// limit too small for the whole data even compressed, the whole open
// must fail with a one-line "does not fit in memory" error rather than
// run the machine out of memory.
func BenchmarkScale(b *testing.B) {
	for _, rows := range benchRows(b) {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			f := licensed(b, rows)
			cases := []struct {
				name string
				args []string
			}{
				{"whole", []string{"--by", "help"}},
				{"province", []string{"--by", "province"}},
				{"heatmap", []string{"--by", "province,categories"}},
				{"months", []string{"--by", "month", "--measure", "orders"}},
			}
			// BENCH_MEMORY_LIMIT caps DuckDB as --memory-limit does: 2GB
			// on 10M records is 100M records' proportion of this
			// machine's default cap, and makes the load compress.
			limitArgs := []string{}
			if l := os.Getenv("BENCH_MEMORY_LIMIT"); l != "" {
				limitArgs = []string{"--memory-limit", l}
			}
			for _, s := range cases {
				var runs []measured
				for range benchRounds(b) {
					cmd := exec.Command(f.persona, append(append([]string{"query", f.pkg, "--format", "csv"}, limitArgs...), s.args...)...)
					cmd.Env, cmd.Dir = f.env, f.dir
					runs = append(runs, must(b, func() (measured, error) { return timed(cmd, "") }))
				}
				wall, rss := median(runs, wallOf), median(runs, rssOf)
				b.ReportMetric(wall.Seconds(), s.name+"-s")
				b.ReportMetric(float64(rss>>20), s.name+"-peak-MB")
				b.Logf("%d records, %s: open and slice %s, peak RSS %d MB (median of %d)", rows, s.name, wall.Round(10*time.Millisecond), rss>>20, len(runs))
			}
			// A limit the data cannot fit in even compressed (about 50
			// bytes a record compressed): refused, in one line.
			limit := max(rows*20/1_000_000, 8)
			cmd := exec.Command(f.persona, "query", f.pkg, "--by", "help", "--memory-limit", fmt.Sprintf("%dMB", limit))
			cmd.Env, cmd.Dir = f.env, f.dir
			var errb bytes.Buffer
			cmd.Stderr = &errb
			cmd.SysProcAttr = childAttr()
			start := time.Now()
			err := cmd.Run()
			took := time.Since(start)
			msg := strings.TrimSpace(errb.String())
			if err == nil || !strings.Contains(msg, "does not fit in memory") || strings.Count(msg, "\n") > 1 {
				b.Fatalf("--memory-limit %dMB: want a one-line refusal, got %v:\n%s", limit, err, msg)
			}
			b.ReportMetric(took.Seconds(), "refused-s")
			b.Logf("%d records, --memory-limit %dMB: refused after %s, peak RSS %d MB: %s", rows, limit, took.Round(10*time.Millisecond), maxRSS(cmd.ProcessState)>>20, msg)
		})
	}
}
