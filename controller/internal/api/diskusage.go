//go:build unix

package api

import (
	"context"
	"fmt"
	"syscall"
)

// DiskUsage returns a Deps.Storage function that reports the used and
// total bytes of the file system holding dir.
func DiskUsage(dir string) func(ctx context.Context) (used, total uint64, err error) {
	return func(context.Context) (uint64, uint64, error) {
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err != nil {
			return 0, 0, fmt.Errorf("statfs %s: %w", dir, err)
		}
		block := uint64(st.Bsize) //nolint:gosec // block sizes are small and positive
		total := uint64(st.Blocks) * block
		free := uint64(st.Bfree) * block
		return total - free, total, nil
	}
}
