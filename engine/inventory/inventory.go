// Package inventory holds the field inventory: the data list that travels
// with a persona data set (and, later, inside its licence). For every field
// it names the column, its Chinese and English labels, its role in analysis
// and its type; for every measure an analyst can pick, how it aggregates.
//
// The engine is driven entirely by the inventory: a dimension or measure
// that is not declared here cannot be queried, and identifiers reach SQL
// only after they have been checked against it.
package inventory

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Version is the inventory format version this build reads and writes.
const Version = 1

// Role says how a field takes part in analysis.
type Role string

const (
	// Dimension is a single-valued categorical field (VARCHAR).
	Dimension Role = "dimension"
	// MultiDimension is a multi-valued categorical field (VARCHAR[]); a
	// person counts once in each of their values' groups.
	MultiDimension Role = "multi_dimension"
	// Time is a virtual dimension that indexes the series measure fields:
	// its Order lists the period labels, position i labelling element i+1
	// of every field whose Series names it.
	Time Role = "time"
	// Measure is a numeric or boolean field that measures aggregate.
	Measure Role = "measure"
	// Weight is the number of people a record stands for. Without a weight
	// field every record is one person.
	Weight Role = "weight"
)

// Label is a text in Chinese and English.
type Label struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// In returns the label in the given language ("zh" or "en"), falling back
// to the other one when it is empty.
func (l Label) In(lang string) string {
	if lang == "en" && l.EN != "" || l.ZH == "" {
		return l.EN
	}
	return l.ZH
}

// Field describes one column of the data set (or, for the time role, the
// virtual column that indexes series fields).
type Field struct {
	Name        string   `json:"name"`
	Label       Label    `json:"label"`
	Role        Role     `json:"role"`
	Type        string   `json:"type"`
	Order       []string `json:"order,omitempty"`  // ordinal dimensions and time: values in their natural order
	Series      string   `json:"series,omitempty"` // measure fields holding one value per period: the time field's name
	Unit        string   `json:"unit,omitempty"`
	Description Label    `json:"description"`
	// Geo marks a dimension that holds places: "province",
	// "province_code" or "region" (see docs/FORMAT.md).
	Geo string `json:"geo,omitempty"`
}

// GeoKinds are the values Field.Geo may take.
var GeoKinds = []string{"province", "province_code", "region"}

// Ordinal reports whether the field's values have a natural order.
func (f Field) Ordinal() bool { return len(f.Order) > 0 }

// Kind says how a measure aggregates.
type Kind string

const (
	// Count is the number of people.
	Count Kind = "count"
	// Sum adds a measure field over the people in a group.
	Sum Kind = "sum"
	// Mean is Sum divided by the number of people.
	Mean Kind = "mean"
	// Ratio divides the sum of Field by the sum of Over.
	Ratio Kind = "ratio"
	// Share is the fraction of people for whom a boolean field is true.
	Share Kind = "share"
)

// MeasureDef is a measure an analyst can pick.
type MeasureDef struct {
	Name     string `json:"name"`
	Label    Label  `json:"label"`
	Kind     Kind   `json:"kind"`
	Field    string `json:"field,omitempty"`
	Over     string `json:"over,omitempty"`
	Unit     string `json:"unit,omitempty"`
	Decimals int    `json:"decimals"`
	Percent  bool   `json:"percent,omitempty"` // shown multiplied by 100 with a % sign
}

// Inventory is the data list of one data set.
type Inventory struct {
	Version  int          `json:"version"`
	Dataset  Label        `json:"dataset"`
	Table    string       `json:"table"`
	Files    []string     `json:"files"` // Parquet files holding the table, in record order
	Records  int64        `json:"records"`
	Seed     *uint64      `json:"seed,omitempty"`
	Fields   []Field      `json:"fields"`
	Measures []MeasureDef `json:"measures"`
}

// ReservedPrefix starts the names of the dimensions the workbench derives
// (segments); no field of the data may start with it.
const ReservedPrefix = "segment_"

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid inventory")

var ident = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// ValidIdent reports whether s may be used as a table, field or measure
// name. Names are checked against this before they are quoted into SQL.
func ValidIdent(s string) bool { return ident.MatchString(s) }

