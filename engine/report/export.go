package report

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/persona-workbench/persona/engine/slice"
)

// Formats an export or report may be written in, by file extension.
var (
	ExportFormats = []string{"csv", "json", "parquet"}
	ReportFormats = []string{"html", "md"}
)

// FormatOf returns the format a file name's extension asks for ("csv",
// "json", "parquet", "html" or "md"), or an error naming those allowed.
func FormatOf(path string, allowed []string) (string, error) {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	switch ext {
	case "htm":
		ext = "html"
	case "markdown":
		ext = "md"
	}
	for _, a := range allowed {
		if ext == a {
			return ext, nil
		}
	}
	return "", fmt.Errorf("%s: the file name must end in .%s", path, strings.Join(allowed, ", ."))
}

// WriteExport writes a slice's released result in format (csv, json or
// parquet) with the watermark: in CSV as comment lines (#) before the
// header, in JSON as a "watermark" object beside the "result", in
// Parquet as the file's key-value metadata (persona.*). Numbers are
// written as slice.Result.WriteCSV and WriteJSON write them: withheld
// cells are empty, with withheld=true and the reason.
func WriteExport(w io.Writer, res *slice.Result, mark Watermark, format string) error {
	switch format {
	case "csv":
		var b strings.Builder
		b.WriteString("# persona export · 数据导出（仅含隐私保护已放行的汇总数字 · released aggregates only）\n")
		for _, kv := range mark.pairs(res) {
			fmt.Fprintf(&b, "# %s: %s\n", kv[0], strings.NewReplacer("\n", " ", "\r", " ").Replace(kv[1]))
		}
		for i, rec := range res.CSVRecords() {
			if i > 0 {
				for j := range res.Dims {
					rec[j] = defuse(rec[j])
				}
			}
			b.WriteString(csvLine(rec))
		}
		_, err := io.WriteString(w, b.String())
		return err
	case "json":
		var body bytes.Buffer
		if err := res.WriteJSON(&body); err != nil {
			return err
		}
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Watermark Watermark       `json:"watermark"`
			Query     QueryText       `json:"query"`
			Result    json.RawMessage `json:"result"`
		}{mark, QueryOf(res.Query), body.Bytes()})
	case "parquet":
		return writeParquet(w, res, mark)
	}
	return fmt.Errorf("unknown export format %q: use csv, json or parquet", format)
}

// QueryText is a slice's query as exports and the usage log write it.
type QueryText struct {
	By      []string            `json:"by,omitempty"`
	Where   map[string][]string `json:"where,omitempty"`
	Measure string              `json:"measure"`
	Order   string              `json:"order,omitempty"`
	Top     int                 `json:"top,omitempty"`
	Totals  bool                `json:"totals,omitempty"`
	Other   bool                `json:"other,omitempty"`
}

// QueryOf returns q as exports write it.
func QueryOf(q slice.Query) QueryText {
	t := QueryText{By: q.Dims, Where: q.Filters, Measure: q.Measure, Order: q.Order.String(), Top: q.TopN, Totals: q.Totals, Other: q.Other}
	if len(t.Where) == 0 {
		t.Where = nil
	}
	return t
}

