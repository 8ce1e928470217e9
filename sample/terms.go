package sample

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/persona-workbench/persona/engine/licence"
)

// TermsFile is the example terms' file name beside a written sample.
const TermsFile = "terms.json"

// Example parties. Their unified social credit codes are made up but
// well-formed, check character included.
var (
	Licensor = licence.Party{Name: "示例电商平台有限公司（演示）", USCC: "91330100MA27XK8L2W"}
	Licensee = licence.Party{Name: "示例品牌有限公司（演示）", USCC: "91310000MA1FL5KX3X"}
)

// Terms returns example terms for licensing the sample: the demo purpose,
// a period from the day of now for 180 days, the contract's defaults
// otherwise (the cell key method among them).
func Terms(now time.Time) *licence.Terms {
	cst := time.FixedZone("CST", 8*3600)
	start := now.In(cst)
	return &licence.Terms{
		ID:           "SAMPLE-" + start.Format("20060102"),
		Licensor:     Licensor,
		Licensee:     Licensee,
		Purpose:      "品牌在平台内营销活动的效果分析（演示） / Effect analysis of the brand's campaigns on the platform (demo)",
		NotBefore:    start.Format(time.DateOnly),
		NotAfter:     start.AddDate(0, 0, 180).Format(time.DateOnly),
		Region:       licence.Region,
		MaxPersonnel: licence.DefaultMaxPersonnel,
		K:            licence.DefaultK,
		DeletionDays: licence.DefaultDeletionDays,
		// Written out so the licensor sees the choice: "perturb" (the
		// default) or "suppress".
		Privacy: &licence.TermsPrivacy{Method: licence.Perturb},
	}
}

// WriteTerms writes example terms into dir, refusing to replace a file.
func WriteTerms(dir string, now time.Time) error {
	b, err := json.MarshalIndent(Terms(now), "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, TermsFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("write example terms: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
