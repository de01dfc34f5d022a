package backup

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/grim-reaper/grim/protocol/tree"
)

// oNoATime keeps reads from setting atime.
const oNoATime = unix.O_NOATIME

// readXattrs returns a file's extended attributes sorted by name, without following a
// symlink. A file system without them gives none.
func readXattrs(path string) ([]tree.Xattr, error) {
	list, err := xattrCall(func(buf []byte) (int, error) { return unix.Llistxattr(path, buf) })
	if err != nil || len(list) == 0 {
		return nil, ignoreUnsupported(err)
	}
	var out []tree.Xattr
	for name := range strings.SplitSeq(string(bytes.TrimRight(list, "\x00")), "\x00") {
		value, err := xattrCall(func(buf []byte) (int, error) {
			return unix.Lgetxattr(path, name, buf)
		})
		if errors.Is(err, unix.ENODATA) {
			continue // removed since it was listed
		}
		if err != nil {
			return out, fmt.Errorf("xattr %s: %w", name, err)
		}
		out = append(out, tree.Xattr{Name: name, Value: value})
	}
	slices.SortFunc(out, func(a, b tree.Xattr) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// xattrCall asks for the size, then the data, and starts over if the data grew between
// the two calls.
func xattrCall(call func([]byte) (int, error)) ([]byte, error) {
	for {
		var n int
		err := ignoringEINTR(func() (err error) { n, err = call(nil); return err })
		if err != nil || n == 0 {
			return nil, err
		}
		buf := make([]byte, n)
		err = ignoringEINTR(func() (err error) { n, err = call(buf); return err })
		if errors.Is(err, unix.ERANGE) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}

func ignoreUnsupported(err error) error {
	if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EOPNOTSUPP) {
		return nil
	}
	return err
}