// Field returns the field with the given name.
func (inv *Inventory) Field(name string) (Field, bool) {
	for _, f := range inv.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Measure returns the measure with the given name.
func (inv *Inventory) Measure(name string) (MeasureDef, bool) {
	for _, m := range inv.Measures {
		if m.Name == name {
			return m, true
		}
	}
	return MeasureDef{}, false
}

// Dimensions returns the fields that can be sliced by, in inventory order:
// single- and multi-valued dimensions and the time field.
func (inv *Inventory) Dimensions() []Field {
	var out []Field
	for _, f := range inv.Fields {
		switch f.Role {
		case Dimension, MultiDimension, Time:
			out = append(out, f)
		}
	}
	return out
}

// WeightField returns the weight field, if the data set has one.
func (inv *Inventory) WeightField() (Field, bool) {
	for _, f := range inv.Fields {
		if f.Role == Weight {
			return f, true
		}
	}
	return Field{}, false
}

// Read decodes and validates an inventory.
func Read(r io.Reader) (*Inventory, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var inv Inventory
	if err := dec.Decode(&inv); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := inv.Validate(); err != nil {
		return nil, err
	}
	return &inv, nil
}

// Load reads and validates the inventory file at path.
func Load(path string) (*Inventory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	defer f.Close()
	inv, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("read inventory %s: %w", path, err)
	}
	return inv, nil
}

// Write encodes the inventory as indented JSON.
func (inv *Inventory) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(inv)
}

var (
	dimensionTypes = []string{"VARCHAR"}
	multiTypes     = []string{"VARCHAR[]"}
	scalarMeasures = []string{"BOOLEAN", "INTEGER", "BIGINT", "DOUBLE"}
	seriesMeasures = []string{"INTEGER[]", "BIGINT[]", "DOUBLE[]"}
	weightTypes    = []string{"INTEGER", "BIGINT"}
)