// defuse keeps a spreadsheet from running a data value as a formula:
// a value that starts with = + - @ or a control character gets a
// leading apostrophe, as spreadsheets themselves mark text.
func defuse(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// csvLine writes one CSV record (RFC 4180). Written here rather than
// with encoding/csv, which cannot be told to quote a field: a first
// field that starts with # is quoted, so that no data row reads as one
// of the watermark's comment lines.
func csvLine(rec []string) string {
	var b strings.Builder
	for i, f := range rec {
		if i > 0 {
			b.WriteByte(',')
		}
		if strings.ContainsAny(f, ",\"\r\n") || strings.HasPrefix(f, " ") || strings.HasSuffix(f, " ") || i == 0 && strings.HasPrefix(f, "#") {
			f = `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
		}
		b.WriteString(f)
	}
	b.WriteByte('\n')
	return b.String()
}

// pairs are the watermark's fields and the query, as the file's header
// or metadata names them.
func (w Watermark) pairs(res *slice.Result) [][2]string {
	q, _ := json.Marshal(QueryOf(res.Query))
	return [][2]string{{"persona.licence", w.Licence}, {"persona.licensee", w.Licensee}, {"persona.person", w.Person},
		{"persona.time", w.Time.UTC().Format("2006-01-02T15:04:05Z")}, {"persona.tool", w.Tool},
		{"persona.k", strconv.Itoa(res.K)}, {"persona.method", res.Method}, {"persona.bound", strconv.Itoa(res.Bound)},
		{"persona.protection", res.Protection("en")}, {"persona.query", string(q)}}
}

// writeParquet writes the rows as WriteCSV does, typed: a string column
// per dimension, the measure as a double, people as an integer (null
// when withheld), withheld, reason and kind.
func writeParquet(w io.Writer, res *slice.Result, mark Watermark) error {
	var fields []arrow.Field
	for _, d := range res.Dims {
		fields = append(fields, arrow.Field{Name: d.Name, Type: arrow.BinaryTypes.String, Nullable: true})
	}
	fields = append(fields, arrow.Field{Name: res.Measure.Name, Type: arrow.PrimitiveTypes.Float64, Nullable: true})
	if res.ShowsPeople() {
		fields = append(fields, arrow.Field{Name: "people", Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	}
	fields = append(fields, arrow.Field{Name: "withheld", Type: arrow.FixedWidthTypes.Boolean},
		arrow.Field{Name: "reason", Type: arrow.BinaryTypes.String, Nullable: true}, arrow.Field{Name: "kind", Type: arrow.BinaryTypes.String})
	var keys, vals []string
	for _, kv := range mark.pairs(res) {
		keys, vals = append(keys, kv[0]), append(vals, kv[1])
	}
	md := arrow.NewMetadata(keys, vals)
	schema := arrow.NewSchema(fields, &md)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	n := len(res.Dims)
	add := func(row slice.Row, summed []bool, kind string) {
		for i := range n {
			sb := b.Field(i).(*array.StringBuilder)
			if summed != nil && summed[i] {
				sb.AppendNull()
			} else {
				sb.Append(row.Keys[i])
			}
		}
		i := n
		if row.Defined() {
			b.Field(i).(*array.Float64Builder).Append(row.Value)
		} else {
			b.Field(i).(*array.Float64Builder).AppendNull()
		}
		i++
		if res.ShowsPeople() {
			if row.Suppressed {
				b.Field(i).(*array.Int64Builder).AppendNull()
			} else {
				b.Field(i).(*array.Int64Builder).Append(row.People)
			}
			i++
		}
		b.Field(i).(*array.BooleanBuilder).Append(row.Suppressed)
		if row.Suppressed {
			b.Field(i + 1).(*array.StringBuilder).Append(row.Reason.String())
		} else {
			b.Field(i + 1).(*array.StringBuilder).AppendNull()
		}
		b.Field(i + 2).(*array.StringBuilder).Append(kind)
	}
	for _, row := range res.Rows {
		add(row, nil, "cell")
	}
	for _, x := range res.Extras() {
		add(x.Row, x.Summed, x.Kind)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCreatedBy(mark.Tool))
	fw, err := pqarrow.NewFileWriter(schema, w, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return fmt.Errorf("write parquet: %w", err)
	}
	if err := fw.Write(rec); err != nil {
		fw.Close()
		return fmt.Errorf("write parquet: %w", err)
	}
	return fw.Close()
}

// Written is a file written by Publish.
type Written struct {
	Path   string `json:"path"` // absolute
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// ErrExists is returned by Publish when the file is there already and
// overwriting was not asked for.
var ErrExists = errors.New("the file exists")

// Publish writes a file whole or not at all, and never where the usage
// log does not say it is: write fills a buffer in memory (exports and
// reports hold aggregates, so they are small), record is then given the
// file's final path, size and SHA-256 (to put them in the usage log),
// and only if it succeeds is the file written — to a temporary file
// beside path (".NAME.RANDOM.part", which the licence's deletion also
// looks for), synced, then given its name. An existing file is replaced
// only with overwrite; without it, a file that appears meanwhile is not
// replaced either.
func Publish(path string, overwrite bool, write func(io.Writer) error, record func(Written) error) (Written, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Written{}, err
	}
	if st, err := os.Lstat(abs); err == nil {
		if st.IsDir() {
			return Written{}, fmt.Errorf("%s is a folder, not a file", abs)
		}
		if !overwrite {
			return Written{}, fmt.Errorf("%s: %w", abs, ErrExists)
		}
	}
	var body bytes.Buffer
	if err := write(&body); err != nil {
		return Written{}, err
	}
	sum := sha256.Sum256(body.Bytes())
	out := Written{Path: abs, Size: int64(body.Len()), SHA256: hex.EncodeToString(sum[:])}
	if record != nil {
		if err := record(out); err != nil {
			return Written{}, err
		}
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := PartFile(abs, hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Written{}, fmt.Errorf("write %s: %w", abs, err)
	}
	_, err = f.Write(body.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if overwrite {
			err = os.Rename(tmp, abs)
		} else if err = os.Link(tmp, abs); err == nil || errors.Is(err, os.ErrExist) {
			os.Remove(tmp)
		} else if _, serr := os.Lstat(abs); errors.Is(serr, os.ErrNotExist) {
			err = os.Rename(tmp, abs) // a file system without hard links
		}
	}
	if err != nil {
		os.Remove(tmp)
		if errors.Is(err, os.ErrExist) {
			return Written{}, fmt.Errorf("%s: %w", abs, ErrExists)
		}
		return Written{}, fmt.Errorf("write %s: %w", abs, err)
	}
	if d, err := os.Open(filepath.Dir(abs)); err == nil {
		d.Sync()
		d.Close()
	}
	return out, nil
}

// PartFile is the temporary name Publish writes path under first; a
// crash can leave one behind, and the licence's deletion removes any it
// finds beside a recorded export (PartFiles).
func PartFile(path, random string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+random+".part")
}

// PartFiles returns the temporary files Publish may have left beside
// path.
func PartFiles(path string) []string {
	entries, _ := os.ReadDir(filepath.Dir(path))
	var out []string
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, "."+filepath.Base(path)+".") && strings.HasSuffix(n, ".part") && e.Type().IsRegular() {
			out = append(out, filepath.Join(filepath.Dir(path), n))
		}
	}
	return out
}
