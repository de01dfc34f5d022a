// Package atomicfile writes small files so that a reader sees either the old content or the
// new one, never a mix, and a crash never leaves a half-written file under the final name.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write stores data at path with the given mode. The mode is set on a temporary file in the
// same directory before any byte is written, the file is synced, then renamed over path and
// the directory is synced, so a secret never sits in a file more open than mode allows.
func Write(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	name := tmp.Name()
	defer os.Remove(name) // no-op once renamed

	if err := fill(tmp, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return Sync(dir)
}

func fill(f *os.File, data []byte, mode os.FileMode) error {
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Sync flushes the file or directory at path to stable storage. On a directory it makes
// the files created or renamed in it survive a crash.
func Sync(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}
