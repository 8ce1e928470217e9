package licence

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/persona-workbench/persona/engine/ckm"
	"github.com/persona-workbench/persona/engine/inventory"
)

// Terms is terms.json: the contract's terms as the licensor writes them,
// from which pack builds the licence.
type Terms struct {
	ID           string `json:"licence_id"`
	Licensor     Party  `json:"licensor"`
	Licensee     Party  `json:"licensee"`
	Purpose      string `json:"purpose"`
	NotBefore    string `json:"not_before"`
	NotAfter     string `json:"not_after"`
	Region       string `json:"region,omitempty"`
	MaxPersonnel int    `json:"max_personnel,omitempty"`
	K            int    `json:"k,omitempty"`
	DeletionDays int    `json:"deletion_days,omitempty"`
	// Privacy names the disclosure-control method and its parameters
	// (k is the key above); new terms default to Perturb with the
	// default parameters.
	Privacy *TermsPrivacy `json:"privacy,omitempty"`
}

// TermsPrivacy is the privacy object of terms.json: Privacy without k.
type TermsPrivacy struct {
	Method string `json:"method,omitempty"`
	Parameters
}

// LicencePrivacy is the licence's privacy terms these terms make: the method
// defaults to Perturb, and a perturbation's parameters are written out
// in full, so the licence says exactly what applies.
func (t *Terms) LicencePrivacy() Privacy {
	p := Privacy{K: t.K, Method: Perturb}
	if t.Privacy != nil {
		tp := t.Privacy
		p = Privacy{K: t.K, Method: tp.Method, Parameters: tp.Parameters}
		if p.Method == "" {
			p.Method = Perturb
		}
	}
	if p.Method == Perturb {
		if p.D == 0 && ckm.DefaultParams().D >= p.K {
			// A small k leaves less room below it: the default bound
			// shrinks to k-1, and its variance with it, unless set.
			p.D = p.K - 1
			if p.V == 0 {
				p.V = min(ckm.DefaultParams().V, float64(p.D*p.D)/2)
			}
		}
		pp := p.Perturbation()
		p.D, p.V, p.JS, p.PStay, p.Mult = pp.D, pp.V, pp.JS, pp.PStay, pp.Mult
	}
	return p
}

// china is China Standard Time, for dates without a time.
var china = time.FixedZone("CST", 8*3600)

// LoadTerms reads and checks terms.json.
func LoadTerms(path string) (*Terms, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read terms: %w", err)
	}
	return ParseTerms(data)
}

// ParseTerms reads terms.json, fills in the defaults and checks the terms.
func ParseTerms(data []byte) (*Terms, error) {
	if len(data) > MaxSize {
		return nil, invalid("terms.json is larger than %d bytes", MaxSize)
	}
	var t Terms
	if err := strictJSON(data, &t); err != nil {
		return nil, invalid("terms.json: %v", err)
	}
	if t.Region == "" {
		t.Region = Region
	}
	if t.MaxPersonnel == 0 {
		t.MaxPersonnel = DefaultMaxPersonnel
	}
	if t.K == 0 {
		t.K = DefaultK
	}
	if t.DeletionDays == 0 {
		t.DeletionDays = DefaultDeletionDays
	}
	if !ValidID(t.ID) {
		return nil, invalid("licence_id %q: want 1-64 letters, digits, '.', '_' or '-'", t.ID)
	}
	if err := validTerms(t.Licensor, t.Licensee, t.Purpose, t.Region, t.MaxPersonnel, t.K, t.DeletionDays); err != nil {
		return nil, err
	}
	if err := t.LicencePrivacy().validate(); err != nil {
		return nil, err
	}
	from, to, err := t.Period()
	if err != nil {
		return nil, err
	}
	if err := validPeriod(from, to); err != nil {
		return nil, err
	}
	return &t, nil
}

// Period parses not_before and not_after: RFC 3339 times, or dates in
// China Standard Time (not_before from the start of its day, not_after to
// the end of its day).
func (t *Terms) Period() (from, to time.Time, err error) {
	from, err = parseTime("not_before", t.NotBefore, false)
	if err != nil {
		return
	}
	to, err = parseTime("not_after", t.NotAfter, true)
	return
}

func parseTime(key, s string, endOfDay bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, invalid("%s is required", key)
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, s, china)
	if err != nil {
		return time.Time{}, invalid("%s %q: want a date 2026-11-01 or a time 2026-11-01T00:00:00+08:00", key, s)
	}
	if endOfDay {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

// CheckIssue holds the terms against the time of packing: a licence that
// has already ended is not worth issuing.
func (t *Terms) CheckIssue(now time.Time) error {
	_, to, err := t.Period()
	if err != nil {
		return err
	}
	if !to.After(now) {
		return invalid("the licence period ended %s, before today", to.Format(time.RFC3339))
	}
	return nil
}

// Licence builds the unsigned licence for these terms, people, data and
// payload.
func (t *Terms) Licence(issued time.Time, people []Person, inv *inventory.Inventory, payload Payload) (*Licence, error) {
	from, to, err := t.Period()
	if err != nil {
		return nil, err
	}
	l := &Licence{
		Format: Format, Version: Version, ID: t.ID, Issued: issued.UTC().Truncate(time.Second),
		Licensor: t.Licensor, Licensee: t.Licensee, Purpose: t.Purpose,
		NotBefore: from, NotAfter: to, Region: t.Region, MaxPersonnel: t.MaxPersonnel,
		Personnel: people, Privacy: t.LicencePrivacy(), DeletionDays: t.DeletionDays,
		Inventory: inv, Payload: payload,
	}
	return l, l.Validate()
}
