package bench

import (
	"os"
	"syscall"
)

// maxRSS is a finished child's peak resident set size in bytes (Linux
// reports ru_maxrss in KiB).
func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10
	}
	return 0
}

// childAttr kills a child if the test binary dies first (a -timeout
// panic, a signal), so that no benchmark process outlives the run.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
