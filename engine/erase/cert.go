package erase

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"aead.dev/minisign"

	"github.com/persona-workbench/persona/engine/licence"
	"github.com/persona-workbench/persona/engine/usagelog"
)

// CertFormat names the certificate format.
const CertFormat = "persona-deletion-certificate"

// Method is what the certificate claims, and no more.
const Method = "cryptographic erase of the application's keys + logical deletion of the files; media-level sanitization not performed"

// Certificate is the data-deletion certificate, after NIST SP 800-88
// Rev. 1 Appendix G adapted from storage media to a licensed data set.
type Certificate struct {
	Format        string         `json:"format"`
	Version       int            `json:"version"`
	CertificateID string         `json:"certificate_id"`
	Licence       CertLicence    `json:"licence"`
	PerformedBy   Performer      `json:"performed_by"`
	MethodType    string         `json:"method_type"`
	Items         []Item         `json:"items"`
	Verification  Verification   `json:"verification"`
	UsageLog      UsageLogDigest `json:"usage_log"`
	Deadline      time.Time      `json:"deadline"`
	DeadlineMet   bool           `json:"deadline_met"`
	Attestation   string         `json:"attestation"`
	Date          time.Time      `json:"date"`
}

// CertLicence identifies the licence.
type CertLicence struct {
	ID            string        `json:"licence_id"`
	Licensor      licence.Party `json:"licensor"`
	Licensee      licence.Party `json:"licensee"`
	Purpose       string        `json:"purpose"`
	NotBefore     time.Time     `json:"not_before"`
	NotAfter      time.Time     `json:"not_after"`
	PackageSHA256 string        `json:"package_sha256"`
}

// Performer is who deleted, where, with what.
type Performer struct {
	Name      string `json:"name"`
	Role      string `json:"role"`
	PublicKey string `json:"public_key"`
	OSUser    string `json:"os_user"`
	Host      string `json:"host"`
	Tool      string `json:"tool"`
}

// Verification is how deletion was checked.
type Verification struct {
	Method string `json:"method"`
	Result string `json:"result"`
}

// UsageLogDigest sums up the usage log at deletion.
type UsageLogDigest struct {
	Records         int64     `json:"records"`
	First           time.Time `json:"first"`
	Last            time.Time `json:"last"`
	FinalCheckpoint string    `json:"final_checkpoint"`
}

func certify(dir string, opt Options, e *licence.Enrolment, j *journal, lg *usagelog.Log) (*Certificate, error) {
	now := opt.Now().UTC().Truncate(time.Second)
	recs, _, err := usagelog.Records(dir)
	if err != nil {
		return nil, err
	}
	c := &Certificate{Format: CertFormat, Version: 1, CertificateID: j.CertificateID, MethodType: Method, Items: j.Items,
		Verification: Verification{
			Method: "each file checked absent after deletion; the workspace checked for any remaining age identity of the licence",
			Result: j.Verification,
		},
		Date: now,
	}
	host, _ := os.Hostname()
	user := ""
	if len(recs) > 0 {
		user = recs[len(recs)-1].User
		c.UsageLog = UsageLogDigest{Records: int64(len(recs)), First: recs[0].Time, Last: recs[len(recs)-1].Time, FinalCheckpoint: j.Checkpoint}
		if now.Before(c.UsageLog.Last) {
			c.Date = c.UsageLog.Last.Truncate(time.Second).Add(time.Second)
		}
	}
	c.PerformedBy = Performer{Name: e.Name, Role: e.Role, PublicKey: e.PublicKey, OSUser: user, Host: host, Tool: opt.Tool}
	c.Licence.ID = opt.ID
	if b, err := os.ReadFile(filepath.Join(dir, LicenceFile)); err == nil {
		if l, err := licence.Parse(b); err == nil {
			c.Licence = CertLicence{ID: l.ID, Licensor: l.Licensor, Licensee: l.Licensee, Purpose: l.Purpose,
				NotBefore: l.NotBefore, NotAfter: l.NotAfter, PackageSHA256: l.Payload.SHA256}
			c.Deadline = l.DeleteBy()
			c.DeadlineMet = !c.Date.After(c.Deadline)
		}
	}
	c.Attestation = fmt.Sprintf("I, %s, attest that the data licensed under licence %s and every derivative recorded in its usage log were deleted from this workstation as listed above, by the method stated, and that no copy is kept. / 本人%s确认：依据许可 %s 获得的数据及使用日志记录的全部衍生品已按上述方式从本工作站删除，未保留任何副本。",
		e.Name, opt.ID, e.Name, opt.ID)
	data, sig, err := Sign(c, opt.Signing)
	if err != nil {
		return nil, err
	}
	if err := writeAtomic(opt.Out, data, 0o644); err != nil {
		return nil, err
	}
	if err := writeAtomic(opt.Out+".minisig", sig, 0o644); err != nil {
		return nil, err
	}
	if _, err := lg.Append(usagelog.KindCertificate, map[string]string{"certificate_id": c.CertificateID, "path": opt.Out}); err != nil {
		return nil, err
	}
	return c, nil
}

