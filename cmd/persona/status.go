package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/persona-workbench/persona/engine/erase"
)

func newStatusCmd() *cobra.Command {
	var (
		wsFlag string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Every licence on this workstation: days left, deletion deadline, derivatives, log health",
		Long: `List every licence enrolled in the workspace: its state (active, ended: delete
now, overdue, deleted), the days left in its period, the deletion deadline
and the days to it, the exports its usage log recorded, whether the log
verifies, and whether ` + "`persona unlock`" + ` keeps its keys unlocked. Delete with ` + "`persona delete --licence ID --out CERT.json`" + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, err := openWorkspace(wsFlag, false)
			if err != nil {
				return err
			}
			st, err := erase.Status(ws, time.Now())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				if st == nil {
					st = []erase.LicenceStatus{}
				}
				return enc.Encode(st)
			}
			if len(st) == 0 {
				fmt.Fprintln(out, "no licences in", ws.Dir)
				return nil
			}
			var tb table
			tb.add("LICENCE", "STATE", "DAYS LEFT", "DELETE BY", "DAYS TO DELETE", "DERIVATIVES", "LOG", "KEYS")
			for _, s := range st {
				by, left, toDel := "—", "—", "—"
				if s.Licence != nil {
					by = s.DeleteBy.In(time.FixedZone("CST", 8*3600)).Add(-time.Nanosecond).Format("2006-01-02")
					left, toDel = fmt.Sprint(s.DaysLeft), fmt.Sprint(s.DaysToErase)
				}
				log := fmt.Sprintf("ok, %d records", s.Records)
				if !s.LogOK {
					log = "PROBLEM: " + s.LogProblem
				}
				keys := "locked"
				if s.KeysUnlocked {
					keys = "unlocked (persona unlock)"
				}
				tb.add(s.ID, s.State, left, by, toDel, fmt.Sprint(s.Derivatives), log, keys)
			}
			return tb.write(out)
		},
	}
	workspaceFlag(cmd.Flags(), &wsFlag)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
