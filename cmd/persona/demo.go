package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/persona-workbench/persona/engine/erase"
	"github.com/persona-workbench/persona/engine/keys"
	"github.com/persona-workbench/persona/engine/licence"
	"github.com/persona-workbench/persona/engine/pack"
	"github.com/persona-workbench/persona/engine/usagelog"
	"github.com/persona-workbench/persona/engine/views"
	"github.com/persona-workbench/persona/sample"
	"github.com/persona-workbench/persona/tui"
)

func newDemoCmd() *cobra.Command {
	var (
		rows     int64
		seed     uint64
		langFlag string
		threads  int
		lockIdle time.Duration
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Open the workbench on a synthetic persona sample, through the full licensed path",
		Long: `Open the workbench on a synthetic persona sample (200k records by default),
going through exactly the path real data takes: in a throwaway workspace
a licensor key is made, an analyst enrols, the sample is packed into a
signed, encrypted package, and the package is opened, decrypted in memory
and shown behind the licence gate. The demo's keys are not protected by a
passphrase and are marked as demo keys (so at the lock screen any
passphrase, even none, unlocks); everything is removed on exit. Press ? in
the workbench for its keys.`,
		Example: "  persona demo\n  persona demo --lang en --rows 1000000",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lg, err := lang(langFlag)
			if err != nil {
				return err
			}
			if lockIdle < 0 {
				return withHint(fmt.Errorf("--lock-after must not be negative, got %s", lockIdle), "e.g. --lock-after 5m, or 0 never to lock")
			}
			if !isatty.IsTerminal(os.Stdout.Fd()) || !isatty.IsTerminal(os.Stdin.Fd()) {
				return withHint(fmt.Errorf("demo needs a terminal"), "for scripts and pipes use `persona query`")
			}
			if rows < 1 || rows > sample.MaxRows {
				return withHint(fmt.Errorf("--rows must be between 1 and %d, got %d", sample.MaxRows, rows), "the demo uses 200000")
			}
			dir, err := os.MkdirTemp("", "persona-demo-*")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			fmt.Fprintf(os.Stderr, "persona: demo workspace %s (removed on exit)\n", dir)
			pkg, ws, err := demoPackage(cmd.Context(), dir, rows, seed)
			if err != nil {
				return err
			}
			src := source{path: pkg, ws: ws, threads: threads, providerKey: filepath.Join(dir, "licensor", keys.ProviderPub)}
			o, err := src.open(cmd.Context())
			if err != nil {
				return err
			}
			defer o.Close()
			return runWorkbench(cmd.Context(), o, lg, lockIdle)
		},
	}
	lockFlag(cmd.Flags(), &lockIdle)
	cmd.Flags().Int64Var(&rows, "rows", sample.DefaultRows, "records of the synthetic sample")
	cmd.Flags().Uint64Var(&seed, "seed", sample.DefaultSeed, "seed of the synthetic sample")
	cmd.Flags().StringVar(&langFlag, "lang", "", "interface language, zh or en (default: from the locale)")
	cmd.Flags().IntVar(&threads, "threads", 0, "DuckDB worker threads (default: one per core)")
	return cmd
}

// demoPackage plays both sides in dir: the licensor makes a key, the
// analyst enrols, the licensor packs a synthetic sample for them. The
// synthetic sample's plaintext lives only until it is packed.
func demoPackage(ctx context.Context, dir string, rows int64, seed uint64) (string, *keys.Workspace, error) {
	p := newProgress()
	defer p.done()
	licensorDir := filepath.Join(dir, "licensor")
	if _, err := keys.GenerateProvider(licensorDir, "", true); err != nil {
		return "", nil, err
	}
	provider, err := keys.LoadSecretKey(filepath.Join(licensorDir, keys.ProviderKey), nil)
	if err != nil {
		return "", nil, err
	}
	ws, err := keys.Open(filepath.Join(dir, "workspace"), true)
	if err != nil {
		return "", nil, err
	}
	now := time.Now()
	terms := sample.Terms(now)
	name := "演示分析师 (demo analyst)"
	e, err := ws.Enrol(terms.ID, name, "analyst", "", true)
	if err != nil {
		return "", nil, err
	}
	if err := recordEnrolment(ws, e, ""); err != nil {
		return "", nil, err
	}
	data := filepath.Join(licensorDir, "data")
	err = sample.WriteDir(ctx, data, sample.Options{Rows: rows, Seed: seed, Progress: func(done int64) {
		p.show(fmt.Sprintf("generating the sample: %d of %d records", done, rows))
	}})
	if err != nil {
		return "", nil, err
	}
	defer os.RemoveAll(data)
	pkg := filepath.Join(dir, "demo.persona")
	_, err = pack.Pack(ctx, pack.Options{DataDir: data, Terms: terms, Enrolments: []*licence.Enrolment{e}, Key: provider, Out: pkg, Now: now,
		Progress: func(stage string, done, total int64) {
			if stage == "encrypt" {
				p.show(bar("packing", done, total))
			} else {
				p.show("checking the sample against the contract…")
			}
		}})
	if err != nil {
		return "", nil, err
	}
	return pkg, ws, nil
}

// lockFlag declares --lock-after, the idle time before the workbench
// locks its screen.
func lockFlag(fs *pflag.FlagSet, d *time.Duration) {
	fs.DurationVar(d, "lock-after", 10*time.Minute, "lock the screen after this long without a key press, until the passphrase is entered again (0: never)")
}

