package pack

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// memFile copies size bytes from r into an anonymous memory file
// (memfd_create) and returns a path DuckDB can read it by. The file lives
// in memory only — it is on no filesystem, and no other process can reach
// it except through this one — so DuckDB's own fast Parquet reader can
// load decrypted data without it ever being written to disk. The file is
// sealed against change once written; release closes it, freeing the
// memory.
func memFile(r io.Reader, size int64) (path string, release func(), err error) {
	fd, err := unix.MemfdCreate("persona-part", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return "", nil, errNoMemFile
	}
	f := os.NewFile(uintptr(fd), "persona-part")
	release = func() { f.Close() }
	if n, err := io.CopyN(f, r, size); err != nil {
		release()
		return "", nil, fmt.Errorf("%w: %d of %d bytes: %v", ErrPayload, n, size, err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE); err != nil {
		release()
		return "", nil, err
	}
	return fmt.Sprintf("/proc/self/fd/%d", f.Fd()), release, nil
}
