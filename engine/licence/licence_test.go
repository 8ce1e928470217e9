package licence_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"
	"filippo.io/age"

	"github.com/persona-workbench/persona/engine/inventory"
	"github.com/persona-workbench/persona/engine/licence"
	"github.com/persona-workbench/persona/sample"
)

// cst is China Standard Time, the zone of dates in terms.json.
var cst = time.FixedZone("CST", 8*3600)

// issued is when the fixture licence was packed: 18:00 in Beijing.
var issued = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// The fixture's period, from the terms' dates 2026-11-01 and 2027-04-30.
var (
	periodFrom = time.Date(2026, 11, 1, 0, 0, 0, 0, cst)
	periodTo   = time.Date(2027, 5, 1, 0, 0, 0, 0, cst)
)

const payloadSHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// termsJSON is terms.json as a licensor writes it, with the sample's
// parties and the defaults left out.
func termsJSON() string {
	return `{
  "licence_id": "DEMO-2026-0001",
  "licensor": {"name": "` + sample.Licensor.Name + `", "uscc": "` + sample.Licensor.USCC + `"},
  "licensee": {"name": "` + sample.Licensee.Name + `", "uscc": "` + sample.Licensee.USCC + `"},
  "purpose": "品牌在平台内营销活动的效果分析 / effect analysis of the brand's campaigns on the platform",
  "not_before": "2026-11-01",
  "not_after": "2027-04-30"
}`
}

// person is one authorised person with fresh keys.
type person struct {
	licence.Person
	identity *age.X25519Identity
	signing  minisign.PrivateKey
}

func newPerson(t testing.TB, name string) person {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return person{
		Person:   licence.Person{Name: name, Role: "analyst", Recipient: id.Recipient().String(), PublicKey: licence.PublicKeyString(pub)},
		identity: id,
		signing:  priv,
	}
}

// fixture is a valid licence for one person and the licensor's key.
type fixture struct {
	lic    *licence.Licence
	people []person
	pub    minisign.PublicKey
	priv   minisign.PrivateKey
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	terms, err := licence.ParseTerms([]byte(termsJSON()))
	if err != nil {
		t.Fatalf("terms: %v", err)
	}
	f := &fixture{people: []person{newPerson(t, "王芳")}}
	l, err := terms.Licence(issued, []licence.Person{f.people[0].Person}, sample.Inventory(100, 1),
		licence.Payload{SHA256: payloadSHA, Size: 123456})
	if err != nil {
		t.Fatalf("licence of valid terms: %v", err)
	}
	f.lic = l
	if f.pub, f.priv, err = minisign.GenerateKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	return f
}

// clone deep-copies a licence through its encoding.
func clone(t testing.TB, l *licence.Licence) *licence.Licence {
	t.Helper()
	b, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var c licence.Licence
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func marshal(t testing.TB, l *licence.Licence) []byte {
	t.Helper()
	b, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameLicence compares two licences by their encoding, which is
// deterministic, and their times as instants.
func sameLicence(t testing.TB, got, want *licence.Licence) {
	t.Helper()
	for _, tt := range []struct {
		name      string
		got, want time.Time
	}{{"issued", got.Issued, want.Issued}, {"not_before", got.NotBefore, want.NotBefore}, {"not_after", got.NotAfter, want.NotAfter}} {
		if !tt.got.Equal(tt.want) {
			t.Errorf("%s = %s, want %s", tt.name, tt.got, tt.want)
		}
	}
	if g, w := marshal(t, got), marshal(t, want); !bytes.Equal(g, w) {
		t.Errorf("licences differ:\n got %s\nwant %s", g, w)
	}
}

func TestFixture(t *testing.T) {
	f := newFixture(t)
	l := f.lic
	if err := l.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"format", l.Format, licence.Format},
		{"version", l.Version, licence.Version},
		{"id", l.ID, "DEMO-2026-0001"},
		{"licensor", l.Licensor, sample.Licensor},
		{"licensee", l.Licensee, sample.Licensee},
		{"region", l.Region, licence.Region},
		{"max personnel", l.MaxPersonnel, licence.DefaultMaxPersonnel},
		{"k", l.Privacy.K, licence.DefaultK},
		{"deletion days", l.DeletionDays, licence.DefaultDeletionDays},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !l.Issued.Equal(issued) {
		t.Errorf("issued %s, want %s", l.Issued, issued)
	}
	if !l.NotBefore.Equal(periodFrom) || !l.NotAfter.Equal(periodTo) {
		t.Errorf("period %s - %s, want %s - %s", l.NotBefore, l.NotAfter, periodFrom, periodTo)
	}
	if got := licence.PublicKeyString(f.pub); !strings.HasPrefix(got, "RW") || strings.ContainsAny(got, " \n") {
		t.Errorf("PublicKeyString = %q, want one base64 line starting RW", got)
	}
	if got := licence.KeyID(0xAB); got != "00000000000000AB" {
		t.Errorf("KeyID(0xAB) = %q", got)
	}
}

func TestParseRoundTrip(t *testing.T) {
	f := newFixture(t)
	data := marshal(t, f.lic)
	if !bytes.HasSuffix(data, []byte("}\n")) {
		t.Errorf("Marshal does not end with a newline: %q", data[len(data)-10:])
	}
	got, err := licence.Parse(data)
	if err != nil {
		t.Fatalf("Parse(Marshal(valid)): %v", err)
	}
	sameLicence(t, got, f.lic)
	// The encoding uses the spec's keys.
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"format", "version", "licence_id", "issued", "licensor", "licensee", "purpose", "not_before", "not_after",
		"region", "max_personnel", "personnel", "privacy", "deletion_days", "inventory", "payload"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("licence.json has no key %q", k)
		}
	}
	if len(keys) != 16 {
		t.Errorf("licence.json has %d keys, want 16", len(keys))
	}
	// Whitespace around the object is fine.
	if _, err := licence.Parse(append(append([]byte("\n  "), data...), " \n\t"...)); err != nil {
		t.Errorf("Parse with surrounding whitespace: %v", err)
	}
}