// runWorkbench starts the TUI on an open package, behind the licence
// gate; the acknowledgement and every slice go into the usage log.
func runWorkbench(ctx context.Context, o *opened, lg string, lockIdle time.Duration) error {
	// Ask the terminal for its background now, before the UI reads the
	// keyboard: asked later, the answer races with key presses.
	// Components (help, table) use the default renderer, so set it there.
	lipgloss.SetHasDarkBackground(lipgloss.HasDarkBackground())
	inv := o.Dataset.Inventory
	watermark := o.Licence.ID + " · " + o.Licence.Licensee.Name + " · " + o.Person.Name
	// Slices over single-valued dimensions read a summary of the records
	// once it is built in the background, after the licence gate; until
	// then, and if it cannot be built, they read the records.
	summarise, stop := context.WithCancel(ctx)
	defer stop()
	app := tui.New(tui.Config{
		Summarise: func() (int64, error) { return o.Dataset.Slices.Summarise(summarise, 0) },
		Watermark: watermark,
		Views:     loggedViews{o.views, o.session},
		Backend:   o.slices("tui"), Lang: lg,
		Title: o.Licence.ID + " · " + inv.Dataset.In(lg),
		Gate:  &tui.Gate{Licence: o.Licence, Person: o.Person.Name, Now: time.Now()},
		UsageLog: func() ([]usagelog.Record, *usagelog.Report, error) {
			return o.readLog()
		},
		Compliance: &tui.Compliance{
			Licence: o.Licence.ID,
			Status:  func() ([]erase.LicenceStatus, error) { return erase.Status(o.ws, time.Now()) },
			Delete:  o.deleteLicence,
		},
		OnAnalysis: func(rec map[string]any) { o.session.Record(usagelog.KindAnalysis, rec) },
		Exports:    workbenchExports{o},
		OnAcknowledge: func() {
			o.session.Record(usagelog.KindAcknowledge, map[string]string{"licence_id": o.Licence.ID, "purpose": o.Licence.Purpose})
		},
		Lock: &tui.Lock{
			After:     lockIdle,
			Watermark: watermark,
			Unlock: func(pass string) error {
				_, _, err := o.ws.Unlock(o.Licence.ID, func() (string, error) { return pass, nil })
				if err != nil {
					o.session.Record(usagelog.KindUnlock, map[string]bool{"ok": false})
				}
				return err
			},
			OnLock: func(by string) {
				o.session.Record(usagelog.KindLock, map[string]string{"by": by, "idle": lockIdle.String()})
			},
			OnUnlock: func() { o.session.Record(usagelog.KindUnlock, map[string]bool{"ok": true}) },
		},
	})
	p := tea.NewProgram(app, tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithContext(ctx))
	if _, err := p.Run(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("terminal: %w", err)
	}
	return nil
}

// loggedViews records in the usage log each view saved or removed: what
// the analyst keeps in the workspace is part of what they did.
type loggedViews struct {
	tui.Views
	log *usagelog.Session
}

func (l loggedViews) Save(v views.View) error {
	if err := l.Views.Save(v); err != nil {
		return err
	}
	l.log.Record(usagelog.KindView, map[string]any{"op": "save", "name": v.Name, "dims": v.Dims, "filters": v.Filters, "measure": v.Measure, "chart": v.Chart})
	return nil
}

func (l loggedViews) Remove(name string) error {
	if err := l.Views.Remove(name); err != nil {
		return err
	}
	l.log.Record(usagelog.KindView, map[string]any{"op": "remove", "name": name})
	return nil
}

func newOpenCmd() *cobra.Command {
	var (
		src      source
		langFlag string
		lockIdle time.Duration
	)
	cmd := &cobra.Command{
		Use:   "open PKG",
		Short: "Open a licensed package in the workbench",
		Long: `Open a licensed package: verify the licensor's signature (a key trusted with
` + "`persona trust`" + ` or --provider-key), check the payload's hash and the licence
period against the clock, unlock your enrolled identity for the licence
(passphrase on the terminal, or PERSONA_PASSPHRASE_FILE), decrypt the data
in memory — nothing decrypted is written to disk — and load it. The
licence's terms are shown first; no data is shown until you acknowledge
them. Press ? in the workbench for its keys.`,
		Example: "  persona open brand.persona\n  persona open brand.persona --provider-key provider.pub --lang en",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lg, err := lang(langFlag)
			if err != nil {
				return err
			}
			if lockIdle < 0 {
				return withHint(fmt.Errorf("--lock-after must not be negative, got %s", lockIdle), "e.g. --lock-after 5m, or 0 never to lock")
			}
			if !isatty.IsTerminal(os.Stdout.Fd()) || !isatty.IsTerminal(os.Stdin.Fd()) {
				return withHint(fmt.Errorf("open needs a terminal"), "for scripts and pipes use `persona query PKG`")
			}
			src.path = args[0]
			o, err := src.open(cmd.Context())
			if err != nil {
				return err
			}
			defer o.Close()
			return runWorkbench(cmd.Context(), o, lg, lockIdle)
		},
	}
	src.flags(cmd.Flags())
	lockFlag(cmd.Flags(), &lockIdle)
	cmd.Flags().StringVar(&langFlag, "lang", "", "interface language, zh or en (default: from the locale)")
	return cmd
}
