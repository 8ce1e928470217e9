// Package licence holds the licence a persona package travels under: who
// licenses what to whom, for which purpose and period, to which named
// people, with which minimum group size, and by when everything must be
// deleted (docs/FORMAT.md, "Licensed package").
//
// A licence is JSON signed by the licensor with minisign, prehashed, and
// the signature's trusted comment repeats the licence id and the payload
// hash. The payload (the encrypted data) is covered by its SHA-256 in the
// licence: the licensor encrypts first and then signs, and a reader checks
// the signature and the hash before it decrypts anything.
//
// Parsing is strict — unknown keys, bad values and inconsistent terms are
// refused — because the licence crosses a trust boundary: it arrives with
// the data from another organisation.
package licence

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode"

	"aead.dev/minisign"
	"filippo.io/age"

	"github.com/persona-workbench/persona/engine/ckm"
	"github.com/persona-workbench/persona/engine/contract"
	"github.com/persona-workbench/persona/engine/inventory"
)

// Format and Version name the licence format this build reads and writes.
const (
	Format  = "persona-licence"
	Version = 1
)

// Region is the only licensed region version 1 knows.
const Region = "CN-mainland"

// Limits of the terms.
const (
	MaxPersonnelLimit = 20
	MaxK              = 100000
	MaxDeletionDays   = 365
	// ClockDrift is how far the clock may lag the licence's issue time
	// before it counts as set back.
	ClockDrift = 5 * time.Minute
	// MaxSize caps licence.json.
	MaxSize = 1 << 20
)

// Defaults of the contract.
const (
	DefaultMaxPersonnel = 2
	DefaultK            = 10
	DefaultDeletionDays = 15
)

// ErrInvalid is wrapped by every error about a malformed licence or terms.
var ErrInvalid = errors.New("invalid licence")

// Clock errors, checked with errors.Is.
var (
	ErrExpired     = errors.New("licence has expired")
	ErrNotYetValid = errors.New("licence is not valid yet")
	ErrClockBack   = errors.New("clock is set back")
)

// Party is the licensor or the licensee.
type Party struct {
	Name string `json:"name"`
	USCC string `json:"uscc"` // unified social credit code
}

// Person is one authorised person: the keys they enrolled for this licence.
type Person struct {
	Name      string `json:"name"`
	Role      string `json:"role"`
	Recipient string `json:"recipient"`  // age X25519 recipient, age1…
	PublicKey string `json:"public_key"` // minisign public key, base64
}

// Privacy holds the privacy terms: the minimum group size and the
// disclosure-control method the licensor chose, with its parameters
// (docs/PRIVACY.md).
type Privacy struct {
	K int `json:"k"`
	// Method is Perturb or Suppress. A licence without one was issued
	// before methods existed; its package holds no record keys, so it
	// is read as Suppress.
	Method string `json:"method,omitempty"`
	Parameters
}

// Parameters are a perturbation's parameters (Perturb only; see
// engine/ckm), as the licence and the terms write them: the largest
// adjustment D, its variance V, the small-count rule JS, the probability
// PStay that a count is left as it is (0: not fixed) and Mult, the scale
// of a sum's noise as a multiple of its largest contribution. 0 means
// the default.
type Parameters struct {
	D     int     `json:"d,omitempty"`
	V     float64 `json:"v,omitempty"`
	JS    int     `json:"js,omitempty"`
	PStay float64 `json:"pstay,omitempty"`
	Mult  float64 `json:"mult,omitempty"`
}

// The disclosure-control methods a licence can name.
const (
	// Perturb adjusts every released number by the cell key method:
	// consistent, bounded noise, no history, nothing redacted as more
	// is asked.
	Perturb = "perturb"
	// Suppress releases exact numbers and withholds cells by rule,
	// checking each result against the licence's release history.
	Suppress = "suppress"
)

// Effective returns the method in force: Suppress for a licence that
// names none.
func (p Privacy) Effective() string {
	if p.Method == "" {
		return Suppress
	}
	return p.Method
}

// Perturbation returns the perturbation's parameters, with defaults
// for those not set.
func (p Privacy) Perturbation() ckm.Params {
	d := ckm.DefaultParams()
	if p.D != 0 {
		d.D = p.D
	}
	if p.V != 0 {
		d.V = p.V
	}
	if p.JS != 0 {
		d.JS = p.JS
	}
	if p.PStay != 0 {
		d.PStay = p.PStay
	}
	if p.Mult != 0 {
		d.Mult = p.Mult
	}
	return d
}

// Bound is the largest adjustment of a head count: D under Perturb,
// 0 under Suppress.
func (p Privacy) Bound() int {
	if p.Effective() != Perturb {
		return 0
	}
	return p.Perturbation().D
}

