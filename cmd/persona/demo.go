package main

import (
	"fmt"
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/persona-workbench/persona/tui"
)

func newDemoCmd() *cobra.Command {
	var (
		src      source
		langFlag string
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Open the workbench on a synthetic persona sample",
		Long: `Open the workbench on a synthetic persona sample: generated in memory
(200k records by default, nothing written to disk) or read from a folder
written by ` + "`persona sample`" + `. Press ? in the workbench for its keys.`,
		Example: "  persona demo\n  persona demo --lang en --rows 1000000\n  persona demo --data ./sample-data",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lg, err := lang(langFlag)
			if err != nil {
				return err
			}
			if !isatty.IsTerminal(os.Stdout.Fd()) || !isatty.IsTerminal(os.Stdin.Fd()) {
				return withHint(fmt.Errorf("demo needs a terminal"), "for scripts and pipes use `persona query`")
			}
			fmt.Fprintln(os.Stderr, "persona: "+src.describe()+"…")
			ds, err := src.open(cmd.Context())
			if err != nil {
				return err
			}
			defer ds.Close()
			// Ask the terminal for its background now, before the UI reads
			// the keyboard: asked later, the answer races with key presses.
			// Components (help, table) use the default renderer, so set it
			// there.
			lipgloss.SetHasDarkBackground(lipgloss.HasDarkBackground())
			app := tui.New(tui.Config{Backend: ds.Slices, Lang: lg, Title: ds.Inventory.Dataset.In(lg)})
			p := tea.NewProgram(app, tea.WithAltScreen(), tea.WithContext(cmd.Context()))
			if _, err := p.Run(); err != nil && cmd.Context().Err() == nil {
				return fmt.Errorf("terminal: %w", err)
			}
			return nil
		},
	}
	src.flags(cmd.Flags())
	cmd.Flags().StringVar(&langFlag, "lang", "", "interface language, zh or en (default: from the locale)")
	return cmd
}
