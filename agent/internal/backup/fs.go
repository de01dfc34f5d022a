package backup

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

var errNotRegular = errors.New("not a regular file any more")

// child is a directory entry as listed.
type child struct {
	name string
	dir  bool
}

func lstat(path string, st *unix.Stat_t) error {
	return ignoringEINTR(func() error { return unix.Lstat(path, st) })
}

func fstat(f *os.File, st *unix.Stat_t) error {
	return ignoringEINTR(func() error { return unix.Fstat(int(f.Fd()), st) })
}

// open opens path without following a symlink, without setting its atime where the
// system allows it (only the owner may ask), so that a backup leaves no trace on what it
// reads, and without blocking should a FIFO have replaced the file since it was listed.
func open(path string, flags int) (*os.File, error) {
	flags |= unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC
	var fd int
	err := ignoringEINTR(func() (err error) {
		fd, err = unix.Open(path, flags|oNoATime, 0)
		if errors.Is(err, unix.EPERM) && oNoATime != 0 {
			fd, err = unix.Open(path, flags, 0)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openFile opens a regular file for reading and returns its stat.
func openFile(path string) (*os.File, unix.Stat_t, error) {
	var st unix.Stat_t
	f, err := open(path, 0)
	if err != nil {
		return nil, st, err
	}
	if err := fstat(f, &st); err != nil {
		f.Close()
		return nil, st, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		f.Close()
		return nil, st, errNotRegular
	}
	return f, st, nil
}

// readDir lists a directory and returns its stat, taken after the listing so that it goes
// with the entries listed.
func readDir(path string) ([]child, unix.Stat_t, error) {
	var st unix.Stat_t
	f, err := open(path, unix.O_DIRECTORY)
	if err != nil {
		return nil, st, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, st, fmt.Errorf("read directory: %w", err)
	}
	if err := fstat(f, &st); err != nil {
		return nil, st, fmt.Errorf("stat directory: %w", err)
	}
	kids := make([]child, len(entries))
	for i, e := range entries {
		kids[i] = child{name: e.Name(), dir: e.IsDir()}
	}
	return kids, st, nil
}

func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
