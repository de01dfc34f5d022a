package server

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStorageWritable(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, storageWritable(dir)(context.Background()))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "the probe file is removed")

	ro := filepath.Join(dir, "ro")
	require.NoError(t, os.Mkdir(ro, 0o500))
	if os.Geteuid() != 0 { // root writes anywhere
		assert.Error(t, storageWritable(ro)(context.Background()))
	}
	assert.Error(t, storageWritable(filepath.Join(dir, "missing"))(context.Background()))
}