func (p Privacy) validate() error {
	switch p.Method {
	case Perturb:
		pp := p.Perturbation()
		// Building the table checks what the ranges alone cannot: that
		// a distribution with these moments exists for every row.
		if _, err := ckm.NewTable(pp); err != nil {
			return invalid("privacy: %v", err)
		}
		if pp.D >= p.K {
			// A cell of fewer than k people could be adjusted to k or
			// more and shown; the bound must leave room below k.
			return invalid("privacy.d %d must be below k %d", pp.D, p.K)
		}
	case "", Suppress:
		if p.D != 0 || p.V != 0 || p.JS != 0 || p.PStay != 0 || p.Mult != 0 {
			return invalid("privacy: d, v, js, pstay and mult belong to method %q, not %q", Perturb, p.Effective())
		}
	default:
		return invalid("privacy.method %q: want %q or %q", p.Method, Perturb, Suppress)
	}
	return nil
}

// Payload commits to data.age.
type Payload struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Licence is licence.json.
type Licence struct {
	Format       string               `json:"format"`
	Version      int                  `json:"version"`
	ID           string               `json:"licence_id"`
	Issued       time.Time            `json:"issued"`
	Licensor     Party                `json:"licensor"`
	Licensee     Party                `json:"licensee"`
	Purpose      string               `json:"purpose"`
	NotBefore    time.Time            `json:"not_before"`
	NotAfter     time.Time            `json:"not_after"`
	Region       string               `json:"region"`
	MaxPersonnel int                  `json:"max_personnel"`
	Personnel    []Person             `json:"personnel"`
	Privacy      Privacy              `json:"privacy"`
	DeletionDays int                  `json:"deletion_days"`
	Inventory    *inventory.Inventory `json:"inventory"`
	Payload      Payload              `json:"payload"`
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidID reports whether id can be a licence id. Ids name folders in the
// workspace, so they are kept to a safe alphabet.
func ValidID(id string) bool { return idPattern.MatchString(id) }

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Parse reads and validates licence.json.
func Parse(data []byte) (*Licence, error) {
	if len(data) > MaxSize {
		return nil, invalid("licence.json is larger than %d bytes", MaxSize)
	}
	var l Licence
	if err := strictJSON(data, &l); err != nil {
		return nil, invalid("licence.json: %v", err)
	}
	if err := l.Validate(); err != nil {
		return nil, err
	}
	return &l, nil
}

// strictJSON decodes one JSON value, refusing unknown keys and trailing
// data.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

// Marshal encodes the licence as licence.json.
func (l *Licence) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Validate checks every term.
func (l *Licence) Validate() error {
	if l.Format != Format || l.Version != Version {
		return invalid("format %q version %d: this build reads %s version %d", l.Format, l.Version, Format, Version)
	}
	if !ValidID(l.ID) {
		return invalid("licence_id %q: want 1-64 letters, digits, '.', '_' or '-'", l.ID)
	}
	if err := validTerms(l.Licensor, l.Licensee, l.Purpose, l.Region, l.MaxPersonnel, l.Privacy.K, l.DeletionDays); err != nil {
		return err
	}
	if err := l.Privacy.validate(); err != nil {
		return err
	}
	if l.Issued.IsZero() || l.NotBefore.IsZero() || l.NotAfter.IsZero() {
		return invalid("issued, not_before and not_after are required")
	}
	if err := validPeriod(l.NotBefore, l.NotAfter); err != nil {
		return err
	}
	if !l.NotAfter.After(l.Issued) {
		return invalid("the licence ends (%s) before it was issued (%s)", l.NotAfter.Format(time.RFC3339), l.Issued.Format(time.RFC3339))
	}
	if len(l.Personnel) == 0 {
		return invalid("no authorised personnel")
	}
	if len(l.Personnel) > l.MaxPersonnel {
		return invalid("%d authorised people, the licence allows at most %d", len(l.Personnel), l.MaxPersonnel)
	}
	seen := map[string]bool{}
	for i, p := range l.Personnel {
		if err := p.validate(); err != nil {
			return invalid("personnel[%d]: %v", i, err)
		}
		if seen[p.Recipient] || seen[p.PublicKey] {
			return invalid("personnel[%d] (%s): a key is listed twice", i, p.Name)
		}
		seen[p.Recipient], seen[p.PublicKey] = true, true
	}
	if l.Inventory == nil {
		return invalid("no inventory")
	}
	if err := l.Inventory.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(l.Inventory.Files) == 0 {
		return invalid("the inventory lists no data files")
	}
	if len(l.Payload.SHA256) != 64 || strings.ToLower(l.Payload.SHA256) != l.Payload.SHA256 {
		return invalid("payload.sha256 must be 64 lower-case hex digits")
	}
	if _, err := hex.DecodeString(l.Payload.SHA256); err != nil {
		return invalid("payload.sha256 must be 64 lower-case hex digits")
	}
	if l.Payload.Size <= 0 {
		return invalid("payload.size must be positive")
	}
	return nil
}

func validTerms(licensor, licensee Party, purpose, region string, maxPersonnel, k, deletionDays int) error {
	for _, p := range []struct {
		role  string
		party Party
	}{{"licensor", licensor}, {"licensee", licensee}} {
		if !validText(p.party.Name) {
			return invalid("%s.name must be a non-empty line of text", p.role)
		}
		if !contract.ValidUSCC(p.party.USCC) {
			return invalid("%s.uscc %q is not a valid unified social credit code (18 characters, valid check character)", p.role, p.party.USCC)
		}
	}
	if !validText(purpose) {
		return invalid("purpose must be a non-empty line of text")
	}
	if region != Region {
		return invalid("region %q: the only licensed region is %q", region, Region)
	}
	if maxPersonnel < 1 || maxPersonnel > MaxPersonnelLimit {
		return invalid("max_personnel %d: want 1-%d", maxPersonnel, MaxPersonnelLimit)
	}
	if k < 2 || k > MaxK {
		return invalid("k %d: want 2-%d", k, MaxK)
	}
	if deletionDays < 1 || deletionDays > MaxDeletionDays {
		return invalid("deletion_days %d: want 1-%d", deletionDays, MaxDeletionDays)
	}
	return nil
}

func validPeriod(from, to time.Time) error {
	if !to.After(from) {
		return invalid("not_after (%s) is not after not_before (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	if to.After(from.AddDate(5, 0, 0)) {
		return invalid("the period from %s to %s is longer than 5 years", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	return nil
}

// validText accepts one non-empty line without control characters.
func validText(s string) bool {
	if strings.TrimSpace(s) == "" || len(s) > 2000 {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return false
		}
	}
	return true
}

func (p Person) validate() error {
	if !validText(p.Name) || len(p.Name) > 200 {
		return errors.New("name must be a non-empty line of text")
	}
	if !validText(p.Role) || len(p.Role) > 200 {
		return errors.New("role must be a non-empty line of text")
	}
	// Both keys must be in their one canonical form, so that the same key
	// cannot be listed twice under two spellings.
	if r, err := age.ParseX25519Recipient(p.Recipient); err != nil || r.String() != p.Recipient {
		return fmt.Errorf("recipient %q is not an age X25519 recipient (age1…)", short(p.Recipient))
	}
	if k, err := ParsePublicKey(p.PublicKey); err != nil || PublicKeyString(k) != p.PublicKey {
		return fmt.Errorf("public_key %q is not a minisign public key (one base64 line, RW…)", short(p.PublicKey))
	}
	return nil
}

func short(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}

// ParsePublicKey reads a minisign public key, either its base64 line or a
// whole .pub file.
func ParsePublicKey(s string) (minisign.PublicKey, error) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[i+1:])
	}
	var k minisign.PublicKey
	if err := k.UnmarshalText([]byte(s)); err != nil {
		return k, err
	}
	return k, nil
}

