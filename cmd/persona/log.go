package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"aead.dev/minisign"
	"github.com/spf13/cobra"

	"github.com/persona-workbench/persona/engine/erase"
	"github.com/persona-workbench/persona/engine/keys"
	"github.com/persona-workbench/persona/engine/licence"
	"github.com/persona-workbench/persona/engine/pack"
	"github.com/persona-workbench/persona/engine/usagelog"
)

func newLogCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "log",
		Short: "The usage log of a licence: show, verify, checkpoint, export",
		Long: `Every licence has a usage log in the workspace: enrolment, every open
attempt, the licence acknowledgement, every slice, close — each record
chained to the one before and committed to by signed checkpoints. The
licensor may ask for it; send them checkpoints as you go
(` + "`persona log checkpoint`" + `) and the whole report when asked (` + "`persona log export`" + `).
See docs/FORMAT.md, "Usage log".`,
	}
	cmd.AddCommand(newLogShowCmd(), newLogVerifyCmd(), newLogCheckpointCmd(), newLogExportCmd())
	return cmd
}

// logTarget is the licence whose log a command works on.
type logTarget struct {
	id, workspace string
}

func (t *logTarget) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.id, "licence", "", "the licence id")
	workspaceFlag(cmd.Flags(), &t.workspace)
}

func (t *logTarget) open() (*keys.Workspace, *licence.Enrolment, string, error) {
	if t.id == "" {
		return nil, nil, "", withHint(errors.New("--licence is required"), "list your licences with: ls $PERSONA_HOME/licences")
	}
	ws, err := openWorkspace(t.workspace, false)
	if err != nil {
		return nil, nil, "", err
	}
	e, err := ws.Enrolment(t.id)
	if err != nil {
		return nil, nil, "", withHint(err, "check --licence and --workspace")
	}
	return ws, e, ws.LicenceDir(t.id), nil
}

func parseWhen(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, time.Local)
	if err != nil {
		return t, withHint(fmt.Errorf("%s %q is not a time", flag, s), "use 2026-11-23 or 2026-11-23T09:00:00+08:00")
	}
	return t, nil
}