// TrustedComment is the certificate signature's trusted comment.
func TrustedComment(c *Certificate) string {
	return fmt.Sprintf("%s licence_id=%s certificate_id=%s", CertFormat, c.Licence.ID, c.CertificateID)
}

// Sign encodes and signs a certificate (minisign, prehashed).
func Sign(c *Certificate, key minisign.PrivateKey) (data, sig []byte, err error) {
	data, err = json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	data = append(data, '\n')
	r := minisign.NewReader(bytes.NewReader(data))
	io.Copy(io.Discard, r)
	return data, r.SignWithComments(key, TrustedComment(c), "data deletion certificate "+c.CertificateID), nil
}

// ReadCertificate reads a certificate file without checking it.
func ReadCertificate(path string) (*Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parse(b)
}

func parse(b []byte) (*Certificate, error) {
	var c Certificate
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("not a deletion certificate: %w", err)
	}
	if c.Format != CertFormat || c.Version != 1 {
		return nil, fmt.Errorf("not a deletion certificate (format %q version %d)", c.Format, c.Version)
	}
	return &c, nil
}

// ErrCertificate is wrapped by every reason a certificate is refused.
var ErrCertificate = errors.New("certificate does not verify")

// Verify checks a certificate for the licensor: its signature (prehashed,
// by a person the licence names), that it is for this licence, that its
// final checkpoint is signed by the same person and consistent with one
// the licensor holds, and its time order. With the usage report the
// person exported, it also checks that every export the log recorded is
// listed.
func Verify(data, sig []byte, l *licence.Licence, held, report []byte) (*Certificate, error) {
	bad := func(format string, a ...any) (*Certificate, error) {
		return nil, fmt.Errorf("%w: %s", ErrCertificate, fmt.Sprintf(format, a...))
	}
	c, err := parse(data)
	if err != nil {
		return bad("%v", err)
	}
	var s minisign.Signature
	if err := s.UnmarshalText(sig); err != nil {
		return bad("the signature file is not a minisign signature")
	}
	if s.Algorithm != minisign.HashEdDSA {
		return bad("the signature is legacy (not prehashed)")
	}
	var signer *licence.Person
	for i, p := range l.Personnel {
		if k, err := licence.ParsePublicKey(p.PublicKey); err == nil && k.ID() == s.KeyID {
			signer = &l.Personnel[i]
		}
	}
	if signer == nil {
		return bad("it is signed by key %s, which licence %s does not name", licence.KeyID(s.KeyID), l.ID)
	}
	key, _ := licence.ParsePublicKey(signer.PublicKey)
	r := minisign.NewReader(bytes.NewReader(data))
	io.Copy(io.Discard, r)
	if !r.Verify(key, sig) {
		return bad("the certificate or its signature was altered")
	}
	if c.Licence.ID != l.ID || s.TrustedComment != TrustedComment(c) {
		return bad("it is for licence %s, not %s", c.Licence.ID, l.ID)
	}
	if c.PerformedBy.PublicKey != signer.PublicKey {
		return bad("it names %s as performer but is signed by %s", c.PerformedBy.Name, signer.Name)
	}
	v, err := usagelog.Verifier(signer.PublicKey)
	if err != nil {
		return bad("%v", err)
	}
	final, err := usagelog.ParseCheckpoint([]byte(c.UsageLog.FinalCheckpoint), v)
	if err != nil {
		return bad("its final checkpoint: %v", err)
	}
	if final.Licence != l.ID || final.Size != c.UsageLog.Records-1 && final.Size != c.UsageLog.Records {
		return bad("its final checkpoint covers %d records of licence %s, the certificate says %d", final.Size, final.Licence, c.UsageLog.Records)
	}
	if c.Date.Before(c.UsageLog.Last.Truncate(time.Second)) || c.Date.Before(final.Time) {
		return bad("it is dated %s, before the usage log's last record (%s)", c.Date.Format(time.RFC3339), c.UsageLog.Last.Format(time.RFC3339))
	}
	if held != nil {
		h, err := usagelog.ParseCheckpoint(append(bytes.TrimSpace(held), '\n'), v)
		if err != nil {
			return bad("the licensor's checkpoint: %v", err)
		}
		if h.Size > final.Size || h.Size == final.Size && h.Root != final.Root || h.Time.After(final.Time) {
			return bad("the final checkpoint (%d records) does not extend the licensor's (%d records)", final.Size, h.Size)
		}
	}
	if report != nil {
		var rep struct {
			Records []usagelog.Record `json:"records"`
		}
		if err := json.Unmarshal(report, &rep); err != nil {
			return bad("the usage report: %v", err)
		}
		listed := map[string]bool{}
		for _, it := range c.Items {
			listed[it.Path] = true
		}
		for _, r := range rep.Records {
			var d struct {
				Path string `json:"path"`
				What string `json:"what"`
			}
			if r.Kind == usagelog.KindExport && json.Unmarshal(r.Data, &d) == nil && d.Path != "" && d.What != UsageReport && !listed[d.Path] {
				return bad("the export %s recorded in usage record %d is missing from the certificate", d.Path, r.Seq)
			}
		}
	}
	return c, nil
}