// mutate returns the fixture's licence.json after a change to the licence.
func mutate(t *testing.T, f *fixture, change func(l *licence.Licence)) []byte {
	t.Helper()
	l := clone(t, f.lic)
	change(l)
	return marshal(t, l)
}

func TestParseRefuses(t *testing.T) {
	f := newFixture(t)
	other := newPerson(t, "李雷")
	third := newPerson(t, "韩梅梅")
	valid := marshal(t, f.lic)
	withPerson := func(l *licence.Licence, p licence.Person) { l.Personnel = append(l.Personnel, p) }
	badUSCC := func(code string) string {
		// Change the check character to another valid character.
		last := "0"
		if code[17] == '0' {
			last = "1"
		}
		return code[:17] + last
	}
	tests := []struct {
		name string
		data []byte
		msg  string
	}{
		{"not JSON", []byte("licence"), "licence.json"},
		{"empty", nil, "licence.json"},
		{"JSON array", []byte("[]"), "licence.json"},
		{"unknown key", bytes.Replace(valid, []byte("{"), []byte(`{"extra": true, `), 1), `unknown field "extra"`},
		{"unknown key in a party", bytes.Replace(valid, []byte(`"uscc"`), []byte(`"seal": "x", "uscc"`), 1), `unknown field "seal"`},
		{"trailing object", append(append([]byte{}, valid...), "{}"...), "data after the JSON object"},
		{"trailing garbage", append(append([]byte{}, valid...), "x"...), "data after the JSON object"},
		{"two licences", append(append([]byte{}, valid...), valid...), "data after the JSON object"},
		{"too large", append(append([]byte{}, valid...), bytes.Repeat([]byte(" "), licence.MaxSize)...), "larger than"},
		{"wrong format", mutate(t, f, func(l *licence.Licence) { l.Format = "persona-licence-2" }), `format "persona-licence-2"`},
		{"no format", mutate(t, f, func(l *licence.Licence) { l.Format = "" }), `format ""`},
		{"version 2", mutate(t, f, func(l *licence.Licence) { l.Version = 2 }), "version 2"},
		{"version 0", mutate(t, f, func(l *licence.Licence) { l.Version = 0 }), "version 0"},
		{"id with a path", mutate(t, f, func(l *licence.Licence) { l.ID = "../x" }), `licence_id "../x"`},
		{"id with a slash", mutate(t, f, func(l *licence.Licence) { l.ID = "a/b" }), `licence_id "a/b"`},
		{"empty id", mutate(t, f, func(l *licence.Licence) { l.ID = "" }), `licence_id ""`},
		{"id of 65 characters", mutate(t, f, func(l *licence.Licence) { l.ID = strings.Repeat("a", 65) }), "licence_id"},
		{"id starting with a dot", mutate(t, f, func(l *licence.Licence) { l.ID = ".hidden" }), "licence_id"},
		{"id with a space", mutate(t, f, func(l *licence.Licence) { l.ID = "A 1" }), "licence_id"},
		{"id with a newline", mutate(t, f, func(l *licence.Licence) { l.ID = "A1\n" }), "licence_id"},
		{"licensor USCC check", mutate(t, f, func(l *licence.Licence) { l.Licensor.USCC = badUSCC(l.Licensor.USCC) }), "licensor.uscc"},
		{"licensee USCC lower case", mutate(t, f, func(l *licence.Licence) { l.Licensee.USCC = strings.ToLower(l.Licensee.USCC) }), "licensee.uscc"},
		{"licensee USCC short", mutate(t, f, func(l *licence.Licence) { l.Licensee.USCC = l.Licensee.USCC[:17] }), "licensee.uscc"},
		{"licensor without a name", mutate(t, f, func(l *licence.Licence) { l.Licensor.Name = " " }), "licensor.name"},
		{"licensee name with a newline", mutate(t, f, func(l *licence.Licence) { l.Licensee.Name = "A\nB" }), "licensee.name"},
		{"no purpose", mutate(t, f, func(l *licence.Licence) { l.Purpose = "" }), "purpose"},
		{"control character in purpose", mutate(t, f, func(l *licence.Licence) { l.Purpose = "analysis\x1b[2J" }), "purpose"},
		{"tab in purpose", mutate(t, f, func(l *licence.Licence) { l.Purpose = "a\tb" }), "purpose"},
		{"replacement character in purpose", mutate(t, f, func(l *licence.Licence) { l.Purpose = "a\ufffdb" }), "purpose"},
		{"purpose too long", mutate(t, f, func(l *licence.Licence) { l.Purpose = strings.Repeat("a", 2001) }), "purpose"},
		{"region HK", mutate(t, f, func(l *licence.Licence) { l.Region = "HK" }), `region "HK"`},
		{"no region", mutate(t, f, func(l *licence.Licence) { l.Region = "" }), `region ""`},
		{"k 1", mutate(t, f, func(l *licence.Licence) { l.Privacy.K = 1 }), "k 1:"},
		{"k 0", mutate(t, f, func(l *licence.Licence) { l.Privacy.K = 0 }), "k 0:"},
		{"k too large", mutate(t, f, func(l *licence.Licence) { l.Privacy.K = licence.MaxK + 1 }), "k 100001"},
		{"max_personnel 0", mutate(t, f, func(l *licence.Licence) { l.MaxPersonnel = 0 }), "max_personnel 0"},
		{"max_personnel 21", mutate(t, f, func(l *licence.Licence) { l.MaxPersonnel = 21 }), "max_personnel 21"},
		{"deletion_days 0", mutate(t, f, func(l *licence.Licence) { l.DeletionDays = 0 }), "deletion_days 0"},
		{"deletion_days 366", mutate(t, f, func(l *licence.Licence) { l.DeletionDays = 366 }), "deletion_days 366"},
		{"more personnel than max", mutate(t, f, func(l *licence.Licence) {
			withPerson(l, other.Person)
			withPerson(l, third.Person)
		}), "3 authorised people, the licence allows at most 2"},
		{"no personnel", mutate(t, f, func(l *licence.Licence) { l.Personnel = nil }), "no authorised personnel"},
		{"duplicate recipient", mutate(t, f, func(l *licence.Licence) {
			p := other.Person
			p.Recipient = l.Personnel[0].Recipient
			withPerson(l, p)
		}), "personnel[1] (李雷): a key is listed twice"},
		{"duplicate public key", mutate(t, f, func(l *licence.Licence) {
			p := other.Person
			p.PublicKey = l.Personnel[0].PublicKey
			withPerson(l, p)
		}), "personnel[1] (李雷): a key is listed twice"},
		{"the same person twice", mutate(t, f, func(l *licence.Licence) { withPerson(l, l.Personnel[0]) }), "listed twice"},
		{"bad recipient", mutate(t, f, func(l *licence.Licence) { l.Personnel[0].Recipient = "age1notarecipient" }), "personnel[0]: recipient"},
		{"ssh recipient", mutate(t, f, func(l *licence.Licence) {
			l.Personnel[0].Recipient = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN"
		}), "personnel[0]: recipient"},
		{"identity instead of recipient", mutate(t, f, func(l *licence.Licence) { l.Personnel[0].Recipient = f.people[0].identity.String() }), "personnel[0]: recipient"},
		{"long bad recipient is shortened", mutate(t, f, func(l *licence.Licence) { l.Personnel[0].Recipient = strings.Repeat("x", 100) }), `"` + strings.Repeat("x", 24) + `…"`},
		{"bad public key", mutate(t, f, func(l *licence.Licence) { l.Personnel[0].PublicKey = "RWnotakey" }), "personnel[0]: public_key"},
		{"empty public key", mutate(t, f, func(l *licence.Licence) { l.Personnel[0].PublicKey = "" }), "personnel[0]: public_key"},
		{"person without a name", mutate(t, f, func(l *licence.Licence) { l.Personnel[0].Name = "" }), "personnel[0]: name"},
		{"person name too long", mutate(t, f, func(l *licence.Licence) { l.Personnel[0].Name = strings.Repeat("名", 67) }), "personnel[0]: name"},
		{"person without a role", mutate(t, f, func(l *licence.Licence) { l.Personnel[0].Role = "\t" }), "personnel[0]: role"},
		{"no issue time", mutate(t, f, func(l *licence.Licence) { l.Issued = time.Time{} }), "issued, not_before and not_after are required"},
		{"no not_before", mutate(t, f, func(l *licence.Licence) { l.NotBefore = time.Time{} }), "are required"},
		{"period reversed", mutate(t, f, func(l *licence.Licence) { l.NotBefore, l.NotAfter = l.NotAfter, l.NotBefore }), "is not after not_before"},
		{"empty period", mutate(t, f, func(l *licence.Licence) { l.NotBefore = l.NotAfter }), "is not after not_before"},
		{"period over 5 years", mutate(t, f, func(l *licence.Licence) { l.NotAfter = l.NotBefore.AddDate(6, 0, 0) }), "longer than 5 years"},
		{"period a second over the limit", mutate(t, f, func(l *licence.Licence) { l.NotAfter = l.NotBefore.AddDate(5, 0, 0).Add(time.Second) }), "longer than 5 years"},
		{"ends before it was issued", mutate(t, f, func(l *licence.Licence) { l.Issued = l.NotAfter.Add(time.Hour) }), "before it was issued"},
		{"ends when it was issued", mutate(t, f, func(l *licence.Licence) { l.Issued = l.NotAfter }), "before it was issued"},
		{"payload sha upper case", mutate(t, f, func(l *licence.Licence) { l.Payload.SHA256 = strings.ToUpper(payloadSHA) }), "payload.sha256"},
		{"payload sha short", mutate(t, f, func(l *licence.Licence) { l.Payload.SHA256 = payloadSHA[:63] }), "payload.sha256"},
		{"payload sha long", mutate(t, f, func(l *licence.Licence) { l.Payload.SHA256 = payloadSHA + "0" }), "payload.sha256"},
		{"payload sha not hex", mutate(t, f, func(l *licence.Licence) { l.Payload.SHA256 = strings.Repeat("g", 64) }), "payload.sha256"},
		{"no payload sha", mutate(t, f, func(l *licence.Licence) { l.Payload.SHA256 = "" }), "payload.sha256"},
		{"size 0", mutate(t, f, func(l *licence.Licence) { l.Payload.Size = 0 }), "payload.size must be positive"},
		{"negative size", mutate(t, f, func(l *licence.Licence) { l.Payload.Size = -1 }), "payload.size must be positive"},
		{"missing inventory", mutate(t, f, func(l *licence.Licence) { l.Inventory = nil }), "no inventory"},
		{"inventory without files", mutate(t, f, func(l *licence.Licence) { l.Inventory.Files = nil }), "lists no data files"},
		{"invalid inventory", mutate(t, f, func(l *licence.Licence) { l.Inventory.Table = "Personas" }), `table name "Personas"`},
		{"inventory with a path", mutate(t, f, func(l *licence.Licence) { l.Inventory.Files = []string{"../personas.parquet"} }), "plain file name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := licence.Parse(tt.data)
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", l)
			}
			if !errors.Is(err, licence.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
			if l != nil {
				t.Errorf("Parse returned a licence with its error")
			}
		})
	}
	t.Run("invalid inventory wraps the inventory's error", func(t *testing.T) {
		_, err := licence.Parse(mutate(t, f, func(l *licence.Licence) { l.Inventory.Version = 9 }))
		if !errors.Is(err, licence.ErrInvalid) || !errors.Is(err, inventory.ErrInvalid) {
			t.Errorf("error %v wraps neither ErrInvalid nor inventory.ErrInvalid", err)
		}
	})
}