func newLogShowCmd() *cobra.Command {
	var (
		t            logTarget
		kinds        []string
		since, until string
		asJSON       bool
	)
	cmd := &cobra.Command{
		Use:     "show --licence ID [--kind KIND]… [--since T] [--until T] [--json]",
		Short:   "List the usage log's records",
		Example: "  persona log show --licence LIC-2026-0001 --kind query --since 2026-11-23\n  persona log show --licence LIC-2026-0001 --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, _, dir, err := t.open()
			if err != nil {
				return err
			}
			from, err := parseWhen("--since", since)
			if err != nil {
				return err
			}
			to, err := parseWhen("--until", until)
			if err != nil {
				return err
			}
			recs, torn, err := usagelog.Records(dir)
			if err != nil {
				return err
			}
			keep := recs[:0]
			for _, r := range recs {
				if (len(kinds) == 0 || contains(kinds, r.Kind)) && (from.IsZero() || !r.Time.Before(from)) && (to.IsZero() || r.Time.Before(to)) {
					keep = append(keep, r)
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				if keep == nil {
					keep = []usagelog.Record{}
				}
				return enc.Encode(keep)
			}
			var tb table
			tb.add("SEQ", "TIME", "KIND", "PERSON", "DETAILS")
			for _, r := range keep {
				tb.add(fmt.Sprint(r.Seq), r.Time.In(time.Local).Format("2006-01-02 15:04:05"), r.Kind, r.Person, r.Details(90))
			}
			if err := tb.write(out); err != nil {
				return err
			}
			if torn {
				fmt.Fprintln(cmd.ErrOrStderr(), "persona: the last record was cut short (a crash while writing) and is not shown; `persona log verify` reports it")
			}
			return nil
		},
	}
	t.flags(cmd)
	cmd.Flags().StringArrayVar(&kinds, "kind", nil, "only records of this kind (repeatable): enrol, open, open_refused, acknowledge, query, heartbeat, close, …")
	cmd.Flags().StringVar(&since, "since", "", "only records from this time on (2026-11-23 or RFC 3339)")
	cmd.Flags().StringVar(&until, "until", "", "only records before this time")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the records as JSON")
	return cmd
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func verifyLog(t *logTarget, checkpoint string) (*usagelog.Report, *licence.Enrolment, string, error) {
	_, e, dir, err := t.open()
	if err != nil {
		return nil, nil, "", err
	}
	v, err := usagelog.Verifier(e.PublicKey)
	if err != nil {
		return nil, nil, "", err
	}
	var held []byte
	if checkpoint != "" {
		if held, err = readSmall(checkpoint, 64<<10); err != nil {
			return nil, nil, "", withHint(fmt.Errorf("--checkpoint %s: %w", checkpoint, err), "pass a checkpoint printed by `persona log checkpoint`")
		}
	}
	rep, err := usagelog.Verify(dir, t.id, v, held)
	return rep, e, dir, err
}

func newLogVerifyCmd() *cobra.Command {
	var (
		t          logTarget
		checkpoint string
		pkg        string
	)
	cmd := &cobra.Command{
		Use:   "verify --licence ID [--checkpoint FILE]",
		Short: "Check every record and checkpoint of the usage log",
		Long: `Check the usage log: every record's form, sequence, chain to the record
before it and time; that nothing follows a deletion but the certificate;
every checkpoint's signature (by the key you enrolled) and root hash; and,
with --checkpoint, that the log still extends a checkpoint the licensor
holds — which is what catches a shortened log or an older copy restored.
Exits 1 when anything is wrong, with one line per finding.`,
		Example: "  persona log verify --licence LIC-2026-0001\n  persona log verify --licence LIC-2026-0001 --checkpoint from-licensor.txt",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rep, e, _, err := verifyLog(&t, checkpoint)
			if err != nil {
				return err
			}
			if pkg != "" {
				// The key the checkpoints are checked with must be the one
				// the licensor signed into the licence.
				l, err := pack.Peek(pkg)
				if err != nil {
					return packageHint(err)
				}
				found := false
				for _, p := range l.Personnel {
					found = found || (p.PublicKey == e.PublicKey && l.ID == t.id)
				}
				if !found {
					rep.Problems = append(rep.Problems, usagelog.Problem{Msg: fmt.Sprintf("the workspace's enrolment key is not one licence %s in %s lists: enrolment.json was replaced", l.ID, pkg)})
				}
			}
			out := cmd.OutOrStdout()
			if rep.Torn {
				fmt.Fprintln(out, "note: the last record was cut short (a crash while writing); it is not counted")
			}
			if rep.Repaired > 0 {
				fmt.Fprintf(out, "note: %d records were cut short by crashes; the records after them name them\n", rep.Repaired)
			}
			for _, p := range rep.Problems {
				fmt.Fprintln(out, "problem: "+p.Msg)
			}
			if !rep.OK() {
				return withHint(fmt.Errorf("usage log of %s does not verify: %d problems", t.id, len(rep.Problems)), "the log was changed outside persona; tell the licensor")
			}
			latest := "none yet"
			if rep.Latest != nil {
				latest = fmt.Sprintf("latest covers %d records", rep.Latest.Size)
			}
			fmt.Fprintf(out, "usage log of %s verifies: %d records, %d checkpoints (%s)\n", t.id, rep.Records, rep.Checkpoints, latest)
			return nil
		},
	}
	t.flags(cmd)
	cmd.Flags().StringVar(&checkpoint, "checkpoint", "", "a checkpoint the licensor holds, to check the log against")
	cmd.Flags().StringVar(&pkg, "package", "", "the licence's package, to check that the enrolment key is the one its licence lists")
	return cmd
}

func newLogCheckpointCmd() *cobra.Command {
	var t logTarget
	cmd := &cobra.Command{
		Use:   "checkpoint --licence ID",
		Short: "Print the latest signed checkpoint, to send to the licensor",
		Long: `Print the latest checkpoint: the log's size and root hash, signed with your
enrolment key — a few hundred bytes. The licensor keeps it; later, ` + "`persona log verify --checkpoint`" + `
proves the log still holds everything it covered.`,
		Example: "  persona log checkpoint --licence LIC-2026-0001 > checkpoint.txt",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, _, dir, err := t.open()
			if err != nil {
				return err
			}
			c, err := usagelog.Latest(dir)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(c)
			return err
		},
	}
	t.flags(cmd)
	return cmd
}

// usageReport is the exported usage report.
type usageReport struct {
	Format     string            `json:"format"`
	Licence    string            `json:"licence_id"`
	Person     string            `json:"person"`
	PublicKey  string            `json:"public_key"`
	Exported   time.Time         `json:"exported"`
	Verified   bool              `json:"verified"`
	Problems   []string          `json:"problems,omitempty"`
	Checkpoint string            `json:"checkpoint"`
	Records    []usagelog.Record `json:"records"`
}

