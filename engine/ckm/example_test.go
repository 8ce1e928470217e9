package ckm_test

import (
	"fmt"
	"strings"

	"github.com/persona-workbench/persona/engine/ckm"
)

func Example() {
	t, err := ckm.NewTable(ckm.DefaultParams())
	if err != nil {
		fmt.Println(err)
		return
	}
	// The cell's key combines its records' keys, computed in SQL.
	const key, count = 0x9e3779b97f4a7c15, 42
	published := count + t.Adjust(count, ckm.Draw(key, count, "count"))
	again := count + t.Adjust(count, ckm.Draw(key, count, "count"))
	fmt.Println("published:", published, "asked again:", again)

	adj, prob := t.Row(1)
	fmt.Printf("a count of 1 is published as %d with probability %.3f\n", 1+adj[0], prob[0])
	fmt.Println("pairs for 90% accuracy:", t.PairsFor(0.90))

	// The table a licence publishes: a header, row 0, then one line per
	// (count, adjustment) up to the stationary row.
	var csv strings.Builder
	if err := t.WriteCSV(&csv); err != nil {
		fmt.Println(err)
	}
	lines := strings.Split(csv.String(), "\n")
	fmt.Println(strings.Join(lines[:2], "\n"))
	fmt.Println("lines:", len(lines)-1)
	// Output:
	// published: 43 asked again: 43
	// a count of 1 is published as 0 with probability 0.798
	// pairs for 90% accuracy: 101
	// cell_value,perturbation,probability,lower,upper
	// 0,0,1,0,1
	// lines: 65
}
