package suite

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDiskUsage(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "a"), make([]byte, 1000), 0o644))
	require.NoError(t, os.Link(filepath.Join(dir, "sub", "a"), filepath.Join(dir, "b")))
	root, err := os.Stat(dir)
	require.NoError(t, err)
	sub, err := os.Stat(filepath.Join(dir, "sub"))
	require.NoError(t, err)

	got, err := DiskUsage(dir)
	require.NoError(t, err)
	assert.Equal(t, root.Size()+sub.Size()+1000, got, "directories counted, hard links once")

	got, err = DiskUsage(filepath.Join(dir, "missing"))
	require.NoError(t, err, "a repository not made yet is empty")
	assert.Zero(t, got)
}