func newLogExportCmd() *cobra.Command {
	var (
		t   logTarget
		out string
	)
	cmd := &cobra.Command{
		Use:   "export --licence ID --out FILE",
		Short: "Write a signed usage report for the licensor (JSON, readable text, signature)",
		Long: `Write the usage report the licensor may demand: FILE (JSON: every record,
the latest checkpoint and the verification), FILE.txt (the same, readable)
and FILE.minisig (a minisign signature of FILE by your enrolment key; the
licensor checks it with ` + "`minisign -V -p signing.pub -m FILE`" + `). A checkpoint is
written first, so the report's checkpoint covers every record in it.`,
		Example: "  persona log export --licence LIC-2026-0001 --out usage-report.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return withHint(errors.New("--out is required"), "e.g. --out usage-report.json")
			}
			for _, p := range []string{out, out + ".txt", out + ".minisig"} {
				if _, err := os.Lstat(p); err == nil {
					return withHint(fmt.Errorf("%s already exists", p), "choose another --out")
				}
			}
			ws, e, dir, err := t.open()
			if err != nil {
				return err
			}
			_, key, _, err := ws.UnlockRemembered(t.id, passphrase("passphrase for licence "+t.id, false))
			if err != nil {
				return packageHint(err)
			}
			lg, err := openLog(ws, t.id)
			if err != nil || lg == nil {
				return fmt.Errorf("usage log: %w", err)
			}
			signer, err := usagelog.Signer(key)
			if err != nil {
				return err
			}
			if _, err := lg.Checkpoint(t.id, signer); err != nil {
				return err
			}
			rep, _, _, err := verifyLog(&t, "")
			if err != nil {
				return err
			}
			recs, _, err := usagelog.Records(dir)
			if err != nil {
				return err
			}
			latest, err := usagelog.Latest(dir)
			if err != nil {
				return err
			}
			r := usageReport{Format: "persona-usage-report/1", Licence: t.id, Person: e.Name, PublicKey: e.PublicKey,
				Exported: time.Now().UTC().Truncate(time.Second), Verified: rep.OK(), Checkpoint: string(latest), Records: recs}
			for _, p := range rep.Problems {
				r.Problems = append(r.Problems, p.Msg)
			}
			data, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				return err
			}
			data = append(data, '\n')
			mr := minisign.NewReader(bytes.NewReader(data))
			io.Copy(io.Discard, mr)
			sig := mr.SignWithComments(key, "persona-usage-report licence_id="+t.id, "usage report of "+t.id)
			var text bytes.Buffer
			writeReportText(&text, &r)
			if err := writeNew(map[string][]byte{out: data, out + ".txt": text.Bytes(), out + ".minisig": sig}); err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			if _, err := lg.Append(usagelog.KindExport, map[string]any{"what": erase.UsageReport, "path": absPath(out), "size": len(data), "sha256": hex.EncodeToString(sum[:])}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s, %s.txt and %s.minisig: %d records, verified: %v\n", out, out, out, len(recs), rep.OK())
			return nil
		},
	}
	t.flags(cmd)
	cmd.Flags().StringVarP(&out, "out", "o", "", "the report file (JSON); .txt and .minisig are written beside it")
	return cmd
}

func writeReportText(w io.Writer, r *usageReport) {
	fmt.Fprintf(w, "Usage report · 使用记录报告\nlicence %s · %s · exported %s\n", r.Licence, r.Person, r.Exported.Format(time.RFC3339))
	if r.Verified {
		fmt.Fprintln(w, "verification: the log verifies")
	} else {
		fmt.Fprintf(w, "verification: %d problems\n", len(r.Problems))
		for _, p := range r.Problems {
			fmt.Fprintln(w, "  "+p)
		}
	}
	fmt.Fprintf(w, "\nlatest checkpoint:\n%s\n", r.Checkpoint)
	var tb table
	tb.add("SEQ", "TIME (UTC)", "KIND", "USER@HOST", "DETAILS")
	for _, rec := range r.Records {
		tb.add(fmt.Sprint(rec.Seq), rec.Time.UTC().Format(time.RFC3339), rec.Kind, rec.User+"@"+rec.Host, rec.Details(200))
	}
	tb.write(w)
}

// writeNew writes files that must not exist yet; on failure it removes
// what it wrote.
func writeNew(files map[string][]byte) error {
	var written []string
	for name, data := range files {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, err = f.Write(data)
			err = errors.Join(err, f.Sync(), f.Close())
			written = append(written, name)
		}
		if err != nil {
			for _, w := range written {
				os.Remove(w)
			}
			return err
		}
	}
	return nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
