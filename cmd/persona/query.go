package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/persona-workbench/persona/engine/guard"
	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/report"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/engine/views"
)

func newQueryCmd() *cobra.Command {
	var (
		src      source
		by       []string
		filters  []string
		measure  string
		sortName string
		top      int
		format   string
		langFlag string
		totals   bool
		other    bool
		out      string
		force    bool
		saveAs   string
	)
	cmd := &cobra.Command{
		Use:   "query PKG [--by DIM[,DIM]] [--where DIM=V1,V2]… [--measure NAME]",
		Short: "Print one slice of a package's data as a table, CSV or JSON",
		Long: `Open a licensed package exactly as ` + "`persona open`" + ` does — signature,
payload hash, licence period, your enrolled identity — and print one slice:
a measure broken down by up to two dimensions, under filters.

Every number passes the privacy guard (docs/PRIVACY.md). Cells behind fewer
than the licence's k people are withheld and printed as <k; cells whose
value rests on fewer than k people, cells that would let a withheld one be
worked out from the totals, and cells that differ from an earlier result of
this licence by fewer than k people are withheld too, and the table says
why. In CSV a withheld cell is empty with withheld=true and the reason.
CSV and JSON carry plain numbers and inventory names for other programs;
the table is for people. --out FILE.csv|.json|.parquet exports the result
with a watermark (the licence, the licensee, you, the time) and records
the file in the usage log, so that deleting the licence deletes it too.
Only the fields the query reads, and those earlier results of the licence
refer to, are loaded (the whole payload is still decrypted and checked);
--by help loads every field.
Dimension and measure names
come from the package's field inventory; run without --by to see the
total, or with --by help to list them.`,
		Example: `  persona query brand.persona --by province --measure gmv
  persona query brand.persona --by age_band,gender --where categories=美妆 --format csv
  persona query brand.persona --by month --measure orders --format json
  persona query brand.persona --by province,age_band --totals
  persona query brand.persona --by province --top 10 --other
  persona query brand.persona --by province,age_band --out slice.parquet`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src.path = args[0]
			var dims []string
			for _, b := range by {
				for _, d := range strings.Split(b, ",") {
					if d = strings.TrimSpace(d); d != "" {
						dims = append(dims, d)
					}
				}
			}
			lg, err := lang(langFlag)
			if err != nil {
				return err
			}
			order, err := slice.ParseOrder(sortName)
			if err != nil {
				return err
			}
			if format != "table" && format != "csv" && format != "json" {
				return withHint(fmt.Errorf("unknown format %q", format), "use --format table, csv or json")
			}
			if other && (top == 0 || len(dims) != 1) {
				return withHint(fmt.Errorf("--other needs one --by dimension and --top N"), "e.g. --by province --top 10 --other")
			}
			if saveAs != "" {
				if err := views.CheckName(saveAs); err != nil {
					return withHint(err, "e.g. --save-view \"GMV by province\"")
				}
			}
			if out != "" {
				if _, err := report.FormatOf(out, report.ExportFormats); err != nil {
					return withHint(err, "name the file .csv, .json or .parquet")
				}
				if err := checkOut(out, force); err != nil {
					return err
				}
			}
			q := slice.Query{Dims: dims, Measure: measure, Order: order, TopN: top, Totals: totals, Other: other, Filters: map[string][]string{}}
			for _, f := range filters {
				name, vals, ok := strings.Cut(f, "=")
				if !ok || name == "" || vals == "" {
					return withHint(fmt.Errorf("--where %q is not DIM=VALUE[,VALUE…]", f), "e.g. --where province=广东,浙江")
				}
				q.Filters[name] = append(q.Filters[name], strings.Split(vals, ",")...)
			}
			if len(dims) != 1 || dims[0] != "help" {
				src.fields = q.Fields
			}
			o, err := src.open(cmd.Context())
			if err != nil {
				return err
			}
			defer o.Close()
			if len(dims) == 1 && dims[0] == "help" {
				return listNames(cmd, o.slices("cli").Inventory(), lg)
			}
			res, err := o.slices("cli").Run(cmd.Context(), q)
			switch {
			case errors.Is(err, guard.ErrHistory):
				return withHint(err, "the privacy guard checks every result against this history; restore it from a backup of the workspace, or ask the licensor")
			case err != nil:
				return withHint(err, "run `persona query PKG --by help` to list dimensions and measures")
			}
			if saveAs != "" {
				v := views.View{Name: saveAs, Dims: dims, Filters: q.Filters, Measure: res.Measure.Name, Order: sortName, Top: top}
				if len(v.Filters) == 0 {
					v.Filters = nil
				}
				if err := (loggedViews{o.views, o.session}).Save(v); err != nil {
					return withHint(err, "choose a view name of at most 40 characters")
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "saved view %q\n", saveAs)
			}
			if out != "" {
				w, err := o.exportResult(res, out, force, "cli")
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d rows, %d withheld (k=%d), %d bytes, sha256 %s\n", w.Path, len(res.Rows), res.Suppressed, res.K, w.Size, w.SHA256)
				return nil
			}
			stdout := cmd.OutOrStdout()
			switch format {
			case "csv":
				return res.WriteCSV(stdout)
			case "json":
				return res.WriteJSON(stdout)
			}
			if err := res.WriteTable(stdout, lg); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d rows, %d withheld (k=%d), %s\n%s\n", len(res.Rows), res.Suppressed, res.K, res.Elapsed.Round(100_000), res.Protection(lg))
			return nil
		},
	}
	src.flags(cmd.Flags())
	cmd.Flags().StringArrayVar(&by, "by", nil, "dimensions to break down by, at most 2: DIM or DIM,DIM")
	cmd.Flags().StringArrayVar(&filters, "where", nil, "keep only these values: DIM=V1,V2 (repeatable)")
	cmd.Flags().StringVar(&measure, "measure", "people", "measure to show")
	cmd.Flags().StringVar(&sortName, "sort", "auto", "row order: auto, value-desc, value-asc or label")
	cmd.Flags().IntVar(&top, "top", 0, "keep only the N rows with the largest values, then sort them (0: all)")
	cmd.Flags().BoolVar(&totals, "totals", false, "add the grand total and, with two dimensions, each value's total")
	cmd.Flags().BoolVar(&other, "other", false, "with --top: add a row summing up the rows left out")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, csv or json")
	cmd.Flags().StringVar(&langFlag, "lang", "", "labels in zh or en (default: from the locale)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "export the result to FILE.csv, .json or .parquet, with a watermark, recorded in the usage log")
	cmd.Flags().BoolVar(&force, "force", false, "with --out: replace the file if it exists")
	cmd.Flags().StringVar(&saveAs, "save-view", "", "also save the slice as a named view, for the workbench (V) and `persona report --views`")
	return cmd
}

func listNames(cmd *cobra.Command, inv *inventory.Inventory, lg string) error {
	w := cmd.OutOrStdout()
	fmt.Fprintln(w, "dimensions:")
	for _, f := range inv.Dimensions() {
		fmt.Fprintf(w, "  %-20s %s (%s)\n", f.Name, f.Label.In(lg), f.Role)
	}
	fmt.Fprintln(w, "measures:")
	for _, m := range inv.Measures {
		fmt.Fprintf(w, "  %-20s %s\n", m.Name, m.Label.In(lg))
	}
	return nil
}