func TestParseAcceptsLimits(t *testing.T) {
	f := newFixture(t)
	twenty := make([]licence.Person, 20)
	for i := range twenty {
		twenty[i] = newPerson(t, "analyst").Person
	}
	tests := []struct {
		name   string
		change func(l *licence.Licence)
	}{
		{"k 2", func(l *licence.Licence) { l.Privacy.K, l.Privacy.D, l.Privacy.V = 2, 1, 0.5 }},
		{"k 100000", func(l *licence.Licence) { l.Privacy.K = licence.MaxK }},
		{"max_personnel 1", func(l *licence.Licence) { l.MaxPersonnel = 1 }},
		{"20 people", func(l *licence.Licence) { l.MaxPersonnel, l.Personnel = 20, twenty }},
		{"deletion_days 1", func(l *licence.Licence) { l.DeletionDays = 1 }},
		{"deletion_days 365", func(l *licence.Licence) { l.DeletionDays = 365 }},
		{"id of 64 characters", func(l *licence.Licence) { l.ID = strings.Repeat("a", 64) }},
		{"id of one digit", func(l *licence.Licence) { l.ID = "7" }},
		{"id with dots and dashes", func(l *licence.Licence) { l.ID = "A.b_c-9" }},
		{"period of exactly the limit", func(l *licence.Licence) { l.NotAfter = l.NotBefore.AddDate(5, 0, 0) }},
		{"period of five calendar years", func(l *licence.Licence) { l.NotAfter = l.NotBefore.AddDate(5, 0, 0) }},
		{"issued before the period", func(l *licence.Licence) { l.Issued = l.NotBefore.Add(-30 * 24 * time.Hour) }},
		{"names in other scripts", func(l *licence.Licence) {
			l.Personnel[0].Name, l.Personnel[0].Role = "Ahmet Yılmaz", "数据分析师"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := mutate(t, f, tt.change)
			l, err := licence.Parse(data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := marshal(t, l); !bytes.Equal(got, data) {
				t.Errorf("Marshal(Parse(data)) differs from data")
			}
		})
	}
}

func TestPerson(t *testing.T) {
	f := newFixture(t)
	p := f.people[0]
	got, ok := f.lic.Person(p.Recipient)
	if !ok || got != p.Person {
		t.Errorf("Person(%s) = %+v, %v; want %+v", p.Recipient, got, ok, p.Person)
	}
	other := newPerson(t, "李雷")
	if got, ok := f.lic.Person(other.Recipient); ok {
		t.Errorf("Person(a stranger) = %+v, true", got)
	}
	if _, ok := f.lic.Person(""); ok {
		t.Error(`Person("") found someone`)
	}
}

func TestSignVerify(t *testing.T) {
	f := newFixture(t)
	data, sig, err := licence.Sign(f.lic, f.priv)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if want := marshal(t, f.lic); !bytes.Equal(data, want) {
		t.Errorf("Sign returned data other than Marshal's")
	}
	var s minisign.Signature
	if err := s.UnmarshalText(sig); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if s.Algorithm != minisign.HashEdDSA {
		t.Errorf("signature algorithm %#x, want prehashed %#x", s.Algorithm, minisign.HashEdDSA)
	}
	wantComment := "persona-licence licence_id=DEMO-2026-0001 payload_sha256=" + payloadSHA
	if s.TrustedComment != wantComment || licence.TrustedComment(f.lic.ID, payloadSHA) != wantComment {
		t.Errorf("trusted comment %q, want %q", s.TrustedComment, wantComment)
	}
	if id, err := licence.SignatureKeyID(sig); err != nil || id != f.priv.ID() {
		t.Errorf("SignatureKeyID = %X, %v; want %X", id, err, f.priv.ID())
	}
	if _, err := licence.SignatureKeyID([]byte("not a signature")); !errors.Is(err, licence.ErrBadSignature) {
		t.Errorf("SignatureKeyID(garbage) error %v, want ErrBadSignature", err)
	}
	// minisign -V -H (prehashed) accepts the signature.
	r := minisign.NewReader(bytes.NewReader(data))
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	if !r.Verify(f.pub, sig) {
		t.Error("minisign does not verify the signature")
	}

	stranger, _, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	l, key, err := licence.Verify(data, sig, []minisign.PublicKey{stranger, f.pub})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !key.Equal(f.pub) {
		t.Errorf("Verify returned key %s, want %s", licence.KeyID(key.ID()), licence.KeyID(f.pub.ID()))
	}
	sameLicence(t, l, f.lic)

	t.Run("Sign refuses an invalid licence", func(t *testing.T) {
		bad := clone(t, f.lic)
		bad.Privacy.K = 1
		if _, _, err := licence.Sign(bad, f.priv); !errors.Is(err, licence.ErrInvalid) {
			t.Errorf("Sign(k=1) error %v, want ErrInvalid", err)
		}
	})
}

// prehashed signs data the way Sign does, with any trusted comment.
func prehashed(t *testing.T, data []byte, key minisign.PrivateKey, comment string) []byte {
	t.Helper()
	r := minisign.NewReader(bytes.NewReader(data))
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	return r.SignWithComments(key, comment, "test signature")
}

// impostor is a public key with id's key id but other key bytes.
func impostor(t *testing.T, k minisign.PublicKey) minisign.PublicKey {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(licence.PublicKeyString(k))
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherRaw, _ := base64.StdEncoding.DecodeString(licence.PublicKeyString(other))
	copy(raw[10:], otherRaw[10:])
	var fake minisign.PublicKey
	if err := fake.UnmarshalText([]byte(base64.StdEncoding.EncodeToString(raw))); err != nil {
		t.Fatal(err)
	}
	if fake.ID() != k.ID() || fake.Equal(k) {
		t.Fatal("impostor key is not an impostor")
	}
	return fake
}

func TestVerifyRefuses(t *testing.T) {
	f := newFixture(t)
	data, sig, err := licence.Sign(f.lic, f.priv)
	if err != nil {
		t.Fatal(err)
	}
	trusted := []minisign.PublicKey{f.pub}
	stranger, strangerKey, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	comment := licence.TrustedComment(f.lic.ID, f.lic.Payload.SHA256)
	altered := bytes.Replace(data, []byte(`"deletion_days": 15`), []byte(`"deletion_days": 365`), 1)
	if bytes.Equal(altered, data) {
		t.Fatal("could not alter the licence")
	}
	invalid := mutate(t, f, func(l *licence.Licence) { l.Privacy.K = 1 })
	otherID := mutate(t, f, func(l *licence.Licence) { l.ID = "DEMO-2026-0002" })

	tests := []struct {
		name    string
		data    []byte
		sig     []byte
		trusted []minisign.PublicKey
		want    error
		msg     string
	}{
		{"legacy signature", data, minisign.SignWithComments(f.priv, data, comment, "legacy"), trusted, licence.ErrLegacySignature, "prehashed"},
		{"unknown key", data, sig, []minisign.PublicKey{stranger}, licence.ErrUnknownKey, licence.KeyID(f.pub.ID())},
		{"no trusted keys", data, sig, nil, licence.ErrUnknownKey, "not trusted"},
		{"signed by a stranger", data, prehashed(t, data, strangerKey, comment), trusted, licence.ErrUnknownKey, licence.KeyID(stranger.ID())},
		{"altered licence", altered, sig, trusted, licence.ErrBadSignature, "altered"},
		{"licence with a byte added", append(append([]byte{}, data...), ' '), sig, trusted, licence.ErrBadSignature, "altered"},
		{"signature of another licence", otherID, sig, trusted, licence.ErrBadSignature, "altered"},
		{"impostor key with the same id", data, sig, []minisign.PublicKey{impostor(t, f.pub)}, licence.ErrBadSignature, "altered"},
		{"wrong trusted comment", data, prehashed(t, data, f.priv, "timestamp:1795000000"), trusted, licence.ErrBadSignature, "trusted comment"},
		{"trusted comment of another licence", data, prehashed(t, data, f.priv, licence.TrustedComment("DEMO-2026-0002", payloadSHA)), trusted, licence.ErrBadSignature, "does not match"},
		{"trusted comment of another payload", data, prehashed(t, data, f.priv, licence.TrustedComment(f.lic.ID, strings.Repeat("0", 64))), trusted, licence.ErrBadSignature, "does not match"},
		{"trusted comment with more after it", data, prehashed(t, data, f.priv, comment+" extra"), trusted, licence.ErrBadSignature, "does not match"},
		{"not a signature", data, []byte("untrusted comment: x\nnot base64\n"), trusted, licence.ErrBadSignature, "not a minisign signature"},
		{"empty signature", data, nil, trusted, licence.ErrBadSignature, "not a minisign signature"},
		{"valid signature of an invalid licence", invalid, prehashed(t, invalid, f.priv, comment), trusted, licence.ErrInvalid, "k 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _, err := licence.Verify(tt.data, tt.sig, tt.trusted)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
			if l != nil {
				t.Error("Verify returned a licence with its error")
			}
		})
	}
}

