package server

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLockDataDir(t *testing.T) {
	dir := t.TempDir()
	first, err := lockDataDir(dir)
	require.NoError(t, err)
	_, err = lockDataDir(dir)
	assert.ErrorContains(t, err, "in use by another controller")

	require.NoError(t, first.Close())
	again, err := lockDataDir(dir)
	require.NoError(t, err, "the lock is free once its holder is gone")
	again.Close()
}
