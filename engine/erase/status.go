package erase

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/persona-workbench/persona/engine/keys"
	"github.com/persona-workbench/persona/engine/licence"
	"github.com/persona-workbench/persona/engine/usagelog"
)

// LicenceStatus is what a compliance officer needs to know of one licence
// on this workstation.
type LicenceStatus struct {
	ID          string           `json:"licence_id"`
	Person      string           `json:"person"`
	Licence     *licence.Licence `json:"-"`         // nil until the package was first opened here
	DaysLeft    int              `json:"days_left"` // of the licence period
	DeleteBy    time.Time        `json:"delete_by,omitzero"`
	DaysToErase int              `json:"days_to_delete"` // until the deletion deadline; negative when overdue
	Derivatives int              `json:"derivatives"`    // exports the log recorded
	Records     int64            `json:"log_records"`
	LogOK       bool             `json:"log_ok"`
	LogProblem  string           `json:"log_problem,omitempty"`
	Deleted     bool             `json:"deleted"`
	State       string           `json:"state"` // "enrolled", "active", "ended: delete now", "overdue", "deleted"
	// KeysUnlocked: persona unlock keeps the keys unlocked right now.
	KeysUnlocked bool `json:"keys_unlocked"`
}

// Status lists every licence enrolled in the workspace.
func Status(ws *keys.Workspace, now time.Time) ([]LicenceStatus, error) {
	ids, err := ws.Licences()
	if err != nil {
		return nil, err
	}
	var out []LicenceStatus
	for _, id := range ids {
		e, err := ws.Enrolment(id)
		if err != nil {
			continue
		}
		s := LicenceStatus{ID: e.ID, Person: e.Name, State: "enrolled", KeysUnlocked: ws.Unlocked(e.ID)}
		dir := ws.LicenceDir(e.ID)
		if b, err := os.ReadFile(filepath.Join(dir, LicenceFile)); err == nil {
			if l, err := licence.Parse(b); err == nil {
				s.Licence = l
				s.DaysLeft = l.DaysLeft(now)
				s.DeleteBy = l.DeleteBy()
				s.DaysToErase = int(s.DeleteBy.Sub(now).Hours() / 24)
				switch {
				case now.Before(l.NotAfter):
					s.State = "active"
				case now.Before(s.DeleteBy):
					s.State = "ended: delete now"
				default:
					s.State = "overdue"
				}
			}
		}
		recs, _, _ := usagelog.Records(dir)
		for _, r := range recs {
			var x struct {
				What string `json:"what"`
			}
			json.Unmarshal(r.Data, &x)
			if r.Kind == usagelog.KindExport && x.What != UsageReport {
				s.Derivatives++
			}
		}
		if v, err := usagelog.Verifier(e.PublicKey); err == nil {
			if rep, err := usagelog.Verify(dir, e.ID, v, nil); err == nil {
				s.Records, s.LogOK = rep.Records, rep.OK()
				if !rep.OK() {
					s.LogProblem = rep.Problems[0].Msg
				}
			}
		}
		if Deleted(ws, e.ID) != nil {
			s.Deleted, s.State = true, "deleted"
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
