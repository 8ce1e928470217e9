package bench

import (
	"encoding/json"
	"strings"
	"testing"
)

// VisiData 2.11 saves a frequency table like this (no final newline).
const vdFreq = "province,count,percent,histogram\n" +
	"广东,2,66.67,**************************************************\n" +
	"浙江,1,33.33,*************************"

const personaFreq = "province,people,withheld,reason,kind\n" +
	"广东,2,false,,cell\n" +
	"浙江,1,false,,cell\n"

func TestParseFreq(t *testing.T) {
	want := freq{"广东": 2, "浙江": 1}
	vd, err := parseVisiDataFreq(strings.NewReader(vdFreq))
	if err != nil || !equalCounts(vd, want) {
		t.Fatalf("VisiData: %v, %v", vd, err)
	}
	p, err := parsePersonaFreq(strings.NewReader(personaFreq))
	if err != nil || !equalCounts(p, want) {
		t.Fatalf("persona: %v, %v", p, err)
	}
	for name, bad := range map[string]string{
		"VisiData, another column": "age_band,count\n18-24,3\n",
		"VisiData, not a count":    "province,count\n广东,x\n",
		"VisiData, twice":          "province,count\n广东,1\n广东,2\n",
		"persona, withheld":        "province,people,withheld,reason,kind\n广东,,true,k,cell\n",
		"persona, another measure": "province,gmv,withheld,reason,kind\n广东,2,false,,cell\n",
		"empty":                    "",
	} {
		parse := parseVisiDataFreq
		if strings.HasPrefix(name, "persona") {
			parse = parsePersonaFreq
		}
		if got, err := parse(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: parsed as %v", name, got)
		}
	}
}

// The command log is VisiData's JSON-lines format: a #! line, then one
// command per line.
func TestFreqScript(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(freqScript), "\n")
	if lines[0] != "#!vd -p" || len(lines) != 3 {
		t.Fatalf("script:\n%s", freqScript)
	}
	var longnames []string
	for _, l := range lines[1:] {
		var cmd map[string]any
		if err := json.Unmarshal([]byte(l), &cmd); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		longnames = append(longnames, cmd["longname"].(string))
	}
	if strings.Join(longnames, " ") != "open-file freq-col" {
		t.Errorf("commands %v", longnames)
	}
}