func TestCheckClock(t *testing.T) {
	f := newFixture(t)
	l := f.lic
	later := clone(t, l) // a licence issued before its period starts
	later.NotBefore = l.Issued.Add(48 * time.Hour)
	tests := []struct {
		name string
		l    *licence.Licence
		now  time.Time
		want error
	}{
		{"at issue", l, issued, nil},
		{"inside the period", l, time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), nil},
		{"4 minutes before issue", l, issued.Add(-4 * time.Minute), nil},
		{"exactly 5 minutes before issue", l, issued.Add(-licence.ClockDrift), nil},
		{"a second more than 5 minutes before issue", l, issued.Add(-licence.ClockDrift - time.Second), licence.ErrClockBack},
		{"a day before issue, inside the period", l, issued.Add(-24 * time.Hour), licence.ErrClockBack},
		{"before the period", l, periodFrom.Add(-time.Hour), licence.ErrClockBack},
		{"issued before the period starts", later, issued.Add(time.Hour), licence.ErrNotYetValid},
		{"a nanosecond before not_before", later, later.NotBefore.Add(-1), licence.ErrNotYetValid},
		{"at not_before", later, later.NotBefore, nil},
		{"a nanosecond before not_after", l, periodTo.Add(-1), nil},
		{"at not_after", l, periodTo, licence.ErrExpired},
		{"after not_after", l, periodTo.AddDate(1, 0, 0), licence.ErrExpired},
		{"at not_after in another zone", l, periodTo.UTC(), licence.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.l.CheckClock(tt.now)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("CheckClock(%s) = %v, want %v", tt.now.Format(time.RFC3339Nano), err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), l.ID) {
				t.Errorf("error %q does not name the licence", err)
			}
		})
	}
}

