// Package storage keeps the controller's named objects, the pack files, and hands them back
// for reading. Storage is the interface the rest of the controller uses; Local keeps the
// objects as files under one directory.
//
// Objects are written once and never changed: a caller builds the object as a file in
// TempDir, and PutFile moves it under its name only when it is complete and synced, so a
// reader never sees half an object and a crash never leaves one under its final name.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

var (
	// ErrBadName means an object name that Storage refuses: empty, absolute, with an
	// empty, "." or ".." element, a backslash or a NUL byte, or inside the reserved
	// "tmp" tree.
	ErrBadName = errors.New("bad object name")
	// ErrNotExist means there is no object of that name.
	ErrNotExist = errors.New("object does not exist")
)

// maxNameLen bounds object names; pack names are far shorter.
const maxNameLen = 1024

// tmpName is the reserved first element of names: Local keeps its temporary files there.
const tmpName = "tmp"

// Storage keeps named objects. Names are slash-separated and relative, with no "." or ".."
// elements; anything else is refused with ErrBadName. Implementations are safe for
// concurrent use.
type Storage interface {
	// PutFile moves the finished local file at path under name, durably: when it returns
	// nil the object is complete and synced, and the file at path is gone. An existing
	// object of the same name and size is left as is (the objects are content-addressed,
	// so it is the same object); one of another size is a damaged copy and is replaced.
	// path should be in TempDir, on the same file system.
	PutFile(ctx context.Context, name, path string) error
	// ReadAt reads len(p) bytes of the object from off, as io.ReaderAt does: fewer bytes
	// come with an error, io.EOF at the end of the object.
	ReadAt(ctx context.Context, name string, p []byte, off int64) (int, error)
	// Open returns a reader of the whole object; the caller closes it.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// Size returns the object's length, or an error wrapping ErrNotExist.
	Size(ctx context.Context, name string) (int64, error)
	// Delete removes the object. Deleting an absent object is not an error.
	Delete(ctx context.Context, name string) error
	// List calls fn for every object whose name starts with prefix, in lexical order of
	// the names' elements, and stops at fn's first error, which it returns.
	List(ctx context.Context, prefix string, fn func(name string, size int64) error) error
	// Usage reports the used and total bytes of the space that holds the objects.
	Usage(ctx context.Context) (used, total uint64, err error)
	// TempDir is where callers build the files that PutFile takes: the same file system
	// as the objects, so that PutFile can rename them into place.
	TempDir() string
}

// ValidName reports whether name is an object name Storage accepts, with an error wrapping
// ErrBadName when it is not.
func ValidName(name string) error {
	if name == "" || len(name) > maxNameLen || strings.ContainsAny(name, "\\\x00") {
		return fmt.Errorf("%w: %q", ErrBadName, name)
	}
	elems := strings.Split(name, "/")
	if elems[0] == tmpName {
		return fmt.Errorf("%w: %q is reserved", ErrBadName, name)
	}
	for _, el := range elems {
		if el == "" || el == "." || el == ".." {
			return fmt.Errorf("%w: %q", ErrBadName, name)
		}
	}
	return nil
}
