package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/persona-workbench/persona/engine/analysis"
	"github.com/persona-workbench/persona/engine/guard"
	"github.com/persona-workbench/persona/engine/usagelog"
)

func newAnalyseCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "analyse",
		Aliases: []string{"analyze"},
		Short:   "Run an analysis on a package's data: segments, association rules, classification, campaign lift",
		Long: `Run an analysis on a licensed package, opened exactly as ` + "`persona query`" + ` opens it.

Analyses start from slices that pass the privacy guard (docs/PRIVACY.md),
like every other number: what the guard withholds, an analysis does not
use or show. Segmentation and classification fit a model to people grouped
by the chosen dimensions; what they show is again a guarded slice (a
segment's traits, a tree leaf's people) or a figure over the whole
population (a silhouette, an AUC). Each run is recorded in the licence's
usage log, with each slice it asked for.`,
	}
	cmd.AddCommand(newSegmentsCmd(), newRulesCmd(), newClassifyCmd(), newLiftCmd())
	return cmd
}

// parseWhere reads --where DIM=V1,V2 flags.
func parseWhere(filters []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, f := range filters {
		name, vals, ok := strings.Cut(f, "=")
		if !ok || name == "" || vals == "" {
			return nil, withHint(fmt.Errorf("--where %q is not DIM=VALUE[,VALUE…]", f), "e.g. --where province=广东,浙江")
		}
		out[name] = append(out[name], strings.Split(vals, ",")...)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// analysisError adds what to do to an analysis's error.
func analysisError(err error) error {
	switch {
	case errors.Is(err, guard.ErrHistory):
		return withHint(err, "the privacy guard checks every result against this history; restore it from a backup of the workspace, or ask the licensor")
	case err != nil:
		return withHint(err, "run `persona query PKG --by help` to list dimensions and measures")
	}
	return nil
}

// output is an analysis's result, in the formats for other programs.
type output interface {
	WriteCSV(io.Writer) error
	WriteJSON(io.Writer) error
}

// analyse opens the package and runs an analysis on its guarded slices,
// records it in the usage log (rec, with what run found or its error),
// and writes it; a result whose record could not be written is withheld.
func analyse(cmd *cobra.Command, src *source, format string, rec map[string]any,
	run func(analysis.Runner) (output, map[string]any, error), table func(output) error) error {
	o, err := src.open(cmd.Context())
	if err != nil {
		return err
	}
	defer o.Close()
	start := time.Now()
	res, found, err := run(o.slices("cli"))
	if err != nil {
		rec["error"] = err.Error()
	} else {
		maps.Copy(rec, found)
		rec["seconds"] = time.Since(start).Seconds()
	}
	if lerr := o.session.Record(usagelog.KindAnalysis, rec); lerr != nil && err == nil {
		return fmt.Errorf("the usage log could not record this analysis, so its result is withheld: %w", lerr)
	}
	if err != nil {
		return analysisError(err)
	}
	switch format {
	case "csv":
		return res.WriteCSV(cmd.OutOrStdout())
	case "json":
		return res.WriteJSON(cmd.OutOrStdout())
	}
	return table(res)
}

// analyseFlags are the flags every analysis takes: the package, the
// population, the output format and the language.
type analyseFlags struct {
	src      source
	where    []string
	format   string
	langFlag string
}

func (a *analyseFlags) add(cmd *cobra.Command) {
	a.src.flags(cmd.Flags())
	f := cmd.Flags()
	f.StringArrayVar(&a.where, "where", nil, "the population: DIM=V1,V2 (repeatable)")
	f.StringVar(&a.format, "format", "table", "output format: table, csv or json")
	f.StringVar(&a.langFlag, "lang", "", "labels in zh or en (default: from the locale)")
}

// prepare checks the flags before the package is opened: the language,
// and the population's filters.
func (a *analyseFlags) prepare(args []string) (string, map[string][]string, error) {
	a.src.path = args[0]
	lg, err := langAndFormat(a.langFlag, a.format)
	if err != nil {
		return "", nil, err
	}
	filters, err := parseWhere(a.where)
	return lg, filters, err
}

// langAndFormat checks --lang and --format, and returns the language.
func langAndFormat(langFlag, format string) (string, error) {
	if format != "table" && format != "csv" && format != "json" {
		return "", withHint(fmt.Errorf("unknown format %q", format), "use --format table, csv or json")
	}
	return lang(langFlag)
}

func newRulesCmd() *cobra.Command {
	var (
		fl  analyseFlags
		opt analysis.RulesOptions
		top int
	)
	cmd := &cobra.Command{
		Use:   "rules PKG --dim DIM",
		Short: "Association rules between the values of a multi-valued dimension",
		Long: `Find which values of a multi-valued dimension go together: people who prefer
美妆 also prefer 母婴 more often than people in general do (lift above 1).

For each rule "if A then B": people (who hold both), support (their share of
the population), confidence (the share of A's holders who hold B) and lift
(confidence over the share who hold B). The counts are guarded slices: a
count of fewer than k people, or one that differs from another by fewer
than k, is withheld and its rule not shown. --min-support is never below
the licence's k.`,
		Example: `  persona analyse rules brand.persona --dim categories --top 20
  persona analyse rules brand.persona --dim page_types --min-confidence 0.5 --format csv
  persona analyse rules brand.persona --dim categories --where gender=女`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lg, filters, err := fl.prepare(args)
			if err != nil {
				return err
			}
			opt.Filters = filters
			if top < 0 || opt.MinSupport < 0 {
				return withHint(fmt.Errorf("--top and --min-support must not be negative"), "e.g. --top 20 --min-support 100")
			}
			rec := map[string]any{"analysis": "rules", "dim": opt.Dim, "where": opt.Filters, "min_support": opt.MinSupport,
				"min_confidence": opt.MinConfidence}
			return analyse(cmd, &fl.src, fl.format, rec, func(r analysis.Runner) (output, map[string]any, error) {
				res, err := analysis.AssociationRules(cmd.Context(), r, opt)
				if err != nil {
					return nil, nil, err
				}
				return res, map[string]any{"rules": len(res.Rules), "pairs": res.Pairs, "pairs_withheld": res.Withheld}, nil
			}, func(res output) error { return res.(*analysis.Rules).WriteTable(cmd.OutOrStdout(), lg, top) })
		},
	}
	fl.add(cmd)
	cmd.Flags().StringVar(&opt.Dim, "dim", "categories", "a multi-valued dimension: its values are the items")
	cmd.Flags().Int64Var(&opt.MinSupport, "min-support", 0, "fewest people a rule rests on (never below k)")
	cmd.Flags().Float64Var(&opt.MinConfidence, "min-confidence", 0, "lowest confidence shown, 0–1")
	cmd.Flags().IntVar(&top, "top", 0, "in the table, the N rules of highest lift (0: all)")
	return cmd
}

func newLiftCmd() *cobra.Command {
	var (
		fl  analyseFlags
		opt analysis.LiftOptions
	)
	cmd := &cobra.Command{
		Use:   "lift PKG",
		Short: "Campaign lift: the exposed against the others, overall and by segment",
		Long: `Compare the people exposed to the campaign with the others: conversion rate
(with its difference and relative lift, and confidence intervals) and value
per person, for everyone and, with --by, for each value of a dimension.

Exposure is rarely at random: when the campaign reached people who convert
more anyway, the plain comparison overstates its effect. --adjust DIM
compares like with like within each value of DIM, then weighs the strata by
their exposed people (the effect on the exposed); --adjust-holding
DIM=VALUE splits each stratum further by whether people hold a value of a
multi-valued dimension. Every number comes from guarded slices; a stratum
with a withheld side is left out, and the coverage says how much of the
exposed population the adjusted figure covers. Value per person has no
interval: the guard releases means, not spreads.`,
		Example: `  persona analyse lift brand.persona
  persona analyse lift brand.persona --by age_band --adjust member_level --adjust-holding categories=美妆
  persona analyse lift brand.persona --by province --format csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lg, filters, err := fl.prepare(args)
			if err != nil {
				return err
			}
			opt.Filters = filters
			rec := map[string]any{"analysis": "lift", "options": opt}
			return analyse(cmd, &fl.src, fl.format, rec, func(r analysis.Runner) (output, map[string]any, error) {
				res, err := analysis.CampaignLift(cmd.Context(), r, opt)
				if err != nil {
					return nil, nil, err
				}
				return res, map[string]any{"options": res.Options, "rows": len(res.Rows)}, nil
			}, func(res output) error { return res.(*analysis.Lift).WriteTable(cmd.OutOrStdout(), lg) })
		},
	}
	fl.add(cmd)
	f := cmd.Flags()
	f.StringVar(&opt.Exposure, "exposure", "", "the dimension saying who was exposed (default: the one named so)")
	f.StringVar(&opt.Exposed, "exposed", "", "its value for the exposed (default: its second value)")
	f.StringVar(&opt.Control, "control", "", "its value for the others (default: its first value)")
	f.StringVar(&opt.Conversion, "conversion", "", "the rate measure compared (default: the first rate)")
	f.StringVar(&opt.Value, "value", "", "the per-person measure compared (default: the first mean)")
	f.StringVar(&opt.By, "by", "", "break the lift down by this dimension")
	f.StringVar(&opt.Adjust, "adjust", "", "compare within each value of this dimension")
	f.StringVar(&opt.AdjustHolding, "adjust-holding", "", "and within holders of DIM=VALUE and the others")
	f.Float64Var(&opt.Level, "level", 0.95, "confidence level of the intervals")
	return cmd
}

func newSegmentsCmd() *cobra.Command {
	var (
		fl   analyseFlags
		opt  analysis.SegmentOptions
		dims []string
	)
	cmd := &cobra.Command{
		Use:   "segments PKG",
		Short: "Segment people into groups alike over chosen dimensions",
		Long: `Cluster people into segments over some dimensions (weighted k-means on their
one-hot encoded values, each dimension weighing alike) and profile each
segment: its people, its measures, its typical values and the traits it
over- and under-indexes on (index 100: the same share as the population).

Without --k the number of segments is chosen between --min-k and --max-k by
the silhouette (how much closer people are to their own segment than to the
next one); the table shows it for each number tried.

The segments become a dimension of the licence's data, named in the
output (segment_…): slice and filter by it with ` + "`persona query --by`" + ` and in
the workbench, in this session and later ones. Every profile number is a
guarded slice by that dimension; a segment of fewer than k people is
withheld like any other group.`,
		Example: `  persona analyse segments brand.persona
  persona analyse segments brand.persona --k 5 --dims gender,age_band,member_level,categories
  persona analyse segments brand.persona --where region=华东 --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lg, filters, err := fl.prepare(args)
			if err != nil {
				return err
			}
			opt.Filters = filters
			opt.Dims = dims
			rec := map[string]any{"analysis": "segments", "dims": opt.Dims, "k": opt.K, "min_k": opt.MinK, "max_k": opt.MaxK, "where": opt.Filters}
			return analyse(cmd, &fl.src, fl.format, rec, func(r analysis.Runner) (output, map[string]any, error) {
				res, err := analysis.Segmentation(cmd.Context(), r, opt)
				if err != nil {
					return nil, nil, err
				}
				// The definition names values that few people may hold, so
				// the record keeps its hash: the licensor can match it with
				// the definition the analyst hands over, and the values
				// the log holds stay the analyst's own.
				def, _ := json.Marshal(res.Def)
				sum := sha256.Sum256(def)
				return res, map[string]any{"dimension": res.Field.Name, "segments": res.K, "silhouette": res.Choice().Silhouette,
					"definition_sha256": hex.EncodeToString(sum[:])}, nil
			}, func(res output) error { return res.(*analysis.Segments).WriteTable(cmd.OutOrStdout(), lg) })
		},
	}
	fl.add(cmd)
	f := cmd.Flags()
	f.StringSliceVar(&dims, "dims", nil, "dimensions to segment by (default: "+strings.Join(analysis.DefaultSegmentDims, ",")+")")
	f.IntVar(&opt.K, "k", 0, "number of segments, 2–20 (default: chosen by the silhouette)")
	f.IntVar(&opt.MinK, "min-k", 2, "fewest segments tried")
	f.IntVar(&opt.MaxK, "max-k", 8, "most segments tried")
	return cmd
}

