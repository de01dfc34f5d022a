package server

import (
	"context"
	"fmt"
	"os"
	"syscall"
)

// diskUsage reports the used and total bytes of the file system holding dir.
func diskUsage(dir string) func(context.Context) (used, total uint64, err error) {
	return func(context.Context) (uint64, uint64, error) {
		var fs syscall.Statfs_t
		if err := syscall.Statfs(dir, &fs); err != nil {
			return 0, 0, fmt.Errorf("statfs %s: %w", dir, err)
		}
		total := fs.Blocks * uint64(fs.Bsize)
		free := fs.Bfree * uint64(fs.Bsize)
		return total - free, total, nil
	}
}

// storageWritable checks that a file can be created, written, synced and removed in dir.
func storageWritable(dir string) func(context.Context) error {
	return func(context.Context) error {
		f, err := os.CreateTemp(dir, ".health-*")
		if err != nil {
			return fmt.Errorf("storage not writable: %w", err)
		}
		name := f.Name()
		defer os.Remove(name)
		if _, err := f.Write([]byte("ok")); err != nil {
			f.Close()
			return fmt.Errorf("storage not writable: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("storage not writable: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("storage not writable: %w", err)
		}
		return nil
	}
}
