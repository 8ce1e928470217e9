//go:build !linux

package bench

import (
	"os"
	"syscall"
)

// maxRSS is not measured outside Linux.
func maxRSS(*os.ProcessState) int64 { return 0 }

func childAttr() *syscall.SysProcAttr { return nil }