func newClassifyCmd() *cobra.Command {
	var (
		fl       analyseFlags
		opt      analysis.ClassifyOptions
		features []string
	)
	cmd := &cobra.Command{
		Use:   "classify PKG --target TARGET",
		Short: "Predict a target from the dimensions: a decision tree and a logistic regression",
		Long: `Predict who meets a target — a yes/no field such as campaign_converted, or
some values of a dimension such as purchase_frequency=高频(12-35单/年),超高频(≥36单/年)
— from the other dimensions, with an interpretable decision tree and a
logistic regression.

Both are fitted on four fifths of the people and scored on the fifth left
out (the same people each time): accuracy, AUC, and the accuracy of always
guessing the commoner answer, for comparison. Feature importance: the
tree's share of its Gini decrease, and the holdout AUC the regression loses
without the feature.

The tree's leaves read as rules in words. Each holds at least --min-leaf
people (never fewer than k) when fitted, and its people and rate over the
whole population are guarded slices: a leaf the guard withholds says so.
Levels held by fewer than k people get no coefficient of their own.`,
		Example: `  persona analyse classify brand.persona --target campaign_converted
  persona analyse classify brand.persona --target 'purchase_frequency=高频(12-35单/年),超高频(≥36单/年)' --depth 3
  persona analyse classify brand.persona --target campaign_converted --features member_level,categories --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lg, filters, err := fl.prepare(args)
			if err != nil {
				return err
			}
			opt.Filters = filters
			if opt.Target == "" {
				return withHint(fmt.Errorf("--target is missing"), "e.g. --target campaign_converted, or --target DIM=VALUE[,VALUE…]")
			}
			opt.Features = features
			rec := map[string]any{"analysis": "classify", "target": opt.Target, "features": opt.Features, "depth": opt.MaxDepth,
				"min_leaf": opt.MinLeaf, "where": opt.Filters}
			return analyse(cmd, &fl.src, fl.format, rec, func(r analysis.Runner) (output, map[string]any, error) {
				res, err := analysis.Classify(cmd.Context(), r, opt)
				if err != nil {
					return nil, nil, err
				}
				return res, map[string]any{"leaves": len(res.Tree.Leaves), "tree_auc": res.TreeMetrics.AUC, "logistic_auc": res.LogisticMetrics.AUC}, nil
			}, func(res output) error { return res.(*analysis.Classification).WriteTable(cmd.OutOrStdout(), lg) })
		},
	}
	fl.add(cmd)
	f := cmd.Flags()
	f.StringVar(&opt.Target, "target", "", "what to predict: a yes/no field, or DIM=V1,V2")
	f.StringSliceVar(&features, "features", nil, "dimensions to predict from (default: those with few values, and the lists)")
	f.IntVar(&opt.MaxDepth, "depth", analysis.DefaultTreeDepth, "the tree's depth, 1–6")
	f.Int64Var(&opt.MinLeaf, "min-leaf", 0, "fewest people in a leaf (default: 1% of those fitted on; never below k)")
	return cmd
}