func TestDaysLeft(t *testing.T) {
	l := newFixture(t).lic
	day := 24 * time.Hour
	tests := []struct {
		name string
		now  time.Time
		want int
	}{
		{"a nanosecond left", periodTo.Add(-1), 0},
		{"exactly one day left", periodTo.Add(-day), 1},
		{"a day and a half left", periodTo.Add(-36 * time.Hour), 1},
		{"ten days and a second", periodTo.Add(-10*day - time.Second), 10},
		{"at the start", periodFrom, 181},
		{"at the end", periodTo, 0},
		{"after the end", periodTo.Add(100 * day), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := l.DaysLeft(tt.now); got != tt.want {
				t.Errorf("DaysLeft(%s) = %d, want %d", tt.now, got, tt.want)
			}
		})
	}
}

func TestDeleteBy(t *testing.T) {
	l := newFixture(t).lic
	tests := []struct {
		days int
		want time.Time
	}{
		{15, time.Date(2027, 5, 16, 0, 0, 0, 0, cst)},
		{1, time.Date(2027, 5, 2, 0, 0, 0, 0, cst)},
		{365, time.Date(2028, 4, 30, 0, 0, 0, 0, cst)}, // 2028 is a leap year
	}
	for _, tt := range tests {
		l.DeletionDays = tt.days
		if got := l.DeleteBy(); !got.Equal(tt.want) {
			t.Errorf("DeleteBy with %d days = %s, want %s", tt.days, got, tt.want)
		}
	}
}

