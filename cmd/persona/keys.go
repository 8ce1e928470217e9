package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/persona-workbench/persona/engine/keys"
	"github.com/persona-workbench/persona/engine/licence"
	"github.com/persona-workbench/persona/engine/usagelog"
)

func newKeygenCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen --out DIR",
		Short: "Licensor: create the key pair that signs licences",
		Long: `Create the licensor's minisign key pair: DIR/provider.key, the secret key
encrypted with a passphrase (asked for on the terminal, or read from the
file named by PERSONA_PASSPHRASE_FILE), and DIR/provider.pub, the public
key to hand to licensees. Existing keys are never overwritten.`,
		Example: "  persona keygen --out ~/licensor-keys",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return withHint(fmt.Errorf("no output folder given"), "pass --out DIR")
			}
			pass, err := passphrase("passphrase for the new licensor key", true)()
			if err != nil {
				return err
			}
			if pass == "" {
				return withHint(keys.ErrNoPassphrase, "PERSONA_PASSPHRASE_FILE's first line must hold the passphrase")
			}
			fmt.Fprintln(os.Stderr, "persona: deriving the key's encryption from the passphrase (a few seconds)…")
			pub, err := keys.GenerateProvider(out, pass, false)
			if err != nil {
				return withHint(err, "choose another --out, or keep using the existing keys")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "licensor key %s written to %s/%s and %s\n", licence.KeyID(pub.ID()), out, keys.ProviderKey, keys.ProviderPub)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "folder for provider.key and provider.pub (created if missing)")
	return cmd
}

func newEnrolCmd() *cobra.Command {
	var id, name, role, wsFlag string
	cmd := &cobra.Command{
		Use:   "enrol --licence ID --name NAME [--role ROLE]",
		Short: "Authorised person: create your keys for a licence and print the enrolment for the licensor",
		Long: `Create your keys for one licence in the workspace — an age identity the
licensor encrypts the data to, and a minisign key that signs your usage
records and the deletion certificate — protected by a passphrase (asked for
on the terminal, or read from PERSONA_PASSPHRASE_FILE). Prints the
enrolment JSON to send to the licensor, who passes it to ` + "`persona pack --enrolment`" + `.`,
		Example: "  persona enrol --licence LIC-2026-0001 --name 王芳 --role analyst > wang.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" || name == "" {
				return withHint(fmt.Errorf("--licence and --name are required"), "e.g. persona enrol --licence LIC-2026-0001 --name 王芳")
			}
			if !licence.ValidID(id) {
				return withHint(fmt.Errorf("licence id %q is not a licence id", id), "use the id from the contract: letters, digits, '.', '_' or '-'")
			}
			ws, err := openWorkspace(wsFlag, true)
			if err != nil {
				return err
			}
			if _, err := ws.Enrolment(id); err == nil {
				return withHint(fmt.Errorf("%w %s: its keys are in %s", keys.ErrAlreadyEnrolled, id, ws.LicenceDir(id)), "print the enrolment again with: cat "+ws.LicenceDir(id)+"/"+keys.EnrolFile)
			}
			pass, err := passphrase("passphrase for your licence keys", true)()
			if err != nil {
				return err
			}
			if pass == "" {
				return withHint(keys.ErrNoPassphrase, "PERSONA_PASSPHRASE_FILE's first line must hold the passphrase")
			}
			fmt.Fprintln(os.Stderr, "persona: deriving the keys' encryption from the passphrase (a few seconds)…")
			e, err := ws.Enrol(id, name, role, pass, false)
			if err != nil {
				return err
			}
			if err := recordEnrolment(ws, e, pass); err != nil {
				return err
			}
			b, err := e.Marshal()
			if err != nil {
				return err
			}
			cmd.OutOrStdout().Write(b)
			fmt.Fprintf(os.Stderr, "persona: enrolled for %s; keys in %s. Send the enrolment above to the licensor.\n", id, ws.LicenceDir(id))
			return nil
		},
	}
	cmd.Flags().StringVar(&id, "licence", "", "the licence id from the contract")
	cmd.Flags().StringVar(&name, "name", "", "your name, as the contract names you")
	cmd.Flags().StringVar(&role, "role", "analyst", "your role under the licence")
	workspaceFlag(cmd.Flags(), &wsFlag)
	return cmd
}

func newTrustCmd() *cobra.Command {
	var wsFlag string
	cmd := &cobra.Command{
		Use:   "trust provider.pub",
		Short: "Trust a licensor's public key for verifying packages",
		Long: `Add a licensor's public key (provider.pub) to the workspace's trusted keys.
Packages signed by it then open without --provider-key. Check the key id it
prints against the one the licensor gave you through another channel.`,
		Example: "  persona trust provider.pub",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := openWorkspace(wsFlag, true)
			if err != nil {
				return err
			}
			k, err := ws.Trust(args[0])
			if err != nil {
				return withHint(err, "pass the licensor's provider.pub, as written by `persona keygen`")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "trusted licensor key %s\n", licence.KeyID(k.ID()))
			return nil
		},
	}
	workspaceFlag(cmd.Flags(), &wsFlag)
	return cmd
}

// recordEnrolment starts the licence's usage log with the enrolment and a
// first checkpoint, signed with the new key.
func recordEnrolment(ws *keys.Workspace, e *licence.Enrolment, pass string) error {
	lg, err := openLog(ws, e.ID)
	if err != nil || lg == nil {
		return fmt.Errorf("start the usage log: %w", err)
	}
	if _, err := lg.Append(usagelog.KindEnrol, map[string]string{"licence_id": e.ID, "name": e.Name, "role": e.Role, "recipient": e.Recipient, "public_key": e.PublicKey}); err != nil {
		return err
	}
	_, key, err := ws.Unlock(e.ID, func() (string, error) { return pass, nil })
	if err != nil {
		return err
	}
	signer, err := usagelog.Signer(key)
	if err != nil {
		return err
	}
	_, err = lg.Checkpoint(e.ID, signer)
	return err
}
