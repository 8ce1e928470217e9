package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"aead.dev/minisign"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/persona-workbench/persona/engine/keys"
	"github.com/persona-workbench/persona/engine/licence"
	"github.com/persona-workbench/persona/engine/pack"
	"github.com/persona-workbench/persona/engine/usagelog"
)

// passphrase reads a passphrase from the file named by
// PERSONA_PASSPHRASE_FILE (its first line), else asks on the terminal.
// With confirm set, the terminal asks twice.
func passphrase(prompt string, confirm bool) keys.Passphrase {
	return func() (string, error) {
		if path := os.Getenv("PERSONA_PASSPHRASE_FILE"); path != "" {
			f, err := os.Open(path)
			if err != nil {
				return "", withHint(fmt.Errorf("PERSONA_PASSPHRASE_FILE: %w", err), "point it at a file holding the passphrase on its first line")
			}
			defer f.Close()
			line, err := bufio.NewReader(f).ReadString('\n')
			if err != nil && line == "" {
				return "", withHint(fmt.Errorf("PERSONA_PASSPHRASE_FILE %s is empty", path), "put the passphrase on its first line")
			}
			return strings.TrimRight(line, "\r\n"), nil
		}
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			return "", withHint(errors.New("a passphrase is needed and there is no terminal to ask for it"), "set PERSONA_PASSPHRASE_FILE to a file holding it")
		}
		defer tty.Close()
		ask := func(p string) (string, error) {
			fmt.Fprint(tty, p)
			b, err := term.ReadPassword(int(tty.Fd()))
			fmt.Fprintln(tty)
			return string(b), err
		}
		p, err := ask(prompt + ": ")
		if err != nil {
			return "", fmt.Errorf("read passphrase: %w", err)
		}
		if confirm {
			if p == "" {
				return "", withHint(keys.ErrNoPassphrase, "choose a passphrase of a few words")
			}
			again, err := ask("again: ")
			if err != nil {
				return "", fmt.Errorf("read passphrase: %w", err)
			}
			if again != p {
				return "", withHint(errors.New("the passphrases differ"), "run the command again")
			}
		}
		return p, nil
	}
}

// workspaceFlag adds --workspace.
func workspaceFlag(fs *pflag.FlagSet, dir *string) {
	fs.StringVar(dir, "workspace", "", "workspace folder (default: $PERSONA_HOME, else $XDG_DATA_HOME/persona)")
}

func openWorkspace(flag string, create bool) (*keys.Workspace, error) {
	dir, err := keys.ResolveDir(flag)
	if err != nil {
		return nil, err
	}
	ws, err := keys.Open(dir, create)
	if err != nil {
		return nil, withHint(err, "enrol first with `persona enrol`, or pass --workspace")
	}
	return ws, nil
}

// trustedKeys are the workspace's trusted licensor keys plus --provider-key.
func trustedKeys(ws *keys.Workspace, providerKey string) ([]minisign.PublicKey, error) {
	trusted, err := ws.Trusted()
	if err != nil {
		return nil, err
	}
	if providerKey != "" {
		k, err := keys.LoadPublicKey(providerKey)
		if err != nil {
			return nil, withHint(err, "--provider-key takes the licensor's provider.pub")
		}
		trusted = append(trusted, k)
	}
	return trusted, nil
}

// packageHint says what to do about an error opening a package.
func packageHint(err error) error {
	if err == nil || hint(err) != "" {
		return err
	}
	for _, h := range []struct {
		target error
		hint   string
	}{
		{licence.ErrUnknownKey, "trust the licensor's key once with `persona trust provider.pub`, or pass --provider-key provider.pub"},
		{licence.ErrLegacySignature, "ask the licensor to sign the licence again with a current `persona pack`"},
		{licence.ErrBadSignature, "the package changed after it was signed: get a fresh copy from the licensor"},
		{pack.ErrPayloadHash, "the data is not the data this licence was signed for: get a fresh copy from the licensor"},
		{pack.ErrPayload, "the package is damaged: get a fresh copy from the licensor"},
		{pack.ErrContainer, "a package is a tar of licence.json, licence.json.minisig and data.age: get a complete copy from the licensor"},
		{licence.ErrExpired, "the licence has ended: its data must now be deleted; ask the licensor for a new licence to continue"},
		{licence.ErrNotYetValid, "wait until the licence period starts"},
		{licence.ErrClockBack, "set this computer's clock to the correct time"},
		{usagelog.ErrClockBack, "set this computer's clock to the correct time"},
		{keys.ErrNotEnrolled, "enrol with `persona enrol --licence ID --name NAME` and send the enrolment to the licensor before they pack"},
		{pack.ErrNotRecipient, "the package was packed for other people: send the licensor your enrolment (persona enrol) and ask for a package packed for it"},
		{keys.ErrWrongPassphrase, "try again; PERSONA_PASSPHRASE_FILE must hold the passphrase on its first line"},
		{keys.ErrExposed, "key files must be private to you, as with ssh"},
		{licence.ErrInvalid, "the licence is malformed: ask the licensor for a fresh package"},
		{fs.ErrNotExist, "check the package's path"},
	} {
		if errors.Is(err, h.target) {
			return withHint(err, h.hint)
		}
	}
	return err
}
