package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/report"
	"github.com/persona-workbench/persona/engine/slice"
	"github.com/persona-workbench/persona/engine/usagelog"
	"github.com/persona-workbench/persona/engine/views"
)

func newReportCmd() *cobra.Command {
	var (
		src       source
		id        string
		viewNames []string
		where     []string
		out       string
		force     bool
	)
	cmd := &cobra.Command{
		Use:   "report --licence ID [--views NAME[,NAME]] --out FILE.html|FILE.md",
		Short: "Write a report of saved views, or the brand marketing effect report, as HTML or Markdown",
		Long: `Write a report a licensee may hand on: a self-contained HTML page (charts as
inline SVG, nothing fetched from anywhere; it opens offline in any browser)
or Markdown (the same tables, without charts). Headings are in Chinese and
English.

Without --views it is the brand marketing effect report (品牌营销效果报告)
over the whole licensed population, or the one --where selects: campaign
reach, conversion lift overall and by segment, regional and age
distribution, category affinity, and the licence terms and k in a footer.
With --views it holds the named saved views (save them in the workbench
with S), each run again.

The package is the one last opened for the licence on this workstation
(or --package). Every number passes the privacy guard; each slice the
report needs is recorded in the usage log, and so is the file, with its
path, size and SHA-256, so that deleting the licence deletes it too. The
file carries a watermark: the licence, the licensee, you, and the time.`,
		Example: `  persona report --licence LIC-2026-0001 --out brand-report.html
  persona report --licence LIC-2026-0001 --where province=广东,浙江 --out east.md
  persona report --licence LIC-2026-0001 --views "GMV by province,新客" --out views.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" {
				return withHint(errors.New("--licence is required"), "e.g. --licence LIC-2026-0001; `persona status` lists the licences on this workstation")
			}
			if out == "" {
				return withHint(errors.New("--out is required"), "e.g. --out brand-report.html (or .md)")
			}
			format, err := report.FormatOf(out, report.ReportFormats)
			if err != nil {
				return withHint(err, "use --out FILE.html or --out FILE.md")
			}
			filters, err := parseWhere(where)
			if err != nil {
				return err
			}
			names := splitList(viewNames)
			if len(names) > 0 && filters != nil {
				return withHint(errors.New("--where applies to the brand report; a saved view keeps its own filters"), "drop --where, or --views")
			}
			if err := checkOut(out, force); err != nil {
				return err
			}
			if src.path == "" {
				if src.path, err = lastPackage(src.workspace, id); err != nil {
					return err
				}
			}
			o, err := src.open(cmd.Context())
			if err != nil {
				return err
			}
			defer o.Close()
			if o.Licence.ID != id {
				return withHint(fmt.Errorf("%s is a package of licence %s, not %s", src.path, o.Licence.ID, id), "check --package and --licence")
			}
			p := newProgress()
			defer p.done()
			r, err := o.buildReport(cmd.Context(), "cli", names, filters, func(done, total int) { p.show(bar("report", int64(done), int64(total))) })
			if err != nil {
				return analysisError(err)
			}
			w, err := o.publish(out, force, map[string]any{"what": "report", "format": format, "views": names, "where": filters}, func(w io.Writer) error {
				if format == "md" {
					return r.WriteMarkdown(w)
				}
				return r.WriteHTML(w)
			})
			if err != nil {
				return err
			}
			p.done()
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d sections, %d bytes, sha256 %s (recorded in the usage log of %s)\n", w.Path, len(r.Sections), w.Size, w.SHA256, id)
			return nil
		},
	}
	src.flags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&id, "licence", "", "the licence id")
	f.StringVar(&src.path, "package", "", "the package to open (default: the one last opened for the licence)")
	f.StringArrayVar(&viewNames, "views", nil, "saved views to report, by name: NAME[,NAME] (default: the brand marketing effect report)")
	f.StringArrayVar(&where, "where", nil, "the brand report's population: DIM=V1,V2 (repeatable)")
	f.StringVarP(&out, "out", "o", "", "the report file: .html or .md")
	f.BoolVar(&force, "force", false, "replace the file if it exists")
	return cmd
}

// splitList reads NAME[,NAME] flags.
func splitList(flags []string) []string {
	var out []string
	for _, f := range flags {
		for _, n := range strings.Split(f, ",") {
			if n = strings.TrimSpace(n); n != "" {
				out = append(out, n)
			}
		}
	}
	return out
}

// checkOut refuses, before any work, to replace a file unless asked.
func checkOut(out string, force bool) error {
	st, err := os.Stat(out)
	switch {
	case err != nil:
		return nil
	case !st.Mode().IsRegular():
		return withHint(fmt.Errorf("%s exists and is not a file", out), "choose another --out")
	case !force:
		return withHint(fmt.Errorf("%s already exists", out), "choose another --out, or add --force to replace it")
	}
	return nil
}

// lastPackage is the package last opened for the licence on this
// workstation, from its usage log.
func lastPackage(workspace, id string) (string, error) {
	t := logTarget{id: id, workspace: workspace}
	_, _, dir, err := t.open()
	if err != nil {
		return "", err
	}
	recs, _, err := usagelog.Records(dir)
	if err != nil {
		return "", err
	}
	for _, r := range slices.Backward(recs) {
		if r.Kind != usagelog.KindOpen {
			continue
		}
		var d struct {
			Package string `json:"package"`
		}
		if json.Unmarshal(r.Data, &d) == nil && d.Package != "" {
			if _, err := os.Stat(d.Package); err == nil {
				return d.Package, nil
			}
			return "", withHint(fmt.Errorf("the package last opened for %s, %s, is gone", id, d.Package), "name it with --package")
		}
	}
	return "", withHint(fmt.Errorf("no package of %s has been opened on this workstation", id), "name it with --package PKG")
}

// watermark says whose a file made now is.
func (o *opened) watermark() report.Watermark {
	return report.Watermark{Licence: o.Licence.ID, Licensee: o.Licence.Licensee.Name, Person: o.Person.Name,
		Time: time.Now().UTC().Truncate(time.Second), Tool: "persona " + version}
}

// buildReport builds the brand marketing effect report over filters, or
// a report of the named saved views.
func (o *opened) buildReport(ctx context.Context, source string, names []string, filters map[string][]string, progress func(done, total int)) (*report.Report, error) {
	r := &report.Report{Title: report.BrandTitle, Dataset: o.Dataset.Inventory.Dataset, Watermark: o.watermark(), Terms: report.TermsOf(o.Licence), K: o.Dataset.Slices.K()}
	runner := o.slices(source)
	if len(names) == 0 {
		secs, err := report.Brand(ctx, runner, filters, progress)
		r.Sections = secs
		return r, err
	}
	saved, err := o.views.List()
	if err != nil {
		return nil, err
	}
	var vs []views.View
	for _, n := range names {
		i := slices.IndexFunc(saved, func(v views.View) bool { return v.Name == n })
		if i < 0 {
			var have []string
			for _, v := range saved {
				have = append(have, v.Name)
			}
			hint := "save views in the workbench with S"
			if len(have) > 0 {
				hint = "saved views: " + strings.Join(have, ", ")
			}
			return nil, withHint(fmt.Errorf("no saved view is called %q", n), hint)
		}
		vs = append(vs, saved[i])
	}
	r.Title = inventory.Label{ZH: "视图报告", EN: "Views report"}
	r.Sections, err = report.Views(ctx, runner, vs, progress)
	return r, err
}

// publish writes a file whole, recording it in the usage log (rec, with
// its path, size and SHA-256) before it takes its name: a file the log
// could not record is not written.
func (o *opened) publish(out string, force bool, rec map[string]any, write func(io.Writer) error) (report.Written, error) {
	w, err := report.Publish(out, force, write, func(w report.Written) error {
		rec["path"], rec["size"], rec["sha256"] = w.Path, w.Size, w.SHA256
		if err := o.session.Record(usagelog.KindExport, rec); err != nil {
			return fmt.Errorf("the usage log could not record %s, so it is not written: %w", w.Path, err)
		}
		return nil
	})
	if errors.Is(err, report.ErrExists) {
		return w, withHint(err, "choose another file name, or replace it (--force)")
	}
	return w, err
}

// exportResult writes a slice's released result to out (csv, json or
// parquet by its extension) with the watermark, recorded in the log.
func (o *opened) exportResult(res *slice.Result, out string, force bool, source string) (report.Written, error) {
	format, err := report.FormatOf(out, report.ExportFormats)
	if err != nil {
		return report.Written{}, withHint(err, "name the file .csv, .json or .parquet")
	}
	mark := o.watermark()
	return o.publish(out, force, map[string]any{"what": "export", "format": format, "query": report.QueryOf(res.Query), "source": source},
		func(w io.Writer) error { return report.WriteExport(w, res, mark, format) })
}

// workbenchExports writes the workbench's exports and reports (E).
type workbenchExports struct{ o *opened }

func (e workbenchExports) Export(res *slice.Result, path string) (report.Written, error) {
	return e.o.exportResult(res, path, false, "tui")
}

func (e workbenchExports) Report(ctx context.Context, names []string, path string, progress func(done, total int)) (report.Written, error) {
	format, err := report.FormatOf(path, report.ReportFormats)
	if err != nil {
		return report.Written{}, err
	}
	if _, err := os.Lstat(path); err == nil { // before the work, not only when the file is written
		return report.Written{}, fmt.Errorf("%s: %w", path, report.ErrExists)
	}
	r, err := e.o.buildReport(ctx, "tui", names, nil, progress)
	if err != nil {
		return report.Written{}, err
	}
	return e.o.publish(path, false, map[string]any{"what": "report", "format": format, "views": names, "source": "tui"}, func(w io.Writer) error {
		if format == "md" {
			return r.WriteMarkdown(w)
		}
		return r.WriteHTML(w)
	})
}