func TestParseTerms(t *testing.T) {
	tm, err := licence.ParseTerms([]byte(termsJSON()))
	if err != nil {
		t.Fatalf("ParseTerms: %v", err)
	}
	if tm.Region != licence.Region || tm.MaxPersonnel != 2 || tm.K != 10 || tm.DeletionDays != 15 {
		t.Errorf("defaults: region %q, max_personnel %d, k %d, deletion_days %d; want %q, 2, 10, 15",
			tm.Region, tm.MaxPersonnel, tm.K, tm.DeletionDays, licence.Region)
	}
	if tm.ID != "DEMO-2026-0001" || tm.Licensor != sample.Licensor || tm.Licensee != sample.Licensee {
		t.Errorf("terms %+v", tm)
	}
	from, to, err := tm.Period()
	if err != nil {
		t.Fatalf("Period: %v", err)
	}
	if !from.Equal(periodFrom) || !to.Equal(periodTo) {
		t.Errorf("Period = %s - %s, want %s - %s", from, to, periodFrom, periodTo)
	}
	if got := from.Format(time.RFC3339); got != "2026-11-01T00:00:00+08:00" {
		t.Errorf("not_before = %s, want 2026-11-01T00:00:00+08:00", got)
	}
	if got := to.Format(time.RFC3339); got != "2027-05-01T00:00:00+08:00" {
		t.Errorf("not_after = %s, want 2027-05-01T00:00:00+08:00", got)
	}

	t.Run("explicit values are kept", func(t *testing.T) {
		s := strings.Replace(termsJSON(), `"purpose"`, `"region": "CN-mainland", "max_personnel": 5, "k": 50, "deletion_days": 30, "purpose"`, 1)
		tm, err := licence.ParseTerms([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		if tm.MaxPersonnel != 5 || tm.K != 50 || tm.DeletionDays != 30 {
			t.Errorf("max_personnel %d, k %d, deletion_days %d; want 5, 50, 30", tm.MaxPersonnel, tm.K, tm.DeletionDays)
		}
	})
}

func TestTermsPeriod(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		wantFrom time.Time
		wantTo   time.Time
	}{
		{"dates", "2026-11-01", "2027-04-30", periodFrom, periodTo},
		{"one day", "2026-11-01", "2026-11-01", periodFrom, periodFrom.AddDate(0, 0, 1)},
		{"RFC 3339 times", "2026-11-01T09:30:00+08:00", "2027-04-30T18:00:00Z",
			time.Date(2026, 11, 1, 1, 30, 0, 0, time.UTC), time.Date(2027, 4, 30, 18, 0, 0, 0, time.UTC)},
		{"a date and a time", "2026-11-01", "2027-05-01T00:00:00+08:00", periodFrom, periodTo},
		{"spaces around", " 2026-11-01 ", "\t2027-04-30\n", periodFrom, periodTo},
		{"end of February in a leap year", "2028-02-01", "2028-02-29", time.Date(2028, 2, 1, 0, 0, 0, 0, cst), time.Date(2028, 3, 1, 0, 0, 0, 0, cst)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := &licence.Terms{NotBefore: tt.from, NotAfter: tt.to}
			from, to, err := tm.Period()
			if err != nil {
				t.Fatalf("Period: %v", err)
			}
			if !from.Equal(tt.wantFrom) || !to.Equal(tt.wantTo) {
				t.Errorf("Period = %s - %s, want %s - %s", from, to, tt.wantFrom, tt.wantTo)
			}
		})
	}
}

