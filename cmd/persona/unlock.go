package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/persona-workbench/persona/engine/erase"
	"github.com/persona-workbench/persona/engine/keys"
	"github.com/persona-workbench/persona/engine/usagelog"
)

func newUnlockCmd() *cobra.Command {
	var (
		id, wsFlag string
		ttl        time.Duration
	)
	cmd := &cobra.Command{
		Use:   "unlock [--licence ID] [--for 15m]",
		Short: "Unlock your keys for a licence once, for the commands of the next minutes",
		Long: `Ask for the passphrase of your keys for a licence once, and keep them
unlocked in this login session's kernel keyring for a while (--for, 1m to
12h). Until then open, query, analyse, report, log checkpoint and delete
use them without asking, and skip the second or so that deriving the key
from the passphrase takes.

The keys stay in kernel memory, never on disk, and the kernel destroys
them when the time is up; ` + "`persona lock`" + ` forgets them at once, and so does
` + "`persona delete`" + `. Meanwhile any program you run in this login session
can use them, as with ssh-agent — in every login of yours where logins
have no session keyring of their own (no pam_keyinit; unlock then says
so): lock before you leave the workstation.
The workbench's idle lock still asks for the passphrase. Unlocking,
including a wrong passphrase, and locking go into the licence's usage log.

--licence may be left out when the workspace holds one licence.`,
		Example: "  persona unlock --licence LIC-2026-0001 --for 1h\n  persona query brand.persona --by province\n  persona lock",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, err := openWorkspace(wsFlag, false)
			if err != nil {
				return err
			}
			if id, err = oneLicence(ws, id); err != nil {
				return err
			}
			if err := erase.Deleted(ws, id); err != nil {
				return withHint(err, "a deleted licence's keys are destroyed")
			}
			lg, err := openLog(ws, id)
			if err != nil {
				return err
			}
			if lg == nil {
				return withHint(fmt.Errorf("%w %s in workspace %s", keys.ErrNotEnrolled, id, ws.Dir), "check --licence and --workspace")
			}
			_, _, err = ws.Remember(id, passphrase("passphrase for licence "+id, false), ttl)
			switch {
			case errors.Is(err, keys.ErrWrongPassphrase):
				if _, lerr := lg.Append(usagelog.KindUnlock, map[string]any{"ok": false, "keyring": ws.KeyringScope()}); lerr != nil {
					err = fmt.Errorf("%v, and the usage log cannot be written: %v", err, lerr)
				}
				return packageHint(err)
			case errors.Is(err, keys.ErrNoKeyring):
				return withHint(err, "each command asks for the passphrase instead; scripts can use PERSONA_PASSPHRASE_FILE")
			case errors.Is(err, keys.ErrUnprotected):
				return withHint(err, "demo keys open without a passphrase")
			case errors.Is(err, keys.ErrRememberTime):
				return withHint(err, "e.g. --for 30m or --for 2h")
			case err != nil:
				return packageHint(err)
			}
			until := time.Now().Add(ttl)
			scope := ws.KeyringScope()
			if _, err := lg.Append(usagelog.KindUnlock, map[string]any{"ok": true, "keyring": scope, "for": ttl.String(), "until": until.UTC().Format(time.RFC3339)}); err != nil {
				// What is not in the usage log is not kept.
				if _, ferr := ws.Forget(id); ferr != nil {
					return withHint(fmt.Errorf("the usage log cannot be written (%v), and the keys could not be forgotten (%v): they stay unlocked until %s", err, ferr, until.Format("15:04")), "run `persona lock`")
				}
				return withHint(fmt.Errorf("the usage log cannot be written, so the keys were not kept unlocked: %w", err), "check the workspace's disk space and permissions")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "keys of licence %s unlocked until %s (%s); `persona lock` forgets them now\n", id, until.Format("15:04"), ttl)
			if scope == keys.ScopeUser {
				fmt.Fprintln(cmd.ErrOrStderr(), "persona: this login has no session keyring of its own (no pam_keyinit), so the keys are kept in your user's: every program you run on this workstation, in any login, can use them until then")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&id, "licence", "", "the licence whose keys to unlock")
	cmd.Flags().DurationVar(&ttl, "for", keys.DefaultRemember, "how long to keep them unlocked, 1m to 12h")
	workspaceFlag(cmd.Flags(), &wsFlag)
	return cmd
}

func newLockCmd() *cobra.Command {
	var id, wsFlag string
	cmd := &cobra.Command{
		Use:   "lock [--licence ID]",
		Short: "Forget keys kept unlocked by persona unlock (every licence's, without --licence)",
		Long: `Forget, at once, the keys ` + "`persona unlock`" + ` keeps unlocked in this login
session's kernel keyring: those of --licence, or of every licence in the
workspace. Commands then ask for the passphrase again. Each licence whose
keys were forgotten records it in its usage log.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, err := openWorkspace(wsFlag, false)
			if err != nil {
				return err
			}
			ids := []string{id}
			if id == "" {
				if ids, err = ws.Licences(); err != nil {
					return err
				}
			} else if _, err := ws.Enrolment(id); err != nil && erase.Deleted(ws, id) == nil {
				return withHint(err, "check --licence and --workspace")
			}
			locked := 0
			for _, id := range ids {
				n, err := ws.Forget(id)
				if err != nil {
					return fmt.Errorf("licence %s: %w", id, err)
				}
				if n == 0 {
					continue
				}
				locked++
				if lg, err := openLog(ws, id); err == nil && lg != nil {
					if _, err := lg.Append(usagelog.KindLock, map[string]string{"by": "persona lock", "keyring": ws.KeyringScope()}); err != nil {
						return fmt.Errorf("licence %s: locked, but the usage log cannot be written: %w", id, err)
					}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "keys of licence %s locked\n", id)
			}
			if locked == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no keys were unlocked")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&id, "licence", "", "the licence whose keys to forget (default: every licence's)")
	workspaceFlag(cmd.Flags(), &wsFlag)
	return cmd
}

// oneLicence is id, or, when it is empty, the workspace's only licence.
func oneLicence(ws *keys.Workspace, id string) (string, error) {
	if id != "" {
		return id, nil
	}
	ids, err := ws.Licences()
	if err != nil {
		return "", err
	}
	var live []string
	for _, l := range ids {
		if erase.Deleted(ws, l) == nil {
			live = append(live, l)
		}
	}
	switch len(live) {
	case 1:
		return live[0], nil
	case 0:
		return "", withHint(fmt.Errorf("workspace %s holds no licence", ws.Dir), "enrol with `persona enrol`, or pass --workspace")
	}
	return "", withHint(fmt.Errorf("--licence is needed: workspace %s holds %d licences (%s)", ws.Dir, len(live), strings.Join(live, ", ")), "pass --licence ID")
}
