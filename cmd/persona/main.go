// Command persona is Persona Workbench: a terminal workbench for licensed,
// de-identified user-persona data. This file only parses flags and wires
// the engine and the terminal UI together.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root := newRoot()
	if err := root.ExecuteContext(ctx); err != nil {
		msg := err.Error()
		if errors.Is(err, context.Canceled) {
			msg = "interrupted"
		}
		fmt.Fprintf(os.Stderr, "persona: %s\n", oneLine(msg))
		if h := hint(err); h != "" {
			fmt.Fprintf(os.Stderr, "hint: %s\n", h)
		}
		os.Exit(1)
	}
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// hinted errors carry a suggestion of what to do.
type hinted struct {
	err  error
	hint string
}

func (h hinted) Error() string { return h.err.Error() }
func (h hinted) Unwrap() error { return h.err }

func withHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return hinted{err, hint}
}

func hint(err error) string {
	var h hinted
	if errors.As(err, &h) {
		return h.hint
	}
	return ""
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "persona",
		Short: "Persona Workbench: analyse licensed, de-identified user-persona data in the terminal",
		Long: `Persona Workbench opens de-identified user-persona data in an embedded,
hardened DuckDB and lets you slice it with terminal charts. Every number
shown passes a privacy guard: cells behind fewer than k people are withheld.

Start with:  persona demo        (the workbench on a synthetic sample)

Licensor:    persona keygen      (the key that signs licences)
             persona sample      (a synthetic sample and example terms.json)
             persona pack        (check data against the contract, encrypt, sign)
Analyst:     persona enrol       (your keys for a licence, sent to the licensor)
             persona trust       (trust the licensor's public key)
             persona inspect     (a package's licence, without decrypting)
             persona open        (the workbench on a package)
             persona query       (one slice of a package: table, CSV or JSON; --out exports it)
             persona analyse     (segments, association rules, classification, campaign lift)
             persona report      (the brand marketing effect report, or saved views: HTML or Markdown)
             persona log         (the licence's usage log: show, verify, checkpoint, export)
             persona unlock      (your keys unlocked for a while: no passphrase per command; persona lock)
Compliance:  persona status      (every licence here: days left, deadline, log health)
             persona delete      (delete a licence's data, write the signed certificate)
             persona cert        (verify or show a deletion certificate)`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newAnalyseCmd(), newSampleCmd(), newDemoCmd(), newKeygenCmd(), newEnrolCmd(), newTrustCmd(),
		newPackCmd(), newInspectCmd(), newOpenCmd(), newQueryCmd(), newLogCmd(), newUnlockCmd(), newLockCmd(), newDeleteCmd(), newCertCmd(), newStatusCmd(), newReportCmd())
	return root
}