// PublicKeyString is a minisign public key as its one base64 line (RW…).
func PublicKeyString(k minisign.PublicKey) string {
	b, _ := k.MarshalText()
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// KeyID formats a minisign key id the way minisign prints it.
func KeyID(id uint64) string { return fmt.Sprintf("%016X", id) }

// CheckClock holds now against the licence's period. A clock more than
// ClockDrift before the issue time has been set back.
func (l *Licence) CheckClock(now time.Time) error {
	switch {
	case now.Before(l.Issued.Add(-ClockDrift)):
		return fmt.Errorf("%w: it reads %s, but licence %s was issued at %s", ErrClockBack, now.Format(time.RFC3339), l.ID, l.Issued.Format(time.RFC3339))
	case now.Before(l.NotBefore):
		return fmt.Errorf("%w: licence %s starts %s", ErrNotYetValid, l.ID, l.NotBefore.Format(time.RFC3339))
	case !now.Before(l.NotAfter):
		return fmt.Errorf("%w: licence %s ended %s", ErrExpired, l.ID, l.NotAfter.Format(time.RFC3339))
	}
	return nil
}

// DaysLeft is the number of whole days until the licence ends.
func (l *Licence) DaysLeft(now time.Time) int {
	if !now.Before(l.NotAfter) {
		return 0
	}
	return int(l.NotAfter.Sub(now) / (24 * time.Hour))
}

// DeleteBy is the deadline for deleting the data and its derivatives.
func (l *Licence) DeleteBy() time.Time {
	return l.NotAfter.AddDate(0, 0, l.DeletionDays)
}

// Person returns the authorised person with the given age recipient.
func (l *Licence) Person(recipient string) (Person, bool) {
	for _, p := range l.Personnel {
		if p.Recipient == recipient {
			return p, true
		}
	}
	return Person{}, false
}
