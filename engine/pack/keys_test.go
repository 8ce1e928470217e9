package pack

import (
	"archive/tar"
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// The seed of the records' keys, which a package under the cell key
// method carries after its inventory, is read strictly: anything else
// in its place is a damaged payload, said in one line.
func TestReadKeys(t *testing.T) {
	entry := func(name, body string) *tar.Reader {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		if err := writeEntry(tw, name, strings.NewReader(body), int64(len(body)), time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
		tw.Close()
		return tar.NewReader(&b)
	}
	good := `{"format":"persona-record-keys","version":1,"seed":"00000000000000ff"}`
	seed, err := readKeys(entry(KeysEntry, good))
	if err != nil || seed == nil || *seed != 255 {
		t.Fatalf("readKeys = %v, %v; want 255", seed, err)
	}
	for _, tt := range []struct{ name, entry, body, msg string }{
		{"a data part in its place", "personas-00000.parquet", "PAR1", "holds no record keys"},
		{"not JSON", KeysEntry, "seed", KeysEntry},
		{"unknown key", KeysEntry, `{"format":"persona-record-keys","version":1,"seed":"00000000000000ff","extra":1}`, "unknown field"},
		{"short seed", KeysEntry, `{"format":"persona-record-keys","version":1,"seed":"ff"}`, "not a persona-record-keys version 1 seed"},
		{"not hex", KeysEntry, `{"format":"persona-record-keys","version":1,"seed":"zz00000000000000"}`, "not a persona-record-keys version 1 seed"},
		{"other version", KeysEntry, `{"format":"persona-record-keys","version":2,"seed":"00000000000000ff"}`, "not a persona-record-keys version 1 seed"},
		{"too large", KeysEntry, strings.Repeat(" ", 5000), "holds no record keys"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readKeys(entry(tt.entry, tt.body))
			if !errors.Is(err, ErrPayload) || !strings.Contains(err.Error(), tt.msg) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one line with ErrPayload saying %q", err, tt.msg)
			}
		})
	}
}