// Render writes the certificate as bilingual text, for print.
func Render(w io.Writer, c *Certificate) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	day := func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04 (UTC+8)")
	}
	p("数据删除确认书 / Data Deletion Certificate")
	p("%s", strings.Repeat("=", 44))
	p("证书编号 Certificate ID:   %s", c.CertificateID)
	p("日期 Date:                 %s", day(c.Date))
	p("")
	p("许可 Licence:              %s", c.Licence.ID)
	p("许可方 Licensor:           %s (%s)", c.Licence.Licensor.Name, c.Licence.Licensor.USCC)
	p("被许可方 Licensee:         %s (%s)", c.Licence.Licensee.Name, c.Licence.Licensee.USCC)
	p("用途 Purpose:              %s", c.Licence.Purpose)
	p("期限 Period:               %s – %s", day(c.Licence.NotBefore), day(c.Licence.NotAfter))
	p("数据包 Package SHA-256:    %s", c.Licence.PackageSHA256)
	p("")
	p("执行人 Performed by:       %s (%s), %s@%s, %s", c.PerformedBy.Name, c.PerformedBy.Role, c.PerformedBy.OSUser, c.PerformedBy.Host, c.PerformedBy.Tool)
	p("方法 Method:               %s", c.MethodType)
	p("")
	p("项目 Items:")
	for _, it := range c.Items {
		p("  - %s: %s", it.What, it.Path)
		if it.SHA256 != "" {
			p("    %d bytes, sha256 %s", it.Size, it.SHA256)
		}
		p("    %s → %s", it.Action, it.Result)
	}
	p("")
	p("核验 Verification:         %s", c.Verification.Method)
	p("结果 Result:               %s", c.Verification.Result)
	p("使用日志 Usage log:        %d records, %s – %s", c.UsageLog.Records, day(c.UsageLog.First), day(c.UsageLog.Last))
	met := "是 yes"
	if !c.DeadlineMet {
		met = "否 NO"
	}
	p("删除期限 Deadline:         %s; met 按期完成: %s", day(c.Deadline), met)
	p("")
	p("%s", c.Attestation)
	p("")
	p("最终检查点 Final checkpoint:")
	p("%s", c.UsageLog.FinalCheckpoint)
}

// CountersignatureComment is a countersignature's trusted comment.
func CountersignatureComment(c *Certificate) string {
	return fmt.Sprintf("persona-deletion-countersignature licence_id=%s certificate_id=%s", c.Licence.ID, c.CertificateID)
}

// Countersign signs a certificate as the second authorised person, the
// validation SP 800-88 asks for. It refuses the performer's own key.
func Countersign(data []byte, key minisign.PrivateKey, own licence.Person) ([]byte, error) {
	c, err := parse(data)
	if err != nil {
		return nil, err
	}
	if own.PublicKey == c.PerformedBy.PublicKey {
		return nil, errors.New("a countersignature is by a second person: this certificate is your own")
	}
	r := minisign.NewReader(bytes.NewReader(data))
	io.Copy(io.Discard, r)
	return r.SignWithComments(key, CountersignatureComment(c), "countersignature by "+own.Name), nil
}

// VerifyCountersignature checks a countersignature against the licence: by
// a person it names, other than the performer. It returns who signed.
func VerifyCountersignature(data, csig []byte, l *licence.Licence) (licence.Person, error) {
	c, err := parse(data)
	if err != nil {
		return licence.Person{}, err
	}
	var s minisign.Signature
	if err := s.UnmarshalText(csig); err != nil || s.Algorithm != minisign.HashEdDSA {
		return licence.Person{}, fmt.Errorf("%w: the countersignature is not a prehashed minisign signature", ErrCertificate)
	}
	for _, p := range l.Personnel {
		k, err := licence.ParsePublicKey(p.PublicKey)
		if err != nil || k.ID() != s.KeyID {
			continue
		}
		if p.PublicKey == c.PerformedBy.PublicKey {
			return p, fmt.Errorf("%w: the countersignature is by the performer, not a second person", ErrCertificate)
		}
		r := minisign.NewReader(bytes.NewReader(data))
		io.Copy(io.Discard, r)
		if !r.Verify(k, csig) || s.TrustedComment != CountersignatureComment(c) {
			return p, fmt.Errorf("%w: the countersignature does not verify", ErrCertificate)
		}
		return p, nil
	}
	return licence.Person{}, fmt.Errorf("%w: the countersignature is by key %s, which licence %s does not name", ErrCertificate, licence.KeyID(s.KeyID), l.ID)
}
