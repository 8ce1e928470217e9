package container

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	Write(&buf, []byte(`{"a":1}`), []byte("sig"), strings.NewReader("payload"), 7, time.Unix(0, 0))
	f.Add(buf.Bytes())
	f.Add([]byte{})
	f.Add(buf.Bytes()[:600])
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Read(bytes.NewReader(b), int64(len(b)))
		if err == nil && (c.PayloadOffset+c.PayloadSize > int64(len(b)) || len(c.Licence) == 0) {
			t.Fatalf("accepted an inconsistent container: %+v", c)
		}
	})
}
