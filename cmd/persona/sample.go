package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/persona-workbench/persona/sample"
)

func newSampleCmd() *cobra.Command {
	var (
		rows  int64
		seed  uint64
		out   string
		quiet bool
	)
	cmd := &cobra.Command{
		Use:   "sample --out DIR",
		Short: "Write a deterministic synthetic persona sample (Parquet + inventory.json)",
		Long: `Write a deterministic synthetic sample of de-identified e-commerce personas:
Parquet parts of about 1M records each and inventory.json, the field
inventory, plus terms.json, example licence terms to pack it with. The
same --rows and --seed always give the same records.
See sample/README.md for the fields and the effects planted in the data.`,
		Example: "  persona sample --out ./sample-data\n  persona sample --rows 10000000 --seed 7 --out /data/personas-10m",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return withHint(fmt.Errorf("no output folder given"), "pass --out DIR")
			}
			if rows < 1 || rows > sample.MaxRows {
				return withHint(fmt.Errorf("--rows must be between 1 and %d, got %d", sample.MaxRows, rows), "the demo uses 200000")
			}
			start := time.Now()
			opt := sample.Options{Rows: rows, Seed: seed}
			p := newProgress()
			p.on = p.on && !quiet
			opt.Progress = func(done int64) {
				p.show(fmt.Sprintf("generating: %d of %d records (%.0f%%)", done, rows, 100*float64(done)/float64(rows)))
			}
			err := sample.WriteDir(cmd.Context(), out, opt)
			p.done()
			if err != nil {
				return err
			}
			if err := sample.WriteTerms(out, time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d records (seed %d) and example %s to %s in %s\n", rows, seed, sample.TermsFile, out, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().Int64Var(&rows, "rows", sample.DefaultRows, "number of persona records")
	cmd.Flags().Uint64Var(&seed, "seed", sample.DefaultSeed, "random seed; the same seed gives the same records")
	cmd.Flags().StringVarP(&out, "out", "o", "", "output folder (created if missing)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress line (shown only when stderr is a terminal)")
	return cmd
}