// Validate checks the inventory's internal consistency: names, roles and
// types, that every measure refers to fields that exist and suit it, and
// that series fields name a time field.
func (inv *Inventory) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
	}
	if inv.Version != Version {
		return bad("format version %d, this build reads version %d", inv.Version, Version)
	}
	if !ValidIdent(inv.Table) {
		return bad("table name %q is not a lower-case identifier", inv.Table)
	}
	for _, f := range inv.Files {
		if f == "" || f != filepath.Base(f) || strings.HasPrefix(f, ".") || strings.ContainsAny(f, "*?[]{}\\") {
			return bad("data file %q must be a plain file name", f)
		}
	}
	if dup := firstDuplicate(inv.Files); dup != "" {
		return bad("data file %q is listed twice", dup)
	}
	if inv.Records < 0 {
		return bad("records %d is negative", inv.Records)
	}
	if err := inv.checkText(); err != nil {
		return bad("%v", err)
	}
	seen := map[string]bool{}
	weights, times := 0, 0
	for _, f := range inv.Fields {
		if !ValidIdent(f.Name) {
			return bad("field name %q is not a lower-case identifier", f.Name)
		}
		if strings.HasPrefix(f.Name, ReservedPrefix) {
			return bad("field name %q starts with %q, which names the segments an analysis derives; rename the field", f.Name, ReservedPrefix)
		}
		if seen[f.Name] {
			return bad("field %q is declared twice", f.Name)
		}
		seen[f.Name] = true
		if f.Label.ZH == "" && f.Label.EN == "" {
			return bad("field %q has no label", f.Name)
		}
		var types []string
		switch f.Role {
		case Dimension:
			types = dimensionTypes
		case MultiDimension:
			types = multiTypes
		case Time:
			types = dimensionTypes
			times++
			if len(f.Order) == 0 {
				return bad("time field %q lists no periods in order", f.Name)
			}
		case Measure:
			types = scalarMeasures
			if f.Series != "" {
				types = seriesMeasures
			}
		case Weight:
			types = weightTypes
			weights++
		default:
			return bad("field %q has unknown role %q", f.Name, f.Role)
		}
		if !slices.Contains(types, f.Type) {
			return bad("field %q: type %q does not suit role %s (want one of %v)", f.Name, f.Type, f.Role, types)
		}
		if len(f.Order) > 0 && f.Role != Dimension && f.Role != MultiDimension && f.Role != Time {
			return bad("field %q: only dimensions have an order", f.Name)
		}
		if f.Geo != "" && (!slices.Contains(GeoKinds, f.Geo) || f.Role != Dimension && f.Role != MultiDimension) {
			return bad("field %q: geo %q: want one of %v, on a dimension", f.Name, f.Geo, GeoKinds)
		}
		if dup := firstDuplicate(f.Order); dup != "" {
			return bad("field %q lists %q twice in its order", f.Name, dup)
		}
	}
	if weights > 1 {
		return bad("%d weight fields, at most one is allowed", weights)
	}
	if times > 1 {
		return bad("%d time fields, at most one is allowed", times)
	}
	for _, f := range inv.Fields {
		if f.Series == "" {
			continue
		}
		t, ok := inv.Field(f.Series)
		if !ok || t.Role != Time {
			return bad("field %q: series %q is not a time field", f.Name, f.Series)
		}
	}
	if len(inv.Measures) == 0 {
		return bad("no measures declared")
	}
	mseen := map[string]bool{}
	for _, m := range inv.Measures {
		if !ValidIdent(m.Name) {
			return bad("measure name %q is not a lower-case identifier", m.Name)
		}
		if mseen[m.Name] {
			return bad("measure %q is declared twice", m.Name)
		}
		mseen[m.Name] = true
		if m.Decimals < 0 || m.Decimals > 6 {
			return bad("measure %q: decimals %d out of range 0-6", m.Name, m.Decimals)
		}
		needField := func(name string, boolean bool) error {
			f, ok := inv.Field(name)
			if !ok || f.Role != Measure {
				return bad("measure %q: %q is not a measure field", m.Name, name)
			}
			if boolean != (f.Type == "BOOLEAN") {
				if boolean {
					return bad("measure %q: share needs a BOOLEAN field, %q is %s", m.Name, name, f.Type)
				}
				return bad("measure %q: %q is BOOLEAN, use kind share", m.Name, name)
			}
			return nil
		}
		var err error
		switch m.Kind {
		case Count:
			if m.Field != "" || m.Over != "" {
				err = bad("measure %q: count takes no field", m.Name)
			}
		case Sum, Mean:
			err = needField(m.Field, false)
		case Share:
			err = needField(m.Field, true)
		case Ratio:
			if err = needField(m.Field, false); err == nil {
				err = needField(m.Over, false)
			}
			if err == nil {
				a, _ := inv.Field(m.Field)
				b, _ := inv.Field(m.Over)
				if a.Series != b.Series {
					err = bad("measure %q: %q and %q are not both series of the same period", m.Name, m.Field, m.Over)
				}
			}
		default:
			err = bad("measure %q has unknown kind %q", m.Name, m.Kind)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkText refuses control characters in every text the interface
// shows: they could drive the terminal (escape sequences).
func (inv *Inventory) checkText() error {
	type text struct{ what, s string }
	label := func(what string, l Label) []text { return []text{{what, l.ZH}, {what, l.EN}} }
	texts := label("dataset label", inv.Dataset)
	for _, f := range inv.Fields {
		texts = append(texts, label("label of "+f.Name, f.Label)...)
		texts = append(texts, label("description of "+f.Name, f.Description)...)
		texts = append(texts, text{"unit of " + f.Name, f.Unit})
		for _, o := range f.Order {
			texts = append(texts, text{"value of " + f.Name, o})
		}
	}
	for _, m := range inv.Measures {
		texts = append(texts, label("label of "+m.Name, m.Label)...)
		texts = append(texts, text{"unit of " + m.Name, m.Unit})
	}
	for _, t := range texts {
		if strings.ContainsFunc(t.s, unicode.IsControl) {
			return fmt.Errorf("%s %q holds a control character", t.what, t.s)
		}
	}
	return nil
}

// Series returns the time field a measure's inputs are series of, or ""
// when the measure does not vary by period. Count measures have no inputs
// and are defined for every period.
func (inv *Inventory) Series(m MeasureDef) string {
	if f, ok := inv.Field(m.Field); ok {
		return f.Series
	}
	return ""
}

func firstDuplicate(xs []string) string {
	seen := make(map[string]bool, len(xs))
	for _, x := range xs {
		if seen[x] {
			return x
		}
		seen[x] = true
	}
	return ""
}

// Only returns a copy of the inventory that declares only the named
// fields (names it does not declare are ignored), the weight field and
// the time field, and only the measures whose fields it keeps: what a
// data set loaded with just those columns can answer. Loading a subset
// is how a one-off query skips the columns it does not read.
func (inv *Inventory) Only(names []string) (*Inventory, error) {
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	out := *inv
	out.Fields, out.Measures = nil, nil
	for _, f := range inv.Fields {
		if keep[f.Name] || f.Role == Weight || f.Role == Time {
			out.Fields = append(out.Fields, f)
		}
	}
	has := func(name string) bool {
		_, ok := out.Field(name)
		return name == "" || ok
	}
	for _, m := range inv.Measures {
		if has(m.Field) && has(m.Over) {
			out.Measures = append(out.Measures, m)
		}
	}
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return &out, nil
}

// Columns lists the fields that are columns of the table, in inventory
// order: every field but the time field, whose periods are positions in
// the series.
func (inv *Inventory) Columns() []string {
	var cols []string
	for _, f := range inv.Fields {
		if f.Role != Time {
			cols = append(cols, f.Name)
		}
	}
	return cols
}
