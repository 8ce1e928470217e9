package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"aead.dev/minisign"
	"github.com/spf13/cobra"

	"github.com/persona-workbench/persona/engine/keys"
	"github.com/persona-workbench/persona/engine/licence"
	"github.com/persona-workbench/persona/engine/pack"
	"github.com/persona-workbench/persona/engine/slice"
)

func newPackCmd() *cobra.Command {
	var (
		dataDir, termsPath, keyPath, out string
		enrolments                       []string
	)
	cmd := &cobra.Command{
		Use:   "pack --data DIR --terms terms.json --enrolment a.json [--enrolment b.json] --key provider.key --out PKG.persona",
		Short: "Licensor: check data against the contract, encrypt it to the enrolled people and sign the licence",
		Long: `Build a licensed package. Before encrypting anything, the data is checked
against the contract, and refused with a report of every problem: columns
exactly as the inventory declares; no direct identifiers or sensitive
personal data (resident ID numbers, mobile numbers, bank card numbers,
e-mail addresses, URLs); places only at province level or above, within
mainland China; no more people than the licence allows; a sane period.
The data is then encrypted to the enrolled people's age keys and the
licence, which commits to the ciphertext's SHA-256, is signed with the
licensor key (its passphrase is asked for, or read from
PERSONA_PASSPHRASE_FILE). See docs/FORMAT.md for terms.json.`,
		Example: `  persona pack --data ./sample-data --terms ./sample-data/terms.json \
    --enrolment wang.json --enrolment li.json --key keys/provider.key --out brand.persona`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dataDir == "" || termsPath == "" || keyPath == "" || out == "" || len(enrolments) == 0 {
				return withHint(errors.New("--data, --terms, --enrolment, --key and --out are required"), "see `persona pack --help`")
			}
			if st, err := os.Stat(dataDir); err != nil || !st.IsDir() {
				return withHint(fmt.Errorf("--data %s is not a folder", dataDir), "pass the folder holding inventory.json and the Parquet files")
			}
			if !strings.HasSuffix(out, ".persona") {
				return withHint(fmt.Errorf("--out %s does not end in .persona", out), "name the package NAME.persona")
			}
			terms, err := licence.LoadTerms(termsPath)
			if err != nil {
				return withHint(err, "docs/FORMAT.md lists the keys of terms.json; `persona sample` writes an example")
			}
			var es []*licence.Enrolment
			for _, p := range enrolments {
				data, err := readSmall(p, 64<<10)
				if err != nil {
					return withHint(fmt.Errorf("enrolment %s: %w", p, err), "pass the JSON printed by `persona enrol`")
				}
				e, err := licence.ParseEnrolment(data)
				if err != nil {
					return withHint(fmt.Errorf("%s: %w", p, err), "pass the JSON printed by `persona enrol`, unchanged")
				}
				es = append(es, e)
			}
			key, err := keys.LoadSecretKey(keyPath, passphrase("passphrase of "+keyPath, false))
			if err != nil {
				return withHint(err, "--key takes the provider.key written by `persona keygen`")
			}
			p := newProgress()
			start := time.Now()
			lic, err := pack.Pack(cmd.Context(), pack.Options{
				DataDir: dataDir, Terms: terms, Enrolments: es, Key: key, Out: out,
				Progress: func(stage string, done, total int64) {
					switch stage {
					case "check":
						p.show("checking the data against the contract…")
					case "encrypt":
						p.show(bar("encrypting", done, total))
					}
				},
			})
			p.done()
			if err != nil {
				var ce *pack.ContractError
				if errors.As(err, &ce) {
					for _, f := range ce.Findings {
						fmt.Fprintf(os.Stderr, "  %s\n", f)
					}
					return withHint(err, "remove or coarsen these values, then pack again; nothing was written")
				}
				return withHint(err, "nothing was written")
			}
			st, _ := os.Stat(out)
			people := "1 person"
			if n := len(lic.Personnel); n != 1 {
				people = fmt.Sprintf("%d people", n)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "packed licence %s for %s: %s (%s) in %s\n", lic.ID, people, out, bytesText(st.Size()), time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "", "folder with inventory.json and the Parquet files")
	cmd.Flags().StringVar(&termsPath, "terms", "", "the contract's terms (terms.json)")
	cmd.Flags().StringArrayVar(&enrolments, "enrolment", nil, "an authorised person's enrolment JSON (repeat for each)")
	cmd.Flags().StringVar(&keyPath, "key", "", "the licensor's provider.key")
	cmd.Flags().StringVarP(&out, "out", "o", "", "the package to write (NAME.persona)")
	return cmd
}

func readSmall(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

func newInspectCmd() *cobra.Command {
	var (
		asJSON              bool
		providerKey, wsFlag string
		langFlag            string
	)
	cmd := &cobra.Command{
		Use:   "inspect PKG",
		Short: "Show a package's licence and whether its signature and payload hold, without decrypting",
		Long: `Show the licence a package carries — parties, purpose, period, region,
authorised people, k, deletion deadline, the data's fields — and check,
without decrypting anything, its signature (against trusted licensor keys
and --provider-key) and the payload's hash. Exits non-zero when the
signature or the payload does not hold.`,
		Example: "  persona inspect brand.persona\n  persona inspect brand.persona --provider-key provider.pub --json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lg, err := lang(langFlag)
			if err != nil {
				return err
			}
			var trusted []minisign.PublicKey
			if ws, err := openWorkspace(wsFlag, false); err == nil {
				if trusted, err = trustedKeys(ws, providerKey); err != nil {
					return err
				}
			} else if providerKey != "" {
				k, err := keys.LoadPublicKey(providerKey)
				if err != nil {
					return withHint(err, "--provider-key takes the licensor's provider.pub")
				}
				trusted = append(trusted, k)
			}
			info, err := pack.Inspect(cmd.Context(), args[0], trusted, time.Now())
			if err != nil {
				return packageHint(err)
			}
			if asJSON {
				err = writeInspectJSON(cmd.OutOrStdout(), info)
			} else {
				writeInspect(cmd.OutOrStdout(), info, lg)
			}
			if err != nil {
				return err
			}
			if info.SignatureErr != nil {
				return packageHint(info.SignatureErr)
			}
			if info.PayloadErr != nil {
				return packageHint(info.PayloadErr)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON: the licence and the checks")
	cmd.Flags().StringVar(&providerKey, "provider-key", "", "the licensor's provider.pub (besides keys trusted with `persona trust`)")
	cmd.Flags().StringVar(&langFlag, "lang", "", "labels in zh or en (default: from the locale)")
	workspaceFlag(cmd.Flags(), &wsFlag)
	return cmd
}

func status(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func writeInspectJSON(w io.Writer, info *pack.Info) error {
	sig := "ok"
	if info.SignatureErr != nil {
		sig = info.SignatureErr.Error()
	}
	out := struct {
		Licence   *licence.Licence `json:"licence"`
		Signature struct {
			KeyID   string `json:"key_id"`
			Trusted bool   `json:"trusted"`
			Status  string `json:"status"`
		} `json:"signature"`
		Payload string `json:"payload"`
		Period  string `json:"period"`
	}{Licence: info.Licence, Payload: status(info.PayloadErr), Period: status(info.ClockErr)}
	out.Signature.KeyID, out.Signature.Trusted, out.Signature.Status = info.KeyID, info.Trusted, sig
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func writeInspect(w io.Writer, info *pack.Info, lg string) {
	l := info.Licence
	now := time.Now()
	day := func(t time.Time) string { return t.In(time.Local).Format("2006-01-02 15:04 MST") }
	sig := "verified, licensor key " + info.KeyID
	if info.SignatureErr != nil {
		sig = "NOT VERIFIED (" + info.SignatureErr.Error() + ")"
	}
	fmt.Fprintf(w, "licence      %s (issued %s)\n", l.ID, day(l.Issued))
	fmt.Fprintf(w, "signature    %s\n", sig)
	fmt.Fprintf(w, "payload      %s, %s, sha256 %s\n", status(info.PayloadErr), bytesText(l.Payload.Size), l.Payload.SHA256)
	fmt.Fprintf(w, "licensor     %s (%s)\n", l.Licensor.Name, l.Licensor.USCC)
	fmt.Fprintf(w, "licensee     %s (%s)\n", l.Licensee.Name, l.Licensee.USCC)
	fmt.Fprintf(w, "purpose      %s\n", l.Purpose)
	period := fmt.Sprintf("%s to %s", day(l.NotBefore), day(l.NotAfter))
	if info.ClockErr != nil {
		period += " — " + info.ClockErr.Error()
	} else {
		period += fmt.Sprintf(" — %d days left", l.DaysLeft(now))
	}
	fmt.Fprintf(w, "period       %s\n", period)
	fmt.Fprintf(w, "region       %s\n", l.Region)
	fmt.Fprintf(w, "privacy      %s, k = %d: %s\n", l.Privacy.Effective(), l.Privacy.K, slice.Protection(l.Privacy.Effective(), l.Privacy.K, l.Privacy.Bound(), lg))
	if l.Privacy.Effective() == licence.Perturb {
		pp := l.Privacy.Perturbation()
		fmt.Fprintf(w, "             d = %d, v = %g, js = %d, pstay = %g, mult = %g\n", pp.D, pp.V, pp.JS, pp.PStay, pp.Mult)
	}
	fmt.Fprintf(w, "deletion     within %d days of the end: by %s\n", l.DeletionDays, day(l.DeleteBy()))
	fmt.Fprintf(w, "personnel    %d of at most %d\n", len(l.Personnel), l.MaxPersonnel)
	for _, p := range l.Personnel {
		pk, _ := licence.ParsePublicKey(p.PublicKey)
		fmt.Fprintf(w, "  %s (%s), key %s\n", p.Name, p.Role, licence.KeyID(pk.ID()))
	}
	inv := l.Inventory
	fmt.Fprintf(w, "data         %s: %d records in %d files\n", inv.Dataset.In(lg), inv.Records, len(inv.Files))
	for _, f := range inv.Fields {
		fmt.Fprintf(w, "  %-20s %-16s %s\n", f.Name, f.Role, f.Label.In(lg))
	}
}

// bytesText formats a size.
func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// bar draws a progress bar line.
func bar(what string, done, total int64) string {
	if total <= 0 {
		return what + "…"
	}
	const width = 24
	frac := float64(done) / float64(total)
	frac = min(max(frac, 0), 1)
	n := int(frac * width)
	return fmt.Sprintf("%-11s ▕%s%s▏ %3.0f%%  %s of %s", what, strings.Repeat("█", n), strings.Repeat("░", width-n), 100*frac, bytesText(done), bytesText(total))
}
