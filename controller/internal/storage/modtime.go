package storage

import (
	"context"
	"fmt"
	"os"
	"time"
)

// ModTime returns when the object was last written: for a pack, when it was stored.
// Garbage collection uses it to leave alone a pack file whose index commit may still be
// under way.
func (l *Local) ModTime(ctx context.Context, name string) (time.Time, error) {
	if err := check(ctx, name); err != nil {
		return time.Time{}, fmt.Errorf("stat %s: %w", name, err)
	}
	info, err := os.Stat(l.path(name))
	if err != nil {
		return time.Time{}, fmt.Errorf("stat %s: %w", name, notExist(err))
	}
	return info.ModTime(), nil
}
