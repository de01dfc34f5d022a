package server

import (
	"context"
	"fmt"
	"os"
)

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
