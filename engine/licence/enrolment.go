package licence

import (
	"encoding/json"
	"fmt"
)

// EnrolmentFormat names the enrolment format.
const EnrolmentFormat = "persona-enrolment"

// Enrolment is what an authorised person sends the licensor: the keys
// they created for one licence.
type Enrolment struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	ID      string `json:"licence_id"`
	Person
}

// ParseEnrolment reads and checks an enrolment.
func ParseEnrolment(data []byte) (*Enrolment, error) {
	if len(data) > 64<<10 {
		return nil, invalid("enrolment is larger than 64 KiB")
	}
	var e Enrolment
	if err := strictJSON(data, &e); err != nil {
		return nil, invalid("enrolment: %v", err)
	}
	if e.Format != EnrolmentFormat || e.Version != Version {
		return nil, invalid("enrolment: format %q version %d: this build reads %s version %d", e.Format, e.Version, EnrolmentFormat, Version)
	}
	if !ValidID(e.ID) {
		return nil, invalid("enrolment: licence_id %q is not a licence id", e.ID)
	}
	if err := e.validate(); err != nil {
		return nil, invalid("enrolment of %s: %v", e.Name, err)
	}
	return &e, nil
}

// Marshal encodes the enrolment.
func (e *Enrolment) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode enrolment: %w", err)
	}
	return append(b, '\n'), nil
}
