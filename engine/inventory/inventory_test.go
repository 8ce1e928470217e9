package inventory

import (
	"errors"
	"strings"
	"testing"
)

func valid() *Inventory {
	return &Inventory{
		Version: Version,
		Table:   "personas",
		Files:   []string{"personas-00000.parquet"},
		Fields: []Field{
			{Name: "age_band", Label: Label{ZH: "年龄段", EN: "Age band"}, Role: Dimension, Type: "VARCHAR", Order: []string{"18-24", "25-29"}},
			{Name: "categories", Label: Label{ZH: "偏好品类"}, Role: MultiDimension, Type: "VARCHAR[]"},
			{Name: "month", Label: Label{ZH: "月份"}, Role: Time, Type: "VARCHAR", Order: []string{"2025-01", "2025-02"}},
			{Name: "monthly_orders", Label: Label{ZH: "订单数"}, Role: Measure, Type: "INTEGER[]", Series: "month"},
			{Name: "monthly_gmv", Label: Label{ZH: "成交额"}, Role: Measure, Type: "DOUBLE[]", Series: "month"},
			{Name: "converted", Label: Label{ZH: "转化"}, Role: Measure, Type: "BOOLEAN"},
		},
		Measures: []MeasureDef{
			{Name: "people", Label: Label{ZH: "人数"}, Kind: Count},
			{Name: "aov", Label: Label{ZH: "客单价"}, Kind: Ratio, Field: "monthly_gmv", Over: "monthly_orders", Decimals: 2},
			{Name: "conversion_rate", Label: Label{ZH: "转化率"}, Kind: Share, Field: "converted", Percent: true, Decimals: 1},
		},
	}
}

func TestValidate(t *testing.T) {
	if err := valid().Validate(); err != nil {
		t.Fatalf("valid inventory rejected: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Inventory)
		msg    string
	}{
		{"version", func(i *Inventory) { i.Version = 2 }, "version 2"},
		{"table name", func(i *Inventory) { i.Table = `p"; DROP` }, "table name"},
		{"file path", func(i *Inventory) { i.Files = []string{"../etc/passwd"} }, "plain file name"},
		{"file glob", func(i *Inventory) { i.Files = []string{"*.parquet"} }, "plain file name"},
		{"file twice", func(i *Inventory) { i.Files = []string{"a.parquet", "a.parquet"} }, "listed twice"},
		{"negative records", func(i *Inventory) { i.Records = -1 }, "negative"},
		{"escape in label", func(i *Inventory) { i.Fields[0].Label.EN = "\x1b]0;pwned\x07" }, "control character"},
		{"escape in order", func(i *Inventory) { i.Fields[0].Order[1] = "a\nb" }, "control character"},
		{"field name", func(i *Inventory) { i.Fields[0].Name = "Age Band" }, "field name"},
		{"duplicate field", func(i *Inventory) { i.Fields[1].Name = "age_band" }, "declared twice"},
		{"reserved name", func(i *Inventory) { i.Fields[0].Name = "segment_tier" }, "names the segments"},
		{"no label", func(i *Inventory) { i.Fields[0].Label = Label{} }, "no label"},
		{"unknown role", func(i *Inventory) { i.Fields[0].Role = "identifier" }, "unknown role"},
		{"dimension type", func(i *Inventory) { i.Fields[0].Type = "INTEGER" }, "does not suit"},
		{"multi type", func(i *Inventory) { i.Fields[1].Type = "VARCHAR" }, "does not suit"},
		{"series type", func(i *Inventory) { i.Fields[3].Type = "INTEGER" }, "does not suit"},
		{"series target", func(i *Inventory) { i.Fields[3].Series = "age_band" }, "not a time field"},
		{"time without periods", func(i *Inventory) { i.Fields[2].Order = nil }, "lists no periods"},
		{"duplicate order", func(i *Inventory) { i.Fields[0].Order = []string{"a", "a"} }, "twice in its order"},
		{"no measures", func(i *Inventory) { i.Measures = nil }, "no measures"},
		{"measure kind", func(i *Inventory) { i.Measures[0].Kind = "median" }, "unknown kind"},
		{"measure field", func(i *Inventory) { i.Measures[1].Field = "age_band" }, "not a measure field"},
		{"share of number", func(i *Inventory) { i.Measures[2].Field = "monthly_orders" }, "needs a BOOLEAN"},
		{"sum of boolean", func(i *Inventory) { i.Measures[1].Over = "converted" }, "use kind share"},
		{"count with field", func(i *Inventory) { i.Measures[0].Field = "converted" }, "takes no field"},
		{"decimals", func(i *Inventory) { i.Measures[1].Decimals = 9 }, "decimals"},
		{"two time fields", func(i *Inventory) {
			i.Fields = append(i.Fields, Field{Name: "quarter", Label: Label{ZH: "季度"}, Role: Time, Type: "VARCHAR", Order: []string{"Q1"}})
		}, "time fields"},
		{"two weights", func(i *Inventory) {
			i.Fields = append(i.Fields, Field{Name: "w1", Label: Label{ZH: "w"}, Role: Weight, Type: "INTEGER"},
				Field{Name: "w2", Label: Label{ZH: "w"}, Role: Weight, Type: "INTEGER"})
		}, "weight fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := valid()
			tt.change(inv)
			err := inv.Validate()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v, want ErrInvalid mentioning %q", err, tt.msg)
			}
		})
	}
}

func TestReadRoundTrip(t *testing.T) {
	var b strings.Builder
	if err := valid().Write(&b); err != nil {
		t.Fatal(err)
	}
	inv, err := Read(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Fields) != 6 || inv.Fields[0].Label.ZH != "年龄段" {
		t.Fatalf("round trip lost data: %+v", inv.Fields)
	}
	if _, err := Read(strings.NewReader(`{"version":1,"unknown":true}`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown key accepted: %v", err)
	}
	if _, err := Read(strings.NewReader(`{`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("truncated JSON accepted: %v", err)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		m    MeasureDef
		v    float64
		want string
	}{
		{MeasureDef{}, 1234567, "1,234,567"},
		{MeasureDef{Decimals: 2}, 1234.5, "1,234.50"},
		{MeasureDef{Decimals: 2}, -1234.5, "-1,234.50"},
		{MeasureDef{}, 999, "999"},
		{MeasureDef{Percent: true, Decimals: 1}, 0.1234, "12.3%"},
	}
	for _, tt := range tests {
		if got := tt.m.Format(tt.v); got != tt.want {
			t.Errorf("Format(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func FuzzRead(f *testing.F) {
	var b strings.Builder
	valid().Write(&b)
	f.Add(b.String())
	f.Add(`{"version":1}`)
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := Read(strings.NewReader(s))
		if err == nil {
			if err := inv.Validate(); err != nil {
				t.Fatalf("Read accepted an invalid inventory: %v", err)
			}
		}
	})
}
