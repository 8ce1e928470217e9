package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"aead.dev/minisign"
	"github.com/spf13/cobra"

	"github.com/persona-workbench/persona/engine/erase"
	"github.com/persona-workbench/persona/engine/keys"
	"github.com/persona-workbench/persona/engine/licence"
)

func newDeleteCmd() *cobra.Command {
	var (
		id, out, wsFlag string
		yes             bool
	)
	cmd := &cobra.Command{
		Use:   "delete --licence ID --out CERT.json [--yes]",
		Short: "Delete a licence's data and derivatives and write the signed deletion certificate",
		Long: `Delete everything of a licence on this workstation and certify it:
  1. destroy the licence's age identity (cryptographic erase): no copy of the
     package, anywhere, can be opened here again;
  2. delete every package and export the usage log recorded;
  3. check that they are gone and that no identity remains;
  4. record the deletion in the usage log, with a final checkpoint;
  5. write CERT.json and CERT.json.minisig, signed with your enrolment key,
     then destroy that key too.
Media-level sanitization is not claimed. An interrupted deletion completes
when run again. Asks for confirmation unless --yes.`,
		Example: "  persona delete --licence LIC-2026-0001 --out deletion-certificate.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" || out == "" {
				return withHint(errors.New("--licence and --out are required"), "e.g. persona delete --licence LIC-2026-0001 --out cert.json")
			}
			ws, err := openWorkspace(wsFlag, false)
			if err != nil {
				return err
			}
			if _, err := ws.Enrolment(id); err != nil {
				return withHint(err, "check --licence and --workspace")
			}
			dir := ws.LicenceDir(id)
			resuming := false
			if _, err := os.Stat(filepath.Join(dir, erase.JournalFile)); err == nil {
				resuming = true
			}
			if !yes {
				fmt.Fprintf(os.Stderr, "This destroys the keys of licence %s and deletes every package and export the usage log recorded. It cannot be undone.\nType the licence id to confirm: ", id)
				line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
				if strings.TrimSpace(line) != id {
					return withHint(errors.New("not confirmed: nothing was deleted"), "type the licence id exactly, or pass --yes")
				}
			}
			var key minisign.PrivateKey
			if erase.NeedsKey(ws, id) {
				if key, err = signingKey(ws, id); err != nil {
					return err
				}
			}
			if resuming {
				fmt.Fprintln(os.Stderr, "persona: resuming an interrupted deletion")
			}
			abs, err := filepath.Abs(out)
			if err != nil {
				return err
			}
			c, err := erase.Delete(erase.Options{Workspace: ws, ID: id, Signing: key, Out: abs, Tool: "persona " + version})
			if err != nil {
				return err
			}
			notFound := 0
			for _, it := range c.Items {
				if it.Result == erase.ResultNotFound {
					notFound++
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "licence %s deleted: %d items; certificate %s written to %s (+ .minisig)\n", id, len(c.Items), c.CertificateID, out)
			if notFound > 0 {
				fmt.Fprintf(os.Stderr, "persona: %d recorded items were not found at their path; the certificate lists them as not verified\n", notFound)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&id, "licence", "", "the licence to delete")
	cmd.Flags().StringVarP(&out, "out", "o", "", "the certificate file (JSON); its signature goes beside it")
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
	workspaceFlag(cmd.Flags(), &wsFlag)
	return cmd
}

// signingKey unlocks the person's signing key: with the identity while it
// exists (one quick unlock), else from signing.key (a slower unlock, when
// resuming after the identity was destroyed).
func signingKey(ws *keys.Workspace, id string) (minisign.PrivateKey, error) {
	pass := passphrase("passphrase for licence "+id, false)
	_, key, _, err := ws.UnlockRemembered(id, pass)
	if errors.Is(err, keys.ErrNotEnrolled) {
		fmt.Fprintln(os.Stderr, "persona: unlocking the signing key (a few seconds)…")
		key, err = ws.SigningKey(id, pass)
		if errors.Is(err, os.ErrNotExist) {
			return key, withHint(fmt.Errorf("licence %s is already deleted: its signing key is gone", id), "the certificate was written by the deletion that destroyed it")
		}
	}
	if err != nil {
		return key, packageHint(err)
	}
	return key, nil
}

func newCertCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cert",
		Short: "Deletion certificates: verify (licensor) and show",
	}
	var licPath, checkpoint, report string
	verify := &cobra.Command{
		Use:   "verify CERT.json --licence licence.json [--checkpoint FILE] [--usage-report FILE]",
		Short: "Licensor: check a deletion certificate against the licence",
		Long: `Check a deletion certificate: its prehashed minisign signature (CERT.json.minisig)
by a person the licence names, that it is for this licence, that its final
usage-log checkpoint is signed by the same person and extends any checkpoint
you hold (--checkpoint), that it is not dated before the log's last record,
and, with the usage report the licensee exported (--usage-report), that every
export the log recorded is listed. Stock minisign checks the signature too:
minisign -V -H -m CERT.json -P <the person's public key>.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if licPath == "" {
				return withHint(errors.New("--licence is required"), "pass the licence.json from the package (tar -xf PKG licence.json)")
			}
			data, err := readSmall(args[0], 4<<20)
			if err != nil {
				return err
			}
			sig, err := readSmall(args[0]+".minisig", 4096)
			if err != nil {
				return withHint(fmt.Errorf("signature: %w", err), "the signature is CERT.json.minisig, beside the certificate")
			}
			lb, err := readSmall(licPath, licence.MaxSize)
			if err != nil {
				return err
			}
			l, err := licence.Parse(lb)
			if err != nil {
				return err
			}
			var held, rep []byte
			if checkpoint != "" {
				if held, err = readSmall(checkpoint, 64<<10); err != nil {
					return err
				}
			}
			if report != "" {
				if rep, err = readSmall(report, 256<<20); err != nil {
					return err
				}
			}
			c, err := erase.Verify(data, sig, l, held, rep)
			if err != nil {
				return withHint(err, "do not accept this certificate; ask the licensee for a correct one")
			}
			met := "met"
			if !c.DeadlineMet {
				met = "MISSED"
			}
			counter := ""
			if cs, err := os.ReadFile(args[0] + ".countersig"); err == nil {
				p, err := erase.VerifyCountersignature(data, cs, l)
				if err != nil {
					return withHint(err, "do not accept this certificate; ask the licensee for a correct one")
				}
				counter = ", countersigned by " + p.Name
			}
			fmt.Fprintf(cmd.OutOrStdout(), "certificate %s verifies: licence %s, deleted by %s on %s, %d items, deadline %s%s\n",
				c.CertificateID, c.Licence.ID, c.PerformedBy.Name, c.Date.Format("2006-01-02"), len(c.Items), met, counter)
			return nil
		},
	}
	verify.Flags().StringVar(&licPath, "licence", "", "the licence.json the certificate is for")
	verify.Flags().StringVar(&checkpoint, "checkpoint", "", "a usage-log checkpoint you hold")
	verify.Flags().StringVar(&report, "usage-report", "", "the usage report exported by `persona log export`")
	show := &cobra.Command{
		Use:   "show CERT.json",
		Short: "Print a deletion certificate as bilingual text (数据删除确认书)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := erase.ReadCertificate(args[0])
			if err != nil {
				return err
			}
			erase.Render(cmd.OutOrStdout(), c)
			return nil
		},
	}
	var csID, csWS string
	countersign := &cobra.Command{
		Use:   "countersign CERT.json --licence ID",
		Short: "Second authorised person: countersign a deletion certificate",
		Long: `Sign a colleague's deletion certificate as the second authorised person of the
licence (the validation SP 800-88 asks for), with your enrolment key for it.
Writes CERT.json.countersig; ` + "`persona cert verify`" + ` checks it when present.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if csID == "" {
				return withHint(errors.New("--licence is required"), "the licence id the certificate is for")
			}
			ws, err := openWorkspace(csWS, false)
			if err != nil {
				return err
			}
			e, err := ws.Enrolment(csID)
			if err != nil {
				return withHint(err, "countersign from the workspace where you enrolled for this licence")
			}
			data, err := readSmall(args[0], 4<<20)
			if err != nil {
				return err
			}
			if _, err := os.Lstat(args[0] + ".countersig"); err == nil {
				return withHint(fmt.Errorf("%s.countersig already exists", args[0]), "the certificate is already countersigned")
			}
			key, err := signingKey(ws, csID)
			if err != nil {
				return err
			}
			sig, err := erase.Countersign(data, key, e.Person)
			if err != nil {
				return err
			}
			if err := writeNew(map[string][]byte{args[0] + ".countersig": sig}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "countersigned %s as %s: %s.countersig\n", args[0], e.Name, args[0])
			return nil
		},
	}
	countersign.Flags().StringVar(&csID, "licence", "", "the licence id")
	workspaceFlag(countersign.Flags(), &csWS)
	cmd.AddCommand(verify, show, countersign)
	return cmd
}
