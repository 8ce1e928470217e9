package analysis_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/persona-workbench/persona/engine/analysis"
	"github.com/persona-workbench/persona/engine/ckm"
	"github.com/persona-workbench/persona/engine/dataset"
	"github.com/persona-workbench/persona/engine/report"
	"github.com/persona-workbench/persona/sample"
)

// BenchmarkAnalyses times each analysis on the sample at 1M and 10M
// records (BENCH_ROWS=1000000 for one size only), under each
// disclosure-control method: through a fresh suppressing guard per size,
// where every slice the analysis asks for is checked against the ones
// before it, as in a session, and through a perturbing one (names
// ending /perturb).
func BenchmarkAnalyses(b *testing.B) {
	sizes := []int64{1_000_000, 10_000_000}
	if s := os.Getenv("BENCH_ROWS"); s != "" {
		var n int64
		fmt.Sscan(s, &n)
		sizes = []int64{n}
	}
	for _, size := range sizes {
		for _, method := range []string{"", "perturb"} {
			benchAnalyses(b, size, method)
		}
	}
}

func benchAnalyses(b *testing.B, rows int64, method string) {
	{
		opt := dataset.Options{K: 10}
		suffix := ""
		var d *dataset.Dataset
		var err error
		if method == "perturb" {
			// From Parquet files, as a package's parts load: the
			// records' keys are written as they load.
			p, seed := ckm.DefaultParams(), uint64(1)
			opt.Perturb, opt.KeySeed, suffix = &p, &seed, "/perturb"
			dir := b.TempDir()
			if err := sample.WriteDir(context.Background(), dir, sample.Options{Rows: rows, Seed: sample.DefaultSeed}); err != nil {
				b.Fatal(err)
			}
			d, err = dataset.OpenDir(context.Background(), dir, opt)
		} else {
			r, rerr := sample.NewReader(context.Background(), sample.Options{Rows: rows, Seed: sample.DefaultSeed})
			if rerr != nil {
				b.Fatal(rerr)
			}
			d, err = dataset.OpenArrow(context.Background(), sample.Inventory(rows, sample.DefaultSeed), r, opt)
			r.Release()
		}
		if err != nil {
			b.Fatal(err)
		}
		runs := []struct {
			name string
			run  func() error
		}{
			{"rules/categories", func() error {
				_, err := analysis.AssociationRules(context.Background(), d.Slices, analysis.RulesOptions{Dim: "categories"})
				return err
			}},
			{"rules/page_types", func() error {
				_, err := analysis.AssociationRules(context.Background(), d.Slices, analysis.RulesOptions{Dim: "page_types"})
				return err
			}},
			{"lift/plain", func() error {
				_, err := analysis.CampaignLift(context.Background(), d.Slices, analysis.LiftOptions{})
				return err
			}},
			{"lift/by_age_adjusted", func() error {
				_, err := analysis.CampaignLift(context.Background(), d.Slices, analysis.LiftOptions{By: "age_band", Adjust: "member_level", AdjustHolding: "categories=美妆"})
				return err
			}},
			{"segments", func() error {
				_, err := analysis.Segmentation(context.Background(), d.Slices, analysis.SegmentOptions{})
				return err
			}},
			{"classify/conversion", func() error {
				_, err := analysis.Classify(context.Background(), d.Slices, analysis.ClassifyOptions{Target: "campaign_converted"})
				return err
			}},
			// The brand marketing effect report: every section, built and
			// written as HTML with its charts.
			{"report/brand", func() error {
				secs, err := report.Brand(context.Background(), d.Slices, nil, nil)
				if err != nil {
					return err
				}
				return (&report.Report{Title: report.BrandTitle, Sections: secs, K: 10}).WriteHTML(io.Discard)
			}},
		}
		for _, x := range runs {
			b.Run(fmt.Sprintf("%s/%dM%s", x.name, rows/1_000_000, suffix), func(b *testing.B) {
				for b.Loop() {
					if err := x.run(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		d.Close()
	}
}
