// Package views keeps an analyst's named, saved views of a licence's
// data: the dimensions, filters, measure, sort and top-N of a slice, never
// its numbers. A view is reopened by running its query again, through the
// privacy guard like any other.
//
// Views live in the licence's workspace folder (File, "views.jsonl"),
// one sealed line per save or removal (package sealed), so the filter
// values they name never reach the disk readable; they are deleted with
// the licence's data.
package views

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/persona-workbench/persona/engine/sealed"
)

// FileName is the views file's name in the licence's workspace folder.
const FileName = "views.jsonl"

// View is a saved slice.
type View struct {
	Name    string              `json:"name"`
	Dims    []string            `json:"dims,omitempty"`
	Filters map[string][]string `json:"filters,omitempty"`
	Measure string              `json:"measure"`
	Order   string              `json:"order,omitempty"`
	Top     int                 `json:"top,omitempty"`
	Chart   string              `json:"chart,omitempty"` // how it is drawn: bars, columns, lines, heatmap, grouped, stacked, percent, compare
	Saved   time.Time           `json:"saved"`
	Removed bool                `json:"removed,omitempty"` // a removal: the name is free again
}

// MaxName is the longest view name, in characters.
const MaxName = 40

// CheckName says what is wrong with a view name, if anything.
func CheckName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errors.New("a view needs a name")
	case len([]rune(name)) > MaxName:
		return fmt.Errorf("a view name has at most %d characters", MaxName)
	case strings.ContainsFunc(name, unicode.IsControl):
		return errors.New("a view name cannot hold control characters")
	}
	return nil
}

// File is a licence's saved views.
type File struct {
	path  string
	lines *sealed.Lines
}

// Open returns the views file at path, sealed with key.
func Open(path string, key [32]byte) (*File, error) {
	lines, err := sealed.New(key, "persona saved views v1")
	if err != nil {
		return nil, err
	}
	return &File{path: path, lines: lines}, nil
}

// List returns the saved views, newest first; the last save of a name
// wins.
func (f *File) List() ([]View, error) {
	data, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read saved views: %w", err)
	}
	byName := map[string]View{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		plain, err := f.lines.Open(sc.Bytes())
		var v View
		if err == nil {
			err = json.Unmarshal(plain, &v)
		}
		if err != nil {
			return nil, fmt.Errorf("saved views %s: line %d is damaged or not this licence's", f.path, line)
		}
		if v.Removed {
			delete(byName, v.Name)
		} else {
			byName[v.Name] = v
		}
	}
	out := make([]View, 0, len(byName))
	for _, v := range byName {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b View) int {
		if c := b.Saved.Compare(a.Saved); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// Save adds v, replacing a view of the same name; it is on disk when
// Save returns.
func (f *File) Save(v View) error {
	if err := CheckName(v.Name); err != nil {
		return err
	}
	if v.Saved.IsZero() {
		v.Saved = time.Now().UTC()
	}
	return f.append(v)
}

// Remove forgets the view called name.
func (f *File) Remove(name string) error {
	return f.append(View{Name: name, Removed: true, Saved: time.Now().UTC()})
}

func (f *File) append(v View) error {
	plain, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("save view: %w", err)
	}
	_, err = w.WriteString(f.lines.Seal(plain) + "\n")
	if err == nil {
		err = w.Sync()
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("save view: %w", err)
	}
	return nil
}