func TestParseTermsRefuses(t *testing.T) {
	set := func(key, value string) []byte {
		var m map[string]any
		if err := json.Unmarshal([]byte(termsJSON()), &m); err != nil {
			t.Fatal(err)
		}
		if value == "" {
			delete(m, key)
		} else {
			m[key] = json.RawMessage(value)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		data []byte
		msg  string
	}{
		{"not JSON", []byte("terms"), "terms.json"},
		{"unknown key", set("payload", `{}`), `unknown field "payload"`},
		{"trailing data", []byte(termsJSON() + "\n[]"), "data after the JSON object"},
		{"too large", []byte(termsJSON() + strings.Repeat(" ", licence.MaxSize)), "larger than"},
		{"no licence_id", set("licence_id", ""), `licence_id ""`},
		{"bad licence_id", set("licence_id", `"../x"`), `licence_id "../x"`},
		{"bad USCC", set("licensee", `{"name": "x", "uscc": "91310000MA1FL5KX3Y"}`), "licensee.uscc"},
		{"no purpose", set("purpose", ""), "purpose"},
		{"region HK", set("region", `"HK"`), `region "HK"`},
		{"k 1", set("k", `1`), "k 1:"},
		{"negative max_personnel", set("max_personnel", `-1`), "max_personnel -1"},
		{"max_personnel 21", set("max_personnel", `21`), "max_personnel 21"},
		{"deletion_days 366", set("deletion_days", `366`), "deletion_days 366"},
		{"no not_before", set("not_before", ""), "not_before is required"},
		{"no not_after", set("not_after", `"  "`), "not_after is required"},
		{"bad date", set("not_before", `"2026-13-01"`), `not_before "2026-13-01"`},
		{"slashes", set("not_after", `"2027/04/30"`), `not_after "2027/04/30"`},
		{"day without a zero", set("not_after", `"2027-4-30"`), `not_after "2027-4-30"`},
		{"time without a zone", set("not_before", `"2026-11-01T00:00:00"`), "not_before"},
		{"period reversed", set("not_after", `"2026-10-30"`), "is not after not_before"},
		{"over 5 years", set("not_after", `"2032-04-30"`), "longer than 5 years"},
		{"number for a date", set("not_before", `20261101`), "terms.json"},
		{"unknown method", set("privacy", `{"method": "noise"}`), `privacy.method "noise"`},
		{"bound not below k", set("privacy", `{"method": "perturb", "d": 10}`), "privacy.d 10 must be below k 10"},
		{"variance too large", set("privacy", `{"method": "perturb", "v": 40}`), "privacy: ckm: v is 40"},
		{"parameters of suppress", set("privacy", `{"method": "suppress", "d": 3}`), `belong to method "perturb"`},
		{"unknown privacy key", set("privacy", `{"method": "perturb", "epsilon": 1}`), `unknown field "epsilon"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, err := licence.ParseTerms(tt.data)
			if err == nil {
				t.Fatalf("ParseTerms accepted it: %+v", tm)
			}
			if !errors.Is(err, licence.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

// New terms default to perturbation, written out in full in the
// licence; a small k shrinks the default bound below it; a licence that
// names no method is read as suppression.
func TestTermsPrivacy(t *testing.T) {
	with := func(extra string) *licence.Terms {
		t.Helper()
		s := strings.Replace(termsJSON(), "{", "{"+extra, 1)
		tm, err := licence.ParseTerms([]byte(s))
		if err != nil {
			t.Fatalf("%s: %v", extra, err)
		}
		return tm
	}
	tests := []struct {
		name, extra string
		want        licence.Privacy
	}{
		{"default", ``, licence.Privacy{K: 10, Method: licence.Perturb, Parameters: licence.Parameters{D: 6, V: 8, Mult: 1}}},
		{"suppress", `"privacy": {"method": "suppress"},`, licence.Privacy{K: 10, Method: licence.Suppress}},
		{"some parameters", `"privacy": {"d": 4, "v": 3},`, licence.Privacy{K: 10, Method: licence.Perturb, Parameters: licence.Parameters{D: 4, V: 3, Mult: 1}}},
		{"k 5", `"k": 5,`, licence.Privacy{K: 5, Method: licence.Perturb, Parameters: licence.Parameters{D: 4, V: 8, Mult: 1}}},
		{"k 2", `"k": 2,`, licence.Privacy{K: 2, Method: licence.Perturb, Parameters: licence.Parameters{D: 1, V: 0.5, Mult: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := with(tt.extra).LicencePrivacy(); got != tt.want {
				t.Errorf("privacy %+v, want %+v", got, tt.want)
			}
		})
	}
	if got := (licence.Privacy{K: 10}).Effective(); got != licence.Suppress {
		t.Errorf("a licence without a method is read as %q", got)
	}
}

func TestCheckIssue(t *testing.T) {
	tm, err := licence.ParseTerms([]byte(termsJSON()))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		now  time.Time
		ok   bool
	}{
		{"before the period", periodFrom.AddDate(0, -1, 0), true},
		{"inside the period", issued, true},
		{"the last second", periodTo.Add(-time.Second), true},
		{"when it ends", periodTo, false},
		{"after it ended", periodTo.AddDate(0, 0, 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tm.CheckIssue(tt.now)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckIssue(%s) = %v, want ok %v", tt.now, err, tt.ok)
			}
			if err != nil && (!errors.Is(err, licence.ErrInvalid) || !strings.Contains(err.Error(), "ended")) {
				t.Errorf("error %v: want ErrInvalid saying the period ended", err)
			}
		})
	}
	bad := &licence.Terms{NotBefore: "someday", NotAfter: "2027-04-30"}
	if err := bad.CheckIssue(issued); !errors.Is(err, licence.ErrInvalid) {
		t.Errorf("CheckIssue with a bad date = %v, want ErrInvalid", err)
	}
}

func TestTermsLicence(t *testing.T) {
	tm, err := licence.ParseTerms([]byte(termsJSON()))
	if err != nil {
		t.Fatal(err)
	}
	p := newPerson(t, "王芳")
	at := time.Date(2026, 11, 23, 18, 0, 0, 987654321, cst)
	l, err := tm.Licence(at, []licence.Person{p.Person}, sample.Inventory(100, 1), licence.Payload{SHA256: payloadSHA, Size: 1})
	if err != nil {
		t.Fatalf("Licence: %v", err)
	}
	if want := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC); !l.Issued.Equal(want) || l.Issued.Location() != time.UTC {
		t.Errorf("issued %s, want %s (UTC, whole seconds)", l.Issued, want)
	}
	if l.Purpose != tm.Purpose || l.Privacy.K != tm.K || l.MaxPersonnel != tm.MaxPersonnel || l.DeletionDays != tm.DeletionDays {
		t.Errorf("licence does not carry the terms: %+v", l)
	}
	if _, err := tm.Licence(at, []licence.Person{p.Person}, sample.Inventory(100, 1), licence.Payload{SHA256: payloadSHA}); !errors.Is(err, licence.ErrInvalid) {
		t.Errorf("Licence without a payload size = %v, want ErrInvalid", err)
	}
	if _, err := tm.Licence(periodTo.Add(time.Hour), []licence.Person{p.Person}, sample.Inventory(100, 1), licence.Payload{SHA256: payloadSHA, Size: 1}); !errors.Is(err, licence.ErrInvalid) {
		t.Errorf("Licence issued after its end = %v, want ErrInvalid", err)
	}

	t.Run("sample terms", func(t *testing.T) {
		now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
		st := sample.Terms(now)
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := licence.ParseTerms(b)
		if err != nil {
			t.Fatalf("ParseTerms(sample terms): %v", err)
		}
		if err := parsed.CheckIssue(now); err != nil {
			t.Errorf("CheckIssue: %v", err)
		}
		l, err := parsed.Licence(now, []licence.Person{p.Person}, sample.Inventory(100, 1), licence.Payload{SHA256: payloadSHA, Size: 1})
		if err != nil {
			t.Fatalf("Licence: %v", err)
		}
		if err := l.CheckClock(now); err != nil {
			t.Errorf("CheckClock at issue: %v", err)
		}
		if got := l.DaysLeft(now); got != 180 {
			t.Errorf("DaysLeft = %d, want 180", got)
		}
	})
}

func validEnrolment(t testing.TB) *licence.Enrolment {
	p := newPerson(t, "王芳")
	return &licence.Enrolment{Format: licence.EnrolmentFormat, Version: licence.Version, ID: "DEMO-2026-0001", Person: p.Person}
}

func TestEnrolment(t *testing.T) {
	e := validEnrolment(t)
	data, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var flat map[string]any
	if err := json.Unmarshal(data, &flat); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"format": "persona-enrolment", "version": 1.0, "licence_id": "DEMO-2026-0001",
		"name": "王芳", "role": "analyst", "recipient": e.Recipient, "public_key": e.PublicKey}
	if len(flat) != len(want) {
		t.Errorf("enrolment keys %v, want those of %v", flat, want)
	}
	for k, v := range want {
		if flat[k] != v {
			t.Errorf("enrolment %s = %v, want %v", k, flat[k], v)
		}
	}
	got, err := licence.ParseEnrolment(data)
	if err != nil {
		t.Fatalf("ParseEnrolment(Marshal): %v", err)
	}
	if *got != *e {
		t.Errorf("round trip: got %+v, want %+v", got, e)
	}
	// The spec's one-line form parses too.
	line := `{"format": "persona-enrolment", "version": 1, "licence_id": "DEMO-2026-0001",
 "name": "王芳", "role": "analyst", "recipient": "` + e.Recipient + `", "public_key": "` + e.PublicKey + `"}`
	if got, err := licence.ParseEnrolment([]byte(line)); err != nil || *got != *e {
		t.Errorf("ParseEnrolment(spec form) = %+v, %v", got, err)
	}
}

func TestParseEnrolmentRefuses(t *testing.T) {
	base := validEnrolment(t)
	other := newPerson(t, "李雷")
	enc := func(change func(e *licence.Enrolment)) []byte {
		e := *base
		change(&e)
		b, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	valid := enc(func(*licence.Enrolment) {})
	tests := []struct {
		name string
		data []byte
		msg  string
	}{
		{"not JSON", []byte("enrol me"), "enrolment"},
		{"a licence", []byte(`{"format": "persona-licence", "version": 1}`), `format "persona-licence"`},
		{"wrong format", enc(func(e *licence.Enrolment) { e.Format = "persona-enrollment" }), `format "persona-enrollment"`},
		{"version 2", enc(func(e *licence.Enrolment) { e.Version = 2 }), "version 2"},
		{"bad licence id", enc(func(e *licence.Enrolment) { e.ID = "../../etc" }), `licence_id "../../etc"`},
		{"no licence id", enc(func(e *licence.Enrolment) { e.ID = "" }), `licence_id ""`},
		{"no name", enc(func(e *licence.Enrolment) { e.Name = "" }), "name"},
		{"escape in name", enc(func(e *licence.Enrolment) { e.Name = "王芳\x1b]0;owned\x07" }), "name"},
		{"no role", enc(func(e *licence.Enrolment) { e.Role = "" }), "role"},
		{"bad recipient", enc(func(e *licence.Enrolment) { e.Recipient = "age1" }), "recipient"},
		{"secret key as recipient", enc(func(e *licence.Enrolment) { e.Recipient = other.identity.String() }), "recipient"},
		{"bad public key", enc(func(e *licence.Enrolment) { e.PublicKey = "RW" + strings.Repeat("A", 10) }), "public_key"},
		{"unknown key", bytes.Replace(valid, []byte("{"), []byte(`{"email": "a@b.c",`), 1), `unknown field "email"`},
		{"trailing data", append(append([]byte{}, valid...), valid...), "data after the JSON object"},
		{"over 64 KiB", append(append([]byte{}, valid...), bytes.Repeat([]byte(" "), 64<<10)...), "larger than 64 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := licence.ParseEnrolment(tt.data)
			if err == nil {
				t.Fatalf("ParseEnrolment accepted it: %+v", e)
			}
			if !errors.Is(err, licence.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestParsePublicKey(t *testing.T) {
	pub, _, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	file, _ := pub.MarshalText()
	line := licence.PublicKeyString(pub)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"base64 line", line, true},
		{"with spaces around", "  " + line + "\n", true},
		{"whole .pub file", string(file), true},
		{"whole .pub file with a final newline", string(file) + "\n", true},
		{"empty", "", false},
		{"truncated", line[:len(line)-4], false},
		{"not base64", "RW!!", false},
		{"secret key", "RWRTY0Iy" + strings.Repeat("A", 200), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := licence.ParsePublicKey(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParsePublicKey error %v, want ok %v", err, tt.ok)
			}
			if tt.ok && !k.Equal(pub) {
				t.Errorf("ParsePublicKey returned another key")
			}
		})
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"DEMO-2026-0001", true},
		{"a", true},
		{"0", true},
		{"SAMPLE-20261123", true},
		{"a.b_c-d", true},
		{strings.Repeat("x", 64), true},
		{strings.Repeat("x", 65), false},
		{"", false},
		{".", false},
		{"..", false},
		{"../x", false},
		{"-rf", false},
		{"_x", false},
		{"a/b", false},
		{`a\b`, false},
		{"a b", false},
		{"许可", false},
		{"a\n", false},
		{"a\x00", false},
	}
	for _, tt := range tests {
		if got := licence.ValidID(tt.id); got != tt.ok {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.ok)
		}
	}
}

// FuzzParse checks that Parse never panics, that every refusal wraps
// ErrInvalid, and that an accepted licence survives Marshal and Parse
// unchanged.
func FuzzParse(f *testing.F) {
	fx := newFixture(f)
	valid, err := fx.lic.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"format": "persona-licence", "version": 1, "licence_id": "x"}`))
	f.Add(bytes.Replace(valid, []byte(`"version": 1`), []byte(`"VERSION": 1`), 1))
	f.Add(bytes.Replace(valid, []byte(`"issued": "2026-11-23T10:00:00Z"`), []byte(`"issued": "2026-11-23T18:00:00.5+08:00"`), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := licence.Parse(data)
		if err != nil {
			if !errors.Is(err, licence.ErrInvalid) {
				t.Fatalf("Parse error %v does not wrap ErrInvalid", err)
			}
			if l != nil {
				t.Fatal("Parse returned a licence with its error")
			}
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("Parse accepted a licence that Validate refuses: %v", err)
		}
		b1, err := l.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed licence: %v", err)
		}
		l2, err := licence.Parse(b1)
		if err != nil {
			t.Fatalf("Parse(Marshal(Parse(data))): %v\n%s", err, b1)
		}
		sameLicence(t, l2, l)
	})
}

// The same key cannot be listed twice under two spellings.
func TestKeysInCanonicalForm(t *testing.T) {
	for _, s := range []string{" %s", "%s\n", "untrusted comment: x\n%s"} {
		if _, err := licence.ParseEnrolment([]byte(fmt.Sprintf(`{"format":"persona-enrolment","version":1,"licence_id":"A-1","name":"n","role":"r","recipient":"age1g6apj5mwyr5805smymp99sjxdd2q6aa8yngqjx48p96pjdtase2smxe3n7","public_key":%q}`,
			fmt.Sprintf(s, "RWTNI6P/i/DMpnWJhe/EHF7ioBC9CSPokWCqfSOWyjvtTLq6G7oXLk9g")))); err == nil {
			t.Errorf("public key spelled %q accepted", s)
		}
	}
}
