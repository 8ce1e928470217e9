//go:build !linux

package pack

import "io"

// memFile is Linux-only; elsewhere parts are decoded from memory in Go.
func memFile(io.Reader, int64) (string, func(), error) { return "", nil, errNoMemFile }
